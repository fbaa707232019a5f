#!/bin/bash
# The dispatch gateway (issue 14): aegisd serves <state_dir>/gateway/dispatch.sock (directory
# 0755, socket 0666) with only POST /d/{capability}/v1/dispatch-gateway. A wrong, malformed or
# missing capability gets the same 404 {"error"} and is counted in
# aegis_dispatch_refused_total{reason}; the API's routes are not served there; a stale socket
# left by a killed aegisd is replaced at the next start. An inner-loop manifest is refused with
# 503 when runtime.bootstrap_binary cannot be read.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
require_cmd curl
make_scratch
PODMAN_SOCK="$SCRATCH/no-podman.sock" # the gateway needs no engine
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$SCRATCH/no-such-aegis-bootstrap\""
aegisd_start
state="$SCRATCH/aegisd-a/state"
sock="$state/gateway/dispatch.sock"
mport="$(sed -n 's/^  metrics_listen: "127.0.0.1:\([0-9]*\)"/\1/p' "$SCRATCH/aegisd-a/config.yaml")"

check "the socket exists" test -S "$sock"
assert_eq "gateway directory mode" 755 "$(stat -c %a "$state/gateway")"
assert_eq "socket mode" 666 "$(stat -c %a "$sock")"

gw() { curl -s --unix-socket "$sock" -o "$SCRATCH/body" -w '%{http_code}' -X POST "http://gateway$1" \
        -H 'Content-Type: application/json' -d '{"type":"generate","messages":[]}'; }
wrong="$(printf '%064d' 7)"
assert_eq "wrong capability: 404" 404 "$(gw "/d/$wrong/v1/dispatch-gateway")"
check "404 body is {error}" jq -e '.error | startswith("not_found")' "$SCRATCH/body" >/dev/null
cp "$SCRATCH/body" "$SCRATCH/body-wrong"
assert_eq "malformed capability: 404" 404 "$(gw "/d/not-hex/v1/dispatch-gateway")"
check "malformed: the same answer as wrong" cmp -s "$SCRATCH/body" "$SCRATCH/body-wrong"
assert_eq "missing capability: 404" 404 "$(gw "/v1/dispatch-gateway")"
assert_eq "the API is not served on the gateway" 404 \
        "$(curl -s --unix-socket "$sock" -o /dev/null -w '%{http_code}' http://gateway/v1/executions)"

metrics="$(curl -s "http://127.0.0.1:$mport/metrics")"
check "unknown counted" grep -q '^aegis_dispatch_refused_total{reason="unknown"} 1$' <<<"$metrics"
check "malformed counted" grep -q '^aegis_dispatch_refused_total{reason="malformed"} 1$' <<<"$metrics"
check "missing counted" grep -q '^aegis_dispatch_refused_total{reason="missing"} 1$' <<<"$metrics"

cat >"$SCRATCH/agent.yaml" <<'YAML'
apiVersion: 100monkeys.ai/v1
kind: Agent
metadata: {name: thinker, version: "1.0.0"}
spec:
  runtime: {image: localhost/none:latest}
  task: {instruction: "Think."}
YAML
code="$(curl -s -o "$SCRATCH/body" -w '%{http_code}' -X POST "$AEGIS_URL/v1/executions" \
        -H 'Content-Type: application/yaml' --data-binary "@$SCRATCH/agent.yaml")"
assert_eq "inner loop without aegis-bootstrap: 503" 503 "$code"
check "the refusal names runtime.bootstrap_binary" jq -e '.error | test("runtime.bootstrap_binary")' "$SCRATCH/body" >/dev/null

# A crash leaves the socket file behind; the next start replaces it.
aegisd_kill9 a
check "stale socket left" test -S "$sock"
aegisd_start
assert_eq "after restart: served again" 404 "$(gw "/d/$wrong/v1/dispatch-gateway")"
finish
