#!/bin/bash
# The LLM client against the scripted fake provider (tests/lib/fake-llm.py), one llm_generate()
# per run of tests/helpers/llm-probe: each of the four wire formats answers text and tool
# calls (our tool names come back through the table, "fs.create_dir" included), a tool result
# reaches the model, 429 + Retry-After is waited out, a provider nobody listens on fails over
# to the fallback (or fails upstream_unavailable without one), a model that never answers
# fails at the call's deadline, and the key reaches the fake in its header and nothing else.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/common.sh"
. "$AEGIS_TEST_LIB/llm.sh"
require_cmd jq python3
PROBE="$top_builddir/tests/helpers/llm-probe"
make_scratch
KEY="sk-fake-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export FAKE_LLM_TEST_KEY="$KEY"
unset CREDENTIALS_DIRECTORY

cat >"$SCRATCH/msgs.json" <<'EOF'
[{"role":"system","content":"You are a careful agent."},{"role":"user","content":"Make the directory /w/out."}]
EOF
cat >"$SCRATCH/tools.json" <<'EOF'
[{"name":"cmd.run","description":"Run a command","parameters":{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}},
 {"name":"fs.create_dir","description":"Create a directory","parameters":{"type":"object","properties":{"path":{"type":"string"}}}}]
EOF
# The conversation after the model asked for fs.create_dir and the tool ran.
cat >"$SCRATCH/after-tool.json" <<'EOF'
[{"role":"system","content":"You are a careful agent."},{"role":"user","content":"Make the directory /w/out."},
 {"role":"assistant","content":null,"tool_calls":[{"id":"call_7","name":"fs.create_dir","arguments":{"path":"/w/out"}}]},
 {"role":"tool","tool_call_id":"call_7","name":"fs.create_dir","content":"created /w/out (tool-result-marker)"}]
EOF

cat >"$SCRATCH/script.json" <<EOF
[{"text":"hello from openai","usage":{"in":5,"out":3}},
 {"tool_calls":[{"name":"fs.create_dir","arguments":{"path":"/w/out","mode":"0755"}},{"name":"cmd.run","arguments":{"command":"ls -l /w"}}]},
 {"text":"the directory exists"},
 {"status":429,"retry_after":1},
 {"text":"after the rate limit"},
 {"text":"hello from anthropic"},
 {"tool_calls":[{"name":"fs.create_dir","arguments":{"path":"/a"}}],"text":"making it"},
 {"text":"anthropic saw it"},
 {"text":"hello from ollama"},
 {"tool_calls":[{"name":"cmd.run","arguments":{"command":"uname -a"}}]},
 {"text":"hello from gemini"},
 {"tool_calls":[{"name":"fs.create_dir","arguments":{"path":"/g"}}]},
 {"text":"gemini saw it"},
 {"status":401,"message":"Incorrect API key provided: $KEY"}]
EOF
fake_llm_start "$SCRATCH/script.json" main
MAIN_URL="$FAKE_LLM_URL" MAIN_LOG="$FAKE_LLM_LOG"

cat >"$SCRATCH/config.yaml" <<EOF
llm:
  providers:
    - name: oa
      type: openai-compatible
      endpoint: $MAIN_URL/v1
      api_key: env:FAKE_LLM_TEST_KEY
      models: [{alias: default, model: fake-gpt, max_output_tokens: 256, temperature: 0.5}]
    - name: an
      type: anthropic
      endpoint: $MAIN_URL
      api_key: env:FAKE_LLM_TEST_KEY
      models: [{alias: claude, model: fake-claude}]
    - name: ol
      type: ollama
      endpoint: $MAIN_URL
      models: [{alias: llama, model: fake-llama}]
    - name: ge
      type: gemini
      endpoint: $MAIN_URL
      api_key: env:FAKE_LLM_TEST_KEY
      models: [{alias: gem, model: fake-gemini}]
  selection:
    retry_delay_ms: 50
EOF

probe() { "$PROBE" "$@" 2>>"$SCRATCH/probe.stderr"; }
req() { fake_llm_request "$MAIN_LOG" "$@"; }

# --- OpenAI-compatible ---------------------------------------------------------------------
out="$(probe "$SCRATCH/config.yaml" default "$SCRATCH/msgs.json" "$SCRATCH/tools.json")"
assert_eq "openai: text answer" '"hello from openai"' "$(jq -c .content <<<"$out")"
assert_eq "openai: no tool calls" 0 "$(jq '.tool_calls|length' <<<"$out")"
assert_eq "openai: provider, model, tokens, one attempt" '["oa","fake-gpt",5,3,1]' \
        "$(jq -c '[.provider,.model,.tokens_in,.tokens_out,.attempts]' <<<"$out")"
