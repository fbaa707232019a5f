#!/bin/bash
# fuzz-parsers.sh — runs the libFuzzer targets for the manifest (FUZZ_SECONDS, default 30)
# and configuration (FUZZ_CONFIG_SECONDS, default 15) parsers, JSON request bodies and HTTP
# request framing (FUZZ_API_SECONDS each, default 15) under ASan+UBSan, starting
# from their seed corpora. Uses fuzz/fuzz-* when configure built them (--enable-fuzzing
# CC=clang), else builds them here with clang straight from the sources. A failing input is
# kept in $top_builddir/fuzz/artifacts/ (replay: fuzz-TARGET FILE).
source "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/common.sh"

require_cmd clang pkg-config
make_scratch
scratch="$SCRATCH"

# run_target NAME SECONDS SOURCES...
run_target() {
        local name=$1 secs=$2 fuzzer="$top_builddir/fuzz/fuzz-$1" runs a
        shift 2
        if [ ! -x "$fuzzer" ]; then
                fuzzer="$scratch/fuzz-$name"
                # shellcheck disable=SC2046
                if ! clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
                        -include "$top_builddir/build-config.h" -I"$top_srcdir/src/shared" -I"$top_srcdir/src/aegisd" \
                        -DSYSCONFDIR=\"/etc\" -DLOCALSTATEDIR=\"/var\" -DPKGDATADIR=\"/usr/share/aegis\" \
                        "$top_srcdir/fuzz/$name.c" "$@" \
                        $(pkg-config --cflags --libs yaml-0.1 json-c libsystemd libmicrohttpd) -lm -o "$fuzzer" \
                        2>"$scratch/build-$name.log"; then
                        cat "$scratch/build-$name.log" >&2
                        if grep -q -E "libclang_rt|fuzzer" "$scratch/build-$name.log"; then
                                skip_or_fail "clang cannot link libFuzzer (apt-get install clang libclang-rt-14-dev)"
                        fi
                        fail "building fuzz-$name failed"
                fi
        fi
        mkdir -p "$scratch/corpus-$name" "$scratch/artifacts-$name"
        note "fuzzing $name for ${secs}s"
        # The seed corpus is read-only input: new units go to the scratch corpus (first dir).
        if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
                -artifact_prefix="$scratch/artifacts-$name/" -print_final_stats=1 \
                "$scratch/corpus-$name" "$top_srcdir/fuzz/corpus/$name" >"$scratch/fuzz-$name.log" 2>&1; then
                tail -n 60 "$scratch/fuzz-$name.log" >&2
                mkdir -p "$top_builddir/fuzz/artifacts"
                for a in "$scratch/artifacts-$name"/*; do
                        [ -f "$a" ] || continue
                        cp "$a" "$top_builddir/fuzz/artifacts/"
                        note "failing input kept as $top_builddir/fuzz/artifacts/$(basename "$a")"
                done
                fail "the $name fuzzer found a failure"
        fi
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/fuzz-$name.log")
        note "$name: executed ${runs:-?} inputs without a failure"
        [ "${runs:-0}" -gt 100 ] || fail "the $name fuzzer ran too few inputs (${runs:-0})"
}

core=("$top_srcdir"/src/shared/{util,error,yaml-tree}.c)
run_target manifest "${FUZZ_SECONDS:-30}" "${core[@]}" "$top_srcdir/src/shared/manifest.c"
run_target config "${FUZZ_CONFIG_SECONDS:-15}" "${core[@]}" "$top_srcdir"/src/shared/{log,config}.c
# Request bodies (JSON → manifest) and HTTP framing (raw bytes → aegisd's HTTP layer).
run_target api-body "${FUZZ_API_SECONDS:-15}" "${core[@]}" "$top_srcdir"/src/shared/{json-body,manifest}.c
run_target http-framing "${FUZZ_API_SECONDS:-15}" "$top_srcdir"/src/shared/{util,error,log,json-body,metrics}.c \
        "$top_srcdir/src/aegisd/http.c"
finish
