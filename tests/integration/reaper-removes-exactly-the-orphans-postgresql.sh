#!/bin/bash
# The reaper scenario (reaper-scenario.sh) against real Podman and a private PostgreSQL.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/postgres.sh"
. "$top_srcdir/tests/integration/reaper-scenario.sh"
make_scratch
pg_start
STORE_URL="$PG_URL"
reaper_scenario
finish
