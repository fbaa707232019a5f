# tests/lib/valgrind.sh — with AEGIS_VALGRIND=1, the programs a test starts ($AEGISD,
# $AEGIS_NFSD, $AEGIS_REAPER, $AEGIS_CLI) run under valgrind's memcheck, and the test fails
# if any of them reported an error or a definite/indirect leak. Sourced by common.sh; does
# nothing otherwise. `make check-valgrind` sets AEGIS_VALGRIND=1 (see tests/tests.mk).
#
# How: each of the four variables is pointed at a small generated wrapper in
# $VALGRIND_DIR/bin that execs valgrind on the real program, so the PID a test holds is the
# program's own (signals, LISTEN_PID and `wait` behave as without valgrind). Each process
# writes $VALGRIND_DIR/<program>.<pid>.log; $VALGRIND_DIR is
# $top_builddir/valgrind-logs/<test>/, emptied when the test starts and kept afterwards.
# At exit (after the test's own cleanups have stopped what it started), valgrind_check reads
# every log: a non-zero "ERROR SUMMARY" (leaks of the kinds above count as errors) prints
# the report and turns a passing test into a failure. A process still running is waited for
# (its exit-time leak check is still being written); one killed with SIGKILL (a crash test,
# on purpose) leaves no summary and is only noted.
#
# AEGIS_TIME_FACTOR (common.sh: 10 under valgrind unless set, else 1) scales wait_for and the
# tests' explicit time bounds (`scaled` in common.sh): valgrind runs the programs 5-30x slower.
# Third-party libraries' one-time allocations are suppressed in tests/valgrind.supp.

VALGRIND_OPTS=(--leak-check=full --show-leak-kinds=definite,indirect
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-fds=no
        --num-callers=40 --suppressions="$top_srcdir/tests/valgrind.supp")

valgrind_setup() {
        command -v valgrind >/dev/null 2>&1 || skip_or_fail "AEGIS_VALGRIND=1 needs valgrind"
        VALGRIND_DIR="$top_builddir/valgrind-logs/${TEST_NAME%.sh}"
        rm -rf "$VALGRIND_DIR"
        mkdir -p "$VALGRIND_DIR/bin"
        local var real wrapper
        for var in AEGISD AEGIS_NFSD AEGIS_REAPER AEGIS_CLI; do
                real="${!var}"
                wrapper="$VALGRIND_DIR/bin/$(basename "$real")"
                {
                        printf '#!/bin/sh\n# %s under valgrind (tests/lib/valgrind.sh)\n' "$real"
                        printf 'exec valgrind'
                        printf ' %q' "${VALGRIND_OPTS[@]}" "--log-file=$VALGRIND_DIR/$(basename "$real").%p.log" "$real"
                        printf ' "$@"\n'
                } >"$wrapper"
                chmod +x "$wrapper"
                printf -v "$var" '%s' "$wrapper"
        done
}

# valgrind_check: 0 when no log holds an error; prints each failing report to stderr.
valgrind_check() {
        local log pid n bad=0 checked=0 unfinished=0 deadline
        for log in "$VALGRIND_DIR"/*.log; do
                [ -e "$log" ] || continue
                pid="${log%.log}"
                pid="${pid##*.}"
                # Still running (a cleanup sent SIGTERM without waiting): give its exit-time
                # leak check the time it needs.
                deadline=$(($(date +%s) + 6 * AEGIS_TIME_FACTOR))
                while running "$pid" && ! grep -q 'ERROR SUMMARY:' "$log" &&
                        [ "$(date +%s)" -lt "$deadline" ]; do
                        sleep 0.1
                done
                n="$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)"
                if [ -z "$n" ]; then
                        unfinished=$((unfinished + 1))
                        note "valgrind: no summary in ${log##*/} (killed, or still running)"
                        continue
                fi
                checked=$((checked + 1))
                if [ "$n" -gt 0 ]; then
                        bad=$((bad + 1))
                        printf 'valgrind: %s errors in %s:\n' "$n" "$log" >&2
                        sed 's/^/  /' "$log" >&2
                fi
        done
        note "valgrind: $checked process(es) checked, $bad with errors, $unfinished without a summary; logs in $VALGRIND_DIR"
        [ "$bad" -eq 0 ]
}

if [ "${AEGIS_VALGRIND:-}" = 1 ]; then
        valgrind_setup
fi
