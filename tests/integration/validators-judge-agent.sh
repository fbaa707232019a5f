#!/bin/bash
# Judge agents (issue 21: judge_agent of semantic and multi_judge) on real Podman, with no LLM:
# the judges are deployed agents whose container prints a fixed verdict. A judge that scores
# low fails the iteration with its reasoning as the next iteration's feedback, and its score,
# reasoning and execution are kept with the iteration; the judge's execution is one of the
# tenant's, linked to the judged one (judge_of) and given the criteria, the output and the
# iteration; a passing verdict completes; multi_judge takes the reference's plain list of
# agent names (one with a version); an output that is no JSON verdict is the judge's failure;
# a judge past its timeout_seconds is cancelled; cancelling the judged execution cancels its
# judge; an aegisd killed while a judge execution runs waits for that same execution after its
# restart; runtime.max_concurrent 1 does not deadlock a judged execution and its judge; and at
# submission another tenant's judge agent is refused exactly like a missing one, as is a judge
# agent that is itself judged by agents.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
make_scratch
podman_start
printf 'tok-a-1111 tenant-a\ntok-b-2222 tenant-b\n' >"$SCRATCH/tokens"
chmod 600 "$SCRATCH/tokens"
AEGIS_API_EXTRA="  tokens_file: \"$SCRATCH/tokens\"" AEGIS_RUNTIME_EXTRA="  max_concurrent: 1" aegisd_start

as() { local who="$1"; shift; api "$@" -H "Authorization: Bearer tok-$who"; }
yaml=(-H 'Content-Type: application/yaml')
deploy() { # deploy WHO FILE
        local id
        id="$(as "$1" POST /v1/agents "${yaml[@]}" --data-binary "@$2" | jq -r .agent_id)"
        [ -n "$id" ] && [ "$id" != null ] || fail "deploying $2 failed"
}
submit() { as a-1111 POST /v1/executions "${yaml[@]}" --data-binary "@$1" | jq -r .execution_id; }
field() { as a-1111 GET "/v1/executions/$1" | jq -r "$2"; }
wait_a() { # wait_a ID STATUS SECONDS
        wait_for "$3" bash -c '[ "$(curl -s -H "Authorization: Bearer tok-a-1111" "$1/v1/executions/$2" | jq -r .status)" = "$3" ]' \
                _ "$AEGIS_URL" "$1" "$2"
}
judged() { # judged NAME SCRIPT VALIDATOR-YAML [max_iterations]: a manifest judged by VALIDATOR
        manifest "$1" "$2" "
  execution:
    max_iterations: ${4:-1}
    validation:
      - $3"
}

