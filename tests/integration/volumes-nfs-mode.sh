#!/bin/bash
# Volumes of executions in storage.mount_mode nfs (the default), on real Podman and a real
# aegis-nfsd sharing aegisd's store. There is no kernel NFS client on these machines, so the
# containers cannot start; what is checked is what the runtime asks the engine for:
#  - each volume is an engine volume aegis-vol-<id>[-ro], driver local, with exactly the
#    options aegis-volumes(7) documents (type=nfs, o=addr=…,port=…,mountport=…,…[,ro],
#    device=<host>:/<tenant>/<id>/<token>, the host in the device as Podman's mount.nfs
#    needs it, the token the gateway's), mounted by name at the manifest's mount_path;
#  - a stale engine volume of that name (other options) is replaced, not reused;
#  - the engine volumes go with the container;
#  - the export the options point at serves the volume: a libnfs client mounting exactly the
#    device= path (from a reserved port, as the kernel) reads through the gateway what was
#    written into the volume's directory, and the directory holds what the client wrote;
#    the same path without its token, or with another volume's, does not mount.
# aegisd and the gateway share a state directory (as the packaged units do): the mount key.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/nfs.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq sqlite3
nfs_require
podman_start
ROOT="$SCRATCH/storage"
DB="$SCRATCH/aegis.db"
NFS_PORT="$(free_port)"
mkdir -p "$ROOT"
cat >"$SCRATCH/nfsd.yaml" <<YAML
storage:
  root: "$ROOT"
  nfs_listen_addr: "127.0.0.1:$NFS_PORT"
database:
  url: "sqlite://$DB"
YAML
nfsd_start_config "$SCRATCH/nfsd.yaml" "$SCRATCH/aegisd-a/state"

AEGIS_DATABASE_URL="sqlite://$DB" aegisd_start a "storage:
  root: \"$ROOT\"
  nfs_listen_addr: \"127.0.0.1:$NFS_PORT\"
  nfs_server_host: 127.0.0.1"

# A standalone volume, and a stale engine volume carrying its engine name.
assert_eq "standalone volume created" 201 \
        "$(api_status POST /v1/volumes -H 'Content-Type: application/json' -d '{"name":"shared"}')"
V="$(api GET /v1/volumes | jq -r '.volumes[] | select(.name == "shared") | .id')"
podman_cmd volume create --label stale=yes -o type=nfs -o o=addr=192.0.2.1,nfsvers=4 -o device=:/elsewhere "aegis-vol-$V" >/dev/null ||
        fail "cannot create the stale engine volume"

m="$(manifest nfs-mounts 'echo never runs here' "    keep_container_on_failure: true
  execution:
    max_iterations: 1
  volumes:
    - name: in
      mount_path: /workspace
      volume_id: $V
    - name: notes
      mount_path: /workspace/notes
      access_mode: read-only
      storage_class: persistent")"
resp="$(api POST /v1/executions -H 'Content-Type: application/json' -d "$(jq -n --rawfile m "$m" '{manifest: $m}')")"
id="$(jq -r .execution_id <<<"$resp")"
assert_match "submitted ($resp)" '^[0-9a-f-]{36}$' "$id"
wait_status "$id" failed 120 || fail "execution did not fail (no NFS client here): $(api GET "/v1/executions/$id")"
note "iteration 1 reason: $(execution_field "$id" '.iterations[0].reason')"
N="$(api GET /v1/volumes | jq -r --arg x "$id" '.volumes[] | select(.owner_execution_id == $x) | .id')"
assert_match "the execution's own volume exists" '^[0-9a-f-]{36}$' "$N"

ctr="$(podman_cmd ps -a --filter "label=aegis.execution_id=$id" --format '{{.ID}}')"
check "the failed container was kept (keep_container_on_failure)" test -n "$ctr"
mounts="$(podman_cmd container inspect "$ctr" | jq -c '[.[0].Mounts[] | select(.Type == "volume") | {Type, Name, Destination, Driver, RW}] | sort_by(.Destination)')"
assert_eq "the container mounts both engine volumes by name" \
        "[{\"Type\":\"volume\",\"Name\":\"aegis-vol-$V\",\"Destination\":\"/workspace\",\"Driver\":\"local\",\"RW\":true},{\"Type\":\"volume\",\"Name\":\"aegis-vol-$N-ro\",\"Destination\":\"/workspace/notes\",\"Driver\":\"local\",\"RW\":false}]" \
        "$mounts"
assert_eq "… and its input, read-only from its inbox (run-inbox.h)" '[{"Destination":"/run/aegis/input.json","RW":false}]' \
        "$(podman_cmd container inspect "$ctr" | jq -c '[.[0].Mounts[] | select(.Type == "bind") | {Destination, RW}]')"
