# tests/lib/postgres.sh — a private PostgreSQL server for one test, on a free port and a unix
# socket in its own temporary directory. Source common.sh first.
#
#   pg_start             starts it (as `nobody` when we are root: initdb refuses root) and sets
#                        PG_HOST (socket dir), PG_PORT, PG_USER (superuser "aegis", trust auth),
#                        PG_URL (postgresql://aegis@127.0.0.1:PORT/aegis, a database made for you)
#   pg_createdb NAME     a further empty database; prints its URL
#   pg_psql ARGS...      psql against PG_URL
#   pg_server_stop / pg_server_start   stop the server keeping its data / start it again (faults)
#   pg_stop              stops it and removes its files (registered with on_exit by pg_start)
#
# Missing server binaries skip (and fail in CI). The server runs with fsync=off: tests check
# behaviour, not durability.

_pg_bindir() {
        local d
        for d in "$(pg_config --bindir 2>/dev/null)" /usr/lib/postgresql/*/bin; do
                [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
        done
        return 1
}

_pg_as() { # run a server binary as the server's owner
        if [ "$(id -u)" = 0 ]; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi
}

pg_start() {
        PG_BIN="$(_pg_bindir)" || skip_or_fail "needs the PostgreSQL server (apt-get install postgresql)"
        PG_OS_USER=nobody
        [ "$(id -u)" = 0 ] || PG_OS_USER="$(id -un)"
        PG_HOST="$(mktemp -d /tmp/aegis-pg.XXXXXX)" || fail "mktemp"
        [ "$(id -u)" = 0 ] && chown "$PG_OS_USER" "$PG_HOST"
        chmod 755 "$PG_HOST"
        on_exit pg_stop
        PG_PORT="$(free_port)"
        PG_USER=aegis
        _pg_as "$PG_BIN/initdb" -D "$PG_HOST/data" -U "$PG_USER" --auth=trust -E UTF8 --locale=C.UTF-8 -N \
                >"$PG_HOST/initdb.log" 2>&1 || { cat "$PG_HOST/initdb.log" >&2; fail "initdb failed"; }
        pg_server_start
        PG_URL="$(pg_createdb aegis)" || fail "createdb failed"
        export PG_HOST PG_PORT PG_USER PG_URL
}

# Fault injection: pg_server_stop stops the server (fast shutdown: clients are disconnected)
# and keeps its data; pg_server_start starts it again on the same port and socket.
pg_server_start() {
        _pg_as "$PG_BIN/pg_ctl" -D "$PG_HOST/data" -l "$PG_HOST/server.log" -w -t 60 \
                -o "-k $PG_HOST -p $PG_PORT -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200" \
                start >/dev/null || { cat "$PG_HOST/server.log" >&2; fail "pg_ctl start failed"; }
}
pg_server_stop() {
        _pg_as "$PG_BIN/pg_ctl" -D "$PG_HOST/data" -m fast -w -t 60 stop >/dev/null || fail "pg_ctl stop failed"
}

pg_createdb() {
        "$PG_BIN/createdb" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$1" >&2 || return 1
        echo "postgresql://$PG_USER@127.0.0.1:$PG_PORT/$1"
}

pg_psql() {
        "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$PG_URL" "$@"
}

pg_stop() {
        [ -n "${PG_HOST:-}" ] || return 0
        if [ -f "$PG_HOST/data/postmaster.pid" ]; then
                _pg_as "$PG_BIN/pg_ctl" -D "$PG_HOST/data" -m immediate -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$PG_HOST"
        PG_HOST=
}
