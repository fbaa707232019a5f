#!/bin/bash
# fuzz-podman-frames.sh — runs the Podman driver's libFuzzer target (log frame demux, version,
# stats and event JSON) for a bounded time (FUZZ_SECONDS, default 20) under ASan+UBSan over
# the seed corpus. Builds fuzz/fuzz-podman-frames through make with clang (tests/lib/fuzz.sh),
# whether or not configure had --enable-fuzzing.
source "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/common.sh"
source "$AEGIS_TEST_LIB/fuzz.sh"

require_cmd clang make
make_scratch
build_fuzzer podman-frames
secs="${FUZZ_SECONDS:-20}"
note "fuzzing the podman frame demuxer and JSON parsers for ${secs}s"
run_fuzzer podman-frames "$secs" 65536 100
finish
