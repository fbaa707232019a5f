#!/bin/bash
# The RPM, as `make rpm` builds it (rpmbuild -ba --nodeps on packaging/rpm/aegis.spec with the
# `make dist` tarball): rpmbuild itself refuses installed files the spec does not list, and
# this checks the payload holds every program, both flavours of every unit, the host
# set-up files, the monitoring (dashboard, alert rules) and every man page, and that the
# scriptlets create the user, apply tmpfiles, and preset/stop the units (system and the
# aegis user's own manager).
# A full compile: runs in CI, and elsewhere on request (AEGIS_E2E=1).
. "$AEGIS_TEST_LIB/common.sh"
if [ "${CI:-}" != true ] && [ "${AEGIS_E2E:-}" != 1 ]; then
        printf 'SKIP: %s: the RPM build runs in CI; AEGIS_E2E=1 runs it here\n' "$TEST_NAME" >&2
        exit 77
fi
require_cmd rpmbuild rpm
T0=$(date +%s)
make_scratch
out="$(make -C "$top_builddir" -s rpm 2>&1)"
rc=$?
[ "$rc" -eq 0 ] || note "make rpm: $(tail -20 <<<"$out")"
assert_eq "make rpm builds" 0 "$rc"
RPM="$(ls "$top_builddir"/pkg-build/rpm/RPMS/*/aegis-[0-9]*.rpm 2>/dev/null | head -1)"
[ -f "$RPM" ] || fail "no binary RPM in $top_builddir/pkg-build/rpm/RPMS"
note "package: $RPM ($(($(date +%s) - T0)) s)"
check "… and the source RPM" ls "$top_builddir"/pkg-build/rpm/SRPMS/aegis-*.src.rpm
files="$(rpm -qlp "$RPM" 2>/dev/null)"

want=(/usr/bin/aegis /usr/bin/aegis-reaper /usr/sbin/aegisd /usr/sbin/aegis-nfsd
        /usr/libexec/aegis/aegis-subid /usr/libexec/aegis/aegis-user-units /usr/libexec/aegis/aegis-bootstrap
        /usr/lib/systemd/system/user@.service.d/50-aegis-delegate.conf
        /usr/lib/tmpfiles.d/aegis.conf /usr/lib/sysusers.d/aegis.conf
        /usr/share/dbus-1/services/org.aegis1.service /usr/share/dbus-1/system.d/org.aegis1.conf
        /usr/share/bash-completion/completions/aegis /usr/share/aegis/openapi.json
        /usr/share/aegis/monitoring/aegis-alerts.yml /usr/share/aegis/monitoring/aegis-dashboard.json)
for u in aegis.socket aegis-metrics.socket aegis.service aegis-nfs.socket aegis-nfs.service \
        aegis-reaper.timer aegis-reaper.service; do
        want+=("/usr/lib/systemd/system/$u" "/usr/lib/systemd/user/$u")
done
missing=""
for f in "${want[@]}"; do grep -qxF "$f" <<<"$files" || missing="$missing $f"; done
# Every man page of the tree, whatever its section; compressed where the distribution's
# brp scripts compress them (Fedora: .gz), as installed where they do not (Debian's rpm).
for m in "$top_srcdir"/man/*.[1-8]; do
        f="/usr/share/man/man${m##*.}/$(basename "$m")"
        grep -qxE "${f//./\\.}(\\.gz|\\.xz|\\.bz2)?" <<<"$files" || missing="$missing $f"
done
check "the payload lists every program, unit (both flavours), host set-up file and man page${missing:+; missing:$missing}" test -z "$missing"
note "payload: $(wc -l <<<"$files") files"

scripts="$(rpm -qp --scripts "$RPM" 2>/dev/null)"
# The arguments, not just the commands: fallback macros defined with an eager global once
# expanded to "preset" with no units and an empty sysusers file.
entry="aegis.socket aegis-metrics.socket aegis-nfs.socket aegis-reaper.timer"
for w in "systemd-sysusers --replace=/usr/lib/sysusers.d/aegis.conf" "systemd-tmpfiles --create /usr/lib/tmpfiles.d/aegis.conf" \
        "aegis-subid aegis" "preset $entry" "--global preset $entry" "disable --now $entry" "--global disable $entry" \
        "try-restart $entry" "aegis-user-units stop aegis" "aegis-user-units restart aegis" "disable-linger aegis"; do
        check "scriptlets: $w" grep -qF -- "$w" <<<"$scripts"
done
check "scriptlets: %pre carries the sysusers entries" grep -qE '^u +aegis ' <<<"$scripts"
note "rpm duration: $(($(date +%s) - T0)) s"
finish
