#!/bin/bash
# Warm pools (issue 18): an image that changes under a pooled agent's reference while nobody
# runs it (re-tagged here) is found by the scheduled look
# (runtime.warm_pool_image_check_secs): the pool made from the old image is removed without
# any execution, and refills from the new one, which the next execution runs.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\"
  warm_pool_image_check_secs: 2" aegisd_start a

pool_of() { podman_cmd ps -a --filter label=aegis.pool="$1" --filter status=running --format '{{.ID}}'; }
podman_cmd tag "$TEST_IMAGE" localhost/aegis-pool-check:1
m="$(manifest check 'cat /version 2>/dev/null || echo v1')"
sed -i -e "s|image: $TEST_IMAGE|image: localhost/aegis-pool-check:1|" -e 's|^    image_pull_policy: Never$|&\n    warm_pool: 1|' "$m"
agent="$(api POST /v1/agents -H 'Content-Type: application/yaml' --data-binary @"$m" | jq -r .id)"
assert_match "the agent deploys" '^[0-9a-f-]{36}$' "$agent"
full() { [ "$(pool_of "$agent" | wc -l)" = 1 ]; }
check "its pool fills" wait_for 60 full
old="$(pool_of "$agent")"
sleep 3
assert_eq "an unchanged image keeps the pool" "$old" "$(pool_of "$agent")"

podman_cmd run --name v2maker "$TEST_IMAGE" sh -c 'echo v2 >/version' >/dev/null
podman_cmd commit -q v2maker localhost/aegis-pool-check:1 >/dev/null
podman_cmd rm -f v2maker >/dev/null
replaced() { ! podman_cmd container exists "$old" && full; }
check "the re-tagged image drains the pool without any execution, which refills" wait_for 30 replaced
check "…saying why" grep -q "warm pool of agent $agent: image localhost/aegis-pool-check:1 is now" \
        "$SCRATCH/aegisd-a/aegisd.log"
new="$(pool_of "$agent")"
e="$(api POST /v1/executions -H 'Content-Type: application/json' -d "{\"agent_id\":\"$agent\",\"input\":{}}" | jq -r .execution_id)"
check "the next execution completes" wait_status "$e" completed 60
assert_eq "…on the new image" v2 "$(execution_field "$e" .output)"
c="$(execution_field "$e" '.iterations[0].container_id')"
check "…in the member made from it" test "${c:0:12}" = "${new:0:12}"
finish
