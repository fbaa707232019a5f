#!/bin/bash
# `aegis volume cp` and `aegis volume ls` (issue 15) against a real aegisd: a round trip of a
# few MiB both ways (cmp equal), 64 MiB each way in bounded memory, 0 bytes, stdin and stdout, into a directory and to a local
# directory, the ls table and -o json|name, a volume named by its name, and what must be
# refused with 125: a path escaping the volume, another tenant's volume, a local directory,
# two local or two volume paths. A failed download leaves no file behind.
# No Podman is needed: the Podman socket points nowhere.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/common.sh"
require_cmd curl jq cmp head truncate python3
make_scratch
PORT="$(free_port)"
U="http://127.0.0.1:$PORT"
ROOT="$SCRATCH/volumes"
mkdir -p "$SCRATCH/state" "$SCRATCH/out"
printf '%s\n' "tok-acme acme" "tok-globex globex" >"$SCRATCH/tokens"
cat >"$SCRATCH/config.yaml" <<YAML
api:
  listen: "127.0.0.1:$PORT"
  metrics_listen: "127.0.0.1:$(free_port)"
  max_body_bytes: 64Ki
  tokens_file: "$SCRATCH/tokens"
runtime:
  container_socket_path: "$SCRATCH/no-podman.sock"
storage:
  root: "$ROOT"
  mount_mode: bind
database:
  url: "sqlite://$SCRATCH/state/aegis.db"
YAML
STATE_DIRECTORY="$SCRATCH/state" "$AEGISD" --config "$SCRATCH/config.yaml" >"$SCRATCH/aegisd.log" 2>&1 &
PID=$!
on_exit "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
wait_for 30 curl -sf "$U/health" || { tail -20 "$SCRATCH/aegisd.log" >&2; fail "aegisd did not come up"; }

acme() { "$AEGIS_CLI" --url "$U" --token tok-acme "$@"; }
globex() { "$AEGIS_CLI" --url "$U" --token tok-globex "$@"; }
status() { "$@" >/dev/null 2>"$SCRATCH/err"; echo $?; }

ID="$(acme volume create work)" || fail "volume create"
V="$ROOT/acme/$ID"
check "the volume's directory exists" test -d "$V"

# ---- a few MiB both ways ----
head -c 3145728 /dev/urandom >"$SCRATCH/big.bin"
assert_eq "upload of 3 MiB exits 0" 0 "$(status acme volume cp "$SCRATCH/big.bin" "$ID:/data/big.bin")"
check "the bytes are in the volume" cmp "$SCRATCH/big.bin" "$V/data/big.bin"
assert_eq "download of it exits 0" 0 "$(status acme volume cp "$ID:/data/big.bin" "$SCRATCH/out/back.bin")"
check "the round trip is byte-equal" cmp "$SCRATCH/big.bin" "$SCRATCH/out/back.bin"
assert_eq "no temporary file is left beside it" "back.bin" "$(ls -A "$SCRATCH/out")"

# ---- streamed, never whole in memory: 64 MiB each way with the CLI's peak RSS under 32 MiB ----
# maxrss_kib CMD... → the peak RSS in KiB of CMD (its exit status must be 0)
maxrss_kib() {
        python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}
truncate -s 64M "$SCRATCH/huge.bin"
RSS="$(maxrss_kib "$AEGIS_CLI" --url "$U" --token tok-acme volume cp "$SCRATCH/huge.bin" "$ID:/huge.bin")" ||
        fail "upload of 64 MiB failed"
check "an upload of 64 MiB peaks under 32 MiB of RSS (was ${RSS} KiB)" test "$RSS" -lt 32768
RSS="$(maxrss_kib "$AEGIS_CLI" --url "$U" --token tok-acme volume cp "$ID:/huge.bin" "$SCRATCH/huge.back")" ||
        fail "download of 64 MiB failed"
check "a download of 64 MiB peaks under 32 MiB of RSS (was ${RSS} KiB)" test "$RSS" -lt 32768
check "and the bytes are equal" cmp "$SCRATCH/huge.bin" "$SCRATCH/huge.back"
rm -f "$SCRATCH/huge.bin" "$SCRATCH/huge.back" "$V/huge.bin"

# ---- 0 bytes; into a directory; to a local directory; by name and id prefix ----
: >"$SCRATCH/empty"
assert_eq "upload of 0 bytes into a directory (trailing /) exits 0" 0 \
        "$(status acme volume cp "$SCRATCH/empty" "work:/data/")"
check "it is there, empty, under its local name" test -f "$V/data/empty" -a ! -s "$V/data/empty"
assert_eq "download of 0 bytes into a local directory exits 0" 0 \
        "$(status acme volume cp "${ID:0:8}:data/empty" "$SCRATCH/out")"
