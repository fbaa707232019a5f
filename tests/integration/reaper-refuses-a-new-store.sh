#!/bin/bash
# aegis-reaper never reaps against a store that is not the daemon's. aegisd runs an execution
# on its store A; aegis-reaper run by hand on a new, empty store (what an operator got on
# systemd 252 when the by-hand default was ~/.local/state/aegis while the user unit's store was
# in ~/.config/aegis) would see the running container as an orphan. It must refuse, with the
# exact message, exit 78, remove nothing, and not create the schema (a second run refuses
# again); --dry-run refuses the same way; DATABASE_URL is named as a fix and is honoured.
# A second aegisd on a new store refuses the same way in its start-up reconciliation.
# On a fresh install (new store, no aegis container) the reaper has nothing to do and exits 0;
# pointed at store A it keeps the live container.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq python3
[ -x "$AEGIS_REAPER" ] || fail "$AEGIS_REAPER not built"
FIXTURE="$top_builddir/tests/helpers/reaper-fixture"
[ -x "$FIXTURE" ] || fail "$FIXTURE not built"
podman_start

reaper_config() { # FILE URL: grace 0, so only the store's knowledge protects a container
        printf 'runtime:\n  container_socket_path: %s\ndatabase:\n  url: "%s"\nstorage:\n  root: %s\nreaper:\n  grace_secs: 0\n' \
                "$PODMAN_SOCK" "$2" "$SCRATCH/volumes" >"$1"
}
tables() { # the tables of a SQLite file ("" when it has none)
        python3 -c 'import sqlite3,sys; print(" ".join(r[0] for r in sqlite3.connect(sys.argv[1]).execute("SELECT name FROM sqlite_master WHERE type=\"table\" ORDER BY name")))' "$1"
}
mkdir -p "$SCRATCH/new" "$SCRATCH/volumes"
NEW="$SCRATCH/new/aegis.db"
reaper_config "$SCRATCH/new.yaml" "sqlite://$NEW"

# A fresh install: a new store, no aegis container. Nothing to do, and that is not an error.
out="$("$AEGIS_REAPER" --config "$SCRATCH/new.yaml" --output json 2>"$SCRATCH/err")"
rc=$?
assert_eq "fresh install: exit status 0 ($(cat "$SCRATCH/err"))" 0 "$rc"
assert_eq "fresh install: nothing reaped" "0 0" "$(jq -r '"\(.summary.reaped) \(.containers | length)"' <<<"$out")"
assert_eq "fresh install: the reaper created no schema" "" "$(tables "$NEW")"

# The daemon, store A, one running execution.
aegisd_start a
id="$(aegis submit "$(manifest live 'sleep 600')")"
wait_for 60 bash -c "curl -s $AEGIS_URL/v1/executions/$id | jq -e '.iterations[0].container_id != null and .status == \"running\"'" ||
        fail "the execution never got running: $(api GET "/v1/executions/$id")"
cid="$(execution_field "$id" '.iterations[0].container_id')"
running() { [ "$(podman_cmd inspect -f '{{.State.Running}}' "$cid" 2>/dev/null)" = true ]; }
check "the execution's container runs" running

expected="aegis-reaper: Refusing to reap: the execution store sqlite://$NEW had no AEGIS schema before this run, so it is not the store of the daemon that created the 1 aegis container(s) and 0 aegis engine volume(s) Podman has; nothing was removed. Point this program at the daemon's database with --config FILE or DATABASE_URL (see aegis-reaper(8))."
for run in first second dry-run; do
        args=(--config "$SCRATCH/new.yaml")
        [ "$run" = dry-run ] && args+=(--dry-run)
        out="$("$AEGIS_REAPER" "${args[@]}" 2>"$SCRATCH/err")"
        rc=$?
        assert_eq "$run run on a new store: exit status 78" 78 "$rc"
        assert_eq "$run run on a new store: the message" "$expected" "$(cat "$SCRATCH/err")"
        assert_eq "$run run on a new store: no report on standard output" "" "$out"
        check "$run run on a new store: the live container still runs" running
        assert_eq "$run run on a new store: still no schema in it" "" "$(tables "$NEW")"
done
assert_eq "the execution still runs" running "$(execution_field "$id" .status)"

# A second aegisd started on a new store of its own shares the rule in its start-up
# reconciliation: it warns, and leaves the first daemon's running container alone.
aegisd_start b "reaper:
  grace_secs: 0"
AEGIS_URL="$AEGIS_URL_a"
refusal="start-up reconciliation: Refusing to reap: the execution store sqlite://$SCRATCH/aegisd-b/state/aegis.db had no AEGIS schema before this run, so it is not the store of the daemon that created the 1 aegis container(s) and 0 aegis engine volume(s) Podman has; nothing was removed."
wait_for 60 grep -qF "$refusal" "$SCRATCH/aegisd-b/aegisd.log" ||
        fail "aegisd b did not refuse: $(tail -5 "$SCRATCH/aegisd-b/aegisd.log")"
check "aegisd on a new store: the live container still runs" running
aegisd_stop b

# DATABASE_URL names the daemon's store, over the file's new one: the container is live, kept.
out="$(DATABASE_URL="sqlite://$SCRATCH/aegisd-a/state/aegis.db" "$AEGIS_REAPER" --config "$SCRATCH/new.yaml" \
        --output json 2>"$SCRATCH/err")"
rc=$?
assert_eq "the daemon's store: exit status 0 ($(cat "$SCRATCH/err"))" 0 "$rc"
assert_eq "the daemon's store: its container is kept, nothing reaped" "keep 0" \
        "$(jq -r --arg c "${cid:0:12}" '"\([.containers[] | select(.id | startswith($c)) | .action] | join(",")) \(.summary.reaped)"' <<<"$out")"
check "the daemon's store: the live container still runs" running
assert_eq "the execution still runs after all of it" running "$(execution_field "$id" .status)"
finish
