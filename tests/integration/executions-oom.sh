#!/bin/bash
# A container that allocates past its memory limit is killed by the kernel, and the
# iteration says `oom` (not a mere exit code 137).
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start

m="$(manifest hog 'awk "BEGIN { s = \"xxxxxxxxxxxxxxxx\"; while (1) { s = s s } }"' '  resources:
    memory_bytes: 16777216
  execution:
    max_iterations: 1
    iteration_timeout: 60s')"
aegis -q run "$m" >/dev/null
assert_eq "aegis run exits 1" 1 "$?"
id="$(aegis list --output json | jq -r '.executions[0].id')"
ex="$(api GET "/v1/executions/$id")"
assert_eq "iteration reason oom" oom "$(jq -r '.iterations[0].reason' <<<"$ex")"
assert_eq "exit code 137 recorded" 137 "$(jq -r '.iterations[0].exit_code' <<<"$ex")"
assert_eq "its usage says oom_killed" true "$(jq -r '.iterations[0].usage.oom_killed' <<<"$ex")"
assert_match "execution reason mentions oom" 'oom' "$(jq -r .reason <<<"$ex")"
assert_no_managed_containers
finish
