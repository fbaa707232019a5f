#!/bin/bash
# bench/api/run.sh — HTTP API load figures, side by side in one run with nginx as the ceiling.
#
# wrk against aegisd's GET /health and GET /v1/executions/{id} with 10,000 stored executions,
# on the SQLite store and on PostgreSQL, and against nginx answering a static 200. nginx runs
# one worker, as aegisd runs one event loop: the comparison is per event loop.
# Usage: bench/api/run.sh [BUILDDIR]   (env: DURATION=5s CONNECTIONS=32 EXECUTIONS=10000)
set -u -o pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top_srcdir="$(cd "$here/../.." && pwd)"
top_builddir="$(cd "${1:-$top_srcdir/build}" && pwd)"
export top_srcdir top_builddir AEGIS_TEST_LIB="$top_srcdir/tests/lib"
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/postgres.sh"
DURATION="${DURATION:-5s}" CONNECTIONS="${CONNECTIONS:-32}" EXECUTIONS="${EXECUTIONS:-10000}"
require_cmd wrk nginx
SEED="$top_builddir/bench/api/bench-api-seed"
[ -x "$SEED" ] && [ -x "$AEGISD" ] || fail "build first (make -C $top_builddir)"
make_scratch

# wrk_run URL → "requests/s p50 p99"
wrk_run() {
        wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$1" 2>&1 | awk '
                /Requests\/sec:/ { rps = $2 }
                /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
                /Non-2xx/ { bad = $NF }
                END { if (bad) rps = rps " (" bad " non-2xx!)"; print rps, p50, p99 }'
}

start_nginx() {
        NGINX_PORT="$(free_port)"
        mkdir -p "$SCRATCH/nginx"
        cat >"$SCRATCH/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $SCRATCH/nginx/nginx.pid;
error_log $SCRATCH/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $SCRATCH/nginx; proxy_temp_path $SCRATCH/nginx;
    fastcgi_temp_path $SCRATCH/nginx; uwsgi_temp_path $SCRATCH/nginx; scgi_temp_path $SCRATCH/nginx;
    server { listen 127.0.0.1:$NGINX_PORT; location / { default_type application/json; return 200 '{"status":"healthy"}'; } }
}
NGX
        nginx -c "$SCRATCH/nginx/nginx.conf" -p "$SCRATCH/nginx" &
        NGINX_PID=$!
        on_exit "kill $NGINX_PID 2>/dev/null; wait $NGINX_PID 2>/dev/null"
        wait_for 10 curl -sf "http://127.0.0.1:$NGINX_PORT/" || fail "nginx did not start"
}

# start_aegisd NAME DATABASE-URL → AEGISD_PORT
start_aegisd() {
        AEGISD_PORT="$(free_port)"
        mkdir -p "$SCRATCH/$1"
        cat >"$SCRATCH/$1/config.yaml" <<CFG
api:
  listen: "127.0.0.1:$AEGISD_PORT"
  metrics_listen: "127.0.0.1:$(free_port)"
runtime:
  container_socket_path: "$SCRATCH/no-podman.sock"
database:
  url: "$2"
logging:
  level: warning
CFG
        STATE_DIRECTORY="$SCRATCH/$1" "$AEGISD" --config "$SCRATCH/$1/config.yaml" 2>"$SCRATCH/$1/aegisd.log" &
        AEGISD_PID=$!
        on_exit "kill $AEGISD_PID 2>/dev/null; wait $AEGISD_PID 2>/dev/null"
        wait_for 30 curl -sf "http://127.0.0.1:$AEGISD_PORT/health" || fail "aegisd did not start: $(tail -3 "$SCRATCH/$1/aegisd.log")"
}

rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }

printf '%-34s %14s %10s %10s\n' "target ($CONNECTIONS connections, $DURATION)" "requests/s" "p50" "p99"
row() { printf '%-34s %14s %10s %10s\n' "$1" $2; }

start_nginx
row "nginx static 200 (1 worker)" "$(wrk_run "http://127.0.0.1:$NGINX_PORT/")"

pg_start
for backend in sqlite postgresql; do
        if [ "$backend" = sqlite ]; then url="sqlite://$SCRATCH/sqlite/aegis.db"; mkdir -p "$SCRATCH/sqlite"
        else url="$PG_URL"; fi
        t0=$(date +%s%N)
        id="$("$SEED" "$url" "$EXECUTIONS")" || fail "seeding $backend failed"
        seed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        start_aegisd "$backend" "$url"
        curl -sf "http://127.0.0.1:$AEGISD_PORT/v1/executions/$id" >/dev/null || fail "GET /v1/executions/$id failed on $backend"
        row "aegisd GET /health ($backend)" "$(wrk_run "http://127.0.0.1:$AEGISD_PORT/health")"
        row "aegisd GET /v1/executions/{id} ($backend)" "$(wrk_run "http://127.0.0.1:$AEGISD_PORT/v1/executions/$id")"
        echo "  ($EXECUTIONS executions seeded in ${seed_ms} ms; aegisd RSS after load: $(rss_kib "$AEGISD_PID") KiB)"
        kill "$AEGISD_PID"; wait "$AEGISD_PID" 2>/dev/null
done
