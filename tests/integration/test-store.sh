#!/bin/bash
# The store suite (tests/unit/test-store) against both backends: SQLite in a scratch directory
# and a private PostgreSQL server started here (initdb + pg_ctl, never a shared one).
source "$AEGIS_TEST_LIB/common.sh"
source "$AEGIS_TEST_LIB/postgres.sh"

pg_start
AEGIS_TEST_PG_PORT="$PG_PORT" "$top_builddir/tests/unit/test-store"
