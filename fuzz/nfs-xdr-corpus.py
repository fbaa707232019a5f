#!/usr/bin/env python3
# Writes the seed corpus of fuzz/nfs-xdr: one RPC call per file (record body, no record
# mark). 40 bytes of 0xAA stand for the scratch volume's root handle (see nfs-xdr.c).
import os, struct, sys
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "nfs-xdr")
os.makedirs(out, exist_ok=True)
FH = struct.pack(">I", 40) + b"\xaa" * 40
def s(x): b = x.encode(); return struct.pack(">I", len(b)) + b + b"\0" * (-len(b) % 4)
def call(prog, vers, proc, body=b""):
    cred = struct.pack(">I", 0) + s("fuzz") + struct.pack(">III", 1000, 1000, 0)
    return struct.pack(">IIIIII", 7, 0, 2, prog, vers, proc) + struct.pack(">I", 1) + struct.pack(">I", len(cred)) + cred + struct.pack(">II", 0, 0) + body
SATTR_NONE = struct.pack(">IIIIII", 0, 0, 0, 0, 0, 0)
SATTR_MODE = struct.pack(">II", 1, 0o644) + struct.pack(">IIII", 0, 0, 0, 0)
SATTR_SIZE = struct.pack(">III", 0, 0, 0) + struct.pack(">IQ", 1, 5) + struct.pack(">II", 0, 0)
N, M = 100003, 100005
seeds = {
    "null": call(N, 3, 0),
    "getattr": call(N, 3, 1, FH),
    "setattr-size": call(N, 3, 2, FH + SATTR_SIZE + struct.pack(">I", 0)),
    "lookup": call(N, 3, 3, FH + s("a")),
    "lookup-dotdot": call(N, 3, 3, FH + s("..")),
    "access": call(N, 3, 4, FH + struct.pack(">I", 0x3f)),
    "readlink": call(N, 3, 5, FH),
    "read": call(N, 3, 6, FH + struct.pack(">QI", 0, 4096)),
    "write": call(N, 3, 7, FH + struct.pack(">QII", 0, 5, 2) + s("hello")),
    "create-unchecked": call(N, 3, 8, FH + s("new") + struct.pack(">I", 0) + SATTR_MODE),
    "create-exclusive": call(N, 3, 8, FH + s("excl") + struct.pack(">I", 2) + b"12345678"),
    "mkdir": call(N, 3, 9, FH + s("dir") + SATTR_MODE),
    "symlink": call(N, 3, 10, FH + s("sl") + SATTR_NONE + s("a")),
    "mknod": call(N, 3, 11, FH + s("fifo") + struct.pack(">I", 7) + SATTR_NONE),
    "remove": call(N, 3, 12, FH + s("new")),
    "rmdir": call(N, 3, 13, FH + s("dir")),
    "rename": call(N, 3, 14, FH + s("a") + FH + s("b")),
    "link": call(N, 3, 15, FH + FH + s("hard")),
    "readdir": call(N, 3, 16, FH + struct.pack(">Q", 0) + b"\0" * 8 + struct.pack(">I", 4096)),
    "readdirplus": call(N, 3, 17, FH + struct.pack(">Q", 0) + b"\0" * 8 + struct.pack(">II", 1024, 8192)),
    "fsstat": call(N, 3, 18, FH),
    "fsinfo": call(N, 3, 19, FH),
    "pathconf": call(N, 3, 20, FH),
    "commit": call(N, 3, 21, FH + struct.pack(">QI", 0, 0)),
    "mnt": call(M, 3, 1, s("/t/v")),
    "mnt-ro": call(M, 3, 1, s("/t/ro")),
    "dump": call(M, 3, 2),
    "umnt": call(M, 3, 3, s("/t/v")),
    "umntall": call(M, 3, 4),
    "export": call(M, 3, 5),
    "getport": call(100000, 2, 3, struct.pack(">IIII", N, 3, 6, 0)),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
