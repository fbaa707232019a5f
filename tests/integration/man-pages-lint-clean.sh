#!/bin/bash
# Every man page in man/ (shipped or generated) is clean under `mandoc -Tlint` at warning
# level: what `man -l` renders without complaint. Style suggestions are shown, not failed.
# And man-db with groff renders each at 80 columns without a warning (`man --warnings`:
# tables wider than the line, lines it cannot adjust, unknown characters).
. "$AEGIS_TEST_LIB/common.sh"
require_cmd mandoc man groff

pages=()
for d in "$top_srcdir/man" "$top_builddir/man"; do
        for f in "$d"/*.[1-8]; do
                [ -f "$f" ] && pages+=("$f")
        done
done
[ "${#pages[@]}" -gt 0 ] || fail "no man pages found in $top_srcdir/man"

for f in "${pages[@]}"; do
        out="$(mandoc -Tlint -W warning "$f" 2>&1)"
        rc=$?
        check "mandoc -Tlint: $(basename "$f") has no warnings${out:+: $out}" test "$rc" -lt 2
        style="$(mandoc -Tlint -W style "$f" 2>&1)" || true
        [ -z "$style" ] || note "style: $style"
        # The page must also render (what `man -l` shows).
        check "$(basename "$f") renders" bash -c 'mandoc -Tutf8 "$1" | grep -q .' _ "$f"
        warnings="$(MANWIDTH=80 man --warnings -E UTF-8 -l "$f" 2>&1 >/dev/null)"
        check "man --warnings at 80 columns: $(basename "$f") has none${warnings:+: $warnings}" test -z "$warnings"
done
finish
