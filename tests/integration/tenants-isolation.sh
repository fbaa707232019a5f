#!/bin/bash
# Two tenants' tokens against one aegisd on real Podman (issue 19): tenant B can neither list,
# show, read the logs or events of, cancel nor delete tenant A's execution, nor get or execute
# A's agent; every such answer is the 404 a missing id gets, byte for byte (checked against the
# same id once A deleted it: no existence oracle). B deploying A's agent name makes B's own,
# and A's execute still runs A's manifest. A's logs, which hold A's secret, stay A's.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
printf 'tok-a-1111 tenant-a\ntok-b-2222 tenant-b\n' >"$SCRATCH/tokens"
chmod 600 "$SCRATCH/tokens"
AEGIS_API_EXTRA="  tokens_file: \"$SCRATCH/tokens\"" aegisd_start

JSON=(-H 'Content-Type: application/json')
as() { local who="$1"; shift; api "$@" -H "Authorization: Bearer tok-$who"; }
as_status() { local who="$1"; shift; api_status "$@" -H "Authorization: Bearer tok-$who"; }
# "STATUS BODY" of a request, for byte-exact comparison.
answer() { local who="$1" m="$2" p="$3"; shift 3; curl -s -m 5 -w ' %{http_code}' -X "$m" "$AEGIS_URL$p" -H "Authorization: Bearer tok-$who" "$@"; }
a_status() { as a-1111 GET "/v1/executions/$1" | jq -r .status; }

# A's long-running execution, whose output is A's secret.
m="$(manifest a-job 'echo A-SECRET-LOG-7f3c; sleep 60')"
ida="$(as a-1111 POST /v1/executions "${JSON[@]}" --data-binary "$(jq -n --rawfile m "$m" '{manifest:$m}')" | jq -r .execution_id)"
[ -n "$ida" ] && [ "$ida" != null ] || fail "A's submission failed"
wait_for 30 bash -c '[ "$(curl -s -H "Authorization: Bearer tok-a-1111" "$1/v1/executions/$2" | jq -r .status)" = running ]' _ "$AEGIS_URL" "$ida" \
        || fail "A's execution did not start"
wait_for 10 bash -c 'curl -s -H "Authorization: Bearer tok-a-1111" "$1/v1/executions/$2/logs" | grep -q A-SECRET-LOG-7f3c' _ "$AEGIS_URL" "$ida" \
        || fail "A's logs never showed its output"

assert_eq "A lists its execution" "$ida" "$(as a-1111 GET /v1/executions | jq -r '.executions[].execution_id')"
assert_eq "B lists nothing" "0" "$(as b-2222 GET /v1/executions | jq '.executions | length')"
assert_eq "B lists nothing with a status filter" "0" "$(as b-2222 GET '/v1/executions?status=running' | jq '.executions | length')"

declare -A seen
probe() { # probe NAME METHOD PATH [curl args]: B's answer, kept for the comparison at the end
        local name="$1"; shift
        seen[$name]="$(answer b-2222 "$@")"
        assert_match "B's $name of A's execution is 404" ' 404$' "${seen[$name]}"
        check "B's $name does not show A's secret" bash -c '! grep -q A-SECRET <<<"$1"' _ "${seen[$name]}"
}
probe show GET "/v1/executions/$ida"
probe logs GET "/v1/executions/$ida/logs"
probe follow GET "/v1/executions/$ida/logs?follow=true"
probe events GET "/v1/executions/$ida/events"
probe stream GET "/v1/executions/$ida/stream"
probe cancel POST "/v1/executions/$ida/cancel"
probe delete DELETE "/v1/executions/$ida"
assert_eq "A's execution still runs after B's cancel and delete" running "$(a_status "$ida")"
check "A still reads its logs" bash -c 'curl -s -H "Authorization: Bearer tok-a-1111" "$1/v1/executions/$2/logs" | grep -q A-SECRET-LOG-7f3c' _ "$AEGIS_URL" "$ida"
check "the CLI as B cannot show it" bash -c '! "$AEGIS_CLI" --url "$1" --token tok-b-2222 show "$2" >/dev/null 2>&1' _ "$AEGIS_URL" "$ida"

