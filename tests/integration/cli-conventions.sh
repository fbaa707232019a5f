#!/bin/bash
# The CLI behaves as podman and kubectl users expect (issue 17): --help and `aegis help CMD`
# for every command without a request; --version for every program; ids by unique prefix
# (ambiguous and too-short prefixes refused, naming the matches); podman's exit codes
# (0/1/2 the outcome, 125 aegis's own errors, 127 a command not found); -o
# json|yaml|wide|name and --no-headers; human sizes in tables; pagination hints that keep
# the filters; sizes as 1g, 1.5Gi, 512M, 1024; logs --tail/-t/--since; delete --force;
# agent delete; the status line fitted to the terminal; Ctrl-C saying the execution goes
# on; completion for bash, zsh and fish with ids from the daemon.
# Against a fake aegisd (python3, written for this test) that records every request.
. "$AEGIS_TEST_LIB/common.sh"
require_cmd python3 jq script bash zsh fish
python3 -c 'import yaml' 2>/dev/null || skip_or_fail "needs python3-yaml"
make_scratch

port="$(free_port)"
cat >"$SCRATCH/fake-aegisd.py" <<'EOF'
import json, sys, time, socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

port, scratch = int(sys.argv[1]), sys.argv[2]
A = "770ccb2e-1111-4aaa-8bbb-000000000001"
B = "770ccb2e-2222-4aaa-8bbb-000000000002"
C = "abcd1234-3333-4aaa-8bbb-000000000003"  # on the second page of the list
D = "dddd0000-4444-4aaa-8bbb-000000000004"  # running forever
E = "eeee0000-5555-4aaa-8bbb-000000000005"  # failed, last iteration exit 127
F = "ffff0000-6666-4aaa-8bbb-000000000006"  # cancelled
def ex(i, status, reason=None, its=None):
    return {"id": i, "execution_id": i, "agent": "hello", "status": status, "reason": reason,
            "iteration_count": len(its or []), "max_iterations": 3,
            "created_at": "2026-12-05T12:00:00Z", "started_at": "2026-12-05T12:00:01Z",
            "finished_at": None if status == "running" else "2026-12-05T12:01:31Z",
            "iterations": its or [], "output": "out of %s\n" % i[:4]}
it1 = {"number": 1, "status": "failed", "exit_code": 1, "reason": "exit 1", "container_id": "c" * 64,
       "started_at": "2026-12-05T12:00:01Z", "finished_at": "2026-12-05T12:00:31Z"}
it2 = {"number": 2, "status": "completed", "exit_code": 0, "container_id": "d" * 64,
       "started_at": "2026-12-05T12:01:00Z", "finished_at": "2026-12-05T12:01:30Z"}
executions = {
    A: ex(A, "completed", None, [it1, it2]),
    B: ex(B, "failed", "x" * 300, [it1]),
    C: ex(C, "completed", None, [it2]),
    D: ex(D, "running", None, [dict(it1, status="running", exit_code=None, finished_at=None)]),
    E: ex(E, "failed", "command not found", [dict(it1, exit_code=127)]),
    F: ex(F, "cancelled", "cancelled by the user", [it1]),
}
logs = {1: "one-a\none-b\n", 2: "two-a\ntwo-b\ntwo-c\n"}
volumes = [{"id": "0a0a0000-7777-4aaa-8bbb-000000000007", "name": "work", "storage_class": "persistent",
            "access_mode": "read-write", "size_limit": 1610612736, "bytes_used": 123456789,
            "expires_at": None}]
