# tests/lib/fuzz.sh — builds and runs a libFuzzer target of fuzz/fuzz.mk, for the fuzz tests.
# Needs common.sh and make_scratch.
#
# build_fuzzer NAME: builds fuzz/fuzz-NAME through make (`make fuzz-programs`: clang with
# libFuzzer, ASan and UBSan, also where configure ran without --enable-fuzzing), so its sources
# are listed in fuzz/fuzz.mk only; sets $fuzzer to the binary.
build_fuzzer() {
        local name=$1 log="$SCRATCH/build-$1.log"
        fuzzer="$top_builddir/fuzz/fuzz-$name"
        # The test runs under make check, whose jobserver this make cannot reach: a fresh make.
        if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" fuzz-programs \
                FUZZERS="fuzz/fuzz-$name" >"$log" 2>&1; then
                cat "$log" >&2
                if grep -q -E "libclang_rt|fuzzer" "$log"; then
                        skip_or_fail "clang cannot link libFuzzer (apt-get install clang libclang-rt-14-dev)"
                fi
                fail "building fuzz-$name failed"
        fi
}

# run_fuzzer NAME SECONDS MAX_LEN [MIN_RUNS]: runs $fuzzer (build_fuzzer NAME) for SECONDS from the
# seed corpus fuzz/corpus/NAME (read-only: new units go to a scratch corpus), inputs up to
# MAX_LEN bytes; fails on a finding, keeping the input in $top_builddir/fuzz/artifacts/, or
# when it executed MIN_RUNS inputs or fewer (where MIN_RUNS is given).
run_fuzzer() {
        local name=$1 secs=$2 max_len=$3 min_runs=${4:-} runs a
        mkdir -p "$SCRATCH/corpus-$name" "$SCRATCH/artifacts-$name"
        if ! TMPDIR="$SCRATCH" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
                -artifact_prefix="$SCRATCH/artifacts-$name/" -print_final_stats=1 \
                "$SCRATCH/corpus-$name" "$top_srcdir/fuzz/corpus/$name" >"$SCRATCH/fuzz-$name.log" 2>&1; then
                tail -n 60 "$SCRATCH/fuzz-$name.log" >&2
                mkdir -p "$top_builddir/fuzz/artifacts"
                for a in "$SCRATCH/artifacts-$name"/*; do
                        [ -f "$a" ] || continue
                        cp "$a" "$top_builddir/fuzz/artifacts/"
                        note "failing input kept as $top_builddir/fuzz/artifacts/$(basename "$a") (replay: fuzz-$name FILE)"
                done
                fail "the $name fuzzer found a failure"
        fi
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$SCRATCH/fuzz-$name.log")
        note "$name: executed ${runs:-?} inputs without a failure"
        [ -z "$min_runs" ] || [ "${runs:-0}" -gt "$min_runs" ] || fail "the $name fuzzer ran too few inputs (${runs:-0})"
}
