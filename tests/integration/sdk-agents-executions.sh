#!/bin/bash
# The reference SDK's agent and execution calls, replayed with curl in its exact shapes on a
# real aegisd and Podman (issue 15): deploy YAML as text/yaml (answer id, agent_id, version,
# deployed_at), lookupAgent by name, getAgent (id, name, version, description, status,
# created_at, updated_at), listAgents {items, count}, versions {versions, count}, PATCH of
# description and labels, the agent's event stream, start with {agent_id, input}, the
# executions list {items, count} with agent_id/status/limit/offset, cancel {reason}, and
# deleteAgent {status} (its executions stay). Every new route answers another tenant 404
# exactly as a missing agent.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
printf '%s\n' "tok-acme acme" "tok-globex globex" >"$SCRATCH/tokens"
AEGIS_API_EXTRA="  tokens_file: \"$SCRATCH/tokens\"" aegisd_start
req() { # req TOKEN METHOD PATH [curl args] → status; body in $SCRATCH/body
        local t="$1" m="$2" p="$3"
        shift 3
        curl -s -o "$SCRATCH/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $t" "$AEGIS_URL$p" "$@"
}
a() { req tok-acme "$@"; }
b() { req tok-globex "$@"; }
body() { jq -r "$1" "$SCRATCH/body"; }

m="$(manifest greeter 'echo hello; sleep 600')"
sed -i 's/^  version: "1.0.0"$/  version: "1.0.0"\n  description: says hello\n  labels:\n    team: blue/' "$m"

# ---- deploy, lookup, get, list, versions ----
assert_eq "deploy YAML as text/yaml is 201" 201 "$(a POST /v1/agents -H 'Content-Type: text/yaml' --data-binary @"$m")"
ID1="$(body .id)"
assert_eq "the deploy answer has id, agent_id, version, deployed_at" "true 1.0.0 true" \
        "$(body '"\(.agent_id == .id) \(.version) \(.deployed_at != null)"')"
sed -i 's/^  version: "1.0.0"$/  version: "2.0.0"/' "$m"
assert_eq "deploy a second version" 201 "$(a POST /v1/agents -H 'Content-Type: text/yaml' --data-binary @"$m")"
ID2="$(body .id)"
assert_eq "lookupAgent by name is the latest version" "200 $ID2 2.0.0" \
        "$(a GET /v1/agents/lookup/greeter) $(body '"\(.id) \(.version)"')"
assert_eq "getAgent carries the reference's fields" "greeter says hello active blue true true" \
        "$(a GET "/v1/agents/$ID1" >/dev/null; body '"\(.name) \(.description) \(.status) \(.labels.team) \(.created_at != null) \(.updated_at != null)"')"
assert_eq "listAgents has items and count" "2 2" \
        "$(a GET /v1/agents >/dev/null; body '"\(.items | length) \(.count)"')"
assert_eq "versions lists both, newest first" "200 2.0.0,1.0.0 2 $ID1" \
        "$(a GET "/v1/agents/$ID1/versions") $(body '"\([.versions[].version] | join(",")) \(.count) \(.versions[0].agent_id)"')"
check "each version has its id and deployed_at" test "$(body '[.versions[] | (.id != null and .deployed_at != null)] | all')" = true
assert_eq "versions ?limit=1" "1 2.0.0" "$(a GET "/v1/agents/$ID1/versions?limit=1" >/dev/null; body '"\(.count) \(.versions[0].version)"')"
assert_eq "versions ?limit=0 is 400" "400 limit" "$(a GET "/v1/agents/$ID1/versions?limit=0") $(body .field)"
assert_eq "lookup of a missing name is 404" 404 "$(a GET /v1/agents/lookup/nobody)"

# ---- PATCH description and labels ----
assert_eq "PATCH description and labels" "200 greets blue-green" \
        "$(a PATCH "/v1/agents/$ID2" -H 'Content-Type: application/json' -d '{"description":"greets","labels":{"team":"blue-green"}}') $(body '"\(.description) \(.labels.team)"')"
assert_eq "it is kept" "greets" "$(a GET "/v1/agents/$ID2" >/dev/null; body .description)"
assert_eq "the other version is unchanged" "says hello" "$(a GET "/v1/agents/$ID1" >/dev/null; body .description)"
assert_eq "lookup still finds version 2 as the latest" 2.0.0 "$(a GET /v1/agents/lookup/greeter >/dev/null; body .version)"
assert_eq "PATCH of another field is 400 naming it" "400 spec" \
        "$(a PATCH "/v1/agents/$ID2" -H 'Content-Type: application/json' -d '{"spec":{}}') $(body .field)"
assert_eq "PATCH labels with a non-text value is 400" 400 \
        "$(a PATCH "/v1/agents/$ID2" -H 'Content-Type: application/json' -d '{"labels":{"n":{"x":1}}}')"
