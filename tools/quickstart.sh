#!/bin/bash
# tools/quickstart.sh — from a fresh checkout: dependencies, build, then the main job:
# a private Podman API service (its own storage, the test suite's set-up from
# tests/lib/podman.sh), aegisd against it on a free port (embedded SQLite store), /health/ready
# answering 200, then `aegis run examples/hello.yaml` end to end, its result printed.
# Everything it starts is stopped when it ends. AEGIS_SKIP_DEPS=1 skips tools/deps.sh.
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
cat >"$SCRATCH/config.yaml" <<YAML
api:
  listen: "127.0.0.1:$port"
  metrics_listen: "127.0.0.1:$metrics"
runtime:
  container_socket_path: "$PODMAN_SOCK"
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

# The example agent, end to end: a fresh container on that Podman, its output printed.
set +e
echo "+ aegis run examples/hello.yaml"
"$AEGIS_CLI" --url "http://127.0.0.1:$port" run "$top/examples/hello.yaml"
rc=$?
id="$("$AEGIS_CLI" --url "http://127.0.0.1:$port" list --limit 1 --output json | jq -r '.executions[0].id')"
echo "+ aegis show $id"
"$AEGIS_CLI" --url "http://127.0.0.1:$port" show "$id"
if [ "$rc" = 0 ]; then
        echo "quickstart: the example agent ran end to end on Podman (exit status 0)."
else
        echo "quickstart: the example agent did not complete (exit status $rc); aegisd's log:" >&2
        tail -20 "$SCRATCH/aegisd.log" >&2
fi
exit "$rc"
