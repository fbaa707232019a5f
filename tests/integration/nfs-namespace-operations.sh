#!/bin/bash
# create/write, rename, link, symlink, readlink, remove, mkdir, rmdir and SETATTR truncate
# through the libnfs API, each checked on the backing directory; MKNOD is NOTSUPP; uid/gid
# changes are refused; traversal attempts (symlink to /etc, "..", absolute targets) fail.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_one_volume

check "mkdir" nfs_client "$U" mkdir /dir
check "mkdir made a directory on disk" test -d "$D/dir"
check "write a file" nfs_client "$U" write /dir/a "hello world"
assert_eq "file content on disk" "hello world" "$(cat "$D/dir/a")"
assert_eq "file owner on disk" "4242:4343" "$(stat -c %u:%g "$D/dir/a")"
assert_eq "directory owner on disk" "4242:4343" "$(stat -c %u:%g "$D/dir")"
check "rename" nfs_client "$U" rename /dir/a /dir/b
check "rename moved it on disk" test -f "$D/dir/b" -a ! -e "$D/dir/a"
check "hard link" nfs_client "$U" link /dir/b /dir/c
assert_eq "link shares the inode on disk" "$(stat -c %i "$D/dir/b")" "$(stat -c %i "$D/dir/c")"
check "symlink (relative, inside)" nfs_client "$U" symlink b /dir/s
assert_eq "symlink target on disk" "b" "$(readlink "$D/dir/s")"
assert_eq "readlink" "OK b" "$(nfs_client "$U" readlink /dir/s)"
assert_eq "symlink owner on disk" "4242:4343" "$(stat -c %u:%g "$D/dir/s")"
check "truncate via SETATTR" nfs_client "$U" truncate /dir/b 5
assert_eq "truncated on disk" "hello" "$(cat "$D/dir/b")"
check "extend via SETATTR" nfs_client "$U" truncate /dir/b 100
assert_eq "extended on disk" "100" "$(stat -c %s "$D/dir/b")"
check "remove" nfs_client "$U" unlink /dir/c
check "removed on disk" test ! -e "$D/dir/c"
out="$(nfs_client "$U" rmdir /dir)"
assert_match "rmdir of a non-empty directory" 'NOTEMPTY' "$out"
out="$(nfs_client "$U" mknod /dir/fifo)"
assert_match "MKNOD is refused with NOTSUPP" 'NFS3ERR_NOTSUPP' "$out"
check "no fifo on disk" test ! -e "$D/dir/fifo"

# Traversal.
out="$(nfs_client "$U" symlink /etc/passwd /dir/evil)"
assert_match "absolute symlink target refused" 'NFS3ERR_ACCES' "$out"
out="$(nfs_client "$U" symlink ../../../etc/passwd /dir/evil)"
assert_match "symlink climbing out of the volume refused" 'NFS3ERR_ACCES' "$out"
check "no escaping symlink on disk" test ! -e "$D/dir/evil" -a ! -L "$D/dir/evil"
check "symlink to the parent inside the volume is fine" nfs_client "$U" symlink ../dir/b /dir/up
# A symlink planted on the host side pointing at /etc is never followed by the gateway.
ln -s /etc "$D/etc-link"
ln -s /etc/passwd "$D/passwd-link"
out="$(nfs_client "$U" cat /etc-link/passwd)"
assert_match "reading through a planted symlink to /etc fails" '^ERR' "$out"
out="$(nfs_client "$U" write /etc-link/aegis-escape x)"
assert_match "writing through a planted symlink to /etc fails" '^ERR' "$out"
check "nothing written in /etc" test ! -e /etc/aegis-escape
out="$(nfs_client "$U" cat /passwd-link)"
assert_match "reading a planted symlink to /etc/passwd fails" '^ERR' "$out"
check "a planted symlink to /etc/passwd leaks nothing" test "${out#*root:x:0:0}" = "$out"
out="$(nfs_client "$U" lookup-dotdot)"
assert_match "LOOKUP .. of the root is the root itself" '^OK same' "$out"

for f in c s up; do nfs_client "$U" unlink /dir/$f >/dev/null 2>&1; done
check "remove the last file" nfs_client "$U" unlink /dir/b
check "rmdir" nfs_client "$U" rmdir /dir
check "directory gone on disk" test ! -e "$D/dir"
finish
