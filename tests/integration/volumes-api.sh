#!/bin/bash
# Standalone volumes over aegisd's REST API: create/list/show/delete, bytes_used after a write
# into the volume's directory, 400/413 naming the field for bad input, 404 for unknown,
# foreign and path-trick ids (nothing outside storage.root touched), 409 while a live
# execution owns the volume, and the directory gone after delete. No Podman is needed for
# these routes: the Podman socket points nowhere.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/common.sh"
require_cmd curl jq sqlite3
make_scratch
PORT="$(free_port)"
U="http://127.0.0.1:$PORT"
ROOT="$SCRATCH/volumes"
DB="$SCRATCH/state/aegis.db"
mkdir -p "$SCRATCH/state"
cat >"$SCRATCH/config.yaml" <<YAML
api:
  listen: "127.0.0.1:$PORT"
  metrics_listen: "127.0.0.1:$(free_port)"
  max_body_bytes: 64Ki
runtime:
  container_socket_path: "$SCRATCH/no-podman.sock"
storage:
  root: "$ROOT"
  mount_mode: bind
database:
  url: "sqlite://$DB"
YAML
STATE_DIRECTORY="$SCRATCH/state" "$AEGISD" --config "$SCRATCH/config.yaml" >"$SCRATCH/aegisd.log" 2>&1 &
PID=$!
on_exit "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
wait_for 30 curl -sf "$U/health" || { tail -20 "$SCRATCH/aegisd.log" >&2; fail "aegisd did not come up"; }

# req METHOD PATH [curl args] → prints the status; body in $SCRATCH/body
req() { local m="$1" p="$2"; shift 2; curl -s -o "$SCRATCH/body" -w '%{http_code}' -X "$m" "$U$p" "$@"; }
post() { req POST /v1/volumes -H 'Content-Type: application/json' --data-binary "$1"; }
body() { jq -r "$1" "$SCRATCH/body"; }
# db SQL: a change made behind aegisd's back; it waits out aegisd's own write transactions
# (the sqlite3 shell gives up at once on a locked database by default).
db() { sqlite3 -cmd '.timeout 10000' "$DB" "$1" || fail "cannot change the store: $1"; }

# Canary outside storage.root: must survive every request below.
echo keep >"$SCRATCH/canary"

# ---- create ----
assert_eq "create answers 201" 201 "$(post '{"name":"work","size_limit":"1Gi","access_mode":"read-write"}')"
ID="$(body .id)"
assert_match "create returns an id" '^[A-Za-z0-9_.-]+$' "$ID"
assert_eq "create echoes the volume" "work 1073741824 read-write persistent default active 0" \
        "$(body '[.name, .size_limit, .access_mode, .storage_class, .tenant_id, .status, .bytes_used] | map(tostring) | join(" ")')"
check "the directory exists under storage.root/default/<id>" test -d "$ROOT/default/$ID"
# The default agent's uid 1000 as its own user namespace maps it (runtime.user_namespace_base + 1000).
own="$((1879048192 + 1000))"
assert_eq "read-write directory mode and owner" "770 $own:$own" "$(stat -c '%a %u:%g' "$ROOT/default/$ID")"

assert_eq "ephemeral read-only with ttl" 201 \
        "$(post '{"name":"scratch","size_limit":"512Mi","access_mode":"read-only","storage_class":"ephemeral","ttl_hours":2}')"
ID2="$(body .id)"
check "ephemeral volume has an expiry" test "$(body .expires_at)" != null
assert_eq "read-only directory mode" 750 "$(stat -c '%a' "$ROOT/default/$ID2")"

# ---- list / show ----
assert_eq "list answers 200" 200 "$(req GET /v1/volumes)"
assert_eq "list holds both, oldest first" "work scratch" "$(body '[.volumes[].name] | join(" ")')"
assert_eq "show answers 200" 200 "$(req GET "/v1/volumes/$ID")"
assert_eq "bytes_used of an empty volume" 0 "$(body .bytes_used)"
head -c 12345 /dev/zero >"$ROOT/default/$ID/a"
mkdir "$ROOT/default/$ID/sub" && head -c 1000 /dev/zero >"$ROOT/default/$ID/sub/b"
ln -s "$SCRATCH/canary" "$ROOT/default/$ID/link-out"
req GET "/v1/volumes/$ID" >/dev/null
assert_eq "bytes_used counts files, a symlink as itself" "$((12345 + 1000 + ${#SCRATCH} + 7))" "$(body .bytes_used)"