check "it is there, empty, under its name" test -f "$SCRATCH/out/empty" -a ! -s "$SCRATCH/out/empty"
printf 'to the root\n' >"$SCRATCH/root.txt"
assert_eq "upload to VOL: (the root) exits 0" 0 "$(status acme volume cp "$SCRATCH/root.txt" "work:")"
check "it is at the root" cmp "$SCRATCH/root.txt" "$V/root.txt"

# ---- stdin and stdout ----
assert_eq "upload from stdin exits 0" 0 \
        "$(printf 'piped\n' | acme volume cp - "$ID:/data/piped.txt" 2>"$SCRATCH/err"; echo $?)"
assert_eq "it holds what was piped" "piped" "$(cat "$V/data/piped.txt")"
assert_eq "download to stdout" "piped" "$(acme volume cp "$ID:/data/piped.txt" -)"
check "stdout carries the binary bytes exactly" cmp "$SCRATCH/big.bin" <(acme volume cp "$ID:/data/big.bin" -)
assert_eq "stdin to a directory (no name) is refused with 125" 125 \
        "$(printf x | acme volume cp - "$ID:/data/" 2>"$SCRATCH/err"; echo $?)"
assert_match "saying a file name is needed" "has no name" "$(cat "$SCRATCH/err")"

# ---- ls ----
LS="$(acme volume ls "$ID:/data")"
assert_match "ls has the header" "^NAME +TYPE +SIZE +MODIFIED" "$(head -1 <<<"$LS")"
assert_match "ls shows big.bin with a human size" "big.bin +file +3(\.0)? MiB +[0-9]{4}-" "$LS"
assert_match "ls shows the empty file as 0 B" "empty +file +0 B" "$LS"
assert_match "ls of the root shows the directory" "data +dir +-" "$(acme volume ls work)"
assert_eq "ls -o name prints the names" "big.bin empty piped.txt" \
        "$(acme volume ls -o name "$ID:/data" | sort | tr '\n' ' ' | sed 's/ $//')"
assert_eq "ls -o json is the daemon's answer" 3145728 \
        "$(acme volume ls -o json "$ID:/data" | jq '.entries[] | select(.name == "big.bin") | .size_bytes')"
assert_match "ls -o yaml" "name: \"?big.bin" "$(acme volume ls -o yaml "$ID:/data")"
assert_eq "ls of a missing directory is 125" 125 "$(status acme volume ls "$ID:/nope")"

# ---- refused ----
assert_eq "an upload escaping the volume (../x) is 125" 125 \
        "$(status acme volume cp "$SCRATCH/root.txt" "$ID:../x")"
check "nothing was written beside the volume" test ! -e "$ROOT/acme/x"
assert_eq "a download escaping the volume (../x) is 125" 125 \
        "$(status acme volume cp "$ID:../../tokens" "$SCRATCH/out/stolen")"
check "and leaves no file" test ! -e "$SCRATCH/out/stolen"
assert_eq "ls escaping the volume is 125" 125 "$(status acme volume ls "$ID:../")"
assert_eq "another tenant's volume: upload is 125" 125 \
        "$(status globex volume cp "$SCRATCH/root.txt" "$ID:/evil")"
check "nothing was written" test ! -e "$V/evil"
assert_eq "another tenant's volume: download is 125" 125 \
        "$(status globex volume cp "$ID:/root.txt" "$SCRATCH/out/theirs")"
check "and leaves no file" test ! -e "$SCRATCH/out/theirs"
assert_eq "another tenant's volume: ls is 125" 125 "$(status globex volume ls "$ID")"
assert_eq "another tenant cannot use the name either" 125 "$(status globex volume ls work)"
assert_eq "a missing file downloads nothing and is 125" 125 \
        "$(status acme volume cp "$ID:/data/nope" "$SCRATCH/out/nope")"
check "no file is left" test ! -e "$SCRATCH/out/nope"
ls -A "$SCRATCH/out" | grep -q aegis- && fail "a temporary download file was left: $(ls -A "$SCRATCH/out")"
assert_eq "a local directory is refused with 125" 125 "$(status acme volume cp "$SCRATCH/out" "$ID:/d")"
assert_match "saying why" "is a directory" "$(cat "$SCRATCH/err")"
assert_eq "two local paths are refused with 125" 125 "$(status acme volume cp "$SCRATCH/empty" "$SCRATCH/x")"
assert_eq "two volume paths are refused with 125" 125 "$(status acme volume cp "$ID:/a" "$ID:/b")"
assert_eq "a missing local file is 125" 125 "$(status acme volume cp "$SCRATCH/missing" "$ID:/m")"
finish