agents = [{"agent_id": "ag-1", "id": "ag-1", "name": "hello", "version": "1.0", "created_at": "2026-12-05T12:00:00Z"},
          {"agent_id": "ag-2", "id": "ag-2", "name": "hello", "version": "2.0", "created_at": "2026-12-05T12:00:00Z"}]

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def record(self, body=b""):
        with open(scratch + "/requests.log", "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, body.decode(errors="replace")))
    def answer(self, code, obj, ctype="application/json"):
        body = (json.dumps(obj) if ctype == "application/json" else obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))
    def do_POST(self):
        b = self.body(); self.record(b)
        u = urlsplit(self.path); p = u.path.strip("/").split("/")
        if u.path == "/v1/executions":
            if b"BAD" in b:
                return self.answer(400, {"error": "manifest.yaml:1: spec: required", "field": "spec"})
            return self.answer(202, {"execution_id": A, "status": "pending"})
        if u.path == "/v1/volumes":
            return self.answer(201, dict(volumes[0], **json.loads(b)))
        if len(p) == 4 and p[3] == "cancel" and p[2] in executions:
            executions[p[2]]["status"] = "cancelled"
            return self.answer(202, {"status": "cancelling"})
        self.answer(404, {"error": "no route"})
    def do_DELETE(self):
        self.record()
        p = urlsplit(self.path).path.strip("/").split("/")
        if p[:2] == ["v1", "executions"] and len(p) == 3 and p[2] in executions:
            if executions[p[2]]["status"] == "running":
                return self.answer(409, {"error": "execution %s is running: cancel it first" % p[2]})
            return self.answer(200, {"status": "deleted"})
        if p[:2] == ["v1", "agents"] and len(p) == 3 and p[2] in ("ag-1", "ag-2", "hello"):
            return self.answer(200, {"status": "deleted"})
        self.answer(404, {"error": "not found"})
    def do_GET(self):
        self.record()
        u = urlsplit(self.path); q = parse_qs(u.query); p = u.path.strip("/").split("/")
        if u.path == "/v1/executions":
            ids = [A, B, D, E, F, C]
            if "status" in q:
                ids = [i for i in ids if executions[i]["status"] == q["status"][0]]
            start = int(q.get("cursor", ["0"])[0]); limit = min(int(q.get("limit", ["50"])[0]), 5)
            page = ids[start:start + limit]
            nxt = str(start + limit) if start + limit < len(ids) else None
            items = [{k: v for k, v in executions[i].items() if k not in ("iterations", "output")} for i in page]
            return self.answer(200, {"executions": items, "next_cursor": nxt})
        if u.path == "/v1/volumes":
            return self.answer(200, {"volumes": volumes})
        if u.path == "/v1/agents":
            return self.answer(200, {"agents": agents})
        if p[:3] == ["v1", "agents", "lookup"] and len(p) == 4 and p[3] == "hello":
            return self.answer(200, [a for a in agents if a["version"] == q.get("version", ["2.0"])[0]][0])
        if p[:2] == ["v1", "agents"] and len(p) == 3 and p[2] == "hello":
            return self.answer(200, [a for a in agents if a["version"] == q.get("version", ["2.0"])[0]][0])
        if p[:2] == ["v1", "volumes"] and len(p) == 3 and p[2] == volumes[0]["id"]:
            return self.answer(200, volumes[0])
        if len(p) >= 3 and p[:2] == ["v1", "executions"] and p[2] in executions:
            e = executions[p[2]]
            if len(p) == 3:
                return self.answer(200, e)
            if p[3] == "logs":
                n = int(q.get("iteration", ["0"])[0])
                text = logs.get(n, "") if n else "".join(logs.values())
                return self.answer(200, text, "text/plain")
            if p[3] == "events":
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                evs = [{"type": "execution_created", "status": "pending"},
                       {"type": "iteration_started", "iteration": 1, "max_iterations": 3},
                       {"type": "container_started", "iteration": 1,
                        "message": "container started with a very long message " + "y" * 200}]
                if e["status"] != "running":
                    evs += [{"type": "iteration_finished", "iteration": 1, "status": e["status"],
                             "reason": e["reason"]},
                            {"type": "execution_finished", "status": e["status"], "reason": e["reason"]}]
                try:
                    for n, ev in enumerate(evs, 1):
                        self.wfile.write(("id: %d\nevent: %s\ndata: %s\n\n" % (n, ev["type"], json.dumps(ev))).encode())
                        self.wfile.flush()
                        time.sleep(0.3)
                    while e["status"] == "running":
                        time.sleep(0.2)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the CLI stopped following (Ctrl-C)
                return
        self.answer(404, {"error": "not found: " + u.path})

