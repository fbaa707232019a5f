#!/bin/bash
# Issue 19: one token cannot hold every connection slot with event or log streams. With
# api.max_streams_per_token 2, a token's third open stream (SSE or followed logs) is 429 with
# Retry-After; another token (same tenant) has its own budget; closing a stream frees a slot.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
printf 'tok-one t1\ntok-two t1\n' >"$SCRATCH/tokens"
chmod 600 "$SCRATCH/tokens"
AEGIS_API_EXTRA="  tokens_file: \"$SCRATCH/tokens\"
  max_streams_per_token: 2" aegisd_start

m="$(manifest long 'echo up; sleep 60')"
id="$(curl -s -X POST "$AEGIS_URL/v1/executions" -H 'Authorization: Bearer tok-one' -H 'Content-Type: application/yaml' \
        --data-binary @"$m" | jq -r .execution_id)"
[ -n "$id" ] && [ "$id" != null ] || fail "submission failed"

# open_stream TOKEN PATH NAME: a stream held open in the background; its headers land in NAME.h
open_stream() {
        curl -s -N -D "$SCRATCH/$3.h" -o /dev/null -H "Authorization: Bearer $1" "$AEGIS_URL$2" &
        eval "PID_$3=$!"
        on_exit "kill $! 2>/dev/null"
        wait_for 10 grep -q '^HTTP/1.1 200' "$SCRATCH/$3.h" || fail "stream $3 did not open: $(cat "$SCRATCH/$3.h")"
}
status() { curl -s -m 3 -o /dev/null -D "$SCRATCH/last.h" -w '%{http_code}' -H "Authorization: Bearer $1" "$AEGIS_URL$2"; }

open_stream tok-one "/v1/executions/$id/events" s1
open_stream tok-one "/v1/executions/$id/logs?follow=true" s2
assert_eq "the third stream of a token: 429" 429 "$(status tok-one "/v1/executions/$id/events")"
check "429 says when to retry" grep -qi '^Retry-After: 5' "$SCRATCH/last.h"
assert_eq "a followed log is a stream too: 429" 429 "$(status tok-one "/v1/executions/$id/logs?follow=true")"
assert_eq "a plain read is not a stream: 200" 200 "$(status tok-one "/v1/executions/$id/logs")"
open_stream tok-two "/v1/executions/$id/events" s3 # fails the test when refused
printf 'ok - another token of the same tenant has its own budget\n'
kill "$PID_s1"; wait "$PID_s1" 2>/dev/null
# A stream waiting for data learns at once that its client left (its socket is watched while
# MHD does not poll it): the slot is free well before a heartbeat (15 s) could tell.
t0=$(date +%s)
check "closing a stream frees its slot at once" \
        wait_for 5 bash -c '[ "$(curl -s -m 2 -o /dev/null -w "%{http_code}" -H "Authorization: Bearer tok-one" "$1")" = 200 ]' _ "$AEGIS_URL/v1/executions/$id/events"
note "the slot came free after $(( $(date +%s) - t0 )) s"
curl -s -o /dev/null -X POST "$AEGIS_URL/v1/executions/$id/cancel" -H 'Authorization: Bearer tok-one'
finish
