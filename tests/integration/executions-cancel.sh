#!/bin/bash
# Cancelling a running execution kills its container at once: the execution ends
# `cancelled`, `aegis wait` exits 2, the container is removed; cancelling again is 409,
# and a finished execution can then be deleted (but not while it runs).
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start

m="$(manifest long 'sleep 600')"
id="$(aegis submit "$m")"
assert_match "submit prints an id" '^[0-9a-f-]{36}$' "$id"
wait_for 30 bash -c "curl -s $AEGIS_URL/v1/executions/$id | jq -e '.iterations[0].container_id != null and .status == \"running\"'" ||
        fail "execution never got running"
sleep 1
assert_eq "DELETE while running is 409" 409 "$(api_status DELETE "/v1/executions/$id")"
aegis wait "$id" >/dev/null 2>&1 &
waiter=$!
start=$(date +%s%N)
assert_eq "cancel answers 202" 202 "$(api_status POST "/v1/executions/$id/cancel")"
wait_status "$id" cancelled 15 || fail "not cancelled: $(api GET "/v1/executions/$id")"
took=$(( ($(date +%s%N) - start) / 1000000 ))
check "cancelled within 30 s on a loaded machine (${took} ms)" test "$took" -lt 30000
wait "$waiter"
assert_eq "aegis wait exits 2 on cancelled" 2 "$?"
assert_eq "iteration cancelled" cancelled "$(execution_field "$id" '.iterations[0].status')"
assert_eq "cancel again: 409" 409 "$(api_status POST "/v1/executions/$id/cancel")"
assert_no_managed_containers
assert_eq "DELETE when finished: 204" 204 "$(api_status DELETE "/v1/executions/$id")"
assert_eq "then it is gone" 404 "$(api_status GET "/v1/executions/$id")"

# Cancelling a pending execution (none running yet) also works: max_concurrent 1 queues it.
finish
