#!/bin/bash
# `aegis run` shows the inner loop's model and tool calls as they happen, one bounded line
# each; `aegis events` the same; `aegis show` each iteration's conversation and tokens.
# Against a fake aegisd (python3, written for this test) that answers the submission and
# serves a canned event stream and execution, so the display is tested on its own.
. "$AEGIS_TEST_LIB/common.sh"
require_cmd python3
make_scratch

port="$(free_port)"
cat >"$SCRATCH/fake-aegisd.py" <<'EOF'
# A fake aegisd: POST /v1/executions, GET /v1/executions/ID and its /events (SSE).
import json, sys
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, scratch = int(sys.argv[1]), sys.argv[2]
long_args = {"command": "uname -s", "note": "x" * 300 + "\nFORGED LINE"}
events = [
    {"type": "execution_started", "status": "running"},
    {"type": "iteration_started", "iteration": 1, "max_iterations": 3},
    {"type": "llm_call_started", "iteration": 1, "model_alias": "default", "round": 1, "messages": 2},
    {"type": "llm_call_finished", "iteration": 1, "provider": "fake-openai", "model": "gpt-test",
     "tokens_in": 120, "tokens_out": 35, "latency_ms": 412, "outcome": "ok"},
    {"type": "tool_call_started", "iteration": 1, "tool": "cmd.run", "arguments": long_args},
    {"type": "tool_call_finished", "iteration": 1, "tool": "cmd.run", "exit_code": 0, "duration_ms": 12},
    {"type": "llm_call_finished", "iteration": 1, "provider": "fake-openai", "model": "gpt-test",
     "tokens_in": 150, "tokens_out": 5, "latency_ms": 98, "outcome": "upstream_rate_limit"},
    {"type": "iteration_finished", "iteration": 1, "status": "completed"},
    {"type": "execution_finished", "status": "completed"},
]
trajectory = [
    {"role": "system", "content": "You are an agent.\nBe brief."},
    {"role": "user", "content": "Say hello."},
    {"role": "assistant", "content": "",
     "tool_calls": [{"id": "call_1", "name": "cmd.run", "arguments": "{\"command\":\"uname -s\"}"}]},
    {"role": "tool", "tool_call_id": "call_1", "name": "cmd.run", "content": "Linux\n"},
    {"role": "assistant", "content": "hello from Linux\u001b[2J" + "y" * 5000},
]
executions = {
    "ex-loop": {"id": "ex-loop", "status": "completed", "agent": "agent-hello", "output": "hello from Linux\n",
                "iterations": [{"number": 1, "status": "completed",
                                "trajectory": {"state": "final", "model_alias": "default", "rounds": 2,
                                               "tokens_in": 270, "tokens_out": 40, "messages_total": 5,
                                               "messages": trajectory}}]},
    "ex-plain": {"id": "ex-plain", "status": "completed", "agent": "hello", "output": "hi\n",
                 "iterations": [{"number": 1, "status": "completed", "exit_code": "0"}]},
}

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        open(scratch + "/submitted.json", "wb").write(body)
        self.answer(202, {"execution_id": "ex-loop", "status": "pending", "warnings": []})

    def do_GET(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) == 4 and parts[3] == "events" and parts[2] in executions:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for seq, ev in enumerate(events, 1):
                ev = dict(ev, execution_id=parts[2], time="2026-12-05T12:00:00Z")
                self.wfile.write(("id: %d\nevent: %s\ndata: %s\n\n" % (seq, ev["type"], json.dumps(ev))).encode())
                self.wfile.flush()
            return
        if len(parts) == 3 and parts[2] in executions:
            return self.answer(200, executions[parts[2]])
        self.answer(404, {"error": "no such execution"})

class Server(ThreadingHTTPServer):
    def server_bind(self):  # no socket.getfqdn(): it may wait on an unreachable resolver
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

Server(("127.0.0.1", port), H).serve_forever()
EOF
python3 "$SCRATCH/fake-aegisd.py" "$port" "$SCRATCH" &
fake=$!
on_exit "kill $fake 2>/dev/null; wait $fake 2>/dev/null"
wait_for 10 curl -sf "http://127.0.0.1:$port/v1/executions/ex-plain" || fail "the fake aegisd did not start"
aegis() { "$AEGIS_CLI" --url "http://127.0.0.1:$port" "$@"; }

