#!/bin/bash
# Fault injection: Podman's API service is killed (SIGKILL) while executions run and comes
# back a few seconds later on the same socket. The containers keep running under conmon.
# The executions that were running carry on (aegisd retries its calls until the service is
# back) and complete in their first iteration; one submitted during the outage completes or
# fails with a reason naming Podman; none hangs; aegisd answers /health throughout; an
# execution submitted after the restart completes; no aegis.managed container is left.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start

# Long enough to be running when the service dies; two iterations so a lost one can retry.
m="$(manifest through-restart 'sleep 8; echo done' '  execution:
    max_iterations: 2')"
ids=()
for i in 1 2 3; do ids+=("$(aegis submit "$m")"); done
for id in "${ids[@]}"; do
        wait_for 60 bash -c "curl -s $AEGIS_URL/v1/executions/$id | jq -e '.iterations[-1].container_id != null'" ||
                fail "execution $id never got a container: $(api GET "/v1/executions/$id")"
done

podman_service_kill
note "Podman API service killed; containers: $(podman_managed_ids | wc -l)"
check "/health answers while Podman is down" curl -sf --max-time 2 "$AEGIS_URL/health" -o /dev/null
ready="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$AEGIS_URL/health/ready")"
assert_eq "/health/ready is 503 while Podman is down" 503 "$ready"
# An execution submitted meanwhile is accepted (the store is up) and is decided later.
during="$(aegis submit "$(manifest during-outage 'echo during')")"
check "a submission during the outage is accepted" test -n "$during"
sleep 3
podman_service_restart
note "Podman API service restarted"

terminal() { [[ "$(execution_field "$1" .status)" =~ ^(completed|failed|cancelled)$ ]]; }
# The running ones carry on: their containers outlived the service, aegisd waits for it.
for id in "${ids[@]}"; do
        check "running execution $id completes across the restart" wait_status "$id" completed 120
        assert_eq "$id: in its first iteration" 1 "$(execution_field "$id" '.iterations | length')"
        assert_eq "$id: its output" done "$(execution_field "$id" .output)"
done
for id in "$during"; do
        check "execution $id reaches a terminal state" wait_for 120 terminal "$id"
        st="$(execution_field "$id" .status)" reason="$(execution_field "$id" .reason)"
        note "$id: $st${reason:+ ($reason)}"
        if [ "$st" != completed ]; then
                assert_match "execution $id failed with a reason naming the cause" \
                        '[Pp]odman|wait|connect|container|socket|image' "$reason"
        fi
done

after="$(aegis submit "$(manifest after-restart 'echo after')")"
check "an execution submitted after the restart completes" wait_status "$after" completed 60
assert_eq "its output" after "$(execution_field "$after" .output)"
check "/health/ready is 200 again" wait_for 20 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 $AEGIS_URL/health/ready)\" = 200 ]"

# Removal runs before an iteration is decided; give a failed removal's retry a moment.
no_containers() { [ -z "$(podman_managed_ids)" ]; }
wait_for 30 no_containers
assert_no_managed_containers
finish
