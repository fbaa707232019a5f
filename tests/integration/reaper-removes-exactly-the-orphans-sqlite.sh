#!/bin/bash
# One aegis-reaper pass against real Podman and a real SQLite store removes exactly the
# orphans (unknown / finished execution, exited container of a live execution), keeps the
# rest (live, owned, keep_container_on_failure, within grace), never touches containers
# without our label, fixes the stale rows (container_lost) and deletes expired volumes;
# --dry-run changes nothing and reports the same decisions. See reaper-scenario.sh.
. "$AEGIS_TEST_LIB/podman.sh"
. "$top_srcdir/tests/integration/reaper-scenario.sh"
make_scratch
STORE_URL="sqlite://$SCRATCH/aegis.db"
reaper_scenario
finish