class Server(ThreadingHTTPServer):
    daemon_threads = True
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

Server(("127.0.0.1", port), H).serve_forever()
EOF
python3 "$SCRATCH/fake-aegisd.py" "$port" "$SCRATCH" &
fake=$!
on_exit "kill $fake 2>/dev/null; wait $fake 2>/dev/null"
wait_for 10 curl -sf "http://127.0.0.1:$port/v1/volumes" || fail "the fake aegisd did not start"
export AEGIS_URL="http://127.0.0.1:$port"
aegis() { "$AEGIS_CLI" "$@"; }
requests() { cat "$SCRATCH/requests.log" 2>/dev/null; }
: >"$SCRATCH/requests.log"
A=770ccb2e-1111-4aaa-8bbb-000000000001
C=abcd1234-3333-4aaa-8bbb-000000000003
D=dddd0000-4444-4aaa-8bbb-000000000004

# ---- help: every command, no request ----
commands=(run submit list show logs events wait cancel delete health doctor completion help
        "agent deploy" "agent list" "agent show" "agent run" "agent delete"
        "volume create" "volume list" "volume show" "volume delete")
for c in "${commands[@]}"; do
        # shellcheck disable=SC2086
        out="$(aegis $c --help 2>&1)"
        assert_eq "aegis $c --help exits 0" 0 "$?"
        assert_match "aegis $c --help is its usage" "^Usage: aegis $c" "$out"
        # shellcheck disable=SC2086
        out="$(aegis help $c 2>&1)"
        assert_eq "aegis help $c exits 0" 0 "$?"
        assert_match "aegis help $c is its usage" "^Usage: aegis $c" "$out"
done
out="$(aegis cancel 770ccb2e-1111-4aaa-8bbb-000000000001 -h 2>&1)"
assert_match "-h after an id is help too" "^Usage: aegis cancel ID" "$out"
assert_match "aegis help agent lists its commands" "delete +NAME\[@VERSION\]" "$(aegis help agent)"
assert_match "aegis --help lists doctor" "doctor" "$(aegis --help)"
assert_match "aegis --help lists --version" "--version" "$(aegis --help)"
assert_eq "no request was sent for any help" "" "$(requests)"

# ---- --version, every program ----
for p in "$AEGIS_CLI" "$AEGISD" "$AEGIS_NFSD" "$AEGIS_REAPER" "$top_builddir/aegis-bootstrap"; do
        out="$("$p" --version 2>&1)"
        assert_eq "$(basename "$p") --version exits 0" 0 "$?"
        assert_match "$(basename "$p") --version names it and the version" "^$(basename "$p") [0-9]" "$out"
done
assert_eq "still no request" "" "$(requests)"

# ---- ids: unique prefixes, ambiguous, too short ----
out="$(aegis -o name show 770ccb2e-1 2>&1)"
assert_eq "a unique prefix shows the execution" "$A" "$out"
check "and the GET used the whole id" grep -q "^GET /v1/executions/$A " "$SCRATCH/requests.log"
out="$(aegis -o name show abcd 2>&1)"
assert_eq "a prefix of an id on the list's second page" "$C" "$out"
out="$(aegis show 770c 2>&1)"
assert_eq "an ambiguous prefix exits 125" 125 "$?"
assert_match "and names the matches" "ambiguous.*770ccb2e-1111-4aaa-8bbb-000000000001.*770ccb2e-2222-4aaa-8bbb-000000000002" "$(tr '\n' ' ' <<<"$out")"
: >"$SCRATCH/requests.log"
out="$(aegis cancel 770 2>&1)"
assert_eq "a prefix of 3 characters exits 125" 125 "$?"
assert_match "and says to give at least 4" "at least 4 characters" "$out"
assert_eq "and sends nothing" "" "$(requests)"
out="$(aegis logs 9999 2>&1)"
assert_eq "a prefix nothing has exits 125" 125 "$?"
assert_match "and says so" 'no execution has an id starting with "9999"' "$out"
assert_eq "a volume by prefix" "0a0a0000-7777-4aaa-8bbb-000000000007" "$(aegis -o name volume show 0a0a)"

