#!/bin/bash
# Judged validators and tool_validation (issue 21) on real Podman with the scripted fake provider as the judge (the
# fake answers requests in order, so the script is the judges' answers): a semantic judge that
# scores low fails the iteration with its reasoning as the next iteration's feedback, and a
# high score passes; the verdicts are kept with the iteration (API and `aegis show`) and the
# judge calls are llm_call_* events; an answer that is no verdict fails the iteration (not a
# pass); multi_judge with too few answers fails saying so; the inner loop's next prompt carries
# the judge's reasoning under "# Previous Attempts:"; an aegisd killed while the judges think
# judges again after its restart; exit_code honours `expected`; tool_validation's judge refuses
# a call it scores low (the model is told why) and skips a tool given with skip_judge; and an
# aegisd without an LLM
# refuses judged manifests at submission.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$AEGIS_TEST_LIB/llm.sh"
require_cmd jq
make_scratch
podman_start

verdict() { jq -cn --argjson s "$1" --argjson c "$2" --arg r "$3" '{text: ({score: $s, confidence: $c, reasoning: $r} | tojson)}'; }
{
        echo '['
        verdict 0.2 0.9 "It never says hello to the user."; echo ','                 # 1. semantic, iteration 1
        echo '{"text": "Sure:\n```json\n{\"score\": 0.9, \"confidence\": 0.8, \"reasoning\": \"Greets.\"}\n```"},' # iteration 2
        echo '{"text": "Looks good to me!"},'                                          # 2. no verdict
        verdict 1 1 "fine"; echo ','                                                    # 3. multi_judge: one answers…
        echo '{"text": "no idea"},'                                                     #    …one does not
        echo '{"text": "wrong answer"},'                                                # 4. inner loop, iteration 1
        verdict 0.1 1 "The answer must name the capital of France."; echo ','
        echo '{"text": "Paris"},'                                                       #    iteration 2
        verdict 0.95 1 "Correct."; echo ','
        echo '{"hang": true},'                                                          # 5. judge hangs, aegisd killed
        verdict 0.8 0.9 "Judged again after the restart."; echo ','
        echo '{"tool_calls": [{"name": "cmd.run", "id": "t1", "arguments": {"command": "echo", "args": ["judged-call"]}}]},' # 8. tool_validation
        verdict 0.1 0.9 "Echoing is not needed for this task."; echo ','
        echo '{"text": "gave up"},'
        echo '{"tool_calls": [{"name": "cmd.run", "id": "t2", "arguments": {"command": "echo", "args": ["skipped-call"]}}]},' # skip_judge
        echo '{"text": "ran it"}'
        echo ']'
} >"$SCRATCH/script.json"
jq -e 'length == 16' "$SCRATCH/script.json" >/dev/null || fail "bad script"
fake_llm_start "$SCRATCH/script.json"
export FAKE_LLM_TEST_KEY="sk-judge"
LLM_CONFIG="
llm:
  providers:
    - name: fake
      type: openai-compatible
      endpoint: $FAKE_LLM_URL/v1
      api_key: env:FAKE_LLM_TEST_KEY
      models: [{alias: default, model: fake-judge}]"
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""
aegisd_start a "$LLM_CONFIG"
submit() { api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$1" | jq -r .execution_id; }
requests() { fake_llm_requests "$FAKE_LLM_LOG"; }

# 1. A semantic judge scores the first output low: the iteration fails with its reasoning,
#    which the second iteration gets as feedback; the second scores high and passes.
id="$(submit "$(manifest greeter 'echo "hello from attempt"; echo "feedback: ${AEGIS_PREVIOUS_REASON:-none}"' "
  execution:
    max_iterations: 2
    validation:
      - {type: exit_code}
      - {type: semantic, criteria: \"The output greets the user.\", min_score: 0.7, min_confidence: 0.5}")")"
wait_status "$id" completed 90 || { aegisd_log a | tail -30 >&2; fail "semantic: not completed: $(api GET "/v1/executions/$id")"; }
ex="$(api GET "/v1/executions/$id")"
assert_eq "semantic: iteration 1 failed" failed "$(jq -r '.iterations[0].status' <<<"$ex")"
assert_eq "semantic: its reason is the judge's verdict and reasoning" \
        "validator 2 (semantic): score 0.20 is below min_score 0.70: It never says hello to the user." \
        "$(jq -r '.iterations[0].reason' <<<"$ex")"
assert_eq "semantic: the verdict is kept with iteration 1" '0.2 0.9 "It never says hello to the user." false default' \
        "$(jq -r '.iterations[0].judges[0] | "\(.score) \(.confidence) \(.judges[0].reasoning | tojson) \(.passed) \(.judges[0].model)"' <<<"$ex")"
assert_eq "semantic: iteration 2 passed with its verdict kept" 'succeeded 0.9 Greets.' \
        "$(jq -r '.iterations[1] | "\(.status) \(.judges[0].score) \(.judges[0].judges[0].reasoning)"' <<<"$ex")"
check "semantic: iteration 2 was told the judge's reasoning" grep -q \
        "feedback: validator 2 (semantic): score 0.20 is below min_score 0.70: It never says hello to the user." \
        <<<"$(jq -r .output <<<"$ex")"
check "semantic: the judge saw the criteria and the output" grep -q "The output greets the user." \
        <<<"$(fake_llm_request "$FAKE_LLM_LOG" 2 'r["body"]["messages"][1]["content"]')"
check "semantic: …the second output, not the first" grep -q "feedback: validator 2" \
        <<<"$(fake_llm_request "$FAKE_LLM_LOG" 2 'r["body"]["messages"][1]["content"]')"
assert_eq "semantic: the judge asked for the verdict as a system message" '"system"' \
        "$(fake_llm_request "$FAKE_LLM_LOG" 1 'r["body"]["messages"][0]["role"]')"
events="$(curl -s -m 10 "$AEGIS_URL/v1/executions/$id/events" || true)"
check "semantic: judge calls are llm_call_started events" grep -q 'llm_call_started' <<<"$events"
check "semantic: …with the validator they judge" grep -q '"judge": *2\|"judge":2' <<<"$events"
show="$(aegis show "$id")"
assert_match "aegis show prints the verdict" 'validator 2 \(semantic\): failed, score 0\.20, confidence 0\.90' "$show"
check "aegis show prints the reasoning" grep -q "default: score 0.20, confidence 0.90: It never says hello to the user." <<<"$show"

# 2. An answer that is no verdict is the judge's failure, never a pass.
id="$(submit "$(manifest mumbler 'echo hi' "
  execution:
    max_iterations: 1
    validation:
      - {type: semantic, criteria: \"Says hi.\"}")")"
wait_status "$id" failed 60 || fail "no verdict: not failed: $(api GET "/v1/executions/$id")"
assert_eq "no verdict: the reason says so" \
        'validator 1 (semantic): the judge (default) did not answer: the judge answered no JSON verdict: "Looks good to me!"' \
        "$(execution_field "$id" '.iterations[0].reason')"

# 3. multi_judge: fewer answers than min_judges_required fail the validator with that reason.
id="$(submit "$(manifest panel 'echo hi' "
  execution:
    max_iterations: 1
    validation:
      - type: multi_judge
        criteria: Says hi.
        judges: [{model: default, weight: 2}, {model: default}]
        consensus: unanimous
        min_judges_required: 2")")"
wait_status "$id" failed 60 || fail "multi_judge: not failed: $(api GET "/v1/executions/$id")"
check "multi_judge: the reason counts the answers" grep -q \
        '^validator 1 (multi_judge, unanimous): only 1 of 2 judges answered (min_judges_required 2): ' \
        <<<"$(execution_field "$id" '.iterations[0].reason')"
assert_eq "multi_judge: both judges are recorded, one without a verdict" "1 1" \
        "$(execution_field "$id" '.iterations[0].judges[0].judges | "\(map(select(.error)) | length) \(map(select(.reasoning)) | length)"')"

# 4. The inner loop: the judge's reasoning is in the next prompt's "# Previous Attempts:".
n_before="$(requests)"
id="$(submit "$(inner_loop_manifest capital "$TEST_IMAGE" "  execution:
    max_iterations: 2
    llm_timeout_seconds: 20
    validation:
      - {type: semantic, criteria: \"Names the capital of France.\"}")")"
wait_status "$id" completed 90 || { aegisd_log a | tail -30 >&2; fail "inner loop: not completed: $(api GET "/v1/executions/$id")"; }
assert_eq "inner loop: the judged final answer is the output" Paris "$(execution_field "$id" .output)"
prompt="$(fake_llm_request "$FAKE_LLM_LOG" $((n_before + 3)) 'r["body"]["messages"][1]["content"]')"
check "inner loop: the next prompt has the previous attempts" grep -q "# Previous Attempts:" <<<"$prompt"
assert_match "inner loop: …with the judge's reasoning as its feedback" \
        'Feedback:\\nvalidator 1 \(semantic\): score 0\.10 is below min_score 0\.70: The answer must name the capital of France\.' \
        "$prompt"
check "inner loop: the judge saw the final answer" grep -q "wrong answer" \
        <<<"$(fake_llm_request "$FAKE_LLM_LOG" $((n_before + 2)) 'r["body"]["messages"][1]["content"]')"

# 5. aegisd killed while the judge thinks: after the restart the output is judged again.
n_before="$(requests)"
id="$(submit "$(manifest patient 'echo patiently' "
  execution:
    max_iterations: 1
    validation:
      - {type: semantic, criteria: \"Is patient.\"}")")"
wait_for 60 bash -c '[ "$(grep -c . "$1")" -gt "$2" ]' _ "$FAKE_LLM_LOG" "$n_before" || fail "the judge was never asked"
assert_eq "restart: the iteration shows it is being judged" true "$(execution_field "$id" '.iterations[0].judging')"
aegisd_kill9 a
aegisd_start a "$LLM_CONFIG"
wait_status "$id" completed 60 || { aegisd_log a | tail -30 >&2; fail "restart: not completed: $(api GET "/v1/executions/$id")"; }
assert_eq "restart: judged again, one iteration" '1 Judged again after the restart.' \
        "$(execution_field "$id" '"\(.iterations | length) \(.iterations[0].judges[0].judges[0].reasoning)"')"
assert_eq "restart: the output is the container's" patiently "$(execution_field "$id" .output)"

# 6. exit_code honours expected: 3 passes when 3 is expected, 0 then fails.
id="$(submit "$(manifest three 'exit 3' "
  execution:
    max_iterations: 1
    validation: [{type: exit_code, expected: 3}]")")"
wait_status "$id" completed 60 || fail "expected 3: exit 3 did not complete: $(api GET "/v1/executions/$id")"
id="$(submit "$(manifest zero 'exit 0' "
  execution:
    max_iterations: 1
    validation: [{type: exit_code, expected: 3}]")")"
wait_status "$id" failed 60 || fail "expected 3: exit 0 did not fail"
assert_eq "expected 3: exit 0 fails saying why" "validator 1 (exit_code): expected 3, got 0" \
        "$(execution_field "$id" '.iterations[0].reason')"

# 8. tool_validation: a judge reviews each tool call before it runs; a low score refuses the
#    call (the model is told why, the command never runs), and a tool given with skip_judge
#    is not reviewed.
reviewed_agent() { # NAME TOOLS-YAML
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
  tools: $2
  security:
    network_policy:
      mode: none
  execution:
    max_iterations: 1
    llm_timeout_seconds: 20
    tool_validation:
      - {type: semantic, criteria: "Only calls the task needs.", min_score: 0.5}
YAML
        echo "$SCRATCH/$1.yaml"
}
n_before="$(requests)"
id="$(submit "$(reviewed_agent reviewed '[cmd.run]')")"
wait_status "$id" completed 60 || { aegisd_log a | tail -30 >&2; fail "tool_validation: not completed: $(api GET "/v1/executions/$id")"; }
assert_eq "tool_validation: the model's answer after the refusal" "gave up" "$(execution_field "$id" .output)"
check "tool_validation: the judge saw the proposed call" grep -q 'Proposed tool call:\\ncmd.run {\\"command\\":\\"echo\\"' \
        <<<"$(fake_llm_request "$FAKE_LLM_LOG" $((n_before + 2)) 'r["body"]["messages"][1]["content"]')"
tool_result="$(fake_llm_request "$FAKE_LLM_LOG" $((n_before + 3)) '[m for m in r["body"]["messages"] if m["role"] == "tool"]')"
check "tool_validation: the model was told the call was rejected, and why" grep -q \
        'rejected by review: validator 1 (semantic): score 0.10 is below min_score 0.50: Echoing is not needed for this task.' <<<"$tool_result"
assert_eq "tool_validation: the refused command never ran" 0 \
        "$(execution_field "$id" '.iterations[0].trajectory.tool_calls_executed')"
n_before="$(requests)"
id="$(submit "$(reviewed_agent skipper '[{name: cmd.run, skip_judge: true}]')")"
wait_status "$id" completed 60 || fail "skip_judge: not completed: $(api GET "/v1/executions/$id")"
assert_eq "skip_judge: no judge was asked (two model calls only)" $((n_before + 2)) "$(requests)"
assert_eq "skip_judge: the call ran" 1 "$(execution_field "$id" '.iterations[0].trajectory.tool_calls_executed')"
check "skip_judge: its output reached the model" grep -q "skipped-call" \
        <<<"$(fake_llm_request "$FAKE_LLM_LOG" $((n_before + 2)) '[m for m in r["body"]["messages"] if m["role"] == "tool"]')"

# 9. Without an LLM provider, judged manifests are refused at submission.
aegisd_stop a
aegisd_start b
body="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$SCRATCH/mumbler.yaml")"
check "no LLM: refused with the reason" grep -q "cannot run semantic or multi_judge validators: no LLM provider" <<<"$body"
assert_eq "no LLM: 503" 503 "$(api_status POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$SCRATCH/mumbler.yaml")"

assert_no_managed_containers
finish
