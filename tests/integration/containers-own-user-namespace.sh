#!/bin/bash
# Agent containers run in a user namespace of their own (issue 19), on this host's real,
# rootful Podman, with bind-mode volumes:
#  - the container's /proc/self/uid_map and gid_map are not the identity: its ids 0…65535 are
#    the host's runtime.user_namespace_base… (1879048192 by default);
#  - the agent's process (uid 1000 in the container) is uid base+1000 on the host, so neither
#    the host's uid 1000 (usually its first login user) nor nobody can read its
#    /proc/PID/environ, which holds the manifest's environment (root can: the pid is right);
#  - a persistent volume written by one execution is read and written by the next, and its
#    files belong to base+1000 on the host and to 1000 in the container;
#  - the container is removed after each iteration (Podman 4.3 cannot remove a container
#    with a user namespace and a shared /dev/shm; the agent still has a writable /dev/shm);
#  - runtime.user_namespace: false keeps the engine's namespace (the identity here).
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq setpriv runuser
podman_start
ROOT="$SCRATCH/storage"
BASE=1879048192
SECRET="s3cret-$RANDOM$RANDOM"
aegisd_start a "storage:
  root: \"$ROOT\"
  mount_mode: bind"

# ---- one execution: the map, the environ, a persistent volume ----
m="$(manifest writer 'cat /proc/self/uid_map /proc/self/gid_map >/workspace/data/maps
id -u >/workspace/data/one; touch /dev/shm/ok && echo shm-ok >>/workspace/data/one
while [ ! -e /workspace/data/stop ]; do sleep 0.2; done
echo done' "  env:
    API_KEY: \"$SECRET\"
  volumes:
    - name: data
      mount_path: /workspace/data
      storage_class: persistent")"
id="$(aegis -q submit "$m")"
assert_match "the execution was accepted" '^[0-9a-f-]{36}$' "$id"
started() { cid="$(podman_cmd ps -q --filter "label=aegis.execution_id=$id")" && [ -n "$cid" ]; }
wait_for 60 started || fail "the agent's container did not start: $(execution_field "$id" .reason)"
vol="$(api GET /v1/volumes | jq -r --arg x "$id" '.volumes[] | select(.owner_execution_id == $x) | .id')"
wait_for 30 test -s "$ROOT/default/$vol/maps" || fail "the agent did not write its maps"
assert_eq "the container's uid_map and gid_map are its own range, not the identity" \
        "0 $BASE 65536 0 $BASE 65536" "$(xargs <"$ROOT/default/$vol/maps")"
pid="$(podman_cmd inspect --format '{{.State.Pid}}' "$cid")"
check "the agent's process is running" running "$pid"
assert_eq "the agent (uid 1000 inside) is uid base+1000 on the host" "$((BASE + 1000))" \
        "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")"
check "root reads the environ (the pid is the agent's)" grep -qa "API_KEY=$SECRET" "/proc/$pid/environ"
if setpriv --reuid=1000 --regid=1000 --clear-groups cat "/proc/$pid/environ" >"$SCRATCH/env-1000" 2>/dev/null; then
        fail "host uid 1000 read the agent's environ"
fi
check "host uid 1000 got nothing of it" bash -c "! grep -qa '$SECRET' '$SCRATCH/env-1000'"
if runuser -u nobody -- cat "/proc/$pid/environ" >"$SCRATCH/env-nobody" 2>/dev/null; then
        fail "nobody read the agent's environ"
fi
check "nobody got nothing of it" bash -c "! grep -qa '$SECRET' '$SCRATCH/env-nobody'"
touch "$ROOT/default/$vol/stop"
wait_status "$id" completed 60 || fail "the writer did not complete: $(execution_field "$id" .reason)"
assert_eq "the agent's uid inside is 1000, and /dev/shm is writable" "1000 shm-ok" "$(xargs <"$ROOT/default/$vol/one")"
n=$((BASE + 1000))
assert_eq "the volume's directory belongs to base+1000 on the host" "$n:$n 770" \
        "$(stat -c '%u:%g %a' "$ROOT/default/$vol")"
assert_eq "so do the agent's files" "$n:$n" "$(stat -c '%u:%g' "$ROOT/default/$vol/one")"
assert_eq "the store records the host owner" "$n $n" "$(api GET "/v1/volumes/$vol" | jq -r '"\(.uid) \(.gid)"')"
assert_no_managed_containers

# ---- the next execution reads and writes the same persistent volume ----
m="$(manifest reader 'cat /workspace/data/one; stat -c "%u:%g" /workspace/data/one; echo two >>/workspace/data/one && echo appended' "  volumes:
    - name: data
      mount_path: /workspace/data
      volume_id: $vol")"
out="$(aegis -q run "$m")"
assert_eq "the reader completes" 0 "$?"
assert_match "it read what the writer wrote" '1000[[:space:]]+shm-ok' "$out"
assert_match "the files are the agent's uid in its container" '1000:1000' "$out"
assert_match "and it could write" 'appended' "$out"
assert_eq "the write landed" "1000 shm-ok two" "$(xargs <"$ROOT/default/$vol/one")"
assert_no_managed_containers
aegisd_stop a

# ---- runtime.user_namespace: false: the engine's namespace ----
AEGIS_RUNTIME_EXTRA="  user_namespace: false" aegisd_start b
m="$(manifest hostns 'cat /proc/self/uid_map')"
out="$(aegis -q run "$m")"
assert_match "without a namespace of its own the map is the identity" '^ *0 +0 +4294967295' "$out"
finish
