#!/bin/bash
# The operator's ceilings and the tenants' quotas (issue 19): a manifest asking for more CPU,
# memory, pids or time than limits.* allow is 400 naming the field and the ceiling, at
# execute and at deploy; a tenant at limits.max_concurrent_executions (overall or its
# limits.tenants entry) gets 429 with Retry-After, and nothing is created for the refused
# submission (no execution row, no container). A fresh configuration's ceilings are the
# host's CPUs and memory, 32768 pids and 24 hours.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start

# The defaults hold on a fresh install.
dump="$(STATE_DIRECTORY="$SCRATCH/fresh" AEGIS_CONFIG_PATH=/dev/null "$AEGISD" --check-config 2>&1)"
mem=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024))
assert_match "default max_cpus is the host's CPUs" "max_cpus: $(getconf _NPROCESSORS_ONLN)  # default" "$dump"
assert_match "default max_memory_bytes is the host's memory" "max_memory_bytes: $mem  # default" "$dump"
assert_match "default max_pids is 32768" "max_pids: 32768  # default" "$dump"
assert_match "default max_timeout_secs is 24 h" "max_timeout_secs: 86400  # default" "$dump"

printf 'token-a a\ntoken-b b\n' >"$SCRATCH/tokens"
chmod 600 "$SCRATCH/tokens"
AEGIS_API_EXTRA="  tokens_file: \"$SCRATCH/tokens\"" aegisd_start a "limits:
  max_cpus: 2
  max_memory_bytes: 1Gi
  max_pids: 4096
  max_timeout_secs: 1h
  max_concurrent_executions: 5
  tenants:
    b:
      max_concurrent_executions: 2
      max_memory_bytes: 600Mi"
A=(-H 'Authorization: Bearer token-a')
B=(-H 'Authorization: Bearer token-b')

submit() { # submit TOKEN-ARGS… -- MANIFEST-FILE: prints "STATUS BODY"
        local file="${*: -1}"
        curl -s -w '\n%{http_code}' -X POST "$AEGIS_URL/v1/executions" "${@:1:$#-1}" \
                -H 'Content-Type: application/yaml' --data-binary @"$file"
}
count() { api GET /v1/executions "$@" | jq '.executions | length'; }
wait_b() { # wait_b ID STATUS: tenant b's execution reaches STATUS within a minute
        wait_for 60 bash -c '[ "$(curl -s -H "Authorization: Bearer token-b" "$1/v1/executions/$2" | jq -r .status)" = "$3" ]' \
                _ "$AEGIS_URL" "$1" "$2"
}
containers_of() { # the containers of execution ids given
        local id
        for id in "$@"; do podman_cmd ps -a --filter "label=aegis.execution_id=$id" --format '{{.ID}}'; done
}

# Over each ceiling: 400 naming the field and the ceiling, nothing created.
over() { # over NAME FIELD VALUE EXPECTED-CEILING-TEXT
        local m out
        m="$(manifest "$1" 'echo never' "  resources:
    $2: $3")"
        out="$(submit "${A[@]}" "$m")"
        assert_eq "$1: 400" 400 "$(tail -n1 <<<"$out")"
        assert_eq "$1: names the field" "spec.resources.$2" "$(head -n1 <<<"$out" | jq -r .field)"
        assert_match "$1: names the ceiling" "$4" "$(head -n1 <<<"$out" | jq -r .error)"
}
over big-memory memory_bytes 1099511627776 "ceiling of 1073741824 bytes.*limits.max_memory_bytes"
over many-pids pids_limit 1000000 "ceiling of 4096 pids.*limits.max_pids"
over many-cpus cpu_quota 1024 "ceiling of 2.000 CPUs.*limits.max_cpus"
over long-time timeout_secs 604800 "ceiling of 3600 s.*limits.max_timeout_secs"
m="$(manifest b-memory 'echo never' "  resources:
    memory_bytes: 838860800")"
out="$(submit "${B[@]}" "$m")"
assert_eq "tenant b's own ceiling: 400" 400 "$(tail -n1 <<<"$out")"
assert_match "tenant b's ceiling is named" "ceiling of 629145600 bytes for tenant b \(limits.tenants.max_memory_bytes" \
        "$(head -n1 <<<"$out" | jq -r .error)"
assert_eq "tenant a may ask for the same" 202 "$(submit "${A[@]}" "$m" | tail -n1)"
m="$(manifest big-agent 'echo never' "  resources:
    pids_limit: 100000")"
assert_eq "deploying an agent over a ceiling: 400" 400 \
        "$(api_status POST /v1/agents "${A[@]}" -H 'Content-Type: application/yaml' --data-binary @"$m")"
assert_eq "the refused agent was not deployed" 0 "$(api GET /v1/agents "${A[@]}" | jq '.agents | length')"
assert_eq "refusals created no execution (only the accepted one)" 1 "$(count "${A[@]}")"
wait_for 60 bash -c '[ "$(curl -s -H "Authorization: Bearer token-a" "$1/v1/executions" | jq -r ".executions[0].status")" = completed ]' _ "$AEGIS_URL" ||
        fail "tenant a's execution did not complete"

# Tenant b's quota: two unfinished executions, the third is 429 and creates nothing.
m="$(manifest sleeper 'sleep 60')"
id1="$(submit "${B[@]}" "$m" | head -n1 | jq -r .execution_id)"
id2="$(submit "${B[@]}" "$m" | head -n1 | jq -r .execution_id)"
wait_b "$id1" running && wait_b "$id2" running ||
        { aegisd_log a | tail -20 >&2; fail "b's two executions did not start"; }
headers="$SCRATCH/429.headers"
status="$(curl -s -D "$headers" -o "$SCRATCH/429.body" -w '%{http_code}' -X POST "$AEGIS_URL/v1/executions" \
        "${B[@]}" -H 'Content-Type: application/yaml' --data-binary @"$m")"
assert_eq "tenant b past its quota: 429" 429 "$status"
check "the 429 has Retry-After" grep -qi '^Retry-After: [0-9]' "$headers"
assert_match "the 429 names the quota" "tenant b already has 2 unfinished.*limits.tenants.max_concurrent_executions" \
        "$(jq -r .error "$SCRATCH/429.body")"
assert_eq "the refused submission created no execution" 2 "$(count "${B[@]}")"
ids="$(api GET /v1/executions "${B[@]}" | jq -r '.executions[].execution_id')"
assert_eq "the two are b's first two" "$(printf '%s\n' "$id1" "$id2" | sort)" "$(sort <<<"$ids")"
a_ids="$(api GET /v1/executions "${A[@]}" | jq -r '.executions[].execution_id')"
# shellcheck disable=SC2086 # word-split ids
assert_eq "and no third container" 2 $(($(podman_managed_ids | wc -l) - $(containers_of $a_ids | wc -l)))
assert_eq "tenant a is not held by b's quota" 202 "$(submit "${A[@]}" "$(manifest quick 'echo ok')" | tail -n1)"

# A finished execution frees its slot.
assert_eq "cancel one of b's" 202 "$(api_status POST "/v1/executions/$id1/cancel" "${B[@]}")"
wait_b "$id1" cancelled || fail "b's execution was not cancelled"
assert_eq "b may submit again" 202 "$(submit "${B[@]}" "$m" | tail -n1)"
api POST "/v1/executions/$id2/cancel" "${B[@]}" >/dev/null
finish
