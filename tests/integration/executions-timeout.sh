#!/bin/bash
# iteration_timeout kills a `sleep 600` container: the iteration and the execution say
# `timeout`, it takes seconds not minutes, and the container is removed.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start

m="$(manifest sleeper 'sleep 600' '  execution:
    max_iterations: 1
    iteration_timeout: 2s')"
start=$(date +%s)
aegis -q run "$m" >/dev/null
rc=$?
took=$(( $(date +%s) - start ))
assert_eq "aegis run exits 1 (failed)" 1 "$rc"
check "killed within seconds (took ${took}s)" test "$took" -lt 30
id="$(aegis list --output json | jq -r '.executions[0].id')"
ex="$(api GET "/v1/executions/$id")"
assert_eq "execution failed" failed "$(jq -r .status <<<"$ex")"
assert_match "execution reason names the timeout" 'timeout' "$(jq -r .reason <<<"$ex")"
assert_eq "iteration reason timeout" timeout "$(jq -r '.iterations[0].reason' <<<"$ex")"

# The overall timeout (timeout_secs) kills the running container itself: iteration 1 fails
# after 10 s, so iteration 2 starts at about 11 s with its own iteration_timeout (20 s) ending
# at about 31 s, past the execution's deadline at 20 s. Only the overall timer ends it then;
# the 8 s between 20 and 28 leave room for a loaded machine's kill and removal.
m="$(manifest overall '[ "$AEGIS_ITERATION" = 1 ] && { sleep 10; exit 1; }; sleep 600' '  resources:
    timeout_secs: 20
  execution:
    max_iterations: 5
    iteration_timeout: 20s')"
start_ms=$(( $(date +%s%N) / 1000000 ))
id="$(aegis submit "$m")" || fail "submit failed"
wait_status "$id" failed 60 || fail "overall timeout not enforced: $(api GET "/v1/executions/$id")"
took_ms=$(( $(date +%s%N) / 1000000 - start_ms ))
assert_eq "overall timeout: reason timeout" timeout "$(execution_field "$id" .reason)"
check "overall timeout: ended at the execution's deadline, before iteration 2's own (took ${took_ms} ms)" \
        test "$took_ms" -lt 28000
n="$(execution_field "$id" '.iterations | length')"
assert_eq "overall timeout: killed during iteration 2" 2 "$n"
assert_eq "overall timeout: iteration 2's reason is timeout" timeout "$(execution_field "$id" '.iterations[1].reason')"
assert_no_managed_containers
finish
