#!/bin/bash
# aegisd by hand: --check-config prints every key with its source and exits 0; a bad file
# exits 78 with "FILE:LINE:COL: KEY: …" and binds nothing; every key is documented in
# aegis-config.yaml(5); the real daemon answers JSON 404/405; it exits on its own after
# api.idle_exit_secs without requests (STOPPING=1, status 0) but not while a connection is
# open; WATCHDOG=1 pings under WatchdogSec=; STATUS= lines say what it does; SIGTERM and
# SIGINT end it within a second with STOPPING=1.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/notify.sh"
require_cmd curl jq
make_scratch
export STATE_DIRECTORY="$SCRATCH/state"
unset AEGIS_CONFIG_PATH DATABASE_URL AEGIS_LOG_LEVEL RUST_LOG
PORT="$(free_port)" MPORT="$(free_port)"

cat >"$SCRATCH/good.yaml" <<YAML
api:
  listen: "127.0.0.1:$PORT"
  metrics_listen: "127.0.0.1:$MPORT"
  idle_exit_secs: 2
runtime:
  container_socket_path: $SCRATCH/no-podman.sock
YAML
out="$(DATABASE_URL='postgresql://aegis:hunter2@db/aegis' "$AEGISD" --check-config --config "$SCRATCH/good.yaml")"
assert_eq "--check-config exits 0" 0 $?
check "--check-config names the file" grep -qx "# configuration file: $SCRATCH/good.yaml" <<<"$out"
check "file value with its line" grep -qx "  listen: \"127.0.0.1:$PORT\"  # file $SCRATCH/good.yaml:2" <<<"$out"
check "default value" grep -qx '  max_concurrent: 50  # default' <<<"$out"
check "environment value, password masked" \
        grep -qx '  url: "postgresql://aegis:\*\*\*@db/aegis"  # environment $DATABASE_URL' <<<"$out"
check "the password never printed" bash -c '! grep -q hunter2 <<<"$1"' _ "$out"
out2="$(CONTAINER_HOST=unix:///x/podman.sock "$AEGISD" --check-config --config /dev/null)"
check "CONTAINER_HOST as the socket default" \
        grep -qx '  container_socket_path: "/x/podman.sock"  # environment $CONTAINER_HOST' <<<"$out2"

# Every key printed is documented in aegis-config.yaml(5).
# A nested mapping ("  selection:" then "    key: …") is documented as section.mapping.key.
section="" sub=""
while IFS= read -r line; do
        case "$line" in
        "#"*) ;;
        [a-z]*:) section="${line%:}" sub="" ;;
        "    - "* | "      "*) ;; # the items of a list (llm.providers), documented as the list
        "    "*) key="${line#    }"; key="${key%%:*}"
               check "aegis-config.yaml(5) documents $section.$sub.$key" \
                       grep -q "^\.B $section\.$sub\.$key\$" "$top_srcdir/man/aegis-config.yaml.5" ;;
        "  "*:) sub="${line#  }"; sub="${sub%:}" ;;
        "  "*) key="${line#  }"; key="${key%%:*}" sub=""
               check "aegis-config.yaml(5) documents $section.$key" \
                       grep -q "^\.B $section\.$key\$" "$top_srcdir/man/aegis-config.yaml.5" ;;
        esac
done <<<"$out"

# Bad files: exit 78, one message, nothing bound.
cat >"$SCRATCH/bad.yaml" <<YAML
api:
  listen: "127.0.0.1:$PORT"
  metrics_listen: "127.0.0.1:$MPORT"
runtime:
  container_socket_path:
    path: /run/podman/podman.sock
YAML
err="$("$AEGISD" --config "$SCRATCH/bad.yaml" 2>&1 >/dev/null)"
assert_eq "bad file: exit 78" 78 $?
assert_eq "bad file: file:line:col: key: message" \
        "aegisd: $SCRATCH/bad.yaml:5:3: runtime.container_socket_path: expected a string" "$err"
check "bad file: nothing listens" bash -c "! curl -s --max-time 1 http://127.0.0.1:$PORT/health"
printf 'api:\n  lisen: ":1"\n' >"$SCRATCH/typo.yaml"
err="$("$AEGISD" --check-config --config "$SCRATCH/typo.yaml" 2>&1)"
assert_eq "--check-config on a bad file: exit 78" 78 $?
assert_eq "unknown key suggests the close one" \
        "aegisd: $SCRATCH/typo.yaml:2:3: api.lisen: unknown key, did you mean \"api.listen\"?" "$err"
err="$("$AEGISD" --config "$SCRATCH/missing.yaml" 2>&1)"
assert_eq "missing --config file: exit 78" 78 $?
assert_match "missing --config file: says so" "missing.yaml: cannot read the configuration file" "$err"
err="$(DATABASE_URL=mysql://x "$AEGISD" --check-config --config "$SCRATCH/good.yaml" 2>&1)"
assert_eq "bad DATABASE_URL: exit 78" 78 $?

