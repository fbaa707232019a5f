#!/bin/bash
# aegis-reaper's runs on aegisd's /metrics (metrics-reaper-last-run-scenario.sh), with a
# private PostgreSQL store.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/postgres.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$top_srcdir/tests/integration/metrics-reaper-last-run-scenario.sh"
make_scratch
pg_start
STORE_URL="$PG_URL"
last_run_scenario
finish
