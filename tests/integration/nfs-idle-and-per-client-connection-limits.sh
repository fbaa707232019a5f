#!/bin/bash
# One client cannot lock the others out (issue 19: 512 idle connections did):
#  - 600 idle connections from one client (127.0.0.2) while another client (127.0.0.1, the
#    kernel's reserved port) mounts and reads: the reader is served, the flooder keeps at
#    most --max-connections-per-client (64) and the rest are closed at once;
#  - 600 idle connections from unprivileged ports of the reader's own address do not take
#    the reserved-port connections that address's kernel needs;
#  - an idle connection is closed after --idle-timeout (here 3 s), counted.
# The flooder holds its sockets for a bounded time and stops by itself; loopback only.
. "$AEGIS_TEST_LIB/nfs.sh"
[ "$(id -u)" = 0 ] || skip_or_fail "needs root: the reader binds a reserved port, as the kernel"
nfs_one_volume --idle-timeout 3
head -c 300000 /dev/urandom >"$D/data"
sum="$(md5sum <"$D/data")"

# flood SRC N HOLD: N idle connections from SRC for HOLD seconds; prints "open_after_1s K"
# and "open_at_end K" (connections the server has not closed).
flood() {
        python3 - "$NFS_PORT" "$@" <<'PY'
import resource, socket, sys, time
port, src, n, hold = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 64)), hard))
socks = []
for i in range(n):
    s = socket.socket(); s.bind((src, 0))
    try:
        s.connect(("127.0.0.1", port)); socks.append(s)
    except OSError:
        s.close()
def still_open():
    k = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) != b"": k += 1
        except BlockingIOError:
            k += 1
        except OSError:
            pass
    return k
start = time.monotonic()
time.sleep(1.0)
print("connected", len(socks), flush=True)
print("open_after_1s", still_open(), flush=True)
time.sleep(max(0.0, hold - (time.monotonic() - start)))
print("open_at_end", still_open(), flush=True)
PY
}

flood 127.0.0.2 600 2.5 >"$SCRATCH/flood1" &
flood1=$!
sleep 1.2 # the flood is in place
assert_eq "another client mounts and reads during the flood" "$sum" "$(nfs-cat "$(nfs_file_url t1 v /data)" | md5sum)"
wait "$flood1"
note "flood from 127.0.0.2: $(tr '\n' ' ' <"$SCRATCH/flood1")"
assert_eq "the flooder connected 600 times" "connected 600" "$(grep connected "$SCRATCH/flood1")"
kept="$(awk '$1 == "open_after_1s" { print $2 }' "$SCRATCH/flood1")"
check "the flooder kept at most 64 connections ($kept)" test "$kept" -le 64 -a "$kept" -ge 1
check "refusals counted" test "$(nfs_metric aegis_nfs_connections_refused_total)" -ge 536

# The same from unprivileged ports of the reader's own address.
flood 127.0.0.1 600 2.5 >"$SCRATCH/flood2" &
flood2=$!
sleep 1.2
assert_eq "the host's reserved-port client is still served" "$sum" "$(nfs-cat "$(nfs_file_url t1 v /data)" | md5sum)"
wait "$flood2"
note "flood from 127.0.0.1: $(tr '\n' ' ' <"$SCRATCH/flood2")"
kept="$(awk '$1 == "open_after_1s" { print $2 }' "$SCRATCH/flood2")"
check "unprivileged ports of that address kept at most 64 ($kept)" test "$kept" -le 64

# Idle connections are closed after the timeout (3 s; swept every 0.75 s).
flood 127.0.0.2 10 5 >"$SCRATCH/flood3"
assert_eq "10 idle connections open after 1 s" "open_after_1s 10" "$(grep open_after_1s "$SCRATCH/flood3")"
assert_eq "and closed by the server before 5 s" "open_at_end 0" "$(grep open_at_end "$SCRATCH/flood3")"
check "idle closes counted" test "$(nfs_metric aegis_nfs_connections_idle_closed_total)" -ge 10
check "the gateway is still serving" nfs_client "$U" stat /data
out="$("$AEGIS_NFSD" --idle-timeout 0 2>&1)"
assert_match "--idle-timeout 0 is refused and named" '--idle-timeout: expected a duration' "$out"
finish
