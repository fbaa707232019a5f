#!/bin/bash
# aegis-reaper's runs on aegisd's /metrics (metrics-reaper-last-run-scenario.sh), SQLite store.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
. "$top_srcdir/tests/integration/metrics-reaper-last-run-scenario.sh"
make_scratch
STORE_URL=""
last_run_scenario
finish
