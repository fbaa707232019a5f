#!/bin/bash
# aegis-nfsd keeps recently used files open (a bounded cache per volume) while a client is
# connected. Within one connection (nfs-client session): a cached file's handle goes STALE
# as soon as the file is removed through another name, replaced by RENAME, removed behind
# the gateway's back on the backing directory, or (a directory) removed by RMDIR; the
# gateway then holds no fd of a deleted file (its space is released at once); the number of
# fds it keeps is bounded; and it keeps none once the last client has gone.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
nfs_setup
nfs_volume t1 a 4242 4343 0 read-write active
V="$NFS_ROOT/t1/a"
nfsd_start
A="$(nfs_url t1 a)"

fds() { find "/proc/$NFS_PID/fd" -mindepth 1 | wc -l; }
deleted_fds() { # fds of the gateway on files that no longer have a name
        local n=0 f
        for f in /proc/"$NFS_PID"/fd/*; do
                [[ "$(readlink "$f" 2>/dev/null)" == *" (deleted)" ]] && n=$((n + 1))
        done
        echo "$n"
}
check "a first client comes and goes" nfs_client "$A" statvfs >/dev/null
idle_fds="$(fds)"

nfs_session "$A"

# Removed through another name (the handle came from the first one).
assert_match "write 8 MiB" "^OK" "$(s append-bytes /big 8388608)"
assert_eq "second name" "OK" "$(s link /big /alias)"
s fh /big "$SCRATCH/fh-big" >/dev/null
assert_match "read through the handle (now cached)" "^OK" "$(s read-fh "$SCRATCH/fh-big")"
s unlink /big >/dev/null
assert_eq "remove the other name" "OK" "$(s unlink /alias)"
assert_eq "no fd of the deleted file kept: its space is released at once" "0" "$(deleted_fds)"
assert_eq "handle of a file removed through another name → STALE" "ERR NFS3ERR_STALE" "$(s getattr-fh "$SCRATCH/fh-big")"

# Replaced by RENAME.
s append-bytes /victim 4194304 >/dev/null
s fh /victim "$SCRATCH/fh-victim" >/dev/null
assert_match "victim cached" "^OK" "$(s read-fh "$SCRATCH/fh-victim")"
s write /new fresh >/dev/null
assert_eq "rename over it" "OK" "$(s rename /new /victim)"
assert_eq "no fd of the replaced file kept" "0" "$(deleted_fds)"
assert_eq "replaced file's handle → STALE" "ERR NFS3ERR_STALE" "$(s getattr-fh "$SCRATCH/fh-victim")"
assert_eq "new content under the name" "fresh" "$(cat "$V/victim")"

# Removed on the backing directory, not through NFS.
s write /oob data >/dev/null
s fh /oob "$SCRATCH/fh-oob" >/dev/null
assert_match "oob cached" "^OK" "$(s read-fh "$SCRATCH/fh-oob")"
rm -f "$V/oob"
assert_eq "file removed behind the gateway → STALE" "ERR NFS3ERR_STALE" "$(s getattr-fh "$SCRATCH/fh-oob")"
assert_eq "its fd let go once seen" "0" "$(deleted_fds)"

# RMDIR.
s mkdir /d >/dev/null
s fh /d "$SCRATCH/fh-d" >/dev/null
assert_eq "directory cached" "OK NFS3_OK" "$(s getattr-fh "$SCRATCH/fh-d")"
assert_eq "rmdir" "OK" "$(s rmdir /d)"
assert_eq "removed directory's handle → STALE" "ERR NFS3ERR_STALE" "$(s getattr-fh "$SCRATCH/fh-d")"

# Bounded: READDIRPLUS over 300 files opens each; at most 64 stay open per volume.
s mkdir /many >/dev/null
assert_match "300 files" "^OK" "$(s create-many /many 300)"
assert_match "readdirplus sees them" "^OK 300 " "$(s readdir-count /many)"
n="$(fds)"
check "fds kept are bounded ($n open, $idle_fds idle)" test "$n" -le $((idle_fds + 64 + 8))

# A file still cached keeps working; the last client leaving closes everything.
s write /kept k >/dev/null
assert_eq "cached file reads back" "OK k" "$(s cat /kept)"
nfs_session_end
for _ in $(seq 100); do [ "$(fds)" -le "$idle_fds" ] && break; sleep 0.1; done
assert_eq "no cached fds once the client left" "$idle_fds" "$(fds)"
assert_eq "nothing lost on disk" "k" "$(cat "$V/kept")"
finish
