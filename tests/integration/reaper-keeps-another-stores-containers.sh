#!/bin/bash
# aegis-reaper against one store never removes what another store's daemon made. Two aegisd on
# one Podman, each with its own SQLite store (as two daemons on a host, or the state directory
# that moved with systemd 254 while the old unit still runs), each with a running execution.
# Every container and engine volume aegisd makes carries aegis.store=<its store's id>. The
# reaper run against store B with grace 0 keeps A's live container (reason other_store) and an
# engine volume labelled with A's id, and still removes B's true orphan (a container labelled
# with B's id whose execution is not in B), an unused engine volume labelled with B's id, and a
# container made before store ids (no aegis.store label) whose execution B does not know.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq python3
[ -x "$AEGIS_REAPER" ] || fail "$AEGIS_REAPER not built"
podman_start

store_id_of() { # the id in a SQLite store's store_identity table
        python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT id FROM store_identity").fetchone()[0])' "$1"
}
running() { [ "$(podman_cmd inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
gone() { ! podman_cmd container exists "$1"; }
volume_exists() { podman_cmd volume exists "$1"; }
volume_gone() { ! volume_exists "$1"; }
label() { podman_cmd inspect -f "{{index .Config.Labels \"$2\"}}" "$1"; }
start_execution() { # NAME: submits a long-running execution on $AEGIS_URL, echoes "id container"
        local id
        id="$(aegis submit "$(manifest "$1" 'sleep 600')")" || fail "cannot submit on $AEGIS_URL"
        wait_for 90 bash -c "curl -s $AEGIS_URL/v1/executions/$id | jq -e '.iterations[0].container_id != null and .status == \"running\"'" ||
                fail "execution $1 never got running: $(api GET "/v1/executions/$id")"
        echo "$id $(execution_field "$id" '.iterations[0].container_id')"
}

aegisd_start a
read -r id_a cid_a < <(start_execution live-a)
aegisd_start b
read -r id_b cid_b < <(start_execution live-b)
STORE_A="$SCRATCH/aegisd-a/state/aegis.db"
STORE_B="$SCRATCH/aegisd-b/state/aegis.db"
sid_a="$(store_id_of "$STORE_A")"
sid_b="$(store_id_of "$STORE_B")"
assert_match "store A has a UUID" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "$sid_a"
assert_match "store B has a UUID" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "$sid_b"
check "the two stores have different ids" test "$sid_a" != "$sid_b"
assert_eq "aegisd a labels its container with its store's id" "$sid_a" "$(label "$cid_a" aegis.store)"
assert_eq "aegisd b labels its container with its store's id" "$sid_b" "$(label "$cid_b" aegis.store)"

# B's true orphan, a container from before store ids, and engine volumes of both stores.
orphan_b="$(podman_cmd run -d --label aegis.managed=true --label aegis.execution_id=gone-from-b \
        --label "aegis.store=$sid_b" "$TEST_IMAGE" sleep 600)" || fail "cannot start B's orphan"
legacy="$(podman_cmd run -d --label aegis.managed=true --label aegis.execution_id=gone-legacy \
        "$TEST_IMAGE" sleep 600)" || fail "cannot start the legacy container"
podman_cmd volume create --label aegis.managed=true --label "aegis.store=$sid_a" aegis-vol-of-a >/dev/null
podman_cmd volume create --label aegis.managed=true --label "aegis.store=$sid_b" aegis-vol-of-b >/dev/null

printf 'runtime:\n  container_socket_path: %s\ndatabase:\n  url: "sqlite://%s"\nstorage:\n  root: %s\nreaper:\n  grace_secs: 0\n' \
        "$PODMAN_SOCK" "$STORE_B" "$SCRATCH/volumes" >"$SCRATCH/reaper-b.yaml"
mkdir -p "$SCRATCH/volumes"

# A dry run says so and changes nothing.
out="$("$AEGIS_REAPER" --config "$SCRATCH/reaper-b.yaml" --dry-run --output json 2>"$SCRATCH/err")"
rc=$?
assert_eq "dry run: exit status 0 ($(cat "$SCRATCH/err"))" 0 "$rc"
cjq() { jq -r --arg c "${2:0:12}" "[.containers[] | select(.id | startswith(\$c)) | $1] | join(\",\")" <<<"$out"; }
assert_eq "dry run: A's container kept as another store's" "keep other_store kept" "$(cjq '"\(.action) \(.reason) \(.result)"' "$cid_a")"
assert_eq "dry run: B's orphan would be removed" "unknown_execution would_remove" "$(cjq '"\(.reason) \(.result)"' "$orphan_b")"
check "dry run: B's orphan still runs" running "$orphan_b"

out="$("$AEGIS_REAPER" --config "$SCRATCH/reaper-b.yaml" --output json 2>"$SCRATCH/err")"
rc=$?
assert_eq "exit status 0 ($(cat "$SCRATCH/err"))" 0 "$rc"
assert_eq "A's live container: kept, as another store's" "keep other_store kept" "$(cjq '"\(.action) \(.reason) \(.result)"' "$cid_a")"
check "A's live container still runs" running "$cid_a"
assert_eq "B's own execution's container is kept" keep "$(cjq .action "$cid_b")"
check "B's own execution's container still runs" running "$cid_b"
assert_eq "B's orphan: removed" "reap unknown_execution removed" "$(cjq '"\(.action) \(.reason) \(.result)"' "$orphan_b")"
check "B's orphan is gone" gone "$orphan_b"
assert_eq "the container from before store ids: removed as before" "reap unknown_execution removed" \
        "$(cjq '"\(.action) \(.reason) \(.result)"' "$legacy")"
ejq() { jq -r --arg n "$1" '[.engine_volumes[] | select(.name == $n) | "\(.reason) \(.result)"] | join(",")' <<<"$out"; }
assert_eq "A's engine volume: kept, as another store's" "other_store kept" "$(ejq aegis-vol-of-a)"
check "A's engine volume is still there" volume_exists aegis-vol-of-a
assert_eq "B's unused engine volume: removed" "no_live_execution removed" "$(ejq aegis-vol-of-b)"
check "B's engine volume is gone" volume_gone aegis-vol-of-b
assert_eq "the summary counts both of A's as other_store, and the two removals" "2 2" \
        "$(jq -r '"\(.summary.other_store) \(.summary.reaped)"' <<<"$out")"
assert_eq "A's execution still runs" running "$(AEGIS_URL="$AEGIS_URL_a" execution_field "$id_a" .status)"

# The text report says the same.
out="$("$AEGIS_REAPER" --config "$SCRATCH/reaper-b.yaml" 2>&1)"
assert_match "the text report counts other_store" 'other_store=2' "$out"
finish
