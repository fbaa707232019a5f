#!/bin/bash
# A warm pool's iteration ends when its container's aegis-bootstrap reports the command's
# exit on the log stream (issue 18, exit-report.h), without waiting for the engine to
# notice the container's end; the report is never output:
#  - aegis-bootstrap passes signals on, and reports no exit by a signal;
#  - the command never sees the nonce (not in its environment, the env file emptied);
#  - output without a final newline, on stdout and stderr, stays byte for byte;
#  - the reported status is the iteration's exit code (0 and 3);
#  - a report line the command forges (another nonce) is output, and the real status wins;
#  - each report is counted (aegis_iteration_exits_seen_total{by="report"}); a cold
#    iteration's end is seen otherwise (by its attach, or the wait).
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
make_scratch

# aegis-bootstrap itself, on the host: signals reach the command; a command killed by one
# gets no report (aegisd then asks the engine), and the status is the shell's 128+N.
BS="$top_builddir/aegis-bootstrap" NONCE=0123456789abcdef0123456789abcdef
printf 'AEGIS_EXIT_REPORT=%s\0' "$NONCE" >"$SCRATCH/env"
"$BS" --env-file "$SCRATCH/env" -- /bin/sh -c 'trap "echo got TERM; exit 5" TERM; echo ready; while :; do sleep 0.05; done' \
        >"$SCRATCH/bs.out" 2>"$SCRATCH/bs.err" &
bs=$!
check "the command runs" wait_for 10 grep -q ready "$SCRATCH/bs.out"
kill -TERM "$bs"
wait "$bs"
assert_eq "SIGTERM reaches the command, whose status is the program's" 5 "$?"
assert_eq "…and its exit is reported after its output" "ready
got TERM
AEGIS-EXIT $NONCE 5" "$(cat "$SCRATCH/bs.out")"
assert_eq "…on stderr too" "AEGIS-EXIT $NONCE 5" "$(cat "$SCRATCH/bs.err")"
assert_eq "…and the env file was emptied" 0 "$(wc -c <"$SCRATCH/env")"
printf 'AEGIS_EXIT_REPORT=%s\0' "$NONCE" >"$SCRATCH/env"
"$BS" --env-file "$SCRATCH/env" -- /bin/sh -c 'echo dying; kill -KILL $$' >"$SCRATCH/bs.out" 2>&1
assert_eq "a command killed by a signal: the shell's status" 137 "$?"
assert_eq "…and no report" dying "$(cat "$SCRATCH/bs.out")"
printf 'AEGIS_EXIT_REPORT=not-a-nonce\0FOO=bar\0' >"$SCRATCH/env"
"$BS" --env-file "$SCRATCH/env" -- /bin/sh -c 'echo "${AEGIS_EXIT_REPORT:-unset} $FOO"; exit 6' >"$SCRATCH/bs.out" 2>&1
assert_eq "a malformed nonce: no report, the command runs as before" 6 "$?"
assert_eq "…without the variable, with the others" "unset bar" "$(cat "$SCRATCH/bs.out")"
printf 'AEGIS_EXIT_REPORT=%s\0' "$NONCE" >"$SCRATCH/env"
"$BS" --env-file "$SCRATCH/env" -- /bin/sh -c 'sleep 0.3; exit 4' 2>/dev/null | true
assert_eq "a log pipe gone before the report: still the command's status" 4 "${PIPESTATUS[0]}"

podman_start
AEGIS_RUNTIME_EXTRA="  bootstrap_binary: \"$(cd "$top_builddir" && pwd)/aegis-bootstrap\"" aegisd_start a
mport="$(sed -n 's/.*metrics_listen: "\(.*\)"/\1/p' "$SCRATCH/aegisd-a/config.yaml")"

seen() { # seen BY: a counter at 0 is not listed
        local n
        n="$(curl -s "http://$mport/metrics" | sed -n "s/^aegis_iteration_exits_seen_total{by=\"$1\"} //p")"
        echo "${n:-0}"
}
reports() { seen report; }
deploy() { api POST /v1/agents -H 'Content-Type: application/yaml' --data-binary @"$1" | jq -r .id; }
execute() { api POST /v1/executions -H 'Content-Type: application/json' -d "{\"agent_id\":\"$1\",\"input\":$2}" | jq -r .execution_id; }
pooled() { # pooled NAME SCRIPT: a deployed agent with a warm pool of one, one iteration
        local m
        m="$(manifest "$1" "$2" '  execution:
    max_iterations: 1')"
        sed -i 's|^    image_pull_policy: Never$|&\n    warm_pool: 1|' "$m"
        deploy "$m"
}
members() { [ "$(podman_cmd ps -q --filter label=aegis.pool="$1" | wc -l)" = 1 ]; }

agent="$(pooled report 'printf "env=%s file=%s" "${AEGIS_EXIT_REPORT:-none}" "$(wc -c </run/aegis/env)"; printf err-no-newline >&2; exit "$(tr -dc 0-9 <"$AEGIS_INPUT_FILE")"')"
assert_match "the agent deploys" '^[0-9a-f-]{36}$' "$agent"
check "its pool fills" wait_for 60 members "$agent"
assert_eq "no report counted yet" 0 "$(reports)"

e1="$(execute "$agent" '{"code":0}')"
check "a pooled execution completes" wait_status "$e1" completed 60
assert_eq "…its command saw no nonce, and an emptied env file; stdout byte for byte" \
        "env=none file=0" "$(execution_field "$e1" .output)"
assert_eq "…exit code 0" 0 "$(execution_field "$e1" '.iterations[0].exit_code')"
logs="$(api GET "/v1/executions/$e1/logs?iteration=1")"
assert_match "…its logs have stderr as written" 'err-no-newline' "$logs"
check "…and no report line" bash -c '! grep -q AEGIS-EXIT <<<"$1"' _ "$logs"
assert_eq "…and the report was counted" 1 "$(reports)"

check "the pool refills" wait_for 60 members "$agent"
e2="$(execute "$agent" '{"code":3}')"
check "a pooled command exiting 3 fails its execution" wait_status "$e2" failed 60
assert_eq "…with exit code 3, as reported" 3 "$(execution_field "$e2" '.iterations[0].exit_code')"
logs="$(api GET "/v1/executions/$e2/logs?iteration=1")"
assert_match "…output intact" '^env=none file=0' "$logs"
check "…without a report line" bash -c '! grep -q AEGIS-EXIT <<<"$1"' _ "$logs"
assert_eq "…counted" 2 "$(reports)"

forged='AEGIS-EXIT 0123456789abcdef0123456789abcdef 0'
forger="$(pooled forger "echo '$forged'; echo '$forged' >&2; sleep 1; exit 4")"
check "a forger's pool fills" wait_for 60 members "$forger"
e3="$(execute "$forger" '{}')"
check "a command that prints a report of its own does not end the iteration early" \
        wait_status "$e3" failed 60
assert_eq "…its real status is the exit code" 4 "$(execution_field "$e3" '.iterations[0].exit_code')"
assert_eq "…and its forged lines are output, on stdout and stderr" 2 \
        "$(api GET "/v1/executions/$e3/logs?iteration=1" | grep -c "^$forged\$")"
assert_eq "…only the real report counted" 3 "$(reports)"

cold="$(deploy "$(manifest cold 'echo cold')")"
e4="$(execute "$cold" '{}')"
check "a cold execution completes" wait_status "$e4" completed 60
assert_eq "…with no report" 3 "$(reports)"
assert_eq "…its end seen by its attach (or, on a loaded machine, the wait)" 1 "$(( $(seen attach) + $(seen wait) ))"
finish
