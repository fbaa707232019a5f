#!/bin/bash
# The reference SDK's volume calls, replayed with curl in its exact shapes against a real
# aegisd (issue 15): createVolume {label, size_limit_bytes}, getVolume, listVolumes
# {volumes, total_count, total_quota_bytes}, the tenant's quota, renaming, and the file API —
# multipart upload (0 bytes, 1 byte, into a directory, raw), list, download (whole and a
# range), mkdir, move, delete. Then what must never happen: a path that escapes the volume
# ("..", absolute, a symlink planted inside it), an upload past the quota (refused, nothing
# partial left, up front and midway), another tenant reaching any of it (404 exactly like a
# missing volume), and a 200 MiB upload held in memory (aegisd's peak RSS stays flat).
# No Podman is needed: the Podman socket points nowhere.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/common.sh"
require_cmd curl jq cmp
make_scratch
PORT="$(free_port)"
U="http://127.0.0.1:$PORT"
ROOT="$SCRATCH/volumes"
mkdir -p "$SCRATCH/state"
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

# req TOKEN METHOD PATH [curl args] → prints the status; body in $SCRATCH/body
req() {
        local t="$1" m="$2" p="$3"
        shift 3
        curl -s -o "$SCRATCH/body" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $t" "$U$p" "$@"
}
a() { req tok-acme "$@"; }
b() { req tok-globex "$@"; }
json() { printf '%s' "-HContent-Type: application/json"; }
body() { jq -r "$1" "$SCRATCH/body"; }
echo keep >"$SCRATCH/canary"

# ---- createVolume / getVolume / listVolumes / quota, as the SDK sends them ----
assert_eq "createVolume {label, size_limit_bytes} is 201" 201 \
        "$(a POST /v1/volumes "$(json)" -d '{"label":"work","size_limit_bytes":1048576}')"
ID="$(body .id)"
V="$ROOT/acme/$ID"
assert_eq "the Volume carries the reference's fields" "work 1048576 0 true" \
        "$(body '"\(.label) \(.size_limit_bytes) \(.used_bytes) \(.created_at != null)"')"
check "its directory is under the tenant" test -d "$V"
assert_eq "getVolume is 200" "200 work" "$(a GET "/v1/volumes/$ID") $(body .label)"
assert_eq "listVolumes has volumes, total_count, total_quota_bytes" "work 1 1048576" \
        "$(a GET /v1/volumes >/dev/null; body '"\([.volumes[].label] | join(",")) \(.total_count) \(.total_quota_bytes)"')"
assert_eq "quota of the tenant" "200 1 0 null" \
        "$(a GET /v1/volumes/quota) $(body '"\(.volume_count) \(.used_bytes) \(.volume_limit)"')"
check "quota_bytes is the storage's size" test "$(body .quota_bytes)" -gt 0
assert_eq "PATCH {label} renames" "200 renamed" "$(a PATCH "/v1/volumes/$ID" "$(json)" -d '{"label":"renamed"}') $(body .label)"
assert_eq "PATCH of another field is 400 naming it" "400 size_limit_bytes" \
        "$(a PATCH "/v1/volumes/$ID" "$(json)" -d '{"size_limit_bytes":1}') $(body .field)"
assert_eq "a label with a control character is 400" "400 label" \
        "$(a POST /v1/volumes "$(json)" -d '{"label":"a\u0001b"}') $(body .field)"
assert_eq "a negative size_limit_bytes is 400" "400 size_limit_bytes" \
        "$(a POST /v1/volumes "$(json)" -d '{"label":"x","size_limit_bytes":-1}') $(body .field)"

# ---- upload (multipart field "file"), list, download ----
printf 'hello, volume\n' >"$SCRATCH/in.txt"
assert_eq "upload to a file path is 201" 201 \
        "$(a POST "/v1/volumes/$ID/files/upload?path=/data/in.txt" -F "file=@$SCRATCH/in.txt")"
assert_eq "it answers name and size_bytes" "in.txt 14 true" \
        "$(body '"\(.name) \(.size_bytes) \(.uploaded_at != null)"')"
check "the bytes are in the volume (parents made)" cmp "$SCRATCH/in.txt" "$V/data/in.txt"
: >"$SCRATCH/empty"
printf x >"$SCRATCH/one"
assert_eq "a 0-byte upload into a directory takes the form's file name" "201 empty 0" \
        "$(a POST "/v1/volumes/$ID/files/upload?path=/data/" -F "file=@$SCRATCH/empty") $(body '"\(.name) \(.size_bytes)"')"
check "and is there, empty" test -f "$V/data/empty" -a ! -s "$V/data/empty"
assert_eq "a 1-byte upload into an existing directory" "201 one 1" \
        "$(a POST "/v1/volumes/$ID/files/upload?path=/data" -F "file=@$SCRATCH/one") $(body '"\(.name) \(.size_bytes)"')"
