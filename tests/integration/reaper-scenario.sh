# tests/integration/reaper-scenario.sh — the reaper's scenario of issue 5, against real
# Podman and a real store whose URL the sourcing test provides ($STORE_URL). Sourced by
# reaper-removes-exactly-the-orphans-{sqlite,postgresql}.sh.
#
# Containers with our label for: an unknown execution, a completed execution, a running
# execution with a running container, a running execution whose container exited, a
# running execution whose container vanished, a running execution claimed by a live
# supervisor elsewhere (its container exited: left to it), keep_container_on_failure=true,
# one created within the grace period; and two without our label. Expired, unexpired,
# persistent and still-owned volumes. Engine volumes aegis-vol-* that a killed daemon leaked
# (unknown volume, the expired volume's), one of a live execution, one a container uses, one
# within the grace period, and one not named by us. One --dry-run pass changes nothing and
# reports the same decisions as the real pass that follows, which removes exactly the orphans.

FIXTURE="$top_builddir/tests/helpers/reaper-fixture"
GRACE=20 # long enough that a loaded machine still runs both passes inside it
# Under valgrind (AEGIS_TIME_FACTOR > 1) each pass is several times slower: 3x, not the whole
# factor, which would turn the sleep below into minutes.
[ "$AEGIS_TIME_FACTOR" -gt 1 ] && GRACE=$((GRACE * 3))

