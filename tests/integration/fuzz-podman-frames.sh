#!/bin/bash
# fuzz-podman-frames.sh — runs the Podman driver's libFuzzer target (log frame demux, version,
# stats and event JSON) for a bounded time (FUZZ_SECONDS, default 20) under ASan+UBSan over
# the seed corpus. Uses fuzz/fuzz-podman-frames when configure built it (--enable-fuzzing),
# else builds it here with clang straight from the sources.
source "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/common.sh"

require_cmd clang pkg-config
make_scratch
scratch="$SCRATCH"
fuzzer="$top_builddir/fuzz/fuzz-podman-frames"
if [ ! -x "$fuzzer" ]; then
        fuzzer="$scratch/fuzz-podman-frames"
        # shellcheck disable=SC2046
        if ! clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
                -include "$top_builddir/build-config.h" -I"$top_srcdir/src/shared" \
                "$top_srcdir/fuzz/podman-frames.c" "$top_srcdir"/src/shared/{util,error}.c "$top_srcdir"/src/shared/podman-*.c \
                $(pkg-config --cflags --libs json-c libsystemd libcurl) -lm -o "$fuzzer" 2>"$scratch/build.log"; then
                if grep -q -E "libclang_rt|fuzzer" "$scratch/build.log"; then
                        cat "$scratch/build.log" >&2
                        skip_or_fail "clang cannot link libFuzzer (apt-get install libclang-rt-14-dev or clang)"
                fi
                cat "$scratch/build.log" >&2
                fail "building the fuzzer failed"
        fi
fi
mkdir -p "$scratch/corpus" "$scratch/artifacts"
secs="${FUZZ_SECONDS:-20}"
note "fuzzing the podman frame demuxer and JSON parsers for ${secs}s"
if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$scratch/artifacts/" -print_final_stats=1 \
        "$scratch/corpus" "$top_srcdir/fuzz/corpus/podman-frames" >"$scratch/fuzz.log" 2>&1; then
        tail -n 60 "$scratch/fuzz.log" >&2
        mkdir -p "$top_builddir/fuzz/artifacts"
        for a in "$scratch"/artifacts/*; do
                [ -f "$a" ] || continue
                cp "$a" "$top_builddir/fuzz/artifacts/"
                note "failing input kept as $top_builddir/fuzz/artifacts/$(basename "$a") (replay: fuzz-podman-frames FILE)"
        done
        fail "the fuzzer found a failure"
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/fuzz.log")
note "executed ${runs:-?} inputs without a failure"
[ "${runs:-0}" -gt 100 ] || fail "fuzzer ran too few inputs (${runs:-0})"
finish
