#!/bin/bash
# spec.security.network_policy holds in the container (issue 21), on real Podman. Two local
# HTTP servers stand for an allowed and a denied host (127.0.0.2 and 127.0.0.3, named
# allowed.test and denied.test in the hosts file of a private mount namespace aegisd runs in,
# so its egress proxy resolves them). From inside the container: mode none reaches nothing;
# an allowlist reaches the allowed server through the proxy and neither the denied one nor
# any server directly or by address; a CONNECT to the denied host is refused and a TLS
# ClientHello naming another host than the CONNECT's is cut off; a denylist blocks the denied
# host and admits the other; an inner-loop iteration's cmd.run goes through the proxy too,
# and the capability is not in the environment of the container's PID 1 (the forwarder). Refusals are in the log with EXECUTION_ID and counted; a
# filtered policy that cannot be enforced (no aegis-bootstrap) is refused at submission.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$AEGIS_TEST_LIB/llm.sh"
require_cmd jq python3 unshare mount
[ "$(id -u)" = 0 ] || skip_or_fail "needs root for a private mount namespace with its own /etc/hosts"
make_scratch
podman_start

port="$(free_port)"
for who in allowed denied; do
        mkdir -p "$SCRATCH/www-$who"
        echo "$who-server" >"$SCRATCH/www-$who/who"
done
python3 -m http.server --bind 127.0.0.2 --directory "$SCRATCH/www-allowed" "$port" >>"$SCRATCH/allowed.log" 2>&1 &
on_exit "kill $!"
python3 -m http.server --bind 127.0.0.3 --directory "$SCRATCH/www-denied" "$port" >>"$SCRATCH/denied.log" 2>&1 &
on_exit "kill $!"
wait_for 10 curl -sf "http://127.0.0.2:$port/who" || fail "the allowed server did not come up"
wait_for 10 curl -sf "http://127.0.0.3:$port/who" || fail "the denied server did not come up"
: >"$SCRATCH/denied.log" # from here on, any request it logs came through a hole

# aegisd in a mount namespace of its own whose /etc/hosts names the two servers.
printf '127.0.0.1 localhost\n127.0.0.2 allowed.test\n127.0.0.3 denied.test\n' >"$SCRATCH/hosts"
aegisd_with_hosts "$SCRATCH/hosts"
# The inner loop: one cmd.run that fetches both hosts through the proxy, then an answer.
req() { printf 'printf "GET http://%s/who HTTP/1.0\\r\\n\\r\\n" | busybox nc -w 5 127.0.0.1 18090 | tail -1; ' "$1"; }
loop_cmd="$(req "allowed.test:$port")$(req "denied.test:$port")echo pid1-capability=\$(cat /proc/1/environ 2>/dev/null | grep -c AEGIS_ORCHESTRATOR_URL)"
jq -n --arg c "$loop_cmd" '[{tool_calls: [{name: "cmd.run", id: "c1", arguments: {command: "sh", args: ["-c", $c]}}]},
                             {text: "fetched"}]' >"$SCRATCH/script.json"
fake_llm_start "$SCRATCH/script.json"
export FAKE_LLM_TEST_KEY=sk-fake
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""
aegisd_start a "
llm:
  providers:
    - name: fake
      type: openai-compatible
      endpoint: $FAKE_LLM_URL/v1
      api_key: env:FAKE_LLM_TEST_KEY
      models: [{alias: default, model: fake-gpt}]
security:
  allow_internal_egress: true"
state="$SCRATCH/aegisd-a/state"

# submit NAME POLICY SCRIPT: submits SCRIPT under POLICY; sets ID.
submit() {
        local m
        m="$(manifest "$1" "$3" "  security:
    network_policy: $2")"
        ID="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$m" | jq -r .execution_id)"
        [ -n "$ID" ] && [ "$ID" != null ] || fail "$1: not submitted"
}
# run NAME POLICY SCRIPT: runs SCRIPT in the container under POLICY; sets ID, prints its output.
run() {
        submit "$@"
        wait_status "$ID" completed 60 || fail "$1: $(api GET "/v1/executions/$ID")"
        execution_field "$ID" .output
}
# In the container (busybox's wget crashes here, so requests are written by hand):
#   p HOST:PORT  GET http://HOST:PORT/who through the proxy $http_proxy names
#   d ADDR PORT  GET /who straight to ADDR:PORT
# each prints "via|direct TARGET: " and the answer's last line (or nc's error).
fetch='p() { printf "via $1: "; printf "GET http://$1/who HTTP/1.0\r\n\r\n" | busybox nc -w 5 127.0.0.1 18090 2>&1 | tail -1; echo; }
d() { printf "direct $1: "; printf "GET /who HTTP/1.0\r\n\r\n" | busybox nc -w 3 $1 $2 2>&1 | tail -1; echo; }'