# ---- exit codes ----
aegis -q wait "$A" >/dev/null 2>&1
assert_eq "completed: 0" 0 "$?"
aegis -q wait 770ccb2e-2 >/dev/null 2>&1
assert_eq "failed: 1" 1 "$?"
aegis -q wait ffff >/dev/null 2>&1
assert_eq "cancelled: 2" 2 "$?"
aegis -q wait eeee >/dev/null 2>&1
assert_eq "failed with the command not found (exit 127): 127" 127 "$?"
printf 'BAD\n' >"$SCRATCH/bad.yaml"
out="$(aegis run "$SCRATCH/bad.yaml" 2>&1)"
assert_eq "a manifest the daemon refuses: 125" 125 "$?"
assert_match "with the daemon's message" "manifest.yaml:1: spec: required" "$out"
aegis run "$SCRATCH/missing.yaml" >/dev/null 2>&1
assert_eq "an unreadable manifest: 125" 125 "$?"
out="$("$AEGIS_CLI" --url "http://127.0.0.1:$(free_port)" show "$A" 2>&1)"
assert_eq "no daemon: 125" 125 "$?"
assert_match "saying where it looked" "cannot reach aegisd at http://127.0.0.1:" "$out"
out="$(timeout 20 "$AEGIS_CLI" --url "http://127.0.0.1:$(free_port)" wait "$A" 2>&1)"
assert_eq "no daemon to wait for: 125, at once" 125 "$?"
aegis list --limit zero >/dev/null 2>&1
assert_eq "a usage error: 125" 125 "$?"
aegis frobnicate >/dev/null 2>&1
assert_eq "an unknown command: 125" 125 "$?"
aegis -o xml list >/dev/null 2>&1
assert_eq "an unknown output mode: 125" 125 "$?"

# ---- output modes ----
out="$(aegis list -o json)"
assert_eq "-o json: exact numbers" 2 "$(jq '.executions[0].iteration_count' <<<"$out")"
out="$(aegis -o yaml show "$A")"
assert_eq "-o yaml: parses, the same document as json" \
        "$(aegis -o json show "$A" | jq -S -c .)" \
        "$(python3 -c 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin), sort_keys=True, separators=(",", ":")))' <<<"$out")"
out="$(aegis list -o name)"
assert_eq "-o name: ids only, one a line" "$(printf '%s\n' 770ccb2e-1111-4aaa-8bbb-000000000001 770ccb2e-2222-4aaa-8bbb-000000000002 dddd0000-4444-4aaa-8bbb-000000000004 eeee0000-5555-4aaa-8bbb-000000000005 ffff0000-6666-4aaa-8bbb-000000000006)" "$out"
assert_eq "-q in a list: ids only too" "$out" "$(aegis list -q 2>/dev/null)"
out="$(aegis list 2>/dev/null)"
assert_match "text: a header" "^ID +AGENT +STATUS +ITER +CREATED +DURATION +REASON" "$out"
assert_match "text: 12-character ids" "^770ccb2e-111 +hello +completed +2 " "$(sed -n 2p <<<"$out")"
assert_match "text: durations" "1m30s" "$out"
check "text: a 300-character reason is cut" bash -c '! grep -q "x\{60\}" <<<"$1"' _ "$out"
printf '%s\n' "$out" >"$SCRATCH/list.txt"
check "text: every line of the table is at most 120 columns" test "$(python3 -c 'import sys; print(max(len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")))' "$SCRATCH/list.txt")" -le 120
wide="$(aegis list -o wide 2>/dev/null)"
check "wide: whole ids" grep -q "^$A " <<<"$wide"
check "wide: whole reasons" grep -q "x\{300\}" <<<"$wide"
assert_match "--no-headers: rows only" "^770ccb2e-111 " "$(aegis list --no-headers 2>/dev/null | head -1)"
out="$(aegis volume list)"
assert_match "volume list: human sizes" "1.5 GiB +118 MiB" "$out"
assert_match "volume show: human and exact" "1.5 GiB \(1610612736 bytes\)" "$(aegis volume show 0a0a)"

