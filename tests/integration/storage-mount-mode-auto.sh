#!/bin/bash
# storage.mount_mode auto, the default (issue 19): bind for a rootless engine (the kernel
# refuses NFS mounts inside a user namespace) or a host without mount.nfs, nfs otherwise;
# the start-up log and `aegis doctor` say which is in effect and why. This host's real
# Podman is rootful and has mount.nfs, so it gets nfs; a rootless engine is shown with the
# proxy that rewrites only /libpod/info of the same real Podman (tests/lib/engine-info-proxy.py),
# and an execution's volume then really is a bind mount of storage.root/<tenant>/<id>.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq python3
podman_start

dump="$(STATE_DIRECTORY="$SCRATCH/fresh" AEGIS_CONFIG_PATH=/dev/null "$AEGISD" --check-config 2>&1)"
assert_match "auto is the default" "mount_mode: auto  # default" "$dump"
doctor_detail() { "$AEGIS_CLI" doctor --output json --config "$1" 2>/dev/null | jq -r '.checks[] | select(.name == "mount-mode") | .detail'; }

aegisd_start real
if [ -x /sbin/mount.nfs ] || [ -x /usr/sbin/mount.nfs ]; then
        want="nfs mounts: storage.mount_mode is auto, the engine is rootful and mount.nfs is installed"
else
        want="bind mounts: storage.mount_mode is auto and this host has no NFS client"
fi
check "rootful engine: the start-up log says which and why" grep -q "volumes reach containers by $want" \
        "$SCRATCH/aegisd-real/aegisd.log"
assert_match "rootful engine: aegis doctor says the same" "$want" "$(doctor_detail "$SCRATCH/aegisd-real/config.yaml")"
aegisd_stop real

python3 "$AEGIS_TEST_LIB/engine-info-proxy.py" "$SCRATCH/proxy.sock" "$PODMAN_SOCK" true v2 cpu,memory,pids &
proxy=$!
on_exit "kill $proxy"
wait_for 10 test -S "$SCRATCH/proxy.sock" || fail "the proxy did not start"
ROOT="$SCRATCH/storage"
# No user namespace here: the engine only says it is rootless, so a rootless mapping (ids
# 1… of the engine's namespace) would be the rootful host's uid 1001 for the agent, and the
# volume (owned by 1000, as aegis-volumes(7) says for rootless) would refuse it.
PODMAN_SOCK="$SCRATCH/proxy.sock" AEGIS_RUNTIME_EXTRA="  user_namespace: false" aegisd_start rootless "storage:
  root: \"$ROOT\""
want="bind mounts: storage.mount_mode is auto and the engine is rootless"
check "rootless engine: the start-up log says bind and why" grep -q "volumes reach containers by $want" \
        "$SCRATCH/aegisd-rootless/aegisd.log"
assert_match "rootless engine: aegis doctor says the same" "$want" \
        "$(doctor_detail "$SCRATCH/aegisd-rootless/config.yaml")"
m="$(manifest auto-bind 'echo from-the-agent >/workspace/f; echo done' '  volumes:
    - name: work
      mount_path: /workspace
      size_limit: 10Mi')"
out="$(aegis -q run "$m")"
assert_eq "rootless engine: the execution ran" done "$out"
work="$(api GET /v1/volumes | jq -r '.volumes[] | select(.name == "work") | .id')"
assert_eq "rootless engine: the volume was a bind mount of storage.root/<tenant>/<id>" from-the-agent \
        "$(cat "$ROOT/default/$work/f")"
assert_eq "rootless engine: no NFS engine volume was made" "" \
        "$(podman_cmd volume ls --format '{{.Name}}' | grep '^aegis-vol-' || true)"
finish
