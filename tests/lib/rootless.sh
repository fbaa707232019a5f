# tests/lib/rootless.sh — a real rootless Podman service for one test. Source after podman.sh
# (which gives busybox_tar and CONTAINERS_CONF) and make_scratch; needs root to make the user.
#
#   rootless_start   makes a throwaway user RL_USER with a subordinate id range of its own
#                    (RL_SUB: its first id), a home, XDG_RUNTIME_DIR ($RL/run) and storage
#                    under $SCRATCH/rootless ($RL), starts `podman system service` as that user
#                    on $RL_SOCK and imports the busybox test image into its storage. Sets
#                    RL_UID. The user, its ids and its processes are removed at exit.
#   rl ARGS...       podman as that user, on that storage
#   rl_run CMD...    CMD as that user, with its HOME and XDG_RUNTIME_DIR (no other privilege)
#   rl_clean         true once no aegis.managed container of that engine remains
#
# The engine's namespace maps its id 0 to RL_USER and 1…65536 to RL_SUB…RL_SUB+65535.

rootless_start() {
        require_cmd jq runuser setpriv useradd userdel newuidmap newgidmap pkill
        RL_USER="aegisrl$$"
        RL_SUB=$((2000000000 + ($$ % 30000) * 65536)) # unless useradd gives one
        useradd --no-create-home --shell /usr/sbin/nologin "$RL_USER" || fail "cannot create the user $RL_USER"
        on_exit "userdel $RL_USER 2>/dev/null; sed -i '/^$RL_USER:/d' /etc/subuid /etc/subgid"
        # useradd may have given it a range already (SUB_UID_COUNT in login.defs): the engine
        # takes the first one, so that is the one to expect.
        local f
        for f in /etc/subuid /etc/subgid; do
                grep -q "^$RL_USER:" "$f" 2>/dev/null || echo "$RL_USER:$RL_SUB:65536" >>"$f"
        done
        RL_SUB="$(awk -F: -v u="$RL_USER" '$1 == u {print $2; exit}' /etc/subuid)"
        RL_UID="$(id -u "$RL_USER")"
        RL="$SCRATCH/rootless"
        mkdir -p "$RL/home" "$RL/run" "$RL/tmp"
        cp "$CONTAINERS_CONF" "$RL/containers.conf"
        PODMAN_DIR="$RL" # busybox_tar builds $RL/busybox.tar
        busybox_tar >/dev/null
        chown -R "$RL_USER:" "$RL"
        chmod 700 "$RL/run"
        chmod 711 "$SCRATCH"
        on_exit "pkill -KILL -u $RL_USER 2>/dev/null; sleep 0.5"
        RL_SOCK="$RL/run/podman.sock"
        rl system service --time=0 "unix://$RL_SOCK" >"$SCRATCH/rootless-service.log" 2>&1 &
        wait_for 30 curl -sf --unix-socket "$RL_SOCK" http://d/_ping ||
                fail "the rootless Podman service did not come up: $(tail -5 "$SCRATCH/rootless-service.log")"
        assert_eq "the engine is rootless" true "$(rl info --format '{{.Host.Security.Rootless}}' 2>/dev/null)"
        rl import -q "$RL/busybox.tar" "$TEST_IMAGE" >/dev/null || fail "cannot import the busybox test image"
}

rl_run() {
        setpriv --reuid "$RL_USER" --regid "$RL_USER" --init-groups env -u CONTAINER_HOST HOME="$RL/home" \
                XDG_RUNTIME_DIR="$RL/run" CONTAINERS_CONF="$RL/containers.conf" "$@"
}

rl() {
        rl_run podman --root "$RL/root" --runroot "$RL/run/containers" --tmpdir "$RL/tmp" "$@"
}

rl_clean() { [ -z "$(rl ps -aq --filter label=aegis.managed=true 2>/dev/null)" ]; }