# ---- pagination hints keep the filters ----
out="$(aegis list --status completed --limit 1 2>&1 >/dev/null)"
assert_match "the hint keeps --status and --limit" "aegis list --status completed --limit 1 --cursor 1" "$out"

# ---- sizes ----
for s in 1g:1073741824 1.5Gi:1610612736 512M:512000000 1024:1024; do
        : >"$SCRATCH/requests.log"
        aegis volume create v --size-limit "${s%%:*}" >/dev/null
        check "--size-limit ${s%%:*} is ${s#*:} bytes" grep -q "\"size_limit\":${s#*:}}" "$SCRATCH/requests.log"
done
: >"$SCRATCH/requests.log"
out="$(aegis volume create v --size-limit 1.5 2>&1)"
assert_eq "--size-limit 1.5 (a fraction of a byte): 125" 125 "$?"
assert_eq "refused before any request" "" "$(requests)"

# ---- logs ----
assert_eq "logs --tail 2" "$(printf 'two-b\ntwo-c')" "$(aegis logs --tail 2 "$A")"
assert_eq "logs --iteration 1" "$(printf 'one-a\none-b')" "$(aegis logs --iteration 1 "$A")"
assert_eq "logs -t: the iteration's start on each line" "2026-12-05T12:01:00Z two-c" "$(aegis logs -t --tail 1 "$A")"
assert_eq "logs --since: iterations started since" "$(printf 'two-a\ntwo-b\ntwo-c')" \
        "$(aegis logs --since 2026-12-05T12:00:30Z "$A")"
aegis logs -f --tail 1 "$A" >/dev/null 2>&1
assert_eq "logs -f with --tail is a usage error" 125 "$?"

# ---- delete --force ----
: >"$SCRATCH/requests.log"
aegis delete "$D" >/dev/null 2>&1
assert_eq "delete of a running execution: 125" 125 "$?"
aegis delete --force dddd >/dev/null 2>&1
assert_eq "delete --force: 0" 0 "$?"
assert_match "cancelled, then deleted" "POST /v1/executions/$D/cancel.*DELETE /v1/executions/$D " "$(tr '\n' ' ' <<<"$(requests)")"

# ---- agent delete ----
: >"$SCRATCH/requests.log"
aegis agent delete hello 2>/dev/null
assert_eq "agent delete NAME: 0" 0 "$?"
assert_match "looks the agent up, deletes its id, every version" "GET /v1/agents/lookup/hello .*DELETE /v1/agents/ag-2 " "$(tr '\n' ' ' <<<"$(requests)")"
: >"$SCRATCH/requests.log"
aegis agent delete hello@1.0 2>/dev/null
assert_match "agent delete NAME@VERSION deletes that version" "GET /v1/agents/lookup/hello\?version=1.0 .*DELETE /v1/agents/hello\?version=1.0 " "$(tr '\n' ' ' <<<"$(requests)")"

# ---- the status line: the terminal's width, the real state ----
script -qfc "stty cols 40; '$AEGIS_CLI' wait $A" "$SCRATCH/tty.out" >/dev/null 2>&1
tr '\r' '\n' <"$SCRATCH/tty.out" | sed 's/\x1b\[K//g' >"$SCRATCH/tty.lines"
widest() { python3 -c 'import sys; print(max([len(l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8") if l.startswith(sys.argv[2])] or [0]))' "$@"; }
check "the status line was drawn" grep -q "^770ccb2e-111" "$SCRATCH/tty.lines"
check "the status line fits 40 columns (widest $(widest "$SCRATCH/tty.lines" 770ccb2e-111))" \
        test "$(widest "$SCRATCH/tty.lines" 770ccb2e-111)" -le 39
