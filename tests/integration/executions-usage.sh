#!/bin/bash
# What an iteration used (issue 17): an iteration that holds 64 MiB and spins a CPU for a few
# seconds shows both in its record (GET /v1/executions/ID iterations[].usage, `aegis show`),
# in the iteration_usage event and in the metrics.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start

# awk doubles a string to 64 MiB, then spins until 4 s have passed (busybox awk has systime()).
m="$(manifest hog 'awk "BEGIN { s = \"x\"; while (length(s) < 67108864) s = s s; t = systime(); while (systime() - t < 4) n++; print length(s) }"' '  resources:
    memory_bytes: 536870912
  execution:
    max_iterations: 1
    iteration_timeout: 60s')"
aegis -q run "$m" >/dev/null
assert_eq "aegis run exits 0" 0 "$?"
id="$(aegis list --output json | jq -r '.executions[0].id')"
ex="$(api GET "/v1/executions/$id")"
u="$(jq -c '.iterations[0].usage' <<<"$ex")"
echo "usage: $u"
[ "$(jq -r .samples <<<"$u")" -ge 2 ] || fail "fewer than 2 stats readings in 4 s: $u"
if [ "$(jq -r .known <<<"$u")" != true ]; then
        skip_or_fail "the engine reads only zeros here (no cgroup delegation): $u"
fi
cpu="$(jq -r .cpu_seconds <<<"$u")"
mem="$(jq -r .memory_peak_bytes <<<"$u")"
assert_eq "the spin shows as CPU time (≥ 2 s)" 1 "$(awk -v c="$cpu" 'BEGIN { print (c >= 2) }')"
[ "$mem" -ge $((64 * 1024 * 1024)) ] || fail "memory peak $mem below 64 MiB: $u"
[ "$(jq -r .pids_peak <<<"$u")" -ge 1 ] || fail "no pids peak: $u"
assert_eq "not OOM-killed" false "$(jq -r .oom_killed <<<"$u")"

# The event stream (SSE, replayed for a finished execution) carries the same readings.
ev="$(curl -s --max-time 10 "$AEGIS_URL/v1/executions/$id/events" | grep -m1 '"iteration_usage"\|memory_peak_bytes' || true)"
assert_match "an iteration_usage event with the memory peak" "\"memory_peak_bytes\": ?$mem" "$ev"
out="$(aegis show "$id")"
echo "$out"
assert_match "aegis show has the usage line" 'iteration 1: cpu [0-9.]+ s, memory peak [0-9.]+ MiB, pids peak [0-9]+' "$out"

# And the metrics observed it.
mport="$(sed -n 's/^  metrics_listen: "127.0.0.1:\([0-9]*\)"/\1/p' "$SCRATCH/aegisd-a/config.yaml")"
metrics="$(curl -s "http://127.0.0.1:$mport/metrics")"
assert_match "CPU histogram observed one iteration" 'aegis_iteration_cpu_seconds_count 1' "$metrics"
assert_match "memory histogram observed one iteration" 'aegis_iteration_memory_peak_bytes_count 1' "$metrics"
# An iteration shorter than the sampling interval (1 s) still has its numbers: readings come
# right after the start and every 200 ms during the first second (one reading only, 100 ms
# after the start, before).
# awk holds its 8 MiB while it sleeps, so any reading in those 0.8 s sees them (on a loaded
# machine the first may come before the string is built).
m="$(manifest short 'awk "BEGIN { s = \"x\"; while (length(s) < 8388608) s = s s; print length(s); system(\"sleep 0.8\") }"' '  resources:
    memory_bytes: 536870912
  execution:
    max_iterations: 1
    iteration_timeout: 60s')"
t0="$(date +%s%N)"
aegis -q run "$m" >/dev/null
assert_eq "the short iteration completes" 0 "$?"
sid="$(aegis list --output json | jq -r '.executions[0].id')"
su="$(api GET "/v1/executions/$sid" | jq -c '.iterations[0].usage')"
echo "short usage: $su ($(( ($(date +%s%N) - t0) / 1000000 )) ms for the whole execution)"
assert_eq "the short iteration's usage is known" true "$(jq -r .known <<<"$su")"
[ "$(jq -r .samples <<<"$su")" -ge 2 ] || fail "fewer than 2 readings of an iteration under a second: $su"
assert_eq "… with CPU time" 1 "$(jq -r '.cpu_seconds > 0' <<<"$su" | grep -c true)"
[ "$(jq -r '.memory_peak_bytes // 0' <<<"$su")" -ge $((4 * 1024 * 1024)) ] || fail "the short iteration's 8 MiB do not show: $su"
# A cancelled iteration gets a last reading before the kill. With readings 30 s apart after
# the first second, only that one can see the 16 MiB the agent holds from its 3rd second on.
aegisd_stop a
AEGIS_RUNTIME_EXTRA="  stats_interval_secs: 30" aegisd_start b
m="$(manifest late 'sleep 3; awk "BEGIN { s = \"x\"; while (length(s) < 16777216) s = s s; print \"grown\"; fflush(); system(\"sleep 120\") }"' '  resources:
    memory_bytes: 536870912
  execution:
    max_iterations: 1
    iteration_timeout: 300s')"
lid="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$m" | jq -r .execution_id)"
wait_for 60 sh -c "curl -s '$AEGIS_URL/v1/executions/$lid/logs' | grep -q grown" ||
        fail "the late allocation never printed: $(api GET "/v1/executions/$lid")"
api POST "/v1/executions/$lid/cancel" >/dev/null
wait_for 30 sh -c "curl -s '$AEGIS_URL/v1/executions/$lid' | jq -e '.status == \"cancelled\"' >/dev/null" ||
        fail "the execution was not cancelled: $(api GET "/v1/executions/$lid")"
lu="$(api GET "/v1/executions/$lid" | jq -c '.iterations[0].usage')"
echo "cancelled usage: $lu"
[ "$(jq -r '.memory_peak_bytes // 0' <<<"$lu")" -ge $((16 * 1024 * 1024)) ] ||
        fail "the last reading before the kill did not see the 16 MiB: $lu"
assert_no_managed_containers
finish