assert_eq "openai: the path" '"/v1/chat/completions"' "$(req 1 'r["path"]')"
assert_eq "openai: the key as a bearer token" "\"Bearer $KEY\"" "$(req 1 'r["headers"]["Authorization"]')"
assert_eq "openai: tools declared with wire names" '["cmd__run", "fs__create_dir"]' \
        "$(req 1 '[t["function"]["name"] for t in r["body"]["tools"]]')"
assert_eq "openai: model, max_tokens, temperature" '["fake-gpt", 256, 0.5]' \
        "$(req 1 '[r["body"]["model"], r["body"]["max_tokens"], r["body"]["temperature"]]')"

out="$(probe "$SCRATCH/config.yaml" default "$SCRATCH/msgs.json" "$SCRATCH/tools.json")"
assert_eq "openai: tool calls in our spelling with object arguments" \
        '[{"name":"fs.create_dir","arguments":{"path":"/w/out","mode":"0755"}},{"name":"cmd.run","arguments":{"command":"ls -l /w"}}]' \
        "$(jq -c '[.tool_calls[]|{name,arguments}]' <<<"$out")"
assert_eq "openai: tool calls keep the provider's ids" '["call_1","call_2"]' "$(jq -c '[.tool_calls[].id]' <<<"$out")"
assert_eq "openai: a tool-only answer has no content" null "$(jq .content <<<"$out")"

out="$(probe "$SCRATCH/config.yaml" default "$SCRATCH/after-tool.json" "$SCRATCH/tools.json")"
assert_eq "openai: the answer after the tool result" '"the directory exists"' "$(jq -c .content <<<"$out")"
assert_eq "openai: the model saw the call and its result" \
        '[{"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "fs__create_dir", "arguments": "{\"path\":\"/w/out\"}"}, "id": "call_7", "type": "function"}]}, {"role": "tool", "content": "created /w/out (tool-result-marker)", "tool_call_id": "call_7"}]' \
        "$(req 3 'r["body"]["messages"][2:]')"

start=$(date +%s%N)
out="$(probe "$SCRATCH/config.yaml" default "$SCRATCH/msgs.json")"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq "429 + Retry-After: then success" '"after the rate limit"' "$(jq -c .content <<<"$out")"
assert_eq "429 + Retry-After: two attempts" 2 "$(jq .attempts <<<"$out")"
check "429 + Retry-After: 1 s waited (latency $(jq .latency_ms <<<"$out") ms)" test "$(jq .latency_ms <<<"$out")" -ge 1000
check "429 + Retry-After: not much more ($ms ms)" test "$ms" -lt "$(scaled 2500)"
assert_eq "no tools offered: no tools key" null "$(req 4 'r["body"].get("tools")')"

# --- Anthropic --------------------------------------------------------------------------------
out="$(probe "$SCRATCH/config.yaml" claude "$SCRATCH/msgs.json" "$SCRATCH/tools.json")"
assert_eq "anthropic: text answer" '["hello from anthropic","an","fake-claude"]' "$(jq -c '[.content,.provider,.model]' <<<"$out")"
assert_eq "anthropic: the path" '"/v1/messages"' "$(req 6 'r["path"]')"
assert_eq "anthropic: x-api-key and anthropic-version" "[\"$KEY\", \"2023-06-01\"]" \
        "$(req 6 '[r["headers"]["x-api-key"], r["headers"]["anthropic-version"]]')"
assert_eq "anthropic: no bearer token" null "$(req 6 'r["headers"].get("Authorization")')"
assert_eq "anthropic: system at the top, max_tokens 4096" '["You are a careful agent.", 4096, "user"]' \
        "$(req 6 '[r["body"]["system"], r["body"]["max_tokens"], r["body"]["messages"][0]["role"]]')"
assert_eq "anthropic: tools with input_schema" '["fs__create_dir", "object"]' \
        "$(req 6 '[r["body"]["tools"][1]["name"], r["body"]["tools"][1]["input_schema"]["type"]]')"
out="$(probe "$SCRATCH/config.yaml" claude "$SCRATCH/msgs.json" "$SCRATCH/tools.json")"
assert_eq "anthropic: text and a tool call" '["making it","fs.create_dir",{"path":"/a"},"toolu_1"]' \
        "$(jq -c '[.content,.tool_calls[0].name,.tool_calls[0].arguments,.tool_calls[0].id]' <<<"$out")"
