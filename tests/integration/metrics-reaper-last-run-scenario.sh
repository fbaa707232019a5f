#!/bin/bash
# Sourced by metrics-reaper-last-run-{sqlite,postgresql}.sh (not a test itself):
# aegis-reaper, run by hand as aegis-reaper.timer would, against the store of a running aegisd
# on a real private Podman. Its runs show on aegisd's /metrics, read from the store at scrape
# time: a run that removes one orphaned container (timestamp, ok=1, removed=1, the numbers of
# its own report), then a run against a dead Podman socket (ok=0, a newer run timestamp, the
# last-success timestamp unchanged); every scrape passes promtool.
#
#   STORE_URL   the database.url both use (empty: aegisd's default SQLite file)

last_run_scenario() {
        local mport prom rc out t0 ts1 ok1 succ1 removed reported ts2 ok2 succ2

        require_cmd promtool curl jq
        [ -x "$AEGISD" ] || fail "aegisd not built"
        [ -x "$AEGIS_REAPER" ] || fail "$AEGIS_REAPER not built"
        podman_start
        AEGIS_DATABASE_URL="$STORE_URL" aegisd_start a "reaper:
  grace_secs: 0"
        mport="$(sed -n 's/^  metrics_listen: "127.0.0.1:\([0-9]*\)"/\1/p' "$SCRATCH/aegisd-a/config.yaml")"
        scrape() { # FILE
                curl -sf "http://127.0.0.1:$mport/metrics" >"$1" || fail "GET /metrics on aegisd failed"
                out="$(promtool check metrics <"$1" 2>&1)"
                rc=$?
                assert_eq "$(basename "$1"): passes promtool (output: $out)" 0 "$rc"
        }
        value() { awk -v n="$2" '$1 == n {print $2}' "$1"; } # FILE SERIES
        cmp() { python3 -c 'import sys; a, op, b = float(sys.argv[1]), sys.argv[2], float(sys.argv[3]); sys.exit(not eval("a " + op + " b"))' "${1:-nan}" "$2" "${3:-nan}"; }
        orphan_gone() { ! podman_cmd container exists reaper-orphan; }

        scrape "$SCRATCH/before.prom"
        prom="$(cat "$SCRATCH/before.prom")"
        for f in aegis_reaper_last_run_timestamp_seconds aegis_reaper_last_success_timestamp_seconds \
                aegis_reaper_last_run_ok aegis_reaper_last_run_duration_seconds \
                aegis_reaper_last_run_containers aegis_reaper_last_run_engine_volumes; do
                assert_match "aegisd declares $f (gauge)" "(^|"$'\n'")# TYPE $f gauge("$'\n'"|$)" "$prom"
        done
        assert_eq "no reaper run yet: no last-run timestamp" "" \
                "$(value "$SCRATCH/before.prom" aegis_reaper_last_run_timestamp_seconds)"

        # A container of an execution the store does not know, left after aegisd started.
        podman_cmd create --name reaper-orphan --label aegis.managed=true \
                --label aegis.execution_id="$(cat /proc/sys/kernel/random/uuid)" "$TEST_IMAGE" true >/dev/null ||
                fail "podman create reaper-orphan"
        t0="$(date +%s)"
        "$AEGIS_REAPER" --config "$SCRATCH/aegisd-a/config.yaml" --output json >"$SCRATCH/run1.json" \
                2>"$SCRATCH/run1.log"
        rc=$?
        assert_eq "the reaper run succeeded (log: $(tail -3 "$SCRATCH/run1.log"))" 0 "$rc"
        check "the reaper removed the orphan" orphan_gone
        reported="$(jq -r '.summary.reaped' "$SCRATCH/run1.json")"
        assert_eq "the reaper's report counts the orphan" 1 "$reported"

        scrape "$SCRATCH/ok.prom"
        ts1="$(value "$SCRATCH/ok.prom" aegis_reaper_last_run_timestamp_seconds)"
        ok1="$(value "$SCRATCH/ok.prom" aegis_reaper_last_run_ok)"
        succ1="$(value "$SCRATCH/ok.prom" aegis_reaper_last_success_timestamp_seconds)"
        removed="$(value "$SCRATCH/ok.prom" 'aegis_reaper_last_run_containers{action="removed"}')"
        assert_eq "aegis_reaper_last_run_ok is 1" 1 "$ok1"
        check "the last run's timestamp ($ts1) is this run's (started at $t0)" cmp "$ts1" ">=" "$t0"
        check "the last run's timestamp ($ts1) is not in the future" cmp "$ts1" "<=" "$(date +%s.%N)"
        assert_eq "the last success is the last run" "$ts1" "$succ1"
        assert_eq "aegis_reaper_last_run_containers{action=\"removed\"} is the report's count" "$reported" "$removed"
        assert_eq "aegis_reaper_last_run_containers{action=\"failed\"} is 0" 0 \
                "$(value "$SCRATCH/ok.prom" 'aegis_reaper_last_run_containers{action="failed"}')"
        assert_eq "aegisd's own counter still counts only its start-up pass" 0 \
                "$(value "$SCRATCH/ok.prom" 'aegis_reaper_containers_total{action="removed"}')"

        # The same store, but Podman's socket is dead: the run fails and says so.
        python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SCRATCH/dead.sock"
        sed "s|container_socket_path: .*|container_socket_path: \"$SCRATCH/dead.sock\"|" \
                "$SCRATCH/aegisd-a/config.yaml" >"$SCRATCH/dead.yaml"
        "$AEGIS_REAPER" --config "$SCRATCH/dead.yaml" >/dev/null 2>"$SCRATCH/run2.log"
        rc=$?
        assert_eq "the reaper run against a dead Podman exits 69" 69 "$rc"
        scrape "$SCRATCH/failed.prom"
        ts2="$(value "$SCRATCH/failed.prom" aegis_reaper_last_run_timestamp_seconds)"
        ok2="$(value "$SCRATCH/failed.prom" aegis_reaper_last_run_ok)"
        succ2="$(value "$SCRATCH/failed.prom" aegis_reaper_last_success_timestamp_seconds)"
        assert_eq "aegis_reaper_last_run_ok is 0 after the failed run" 0 "$ok2"
        check "the failed run's timestamp ($ts2) is newer than the good run's ($ts1)" cmp "$ts2" ">" "$ts1"
        assert_eq "the last-success timestamp is unchanged" "$succ1" "$succ2"
        assert_eq "the failed run removed nothing" 0 \
                "$(value "$SCRATCH/failed.prom" 'aegis_reaper_last_run_containers{action="removed"}')"

        # A dry run records nothing.
        "$AEGIS_REAPER" --config "$SCRATCH/aegisd-a/config.yaml" --dry-run >/dev/null 2>&1 || fail "dry run failed"
        scrape "$SCRATCH/dry.prom"
        assert_eq "a dry run is not recorded" "$ok2 $succ2" \
                "$(value "$SCRATCH/dry.prom" aegis_reaper_last_run_ok) $(value "$SCRATCH/dry.prom" aegis_reaper_last_success_timestamp_seconds)"
}
