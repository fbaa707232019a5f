#!/bin/bash
# The reaper's units, both flavours, as built: `systemd-analyze verify` finds nothing wrong,
# the timer has the documented schedule, the service is a sandboxed idle-I/O oneshot, and
# `systemd-analyze security` rates each at most 2.0 (aegis.systemd(7)).
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/units.sh"
require_cmd systemd-analyze
make_scratch
units_runtime_dir

timer="$top_srcdir/units/aegis-reaper.timer"
for flavour in system user; do
        if [ "$flavour" = system ]; then svc="$top_builddir/units/aegis-reaper.service"
        else svc="$top_builddir/units/user/aegis-reaper.service"; fi
        [ -f "$svc" ] || fail "$svc not built"
        check "$flavour: ExecStart is the installed program" grep -Eq '^ExecStart=/[^@]*/aegis-reaper$' "$svc"
        d="$SCRATCH/$flavour"
        units_prepare "$d" "$svc" "$timer"
        out="$(units_analyze "$flavour" "$d" verify --man=no ./aegis-reaper.service ./aegis-reaper.timer)"
        check "$flavour: systemd-analyze verify is clean${out:+: $out}" test -z "$out"
        for want in Type=oneshot IOSchedulingClass=idle ProtectSystem=strict NoNewPrivileges=yes \
                "TemporaryFileSystem=" "BindPaths=-" StateDirectory=aegis; do
                check "$flavour: service has $want" grep -q "^$want" "$d/aegis-reaper.service"
        done
        exposure="$(units_analyze "$flavour" "$d" security --offline=true ./aegis-reaper.service |
                sed -n 's/.*Overall exposure level for aegis-reaper.service: \([0-9.]*\).*/\1/p')"
        check "$flavour: exposure ${exposure:-?} <= 2.0" awk -v x="${exposure:-99}" 'BEGIN{exit !(x <= 2.0)}'
done
for want in OnBootSec=2min OnUnitActiveSec=5min Persistent=true WantedBy=timers.target; do
        check "timer has $want" grep -q "^$want" "$timer"
done
check "timer has a small RandomizedDelaySec" grep -Eq '^RandomizedDelaySec=[0-9]+s$' "$timer"
finish