out="$(probe "$SCRATCH/config.yaml" claude "$SCRATCH/after-tool.json" "$SCRATCH/tools.json")"
assert_eq "anthropic: answer after the tool result" '"anthropic saw it"' "$(jq -c .content <<<"$out")"
assert_eq "anthropic: tool_use then tool_result blocks" \
        '[["assistant", {"type": "tool_use", "id": "call_7", "name": "fs__create_dir", "input": {"path": "/w/out"}}], ["user", {"type": "tool_result", "tool_use_id": "call_7", "content": "created /w/out (tool-result-marker)"}]]' \
        "$(req 8 '[[m["role"], m["content"][-1]] for m in r["body"]["messages"][1:]]')"

# --- Ollama -----------------------------------------------------------------------------------
out="$(probe "$SCRATCH/config.yaml" llama "$SCRATCH/msgs.json" "$SCRATCH/tools.json")"
assert_eq "ollama: text answer" '["hello from ollama","ol",11,7]' "$(jq -c '[.content,.provider,.tokens_in,.tokens_out]' <<<"$out")"
assert_eq "ollama: the path, stream false, no key" '["/api/chat", false, null]' \
        "$(req 9 '[r["path"], r["body"]["stream"], r["headers"].get("Authorization")]')"
out="$(probe "$SCRATCH/config.yaml" llama "$SCRATCH/msgs.json" "$SCRATCH/tools.json")"
assert_eq "ollama: a tool call, numbered" '[{"id":"call_1","name":"cmd.run","arguments":{"command":"uname -a"}}]' \
        "$(jq -c '.tool_calls' <<<"$out")"

# --- Gemini -----------------------------------------------------------------------------------
out="$(probe "$SCRATCH/config.yaml" gem "$SCRATCH/msgs.json" "$SCRATCH/tools.json")"
assert_eq "gemini: text answer" '["hello from gemini","ge","fake-gemini"]' "$(jq -c '[.content,.provider,.model]' <<<"$out")"
assert_eq "gemini: the path names the model, no key in it" '"/v1beta/models/fake-gemini:generateContent"' "$(req 11 'r["path"]')"
assert_eq "gemini: the key in x-goog-api-key" "\"$KEY\"" "$(req 11 'r["headers"]["x-goog-api-key"]')"
assert_eq "gemini: systemInstruction and functionDeclarations" '["You are a careful agent.", ["cmd__run", "fs__create_dir"]]' \
        "$(req 11 '[r["body"]["systemInstruction"]["parts"][0]["text"], [d["name"] for d in r["body"]["tools"][0]["functionDeclarations"]]]')"
out="$(probe "$SCRATCH/config.yaml" gem "$SCRATCH/msgs.json" "$SCRATCH/tools.json")"
assert_eq "gemini: a functionCall in our spelling" '[{"name":"fs.create_dir","arguments":{"path":"/g"}}]' \
        "$(jq -c '[.tool_calls[]|{name,arguments}]' <<<"$out")"
out="$(probe "$SCRATCH/config.yaml" gem "$SCRATCH/after-tool.json" "$SCRATCH/tools.json")"
assert_eq "gemini: answer after the tool result" '"gemini saw it"' "$(jq -c .content <<<"$out")"
assert_eq "gemini: functionCall then functionResponse" \
        '[["model", {"functionCall": {"name": "fs__create_dir", "args": {"path": "/w/out"}}}], ["user", {"functionResponse": {"name": "fs__create_dir", "response": {"content": "created /w/out (tool-result-marker)"}}}]]' \
        "$(req 13 '[[c["role"], c["parts"][-1]] for c in r["body"]["contents"][1:]]')"

# --- Errors and the key -----------------------------------------------------------------------
out="$(probe "$SCRATCH/config.yaml" default "$SCRATCH/msgs.json" --metrics "$SCRATCH/metrics.txt")"
assert_eq "401: upstream_authentication, 502, one attempt (not retried)" '["upstream_authentication",502]' \
        "$(jq -c '[.error,.http_status]' <<<"$out")"
assert_eq "401: nothing retried" 14 "$(fake_llm_requests "$MAIN_LOG")"
assert_match "401: the provider's words, the key scrubbed" 'HTTP 401: Incorrect API key provided: \*\*\*' "$(jq -r .message <<<"$out")"
check "the key is in no answer of the probe" bash -c '! grep -qF -- "$1" <<<"$2"' _ "$KEY" "$out"
check "the key is in no metric" bash -c '! grep -qF -- "$1" "$2"' _ "$KEY" "$SCRATCH/metrics.txt"
assert_match "metrics count the request by provider and outcome" \
        'aegis_llm_requests_total\{provider="oa",outcome="upstream_authentication"\} 1' "$(cat "$SCRATCH/metrics.txt")"

