#!/bin/bash
# The answer does not wait for cleanup (issue 18): an execution is completed — status, output,
# execution_finished event — once its container exited and its output was read, while the
# container is still being removed; the removal still happens. And if aegisd dies between
# the answer and the removal (held off here by AEGIS_TEST_CLEANUP_DELAY_MSEC), nothing
# leaks: the reaper removes the container of the ended execution, and so does a restarted
# aegisd's start-up reconciliation.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
grace="reaper:
  grace_secs: 0"
export AEGIS_TEST_CLEANUP_DELAY_MSEC=4000
aegisd_start a "$grace"

m="$(manifest answer 'echo answered $AEGIS_EXECUTION_ID')"
containers_of() { podman_cmd ps -a --filter "label=aegis.execution_id=$1" --format '{{.ID}}'; }

# 1. Completed while the container still exists; removed afterwards.
id="$(aegis submit "$m")"
wait_status "$id" completed 60 || fail "not completed: $(api GET "/v1/executions/$id")"
check "completed while its container still exists" test -n "$(containers_of "$id")"
assert_eq "the output is there already" "answered $id" "$(execution_field "$id" .output | tr -d '\n')"
assert_eq "and the execution_finished event" completed \
        "$(curl -s -N --max-time 10 "$AEGIS_URL/v1/executions/$id/events" | sed -n 's/^data: //p' |
                jq -r 'select(.type == "execution_finished") | .status')"
assert_eq "cancelling it now is 409: it ended" 409 "$(api_status POST "/v1/executions/$id/cancel")"
gone() { [ -z "$(containers_of "$1")" ]; }
check "the container is removed after the answer" wait_for 30 gone "$id"

# 2. aegisd dies after the answer, before the removal: the reaper removes the container.
id="$(aegis submit "$m")"
wait_status "$id" completed 60 || fail "not completed: $(api GET "/v1/executions/$id")"
aegisd_kill9 a
check "the container outlived the killed aegisd" test -n "$(containers_of "$id")"
"$AEGIS_REAPER" --config "$SCRATCH/aegisd-a/config.yaml" >"$SCRATCH/reaper.out" 2>&1 ||
        fail "the reaper failed: $(cat "$SCRATCH/reaper.out")"
check "the reaper removed it" gone "$id"

# 3. The same, and a restarted aegisd removes it at start.
aegisd_start a "$grace"
id="$(aegis submit "$m")"
wait_status "$id" completed 60 || fail "not completed: $(api GET "/v1/executions/$id")"
aegisd_kill9 a
check "the container outlived the killed aegisd" test -n "$(containers_of "$id")"
unset AEGIS_TEST_CLEANUP_DELAY_MSEC
aegisd_start a "$grace"
check "the restarted aegisd removed it" wait_for 30 gone "$id"
assert_eq "the execution stays completed" completed "$(execution_field "$id" .status)"
assert_no_managed_containers
finish
