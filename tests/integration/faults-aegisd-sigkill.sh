#!/bin/bash
# Fault injection: aegisd is killed with SIGKILL at random moments while 20 executions run
# (image, create, start, running, collect, removal: wherever the kill lands), and restarted
# each time. Afterwards every execution is in a terminal state (failures with a reason), no
# iteration is left "running", and no aegis.managed container remains.
# FAULTS_SEED reproduces a run's kill times (printed at the start).
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
seed="${FAULTS_SEED:-$(( $(date +%s) % 32768 ))}"
RANDOM=$seed
note "kill times seeded with FAULTS_SEED=$seed"
podman_start
aegisd_start

ok="$(manifest sigkill-ok 'sleep 2; echo ok')"
retry="$(manifest sigkill-retry '[ "$AEGIS_ITERATION" = 2 ] && echo second || exit 3' '  execution:
    max_iterations: 2')"
ids=()
for i in $(seq 20); do
        if [ $((i % 4)) = 0 ]; then m="$retry"; else m="$ok"; fi
        ids+=("$(aegis submit "$m")")
done
check "20 executions accepted" test "$(printf '%s\n' "${ids[@]}" | grep -c '^[0-9a-f-]\{36\}$')" = 20

n_terminal() {
        api GET '/v1/executions?limit=100' | jq '[.executions[] | select(.status == "completed" or .status == "failed" or .status == "cancelled")] | length'
}
kills=0
for round in 1 2 3 4 5 6; do
        # 0.2 … 3.0 s into this life: early kills land in claims and creates, later ones in runs.
        sleep "$(( RANDOM % 15 / 5 )).$(( RANDOM % 10 ))"
        before="$(n_terminal)"
        aegisd_kill9 a
        kills=$((kills + 1))
        note "kill $kills: $before terminal before it, containers now: $(podman_managed_ids | wc -l)"
        aegisd_start
        [ "$(n_terminal)" = 20 ] && break
done

terminal_all() { [ "$(n_terminal)" = 20 ]; }
check "after $kills kills every execution reaches a terminal state" wait_for 240 terminal_all
api GET '/v1/executions?limit=100' >"$SCRATCH/all.json"
note "outcome: $(jq -c '[.executions[] | .status + " " + (.reason // "")] | group_by(.) | map({(.[0]): length}) | add' "$SCRATCH/all.json")"
assert_eq "no execution left pending or running" "" \
        "$(jq -r '.executions[] | select(.status == "pending" or .status == "running") | .id' "$SCRATCH/all.json")"
assert_eq "every failure has a reason" "" \
        "$(jq -r '.executions[] | select(.status == "failed" and ((.reason // "") == "")) | .id' "$SCRATCH/all.json")"
stuck=0
for id in "${ids[@]}"; do
        n="$(execution_field "$id" '[.iterations[] | select(.status == "running")] | length')"
        [ "$n" = 0 ] || { stuck=$((stuck + 1)); note "$id has $n iteration(s) still running"; }
done
assert_eq "no iteration left running" 0 "$stuck"
no_containers() { [ -z "$(podman_managed_ids)" ]; }
wait_for 30 no_containers
# A kill between an execution's answer and its container's removal leaves that container to
# the reaper (aegis-reaper.timer in the product; younger than its grace, the start-up pass
# keeps it): with every execution ended, one pass without grace removes what is left.
{ cat "$SCRATCH/aegisd-a/config.yaml"; printf 'reaper:\n  grace_secs: 0\n'; } >"$SCRATCH/reaper.yaml"
"$AEGIS_REAPER" --config "$SCRATCH/reaper.yaml" >"$SCRATCH/reaper.out" 2>&1 ||
        fail "the reaper failed: $(cat "$SCRATCH/reaper.out")"
assert_no_managed_containers
finish
