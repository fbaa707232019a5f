#!/bin/bash
# The release tarball passes `make distcheck` as an unprivileged user (issue 2: unit
# directories under the prefix, "so make distcheck passes as an unprivileged prefix install").
# `make dist` from this source tree, then, as nobody when we are root, `make distcheck` in the
# unpacked tarball: an out-of-tree build from a read-only source, the unit tests, an install
# of every unit, tmpfiles.d/sysusers.d file, man page and completion under a private prefix
# (AM_DISTCHECK_CONFIGURE_FLAGS in Makefile.am), uninstall, and the checks that uninstall and
# distclean leave nothing behind. A file that is built or installed but not distributed, or
# installed outside the prefix, fails it. The inner suite is the unit tests that need no
# services ($DISTCHECK_TESTS); `make check` runs everything else.
. "$AEGIS_TEST_LIB/common.sh"
require_cmd make tar xz runuser
make_scratch
DISTCHECK_TESTS="${DISTCHECK_TESTS:-tests/unit/test-config tests/unit/test-util tests/unit/test-log}"
unprivileged() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }

chmod 711 "$SCRATCH"
mkdir "$SCRATCH/dist" "$SCRATCH/user"
[ "$(id -u)" = 0 ] && chown nobody "$SCRATCH/user"
if ! (cd "$SCRATCH/dist" && "$top_srcdir/configure" -q && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s dist) >"$SCRATCH/dist.log" 2>&1; then
        cat "$SCRATCH/dist.log" >&2
        fail "make dist failed (above)"
fi
tarball="$(ls "$SCRATCH"/dist/aegis-*.tar.* 2>/dev/null | head -n1)"
check "make dist made a release tarball" test -s "$tarball"
check "the tarball has no build products in it" \
        bash -c "! tar -tf '$tarball' | grep -E '\\.(o|lo|la|a|trs|log)\$|/config\\.status\$|/build-config\\.h\$'"

user="$SCRATCH/user"
unprivileged tar -C "$user" -xf "$tarball" || fail "unpacking $tarball as an unprivileged user failed"
src="$(ls -d "$user"/aegis-*/ | head -n1)"
unprivileged mkdir "$src/_build"
log="$SCRATCH/distcheck.log"
# Without the make variables of the `make check` running this test: a TESTS= given to it
# would reach the inner suite through MAKEFLAGS and run this test again inside distcheck.
if unprivileged env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES bash -c \
        "cd '$src/_build' && ../configure -q && make -s -j$(nproc) distcheck TESTS='$DISTCHECK_TESTS'" >"$log" 2>&1; then
        rc=0
else
        rc=$?
fi
[ "$rc" -eq 0 ] || tail -n 60 "$log" >&2
assert_eq "make distcheck as $(unprivileged id -un) exits 0" 0 "$rc"
n="$(echo $DISTCHECK_TESTS | wc -w)"
check "distcheck ran exactly the $n unit tests and they passed" grep -q "^# TOTAL: *$n\$" "$log"
check "… all $n passed" grep -q "^# PASS: *$n\$" "$log"
check "distcheck reports the archives ready for distribution" grep -q 'archives ready for distribution' "$log"
finish
