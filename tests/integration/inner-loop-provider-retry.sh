#!/bin/bash
# The model through aegisd, retried and failed over (issue 14), on real Podman with the fake
# provider: a 429 with Retry-After: 1, then a final text → the execution completes after the
# wait, and llm_call_finished counts 2 attempts; a default provider with nothing listening and
# llm.selection.fallback_provider naming a second fake → the execution completes through the
# fallback, which got the request.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$AEGIS_TEST_LIB/llm.sh"
require_cmd jq
make_scratch
podman_start

echo '[{"status": 429, "retry_after": 1, "message": "slow down"}, {"text": "after the wait"}]' >"$SCRATCH/retry.json"
echo '[{"text": "from the fallback"}]' >"$SCRATCH/fallback.json"
fake_llm_start "$SCRATCH/retry.json" retry
fake_llm_start "$SCRATCH/fallback.json" fallback
dead_port="$(free_port)"
export FAKE_LLM_TEST_KEY="sk-secret-never-in-a-container"
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""

agent() { # agent NAME
        inner_loop_manifest "$1" "$TEST_IMAGE" "  execution:
    max_iterations: 1
    llm_timeout_seconds: 20"
}
submit() { api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$1" | jq -r .execution_id; }
llm_finished() { # llm_finished ID: the first llm_call_finished event's payload
        api GET "/v1/executions/$1/events" --max-time 3 | sed -n 's/^data: //p' |
                jq -c 'select(.type == "llm_call_finished")' | head -1
}

# 1. 429 with Retry-After: 1, then the answer: retried after the wait, 2 attempts.
aegisd_start a "
llm:
  selection:
    max_retries: 2
    retry_delay_ms: 10
  providers:
    - name: fake
      type: openai-compatible
      endpoint: $FAKE_LLM_RETRY_URL/v1
      api_key: env:FAKE_LLM_TEST_KEY
      models: [{alias: default, model: fake-gpt}]"
id="$(submit "$(agent retried)")"
wait_status "$id" completed 60 || { aegisd_log a | tail -30 >&2; fail "429: not completed: $(api GET "/v1/executions/$id")"; }
assert_eq "429: the output" "after the wait" "$(execution_field "$id" .output)"
assert_eq "429: the fake got two requests" 2 "$(fake_llm_requests "$FAKE_LLM_RETRY_LOG")"
ev="$(llm_finished "$id")"
note "llm_call_finished: $ev"
check "429: Retry-After was waited for" jq -e '.latency_ms >= 1000' <<<"$ev"
assert_eq "429: llm_call_finished counts 2 attempts" 2 "$(jq -r .attempts <<<"$ev")"
aegisd_stop a

# 2. The default provider down, the fallback answers.
aegisd_start b "
llm:
  selection:
    max_retries: 1
    retry_delay_ms: 10
    default_provider: down
    fallback_provider: fallback
  providers:
    - name: down
      type: openai-compatible
      endpoint: http://127.0.0.1:$dead_port/v1
      api_key: env:FAKE_LLM_TEST_KEY
      models: [{alias: default, model: fake-gpt}]
    - name: fallback
      type: openai-compatible
      endpoint: $FAKE_LLM_FALLBACK_URL/v1
      api_key: env:FAKE_LLM_TEST_KEY
      models: [{alias: default, model: fake-gpt-2}]"
id="$(submit "$(agent failover)")"
wait_status "$id" completed 60 || { aegisd_log b | tail -30 >&2; fail "failover: not completed: $(api GET "/v1/executions/$id")"; }
assert_eq "failover: the output" "from the fallback" "$(execution_field "$id" .output)"
assert_eq "failover: the fallback got the request" 1 "$(fake_llm_requests "$FAKE_LLM_FALLBACK_LOG")"
assert_eq "failover: with its own model" '"fake-gpt-2"' "$(fake_llm_request "$FAKE_LLM_FALLBACK_LOG" 1 'r["body"]["model"]')"
ev="$(llm_finished "$id")"
note "llm_call_finished: $ev"
assert_eq "failover: llm_call_finished names the fallback" fallback "$(jq -r .provider <<<"$ev")"
assert_eq "failover: 2 attempts on the default (max_retries 1), 1 on the fallback" 3 "$(jq -r .attempts <<<"$ev")"
assert_no_managed_containers
finish
