#!/bin/bash
# The inner loop with a client of the reference's protocol (issue 14): tests/lib/ref-bootstrap.py,
# a stdlib-only Python client written from aegis-bootstrap(8), stands in for the reference's
# bootstrap.py through spec.advanced.bootstrap_path, in an image with Python and no network
# (network_policy.mode none): it speaks HTTP to $AEGIS_ORCHESTRATOR_URL, which only
# aegis-bootstrap's relay serves. A cmd.run round trip whose real output reaches the model and
# a final text that is the output; an fs dispatch it does not know answered as not run, which
# the model is told; iteration 2 of a failing validator gets
# AEGIS_ITERATION_HISTORY.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/python-image.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$AEGIS_TEST_LIB/llm.sh"
require_cmd jq
make_scratch
podman_start
PY_IMAGE=localhost/aegis-test-python:latest
python_image_build "$PY_IMAGE" "$AEGIS_TEST_LIB/ref-bootstrap.py" /opt/ref-bootstrap.py
check "the image's python runs" podman_cmd run --rm --network none "$PY_IMAGE" python3 -c 'import json, urllib.request, subprocess'

cat >"$SCRATCH/script.json" <<'JSON'
[
  {"tool_calls": [{"name": "cmd.run", "id": "c1", "arguments": {"command": "sh", "args": ["-c", "echo from-python-client; cat /proc/net/dev /etc/hosts; echo url=$AEGIS_ORCHESTRATOR_URL"]}},
                  {"name": "fs.read", "id": "f1", "arguments": {"path": "a.txt"}}]},
  {"text": "the final text"},
  {"text": "wrong answer"},
  {"tool_calls": [{"name": "cmd.run", "id": "h", "arguments": {"command": "sh", "args": ["-c", "echo history=$AEGIS_ITERATION_HISTORY"]}}]},
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

agent() { # agent NAME MAX_ITERATIONS [extra YAML under spec.execution]
        inner_loop_manifest "$1" "$PY_IMAGE" "  advanced:
    bootstrap_path: /opt/ref-bootstrap.py
  execution:
    max_iterations: $2
    llm_timeout_seconds: 20
${3:-}"
}
submit() { api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$1" | jq -r .execution_id; }

# 1. A cmd.run round trip, then the final text; an fs tool (no volume: a dispatch with action
#    "fs", which this client does not know) gets the model an error saying so.
m="$(agent roundtrip 1)"
sed -i "s/^  tools: .*/  tools: [cmd.run, fs.read]/" "$m"
id="$(submit "$m")"
wait_status "$id" completed 60 || { aegisd_log a | tail -30 >&2; fail "round trip did not complete: $(api GET "/v1/executions/$id")"; }
assert_eq "the output is the final text" "the final text" "$(execution_field "$id" .output)"
assert_eq "two model calls" 2 "$(fake_llm_requests "$FAKE_LLM_LOG")"
check "the prompt (argv[1]) reached the model" grep -q "Do the thing." \
        <<<"$(fake_llm_request "$FAKE_LLM_LOG" 1 'r["body"]["messages"][1]["content"]')"
msgs="$(fake_llm_request "$FAKE_LLM_LOG" 2 'r["body"]["messages"]')"
check "the tool's real output reached the model" grep -q "from-python-client" <<<"$msgs"
assert_match "an fs tool with this client: an error result that says why" \
        "fs.read: the container's client answered without a result" \
        "$(fake_llm_tool_result "$FAKE_LLM_LOG" 2 f1 | jq -r .error)"
# The relay is the only way out: the container has loopback alone, and the client's URL names
# host.containers.internal, as the reference's does, which names that loopback here, where
# aegis-bootstrap's relay listens.
check "the container has loopback only" grep -q 'lo:' <<<"$msgs"
check "…and no other interface" bash -c '! grep -Eq "(eth|ens|enp|tap)[0-9]*:" <<<"$1"' _ "$msgs"
check "the client spoke to host.containers.internal" \
        grep -Eq 'url=http://host\.containers\.internal:[0-9]+/d/[0-9a-f]{64}' <<<"$msgs"
check "…which is the container's loopback" grep -Eq '127\.0\.0\.1([\\]+t|[[:space:]])+host\.containers\.internal' <<<"$msgs"
check "the LLM key is not in the container" bash -c '! grep -q sk-secret <<<"$1"' _ "$msgs"
events="$(api GET "/v1/executions/$id/events" --max-time 3)"
for t in llm_call_finished tool_call_finished; do
        check "event $t" grep -q "$t" <<<"$events"
done

# 2. A validator fails iteration 1: iteration 2's client gets AEGIS_ITERATION_HISTORY.
id="$(submit "$(agent retry 2 "    validation:
      - type: regex
        pattern: \"^right\"
        target: stdout")")"
wait_status "$id" completed 60 || { aegisd_log a | tail -30 >&2; fail "retry did not complete: $(api GET "/v1/executions/$id")"; }
assert_eq "retry: the second iteration's answer" "right answer" "$(execution_field "$id" .output)"
assert_eq "retry: two iterations" 2 "$(api GET "/v1/executions/$id" | jq '.iterations | length')"
hist="$(fake_llm_request "$FAKE_LLM_LOG" 5 'r["body"]["messages"]')"
check "iteration 2 got AEGIS_ITERATION_HISTORY" grep -q 'history=\[' <<<"$hist"
check "…with iteration 1's output" grep -q 'wrong answer' <<<"$hist"
assert_no_managed_containers
finish
