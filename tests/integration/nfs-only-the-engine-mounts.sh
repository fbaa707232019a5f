#!/bin/bash
# Only what the engine's mount needs reaches a volume (aegis-nfsd(8), ACCESS CONTROL):
#  - the path aegisd puts in the engine volume's device= (/<tenant>/<volume>/<token>) mounts
#    from a reserved source port (root, as the kernel's NFS client), and reads and writes;
#  - EXPORT lists nothing, to anyone; DUMP shows the caller's own mounts, without tokens;
#  - a guessed path is refused alike whether the volume exists or not: no token, another
#    volume's token (tenant B knows its own, and A's volume id), a made-up one;
#  - an unprivileged local user (nobody: a port above 1023, any AUTH_UNIX uid) can neither
#    mount (libnfs and a raw MNT with the right path), nor GETATTR, READ or WRITE through a
#    handle it got elsewhere;
#  - --require-reserved-port=no (a trusted network) lets such a client mount with the path.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
[ "$(id -u)" = 0 ] || skip_or_fail "needs root: the kernel's NFS client binds a reserved port"
require_cmd runuser
RPC="$AEGIS_TEST_LIB/nfs-rpc.py"
nfs_setup
nfs_volume t1 a 4242 4343 0 read-write active
nfs_volume t2 b 5000 5000 0 read-write active
echo "tenant a's secret" >"$NFS_ROOT/t1/a/secret"
chmod -R a+rX "$SCRATCH" # nobody runs the clients; the key stays the gateway's (0600)
nfsd_start
A="$(nfs_url t1 a)"
B="$(nfs_url t2 b)"
rpc() { python3 "$RPC" "$NFS_PORT" "$@"; }
rpc_nobody() { nfs_unprivileged python3 "$RPC" "$NFS_PORT" "$@"; }
reserved_port() { echo $((600 + RANDOM % 400)); }

assert_match "the export path has the token" "^/t1/a/[0-9a-f]{32}\$" "$(nfs_export_path t1 a)"
assert_eq "the engine's path mounts from a reserved port and reads" "OK tenant a's secret" "$(nfs_client "$A" cat /secret)"
check "and writes" nfs_client "$A" write /from-root hi
assert_eq "written as the volume's owner" "hi 4242:4343" "$(cat "$NFS_ROOT/t1/a/from-root") $(stat -c %u:%g "$NFS_ROOT/t1/a/from-root")"
check "save a handle of tenant A's file" nfs_client "$A" fh /secret "$SCRATCH/fh-a"
fh="$(cat "$SCRATCH/fh-a")"
assert_eq "a raw MNT of the path from a reserved port" "MNT 0" "$(rpc --src-port "$(reserved_port)" mnt "$(nfs_export_path t1 a)" | cut -d' ' -f1-2)"
assert_eq "and GETATTR through the handle" "GETATTR 0" "$(rpc --src-port "$(reserved_port)" getattr "$fh")"

# Nothing to discover.
assert_eq "EXPORT lists nothing to root" "EXPORT 0" "$(rpc --src-port "$(reserved_port)" export)"
assert_eq "EXPORT answers nobody with an auth error" "DENIED 5" "$(rpc_nobody export)"
dump="$(rpc --src-port "$(reserved_port)" dump)"
assert_match "DUMP shows this host's mount, without the token" "^DUMP [0-9]+ .*127\.0\.0\.1:/t1/a( |\$)" "$dump"
assert_no_match() { case "$3" in *$2*) echo "not ok - $1: $3"; TEST_FAILURES=$((TEST_FAILURES + 1)) ;; *) echo "ok - $1" ;; esac; }
assert_no_match "no token in DUMP" "$(basename "$(nfs_export_path t1 a)")" "$dump"

# Guessed paths: the same answer (MNT3ERR_ACCES = 13) whether the volume exists or not.
tok_b="$(basename "$(nfs_export_path t2 b)")"
for path in /t1/a "/t1/a/$tok_b" /t1/a/0123456789abcdef0123456789abcdef /t1/a/x /t1/nope "/t1/nope/$tok_b" \
        "/t1/a/$(basename "$(nfs_export_path t1 a)")0"; do
        assert_eq "guessed path $path refused" "MNT 13" "$(rpc --src-port "$(reserved_port)" mnt "$path")"
done
assert_match "libnfs: tenant B's token does not open A's volume" 'MNT3ERR_ACCES' \
        "$(nfs_client "nfs://127.0.0.1/t1/a/$tok_b?version=3&nfsport=$NFS_PORT&mountport=$NFS_PORT" cat /secret 2>&1)"
assert_match "libnfs: nor the bare /tenant/volume" 'MNT3ERR_ACCES' "$(nfs_client "$(nfs_bare_url t1 a)" cat /secret 2>&1)"
assert_eq "tenant B mounts its own with its path" "OK" "$(nfs_client "$B" stat / | cut -d' ' -f1)"

# An unprivileged local user: nothing, even with the right path and a valid handle.
out="$(nfs_unprivileged "$NFS_CLIENT" "$A" cat /secret 2>&1)"
assert_match "nobody cannot mount with libnfs" '^ERR' "$out"
out="$(nfs_unprivileged nfs-ls "$A" 2>&1)"
assert_match "nor list with nfs-ls" 'Failed to mount|mount' "$out"
assert_eq "nobody's raw MNT of the right path" "DENIED 5" "$(rpc_nobody mnt "$(nfs_export_path t1 a)")"
assert_eq "nobody's GETATTR through a valid handle" "DENIED 5" "$(rpc_nobody getattr "$fh")"
assert_eq "nobody's READ through it" "DENIED 5" "$(rpc_nobody read "$fh")"
assert_eq "nobody's WRITE through it" "DENIED 5" "$(rpc_nobody write "$fh" pwned)"
assert_eq "the file is untouched" "tenant a's secret" "$(cat "$NFS_ROOT/t1/a/secret")"
assert_eq "root's READ through the handle still works" "READ 0 tenant a's secret" "$(rpc --src-port "$(reserved_port)" read "$fh")"
check "refusals counted" test "$(nfs_metric aegis_nfs_access_denials_total)" -ge 14

# A trusted network: the switch lets unprivileged ports in (the path is still needed).
nfsd_stop
nfsd_start --require-reserved-port=no
assert_eq "--require-reserved-port=no: nobody mounts with the path" "OK tenant a's secret" \
        "$(nfs_unprivileged "$NFS_CLIENT" "$A" cat /secret)"
assert_eq "but not with a guessed one" "MNT 13" "$(rpc_nobody mnt /t1/a)"
assert_match "the switch is named in the log" 'require-reserved-port=no' "$(cat "$SCRATCH/nfsd.log")"
finish
