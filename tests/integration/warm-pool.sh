#!/bin/bash
# Warm pools (issue 18, run-pool.c): a deployed agent with spec.runtime.warm_pool gets
# containers created and started ahead, labelled aegis.pool, whose aegis-bootstrap waits
# silently for its iteration's files; an execution gives one of them its files:
#  - the members run before any submit, and have printed nothing;
#  - two executions in a row from the pool get their own id, input and iteration, and
#    nothing of the first is in the second's container (each container serves one iteration);
#  - a pooled container removed behind aegisd's back, or killed while waiting: the iteration
#    still completes (cold) and the pool refills;
#  - a redeploy (changed manifest) drains the pool and refills it with new containers;
#  - an image that changed under the agent's reference drains its pool, the iteration runs
#    the new image; deleting the agent drains its pool;
#  - SIGKILL of aegisd with a full pool, restart, one reaper pass: no pooled container of the
#    dead daemon remains (the live one's are kept);
#  - aegisd stopping removes its pool; metrics count hits and misses.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\""
aegisd_start a
mport="$(sed -n 's/.*metrics_listen: "\(.*\)"/\1/p' "$SCRATCH/aegisd-a/config.yaml")"

pool_ids() { podman_cmd ps -a --filter label=aegis.pool --filter status=running --format '{{.ID}}' | sort; }
pool_count() { pool_ids | wc -l; }
pool_has() { [ "$(pool_count)" = "$1" ]; }
deploy() { api POST /v1/agents -H 'Content-Type: application/yaml' --data-binary @"$1" | jq -r .id; }
execute() { api POST /v1/executions -H 'Content-Type: application/json' -d "{\"agent_id\":\"$1\",\"input\":$2}" | jq -r .execution_id; }

# The agent prints what it was given, and leaves a mark in its own container's /tmp: the
# next execution must not find it.
m="$(manifest pooled 'echo "id=$AEGIS_EXECUTION_ID it=$AEGIS_ITERATION input=$AEGIS_INPUT file=$(cat $AEGIS_INPUT_FILE) max=$AEGIS_MAX_ITERATIONS"; [ -e /tmp/mark ] && echo LEFTOVER; echo "$AEGIS_EXECUTION_ID" >/tmp/mark; echo "env=$FOO"' '  env:
    FOO: bar')"
sed -i 's|^    image_pull_policy: Never$|&\n    warm_pool: 2|' "$m"
agent="$(deploy "$m")"
assert_match "the agent deploys" '^[0-9a-f-]{36}$' "$agent"
# warm_pool not given and runtime.warm_pool_default 0: no pool, the cold path as always.
plain="$(deploy "$(manifest plain 'echo plain')")"
check "the pool fills with 2 running containers" wait_for 60 pool_has 2
assert_eq "…and none that is not running" 2 "$(podman_cmd ps -aq --filter label=aegis.pool | wc -l)"
silent=""
for id in $(pool_ids); do silent="$silent$(podman_cmd logs "$id" 2>&1)"; done
assert_eq "the waiting members have printed nothing" "" "$silent"
ep="$(execute "$plain" '{}')"
check "an agent without warm_pool runs" wait_status "$ep" completed 60
assert_eq "…and gets no pool" "" "$(podman_cmd ps -a --filter label=aegis.pool="$plain" --format '{{.ID}}')"
assert_match "…and no pool metric" 'aegis_pool_takes_total\{result="hit"\} 0|^$' \
        "$(curl -s "http://$mport/metrics" | grep 'aegis_pool_takes_total{' || true)"
before="$(pool_ids)"

e1="$(execute "$agent" '{"n":1}')"
check "first execution completes" wait_status "$e1" completed 60
out1="$(execution_field "$e1" .output)"
e2="$(execute "$agent" '{"n":2}')"
check "second execution completes" wait_status "$e2" completed 60
out2="$(execution_field "$e2" .output)"
note "first: $out1"
note "second: $out2"
assert_match "the first sees its own id, iteration, input (env and file) and the manifest's env" \
        "^id=$e1 it=1 input=\\{\"n\":1\\} file=\\{\"n\":1\\} max=3"$'\n'"env=bar$" "$out1"
assert_match "the second sees its own" \
        "^id=$e2 it=1 input=\\{\"n\":2\\} file=\\{\"n\":2\\} max=3"$'\n'"env=bar$" "$out2"
assert_eq "…and its logs hold only the agent's output (stdout and stderr)" "$out2" \
        "$(api GET "/v1/executions/$e2/logs?iteration=1")"
c1="$(execution_field "$e1" '.iterations[0].container_id')"
c2="$(execution_field "$e2" '.iterations[0].container_id')"
check "the two ran in different containers" test "$c1" != "$c2"
note "pool before: $(echo $before), used: ${c1:0:12} ${c2:0:12}"
check "both came from the pool" bash -c "grep -q '^${c1:0:12}' <<<'$before' && grep -q '^${c2:0:12}' <<<'$before'"
check "the pool refills to 2" wait_for 60 pool_has 2
metrics="$(curl -s "http://$mport/metrics")"
assert_match "hits are counted" 'aegis_pool_takes_total\{result="hit"\} 2' "$metrics"
assert_match "the pool's size is a gauge" 'aegis_pool_containers 2' "$metrics"

