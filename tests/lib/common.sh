# tests/lib/common.sh — helpers every shell test sources.
#
# Conventions: a test exits 0 on pass, 1 on failure, 77 to skip (never in CI: with
# CI=true a missing dependency fails), 99 on a hard error. Every test makes its own
# scratch directory and ports, starts what it needs, and stops it on exit.
set -u -o pipefail

# The other libraries source this file too: only the first time counts, or a second one
# would forget the failed checks and the cleanups registered so far.
[ -z "${AEGIS_TEST_COMMON_LOADED:-}" ] || return 0
AEGIS_TEST_COMMON_LOADED=1

: "${top_builddir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
AEGIS_TEST_LIB="${AEGIS_TEST_LIB:-$top_srcdir/tests/lib}"

TEST_NAME="$(basename "$0")"
TEST_FAILURES=0
TEST_CLEANUPS=()

# Run "$@" at exit (last registered runs first).
on_exit() { TEST_CLEANUPS=("$*" "${TEST_CLEANUPS[@]}"); }
_run_cleanups() {
        local rc=$? c
        for c in "${TEST_CLEANUPS[@]}"; do eval "$c" || true; done
        # A script that exits 0 without calling finish must not pass over failed checks.
        if [ "$rc" -eq 0 ] && [ "$TEST_FAILURES" -gt 0 ]; then
                printf 'FAIL: %s: %s check(s) failed (the script exited without finish)\n' "$TEST_NAME" "$TEST_FAILURES" >&2
                rc=1
        fi
        # Under valgrind (tests/lib/valgrind.sh), after everything started was stopped: an
        # error or leak in any program the test ran fails the test.
        if [ -n "${VALGRIND_DIR:-}" ] && ! valgrind_check; then
                [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ] && rc=1
                printf 'FAIL: %s: valgrind reported errors (above)\n' "$TEST_NAME" >&2
        fi
        exit $rc
}
trap _run_cleanups EXIT
# A signal ends the test after its clean-ups, and says so: a test or bench that was
# stopped from outside must not look like one that finished without printing anything.
trap 'printf "FAIL: %s: interrupted by SIGINT\n" "$TEST_NAME" >&2; exit 130' INT
trap 'printf "FAIL: %s: terminated by SIGTERM\n" "$TEST_NAME" >&2; exit 143' TERM

note() { printf '# %s\n' "$*" >&2; }
fail() { printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2; exit 1; }
# Skips outside CI; in CI a missing dependency is a failure.
skip_or_fail() {
        if [ "${CI:-}" = true ]; then
                printf 'FAIL (missing in CI): %s: %s\n' "$TEST_NAME" "$*" >&2
                exit 1
        fi
        printf 'SKIP: %s: %s\n' "$TEST_NAME" "$*" >&2
        exit 77
}
require_cmd() { local c; for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip_or_fail "needs $c"; done; }

# Soft assertions: count failures, keep going, report at the end with finish.
check() { # check "description" command...
        local what="$1"; shift
        if "$@"; then printf 'ok - %s\n' "$what"; else printf 'not ok - %s\n' "$what"; TEST_FAILURES=$((TEST_FAILURES + 1)); fi
}
assert_eq() { # assert_eq "description" expected actual
        if [ "$2" = "$3" ]; then printf 'ok - %s\n' "$1"
        else printf 'not ok - %s: expected [%s], got [%s]\n' "$1" "$2" "$3"; TEST_FAILURES=$((TEST_FAILURES + 1)); fi
}
assert_match() { # assert_match "description" regex actual
        if [[ "$3" =~ $2 ]]; then printf 'ok - %s\n' "$1"
        else printf 'not ok - %s: [%s] does not match /%s/\n' "$1" "$3" "$2"; TEST_FAILURES=$((TEST_FAILURES + 1)); fi
}
finish() { [ "$TEST_FAILURES" -eq 0 ] || fail "$TEST_FAILURES check(s) failed"; exit 0; }

# A scratch directory removed at exit.
make_scratch() {
        SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/aegis-test.XXXXXX")"
        on_exit "rm -rf '$SCRATCH'"
}

# A free TCP port on 127.0.0.1 (the kernel picks it; tiny race accepted in tests).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# running PID: the process exists and has not exited (kill -0 also succeeds on a zombie, a
# child of the test that exited and was not waited for yet).
running() { local st; st="$(sed -n 's/.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)" && [ -n "$st" ] && [ "$st" != Z ]; }

# Time bounds scale by AEGIS_TIME_FACTOR (an integer, default 1; 10 under valgrind, see
# tests/lib/valgrind.sh), so a bound that holds for the normal build is not raised for
# everyone. scaled N → N × the factor, for a test's own bounds ("exits within 1000 ms").
if [ -z "${AEGIS_TIME_FACTOR:-}" ]; then
        AEGIS_TIME_FACTOR=1
        [ "${AEGIS_VALGRIND:-}" = 1 ] && AEGIS_TIME_FACTOR=10
fi
scaled() { echo $(($1 * AEGIS_TIME_FACTOR)); }

# wait_for SECONDS command... : retry every 0.1 s until the command succeeds, for at most
# SECONDS × AEGIS_TIME_FACTOR.
wait_for() {
        local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 * AEGIS_TIME_FACTOR )); shift
        until "$@" >/dev/null 2>&1; do
                [ $(( $(date +%s%N) / 1000000 )) -lt $deadline ] || return 1
                sleep 0.1
        done
}

# Paths of the built programs.
AEGISD="$top_builddir/aegisd"
AEGIS_NFSD="$top_builddir/aegis-nfsd"
AEGIS_REAPER="$top_builddir/aegis-reaper"
AEGIS_CLI="$top_builddir/aegis"

# With AEGIS_VALGRIND=1 the four above become valgrind wrappers (tests/lib/valgrind.sh).
# shellcheck source=valgrind.sh
. "$AEGIS_TEST_LIB/valgrind.sh"
