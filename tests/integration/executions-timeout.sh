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

# The overall timeout (timeout_secs) ends the loop even with iterations left, reason timeout.
m="$(manifest overall 'sleep 600' '  resources:
    timeout_secs: 6
  execution:
    max_iterations: 5
    iteration_timeout: 4s')"
id="$(aegis submit "$m")" || fail "submit failed"
wait_status "$id" failed 60 || fail "overall timeout not enforced: $(api GET "/v1/executions/$id")"
assert_eq "overall timeout: reason timeout" timeout "$(execution_field "$id" .reason)"
n="$(execution_field "$id" '.iterations | length')"
check "overall timeout: stopped before max_iterations ($n iterations)" test "$n" -lt 5
assert_no_managed_containers
finish
