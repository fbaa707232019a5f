#!/bin/bash
# Hostile API input: oversized bodies (announced and chunked), deeply nested JSON and YAML,
# invalid UTF-8 (body, manifest, path, query), control characters and path tricks in ids,
# and slowloris. Each request gets the right 4xx with a JSON {"error": …}, nothing is stored,
# the daemon keeps serving, and aegis_api_requests_total{code} counts every one of them;
# each slowloris connection is closed at api.connection_timeout_secs and counted exactly once
# in aegis_api_connections_timed_out_total.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd python3 curl jq
make_scratch
# Nothing here reaches Podman: point at a socket that does not exist.
PODMAN_SOCK="$SCRATCH/no-podman.sock" TEST_IMAGE=localhost/aegis-test-busybox:latest
AEGIS_API_EXTRA="  max_body_bytes: 64Ki
  connection_timeout_secs: 3"
aegisd_start
mport="$(sed -n 's/^  metrics_listen: "127.0.0.1:\([0-9]*\)"/\1/p' "$SCRATCH/aegisd-a/config.yaml")"
metric_code() { # the aegis_api_requests_total{code=…} counter now
        curl -s "http://127.0.0.1:$mport/metrics" | awk -v c="aegis_api_requests_total{code=\"$1\"}" '$1 == c {v = $2} END {print v + 0}'
}
declare -A sent=() before=()
for c in 400 404 413; do before[$c]="$(metric_code "$c")"; done

# expect CODE DESCRIPTION FILE-WITH-BODY|- curl-args… : the status, a JSON error, counted.
expect() {
        local want="$1" what="$2" code ct
        shift 2
        code="$(curl -s -o "$SCRATCH/body" -w '%{http_code} %{content_type}' --max-time 20 "$@")"
        ct="${code#* }" code="${code%% *}"
        assert_eq "$what: $want" "$want" "$code"
        check "$what: JSON error body" json_error "$SCRATCH/body"
        assert_match "$what: application/json" '^application/json' "$ct"
        sent[$want]=$(( ${sent[$want]:-0} + 1 ))
}
json_error() { jq -e '.error | type == "string" and length > 0' "$1" >/dev/null; }
post() { echo -X POST "$AEGIS_URL/v1/executions"; }

# Oversized bodies: announced by Content-Length, and chunked without one.
head -c $((70 * 1024)) /dev/zero | tr '\0' a >"$SCRATCH/big"
expect 413 "body over max_body_bytes (Content-Length)" $(post) -H 'Content-Type: application/json' --data-binary @"$SCRATCH/big"
expect 413 "body over max_body_bytes (chunked)" $(post) -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$SCRATCH/big"
expect 413 "body of 1 GiB announced" $(post) -H 'Content-Type: application/json' -H 'Content-Length: 1073741824' --data-binary 'x' 

# Deep nesting.
python3 -c 'print("{\"input\": " + "[" * 5000 + "]" * 5000 + "}")' >"$SCRATCH/deep.json"
expect 400 "JSON nested 5000 deep" $(post) -H 'Content-Type: application/json' --data-binary @"$SCRATCH/deep.json"
python3 -c 'print("apiVersion: 100monkeys.ai/v1\nkind: Agent\nmetadata: " + "[" * 5000 + "]" * 5000)' >"$SCRATCH/deep.yaml"
expect 400 "YAML nested 5000 deep" $(post) -H 'Content-Type: application/yaml' --data-binary @"$SCRATCH/deep.yaml"

