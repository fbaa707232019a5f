# tests/lib/notify.sh — an sd_notify(3) listener for tests of Type=notify daemons.
#
# notify_listen: binds a datagram socket at $SCRATCH/notify.sock (exported as NOTIFY_SOCKET)
# and appends every message received to $NOTIFY_LOG, one assignment per line, in order.
# notify_wait_for LINE [SECONDS]: waits until a message carried LINE ("READY=1").
# shellcheck source=common.sh
. "${AEGIS_TEST_LIB:-$(dirname "${BASH_SOURCE[0]}")}/common.sh"

notify_listen() {
        require_cmd python3
        [ -n "${SCRATCH:-}" ] || make_scratch
        export NOTIFY_SOCKET="$SCRATCH/notify.sock"
        NOTIFY_LOG="$SCRATCH/notify.log"
        : >"$NOTIFY_LOG"
        # The system interpreter: version-manager shims can take seconds to start.
        local py=python3
        [ -x /usr/bin/python3 ] && py=/usr/bin/python3
        "$py" -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as log:
    print("listening", flush=True)
    while True:
        data = s.recv(65536).decode(errors="replace")
        for line in data.split("\n"):
            if line:
                log.write(line + "\n")
        log.flush()
' "$NOTIFY_SOCKET" "$NOTIFY_LOG" >"$SCRATCH/notify.out" 2>&1 &
        NOTIFY_PID=$!
        on_exit "kill $NOTIFY_PID 2>/dev/null; wait $NOTIFY_PID 2>/dev/null"
        wait_for 30 grep -q listening "$SCRATCH/notify.out" || fail "notify listener did not start: $(cat "$SCRATCH/notify.out")"
}

notify_wait_for() { wait_for "${2:-5}" grep -qx "$1" "$NOTIFY_LOG"; }
