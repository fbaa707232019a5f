#!/bin/bash
# web.fetch (issue 21) end to end on real Podman with the scripted fake provider. Two local
# HTTP servers stand for an allowed and a denied host (127.0.0.2 and 127.0.0.3, named
# allowed.test and denied.test in the hosts file of a private mount namespace aegisd runs in):
#  - network_policy {mode: allow, allowlist: [allowed.test]}: the allowed page comes back as
#    text (script dropped, link as text [url]); the denied host, an address literal, a file:
#    URL and a redirect from the allowed host to the denied one (naming the hop) are refused,
#    a redirect within the allowed host is followed without the URL's credentials; a body past
#    2 MiB and a timeout_secs past 120 are errors; the denied server is never reached;
#  - a security context whose domain_allowlist names allowed.test only (the network_policy
#    admitting both): the denied host is a policy violation, and a redirect hop to it is
#    refused by the domain_allowlist;
#  - network_policy mode none: web.fetch is not offered;
#  - a network_policy that lists no host ({mode: allow}): a name that resolves to a loopback
#    address and a link-local address literal are refused (aegisd's own services, metadata).
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$AEGIS_TEST_LIB/llm.sh"
require_cmd jq python3 unshare mount
[ "$(id -u)" = 0 ] || skip_or_fail "needs root for a private mount namespace with its own /etc/hosts"
make_scratch
podman_start

port="$(free_port)"
cat >"$SCRATCH/server.py" <<'PY'
import http.server, sys
addr, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
PAGE = b"""<html><head><title>t</title><script>var leaked = "script-text";</script></head>
<body><h1>Hello from %s</h1><p>Some   <b>bold</b> text.</p><p><a href="/next.html">next page</a></p></body></html>"""
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write("GET %s auth=%s cookie=%s\n" % (self.path, self.headers.get("Authorization"), self.headers.get("Cookie")))
        if self.path == "/to-denied":
            self.send_response(302); self.send_header("Location", "http://denied.test:%d/page.html" % port)
            self.end_headers(); return
        if self.path == "/big":
            body = b"<p>" + b"x" * (3 * 1024 * 1024) + b"</p>"
            self.send_response(200); self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body); return
        if self.path == "/to-self":
            self.send_response(301); self.send_header("Location", "/page.html"); self.end_headers(); return
        body = PAGE % addr.encode()
        self.send_response(200); self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer((addr, port), H).serve_forever()
PY
python3 "$SCRATCH/server.py" 127.0.0.2 "$port" "$SCRATCH/allowed.log" &
on_exit "kill $!"
python3 "$SCRATCH/server.py" 127.0.0.3 "$port" "$SCRATCH/denied.log" &
on_exit "kill $!"
wait_for 10 curl -sf "http://127.0.0.2:$port/page.html" -o /dev/null || fail "the allowed server did not come up"
wait_for 10 curl -sf "http://127.0.0.3:$port/page.html" -o /dev/null || fail "the denied server did not come up"
: >"$SCRATCH/denied.log" # from here on, any request it logs came through a hole

printf '127.0.0.1 localhost\n127.0.0.2 allowed.test\n127.0.0.3 denied.test\n' >"$SCRATCH/hosts"
aegisd_with_hosts "$SCRATCH/hosts"

A="http://allowed.test:$port" D="http://denied.test:$port"
jq -n --arg a "$A" --arg d "$D" --arg port "$port" '[
  {tool_calls: [
    {name: "web.fetch", id: "ok", arguments: {url: ($a + "/page.html")}},
    {name: "web.fetch", id: "plain", arguments: {url: ($a + "/page.html"), to_markdown: false}},
    {name: "web.fetch", id: "denied", arguments: {url: ($d + "/page.html")}},
    {name: "web.fetch", id: "redir", arguments: {url: ($a + "/to-denied")}},
    {name: "web.fetch", id: "self", arguments: {url: ("http://user:pw@allowed.test:" + $port + "/to-self")}},
    {name: "web.fetch", id: "nofollow", arguments: {url: ($a + "/to-denied"), follow_redirects: false}},
    {name: "web.fetch", id: "addr", arguments: {url: ("http://127.0.0.2:" + $port + "/page.html")}},
    {name: "web.fetch", id: "scheme", arguments: {url: "file:///etc/passwd"}},
    {name: "web.fetch", id: "timeout", arguments: {url: ($a + "/page.html"), timeout_secs: 500}},
    {name: "web.fetch", id: "big", arguments: {url: ($a + "/big")}}
  ]},
  {text: "fetched"},
  {tool_calls: [
    {name: "web.fetch", id: "ctx-denied", arguments: {url: ($d + "/page.html")}},
    {name: "web.fetch", id: "ctx-redir", arguments: {url: ($a + "/to-denied")}},
    {name: "web.fetch", id: "ctx-ok", arguments: {url: ($a + "/page.html")}}
  ]},
  {text: "narrow"},
  {text: "offline"},
  {tool_calls: [
    {name: "web.fetch", id: "open-name", arguments: {url: ($a + "/page.html")}},
    {name: "web.fetch", id: "open-addr", arguments: {url: "http://169.254.169.254/latest/meta-data/"}}
  ]},
  {text: "open"}
]' >"$SCRATCH/script.json"
fake_llm_start "$SCRATCH/script.json"
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""
aegisd_start a "
llm:
  providers:
    - name: fake
      type: openai-compatible
      endpoint: $FAKE_LLM_URL/v1
      models: [{alias: default, model: fake-gpt}]
security:
  allow_internal_egress: true
  contexts:
    - name: narrow
      capabilities:
        - tool_pattern: \"web.*\"
          domain_allowlist: [allowed.test]"

