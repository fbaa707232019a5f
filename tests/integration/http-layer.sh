#!/bin/bash
# The HTTP layer aegisd's API is built on (src/aegisd/http.c), through a test server with
# one route per feature: {id} captures, query strings, bodies and the 413 limit, JSON errors
# (404, 405 + Allow, 500), deferred answers, Server-Sent Events streams, a client leaving a
# followed stream, bearer-token authentication, and streams told when the server stops.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/common.sh"
require_cmd curl jq
make_scratch
SERVER="$top_builddir/tests/integration/http-test-server"
PORT="$(free_port)"
U="http://127.0.0.1:$PORT"

"$SERVER" "$PORT" "$SCRATCH" 2>"$SCRATCH/server.log" &
SERVER_PID=$!
on_exit "kill $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null"
wait_for 5 test -e "$SCRATCH/ready" || fail "test server did not start: $(cat "$SCRATCH/server.log")"

# code_body METHOD PATH [curl args] → "CODE BODY"
req() { local m="$1" p="$2"; shift 2; curl -s -o "$SCRATCH/body" -D "$SCRATCH/headers" -w '%{http_code}' -X "$m" "$U$p" "$@"; }

assert_eq "capture and query" '200 {"id":"abc","sub":"","q":"x y"}' "$(req GET '/items/abc?q=x%20y') $(cat "$SCRATCH/body")"
assert_eq "two captures" '200 x 7' "$(req GET /items/x/sub/7) $(jq -r '.id + " " + .sub' "$SCRATCH/body")"
assert_eq "percent-decoded capture" 'a b' "$(req GET /items/a%20b >/dev/null; jq -r .id "$SCRATCH/body")"
assert_eq "empty capture is not a match" '404' "$(req GET /items/)"
assert_eq "404 is JSON" '404 no such endpoint: GET /nowhere' "$(req GET /nowhere) $(jq -r .error "$SCRATCH/body")"
assert_eq "405 for a known path" '405' "$(req PUT /items/abc)"
assert_match "405 lists the allowed methods" $'Allow: GET, HEAD, DELETE\r' "$(grep -i '^Allow:' "$SCRATCH/headers")"
assert_eq "405 body is JSON" 'method PUT not allowed on /items/abc (allowed: GET, HEAD, DELETE)' "$(jq -r .error "$SCRATCH/body")"
assert_eq "HEAD answers for GET routes" '200' "$(req HEAD /items/abc -I)"
assert_eq "DELETE route" '200' "$(req DELETE /items/zz)"

assert_eq "body echoed" '201 hello' "$(req POST /echo -H 'Content-Type: application/json' --data-binary hello) $(jq -r .body "$SCRATCH/body")"
assert_match "response header added by the handler" $'Location: /items/new\r' "$(grep -i '^Location:' "$SCRATCH/headers")"
head -c 1024 /dev/zero | tr '\0' a >"$SCRATCH/1k"
head -c 1025 /dev/zero | tr '\0' a >"$SCRATCH/1k1"
assert_eq "a body at the limit is accepted" '201 1024' "$(req POST /echo -H 'Content-Type: application/json' --data-binary @"$SCRATCH/1k") $(jq -r .size "$SCRATCH/body")"
assert_eq "a body over the limit is 413" '413 request body larger than 1024 bytes' "$(req POST /echo -H 'Content-Type: application/json' --data-binary @"$SCRATCH/1k1") $(jq -r .error "$SCRATCH/body")"
assert_eq "a chunked body over the limit is 413" '413' "$(req POST /echo -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$SCRATCH/1k1")"
assert_eq "handler failure is a JSON 500" '500 internal error: Input/output error' "$(req GET /fail) $(jq -r .error "$SCRATCH/body")"

assert_eq "deferred answer with field" '409 conflict decided later spec.name' "$(req GET /deferred) $(jq -r '.error + " " + .field' "$SCRATCH/body")"

# Several requests at once: the deferred ones do not block the others.
pids=()
for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{http_code}\n' "$U/deferred" >"$SCRATCH/deferred.$i" & pids+=($!); done
assert_eq "answers while others are deferred" '200' "$(req GET /items/q)"
wait "${pids[@]}"
assert_eq "all deferred answers arrived" '409 409 409 409 409' "$(cat "$SCRATCH"/deferred.* | xargs)"

# SSE: three events 50 ms apart, one with a two-line payload, then the end.
events="$(curl -s -N --max-time 5 "$U/events")"
expected=$'id: 1\nevent: tick\ndata: {"n":1}\n\nid: 2\nevent: log\ndata: line one\ndata: line two\n\nid: 3\nevent: tick\ndata: {"n":1}\n\nevent: end\ndata: done'
assert_eq "SSE stream content" "$expected" "$events"
assert_match "SSE content type" $'Content-Type: text/event-stream\r' "$(curl -s -N --max-time 5 -D - -o /dev/null "$U/events" | grep -i '^Content-Type:')"
check "a finished stream does not call on_closed" test ! -e "$SCRATCH/closed-events"

# A client that leaves a followed stream: the owner is told (on its next write).
curl -s -N --max-time 0.5 "$U/follow" >"$SCRATCH/follow.out"
check "the followed stream delivered events" grep -q '^event: tick' "$SCRATCH/follow.out"
check "owner told when the client left" wait_for 3 test -e "$SCRATCH/closed-follow"
rm -f "$SCRATCH/closed-follow"

assert_eq "no token: 401" '401' "$(req GET /secret)"
assert_match "401 asks for a bearer token" 'WWW-Authenticate: Bearer' "$(cat "$SCRATCH/headers")"
assert_eq "wrong token: 401" '401' "$(req GET /secret -H 'Authorization: Bearer nope')"
assert_eq "refused token: 403" '403' "$(req GET /secret -H 'Authorization: Bearer readonly')"
assert_eq "right token: 200" '200 secret' "$(req GET /secret -H 'Authorization: Bearer s3cret') $(cat "$SCRATCH/body")"

# Keep-alive: two requests on one connection, including a 404.
n="$(curl -s -v "$U/nowhere" "$U/items/k" 2>&1 | grep -c 'Re-using existing connection')"
assert_eq "404 keeps the connection open" 1 "$n"

# Stopping the server with a stream open tells its owner.
curl -s -N --max-time 10 "$U/follow" >"$SCRATCH/follow2.out" &
CURL=$!
wait_for 5 grep -q '^event:' "$SCRATCH/follow2.out" || fail "the second followed stream did not start"
kill -TERM "$SERVER_PID"
check "server exits promptly with a stream open" wait_for 2 bash -c "! kill -0 $SERVER_PID 2>/dev/null"
check "stream owner told at shutdown" test -e "$SCRATCH/closed-follow"
wait "$CURL" 2>/dev/null
finish
