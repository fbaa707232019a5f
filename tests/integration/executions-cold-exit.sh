#!/bin/bash
# A created iteration's container is attached to before it starts, and its end is taken from
# the attach (issue 18, run.c run_gated_start()): once the stream ends, inspect has the
# command's status, 200–300 ms before the engine's wait answers. What that must not lose:
#  - the exit code (0 and 3), and all the output, written up to the exit, on stdout and stderr,
#    byte for byte, even a lot of it;
#  - each end is counted, by attach, or by wait when the engine's cleanup held inspect up until
#    its wait answered (a loaded machine): aegis_iteration_exits_seen_total{by};
#  - a command the runtime cannot run fails the iteration with the engine's message;
#  - a cancel while it runs ends it, and nothing is left behind.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start
mport="$(sed -n 's/.*metrics_listen: "\(.*\)"/\1/p' "$SCRATCH/aegisd-a/config.yaml")"
seen() { # seen BY: a counter at 0 is not listed
        local n
        n="$(curl -s "http://$mport/metrics" | sed -n "s/^aegis_iteration_exits_seen_total{by=\"$1\"} //p")"
        echo "${n:-0}"
}
once='  execution:
    max_iterations: 1'

# 200000 bytes on stdout and 100000 on stderr, each line numbered, the last ones written
# right before the exit, without a final newline.
big='i=0; while [ $i -lt 2000 ]; do printf "out %095d\n" $i; printf "err %045d\n" $i >&2; i=$((i+1)); done
printf tail-out; printf tail-err >&2; exit 3'
id="$(aegis submit "$(manifest big "$big" "$once")")" || fail "submit failed"
check "a command exiting 3 fails its execution" wait_status "$id" failed 60
assert_eq "… with exit code 3" 3 "$(execution_field "$id" '.iterations[0].exit_code')"
api GET "/v1/executions/$id/logs?iteration=1" >"$SCRATCH/logs" # stdout, then stderr
sh -c "$big" >"$SCRATCH/want.out" 2>"$SCRATCH/want.err"
check "… its stdout and stderr whole, up to the last bytes before the exit" \
        cmp "$SCRATCH/logs" <(cat "$SCRATCH/want.out" "$SCRATCH/want.err")

for n in 1 2 3; do
        id="$(aegis submit "$(manifest quick 'echo done' "$once")")" || fail "submit failed"
        check "a command exiting 0 completes its execution ($n)" wait_status "$id" completed 60
        assert_eq "… with exit code 0" 0 "$(execution_field "$id" '.iterations[0].exit_code')"
        assert_eq "… and its output" done "$(execution_field "$id" .output)"
done
assert_eq "all four ends counted" 4 "$(( $(seen attach) + $(seen wait) ))"
check "… seen by their attach (at least one: on a loaded machine the wait may answer first)" \
        test "$(seen attach)" -ge 1

m="$(manifest missing 'true' "$once")"
sed -i 's|^    command: .*|    command: ["/no/such/program"]|' "$m"
id="$(aegis submit "$m")" || fail "submit failed"
check "a command the runtime cannot run fails its execution" wait_status "$id" failed 60
assert_match "… saying why, in the engine's words" '/no/such/program.*(not found|no such file)' \
        "$(api GET "/v1/executions/$id" | jq -r '[.reason, .iterations[0].reason] | join(" ")')"

id="$(aegis submit "$(manifest long 'echo started; sleep 600' "$once")")" || fail "submit failed"
running() { [ "$(execution_field "$id" .status)" = running ] && api GET "/v1/executions/$id/logs?iteration=1" | grep -q started; }
check "a long command runs" wait_for 30 running
api POST "/v1/executions/$id/cancel" >/dev/null
check "… a cancel ends it" wait_status "$id" cancelled 30
check "… and no container is left" wait_for 30 assert_no_managed_containers
finish
