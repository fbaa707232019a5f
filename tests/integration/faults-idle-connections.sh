#!/bin/bash
# Fault injection: one client opens 1,000 TCP connections to the API and sends nothing, and
# a slowloris dribbles request headers a byte at a time on 20 more. Meanwhile other clients
# are served: /health, /health/ready and an API list answer within 2 s each, and the metrics
# socket still answers. The server closes the silent and the slowloris connections once
# api.connection_timeout_secs passes without a complete request, counts them, and after the
# flood it serves as before.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd python3 curl jq
make_scratch
# /health and the API's store do not need Podman: point at a socket that does not exist.
PODMAN_SOCK="$SCRATCH/no-podman.sock"
AEGIS_API_EXTRA="  connection_timeout_secs: 15" # a loaded machine takes seconds to open the flood
aegisd_start
port="${AEGIS_URL##*:}"
mport="$(sed -n 's/^  metrics_listen: "127.0.0.1:\([0-9]*\)"/\1/p' "$SCRATCH/aegisd-a/config.yaml")"

# The flood: N silent connections and S slowloris ones, held until the stop file appears.
cat >"$SCRATCH/flood.py" <<'PY'
import os, resource, socket, sys, time
port, n_idle, n_slow, ready, stop, report = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:7]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
idle, slow = [], []
for _ in range(n_idle):
    s = socket.create_connection(("127.0.0.1", port))
    idle.append(s)
for _ in range(n_slow):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    slow.append(s)
open(ready, "w").write("%d %d\n" % (len(idle), len(slow)))
header = b"X-Slow: " + b"a" * 10000
i = 0
while not os.path.exists(stop):
    for s in list(slow):
        try:
            s.send(header[i % len(header):i % len(header) + 1])
        except OSError:
            slow.remove(s)
    i += 1
    time.sleep(0.5)
# How many silent connections the server closed (a read returns EOF or an error).
closed = 0
for s in idle:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            closed += 1
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
# Slowloris connections the server closed since the last byte sent: a read tells too.
def server_closed(s):
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
slow = [s for s in slow if not server_closed(s)]
open(report, "w").write("%d %d\n" % (closed, len(slow)))
PY
python3 "$SCRATCH/flood.py" "$port" 1000 20 "$SCRATCH/ready" "$SCRATCH/stop" "$SCRATCH/report" &
flood=$!
on_exit "touch '$SCRATCH/stop'; kill $flood 2>/dev/null; wait $flood 2>/dev/null"
wait_for 60 test -s "$SCRATCH/ready" || fail "the flood client could not open its connections"
note "flood holds: $(cat "$SCRATCH/ready") (silent, slowloris)"
# aegisd accepts the flood from the kernel's backlog as fast as it can; sample its gauge until
# it holds them all (before api.connection_timeout_secs closes them).
held() {
        local n
        n="$(curl -s --max-time 2 "http://127.0.0.1:$mport/metrics" | awk '$1 == "aegis_api_connections" {print $2}')"
        [ "${n%.*}" -ge 1000 ] 2>/dev/null
}
check "aegisd holds the flood's connections itself (not the kernel's backlog)" wait_for 10 held

slow_answers=0
for i in $(seq 20); do
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$AEGIS_URL/health")"
        [ "$code" = 200 ] || slow_answers=$((slow_answers + 1))
done
assert_eq "20 × /health during the flood, each 200 within 2 s" 0 "$slow_answers"
assert_eq "an API list during the flood" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$AEGIS_URL/v1/executions?limit=5")"
assert_eq "/health/ready answers during the flood (503: no Podman)" 503 \
        "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$AEGIS_URL/health/ready")"
curl -s --max-time 2 "http://127.0.0.1:$mport/metrics" >"$SCRATCH/flood.prom"
check "the metrics socket answers during the flood" test -s "$SCRATCH/flood.prom"

# Every one of the 1,020 is closed by the request deadline (libmicrohttpd's own idle timeout is
# 10 s longer, so none is closed unseen by the counter): wait for the counter, then stop.
timed_out() { curl -s --max-time 2 "http://127.0.0.1:$mport/metrics" | awk '$1 == "aegis_api_connections_timed_out_total" {print $2}'; }
all_timed_out() { local n; n="$(timed_out)"; [ "${n%.*}" -ge 1020 ] 2>/dev/null; }
check "the deadline closes the flood within 60 s" wait_for 60 all_timed_out
touch "$SCRATCH/stop"
wait "$flood"
read -r closed slow_left <"$SCRATCH/report"
note "after the timeout: $closed of 1000 silent connections closed by the server, $slow_left slowloris left"
assert_eq "the server closed every silent connection after its timeout" 1000 "$closed"
assert_eq "the server closed every slowloris connection (headers never complete)" 0 "$slow_left"
n="$(timed_out)"
assert_eq "aegis_api_connections_timed_out_total counts each of the 1,020 exactly once" 1020 "${n%.*}"
check "aegisd is still running" kill -0 "$(aegisd_pid a)"
assert_eq "/health after the flood" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$AEGIS_URL/health")"
finish
