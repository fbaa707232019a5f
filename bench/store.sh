#!/bin/bash
# bench/store.sh [N] — store figures on both backends, same machine, same run: SQLite (WAL,
# synchronous=FULL) in a temporary directory and a private PostgreSQL 15 (note: the test server
# runs with fsync=off, so its figures exclude disk flushes; SQLite's include them).
top_builddir="${top_builddir:-$(pwd)}"
top_srcdir="${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}"
AEGIS_TEST_LIB="$top_srcdir/tests/lib"
source "$AEGIS_TEST_LIB/common.sh"
source "$AEGIS_TEST_LIB/postgres.sh"
n="${1:-1000}"
bin="$top_builddir/bench/store-bench"
[ -x "$bin" ] || fail "build it first: make bench/store-bench"
make_scratch
"$bin" "sqlite://$SCRATCH/aegis.db" "$n"
pg_start
"$bin" "$PG_URL" "$n"
