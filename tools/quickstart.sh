#!/bin/bash
# tools/quickstart.sh — from a fresh checkout: dependencies, build, then the main job:
# a private Podman API service (its own storage, the test suite's set-up from
# tests/lib/podman.sh), aegisd against it on a free port (embedded SQLite store), /health/ready
# answering 200, `aegis run examples/hello.yaml` (a container), then the agent that thinks:
# `aegis run examples/agent-hello.yaml`, an LLM conversation whose cmd.run calls run in a fresh
# busybox container with no network.
#
# The model: with OPENAI_API_KEY in the environment, OpenAI (AEGIS_QUICKSTART_MODEL, default
# gpt-4o-mini); else with ANTHROPIC_API_KEY, Anthropic (default claude-3-5-haiku-latest);
# else the test suite's scripted stand-in, tests/lib/fake-llm.py — a fake, not a model — and
# the output says so. Everything it starts is stopped when it ends. AEGIS_SKIP_DEPS=1 skips
# tools/deps.sh.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"
[ "${AEGIS_SKIP_DEPS:-}" = 1 ] || "$top/tools/deps.sh"
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p build && cd build
[ -f Makefile ] || ../configure -q
make -s -j"$(nproc)"
echo "quickstart: built."

# The main job. The shared Podman set-up of the tests: a private service and storage.
export top_builddir="$top/build" top_srcdir="$top" AEGIS_TEST_LIB="$top/tests/lib"
set +e
# shellcheck source=../tests/lib/podman.sh
. "$AEGIS_TEST_LIB/podman.sh"
set -e
make_scratch
podman_start
echo "quickstart: Podman API service on $PODMAN_SOCK"

port="$(free_port)" metrics="$(free_port)"
# The model the agent thinks with.
if [ -n "${OPENAI_API_KEY:-}" ]; then
        thinker="OpenAI's ${AEGIS_QUICKSTART_MODEL:-gpt-4o-mini} (OPENAI_API_KEY is set)"
        llm="  providers:
    - name: openai
      type: openai
      api_key: env:OPENAI_API_KEY
      models:
        - alias: default
          model: ${AEGIS_QUICKSTART_MODEL:-gpt-4o-mini}"
elif [ -n "${ANTHROPIC_API_KEY:-}" ]; then
        thinker="Anthropic's ${AEGIS_QUICKSTART_MODEL:-claude-3-5-haiku-latest} (ANTHROPIC_API_KEY is set)"
        llm="  providers:
    - name: anthropic
      type: anthropic
      api_key: env:ANTHROPIC_API_KEY
      models:
        - alias: default
          model: ${AEGIS_QUICKSTART_MODEL:-claude-3-5-haiku-latest}
          max_output_tokens: 1024"
else
        # No key: the tests' scripted stand-in answers in the OpenAI format. It asks for
        # cmd.run `uname -s`, then answers with the line the example's validator wants.
        cat >"$SCRATCH/fake-llm-script.json" <<'JSON'
[
  {"tool_calls": [{"name": "cmd.run", "arguments": {"command": "uname", "args": ["-s"]}}]},
  {"text": "hello from Linux"}
]
JSON
        python3 "$top/tests/lib/fake-llm.py" --script "$SCRATCH/fake-llm-script.json" \
                --log "$SCRATCH/fake-llm.log" --port-file "$SCRATCH/fake-llm.port" 2>"$SCRATCH/fake-llm.err" &
        fake_pid=$!
        on_exit "kill $fake_pid 2>/dev/null; wait $fake_pid 2>/dev/null"
        wait_for 10 test -s "$SCRATCH/fake-llm.port" || fail "the fake LLM provider did not start: $(cat "$SCRATCH/fake-llm.err")"
        thinker="the test suite's SCRIPTED STAND-IN (tests/lib/fake-llm.py), not a model: no OPENAI_API_KEY or ANTHROPIC_API_KEY in the environment"
        llm="  providers:
    - name: scripted-stand-in
      type: openai-compatible
      endpoint: http://127.0.0.1:$(cat "$SCRATCH/fake-llm.port")/v1
      models:
        - alias: default
          model: scripted"
fi
cat >"$SCRATCH/config.yaml" <<YAML
api:
  listen: "127.0.0.1:$port"
  metrics_listen: "127.0.0.1:$metrics"
runtime:
  container_socket_path: "$PODMAN_SOCK"
  bootstrap_binary: "$top/build/aegis-bootstrap"
llm:
$llm
YAML
export STATE_DIRECTORY="$SCRATCH/state"
"$AEGISD" --check-config --config "$SCRATCH/config.yaml" | sed 's/^/  /'
"$AEGISD" --config "$SCRATCH/config.yaml" 2>"$SCRATCH/aegisd.log" &
aegisd_pid=$!
on_exit "kill $aegisd_pid 2>/dev/null; wait $aegisd_pid 2>/dev/null"
wait_for 20 curl -sf "http://127.0.0.1:$port/health" || fail "aegisd did not start: $(cat "$SCRATCH/aegisd.log")"

ready() { [ "$(curl -s -o "$SCRATCH/ready.json" -w '%{http_code}' "http://127.0.0.1:$port/health/ready")" = 200 ]; }
if ! wait_for 30 ready; then
        cat "$SCRATCH/ready.json" >&2
        fail "aegisd is not ready"
fi
echo "quickstart: GET http://127.0.0.1:$port/health/ready → 200"
cat "$SCRATCH/ready.json"
echo "quickstart: aegisd is up against a real Podman API service."

# The example container, end to end: a fresh container on that Podman, its output printed.
set +e
echo "+ aegis run examples/hello.yaml"
"$AEGIS_CLI" --url "http://127.0.0.1:$port" run "$top/examples/hello.yaml"
rc=$?
if [ "$rc" != 0 ]; then
        echo "quickstart: the example container did not complete (exit status $rc); aegisd's log:" >&2
        tail -20 "$SCRATCH/aegisd.log" >&2
        exit "$rc"
fi
echo "quickstart: the example container ran end to end on Podman (exit status 0)."

# The main job: the agent that thinks. Each iteration is a conversation with the model; its
# cmd.run calls run in the iteration's container, which has no network.
echo "quickstart: the agent thinks with $thinker."
echo "+ aegis run examples/agent-hello.yaml"
"$AEGIS_CLI" --url "http://127.0.0.1:$port" run "$top/examples/agent-hello.yaml"
rc=$?
id="$("$AEGIS_CLI" --url "http://127.0.0.1:$port" list --limit 1 --output json | jq -r '.executions[0].id')"
echo "+ aegis show $id"
"$AEGIS_CLI" --url "http://127.0.0.1:$port" show "$id"
if [ "$rc" = 0 ]; then
        echo "quickstart: the example agent thought with $thinker, ran its tool calls in a fresh container and completed (exit status 0)."
else
        echo "quickstart: the example agent did not complete (exit status $rc); aegisd's log:" >&2
        tail -20 "$SCRATCH/aegisd.log" >&2
fi
exit "$rc"
