#!/bin/bash
# The Prometheus endpoints of aegisd and aegis-nfsd pass `promtool check metrics` (names,
# types, help, label syntax) after real traffic, and carry the series operators look for.
. "$AEGIS_TEST_LIB/nfs.sh"
require_cmd promtool curl
[ -x "$AEGISD" ] || skip_or_fail "aegisd not built"
make_scratch

# aegisd on free ports, its store in the scratch dir; no Podman needed for /metrics.
api_port="$(free_port)" metrics_port="$(free_port)"
mkdir -p "$SCRATCH/state"
cat >"$SCRATCH/config.yaml" <<YAML
api:
  listen: "127.0.0.1:$api_port"
  metrics_listen: "127.0.0.1:$metrics_port"
runtime:
  container_socket_path: "$SCRATCH/no-podman.sock"
database:
  url: "sqlite://$SCRATCH/state/aegis.db"
YAML
STATE_DIRECTORY="$SCRATCH/state" "$AEGISD" --config "$SCRATCH/config.yaml" >"$SCRATCH/aegisd.log" 2>&1 &
aegisd_pid=$!
on_exit "kill $aegisd_pid 2>/dev/null; wait $aegisd_pid 2>/dev/null"
wait_for 30 curl -sf "http://127.0.0.1:$api_port/health" || fail "aegisd did not start: $(tail -5 "$SCRATCH/aegisd.log")"
curl -s -o /dev/null "http://127.0.0.1:$api_port/health/ready"
curl -s -o /dev/null "http://127.0.0.1:$api_port/no/such/path"

curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$SCRATCH/aegisd.prom" || fail "GET /metrics on aegisd failed"
out="$(promtool check metrics <"$SCRATCH/aegisd.prom" 2>&1)"; rc=$?
assert_eq "aegisd exposition passes promtool (output: $out)" 0 "$rc"
assert_match "aegisd exposes aegis_build_info" '(^|'$'\n'')aegis_build_info\{[^}]*version="' "$(cat "$SCRATCH/aegisd.prom")"
assert_match "aegisd exposes its resident memory" 'process_resident_memory_bytes [0-9]' "$(cat "$SCRATCH/aegisd.prom")"
assert_eq "the metrics socket does not serve the API" 404 \
        "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics_port/health")"

# aegis-nfsd after a client listed and read a volume.
nfs_require
nfs_setup
nfs_volume t1 v1 "$(id -u)" "$(id -g)" 0 read-write active
echo hello >"$NFS_ROOT/t1/v1/f"
nfsd_start --seccomp=off
nfs-cat "nfs://127.0.0.1/t1/v1/f?version=3&nfsport=$NFS_PORT&mountport=$NFS_PORT" >/dev/null 2>&1 || fail "nfs-cat through the gateway failed"
curl -sf "http://127.0.0.1:$NFS_METRICS_PORT/metrics" >"$SCRATCH/nfsd.prom" || fail "GET /metrics on aegis-nfsd failed"
out="$(promtool check metrics <"$SCRATCH/nfsd.prom" 2>&1)"; rc=$?
assert_eq "aegis-nfsd exposition passes promtool (output: $out)" 0 "$rc"
assert_match "aegis-nfsd counts READ operations" 'aegis_nfs_operations_total\{[^}]*procedure="read"' "$(cat "$SCRATCH/nfsd.prom")"
assert_match "aegis-nfsd counts bytes read" 'aegis_nfs_bytes_read_total [1-9]' "$(cat "$SCRATCH/nfsd.prom")"
finish
