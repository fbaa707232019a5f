#!/bin/bash
# An iteration's own files (input.json, feedback.json) reach its container as read-only bind
# mounts of a private host directory, <state>/inbox/<container> (run-inbox.h), instead of the
# engine's archive upload, which costs it about 100 ms of CPU per container (issue 18):
#  - the agent reads them as before, and cannot change them;
#  - on the host the inbox is 0700, and holds nothing once the container has started;
#  - aegisd says at start which way they go: an engine that does not see aegisd's files (here:
#    aegisd in a mount namespace of its own, a tmpfs over its inbox) would make an empty
#    directory of each, so it gets them uploaded instead.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq unshare
podman_start
aegisd_start
state="$SCRATCH/aegisd-a/state"

# Iteration 1 fails at once; iteration 2 says what it was given, tries to change it, and runs
# on for a while.
m="$(manifest reader 'echo "input=$(cat /run/aegis/input.json)"
[ "$AEGIS_ITERATION" = 1 ] && exit 1
echo "feedback=$(cat /run/aegis/feedback.json)"
{ echo changed >/run/aegis/input.json; } 2>/dev/null && echo writable || echo "unchanged=$(cat /run/aegis/input.json)"
echo iteration-2-runs; sleep 3' '  execution:
    max_iterations: 2')"
submit() { api POST /v1/executions -H 'Content-Type: application/json' \
        -d "$(jq -Rs --argjson input "$2" '{manifest: ., input: $input}' "$1")" | jq -r .execution_id; }
id="$(submit "$m" '{"task":"inbox"}')"
assert_match "submitted" '^[0-9a-f-]{36}$' "$id"
second_runs() { api GET "/v1/executions/$id/logs?iteration=2" | grep -q iteration-2-runs; }
check "the second iteration runs" wait_for 60 second_runs
assert_eq "while it runs, the inbox on the host holds nothing" "" "$(find "$state/inbox" -mindepth 1)"
assert_eq "… and is aegisd's alone" 700 "$(stat -c %a "$state/inbox")"
check "the execution completes" wait_status "$id" completed 60
logs="$(api GET "/v1/executions/$id/logs?iteration=2")"
assert_match "the agent read its input" 'input=\{"task":"inbox"\}' "$logs"
assert_match "… and the feedback of iteration 1" 'feedback=\{"iteration":1,"exit_code":1' "$logs"
assert_match "… and could not change its input" 'unchanged=\{"task":"inbox"\}' "$logs"
assert_eq "the inbox holds nothing after" "" "$(find "$state/inbox" -mindepth 1)"
check "aegisd said they go as bind mounts" grep -q "files reach their containers as bind mounts" "$SCRATCH/aegisd-a/aegisd.log"
aegisd_stop a

# aegisd in its own mount namespace, where the inbox is a tmpfs the engine does not see.
AEGISD_REAL="$AEGISD"
cat >"$SCRATCH/aegisd-unseen" <<SH
#!/bin/sh
mkdir -p "\$STATE_DIRECTORY/inbox"
exec unshare -m --propagation private sh -c 'mount -t tmpfs -o mode=0700 tmpfs "\$STATE_DIRECTORY/inbox" && exec "\$0" "\$@"' "$AEGISD_REAL" "\$@"
SH
chmod +x "$SCRATCH/aegisd-unseen"
AEGISD="$SCRATCH/aegisd-unseen" aegisd_start b
state_b="$(realpath "$SCRATCH/aegisd-b/state")"
once="$(manifest once 'cat /run/aegis/input.json' '  execution:
    max_iterations: 1')"
for n in 1 2; do
        id="$(submit "$once" "{\"n\":$n}")"
        check "with an engine that does not see the inbox, execution $n completes" wait_status "$id" completed 60
        assert_eq "… its agent read its input, uploaded" "{\"n\":$n}" "$(execution_field "$id" .output)"
done
assert_match "aegisd said why it uploads them, in the engine's words" \
        "files are uploaded into their containers: the engine does not see $state_b/inbox: .*probe-[0-9a-f]+: no such file" \
        "$(cat "$SCRATCH/aegisd-b/aegisd.log")"
finish
