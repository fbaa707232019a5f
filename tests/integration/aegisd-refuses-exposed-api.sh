#!/bin/bash
# Issue 19, safe defaults: aegisd refuses to start (exit 78, one line saying why and the fix)
# when an API listener is not loopback and no api.tokens_file is set — api.listen or a socket
# passed by systemd alike (getsockname). With tokens it starts on 0.0.0.0. Socket-activated
# with aegis.socket's two lines (127.0.0.1 and [::1], both named "api"), it serves both.
. "$AEGIS_TEST_LIB/common.sh"
require_cmd systemd-socket-activate curl ss
make_scratch
export STATE_DIRECTORY="$SCRATCH/state"
printf 'tok-1234\n' >"$SCRATCH/tokens"
chmod 600 "$SCRATCH/tokens"

config() { # config FILE LISTEN [extra api: line]
        cat >"$1" <<YAML
api:
  listen: "$2"
  metrics_listen: "127.0.0.1:$(free_port)"
${3:-}
runtime:
  container_socket_path: $SCRATCH/no-podman.sock
YAML
}

# 1. api.listen 0.0.0.0 without tokens: 78 and the reason, nothing served.
P="$(free_port)"
config "$SCRATCH/open.yaml" "0.0.0.0:$P"
timeout 20 "$AEGISD" --config "$SCRATCH/open.yaml" >"$SCRATCH/open.log" 2>&1
assert_eq "api.listen 0.0.0.0 without tokens: exit 78" 78 "$?"
msg="$(grep -i 'refusing' "$SCRATCH/open.log")"
assert_eq "one line says why" 1 "$(grep -ci 'refusing' "$SCRATCH/open.log")"
assert_match "it names the address, the key and the fix" \
        "Refusing to start: the API listens on 0.0.0.0:$P \(api.listen\), which is not loopback, and api.tokens_file is not set.*set api.tokens_file.*127.0.0.1 or \[::1\]" "$msg"
config "$SCRATCH/open6.yaml" "[::]:$P"
timeout 20 "$AEGISD" --config "$SCRATCH/open6.yaml" >"$SCRATCH/open6.log" 2>&1
assert_eq "api.listen [::] without tokens: exit 78" 78 "$?"

# 2. The same with tokens: it starts and serves (authenticated).
config "$SCRATCH/tokens.yaml" "0.0.0.0:$P" "  tokens_file: \"$SCRATCH/tokens\""
"$AEGISD" --config "$SCRATCH/tokens.yaml" >"$SCRATCH/tokens.log" 2>&1 &
pid=$!
on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
check "0.0.0.0 with tokens: serves" wait_for 20 curl -sf "http://127.0.0.1:$P/health"
assert_eq "0.0.0.0 with tokens: token required" 401 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/v1/agents")"
kill "$pid"; wait "$pid" 2>/dev/null
check "no refusal logged with tokens" bash -c "! grep -qi refusing '$SCRATCH/tokens.log'"

# 3. Loopback without tokens (the default) starts.
config "$SCRATCH/lo.yaml" "127.0.0.1:$P"
"$AEGISD" --config "$SCRATCH/lo.yaml" >"$SCRATCH/lo.log" 2>&1 &
pid=$!
on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
check "127.0.0.1 without tokens: serves" wait_for 20 curl -sf "http://127.0.0.1:$P/health"
kill "$pid"; wait "$pid" 2>/dev/null

# 4. Socket-activated on 0.0.0.0 without tokens: 78 at the first connection.
S="$(free_port)"
systemd-socket-activate -l "0.0.0.0:$S" --fdname=api -E STATE_DIRECTORY \
        "$AEGISD" --config "$SCRATCH/lo.yaml" >"$SCRATCH/sa.log" 2>&1 &
pid=$!
on_exit "kill $pid 2>/dev/null"
wait_for 5 bash -c "ss -ltn | grep -q ':$S '" || fail "systemd-socket-activate did not listen"
curl -s -m 5 -o /dev/null "http://127.0.0.1:$S/health"
wait "$pid"
assert_eq "socket-activated on 0.0.0.0 without tokens: exit 78" 78 "$?"
assert_match "it names the passed socket" "the API listens on 0.0.0.0:$S \(the socket from systemd" "$(cat "$SCRATCH/sa.log")"

# 5. One loopback and one wildcard socket, both "api": still refused (every listener counts).
S2="$(free_port)"
systemd-socket-activate -l "127.0.0.1:$S" -l "0.0.0.0:$S2" --fdname=api:api -E STATE_DIRECTORY \
        "$AEGISD" --config "$SCRATCH/lo.yaml" >"$SCRATCH/sa2.log" 2>&1 &
pid=$!
wait_for 5 bash -c "ss -ltn | grep -q ':$S '" || fail "systemd-socket-activate did not listen"
curl -s -m 5 -o /dev/null "http://127.0.0.1:$S/health"
wait "$pid"
assert_eq "a second, wildcard api socket without tokens: exit 78" 78 "$?"

# 6. aegis.socket's shape: 127.0.0.1 and [::1], both "api": both served by one daemon.
systemd-socket-activate -l "127.0.0.1:$S" -l "[::1]:$S" --fdname=api:api -E STATE_DIRECTORY \
        "$AEGISD" --config "$SCRATCH/lo.yaml" >"$SCRATCH/sa3.log" 2>&1 &
pid=$!
on_exit "kill $pid 2>/dev/null"
wait_for 5 bash -c "ss -ltn | grep -q ':$S '" || fail "systemd-socket-activate did not listen"
assert_match "served on 127.0.0.1" '"status":"healthy"' "$(curl -s -m 10 "http://127.0.0.1:$S/health")"
assert_match "served on [::1]" '"status":"healthy"' "$(curl -s -m 10 "http://[::1]:$S/health")"
kill "$pid"; wait "$pid"
assert_eq "then exits cleanly" 0 "$?"
finish
