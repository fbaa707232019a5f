#!/bin/bash
# aegisd's org.aegis1 methods are served by its executions: ActiveExecutions counts what runs
# on this node, ListExecutions lists it (running here, then pending), CancelExecution cancels
# a pending and a running execution and answers an unknown id with the supervisor's error.
# A private session bus, a private Podman service, runtime.max_concurrent 1 so the second
# execution waits.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd dbus-daemon busctl jq
make_scratch
cat >"$SCRATCH/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$SCRATCH/bus</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$SCRATCH/session.conf" --fork --print-pid >"$SCRATCH/dbus.pid" \
        || fail "cannot start a private dbus-daemon"
on_exit "kill \$(cat '$SCRATCH/dbus.pid') 2>/dev/null"
export DBUS_SESSION_BUS_ADDRESS="unix:path=$SCRATCH/bus"
unset AEGIS_BUS
wait_for 5 test -S "$SCRATCH/bus" || fail "private bus socket did not appear"
B() { busctl --user "$@"; }
M() { B call org.aegis1 /org/aegis1 org.aegis1.Manager "$@" 2>&1; }

podman_start
AEGIS_RUNTIME_EXTRA="  max_concurrent: 1" aegisd_start
check "aegisd owns org.aegis1" wait_for 20 B status org.aegis1

out="$(M CancelExecution s nope)"
assert_match "CancelExecution of an unknown id: the supervisor's answer" 'no execution nope' "$out"

m="$(manifest bus-agent 'sleep 60')"
id1="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$m" | jq -r .execution_id)"
wait_status "$id1" running 30 || fail "the first execution never ran: $(aegisd_log | tail -5)"
id2="$(api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$m" | jq -r .execution_id)"
sleep 1 # a claim attempt: max_concurrent 1 keeps it pending
assert_eq "ListExecutions: running here, then pending" \
        "a(sss) 2 \"$id1\" \"running\" \"bus-agent\" \"$id2\" \"pending\" \"bus-agent\"" "$(M ListExecutions)"
assert_eq "ActiveExecutions counts this node's running execution" 'u 1' \
        "$(B get-property org.aegis1 /org/aegis1 org.aegis1.Manager ActiveExecutions 2>&1)"

check "CancelExecution of the pending one" M CancelExecution s "$id2"
assert_eq "… it ends cancelled" cancelled "$(execution_field "$id2" .status)"
check "CancelExecution of the running one" M CancelExecution s "$id1"
check "… it ends cancelled" wait_status "$id1" cancelled 30
out="$(M CancelExecution s "$id1")"
assert_match "CancelExecution of an ended one says so" 'already' "$out"
gone() { [ "$(M ListExecutions)" = 'a(sss) 0' ]; }
check "ListExecutions is empty again" wait_for 10 gone
assert_eq "ActiveExecutions is 0 again" 'u 0' \
        "$(B get-property org.aegis1 /org/aegis1 org.aegis1.Manager ActiveExecutions 2>&1)"
finish
