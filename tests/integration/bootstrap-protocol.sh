#!/bin/bash
# aegis-bootstrap speaks the dispatch protocol (aegis-bootstrap(8)) against a FAKE gateway
# (tests/lib/fake-gateway.py: scripted answers, recorded requests), on the host and as
# PID 1 of a real busybox container with --network none and of one without a shell: final
# content printed exactly; dispatches with args (no shell) and with a shell line; a
# timeout kills the whole process group; output over the bound keeps head and tail;
# env_additions reach the command and the capability does not; a gateway that drops a
# request and restarts gets the same bytes again; an error answer exits 1. Then a Python
# client of the reference's kind runs through --relay, over TCP to 127.0.0.1 only.
. "$AEGIS_TEST_LIB/common.sh"
require_cmd python3 file jq

BOOT="$top_builddir/aegis-bootstrap"
GW="$AEGIS_TEST_LIB/fake-gateway.py"
[ -x "$BOOT" ] || fail "$BOOT is not built"
make_scratch
CAP="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
GW_PIDS=()
# $! may be a wrapper (a pyenv shim forks the interpreter): the gateways are also found by
# their sockets in this test's scratch directory.
stop_gateways() {
        local p
        for p in "${GW_PIDS[@]}"; do kill "$p" 2>/dev/null; done
        pkill -f -- "fake-gateway.py --socket $SCRATCH/" 2>/dev/null
        for p in "${GW_PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
on_exit stop_gateways

check "the bootstrap is statically linked" bash -c "file -L '$BOOT' | grep -q 'statically linked'"
note "size: $(stat -c %s "$BOOT") bytes"

# gateway NAME: starts a fake gateway on $SCRATCH/NAME/gw/dispatch.sock following
# $SCRATCH/NAME/script.json (written by the caller), recording into $SCRATCH/NAME/rec.jsonl.
gateway() {
        local d="$SCRATCH/$1"
        mkdir -p "$d/gw"
        python3 "$GW" --socket "$d/gw/dispatch.sock" --script "$d/script.json" --record "$d/rec.jsonl" \
                >>"$d/gw.log" 2>&1 &
        GW_PIDS+=($!)
        wait_for 10 test -S "$d/gw/dispatch.sock" || fail "the fake gateway $1 did not start: $(cat "$d/gw.log")"
}
# q NAME FILTER: a jq filter over the array of the requests the gateway NAME got (jq, not
# Python: it starts in a tenth of the time on a loaded machine).
q() { jq -rcs "$2" "$SCRATCH/$1/rec.jsonl"; }
# boot NAME [VAR=VALUE...]: the bootstrap on the host against gateway NAME; sets RC.
boot() {
        local d="$SCRATCH/$1"
        shift
        env AEGIS_ORCHESTRATOR_URL="http://127.0.0.1:9/d/$CAP" AEGIS_DISPATCH_SOCKET="$d/gw/dispatch.sock" \
                AEGIS_EXECUTION_ID=exec-1 AEGIS_AGENT_ID=agent-1 AEGIS_ITERATION=3 AEGIS_MODEL_ALIAS=smart \
                AEGIS_LLM_TIMEOUT_SECONDS=5 "$@" "$BOOT" --prompt-file "$SCRATCH/prompt.txt" \
                >"$d/out" 2>"$d/err"
        RC=$?
}
printf 'Solve it.\nUser: caf\xc3\xa9\nAgent:' >"$SCRATCH/prompt.txt"
FINAL='two lines
"quoted" caf\u00e9 \u2713 no newline at the end'
FINAL_BYTES="$(printf 'two lines\n"quoted" caf\xc3\xa9 \xe2\x9c\x93 no newline at the end')"

# The main conversation: dispatch with args, with a shell line, the environment, final.
main_script() { # main_script CWD SCRATCH_IN_RUN
        cat <<EOF
[{"reply": {"type": "dispatch", "dispatch_id": "d-args", "action": "exec", "command": "printf",
   "args": ["%s|%s\\\\n", "a b", "\$HOME;\`id\`"], "cwd": "$1", "env_additions": {},
   "timeout_secs": 10, "max_output_bytes": 4096}},
 {"chunked": true, "reply": {"type": "dispatch", "dispatch_id": "d-shell", "action": "exec",
   "command": "echo out; echo err >&2; exit 3", "args": [], "cwd": "$1",
   "timeout_secs": 10, "max_output_bytes": 4096}},
 {"reply": {"type": "dispatch", "dispatch_id": "d-env", "action": "exec", "command": "sh",
   "args": ["-c", "echo FOO=\$FOO; env | grep -c AEGIS_; grep -c $CAP /proc/\$PPID/environ /proc/1/environ 2>&1; pwd"],
   "cwd": "$1", "env_additions": {"FOO": "bar baz", "PATH": "/usr/local/bin:/usr/bin:/bin"},
   "timeout_secs": 10, "max_output_bytes": 4096}},
 {"reply": {"type": "dispatch", "dispatch_id": "d-cwd", "action": "exec", "command": "true",
   "args": [], "cwd": "/no/such/dir", "timeout_secs": 10, "max_output_bytes": 4096}},
 {"reply": {"type": "dispatch", "dispatch_id": "d-bound", "action": "exec",
   "command": "seq 1 100000; printf 'bad \\\\377 byte' >&2", "args": [], "cwd": "$1",
   "timeout_secs": 10, "max_output_bytes": 1000}},
 {"reply": {"type": "dispatch", "dispatch_id": "d-timeout", "action": "exec",
   "command": "sleep 30 & echo \$! >$2/bg.pid; echo started; sleep 30", "args": [], "cwd": "$1",
   "timeout_secs": 1, "max_output_bytes": 4096}},
 {"chunked": true, "reply": {"content": "$(printf '%s' "$FINAL" | sed 's/"/\\"/g' | sed ':a;N;$!ba;s/\n/\\n/g')", "tool_calls_executed": 6}}]
EOF
}

# assert_main NAME WHERE: the requests and results of one main conversation.
assert_main() {
        local n="$1" w="$2" out
        assert_eq "$w: exit status 0" 0 "$RC"
        check "$w: the final content on stdout, exactly" cmp -s "$SCRATCH/$n/out" <(printf '%s' "$FINAL_BYTES")
        assert_eq "$w: 7 requests" 7 "$(q "$n" length)"
        assert_eq "$w: each to the capability's path" "[\"/d/$CAP/v1/dispatch-gateway\"]" \
                "$(q "$n" '[.[].path] | unique')"
        assert_eq "$w: generate" '["generate","exec-1","agent-1",3,"smart",[],"Solve it.\nUser: café\nAgent:"]' \
                "$(q "$n" '[.[0].body | .type, .execution_id, .agent_id, .iteration_number, .model_alias, .messages, .prompt]')"
        assert_eq "$w: args run without a shell" '["dispatch_result","exec-1","d-args",0,"a b|$HOME;`id`\n",""]' \
                "$(q "$n" '[.[1].body | .type, .execution_id, .dispatch_id, .exit_code, .stdout, .stderr]')"
        assert_eq "$w: a shell line, its stdout, stderr and exit code" '["d-shell",3,"out\n","err\n",false]' \
                "$(q "$n" '[.[2].body | .dispatch_id, .exit_code, .stdout, .stderr, .truncated]')"
        out="$(q "$n" '.[3].body.stdout')"
        assert_match "$w: env_additions reach the command, no AEGIS_* variable does" '^FOO=bar baz
0
' "$out"
        check "$w: the capability is not in the bootstrap's /proc/PID/environ as the command sees it" \
                bash -c "! grep -q '$CAP' <<<'$out' && grep -Eq 'environ(:0|: Permission denied)' <<<'$out'"
        assert_eq "$w: a missing cwd is exit code 127" 127 "$(q "$n" '.[4].body.exit_code')"
        assert_match "$w: … and says so" 'working directory /no/such/dir: does not exist' "$(q "$n" '.[4].body.stderr')"
        out="$(q "$n" '.[5].body.stdout')"
        assert_eq "$w: over the bound: truncated" true "$(q "$n" '.[5].body.truncated')"
        assert_match "$w: … keeps the head" '^1
2
3
4
' "$out"
        assert_match "$w: … and the tail" '
99999
100000$' "$out"
        assert_match "$w: … and says what was dropped" 'stdout was 588895 bytes, over max_output_bytes \(1000\): [0-9]+ bytes between' "$out"
        assert_eq "$w: … within the bound (and the marker)" true "$(q "$n" '.[5].body.stdout | length < 1000 + 200')"
        assert_eq "$w: invalid UTF-8 is replaced" "bad � byte" "$(q "$n" '.[5].body.stderr')"
        check "$w: every request is valid UTF-8" test "$(q "$n" 'all(.[]; .valid_utf8)')" = true
        assert_eq "$w: a timeout is exit code 124" 124 "$(q "$n" '.[6].body.exit_code')"
        assert_eq "$w: … with the output until then" "started" "$(q "$n" '.[6].body.stdout | rtrimstr("\n")')"
        assert_match "$w: … and says it timed out" 'timed out after 1 s' "$(q "$n" '.[6].body.stderr')"
        assert_eq "$w: … within 1-5 s" true "$(q "$n" '.[6].body.duration_ms | . >= 1000 and . < 5000')"
}

# --- on the host -------------------------------------------------------------------------
mkdir -p "$SCRATCH/host/work"
main_script "$SCRATCH/host/work" "$SCRATCH/host" >"$SCRATCH/host/script.json"
gateway host
boot host
assert_main host host
bg="$(cat "$SCRATCH/host/bg.pid" 2>/dev/null)"
# Killed, it is reaped by whoever adopted it, a moment later (kill -0 succeeds on a zombie);
# not killed, it would live 30 s.
bg_gone() { [ -n "$bg" ] && ! running "$bg"; }
check "host: the timeout killed the whole process group (the background sleep $bg)" wait_for 5 bg_gone

# A gateway that drops the generate, then a dispatch_result, each time going away for a
# while (the socket gone): the same bytes come again and the loop finishes.
mkdir -p "$SCRATCH/restart"
cat >"$SCRATCH/restart/script.json" <<'EOF'
[{"drop": true, "down_ms": 700},
 {"reply": {"type": "dispatch", "dispatch_id": "d1", "action": "exec", "command": "echo hi", "args": [],
   "cwd": "/", "timeout_secs": 5, "max_output_bytes": 100}},
 {"drop": true, "down_ms": 300},
 {"reply": {"content": "done"}}]
EOF
gateway restart
boot restart
assert_eq "restart: exit status 0" 0 "$RC"
assert_eq "restart: the final content" "done" "$(cat "$SCRATCH/restart/out")"
assert_eq "restart: 4 requests" 4 "$(q restart length)"
assert_eq "restart: the generate came again, the same bytes" true "$(q restart '.[0].raw == .[1].raw')"
assert_eq "restart: the dispatch_result came again, the same bytes" true \
        "$(q restart '.[2].raw == .[3].raw and .[3].body.stdout == "hi\n"')"
assert_match "restart: each retry is a line on stderr" 'sending the same request again in 100 ms \(retry 1\)' \
        "$(cat "$SCRATCH/restart/err")"

# An error answer: its text on stderr, exit status 1, nothing on stdout.
mkdir -p "$SCRATCH/error"
echo '[{"status": 502, "reply": {"error": "upstream_unavailable: the provider is down"}}]' >"$SCRATCH/error/script.json"
gateway error
boot error
assert_eq "error: exit status 1" 1 "$RC"
assert_eq "error: nothing on stdout" "" "$(cat "$SCRATCH/error/out")"
assert_match "error: the status and the error on stderr" 'answered 502: upstream_unavailable: the provider is down' \
        "$(cat "$SCRATCH/error/err")"
assert_eq "error: not retried" 1 "$(q error length)"

# An answer that is not the protocol.
mkdir -p "$SCRATCH/garbage"
echo '[{"raw": "<html>not json</html>"}]' >"$SCRATCH/garbage/script.json"
gateway garbage
boot garbage
assert_eq "garbage: exit status 4" 4 "$RC"

# Without its environment.
env -i "$BOOT" >/dev/null 2>"$SCRATCH/noenv.err"
assert_eq "no environment: exit status 2" 2 "$?"
assert_match "no environment: says what is missing" 'AEGIS_ORCHESTRATOR_URL is not set' "$(cat "$SCRATCH/noenv.err")"

# --- the relay, for a client of the reference's kind -------------------------------------
mkdir -p "$SCRATCH/relay"
cat >"$SCRATCH/relay/script.json" <<'EOF'
[{"reply": {"type": "dispatch", "dispatch_id": "r1", "action": "exec", "command": "echo relayed; echo $FOO",
   "args": [], "cwd": "/", "env_additions": {"FOO": "x"}, "timeout_secs": 5, "max_output_bytes": 100}},
 {"drop": true, "down_ms": 400},
 {"reply": {"content": "relay final", "tool_calls_executed": 1}}]
EOF
gateway relay
PORT="$(free_port)"
env AEGIS_ORCHESTRATOR_URL="http://127.0.0.1:$PORT/d/$CAP" AEGIS_DISPATCH_SOCKET="$SCRATCH/relay/gw/dispatch.sock" \
        AEGIS_EXECUTION_ID=exec-r AEGIS_LLM_TIMEOUT_SECONDS=5 \
        "$BOOT" --relay "$PORT" -- python3 "$AEGIS_TEST_LIB/ref-bootstrap.py" "relay prompt" \
        >"$SCRATCH/relay/out" 2>"$SCRATCH/relay/err"
RC=$?
assert_eq "relay: the client's exit status" 0 "$RC"
assert_eq "relay: the client's stdout, untouched" "relay final" "$(cat "$SCRATCH/relay/out")"
assert_eq "relay: the requests reached the gateway's path" "[\"/d/$CAP/v1/dispatch-gateway\"]" \
        "$(q relay '[.[].path] | unique')"
assert_eq "relay: the prompt is argv[1]" "relay prompt" "$(q relay '.[0].body.prompt')"
assert_eq "relay: the dispatch ran" "relayed
x" "$(q relay '.[1].body.stdout | rtrimstr("\n")')"
assert_eq "relay: a request broken before any answer was sent again, the same bytes" true \
        "$(q relay 'length == 3 and .[1].dropped and .[1].raw == .[2].raw')"
env AEGIS_DISPATCH_SOCKET="$SCRATCH/relay/gw/dispatch.sock" "$BOOT" --relay "$PORT" -- sh -c 'echo out; exit 7' \
        >"$SCRATCH/relay/out2" 2>&1
assert_eq "relay: exits with the program's status" 7 "$?"
assert_eq "relay: … and its output passes through" out "$(cat "$SCRATCH/relay/out2")"

# --- in containers: busybox as PID 1 with no network, and an image without a shell ----------
# shellcheck source=../lib/podman.sh
. "$AEGIS_TEST_LIB/podman.sh"
podman_start
mkdir -p "$SCRATCH/ctr"
main_script /workspace /tmp >"$SCRATCH/ctr/script.json"
gateway ctr
chmod 0644 "$SCRATCH/prompt.txt"
podman_cmd run --rm --network none -v "$SCRATCH/ctr/gw:/run/aegis/gateway" \
        -v "$BOOT:/run/aegis/bin/aegis-bootstrap:ro" -v "$SCRATCH/prompt.txt:/run/aegis/prompt.txt:ro" \
        -e AEGIS_ORCHESTRATOR_URL="http://127.0.0.1:1/d/$CAP" -e AEGIS_EXECUTION_ID=exec-1 -e AEGIS_AGENT_ID=agent-1 \
        -e AEGIS_ITERATION=3 -e AEGIS_MODEL_ALIAS=smart -e AEGIS_LLM_TIMEOUT_SECONDS=5 \
        "$TEST_IMAGE" /run/aegis/bin/aegis-bootstrap >"$SCRATCH/ctr/out" 2>"$SCRATCH/ctr/err"
RC=$?
[ "$RC" -eq 0 ] || note "container stderr: $(cat "$SCRATCH/ctr/err")"
assert_main ctr "busybox --network none"

# No shell at all: a shell line is split on white space and executed as it is.
mkdir -p "$PODMAN_DIR/noshell/bin" "$PODMAN_DIR/noshell/workspace"
cp /bin/busybox "$PODMAN_DIR/noshell/bin/busybox"
tar -C "$PODMAN_DIR/noshell" -cf "$PODMAN_DIR/noshell.tar" .
podman_cmd import -q "$PODMAN_DIR/noshell.tar" localhost/aegis-test-noshell:latest >/dev/null || fail "cannot import the shell-less image"
mkdir -p "$SCRATCH/noshell"
cat >"$SCRATCH/noshell/script.json" <<'EOF'
[{"reply": {"type": "dispatch", "dispatch_id": "n1", "action": "exec", "command": "busybox  echo  $HOME 'a b'",
   "args": [], "cwd": "/workspace", "timeout_secs": 5, "max_output_bytes": 100}},
 {"reply": {"content": "no shell needed"}}]
EOF
gateway noshell
podman_cmd run --rm --network none -v "$SCRATCH/noshell/gw:/run/aegis/gateway" \
        -v "$BOOT:/run/aegis/bin/aegis-bootstrap:ro" -e PATH=/bin \
        -e AEGIS_ORCHESTRATOR_URL="http://127.0.0.1:1/d/$CAP" -e AEGIS_EXECUTION_ID=exec-n \
        localhost/aegis-test-noshell:latest /run/aegis/bin/aegis-bootstrap >"$SCRATCH/noshell/out" 2>"$SCRATCH/noshell/err"
assert_eq "no shell: exit status 0" 0 "$?"
assert_eq "no shell: the final content" "no shell needed" "$(cat "$SCRATCH/noshell/out")"
assert_eq "no shell: the command split on white space, nothing interpreted" "\$HOME 'a b'" \
        "$(q noshell '.[1].body.stdout | rtrimstr("\n")')"
finish
