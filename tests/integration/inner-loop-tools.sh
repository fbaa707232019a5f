#!/bin/bash
# The tool catalogue and the security contexts end to end (issue 21), on real Podman with the
# scripted fake provider, storage.mount_mode bind:
#  - every fs tool on the execution's volume, run by aegisd on the host; escapes refused: "../",
#    an absolute path outside /workspace, and a symlink to /etc planted by cmd.run;
#  - fs.edit to a shorter text leaves no old bytes (checked on the host's file);
#  - cmd.run's output past max_output_bytes keeps its head and its tail and says so;
#  - env_additions with a credential's name dropped, and the model told;
#  - an unknown tool and bad arguments go back to the model and the loop goes on;
#  - a context that denies cmd.run: not offered, the model told "Tool 'cmd.run' is not
#    available", a policy_violation event, the counter, the violation in the iteration;
#  - an unknown spec.security_context is refused at submission, naming it.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$AEGIS_TEST_LIB/llm.sh"
require_cmd jq
make_scratch
podman_start

cat >"$SCRATCH/script.json" <<'JSON'
[
  {"tool_calls": [
    {"name": "fs.write", "id": "w", "arguments": {"path": "notes/a.txt", "content": "hello wonderful world\n"}},
    {"name": "fs.read", "id": "r", "arguments": {"path": "/workspace/notes/a.txt"}},
    {"name": "fs.edit", "id": "e", "arguments": {"path": "notes/a.txt", "target_content": "wonderful world\n", "replacement_content": "x"}},
    {"name": "cmd.run", "id": "plant", "arguments": {"command": "sh", "args": ["-c", "ln -s /etc /workspace/etc-link; wc -c < /workspace/notes/a.txt"]}},
    {"name": "fs.read", "id": "esc-link", "arguments": {"path": "etc-link/passwd"}},
    {"name": "fs.read", "id": "esc-dotdot", "arguments": {"path": "../../etc/passwd"}},
    {"name": "fs.read", "id": "esc-abs", "arguments": {"path": "/etc/passwd"}},
    {"name": "fs.write", "id": "esc-write", "arguments": {"path": "etc-link/aegis-evil", "content": "x"}},
    {"name": "fs.list", "id": "l", "arguments": {"path": "."}},
    {"name": "fs.create_dir", "id": "mk", "arguments": {"path": "d/e"}},
    {"name": "fs.multi_edit", "id": "me", "arguments": {"path": "notes/a.txt", "edits": [{"target_content": "hello", "replacement_content": "bye"}]}},
    {"name": "fs.grep", "id": "g", "arguments": {"pattern": "by[e]", "path": "notes"}},
    {"name": "fs.glob", "id": "gl", "arguments": {"pattern": "**/*.txt"}},
    {"name": "fs.delete", "id": "del", "arguments": {"path": "d", "recursive": true}},
    {"name": "fs.nope", "id": "unknown", "arguments": {}},
    {"name": "fs.read", "id": "bad", "arguments": {"pathname": "x"}},
    {"name": "cmd.run", "id": "big", "arguments": {"command": "sh", "args": ["-c", "head -c 3000 /dev/zero | tr '\\0' a; echo; head -c 3000 /dev/zero | tr '\\0' b"], "max_output_bytes": 1000}},
    {"name": "cmd.run", "id": "env", "arguments": {"command": "sh", "args": ["-c", "echo A=${AWS_SECRET_ACCESS_KEY:-unset} B=$MY_VAR"], "env_additions": {"AWS_SECRET_ACCESS_KEY": "leak", "MY_VAR": "fine"}}}
  ]},
  {"text": "fs done"},
  {"tool_calls": [{"name": "cmd.run", "id": "denied", "arguments": {"command": "echo", "args": ["hi"]}}]},
  {"text": "told"}
]
JSON
fake_llm_start "$SCRATCH/script.json"
ROOT="$SCRATCH/storage"
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""
aegisd_start a "storage:
  root: \"$ROOT\"
  mount_mode: bind
llm:
  providers:
    - name: fake
      type: openai-compatible
      endpoint: $FAKE_LLM_URL/v1
      models: [{alias: default, model: fake-gpt}]
security:
  contexts:
    - name: no-cmd
      capabilities:
        - tool_pattern: \"fs.*\"
      deny_list: [cmd.run]"

