#!/usr/bin/env python3
"""A FAKE of aegisd's dispatch gateway, for tests of aegis-bootstrap: an HTTP/1.1 server
on a unix socket that answers requests in order from a script and records each request.

  fake-gateway.py --socket PATH --script SCRIPT.json --record RECORD.jsonl

SCRIPT is a JSON list, one step per request received:
  {"status": 200, "reply": {...}}      answer with this JSON (status defaults to 200)
  {"raw": "text"}                      answer with this body as it is
  {"chunked": true, ...}               send the answer with chunked transfer encoding
  {"delay_ms": N, ...}                 wait before answering
  {"drop": true, "down_ms": N}         read the whole request, close without an answer;
                                       then remove the socket for N ms (a restart)
After the last step every request gets 500 {"error": "fake-gateway: script exhausted"}.
RECORD gets one JSON line per request: n, method, path, headers, body (parsed JSON or
null), raw (the body as text), dropped. stdlib only."""
import argparse
import json
import os
import socket
import time


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return method, path, headers, rest[:length]


def listen(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path + ".tmp")
    os.rename(path + ".tmp", path)
    s.listen(16)
    return s


def serve(args):
    with open(args.script) as f:
        script = json.load(f)
    srv = listen(args.socket)
    n = 0
    while True:
        conn, _ = srv.accept()
        with conn:
            req = read_request(conn)
            if req is None:
                continue
            method, path, headers, body = req
            step = script[n] if n < len(script) else {
                "status": 500, "reply": {"error": "fake-gateway: script exhausted"}}
            try:
                body.decode("utf-8")
                valid_utf8 = True
            except UnicodeDecodeError:
                valid_utf8 = False
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            with open(args.record, "a") as rec:
                rec.write(json.dumps({"n": n, "method": method, "path": path, "headers": headers,
                                      "body": parsed, "raw": body.decode("utf-8", errors="replace"),
                                      "valid_utf8": valid_utf8,
                                      "dropped": bool(step.get("drop"))}) + "\n")
            n += 1
            if step.get("drop"):
                conn.close()
                if step.get("down_ms"):
                    srv.close()
                    os.unlink(args.socket)
                    time.sleep(step["down_ms"] / 1000)
                    srv = listen(args.socket)
                continue
            if step.get("delay_ms"):
                time.sleep(step["delay_ms"] / 1000)
            payload = step["raw"].encode() if "raw" in step else json.dumps(step.get("reply", {})).encode()
            status = step.get("status", 200)
            head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nConnection: close\r\n"
            if step.get("chunked"):
                body = b""
                for i in range(0, len(payload), 7):
                    part = payload[i:i + 7]
                    body += f"{len(part):x}\r\n".encode() + part + b"\r\n"
                body += b"0\r\n\r\n"
                conn.sendall(head.encode() + b"Transfer-Encoding: chunked\r\n\r\n" + body)
            else:
                conn.sendall(head.encode() + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--script", required=True)
    ap.add_argument("--record", required=True)
    serve(ap.parse_args())


if __name__ == "__main__":
    main()