# ---- bad input: 400 naming the field ----
assert_eq "bad size_limit is 400" "400 size_limit" "$(post '{"name":"x","size_limit":"lots"}') $(body .field)"
assert_eq "negative size_limit is 400" "400 size_limit" "$(post '{"name":"x","size_limit":-5}') $(body .field)"
assert_eq "bad access_mode is 400" "400 access_mode" "$(post '{"name":"x","access_mode":"rw"}') $(body .field)"
assert_eq "bad storage_class is 400" "400 storage_class" "$(post '{"name":"x","storage_class":"forever"}') $(body .field)"
assert_eq "ttl_hours on a persistent volume is 400" "400 ttl_hours" "$(post '{"name":"x","ttl_hours":3}') $(body .field)"
assert_eq "ttl_hours 0 is 400" "400 ttl_hours" \
        "$(post '{"name":"x","storage_class":"ephemeral","ttl_hours":0}') $(body .field)"
assert_eq "unknown field is 400 naming it" "400 mount_path" "$(post '{"name":"x","mount_path":"/workspace"}') $(body .field)"
assert_eq "missing name is 400" "400 name" "$(post '{"size_limit":"1Gi"}') $(body .field)"
assert_eq "name with a slash is 400" "400 name" "$(post '{"name":"../../etc"}') $(body .field)"
assert_eq "not JSON is 400" 400 "$(post '{"name":')"
assert_eq "not an object is 400" 400 "$(post '[1,2]')"
head -c 200000 /dev/zero | tr '\0' 'a' | sed 's/^/{"name":"/; s/$/"}/' >"$SCRATCH/huge.json"
assert_eq "huge body is 413" 413 \
        "$(req POST /v1/volumes -H 'Content-Type: application/json' --data-binary @"$SCRATCH/huge.json")"
assert_eq "no volume was created by bad input" 2 "$(req GET /v1/volumes >/dev/null; body '.volumes | length')"

# ---- unknown, foreign and path-trick ids ----
assert_eq "unknown id is 404" "404 id" "$(req GET /v1/volumes/no-such-volume) $(body .field)"
assert_eq "delete of unknown id is 404" 404 "$(req DELETE /v1/volumes/no-such-volume)"
for trick in '..' '%2e%2e' '%2E%2E' '.' '..%2f..%2fcanary' '%2e%2e%2f%2e%2e' "$ID%2f..%2f.." "..%2fdefault%2f$ID"; do
        code="$(req DELETE "/v1/volumes/$trick" --path-as-is)"
        check "DELETE /v1/volumes/$trick is 400/404 (got $code)" test "$code" = 404 -o "$code" = 400
        code="$(req GET "/v1/volumes/$trick" --path-as-is)"
        check "GET /v1/volumes/$trick is 400/404 (got $code)" test "$code" = 404 -o "$code" = 400
done
check "canary outside storage.root untouched" test "$(cat "$SCRATCH/canary")" = keep
check "the volume survived the tricks" test -f "$ROOT/default/$ID/a"
# Another tenant's volume is invisible.
db "UPDATE volumes SET tenant_id = 'other' WHERE id = '$ID2';"
assert_eq "another tenant's volume is 404" 404 "$(req GET "/v1/volumes/$ID2")"
assert_eq "another tenant's volume cannot be deleted" 404 "$(req DELETE "/v1/volumes/$ID2")"
assert_eq "and is not listed" "work" "$(req GET /v1/volumes >/dev/null; body '[.volumes[].name] | join(" ")')"
db "UPDATE volumes SET tenant_id = 'default' WHERE id = '$ID2';"

# ---- 409 while a live execution owns it ----
# Leased by another daemon for an hour, so this aegisd's supervisor leaves it alone.
NOW="$(date +%s)000000"
LEASE="$(($(date +%s) + 3600))000000"
db "INSERT INTO executions (id, tenant_id, status, max_iterations, created_at, updated_at,
                            claimed_by, lease_expires_at)
    VALUES ('exec-live', 'default', 'running', 1, $NOW, $NOW, 'another-daemon', $LEASE);
    UPDATE volumes SET owner_execution_id = 'exec-live' WHERE id = '$ID';"
assert_eq "delete while in use is 409" "409 id" "$(req DELETE "/v1/volumes/$ID") $(body .field)"
check "the directory is still there" test -f "$ROOT/default/$ID/a"
db "UPDATE executions SET status = 'completed', finished_at = $NOW WHERE id = 'exec-live';"

# ---- delete ----
assert_eq "delete answers 204" 204 "$(req DELETE "/v1/volumes/$ID")"
check "the directory is gone" test ! -e "$ROOT/default/$ID"
check "the symlink target outside survived" test "$(cat "$SCRATCH/canary")" = keep
assert_eq "a deleted volume is 404" 404 "$(req GET "/v1/volumes/$ID")"
assert_eq "deleting again is 404" 404 "$(req DELETE "/v1/volumes/$ID")"
assert_eq "list holds the other one" "scratch" "$(req GET /v1/volumes >/dev/null; body '[.volumes[].name] | join(" ")')"
assert_eq "delete the ephemeral one" 204 "$(req DELETE "/v1/volumes/$ID2")"
assert_eq "nothing left under the tenant" "" "$(ls -A "$ROOT/default")"
check "aegisd is still running" kill -0 "$PID"
finish
