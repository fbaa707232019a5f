#!/bin/bash
# The REST API's contract: submission forms (JSON with a YAML string or an object, raw
# YAML, the reference's agent_id body), errors as {"error","field"} with the right status
# (400 naming the manifest line, 404, 409, 413), pagination, agents, the /stream alias,
# and logs.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start

m="$(manifest api-ok 'echo out-line; echo err-line >&2')"

# Raw YAML body.
r="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$m")"
id1="$(jq -r .execution_id <<<"$r")"
assert_match "raw YAML: 202 with execution_id" '^[0-9a-f-]{36}$' "$id1"
check "raw YAML: warnings array" jq -e '.warnings | type == "array"' <<<"$r"
# JSON with the manifest as an object, and an input.
body="$(jq -n --rawfile y "$m" '{manifest: $y, input: {"k": [1, 2]}}')"
assert_eq "JSON with YAML string: 202" 202 "$(api_status POST /v1/executions -H 'Content-Type: application/json' -d "$body")"
mobj="$(jq -n --arg img "$TEST_IMAGE" '{apiVersion: "100monkeys.ai/v1", kind: "Agent", metadata: {name: "obj", version: "1"}, spec: {runtime: {image: $img, image_pull_policy: "Never", command: ["echo", "from-object"]}}}')"
id2="$(api POST /v1/executions -H 'Content-Type: application/json' -d "$(jq -n --argjson m "$mobj" '{manifest: $m}')" | jq -r .execution_id)"
wait_status "$id2" completed 30
assert_eq "manifest as an object runs" from-object "$(execution_field "$id2" .output | tr -d '\n')"

# Errors.
bad="$(printf 'apiVersion: 100monkeys.ai/v1\nkind: Agent\nmetadata:\n  name: bad\nspec:\n  runtime:\n    image: x\n  resources:\n    memory_bytes: lots\n')"
r="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "$bad" -w '\n%{http_code}')"
assert_eq "bad manifest: 400" 400 "$(tail -1 <<<"$r")"
assert_match "bad manifest: message names the line" ':9:' "$(head -1 <<<"$r" | jq -r .error)"
assert_eq "bad manifest: field" spec.resources.memory_bytes "$(head -1 <<<"$r" | jq -r .field)"
r="$(api POST /v1/executions -H 'Content-Type: application/json' -d '{"input": 1}' -w '\n%{http_code}')"
assert_eq "no manifest: 400" 400 "$(tail -1 <<<"$r")"
assert_eq "no manifest: field" manifest "$(head -1 <<<"$r" | jq -r .field)"
assert_eq "not JSON: 400" 400 "$(api_status POST /v1/executions -H 'Content-Type: application/json' -d '{nope')"
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$SCRATCH/big"
assert_eq "body over the limit: 413" 413 "$(api_status POST /v1/executions -H 'Content-Type: application/json' --data-binary @"$SCRATCH/big")"
assert_eq "unknown execution: 404" 404 "$(api_status GET /v1/executions/00000000-0000-0000-0000-000000000000)"
r="$(api GET /v1/executions/00000000-0000-0000-0000-000000000000)"
check "404 body is {error}" jq -e '.error | type == "string"' <<<"$r"
assert_eq "bad status filter: 400" 400 "$(api_status GET '/v1/executions?status=bogus')"
assert_eq "bad limit: 400" 400 "$(api_status GET '/v1/executions?limit=0')"

# Pagination: newest first, cursor continues.
wait_status "$id1" completed 30
for i in 1 2 3; do api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$m" >/dev/null; done
p1="$(api GET '/v1/executions?limit=2')"
assert_eq "page 1 has 2" 2 "$(jq '.executions | length' <<<"$p1")"
cur="$(jq -r .next_cursor <<<"$p1")"
p2="$(api GET "/v1/executions?limit=2&cursor=$cur")"
assert_eq "page 2 has 2" 2 "$(jq '.executions | length' <<<"$p2")"
p3="$(api GET "/v1/executions?limit=2&cursor=$(jq -r .next_cursor <<<"$p2")")"
assert_eq "page 3 has the last 2" 2 "$(jq '.executions | length' <<<"$p3")"
assert_eq "no cursor after the last page" null "$(jq -r .next_cursor <<<"$p3")"
all="$(jq -r '.executions[].id' <<<"$p1"; jq -r '.executions[].id' <<<"$p2"; jq -r '.executions[].id' <<<"$p3")"
assert_eq "pages do not overlap" 6 "$(sort -u <<<"$all" | wc -l)"
assert_eq "oldest last" "$id1" "$(jq -r '.executions[-1].id' <<<"$p3")"