# The daemon itself: JSON 404/405, idle exit, SIGTERM.
notify_listen
"$AEGISD" --config "$SCRATCH/good.yaml" 2>"$SCRATCH/aegisd.log" &
PID=$!
on_exit "kill $PID 2>/dev/null"
wait_for 10 curl -sf "http://127.0.0.1:$PORT/health" || fail "aegisd did not come up: $(cat "$SCRATCH/aegisd.log")"
code="$(curl -s -o "$SCRATCH/body" -w '%{http_code}' "http://127.0.0.1:$PORT/v0/nothing")"
assert_eq "unknown path: 404 JSON" "404 no such endpoint: GET /v0/nothing" "$code $(jq -r .error "$SCRATCH/body")"
code="$(curl -s -o "$SCRATCH/body" -D "$SCRATCH/headers" -w '%{http_code}' -X DELETE "http://127.0.0.1:$PORT/health/ready")"
assert_eq "wrong method: 405" 405 "$code"
assert_match "405 says which methods" $'Allow: GET, HEAD\r' "$(grep -i '^Allow:' "$SCRATCH/headers")"
assert_eq "405 body is JSON with an error" true "$(jq '.error | length > 0' "$SCRATCH/body")"
body="$(curl -s "http://127.0.0.1:$PORT/health")"
assert_eq "/health: status, uptime and version" true \
        "$(jq '.status == "healthy" and (.uptime_seconds | type == "number") and (.version | length > 0)' <<<"$body")"
body="$(curl -s "http://127.0.0.1:$PORT/health/live")"
assert_eq "/health/live: the same shape, nothing else" '["status","uptime_seconds","version"] healthy' \
        "$(jq -c 'keys' <<<"$body") $(jq -r .status <<<"$body")"
check "STATUS= says it serves and where Podman is" \
        grep -qx "STATUS=Serving the API; Podman at $SCRATCH/no-podman.sock" "$NOTIFY_LOG"

# An open connection keeps it alive past idle_exit_secs.
exec 7<>"/dev/tcp/127.0.0.1/$PORT"
sleep 3
check "an open connection holds off the idle exit" kill -0 "$PID"
exec 7>&-
# Then, idle: it exits by itself with status 0 and STOPPING=1.
t0=$(date +%s)
wait_for 10 bash -c "! kill -0 $PID 2>/dev/null"
wait "$PID"; rc=$?
assert_eq "idle exit: status 0" 0 "$rc"
check "idle exit: within idle_exit_secs + 2 s of the last connection" test $(($(date +%s) - t0)) -le $((2 + $(scaled 2)))
check "idle exit: STOPPING=1" notify_wait_for STOPPING=1
check "idle exit: STATUS= says why" grep -qx "STATUS=Idle for 2 s, exiting until the next connection" "$NOTIFY_LOG"
check "idle exit: logged" grep -q 'No requests for 2 s, exiting' "$SCRATCH/aegisd.log"

# SIGTERM, by hand (no sockets from systemd).
: >"$NOTIFY_LOG"
sed -i 's/idle_exit_secs: 2/idle_exit_secs: 0/' "$SCRATCH/good.yaml"
WATCHDOG_USEC=400000 "$AEGISD" --config "$SCRATCH/good.yaml" 2>>"$SCRATCH/aegisd.log" &
PID=$!
check "READY=1" notify_wait_for READY=1 10
check "WATCHDOG=1 pings when WatchdogSec= is set" notify_wait_for WATCHDOG=1 5
t0=$(date +%s%N)
kill -TERM "$PID"
wait "$PID"; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "SIGTERM: status 0" 0 "$rc"
check "SIGTERM: exited within 1 s (took $ms ms)" test "$ms" -lt "$(scaled 1000)"
check "SIGTERM: STOPPING=1" notify_wait_for STOPPING=1
check "SIGTERM: STATUS= says it shuts down" grep -q "^STATUS=Shutting down" "$NOTIFY_LOG"

# SIGINT (Ctrl-C in a terminal) the same way.
: >"$NOTIFY_LOG"
"$AEGISD" --config "$SCRATCH/good.yaml" 2>>"$SCRATCH/aegisd.log" &
PID=$!
check "READY=1 again" notify_wait_for READY=1 10
t0=$(date +%s%N)
kill -INT "$PID"
wait "$PID"; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
assert_eq "SIGINT: status 0" 0 "$rc"
check "SIGINT: exited within 1 s (took $ms ms)" test "$ms" -lt "$(scaled 1000)"
check "SIGINT: STOPPING=1" notify_wait_for STOPPING=1
finish
