# tests/lib/executions.sh — aegisd with a real Podman service and a store, for the execution
# tests. Source after podman.sh (and postgres.sh for PostgreSQL).
#
#   aegisd_start [NAME] [extra YAML]   starts aegisd NAME (default "a") on a free port with its
#                        own state dir ($AEGIS_API_EXTRA / $AEGIS_RUNTIME_EXTRA: lines added
#                        inside the api: / runtime: blocks), the private Podman socket, the store at
#                        $AEGIS_DATABASE_URL (default: SQLite in the state dir); sets
#                        AEGIS_URL (of the last one started), AEGISD_PID_<NAME>, and waits
#                        until /health answers. Stopped at exit.
#   aegisd_kill9 NAME    kill -9, as a crash would
#   aegisd_stop NAME     SIGTERM and wait
#   aegis ARGS...        the CLI against $AEGIS_URL
#   api METHOD PATH [curl args]   a request against $AEGIS_URL; prints the body
#   api_status METHOD PATH [curl args]   prints only the HTTP status
#   manifest NAME SCRIPT [extra spec YAML]   writes $SCRATCH/NAME.yaml running `sh -c SCRIPT`
#   wait_status ID STATUS SECONDS   waits for the execution to reach STATUS
#   assert_no_managed_containers    no container labelled aegis.managed=true remains
#   aegisd_with_hosts FILE   aegisd_start from now on runs aegisd in a private mount
#                        namespace whose /etc/hosts is FILE (needs root), so local servers on
#                        127.0.0.x get names; AEGISD_REAL is the binary to go back to

aegisd_start() {
        local name="${1:-a}" extra="${2:-}" port mport dir
        port="$(free_port)"
        mport="$(free_port)"
        dir="$SCRATCH/aegisd-$name"
        mkdir -p "$dir/state"
        cat >"$dir/config.yaml" <<YAML
api:
  listen: "127.0.0.1:$port"
  metrics_listen: "127.0.0.1:$mport"
${AEGIS_API_EXTRA:-}
runtime:
  container_socket_path: "$PODMAN_SOCK"
${AEGIS_RUNTIME_EXTRA:-}
database:
  url: "${AEGIS_DATABASE_URL:-sqlite://$dir/state/aegis.db}"
$extra
YAML
        STATE_DIRECTORY="$dir/state" AEGIS_LOG_LEVEL="${AEGIS_LOG_LEVEL:-info}" \
                "$AEGISD" --config "$dir/config.yaml" >>"$dir/aegisd.log" 2>&1 &
        eval "AEGISD_PID_$name=$!"
        eval "AEGIS_URL_$name=http://127.0.0.1:$port"
        AEGIS_URL="http://127.0.0.1:$port"
        on_exit "aegisd_stop $name"
        wait_for 30 curl -sf "$AEGIS_URL/health" || { tail -20 "$dir/aegisd.log" >&2; fail "aegisd $name did not come up"; }
}

aegisd_pid() { eval "echo \${AEGISD_PID_$1:-}"; }

aegisd_stop() {
        local pid
        pid="$(aegisd_pid "$1")"
        [ -n "$pid" ] || return 0
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        eval "AEGISD_PID_$1="
}

aegisd_kill9() {
        local pid
        pid="$(aegisd_pid "$1")"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        eval "AEGISD_PID_$1="
}

aegisd_log() { cat "$SCRATCH/aegisd-${1:-a}/aegisd.log"; }

aegis() { "$AEGIS_CLI" --url "$AEGIS_URL" "$@"; }
api() { local m="$1" p="$2"; shift 2; curl -s -X "$m" "$AEGIS_URL$p" "$@"; }
api_status() { local m="$1" p="$2"; shift 2; curl -s -o /dev/null -w '%{http_code}' -X "$m" "$AEGIS_URL$p" "$@"; }

manifest() { # manifest NAME SCRIPT [extra YAML under spec:]
        local name="$1" script="$2" extra="${3:-}"
        {
                cat <<YAML
apiVersion: 100monkeys.ai/v1
kind: Agent
metadata:
  name: $name
  version: "1.0.0"
spec:
  runtime:
    image: $TEST_IMAGE
    image_pull_policy: Never
    command: ["/bin/sh", "-c", $(jq -Rn --arg s "$script" '$s')]
YAML
                printf '%s\n' "$extra"
        } >"$SCRATCH/$name.yaml"
        echo "$SCRATCH/$name.yaml"
}

execution_field() { api GET "/v1/executions/$1" | jq -r "$2"; }

wait_status() { # wait_status ID STATUS SECONDS
        wait_for "$3" bash -c '[ "$(curl -s "$1/v1/executions/$2" | jq -r .status)" = "$3" ]' _ "$AEGIS_URL" "$1" "$2"
}

# Containers are removed after their execution ended (the answer does not wait for the
# cleanup): give the removal a moment before asserting.
assert_no_managed_containers() {
        local i
        for i in $(seq 100); do
                [ -z "$(podman_managed_ids)" ] && break
                sleep 0.2
        done
        assert_eq "no aegis.managed container remains" "" "$(podman_managed_ids)"
}

aegisd_with_hosts() {
        AEGISD_REAL="${AEGISD_REAL:-$AEGISD}"
        cat >"$SCRATCH/aegisd-in-ns" <<SH
#!/bin/sh
exec unshare -m --propagation private sh -c 'mount --bind "$1" /etc/hosts && exec "\$0" "\$@"' "$AEGISD_REAL" "\$@"
SH
        chmod +x "$SCRATCH/aegisd-in-ns"
        AEGISD="$SCRATCH/aegisd-in-ns"
}
