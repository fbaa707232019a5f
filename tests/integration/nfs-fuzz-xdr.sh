#!/bin/bash
# nfs-fuzz-xdr.sh — runs the fuzz/nfs-xdr libFuzzer target (the gateway's whole request
# path: RPC header, auth, dispatch, XDR decoding, NFSv3/MOUNT handlers on a scratch volume)
# for FUZZ_SECONDS (default 30) under ASan+UBSan over the seed corpus. Uses fuzz/fuzz-nfs-xdr
# when configure built it (--enable-fuzzing), else builds it here with clang.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/common.sh"

require_cmd clang pkg-config
make_scratch
fuzzer="$top_builddir/fuzz/fuzz-nfs-xdr"
if [ ! -x "$fuzzer" ]; then
        fuzzer="$SCRATCH/fuzz-nfs-xdr"
        n="$top_srcdir/src/nfsd"
        # shellcheck disable=SC2046
        if ! clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
                -include "$top_builddir/build-config.h" -I"$top_srcdir/src/shared" -I"$n" \
                "$top_srcdir/fuzz/nfs-xdr.c" "$top_srcdir"/src/shared/{util,error,log}.c \
                "$n"/{sha256,nfs-handle,nfs-clients,nfs-exports,nfs-fdcache,nfs-volume,nfs-metrics,nfs-gateway,nfs-rpc,nfs3-proc,nfs3-readdir,mount3-proc}.c \
                "$n"/nfs3_xdr.c "$n"/mount3_xdr.c "$top_srcdir"/src/shared/{store,store-sqlite,store-pg,pq-dlopen}.c -Wno-unused-variable \
                $(pkg-config --cflags --libs libtirpc libsystemd sqlite3 libpq) -lm -o "$fuzzer" 2>"$SCRATCH/build.log"; then
                cat "$SCRATCH/build.log" >&2
                if grep -q -E "libclang_rt|fuzzer" "$SCRATCH/build.log"; then
                        skip_or_fail "clang cannot link libFuzzer (apt-get install libclang-rt-14-dev or clang)"
                fi
                fail "building the fuzzer failed"
        fi
fi
mkdir -p "$SCRATCH/corpus" "$SCRATCH/artifacts"
secs="${FUZZ_SECONDS:-30}"
note "fuzzing the NFS request path for ${secs}s"
if ! TMPDIR="$SCRATCH" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -artifact_prefix="$SCRATCH/artifacts/" -print_final_stats=1 \
        "$SCRATCH/corpus" "$top_srcdir/fuzz/corpus/nfs-xdr" >"$SCRATCH/fuzz.log" 2>&1; then
        tail -n 60 "$SCRATCH/fuzz.log" >&2
        mkdir -p "$top_builddir/fuzz/artifacts"
        for a in "$SCRATCH"/artifacts/*; do
                [ -f "$a" ] || continue
                cp "$a" "$top_builddir/fuzz/artifacts/"
                note "failing input kept as $top_builddir/fuzz/artifacts/$(basename "$a") (replay: fuzz-nfs-xdr FILE)"
        done
        fail "the fuzzer found a failure"
fi
note "$(grep -E '^stat::number_of_executed_units' "$SCRATCH/fuzz.log" | awk '{ print "executed " $2 " inputs without a failure" }')"
exit 0
