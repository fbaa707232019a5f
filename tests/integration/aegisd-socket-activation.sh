#!/bin/bash
# aegisd socket-activated, as aegis.socket + aegis-metrics.socket start it:
#  - under systemd-socket-activate it serves the passed "api" and "metrics" sockets and binds
#    nothing itself; the NOTIFY_SOCKET sees READY=1 (with STATUS=), then STOPPING=1 on
#    SIGTERM, and it exits within a second;
#  - the passed socket is never shut down: a holder keeps the listening sockets (as systemd
#    does) and a second instance serves on them after the first one exited.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/notify.sh"
require_cmd systemd-socket-activate curl python3 ss
PY=python3; [ -x /usr/bin/python3 ] && PY=/usr/bin/python3
make_scratch
notify_listen
API="$(free_port)" METRICS="$(free_port)" OWN="$(free_port)"
cat >"$SCRATCH/config.yaml" <<YAML
api:
  # What aegisd would bind without systemd: it must not when it is given sockets.
  listen: "127.0.0.1:$OWN"
  metrics_listen: "127.0.0.1:$OWN"
runtime:
  container_socket_path: $SCRATCH/no-podman.sock
YAML
export STATE_DIRECTORY="$SCRATCH/state"

# stop_within PID SECONDS: SIGTERM, then the process must be gone in time.
stop_within() {
        local pid="$1" limit_ms=$(($2 * 1000)) t0 t1
        t0=$(date +%s%N)
        kill -TERM "$pid"
        while kill -0 "$pid" 2>/dev/null; do
                [ $((($(date +%s%N) - t0) / 1000000)) -lt $((limit_ms * 3)) ] || break
                sleep 0.01
        done
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000000))
}

# 1. systemd-socket-activate: binds, waits for the first connection, then execs aegisd.
systemd-socket-activate -l "127.0.0.1:$API" -l "127.0.0.1:$METRICS" --fdname=api:metrics \
        -E NOTIFY_SOCKET -E STATE_DIRECTORY "$AEGISD" --config "$SCRATCH/config.yaml" 2>"$SCRATCH/aegisd.log" &
PID=$!
on_exit "kill $PID 2>/dev/null"
wait_for 5 bash -c "ss -ltn | grep -q ':$API '" || fail "systemd-socket-activate did not listen"
body="$(curl -s --max-time "$(scaled 10)" "http://127.0.0.1:$API/health")"
assert_match "first connection answered by the activated daemon" '"status":"healthy"' "$body"
check "READY=1 sent" notify_wait_for READY=1
check "a STATUS= line sent" grep -q '^STATUS=' "$NOTIFY_LOG"
check "metrics served on the passed metrics socket" \
        bash -c "curl -s --max-time $(scaled 5) http://127.0.0.1:$METRICS/metrics | grep -q '^aegis_build_info{version=\"'"
check "api.listen not bound when socket-activated" bash -c "! ss -ltn | grep -q ':$OWN '"
check "log says socket-activated" grep -q 'the socket from systemd' "$SCRATCH/aegisd.log"
ms="$(stop_within "$PID" "$(scaled 1)")"
check "SIGTERM: exited within 1 s (took ${ms} ms)" test "$ms" -lt "$(scaled 1000)"
wait "$PID"; rc=$?
assert_eq "SIGTERM: exit status 0" 0 "$rc"
check "STOPPING=1 sent" notify_wait_for STOPPING=1
assert_eq "READY=1 came before STOPPING=1" "READY=1 STOPPING=1" \
        "$(grep -E '^(READY|STOPPING)=1$' "$NOTIFY_LOG" | xargs)"

# 2. A holder keeps the listening sockets across instances, like a socket unit.
: >"$NOTIFY_LOG"
cat >"$SCRATCH/holder.py" <<'PY'
import os, signal, socket, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # reap instances at once, as systemd would
aegisd, config = sys.argv[1], sys.argv[2]
socks = []
for _ in range(2):  # the api and metrics sockets, on ports the kernel picks (no race)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    socks.append(s)
print("listening", *(s.getsockname()[1] for s in socks), flush=True)
for line in sys.stdin:
    if line.strip() != "spawn":
        break
    pid = os.fork()
    if pid == 0:
        # Out of the way first: the sockets themselves may already be fds 3 and 4.
        for i, s in enumerate(socks):
            os.dup2(s.fileno(), 100 + i)
        for i in range(len(socks)):
            os.dup2(100 + i, 3 + i, inheritable=True)
            os.close(100 + i)
        os.environ.update(LISTEN_FDS="2", LISTEN_FDNAMES="api:metrics", LISTEN_PID=str(os.getpid()))
        os.execv(aegisd, [aegisd, "--config", config])
    print(pid, flush=True)
PY
coproc HOLDER { "$PY" "$SCRATCH/holder.py" "$AEGISD" "$SCRATCH/config.yaml" 2>>"$SCRATCH/aegisd.log"; }
on_exit "kill $HOLDER_PID 2>/dev/null"
read -r line API2 METRICS2 <&"${HOLDER[0]}"
assert_eq "holder listening" listening "$line"
for instance in 1 2; do
        echo spawn >&"${HOLDER[1]}"
        read -r pid <&"${HOLDER[0]}"
        check "instance $instance: READY=1" notify_wait_for READY=1
        check "instance $instance: serves on the held socket" \
                bash -c "curl -sf --max-time $(scaled 5) http://127.0.0.1:$API2/health/live | grep -q healthy"
        check "instance $instance: metrics on the held socket" \
                bash -c "curl -sf --max-time $(scaled 5) http://127.0.0.1:$METRICS2/metrics | grep -q '^process_open_fds '"
        ms="$(stop_within "$pid" "$(scaled 1)")"
        check "instance $instance: SIGTERM exit within 1 s (took ${ms} ms)" test "$ms" -lt "$(scaled 1000)"
        check "instance $instance: STOPPING=1" notify_wait_for STOPPING=1
        : >"$NOTIFY_LOG"
done
# Between instances nobody serves, yet connections queue on the held socket: the next
# instance answers them.
curl -s --max-time "$(scaled 10)" "http://127.0.0.1:$API2/health" >"$SCRATCH/queued" &
CURL=$!
sleep 0.3
echo spawn >&"${HOLDER[1]}"
read -r pid <&"${HOLDER[0]}"
wait "$CURL"
assert_match "a connection queued while no instance ran is answered by the next" healthy "$(cat "$SCRATCH/queued")"
kill -TERM "$pid"
finish
