# tests/lib/nfs.sh — a private aegis-nfsd for one test, and the libnfs client around it.
#
# nfsd_start [EXTRA ARGS]: starts $AEGIS_NFSD on a free port with its own storage root
# ($NFS_ROOT), state dir ($NFS_STATE), registry file ($NFS_EXPORTS) and metrics port; sets
# NFS_PORT, NFS_PID, NFS_METRICS_PORT. nfsd_stop stops it (SIGTERM, a clean shutdown);
# nfsd_kill kills it (SIGKILL, a crash). Both are idempotent; the gateway is killed at exit
# (stopped with SIGTERM under valgrind, so that its exit-time leak check runs).
# nfsd_start_config CONFIG STATE_DIR: starts $AEGIS_NFSD from a configuration file (its
# storage.root, storage.nfs_listen_addr with port $NFS_PORT, database.url: the store is the
# registry) with STATE_DIRECTORY=STATE_DIR; sets NFS_PID, NFS_METRICS_PORT.
# nfs_volume TENANT VOLUME UID GID LIMIT MODE STATUS [CLIENTS]: creates the directory and registers it.
# nfs_one_volume [NFSD ARGS]: how a test of one volume starts: nfs_require, then a gateway
# (nfsd_start NFSD ARGS) serving t1/v (uid 4242, gid 4343, no limit, read-write, active); sets
# U, its libnfs URL, and D, its backing directory.
# NFS_HOST (default 127.0.0.1): the address the gateway listens on and the URLs name.
# nfs_url TENANT VOLUME: the libnfs URL of the volume's export path with its token, as aegisd
# puts it in the engine volume's device= (the key in $NFS_STATE, or $NFS_KEY_DIR: the
# gateway's state directory); nfs_bare_url TENANT VOLUME: the path without the token.
# nfs_client URL CMD...: tests/integration/nfs-client. Tests run as root, so libnfs binds a
# reserved source port, as the kernel does; nfs_unprivileged CMD... runs one as nobody.
# nfs_session URL: one nfs-client session (one mount, one connection, so state the gateway
# keeps per connection, such as its cache of open files, lives on) as a coprocess; s CMD...
# runs one command in it and prints its answer; nfs_session_end lets the client leave.
# shellcheck source=common.sh
. "${AEGIS_TEST_LIB:-$(dirname "${BASH_SOURCE[0]}")}/common.sh"

NFS_CLIENT="$top_builddir/tests/integration/nfs-client"
NFS_HOST="${NFS_HOST:-127.0.0.1}" # the address the gateway listens on and clients use

nfs_require() {
        require_cmd nfs-ls nfs-cp nfs-cat python3
        [ -x "$AEGIS_NFSD" ] || skip_or_fail "aegis-nfsd not built"
        [ -x "$NFS_CLIENT" ] || skip_or_fail "tests/integration/nfs-client not built (libnfs-dev missing at configure time)"
}

nfs_setup() {
        [ -n "${SCRATCH:-}" ] || make_scratch
        NFS_ROOT="$SCRATCH/nfs-root"
        NFS_STATE="$SCRATCH/nfs-state"
        NFS_EXPORTS="$NFS_STATE/exports"
        mkdir -p "$NFS_ROOT" "$NFS_STATE"
        : >"$NFS_EXPORTS"
}

nfs_volume() { # TENANT VOLUME UID GID LIMIT MODE STATUS
        mkdir -p "$NFS_ROOT/$1/$2"
        chown "$3:$4" "$NFS_ROOT/$1/$2" 2>/dev/null || true
        # Replace any earlier line for this volume.
        grep -v -E "^$1 $2 " "$NFS_EXPORTS" >"$NFS_EXPORTS.new" || true
        echo "$*" >>"$NFS_EXPORTS.new"
        mv "$NFS_EXPORTS.new" "$NFS_EXPORTS"
        sleep 0.6 # the registry is re-read at most every 0.5 s
}

nfs_one_volume() {
        nfs_require
        nfs_setup
        nfs_volume t1 v 4242 4343 0 read-write active
        nfsd_start "$@"
        U="$(nfs_url t1 v)"
        D="$NFS_ROOT/t1/v"
}