# Tenant A's judges: each container just prints its verdict.
deploy a-1111 "$(manifest strict-judge 'echo "{\"score\":0.2,\"confidence\":0.9,\"reasoning\":\"Too terse: say more.\"}"')"
deploy a-1111 "$(manifest kind-judge 'echo "judging…" >&2; echo "{\"score\":0.9,\"confidence\":0.8,\"reasoning\":\"Says enough.\"}"')"
deploy a-1111 "$(manifest chatty-judge 'echo "I think it is fine"')"
deploy a-1111 "$(manifest sleepy-judge 'sleep 60')"
deploy a-1111 "$(judged meta-judge 'echo "{}"' '{type: semantic, criteria: "x", judge_agent: strict-judge}')"

# 1. A low verdict fails the iteration; the second iteration is told the judge's reasoning.
id="$(submit "$(judged terse 'echo "short answer; feedback: ${AEGIS_PREVIOUS_REASON:-none}"' \
        '{type: semantic, criteria: "The answer is detailed.", judge_agent: strict-judge, min_score: 0.5}' 2)")"
wait_a "$id" failed 120 || { aegisd_log a | tail -30 >&2; fail "low verdict: not failed: $(field "$id" .)"; }
ex="$(as a-1111 GET "/v1/executions/$id")"
reason='validator 1 (semantic): score 0.20 is below min_score 0.50: Too terse: say more.'
assert_eq "low verdict: iteration 1's reason is the judge's" "$reason" "$(jq -r '.iterations[0].reason' <<<"$ex")"
assert_eq "low verdict: the verdict is kept with iteration 1" '0.2 0.9 "Too terse: say more." false strict-judge' \
        "$(jq -r '.iterations[0].judges[0] | "\(.score) \(.confidence) \(.judges[0].reasoning | tojson) \(.passed) \(.judges[0].agent)"' <<<"$ex")"
assert_eq "low verdict: both iterations were judged" "2 $reason" \
        "$(jq -r '"\(.iterations | length) \(.iterations[1].reason)"' <<<"$ex")"
check "low verdict: iteration 2 got the reasoning as feedback" grep -q "feedback: $reason" \
        <<<"$(as a-1111 GET "/v1/executions/$id/logs")"
judge="$(jq -r '.iterations[0].judges[0].judges[0].execution_id' <<<"$ex")"
je="$(as a-1111 GET "/v1/executions/$judge")"
assert_eq "the judge execution completed as strict-judge" "completed strict-judge" \
        "$(jq -r '"\(.status) \(.agent)"' <<<"$je")"
assert_eq "the judge execution is linked to the judged one" "$id 1 1 1" \
        "$(jq -r '.judge_of | "\(.execution_id) \(.iteration) \(.validator) \(.judge)"' <<<"$je")"
assert_eq "the judge was given the criteria, the output and the iteration" \
        'The answer is detailed.|short answer; feedback: none|1' \
        "$(jq -r '.input | "\(.criteria)|\(.output | rtrimstr("\n"))|\(.iteration)"' <<<"$je")"
check "the judge execution is listed among the tenant's" grep -qx "$judge" \
        <<<"$(as a-1111 GET '/v1/executions?limit=100' | jq -r '.executions[].id')"
check "aegis show names the judge agent and its execution" grep -q \
        "agent strict-judge (execution $judge): score 0.20, confidence 0.90: Too terse: say more." \
        <<<"$("$AEGIS_CLI" --url "$AEGIS_URL" --token tok-a-1111 show "$id")"
judge2="$(jq -r '.iterations[1].judges[0].judges[0].execution_id' <<<"$ex")"
check "iteration 2 had a judge execution of its own" test "$judge2" != "$judge" -a "$judge2" != null
assert_eq "a plain execution does not pass for a judge" null "$(field "$id" .judge_of)"
events="$(curl -s -m 10 -H 'Authorization: Bearer tok-a-1111' "$AEGIS_URL/v1/executions/$id/events" || true)"
check "the judge execution is reported as an event" grep -q "judge_execution_started" <<<"$events"

# 2. A passing verdict completes; multi_judge takes the reference's list of agent names.
id="$(submit "$(judged fine 'echo "a long and detailed answer"' \
        '{type: semantic, criteria: "The answer is detailed.", judge_agent: kind-judge, min_score: 0.5}')")"
wait_a "$id" completed 60 || fail "passing verdict: not completed: $(field "$id" .)"
assert_eq "passing verdict: kept" "0.9 Says enough." "$(field "$id" '.iterations[0].judges[0] | "\(.score) \(.judges[0].reasoning)"')"
id="$(submit "$(judged panel 'echo answer' \
        '{type: multi_judge, criteria: "Detailed.", judges: [kind-judge, "strict-judge:1.0.0"], min_score: 0.5}')")"
wait_a "$id" completed 90 || fail "multi_judge of agents: not completed: $(field "$id" .)"
assert_eq "multi_judge of agents: both judged" "kind-judge 0.9 strict-judge 0.2 0.55" \
        "$(field "$id" '.iterations[0].judges[0] | "\(.judges[0].agent) \(.judges[0].score) \(.judges[1].agent) \(.judges[1].score) \(.score * 100 | round / 100)"')"

# 3. An output that is no JSON verdict is the judge's failure, never a pass.
id="$(submit "$(judged mumble 'echo hi' '{type: semantic, criteria: "Says hi.", judge_agent: chatty-judge}')")"
wait_a "$id" failed 60 || fail "no verdict: not failed: $(field "$id" .)"
assert_match "no verdict: the reason says so" \
        '^validator 1 \(semantic\): the judge \(agent chatty-judge\) did not answer: the judge agent.s output is not a JSON verdict' \
        "$(field "$id" '.iterations[0].reason')"

# 4. A judge past its timeout_seconds is cancelled and fails the validator.
id="$(submit "$(judged hurried 'echo hi' '{type: semantic, criteria: "Says hi.", judge_agent: sleepy-judge, timeout_seconds: 3}')")"
wait_a "$id" failed 60 || fail "judge timeout: not failed: $(field "$id" .)"
assert_match "judge timeout: the reason says so" 'did not answer: timeout: the judge execution .* did not finish within 3 s' \
        "$(field "$id" '.iterations[0].reason')"
judge="$(field "$id" '.iterations[0].judges[0].judges[0].execution_id')"
wait_a "$judge" cancelled 30 || fail "judge timeout: the judge execution was not cancelled: $(field "$judge" .)"

# 5. Cancelling the judged execution cancels its judge.
id="$(submit "$(judged waiting 'echo hi' '{type: semantic, criteria: "Says hi.", judge_agent: sleepy-judge}')")"
wait_for 60 bash -c '[ "$(curl -s -H "Authorization: Bearer tok-a-1111" "$1/v1/executions/$2" | jq -r ".iterations[0].judging")" = true ]' \
        _ "$AEGIS_URL" "$id" || fail "cancel: never judging: $(field "$id" .)"
judge="$(as a-1111 GET '/v1/executions?status=running' | jq -r '.executions[] | select(.agent == "sleepy-judge") | .id')"
[ -n "$judge" ] || judge="$(as a-1111 GET '/v1/executions?status=pending' | jq -r '.executions[] | select(.agent == "sleepy-judge") | .id')"
[ -n "$judge" ] || fail "cancel: no judge execution: $(as a-1111 GET /v1/executions)"
assert_eq "cancel: the judge execution names the judged one" "$id" "$(field "$judge" .judge_of.execution_id)"
as a-1111 POST "/v1/executions/$id/cancel" >/dev/null
wait_a "$id" cancelled 30 || fail "cancel: not cancelled: $(field "$id" .)"
wait_a "$judge" cancelled 30 || fail "cancel: the judge execution was not cancelled: $(field "$judge" .)"

# 6. aegisd killed while a judge execution runs: the restarted one waits for that same
#    execution (its id is derived from the judge's place) instead of starting another.
deploy a-1111 "$(manifest slow-judge 'sleep 4; echo "{\"score\":1,\"confidence\":1,\"reasoning\":\"Worth the wait.\"}"')"
id="$(submit "$(judged restarted 'echo hi' '{type: semantic, criteria: "Says hi.", judge_agent: slow-judge}')")"
wait_for 60 bash -c '[ -n "$(curl -s -H "Authorization: Bearer tok-a-1111" "$1/v1/executions?status=running" | jq -r ".executions[] | select(.agent == \"slow-judge\") | .id")" ]' \
        _ "$AEGIS_URL" || fail "restart: the judge execution never ran"
judge="$(as a-1111 GET '/v1/executions?status=running' | jq -r '.executions[] | select(.agent == "slow-judge") | .id')"
aegisd_kill9 a
AEGIS_API_EXTRA="  tokens_file: \"$SCRATCH/tokens\"" AEGIS_RUNTIME_EXTRA="  max_concurrent: 1" aegisd_start
wait_a "$id" completed 90 || { aegisd_log a | tail -30 >&2; fail "restart: not completed: $(field "$id" .)"; }
assert_eq "restart: the same judge execution gave the verdict" "$judge Worth the wait." \
        "$(field "$id" '.iterations[0].judges[0].judges[0] | "\(.execution_id) \(.reasoning)"')"
assert_eq "restart: no second judge execution" 1 \
        "$(as a-1111 GET '/v1/executions?limit=100' | jq '[.executions[] | select(.agent == "slow-judge")] | length')"

# 7. At submission: another tenant's judge agent reads exactly as a missing one; a judge agent
#    judged by agents is refused.
m="$(judged from-b 'echo hi' '{type: semantic, criteria: "Says hi.", judge_agent: strict-judge}')"
b="$(curl -s -w ' %{http_code}' -X POST "$AEGIS_URL/v1/executions" -H 'Authorization: Bearer tok-b-2222' "${yaml[@]}" --data-binary "@$m")"
assert_match "tenant B cannot use A's judge agent (400)" ' 400$' "$b"
assert_eq "…told it does not exist" \
        'spec.execution.validation[0].judge_agent: no deployed agent "strict-judge" (deploy it with POST /v1/agents)' \
        "$(jq -r .error <<<"${b% *}")"
sed 's/judge_agent: strict-judge/judge_agent: no-such-judge/' "$m" >"$SCRATCH/missing.yaml"
missing="$(curl -s -X POST "$AEGIS_URL/v1/executions" -H 'Authorization: Bearer tok-b-2222' "${yaml[@]}" --data-binary "@$SCRATCH/missing.yaml")"
assert_eq "…exactly as a missing one" "$(jq -c 'del(.error)' <<<"$missing") $(jq -r .error <<<"$missing" | sed 's/no-such-judge/strict-judge/')" \
        "$(jq -c 'del(.error)' <<<"${b% *}") $(jq -r .error <<<"${b% *}")"
assert_eq "tenant B's refusal created nothing" 0 "$(as b-2222 GET /v1/executions | jq '.executions | length')"
r="$(as a-1111 POST /v1/executions "${yaml[@]}" --data-binary "@$(judged recursive 'echo hi' '{type: semantic, criteria: "x", judge_agent: meta-judge}')")"
assert_match "a judge agent judged by agents is refused" 'is itself judged by agents' "$(jq -r .error <<<"$r")"
r="$(as a-1111 POST /v1/executions "${yaml[@]}" --data-binary "@$(manifest reviewed 'echo hi' "
  task: {instruction: hi}
  execution:
    tool_validation:
      - {type: semantic, criteria: x, judge_agent: strict-judge}")")"
assert_match "tool_validation refuses judge agents" 'reviewed by models only' "$(jq -r .error <<<"$r")"
assert_no_managed_containers
