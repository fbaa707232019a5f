#!/bin/bash
# aegis-reaper exits non-zero with a clear reason when it cannot do its job: a dead Podman
# socket (69, naming the socket), an unreachable store (75, naming database.url, and
# nothing is removed), a bad configuration (78, naming the key), bad usage (2).
. "$AEGIS_TEST_LIB/podman.sh"
make_scratch
[ -x "$AEGIS_REAPER" ] || fail "$AEGIS_REAPER not built"

write_config() { # SOCKET URL
        printf 'runtime:\n  container_socket_path: %s\ndatabase:\n  url: "%s"\nstorage:\n  root: %s\n' \
                "$1" "$2" "$SCRATCH/volumes" >"$SCRATCH/config.yaml"
}

# A socket file nobody listens on (a dead podman.service), and no socket at all.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SCRATCH/dead.sock"
for sock in "$SCRATCH/dead.sock" "$SCRATCH/missing.sock"; do
        write_config "$sock" "sqlite://$SCRATCH/aegis.db"
        out="$("$AEGIS_REAPER" --config "$SCRATCH/config.yaml" 2>&1)"
        rc=$?
        assert_eq "$(basename "$sock"): exit status 69" 69 "$rc"
        assert_match "$(basename "$sock"): the error names the socket" "$sock" "$out"
        assert_match "$(basename "$sock"): the error says it cannot reach Podman" "Cannot reach the Podman API" "$out"
done
check "no store was created while Podman was down" test ! -e "$SCRATCH/aegis.db"

# A live Podman, but a store that cannot be reached: nothing is removed.
podman_start
podman_cmd run -d --name orphan --label aegis.managed=true --label aegis.execution_id=nope \
        "$TEST_IMAGE" sleep 600 >/dev/null || fail "podman run"
write_config "$PODMAN_SOCK" "postgresql://aegis@127.0.0.1:1/aegis?connect_timeout=2"
out="$("$AEGIS_REAPER" --config "$SCRATCH/config.yaml" 2>&1)"
rc=$?
assert_eq "unreachable store: exit status 75" 75 "$rc"
assert_match "unreachable store: the error names database.url" "database.url" "$out"
assert_eq "an unreachable store removes nothing" orphan "$(podman_cmd ps -a --format '{{.Names}}')"

printf 'reaper:\n  grace_secs: soon\n' >"$SCRATCH/bad.yaml"
out="$("$AEGIS_REAPER" --config "$SCRATCH/bad.yaml" 2>&1)"
rc=$?
assert_eq "bad configuration: exit status 78" 78 "$rc"
assert_match "bad configuration: names the key" "grace_secs" "$out"

out="$("$AEGIS_REAPER" --output yaml 2>&1)"
rc=$?
assert_eq "bad --output: exit status 2" 2 "$rc"
assert_match "bad --output: says what is accepted" "text or json" "$out"
finish
