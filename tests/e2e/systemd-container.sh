#!/bin/bash
# The packaged product under a real systemd, as a user would run it (README "Install as a
# package"): a Debian 12 container booted with systemd as PID 1, the built .deb installed,
# then: the aegis user exists, lingering is on through the shipped tmpfiles entry (logind
# starts its user manager), the man pages are installed, `systemctl --user enable --now
# aegis.socket` (with the metrics and NFS sockets and the reaper timer) as aegis, the first
# `curl :8088/health` starts aegis.service, `aegis run examples/hello.yaml` runs against the
# host's Podman (its API socket bind-mounted in, named in ~/.config/aegis/config.yaml as
# aegis.systemd(7) says for a Podman elsewhere), the daemon's structured journal entries,
# `systemctl --user list-timers` lists the reaper, `busctl --user introspect org.aegis1
# /org/aegis1` works, `aegis doctor` reports, `systemctl --user stop` leaves no container
# (one running at the stop is re-attached by the next start and removed when it ends),
# everything comes back after a reboot of the container, and `dpkg -r` / `dpkg -P` leave
# nothing running and none of the package's files.
#
# Cached in the build tree ($AEGIS_TEST_CACHE, default $top_builddir/tests/e2e/cache, gone
# with `make distclean`): the rootfs tarball (tests/e2e/rootfs.sh, debootstrapped while the
# .deb builds) and the .deb per source hash. Prints its duration.
. "$AEGIS_TEST_LIB/podman.sh"
. "$top_srcdir/tests/e2e/rootfs.sh"
# Minutes of CPU on a shared 2-core machine: always in CI, on request elsewhere.
if [ "${CI:-}" != true ] && [ "${AEGIS_E2E:-}" != 1 ]; then
        printf 'SKIP: %s: the systemd end-to-end test runs in CI; AEGIS_E2E=1 runs it here\n' "$TEST_NAME" >&2
        exit 77
fi
require_cmd podman runc debootstrap dpkg-buildpackage lintian flock sha256sum jq
T0=$(date +%s)
make_scratch
CACHE="${AEGIS_TEST_CACHE:-$top_builddir/tests/e2e/cache}"
mkdir -p "$CACHE" || fail "cannot create $CACHE"
# The rootfs (about 2 minutes when not cached) is debootstrapped while the package builds.
(e2e_rootfs_tar >"$SCRATCH/rootfs.path" 2>"$SCRATCH/rootfs.err") &
ROOTFS_PID=$!
on_exit "kill $ROOTFS_PID 2>/dev/null; wait $ROOTFS_PID 2>/dev/null"

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
# lintian takes most of a minute: it runs beside the container, its verdict comes at the end.
(exec lintian --tag-display-limit 0 "$DEB" >"$SCRATCH/lintian.out" 2>&1) &
LINT_PID=$!
on_exit "kill $LINT_PID 2>/dev/null; wait $LINT_PID 2>/dev/null"

# --- the host's Podman, and the container -------------------------------------------------
# The deployment's network (AEGIS_NETWORK below) must outlive the other tests running beside
# this one: their `podman system reset` deletes the networks of the shared directory (seen in
# CI: "unable to find network with name or ID aegis-e2e-…" at the reboot's kube play).
podman_private_networks
podman_start
chmod 0666 "$PODMAN_SOCK" # the aegis user in the container must be able to connect
# The deployment's aegis-runtime image (deploy/images/build.sh, from the same .deb) in the
# host's Podman, built while the container boots (issue 16: deploy/ under a real systemd).
(AEGIS_DEB="$DEB" AEGIS_IMAGE_TAG=e2e PODMAN="env -u CONTAINER_HOST podman --root $PODMAN_DIR/root --runroot $PODMAN_DIR/run --tmpdir $PODMAN_DIR/tmp" \
        exec "$top_srcdir/deploy/images/build.sh" aegis-runtime >"$SCRATCH/images.log" 2>&1) &
IMAGES_PID=$!
on_exit "kill $IMAGES_PID 2>/dev/null; wait $IMAGES_PID 2>/dev/null"
wait "$ROOTFS_PID" && ROOTFS="$(cat "$SCRATCH/rootfs.path")" && [ -s "$ROOTFS" ] \
        || skip_or_fail "cannot debootstrap a Debian 12 rootfs (needs the apt archive): $(cat "$SCRATCH/rootfs.err")"
