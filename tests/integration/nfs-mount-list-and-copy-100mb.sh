#!/bin/bash
# Mount and list with nfs-ls; write 100 MB with nfs-cp, read it back and compare; the
# backing file has exactly those bytes and belongs to the volume's uid:gid; only registered
# active volumes mount (inactive → MNT3ERR_ACCES, unknown or malformed → MNT3ERR_NOENT).
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
nfs_setup
nfs_volume t1 vol1 4242 4343 0 read-write active
nfs_volume t1 off 4242 4343 0 read-write inactive
echo "hello from the host" >"$NFS_ROOT/t1/vol1/hello.txt"
nfsd_start

out="$(nfs-ls "$(nfs_url t1 vol1)" 2>&1)"
assert_match "nfs-ls lists the volume's file" 'hello\.txt' "$out"
assert_match "listing reports the volume owner" '4242 +4343' "$out"
assert_eq "nfs-cat reads the file" "hello from the host" "$(nfs-cat "$(nfs_file_url t1 vol1 /hello.txt)")"

head -c 100000000 /dev/urandom >"$SCRATCH/100mb"
check "nfs-cp writes 100 MB" nfs-cp "$SCRATCH/100mb" "$(nfs_file_url t1 vol1 /100mb)"
check "backing file has the same bytes" cmp "$SCRATCH/100mb" "$NFS_ROOT/t1/vol1/100mb"
check "nfs-cp reads 100 MB back" nfs-cp "$(nfs_file_url t1 vol1 /100mb)" "$SCRATCH/100mb.back"
check "read-back bytes are identical" cmp "$SCRATCH/100mb" "$SCRATCH/100mb.back"
assert_eq "created file is owned by the volume's uid:gid on disk" "4242:4343" "$(stat -c %u:%g "$NFS_ROOT/t1/vol1/100mb")"
assert_eq "bytes written are counted" "100000000" "$(nfs_metric aegis_nfs_bytes_written_total)"

out="$(nfs-ls "$(nfs_url t1 off)" 2>&1)"
assert_match "inactive volume is refused with MNT3ERR_ACCES" 'MNT3ERR_ACCES' "$out"
out="$(nfs-ls "$(nfs_url t1 nope)" 2>&1)"
assert_match "unknown volume is refused with MNT3ERR_NOENT" 'MNT3ERR_NOENT' "$out"
out="$(nfs-ls "nfs://127.0.0.1/t1/../t1/vol1?version=3&nfsport=$NFS_PORT&mountport=$NFS_PORT" 2>&1)"
assert_match "a '..' export path does not mount" 'MNT3ERR_NOENT|failed' "$out"
out="$(nfs_client "$(nfs_url t1 vol1)" stat /hello.txt)"
assert_match "GETATTR squashes to the volume owner" 'uid=4242 gid=4343' "$out"
check "gateway still running" nfsd_alive
finish
