#!/bin/bash
# aegis.socket, aegis-metrics.socket and aegis.service, both flavours, as built:
# `systemd-analyze verify` finds nothing wrong, and they say what issue 2 and the operator
# documentation promise (ports and descriptor names, Type=notify, the Podman socket, the
# environment file, restart policy, file limit, watchdog, state directory).
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/units.sh"
require_cmd systemd-analyze
make_scratch
units_runtime_dir

for flavour in system user; do
        if [ "$flavour" = system ]; then svc="$top_builddir/units/aegis.service"
        else svc="$top_builddir/units/user/aegis.service"; fi
        [ -f "$svc" ] || fail "$svc not built"
        d="$SCRATCH/$flavour"
        units_prepare "$d" "$svc" "$top_srcdir/units/aegis.socket" "$top_srcdir/units/aegis-metrics.socket"
        out="$(units_analyze "$flavour" "$d" verify --man=no ./aegis.service ./aegis.socket ./aegis-metrics.socket)"
        check "$flavour: systemd-analyze verify is clean${out:+: $out}" test -z "$out"
        for want in Type=notify Requires=aegis.socket Restart=on-failure RestartSec=10s \
                LimitNOFILE=65535 "WatchdogSec=" StateDirectory=aegis "ExecStart=/.*/aegisd$"; do
                check "$flavour: service has $want" grep -q "^$want" "$svc"
        done
        check "$flavour: service requires podman.socket (issue 2)" grep -Eq '^Requires=.*podman\.socket' "$svc"
        check "$flavour: service starts after podman.socket" grep -Eq '^After=.*podman\.socket' "$svc"
done
check "user service points CONTAINER_HOST at the user's Podman socket" \
        grep -qx 'Environment=CONTAINER_HOST=unix://%t/podman/podman.sock' "$top_builddir/units/user/aegis.service"
check "user service reads ~/.config/aegis/env if present" \
        grep -qx 'EnvironmentFile=-%h/.config/aegis/env' "$top_builddir/units/user/aegis.service"
check "system service points CONTAINER_HOST at the rootful Podman socket" \
        grep -qx 'Environment=CONTAINER_HOST=unix:///run/podman/podman.sock' "$top_builddir/units/aegis.service"
for want in ListenStream=127.0.0.1:8088 'ListenStream=\[::1\]:8088' FileDescriptorName=api Service=aegis.service; do
        check "aegis.socket has $want" grep -qx "$want" "$top_srcdir/units/aegis.socket"
done
for want in ListenStream=127.0.0.1:9091 'ListenStream=\[::1\]:9091' FileDescriptorName=metrics Service=aegis.service; do
        check "aegis-metrics.socket has $want" grep -qx "$want" "$top_srcdir/units/aegis-metrics.socket"
done
# Issue 19: loopback only. Every ListenStream= of the two sockets is 127.0.0.1 or [::1].
for sock in aegis.socket aegis-metrics.socket; do
        other="$(grep '^ListenStream=' "$top_srcdir/units/$sock" | grep -Ev '^ListenStream=(127\.0\.0\.1|\[::1\]):[0-9]+$' || true)"
        assert_eq "$sock listens on loopback only" "" "$other"
done
finish
