#!/bin/bash
# The shell tests' library (tests/lib/common.sh) keeps what a test has said, whatever it
# sources later: a check failed before another library is sourced (they all source
# common.sh) still fails the test, and a cleanup registered before still runs; a script
# that forgets finish does not pass over a failed check.
lib="${top_srcdir:-.}/tests/lib"
dir="$(mktemp -d "${TMPDIR:-/tmp}/aegis-test-lib.XXXXXX")"
trap 'rm -rf "$dir"' EXIT
bad=0
expect() { # expect WHAT STATUS SCRIPT
        printf '%s\n' "$3" >"$dir/t.sh"
        AEGIS_TEST_LIB="$lib" bash "$dir/t.sh" >"$dir/out" 2>&1
        local rc=$?
        if [ "$rc" = "$2" ]; then echo "ok - $1"; else echo "not ok - $1: status $rc, expected $2: $(cat "$dir/out")"; bad=1; fi
}
expect "a check failed before a second source still fails the test" 1 \
        ". \"\$AEGIS_TEST_LIB/common.sh\"; check no false; . \"\$AEGIS_TEST_LIB/common.sh\"; finish"
expect "a cleanup registered before a second source runs" 0 \
        ". \"\$AEGIS_TEST_LIB/common.sh\"; on_exit 'touch $dir/cleaned'; . \"\$AEGIS_TEST_LIB/common.sh\"; finish"
if [ -e "$dir/cleaned" ]; then echo "ok - … it ran"; else echo "not ok - … it did not run"; bad=1; fi
expect "a script without finish fails on a failed check" 1 \
        ". \"\$AEGIS_TEST_LIB/common.sh\"; check no false; exit 0"
expect "all checks passing passes" 0 ". \"\$AEGIS_TEST_LIB/common.sh\"; check yes true; finish"
exit "$bad"
