#!/bin/bash
# fuzz-parsers.sh — runs the libFuzzer targets for the manifest (FUZZ_SECONDS, default 30)
# and configuration (FUZZ_CONFIG_SECONDS, default 15) parsers, JSON request bodies and HTTP
# request framing (FUZZ_API_SECONDS each, default 15) under ASan+UBSan, starting
# from their seed corpora. Builds fuzz/fuzz-* through make with clang (tests/lib/fuzz.sh),
# whether or not configure had --enable-fuzzing. A failing input is kept in
# $top_builddir/fuzz/artifacts/ (replay: fuzz-TARGET FILE).
source "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/common.sh"
source "$AEGIS_TEST_LIB/fuzz.sh"

require_cmd clang make
make_scratch

# fuzz_target NAME SECONDS
fuzz_target() {
        build_fuzzer "$1"
        note "fuzzing $1 for ${2}s"
        run_fuzzer "$1" "$2" 65536 100
}

fuzz_target manifest "${FUZZ_SECONDS:-30}"
fuzz_target config "${FUZZ_CONFIG_SECONDS:-15}"
# Request bodies (JSON → manifest) and HTTP framing (raw bytes → aegisd's HTTP layer).
fuzz_target api-body "${FUZZ_API_SECONDS:-15}"
fuzz_target http-framing "${FUZZ_API_SECONDS:-15}"
# The egress proxy's requests, CONNECT targets and ClientHellos (issue 21).
fuzz_target egress-parse "${FUZZ_API_SECONDS:-15}"
finish