# Agents: A deploys summarizer 1.0; B sees none of it and gets its own under the same name.
agent_yaml() { # agent_yaml WORD: a summarizer 1.0 that prints WORD
        cat <<YAML
apiVersion: 100monkeys.ai/v1
kind: Agent
metadata:
  name: summarizer
  version: "1.0"
spec:
  runtime:
    image: $TEST_IMAGE
    image_pull_policy: Never
    command: ["/bin/sh", "-c", "echo $1"]
  env:
    API_KEY: "key-of-$1"
YAML
}
agent_a="$(agent_yaml from-tenant-a | as a-1111 POST /v1/agents -H 'Content-Type: application/yaml' --data-binary @- | jq -r .agent_id)"
[ -n "$agent_a" ] && [ "$agent_a" != null ] || fail "A's deploy failed"
seen[agent_get]="$(answer b-2222 GET /v1/agents/summarizer)"
assert_match "B's get of A's agent is 404" ' 404$' "${seen[agent_get]}"
seen[agent_get_version]="$(answer b-2222 GET '/v1/agents/summarizer?version=1.0')"
assert_match "B's get of A's agent version is 404" ' 404$' "${seen[agent_get_version]}"
seen[agent_exec]="$(answer b-2222 POST /v1/agents/summarizer/execute "${JSON[@]}" -d '{"input":{}}')"
assert_match "B's execute of A's agent is 404" ' 404$' "${seen[agent_exec]}"
seen[agent_by_id]="$(answer b-2222 POST /v1/executions "${JSON[@]}" -d "{\"agent_id\":\"$agent_a\"}")"
assert_match "B's run of A's agent by id is 404" ' 404$' "${seen[agent_by_id]}"
assert_eq "B lists no agent" 0 "$(as b-2222 GET /v1/agents | jq '.agents | length')"
check "no answer to B holds A's key" bash -c '! grep -q key-of-from-tenant-a <<<"$1"' _ "${seen[*]}"
agent_b="$(agent_yaml from-tenant-b | as b-2222 POST /v1/agents -H 'Content-Type: application/yaml' --data-binary @- | jq -r .agent_id)"
check "B's deploy of the same name makes its own agent" bash -c '[ -n "$1" ] && [ "$1" != null ] && [ "$1" != "$2" ]' _ "$agent_b" "$agent_a"
assert_eq "A's agent keeps A's manifest" "key-of-from-tenant-a" \
        "$(as a-1111 GET /v1/agents/summarizer | jq -r '.manifest.spec.env.API_KEY // .manifest.spec.environment.API_KEY // empty' )"
assert_eq "A lists its one agent" "$agent_a" "$(as a-1111 GET /v1/agents | jq -r '.agents[].agent_id')"

run_agent() { # run_agent WHO: execute summarizer as WHO, print its logs once it ended
        local who="$1" id
        id="$(as "$who" POST /v1/agents/summarizer/execute "${JSON[@]}" -d '{"input":{}}' | jq -r .execution_id)"
        wait_for 30 bash -c '[ "$(curl -s -H "Authorization: Bearer tok-$3" "$1/v1/executions/$2" | jq -r .status)" = completed ]' _ "$AEGIS_URL" "$id" "$who" || return 1
        as "$who" GET "/v1/executions/$id/logs"
}
assert_match "A's execute runs A's agent" 'from-tenant-a' "$(run_agent a-1111)"
assert_match "B's execute runs B's agent" 'from-tenant-b' "$(run_agent b-2222)"

# A ends and deletes its execution: B's answers were exactly those of a missing id.
assert_eq "A cancels its execution" 202 "$(as_status a-1111 POST "/v1/executions/$ida/cancel")"
wait_for 30 bash -c '[ "$(curl -s -H "Authorization: Bearer tok-a-1111" "$1/v1/executions/$2" | jq -r .status)" = cancelled ]' _ "$AEGIS_URL" "$ida" \
        || fail "A's execution was not cancelled"
assert_eq "A deletes its execution" 204 "$(as_status a-1111 DELETE "/v1/executions/$ida")"
for pair in "show GET /v1/executions/$ida" "logs GET /v1/executions/$ida/logs" \
        "follow GET /v1/executions/$ida/logs?follow=true" "events GET /v1/executions/$ida/events" \
        "stream GET /v1/executions/$ida/stream" "cancel POST /v1/executions/$ida/cancel" \
        "delete DELETE /v1/executions/$ida"; do
        read -r name m p <<<"$pair"
        assert_eq "B's $name of A's execution was a missing id's answer" "$(answer b-2222 "$m" "$p")" "${seen[$name]}"
done
assert_eq "a missing agent's 404 is the one B got for A's" \
        "$(answer b-2222 GET /v1/agents/no-such-agent | sed 's/no-such-agent/summarizer/g')" "${seen[agent_get]}"
finish
