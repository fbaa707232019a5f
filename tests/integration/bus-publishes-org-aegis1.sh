#!/bin/bash
# org.aegis1 on a private session bus: the name, /org/aegis1 introspects with busctl, the
# properties read back, ListExecutions and CancelExecution work (and fail with named
# errors), Ready and ActiveExecutions emit PropertiesChanged, and a missing bus is a clean,
# non-fatal error. Drives src/aegisd/bus.c through tests/helpers/bus-harness.
. "$AEGIS_TEST_LIB/common.sh"
require_cmd dbus-daemon busctl
HARNESS="$top_builddir/tests/helpers/bus-harness"
[ -x "$HARNESS" ] || fail "missing $HARNESS"
make_scratch

# A private session bus for this test only.
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
wait_for 5 test -S "$SCRATCH/bus" || fail "private bus socket did not appear"
B() { busctl --user "$@"; }

# PropertiesChanged are recorded from before the daemon appears.
B monitor --match "type='signal',interface='org.freedesktop.DBus.Properties',path='/org/aegis1'" \
        >"$SCRATCH/monitor.log" 2>&1 &
MON=$!
on_exit "kill $MON 2>/dev/null"
sleep 0.3

"$HARNESS" 0.1.0-test exec1:running:hello exec2:pending:world exec3:finished:done >"$SCRATCH/harness.out" 2>&1 &
HP=$!
on_exit "kill $HP 2>/dev/null"
wait_for 5 B status org.aegis1 || fail "org.aegis1 never appeared: $(cat "$SCRATCH/harness.out")"
assert_eq "the user bus is chosen when DBUS_SESSION_BUS_ADDRESS is set" "bus=user" "$(head -1 "$SCRATCH/harness.out")"

intro="$(B introspect org.aegis1 /org/aegis1)"
for m in .Version .Ready .ActiveExecutions .ListExecutions .CancelExecution; do
        assert_match "introspection lists $m" "org\.aegis1\.Manager|$m" "$(grep -F -- "$m " <<<"$intro")"
done
assert_match "ActiveExecutions is declared emits-change" 'emits-change' "$(grep -F .ActiveExecutions <<<"$intro")"
assert_eq "Version" 's "0.1.0-test"' "$(B get-property org.aegis1 /org/aegis1 org.aegis1.Manager Version)"
assert_eq "Ready" 'b true' "$(B get-property org.aegis1 /org/aegis1 org.aegis1.Manager Ready)"
assert_eq "ActiveExecutions counts running and pending" 'u 2' "$(B get-property org.aegis1 /org/aegis1 org.aegis1.Manager ActiveExecutions)"
assert_eq "ListExecutions" 'a(sss) 2 "exec1" "running" "hello" "exec2" "pending" "world"' \
        "$(B call org.aegis1 /org/aegis1 org.aegis1.Manager ListExecutions)"

out="$(B call org.aegis1 /org/aegis1 org.aegis1.Manager CancelExecution s nope 2>&1)"
check "CancelExecution of an unknown id fails" test $? -ne 0
assert_match "… naming the id" 'no execution with id nope' "$out"
out="$(B call org.aegis1 /org/aegis1 org.aegis1.Manager CancelExecution s exec3 2>&1)"
assert_match "CancelExecution of a finished execution says so" 'already finished' "$out"
out="$(B call org.aegis1 /org/aegis1 org.aegis1.Manager CancelExecution s '../etc' 2>&1)"
assert_match "CancelExecution rejects an invalid id" 'not a valid execution id' "$out"
check "CancelExecution of a running execution succeeds" B call org.aegis1 /org/aegis1 org.aegis1.Manager CancelExecution s exec1
assert_eq "ActiveExecutions drops" 'u 1' "$(B get-property org.aegis1 /org/aegis1 org.aegis1.Manager ActiveExecutions)"
assert_eq "ListExecutions no longer lists it" 'a(sss) 1 "exec2" "pending" "world"' \
        "$(B call org.aegis1 /org/aegis1 org.aegis1.Manager ListExecutions)"

check "PropertiesChanged for Ready" wait_for 5 grep -q '"Ready"' "$SCRATCH/monitor.log"
check "PropertiesChanged for ActiveExecutions" wait_for 5 grep -q '"ActiveExecutions"' "$SCRATCH/monitor.log"

kill "$HP"; wait "$HP"
assert_eq "SIGTERM exits cleanly" 0 "$?"

# aegisd itself publishes the object once it is ready.
if [ -x "$AEGISD" ]; then
        p1="$(free_port)"; p2="$(free_port)"
        mkdir -p "$SCRATCH/aegisd"
        printf 'api:\n  listen: "127.0.0.1:%s"\n  metrics_listen: "127.0.0.1:%s"\ndatabase:\n  url: "sqlite://%s/aegisd/a.db"\n' \
                "$p1" "$p2" "$SCRATCH" >"$SCRATCH/aegisd/config.yaml"
        STATE_DIRECTORY="$SCRATCH/aegisd" "$AEGISD" --config "$SCRATCH/aegisd/config.yaml" >"$SCRATCH/aegisd/log" 2>&1 &
        AP=$!
        on_exit "kill $AP 2>/dev/null"
        check "aegisd owns org.aegis1" wait_for 20 B status org.aegis1
        assert_eq "aegisd: Ready" 'b true' "$(B get-property org.aegis1 /org/aegis1 org.aegis1.Manager Ready 2>&1)"
        assert_match "aegisd: Version" '^s "[0-9]' "$(B get-property org.aegis1 /org/aegis1 org.aegis1.Manager Version 2>&1)"
        kill "$AP"; wait "$AP" 2>/dev/null
fi

# No bus at all: a clean error the daemon turns into a warning.
DBUS_SESSION_BUS_ADDRESS="unix:path=$SCRATCH/nonexistent" "$HARNESS" x >"$SCRATCH/nobus.out" 2>&1
assert_eq "an unreachable bus is reported, not a crash" 3 "$?"
assert_match "… with the reason" 'no bus: ' "$(cat "$SCRATCH/nobus.out")"
AEGIS_BUS=none "$HARNESS" x >"$SCRATCH/none.out" 2>&1
assert_eq "AEGIS_BUS=none disables the bus" 3 "$?"
finish
