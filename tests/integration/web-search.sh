#!/bin/bash
# web.search (issue 21) end to end on real Podman with the scripted fake LLM provider and a
# fake search provider (fake-search.py below: it answers POST / as tools.web_search documents
# and logs what it got):
#  - tools.web_search configured, network_policy an allow-list: web.search is offered; the
#    query and max_results reach the fake with "Authorization: Bearer KEY"; its results come
#    back bounded (max_results entries, long fields cut); an HTTP 500 and an answer that is not
#    JSON are tool errors the loop goes on after, and so is a provider slower than
#    tools.web_search.timeout_secs; the key is not in the container's
#    environment, in what the model got, in aegisd's log or in its store (events, trajectory);
#  - network_policy mode none: web.search is not offered;
#  - without tools.web_search: web.search is not offered, and the model asking for it is told.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$AEGIS_TEST_LIB/llm.sh"
require_cmd jq python3
make_scratch
podman_start

cat >"$SCRATCH/fake-search.py" <<'PY'
# A fake search provider: {"results": [...]} for a query, HTTP 500 for "fail", not JSON for
# "garbage", no answer for 3 s for "slow"; every request logged as one JSON line {auth, body}.
import http.server, json, sys, time
port_file, log = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(log, "a") as f:
            f.write(json.dumps({"auth": self.headers.get("Authorization"), "path": self.path,
                                "body": json.loads(body)}) + "\n")
        q = json.loads(body)["query"]
        if q == "slow":
            time.sleep(3); return
        if q == "fail":
            self.send_response(500); self.end_headers(); return
        out = b"<html>not json</html>" if q == "garbage" else json.dumps({"results": [
            {"title": "First " + q, "url": "https://one.example/a", "snippet": "x" * 5000},
            {"title": "Second", "url": "https://two.example/b", "snippet": "short"},
            {"title": "Third", "url": "https://three.example/c", "snippet": "never"}]}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out))); self.end_headers(); self.wfile.write(out)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(port_file, "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$SCRATCH/fake-search.py" "$SCRATCH/search.port" "$SCRATCH/search.log" &
on_exit "kill $!"
wait_for 10 test -s "$SCRATCH/search.port" || fail "the fake search provider did not start"
SEARCH_URL="http://127.0.0.1:$(cat "$SCRATCH/search.port")/search"
: >"$SCRATCH/search.log"

jq -n '[
  {tool_calls: [
    {name: "web.search", id: "ok", arguments: {query: "aegis sandbox", max_results: 2}},
    {name: "web.search", id: "fail", arguments: {query: "fail"}},
    {name: "web.search", id: "garbage", arguments: {query: "garbage"}},
    {name: "web.search", id: "noquery", arguments: {}},
    {name: "web.search", id: "slow", arguments: {query: "slow"}},
    {name: "cmd.run", id: "env", arguments: {command: "env"}}
  ]},
  {text: "searched"},
  {text: "offline"},
  {tool_calls: [{name: "web.search", id: "absent", arguments: {query: "anything"}}]},
  {text: "unconfigured"}
]' >"$SCRATCH/script.json"
fake_llm_start "$SCRATCH/script.json"
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""
LLM="
llm:
  providers:
    - name: fake
      type: openai-compatible
      endpoint: $FAKE_LLM_URL/v1
      models: [{alias: default, model: fake-gpt}]"
KEY="fake-search-key-$RANDOM$RANDOM"
export AEGIS_TEST_SEARCH_KEY="$KEY"
aegisd_start a "$LLM
tools:
  web_search:
    endpoint: $SEARCH_URL
    api_key: env:AEGIS_TEST_SEARCH_KEY
    max_results: 3
    timeout_secs: 1"

