#!/bin/bash
# bench/dispatch/run.sh — what one tool round of the inner loop costs on top of the model,
# on a private Podman service, a private aegisd (SQLite store) and the scripted fake provider
# (tests/lib/fake-llm.py). One execution whose model asks for 2N cmd.run rounds, one at a
# time, then answers:
#   - rounds 1..N run `true` (a fork and exec in the container: the tool's own cost);
#   - rounds N+1..2N name a working directory that does not exist, so aegis-bootstrap answers
#     at once without starting anything: the round is then exactly what issue 14 measures,
#     container → aegisd → provider → container, with no tool in it.
# For each round the fake records when it read a request and when it had answered it
# (--timing); the gap between answering round k's tool call and reading round k+1's request
# is the added latency of round k, printed beside the fake's own handling time. The peer,
# measured in the same run on the same Podman: the engine's own way to run a command in a
# running container (exec create + start attached + inspect over its API, what an
# orchestrator without a bootstrap pays per command), N times `true`.
# Issue 14's goal: p50 of the added latency (the no-tool round) under 2 ms.
# Also aegisd's CPU time per no-tool round; BENCH_PERF=FILE records a perf profile of aegisd
# during the execution (BENCH_PERF_OPTS: perf record options, default -g).
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
call = lambda i, a: {"tool_calls": [{"name": "cmd.run", "id": "r%d" % i, "arguments": a}]}
steps = [call(i, {"command": "true"}) for i in range(n)]
steps += [call(n + i, {"command": "true", "cwd": "/aegis-bench-no-such-directory"}) for i in range(n)]
print(json.dumps(steps + [{"text": "done"}]))
PY
FAKE_LLM_TIMING="$SCRATCH/timing.txt" fake_llm_start "$SCRATCH/script.json"
export FAKE_LLM_BENCH_KEY=sk-bench
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""
aegisd_start a "
llm:
  max_tool_rounds: $((2 * N + 10))
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
apid="$(aegisd_pid a)"
# aegisd's CPU time (user + system, in clock ticks) every 50 ms, on the fake's clock
# (CLOCK_MONOTONIC): its cost per round, which queueing behind other work does not add to
# (contention for caches on a loaded machine still inflates it).
python3 -c '
import sys, time
while True:
    try:
        f = open("/proc/%s/stat" % sys.argv[1]).read().rsplit(")", 1)[1].split()
    except OSError:
        break
    print(time.monotonic_ns(), int(f[11]) + int(f[12]), flush=True)
    time.sleep(0.05)' "$apid" >"$SCRATCH/cpu.txt" &
sampler=$!
on_exit "kill $sampler 2>/dev/null || true"
if [ -n "${BENCH_PERF:-}" ]; then # BENCH_PERF=FILE: a perf profile of aegisd during the execution
        perf record -q ${BENCH_PERF_OPTS:--g} -o "$BENCH_PERF" -p "$apid" 2>/dev/null &
        perf_pid=$!
fi
s=$(date +%s%N)
id="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary "@$m" | jq -r .execution_id)"
# Asked once a second: every answer carries the conversation, which aegisd parses for it.
until [ "$(api GET "/v1/executions/$id" | jq -r .status)" = completed ]; do
        [ $((($(date +%s%N) - s) / 1000000000)) -lt 900 ] ||
                { aegisd_log a | tail -20 >&2; fail "the bench execution did not complete: $(api GET "/v1/executions/$id")"; }
        sleep 1
done
wall_ms=$((($(date +%s%N) - s) / 1000000))
[ -z "${perf_pid:-}" ] || { kill -INT "$perf_pid"; wait "$perf_pid"; }
kill "$sampler" 2>/dev/null || true
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
api GET "/v1/executions/$id/events" --max-time 5 | sed -n 's/^data: //p' >"$SCRATCH/events.jsonl"

# The peer: the engine runs `true` N times in a running container through its own exec API.
peer_id="$(papi POST /containers/create -H 'Content-Type: application/json' \
        -d "{\"Image\":\"$TEST_IMAGE\",\"Cmd\":[\"sleep\",\"3600\"],\"NetworkDisabled\":true}" | jq -r .Id)"