manifest() { # manifest NAME TOOLS [extra spec YAML]: inner_loop_manifest's agent with TOOLS
        local f
        f="$(inner_loop_manifest "$1" "$TEST_IMAGE" "  execution:
    max_iterations: 1
    llm_timeout_seconds: 20
${3:-}")"
        sed -i "s/^  tools: .*/  tools: $2/" "$f"
        echo "$f"
}
submit() { api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$1"; }
# The result the model got for tool call ID in request N, as JSON.
result() { fake_llm_tool_result "$FAKE_LLM_LOG" "$1" "$2"; }

# 1. The fs tools on a volume, escapes, edits, output bounds, env_additions, recoverable errors.
m="$(manifest fs "[cmd.run, fs.read, fs.write, fs.list, fs.create_dir, fs.delete, fs.edit, fs.multi_edit, fs.grep, fs.glob]" "  volumes:
    - name: work
      mount_path: /workspace")"
id="$(submit "$m" | jq -r .execution_id)"
wait_status "$id" completed 90 || { aegisd_log a | tail -30 >&2; fail "fs execution did not complete: $(api GET "/v1/executions/$id")"; }
assert_eq "the loop went on to the final answer" "fs done" "$(execution_field "$id" .output)"
offered="$(fake_llm_request "$FAKE_LLM_LOG" 1 '[t["function"]["name"] for t in r["body"].get("tools", [])]')"
for t in cmd.run fs.read fs.write fs.list fs.create_dir fs.delete fs.edit fs.multi_edit fs.grep fs.glob; do
        check "offered: $t" grep -q "\"${t//./__}\"\\|\"$t\"" <<<"$offered"
done
r2() { result 2 "$1"; }
assert_eq "fs.write" 22 "$(r2 w | jq .bytes_written)"
assert_eq "fs.read" '"hello wonderful world\n"' "$(r2 r | jq .content)"
assert_eq "fs.edit applied" 1 "$(r2 e | jq .edits_applied)"
assert_eq "cmd.run saw the edited file, shorter" "7" "$(r2 plant | jq -r .stdout | tr -d ' \n')"
for c in esc-link esc-write; do
        assert_match "$c refused: the symlink planted by cmd.run leads out" "leads outside the volume" "$(r2 $c | jq -r .error)"
done
assert_match "esc-dotdot refused" "outside the execution's volumes" "$(r2 esc-dotdot | jq -r .error)"
assert_match "esc-abs refused" "outside the execution's volumes" "$(r2 esc-abs | jq -r .error)"
check "nothing written to /etc" test ! -e /etc/aegis-evil
assert_eq "fs.list" "etc-link notes" "$(r2 l | jq -r '[.entries[].name] | join(" ")')"
assert_eq "fs.create_dir" true "$(r2 mk | jq .created)"
assert_eq "fs.grep" "/workspace/notes/a.txt:1:bye x" "$(r2 g | jq -r '.matches[] | "\(.path):\(.line):\(.text)"')"
assert_eq "fs.glob" "notes/a.txt" "$(r2 gl | jq -r '.matches | join(" ")')"
assert_eq "fs.delete" true "$(r2 del | jq .deleted)"
assert_match "an unknown tool is a result for the model" "unknown tool" "$(r2 unknown | jq -r .error)"
assert_match "bad arguments are a result for the model" '"path"' "$(r2 bad | jq -r .error)"
big="$(r2 big)"
assert_eq "cmd.run output past the bound: truncated" true "$(jq .truncated <<<"$big")"
check "… keeps the head" bash -c '[[ "$(jq -r .stdout <<<"$1")" == aaaa* ]]' _ "$big"
check "… keeps the tail" bash -c '[[ "$(jq -r .stdout <<<"$1" | tr -d "\n")" == *bbbb ]]' _ "$big"
check "… and says so" bash -c 'jq -r .stdout <<<"$1" | grep -q max_output_bytes' _ "$big"
envr="$(r2 env)"
assert_eq "env_additions: the credential dropped, the rest passed" "A=unset B=fine" "$(jq -r .stdout <<<"$envr" | tr -d '\n')"
assert_match "… and the model told which" "AWS_SECRET_ACCESS_KEY" "$(jq -r .notes <<<"$envr")"
vol="$(api GET /v1/volumes | jq -r --arg x "$id" '.volumes[] | select(.owner_execution_id == $x) | .id')"
file="$(find "$ROOT" -path "*/$vol/notes/a.txt")"
assert_eq "on the host: the edited file holds exactly the new text" "bye x" "$(cat "$file")"
assert_eq "… and no old bytes" 5 "$(stat -c %s "$file")"
check "the planted symlink is still a symlink to /etc" test "$(readlink "$(dirname "$(dirname "$file")")/etc-link")" = /etc

# 2. A context that denies cmd.run.
m="$(manifest denied "[cmd.run, fs.read]" "  security_context: no-cmd")"
id="$(submit "$m" | jq -r .execution_id)"
wait_status "$id" completed 60 || fail "denied execution did not complete: $(api GET "/v1/executions/$id")"
assert_eq "the loop went on after the denial" "told" "$(execution_field "$id" .output)"
assert_match "only fs.read offered (cmd.run denied; fs.* runs in the container without a volume)" \
        '^\["fs(__|\.)read"\]$' \
        "$(fake_llm_request "$FAKE_LLM_LOG" 3 '[t["function"]["name"] for t in r["body"].get("tools", [])]' | jq -c .)"
assert_match "the model is told" "Tool 'cmd.run' is not available: denied by the deny_list of security context 'no-cmd'" \
        "$(result 4 denied | jq -r .error)"
ex="$(api GET "/v1/executions/$id")"
assert_eq "the iteration records the violation" "cmd.run denied" \
        "$(jq -r '.iterations[0].trajectory.violations[0] | "\(.tool) \(.tool_call_id)"' <<<"$ex")"
events="$(api GET "/v1/executions/$id/events" --max-time 3)"
check "a policy_violation event" grep -q policy_violation <<<"$events"
murl="http://$(sed -n 's/^  metrics_listen: "\(.*\)"$/\1/p' "$SCRATCH/aegisd-a/config.yaml")/metrics"
check "the counter" grep -q '^aegis_policy_violations_total{tool="cmd.run"} 1' <<<"$(curl -s "$murl")"
check "the journal line names the execution" grep -q "execution $id: policy_violation" <<<"$(aegisd_log a)"

# 3. An unknown context is refused at submission.
m="$(manifest ghost "[cmd.run]" "  security_context: ghost")"
assert_eq "unknown context: 400" 400 "$(api_status POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$m")"
assert_match "… naming it" 'no security context \\"ghost\\"' "$(submit "$m")"
finish
