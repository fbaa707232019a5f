#!/bin/bash
# Socket activation: the gateway serves the listening socket systemd passes (LISTEN_FDS),
# reports READY=1 / STATUS= / STOPPING=1 to $NOTIFY_SOCKET, runs under its seccomp filter
# (Seccomp: 2 in /proc), exits after --idle-exit with no connections, and a second start on
# the same state directory serves the same handles.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
require_cmd systemd-socket-activate
nfs_setup
nfs_volume t1 v 4242 4343 0 read-write active
echo hi >"$NFS_ROOT/t1/v/f"
NFS_PORT="$(free_port)"
python3 - "$SCRATCH/notify.sock" "$SCRATCH/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode() + "\n")
PY
listener=$!
on_exit "kill $listener 2>/dev/null"
wait_for 30 test -S "$SCRATCH/notify.sock" || fail "notify listener did not start"
start() {
        systemd-socket-activate -E NOTIFY_SOCKET="$SCRATCH/notify.sock" -l "127.0.0.1:$NFS_PORT" \
                "$AEGIS_NFSD" --storage-root "$NFS_ROOT" --state-dir "$NFS_STATE" --exports "$NFS_EXPORTS" "$@" \
                >>"$SCRATCH/nfsd.log" 2>&1 &
        NFS_PID=$!
}
start --idle-exit 3
on_exit "nfsd_kill"
# systemd-socket-activate starts the program at the first connection.
wait_for 20 python3 -c "import socket; socket.create_connection(('127.0.0.1', $NFS_PORT), 1)" || fail "no start"
check "READY=1 sent" wait_for 20 grep -q "READY=1" "$SCRATCH/notify.log"
assert_eq "the passed socket serves NFS" "OK hi" "$(nfs_client "$(nfs_url t1 v)" cat /f)"
assert_match "STATUS names the port" "STATUS=Serving NFSv3 on port $NFS_PORT" "$(cat "$SCRATCH/notify.log")"
assert_eq "seccomp filter installed" "2" "$(awk '/^Seccomp:/ { print $2 }' "/proc/$NFS_PID/status")"
check "save a handle" nfs_client "$(nfs_url t1 v)" fh /f "$SCRATCH/fh"
# Idle exit: no connections for 3 s → exits 0, having said STOPPING=1.
for _ in $(seq 1 100); do nfsd_alive || break; sleep 0.1; done
check "exited after being idle" bash -c "! kill -0 $NFS_PID 2>/dev/null"
wait "$NFS_PID" 2>/dev/null
assert_eq "idle exit status" "0" "$?"
NFS_PID=
check "STOPPING=1 sent" grep -q "STOPPING=1" "$SCRATCH/notify.log"
check "clean-shutdown marker left" test -f "$NFS_STATE/clean-shutdown"
start
wait_for 20 python3 -c "import socket; socket.create_connection(('127.0.0.1', $NFS_PORT), 1)" || fail "no second start"
wait_for 20 test "$(grep -c READY=1 "$SCRATCH/notify.log")" -ge 2
assert_eq "handle from before the idle exit still works" "OK NFS3_OK" "$(nfs_client "$(nfs_url t1 v)" getattr-fh "$SCRATCH/fh")"
out="$("$AEGIS_NFSD" --seccomp=maybe 2>&1)"
assert_match "bad option value is named" '--seccomp: expected on or off' "$out"
out="$("$AEGIS_NFSD" --storage-root "$NFS_ROOT" --state-dir "$NFS_STATE" --listen nonsense 2>&1)"
assert_match "bad listen address is named" 'expected HOST:PORT' "$out"
finish
