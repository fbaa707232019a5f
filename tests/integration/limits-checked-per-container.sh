#!/bin/bash
# The limits of each created container are checked (issue 19): after the create aegisd
# inspects the container and compares its memory, pids and cpu limits with the manifest's.
#  - On this host's real, rootful Podman they hold: a capped execution completes, with no
#    limits_unenforced event.
#  - An engine that says it enforces every limit but drops one from the container it creates
#    (the real Podman behind tests/lib/engine-info-proxy.py, which zeroes HostConfig.Memory
#    in inspect answers) has the iteration refused: the execution fails naming the limit and
#    the fix, and the container is removed.
#  - With runtime.allow_unenforced_limits: true the same execution runs and carries a
#    limits_unenforced event naming the memory limit.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq python3
podman_start
capped() {
        manifest "$1" 'echo ran' "  resources:
    memory_bytes: 67108864
    pids_limit: 64"
}

# ---- the real engine: the limits hold ----
aegisd_start real
id="$(aegis -q submit "$(capped real)")"
wait_status "$id" completed 60 || fail "the capped execution did not complete: $(execution_field "$id" .reason)"
events="$(curl -s --max-time 5 "$AEGIS_URL/v1/executions/$id/events")"
check "no limits_unenforced event on an engine that applies them" bash -c "! grep -q limits_unenforced <<<'$events'"
aegisd_stop real

# ---- an engine that drops the memory limit from the container ----
python3 "$AEGIS_TEST_LIB/engine-info-proxy.py" "$SCRATCH/proxy.sock" "$PODMAN_SOCK" false v1 \
        cpuset,cpu,cpuacct,blkio,memory,devices,freezer,pids Memory &
proxy=$!
on_exit "kill $proxy"
wait_for 10 test -S "$SCRATCH/proxy.sock" || fail "the proxy did not start"
PODMAN_SOCK="$SCRATCH/proxy.sock" aegisd_start refusing
id="$(aegis -q submit "$(capped refused)")"
wait_status "$id" failed 60 || fail "the execution was not refused: $(api GET "/v1/executions/$id")"
reason="$(api GET "/v1/executions/$id" | jq -r '[.iterations[].reason, .reason] | map(select(. != null)) | join(" ")')"
assert_match "the iteration is refused naming the limit and the fix" \
        "limits: the engine did not apply these limits to container [0-9a-f]+: memory .*allow_unenforced_limits" "$reason"
check "the agent never ran" test "$(execution_field "$id" '.output // empty' | tr -d '[:space:]')" != ran
assert_no_managed_containers
aegisd_stop refusing

# ---- the operator accepts it: the execution runs and says which limit did not hold ----
PODMAN_SOCK="$SCRATCH/proxy.sock" AEGIS_RUNTIME_EXTRA="  allow_unenforced_limits: true" aegisd_start allowing
id="$(aegis -q submit "$(capped allowed)")"
wait_status "$id" completed 60 || fail "the allowed execution did not complete: $(execution_field "$id" .reason)"
events="$(curl -s --max-time 5 "$AEGIS_URL/v1/executions/$id/events")"
assert_match "a limits_unenforced event names the memory limit" 'limits_unenforced.*"limits": *"memory"' \
        "$(tr -d '\n' <<<"$events")"
check "the journal line says so" grep -q "did not apply these limits to container .*: memory; running anyway" \
        "$SCRATCH/aegisd-allowing/aegisd.log"
finish