note "rootfs: $ROOTFS ($(($(date +%s) - T0)) s)"
podman_cmd import -q --change 'CMD ["/sbin/init"]' "$ROOTFS" localhost/aegis-e2e-systemd:latest >/dev/null \
        || fail "cannot import the rootfs"
C=aegis-e2e-$$
# systemd shuts down on SIGRTMIN+3 (SIGTERM would cost the 10 s stop timeout, then SIGKILL).
# CAP_SYS_ADMIN and an unmasked /proc are the least a rootless Podman nested in it needs (the
# aegis user's own, issue 19): without them newuidmap cannot write the uid_map of its user
# namespace, then the OCI runtime cannot write /proc/sys. Not --privileged: no host devices.
# slirp4netns with allow_host_loopback: the host's loopback is 10.0.2.2 in the container, where
# the deployed pods' published ports answer (`make validate`).
podman_cmd run -d --name "$C" --systemd=always --stop-signal SIGRTMIN+3 \
        --network slirp4netns:allow_host_loopback=true --hostname aegis-e2e \
        --cap-add SYS_ADMIN --security-opt unmask=ALL \
        -v "$PODMAN_SOCK:/run/host-podman.sock" localhost/aegis-e2e-systemd:latest >/dev/null \
        || fail "cannot start the systemd container"
