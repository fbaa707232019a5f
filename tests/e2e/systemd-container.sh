#!/bin/bash
# The packaged product under a real systemd, as a user would run it (README "Install as a
# package"): a Debian 12 container booted with systemd as PID 1, the built .deb installed,
# then: the aegis user exists, lingering is on through the shipped tmpfiles entry (logind
# starts its user manager), `systemctl --user enable --now aegis.socket` as aegis, the
# first `curl :8088/health` starts aegis.service, an execution runs against the host's
# Podman (its API socket bind-mounted in), `journalctl --user -u aegis` shows structured
# entries, `systemctl --user list-timers` lists the reaper, `busctl --user introspect
# org.aegis1 /org/aegis1` works, `aegis doctor` reports, and everything comes back after a
# reboot of the container.
#
# Cached outside the tree ($AEGIS_TEST_CACHE, default /var/cache/aegis-test): the rootfs
# tarball (first build ~2-6 min, tests/e2e/rootfs.sh) and the .deb per source hash (so the
# sanitizer build's run reuses the plain build's package). Prints its duration.
. "$AEGIS_TEST_LIB/podman.sh"
. "$top_srcdir/tests/e2e/rootfs.sh"
# Minutes of CPU on a shared 2-core machine: always in CI, on request elsewhere.
if [ "${CI:-}" != true ] && [ "${AEGIS_E2E:-}" != 1 ]; then
        printf 'SKIP: %s: the systemd end-to-end test runs in CI; AEGIS_E2E=1 runs it here\n' "$TEST_NAME" >&2
        exit 77
fi
require_cmd podman runc debootstrap dpkg-buildpackage flock sha256sum jq
[ -e "$top_srcdir/units/aegis.socket" ] || [ -e "$top_srcdir/units/aegis.socket.in" ] \
        || skip_or_fail "units/aegis.socket is not in the tree yet: nothing to enable"
T0=$(date +%s)
make_scratch
CACHE="${AEGIS_TEST_CACHE:-/var/cache/aegis-test}"
mkdir -p "$CACHE" || skip_or_fail "cannot create $CACHE"