# Invalid UTF-8.
m="$(manifest hostile 'echo hi')"
printf '{"manifest": %s, "input": "\xff\xfe bad"}' "$(jq -Rs . "$m")" >"$SCRATCH/bad-utf8.json"
expect 400 "invalid UTF-8 in a JSON body" $(post) -H 'Content-Type: application/json' --data-binary @"$SCRATCH/bad-utf8.json"
sed 's/echo hi/echo \xc3\x28/' "$m" >"$SCRATCH/bad-utf8.yaml"
expect 400 "invalid UTF-8 in a YAML manifest" $(post) -H 'Content-Type: application/yaml' --data-binary @"$SCRATCH/bad-utf8.yaml"
printf '{"name": "v\xc0\xaf"}' >"$SCRATCH/bad-volume.json"
expect 400 "invalid UTF-8 in a volume body" -X POST "$AEGIS_URL/v1/volumes" -H 'Content-Type: application/json' --data-binary @"$SCRATCH/bad-volume.json"
expect 400 "JSON followed by more" -X POST "$AEGIS_URL/v1/volumes" -H 'Content-Type: application/json' --data-binary '{"name": "v1"} {"name": "v2"}'
expect 400 "invalid UTF-8 in an execution id" "$AEGIS_URL/v1/executions/%FF%FE"
expect 400 "invalid UTF-8 in a query argument" "$AEGIS_URL/v1/executions?status=%C3%28"
expect 400 "a newline in an id" "$AEGIS_URL/v1/executions/abc%0Adef"
expect 400 "an escape sequence in an id" "$AEGIS_URL/v1/executions/%1B%5B31m"

# Path tricks in ids.
expect 404 "dot-dot in an execution id" --path-as-is "$AEGIS_URL/v1/executions/..%2F..%2Fetc%2Fpasswd"
expect 404 "encoded dot-dot segment" --path-as-is "$AEGIS_URL/v1/executions/%2e%2e"
expect 404 "literal dot-dot segments" --path-as-is "$AEGIS_URL/v1/executions/../../etc/passwd"
expect 404 "dot-dot in a volume id" --path-as-is "$AEGIS_URL/v1/volumes/..%2F..%2Fstate"
expect 404 "dot-dot in an agent name" --path-as-is "$AEGIS_URL/v1/agents/..%2F..%2Fx"
expect 404 "a NUL byte in an id" "$AEGIS_URL/v1/executions/abc%00def"
expect 404 "an id of 4,000 characters" "$AEGIS_URL/v1/executions/$(head -c 4000 /dev/zero | tr '\0' a)"
expect 404 "a cancel on a path-trick id" -X POST --path-as-is "$AEGIS_URL/v1/executions/..%2F..%2F/cancel"

# Slowloris: 3 connections dribble a header byte every 0.3 s and never finish the request,
# a 4th sends nothing. The server closes each at its deadline and counts it once.
metric() { curl -s "http://127.0.0.1:$mport/metrics" | awk -v k="$1" '$1 == k {v = $2} END {print v + 0}'; }
t0="$(metric aegis_api_connections_timed_out_total)"
cat >"$SCRATCH/slowloris.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
for s in conns[:3]:
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
open_ = set(range(4))
deadline = time.monotonic() + 60
while open_ and time.monotonic() < deadline:
    for i in list(open_):
        s = conns[i]
        try:
            if i < 3:
                s.send(b"a")
            s.setblocking(False)
            if s.recv(1) == b"":
                open_.discard(i)
        except BlockingIOError:
            pass
        except OSError:
            open_.discard(i)
        s.setblocking(True)
    time.sleep(0.3)
print(4 - len(open_))
PY
assert_eq "slowloris: the server closed all 4 connections" 4 "$(python3 "$SCRATCH/slowloris.py" "${AEGIS_URL##*:}")"
assert_eq "slowloris: aegis_api_connections_timed_out_total counted each once" 4 \
        "$(( $(metric aegis_api_connections_timed_out_total) - ${t0%.*} ))"

assert_eq "nothing was stored" 0 "$(api GET '/v1/executions?limit=100' | jq '.executions | length')"
check "aegisd still serves" curl -sf --max-time 2 "$AEGIS_URL/health" -o /dev/null
for c in 400 404 413; do
        assert_eq "aegis_api_requests_total{code=\"$c\"} counted every refusal" \
                "$(( ${before[$c]} + ${sent[$c]} ))" "$(metric_code "$c")"
done
finish
