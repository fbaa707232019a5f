#!/bin/bash
# Warm pools (issue 18): a member started ahead waits at most runtime.warm_pool_max_idle_secs
# for an iteration; then it is removed unused and replaced, and an execution still takes a
# member from the pool (the new one), never the one that waited too long.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\"
  warm_pool_max_idle_secs: 10" aegisd_start a

pool_ids() { podman_cmd ps -a --filter label=aegis.pool --filter status=running --format '{{.ID}}'; }
m="$(manifest idle 'echo "id=$AEGIS_EXECUTION_ID"')"
sed -i 's|^    image_pull_policy: Never$|&\n    warm_pool: 1|' "$m"
agent="$(api POST /v1/agents -H 'Content-Type: application/yaml' --data-binary @"$m" | jq -r .id)"
assert_match "the agent deploys" '^[0-9a-f-]{36}$' "$agent"
one() { [ "$(pool_ids | wc -l)" = 1 ]; }
check "the pool fills with one running member" wait_for 60 one
first="$(pool_ids)"
replaced() { ! podman_cmd container exists "$first" && one; }
check "after 10 s idle the member is removed and replaced" wait_for 60 replaced
check "…saying why" grep -q "replacing 1 container(s) idle for 10 s" "$SCRATCH/aegisd-a/aegisd.log"
second="$(pool_ids)"
e="$(api POST /v1/executions -H 'Content-Type: application/json' -d "{\"agent_id\":\"$agent\",\"input\":{}}" | jq -r .execution_id)"
check "an execution completes" wait_status "$e" completed 60
assert_eq "…with its own identity" "id=$e" "$(execution_field "$e" .output)"
c="$(execution_field "$e" '.iterations[0].container_id')"
check "…in the replacement member" test "${c:0:12}" = "${second:0:12}"
# A refill in flight when aegisd stops ends after it is gone: the reaper's (warm-pool.sh).
{ cat "$SCRATCH/aegisd-a/config.yaml"; printf 'reaper:\n  grace_secs: 0\n'; } >"$SCRATCH/reaper.yaml"
aegisd_stop a
"$AEGIS_REAPER" --config "$SCRATCH/reaper.yaml" >"$SCRATCH/reaper.out" 2>&1 ||
        fail "the reaper failed: $(cat "$SCRATCH/reaper.out")"
assert_no_managed_containers
finish
