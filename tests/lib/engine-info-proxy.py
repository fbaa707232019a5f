#!/usr/bin/env python3
"""engine-info-proxy.py LISTEN UPSTREAM ROOTLESS CGROUP_VERSION CONTROLLERS [DROP]

A unix-socket proxy in front of a real Podman API socket that passes every request through
unchanged except GET .../libpod/info, whose host.security.rootless, host.cgroupVersion and
host.cgroupControllers it replaces (ROOTLESS "true"/"false", CGROUP_VERSION "v1"/"v2",
CONTROLLERS comma-separated). It lets a test show what aegisd does on an engine that cannot
enforce limits (rootless on cgroup v1, no delegated controllers) on a host whose real engine
can. Each upstream request is sent with "Connection: close", so one client connection is one
request. DROP (optional, comma-separated HostConfig keys such as Memory,PidsLimit) zeroes
those keys in every container inspect answer (GET .../containers/ID/json): an engine that
dropped those limits from the containers it created. Runs until killed."""
import json
import os
import socket
import sys
import threading

listen, upstream, rootless, cgroup, controllers = sys.argv[1:6]
drop = [k for k in (sys.argv[6] if len(sys.argv) > 6 else "").split(",") if k]


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head, rest


def dechunk(body):
    out = b""
    while body:
        size_line, body = body.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += body[:size]
        body = body[size + 2:]
    return out


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def handle(client):
    head, rest = read_head(client)
    if head is None:
        client.close()
        return
    lines = head.split(b"\r\n")
    lines = [l for l in lines if not l.lower().startswith(b"connection:")]
    lines.insert(1, b"Connection: close")
    up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    up.connect(upstream)
    up.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + rest)
    method, path = lines[0].split(b" ")[0:2]
    inspect = (drop and method == b"GET" and b"/containers/" in path
               and path.split(b"?")[0].endswith(b"/json") and not path.split(b"?")[0].endswith(b"/containers/json"))
    if b"/libpod/info" in path or inspect:
        answer = b""
        while True:
            chunk = up.recv(65536)
            if not chunk:
                break
            answer += chunk
        up.close()
        rhead, body = answer.split(b"\r\n\r\n", 1)
        if b"transfer-encoding: chunked" in rhead.lower():
            body = dechunk(body)
        status = rhead.split(b"\r\n")[0]
        info = json.loads(body)
        if inspect and isinstance(info.get("HostConfig"), dict):
            for k in drop:
                info["HostConfig"][k] = 0
        elif not inspect:
            info["host"]["security"]["rootless"] = rootless == "true"
            info["host"]["cgroupVersion"] = cgroup
            info["host"]["cgroupControllers"] = [c for c in controllers.split(",") if c]
        body = json.dumps(info).encode()
        client.sendall(status + b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body) + body)
        client.close()
        return
    t = threading.Thread(target=pipe, args=(client, up), daemon=True)
    t.start()
    pipe(up, client)
    client.close()
    up.close()


if os.path.exists(listen):
    os.unlink(listen)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(listen)
server.listen(64)
while True:
    conn, _ = server.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
