#!/bin/bash
# Two aegisd processes on one PostgreSQL never run the same execution twice: 30 executions
# submitted through both are each run exactly once (one iteration_started, one container),
# and both daemons took part.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/postgres.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
pg_start
export AEGIS_DATABASE_URL="$PG_URL"
aegisd_start a
aegisd_start b
m="$(manifest twice 'sleep 1; echo ran')"
ids=()
for i in $(seq 30); do
        if [ $((i % 2)) = 0 ]; then url="$AEGIS_URL_a"; else url="$AEGIS_URL_b"; fi
        ids+=("$(curl -s -X POST "$url/v1/executions" -H 'Content-Type: application/yaml' --data-binary @"$m" | jq -r .execution_id)")
done
wait_for 300 bash -c "[ \"\$(curl -s '$AEGIS_URL_a/v1/executions?status=completed&limit=100' | jq '.executions | length')\" = 30 ]" ||
        fail "not all completed: $(curl -s "$AEGIS_URL_a/v1/executions?limit=100" | jq -c '[.executions[].status] | group_by(.) | map({(.[0]): length}) | add')"
twice=0
for id in "${ids[@]}"; do
        n="$(curl -s -N --max-time 5 "$AEGIS_URL_a/v1/executions/$id/events" | grep -c '^event: iteration_started')"
        [ "$n" = 1 ] || twice=$((twice + 1))
done
assert_eq "every execution ran exactly one iteration" 0 "$twice"
containers="$(pg_psql -At -c 'SELECT count(*) FROM containers')"
assert_eq "one container row per execution" 30 "$containers"
na="$(grep -c 'execution_started' "$SCRATCH/aegisd-a/aegisd.log")"
nb="$(grep -c 'execution_started' "$SCRATCH/aegisd-b/aegisd.log")"
note "daemon a ran $na, daemon b ran $nb"
check "both daemons took part" test "$na" -gt 0 -a "$nb" -gt 0
assert_no_managed_containers
finish
