#!/bin/bash
# Protocol details of issue 6 that no other test pins down, each through a real client call:
# CREATE EXCLUSIVE with a verifier (a retry with the same verifier succeeds, another verifier
# gets EXIST); the COMMIT write verifier as answered on the wire is the same after a clean
# restart and different after a crash; READDIRPLUS resumes from a cookie only with the
# directory's cookie verifier (an altered one gets BAD_COOKIE); SETATTR may not change uid/gid
# (PERM, nothing changes on disk) but may "set" them to the volume's own; the socket units
# listen on loopback only (127.0.0.1, one socket: aegis-nfsd serves one; nothing on every address) and verify clean,
# aegis-nfsd(8) documents the drop-in that widens them, and the rootless case.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_one_volume

assert_eq "CREATE EXCLUSIVE, verifier v1" "OK NFS3_OK" "$(nfs_client "$U" create-exclusive ex v1)"
check "the file exists on disk" test -f "$D/ex"
assert_eq "the same CREATE again (a retransmission): same verifier → OK" "OK NFS3_OK" "$(nfs_client "$U" create-exclusive ex v1)"
assert_eq "another verifier → EXIST" "ERR NFS3ERR_EXIST" "$(nfs_client "$U" create-exclusive ex v2)"
assert_eq "a file created by someone else → EXIST" "ERR NFS3ERR_EXIST" \
        "$(echo x >"$D/plain"; nfs_client "$U" create-exclusive plain v1)"

check "write a file" nfs_client "$U" write /f hello
v1="$(nfs_client "$U" commit-verf /f)"
assert_match "COMMIT answers a verifier" '^OK [0-9a-f]{16}$' "$v1"
assert_eq "same verifier for the next COMMIT" "$v1" "$(nfs_client "$U" commit-verf /f)"
nfsd_stop
nfsd_start
assert_eq "COMMIT verifier unchanged after a clean restart" "$v1" "$(nfs_client "$U" commit-verf /f)"
nfsd_kill
nfsd_start
v2="$(nfs_client "$U" commit-verf /f)"
assert_match "COMMIT answers a verifier after a crash" '^OK [0-9a-f]{16}$' "$v2"
check "COMMIT verifier changed after a crash (clients resend unstable writes)" test "$v1" != "$v2"

for i in 1 2 3 4 5 6 7 8; do echo "$i" >"$D/entry$i"; done
assert_eq "READDIRPLUS resumed with the directory's cookie verifier" "OK NFS3_OK" "$(nfs_client "$U" readdirplus-cookie good)"
assert_eq "READDIRPLUS resumed with an altered cookie verifier → BAD_COOKIE" "ERR NFS3ERR_BAD_COOKIE" \
        "$(nfs_client "$U" readdirplus-cookie bad)"

assert_match "SETATTR uid/gid to root → PERM" 'NFS3ERR_PERM' "$(nfs_client "$U" chown /f 0 0)"
assert_match "SETATTR uid to another user → PERM" 'NFS3ERR_PERM' "$(nfs_client "$U" chown /f 1000 4343)"
assert_eq "SETATTR uid/gid to the volume's own → OK" "OK" "$(nfs_client "$U" chown /f 4242 4343)"
assert_eq "owner on disk unchanged" "4242:4343" "$(stat -c %u:%g "$D/f")"
assert_eq "content unchanged" "hello" "$(cat "$D/f")"

. "$AEGIS_TEST_LIB/units.sh"
for u in units/aegis-nfs.socket units/user/aegis-nfs.socket; do
        port=2049
        [ "$u" = units/user/aegis-nfs.socket ] && port=20490
        assert_eq "$u listens on loopback only (one socket: aegis-nfsd serves one)" "ListenStream=127.0.0.1:$port" \
                "$(grep '^ListenStream=' "$top_srcdir/$u" | tr '\n' ' ' | sed 's/ $//')"
        check "$u sets BindIPv6Only= (a widening drop-in gets one socket for both)" grep -q '^BindIPv6Only=both$' "$top_srcdir/$u"
done
if command -v systemd-analyze >/dev/null; then
        units_runtime_dir
        units_prepare "$SCRATCH/units" "$top_builddir/units/aegis-nfs.service" "$top_srcdir/units/aegis-nfs.socket"
        out="$(units_analyze system "$SCRATCH/units" verify --man=no ./aegis-nfs.socket ./aegis-nfs.service)"
        check "system aegis-nfs.socket and .service verify clean${out:+: $out}" test -z "$out"
fi
check "aegis-nfsd(8) documents the drop-in that widens the socket" grep -q 'aegis\\-nfs.socket.d/listen.conf' "$top_srcdir/man/aegis-nfsd.8"
check "aegis-nfsd(8) documents the rootless case" grep -q '^\.SS Rootless' "$top_srcdir/man/aegis-nfsd.8"
check "… with the high port and the matching mount options" grep -q 'port=20490,mountport=20490' "$top_srcdir/man/aegis-nfsd.8"
finish