opts() { podman_cmd volume inspect "$1" | jq -c '.[0].Options'; }
assert_eq "read-write volume: exactly the documented options" \
        "{\"device\":\"127.0.0.1:$(nfs_export_path default "$V")\",\"o\":\"addr=127.0.0.1,nfsvers=3,proto=tcp,port=$NFS_PORT,mountport=$NFS_PORT,soft,timeo=10,nolock\",\"type\":\"nfs\"}" \
        "$(opts "aegis-vol-$V" | jq -cS .)"
assert_eq "read-only volume: the same plus ro" \
        "{\"device\":\"127.0.0.1:$(nfs_export_path default "$N")\",\"o\":\"addr=127.0.0.1,nfsvers=3,proto=tcp,port=$NFS_PORT,mountport=$NFS_PORT,soft,timeo=10,nolock,ro\",\"type\":\"nfs\"}" \
        "$(opts "aegis-vol-$N-ro" | jq -cS .)"
assert_eq "the stale engine volume was replaced, not reused" "null $V $id" \
        "$(podman_cmd volume inspect "aegis-vol-$V" | jq -r '.[0].Labels | [.stale, .["aegis.volume_id"], .["aegis.execution_id"]] | map(tostring) | join(" ")')"

# The export those options name serves the volume (libnfs stands in for the kernel client):
# the device= of the engine volume, host and path, as mount.nfs would take it.
device_url() {
        local d
        d="$(podman_cmd volume inspect "$1" | jq -r '.[0].Options.device')"
        echo "nfs://${d%%:*}${d#*:}?version=3&nfsport=$NFS_PORT&mountport=$NFS_PORT"
}
url() { nfs_url "$@"; }
assert_match "the engine volume's device= mounts" '^OK ' "$(nfs_client "$(device_url "aegis-vol-$V")" stat /)"
assert_match "the same path without its token does not" 'MNT3ERR_ACCES' "$(nfs_client "$(nfs_bare_url default "$V")" stat / 2>&1)"
tok_n="$(basename "$(nfs_export_path default "$N")")"
assert_match "nor with another volume's token" 'MNT3ERR_ACCES' \
        "$(nfs_client "nfs://127.0.0.1/default/$V/$tok_n?version=3&nfsport=$NFS_PORT&mountport=$NFS_PORT" stat / 2>&1)"
echo "written by the operator" >"$ROOT/default/$V/from-api.txt"
sleep 0.6
assert_eq "the gateway serves what was written into the volume" "OK written by the operator" \
        "$(nfs_client "$(url default "$V")" cat /from-api.txt)"
check "a client writes through the gateway" nfs_client "$(url default "$V")" write /from-nfs.txt hello
own="$((1879048192 + 1000))" # the default agent's uid in its own user namespace
assert_eq "and it lands in the volume's directory, owned by the volume's uid:gid" "hello $own:$own" \
        "$(cat "$ROOT/default/$V/from-nfs.txt") $(stat -c %u:%g "$ROOT/default/$V/from-nfs.txt")"
assert_match "the read-only volume refuses writes over NFS" 'ROFS' "$(nfs_client "$(url default "$N")" write /x y)"
assert_match "another tenant's path to it does not mount" 'MNT3ERR_NOENT' "$(nfs_client "$(url globex "$V")" stat /)"

# Without keep_container_on_failure the engine volumes go with the container.
podman_cmd rm -f "$ctr" >/dev/null
podman_cmd volume rm -f "aegis-vol-$V" "aegis-vol-$N-ro" >/dev/null
m="$(manifest nfs-cleanup 'echo never runs here' "  execution:
    max_iterations: 2
  volumes:
    - name: in
      mount_path: /workspace
      volume_id: $V")"
id2="$(api POST /v1/executions -H 'Content-Type: application/json' \
        -d "$(jq -n --rawfile m "$m" '{manifest: $m}')" | jq -r .execution_id)"
wait_status "$id2" failed 120 || fail "second execution did not fail: $(api GET "/v1/executions/$id2")"
assert_eq "both iterations ran (each with a fresh engine volume)" 2 "$(execution_field "$id2" '.iterations | length')"
no_engine_volumes() { [ -z "$(podman_cmd volume ls -q --filter name=aegis-vol-)" ]; }
wait_for 30 no_engine_volumes # released after the answer, with the container
assert_eq "no engine volume is left" "" "$(podman_cmd volume ls -q --filter name=aegis-vol-)"
assert_no_managed_containers
finish
