#!/usr/bin/env python3
# fake-llm.py — a FAKE LLM provider for the tests, not a model: the real providers (OpenAI,
# Anthropic, Google, a GPU running Ollama) are paid or heavy remote services, so the tests
# script each answer here instead. Python 3 standard library only.
#
# It speaks the four wire formats on their real paths, on 127.0.0.1:
#   POST /v1/chat/completions                      OpenAI and OpenAI-compatible
#   POST /v1/messages                              Anthropic
#   POST /api/chat                                 Ollama (stream: false)
#   POST /v1beta/models/{model}:generateContent    Gemini
#   GET  /                                         "fake-llm" (readiness; consumes nothing)
#
# The script (--script FILE) is a JSON list of steps; each POST to one of the paths above
# consumes the next step, whatever the format (so one script can drive a fallback from one
# format to another). A step is an object:
#   {"text": "…"}                               a final answer
#   {"tool_calls": [{"name": "cmd.run", "arguments": {…}, "id": "call_1"}], "text": "…"}
#                                               tool calls (id optional; text optional).
#                                               "name" is our spelling: the fake answers with
#                                               the wire name the request declared for it
#                                               (the tool whose declared name is NAME or NAME
#                                               with "." → "__"), else NAME as written.
#   {"status": 429, "retry_after": 1}           an error status; retry_after (a number of
#                                               seconds or an HTTP-date string) is sent as
#                                               Retry-After; "message" sets the error text
#   {"status": 503}
#   {"hang": true}                              never answers (until the fake is stopped)
#   {"close": true}                             closes the connection without an answer
#   {"raw": "…", "status": 200}                 this body verbatim
# Every step may add "delay_ms" (wait before answering) and "usage": {"in": N, "out": M}
# (default 11 and 7). When the script is spent, requests get HTTP 500 "script exhausted".
#
# Every request is appended to --log FILE as one JSON line, before it is answered:
#   {"n": 1, "method": "POST", "path": "/v1/chat/completions", "headers": {…every header…},
#    "body": <the parsed JSON, or the raw text>, "step": <the step it consumed, or null>}
# so a test checks what the model saw (the tool results of the conversation, the key in its
# header, the model in the path).
#
# With --timing FILE, every scripted request also appends "N START_NS END_NS" to FILE once
# answered: CLOCK_MONOTONIC when its headers were read and when its answer was written (the
# fake's own handling time, for bench/dispatch).
#
# Usage: fake-llm.py --script FILE --log FILE [--port N] [--port-file FILE] [--timing FILE]
# With --port 0 (the default) the kernel picks a port; --port-file receives it once the
# socket listens.
import argparse
import json
import os
import sys
import threading
import time
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STOP = threading.Event()
LOCK = threading.Lock()
STATE = {"steps": [], "next": 0, "n": 0, "log": None, "timing": None}


def next_step():
    with LOCK:
        STATE["n"] += 1
        n = STATE["n"]
        if STATE["next"] < len(STATE["steps"]):
            step = STATE["steps"][STATE["next"]]
            STATE["next"] += 1
            return n, step
        return n, None


