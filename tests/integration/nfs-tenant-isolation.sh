#!/bin/bash
# A tenant cannot reach another tenant's volume over NFS. Two client hosts on a veth pair:
# tenant A's host (the gateway's side, 10.x.y.1) and tenant B's (a network namespace,
# 10.x.y.2). Each volume admits only its tenant's host (registry field 8, or --clients for
# volumes that name none). B's MNT of A's volume is MNT3ERR_ACCES; a handle of A's volume
# borrowed by B (valid, A saved it) is NFS3ERR_ACCES for GETATTR and READ; a forged one is
# BADHANDLE; and the same holds the other way round. A malformed clients field is named in
# the log and the line ignored; a bad --clients is refused at start.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
require_cmd ip
[ "$(id -u)" = 0 ] || skip_or_fail "needs root for a network namespace (tenant B's host)"

ns="aegis-nfs-$$"
veth="aenfs$$"
net="10.213.$((RANDOM % 250)).$((4 * (RANDOM % 60)))"
a_host="${net%.*}.$((${net##*.} + 1))"
b_host="${net%.*}.$((${net##*.} + 2))"
ip netns add "$ns" || fail "ip netns add"
on_exit "ip netns del $ns"
ip link add "$veth" type veth peer name "${veth}b" || fail "ip link add veth"
on_exit "ip link del $veth 2>/dev/null"
ip link set "${veth}b" netns "$ns"
ip addr add "$a_host/30" dev "$veth"
ip link set "$veth" up
ip netns exec "$ns" ip addr add "$b_host/30" dev "${veth}b"
ip netns exec "$ns" ip link set "${veth}b" up
ip netns exec "$ns" ip link set lo up
as_b() { ip netns exec "$ns" "$NFS_CLIENT" "$@"; }

NFS_HOST="$a_host"
nfs_setup
nfs_volume t1 a 4242 4343 0 read-write active "$a_host"
nfs_volume t2 b 5000 5000 0 read-write active "$b_host/32"
nfs_volume t3 c 6000 6000 0 read-write active
nfs_volume t4 bad 7000 7000 0 read-write active 10.0.0.300
echo "tenant a's secret" >"$NFS_ROOT/t1/a/secret"
echo "tenant b's file" >"$NFS_ROOT/t2/b/file"
echo "c" >"$NFS_ROOT/t3/c/file"
nfsd_start --clients "$a_host/32"
A="$(nfs_url t1 a)"
B="$(nfs_url t2 b)"

assert_eq "tenant A reads its volume" "OK tenant a's secret" "$(nfs_client "$A" cat /secret)"
check "tenant A saves a file handle" nfs_client "$A" fh /secret "$SCRATCH/fh-a"
check "tenant A saves its root handle" nfs_client "$A" root-fh "$SCRATCH/fh-aroot"
assert_eq "tenant B reads its volume from its host" "OK tenant b's file" "$(as_b "$B" cat /file)"
check "tenant B saves a file handle" as_b "$B" fh /file "$SCRATCH/fh-b"

denials0="$(nfs_metric aegis_nfs_access_denials_total)"
assert_match "tenant B cannot mount tenant A's volume" 'MNT3ERR_ACCES|ACCES' "$(as_b "$A" cat /secret 2>&1)"
assert_eq "borrowed handle: GETATTR refused" "ERR NFS3ERR_ACCES" "$(as_b "$B" getattr-fh "$SCRATCH/fh-a")"
assert_eq "borrowed handle: READ refused" "ERR NFS3ERR_ACCES" "$(as_b "$B" read-fh "$SCRATCH/fh-a")"
assert_eq "borrowed root handle refused" "ERR NFS3ERR_ACCES" "$(as_b "$B" getattr-fh "$SCRATCH/fh-aroot")"
assert_eq "forged handle (altered MAC) is BADHANDLE" "ERR NFS3ERR_BADHANDLE" "$(as_b "$B" getattr-fh "$SCRATCH/fh-a" flip-byte 30)"
assert_eq "forged handle (volume part altered) is BADHANDLE" "ERR NFS3ERR_BADHANDLE" "$(as_b "$B" getattr-fh "$SCRATCH/fh-a" flip-byte 5)"
assert_eq "and the other way: A cannot READ through B's handle" "ERR NFS3ERR_ACCES" "$(nfs_client "$A" read-fh "$SCRATCH/fh-b")"
assert_match "and A cannot mount B's volume" 'MNT3ERR_ACCES|ACCES' "$(nfs_client "$B" cat /file 2>&1)"
assert_eq "the owner still reads through its handle" "OK tenant a's secret" "$(nfs_client "$A" read-fh "$SCRATCH/fh-a")"
check "access denials counted" test "$(nfs_metric aegis_nfs_access_denials_total)" -ge $((denials0 + 6))

# A volume naming no clients gets --clients: A's host only.
assert_eq "--clients admits A's host" "OK c" "$(nfs_client "$(nfs_url t3 c)" cat /file)"
assert_match "--clients refuses B's host" 'MNT3ERR_ACCES|ACCES' "$(as_b "$(nfs_url t3 c)" cat /file 2>&1)"

# Bad input: named, nothing served from it, nothing lost.
assert_match "malformed clients field named in the log" 'clients must be .*10\.0\.0\.300' "$(cat "$SCRATCH/nfsd.log")"
assert_match "a volume with a malformed clients field is not served" 'MNT3ERR_NOENT|NOENT' "$(nfs_client "$(nfs_url t4 bad)" cat /x 2>&1)"
out="$("$AEGIS_NFSD" --clients 10.1.2.3/40 2>&1)"
assert_match "bad --clients is refused and named" '--clients: expected \* or up to' "$out"

assert_eq "tenant A's file untouched" "tenant a's secret" "$(cat "$NFS_ROOT/t1/a/secret")"
assert_eq "nothing created in tenant A's volume" "secret" "$(ls "$NFS_ROOT/t1/a")"
finish