assert_eq "a raw application/octet-stream body" "201 raw.bin 14" \
        "$(a POST "/v1/volumes/$ID/files/upload?path=raw.bin" -H 'Content-Type: application/octet-stream' \
                --data-binary @"$SCRATCH/in.txt") $(body '"\(.name) \(.size_bytes)"')"
assert_eq "an upload replaces a file" "201 1" \
        "$(a POST "/v1/volumes/$ID/files/upload?path=/raw.bin" -F "file=@$SCRATCH/one") $(body .size_bytes)"
assert_eq "a form without a file field is 400" "400 file" \
        "$(a POST "/v1/volumes/$ID/files/upload?path=/x" -F "other=1") $(body .field)"
check "which left nothing behind" test ! -e "$V/x"
assert_eq "list files of /data" "200 empty:file:0 in.txt:file:14 one:file:1" \
        "$(a GET "/v1/volumes/$ID/files?path=/data") $(body '[.entries[] | "\(.name):\(.type):\(.size_bytes)"] | join(" ")')"
check "entries carry modified_at" test "$(body '.entries[0].modified_at')" != null
assert_eq "list the root (no path)" "200 data:dir raw.bin:file" \
        "$(a GET "/v1/volumes/$ID/files") $(body '[.entries[] | "\(.name):\(.type)"] | join(" ")')"
assert_eq "listing a file is 400" 400 "$(a GET "/v1/volumes/$ID/files?path=/raw.bin")"
assert_eq "listing a missing directory is 404" 404 "$(a GET "/v1/volumes/$ID/files?path=/nope")"
assert_eq "download is 200" 200 "$(a GET "/v1/volumes/$ID/files/download?path=/data/in.txt")"
check "with the same bytes" cmp "$SCRATCH/in.txt" "$SCRATCH/body"
hdr="$(curl -s -D - -o /dev/null -H 'Authorization: Bearer tok-acme' "$U/v1/volumes/$ID/files/download?path=/data/in.txt")"
assert_match "with Content-Length" $'[Cc]ontent-[Ll]ength: 14\r' "$hdr"
assert_eq "a Range request is 206 with those bytes" "206 llo," \
        "$(a GET "/v1/volumes/$ID/files/download?path=/data/in.txt" -H 'Range: bytes=2-5') $(cat "$SCRATCH/body")"
assert_eq "a Range past the end is 416" 416 \
        "$(a GET "/v1/volumes/$ID/files/download?path=/data/in.txt" -H 'Range: bytes=100-')"
assert_eq "downloading a directory is 400" 400 "$(a GET "/v1/volumes/$ID/files/download?path=/data")"
assert_eq "downloading a missing file is 404" 404 "$(a GET "/v1/volumes/$ID/files/download?path=/data/none")"
mkfifo "$V/fifo"
assert_eq "downloading a FIFO is 400, never a hang" 400 \
        "$(a GET "/v1/volumes/$ID/files/download?path=/fifo" --max-time 5)"

# ---- mkdir, move, delete ----
assert_eq "mkdir is 201" 201 "$(a POST "/v1/volumes/$ID/files/mkdir" "$(json)" -d '{"path":"/a/b/c"}')"
check "the directories exist" test -d "$V/a/b/c"
assert_eq "move is 200" 200 \
        "$(a POST "/v1/volumes/$ID/files/move" "$(json)" -d '{"from":"/data/in.txt","to":"/a/b/c/moved.txt"}')"
check "the file moved" cmp "$SCRATCH/in.txt" "$V/a/b/c/moved.txt"
check "and is gone from where it was" test ! -e "$V/data/in.txt"
assert_eq "moving a missing file is 404 naming from" "404 from" \
        "$(a POST "/v1/volumes/$ID/files/move" "$(json)" -d '{"from":"/nope","to":"/x"}') $(body .field)"
assert_eq "move without to is 400" "400 to" \
        "$(a POST "/v1/volumes/$ID/files/move" "$(json)" -d '{"from":"/raw.bin"}') $(body .field)"
assert_eq "delete a directory tree is 200" "200 deleted" "$(a DELETE "/v1/volumes/$ID/files?path=/a") $(body .status)"
check "it is gone" test ! -e "$V/a"
assert_eq "deleting the root is 400" 400 "$(a DELETE "/v1/volumes/$ID/files?path=/")"
assert_eq "deleting a missing file is 404" 404 "$(a DELETE "/v1/volumes/$ID/files?path=/a")"
check "the volume itself is still there" test -d "$V/data"

