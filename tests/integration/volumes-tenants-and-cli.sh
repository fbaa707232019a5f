#!/bin/bash
# Tenants and the volume CLI, on real Podman (bind mode). api.tokens_file gives each token a
# tenant ("TOKEN TENANT"); volumes live in storage.root/<tenant>/<id>.
#  - `aegis volume create|list|show|delete` work for the owning tenant;
#  - another tenant can neither see, delete nor attach it: show/delete 404, list empty,
#    attaching it by id in a manifest is refused at submit (400 naming the field) and no
#    execution is created;
#  - the owner's execution attaches it and writes into it; its own volumes land under its
#    tenant's directory;
#  - delete is refused (409) while a live execution mounts the volume;
#  - bad input gets a clear error: a bad size limit, a bad ttl, a bad tenant in the tokens file.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
ROOT="$SCRATCH/storage"
printf '%s\n' "# token tenant" "tok-acme acme" "tok-globex   globex" "tok-plain" >"$SCRATCH/tokens"
AEGIS_API_EXTRA="  tokens_file: \"$SCRATCH/tokens\"" aegisd_start a "storage:
  root: \"$ROOT\"
  mount_mode: bind"
acme() { "$AEGIS_CLI" --url "$AEGIS_URL" --token tok-acme "$@"; }
globex() { "$AEGIS_CLI" --url "$AEGIS_URL" --token tok-globex "$@"; }
wait_as() { # wait_as TOKEN ID STATUS SECONDS
        wait_for "$4" bash -c '[ "$(curl -s -H "Authorization: Bearer $1" "$2/v1/executions/$3" | jq -r .status)" = "$4" ]' \
                _ "$1" "$AEGIS_URL" "$2" "$3"
}
as() { local t="$1" m="$2" p="$3"; shift 3; curl -s -X "$m" -H "Authorization: Bearer $t" "$AEGIS_URL$p" "$@"; }

VA="$(acme volume create data --size-limit 64Mi)"
assert_eq "aegis volume create exits 0" 0 "$?"
assert_match "it prints the new id" '^[0-9a-f-]{36}$' "$VA"
check "the directory is under the tenant" test -d "$ROOT/acme/$VA"
assert_match "aegis volume list shows it, its size for people" "^${VA:0:12} +data +persistent +read-write +64 MiB " "$(acme volume list | sed -n 2p)"
show="$(acme volume show "$VA")"
assert_match "aegis volume show: tenant" 'Tenant: +acme' "$show"
assert_match "aegis volume show: bytes used" 'Used: +0 B \(0 bytes\)' "$show"
assert_match "aegis volume show: never expires" 'Expires: +never' "$show"
assert_eq "show --output json" "acme 67108864" "$(acme --output json volume show "$VA" | jq -r '"\(.tenant_id) \(.size_limit)"')"

# ---- another tenant ----
assert_eq "another tenant's list is empty" 1 "$(globex volume list | wc -l)"
out="$(globex volume show "$VA" 2>&1)"
assert_eq "another tenant's show fails (125)" 125 "$?"
assert_match "as if it did not exist" 'no such volume' "$out"
globex volume delete "$VA" >/dev/null 2>&1
assert_eq "another tenant's delete fails (125)" 125 "$?"
check "and the directory is still there" test -d "$ROOT/acme/$VA"
assert_eq "the default tenant (token without tenant) does not see it" 404 \
        "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer tok-plain' "$AEGIS_URL/v1/volumes/$VA")"
