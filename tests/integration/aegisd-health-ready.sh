#!/bin/bash
# /health/ready against a real Podman API service: 503 with the dependencies map while the
# socket does not answer (the error says what to do), 200 once a private Podman service is
# started on that socket; the store (SQLite in the state directory) is ready throughout.
# /health stays 200 all along: liveness does not depend on Podman.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/podman.sh"
require_cmd curl jq podman
make_scratch
export STATE_DIRECTORY="$SCRATCH/state"
unset DATABASE_URL CONTAINER_HOST DOCKER_HOST
PORT="$(free_port)" MPORT="$(free_port)"
# podman_start serves on $SCRATCH/podman/podman.sock: point aegisd there before it exists.
cat >"$SCRATCH/config.yaml" <<YAML
api:
  listen: "127.0.0.1:$PORT"
  metrics_listen: "127.0.0.1:$MPORT"
runtime:
  container_socket_path: $SCRATCH/podman/podman.sock
YAML
"$AEGISD" --config "$SCRATCH/config.yaml" 2>"$SCRATCH/aegisd.log" &
PID=$!
on_exit "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
wait_for 10 curl -sf "http://127.0.0.1:$PORT/health" || fail "aegisd did not come up: $(cat "$SCRATCH/aegisd.log")"

code="$(curl -s -o "$SCRATCH/ready" -w '%{http_code}' --max-time 20 "http://127.0.0.1:$PORT/health/ready")"
assert_eq "no Podman: 503" 503 "$code"
assert_eq "no Podman: status not_ready" not_ready "$(jq -r .status "$SCRATCH/ready")"
assert_eq "no Podman: podman not ok" false "$(jq -r .dependencies.podman.ok "$SCRATCH/ready")"
assert_match "no Podman: the error names the socket" "$SCRATCH/podman/podman.sock" "$(jq -r .dependencies.podman.error "$SCRATCH/ready")"
assert_eq "no Podman: database ok" true "$(jq -r .dependencies.database.ok "$SCRATCH/ready")"
check "no Podman: /health still 200" curl -sf "http://127.0.0.1:$PORT/health" -o /dev/null

podman_start
ready() { [ "$(curl -s -o "$SCRATCH/ready" -w '%{http_code}' --max-time 20 "http://127.0.0.1:$PORT/health/ready")" = 200 ]; }
check "Podman started: /health/ready turns 200" wait_for 30 ready
assert_eq "ready: status" ready "$(jq -r .status "$SCRATCH/ready")"
assert_eq "ready: every dependency ok" "true true" "$(jq -r '[.dependencies.podman.ok, .dependencies.database.ok] | map(tostring) | join(" ")' "$SCRATCH/ready")"
check "ready: the SQLite store exists in the state directory" test -s "$SCRATCH/state/aegis.db"

podman_stop
code="$(curl -s -o "$SCRATCH/ready" -w '%{http_code}' --max-time 20 "http://127.0.0.1:$PORT/health/ready")"
assert_eq "Podman stopped again: 503" 503 "$code"
finish