assert_eq "a refused PATCH changed nothing" "blue-green" "$(a GET "/v1/agents/$ID2" >/dev/null; body .labels.team)"

# ---- the agent's events, start by agent_id, list, cancel with a reason ----
curl -sN -H 'Authorization: Bearer tok-acme' "$AEGIS_URL/v1/agents/$ID2/events" >"$SCRATCH/agent-events" &
SSE=$!
on_exit "kill $SSE 2>/dev/null"
sleep 1
assert_eq "start with {agent_id, input} is 202" 202 \
        "$(a POST /v1/executions -H 'Content-Type: application/json' -d "{\"agent_id\":\"$ID2\",\"input\":{\"q\":1}}")"
EX="$(body .execution_id)"
wait_for 60 bash -c "curl -s -H 'Authorization: Bearer tok-acme' $AEGIS_URL/v1/executions/$EX | jq -e '.status == \"running\"'" ||
        fail "execution never got running"
assert_eq "list has items and count" "200 1 1" "$(a GET /v1/executions) $(body '"\(.items | length) \(.count)"')"
assert_eq "items carry id, agent_id, status, started_at" "$EX $ID2 running true" \
        "$(body '.items[0] | "\(.id) \(.agent_id) \(.status) \(.started_at != null)"')"
assert_eq "filter by agent_id" 1 "$(a GET "/v1/executions?agent_id=$ID2" >/dev/null; body .count)"
assert_eq "filter by another version's agent_id" 0 "$(a GET "/v1/executions?agent_id=$ID1" >/dev/null; body .count)"
assert_eq "filter by status" 1 "$(a GET '/v1/executions?status=running&limit=10' >/dev/null; body .count)"
assert_eq "offset past the end" 0 "$(a GET '/v1/executions?offset=1' >/dev/null; body .count)"
assert_eq "a bad offset is 400" "400 offset" "$(a GET '/v1/executions?offset=-1') $(body .field)"
assert_eq "cancel {reason} is 202" 202 \
        "$(a POST "/v1/executions/$EX/cancel" -H 'Content-Type: application/json' -d '{"reason":"user pressed stop"}')"
wait_for 30 bash -c "curl -s -H 'Authorization: Bearer tok-acme' $AEGIS_URL/v1/executions/$EX | jq -e '.status == \"cancelled\"'" ||
        fail "execution was not cancelled"
check "the reason is recorded in its events" grep -q 'user pressed stop' \
        <(curl -s --max-time 5 -H 'Authorization: Bearer tok-acme' "$AEGIS_URL/v1/executions/$EX/events")
assert_eq "items carry ended_at once ended" true "$(a GET /v1/executions >/dev/null; body '.items[0].ended_at != null')"
sleep 1
kill $SSE 2>/dev/null
wait $SSE 2>/dev/null
check "the agent's event stream carried its execution's events" grep -q "\"execution_id\":\"$EX\"" "$SCRATCH/agent-events"
check "including the cancel reason" grep -q 'user pressed stop' "$SCRATCH/agent-events"

# ---- another tenant: 404 exactly as a missing agent ----
for m_p in "GET /v1/agents/lookup/greeter" "GET /v1/agents/$ID2" "PATCH /v1/agents/$ID2" \
        "DELETE /v1/agents/$ID2" "GET /v1/agents/$ID2/versions" "GET /v1/agents/$ID2/events"; do
        set -- $m_p
        got="$(b "$1" "$2" -H 'Content-Type: application/json' -d '{"description":"x"}' --max-time 5) $(body .error | sed "s/$ID2/X/; s/greeter/X/")"
        assert_match "another tenant: $m_p is 404" '^404 ' "$got"
done
assert_eq "another tenant's list of executions by this agent is empty" 0 \
        "$(b GET "/v1/executions?agent_id=$ID2" >/dev/null; body .count)"
assert_eq "another tenant's agents list is empty" 0 "$(b GET /v1/agents >/dev/null; body .count)"
assert_eq "the owner's agent is unchanged" "greets" "$(a GET "/v1/agents/$ID2" >/dev/null; body .description)"

# ---- deleteAgent ----
assert_eq "deleteAgent answers {status}" "200 deleted 2" \
        "$(a DELETE "/v1/agents/$ID1") $(body '"\(.status) \(.versions_deleted)"')"
assert_eq "every version is gone" "404 404" "$(a GET "/v1/agents/$ID1") $(a GET /v1/agents/lookup/greeter)"
assert_eq "its execution stays" "200 cancelled" "$(a GET "/v1/executions/$EX") $(body .status)"
assert_eq "deleting again is 404" 404 "$(a DELETE "/v1/agents/$ID1")"
assert_no_managed_containers
finish
