#!/bin/bash
# File handles: an altered handle (any byte, including the volume part) is BADHANDLE; a
# deleted file's handle is STALE; a deactivated volume's handles are STALE; a handle of
# another volume cannot be used as a RENAME target (XDEV). Handles survive a restart of the
# gateway; the write verifier survives a clean restart and changes after a crash.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
nfs_setup
nfs_volume t1 a 4242 4343 0 read-write active
nfs_volume t2 b 5000 5000 0 read-write active
mkdir -p "$NFS_ROOT/t1/a/sub/deeper"
echo x >"$NFS_ROOT/t1/a/sub/deeper/file"
nfsd_start
A="$(nfs_url t1 a)"
B="$(nfs_url t2 b)"

check "save a deep file's handle" nfs_client "$A" fh /sub/deeper/file "$SCRATCH/fh-file"
assert_eq "handle is 40 bytes (≤ 64)" "80" "$(tr -d '\n' <"$SCRATCH/fh-file" | wc -c)"
assert_eq "handle works" "OK NFS3_OK" "$(nfs_client "$A" getattr-fh "$SCRATCH/fh-file")"
for b in 0 1 5 12 20 24 39; do
        assert_eq "byte $b altered → BADHANDLE" "ERR NFS3ERR_BADHANDLE" "$(nfs_client "$A" getattr-fh "$SCRATCH/fh-file" flip-byte $b)"
done
echo "0102" >"$SCRATCH/fh-short"
assert_eq "short handle → BADHANDLE" "ERR NFS3ERR_BADHANDLE" "$(nfs_client "$A" getattr-fh "$SCRATCH/fh-short")"

check "write a file to delete" nfs_client "$A" write /doomed bye
check "save its handle" nfs_client "$A" fh /doomed "$SCRATCH/fh-doomed"
check "delete it" nfs_client "$A" unlink /doomed
assert_eq "deleted file → STALE" "ERR NFS3ERR_STALE" "$(nfs_client "$A" getattr-fh "$SCRATCH/fh-doomed")"
echo again >"$NFS_ROOT/t1/a/doomed"
assert_eq "same name recreated is another file → still STALE" "ERR NFS3ERR_STALE" "$(nfs_client "$A" getattr-fh "$SCRATCH/fh-doomed")"

check "save volume b's root handle" nfs_client "$B" root-fh "$SCRATCH/fh-broot"
check "a file to move" nfs_client "$A" write /mover m
assert_eq "RENAME into another volume's directory → XDEV" "ERR NFS3ERR_XDEV" "$(nfs_client "$A" rename-into "$SCRATCH/fh-broot" mover)"
check "file stayed in volume a" test -f "$NFS_ROOT/t1/a/mover" -a ! -e "$NFS_ROOT/t2/b/mover"

# Restart: same handles, index rebuilt by scanning.
verf1="$(od -An -tx1 "$NFS_STATE/write-verifier")"
nfsd_stop
assert_eq "clean stop exits 0" "0" "$NFS_EXIT"
check "clean stop leaves the marker" test -f "$NFS_STATE/clean-shutdown"
nfsd_start
assert_eq "deep handle works after a restart" "OK NFS3_OK" "$(nfs_client "$A" getattr-fh "$SCRATCH/fh-file")"
assert_eq "write verifier kept across a clean restart" "$verf1" "$(od -An -tx1 "$NFS_STATE/write-verifier")"
nfsd_kill
nfsd_start
check "write verifier changed after a crash" test "$verf1" != "$(od -An -tx1 "$NFS_STATE/write-verifier")"
assert_eq "handle still works after a crash" "OK NFS3_OK" "$(nfs_client "$A" getattr-fh "$SCRATCH/fh-file")"

# Deactivating the volume in the registry stales its handles at once.
nfs_volume t1 a 4242 4343 0 read-write inactive
assert_eq "deactivated volume's handle → STALE" "ERR NFS3ERR_STALE" "$(nfs_client "$B" getattr-fh "$SCRATCH/fh-file")"
finish
