# tests/lib/llm.sh — a scripted fake LLM provider (tests/lib/fake-llm.py) for the tests of
# the LLM client and the inner loop. Source after common.sh.
#
#   fake_llm_start SCRIPT_FILE [NAME]
#       starts the fake on a free 127.0.0.1 port with that script, waits until it answers,
#       stops it at exit; sets FAKE_LLM_PORT, FAKE_LLM_URL (http://127.0.0.1:PORT),
#       FAKE_LLM_LOG (its JSONL request log) and FAKE_LLM_PID. NAME (default "fake-llm")
#       keeps the files of several fakes apart; after each start the variables are also
#       saved as FAKE_LLM_<NAME>_URL/_LOG/_PID with NAME upper-cased, "-" → "_".
#       With FAKE_LLM_TIMING set to a file, the fake appends its handling times there
#       (fake-llm.py --timing).
#   fake_llm_requests LOG        the number of requests the fake got
#   fake_llm_request LOG N EXPR  a Python expression over request N (1-based) `r`
#                                (r["headers"], r["body"], r["path"]), printed as JSON
#
# Endpoints to configure: openai-compatible $FAKE_LLM_URL/v1, anthropic, ollama and gemini
# $FAKE_LLM_URL.
FAKE_LLM="${AEGIS_TEST_LIB}/fake-llm.py"

fake_llm_start() {
        local script="$1" name="${2:-fake-llm}" dir var
        [ -n "${SCRATCH:-}" ] || make_scratch
        require_cmd python3
        dir="$SCRATCH/$name"
        mkdir -p "$dir"
        : >"$dir/requests.jsonl"
        rm -f "$dir/port"
        python3 "$FAKE_LLM" --script "$script" --log "$dir/requests.jsonl" --port-file "$dir/port" \
                ${FAKE_LLM_TIMING:+--timing "$FAKE_LLM_TIMING"} \
                >"$dir/out.log" 2>&1 &
        FAKE_LLM_PID=$!
        on_exit "kill $FAKE_LLM_PID 2>/dev/null; wait $FAKE_LLM_PID 2>/dev/null"
        wait_for 30 test -s "$dir/port" || { cat "$dir/out.log" >&2; fail "$name did not start within 30 s"; }
        FAKE_LLM_PORT="$(cat "$dir/port")"
        FAKE_LLM_URL="http://127.0.0.1:$FAKE_LLM_PORT"
        FAKE_LLM_LOG="$dir/requests.jsonl"
        wait_for 10 python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
                "$FAKE_LLM_URL/" || fail "$name does not answer on $FAKE_LLM_URL"
        var="FAKE_LLM_$(echo "$name" | tr 'a-z-' 'A-Z_')"
        printf -v "${var}_URL" '%s' "$FAKE_LLM_URL"
        printf -v "${var}_LOG" '%s' "$FAKE_LLM_LOG"
        printf -v "${var}_PID" '%s' "$FAKE_LLM_PID"
}

fake_llm_requests() { grep -c . "$1" || true; }

fake_llm_request() {
        python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
n = int(sys.argv[2])
if n > len(lines):
    sys.exit("no request %d (%d logged)" % (n, len(lines)))
r = json.loads(lines[n - 1])
print(json.dumps(eval(sys.argv[3], {}, {"r": r})))
EOF
}

# fake_llm_tool_result LOG N ID: the content of the tool result for tool call ID that request
# N carried to the model (nothing when it carried none).
fake_llm_tool_result() {
        python3 - "$1" "$2" "$3" <<'EOF'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
for m in reqs[int(sys.argv[2]) - 1]["body"]["messages"]:
    if m.get("role") == "tool" and m.get("tool_call_id") == sys.argv[3]:
        print(m["content"])
        break
EOF
}

# inner_loop_manifest NAME IMAGE [YAML]: writes $SCRATCH/NAME.yaml, an agent with spec.task
# that runs in IMAGE (never pulled) with cmd.run and no network, YAML (indented by two,
# e.g. an execution: block) added under spec:, and prints its path.
inner_loop_manifest() {
        cat >"$SCRATCH/$1.yaml" <<YAML
apiVersion: 100monkeys.ai/v1
kind: Agent
metadata:
  name: $1
  version: "1.0.0"
spec:
  runtime:
    image: $2
    image_pull_policy: Never
  task:
    instruction: "Do the thing."
  tools: [cmd.run]
  security:
    network_policy:
      mode: none
${3:-}
YAML
        echo "$SCRATCH/$1.yaml"
}
