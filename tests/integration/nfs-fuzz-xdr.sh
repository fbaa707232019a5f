#!/bin/bash
# nfs-fuzz-xdr.sh — runs the fuzz/nfs-xdr libFuzzer target (the gateway's whole request
# path: RPC header, auth, dispatch, XDR decoding, NFSv3/MOUNT handlers on a scratch volume)
# for FUZZ_SECONDS (default 30) under ASan+UBSan over the seed corpus. Builds fuzz/fuzz-nfs-xdr
# through make with clang (tests/lib/fuzz.sh), whether or not configure had --enable-fuzzing.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/common.sh"
. "$AEGIS_TEST_LIB/fuzz.sh"

require_cmd clang make
make_scratch
build_fuzzer nfs-xdr
secs="${FUZZ_SECONDS:-30}"
note "fuzzing the NFS request path for ${secs}s"
run_fuzzer nfs-xdr "$secs" 8192
exit 0
