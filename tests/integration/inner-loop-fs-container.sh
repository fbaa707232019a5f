#!/bin/bash
# The fs tools without a volume (issue 21): offered all the same, they run in the container
# as {"action":"fs"} dispatches that aegis-bootstrap runs natively, on real Podman with the
# scripted fake provider. Each op once: write (parents created), read, edit to a shorter text
# (no old bytes left: checked by cmd.run in the container), multi_edit, list, create_dir,
# delete (refused without recursive, then recursive), grep (PCRE2, and a pattern that does not
# compile), glob, a path that does not exist, a path that climbs above /; the results have
# the host-side tools' shape.
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
    {"name": "fs.read", "id": "r", "arguments": {"path": "/workspace/notes/./a.txt"}},
    {"name": "fs.edit", "id": "e", "arguments": {"path": "notes/a.txt", "target_content": "wonderful world\n", "replacement_content": "x"}},
    {"name": "cmd.run", "id": "size", "arguments": {"command": "sh", "args": ["-c", "wc -c < /workspace/notes/a.txt"]}},
    {"name": "fs.multi_edit", "id": "me", "arguments": {"path": "notes/a.txt", "edits": [{"target_content": "hello", "replacement_content": "bye"}, {"target_content": "x", "replacement_content": "y"}]}},
    {"name": "fs.read", "id": "r2", "arguments": {"path": "notes/a.txt"}},
    {"name": "fs.read", "id": "missing", "arguments": {"path": "no/such/file"}},
    {"name": "fs.edit", "id": "missing-edit", "arguments": {"path": "nope.txt", "target_content": "a", "replacement_content": "b"}},
    {"name": "fs.read", "id": "above", "arguments": {"path": "../../../etc/passwd"}},
    {"name": "fs.create_dir", "id": "mk", "arguments": {"path": "d/e"}},
    {"name": "fs.write", "id": "w2", "arguments": {"path": "d/e/f.txt", "content": "f"}},
    {"name": "fs.list", "id": "l", "arguments": {}},
    {"name": "fs.delete", "id": "del-nr", "arguments": {"path": "d"}},
    {"name": "fs.delete", "id": "del", "arguments": {"path": "d", "recursive": true}},
    {"name": "fs.read", "id": "bad", "arguments": {"pathname": "x"}},
    {"name": "fs.grep", "id": "grep", "arguments": {"pattern": "^by(?=e)\\w\\s"}},
    {"name": "fs.grep", "id": "grep-bad", "arguments": {"pattern": "(unclosed"}},
    {"name": "fs.write", "id": "w3", "arguments": {"path": "notes/deeper/b.txt", "content": "b"}},
    {"name": "fs.glob", "id": "glob", "arguments": {"pattern": "**/*.txt"}},
    {"name": "fs.glob", "id": "glob-dir", "arguments": {"pattern": "*", "path": "notes"}},
    {"name": "cmd.run", "id": "rm", "arguments": {"command": "rm", "args": ["-r", "/workspace/notes/deeper"]}},
    {"name": "cmd.run", "id": "state", "arguments": {"command": "sh", "args": ["-c", "cat /workspace/notes/a.txt; echo; ls -A /workspace"]}}
  ]},
  {"text": "fs done"}
]
JSON
fake_llm_start "$SCRATCH/script.json"
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""
aegisd_start a "
llm:
  providers:
    - name: fake
      type: openai-compatible
      endpoint: $FAKE_LLM_URL/v1
      models: [{alias: default, model: fake-gpt}]"

m="$(inner_loop_manifest fsctr "$TEST_IMAGE" "  execution:
    max_iterations: 1
    llm_timeout_seconds: 20")"
