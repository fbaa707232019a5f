#!/bin/bash
# The Prometheus endpoints of aegisd and aegis-nfsd pass `promtool check metrics` (names,
# types, help, label syntax) after real traffic (an execution on a real Podman, a failed
# pull, API errors, an orphaned container and a leaked engine volume that aegisd's start-up
# reconciliation removes; NFS reads), and carry every family operators look for (issue 9).
. "$AEGIS_TEST_LIB/nfs.sh"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd promtool curl jq
[ -x "$AEGISD" ] || skip_or_fail "aegisd not built"
make_scratch

# aegisd on a private Podman: one execution completes, one fails pulling from a registry
# that does not exist, and the API sees a 404; then every family issue 9 lists is there.
podman_start
# What a killed daemon leaves behind: its store, a container of an execution the store does
# not know, and an engine volume of no execution. aegisd's start-up reconciliation removes
# both (on a store without a schema before it, it would refuse: reaper-refuses-a-new-store).
mkdir -p "$SCRATCH/aegisd-a/state"
"$top_builddir/tests/helpers/reaper-fixture" "sqlite://$SCRATCH/aegisd-a/state/aegis.db" schema >/dev/null ||
        fail "creating the daemon's store"
orphan_eid="$(cat /proc/sys/kernel/random/uuid)" leaked="aegis-vol-$(cat /proc/sys/kernel/random/uuid)"
podman_cmd create --name metrics-orphan --label aegis.managed=true --label aegis.execution_id="$orphan_eid" \
        "$TEST_IMAGE" true >/dev/null || fail "podman create metrics-orphan"
podman_cmd volume create "$leaked" >/dev/null || fail "podman volume create $leaked"
aegisd_start a "reaper:
  grace_secs: 0"
gone() { local kind="$1" name="$2"; ! podman_cmd "$kind" exists "$name"; }
check "the start-up reconciliation removed the orphaned container" gone container metrics-orphan
check "the start-up reconciliation removed the leaked engine volume" gone volume "$leaked"
mport="$(sed -n 's/^  metrics_listen: "127.0.0.1:\([0-9]*\)"/\1/p' "$SCRATCH/aegisd-a/config.yaml")"
ok="$(aegis submit "$(manifest metrics-ok 'echo fine')")"
sed -e 's|image: .*|image: 127.0.0.1:9/aegis/missing:latest|' -e 's|image_pull_policy: Never|image_pull_policy: Always|' \
        "$(manifest metrics-pull 'echo never')" >"$SCRATCH/pull.yaml"
pull="$(aegis submit "$SCRATCH/pull.yaml")"
wait_status "$ok" completed 60 || fail "the execution did not complete: $(api GET "/v1/executions/$ok")"
wait_status "$pull" failed 60 || fail "the pull did not fail: $(api GET "/v1/executions/$pull")"
curl -s -o /dev/null "$AEGIS_URL/health/ready"
curl -s -o /dev/null "$AEGIS_URL/no/such/path"

curl -sf "http://127.0.0.1:$mport/metrics" >"$SCRATCH/aegisd.prom" || fail "GET /metrics on aegisd failed"
out="$(promtool check metrics <"$SCRATCH/aegisd.prom" 2>&1)"; rc=$?
assert_eq "aegisd exposition passes promtool (output: $out)" 0 "$rc"
prom="$(cat "$SCRATCH/aegisd.prom")"
family() { assert_match "aegisd declares $1 ($2)" "(^|"$'\n'")# TYPE $1 $2("$'\n'"|$)" "$prom"; }
series() { assert_match "aegisd exposes $1" "(^|"$'\n'")$1 [0-9]" "$prom"; }
family aegis_executions_total counter
family aegis_execution_active gauge
family aegis_execution_duration_seconds histogram
family aegis_iterations_total counter
family aegis_container_operations_total counter
family aegis_container_operation_duration_seconds histogram
family aegis_image_pulls_total counter
family aegis_api_requests_total counter
family aegis_api_connections gauge
family aegis_build_info gauge
family aegis_reaper_containers_total counter
family aegis_reaper_engine_volumes_total counter
for f in process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes \
        process_open_fds process_max_fds process_start_time_seconds; do
        series "$f"
done
series 'aegis_executions_total\{status="completed"\}'
series 'aegis_executions_total\{status="failed"\}'
series 'aegis_execution_active'
series 'aegis_execution_duration_seconds_count'
series 'aegis_iterations_total\{result="succeeded"\}'
for op in image create start remove; do
        series "aegis_container_operations_total\\{op=\"$op\",result=\"ok\"\\}"
        series "aegis_container_operation_duration_seconds_count\\{op=\"$op\"\\}"
done
series 'aegis_image_pulls_total\{result="error"\}'
assert_eq "aegis_reaper_containers_total{action=\"removed\"} counts the orphan" 1 \
        "$(awk '$1 == "aegis_reaper_containers_total{action=\"removed\"}" {print $2}' "$SCRATCH/aegisd.prom")"
assert_eq "aegis_reaper_containers_total{action=\"failed\"} is 0" 0 \
        "$(awk '$1 == "aegis_reaper_containers_total{action=\"failed\"}" {print $2}' "$SCRATCH/aegisd.prom")"
assert_eq "aegis_reaper_engine_volumes_total{action=\"removed\"} counts the leaked volume" 1 \
        "$(awk '$1 == "aegis_reaper_engine_volumes_total{action=\"removed\"}" {print $2}' "$SCRATCH/aegisd.prom")"
check "no successful pull counted (the test image is local)" bash -c "! grep -q 'aegis_image_pulls_total{result=\"ok\"}' '$SCRATCH/aegisd.prom'"
series 'aegis_api_requests_total\{code="404"\}'
series 'aegis_api_requests_total\{code="202"\}'
assert_match "aegisd exposes aegis_build_info" '(^|'$'\n'')aegis_build_info\{[^}]*version="' "$prom"
assert_eq "the metrics socket does not serve the API" 404 \
        "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/health")"

# aegis-nfsd after a client listed and read a volume.
nfs_require
nfs_setup
nfs_volume t1 v1 "$(id -u)" "$(id -g)" 0 read-write active
echo hello >"$NFS_ROOT/t1/v1/f"
nfsd_start --seccomp=off
nfs-cat "$(nfs_file_url t1 v1 /f)" >/dev/null 2>&1 || fail "nfs-cat through the gateway failed"
curl -sf "http://127.0.0.1:$NFS_METRICS_PORT/metrics" >"$SCRATCH/nfsd.prom" || fail "GET /metrics on aegis-nfsd failed"
out="$(promtool check metrics <"$SCRATCH/nfsd.prom" 2>&1)"; rc=$?
assert_eq "aegis-nfsd exposition passes promtool (output: $out)" 0 "$rc"
assert_match "aegis-nfsd counts READ operations" 'aegis_nfs_operations_total\{[^}]*procedure="read"' "$(cat "$SCRATCH/nfsd.prom")"
assert_match "aegis-nfsd counts bytes read" 'aegis_nfs_bytes_read_total [1-9]' "$(cat "$SCRATCH/nfsd.prom")"
finish
