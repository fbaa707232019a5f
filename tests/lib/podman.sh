# tests/lib/podman.sh — a private, real Podman API service for one test.
#
# podman_start: starts `podman system service` on $SCRATCH/podman/podman.sock with its own
# storage (so tests never touch anything else and can run in parallel), the project's
# containers.conf (runc, cgroupfs: what works on these machines), and imports the static
# busybox test image as $TEST_IMAGE. Sets PODMAN_SOCK, PODMAN (a podman command bound to
# that storage) and CONTAINER_HOST. Stops the service and removes every container at exit.
# shellcheck source=common.sh
. "${AEGIS_TEST_LIB:-$(dirname "${BASH_SOURCE[0]}")}/common.sh"

TEST_IMAGE=localhost/aegis-test-busybox:latest
export CONTAINERS_CONF="$AEGIS_TEST_LIB/containers.conf"

# CONTAINER_HOST (exported for the code under test) would turn podman into a remote client.
# --tmpdir and lock_type=file (containers.conf) keep concurrent private instances apart:
# by default they share /run/libpod and the /dev/shm lock segment and break each other.
podman_cmd() { env -u CONTAINER_HOST podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/run" --tmpdir "$PODMAN_DIR/tmp" "$@"; }

# Builds (once per scratch dir) a tarball of a rootfs with a static busybox.
busybox_tar() {
        local d="$PODMAN_DIR/busybox-rootfs" bb
        if [ ! -f "$PODMAN_DIR/busybox.tar" ]; then
                bb="$(command -v busybox)"
                [ -n "$bb" ] && file -L "$bb" 2>/dev/null | grep -q 'statically linked' || bb=/bin/busybox
                mkdir -p "$d/bin" "$d/tmp" "$d/workspace" "$d/etc"
                cp "$bb" "$d/bin/busybox"
                for a in sh echo cat sleep ls mkdir rm cp mv head tail dd wc grep sed env id true false test printf seq yes awk touch stat find sync uname; do
                        ln -sf busybox "$d/bin/$a"
                done
                chmod 1777 "$d/tmp"
                tar -C "$d" -cf "$PODMAN_DIR/busybox.tar" .
        fi
        echo "$PODMAN_DIR/busybox.tar"
}

# Starts (or restarts) the API service process alone on $PODMAN_SOCK; storage, containers and
# conmon processes are untouched.
_podman_service_spawn() {
        # exec, so that $! is Podman itself and not a subshell running the function: killing a
        # subshell would leave the service behind, orphaned.
        (exec env -u CONTAINER_HOST podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/run" \
                --tmpdir "$PODMAN_DIR/tmp" system service --time=0 "unix://$PODMAN_SOCK") \
                >>"$PODMAN_DIR/service.log" 2>&1 &
        PODMAN_PID=$!
}

# Fault injection: the API service dies (SIGKILL: no goodbye to its clients) while containers
# keep running under conmon; podman_service_restart brings it back on the same socket.
podman_service_kill() {
        [ -n "${PODMAN_PID:-}" ] || return 0
        kill -9 "$PODMAN_PID" 2>/dev/null || true
        wait "$PODMAN_PID" 2>/dev/null || true
        rm -f "$PODMAN_SOCK"
        PODMAN_PID=
        PODMAN_DOWN=1
}
podman_service_restart() {
        _podman_service_spawn
        PODMAN_DOWN=
        wait_for 30 curl -sf --unix-socket "$PODMAN_SOCK" http://d/_ping || fail "podman API did not come back: $(tail -5 "$PODMAN_DIR/service.log")"
}

# podman_private_networks: this test's networks in its scratch dir; call before podman_start.
# The default directory (/etc/containers/networks, /etc/cni/net.d) is shared by every test's
# Podman, and each test's podman_stop ends with `podman system reset`, which deletes every
# network there: a test whose network must outlive the others' ends needs its own.
podman_private_networks() {
        mkdir -p "$SCRATCH/networks"
        sed "/^\[engine\]/i [network]\nnetwork_config_dir = \"$SCRATCH/networks\"\n" "$CONTAINERS_CONF" \
                >"$SCRATCH/containers.conf" || fail "cannot write $SCRATCH/containers.conf"
        export CONTAINERS_CONF="$SCRATCH/containers.conf"
}

podman_start() {
        require_cmd podman runc curl
        [ -x /bin/busybox ] || skip_or_fail "needs busybox-static"
        [ -n "${SCRATCH:-}" ] || make_scratch
        PODMAN_DIR="$SCRATCH/podman"
        mkdir -p "$PODMAN_DIR" "$PODMAN_DIR/tmp"
        PODMAN_SOCK="$PODMAN_DIR/podman.sock"
        export CONTAINER_HOST="unix://$PODMAN_SOCK"
        _podman_service_spawn
        on_exit "podman_stop"
        wait_for 20 curl -sf --unix-socket "$PODMAN_SOCK" http://d/_ping || fail "podman API did not come up: $(tail -5 "$PODMAN_DIR/service.log")"
        podman_cmd import -q "$(busybox_tar)" "$TEST_IMAGE" >/dev/null || fail "cannot import the busybox test image"
}

podman_stop() {
        [ -n "${PODMAN_PID:-}" ] || [ -n "${PODMAN_DOWN:-}" ] || return 0
        podman_cmd rm -af -t 0 >/dev/null 2>&1 || true
        if [ -n "${PODMAN_PID:-}" ]; then
                kill "$PODMAN_PID" 2>/dev/null || true
                wait "$PODMAN_PID" 2>/dev/null || true
        fi
        PODMAN_DOWN=
        # Anything else still bound to this private storage (conmon, a stray service) goes too.
        pkill -f -- "--root $PODMAN_DIR/root " 2>/dev/null || true
        PODMAN_PID=
        # Storage holds overlay mounts: unmount before the scratch dir goes.
        podman_cmd system reset -f >/dev/null 2>&1 || true
        umount -R "$PODMAN_DIR/root/overlay" 2>/dev/null || true
}

# A podman API request: papi METHOD PATH [curl args...]
papi() { local m="$1" p="$2"; shift 2; curl -s --unix-socket "$PODMAN_SOCK" -X "$m" "http://d/v1.41$p" "$@"; }

# Containers carrying our label, as ids, one per line.
podman_managed_ids() { podman_cmd ps -a --filter label=aegis.managed=true --format '{{.ID}}'; }
