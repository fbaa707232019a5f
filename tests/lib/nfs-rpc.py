#!/usr/bin/env python3
# nfs-rpc.py — raw ONC RPC calls to aegis-nfsd for the tests, from a chosen source port (a
# reserved one needs root, as for the kernel's NFS client): what libnfs does not let a test
# choose. Prints one line per call:
#   nfs-rpc.py PORT [--src-port P] mnt PATH          → "MNT <status> [<handle hex>]"
#   nfs-rpc.py PORT [--src-port P] export            → "EXPORT <n entries> <paths...>" or "DENIED <auth stat>"
#   nfs-rpc.py PORT [--src-port P] dump              → "DUMP <n> <host:path...>"
#   nfs-rpc.py PORT [--src-port P] getattr HEXFH     → "GETATTR <nfsstat3>" or "DENIED <auth stat>"
#   nfs-rpc.py PORT [--src-port P] read HEXFH        → "READ <nfsstat3> [data]"
#   nfs-rpc.py PORT [--src-port P] write HEXFH TEXT  → "WRITE <nfsstat3>"
# AUTH_UNIX credentials claim uid 0 (the strongest claim a client can make).
import socket, struct, sys

def main():
    args = sys.argv[1:]
    port = int(args.pop(0))
    src = 0
    if args[0] == "--src-port":
        args.pop(0)
        src = int(args.pop(0))
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", src))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))

    def call(prog, vers, proc, body=b""):
        cred = struct.pack(">II", 0, 4) + b"test" + struct.pack(">III", 0, 0, 0)
        msg = struct.pack(">IIIIII", 7, 0, 2, prog, vers, proc) + struct.pack(">II", 1, len(cred)) + cred \
            + struct.pack(">II", 0, 0) + body
        s.sendall(struct.pack(">I", 0x80000000 | len(msg)) + msg)
        data = b""
        while True:
            hdr = b""
            while len(hdr) < 4:
                k = s.recv(4 - len(hdr))
                if not k:
                    raise SystemExit("CLOSED")
                hdr += k
            n = struct.unpack(">I", hdr)[0]
            last = n & 0x80000000
            n &= 0x7FFFFFFF
            while n:
                k = s.recv(n)
                if not k:
                    raise SystemExit("CLOSED")
                data += k
                n -= len(k)
            if last:
                break
        xid, mtype, rstat = struct.unpack(">III", data[:12])
        if rstat == 1:
            print("DENIED", struct.unpack(">I", data[16:20])[0])
            raise SystemExit(0)
        return data[24:]

    def opaque(b):
        return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)

    cmd = args.pop(0)
    if cmd == "mnt":
        r = call(100005, 3, 1, opaque(args[0].encode()))
        st = struct.unpack(">I", r[:4])[0]
        if st == 0:
            n = struct.unpack(">I", r[4:8])[0]
            print("MNT", st, r[8:8 + n].hex())
        else:
            print("MNT", st)
    elif cmd in ("export", "dump"):
        r = call(100005, 3, 5 if cmd == "export" else 2)
        pos, items = 0, []
        def take():
            nonlocal pos
            n = struct.unpack(">I", r[pos:pos + 4])[0]
            v = r[pos + 4:pos + 4 + n].decode()
            pos += 4 + n + (4 - n % 4) % 4
            return v
        while struct.unpack(">I", r[pos:pos + 4])[0] == 1:
            pos += 4
            if cmd == "export":
                items.append(take())
                while struct.unpack(">I", r[pos:pos + 4])[0] == 1:  # groups
                    pos += 4
                    take()
                pos += 4
            else:
                h = take()
                items.append(h + ":" + take())
        print(cmd.upper(), len(items), *items)
    elif cmd == "getattr":
        r = call(100003, 3, 1, opaque(bytes.fromhex(args[0])))
        print("GETATTR", struct.unpack(">I", r[:4])[0])
    elif cmd == "read":
        r = call(100003, 3, 6, opaque(bytes.fromhex(args[0])) + struct.pack(">QI", 0, 4096))
        st = struct.unpack(">I", r[:4])[0]
        if st != 0:
            print("READ", st)
        else:
            pos = 4 + (4 + 84 if struct.unpack(">I", r[4:8])[0] else 4)
            count, eof, n = struct.unpack(">III", r[pos:pos + 12])
            print("READ", st, r[pos + 12:pos + 12 + n].decode(errors="replace").strip())
    elif cmd == "write":
        data = args[1].encode()
        r = call(100003, 3, 7, opaque(bytes.fromhex(args[0])) + struct.pack(">QII", 0, len(data), 2) + opaque(data))
        print("WRITE", struct.unpack(">I", r[:4])[0])
    else:
        raise SystemExit("unknown command " + cmd)

main()
