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
. "$AEGIS_TEST_LIB/rootless.sh"
make_scratch
rootless_start
SOCK="$RL_SOCK" SUB="$RL_SUB" ENGINE_UID="$RL_UID"

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
wait_for 30 rl_clean
assert_eq "no aegis.managed container remains" "" "$(rl ps -aq --filter label=aegis.managed=true 2>/dev/null)"
finish