# loop NAME POLICY: an inner-loop agent offered web.search and cmd.run; runs to the end.
loop() {
        cat >"$SCRATCH/$1.yaml" <<YAML
apiVersion: 100monkeys.ai/v1
kind: Agent
metadata: {name: $1, version: "1.0.0"}
spec:
  runtime: {image: $TEST_IMAGE, image_pull_policy: Never}
  task: {instruction: "Search."}
  tools: [web.search, cmd.run]
  security:
    network_policy: $2
  execution: {max_iterations: 1, llm_timeout_seconds: 20}
YAML
        ID="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$SCRATCH/$1.yaml" | jq -r .execution_id)"
        [ -n "$ID" ] && [ "$ID" != null ] || fail "$1: not submitted"
        wait_status "$ID" completed 60 || { aegisd_log "${AEGISD_NAME:-a}" | tail -20 >&2; fail "$1: $(api GET "/v1/executions/$ID")"; }
}
result() { fake_llm_tool_result "$FAKE_LLM_LOG" "$1" "$2"; }
offered() { fake_llm_request "$FAKE_LLM_LOG" "$1" '[t["function"]["name"] for t in r["body"].get("tools", [])]' | jq -c .; }

# 1. Configured, an allow-list policy.
loop search "{mode: allow, allowlist: [allowed.test]}"
assert_eq "the loop ended with the model's answer" searched "$(execution_field "$ID" .output)"
assert_match "web.search is offered" 'web[._]+search' "$(offered 1)"
first="$(head -1 "$SCRATCH/search.log")"
assert_eq "the key reached the fake as a bearer token" "Bearer $KEY" "$(jq -r .auth <<<"$first")"
assert_eq "… POSTed to the endpoint" /search "$(jq -r .path <<<"$first")"
assert_eq "… with the query and max_results" '{"query":"aegis sandbox","max_results":2}' "$(jq -c .body <<<"$first")"
ok="$(result 2 ok)"
assert_eq "max_results 2: two results" 2 "$(jq '.results | length' <<<"$ok")"
assert_eq "… the query" "aegis sandbox" "$(jq -r .query <<<"$ok")"
assert_eq "… titles and URLs as the provider gave them" \
        '[["First aegis sandbox","https://one.example/a"],["Second","https://two.example/b"]]' \
        "$(jq -c '[.results[] | [.title, .url]]' <<<"$ok")"
assert_eq "… a long snippet cut to 400 bytes" 400 "$(jq -r '.results[0].snippet | length' <<<"$ok")"
assert_eq "no max_results: the configured 3" 3 \
        "$(sed -n 2p "$SCRATCH/search.log" | jq .body.max_results)"
assert_match "HTTP 500 is a tool error" "search provider answered HTTP 500" "$(result 2 fail | jq -r .error)"
assert_match "an answer that is not JSON is a tool error" "not the expected JSON" \
        "$(result 2 garbage | jq -r .error)"
assert_match "a call without a query is a tool error" '"query"' "$(result 2 noquery | jq -r .error)"
assert_match "a provider slower than timeout_secs is a tool error" "did not answer within 1 s" \
        "$(result 2 slow | jq -r .error)"
assert_eq "the fake got the four searches only" 4 "$(grep -c . "$SCRATCH/search.log")"
env_out="$(result 2 env)"
assert_match "cmd.run ran in the container" 'PATH=' "$env_out"

# 2. No network: not offered, even configured.
loop offline "{mode: none}"
assert_eq "mode none: the loop ended" offline "$(execution_field "$ID" .output)"
assert_match "mode none: only cmd.run is offered" '^\["cmd[._]+run"\]$' "$(offered 3)"

# The key went nowhere but to the provider.
check "the key is not in what the model got (the container's env included), aegisd's log or store" \
        bash -c '! grep -rqa -- "$1" "$2" "$3"' _ "$KEY" "$FAKE_LLM_LOG" "$SCRATCH/aegisd-a"
aegisd_stop a

# 3. Not configured: not offered, and asking for it is answered.
AEGISD_NAME=b aegisd_start b "$LLM"
AEGISD_NAME=b loop unconfigured "{mode: allow, allowlist: [allowed.test]}"
assert_eq "unconfigured: the loop went on" unconfigured "$(execution_field "$ID" .output)"
assert_match "unconfigured: web.search is not offered" '^\["cmd[._]+run"\]$' "$(offered 4)"
assert_match "the model asking for it is told" "Tool 'web.search' is not available to this agent" \
        "$(result 5 absent | jq -r .error)"
assert_eq "the fake got nothing more" 4 "$(grep -c . "$SCRATCH/search.log")"

assert_no_managed_containers
finish
