#!/bin/bash
# Issue 19: no secret in anything the daemons write. Plants a password in database.url (in the
# URL's user information and in ?password=, against a real PostgreSQL), another in a
# keyword-form DSN, a bearer token, and a manifest environment value; then runs aegisd (debug
# logging) with an execution on real Podman, a refused manifest, /metrics, the events,
# `aegis show`, `aegisd --check-config` (valid and invalid), aegis-reaper (reaching the store
# and not) and aegis-nfsd on the same store, and greps everything they wrote for the secrets.
# Each output must show its URL masked ("***"), so a program that stopped printing it would
# not pass for one that redacts it.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/postgres.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
pg_start

PW=pw-Secret-4471 PWQ=pwq-Secret-8812 PWK=pwk-Secret-3309 TOK=tok-Secret-5520 ENVV=env-Secret-9931
SECRETS=("$PW" "$PWQ" "$PWK" "$TOK" "$ENVV")
DBURL="postgresql://aegis:$PW@127.0.0.1:$PG_PORT/aegis?sslmode=disable&password=$PWQ"
OUT="$SCRATCH/out"
mkdir -p "$OUT"
printf '%s tenant-s\n' "$TOK" >"$SCRATCH/tokens"
chmod 600 "$SCRATCH/tokens"

AEGIS_LOG_LEVEL=debug AEGIS_DATABASE_URL="$DBURL" AEGIS_API_EXTRA="  tokens_file: \"$SCRATCH/tokens\"" aegisd_start
AUTH=(-H "Authorization: Bearer $TOK")

# An execution whose manifest carries a secret in its environment (the agent does not print it).
m="$(manifest secretive 'echo done' "  env:
    API_KEY: \"$ENVV\"")"
id="$(aegis --token "$TOK" -q submit "$m")"
wait_for 60 bash -c '[ "$(curl -s -H "Authorization: Bearer $3" "$1/v1/executions/$2" | jq -r .status)" = completed ]' _ "$AEGIS_URL" "$id" "$TOK" \
        || fail "the execution did not complete: $(api GET "/v1/executions/$id" "${AUTH[@]}")"
aegis --token "$TOK" show "$id" >"$OUT/aegis-show.txt" 2>&1
aegis --token "$TOK" -o json show "$id" >"$OUT/aegis-show.json" 2>&1
aegis --token "$TOK" events "$id" >"$OUT/aegis-events.txt" 2>&1
aegis --token "$TOK" list >"$OUT/aegis-list.txt" 2>&1
assert_match "aegis show shows the execution" completed "$(cat "$OUT/aegis-show.txt")"
# Refused manifests: the secret beside a bad field, and as a value of the wrong type.
bad="$(printf 'apiVersion: 100monkeys.ai/v1\nkind: Agent\nmetadata: {name: bad}\nspec:\n  runtime: {image: "%s", memory: lots}\n  env: {API_KEY: "%s"}\n' "$TEST_IMAGE" "$ENVV")"
api POST /v1/executions "${AUTH[@]}" -H 'Content-Type: application/yaml' --data-binary "$bad" >"$OUT/refused-1.json"
bad="$(printf 'apiVersion: 100monkeys.ai/v1\nkind: Agent\nmetadata: {name: bad}\nspec:\n  runtime: {image: "%s"}\n  env: {API_KEY: [ "%s" ]}\n' "$TEST_IMAGE" "$ENVV")"
api POST /v1/executions "${AUTH[@]}" -H 'Content-Type: application/yaml' --data-binary "$bad" >"$OUT/refused-2.json"
check "the refused manifests were refused" bash -c "jq -e .error '$OUT/refused-1.json' && jq -e .error '$OUT/refused-2.json'"
api GET /v1/executions "${AUTH[@]}" -H 'Authorization: Bearer wrong' >"$OUT/unauthorized.json"
MPORT="$(sed -n 's/^  metrics_listen: "127.0.0.1:\([0-9]*\)"$/\1/p' "$SCRATCH/aegisd-a/config.yaml")"
curl -s "http://127.0.0.1:$MPORT/metrics" >"$OUT/metrics.txt"
check "metrics were scraped" grep -q '^aegis_build_info' "$OUT/metrics.txt"
aegisd_stop a

# --check-config: valid (both passwords in the URL), and an invalid keyword-form DSN.
DATABASE_URL="$DBURL" "$AEGISD" --config "$SCRATCH/aegisd-a/config.yaml" --check-config >"$OUT/check-config.txt" 2>&1
assert_eq "--check-config accepts the configuration" 0 "$?"
assert_match "--check-config shows the URL masked" "postgresql://aegis:\*\*\*@127.0.0.1:$PG_PORT/aegis\?sslmode=disable&password=\*\*\*" \
        "$(cat "$OUT/check-config.txt")"
DATABASE_URL="host=127.0.0.1 port=$PG_PORT password=$PWK dbname=aegis" "$AEGISD" \
        --config "$SCRATCH/aegisd-a/config.yaml" --check-config >"$OUT/check-config-bad.txt" 2>&1
assert_eq "--check-config refuses a keyword DSN (exit 78)" 78 "$?"
assert_match "and shows it masked" 'password=\*\*\*' "$(cat "$OUT/check-config-bad.txt")"

# aegis-reaper on the store, and on a store it cannot reach.
sed "s|^  url: .*|  url: \"$DBURL\"|" "$SCRATCH/aegisd-a/config.yaml" >"$SCRATCH/reaper.yaml"
"$AEGIS_REAPER" --config "$SCRATCH/reaper.yaml" >"$OUT/reaper.txt" 2>&1
sed "s|^  url: .*|  url: \"postgresql://aegis:$PW@127.0.0.1:1/aegis?password=$PWQ\"|" "$SCRATCH/aegisd-a/config.yaml" >"$SCRATCH/reaper-down.yaml"
"$AEGIS_REAPER" --config "$SCRATCH/reaper-down.yaml" >"$OUT/reaper-down.txt" 2>&1
assert_match "the reaper's failure shows the URL masked" 'aegis:\*\*\*@127.0.0.1:1' "$(cat "$OUT/reaper-down.txt")"

# aegis-nfsd with the store as its registry.
NFS_PORT="$(free_port)"
mkdir -p "$SCRATCH/nfs-root" "$SCRATCH/nfs-state"
"$AEGIS_NFSD" --listen "127.0.0.1:$NFS_PORT" --metrics-listen "127.0.0.1:$(free_port)" --storage-root "$SCRATCH/nfs-root" \
        --state-dir "$SCRATCH/nfs-state" --exports "$DBURL" >"$OUT/nfsd.log" 2>&1 &
nfs_pid=$!
on_exit "kill $nfs_pid 2>/dev/null; wait $nfs_pid 2>/dev/null"
check "aegis-nfsd logged its start" wait_for 20 grep -q 'Serving NFSv3' "$OUT/nfsd.log"
kill "$nfs_pid"; wait "$nfs_pid" 2>/dev/null
assert_match "aegis-nfsd's start line shows the registry masked" 'registry postgresql://aegis:\*\*\*@' "$(cat "$OUT/nfsd.log")"

cp "$SCRATCH/aegisd-a/aegisd.log" "$OUT/aegisd.log"
check "aegisd logged at debug level" test -s "$OUT/aegisd.log"
for s in "${SECRETS[@]}"; do
        found="$(grep -rl -- "$s" "$OUT" | xargs -r -n1 basename | tr '\n' ' ')"
        assert_eq "secret ${s%%-*} appears nowhere" "" "$found"
done
finish
