#!/bin/bash
# A security context's max_concurrent holds across executions (issue 21), on real Podman with
# scripted fake providers: under a context that lets one cmd.run run at a time, two
# executions submitted together both ask for a six-second command; the second waits for the
# first to end (the commands' own readings of the clock, taken inside the containers, do not overlap), and both
# complete. The waiting call is said in the journal.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$AEGIS_TEST_LIB/llm.sh"
require_cmd jq
make_scratch
podman_start

# One fake per execution (models "a" and "b"), so the order in which the two first turns
# arrive does not matter: each asks for a six-second command, then answers.
for x in a b; do
        cat >"$SCRATCH/script-$x.json" <<'JSON'
[
  {"tool_calls": [{"name": "cmd.run", "id": "s", "arguments": {"command": "sh", "args": ["-c", "read u _ </proc/uptime; echo $u; sleep 6; read u _ </proc/uptime; echo $u"]}}]},
  {"text": "done"}
]
JSON
        fake_llm_start "$SCRATCH/script-$x.json" "fake-$x"
done
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""
aegisd_start a "llm:
  providers:
    - name: fake-a
      type: openai-compatible
      endpoint: $FAKE_LLM_FAKE_A_URL/v1
      models: [{alias: a, model: fake-gpt}]
    - name: fake-b
      type: openai-compatible
      endpoint: $FAKE_LLM_FAKE_B_URL/v1
      models: [{alias: b, model: fake-gpt}]
security:
  contexts:
    - name: one-at-a-time
      capabilities:
        - tool_pattern: cmd.run
          max_concurrent: 1"

submit() { # submit MODEL: an execution thinking with that model, under the context
        local m
        m="$(inner_loop_manifest "serial-$1" "$TEST_IMAGE" "  security_context: one-at-a-time
  execution:
    max_iterations: 1
    llm_timeout_seconds: 30")"
        sed -i "s/^  runtime:$/  runtime:\n    model: $1/" "$m"
        api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$m" | jq -r .execution_id
}
a="$(submit a)"
b="$(submit b)"
for x in "$a" "$b"; do
        wait_status "$x" completed 90 || { aegisd_log a | tail -30 >&2; fail "$x did not complete: $(api GET "/v1/executions/$x")"; }
done

# The start and end of each command (the host's uptime, which containers share, in seconds
# to the hundredth), from the turn that carried its result.
span() { fake_llm_tool_result "$1" 2 s | jq -r .stdout | tr '\n' ' '; }
read -r s1 e1 <<<"$(span "$FAKE_LLM_FAKE_A_LOG")"
read -r s2 e2 <<<"$(span "$FAKE_LLM_FAKE_B_LOG")"
check "both commands ran and reported their clocks" test -n "$e1" -a -n "$e2"
check "the second command started after the first ended (max_concurrent 1)" \
        awk -v s1="$s1" -v e1="$e1" -v s2="$s2" -v e2="$e2" 'BEGIN { exit !(s1 < s2 ? s2 >= e1 : s1 >= e2) }'
check "the waiting call is said in the journal" \
        grep -q "cmd.run waits: 1 call(s) of it already run under security context 'one-at-a-time'" <<<"$(aegisd_log a)"
finish