# A missing key names the provider and the variable; a systemd credential supplies it.
unset FAKE_LLM_TEST_KEY
"$PROBE" "$SCRATCH/config.yaml" default "$SCRATCH/msgs.json" >/dev/null 2>"$SCRATCH/nokey.err"
assert_eq "a missing key stops the client" 2 "$?"
assert_match "a missing key names the provider and the variable" \
        'llm provider "oa": api_key env:FAKE_LLM_TEST_KEY: \$FAKE_LLM_TEST_KEY is not set' "$(cat "$SCRATCH/nokey.err")"
mkdir -p "$SCRATCH/creds"
printf '%s\n' "$KEY" >"$SCRATCH/creds/FAKE_LLM_TEST_KEY"
CREDENTIALS_DIRECTORY="$SCRATCH/creds" probe "$SCRATCH/config.yaml" default "$SCRATCH/msgs.json" >/dev/null
assert_eq "the key from \$CREDENTIALS_DIRECTORY, newline dropped" "\"Bearer $KEY\"" "$(req 15 'r["headers"]["Authorization"]')"
export FAKE_LLM_TEST_KEY="$KEY"

# --- Provider down, fallback ------------------------------------------------------------------
echo '[{"text":"from the fallback"}]' >"$SCRATCH/fallback.json"
fake_llm_start "$SCRATCH/fallback.json" backup
down="http://127.0.0.1:$(free_port)/v1"
write_down_config() { # FILE [FALLBACK]
        cat >"$1" <<EOF
llm:
  providers:
    - name: down
      type: openai-compatible
      endpoint: $down
      api_key: env:FAKE_LLM_TEST_KEY
      models: [{alias: default, model: m1}]
    - name: backup
      type: anthropic
      endpoint: $FAKE_LLM_BACKUP_URL
      api_key: env:FAKE_LLM_TEST_KEY
      models: [{alias: other, model: fallback-model}]
  selection:
    max_retries: 2
    retry_delay_ms: 20
${2:+    fallback_provider: $2}
EOF
}
write_down_config "$SCRATCH/down.yaml"
out="$(probe "$SCRATCH/down.yaml" default "$SCRATCH/msgs.json")"
assert_eq "nothing listening, no fallback: upstream_unavailable 503" '["upstream_unavailable",503]' \
        "$(jq -c '[.error,.http_status]' <<<"$out")"
assert_match "nothing listening: the message names the provider" 'provider "down"' "$(jq -r .message <<<"$out")"
write_down_config "$SCRATCH/down-fb.yaml" backup
out="$(probe "$SCRATCH/down-fb.yaml" default "$SCRATCH/msgs.json")"
assert_eq "nothing listening: the fallback answers with its first model" '["from the fallback","backup","fallback-model",4]' \
        "$(jq -c '[.content,.provider,.model,.attempts]' <<<"$out")"

# --- A model that never answers ---------------------------------------------------------------
echo '[{"hang":true},{"hang":true},{"hang":true},{"hang":true}]' >"$SCRATCH/hang.json"
fake_llm_start "$SCRATCH/hang.json" hang
cat >"$SCRATCH/hang.yaml" <<EOF
llm:
  providers:
    - {name: slow, type: ollama, endpoint: $FAKE_LLM_HANG_URL, models: [{alias: default, model: m}]}
EOF
start=$(date +%s%N)
out="$(probe "$SCRATCH/hang.yaml" default "$SCRATCH/msgs.json" --timeout-ms 1500)"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq "a hang: upstream_network at the deadline" '"upstream_network"' "$(jq -c .error <<<"$out")"
check "a hang: the deadline fires on time (elapsed $(jq .elapsed_ms <<<"$out") ms)" \
        test "$(jq .elapsed_ms <<<"$out")" -ge 1400 -a "$(jq .elapsed_ms <<<"$out")" -lt "$(scaled 2500)"
check "a hang: the probe is done promptly ($ms ms)" test "$ms" -lt "$(scaled 4000)"

# An unknown alias is a configuration error, reported through done().
out="$(probe "$SCRATCH/config.yaml" nope "$SCRATCH/msgs.json")"
assert_eq "an unknown alias: configuration 500" '["configuration",500]' "$(jq -c '[.error,.http_status]' <<<"$out")"

check "the key never reached the probe's stderr" bash -c '! grep -qF -- "$1" "$2"' _ "$KEY" "$SCRATCH/probe.stderr"
check "the key never reached a missing-key message" bash -c '! grep -qF -- "$1" "$2"' _ "$KEY" "$SCRATCH/nokey.err"
finish