# --- the package ------------------------------------------------------------------------
src_hash() {
        (cd "$top_srcdir" && find configure.ac Makefile.am src units tmpfiles sysusers man packaging examples \
                -type f ! -name '*.o' -print0 2>/dev/null | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}
DEB_DIR="$CACHE/deb-$(src_hash)"
(
        flock 9
        if ! ls "$DEB_DIR"/aegis_*.deb >/dev/null 2>&1; then
                note "building the .deb (make deb) into $DEB_DIR"
                make -C "$top_builddir" -s deb >"$SCRATCH/make-deb.log" 2>&1 || { tail -30 "$SCRATCH/make-deb.log" >&2; exit 1; }
                mkdir -p "$DEB_DIR.tmp" && cp "$top_builddir"/aegis_*.deb "$DEB_DIR.tmp/" && mv "$DEB_DIR.tmp" "$DEB_DIR"
        fi
) 9>"$CACHE/deb.lock" || fail "make deb failed"
DEB="$(ls "$DEB_DIR"/aegis_*.deb | head -1)"
note "package: $DEB ($(($(date +%s) - T0)) s)"
if command -v lintian >/dev/null; then
        lint="$(lintian --tag-display-limit 0 "$DEB" 2>&1 | grep -E '^E: ' || true)"
        check "lintian reports no errors${lint:+: $lint}" test -z "$lint"
fi

# --- the host's Podman, and the container -------------------------------------------------
podman_start
chmod 0666 "$PODMAN_SOCK" # the aegis user in the container must be able to connect
ROOTFS="$(e2e_rootfs_tar)" || skip_or_fail "cannot debootstrap a Debian 12 rootfs (needs the apt archive)"
podman_cmd import -q --change 'CMD ["/sbin/init"]' "$ROOTFS" localhost/aegis-e2e-systemd:latest >/dev/null \
        || fail "cannot import the rootfs"
C=aegis-e2e-$$
podman_cmd run -d --name "$C" --systemd=always --network none --hostname aegis-e2e \
        -v "$PODMAN_SOCK:/run/host-podman.sock" localhost/aegis-e2e-systemd:latest >/dev/null \
        || fail "cannot start the systemd container"
on_exit "podman_cmd rm -f -t 0 $C >/dev/null 2>&1"
in_c() { podman_cmd exec "$C" "$@"; }
in_c_stdin() { podman_cmd exec -i "$C" "$@"; }
boot() {
        local s
        wait_for 60 in_c test -S /run/systemd/private || fail "systemd did not start in the container"
        s="$(in_c timeout 90 systemctl is-system-running --wait 2>&1)"
        [[ "$s" =~ running|degraded ]] || fail "the container did not boot: $s"
        [ "$s" = running ] || note "degraded: $(in_c systemctl --failed --no-legend)"
}
boot
note "booted ($(($(date +%s) - T0)) s)"

podman_cmd cp "$DEB" "$C:/tmp/aegis.deb" || fail "cannot copy the package in"
out="$(in_c dpkg -i /tmp/aegis.deb 2>&1)"
check "dpkg -i installs the package${out:+: $(tail -5 <<<"$out")}" in_c dpkg -s aegis >/dev/null

# --- what the README says ----------------------------------------------------------------
AUID="$(in_c id -u aegis 2>/dev/null)"
check "the aegis user exists" test -n "$AUID"
assert_eq "… with its home in /var/lib/aegis" /var/lib/aegis "$(in_c getent passwd aegis | cut -d: -f6)"
check "… and subordinate ids for rootless Podman" in_c grep -q '^aegis:[0-9]*:65536$' /etc/subuid
check "the tmpfiles entry wrote the linger flag" in_c test -f /var/lib/systemd/linger/aegis
assert_eq "logind has lingering on for aegis" "Linger=yes" "$(in_c loginctl show-user aegis -p Linger 2>&1)"
check "the user manager of aegis runs" wait_for 30 in_c systemctl is-active --quiet "user@$AUID.service"
assert_match "the Delegate= drop-in is in effect" 'cpu.*cpuset.*io.*memory.*pids' \
        "$(in_c systemctl show -p DelegateControllers "user@$AUID.service" 2>&1)"

# The configuration a user writes: Podman's socket is the host's, bind-mounted in.
in_c_stdin runuser -u aegis -- sh -c 'mkdir -p ~/.config/aegis && cat > ~/.config/aegis/config.yaml' <<'YAML'
runtime:
  container_socket_path: "/run/host-podman.sock"
YAML
# Podman is the host's, not a podman.socket in this machine: drop that one requirement, as
# aegis.systemd(7) tells users of a remote Podman to (systemctl --user edit aegis.service).
in_c_stdin runuser -u aegis -- sh -c 'mkdir -p ~/.config/systemd/user/aegis.service.d && cat > ~/.config/systemd/user/aegis.service.d/remote-podman.conf' <<'CONF'
[Unit]
Requires=
Requires=aegis.socket
CONF
as_aegis() {
        in_c runuser -u aegis -- env XDG_RUNTIME_DIR="/run/user/$AUID" \
                DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$AUID/bus" "$@"
}
UNITS_EN="aegis.socket aegis-metrics.socket aegis-reaper.timer"
out="$(as_aegis systemctl --user enable --now $UNITS_EN 2>&1)"
check "systemctl --user enable --now $UNITS_EN${out:+: $out}" as_aegis systemctl --user is-active --quiet aegis.socket
assert_eq "aegis.service is not running before the first request" inactive \
        "$(as_aegis systemctl --user is-active aegis.service 2>&1)"

health() { in_c curl -sf --max-time 20 http://127.0.0.1:8088/health; }
out="$(health)"
check "curl :8088/health answers through the socket${out:+: $out}" grep -q '"status"' <<<"$out"
check "… and started aegis.service" wait_for 20 as_aegis systemctl --user is-active --quiet aegis.service
[ -n "$out" ] || note "aegis.service: $(as_aegis systemctl --user status aegis.service --no-pager 2>&1 | tail -15)"

# An execution against the host's Podman.
if in_c test -x /usr/bin/aegis && [ -f "$top_srcdir/examples/hello.yaml" ]; then
        podman_cmd cp "$top_srcdir/examples/hello.yaml" "$C:/tmp/hello.yaml"
        in_c chmod 0644 /tmp/hello.yaml
        out="$(as_aegis timeout 120 aegis --quiet run /tmp/hello.yaml 2>&1)"
        rc=$?
        assert_eq "aegis run examples/hello.yaml completes (exit 0)" 0 "$rc"
        assert_match "… with the container's output" 'hello from aegis' "$out"
        check "… and leaves no container behind" test -z "$(podman_managed_ids)"
fi

j="$(as_aegis journalctl --user -u aegis -o json --no-pager 2>&1)"
check "journalctl --user -u aegis shows aegisd's entries" grep -q '"_SYSTEMD_USER_UNIT":"aegis.service"' <<<"$j"
check "… structured (fields beyond MESSAGE)" bash -c 'jq -s -e "map(select(._SYSTEMD_USER_UNIT == \"aegis.service\" and (.CODE_FILE or .EXECUTION_ID or .LISTEN_ADDRESS))) | length > 0" >/dev/null 2>&1' <<<"$j"
[ -n "$j" ] || note "journal: $(as_aegis journalctl --user -u aegis --no-pager 2>&1 | tail -5)"

check "systemctl --user list-timers lists the reaper" bash -c 'grep -q aegis-reaper.timer' \
        <<<"$(as_aegis systemctl --user list-timers --all --no-pager 2>&1)"

if in_c test -x /usr/bin/aegis-reaper; then
        out="$(as_aegis timeout 120 systemctl --user start aegis-reaper.service 2>&1)"
        check "the reaper's sandboxed oneshot runs to success${out:+: $out}" test "$(as_aegis systemctl --user show -p Result --value aegis-reaper.service)" = success
        [ -z "$out" ] || note "reaper: $(as_aegis journalctl --user -u aegis-reaper --no-pager 2>&1 | tail -5)"
fi

intro="$(as_aegis busctl --user introspect org.aegis1 /org/aegis1 2>&1)"
check "busctl --user introspect org.aegis1 /org/aegis1${intro:+: $(head -3 <<<"$intro")}" grep -q 'org.aegis1.Manager' <<<"$intro"
assert_match "… Ready is true" 'b true' "$(as_aegis busctl --user get-property org.aegis1 /org/aegis1 org.aegis1.Manager Ready 2>&1)"

doc="$(as_aegis aegis doctor --output json 2>&1)"
check "aegis doctor reports as JSON" jq -e .checks <<<"$doc" >/dev/null
verdict() { jq -r --arg n "$1" '.checks[] | select(.name == $n) | .verdict' <<<"$doc" 2>/dev/null; }
assert_eq "doctor: config" pass "$(verdict config)"
assert_eq "doctor: lingering (logind over D-Bus)" pass "$(verdict linger)"
assert_eq "doctor: the Podman API is reachable with permission" pass "$(verdict podman-api)"
note "doctor: $(jq -r '[.checks[] | "\(.name)=\(.verdict)"] | join(" ")' <<<"$doc" 2>/dev/null)"

# A reboot: lingering (from the flag file alone) brings the user manager and the enabled
# socket back, and the next request starts the service again.
podman_cmd restart -t 10 "$C" >/dev/null || fail "cannot restart the container"
boot
check "after a reboot the user manager of aegis starts by itself" wait_for 30 in_c systemctl is-active --quiet "user@$AUID.service"
check "… aegis.socket listens again" wait_for 30 as_aegis systemctl --user is-active --quiet aegis.socket
out="$(health)"
check "… and /health starts aegis.service again" grep -q '"status"' <<<"$out"

note "e2e duration: $(($(date +%s) - T0)) s"
finish
