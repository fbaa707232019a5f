#!/bin/bash
# Hostile clients: garbage bytes, absurd record and field lengths, truncated XDR, wrong
# versions, programs, procedures and auth flavors each get the right RPC error or a closed
# connection — never a crash or a hang; fragments and pipelined calls work; the connection
# limit holds; portmapper GETPORT is answered on the same port. The calls come from a reserved
# port (root), so that they reach the decoders.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_one_volume --max-connections 16
python3 - "$NFS_PORT" <<'PY' || TEST_FAILURES=$((TEST_FAILURES + 1))
import os, random, socket, struct, sys, time
port = int(sys.argv[1])
fails = 0
def ok(what, cond):
    global fails
    print(("ok - " if cond else "not ok - ") + what)
    if not cond: fails += 1
def conn(reserved=False):
    # reserved: from a port below 1024, as root (a privileged hostile client: the gateway
    # decodes its calls; others get AUTH_ERROR before that, see nfs-only-the-engine-mounts.sh).
    for attempt in range(200):
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", random.randint(600, 1023) if reserved else 0))
            s.settimeout(5); s.connect(("127.0.0.1", port)); return s
        except OSError:
            s.close()
    raise SystemExit("no source port")
def recv_record(s):
    data = b""
    while True:
        hdr = b""
        while len(hdr) < 4:
            k = s.recv(4 - len(hdr))
            if not k: return None
            hdr += k
        n = struct.unpack(">I", hdr)[0]; last = n & 0x80000000; n &= 0x7fffffff
        while n:
            k = s.recv(n)
            if not k: return None
            data += k; n -= len(k)
        if last: return data
def call(prog, vers, proc, body=b"", xid=1, rpcvers=2, cred=(1, None)):
    flavor, cb = cred
    if cb is None:
        cb = struct.pack(">II", 0, 4) + b"test" + struct.pack(">III", 0, 0, 0)
    return struct.pack(">IIIIII", xid, 0, rpcvers, prog, vers, proc) + struct.pack(">II", flavor, len(cb)) + cb + struct.pack(">II", 0, 0) + body
def rec(payload): return struct.pack(">I", 0x80000000 | len(payload)) + payload
def reply_stat(r):
    xid, mtype, rstat = struct.unpack(">III", r[:12])
    if rstat == 1: return ("denied", struct.unpack(">I", r[12:16])[0])
    return ("accepted", struct.unpack(">I", r[20:24])[0])
def closed(s):
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, socket.timeout):
        return True

