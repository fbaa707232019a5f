#!/bin/bash
# Quotas count every inode (issue 19: 5,400 directories and 5,400 symlinks filled 49 MB of a
# 1 MiB volume): a directory or symlink counts 4096 bytes, so floods of either against a
# 1 MiB quota get NFS3ERR_DQUOT after at most 256 (the volume's disk use stays near 1 MiB);
# removing one makes room for one; a volume without a quota stops at --max-entries names
# (files, too), and FSSTAT reports that limit as its number of files.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
nfs_setup
nfs_volume t1 dirs 4242 4343 1Mi read-write active
nfs_volume t1 links 4242 4343 1Mi read-write active
nfs_volume t1 many 4242 4343 0 read-write active
nfsd_start --max-entries 300

# flood URL OP N: OP ("mkdir" or "symlink") up to N names through one session; prints how
# many were made and the first refusal.
flood() {
        local i out
        nfs_session "$1"
        for ((i = 0; i < $3; i++)); do
                case "$2" in
                mkdir) out="$(s mkdir "/d$i")" ;;
                symlink) out="$(s symlink target "/l$i")" ;;
                write) out="$(s write "/f$i" x)" ;;
                esac
                [ "$out" = OK ] || break
        done
        nfs_session_end
        echo "$i $out"
}

out="$(flood "$(nfs_url t1 dirs)" mkdir 5400)"
note "directory flood: $out"
made="${out%% *}"
check "directory flood stopped by the quota after at most 256 ($made)" test "$made" -le 256 -a "$made" -ge 200
assert_match "... with NFS3ERR_DQUOT" 'DQUOT|quota' "$out"
used="$(du -s --block-size=1 "$NFS_ROOT/t1/dirs" | cut -f1)"
check "the volume's disk use stays near its 1 MiB ($used bytes)" test "$used" -le $((1200 * 1024))
assert_match "one more is refused" 'DQUOT|quota' "$(nfs_client "$(nfs_url t1 dirs)" mkdir /again)"
check "removing a directory" nfs_client "$(nfs_url t1 dirs)" rmdir /d0
check "... makes room for one" nfs_client "$(nfs_url t1 dirs)" mkdir /again
assert_match "a 200 KB write does not fit either" 'ERR' "$(nfs_client "$(nfs_url t1 dirs)" append-bytes /f 200000)"

out="$(flood "$(nfs_url t1 links)" symlink 5400)"
note "symlink flood: $out"
made="${out%% *}"
check "symlink flood stopped by the quota after at most 256 ($made)" test "$made" -le 256 -a "$made" -ge 200
assert_match "... with NFS3ERR_DQUOT" 'DQUOT|quota' "$out"
used="$(du -s --block-size=1 "$NFS_ROOT/t1/links" | cut -f1)"
check "the volume's disk use stays near its 1 MiB ($used bytes)" test "$used" -le $((1200 * 1024))

out="$(flood "$(nfs_url t1 many)" write 1000)"
note "file flood without a quota: $out"
assert_eq "--max-entries 300 stops a volume without a quota at 300 names" 300 "${out%% *}"
assert_match "... with NFS3ERR_DQUOT" 'DQUOT|quota' "$out"
assert_eq "300 files on disk" 300 "$(find "$NFS_ROOT/t1/many" -mindepth 1 | wc -l)"
assert_match "FSSTAT reports the limit as files, none free" 'files=300 ffree=0$' "$(nfs_client "$(nfs_url t1 many)" statvfs)"
assert_eq "an existing file still opens for writing" "OK" "$(nfs_client "$(nfs_url t1 many)" write /f0 again)"
check "quota refusals counted" test "$(nfs_metric aegis_nfs_quota_denials_total)" -ge 4
finish