on_exit "podman_cmd rm -f -t 0 $C >/dev/null 2>&1"
in_c() { podman_cmd exec "$C" "$@"; }
not() { ! "$@"; }
in_c_stdin() { podman_cmd exec -i "$C" "$@"; }
as_aegis_stdin() {
        in_c_stdin runuser -u aegis -- env XDG_RUNTIME_DIR="/run/user/$AUID" \
                DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$AUID/bus" "$@"
}
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
# `dpkg -i` installs no dependency: the rootfs must hold every one the package names. Said
# here by name, so a new library dependency fails with the fix instead of a dpkg error.
missing=""
while read -r alternatives; do
        found=""
        for p in ${alternatives//|/ }; do
                in_c dpkg-query -W -f='${Status}' "$p" </dev/null 2>/dev/null | grep -q "ok installed" && found=1
        done
        [ -n "$found" ] || missing="$missing ${alternatives// /}"
done < <(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed -E 's/\([^)]*\)//g; s/^ +//; s/ +$//')
[ -z "$missing" ] || fail "the rootfs lacks what the package depends on:$missing (add it to E2E_PACKAGES in tests/e2e/rootfs.sh)"
out="$(in_c dpkg -i /tmp/aegis.deb 2>&1)"
check "dpkg -i installs the package${out:+: $(tail -5 <<<"$out")}" in_c dpkg -s aegis >/dev/null
check "… without warnings" bash -c '! grep -Ei "warning|error" <<<"$1"' _ "$out"
PKG_FILES="$(in_c dpkg -L aegis 2>/dev/null)"
for m in man1/aegis.1 man5/aegis-config.yaml.5 man5/aegis-manifest.5 man7/aegis.systemd.7 \
        man8/aegisd.8 man8/aegis-nfsd.8 man8/aegis-reaper.8; do
        check "man page $m is installed" grep -qx "/usr/share/man/$m.gz" <<<"$PKG_FILES"
done
for f in aegis-alerts.yml aegis-dashboard.json; do
        check "monitoring/$f is installed" grep -qx "/usr/share/aegis/monitoring/$f" <<<"$PKG_FILES"
done

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

# The configuration a user writes: Podman's socket is the host's, bind-mounted in; the user
# NFS socket's port (aegis.systemd(7), "a Podman elsewhere" and aegis-nfs.socket).
in_c_stdin runuser -u aegis -- sh -c 'mkdir -p ~/.config/aegis && cat > ~/.config/aegis/config.yaml' <<'YAML'
runtime:
  container_socket_path: "/run/host-podman.sock"
storage:
  nfs_listen_addr: "127.0.0.1:20490"
YAML
as_aegis() {
        in_c runuser -u aegis -- env XDG_RUNTIME_DIR="/run/user/$AUID" \
                DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$AUID/bus" "$@"
}
UNITS_EN="aegis.socket aegis-metrics.socket aegis-nfs.socket aegis-reaper.timer"
out="$(as_aegis systemctl --user enable --now $UNITS_EN 2>&1)"
check "systemctl --user enable --now $UNITS_EN${out:+: $out}" as_aegis systemctl --user is-active --quiet $UNITS_EN
assert_eq "aegis.service is not running before the first request" inactive \
        "$(as_aegis systemctl --user is-active aegis.service 2>&1)"

# The first start opens the store and asks the engine: half a minute on a loaded machine.
health() { in_c curl -sf --max-time 60 http://127.0.0.1:8088/health; }
out="$(health)"
check "curl :8088/health answers through the socket${out:+: $out}" grep -q '"status"' <<<"$out"
check "… and started aegis.service" wait_for 20 as_aegis systemctl --user is-active --quiet aegis.service
[ -n "$out" ] || note "aegis.service: $(as_aegis systemctl --user status aegis.service --no-pager 2>&1 | tail -15)"
check "… which pulled in podman.socket (Requires=, issue 2)" as_aegis systemctl --user is-active --quiet podman.socket

# An execution against the host's Podman.
podman_cmd cp "$top_srcdir/examples/hello.yaml" "$C:/tmp/hello.yaml" && in_c chmod 0644 /tmp/hello.yaml
out="$(as_aegis timeout 120 aegis --quiet run /tmp/hello.yaml 2>&1)"
rc=$?
assert_eq "aegis run examples/hello.yaml completes (exit 0)" 0 "$rc"
assert_match "… with the container's output" 'hello from aegis' "$out"
check "… and leaves no container behind" test -z "$(podman_managed_ids)"

# aegis is a system user (uid < 1000): journald files its messages in the system journal,
# which `journalctl --user` does not open; --user-unit reads them there (aegis is in
# systemd-journal, sysusers.d/aegis.conf). aegis.systemd(7), "LOGS".
j="$(as_aegis journalctl --user-unit aegis -o json --no-pager 2>&1)"
check "journalctl --user-unit aegis shows aegisd's entries" grep -q '"_SYSTEMD_USER_UNIT":"aegis.service"' <<<"$j"
check "… structured: the execution's entries carry EXECUTION_ID, ITERATION, CONTAINER_ID" \
        bash -c 'jq -s -e "map(select(._SYSTEMD_USER_UNIT == \"aegis.service\" and .EXECUTION_ID and .ITERATION and .CONTAINER_ID)) | length > 0" >/dev/null 2>&1' <<<"$j"
[ -n "$j" ] || note "journal: $(as_aegis journalctl --user-unit aegis --no-pager 2>&1 | tail -5)"
# A field given twice comes out of `journalctl -o json` as an array: one CODE_FILE, the caller's.
check "… each with one CODE_FILE, the caller's (not log.c)" \
        bash -c 'jq -s -e "map(select(._SYSTEMD_USER_UNIT == \"aegis.service\" and .MESSAGE and .CODE_FILE)) | length > 0 and all(.CODE_FILE | type == \"string\" and (endswith(\"log.c\") | not))" >/dev/null 2>&1' <<<"$j"

check "systemctl --user list-timers lists the reaper" bash -c 'grep -q aegis-reaper.timer' \
        <<<"$(as_aegis systemctl --user list-timers --all --no-pager 2>&1)"

out="$(as_aegis timeout 120 systemctl --user start aegis-reaper.service 2>&1)"
check "the reaper's sandboxed oneshot runs to success${out:+: $out}" test "$(as_aegis systemctl --user show -p Result --value aegis-reaper.service)" = success
[ -z "$out" ] || note "reaper: $(as_aegis journalctl --user-unit aegis-reaper --no-pager 2>&1 | tail -5)"

intro="$(as_aegis busctl --user introspect org.aegis1 /org/aegis1 2>&1)"
check "busctl --user introspect org.aegis1 /org/aegis1${intro:+: $(head -3 <<<"$intro")}" grep -q 'org.aegis1.Manager' <<<"$intro"
assert_match "… Ready is true" 'b true' "$(as_aegis busctl --user get-property org.aegis1 /org/aegis1 org.aegis1.Manager Ready 2>&1)"

doc="$(as_aegis aegis doctor --output json 2>&1)"
check "aegis doctor reports as JSON" jq -e .checks <<<"$doc" >/dev/null
verdict() { jq -r --arg n "$1" '.checks[] | select(.name == $n) | .verdict' <<<"$doc" 2>/dev/null; }
assert_eq "doctor: config" pass "$(verdict config)"
assert_eq "doctor: lingering (logind over D-Bus)" pass "$(verdict linger)"
assert_eq "doctor: the Podman API is reachable with permission" pass "$(verdict podman-api)"
# storage.mount_mode auto picks bind mounts for a rootless engine or a host without an NFS
# client; doctor then does not probe the gateway (its socket activation is
# nfs-socket-activation-notify-seccomp.sh's). With nfs, the probe must start it.
if [ "$(jq -r '.checks[] | select(.name == "nfs-port") | .detail' <<<"$doc" 2>/dev/null | grep -c 'bind mounts')" = 1 ]; then
        assert_eq "doctor: no NFS port to probe with bind mounts" skip "$(verdict nfs-port)"
else
        assert_eq "doctor: the NFS port answers (aegis-nfs.socket)" pass "$(verdict nfs-port)"
        check "… and that connection started aegis-nfs.service" wait_for 20 as_aegis systemctl --user is-active --quiet aegis-nfs.service
        [ "$(as_aegis systemctl --user is-active aegis-nfs.service)" = active ] \
                || note "aegis-nfs: $(as_aegis journalctl --user-unit aegis-nfs --no-pager 2>&1 | tail -5)"
fi
note "doctor: $(jq -r '[.checks[] | "\(.name)=\(.verdict)"] | join(" ")' <<<"$doc" 2>/dev/null)"

# systemctl stop. An execution still running when aegis.service stops keeps its container
# (aegisd re-attaches on its next start, supervisor.h); `aegis wait` starts the daemon
# through the socket again, it follows the execution to its end and removes the container.
sed -e 's/^  name: hello/  name: hello-slow/' -e 's|^    command: .*|    command: ["/bin/sh", "-c", "echo \\"hello from $GREETING\\"; sleep 8"]|' \
        "$top_srcdir/examples/hello.yaml" >"$SCRATCH/slow.yaml"
podman_cmd cp "$SCRATCH/slow.yaml" "$C:/tmp/slow.yaml" && in_c chmod 0644 /tmp/slow.yaml
id="$(as_aegis aegis submit /tmp/slow.yaml 2>&1)"
has_container() { test -n "$(podman_managed_ids)"; }
check "a slower execution's container runs${id:+ ($id)}" wait_for 60 has_container
out="$(as_aegis systemctl --user stop aegis.socket aegis-metrics.socket aegis.service 2>&1)"
check "systemctl --user stop aegis.socket aegis-metrics.socket aegis.service${out:+: $out}" \
        test "$(as_aegis systemctl --user is-active aegis.service)" = inactive
check "… no aegisd is left" not in_c pgrep -x aegisd
as_aegis systemctl --user start aegis.socket aegis-metrics.socket
out="$(as_aegis timeout 120 aegis --quiet wait "$id" 2>&1)"
assert_eq "the next start re-attaches: aegis wait sees it complete (exit 0)${out:+: $out}" 0 "$?"
check "… and no container is left" test -z "$(podman_managed_ids)"

# The platform deployment (deploy/, issue 16) as root under this systemd: a one-pod profile
# (pod-core from the aegis-runtime image built above) on the host's Podman through its API
# socket; `make deploy` writes, enables and starts aegis-pod-core.service.
T_DEPLOY=$(date +%s)
wait "$IMAGES_PID"
check "deploy/images/build.sh builds aegis-runtime from the .deb: $(tail -3 "$SCRATCH/images.log")" \
        podman_cmd image exists localhost/aegis/aegis-runtime:e2e
podman_cmd cp "$top_srcdir/deploy" "$C:/opt/aegis-deploy" || fail "cannot copy deploy/ in"
in_c rm -f /opt/aegis-deploy/.env
printf 'core\nAEGIS_RUNTIME_IMAGE=localhost/aegis/aegis-runtime:${AEGIS_IMAGE_TAG}\n' \
        | in_c_stdin sh -c 'cat >/opt/aegis-deploy/profiles/e2e'
in_c_stdin sh -c 'cat >/opt/aegis-deploy/.env' <<ENV
AEGIS_ROOT=/var/lib/aegis-deploy
AEGIS_IMAGE_TAG=e2e
AEGIS_API_TOKEN=token-$$
CONTAINER_SOCK=$PODMAN_SOCK
AEGIS_NETWORK=aegis-e2e-$$
AEGIS_HTTP_PORT=$(free_port)
AEGIS_GRPC_PORT=$(free_port)
AEGIS_NFS_PORT=$(free_port)
AEGIS_METRICS_PORT=$(free_port)
PODMAN="podman --remote --url unix:///run/host-podman.sock"
AEGIS_PODS_HOST=10.0.2.2
ENV
mk() { in_c timeout 300 make -s -C /opt/aegis-deploy "$@"; }
validate() { wait_for 60 mk validate >/dev/null 2>&1; mk validate 2>&1; }
out="$(mk deploy PROFILE=e2e 2>&1)"
check "make deploy PROFILE=e2e (pod-core on the host's Podman)${out:+: $(tail -1 <<<"$out")}" grep -q 'profile e2e deployed' <<<"$out"
assert_eq "… aegis-pod-core.service is enabled" enabled "$(in_c systemctl is-enabled aegis-pod-core.service 2>&1)"
assert_eq "… and active" active "$(in_c systemctl is-active aegis-pod-core.service 2>&1)"
assert_eq "… pod-core runs" Running "$(podman_cmd pod inspect pod-core --format '{{.State}}' 2>&1)"
out="$(validate)"
rc=$?
assert_eq "make validate passes: $(head -1 <<<"$out")" 0 "$rc"

note "deploy: $(($(date +%s) - T_DEPLOY)) s"

# A reboot: lingering (from the flag file alone) brings the user manager and the enabled
# socket back, and the next request starts the service again.
# As a real reboot, the shutdown waits for the units to stop: aegis-pod-core's ExecStop runs
# `kube down` on the host's engine, which goes on there if the container is killed first and
# then races the next boot's `kube play` (seen: the new pod's published port dropped).
T_REBOOT=$(date +%s)
podman_cmd restart -t 90 "$C" >/dev/null || fail "cannot restart the container"
note "reboot: $(($(date +%s) - T_REBOOT)) s to shut down and start"
boot
# The deployment's enabled unit starts pod-core again by itself: a fresh pod.
check "after a reboot aegis-pod-core.service starts by itself" wait_for 60 in_c systemctl is-active --quiet aegis-pod-core.service
started="$(podman_cmd inspect pod-core-aegis-runtime --format '{{.State.StartedAt.Unix}}' 2>&1)"
assert_eq "… pod-core runs again" true "$(podman_cmd inspect pod-core-aegis-runtime --format '{{.State.Running}}' 2>&1)"
check "… started after the reboot ($started >= $T_REBOOT)" test "${started:-0}" -ge "$T_REBOOT"
out="$(validate)"
rc=$?
assert_eq "… and make validate passes: $(head -1 <<<"$out")" 0 "$rc"
[ "$rc" = 0 ] || note "pod-core: $(podman_cmd pod ps 2>&1; podman_cmd logs --tail 10 pod-core-aegis-runtime 2>&1;
        in_c journalctl -u aegis-pod-core --no-pager -b 2>&1 | tail -10
        port="$(in_c sed -n 's/^AEGIS_HTTP_PORT=//p' /opt/aegis-deploy/.env)"
        curl -sS --max-time 5 "http://127.0.0.1:$port/health" 2>&1
        podman_cmd inspect pod-core-aegis-runtime --format '{{json .NetworkSettings.Networks}}' 2>&1
        iptables-save 2>&1 | grep -e "$port" -e NETAVARK-HOSTPORT | head -20)"
check "after a reboot the user manager of aegis starts by itself" wait_for 30 in_c systemctl is-active --quiet "user@$AUID.service"
check "… aegis.socket listens again" wait_for 30 as_aegis systemctl --user is-active --quiet aegis.socket
out="$(health)"
check "… and /health starts aegis.service again" grep -q '"status"' <<<"$out"
out="$(as_aegis systemctl --user stop aegis.socket aegis-metrics.socket aegis.service 2>&1)"
check "… and systemctl --user stop leaves no aegisd${out:+: $out}" not in_c pgrep -x aegisd
check "… and no container" test -z "$(podman_managed_ids)"

# The deployment's teardown and clean leave no pod, unit, volume or network behind.
T_DEPLOY=$(date +%s)
out="$(mk teardown 2>&1)"
check "make teardown stops pod-core${out:+: $(tail -1 <<<"$out")}" not podman_cmd pod exists pod-core
check "… and removes its unit" not in_c test -e /etc/systemd/system/aegis-pod-core.service
check "… no aegis-pod unit is known" test -z "$(in_c systemctl list-units --all --no-legend 'aegis-pod-*' 2>&1)"
out="$(mk clean 2>&1)"
check "make clean removes the volume aegis-runtime-data${out:+: $(head -1 <<<"$out")}" not podman_cmd volume exists aegis-runtime-data
check "… and the network aegis-e2e-$$" not podman_cmd network exists "aegis-e2e-$$"
check "… and no container of the deployment is left" test -z "$(podman_cmd ps -a -q --filter name='^pod-')"

note "teardown and clean: $(($(date +%s) - T_DEPLOY)) s"
T_ROOTLESS=$(date +%s)

# Issue 19: the aegis user's own rootless Podman (podman.socket, which aegis.service
# Requires=) under the shipped user unit: the configuration names no container_socket_path;
# storage.mount_mode auto picks bind mounts for a rootless engine. This container's root is
# overlayfs, which cannot be an overlay's upper layer: vfs storage. Its cgroups (v1 on the
# test machines) are not delegated: limits cannot hold, which aegisd is told it may accept.
as_aegis_stdin sh -c 'mkdir -p ~/.config/containers && cat >~/.config/containers/storage.conf' <<'CONF'
[storage]
driver = "vfs"
CONF
as_aegis_stdin sh -c 'cat >~/.config/aegis/config.yaml' <<'YAML'
runtime:
  allow_unenforced_limits: true
storage:
  nfs_listen_addr: "127.0.0.1:20490"
YAML
out="$(podman_cmd save localhost/aegis-test-busybox:latest 2>/dev/null | as_aegis_stdin podman load 2>&1)"
check "the test image loads into the aegis user's rootless Podman${out:+: $(tail -1 <<<"$out")}" \
        as_aegis podman image exists localhost/aegis-test-busybox:latest
as_aegis systemctl --user start aegis.socket aegis-metrics.socket
doc="$(as_aegis aegis doctor --output json 2>&1)"
assert_match "doctor: the engine is aegis's rootless Podman" 'rootless' \
        "$(jq -r '.checks[] | select(.name == "engine-limits" or .name == "mount-mode") | .detail' <<<"$doc" 2>&1)"
podman_cmd cp "$top_srcdir/examples/hello.yaml" "$C:/tmp/hello.yaml" && in_c chmod 0644 /tmp/hello.yaml # /tmp is new since the reboot
out="$(as_aegis timeout 180 aegis --quiet run /tmp/hello.yaml 2>&1)"
assert_eq "rootless: aegis run examples/hello.yaml completes (exit 0)" 0 "$?"
assert_match "… with the container's output" 'hello from aegis' "$out"
check "… and leaves no container in aegis's Podman" test -z "$(as_aegis podman ps -aq --filter label=aegis.managed=true 2>&1)"
check "… nor on the host's" test -z "$(podman_managed_ids)"
[ -n "$out" ] || note "aegis.service: $(as_aegis journalctl --user-unit aegis --no-pager 2>&1 | tail -15)"

# A bind-mode volume: the agent writes a file, aegis downloads it, then deletes the volume.
sed -e 's/^  name: hello/  name: hello-volume/' \
        -e 's|^    command: .*|    command: ["/bin/sh", "-c", "echo \\"written by $GREETING\\" >/workspace/result.txt \&\& echo \\"hello from $GREETING\\""]|' \
        "$top_srcdir/examples/hello.yaml" >"$SCRATCH/volume.yaml"
cat >>"$SCRATCH/volume.yaml" <<'YAML'
  volumes:
    - name: out
      mount_path: /workspace
      storage_class: persistent
      size_limit: 1Mi
YAML
podman_cmd cp "$SCRATCH/volume.yaml" "$C:/tmp/volume.yaml" && in_c chmod 0644 /tmp/volume.yaml
out="$(as_aegis timeout 180 aegis --quiet run /tmp/volume.yaml 2>&1)"
rc=$?
assert_eq "rootless: an agent with a bind-mode volume completes (exit 0)${out:+: $(tail -3 <<<"$out")}" 0 "$rc"
[ "$rc" = 0 ] || note "aegis show: $(as_aegis aegis show "$(as_aegis aegis list --output json 2>/dev/null | jq -r '.executions[0].id')" 2>&1 | tail -25)"
[ -n "$out" ] || note "aegis.service: $(as_aegis journalctl --user-unit aegis --no-pager 2>&1 | tail -15)"
vol="$(as_aegis aegis volume list --output json 2>&1 | jq -r '.volumes[] | select(.name == "out") | .id' 2>&1)"
assert_match "… its volume is listed" '^[0-9a-f-]{36}$' "$vol"
assert_eq "… aegis volume cp downloads the file the agent wrote" "written by aegis" \
        "$(as_aegis aegis volume cp "$vol:/result.txt" - 2>&1)"
# keep-id: the agent ran as the aegis user itself, so the file is aegis's own on the host.
f="$(in_c find /var/lib/aegis -path "*/$vol/result.txt" 2>/dev/null | head -1)"
assert_eq "… the file the agent wrote belongs to aegis on the host (${f:-not found})" aegis:aegis \
        "$(in_c stat -c %U:%G "${f:-/nonexistent}" 2>&1)"
out="$(as_aegis aegis volume delete "$vol" 2>&1)"
assert_eq "… aegis volume delete exits 0${out:+: $out}" 0 "$?"
assert_eq "… and the volume is gone" "" \
        "$(as_aegis aegis volume list --output json 2>&1 | jq -r '.volumes[] | select(.name == "out") | .id' 2>&1)"
check "… and no container is left in aegis's Podman" test -z "$(as_aegis podman ps -aq --filter label=aegis.managed=true 2>&1)"
note "rootless: $(($(date +%s) - T_ROOTLESS)) s"

# Removal and purge: nothing of the package keeps running or listening, and no file stays.
as_aegis systemctl --user start aegis.socket && health >/dev/null # a running daemon to remove
out="$(in_c dpkg -r aegis 2>&1)"
st="$(in_c dpkg-query -W -f '${db:Status-Status}' aegis 2>&1)"
check "dpkg -r aegis removes the package ($st)${out:+: $(tail -3 <<<"$out")}" test "$st" != installed
check "… without warnings" bash -c '! grep -Ei "warning|error" <<<"$1"' _ "$out"
check "… and stops what the aegis user ran: no aegisd" not in_c pgrep -x aegisd
check "… nothing listens on 8088" not in_c curl -s --max-time 5 http://127.0.0.1:8088/health
out="$(in_c dpkg -P aegis 2>&1)"
check "dpkg -P aegis purges it${out:+: $(tail -3 <<<"$out")}" bash -c '! grep -Ei "warning|error" <<<"$1"' _ "$out"
# One exec for all of them (an exec costs a second on a loaded machine).
left="$(in_c_stdin sh -c 'while read -r f; do [ -d "$f" ] || [ ! -e "$f" ] || printf " %s" "$f"; done' <<<"$PKG_FILES")"
check "… none of the package's files remain${left:+:$left}" test -z "$left"
check "… the linger flag is gone" not in_c test -e /var/lib/systemd/linger/aegis
check "… and logind stops the user manager of aegis" wait_for 30 not in_c systemctl is-active --quiet "user@$AUID.service"
failed="$(in_c systemctl --failed --no-legend --plain 2>&1 | grep aegis)"
check "… no failed aegis unit${failed:+: $failed}" test -z "$failed"

wait "$LINT_PID"
lint="$(grep -E '^E: ' "$SCRATCH/lintian.out")"
check "lintian reports no errors${lint:+: $lint}" test -z "$lint"

note "e2e duration: $(($(date +%s) - T0)) s"
finish
