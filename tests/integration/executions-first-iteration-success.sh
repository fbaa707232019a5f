#!/bin/bash
# An execution whose first container exits 0 completes after one iteration: `aegis run`
# prints its output and exits 0, the API shows one succeeded iteration with its container,
# the input reached the container as a file and as AEGIS_INPUT, every event names the
# execution in its log fields, and the container is gone afterwards.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start

m="$(manifest first-ok 'echo "iteration=$AEGIS_ITERATION input=$(cat /run/aegis/input.json) env=$AEGIS_INPUT id=$AEGIS_EXECUTION_ID"')"
out="$(aegis -q run "$m" --input '{"task":"greet"}')"
rc=$?
assert_eq "aegis run exits 0 on completion" 0 "$rc"
assert_match "output printed: iteration 1" '^iteration=1 input=\{"task":"greet"\} env=\{"task":"greet"\} id=[0-9a-f-]+$' "$out"

id="${out##*id=}"
ex="$(api GET "/v1/executions/$id")"
assert_eq "status completed" completed "$(jq -r .status <<<"$ex")"
assert_eq "one iteration" 1 "$(jq '.iterations | length' <<<"$ex")"
assert_eq "iteration succeeded" succeeded "$(jq -r '.iterations[0].status' <<<"$ex")"
assert_eq "iteration exit code 0" 0 "$(jq -r '.iterations[0].exit_code' <<<"$ex")"
assert_match "iteration container id recorded" '^[0-9a-f]{12,}$' "$(jq -r '.iterations[0].container_id' <<<"$ex")"
assert_match "output in the API" '^iteration=1' "$(jq -r .output <<<"$ex")"
check "timestamps set" jq -e '.created_at and .started_at and .finished_at' <<<"$ex"

events="$(curl -s -N --max-time "$(scaled 10)" "$AEGIS_URL/v1/executions/$id/events")"
for t in execution_created execution_started iteration_started container_created container_started iteration_finished execution_finished; do
        assert_match "event $t in the stream" "event: $t" "$events"
done
# The CLI reads both kinds of stream: events (SSE) and logs (a plain body), and says an
# error answer's message.
assert_match "aegis events shows the execution finishing" 'execution_finished' "$(aegis events "$id")"
assert_match "aegis logs prints the output" 'iteration=1 input=\{"task":"greet"\}' "$(aegis logs "$id")"
out="$(aegis logs 00000000-0000-4000-8000-000000000000 2>&1)"
assert_eq "aegis logs of an unknown execution exits 125" 125 "$?"
assert_match "and says the API's error" 'HTTP 404' "$out"
out="$(aegis events 00000000-0000-4000-8000-000000000000 2>&1)"
assert_eq "aegis events of an unknown execution exits 125" 125 "$?"
assert_match "and says the API's error" 'HTTP 404' "$out"
check "log lines carry EXECUTION_ID" grep -q "EXECUTION_ID=$id" "$SCRATCH/aegisd-a/aegisd.log"
check "log lines carry CONTAINER_ID" grep -q "CONTAINER_ID=[0-9a-f]" "$SCRATCH/aegisd-a/aegisd.log"
assert_no_managed_containers
finish
