#!/bin/bash
# `systemd-analyze verify` is clean for every unit we ship, system and user flavour: unit
# syntax, dependencies, that Exec*= binaries exist (pointed at the build tree) and that
# every Documentation=man: page exists (pointed at man/). One test for all units.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/units.sh"
require_cmd systemd-analyze man
make_scratch
units_collect
[ $((${#UNITS_SYSTEM[@]} + ${#UNITS_USER[@]})) -gt 0 ] || skip_or_fail "no unit files in units/ yet"

# Man pages where man(1) finds them: MANPATH/manN/NAME.N.
for p in "$top_srcdir"/man/*.[1-8] "$top_builddir"/man/*.[1-8]; do
        [ -f "$p" ] || continue
        s="${p##*.}"
        mkdir -p "$SCRATCH/man/man$s"
        ln -sf "$p" "$SCRATCH/man/man$s/"
done
export MANPATH="$SCRATCH/man:"
units_runtime_dir

verify() { # verify FLAVOUR DIR
        local flavour="$1" dir="$2" out rc u prog
        for u in "$dir"/*; do
                prog="$(sed -n "s#^Exec[A-Za-z]*=[-@!+:]*\($top_builddir/[^ ]*\).*#\1#p" "$u" | head -1)"
                if [ -n "$prog" ] && [ ! -x "$prog" ]; then
                        note "$flavour $(basename "$u"): $(basename "$prog") is not built in this tree yet: not verified"
                        continue
                fi
                out="$(units_analyze "$flavour" "$dir" verify "$(basename "$u")")"
                rc=$?
                # Messages about units we do not ship (the host's own) are not ours to fix.
                out="$(grep -E "(^|/)($(cd "$dir" && ls | sed 's/\./\\./g' | paste -sd'|'))" <<<"$out")"
                check "$flavour $(basename "$u") verifies clean${out:+: $out}" test "$rc" -eq 0 -a -z "$out"
        done
}
if [ "${#UNITS_SYSTEM[@]}" -gt 0 ]; then units_prepare "$SCRATCH/system" "${UNITS_SYSTEM[@]}"; verify system "$SCRATCH/system"; fi
if [ "${#UNITS_USER[@]}" -gt 0 ]; then units_prepare "$SCRATCH/user" "${UNITS_USER[@]}"; verify user "$SCRATCH/user"; fi

# The shipped host set-up parses, too.
check "sysusers.d/aegis.conf parses" bash -c 'systemd-sysusers --dry-run "$1" >/dev/null 2>&1' _ "$top_srcdir/sysusers/aegis.conf"
mkdir -p "$SCRATCH/root/etc"
check "tmpfiles.d/aegis.conf applies to an empty root" bash -c \
        'systemd-sysusers --root="$1" "$2" >/dev/null 2>&1 && systemd-tmpfiles --root="$1" --create "$3"' \
        _ "$SCRATCH/root" "$top_srcdir/sysusers/aegis.conf" "$top_srcdir/tmpfiles/aegis.conf"
check "… and writes the linger flag for aegis" test -f "$SCRATCH/root/var/lib/systemd/linger/aegis"
check "… and the state directory" test -d "$SCRATCH/root/var/lib/aegis"
assert_eq "the drop-in delegates cpu cpuset io memory pids" "Delegate=cpu cpuset io memory pids" \
        "$(grep '^Delegate=' "$top_srcdir/units/user-delegate.conf")"
finish
