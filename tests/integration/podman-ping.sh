#!/bin/bash
# The driver reaches a real Podman (ping, version, engine recorded) and, when it cannot, says
# why and what to do: a missing socket, a socket nobody listens on, a socket we may not use.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/podman.sh"
PROBE="$top_builddir/tests/integration/podman-probe"
podman_start

out="$("$PROBE" "$PODMAN_SOCK" ping 2>&1)"
assert_eq "ping answers OK" "ping=OK" "$out"
out="$("$PROBE" "$PODMAN_SOCK" version 2>&1)"
assert_match "version names the engine" "engine=podman" "$out"
assert_match "version records the version" "version=[0-9]+\.[0-9]+" "$out"
want_resolve=no
[ "$(podman --version | awk '{split($3,v,"."); print v[1]}')" -ge 5 ] && want_resolve=yes
assert_match "host-gateway resolution follows the engine version" "resolves_host_gateway=$want_resolve" "$out"

out="$("$PROBE" "$PODMAN_SOCK" gateway 2>&1)"
assert_match "host-gateway resolves to an IPv4 address" "^gateway=[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$" "$out"

# Socket Not Found: the path, the fix.
missing="$SCRATCH/nowhere/podman.sock"
start=$(date +%s%N)
out="$("$PROBE" "$missing" ping 2>&1)"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_eq "a missing socket fails" 1 "$rc"
assert_match "a missing socket names the path" "$missing" "$out"
assert_match "a missing socket says how to enable podman.socket" "systemctl --user enable --now podman.socket" "$out"
check "a missing socket fails fast (${ms} ms)" test "$ms" -lt 3000

# A socket file nobody listens on (podman.socket stopped, stale file).
stale="$SCRATCH/stale.sock"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$stale"
out="$("$PROBE" "$stale" ping 2>&1)"; rc=$?
assert_eq "a stale socket fails" 1 "$rc"
assert_match "a stale socket says to restart podman.socket" "systemctl --user restart podman.socket" "$out"

# Permission Denied: the socket exists, another user may not connect.
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
        chmod 0755 "$SCRATCH" "$PODMAN_DIR"
        chmod 0600 "$PODMAN_SOCK"
        out="$(setpriv --reuid=65534 --regid=65534 --clear-groups "$PROBE" "$PODMAN_SOCK" ping 2>&1)"; rc=$?
        chmod 0660 "$PODMAN_SOCK"
        assert_eq "a socket of another user fails" 1 "$rc"
        assert_match "permission denied names the path" "Permission denied.*$PODMAN_SOCK" "$out"
        assert_match "permission denied says to check ownership and lingering" "ls -la.*Linger" "$out"
elif [ "${CI:-}" = true ]; then
        check "the permission case runs in CI (needs root and setpriv)" false
else
        note "not root: the permission case is not checked"
fi
finish