papi POST "/containers/$peer_id/start" >/dev/null
: >"$SCRATCH/peer.txt"
for _ in $(seq "$N"); do
        s0=$(date +%s%N)
        ex="$(papi POST "/containers/$peer_id/exec" -H 'Content-Type: application/json' \
                -d '{"Cmd":["true"],"AttachStdout":true,"AttachStderr":true}' | jq -r .Id)"
        papi POST "/exec/$ex/start" -H 'Content-Type: application/json' -d '{"Detach":false,"Tty":false}' >/dev/null
        code="$(papi GET "/exec/$ex/json" | jq -r .ExitCode)"
        [ "$code" = 0 ] || fail "the engine's exec of true exited $code"
        echo $((($(date +%s%N) - s0) / 1000)) >>"$SCRATCH/peer.txt"
done
papi DELETE "/containers/$peer_id?force=true" >/dev/null
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "bench/dispatch: N=$N rounds of each kind in one execution, $(nproc) CPUs; load average" \
        "$load_before before, $load_after after the execution, $load_end after the peer"
python3 - "$N" "$SCRATCH/timing.txt" "$SCRATCH/events.jsonl" "$SCRATCH/peer.txt" "$wall_ms" "$SCRATCH/cpu.txt" "$(getconf CLK_TCK)" <<'PY'
import datetime, json, sys
n = int(sys.argv[1])
timing = sorted(tuple(map(int, l.split())) for l in open(sys.argv[2]) if l.strip())
start = {k: s for k, s, e in timing}
end = {k: e for k, s, e in timing}
# Round k's tool call was in the fake's answer k; its result arrives in request k + 1.
added = [(start[k + 1] - end[k]) / 1e6 for k in range(1, 2 * n + 1)]
own = [(end[k] - start[k]) / 1e6 for k in range(1, 2 * n + 1)]
peer = [int(l) / 1e3 for l in open(sys.argv[4]) if l.strip()]
ev = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
t = lambda e: datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp() * 1e3
seq = [(e["type"], t(e)) for e in ev if e.get("type") in
       ("llm_call_started", "llm_call_finished", "tool_call_started", "tool_call_finished")]
inside = []  # aegisd's own share per round: answer → dispatch, and result → next model call
for i in range(len(seq) - 3):
    if [x[0] for x in seq[i:i + 4]] == ["llm_call_finished", "tool_call_started", "tool_call_finished", "llm_call_started"]:
        inside.append((seq[i + 1][1] - seq[i][1]) + (seq[i + 3][1] - seq[i + 2][1]))

# aegisd's CPU time per no-tool round: between the fake reading round N+1's request and
# answering the last one, from the samples nearest inside that span.
cpu = [tuple(map(int, l.split())) for l in open(sys.argv[6]) if l.strip()]
t0, t1 = start[n + 1], end[2 * n + 1]
span = [c for c in cpu if t0 <= c[0] <= t1]
cpu_round = ((span[-1][1] - span[0][1]) * 1e3 / int(sys.argv[7]) / ((span[-1][0] - span[0][0]) / (t1 - t0)) / n
             if len(span) >= 2 and span[-1][0] > span[0][0] else float("nan"))

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, max(0, int(len(v) * p / 100 + 0.999) - 1))] if v else float("nan")

def row(label, v, note=""):
    print("  %-44s: p50 %7.2f ms  p99 %7.2f ms%s" % (label, pct(v, 50), pct(v, 99), note))

row("added per round, no tool (the goal's figure)", added[n:], "   container → aegisd → provider → container")
row("added per round, `true` run in the container", added[:n], "   the same plus one fork and exec")
row("fake provider's own handling", own)
row("aegisd's own share of a round", inside[n:] if len(inside) >= 2 * n else inside, "   from its events")
row("peer: engine exec API, `true` (create+start+inspect)", peer)
print("  %-44s: %7d ms   (container start and stop included)" % ("whole execution, %d rounds" % (2 * n), int(sys.argv[5])))
print("  %-44s: %7.2f ms   (its CPU time over the no-tool rounds / N)" % ("aegisd's CPU time per no-tool round", cpu_round))
print("  %-44s: p50 of the no-tool round < 2 ms: %s" % ("goal (issue 14)", "met" if pct(added[n:], 50) < 2 else "NOT met"))
PY