# ---- escapes: "..", absolute, symlinks planted inside the volume ----
for p in '../canary' '/../../canary' 'data/../../canary' '%2e%2e/%2e%2e/canary' '..'; do
        assert_eq "download ?path=$p is 400" 400 "$(a GET "/v1/volumes/$ID/files/download?path=$p")"
        assert_eq "upload ?path=$p is 400" 400 "$(a POST "/v1/volumes/$ID/files/upload?path=$p" -F "file=@$SCRATCH/one")"
        assert_eq "delete ?path=$p is 400" 400 "$(a DELETE "/v1/volumes/$ID/files?path=$p")"
        assert_eq "list ?path=$p is 400" 400 "$(a GET "/v1/volumes/$ID/files?path=$p")"
done
assert_eq "mkdir with .. is 400" 400 "$(a POST "/v1/volumes/$ID/files/mkdir" "$(json)" -d '{"path":"../../evil"}')"
assert_eq "move out with .. is 400" 400 \
        "$(a POST "/v1/volumes/$ID/files/move" "$(json)" -d '{"from":"/raw.bin","to":"../../stolen"}')"
assert_eq "an absolute path is the volume's, not the host's" 404 \
        "$(a GET "/v1/volumes/$ID/files/download?path=/etc/passwd")"
# What a container could plant through its mount: links to the host.
ln -s "$SCRATCH/canary" "$V/link-file"
ln -s "$SCRATCH" "$V/link-dir"
ln -s / "$V/data/root"
assert_eq "download through a planted file symlink is 400" 400 \
        "$(a GET "/v1/volumes/$ID/files/download?path=/link-file")"
assert_match "saying links are not followed" 'symbolic link' "$(body .error)"
assert_eq "download through a planted dir symlink is 400" 400 \
        "$(a GET "/v1/volumes/$ID/files/download?path=/link-dir/canary")"
assert_eq "download through a nested link to / is 400" 400 \
        "$(a GET "/v1/volumes/$ID/files/download?path=/data/root/etc/passwd")"
assert_eq "list through a dir symlink is 400" 400 "$(a GET "/v1/volumes/$ID/files?path=/link-dir")"
assert_eq "upload through a dir symlink is 400" 400 \
        "$(a POST "/v1/volumes/$ID/files/upload?path=/link-dir/planted" -F "file=@$SCRATCH/one")"
check "nothing was written outside" test ! -e "$SCRATCH/planted"
assert_eq "upload onto a file symlink replaces the link, not its target" 201 \
        "$(a POST "/v1/volumes/$ID/files/upload?path=/link-file" -F "file=@$SCRATCH/one")"
check "the target outside is untouched" test "$(cat "$SCRATCH/canary")" = keep
check "the link became a file" test -f "$V/link-file" -a ! -L "$V/link-file"
assert_eq "mkdir through a dir symlink is 400" 400 \
        "$(a POST "/v1/volumes/$ID/files/mkdir" "$(json)" -d '{"path":"/link-dir/made"}')"
check "no directory was made outside" test ! -e "$SCRATCH/made"
assert_eq "move into a dir symlink is 400" 400 \
        "$(a POST "/v1/volumes/$ID/files/move" "$(json)" -d '{"from":"/raw.bin","to":"/link-dir/moved"}')"
assert_eq "move from a dir symlink is 400" 400 \
        "$(a POST "/v1/volumes/$ID/files/move" "$(json)" -d '{"from":"/link-dir/canary","to":"/stolen"}')"
check "the canary stayed" test "$(cat "$SCRATCH/canary")" = keep
assert_eq "the listing shows a link as a symlink" "symlink" \
        "$(a GET "/v1/volumes/$ID/files" >/dev/null; body '.entries[] | select(.name == "link-dir") | .type')"
assert_eq "deleting a dir symlink removes the link only" 200 "$(a DELETE "/v1/volumes/$ID/files?path=/link-dir")"
check "the directory it pointed to survived" test -f "$SCRATCH/canary" -a -d "$SCRATCH/state"
check "the link is gone" test ! -L "$V/link-dir"

# ---- quota: refused up front and midway, nothing partial left ----
head -c $((2 * 1024 * 1024)) /dev/zero >"$SCRATCH/2m"
assert_eq "an upload past size_limit_bytes is 413" "413 file" \
        "$(a POST "/v1/volumes/$ID/files/upload?path=/big" -F "file=@$SCRATCH/2m") $(body .field)"
assert_match "saying what is left" 'size_limit' "$(body .error)"
assert_eq "a chunked upload past it is 413 once read" 413 \
        "$(a POST "/v1/volumes/$ID/files/upload?path=/big" -H 'Transfer-Encoding: chunked' -F "file=@$SCRATCH/2m")"
