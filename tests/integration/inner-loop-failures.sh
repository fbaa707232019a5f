#!/bin/bash
# The inner loop's failures and restarts (issue 14), on real Podman with the fake provider:
# provider down → the iteration fails with upstream_unavailable; a model that never answers →
# the iteration fails at llm_timeout_seconds and no container remains; the LLM key is not in
# the container's environment; a live capability presented for another execution or
# iteration, and a finished iteration's capability, are refused and counted;
# aegisd SIGKILLed while a cmd.run runs and restarted → the conversation resumes and the
# execution completes, without a second model call for the same turn.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$AEGIS_TEST_LIB/llm.sh"
require_cmd jq
make_scratch
podman_start

cat >"$SCRATCH/script.json" <<'JSON'
[
  {"status": 503, "message": "overloaded"},
  {"hang": true},
  {"tool_calls": [{"name": "cmd.run", "id": "s", "arguments": {"command": "sh", "args": ["-c", "sleep 4; echo slept"]}}]},
  {"text": "resumed"}
]
JSON
fake_llm_start "$SCRATCH/script.json"
export FAKE_LLM_TEST_KEY="sk-secret-never-in-a-container"
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""
LLM_YAML="
llm:
  selection:
    max_retries: 0
  providers:
    - name: fake
      type: openai-compatible
      endpoint: $FAKE_LLM_URL/v1
      api_key: env:FAKE_LLM_TEST_KEY
      models: [{alias: default, model: fake-gpt}]"
aegisd_start a "$LLM_YAML"
sock="$SCRATCH/aegisd-a/state/gateway/dispatch.sock"
mport="$(sed -n 's/^  metrics_listen: "127.0.0.1:\([0-9]*\)"/\1/p' "$SCRATCH/aegisd-a/config.yaml")"

agent() { # agent NAME
        cat >"$SCRATCH/$1.yaml" <<YAML
apiVersion: 100monkeys.ai/v1
kind: Agent
metadata:
  name: $1
  version: "1.0.0"
spec:
  runtime:
    image: $TEST_IMAGE
    image_pull_policy: Never
  task:
    instruction: "Do the thing."
  tools: [cmd.run]
  security:
    network_policy:
      mode: none
  execution:
    max_iterations: 1
    iteration_timeout: 60s
    llm_timeout_seconds: 3
YAML
        echo "$SCRATCH/$1.yaml"
}
# podman_managed_ids is a function: poll it in this shell.
first_container() { local i c; for i in $(seq 300); do c="$(podman_managed_ids | head -1)"; [ -n "$c" ] && { echo "$c"; return 0; }; sleep 0.1; done; return 1; }
no_containers() { local i; for i in $(seq 200); do [ -z "$(podman_managed_ids)" ] && return 0; sleep 0.1; done; return 1; }
submit() { api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$1" | jq -r .execution_id; }

# 1. Provider down.
id="$(submit "$(agent down)")"
down_id="$id"
wait_status "$id" failed 60 || fail "provider down: not failed: $(api GET "/v1/executions/$id")"
assert_match "provider down: upstream_unavailable" "upstream_unavailable" "$(execution_field "$id" .reason)"

# 2. A model that never answers: fails at llm_timeout_seconds (3 s), container gone.
start=$(date +%s)
id="$(submit "$(agent hang)")"
cid="$(first_container)" || fail "no container for the hanging model"
env="$(podman_cmd inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$cid" 2>/dev/null)"
check "the container has its orchestrator URL" grep -q '^AEGIS_ORCHESTRATOR_URL=http://127.0.0.1:[0-9]*/d/[0-9a-f]\{64\}$' <<<"$env"
check "the LLM key is not in the container's environment" bash -c '! grep -q sk-secret <<<"$1"' _ "$env"
cap="$(sed -n 's|^AEGIS_ORCHESTRATOR_URL=.*/d/||p' <<<"$env")"
# While it lives, its capability presented with another iteration's identity is refused like
# an unknown one, and counted: a capability speaks for its own iteration only.
mismatch() { curl -s --unix-socket "$sock" -o "$SCRATCH/mismatch" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' "http://gateway/d/$cap/v1/dispatch-gateway" -d "$1"; }
assert_eq "a live capability for another execution: 404" 404 \
        "$(mismatch "{\"type\":\"generate\",\"execution_id\":\"$down_id\",\"iteration_number\":1}")"
check "the same answer as an unknown capability" jq -e '.error | startswith("not_found")' "$SCRATCH/mismatch" >/dev/null
assert_eq "a live capability for another iteration: 404" 404 \
        "$(mismatch "{\"type\":\"generate\",\"execution_id\":\"$id\",\"iteration_number\":2}")"
check "mismatches counted" grep -q '^aegis_dispatch_refused_total{reason="mismatch"} 2$' \
        <<<"$(curl -s "http://127.0.0.1:$mport/metrics")"
wait_status "$id" failed 30 || fail "hanging model: not failed: $(api GET "/v1/executions/$id")"
took=$(($(date +%s) - start))
check "failed at the llm timeout, not the iteration timeout ($took s)" test "$took" -lt 25
note "hang reason: $(execution_field "$id" .reason)"
assert_match "hang: the reason is the loop's" "inner loop" "$(execution_field "$id" .reason)"
no_containers || true
assert_no_managed_containers

# 3. That iteration's capability is dead now: 404, counted.
before="$(curl -s "http://127.0.0.1:$mport/metrics" | sed -n 's/^aegis_dispatch_refused_total{reason="unknown"} //p')"
code="$(curl -s --unix-socket "$sock" -o /dev/null -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' "http://gateway/d/$cap/v1/dispatch-gateway" -d '{"type":"generate"}')"
assert_eq "a finished iteration's capability: 404" 404 "$code"
after="$(curl -s "http://127.0.0.1:$mport/metrics" | sed -n 's/^aegis_dispatch_refused_total{reason="unknown"} //p')"
assert_eq "counted" "$((${before:-0} + 1))" "${after:-0}"

# 4. aegisd SIGKILLed while a cmd.run runs; restarted, the conversation resumes.
n_before="$(fake_llm_requests "$FAKE_LLM_LOG")"
id="$(submit "$(agent crash)")"
wait_for 30 bash -c 'curl -s --max-time 2 "$1/v1/executions/$2/events" | grep -q tool_call_started' _ "$AEGIS_URL" "$id" ||
        fail "no tool call started"
aegisd_kill9 a
sleep 1
aegisd_start a "$LLM_YAML"
wait_status "$id" completed 60 || { aegisd_log a | tail -20 >&2; fail "not completed after the restart: $(api GET "/v1/executions/$id")"; }
assert_eq "resumed: the output" "resumed" "$(execution_field "$id" .output)"
assert_eq "one model call per turn across the restart" "$((n_before + 2))" "$(fake_llm_requests "$FAKE_LLM_LOG")"
check "the result after the restart reached the model" grep -q slept \
        <<<"$(fake_llm_request "$FAKE_LLM_LOG" "$((n_before + 2))" 'r["body"]["messages"]')"
no_containers || true
assert_no_managed_containers
finish
