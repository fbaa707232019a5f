#!/bin/bash
# Async operations run concurrently on one sd-event loop without blocking it: 10 containers
# created, waited+started, logged and removed at once; the event stream reports a container's
# death with its exit code while other calls run on the same loop.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/podman.sh"
PROBE="$top_builddir/tests/integration/podman-probe"
podman_start
P() { "$PROBE" "$PODMAN_SOCK" "$@"; }
kv() { sed -n "s/^$1=//p"; }

n=10 secs=4
out="$(P concurrent $n $secs 2>&1)"; rc=$?
note "$(tr '\n' ' ' <<<"$out")"
assert_eq "all $n concurrent runs succeed with their own output" 0 "$rc"
assert_eq "all $n were in flight at once" "$n" "$(kv pending <<<"$out")"
# The engine may serialise some of its work (and this machine is shared), so overlap is shown
# on our side: several containers were started and being waited for at the same moment.
running=$(kv max_running <<<"$out")
check "they ran at the same time (at most ${running} waited for at once)" test "${running:-0}" -ge 3
gap=$(kv max_loop_gap_ms <<<"$out")
check "the loop never blocked (longest gap between 50 ms ticks: ${gap} ms)" test "${gap:-999999}" -lt 1500

out="$(P events 2>&1)"; rc=$?
note "$(tr '\n' ' ' <<<"$out")"
assert_eq "events stream runs" 0 "$rc"
assert_match "events: start of our container seen" "event=start ev[0-9]+ " "$out"
assert_match "events: its death with the exit code" "event=died? ev[0-9]+ 3" "$out"
assert_eq "events: stream stopped by the consumer ends cleanly" 0 "$(kv stream_r <<<"$out")"
assert_eq "nothing of ours leaked" "" "$(podman_managed_ids)"
finish