check "no file and no temporary is left" test -z "$(find "$V" -name 'big' -o -name '.aegis-upload-*')"
head -c $((900 * 1024)) /dev/zero >"$SCRATCH/900k"
assert_eq "an upload within the quota still works" 201 \
        "$(a POST "/v1/volumes/$ID/files/upload?path=/fits" -F "file=@$SCRATCH/900k")"
assert_eq "replacing it with as much again fits (its old bytes are freed)" 201 \
        "$(a POST "/v1/volumes/$ID/files/upload?path=/fits" -F "file=@$SCRATCH/900k")"
assert_eq "a second file of that size does not" 413 \
        "$(a POST "/v1/volumes/$ID/files/upload?path=/second" -F "file=@$SCRATCH/900k")"
check "and left nothing" test ! -e "$V/second"
head -c 200000 /dev/zero | tr '\0' a | sed 's/^/{"path":"/; s/$/"}/' >"$SCRATCH/huge.json"
assert_eq "a JSON body past api.max_body_bytes is still 413" 413 \
        "$(a POST "/v1/volumes/$ID/files/mkdir" "$(json)" --data-binary @"$SCRATCH/huge.json")"

# ---- another tenant: every route 404, exactly like a missing volume ----
BODY='{"path":"/x","from":"/raw.bin","to":"/y","label":"x"}'
for m_p in "GET /v1/volumes/$ID" "PATCH /v1/volumes/$ID" "DELETE /v1/volumes/$ID" \
        "GET /v1/volumes/$ID/files" "GET /v1/volumes/$ID/files/download?path=/raw.bin" \
        "DELETE /v1/volumes/$ID/files?path=/raw.bin" "POST /v1/volumes/$ID/files/mkdir" \
        "POST /v1/volumes/$ID/files/move"; do
        set -- $m_p
        want="$(a "$1" "${2/$ID/no-such-volume}" "$(json)" -d "$BODY") $(body .error | sed 's/no-such-volume/ID/')"
        got="$(b "$1" "$2" "$(json)" -d "$BODY") $(body .error | sed "s/$ID/ID/")"
        assert_match "another tenant: $m_p is 404" '^404 ' "$got"
        assert_eq "another tenant: $m_p answers exactly as a missing volume" "$want" "$got"
done
assert_eq "another tenant's upload is 404" 404 \
        "$(b POST "/v1/volumes/$ID/files/upload?path=/intruder" -F "file=@$SCRATCH/one")"
check "and wrote nothing" test ! -e "$V/intruder" -a ! -e "$V/x" -a ! -e "$V/y"
check "the file another tenant tried to delete is there" test -f "$V/raw.bin"
assert_eq "another tenant's list is empty" "0 0" \
        "$(b GET /v1/volumes >/dev/null; body '"\(.total_count) \(.volumes | length)"')"
assert_eq "another tenant's quota counts nothing" 0 "$(b GET /v1/volumes/quota >/dev/null; body .volume_count)"
assert_eq "the owner still sees its label" renamed "$(a GET "/v1/volumes/$ID" >/dev/null; body .label)"

# ---- 200 MiB, streamed: aegisd's peak RSS stays flat ----
# (16 MiB under valgrind, whose own memory makes RSS meaningless: there it checks the paths.)
MIB=200
[ -n "${VALGRIND_DIR:-}" ] && MIB=16
assert_eq "an unlimited volume" 201 "$(a POST /v1/volumes "$(json)" -d '{"label":"big"}')"
BIG="$(body .id)"
truncate -s "${MIB}M" "$SCRATCH/big"
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$PID/status"; }
before="$(hwm)"
assert_eq "a $MIB MiB upload is 201" "201 $((MIB * 1024 * 1024))" \
        "$(a POST "/v1/volumes/$BIG/files/upload?path=/big" -F "file=@$SCRATCH/big") $(body .size_bytes)"
after="$(hwm)"
note "aegisd VmHWM: $before kB before, $after kB after the $MIB MiB upload"
check "the file is whole" cmp "$SCRATCH/big" "$ROOT/acme/$BIG/big"
assert_eq "and downloads whole" $((MIB * 1024 * 1024)) \
        "$(curl -s -H 'Authorization: Bearer tok-acme' "$U/v1/volumes/$BIG/files/download?path=/big" | wc -c)"
if [ -z "${VALGRIND_DIR:-}" ]; then
        check "aegisd's peak RSS grew by less than 32 MiB ($before → $after kB)" test $((after - before)) -lt 32768
        check "peak RSS still flat after the download" test $(($(hwm) - before)) -lt 32768
fi

assert_eq "deleting the volume" 204 "$(a DELETE "/v1/volumes/$ID")"
check "the canary outside storage.root survived everything" test "$(cat "$SCRATCH/canary")" = keep
check "aegisd is still running" kill -0 "$PID"
finish