s = conn(True); s.sendall(rec(call(100003, 3, 0))); ok("NULL call answered", reply_stat(recv_record(s)) == ("accepted", 0))
s.sendall(rec(call(100003, 2, 0))); ok("NFS v2 → PROG_MISMATCH", reply_stat(recv_record(s)) == ("accepted", 2))
s.sendall(rec(call(100099, 1, 0))); ok("unknown program → PROG_UNAVAIL", reply_stat(recv_record(s)) == ("accepted", 1))
s.sendall(rec(call(100003, 3, 99))); ok("unknown procedure → PROC_UNAVAIL", reply_stat(recv_record(s)) == ("accepted", 3))
s.sendall(rec(call(100003, 3, 0, rpcvers=3))); ok("RPC version 3 → RPC_MISMATCH", reply_stat(recv_record(s)) == ("denied", 0))
s.sendall(rec(call(100003, 3, 0, cred=(3, b"x" * 8)))); ok("AUTH_DES → AUTH_ERROR", reply_stat(recv_record(s)) == ("denied", 1))
s.sendall(rec(call(100003, 3, 0, cred=(1, b"\xff" * 20)))); ok("malformed AUTH_UNIX → AUTH_ERROR", reply_stat(recv_record(s)) == ("denied", 1))
# GETATTR whose handle claims 0xfffffff0 bytes inside a 40-byte body.
s.sendall(rec(call(100003, 3, 1, struct.pack(">I", 0xfffffff0) + b"\0" * 36)))
ok("absurd opaque length → GARBAGE_ARGS", reply_stat(recv_record(s)) == ("accepted", 4))
# WRITE with a data length of 1 GiB but 10 bytes present.
wr = struct.pack(">I", 40) + b"\0" * 40 + struct.pack(">QII", 0, 1 << 30, 0) + struct.pack(">I", 1 << 30) + b"x" * 12
s.sendall(rec(call(100003, 3, 7, wr))); ok("WRITE with absurd data length → GARBAGE_ARGS", reply_stat(recv_record(s)) == ("accepted", 4))
s.sendall(rec(call(100003, 3, 3, struct.pack(">I", 40) + b"\1" * 20))); ok("truncated LOOKUP → GARBAGE_ARGS", reply_stat(recv_record(s)) == ("accepted", 4))
s.sendall(rec(call(100003, 3, 1, struct.pack(">I", 40) + b"\1" * 40))); r = recv_record(s)
ok("forged GETATTR → NFS3ERR_BADHANDLE", reply_stat(r) == ("accepted", 0) and struct.unpack(">I", r[24:28])[0] == 10001)
s.sendall(rec(call(100000, 2, 3, struct.pack(">IIII", 100003, 3, 6, 0)))); r = recv_record(s)
ok("portmapper GETPORT(NFS v3 TCP) → our port", reply_stat(r) == ("accepted", 0) and struct.unpack(">I", r[24:28])[0] == port)
s.sendall(rec(call(100000, 2, 3, struct.pack(">IIII", 100021, 4, 6, 0)))); r = recv_record(s)
ok("portmapper GETPORT(NLM) → 0", struct.unpack(">I", r[24:28])[0] == 0)
# One call in three fragments.
p = call(100005, 3, 0)
s.sendall(struct.pack(">I", 5) + p[:5] + struct.pack(">I", 7) + p[5:12] + struct.pack(">I", 0x80000000 | (len(p) - 12)) + p[12:])
ok("call split over three fragments", reply_stat(recv_record(s)) == ("accepted", 0))
# 200 pipelined calls in one write.
s.sendall(b"".join(rec(call(100003, 3, 0, xid=1000 + i)) for i in range(200)))
xids = [struct.unpack(">I", recv_record(s)[:4])[0] for i in range(200)]
ok("200 pipelined calls all answered in order", xids == list(range(1000, 1200)))
s.close()

s = conn(); s.sendall(struct.pack(">I", 0xffffffff)); ok("2 GiB record header → connection closed", closed(s))
s = conn(); s.sendall(struct.pack(">I", 0x80000000 | (64 << 20))); ok("64 MiB record → connection closed", closed(s))
s = conn(); s.sendall(os.urandom(3000)); ok("garbage bytes → closed or ignored", closed(s) or True)
s = conn(); s.sendall(rec(struct.pack(">II", 7, 1) + b"\0" * 16)); ok("a REPLY sent to the server → connection closed", closed(s))
s = conn(); s.sendall(struct.pack(">I", 0x80000000 | 100) + b"\0" * 50); s.close()  # truncated, then gone
# Connection limit: 16; open 40 and make sure the server still answers afterwards.
socks = []
for i in range(40):
    try: socks.append(conn())
    except OSError: pass
time.sleep(0.3)
dead = 0
for c in socks:
    c.settimeout(0.2)
    try:
        if c.recv(1) == b"": dead += 1
    except socket.timeout: pass
    except OSError: dead += 1
ok("connections beyond the limit are refused (%d of %d closed)" % (dead, len(socks)), dead >= len(socks) - 16)
for c in socks: c.close()
time.sleep(0.2)
s = conn(); s.sendall(rec(call(100003, 3, 0))); ok("still answering after all that", reply_stat(recv_record(s)) == ("accepted", 0))
sys.exit(1 if fails else 0)
PY
check "gateway still running" nfsd_alive
[ "$(nfs_metric aegis_nfs_connections_refused_total)" -gt 0 ] && echo "ok - refused connections counted" ||
        { echo "not ok - refused connections not counted"; TEST_FAILURES=$((TEST_FAILURES + 1)); }
finish
