#!/bin/bash
# Fail then succeed: iteration 1 exits 3; iteration 2 runs in a fresh container, sees
# /run/aegis/feedback.json with the previous exit code, reason and output tail (and the
# AEGIS_PREVIOUS_* variables) and succeeds. Also the shipped example does the same.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start

m="$(manifest fail-then-ok 'if [ -f /run/aegis/feedback.json ]; then cat /run/aegis/feedback.json; echo; echo "prev=$AEGIS_PREVIOUS_EXIT_CODE it=$AEGIS_ITERATION"; else echo "first try output"; echo oops >&2; exit 3; fi' '  execution:
    max_iterations: 3')"
out="$(aegis -q run "$m")"
assert_eq "aegis run exits 0" 0 "$?"
fb="$(head -1 <<<"$out")"
assert_eq "feedback: previous exit code" 3 "$(jq -r .exit_code <<<"$fb")"
assert_eq "feedback: previous iteration" 1 "$(jq -r .iteration <<<"$fb")"
assert_eq "feedback: reason" "exit code 3" "$(jq -r .reason <<<"$fb")"
assert_match "feedback: stdout tail" 'first try output' "$(jq -r .stdout_tail <<<"$fb")"
assert_match "feedback: stderr tail" 'oops' "$(jq -r .stderr_tail <<<"$fb")"
assert_match "env feedback" 'prev=3 it=2' "$out"

id="$(aegis list --output json | jq -r '.executions[0].id')"
ex="$(api GET "/v1/executions/$id")"
assert_eq "two iterations" "failed succeeded" "$(jq -r '[.iterations[].status] | join(" ")' <<<"$ex")"
c1="$(jq -r '.iterations[0].container_id' <<<"$ex")"
c2="$(jq -r '.iterations[1].container_id' <<<"$ex")"
check "a fresh container per iteration" test "$c1" != "$c2"

out="$(aegis -q run "$top_srcdir/examples/retry-feedback.yaml")"
assert_eq "examples/retry-feedback.yaml completes" 0 "$?"
assert_match "example saw the feedback" 'previous exit code: 3' "$out"
assert_no_managed_containers
finish
