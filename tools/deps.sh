#!/bin/bash
# tools/deps.sh — installs, with apt-get on Debian 12, everything the build, the tests,
# the benchmarks and the packaging need. Idempotent; needs root.
set -euo pipefail
BUILD="build-essential autoconf automake libtool autoconf-archive pkg-config git
  libsystemd-dev libcurl4-openssl-dev libjson-c-dev libpcre2-dev libxml2-dev libyaml-dev libpq-dev libsqlite3-dev
  libtirpc-dev libseccomp-dev libmicrohttpd-dev check clang clang-format libclang-rt-14-dev
  valgrind libgcrypt20-dev"
TEST="podman runc busybox-static uidmap slirp4netns fuse-overlayfs file python3 curl jq
  postgresql sqlite3 libnfs-utils libnfs-dev dbus dbus-user-session systemd mandoc groff-base
  debootstrap iproute2 procps psmisc strace zsh fish python3-yaml python3-jsonschema man-db
  catatonit gettext-base openssl tzdata postgresql-15 postgresql-client-15 prometheus-postgres-exporter
  prometheus docker-registry"
BENCH="wrk hyperfine nfs-ganesha nfs-ganesha-vfs nginx-light time"
PACKAGING="rpm lintian dpkg-dev debhelper fakeroot"
need=0
for p in $BUILD $TEST $BENCH $PACKAGING; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || { need=1; break; }
done
if [ "$need" = 1 ]; then
        if [ "$(id -u)" != 0 ]; then
                echo "deps: missing packages; run as root: $0" >&2
                exit 1
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $BUILD $TEST $BENCH $PACKAGING
fi
# The packaged services must not run on their own: tests start private instances.
for s in nginx nfs-ganesha rpcbind postgresql prometheus prometheus-postgres-exporter docker-registry; do
        { command -v systemctl >/dev/null && systemctl stop "$s" 2>/dev/null; } || true
        { command -v service >/dev/null && service "$s" stop >/dev/null 2>&1; } || true
done
