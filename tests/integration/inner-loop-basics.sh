#!/bin/bash
# The inner loop end to end (issue 14) on real Podman in busybox (no Python), with the scripted
# fake provider: a single-turn final answer; a cmd.run round trip whose output reaches the
# model; two tool calls in one turn, both run; a failed iteration's history in the next prompt; the LLM key never enters the container; the
# trajectory and token counts in GET /v1/executions/{id}; events in the stream; a finished
# iteration's capability is refused; network_policy.mode none still works.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$AEGIS_TEST_LIB/llm.sh"
require_cmd jq
make_scratch
podman_start

cat >"$SCRATCH/script.json" <<'JSON'
[
  {"text": "plain answer"},
  {"tool_calls": [{"name": "cmd.run", "id": "c1", "arguments": {"command": "echo", "args": ["from-the-container"]}}]},
  {"text": "saw it"},
  {"tool_calls": [{"name": "cmd.run", "id": "a", "arguments": {"command": "sh", "args": ["-c", "echo one > /tmp/one; cat /tmp/one"]}},
                  {"name": "cmd.run", "id": "b", "arguments": {"command": "sh", "args": ["-c", "env; echo two"]}}]},
  {"text": "both ran"},
  {"text": "wrong answer"},
  {"text": "right answer"}
]
JSON
fake_llm_start "$SCRATCH/script.json"
export FAKE_LLM_TEST_KEY="sk-secret-never-in-a-container"
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""
aegisd_start a "
llm:
  providers:
    - name: fake
      type: openai-compatible
      endpoint: $FAKE_LLM_URL/v1
      api_key: env:FAKE_LLM_TEST_KEY
      models: [{alias: default, model: fake-gpt}]"
# aegisd_start does not pass the key's variable through an EnvironmentFile: it inherits it.

agent() { # agent NAME [extra spec YAML]
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
    llm_timeout_seconds: 20
${2:-}
YAML
        echo "$SCRATCH/$1.yaml"
}
submit() { api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$1" | jq -r .execution_id; }

# 1. A single turn: the final content is the output.
id="$(submit "$(agent single)")"
wait_status "$id" completed 60 || { aegisd_log a | tail -30 >&2; fail "single turn did not complete: $(api GET "/v1/executions/$id")"; }
assert_eq "single turn: the output is the final content" "plain answer" "$(execution_field "$id" .output)"
assert_eq "the model got the prompt as the user message" '"user"' \
        "$(fake_llm_request "$FAKE_LLM_LOG" 1 'r["body"]["messages"][1]["role"]')"
check "the prompt carries the instruction" grep -q "Do the thing." <<<"$(fake_llm_request "$FAKE_LLM_LOG" 1 'r["body"]["messages"][1]["content"]')"

# 2. A cmd.run round trip: the output reaches the model.
id="$(submit "$(agent roundtrip)")"
wait_status "$id" completed 60 || fail "round trip did not complete: $(api GET "/v1/executions/$id")"
assert_eq "round trip: output" "saw it" "$(execution_field "$id" .output)"
check "the tool result reached the model" grep -q "from-the-container" \
        <<<"$(fake_llm_request "$FAKE_LLM_LOG" 3 'r["body"]["messages"]')"

# 3. Two tool calls in one turn: both run, in order, and the key is nowhere in the container.
id="$(submit "$(agent batch)")"
wait_status "$id" completed 60 || fail "batch did not complete: $(api GET "/v1/executions/$id")"
msgs="$(fake_llm_request "$FAKE_LLM_LOG" 5 'r["body"]["messages"]')"
check "first call of the batch ran" grep -q 'one' <<<"$msgs"
check "second call of the batch ran" grep -q 'two' <<<"$msgs"
check "the LLM key is not in the container's environment" bash -c '! grep -q sk-secret <<<"$1"' _ "$msgs"
check "the capability variables are not given to tools" bash -c '! grep -q AEGIS_ORCHESTRATOR_URL <<<"$1"' _ "$msgs"

# The trajectory and the token counts.
ex="$(api GET "/v1/executions/$id")"
assert_eq "trajectory has the conversation" 6 "$(jq '.iterations[0].trajectory.messages | length' <<<"$ex")"
assert_eq "tool calls executed" 2 "$(jq '.iterations[0].trajectory.tool_calls_executed' <<<"$ex")"
check "tokens counted" jq -e '.iterations[0].trajectory.tokens_in > 0' <<<"$ex" >/dev/null
# Container ids are 64 hex digits too: anything else that long would be a capability.
check "no capability in the answer" bash -c '! jq "del(.iterations[].container_id)" <<<"$1" | grep -Eq "[0-9a-f]{64}"' _ "$ex"
events="$(api GET "/v1/executions/$id/events" --max-time 3)"
for t in llm_call_started llm_call_finished tool_call_started tool_call_finished; do
        check "event $t" grep -q "$t" <<<"$events"
done
# 4. A validator fails iteration 1: iteration 2's prompt carries its history.
agent retry "    validation:
      - type: regex
        pattern: \"^right\"
        target: stdout" >/dev/null
sed -i 's/max_iterations: 1/max_iterations: 2/' "$SCRATCH/retry.yaml"
id="$(submit "$SCRATCH/retry.yaml")"
wait_status "$id" completed 60 || fail "retry did not complete: $(api GET "/v1/executions/$id")"
assert_eq "retry: the second iteration's answer" "right answer" "$(execution_field "$id" .output)"
assert_eq "retry: two iterations" 2 "$(api GET "/v1/executions/$id" | jq '.iterations | length')"
n="$(fake_llm_requests "$FAKE_LLM_LOG")"
prompt2="$(fake_llm_request "$FAKE_LLM_LOG" "$n" 'r["body"]["messages"][1]["content"]')"
check "iteration 2's prompt has the previous attempt" grep -q "Previous Attempts" <<<"$prompt2"
check "…with its output" grep -q "wrong answer" <<<"$prompt2"

# 5. The key went where it belongs, and nowhere else: not in aegisd's log, its metrics, the
# events or any answer of the API.
check "the key reached the provider in its header" grep -q "Bearer sk-secret-never-in-a-container" "$FAKE_LLM_LOG"
murl="http://$(sed -n 's/^  metrics_listen: "\(.*\)"$/\1/p' "$SCRATCH/aegisd-a/config.yaml")/metrics"
metrics="$(curl -s "$murl")"
check "the metrics were read (LLM calls counted)" grep -q '^aegis_llm_requests_total{' <<<"$metrics"
everything="$(aegisd_log a; printf '%s\n' "$metrics"; api GET "/v1/executions/$id"
        api GET "/v1/executions/$id/events" --max-time 3; api GET "/v1/executions?limit=100")"
check "the key is in none of aegisd's log, metrics, events and answers" \
        bash -c '! grep -q sk-secret <<<"$1"' _ "$everything"
assert_no_managed_containers
finish
