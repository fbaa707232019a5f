#!/bin/bash
# With only a configuration file (storage.root, storage.nfs_listen_addr, database.url), the
# gateway serves exactly the volumes the store lists as active: a row added by the runtime
# mounts; another tenant's path or an unknown id does not; a read-only row refuses writes;
# marking the row deleted refuses new mounts and stales the handles already handed out. A
# PostgreSQL registry URL is logged with its password masked (issue 19: secrets in logs).
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
require_cmd sqlite3
make_scratch
NFS_PORT="$(free_port)"
NFS_METRICS_PORT="$(free_port)"
mkdir -p "$SCRATCH/storage" "$SCRATCH/state"
cat >"$SCRATCH/config.yaml" <<YAML
storage:
  root: "$SCRATCH/storage"
  nfs_listen_addr: "127.0.0.1:$NFS_PORT"
database:
  url: "sqlite://$SCRATCH/aegis.db"
YAML
STATE_DIRECTORY="$SCRATCH/state" "$AEGIS_NFSD" --config "$SCRATCH/config.yaml" \
        --metrics-listen "127.0.0.1:$NFS_METRICS_PORT" >>"$SCRATCH/nfsd.log" 2>&1 &
NFS_PID=$!
on_exit "nfsd_kill"
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $NFS_PORT), 1)" ||
        { cat "$SCRATCH/nfsd.log" >&2; fail "aegis-nfsd did not start from the configuration"; }
check "handle key kept under <state>/nfs" test -s "$SCRATCH/state/nfs/handle-key"
check "mount key kept under <state>/nfs, 0600" test "$(stat -c '%a %s' "$SCRATCH/state/nfs/mount-key")" = "600 32"
NFS_KEY_DIR="$SCRATCH/state/nfs"
wait_for 10 sqlite3 "$SCRATCH/aegis.db" "SELECT 1 FROM volumes LIMIT 0" || fail "store schema not created"

vol() { # ID TENANT ACCESS STATUS
        mkdir -p "$SCRATCH/storage/$2/$1"
        sqlite3 "$SCRATCH/aegis.db" "INSERT INTO volumes (id, tenant_id, name, storage_class, access_mode, size_limit, uid, gid, status, created_at)
                VALUES ('$1', '$2', 'ws', 'persistent', '$3', 0, 4242, 4343, '$4', 1)"
}
V1=11111111-2222-4333-8444-555555555555
V2=66666666-2222-4333-8444-555555555555
vol "$V1" acme read-write active
vol "$V2" acme read-only active
echo "from the api" >"$SCRATCH/storage/acme/$V2/file"
sleep 0.6
url() { nfs_url "$1" "$2"; }

check "write to the active volume" nfs_client "$(url acme "$V1")" write /hello hi
assert_eq "on disk, squashed" "hi 4242:4343" "$(cat "$SCRATCH/storage/acme/$V1/hello") $(stat -c %u:%g "$SCRATCH/storage/acme/$V1/hello")"
assert_eq "read what the API wrote" "OK from the api" "$(nfs_client "$(url acme "$V2")" cat /file)"
assert_match "read-only row refuses writes" 'ROFS' "$(nfs_client "$(url acme "$V2")" write /x y)"
assert_match "another tenant's path does not mount" 'MNT3ERR_NOENT' "$(nfs_client "$(url other "$V1")" stat /)"
assert_match "an unknown id does not mount" 'MNT3ERR_NOENT' "$(nfs_client "$(url acme 99999999-2222-4333-8444-555555555555)" stat /)"
check "save a handle" nfs_client "$(url acme "$V1")" fh /hello "$SCRATCH/fh"
sqlite3 "$SCRATCH/aegis.db" "UPDATE volumes SET status = 'deleted', deleted_at = 2 WHERE id = '$V1'"
sleep 0.6
assert_match "deleted volume no longer mounts" 'MNT3ERR_ACCES' "$(nfs_client "$(url acme "$V1")" stat /)"
assert_eq "its handles are STALE at once" "ERR NFS3ERR_STALE" "$(nfs_client "$(url acme "$V2")" getattr-fh "$SCRATCH/fh")"

# A registry URL with a password (nothing listens there): the log masks it.
nfsd_kill
PG_PORT="$(free_port)"
NFS_PORT="$(free_port)"
"$AEGIS_NFSD" --listen "127.0.0.1:$NFS_PORT" --storage-root "$SCRATCH/storage" --state-dir "$SCRATCH/pg-state" \
        --exports "postgresql://aegis:Sup3rSecretPW@127.0.0.1:$PG_PORT/aegis" >"$SCRATCH/nfsd-pg.log" 2>&1 &
NFS_PID=$!
wait_for 20 python3 -c "import socket; socket.create_connection(('127.0.0.1', $NFS_PORT), 1)" ||
        { cat "$SCRATCH/nfsd-pg.log" >&2; fail "aegis-nfsd with a PostgreSQL registry did not start"; }
nfsd_kill
check "the registry is named in the log" grep -q 'postgresql://aegis:\*\*\*@127.0.0.1' "$SCRATCH/nfsd-pg.log"
check "the password is not" test "$(grep -c Sup3rSecretPW "$SCRATCH/nfsd-pg.log")" = 0
finish
