#!/bin/bash
# Two aegisd processes on one PostgreSQL never run the same execution twice: 30 executions
# left pending are claimed by both at the same instant, each is run exactly once (one
# iteration_started, one container, no lost claim), and both daemons took part.
#
# The race is made, not hoped for: a third daemon c, at its max_concurrent of 1 with a
# 45 s execution, takes the 30 submissions and leaves them pending while a and b are
# stopped (SIGSTOP); then c is stopped and a and b continue together, their overdue polls
# claiming at once. c's lease then runs out and a or b adopts its execution, which ends by
# itself. (Removing SKIP LOCKED from the claim is caught by test-store, not here: the claims
# still do not collide visibly.)
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/postgres.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
pg_start
export AEGIS_DATABASE_URL="$PG_URL"
aegisd_start a
aegisd_start b
AEGIS_RUNTIME_EXTRA="  max_concurrent: 1" aegisd_start c
# a and b stop before the holding execution exists: c must be the one it fills (on a loaded
# machine a or b could claim it first, and c would then run one of the 30).
pid_a="$(aegisd_pid a)" pid_b="$(aegisd_pid b)" pid_c="$(aegisd_pid c)"
kill -STOP "$pid_a" "$pid_b"
on_exit "kill -CONT $pid_a $pid_b $pid_c 2>/dev/null"
hold="$(curl -s -X POST "$AEGIS_URL_c/v1/executions" -H 'Content-Type: application/yaml' \
        --data-binary @"$(manifest hold 'sleep 45' '  execution:
    max_iterations: 1')" | jq -r .execution_id)"
wait_for 60 bash -c "[ \"\$(curl -s '$AEGIS_URL_c/v1/executions/$hold' | jq -r .status)\" = running ]" ||
        fail "the holding execution did not start"
m="$(manifest twice 'sleep 1; echo ran')"
ids=()
for i in $(seq 30); do
        ids+=("$(curl -s -X POST "$AEGIS_URL_c/v1/executions" -H 'Content-Type: application/yaml' --data-binary @"$m" | jq -r .execution_id)")
done
assert_eq "30 submissions left pending (c is full, a and b stopped)" 30 \
        "$(curl -s "$AEGIS_URL_c/v1/executions?status=pending&limit=100" | jq '.executions | length')"
kill -STOP "$pid_c"
kill -CONT "$pid_a" "$pid_b"
# The 30 only: on a slow machine the holding execution, adopted once c's lease ran out,
# completes first and would make the count 31.
done30() {
        [ "$(curl -s "$AEGIS_URL_a/v1/executions?status=completed&limit=100" |
                jq --arg h "$hold" '[.executions[] | select(.id != $h)] | length')" = 30 ]
}
wait_for 300 done30 ||
        fail "not all completed: $(curl -s "$AEGIS_URL_a/v1/executions?limit=100" | jq -c '[.executions[].status] | group_by(.) | map({(.[0]): length}) | add')"
twice=0
for id in "${ids[@]}"; do
        n="$(curl -s -N --max-time 5 "$AEGIS_URL_a/v1/executions/$id/events" | grep -c '^event: iteration_started')"
        [ "$n" = 1 ] || twice=$((twice + 1))
done
assert_eq "every execution ran exactly one iteration" 0 "$twice"
containers="$(pg_psql -At -c 'SELECT count(*) FROM containers')"
assert_eq "one container row per execution (and the holding one's)" 31 "$containers"
na="$(grep -c 'execution_started' "$SCRATCH/aegisd-a/aegisd.log")"
nb="$(grep -c 'execution_started' "$SCRATCH/aegisd-b/aegisd.log")"
note "daemon a ran $na, daemon b ran $nb"
check "both daemons took part" test "$na" -gt 0 -a "$nb" -gt 0
assert_eq "no daemon lost a claim to the other" 0 \
        "$(cat "$SCRATCH/aegisd-a/aegisd.log" "$SCRATCH/aegisd-b/aegisd.log" | grep -c 'lost the claim')"
# c stays stopped: its lease runs out, a or b adopts the holding execution and collects
# its container when the 45 s are over.
wait_for 120 bash -c "case \"\$(curl -s '$AEGIS_URL_a/v1/executions/$hold' | jq -r .status)\" in completed|failed) ;; *) false ;; esac" ||
        fail "the holding execution was not adopted and ended: $(curl -s "$AEGIS_URL_a/v1/executions/$hold")"
aegisd_kill9 c
assert_no_managed_containers
finish