# aegis run: one line per event, bounded, nothing injected by the arguments' newline.
out="$(aegis run "$top_srcdir/examples/agent-hello.yaml" --input '"Say hello."' 2>"$SCRATCH/run.err")"
assert_eq "run: exit code 0 for a completed execution" 0 "$?"
assert_eq "run: the output on stdout" "hello from Linux" "$out"
err="$(cat "$SCRATCH/run.err")"
check "run: the manifest and input were submitted" grep -q 'cmd.run' "$SCRATCH/submitted.json"
check "run: model call started (the alias: no provider chosen yet)" grep -qxF 'aegis: iteration 1: model default: called' "$SCRATCH/run.err"
check "run: model call finished with tokens and latency" grep -qxF \
        'aegis: iteration 1: model fake-openai/gpt-test: ok, 120 tokens in, 35 out, 412 ms' "$SCRATCH/run.err"
check "run: a failed model call names its outcome" grep -qxF \
        'aegis: iteration 1: model fake-openai/gpt-test: upstream_rate_limit, 150 tokens in, 5 out, 98 ms' \
        "$SCRATCH/run.err"
check "run: tool call finished with exit code and duration" grep -qxF \
        'aegis: iteration 1: tool cmd.run: exit 0, 12 ms' "$SCRATCH/run.err"
tool_line="$(grep '^aegis: iteration 1: tool cmd.run {' "$SCRATCH/run.err")"
assert_match "run: tool call started with its arguments" '^aegis: iteration 1: tool cmd.run \{"command":"uname -s","note":"xxx' "$tool_line"
assert_match "run: the arguments are cut with …" 'x…$' "$tool_line"
check "run: the arguments are bounded (≤ 120 bytes + the prefix)" test "${#tool_line}" -le 160
check "run: a newline in the arguments forges no line" bash -c "! grep -q '^FORGED' '$SCRATCH/run.err'"
assert_match "run: the end is reported" 'aegis: execution ex-loop completed after 1 iteration' "$err"

# aegis events: the same text under each event.
ev="$(aegis events ex-loop)"
assert_match "events: model call line" $'llm_call_finished +iteration 1\n    model fake-openai/gpt-test: ok, 120 tokens in, 35 out, 412 ms' "$ev"
assert_match "events: tool call line" $'tool_call_finished +iteration 1\n    tool cmd.run: exit 0, 12 ms' "$ev"

# aegis show: the conversation, tokens, tool calls and results; bounded and without
# control characters.
show="$(aegis show ex-loop)"
assert_match "show: tokens per iteration" 'Iteration 1 conversation \(270 tokens in, 40 out\):' "$show"
assert_match "show: the system message, each line indented" $'    system:\n      You are an agent.\n      Be brief.' "$show"
assert_match "show: the user message" $'    user:\n      Say hello.' "$show"
assert_match "show: the assistant's tool call" $'    assistant:\n      → cmd.run \\{"command":"uname -s"\\} \\[call_1\\]' "$show"
assert_match "show: the tool result" $'    tool cmd.run \\[call_1\\]:\n      Linux' "$show"
assert_match "show: the final answer, cut at 4096 bytes" $'    assistant:\n      hello from Linux \\[2Jy+\n      \\[… 924 more bytes: aegis show -o json\\]' "$show"
check "show: no escape character reaches the terminal" bash -c "! grep -q $'\e' <<<\"\$1\"" _ "$show"
assert_match "show: the output follows" $'Output:\nhello from Linux' "$show"
json="$(aegis -o json show ex-loop | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["iterations"][0]["trajectory"]["messages"]))')"
assert_eq "show -o json: the whole trajectory" 5 "$json"
plain="$(aegis show ex-plain)"
check "show: no conversation for a command-running execution" bash -c "! grep -q conversation <<<\"\$1\"" _ "$plain"
assert_match "show: the iteration table still" '  1  completed' "$plain"
finish
