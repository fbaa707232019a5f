#!/bin/bash
# RENAME and LINK resolve two handles; with the open-volume limit at 1 (--max-open-volumes=1)
# resolving the second one closes the volume of the first while the request still uses it.
# The gateway keeps that volume until it has answered (no use of a freed volume: run this
# under the ASan build too), answers NFS3ERR_XDEV across volumes and moves or links nothing;
# within one volume RENAME and LINK still work while the volumes keep being closed and
# reopened.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
nfs_setup
nfs_volume t1 a 4242 4343 0 read-write active
nfs_volume t2 b 5000 5000 0 read-write active
nfsd_start --max-open-volumes=1
A="$(nfs_url t1 a)"
B="$(nfs_url t2 b)"

check "save volume b's root handle" nfs_client "$B" root-fh "$SCRATCH/fh-broot"
check "save volume a's root handle" nfs_client "$A" root-fh "$SCRATCH/fh-aroot"
for i in 1 2 3 4 5; do
        check "a file to move ($i)" nfs_client "$A" write "/mover$i" "m$i"
        check "volume b used in between: a is closed ($i)" nfs_client "$B" write "/other$i" "o$i"
        assert_eq "RENAME into volume b's root, b not open → XDEV ($i)" "ERR NFS3ERR_XDEV" \
                "$(nfs_client "$A" rename-into "$SCRATCH/fh-broot" "mover$i")"
        assert_eq "LINK into volume b's root, b not open → XDEV ($i)" "ERR NFS3ERR_XDEV" \
                "$(nfs_client "$A" link-into "$SCRATCH/fh-broot" "mover$i")"
        check "nothing moved or linked into volume b ($i)" test ! -e "$NFS_ROOT/t2/b/mover$i"
        assert_eq "the file is still in volume a, one link, its content intact ($i)" "1 m$i" \
                "$(stat -c %h "$NFS_ROOT/t1/a/mover$i") $(cat "$NFS_ROOT/t1/a/mover$i")"
done

# The same volume through two handles (its root twice): both stay valid, the procedures work.
check "RENAME within volume a through two root handles" nfs_client "$A" rename-into "$SCRATCH/fh-aroot" mover1
check "mkdir in volume a" nfs_client "$A" mkdir /sub
check "volume b used in between (a closed)" nfs_client "$B" cat /other1
check "RENAME into a subdirectory of volume a" nfs_client "$A" rename /mover2 /sub/mover2
check "volume b used in between (a closed again)" nfs_client "$B" cat /other2
check "LINK within volume a" nfs_client "$A" link /sub/mover2 /linked
assert_eq "renamed and linked on disk: one inode, two names" "2 m2" \
        "$(stat -c %h "$NFS_ROOT/t1/a/linked") $(cat "$NFS_ROOT/t1/a/sub/mover2")"
check "the gateway is still running" nfsd_alive
nfsd_stop
assert_eq "clean stop exits 0" "0" "$NFS_EXIT"
if grep -q "AddressSanitizer\|runtime error" "$SCRATCH/nfsd.log"; then
        cat "$SCRATCH/nfsd.log" >&2
        fail "sanitizer report in the gateway's log"
fi

# Bad input for the knob: a clear error, no start.
assert_eq "--max-open-volumes=0 refused (usage error, exit 2)" "2" \
        "$("$AEGIS_NFSD" --max-open-volumes=0 --storage-root "$NFS_ROOT" --exports "$NFS_EXPORTS" >"$SCRATCH/bad.log" 2>&1; echo $?)"
check "the error names the option" grep -q -- "--max-open-volumes: expected 1..4096" "$SCRATCH/bad.log"
finish
