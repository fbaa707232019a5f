#!/bin/bash
# Per-volume quota: a write past the limit gets NFS3ERR_DQUOT and changes nothing (the file
# keeps its size and bytes), FSSTAT reports the quota as the size, growth by SETATTR is
# refused too. A read-only volume answers ROFS on every write path and still reads.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
nfs_setup
nfs_volume t1 q 4242 4343 1Mi read-write active
nfs_volume t1 ro 4242 4343 0 read-only active
echo "read me" >"$NFS_ROOT/t1/ro/file"
nfsd_start
Q="$(nfs_url t1 q)"
R="$(nfs_url t1 ro)"

check "write within quota" nfs_client "$Q" append-bytes /f 900000
sum_before="$(md5sum <"$NFS_ROOT/t1/q/f")"
out="$(nfs_client "$Q" append-bytes /f 200000)"
assert_match "write past the quota is refused" '^ERR pwrite' "$out"
assert_eq "file size unchanged after the refused write" "900000" "$(stat -c %s "$NFS_ROOT/t1/q/f")"
assert_eq "file bytes unchanged after the refused write" "$sum_before" "$(md5sum <"$NFS_ROOT/t1/q/f")"
assert_eq "the gateway answered NFS3ERR_DQUOT" "1" "$(nfs_metric 'aegis_nfs_operations_total{procedure="write",result="dquot"}')"
out="$(nfs_client "$Q" truncate /f 2000000)"
assert_match "growing past the quota by SETATTR is refused" 'NFS3ERR_DQUOT' "$out"
assert_eq "size unchanged" "900000" "$(stat -c %s "$NFS_ROOT/t1/q/f")"
head -c 3000000 /dev/urandom >"$SCRATCH/3mb"
nfs-cp "$SCRATCH/3mb" "$(nfs_file_url t1 q /big)" >/dev/null 2>&1
size="$(stat -c %s "$NFS_ROOT/t1/q/big" 2>/dev/null || echo 0)"
[ "$size" -le 1048576 ] && echo "ok - nfs-cp of 3 MB stops at the quota ($size bytes kept)" ||
        { echo "not ok - quota exceeded on disk: $size"; TEST_FAILURES=$((TEST_FAILURES + 1)); }
out="$(nfs_client "$Q" statvfs)"
assert_match "FSSTAT reports the quota as the total size" 'total=1048576 ' "$out"
check "freeing space makes room again" nfs_client "$Q" unlink /f
check "write after freeing space" nfs_client "$Q" append-bytes /g 500000
[ "$(nfs_metric aegis_nfs_quota_denials_total)" -ge 2 ] && echo "ok - quota denials counted" ||
        { echo "not ok - quota denials not counted"; TEST_FAILURES=$((TEST_FAILURES + 1)); }

assert_eq "read-only volume still reads" "OK read me" "$(nfs_client "$R" cat /file)"
for op in "write /new x" "append-bytes /file 10" "truncate /file 0" "unlink /file" "mkdir /d" \
        "symlink file /s" "link /file /l" "rename /file /moved" "rmdir /file"; do
        # shellcheck disable=SC2086
        out="$(nfs_client "$R" $op)"
        assert_match "read-only volume refuses: $op" 'ROFS|rc=-30' "$out"
done
assert_eq "read-only file untouched" "read me" "$(cat "$NFS_ROOT/t1/ro/file")"
assert_eq "nothing created on the read-only volume" "file" "$(ls "$NFS_ROOT/t1/ro")"
finish
