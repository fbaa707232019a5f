#!/bin/bash
# Agent containers run in a user namespace of their own with rootless Podman too (issue 19),
# on a real rootless engine: a user made for this test, with a subordinate id range of its
# own, runs `podman system service`; aegisd talks to its socket. The engine's namespace maps
# its id 0 to that user and 1…65536 to the subordinate range; an agent container gets ids
# 1…65536 of it (runtime.user_namespace, rootless), so:
#  - the container's /proc/self/uid_map and gid_map read "0 1 65536";
#  - the agent (uid 1000 inside) is the host's SUB+1000: neither the engine user's own uid
#    (which owns the engine's files and socket) nor a host login user's.
# Cgroup v1 here: a rootless engine enforces no limit, so runtime.allow_unenforced_limits.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq runuser useradd userdel newuidmap newgidmap pkill
make_scratch

# The engine's user and its range: names and ids of this test only, removed at exit.
U="aegisrl$$"
SUB=$((2000000000 + ($$ % 30000) * 65536)) # unless useradd gives one
useradd --no-create-home --shell /usr/sbin/nologin "$U" || fail "cannot create the user $U"
on_exit "userdel $U 2>/dev/null; sed -i '/^$U:/d' /etc/subuid /etc/subgid"
# useradd may have given it a range already (SUB_UID_COUNT in login.defs): the engine takes
# the first one, so that is the one to expect.
for f in /etc/subuid /etc/subgid; do
        grep -q "^$U:" "$f" 2>/dev/null || echo "$U:$SUB:65536" >>"$f"
done
SUB="$(awk -F: -v u="$U" '$1 == u {print $2; exit}' /etc/subuid)"
RL="$SCRATCH/rootless"
mkdir -p "$RL/home" "$RL/run" "$RL/tmp"
cp "$CONTAINERS_CONF" "$RL/containers.conf"
PODMAN_DIR="$RL" # busybox_tar builds $RL/busybox.tar
busybox_tar >/dev/null
chown -R "$U:" "$RL"
chmod 700 "$RL/run"
chmod 711 "$SCRATCH"
rl() {
        runuser -u "$U" -- env -u CONTAINER_HOST HOME="$RL/home" XDG_RUNTIME_DIR="$RL/run" \
                CONTAINERS_CONF="$RL/containers.conf" podman --root "$RL/root" --runroot "$RL/run/containers" \
                --tmpdir "$RL/tmp" "$@"
}
on_exit "pkill -KILL -u $U 2>/dev/null; sleep 0.5"
SOCK="$RL/run/podman.sock"
rl system service --time=0 "unix://$SOCK" >"$SCRATCH/rootless-service.log" 2>&1 &
wait_for 30 curl -sf --unix-socket "$SOCK" http://d/_ping ||
        fail "the rootless Podman service did not come up: $(tail -5 "$SCRATCH/rootless-service.log")"
assert_eq "the engine is rootless" true "$(rl info --format '{{.Host.Security.Rootless}}' 2>/dev/null)"
rl import -q "$RL/busybox.tar" "$TEST_IMAGE" >/dev/null || fail "cannot import the busybox test image"
ENGINE_UID="$(id -u "$U")"

PODMAN_SOCK="$SOCK" AEGIS_RUNTIME_EXTRA="  allow_unenforced_limits: true" aegisd_start a
# No network: a rootless engine's slirp4netns needs /dev/net/tun, which not every host lends.
m="$(manifest mapped 'cat /proc/self/uid_map /proc/self/gid_map; id -u; sleep 4; echo done' '  security:
    network_policy:
      mode: none')"
id="$(aegis -q submit "$m")"
assert_match "the execution was accepted" '^[0-9a-f-]{36}$' "$id"
started() { cid="$(rl ps -q --filter "label=aegis.execution_id=$id" 2>/dev/null)" && [ -n "$cid" ]; }
wait_for 60 started || fail "the agent's container did not start: $(execution_field "$id" .reason)"
pid="$(rl inspect --format '{{.State.Pid}}' "$cid" 2>/dev/null)"
host_uid="$(awk '/^Uid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)"
wait_status "$id" completed 120 || fail "not completed: $(api GET "/v1/executions/$id")"
out="$(execution_field "$id" .output | xargs)"
assert_eq "the container's maps are ids 1…65536 of the engine's namespace, and the agent is 1000" \
        "0 1 65536 0 1 65536 1000 done" "$out"
assert_eq "the agent (uid 1000 inside) is the subordinate id SUB+1000 on the host" "$((SUB + 1000))" "$host_uid"
check "… not the engine user's own uid ($ENGINE_UID)" test "$host_uid" != "$ENGINE_UID"
check "… and no login user's" bash -c "! getent passwd $host_uid"
rl_clean() { [ -z "$(rl ps -aq --filter label=aegis.managed=true 2>/dev/null)" ]; }
wait_for 30 rl_clean
assert_eq "no aegis.managed container remains" "" "$(rl ps -aq --filter label=aegis.managed=true 2>/dev/null)"
finish
