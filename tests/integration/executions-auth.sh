#!/bin/bash
# With api.tokens_file set, every route but /health* needs "Authorization: Bearer <token>":
# 401 without or with a wrong token, the CLI passes --token.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
make_scratch_tokens() { printf '# operators\ns3cret-token\n' >"$SCRATCH/tokens"; chmod 600 "$SCRATCH/tokens"; }
make_scratch_tokens
AEGIS_API_EXTRA="  tokens_file: \"$SCRATCH/tokens\"" aegisd_start
assert_eq "health without a token: 200" 200 "$(api_status GET /health)"
assert_eq "list without a token: 401" 401 "$(api_status GET /v1/executions)"
assert_eq "wrong token: 401" 401 "$(api_status GET /v1/executions -H 'Authorization: Bearer nope')"
assert_eq "right token: 200" 200 "$(api_status GET /v1/executions -H 'Authorization: Bearer s3cret-token')"
check "401 body is {error}" bash -c "curl -s $AEGIS_URL/v1/executions | jq -e .error"
m="$(manifest authed 'echo ok')"
aegis -q run "$m" >/dev/null 2>&1
assert_eq "CLI without token fails as aegis's own error (125)" 125 "$?"
out="$(aegis -q --token s3cret-token run "$m")"
assert_eq "CLI with --token runs" ok "$out"
finish