reaper_scenario() {
        [ -x "$AEGIS_REAPER" ] || fail "$AEGIS_REAPER not built"
        [ -x "$FIXTURE" ] || fail "$FIXTURE not built"
        require_cmd jq
        podman_start

        local root="$SCRATCH/volumes" cfg="$SCRATCH/config.yaml"
        mkdir -p "$root"
        cat >"$cfg" <<EOF
runtime:
  container_socket_path: $PODMAN_SOCK
  stop_timeout_secs: 1
database:
  url: $STORE_URL
storage:
  root: $root
reaper:
  grace_secs: $GRACE
EOF
        # The fixture writes through the store API (migrations applied on open).
        local e_unknown e_done e_live e_exited e_vanished e_owned e_keep
        e_unknown=$(uuid) e_done=$(uuid) e_live=$(uuid) e_exited=$(uuid)
        e_vanished=$(uuid) e_owned=$(uuid) e_keep=$(uuid)
        fx execution "$e_done" completed aegis-agent-done
        fx execution "$e_live" running aegis-agent-live
        fx execution "$e_exited" running aegis-agent-exited
        fx execution "$e_vanished" running aegis-agent-vanished
        fx execution "$e_owned" running aegis-agent-owned
        fx claim "$e_owned" other-host 600
        fx execution "$e_keep" failed

        # Old enough: created (and exited) more than the grace period before the runs.
        ours aegis-agent-unknown "$e_unknown" -d "$TEST_IMAGE" sleep 600
        ours aegis-agent-done "$e_done" "$TEST_IMAGE" true
        ours aegis-agent-live "$e_live" -d "$TEST_IMAGE" sleep 600
        ours aegis-agent-exited "$e_exited" "$TEST_IMAGE" true
        ours aegis-agent-owned "$e_owned" "$TEST_IMAGE" true
        ours aegis-agent-keep "$e_keep" --label aegis.keep_container_on_failure=true "$TEST_IMAGE" false
        local ev_leaked ev_inuse
        ev_leaked="aegis-vol-$(uuid)" ev_inuse="aegis-vol-$(uuid)"
        podman_cmd run -d --name unrelated -v "$ev_inuse:/data" "$TEST_IMAGE" sleep 600 >/dev/null ||
                fail "podman run unrelated"
        podman_cmd run -d --name not-ours --label aegis.managed=false --label aegis.execution_id="$e_done" \
                "$TEST_IMAGE" sleep 600 >/dev/null || fail "podman run not-ours"
        fx container-id aegis-agent-live "$(podman_cmd inspect -f '{{.Id}}' aegis-agent-live)"

        # Volumes: root/<tenant>/<id>, one of them with a symlink pointing outside.
        local v_expired v_persistent v_future v_owned
        v_expired=$(fx volume default ephemeral -60) v_persistent=$(fx volume default persistent 0)
        v_future=$(fx volume default ephemeral 3600) v_owned=$(fx volume default ephemeral -60 "$e_live")
        for v in "$v_expired" "$v_persistent" "$v_future" "$v_owned"; do
                mkdir -p "$root/default/$v/sub/deeper"
                echo data >"$root/default/$v/sub/deeper/f"
        done
        mkdir -p "$SCRATCH/outside" && echo precious >"$SCRATCH/outside/keep"
        ln -s "$SCRATCH/outside" "$root/default/$v_expired/escape"
        ln -s "$SCRATCH/outside/keep" "$root/default/$v_expired/sub/keep-link"
        # Engine volumes as the supervisor names them (the NFS options do not matter here).
        for ev in "$ev_leaked" "aegis-vol-$v_expired" "aegis-vol-$v_owned-ro" other-volume; do
                podman_cmd volume create "$ev" >/dev/null || fail "podman volume create $ev"
        done

        sleep $((GRACE + 1))
        ours aegis-agent-grace "$(uuid)" -d "$TEST_IMAGE" sleep 600
        local ev_young="aegis-vol-$(uuid)"
        podman_cmd volume create "$ev_young" >/dev/null || fail "podman volume create $ev_young"
        local before volumes_before
        before="$(podman_cmd ps -a --format '{{.Names}}' | sort | tr '\n' ' ')"
        volumes_before="$(podman_cmd volume ls --format '{{.Name}}' | sort | tr '\n' ' ')"

        # --- dry run: decisions only ---
        local dry rc
        dry="$("$AEGIS_REAPER" --config "$cfg" --dry-run --output json 2>"$SCRATCH/dry.err")"
        rc=$?
        assert_eq "dry run exits 0" 0 "$rc"
        assert_eq "dry run removes nothing" "$before" \
                "$(podman_cmd ps -a --format '{{.Names}}' | sort | tr '\n' ' ')"
        assert_eq "dry run leaves the stale row" "running -" "$(fx status "$e_exited")"
        check "dry run leaves the expired volume" test -d "$root/default/$v_expired/sub"
        assert_eq "dry run removes no engine volume" "$volumes_before" \
                "$(podman_cmd volume ls --format '{{.Name}}' | sort | tr '\n' ' ')"
        decisions "$dry" >"$SCRATCH/dry.decisions"

        # --- the real pass ---
        local out
        out="$("$AEGIS_REAPER" --config "$cfg" --output json 2>"$SCRATCH/real.err")"
        rc=$?
        assert_eq "reaper exits 0" 0 "$rc"
        [ "$rc" = 0 ] || note "$(cat "$SCRATCH/real.err")"
        decisions "$out" >"$SCRATCH/real.decisions"
        assert_eq "dry run reported the same decisions" "$(cat "$SCRATCH/dry.decisions")" \
                "$(cat "$SCRATCH/real.decisions")"

        assert_eq "exactly the orphans are gone, the rest stays" \
                "aegis-agent-grace aegis-agent-keep aegis-agent-live aegis-agent-owned not-ours unrelated " \
                "$(podman_cmd ps -a --format '{{.Names}}' | sort | tr '\n' ' ')"
        assert_eq "decisions" "$(cat <<EOF
aegis-agent-done reap execution_finished removed
aegis-agent-exited reap container_exited removed
aegis-agent-grace keep grace_period kept
aegis-agent-keep keep keep_container_on_failure kept
aegis-agent-live keep live kept
aegis-agent-owned keep owned kept
aegis-agent-unknown reap unknown_execution removed
EOF
)" "$(cat "$SCRATCH/real.decisions")"
        assert_eq "summary" '{"reaped":3,"kept":4,"quarantined":0,"failed":0,"skipped":0,"lost":2,"volumes_deleted":1,"engine_volumes_removed":2,"other_store":0}' \
                "$(jq -c .summary <<<"$out")"
        assert_eq "dry-run summary is the same" "$(jq -c '.summary' <<<"$out")" "$(jq -c '.summary' <<<"$dry")"
        assert_eq "dry run says so" "true false" "$(jq -r .dry_run <<<"$dry") $(jq -r .dry_run <<<"$out")"

        assert_eq "the stale row is fixed" "failed container_lost" "$(fx status "$e_exited")"
        assert_eq "the vanished container's row is fixed" "failed container_lost" "$(fx status "$e_vanished")"
        assert_eq "the live execution is untouched" "running -" "$(fx status "$e_live")"
        assert_eq "the execution a live supervisor owns is untouched" "running -" "$(fx status "$e_owned")"
        assert_eq "the completed execution stays completed" "completed -" "$(fx status "$e_done")"
        assert_eq "lost executions in the report" "$(printf '%s\n' "$e_exited" "$e_vanished" | sort | tr '\n' ' ')" \
                "$(jq -r '.executions[] | select(.result=="marked") | .id' <<<"$out" | sort | tr '\n' ' ')"
        assert_eq "the dry run reported them as would_mark" "would_mark would_mark" \
                "$(jq -r '[.executions[].result] | join(" ")' <<<"$dry")"

        assert_eq "the expired volume is deleted (row)" gone "$(fx volume-status "$v_expired")"
        check "the expired volume's directory is gone" test ! -e "$root/default/$v_expired"
        check "a symlink inside a volume did not lead the deletion outside" test -f "$SCRATCH/outside/keep"
        check "the persistent volume stays" test -f "$root/default/$v_persistent/sub/deeper/f"
        check "the unexpired volume stays" test -f "$root/default/$v_future/sub/deeper/f"
        check "the expired volume of a live execution stays" test -f "$root/default/$v_owned/sub/deeper/f"
        assert_eq "persistent row stays active" active "$(fx volume-status "$v_persistent")"
        assert_eq "owned expired row stays active" active "$(fx volume-status "$v_owned")"

        # Engine volumes: exactly the leaked ones are gone, never one a container uses.
        assert_eq "engine volumes: exactly the leaked ones are gone" \
                "$(printf '%s\n' "aegis-vol-$v_owned-ro" "$ev_inuse" "$ev_young" other-volume | sort | tr '\n' ' ')" \
                "$(podman_cmd volume ls --format '{{.Name}}' | sort | tr '\n' ' ')"
        assert_eq "engine volume decisions" "$(printf '%s\n' \
                "aegis-vol-$v_expired removed no_live_execution" "aegis-vol-$v_owned-ro kept live_execution" \
                "$ev_inuse kept in_use" "$ev_leaked removed no_live_execution" "$ev_young kept grace_period" | sort)" \
                "$(jq -r '.engine_volumes[] | "\(.name) \(.result) \(.reason)"' <<<"$out" | sort)"
        assert_eq "the dry run would have removed the same two" \
                "$(printf '%s\n' "aegis-vol-$v_expired" "$ev_leaked" | sort | tr '\n' ' ')" \
                "$(jq -r '.engine_volumes[] | select(.result=="would_remove") | .name' <<<"$dry" | sort | tr '\n' ' ')"
        check "the volume a container uses still works" podman_cmd exec unrelated ls /data

        # The summary line, with its journal fields (on stderr outside the journal).
        assert_match "summary line has REAPED= KEPT= QUARANTINED= ENGINE_VOLUMES_REMOVED=" \
                'REAPED=3.*KEPT=4.*QUARANTINED=0.*ENGINE_VOLUMES_REMOVED=2' \
                "$(grep -a 'Reaped' "$SCRATCH/real.err" | tr '\n' ' ')"

        # A second pass finds nothing more to do, except the young container once its
        # grace period has run out.
        out="$("$AEGIS_REAPER" --config "$cfg" --output json 2>/dev/null)"
        assert_match "second pass: at most the grace-period container is reaped" '^(aegis-agent-grace)?$' \
                "$(jq -r '[.containers[] | select(.result=="removed") | .name] | join(" ")' <<<"$out")"
        assert_eq "second pass: nothing more marked" 0 "$(jq .summary.lost <<<"$out")"
}

uuid() { cat /proc/sys/kernel/random/uuid; }
fx() { "$FIXTURE" "$STORE_URL" "$@" || fail "fixture $*"; }
# ours NAME EXECUTION_ID [podman run args...]
ours() {
        local name="$1" eid="$2"
        shift 2
        # The container's own exit status (false) is not a failure here; its absence is.
        podman_cmd run --name "$name" --label aegis.managed=true --label aegis.execution_id="$eid" \
                --label aegis.runtime=podman "$@" >/dev/null 2>&1
        podman_cmd container exists "$name" || fail "podman run $name"
}
# "name action reason result" per container, sorted; dry-run results mapped to the real ones.
decisions() {
        jq -r '.containers[] | "\(.name) \(.action) \(.reason) \(.result)"' <<<"$1" |
                sed -e 's/ would_remove$/ removed/' | sort
}
