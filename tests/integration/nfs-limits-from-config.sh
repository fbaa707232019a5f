#!/bin/bash
# aegis-nfsd's connection and volume limits are configuration keys too (issue 19):
# storage.nfs_idle_timeout_secs, storage.nfs_max_connections_per_client and
# storage.volume_max_entries in aegis-config.yaml apply when the command line does not name
# them, and the command line wins when it does. Loopback only; every flood is bounded.
. "$AEGIS_TEST_LIB/nfs.sh"
nfs_require
nfs_setup
nfs_volume t1 v 4242 4343 0 read-write active
cat >"$SCRATCH/config.yaml" <<YAML
storage:
  nfs_idle_timeout_secs: 2
  nfs_max_connections_per_client: 3
  volume_max_entries: 7
YAML
nfsd_start --config "$SCRATCH/config.yaml"
U="$(nfs_url t1 v)"

# hold N HOLD: N idle connections from 127.0.0.2; prints how many the server left open after
# 1 s and at the end.
hold() {
        python3 - "$NFS_PORT" "$@" <<'PY'
import socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for i in range(n):
    s = socket.socket(); s.bind(("127.0.0.2", 0))
    try:
        s.connect(("127.0.0.1", port)); socks.append(s)
    except OSError:
        s.close()
def still_open():
    k = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) != b"": k += 1
        except BlockingIOError:
            k += 1
        except OSError:
            pass
    return k
time.sleep(1.0)
print("open_after_1s", still_open(), flush=True)
time.sleep(hold - 1.0)
print("open_at_end", still_open(), flush=True)
PY
}

out="$(hold 10 4.5)"
assert_eq "nfs_max_connections_per_client: 3 keeps 3 of 10" "open_after_1s 3" "$(grep open_after_1s <<<"$out")"
assert_eq "nfs_idle_timeout_secs: 2 closes them before 4.5 s" "open_at_end 0" "$(grep open_at_end <<<"$out")"
n=0
for i in 1 2 3 4 5 6 7 8 9 10; do
        nfs_client "$U" mkdir "/d$i" >/dev/null 2>&1 && n=$((n + 1))
done
assert_eq "volume_max_entries: 7 stops the volume at 7 names" 7 "$n"
nfsd_kill

# The command line wins.
NFS_PORT="$(free_port)" NFS_METRICS_PORT="$(free_port)"
nfsd_start --config "$SCRATCH/config.yaml" --max-connections-per-client 5
out="$(hold 10 1.5)"
assert_eq "--max-connections-per-client 5 over the file's 3" "open_after_1s 5" "$(grep open_after_1s <<<"$out")"
finish
