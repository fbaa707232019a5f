#!/bin/bash
# Expiry of the volumes executions create, end to end: aegisd (bind mode), aegis-nfsd and
# aegis-reaper share one store and storage root.
#  - an ephemeral volume past its expiry whose execution finished is deleted by a reaper run:
#    its directory and row go, and the gateway refuses it at once (handles STALE);
#  - a persistent volume of the same execution stays;
#  - an expired ephemeral volume of an execution still running stays until it ends;
#  - DELETE /v1/volumes/{id} deregisters the volume from the gateway at once, too.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/nfs.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq sqlite3
nfs_require
[ -x "$AEGIS_REAPER" ] || fail "aegis-reaper not built"
podman_start
ROOT="$SCRATCH/storage"
DB="$SCRATCH/aegis.db"
NFS_PORT="$(free_port)"
mkdir -p "$ROOT"
cat >"$SCRATCH/shared.yaml" <<YAML
runtime:
  container_socket_path: "$PODMAN_SOCK"
storage:
  root: "$ROOT"
  nfs_listen_addr: "127.0.0.1:$NFS_PORT"
database:
  url: "sqlite://$DB"
YAML
nfsd_start_config "$SCRATCH/shared.yaml" "$SCRATCH/nfs-state"
AEGIS_DATABASE_URL="sqlite://$DB" aegisd_start a "storage:
  root: \"$ROOT\"
  mount_mode: bind"
reaper() { "$AEGIS_REAPER" --config "$SCRATCH/shared.yaml" --output json 2>>"$SCRATCH/reaper.log"; }
url() { nfs_url default "$1"; }
vol_of() { api GET /v1/volumes | jq -r --arg x "$1" --arg n "$2" '.volumes[] | select(.owner_execution_id == $x and .name == $n) | .id'; }

# A finished execution with an ephemeral (1 h) and a persistent volume.
m="$(manifest done 'echo data >/workspace/tmp/f; echo kept >/workspace/keep/f' '  volumes:
    - name: tmp
      mount_path: /workspace/tmp
      ttl_hours: 1
    - name: keep
      mount_path: /workspace/keep
      storage_class: persistent')"
aegis -q run "$m" >/dev/null || fail "execution failed"
done_id="$(aegis list --output json | jq -r '.executions[0].id')"
T="$(vol_of "$done_id" tmp)"
K="$(vol_of "$done_id" keep)"
assert_eq "the ephemeral volume holds the file" data "$(cat "$ROOT/default/$T/f")"
exp="$(date -d "$(api GET "/v1/volumes/$T" | jq -r .expires_at)" +%s)"
check "ttl_hours: 1 gives an expiry one hour after creation" test "$((exp - $(date +%s)))" -gt 3500 -a "$((exp - $(date +%s)))" -le 3600

# A running execution with an ephemeral volume.
m="$(manifest busy 'sleep 300' '  volumes:
    - name: busy
      mount_path: /workspace')"
busy_id="$(api POST /v1/executions -H 'Content-Type: application/json' -d "$(jq -n --rawfile m "$m" '{manifest: $m}')" | jq -r .execution_id)"
wait_status "$busy_id" running 120 || fail "busy execution did not start"
B="$(vol_of "$busy_id" busy)"
check "the running execution's volume exists" test -d "$ROOT/default/$B"

# Before expiry a reaper run deletes nothing.
assert_eq "nothing has expired yet" 0 "$(reaper | jq -r .summary.volumes_deleted)"
check "a handle into the ephemeral volume works" nfs_client "$(url "$T")" fh /f "$SCRATCH/fh-t"
assert_eq "read through the gateway" "OK data" "$(nfs_client "$(url "$T")" cat /f)"

# Time passes: every ephemeral volume is past its expiry.
sqlite3 "$DB" "UPDATE volumes SET expires_at = 1 WHERE storage_class = 'ephemeral'"
rep="$(reaper)"
assert_eq "the reaper deleted the finished execution's expired volume, kept the live one's" \
        "$T deleted|$B kept" \
        "$(jq -r --arg t "$T" --arg b "$B" '[.volumes[] | select(.id == $t or .id == $b) | "\(.id) \(.result)"] | sort_by(. | startswith($b)) | join("|")' <<<"$rep")"
check "its directory is gone" test ! -e "$ROOT/default/$T"
assert_eq "its row is gone" 404 "$(api_status GET "/v1/volumes/$T")"
sleep 0.6
assert_eq "the gateway answers STALE for its handles at once" "ERR NFS3ERR_STALE" \
        "$(nfs_client "$(url "$K")" getattr-fh "$SCRATCH/fh-t")"
assert_match "and no longer mounts it" 'MNT3ERR' "$(nfs_client "$(url "$T")" stat /)"
assert_eq "the persistent volume stays" "kept" "$(cat "$ROOT/default/$K/f")"
check "the live execution's expired volume stays" test -d "$ROOT/default/$B"

# Once that execution ends, the next run deletes its volume.
assert_eq "cancel the busy execution" 202 "$(api_status POST "/v1/executions/$busy_id/cancel")"
wait_status "$busy_id" cancelled 60 || fail "busy execution was not cancelled"
assert_eq "after the execution ended its expired volume is deleted" "deleted" \
        "$(reaper | jq -r --arg b "$B" '.volumes[] | select(.id == $b) | .result')"
check "its directory is gone" test ! -e "$ROOT/default/$B"

# DELETE over the API deregisters from the gateway at once (handles are checked through a
# mount of another, live volume).
api POST /v1/volumes -H 'Content-Type: application/json' -d '{"name":"probe"}' >/dev/null
P="$(api GET /v1/volumes | jq -r '.volumes[] | select(.name == "probe") | .id')"
sleep 0.6
check "a handle into the persistent volume" nfs_client "$(url "$K")" fh /f "$SCRATCH/fh-k"
assert_eq "DELETE answers 204" 204 "$(api_status DELETE "/v1/volumes/$K")"
sleep 0.6
assert_match "its handles are STALE at once" 'NFS3ERR_STALE' "$(nfs_client "$(url "$P")" getattr-fh "$SCRATCH/fh-k")"
check "its directory is gone" test ! -e "$ROOT/default/$K"
assert_no_managed_containers
finish
