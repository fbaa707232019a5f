#!/bin/bash
# libpq is loaded only when a postgresql:// store is opened (src/shared/pq-dlopen.c): no program
# links it, a program with a SQLite store runs where libpq.so.5 is missing, and a PostgreSQL
# store there fails with a message naming the package to install.
. "$AEGIS_TEST_LIB/common.sh"
make_scratch
require_cmd ldd ldconfig unshare

for p in "$AEGISD" "$AEGIS_NFSD" "$AEGIS_REAPER" "$AEGIS_CLI"; do
        [ -x "$p" ] || fail "$p not built"
        check "$(basename "$p") does not link libpq" bash -c "! ldd '$p' | grep -q libpq"
done

lib="$(ldconfig -p | awk '/libpq\.so\.5 / { print $NF; exit }')"
[ -n "$lib" ] || fail "libpq.so.5 is not installed (apt-get install libpq5)"
# without_libpq CMD...: run CMD (for at most 60 s) where libpq.so.5 is an empty file, in a
# private user and mount namespace.
without_libpq() {
        timeout 60 unshare -rm sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$lib" "$@"
}
without_libpq true || skip_or_fail "needs unprivileged user and mount namespaces (unshare -rm)"

write_config() { # URL
        printf 'api:\n  listen: "127.0.0.1:%s"\n  metrics_listen: "127.0.0.1:%s"\nruntime:\n  container_socket_path: %s\ndatabase:\n  url: "%s"\n' \
                "$(free_port)" "$(free_port)" "$SCRATCH/no-podman.sock" "$1" >"$SCRATCH/config.yaml"
}

write_config "sqlite://$SCRATCH/aegis.db"
out="$(STATE_DIRECTORY="$SCRATCH" without_libpq "$AEGISD" --config "$SCRATCH/config.yaml" --check-config 2>&1)"
assert_eq "aegisd runs without libpq (SQLite store): exit status" 0 "$?"

write_config "postgresql://aegis@127.0.0.1:1/aegis?connect_timeout=2"
out="$(STATE_DIRECTORY="$SCRATCH" without_libpq "$AEGISD" --config "$SCRATCH/config.yaml" 2>&1)"
rc=$?
check "aegisd without libpq, PostgreSQL store: exits non-zero (not a timeout)" test "$rc" -ne 0 -a "$rc" -ne 124
assert_match "aegisd without libpq: names the package" \
        "PostgreSQL support needs libpq5 \(apt-get install libpq5\)" "$out"

out="$(without_libpq "$AEGIS_CLI" doctor --config "$SCRATCH/config.yaml" \
        --skip podman-socket-unit,podman-socket,podman-api,linger,cgroup-v2,cgroup-delegation,rootless-network,nfs-port 2>&1)"
assert_match "aegis doctor without libpq: the store check names the package" \
        "FAIL +store +PostgreSQL support needs libpq5" "$out"
finish
