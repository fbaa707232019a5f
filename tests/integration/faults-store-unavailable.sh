#!/bin/bash
# Fault injection: the PostgreSQL store stops under a running aegisd. While it is down,
# /health stays 200, /health/ready answers 503 naming the database, submissions and reads
# are refused with 503 and a JSON error, and nothing is half-written (the tables hold what
# they held). When the server returns, /health/ready turns 200, a new submission completes,
# and the execution that was running across the outage reaches a terminal state.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/postgres.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
pg_start
export AEGIS_DATABASE_URL="$PG_URL"
aegisd_start

jq_true() { jq -e "$1" "$2" >/dev/null; }
counts() { pg_psql -At -c "SELECT (SELECT count(*) FROM executions) || ' ' || (SELECT count(*) FROM events WHERE type = 'execution_created')"; }

done_id="$(aegis submit "$(manifest before 'echo before')")"
wait_status "$done_id" completed 60 || fail "the first execution did not complete: $(api GET "/v1/executions/$done_id")"
m_long="$(manifest across-outage 'sleep 6; echo survived')"
long="$(aegis submit "$m_long")"
wait_for 60 bash -c "curl -s $AEGIS_URL/v1/executions/$long | jq -e '.iterations[-1].container_id != null'" ||
        fail "never got a container: $(api GET "/v1/executions/$long")"

pg_server_stop
note "PostgreSQL stopped"
check "/health answers while the store is down" curl -sf --max-time 2 "$AEGIS_URL/health" -o /dev/null
code="$(curl -s -o "$SCRATCH/ready.json" -w '%{http_code}' --max-time 20 "$AEGIS_URL/health/ready")"
assert_eq "/health/ready is 503" 503 "$code"
assert_eq "/health/ready: database not ok" false "$(jq -r .dependencies.database.ok "$SCRATCH/ready.json")"
assert_match "/health/ready: the error says PostgreSQL" '[Pp]ostgre' "$(jq -r .dependencies.database.error "$SCRATCH/ready.json")"

m="$(manifest refused 'echo refused')"
for attempt in 1 2 3; do
        code="$(curl -s -o "$SCRATCH/submit.json" -w '%{http_code}' --max-time 20 -X POST "$AEGIS_URL/v1/executions" \
                -H 'Content-Type: application/yaml' --data-binary @"$m")"
        assert_eq "submission $attempt while the store is down: 503" 503 "$code"
        check "submission $attempt: a JSON error" jq_true '.error | test("database|store|PostgreSQL"; "i")' "$SCRATCH/submit.json"
done
code="$(curl -s -o "$SCRATCH/get.json" -w '%{http_code}' --max-time 20 "$AEGIS_URL/v1/executions/$done_id")"
assert_eq "a read while the store is down: 503" 503 "$code"
check "the read's error is JSON" jq_true .error "$SCRATCH/get.json"
code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$AEGIS_URL/v1/executions?limit=10")"
assert_eq "a list while the store is down: 503" 503 "$code"
sleep 2 # the supervisor's poll and heartbeat fail meanwhile

pg_server_start
note "PostgreSQL started again"
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$AEGIS_URL/health/ready")" = 200 ]; }
check "/health/ready turns 200 again" wait_for 30 ready
assert_eq "nothing half-written: two executions, two execution_created events" "2 2" "$(counts)"
assert_eq "the refused manifest left no row" 0 "$(pg_psql -At -c "SELECT count(*) FROM executions WHERE manifest_json LIKE '%refused%'")"

terminal() { [[ "$(execution_field "$1" .status)" =~ ^(completed|failed|cancelled)$ ]]; }
check "the execution running across the outage reaches a terminal state" wait_for 90 terminal "$long"
note "across-outage: $(execution_field "$long" .status) $(execution_field "$long" .reason)"
after="$(aegis submit "$(manifest after 'echo after')")"
check "a submission after recovery completes" wait_status "$after" completed 60
assert_eq "its output" after "$(execution_field "$after" .output)"
no_containers() { [ -z "$(podman_managed_ids)" ]; }
wait_for 30 no_containers
assert_no_managed_containers
finish
