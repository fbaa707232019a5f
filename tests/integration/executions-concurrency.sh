#!/bin/bash
# 50 executions at once all complete, each in its own container, while /health keeps
# answering quickly throughout (nothing blocks the event loop); with max_concurrent (20)
# below the load the rest queue as pending, no more than 20 containers ever exist at once,
# and all still complete.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
AEGIS_RUNTIME_EXTRA="  max_concurrent: 20" aegisd_start

m="$(manifest burst 'sleep 2; echo done $AEGIS_EXECUTION_ID')"
body="$(jq -Rs '{manifest: .}' "$m")"
ids=()
for i in $(seq 50); do
        ids+=("$(api POST /v1/executions -H 'Content-Type: application/json' -d "$body" | jq -r .execution_id)")
done
check "50 executions accepted" test "$(printf '%s\n' "${ids[@]}" | grep -c '^[0-9a-f-]\{36\}$')" = 50

pending_at_start="$(api GET '/v1/executions?status=pending&limit=100' | jq '.executions | length')"
check "past max_concurrent the rest wait as pending ($pending_at_start pending)" test "$pending_at_start" -gt 0
slow=0 probes=0 max_ms=0 max_live=0
deadline=$(( $(date +%s) + 600 ))
while [ "$(date +%s)" -lt "$deadline" ]; do
        t="$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "$AEGIS_URL/health")"
        probes=$((probes + 1))
        ms="$(awk '{printf "%d", $2 * 1000}' <<<"$t")"
        [ "${t%% *}" = 200 ] && [ "$ms" -lt 1000 ] || slow=$((slow + 1))
        [ "$ms" -gt "$max_ms" ] && max_ms=$ms
        live="$(podman_managed_ids | grep -c . || true)"
        [ "$live" -gt "$max_live" ] && max_live=$live
        done_n="$(api GET '/v1/executions?status=completed&limit=100' | jq '.executions | length')"
        [ "$done_n" = 50 ] && break
        sleep 0.2
done
note "health probes: $probes, slowest ${max_ms} ms, most containers at once $max_live"
check "never more than max_concurrent containers at once ($max_live)" test "$max_live" -le 20
assert_eq "all 50 completed" 50 "$(api GET '/v1/executions?status=completed&limit=100' | jq '.executions | length')"
assert_eq "/health answered every probe within 1 s" 0 "$slow"
assert_eq "no failed execution" 0 "$(api GET '/v1/executions?status=failed&limit=100' | jq '.executions | length')"
one=0
for id in "${ids[@]}"; do
        [ "$(execution_field "$id" '[.iterations[].container_id] | map(select(. != null)) | length')" = 1 ] && one=$((one + 1))
done
assert_eq "each execution ran in exactly one container of its own" 50 "$one"
all="$(for id in "${ids[@]}"; do execution_field "$id" '.iterations[0].container_id'; done | sort -u | grep -c .)"
assert_eq "50 distinct containers" 50 "$all"
assert_no_managed_containers
finish