m="$(manifest steal "cat /workspace/*" "  volumes:
    - name: loot
      mount_path: /workspace
      volume_id: $VA")"
before="$(as tok-globex GET /v1/executions | jq '.executions | length')"
resp="$(as tok-globex POST /v1/executions -H 'Content-Type: application/json' -d "$(jq -n --rawfile m "$m" '{manifest: $m}')")"
assert_eq "attaching another tenant's volume is refused, naming the field" "spec.volumes[0].volume_id" \
        "$(jq -r .field <<<"$resp")"
assert_match "with a message saying what to do" "no volume $VA for tenant globex" "$(jq -r .error <<<"$resp")"
assert_eq "no execution was created" "$before" "$(as tok-globex GET /v1/executions | jq '.executions | length')"
out="$(globex -q run "$m" 2>&1)"
assert_eq "aegis run of it is refused (125)" 125 "$?"

# ---- the owner ----
m="$(manifest use "echo mine >/workspace/in/f; echo own >/workspace/own/g" "  volumes:
    - name: in
      mount_path: /workspace/in
      volume_id: $VA
    - name: own
      mount_path: /workspace/own")"
acme -q run "$m" >/dev/null
assert_eq "the owner's execution attaching it completes" 0 "$?"
assert_eq "it wrote into the volume" mine "$(cat "$ROOT/acme/$VA/f")"
id="$(acme list --output json | jq -r '.executions[0].id')"
own="$(acme --output json volume list | jq -r --arg x "$id" '.volumes[] | select(.owner_execution_id == $x) | .id')"
assert_eq "its own volume is under the tenant's directory" own "$(cat "$ROOT/acme/$own/g")"
assert_match "aegis volume show counts the bytes" 'Used: +5 B \(5 bytes\)' "$(acme volume show "$VA")"

# ---- delete refused while mounted by a live execution ----
m="$(manifest hold 'sleep 300' "  volumes:
    - name: in
      mount_path: /workspace
      volume_id: $VA")"
hid="$(acme submit "$m")"
wait_as tok-acme "$hid" running 120 || fail "the holding execution did not start"
out="$(acme volume delete "$VA" 2>&1)"
assert_eq "delete while a live execution mounts it fails (125)" 125 "$?"
assert_match "saying why" 'in use by 1 live execution' "$out"
acme cancel "$hid" >/dev/null 2>&1
wait_as tok-acme "$hid" cancelled 60 || fail "could not cancel"
acme volume delete "$VA" 2>/dev/null
assert_eq "after it ended, delete works" 0 "$?"
check "the directory is gone" test ! -e "$ROOT/acme/$VA"
acme volume show "$VA" >/dev/null 2>&1
assert_eq "and show fails (125)" 125 "$?"

# ---- bad input ----
out="$(acme volume create x --size-limit lots 2>&1)"
assert_eq "a bad size limit fails (125), before any request" 125 "$?"
assert_match "naming it" '--size-limit expects a size' "$out"
resp="$(as tok-acme POST /v1/volumes -H 'Content-Type: application/json' -d '{"name": "x", "size_limit": "lots"}')"
assert_match "the API refuses it too, naming it" 'size_limit must be a size' "$(jq -r .error <<<"$resp")"
out="$(acme volume create x --storage-class ephemeral --ttl-hours 0 2>&1)"
assert_eq "ttl 0 is a usage error (125)" 125 "$?"
assert_match "naming it" 'ttl-hours' "$out"
assert_eq "nothing was created" 0 "$(acme --output json volume list | jq '[.volumes[] | select(.name == "x")] | length')"

printf 'tok-x bad/tenant\n' >"$SCRATCH/bad-tokens"
sed "s|$SCRATCH/tokens|$SCRATCH/bad-tokens|; s|127.0.0.1:[0-9]*\"|127.0.0.1:$(free_port)\"|" \
        "$SCRATCH/aegisd-a/config.yaml" >"$SCRATCH/bad.yaml"
out="$(STATE_DIRECTORY="$SCRATCH/bad-state" timeout 30 "$AEGISD" --config "$SCRATCH/bad.yaml" 2>&1)"
rc=$?
check "aegisd refuses a tokens file with a bad tenant (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
assert_match "naming the file and line" "bad-tokens:1: the tenant after the token" "$out"
assert_no_managed_containers
finish
