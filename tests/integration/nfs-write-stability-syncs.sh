#!/bin/bash
# What aegis-nfsd makes durable, and when, counted with strace on the gateway: an UNSTABLE
# WRITE calls no fsync/fdatasync/syncfs at all; COMMIT calls fdatasync() once; a DATA_SYNC
# WRITE fdatasync() and a FILE_SYNC WRITE fsync(), each before the reply, which names the
# stability it got. A clean stop syncs the volumes (syncfs) and keeps the write verifier;
# but when a volume holding UNSTABLE writes was closed meanwhile (the open-volume limit),
# the clean stop cannot vouch for them and the verifier changes, so clients resend.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
require_cmd strace
nfs_setup
nfs_volume t1 a 4242 4343 0 read-write active
nfs_volume t1 b 4242 4343 0 read-write active
# This first gateway exits traced (its syncfs at the clean stop is counted), and in a
# sanitizer build LeakSanitizer cannot check a traced process: it would fail with a "fatal
# error" instead. The later ones are checked as usual.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" nfsd_start
A="$(nfs_url t1 a)"
B="$(nfs_url t1 b)"
check "a file to write to" nfs_client "$A" write /f start

# trace: strace the gateway's sync calls into $SCRATCH/strace.N (N counts the tracers).
n_trace=0
trace() {
        n_trace=$((n_trace + 1))
        TRACE="$SCRATCH/strace.$n_trace"
        strace -f -e trace=fsync,fdatasync,syncfs -o "$TRACE" -p "$NFS_PID" 2>"$TRACE.err" &
        TRACER=$!
        on_exit "kill $TRACER 2>/dev/null"
        wait_for 20 grep -q attached "$TRACE.err" || fail "strace did not attach: $(cat "$TRACE.err")"
}
calls() { grep -c -E "(^|[ ])$1\(" "$TRACE"; } # calls NAME: how many so far
# settle NAME N: until NAME has been called N times (strace writes a call as it returns).
settle() { wait_for 20 test "$(calls "$1")" -ge "$2"; }

trace
for i in 1 2 3 4 5; do
        assert_eq "UNSTABLE write $i answered UNSTABLE" "OK NFS3_OK committed=unstable" \
                "$(nfs_client "$A" append-raw /f 4096 unstable)"
done
assert_match "COMMIT answers the verifier" "^OK [0-9a-f]{16}$" "$(nfs_client "$A" commit-verf /f)"
settle fdatasync 1
# The COMMIT's fdatasync() is written after anything the WRITEs before it called.
assert_eq "5 UNSTABLE writes + COMMIT: one fdatasync" "1" "$(calls fdatasync)"
assert_eq "5 UNSTABLE writes + COMMIT: no fsync" "0" "$(calls fsync)"
assert_eq "5 UNSTABLE writes + COMMIT: no syncfs" "0" "$(calls syncfs)"

assert_eq "DATA_SYNC write answered DATA_SYNC" "OK NFS3_OK committed=data_sync" \
        "$(nfs_client "$A" append-raw /f 4096 data_sync)"
settle fdatasync 2
assert_eq "DATA_SYNC: fdatasync before the reply" "2" "$(calls fdatasync)"
assert_eq "FILE_SYNC write answered FILE_SYNC" "OK NFS3_OK committed=file_sync" \
        "$(nfs_client "$A" append-raw /f 4096 file_sync)"
settle fsync 1
assert_eq "FILE_SYNC: fsync before the reply" "1" "$(calls fsync)"
assert_eq "nothing else synced" "2 1 0" "$(calls fdatasync) $(calls fsync) $(calls syncfs)"
assert_eq "all bytes arrived" "$((5 + 7 * 4096))" "$(stat -c %s "$NFS_ROOT/t1/a/f")"

# Clean stop: volumes synced, verifier kept.
verf1="$(nfs_client "$A" commit-verf /f)"
nfs_client "$A" append-raw /f 10 unstable >/dev/null
nfsd_stop
wait "$TRACER" 2>/dev/null
check "clean stop: syncfs of the open volume" test "$(calls syncfs)" -ge 1
nfsd_start --max-open-volumes 1
assert_eq "clean stop: verifier kept" "$verf1" "$(nfs_client "$A" commit-verf /f)"

# An UNSTABLE write to a, then b evicts a (one volume open at most): a's writes were never
# synced by us, so the next start must not keep the verifier.
nfs_client "$A" append-raw /f 10 unstable >/dev/null
check "volume b (closes a)" nfs_client "$B" write /g x
nfsd_stop
assert_eq "stop is still clean (exit 0)" "0" "$NFS_EXIT"
check "no clean-shutdown marker" test ! -e "$NFS_STATE/clean-shutdown"
check "the log says why" grep -q "unstable writes was closed" "$SCRATCH/nfsd.log"
nfsd_start --max-open-volumes 1
verf3="$(nfs_client "$A" commit-verf /f)"
assert_match "verifier answered" "^OK [0-9a-f]{16}$" "$verf3"
check "verifier changed: clients resend what a's COMMIT cannot vouch for" test "$verf1" != "$verf3"
finish
