#!/bin/bash
# kill -9 of aegisd mid-execution, then a restart: the new process re-attaches to the
# container that still runs and the execution completes; if the container vanished while
# aegisd was down, that iteration fails (container_lost) and the loop goes on; if it
# finished while aegisd was down, longer ago than reaper.grace_secs, its output is still
# read and judged (the start-up pass leaves this node's own executions to the re-attach).
# Either way the execution reaches a defined end and no container is left.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start

# 1. The container outlives the crash: re-attach and complete.
m="$(manifest survivor 'sleep 6; echo survived')"
id="$(aegis submit "$m")"
wait_for 30 bash -c "curl -s $AEGIS_URL/v1/executions/$id | jq -e '.iterations[0].container_id != null'" ||
        fail "never got a container"
sleep 1
aegisd_kill9 a
check "its container still runs while aegisd is down" test -n "$(podman_managed_ids)"
aegisd_start
wait_status "$id" completed 60 || fail "not completed after restart: $(api GET "/v1/executions/$id")"
assert_eq "re-attached output" survived "$(execution_field "$id" .output)"
assert_eq "still one iteration" 1 "$(execution_field "$id" '.iterations | length')"
check "re-attach event recorded" bash -c "curl -s -N --max-time 5 $AEGIS_URL/v1/executions/$id/events | grep -q container_reattached"
assert_no_managed_containers

# 2. The container disappears while aegisd is down: iteration fails, next one runs.
m="$(manifest vanishing 'if [ "$AEGIS_ITERATION" = 1 ]; then sleep 600; fi; echo second' '  execution:
    max_iterations: 2')"
id="$(aegis submit "$m")"
wait_for 30 bash -c "curl -s $AEGIS_URL/v1/executions/$id | jq -e '.iterations[0].container_id != null'" ||
        fail "never got a container"
sleep 1
aegisd_kill9 a
podman_cmd rm -f -t 0 $(podman_managed_ids) >/dev/null
aegisd_start
wait_status "$id" completed 60 || fail "not completed after restart: $(api GET "/v1/executions/$id")"
assert_eq "iteration 1 lost" container_lost "$(execution_field "$id" '.iterations[0].reason')"
assert_eq "iteration 2 succeeded" succeeded "$(execution_field "$id" '.iterations[1].status')"
assert_no_managed_containers

# 3. The container finishes while aegisd is down, and aegisd comes back after the grace: the
# start-up reconciliation must not take the container the re-attach is about to read.
grace=$'reaper:\n  grace_secs: 1'
aegisd_kill9 a
aegisd_start a "$grace"
m="$(manifest finisher 'sleep 2; echo "finished-while-down-$AEGIS_ITERATION"')"
id="$(aegis submit "$m")"
wait_for 30 bash -c "curl -s $AEGIS_URL/v1/executions/$id | jq -e '.iterations[0].container_id != null'" ||
        fail "never got a container"
aegisd_kill9 a
exited() { [ -n "$(podman_cmd ps -a --filter label=aegis.execution_id="$id" --filter status=exited -q)" ]; }
wait_for 30 exited || fail "the container never exited"
sleep 3 # past the grace
aegisd_start a "$grace"
wait_status "$id" completed 60 || fail "not completed after restart: $(api GET "/v1/executions/$id")"
assert_eq "the output of a container that ended while aegisd was down" finished-while-down-1 \
        "$(execution_field "$id" .output)"
assert_eq "… in its one iteration" 1 "$(execution_field "$id" '.iterations | length')"
assert_no_managed_containers
finish
