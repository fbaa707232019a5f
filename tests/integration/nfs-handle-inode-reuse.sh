#!/bin/bash
# A file handle names one file, not an inode number. aegis-nfsd reads generations without
# opening files (name_to_handle_at) on LOOKUP and READDIRPLUS, and answers GETATTR by name
# without an open, while a client keeps its connection (and so the gateway's fd cache).
# Within one connection: a file is removed (through NFS, then behind the gateway's back), a
# new file takes over its inode number, and the gateway sees the new file by LOOKUP and
# READDIRPLUS. The old handle is then STALE for GETATTR and READ (never the new file's
# attributes or data); the new file's handle, same inode number, is another handle and reads
# the new data.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
nfs_setup
nfs_volume t1 a 4242 4343 0 read-write active
V="$NFS_ROOT/t1/a"
# Only file systems that hand a freed inode number to the next new file can show this.
case "$(stat -f -c %T "$V")" in
ext2/ext3 | ext4) ;;
*) skip_or_fail "$V is on $(stat -f -c %T "$V"), which does not reuse inode numbers at once (ext4 does)" ;;
esac
nfsd_start
A="$(nfs_url t1 a)"

nfs_session "$A"

# reuse INO PREFIX: creates files PREFIXn in the volume (not through NFS) until one gets
# inode number INO, writes "new-data" into it, removes the others and prints its name. ext4
# gives a new file the lowest free number of the first group with one free in its
# directory's flex group: the freed number at once on a quiet file system, after the holes
# other processes left before it are filled on a busy one (up to a flex group, 16 × 8192
# inodes by default: the bound covers that).
reuse() {
        python3 - "$V" "$1" "$2" <<'PY'
import os, sys
d, ino, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
made = []
for i in range(300000):
    p = os.path.join(d, "%s%d" % (prefix, i))
    fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    if os.fstat(fd).st_ino == ino:
        os.write(fd, b"new-data")
        os.close(fd)
        for q in made:  # the others were only in the way
            os.unlink(q)
        print(os.path.basename(p))
        sys.exit(0)
    os.close(fd)
    made.append(p)
sys.exit(1)
PY
}
ino_of() { cut -c25-40 "$1"; } # bytes 12-19 of the handle (hex): the inode number

# The old files are made on the backing directory, so that the gateway meets them by name
# (READDIRPLUS, LOOKUP: the paths that make handles without opening), as it meets the new.
# 1. Removed through NFS.
echo old-data-a >"$V/a"
assert_match "READDIRPLUS sees /a" "^OK " "$(s readdir-count /)"
s fh /a "$SCRATCH/fh-a" >/dev/null
assert_eq "old handle reads the old file (and is now cached)" "OK old-data-a" "$(s read-fh "$SCRATCH/fh-a")"
ino_a="$(stat -c %i "$V/a")"
assert_eq "unlink /a through NFS" "OK" "$(s unlink /a)"
new_a="$(reuse "$ino_a" ra)" || fail "no new file reused inode $ino_a"
note "inode $ino_a of /a reused by /$new_a"
assert_eq "the new file has the old inode number" "$ino_a" "$(stat -c %i "$V/$new_a")"
s fh "/$new_a" "$SCRATCH/fh-new-a" >/dev/null
assert_match "READDIRPLUS sees the new file" "^OK " "$(s readdir-count /)"
assert_eq "old handle: GETATTR → STALE" "ERR NFS3ERR_STALE" "$(s getattr-fh "$SCRATCH/fh-a")"
assert_eq "old handle: READ → STALE, not the new file's data" "ERR NFS3ERR_STALE" "$(s read-fh "$SCRATCH/fh-a")"
assert_eq "new handle reads the new file" "OK new-data" "$(s read-fh "$SCRATCH/fh-new-a")"
assert_eq "old and new handle carry the same inode number" "$(ino_of "$SCRATCH/fh-a")" "$(ino_of "$SCRATCH/fh-new-a")"
check "yet they are different handles" test "$(cat "$SCRATCH/fh-a")" != "$(cat "$SCRATCH/fh-new-a")"
assert_eq "old handle still STALE after the new one was used" "ERR NFS3ERR_STALE" "$(s getattr-fh "$SCRATCH/fh-a")"

# 2. Removed behind the gateway's back while it keeps the file open (its fd keeps the
# inode, and so its number, until the gateway lets go at the next use of the handle).
echo old-data-b >"$V/b"
assert_match "READDIRPLUS sees /b" "^OK " "$(s readdir-count /)"
s fh /b "$SCRATCH/fh-b" >/dev/null
assert_eq "old handle reads the old file" "OK old-data-b" "$(s read-fh "$SCRATCH/fh-b")"
ino_b="$(stat -c %i "$V/b")"
rm "$V/b"
assert_eq "removed behind the gateway → STALE" "ERR NFS3ERR_STALE" "$(s getattr-fh "$SCRATCH/fh-b")"
new_b="$(reuse "$ino_b" rb)" || fail "no new file reused inode $ino_b"
note "inode $ino_b of /b reused by /$new_b"
assert_match "READDIRPLUS sees the new file (generation read by name)" "^OK " "$(s readdir-count /)"
assert_eq "old handle: GETATTR → STALE" "ERR NFS3ERR_STALE" "$(s getattr-fh "$SCRATCH/fh-b")"
assert_eq "old handle: READ → STALE" "ERR NFS3ERR_STALE" "$(s read-fh "$SCRATCH/fh-b")"
s fh "/$new_b" "$SCRATCH/fh-new-b" >/dev/null
assert_eq "new handle: GETATTR answered" "OK NFS3_OK" "$(s getattr-fh "$SCRATCH/fh-new-b")"
assert_eq "new handle reads the new file" "OK new-data" "$(s read-fh "$SCRATCH/fh-new-b")"
check "old and new handles differ" test "$(cat "$SCRATCH/fh-b")" != "$(cat "$SCRATCH/fh-new-b")"

# 3. The same over a fresh connection (nothing cached) and after a restart (index rebuilt).
assert_eq "fresh connection: old handle STALE" "ERR NFS3ERR_STALE" "$(nfs_client "$A" read-fh "$SCRATCH/fh-a")"
nfs_session_end
nfsd_stop
nfsd_start
assert_eq "after a restart: old handle STALE" "ERR NFS3ERR_STALE" "$(nfs_client "$A" getattr-fh "$SCRATCH/fh-b")"
assert_eq "after a restart: new handle reads the new file" "OK new-data" "$(nfs_client "$A" read-fh "$SCRATCH/fh-new-b")"
finish
