#!/bin/bash
# The reference SDK's agent and execution calls (sdk-agents-executions.sh) with a private
# PostgreSQL store: the list's agent_id and offset, version deletes and manifest patches are
# SQL of their own there.
. "$AEGIS_TEST_LIB/common.sh"
. "$AEGIS_TEST_LIB/postgres.sh"
make_scratch
pg_start
export AEGIS_DATABASE_URL="$PG_URL"
. "$top_srcdir/tests/integration/sdk-agents-executions.sh"
