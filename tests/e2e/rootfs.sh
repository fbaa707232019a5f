# tests/e2e/rootfs.sh — the Debian 12 rootfs with systemd that the end-to-end test boots.
#
# e2e_rootfs_tar prints the path of a cached tarball of a debootstrapped bookworm with
# systemd, D-Bus and the packages the aegis package depends on (podman among them: `dpkg -i`
# installs no dependencies; netavark provides the virtual container-network-stack that
# podman's golang-github-containers-common depends on and debootstrap does not resolve),
# building it the first time (about 2 minutes). The cache lives in the build tree ($AEGIS_TEST_CACHE,
# default $top_builddir/tests/e2e/cache, removed by `make distclean`) and is keyed by the
# package list, so changing the list builds a new one and reruns take seconds.
E2E_PACKAGES="systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,procps,curl,ca-certificates,\
libcurl4,libjson-c5,libyaml-0-2,libpq5,libsqlite3-0,libtirpc3,libseccomp2,libmicrohttpd12,libsystemd0,\
libpcre2-8-0,libxml2,libgcrypt20,uidmap,slirp4netns,adduser,passwd,podman,netavark,make,gettext-base"
E2E_SUITE=bookworm
E2E_MASKED="podman.service podman.socket podman-restart.service podman-auto-update.service podman-auto-update.timer"

e2e_rootfs_tar() {
        local cache="${AEGIS_TEST_CACHE:-$top_builddir/tests/e2e/cache}" key tar tmp
        key="$(printf '%s %s %s' "$E2E_SUITE" "$E2E_PACKAGES" "$E2E_MASKED" | sha256sum | cut -c1-12)"
        tar="$cache/rootfs-$E2E_SUITE-systemd-$key.tar"
        if [ ! -s "$tar" ]; then
                mkdir -p "$cache" || return 1
                tmp="$(mktemp -d "$cache/build.XXXXXX")" || return 1
                # A concurrent builder of the same key is harmless: the rename is atomic.
                if ! debootstrap --variant=minbase --include="$E2E_PACKAGES" "$E2E_SUITE" "$tmp/root" \
                        "${AEGIS_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$tmp/debootstrap.log" 2>&1; then
                        tail -20 "$tmp/debootstrap.log" >&2
                        rm -rf "$tmp"
                        return 1
                fi
                rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"* 2>/dev/null
                # The container runs executions on the host's Podman (its socket is mounted in);
                # the container's own system-wide Podman services, which Debian enables, would
                # start a nested Podman at every boot that this unprivileged container cannot
                # run, and hold up `systemctl is-system-running --wait` (after the reboot a
                # SIGKILLed one left them hanging). Masked; the users' podman.socket stays.
                for u in $E2E_MASKED; do ln -sf /dev/null "$tmp/root/etc/systemd/system/$u"; done
                tar -C "$tmp/root" -cf "$tmp/rootfs.tar" . && mv "$tmp/rootfs.tar" "$tar"
                rm -rf "$tmp"
        fi
        [ -s "$tar" ] && echo "$tar"
}