def log_request(entry):
    with LOCK:
        with open(STATE["log"], "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


def declared_tool_names(fmt, body):
    names = []
    tools = body.get("tools") if isinstance(body, dict) else None
    for t in tools or []:
        if fmt in ("openai", "ollama"):
            names.append((t.get("function") or {}).get("name"))
        elif fmt == "anthropic":
            names.append(t.get("name"))
        elif fmt == "gemini":
            for d in t.get("functionDeclarations") or []:
                names.append(d.get("name"))
    return [n for n in names if n]


def wire_name(name, declared):
    if name in declared:
        return name
    if name.replace(".", "__") in declared:
        return name.replace(".", "__")
    return name


def answer_ok(fmt, step, body, model):
    declared = declared_tool_names(fmt, body)
    text = step.get("text")
    calls = step.get("tool_calls") or []
    usage = step.get("usage") or {}
    tin, tout = usage.get("in", 11), usage.get("out", 7)
    if fmt == "openai":
        msg = {"role": "assistant", "content": text}
        if calls:
            msg["tool_calls"] = [
                {"id": c.get("id", "call_%d" % (i + 1)), "type": "function",
                 "function": {"name": wire_name(c["name"], declared),
                              "arguments": json.dumps(c.get("arguments", {}))}}
                for i, c in enumerate(calls)]
        return {"id": "chatcmpl-fake", "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "message": msg,
                             "finish_reason": "tool_calls" if calls else "stop"}],
                "usage": {"prompt_tokens": tin, "completion_tokens": tout,
                          "total_tokens": tin + tout}}
    if fmt == "anthropic":
        content = []
        if text:
            content.append({"type": "text", "text": text})
        for i, c in enumerate(calls):
            content.append({"type": "tool_use", "id": c.get("id", "toolu_%d" % (i + 1)),
                            "name": wire_name(c["name"], declared),
                            "input": c.get("arguments", {})})
        return {"id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                "content": content, "stop_reason": "tool_use" if calls else "end_turn",
                "usage": {"input_tokens": tin, "output_tokens": tout}}
    if fmt == "ollama":
        msg = {"role": "assistant", "content": text or ""}
        if calls:
            msg["tool_calls"] = [{"function": {"name": wire_name(c["name"], declared),
                                               "arguments": c.get("arguments", {})}}
                                 for c in calls]
        return {"model": model, "created_at": "2026-01-01T00:00:00Z", "message": msg,
                "done": True, "done_reason": "stop", "prompt_eval_count": tin, "eval_count": tout}
    # gemini
    parts = []
    if text:
        parts.append({"text": text})
    for c in calls:
        parts.append({"functionCall": {"name": wire_name(c["name"], declared),
                                       "args": c.get("arguments", {})}})
    return {"candidates": [{"content": {"role": "model", "parts": parts},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": tin, "candidatesTokenCount": tout,
                              "totalTokenCount": tin + tout},
            "modelVersion": model}


def answer_error(fmt, status, message):
    if fmt == "openai":
        return {"error": {"message": message, "type": "fake_error", "code": status}}
    if fmt == "anthropic":
        return {"type": "error", "error": {"type": "fake_error", "message": message}}
    if fmt == "ollama":
        return {"error": message}
    return {"error": {"code": status, "message": message, "status": "FAKE"}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body are two writes: with Nagle the body waits for the client's
    # delayed ACK of the headers, 40 ms on Linux, in every answer.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def send_json(self, status, obj, extra=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        data = b"fake-llm\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        start = time.monotonic_ns()
        n = self.handle_post()
        if STATE["timing"] and n is not None:
            with LOCK:
                with open(STATE["timing"], "a", encoding="utf-8") as f:
                    f.write("%d %d %d\n" % (n, start, time.monotonic_ns()))

    def handle_post(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        path = self.path.split("?")[0]
        model = body.get("model") if isinstance(body, dict) else None
        if path == "/v1/chat/completions":
            fmt = "openai"
        elif path == "/v1/messages":
            fmt = "anthropic"
        elif path == "/api/chat":
            fmt = "ollama"
        elif path.startswith("/v1beta/models/") and path.endswith(":generateContent"):
            fmt = "gemini"
            model = path[len("/v1beta/models/"):-len(":generateContent")]
        else:
            log_request({"n": None, "method": "POST", "path": self.path,
                         "headers": dict(self.headers.items()), "body": body, "step": None})
            self.send_json(404, {"error": {"message": "fake-llm: no such path " + path}})
            return None
        n, step = next_step()
        log_request({"n": n, "method": "POST", "path": self.path,
                     "headers": dict(self.headers.items()), "body": body, "step": step})
        if step is None:
            self.send_json(500, answer_error(fmt, 500, "fake-llm: script exhausted"))
            return n
        if step.get("delay_ms"):
            time.sleep(step["delay_ms"] / 1000.0)
        if step.get("hang"):
            STOP.wait()
            self.close_connection = True
            return n
        if step.get("close"):
            self.close_connection = True
            return n
        status = int(step.get("status", 200))
        if "raw" in step:
            data = step["raw"].encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return n
        if status >= 300:
            extra = {}
            if "retry_after" in step:
                extra["Retry-After"] = str(step["retry_after"])
            self.send_json(status, answer_error(fmt, status, step.get("message", "fake-llm: scripted HTTP %d" % status)), extra)
            return n
        self.send_json(200, answer_ok(fmt, step, body, model))
        return n


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        # HTTPServer.server_bind asks the resolver for this host's name (socket.getfqdn),
        # which can take seconds on a machine whose DNS server is unreachable; the fake
        # needs no name, and a test waits only so long for it to listen.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]


def main():
    ap = argparse.ArgumentParser(description="A fake LLM provider for the tests.")
    ap.add_argument("--script", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--timing")
    args = ap.parse_args()
    with open(args.script, encoding="utf-8") as f:
        STATE["steps"] = json.load(f)
    if not isinstance(STATE["steps"], list):
        sys.exit("fake-llm: the script must be a JSON list of steps")
    STATE["log"] = args.log
    STATE["timing"] = args.timing
    open(args.log, "a").close()
    server = Server(("127.0.0.1", args.port), Handler)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.rename(tmp, args.port_file)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        STOP.set()


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    main()