# loop NAME POLICY [EXTRA]: an inner-loop agent offered web.fetch under POLICY; runs to the end.
loop() {
        cat >"$SCRATCH/$1.yaml" <<YAML
apiVersion: 100monkeys.ai/v1
kind: Agent
metadata: {name: $1, version: "1.0.0"}
spec:
  runtime: {image: $TEST_IMAGE, image_pull_policy: Never}
  task: {instruction: "Fetch."}
  tools: [web.fetch]
  security:
    network_policy: $2
  execution: {max_iterations: 1, llm_timeout_seconds: 20}
${3:-}
YAML
        ID="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$SCRATCH/$1.yaml" | jq -r .execution_id)"
        [ -n "$ID" ] && [ "$ID" != null ] || fail "$1: not submitted"
        wait_status "$ID" completed 60 || { aegisd_log a | tail -20 >&2; fail "$1: $(api GET "/v1/executions/$ID")"; }
}
# result N ID: what the model got for tool call ID, in request N.
result() { fake_llm_tool_result "$FAKE_LLM_LOG" "$1" "$2"; }

# 1. An allowlist.
loop allow "{mode: allow, allowlist: [allowed.test]}"
assert_eq "the loop ended with the model's answer" fetched "$(execution_field "$ID" .output)"
offered="$(fake_llm_request "$FAKE_LLM_LOG" 1 '[t["function"]["name"] for t in r["body"].get("tools", [])]')"
assert_match "web.fetch is offered" 'web[._]+fetch' "$offered"
ok="$(result 2 ok)"
assert_eq "the allowed page: status" 200 "$(jq .status <<<"$ok")"
assert_eq "… its final URL" "$A/page.html" "$(jq -r .url <<<"$ok")"
assert_eq "… its content type" "text/html; charset=utf-8" "$(jq -r .content_type <<<"$ok")"
assert_eq "… as Markdown text, the script dropped, the link as text [url]" \
        "# Hello from 127.0.0.2

Some bold text.

next page [$A/next.html]" "$(jq -r .content <<<"$ok")"
assert_eq "… not truncated" false "$(jq .truncated <<<"$ok")"
assert_eq "to_markdown false: plain text" "Hello from 127.0.0.2

Some bold text.

next page" "$(result 2 plain | jq -r .content)"
assert_match "the denied host is refused" "denied.test:$port/page.html refused: host 'denied.test' is not allowed by the execution's network_policy" \
        "$(result 2 denied | jq -r .error)"
assert_match "a redirect to the denied host is refused, naming the hop" \
        "redirect hop 1 to $D/page.html refused: host 'denied.test' is not allowed by the execution's network_policy" \
        "$(result 2 redir | jq -r .error)"
self="$(result 2 self)"
assert_eq "a redirect within the allowed host is followed" "$A/page.html" "$(jq -r .url <<<"$self")"
assert_eq "… to its page" 200 "$(jq .status <<<"$self")"
nofollow="$(result 2 nofollow)"
assert_eq "follow_redirects false: the redirect itself" 302 "$(jq .status <<<"$nofollow")"
assert_eq "… with its location" "$D/page.html" "$(jq -r .location <<<"$nofollow")"
assert_match "an address literal is refused" "host '127.0.0.2' is not allowed" "$(result 2 addr | jq -r .error)"
assert_match "a file: URL is refused" "only http and https" "$(result 2 scheme | jq -r .error)"
assert_match "timeout_secs is bounded" "timeout_secs.*120" "$(result 2 timeout | jq -r .error)"
assert_match "a body past 2 MiB is refused" "larger than 2 MiB" "$(result 2 big | jq -r .error)"
check "the URL's credentials were not sent (no Authorization reached the server)" \
        grep -qx "GET /to-self auth=None cookie=None" "$SCRATCH/allowed.log"
if [ -s "$SCRATCH/denied.log" ]; then
        fail "the denied server was reached: $(cat "$SCRATCH/denied.log")"
fi

# 2. A context's domain_allowlist, the network_policy admitting both hosts.
loop narrow "{mode: allow, allowlist: [allowed.test, denied.test]}" "  security_context: narrow"
assert_eq "the loop went on" narrow "$(execution_field "$ID" .output)"
assert_match "the denied host is a policy violation" \
        "Tool 'web.fetch' is not available: host 'denied.test' is not in the domain_allowlist of security context 'narrow'" \
        "$(result 4 ctx-denied | jq -r .error)"
assert_match "a redirect hop to it is refused by the domain_allowlist" \
        "redirect hop 1 to $D/page.html refused: host 'denied.test' is not in the domain_allowlist of security context 'narrow'" \
        "$(result 4 ctx-redir | jq -r .error)"
assert_eq "the allowed host is fetched" 200 "$(result 4 ctx-ok | jq .status)"
if [ -s "$SCRATCH/denied.log" ]; then
        fail "the denied server was reached: $(cat "$SCRATCH/denied.log")"
fi

# 3. No network: not offered.
loop offline "{mode: none}"
assert_eq "mode none: web.fetch is not offered" "[]" \
        "$(fake_llm_request "$FAKE_LLM_LOG" 5 'r["body"].get("tools", [])' | jq -c .)"

# 4. A policy that lists no host: no loopback or link-local address, by name or literal.
loop open "{mode: allow}"
assert_eq "open: the loop went on" open "$(execution_field "$ID" .output)"
assert_match "open: a name resolving to a loopback address is refused" \
        "$A/page.html refused: the host has a loopback or link-local address" "$(result 7 open-name | jq -r .error)"
assert_match "open: an address literal is refused" "host '169.254.169.254' is not allowed" \
        "$(result 7 open-addr | jq -r .error)"

assert_no_managed_containers
finish
