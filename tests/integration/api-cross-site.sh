#!/bin/bash
# Issue 19, no cross-site requests: a web page must not drive the loopback API. On real Podman:
# a text/plain POST with a foreign Origin is refused and no container starts; a form-urlencoded
# body, a multipart body, a body without Content-Type are 415; a foreign Origin is 403 unless
# listed in api.allowed_origins; without tokens a foreign Host (DNS rebinding) is 421, health
# and metrics included, while loopback names and addresses pass; the CLI and curl with
# application/json work. With tokens the Host is not checked (the token is the guard).
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
AEGIS_API_EXTRA='  allowed_origins: "https://ui.example.com, http://localhost:3000"' aegisd_start
PORT="${AEGIS_URL##*:}"
MPORT="$(sed -n 's/^  metrics_listen: "127.0.0.1:\([0-9]*\)"$/\1/p' "$SCRATCH/aegisd-a/config.yaml")"

m="$(manifest xsite 'echo ran-it')"
json="$(jq -n --rawfile m "$m" '{manifest:$m}')"
code() { api_status "$@"; }

# The attack of the issue: text/plain, a foreign Origin and Host, as a page would send it.
assert_eq "text/plain + foreign Origin + foreign Host: refused (421)" 421 \
        "$(code POST /v1/executions -H 'Content-Type: text/plain' -H 'Origin: http://evil.example' -H 'Host: evil.example' --data-binary "$json")"
assert_eq "text/plain + foreign Origin: 403" 403 \
        "$(code POST /v1/executions -H 'Content-Type: text/plain' -H 'Origin: http://evil.example' --data-binary "$json")"
assert_eq "text/plain alone: 415" 415 "$(code POST /v1/executions -H 'Content-Type: text/plain' --data-binary "$json")"
assert_eq "form-urlencoded (curl -d's default): 415" 415 "$(code POST /v1/executions -d "$json")"
assert_eq "explicit form-urlencoded: 415" 415 \
        "$(code POST /v1/executions -H 'Content-Type: application/x-www-form-urlencoded; charset=UTF-8' --data-binary "$json")"
assert_eq "multipart on a route that is no upload: 415" 415 "$(code POST /v1/executions -F "manifest=<$m")"
assert_eq "a body without Content-Type: 415" 415 "$(code POST /v1/executions -H 'Content-Type:' --data-binary "$json")"
assert_eq "text/plain on execute: 415" 415 "$(code POST /v1/agents/xsite/execute -H 'Content-Type: text/plain' --data-binary '{}')"
assert_eq "text/plain on cancel: 415" 415 "$(code POST /v1/executions/x/cancel -H 'Content-Type: text/plain' --data-binary 'x')"
assert_eq "form on volumes: 415" 415 "$(code POST /v1/volumes -d 'name=v')"
body="$(api POST /v1/executions -H 'Content-Type: text/plain' --data-binary "$json")"
assert_eq "415 names the header" Content-Type "$(jq -r .field <<<"$body")"
assert_match "415 says what to send" 'application/json' "$(jq -r .error <<<"$body")"
assert_eq "no execution was created" 0 "$(api GET /v1/executions | jq '.executions | length')"
assert_eq "no container was started" "" "$(podman_managed_ids)"

# Host: 421 for anything but loopback names and addresses, health and metrics included.
for h in evil.example evil.example:$PORT 127.0.0.1.nip.io 10.0.0.1 '[::2]' localhost.evil.example; do
        assert_eq "Host $h on GET /v1/executions: 421" 421 "$(code GET /v1/executions -H "Host: $h")"
done
assert_eq "Host evil.example on /health: 421" 421 "$(code GET /health -H 'Host: evil.example')"
assert_eq "Host evil.example on /metrics: 421" 421 \
        "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics" -H 'Host: evil.example')"
body="$(api GET /v1/executions -H 'Host: evil.example')"
check "the 421 answer holds no data" bash -c '! grep -q executions <<<"$1"' _ "$body"
assert_eq "421 names the header" Host "$(jq -r .field <<<"$body")"
for h in localhost "localhost:$PORT" "127.0.0.1:$PORT" 127.1.2.3 "[::1]:$PORT"; do
        assert_eq "Host $h: 200" 200 "$(code GET /v1/executions -H "Host: $h")"
done
assert_eq "metrics with a loopback Host: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")"

# Origin: 403 unless listed.
assert_eq "foreign Origin on a GET: 403" 403 "$(code GET /v1/executions -H 'Origin: http://evil.example')"
assert_eq "Origin null: 403" 403 "$(code GET /v1/executions -H 'Origin: null')"
assert_eq "a listed origin's prefix is not the origin: 403" 403 "$(code GET /v1/executions -H 'Origin: https://ui.example.com.evil.example')"
assert_eq "listed Origin on a GET: 200" 200 "$(code GET /v1/executions -H 'Origin: https://ui.example.com')"
assert_eq "second listed Origin: 200" 200 "$(code GET /v1/executions -H 'Origin: http://localhost:3000')"
id="$(api POST /v1/executions -H 'Origin: https://ui.example.com' -H 'Content-Type: application/json' --data-binary "$json" | jq -r .execution_id)"
check "a listed origin may submit with application/json" wait_status "$id" completed 60

# What real clients send keeps working.
id="$(api POST /v1/executions -H 'Content-Type: application/json; charset=utf-8' --data-binary "$json" | jq -r .execution_id)"
check "curl with application/json runs" wait_status "$id" completed 60
assert_eq "application/yaml: 202" 202 "$(code POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$m")"
assert_eq "text/yaml (the reference SDK's deploy): 201" 201 "$(code POST /v1/agents -H 'Content-Type: text/yaml' --data-binary @"$m")"
assert_eq "application/x-yaml: 201" 201 "$(code POST /v1/agents -H 'Content-Type: application/x-yaml' --data-binary @"$m")"
assert_eq "a body-less POST (execute) without Content-Type: 202" 202 "$(code POST /v1/agents/xsite/execute)"
assert_eq "the CLI runs a manifest" ran-it "$(aegis -q run "$m")"

# With tokens, the token is the guard: any Host is answered (behind a proxy, by name).
printf 'tok-5678\n' >"$SCRATCH/tokens"
AEGIS_API_EXTRA="  tokens_file: \"$SCRATCH/tokens\"" aegisd_start b
assert_eq "with tokens: Host evil.example and a token: 200" 200 \
        "$(code GET /v1/executions -H 'Host: evil.example' -H 'Authorization: Bearer tok-5678')"
assert_eq "with tokens: a foreign Origin is still 403" 403 \
        "$(code GET /v1/executions -H 'Origin: http://evil.example' -H 'Authorization: Bearer tok-5678')"
finish