# A pooled container removed behind aegisd's back: the iteration takes the cold path.
gone="$(pool_ids)"
assert_eq "two pooled containers to remove" 2 "$(wc -w <<<"$gone")"
for id in $gone; do podman_cmd rm -f "$id" >/dev/null; done
e3="$(execute "$agent" '{"n":3}')"
check "an execution whose pooled container vanished still completes" wait_status "$e3" completed 60
assert_match "…with its own input" "^id=$e3 it=1 input=\\{\"n\":3\\}" "$(execution_field "$e3" .output)"
check "…after aegisd found its pooled container gone" grep -q "pooled container .* cannot be attached to: .*creating one" "$SCRATCH/aegisd-a/aegisd.log"
check "the pool refills after the loss" wait_for 60 pool_has 2

# Pooled containers killed while they wait (the engine still lists them, exited): the
# iteration notices its member was dead before it was taken and takes the cold path.
dead="$(pool_ids)"
for id in $dead; do podman_cmd kill "$id" >/dev/null; done
e5="$(execute "$agent" '{"n":5}')"
check "an execution whose pooled container was killed still completes" wait_status "$e5" completed 60
assert_match "…with its own input" "^id=$e5 it=1 input=\\{\"n\":5\\}" "$(execution_field "$e5" .output)"
check "…after aegisd found its pooled container dead" grep -Eq "pooled container .* (is not running|cannot be attached to).*creating one" "$SCRATCH/aegisd-a/aegisd.log"
check "the pool refills after the kill" wait_for 60 pool_has 2
gone_dead() { for id in $dead; do podman_cmd container exists "$id" && return 1; done; return 0; }
check "…and the killed members are removed" wait_for 30 gone_dead

# Redeploy with a changed manifest (same name and version): the old pool is drained.
old="$(pool_ids)"
assert_eq "two pooled containers before the redeploy" 2 "$(wc -w <<<"$old")"
sed -i 's|FOO: bar|FOO: baz|' "$m"
agent2="$(deploy "$m")"
drained() { for id in $old; do podman_cmd container exists "$id" && return 1; done; return 0; }
check "redeploy removes the old pool's containers" wait_for 30 drained
check "…and a new pool fills" wait_for 60 pool_has 2
e4="$(execute "$agent2" '{"n":4}')"
check "an execution after the redeploy completes" wait_status "$e4" completed 60
assert_match "…with the new definition" "env=baz$" "$(execution_field "$e4" .output)"

# The image changes under the agent's reference (re-tagged here; pulled under Always alike):
# its pool is drained and the iteration runs the new image; deleting the agent drains too.
agent_pool() { podman_cmd ps -a --filter label=aegis.pool="$1" --filter status=running --format '{{.ID}}'; }
podman_cmd tag "$TEST_IMAGE" localhost/aegis-pool-retag:1
rm_="$(manifest retag 'cat /version 2>/dev/null || echo v1')"
sed -i -e "s|image: $TEST_IMAGE|image: localhost/aegis-pool-retag:1|" -e 's|^    image_pull_policy: Never$|&\n    warm_pool: 1|' "$rm_"
ragent="$(deploy "$rm_")"
rfull() { [ -n "$(agent_pool "$ragent")" ]; }
check "the re-tagged agent's pool fills" wait_for 60 rfull
rold="$(agent_pool "$ragent")"
podman_cmd run --name v2maker "$TEST_IMAGE" sh -c 'echo v2 >/version' >/dev/null
podman_cmd commit -q v2maker localhost/aegis-pool-retag:1 >/dev/null
podman_cmd rm -f v2maker >/dev/null
er="$(execute "$ragent" '{}')"
check "an execution after the image changed completes" wait_status "$er" completed 60
assert_eq "…on the new image" v2 "$(execution_field "$er" .output)"
rgone() { ! podman_cmd container exists "$rold"; }
check "…and the pool made from the old image is gone" wait_for 30 rgone
check "deleting the agent" test "$(api_status DELETE /v1/agents/retag)" = 200
rnone() { [ -z "$(podman_cmd ps -a --filter label=aegis.pool="$ragent" --format '{{.ID}}')" ]; }
check "…drains its pool" wait_for 30 rnone

# SIGKILL with a full pool; restart; the reaper removes the dead daemon's pool only.
check "the pool is full before the kill" wait_for 60 pool_has 2
dead="$(pool_ids)"
assert_eq "two pooled containers before the kill" 2 "$(wc -w <<<"$dead")"
aegisd_kill9 a
aegisd_start a
{ cat "$SCRATCH/aegisd-a/config.yaml"; printf 'reaper:\n  grace_secs: 0\n'; } >"$SCRATCH/reaper.yaml"
"$AEGIS_REAPER" --config "$SCRATCH/reaper.yaml" >"$SCRATCH/reaper.out" 2>&1 ||
        fail "the reaper failed: $(cat "$SCRATCH/reaper.out")"
left=""
for id in $dead; do podman_cmd container exists "$id" && left="$left $id"; done
assert_eq "no pooled container of the killed aegisd remains" "" "$left"
check "the live aegisd's pool is kept" wait_for 60 pool_has 2

# A stopping aegisd removes its pool: every member it holds. A create still in flight in the
# engine when it stops (a refill, on a slow machine) ends after aegisd is gone and is the
# reaper's, which removes it at once: its owner's token is dead.
ready="$(pool_ids)"
aegisd_stop a
left=""
for id in $ready; do podman_cmd container exists "$id" && left="$left $id"; done
assert_eq "aegisd's stop removed the members it held" "" "$left"
"$AEGIS_REAPER" --config "$SCRATCH/reaper.yaml" >"$SCRATCH/reaper.out" 2>&1 ||
        fail "the reaper failed: $(cat "$SCRATCH/reaper.out")"
assert_eq "…and a reaper pass leaves no pooled container" 0 "$(pool_count)"
assert_no_managed_containers
finish
