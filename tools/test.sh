#!/bin/bash
# tools/test.sh — the whole test suite from a fresh checkout: installs what is missing
# (tools/deps.sh, as root), builds with warnings as errors, runs `make check`, then the
# suite again under ASan+UBSan, then the daemons' integration tests under valgrind
# (`make check-valgrind` in the normal build; AEGIS_NO_VALGRIND=1 leaves it out); in a git
# checkout, first the commit subjects (tools/check-commits.sh). Prints
# "N passed, N failed" last, the three stages added up; any failure or skip (in CI) is a
# non-zero exit.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"
jobs="$(nproc)"

[ "${AEGIS_SKIP_DEPS:-}" = 1 ] || "$top/tools/deps.sh"

[ -x configure ] || ./autogen.sh >/dev/null

# Commit subjects (HACKING.md, "Commits"): only in a git checkout (CI clones; a tarball has
# no history). A failure counts as one failed test.
commit_fail=0
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
        "$top/tools/check-commits.sh" -C "$top" || commit_fail=1
fi

summary() { # summary DIR [LOG] → "pass fail skip"
        local log="$1/${2:-test-suite.log}"
        [ -f "$log" ] || { echo "0 1 0"; return; }
        awk '/^# PASS:/{p=$3} /^# FAIL:/{f=$3} /^# XPASS:/{f+=$3} /^# ERROR:/{f+=$3} /^# SKIP:/{s=$3} END{print p+0, f+0, s+0}' "$log"
}

# print_failures LOGFILE: each failed test's name, then the first of its failed checks
# ("not ok", a check-unit failure, a sanitizer report) and the last lines of its log, so
# a CI run that shows only this output still says why.
print_failures() {
        local t log
        [ -f "$1" ] || return 0
        grep -E '^(FAIL|ERROR|SKIP|XPASS):' "$1" | sed 's/^/  /' || true
        for t in $(sed -n 's/^\(FAIL\|ERROR\|XPASS\): //p' "$1"); do
                log="$(dirname "$1")/${t%.sh}.log"
                [ -f "$log" ] || continue
                echo "  --- $t: first failures, then the log's end"
                grep -E -m 8 '^not ok|:[0-9]+:[EF]:|ERROR: AddressSanitizer|runtime error:|^FAIL' "$log" | cut -c1-300 | sed 's/^/    /' || true
                tail -n 12 "$log" | cut -c1-300 | sed 's/^/    | /'
        done
}

run_suite() { # run_suite BUILDDIR CHECK-TARGET [configure args...]
        local dir="$1" target="$2"; shift 2
        mkdir -p "$dir"
        (cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs" && make -s -j"$jobs" "$target") || true
        print_failures "$dir/test-suite.log"
}

run_suite "$top/build" check
read -r pass fail skip < <(summary "$top/build")

if [ "${AEGIS_NO_SANITIZERS:-}" != 1 ]; then
        run_suite "$top/build-asan" check-sanitizers --enable-sanitizers
        read -r p2 f2 s2 < <(summary "$top/build-asan")
        pass=$((pass + p2)); fail=$((fail + f2)); skip=$((skip + s2))
fi

# Valgrind: in the normal build configured above (tests/tests.mk lists the tests); its
# summary is build/test-suite-valgrind.log, so make check's test-suite.log is kept.
if [ "${AEGIS_NO_VALGRIND:-}" != 1 ]; then
        rm -f "$top/build/test-suite-valgrind.log"
        (cd "$top/build" && make -s -j"$jobs" check-valgrind) || true
        print_failures "$top/build/test-suite-valgrind.log"
        read -r p3 f3 s3 < <(summary "$top/build" test-suite-valgrind.log)
        pass=$((pass + p3)); fail=$((fail + f3)); skip=$((skip + s3))
fi

if [ "$commit_fail" -ne 0 ]; then
        echo "  FAIL: tools/check-commits.sh" >&2
        fail=$((fail + 1))
fi
if [ "${CI:-}" = true ] && [ "$skip" -gt 0 ]; then
        echo "$skip test(s) skipped: in CI every dependency must be present" >&2
        fail=$((fail + skip))
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
