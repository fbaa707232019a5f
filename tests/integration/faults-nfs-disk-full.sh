#!/bin/bash
# Fault injection (issue 9): disk full under a volume. Volume t1/full lives on a 1 MiB tmpfs
# (its quota, 64 MiB, is far above that, so the file system runs out first); t1/other, on
# the same gateway, lives on the ordinary disk. Through the real NFS client (libnfs):
#  - writes to t1/full succeed until the tmpfs is full, then get NFS3ERR_NOSPC (counted as
#    result="nospc", not as a quota denial);
#  - a refused write changes nothing: no partial tail is left, and the file written before
#    the disk filled keeps its exact bytes;
#  - t1/other reads and writes normally while t1/full is full, also while writes to t1/full
#    are being refused at the same time, and after the space is freed both volumes write again.
# The tmpfs is mounted in a private mount namespace (as root; otherwise in a user namespace),
# so nothing is left mounted whatever happens.
if [ "${AEGIS_DISK_FULL_NS:-}" != 1 ]; then
        export AEGIS_DISK_FULL_NS=1
        if [ "$(id -u)" = 0 ]; then
                unshare --mount --propagation private true 2>/dev/null &&
                        exec unshare --mount --propagation private "$BASH" "$0" "$@"
        else
                unshare --user --map-root-user --mount true 2>/dev/null &&
                        exec unshare --user --map-root-user --mount "$BASH" "$0" "$@"
        fi
        AEGIS_DISK_FULL_NS=unavailable
fi
. "$AEGIS_TEST_LIB/nfs.sh"
[ "$AEGIS_DISK_FULL_NS" = 1 ] || skip_or_fail "cannot make a private mount namespace (unshare)"
nfs_require
require_cmd mount umount md5sum
nfs_setup
mkdir -p "$NFS_ROOT/t1/full"
mount -t tmpfs -o size=1m,mode=0755 aegis-test-full "$NFS_ROOT/t1/full" || fail "cannot mount a 1 MiB tmpfs"
on_exit "umount -l '$NFS_ROOT/t1/full'"
# Real root: the volumes' own owner; in a user namespace only uid 0 is mapped.
if [ -z "$(awk '$1 == 0 && $2 == 0' /proc/self/uid_map)" ]; then uid=0 gid=0; else uid=4242 gid=4343; fi
nfs_volume t1 full "$uid" "$gid" 64Mi read-write active
nfs_volume t1 other "$uid" "$gid" 64Mi read-write active
nfsd_start
F="$(nfs_url t1 full)"
O="$(nfs_url t1 other)"

check "a file written before the disk fills" nfs_client "$F" append-bytes /keep 300000
keep_sum="$(md5sum <"$NFS_ROOT/t1/full/keep")"
check "the other volume writes" nfs_client "$O" write /before "before the disk filled"

# Fill the tmpfs 100 kB at a time until a write is refused, then to the last page 4 KiB at a
# time: the file system is full.
out="" chunks=0 pages=0
for _ in $(seq 30); do
        out="$(nfs_client "$F" append-raw /filler 100000)" || break
        chunks=$((chunks + 1))
done
note "the tmpfs took $chunks × 100 kB; then: $out"
for _ in $(seq 30); do
        out="$(nfs_client "$F" append-raw /filler 4096)" || break
        pages=$((pages + 1))
done
note "then $pages × 4 KiB; then: $out"
filled=$((chunks * 100000 + pages * 4096))
assert_match "a write to the full file system gets NFS3ERR_NOSPC" 'NOSPC' "$out"
check "the file system is really full (≥ 6 chunks accepted, the quota is 64 MiB)" test "$chunks" -ge 6 -a "$pages" -lt 30
assert_eq "the refused write left no partial tail" "$filled" "$(stat -c %s "$NFS_ROOT/t1/full/filler")"
assert_eq "the file written before is intact" "$keep_sum" "$(md5sum <"$NFS_ROOT/t1/full/keep")"
assert_eq "the gateway answered WRITE with nospc twice" 2 \
        "$(nfs_metric 'aegis_nfs_operations_total{procedure="write",result="nospc"}')"
assert_eq "counted as a full file system" 2 "$(nfs_metric aegis_nfs_nospc_total)"
assert_eq "not counted as a quota denial" 0 "$(nfs_metric aegis_nfs_quota_denials_total)"
out="$(nfs_client "$F" append-raw /new 25)"
assert_match "writing a new file on the full disk gets NFS3ERR_NOSPC" 'NOSPC' "$out"
assert_eq "the refused write left the new file empty" 0 "$(stat -c %s "$NFS_ROOT/t1/full/new" 2>/dev/null || echo 0)"
assert_eq "the full volume still reads" "OK $(head -c 300000 /dev/zero | tr '\0' q)" "$(nfs_client "$F" cat /keep)"

# While the disk is full: writes to the full volume keep being refused in the background,
# and the other volume serves reads and writes meanwhile.
(for i in $(seq 10); do nfs_client "$F" append-raw /filler 4096 >>"$SCRATCH/refused.log"; done) &
hammer=$!
on_exit "kill $hammer 2>/dev/null; wait $hammer 2>/dev/null"
other_ok=0
for i in $(seq 10); do
        nfs_client "$O" append-bytes /during 4096 >/dev/null && other_ok=$((other_ok + 1))
done
check "the other volume reads while the full one refuses writes" nfs_client "$O" cat /before
wait "$hammer"
assert_eq "10 writes to the other volume during the refusals" 10 "$other_ok"
assert_eq "the other volume holds all of them" 40960 "$(stat -c %s "$NFS_ROOT/t1/other/during")"
assert_eq "every write to the full volume was refused" 10 "$(grep -c NOSPC "$SCRATCH/refused.log")"
assert_eq "still no partial tail" "$filled" "$(stat -c %s "$NFS_ROOT/t1/full/filler")"
check "the gateway is still running" nfsd_alive

# After the space is freed, both volumes write again; nothing was lost on either.
check "freeing space on the full volume" nfs_client "$F" unlink /filler
check "the full volume writes again" nfs_client "$F" append-bytes /after 100000
check "the other volume writes after" nfs_client "$O" write /after "after the disk filled"
assert_eq "the first file is still intact" "$keep_sum" "$(md5sum <"$NFS_ROOT/t1/full/keep")"
assert_eq "the other volume's files are intact" "OK before the disk filled" "$(nfs_client "$O" cat /before)"
finish