run none '{mode: none}' "$fetch; p allowed.test:$port; d 127.0.0.2 $port; env | grep -ci _proxy; true" >"$SCRATCH/out"
out="$(cat "$SCRATCH/out")"
assert_match "mode none: no proxy to reach" "via allowed.test:$port: [^a]*(can't|refused|unreachable)" "$out"
assert_match "mode none: no address is reached" "direct 127.0.0.2: [^a]*(can't|refused|unreachable)" "$out"
assert_match "mode none: no proxy is offered" $'(^|\n)0($|\n)' "$out"

run allow "{mode: allow, allowlist: [allowed.test]}" "$fetch
env | grep -c '^http_proxy=http://127.0.0.1:18090$'
p allowed.test:$port
p denied.test:$port
p 127.0.0.2:$port
d 127.0.0.2 $port
d 127.0.0.3 $port
printf 'CONNECT denied.test:$port HTTP/1.1\r\n\r\n' | busybox nc -w 5 127.0.0.1 18090 | head -1
printf 'CONNECT allowed.test:$port HTTP/1.1\r\n\r\nGET /who HTTP/1.0\r\nHost: allowed.test\r\n\r\n' | busybox nc -w 5 127.0.0.1 18090 | tail -1" >"$SCRATCH/out"
out="$(cat "$SCRATCH/out")"
id="$ID"
assert_match "allowlist: the container's processes are told the proxy" $'^1\n' "$out"
assert_match "allowlist: the allowed host is fetched through the proxy" "via allowed.test:$port: allowed-server" "$out"
assert_match "allowlist: the denied host is refused" "via denied.test:$port: aegis egress proxy: the host is not allowed" "$out"
assert_match "allowlist: an address not listed is refused by the proxy" \
        "via 127.0.0.2:$port: aegis egress proxy: the host is not allowed" "$out"
assert_match "allowlist: no direct connection to the allowed server's address" \
        "direct 127.0.0.2: [^a]*(can't|refused|unreachable)" "$out"
assert_match "allowlist: no direct connection to the denied server" \
        "direct 127.0.0.3: [^a]*(can't|refused|unreachable)" "$out"
assert_match "allowlist: CONNECT to the denied host answered 403" "HTTP/1.1 403" "$out"
assert_match "allowlist: a CONNECT tunnel to the allowed host carries bytes" $'\nallowed-server$' "$out"
if grep -q "GET /who" "$SCRATCH/denied.log"; then
        fail "the denied server was reached: $(cat "$SCRATCH/denied.log")"
fi
check "the refusal is logged with the execution's id" \
        grep -q "egress: refused a request to denied.test.*EXECUTION_ID=$id\|EXECUTION_ID=$id.*egress: refused a request to denied.test" \
        "$SCRATCH/aegisd-a/aegisd.log"
metrics="$(curl -s "$(sed -n 's/.*metrics_listen: "\(.*\)"/http:\/\/\1/p' "$SCRATCH/aegisd-a/config.yaml")/metrics")"
assert_match "allowed connections counted" 'aegis_egress_connections_total\{result="allowed"\} [1-9]' "$metrics"
assert_match "refused connections counted" 'aegis_egress_connections_total\{result="refused"\} [1-9]' "$metrics"

# A TLS ClientHello through a CONNECT must name the host the CONNECT asked for: talk to a
# running execution's proxy socket from here with real ClientHellos.
submit sni "{mode: allow, allowlist: [allowed.test]}" 'sleep 30'
sid="$ID"
wait_for 30 test -S "$state/egress/$sid/egress.sock" || fail "no egress socket for $sid"
cat >"$SCRATCH/sni.py" <<'PY'
import socket, ssl, sys
path, target, sni = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(path)
s.sendall(b"CONNECT %s HTTP/1.1\r\n\r\n" % target.encode())
head = s.recv(4096)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
t = ctx.wrap_bio(i, o, server_hostname=sni)
try: t.do_handshake()
except ssl.SSLWantReadError: pass
s.sendall(o.read())
try: back = s.recv(4096)
except socket.timeout: back = b"timeout"
print(head.split(b"\r\n")[0].decode(), "->", "closed" if back == b"" else "answered")
PY
out="$(python3 "$SCRATCH/sni.py" "$state/egress/$sid/egress.sock" "allowed.test:$port" denied.test)"
assert_eq "a ClientHello naming another host is cut off" "HTTP/1.1 200 Connection established -> closed" "$out"
out="$(python3 "$SCRATCH/sni.py" "$state/egress/$sid/egress.sock" "allowed.test:$port" allowed.test)"
assert_eq "a ClientHello naming the CONNECT's host goes through" \
        "HTTP/1.1 200 Connection established -> answered" "$out"
