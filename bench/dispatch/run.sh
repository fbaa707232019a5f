#!/bin/bash
# bench/dispatch/run.sh — what one tool round of the inner loop costs on top of the model,
# on a private Podman service, a private aegisd (SQLite store) and the scripted fake provider
# (tests/lib/fake-llm.py): one execution whose model asks for N cmd.run `true` rounds, one
# at a time, then answers. For each round the fake records when it read a request and when it
# had answered it (--timing); the gap between answering round k's tool call and reading round
# k+1's request is the added latency of the round: aegisd parses the answer, stores the turn
# and hands the dispatch to aegis-bootstrap in the container, which runs `true` and posts the
# result back, and aegisd sends the next request. (The instruction does not matter: the
# script decides.) Printed beside the fake's own handling time
# and the tool's duration as aegis-bootstrap reports it (whole ms). Issue 14's goal: p50 of
# the added latency under 2 ms.
# Usage: bench/dispatch/run.sh [N=200]   (from a build tree: top_builddir=. bench/dispatch/run.sh,
# or from the source tree after building in ./build). Prints figures; asserts nothing.
set -u
N="${1:-200}"
here="$(cd "$(dirname "$0")/../.." && pwd)"
: "${top_srcdir:=$here}"
: "${top_builddir:=$here/build}"
export top_srcdir top_builddir AEGIS_TEST_LIB="$top_srcdir/tests/lib"
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$AEGIS_TEST_LIB/llm.sh"
require_cmd jq curl python3
make_scratch
podman_start

python3 - "$N" >"$SCRATCH/script.json" <<'PY'
import json, sys
n = int(sys.argv[1])
steps = [{"tool_calls": [{"name": "cmd.run", "id": "r%d" % i, "arguments": {"command": "true"}}]}
         for i in range(n)]
print(json.dumps(steps + [{"text": "done"}]))
PY
FAKE_LLM_TIMING="$SCRATCH/timing.txt" fake_llm_start "$SCRATCH/script.json"
export FAKE_LLM_BENCH_KEY=sk-bench
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""
aegisd_start a "
llm:
  max_tool_rounds: $((N + 10))
  providers:
    - name: fake
      type: openai-compatible
      endpoint: $FAKE_LLM_URL/v1
      api_key: env:FAKE_LLM_BENCH_KEY
      models: [{alias: default, model: fake-gpt}]"

m="$(inner_loop_manifest bench-dispatch "$TEST_IMAGE" "  execution:
    max_iterations: 1
    iteration_timeout: 600s
    llm_timeout_seconds: 60")"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
s=$(date +%s%N)
id="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$m" | jq -r .execution_id)"
wait_status "$id" completed 900 || { aegisd_log a | tail -20 >&2; fail "the bench execution did not complete: $(api GET "/v1/executions/$id")"; }
wall_ms=$((($(date +%s%N) - s) / 1000000))
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
api GET "/v1/executions/$id/events" --max-time 5 | sed -n 's/^data: //p' >"$SCRATCH/events.jsonl"

# Per round k (1..N): added = start(k+1) - end(k); own = end(k) - start(k). In µs.
sort -n "$SCRATCH/timing.txt" | awk '{s[$1]=$2; e[$1]=$3; n=$1} END {
        for (k = 1; k < n; k++) printf "%d %d\n", (s[k+1] - e[k]) / 1000, (e[k] - s[k]) / 1000 }' >"$SCRATCH/rounds.txt"
pct() { # pct COLUMN P: the P-th percentile of rounds.txt's COLUMN
        cut -d' ' -f"$1" "$SCRATCH/rounds.txt" | sort -n | awk -v p="$2" '{a[NR]=$1} END {
                i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; if (i > NR) i = NR; print a[i] }'
}
tool_ms="$(jq -r 'select(.type == "tool_call_finished") | .duration_ms' "$SCRATCH/events.jsonl" | sort -n)"
tool_p50="$(awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "?"}' <<<"$tool_ms")"
# Where the round goes, from aegisd's events (their times, µs): the model's answer received →
# the dispatch handed to the container (tool_call_started), → its result back
# (tool_call_finished), → the next model call started.
breakdown="$(python3 - "$SCRATCH/events.jsonl" "$SCRATCH/rounds.txt" <<'PY'
import datetime, json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t = lambda e: datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp() * 1e3
seq = [(e["type"], t(e)) for e in ev if e.get("type") in
       ("llm_call_started", "llm_call_finished", "tool_call_started", "tool_call_finished")]
parts = {"answer → dispatch": [], "dispatch → result": [], "result → next call": []}
for i in range(len(seq) - 3):
    if [x[0] for x in seq[i:i + 4]] == ["llm_call_finished", "tool_call_started", "tool_call_finished", "llm_call_started"]:
        parts["answer → dispatch"].append(seq[i + 1][1] - seq[i][1])
        parts["dispatch → result"].append(seq[i + 2][1] - seq[i + 1][1])
        parts["result → next call"].append(seq[i + 3][1] - seq[i + 2][1])
# The added latency less the container's part, round by round: what aegisd and the wire cost.
added = [int(l.split()[0]) / 1e3 for l in open(sys.argv[2]) if l.strip()]
if len(added) == len(parts["dispatch → result"]):
    parts["added less dispatch → result"] = [a - c for a, c in zip(added, parts["dispatch → result"])]
for k, v in parts.items():
    v = sorted(v)
    if v:
        print("  %-34s: %8.2f ms p50, %8.2f ms p99" % ("events, " + k if "less" not in k else k, v[len(v) // 2], v[min(len(v) - 1, int(len(v) * 0.99))]))
PY
)"
rounds="$(wc -l <"$SCRATCH/rounds.txt")"
us_ms() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1000}'; }

echo "bench/dispatch: N=$N tool rounds ($rounds measured) in one execution, $(nproc) CPUs, load average $load_before before, $load_after after"
printf '  added latency per round, p50      : %8s ms   (aegisd → container → `true` → aegisd → provider)\n' "$(us_ms "$(pct 1 50)")"
printf '  added latency per round, p99      : %8s ms\n' "$(us_ms "$(pct 1 99)")"
printf '  fake provider own handling, p50   : %8s ms\n' "$(us_ms "$(pct 2 50)")"
printf '  fake provider own handling, p99   : %8s ms\n' "$(us_ms "$(pct 2 99)")"
printf '  `true` in the container, p50      : %8s ms   (as aegis-bootstrap reports it, whole ms)\n' "$tool_p50"
printf '%s\n' "$breakdown"
printf '  whole execution                   : %8d ms   (container start and stop included)\n' "$wall_ms"
printf '  goal (issue 14)                   : p50 of the added latency < 2 ms\n'
