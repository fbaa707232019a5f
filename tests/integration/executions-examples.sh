#!/bin/bash
# The shipped examples run as the README says: `aegis run examples/<name>.yaml`.
# Not here: examples/agent-hello.yaml, an inner-loop agent that needs a model; the
# inner-loop tests (issue 14) run it against the fake OpenAI-compatible provider, and
# tests/unit/test-manifest checks that it parses as an inner-loop plan.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start

out="$(aegis -q run "$top_srcdir/examples/hello.yaml")"
assert_eq "hello.yaml completes" 0 "$?"
assert_match "hello.yaml greets" '^hello from aegis' "$out"

out="$(aegis -q run "$top_srcdir/examples/retry-feedback.yaml")"
assert_eq "retry-feedback.yaml completes" 0 "$?"
assert_match "retry-feedback.yaml used the feedback" 'previous exit code: 3' "$out"

out="$(aegis -q run "$top_srcdir/examples/validated-json.yaml" --input '{"n": 6}')"
assert_eq "validated-json.yaml completes" 0 "$?"
assert_eq "validated-json.yaml output conforms" 42 "$(jq .answer <<<"$out")"
id="$(aegis list --output json | jq -r '.executions[0].id')"
assert_match "validated-json.yaml: iteration 1 rejected by the schema" 'json_schema' "$(execution_field "$id" '.iterations[0].reason')"
assert_no_managed_containers
finish
