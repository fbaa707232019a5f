#!/bin/bash
# READDIRPLUS over 10,000 entries: libnfs pages through the directory with cookies and
# cookie verifiers and sees every entry exactly once, each with squashed attributes; the
# gateway restarted in between still serves the same handles (index rebuilt by scan).
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
nfs_setup
nfs_volume t1 big 4242 4343 0 read-write active
mkdir -p "$NFS_ROOT/t1/big/many"
# Files made on the host side (as the container in bind mode would): 9,000 of them...
(cd "$NFS_ROOT/t1/big/many" && seq -f 'h%05g' 0 8999 | xargs touch)
nfsd_start
U="$(nfs_url t1 big)"
# ... and 1,000 more through the gateway.
check "create 1,000 files over NFS" nfs_client "$U" create-many /many 1000
assert_eq "10,000 entries on disk" "10000" "$(find "$NFS_ROOT/t1/big/many" -type f | wc -l)"
out="$(EXPECT_UID=4242 nfs_client "$U" readdir-count /many)"
assert_eq "READDIRPLUS returns all 10,000 entries, all owned by the volume uid" "OK 10000 0" "$out"
calls="$(nfs_metric 'aegis_nfs_operations_total{procedure="readdirplus",result="ok"}')"
[ "${calls:-0}" -gt 1 ] && echo "ok - listing took $calls READDIRPLUS calls (cookies used)" ||
        { echo "not ok - expected several READDIRPLUS calls, got ${calls:-0}"; TEST_FAILURES=$((TEST_FAILURES + 1)); }
finish
