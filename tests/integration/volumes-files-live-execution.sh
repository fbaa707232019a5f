#!/bin/bash
# Files in and out of a workspace while its execution runs (issue 15), on real Podman in
# bind mode: a file uploaded through the volume file API while the container waits is read
# by the container; what the container writes is downloaded through the volume API and
# through GET /v1/executions/{id}/files/{path}; another tenant gets 404 there exactly as for
# a missing execution, and a path that climbs out is refused.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
ROOT="$SCRATCH/storage"
printf '%s\n' "tok-acme acme" "tok-globex globex" >"$SCRATCH/tokens"
AEGIS_API_EXTRA="  tokens_file: \"$SCRATCH/tokens\"" aegisd_start a "storage:
  root: \"$ROOT\"
  mount_mode: bind"
A=(-H 'Authorization: Bearer tok-acme')
B=(-H 'Authorization: Bearer tok-globex')

m="$(manifest live 'i=0; while [ ! -f /workspace/in/data.txt ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
cat /workspace/in/data.txt
mkdir -p /workspace/out && tr a-z A-Z </workspace/in/data.txt >/workspace/out/result.txt' '  volumes:
    - name: work
      mount_path: /workspace
      size_limit: 10Mi')"
id="$(curl -s "${A[@]}" -X POST -H 'Content-Type: text/yaml' --data-binary @"$m" "$AEGIS_URL/v1/executions" | jq -r .execution_id)"
assert_match "submitted" '^[0-9a-f-]{36}$' "$id"
wait_for 60 bash -c "curl -s -H 'Authorization: Bearer tok-acme' $AEGIS_URL/v1/executions/$id | jq -e '.status == \"running\"'" ||
        fail "execution never got running"
vol="$(curl -s "${A[@]}" "$AEGIS_URL/v1/volumes" | jq -r --arg x "$id" '.volumes[] | select(.owner_execution_id == $x) | .id')"
assert_match "the execution's volume is listed" '^[0-9a-f-]{36}$' "$vol"

printf 'hello from the api\n' >"$SCRATCH/data.txt"
assert_eq "upload while it runs is 201" 201 \
        "$(curl -s -o /dev/null -w '%{http_code}' "${A[@]}" -F "file=@$SCRATCH/data.txt" \
                "$AEGIS_URL/v1/volumes/$vol/files/upload?path=/in/data.txt")"
wait_for 60 bash -c "curl -s -H 'Authorization: Bearer tok-acme' $AEGIS_URL/v1/executions/$id | jq -e '.status == \"completed\"'" ||
        fail "execution did not complete: $(curl -s "${A[@]}" "$AEGIS_URL/v1/executions/$id")"
assert_match "the container read the uploaded file" 'hello from the api' \
        "$(curl -s "${A[@]}" "$AEGIS_URL/v1/executions/$id" | jq -r .output)"
assert_eq "what the container wrote downloads through the volume" "HELLO FROM THE API" \
        "$(curl -s "${A[@]}" "$AEGIS_URL/v1/volumes/$vol/files/download?path=/out/result.txt")"
assert_eq "and through the execution's files route" "HELLO FROM THE API" \
        "$(curl -s "${A[@]}" "$AEGIS_URL/v1/executions/$id/files/out/result.txt")"
assert_eq "the listing shows it" "result.txt:file:19" \
        "$(curl -s "${A[@]}" "$AEGIS_URL/v1/volumes/$vol/files?path=/out" | jq -r '.entries[] | "\(.name):\(.type):\(.size_bytes)"')"
assert_eq "a missing file of the execution is 404" 404 \
        "$(curl -s -o /dev/null -w '%{http_code}' "${A[@]}" "$AEGIS_URL/v1/executions/$id/files/out/none")"
assert_eq "a path climbing out is 400" 400 \
        "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "${A[@]}" "$AEGIS_URL/v1/executions/$id/files/out/%2e%2e/%2e%2e/%2e%2e/tokens")"
want="$(curl -s -w ' %{http_code}' "${A[@]}" "$AEGIS_URL/v1/executions/no-such-execution/files/out/result.txt" | sed 's/no-such-execution/X/')"
got="$(curl -s -w ' %{http_code}' "${B[@]}" "$AEGIS_URL/v1/executions/$id/files/out/result.txt" | sed "s/$id/X/")"
assert_match "another tenant's read is 404" ' 404$' "$got"
assert_eq "exactly as for a missing execution" "$want" "$got"
assert_eq "another tenant cannot read the volume either" 404 \
        "$(curl -s -o /dev/null -w '%{http_code}' "${B[@]}" "$AEGIS_URL/v1/volumes/$vol/files/download?path=/out/result.txt")"
assert_no_managed_containers
finish