sed -i "s/^  tools: .*/  tools: [cmd.run, fs.read, fs.write, fs.list, fs.create_dir, fs.delete, fs.edit, fs.multi_edit, fs.grep, fs.glob]/" "$m"
id="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$m" | jq -r .execution_id)"
wait_status "$id" completed 60 || { aegisd_log a | tail -30 >&2; fail "execution did not complete: $(api GET "/v1/executions/$id")"; }
assert_eq "the loop went on to the final answer" "fs done" "$(execution_field "$id" .output)"
offered="$(fake_llm_request "$FAKE_LLM_LOG" 1 '[t["function"]["name"] for t in r["body"].get("tools", [])]')"
for t in fs.read fs.write fs.list fs.create_dir fs.delete fs.edit fs.multi_edit fs.grep fs.glob; do
        check "offered without a volume: $t" grep -q "\"${t//./__}\"\\|\"$t\"" <<<"$offered"
done
r() { fake_llm_tool_result "$FAKE_LLM_LOG" 2 "$1"; }
assert_eq "fs.write" '{"path":"/workspace/notes/a.txt","bytes_written":22}' "$(r w | jq -c .)"
assert_eq "fs.read: the host tools' shape" \
        '{"path":"/workspace/notes/a.txt","content":"hello wonderful world\n","size":22,"truncated":false}' "$(r r | jq -c .)"
assert_eq "fs.edit" '{"path":"/workspace/notes/a.txt","edits_applied":1,"occurrences":[1],"size":7}' "$(r e | jq -c .)"
assert_eq "the edited file is shorter, no old bytes left (seen by cmd.run)" 7 "$(r size | jq -r .stdout | tr -d ' \n')"
assert_eq "fs.multi_edit" 2 "$(r me | jq .edits_applied)"
assert_eq "fs.read after the edits" '"bye y"' "$(r r2 | jq .content)"
assert_eq "a path that does not exist" "fs.read: /workspace/no/such/file: no such file or directory" "$(r missing | jq -r .error)"
assert_eq "an edit of a file that does not exist" "fs.edit: /workspace/nope.txt: no such file or directory" \
        "$(r missing-edit | jq -r .error)"
assert_match "a path above / refused" "climbs above /" "$(r above | jq -r .error)"
assert_eq "fs.create_dir" '{"path":"/workspace/d/e","created":true}' "$(r mk | jq -c .)"
assert_eq "fs.write in it" 1 "$(r w2 | jq .bytes_written)"
assert_eq "fs.list (default /workspace)" "d:directory notes:directory" \
        "$(r l | jq -r '[.entries[] | "\(.name):\(.type)"] | join(" ")')"
assert_match "fs.delete of a full directory needs recursive" '"recursive": true' "$(r del-nr | jq -r .error)"
assert_eq "fs.delete recursive" '{"path":"/workspace/d","deleted":true}' "$(r del | jq -c .)"
assert_eq "bad arguments are a result for the model" '"path" (a string) is required' "$(r bad | jq -r .error)"
assert_eq "fs.grep in the container (PCRE2)" \
        '{"path":"/workspace","matches":[{"path":"/workspace/notes/a.txt","line":1,"text":"bye y"}],"truncated":false}' \
        "$(r grep | jq -c .)"
assert_eq "fs.grep: a pattern that does not compile" "fs.grep: pattern: missing closing parenthesis at offset 9" \
        "$(r grep-bad | jq -r .error)"
assert_eq "fs.glob in the container" '{"path":"/workspace","matches":["notes/a.txt","notes/deeper/b.txt"],"truncated":false}' \
        "$(r glob | jq -c .)"
assert_eq "fs.glob from a directory" '["a.txt","deeper"]' "$(r glob-dir | jq -c .matches)"
assert_eq "the container's state after all" "bye y notes" "$(r state | jq -r .stdout | tr '\n' ' ' | sed 's/ *$//')"
events="$(api GET "/v1/executions/$id/events" --max-time 3)"
check "a tool_call_finished event with an error outcome for the missing file" \
        grep -q '"outcome": *"error"' <<<"$events"
assert_no_managed_containers
finish
