#!/bin/bash
# Dry runs (issue 17): POST /v1/executions?dry_run=true and POST /v1/agents?dry_run=true,
# `aegis run --dry-run` and `aegis agent validate` report every error of a manifest (not
# only the first: several parts each with its mistake give one error each) and create
# nothing: the store has no execution or agent afterwards, the engine no container, volume
# or pulled image. A valid manifest is 200 with its canonical form; the CLI exits 0 then,
# 125 on a refused manifest (aegis(1)).
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq sqlite3
podman_start
aegisd_start
DB="$SCRATCH/aegisd-a/state/aegis.db"

engine_state() {
        {
                podman_cmd ps -a --format '{{.ID}}'
                podman_cmd volume ls -q
                podman_cmd images -q --no-trunc
        } | sort | tr '\n' ' '
}
store_state() { sqlite3 "$DB" "SELECT (SELECT count(*) FROM executions), (SELECT count(*) FROM agents), (SELECT count(*) FROM events);"; }
before_engine="$(engine_state)"
before_store="$(store_state)"

# Four mistakes in four parts of the manifest, and a volume that does not exist.
cat >"$SCRATCH/bad.yaml" <<YAML
apiVersion: 100monkeys.ai/v1
kind: Agent
metadata:
  name: Not_A_Name
spec:
  runtime:
    image: $TEST_IMAGE
    image_pull_policy: Sometimes
  resources:
    memory_bytes: lots
  execution:
    max_iterations: -3
  volumes: 7
YAML
st="$(curl -s -o "$SCRATCH/ans" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
        --data-binary @"$SCRATCH/bad.yaml" "$AEGIS_URL/v1/executions?dry_run=true")"
assert_eq "dry run of a bad manifest: 400 invalid_manifest" "400 invalid_manifest" "$st $(jq -r .code "$SCRATCH/ans")"
assert_eq "… every error, one per part" 5 "$(jq '.errors | length' "$SCRATCH/ans")"
assert_eq "… each naming its field" "metadata.name spec.execution.max_iterations spec.resources.memory_bytes spec.runtime.image_pull_policy spec.volumes" \
        "$(jq -r '[.errors[].field] | sort | join(" ")' "$SCRATCH/ans")"
assert_eq "… each with its line" 5 "$(jq '[.errors[].error | select(test("^request body:[0-9]+:[0-9]+: "))] | length' "$SCRATCH/ans")"
assert_eq "… the first is also the error" true "$(jq '.error == .errors[0].error and .field == .errors[0].field' "$SCRATCH/ans")"
assert_eq "without dry_run the same manifest gives its first error only" "400 invalid_manifest null" \
        "$(curl -s -o "$SCRATCH/ans2" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
                --data-binary @"$SCRATCH/bad.yaml" "$AEGIS_URL/v1/executions") $(jq -r .code "$SCRATCH/ans2") $(jq -c .errors "$SCRATCH/ans2")"
st="$(curl -s -o "$SCRATCH/ans" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
        --data-binary @"$SCRATCH/bad.yaml" "$AEGIS_URL/v1/agents?dry_run=true")"
assert_eq "agent deploy dry run: the same errors" "400 5" "$st $(jq '.errors | length' "$SCRATCH/ans")"
assert_eq "dry_run=maybe: 400 naming dry_run" "400 dry_run" \
        "$(curl -s -o "$SCRATCH/ans" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
                --data-binary @"$SCRATCH/bad.yaml" "$AEGIS_URL/v1/executions?dry_run=maybe") $(jq -r .field "$SCRATCH/ans")"

# A valid manifest whose image is not there: a real run would pull it; a dry run does not.
m="$(manifest dry-ok 'echo hi')"
sed -i "s|image: $TEST_IMAGE|image: localhost/aegis-never-pulled:1|; s|image_pull_policy: Never|image_pull_policy: Always|" "$m"
st="$(curl -s -o "$SCRATCH/ans" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
        --data-binary @"$m" "$AEGIS_URL/v1/executions?dry_run=true")"
assert_eq "dry run of a valid manifest: 200 valid" "200 true true" "$st $(jq '.dry_run, .valid' "$SCRATCH/ans" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "… with the canonical manifest" dry-ok "$(jq -r .manifest.metadata.name "$SCRATCH/ans")"
assert_eq "… and no execution id" null "$(jq -r .execution_id "$SCRATCH/ans")"
assert_eq "agent dry run of it: 200" 200 "$(api_status POST '/v1/agents?dry_run=1' -H 'Content-Type: application/yaml' --data-binary @"$m")"