check "the SNI refusal is logged" grep -q "ClientHello names denied.test" "$SCRATCH/aegisd-a/aegisd.log"
api POST "/v1/executions/$sid/cancel" >/dev/null
wait_status "$sid" cancelled 30 || true

run deny "{mode: deny, denylist: [denied.test]}" "$fetch
p allowed.test:$port
p denied.test:$port
p 127.0.0.3:$port" >"$SCRATCH/out"
out="$(cat "$SCRATCH/out")"
assert_match "denylist: another host is fetched" "via allowed.test:$port: allowed-server" "$out"
assert_match "denylist: the denied host is refused" "via denied.test:$port: aegis egress proxy: the host is not allowed" "$out"
assert_match "denylist: an address is refused (whose is it?)" \
        "via 127.0.0.3:$port: aegis egress proxy: the host is not allowed" "$out"
if grep -q "GET /who" "$SCRATCH/denied.log"; then
        fail "the denied server was reached: $(cat "$SCRATCH/denied.log")"
fi

cat >"$SCRATCH/loop.yaml" <<YAML
apiVersion: 100monkeys.ai/v1
kind: Agent
metadata: {name: loop, version: "1.0.0"}
spec:
  runtime: {image: $TEST_IMAGE, image_pull_policy: Never}
  task: {instruction: "Fetch."}
  tools: [cmd.run]
  security:
    network_policy: {mode: allow, allowlist: [allowed.test]}
  execution: {max_iterations: 1, llm_timeout_seconds: 20}
YAML
lid="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$SCRATCH/loop.yaml" | jq -r .execution_id)"
wait_status "$lid" completed 60 || fail "inner loop: $(api GET "/v1/executions/$lid")"
assert_eq "inner loop: the final answer is the output" fetched "$(execution_field "$lid" .output)"
result="$(fake_llm_request "$FAKE_LLM_LOG" 2 'r["body"]["messages"]')"
assert_match "inner loop: cmd.run reached the allowed host through the proxy" 'allowed-server' "$result"
assert_match "inner loop: and not the denied one" 'the host is not allowed' "$result"
assert_match "inner loop: the capability is not in PID 1's environment" 'pid1-capability=0' "$result"

# Without security.allow_internal_egress (the default) a listed name that resolves to a
# loopback address (this host's own services: a DNS answer the tenant may control) is refused.
aegisd_start c
run internal "{mode: allow, allowlist: [allowed.test]}" "$fetch; p allowed.test:$port" >"$SCRATCH/out"
assert_match "an allowed name on a loopback address is refused by default" \
        "via allowed.test:$port: aegis egress proxy: the host resolves to a loopback or link-local address" \
        "$(cat "$SCRATCH/out")"
check "and the refusal is logged" grep -q "egress: refused allowed.test port $port: it resolves to a loopback" \
        "$SCRATCH/aegisd-c/aegisd.log"

# Without aegis-bootstrap the policy cannot hold here: refused at submission, with why.
AEGISD="$AEGISD_REAL"
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$SCRATCH/no-such-bootstrap\""
aegisd_start b
m="$(manifest unenforceable 'true' "  security:
    network_policy: {mode: allow, allowlist: [allowed.test]}")"
code="$(api_status POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$m")"
body="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$m")"
assert_eq "an unenforceable policy is refused" 503 "$code"
assert_match "and the answer says why" "cannot enforce an allowlist or denylist.*no-such-bootstrap" "$body"
m="$(manifest still-none 'echo fine' "  security:
    network_policy: {mode: none}")"
assert_eq "mode none needs no proxy and still runs there" fine "$(aegis -q run "$m" 2>&1)"

assert_no_managed_containers
finish