check "it says running while the iteration runs" grep -q "^770ccb2e-111  iteration 1/3  running" "$SCRATCH/tty.lines"

# ---- Ctrl-C: the execution goes on ----
"$AEGIS_CLI" wait "$D" >/dev/null 2>"$SCRATCH/int.err" &
pid=$!
wait_for 10 grep -q "iteration 1" "$SCRATCH/int.err" || true
kill -INT "$pid"
wait "$pid"
assert_eq "Ctrl-C ends aegis by SIGINT" 130 "$?"
err="$(cat "$SCRATCH/int.err")"
assert_match "it says the execution goes on" "execution $D goes on" "$err"
assert_match "and how to follow or cancel it" "aegis wait $D.*aegis cancel $D" "$(tr '\n' ' ' <<<"$err")"

# ---- completion: bash, zsh, fish, ids and agent names from the daemon ----
for f in bash:aegis zsh:_aegis fish:aegis.fish; do
        check "the shipped ${f%%:*} script is what 'aegis completion ${f%%:*}' prints" \
                cmp -s "$top_srcdir/src/cli/completion/${f#*:}" <(aegis completion "${f%%:*}")
done
aegis completion bash >"$SCRATCH/aegis.bash"
complete_bash() { # complete_bash WORDS... (the last is completed)
        PATH="$top_builddir:$PATH" bash -c '. "$1"; shift; COMP_WORDS=(aegis "$@"); COMP_CWORD=$#; _aegis; printf "%s\n" "${COMPREPLY[@]}"' _ "$SCRATCH/aegis.bash" "$@"
}
assert_match "bash: commands, doctor included" "doctor" "$(complete_bash "")"
assert_eq "bash: a command's options" "--since" "$(complete_bash logs --si)"
assert_eq "bash: execution ids from the daemon" "$(printf '%s\n' 770ccb2e-1111-4aaa-8bbb-000000000001 770ccb2e-2222-4aaa-8bbb-000000000002)" "$(complete_bash show 770)"
assert_eq "bash: agent names from the daemon" "$(printf 'hello\nhello')" "$(complete_bash agent run he)"
assert_eq "bash: -o values" "yaml" "$(complete_bash list -o y)"
assert_eq "bash: files for a manifest" "bad.yaml" "$(cd "$SCRATCH" && complete_bash run ba)"
aegis completion zsh >"$SCRATCH/_aegis"
out="$(zsh -fc 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -d "$1/zcompdump"; echo ${_comps[aegis]}' _ "$SCRATCH" 2>&1)"
assert_eq "zsh: compinit finds the script for aegis" "_aegis" "$out"
# _aegis with compsys's compadd and _files stood in for: what it would offer.
zsh_offers() {
        PATH="$top_builddir:$PATH" zsh -fc 'source "$1" 2>/dev/null; compadd() { print -l -- "${(@P)2}"; }
                _files() { print FILES; }; shift; words=(aegis "$@"); CURRENT=$#words; _aegis' _ "$SCRATCH/_aegis" "$@"
}
assert_eq "zsh: execution ids from the daemon" "$(printf '%s\n' 770ccb2e-1111-4aaa-8bbb-000000000001 770ccb2e-2222-4aaa-8bbb-000000000002)" "$(zsh_offers show 770)"
assert_eq "zsh: files for a manifest" FILES "$(zsh_offers run x)"
aegis completion fish >"$SCRATCH/aegis.fish"
out="$(PATH="$top_builddir:$PATH" fish --no-config -c "source $SCRATCH/aegis.fish; complete -C 'aegis doc'; complete -C 'aegis wait 770ccb2e-1'")"
assert_match "fish: commands" "^doctor" "$out"
assert_match "fish: ids from the daemon" "770ccb2e-1111-4aaa-8bbb-000000000001" "$out"
finish