# Logs of a finished execution.
logs="$(api GET "/v1/executions/$id1/logs")"
assert_match "logs have stdout" 'out-line' "$logs"
assert_match "logs have stderr" 'err-line' "$logs"

# Agents: deploy (YAML string and reference JSON), list, get, execute, reference agent_id body.
r="$(api POST /v1/agents -H 'Content-Type: application/json' -d "$(jq -n --rawfile y "$m" '{manifest: $y}')" -w '\n%{http_code}')"
assert_eq "deploy: 201" 201 "$(tail -1 <<<"$r")"
agent_id="$(head -1 <<<"$r" | jq -r .agent_id)"
assert_match "deploy answers agent_id" '^[0-9a-f-]{36}$' "$agent_id"
r="$(api POST /v1/agents -H 'Content-Type: application/json' -d "$mobj" -w '\n%{http_code}')"
assert_eq "deploy a manifest given as JSON (reference): 201" 201 "$(tail -1 <<<"$r")"
assert_eq "agents listed" "api-ok obj" "$(api GET /v1/agents | jq -r '[.agents[].name] | sort | join(" ")')"
assert_eq "agent by name" "$agent_id" "$(api GET /v1/agents/api-ok | jq -r .agent_id)"
assert_eq "unknown agent: 404" 404 "$(api_status GET /v1/agents/nope)"
r="$(api POST /v1/agents/api-ok/execute -H 'Content-Type: application/json' -d '{"input": {"x": 1}}' -w '\n%{http_code}')"
assert_eq "execute: 202" 202 "$(tail -1 <<<"$r")"
id3="$(head -1 <<<"$r" | jq -r .execution_id)"
wait_status "$id3" completed 30
assert_eq "executed agent's input kept" 1 "$(execution_field "$id3" .input.x)"
r="$(api POST /v1/executions -H 'Content-Type: application/json' -d "$(jq -n --arg a "$agent_id" '{agent_id: $a, input: "hi", context_overrides: {}}')" -w '\n%{http_code}')"
assert_eq "reference body with agent_id: 202" 202 "$(tail -1 <<<"$r")"
id4="$(head -1 <<<"$r" | jq -r .execution_id)"
wait_status "$id4" completed 30
r="$(api POST /v1/executions -H 'Content-Type: application/json' -d '{"agent_id": "api-ok"}' -w '\n%{http_code}')"
assert_eq "agent_id by name works too" 202 "$(tail -1 <<<"$r")"
wait_status "$(head -1 <<<"$r" | jq -r .execution_id)" completed 30 # its container is gone once it completes
assert_eq "unknown agent_id: 404" 404 "$(api_status POST /v1/executions -H 'Content-Type: application/json' -d '{"agent_id": "nope"}')"
stream="$(curl -s -N --max-time "$(scaled 5)" "$AEGIS_URL/v1/executions/$id4/stream")"
assert_match "/stream is the event stream" 'event: execution_finished' "$stream"
check "health/live is {status}" bash -c "curl -s $AEGIS_URL/health/live | jq -e .status"
# The CLI against the real daemon (issue 17): an id prefix, agent delete by version and
# by name.
assert_eq "aegis show takes an id prefix" "$id1" "$("$AEGIS_CLI" --url "$AEGIS_URL" -o name show "${id1:0:8}")"
sed 's/version: "1.0.0"/version: "2.0.0"/' "$m" >"$SCRATCH/api-ok-2.yaml"
"$AEGIS_CLI" --url "$AEGIS_URL" -q agent deploy "$SCRATCH/api-ok-2.yaml" >/dev/null
assert_eq "two versions deployed" "1.0.0 2.0.0" "$(api GET /v1/agents | jq -r '[.agents[] | select(.name == "api-ok") | .version] | sort | join(" ")')"
"$AEGIS_CLI" --url "$AEGIS_URL" agent delete api-ok@1.0.0 2>/dev/null
assert_eq "aegis agent delete NAME@VERSION exits 0" 0 "$?"
assert_eq "and leaves the other version" "2.0.0" "$(api GET /v1/agents | jq -r '[.agents[] | select(.name == "api-ok") | .version] | join(" ")')"
"$AEGIS_CLI" --url "$AEGIS_URL" agent delete api-ok 2>/dev/null
assert_eq "aegis agent delete NAME exits 0" 0 "$?"
assert_eq "and the agent is gone" 404 "$(api_status GET /v1/agents/api-ok)"
"$AEGIS_CLI" --url "$AEGIS_URL" agent delete api-ok >/dev/null 2>&1
assert_eq "deleting it again: 125" 125 "$?"
assert_no_managed_containers
finish