# The CLI.
out="$(aegis run --dry-run "$SCRATCH/bad.yaml" 2>"$SCRATCH/err")"
rc=$?
assert_eq "aegis run --dry-run of a bad manifest: exit 125" 125 "$rc"
assert_eq "… one line per error, and the count" "5 1" \
        "$(grep -c "^aegis: $SCRATCH/bad.yaml:[0-9]*:[0-9]*: " "$SCRATCH/err") $(grep -c '^aegis: 5 errors: nothing was created$' "$SCRATCH/err")"
assert_eq "… nothing on standard output" "" "$out"
out="$(aegis agent validate "$SCRATCH/bad.yaml" 2>"$SCRATCH/err")"
assert_eq "aegis agent validate of a bad manifest: exit 125, 5 errors" "125 5" "$? $(grep -c '^aegis: manifest:[0-9]*:[0-9]*: ' "$SCRATCH/err")"
out="$(aegis agent validate "$m" 2>"$SCRATCH/err")"
assert_eq "aegis agent validate of a good manifest: exit 0" "0 valid: nothing was created" "$? $out"
out="$(aegis -o json run --dry-run "$m" 2>"$SCRATCH/err")"
assert_eq "aegis -o json run --dry-run: exit 0, the answer as JSON" "0 true" "$? $(jq .valid <<<"$out")"

# A valid manifest that this host refuses for several reasons: a dry run lists every one
# (the same body as the manifest's errors), a real submission stops at the first.
AEGIS_URL_A="$AEGIS_URL"
aegisd_start b "limits:
  max_cpus: 1
  max_memory_bytes: 64Mi
  max_pids: 100"
m="$(manifest host-refused 'echo hi' '  security_context: ghost
  resources:
    cpu_quota: 2
    memory_bytes: 1073741824
    pids_limit: 1000
  volumes:
    - name: data
      mount_path: /workspace/data
      volume_id: 00000000-0000-4000-8000-000000000000')"
st="$(curl -s -o "$SCRATCH/ans" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
        --data-binary @"$m" "$AEGIS_URL/v1/executions?dry_run=true")"
cat "$SCRATCH/ans"; echo
assert_eq "dry run of a refused manifest: 400, not valid" "400 true false" "$st $(jq -r '"\(.dry_run) \(.valid)"' "$SCRATCH/ans")"
assert_eq "… every host-level refusal, each naming its field" \
        "spec.resources.cpu_quota spec.resources.memory_bytes spec.resources.pids_limit spec.security_context spec.volumes[0].volume_id" \
        "$(jq -r '[.errors[].field] | sort | join(" ")' "$SCRATCH/ans")"
assert_eq "… each with a code" 5 "$(jq '[.errors[] | select(.code == "bad_request")] | length' "$SCRATCH/ans")"
assert_eq "… the first is also the error" true "$(jq '.error == .errors[0].error and .field == .errors[0].field and .code == .errors[0].code' "$SCRATCH/ans")"
st="$(curl -s -o "$SCRATCH/ans" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
        --data-binary @"$m" "$AEGIS_URL/v1/executions")"
assert_eq "a real submission stops at the first refusal" "400 spec.security_context null" \
        "$st $(jq -r .field "$SCRATCH/ans") $(jq -c .errors "$SCRATCH/ans")"
out="$(aegis run --dry-run "$m" 2>"$SCRATCH/err")"
assert_eq "aegis run --dry-run: exit 125, one line per refusal" "125 5" "$? $(grep -c '^aegis: .*spec\.' "$SCRATCH/err")"
cat "$SCRATCH/err"
st="$(curl -s -o "$SCRATCH/ans" -w '%{http_code}' -X POST -H 'Content-Type: application/yaml' \
        --data-binary @"$m" "$AEGIS_URL/v1/agents?dry_run=true")"
assert_eq "agent deploy dry run: every ceiling passed" "400 3" "$st $(jq '.errors | length' "$SCRATCH/ans")"
assert_eq "aegisd b created nothing" "0 0" "$(api GET /v1/executions | jq .count) $(api GET /v1/agents | jq .count)"
AEGIS_URL="$AEGIS_URL_A"

assert_eq "the store is unchanged (executions, agents, events)" "$before_store" "$(store_state)"
assert_eq "the engine is unchanged (containers, volumes, images)" "$before_engine" "$(engine_state)"
assert_eq "the API lists no execution" 0 "$(api GET /v1/executions | jq .count)"
assert_eq "the API lists no agent" 0 "$(api GET /v1/agents | jq .count)"
finish
