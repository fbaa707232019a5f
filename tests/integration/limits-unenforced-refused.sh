#!/bin/bash
# Limits that hold, or a refusal (issue 19). aegisd asks the engine (GET /libpod/info) what
# it can enforce. On this host's real Podman (rootful) the memory limit of a container holds
# and /health/ready's "limits" is ok. The real engine here cannot show the refusal, so an
# engine that cannot enforce limits (rootless on cgroup v1) is shown by a proxy in front of
# the same real Podman that rewrites only /libpod/info (tests/lib/engine-info-proxy.py):
# /health/ready fails naming the fix (the delegation drop-in), a submission is 503 with the
# fix and creates nothing; with runtime.allow_unenforced_limits: true it runs, and the
# execution carries a warning (the 202's warnings and a limits_unenforced event).
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq python3
podman_start

# The real engine: limits hold.
aegisd_start real
ready="$(curl -s "$AEGIS_URL/health/ready")"
assert_eq "real engine: limits ok" true "$(jq -r .dependencies.limits.ok <<<"$ready")"
m="$(manifest capped 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes' "  resources:
    memory_bytes: 67108864")"
id="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$m" | jq -r .execution_id)"
wait_status "$id" completed 60 || fail "the capped execution did not complete: $(execution_field "$id" .reason)"
assert_eq "the container's memory limit is the manifest's" 67108864 "$(execution_field "$id" .output | tr -d '[:space:]')"
aegisd_stop real

# An engine that cannot enforce them: rootless Podman on cgroup v1.
python3 "$AEGIS_TEST_LIB/engine-info-proxy.py" "$SCRATCH/proxy.sock" "$PODMAN_SOCK" true v1 \
        cpuset,cpu,cpuacct,blkio,memory,devices,freezer,pids &
proxy=$!
on_exit "kill $proxy"
wait_for 10 test -S "$SCRATCH/proxy.sock" || fail "the proxy did not start"
PODMAN_SOCK="$SCRATCH/proxy.sock" aegisd_start refusing
status="$(curl -s -o "$SCRATCH/ready" -w '%{http_code}' "$AEGIS_URL/health/ready")"
assert_eq "unenforced: /health/ready 503" 503 "$status"
assert_eq "unenforced: limits not ok" false "$(jq -r .dependencies.limits.ok "$SCRATCH/ready")"
assert_match "unenforced: says which limits and the fix" \
        "memory, pids, cpu.*cgroup v1.*50-aegis-delegate.conf.*allow_unenforced_limits" \
        "$(jq -r .dependencies.limits.error "$SCRATCH/ready")"
assert_eq "unenforced: podman itself ok" true "$(jq -r .dependencies.podman.ok "$SCRATCH/ready")"
m="$(manifest refused 'echo never')"
status="$(curl -s -o "$SCRATCH/submit" -w '%{http_code}' -X POST "$AEGIS_URL/v1/executions" \
        -H 'Content-Type: application/yaml' --data-binary @"$m")"
assert_eq "unenforced: a submission is 503" 503 "$status"
assert_match "unenforced: with the fix" "memory, pids, cpu would not hold.*Delegate=cpu cpuset io memory pids" \
        "$(jq -r .error "$SCRATCH/submit")"
assert_eq "unenforced: nothing was created" 0 "$(api GET /v1/executions | jq '.executions | length')"
assert_eq "unenforced: no container" "" "$(podman_managed_ids)"
check "unenforced: the start-up log says so" grep -q "does not enforce these limits.*memory, pids, cpu" \
        "$SCRATCH/aegisd-refusing/aegisd.log"
doctor="$("$AEGIS_CLI" doctor --output json --config "$SCRATCH/aegisd-refusing/config.yaml" 2>/dev/null)"
assert_eq "unenforced: aegis doctor fails engine-limits" fail \
        "$(jq -r '.checks[] | select(.name == "engine-limits") | .verdict' <<<"$doctor")"
assert_match "unenforced: aegis doctor gives the fix" "50-aegis-delegate.conf" \
        "$(jq -r '.checks[] | select(.name == "engine-limits") | .fix' <<<"$doctor")"
aegisd_stop refusing

# The operator accepts it: the execution runs and carries the warning.
PODMAN_SOCK="$SCRATCH/proxy.sock" AEGIS_RUNTIME_EXTRA="  allow_unenforced_limits: true" aegisd_start allowing
assert_eq "allowed: /health/ready limits ok" true "$(curl -s "$AEGIS_URL/health/ready" | jq -r .dependencies.limits.ok)"
m="$(manifest allowed 'echo ran')"
answer="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$m")"
id="$(jq -r .execution_id <<<"$answer")"
assert_match "allowed: the 202 carries the warning" "limits not enforced by this engine: memory, pids, cpu" \
        "$(jq -r '.warnings | join(" ")' <<<"$answer")"
wait_status "$id" completed 60 || fail "the allowed execution did not complete: $(execution_field "$id" .reason)"
events="$(curl -s --max-time 5 "$AEGIS_URL/v1/executions/$id/events")"
assert_match "allowed: a limits_unenforced event names the limits" 'limits_unenforced.*"limits": *"memory, pids, cpu"' \
        "$(tr -d '\n' <<<"$events")"
finish