nfsd_start() {
        [ -n "${NFS_ROOT:-}" ] || nfs_setup
        NFS_PORT="${NFS_PORT:-$(free_port)}"
        NFS_METRICS_PORT="${NFS_METRICS_PORT:-$(free_port)}"
        "$AEGIS_NFSD" --listen "$NFS_HOST:$NFS_PORT" --metrics-listen "127.0.0.1:$NFS_METRICS_PORT" \
                --storage-root "$NFS_ROOT" --state-dir "$NFS_STATE" --exports "$NFS_EXPORTS" "$@" >>"$SCRATCH/nfsd.log" 2>&1 &
        NFS_PID=$!
        on_exit "nfsd_exit_cleanup"
        wait_for 10 python3 -c "import socket; socket.create_connection(('$NFS_HOST', $NFS_PORT), 1)" ||
                { cat "$SCRATCH/nfsd.log" >&2; fail "aegis-nfsd did not start"; }
}

nfsd_start_config() {
        NFS_METRICS_PORT="${NFS_METRICS_PORT:-$(free_port)}"
        NFS_KEY_DIR="$2/nfs"
        mkdir -p "$2"
        STATE_DIRECTORY="$2" "$AEGIS_NFSD" --config "$1" --metrics-listen "127.0.0.1:$NFS_METRICS_PORT" \
                >>"$SCRATCH/nfsd.log" 2>&1 &
        NFS_PID=$!
        on_exit "nfsd_exit_cleanup"
        wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $NFS_PORT), 1)" ||
                { cat "$SCRATCH/nfsd.log" >&2; fail "aegis-nfsd did not start from $1"; }
}

nfsd_stop() {
        [ -n "${NFS_PID:-}" ] || return 0
        kill -TERM "$NFS_PID" 2>/dev/null || true
        wait "$NFS_PID" 2>/dev/null
        NFS_EXIT=$?
        NFS_PID=
}

nfsd_kill() {
        [ -n "${NFS_PID:-}" ] || return 0
        kill -KILL "$NFS_PID" 2>/dev/null || true
        wait "$NFS_PID" 2>/dev/null || true
        NFS_PID=
}

# The exit cleanup: SIGKILL, or under valgrind a clean stop (SIGKILL after 30 s × the factor).
nfsd_exit_cleanup() {
        [ -n "${NFS_PID:-}" ] || return 0
        if [ -n "${VALGRIND_DIR:-}" ]; then
                kill -TERM "$NFS_PID" 2>/dev/null || true
                local i
                for ((i = 0; i < $(scaled 300); i++)); do running "$NFS_PID" || break; sleep 0.1; done
        fi
        nfsd_kill
}

nfsd_alive() { [ -n "${NFS_PID:-}" ] && kill -0 "$NFS_PID" 2>/dev/null; }

nfs_export_path() {
        "$AEGIS_NFSD" --state-dir "${NFS_KEY_DIR:-$NFS_STATE}" --export-path "$1/$2" ||
                fail "aegis-nfsd --export-path $1/$2 failed"
}
nfs_url() { echo "nfs://$NFS_HOST$(nfs_export_path "$1" "$2")?version=3&nfsport=$NFS_PORT&mountport=$NFS_PORT"; }
nfs_bare_url() { echo "nfs://$NFS_HOST/$1/$2?version=3&nfsport=$NFS_PORT&mountport=$NFS_PORT"; }
nfs_file_url() { echo "nfs://$NFS_HOST$(nfs_export_path "$1" "$2")$3?version=3&nfsport=$NFS_PORT&mountport=$NFS_PORT"; }
nfs_unprivileged() { runuser -u nobody -- "$@"; }
nfs_client() { "$NFS_CLIENT" "$@"; }

# nfs_metric NAME_AND_LABELS → the value ("" when absent).
nfs_metric() {
        curl -s "http://127.0.0.1:$NFS_METRICS_PORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}

nfs_session() {
        coproc NFS_SESSION { nfs_client "$1" session; }
        # bash unsets NFS_SESSION and NFS_SESSION_PID when the coprocess ends: keep copies.
        NFS_SESSION_IN="${NFS_SESSION[1]}" NFS_SESSION_OUT="${NFS_SESSION[0]}" NFS_SESSION_PROC="$NFS_SESSION_PID"
}

# s COMMAND...: its answer without the closing "DONE". Never in a pipeline: a pipeline's
# subshell does not have the coprocess's fds.
s() {
        local line out=""
        echo "$*" >&"$NFS_SESSION_IN"
        while IFS= read -r -t 60 line <&"$NFS_SESSION_OUT"; do
                [ "$line" = DONE ] && { printf '%s' "$out"; return 0; }
                out="${out:+$out$'\n'}$line"
        done
        fail "session did not answer: $*"
}

nfs_session_end() {
        exec {NFS_SESSION_IN}>&-
        wait "$NFS_SESSION_PROC" 2>/dev/null
}
