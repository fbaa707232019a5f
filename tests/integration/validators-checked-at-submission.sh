#!/bin/bash
# Validators mean what they say (issue 17): a JSON Schema keyword the runtime would not check
# and a regex PCRE2 cannot compile are refused when the manifest is submitted (400 naming
# the path; nothing is created), and on a real Podman the checks run: PCRE2's \d with
# multiline anchors, and a draft 2020-12 schema (const, oneOf, pattern, $ref) whose failure
# names the place in the output.
. "$AEGIS_TEST_LIB/podman.sh"
. "$AEGIS_TEST_LIB/executions.sh"
require_cmd jq
podman_start
aegisd_start

submit() { api POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$1" -w '\n%{http_code}'; }

m="$(manifest unsupported 'echo {}' "  execution:
    validation:
      - type: json_schema
        schema:
          type: object
          properties:
            x: {dependentSchemas: {a: {required: [b]}}}")"
r="$(submit "$m")"
assert_eq "an unsupported JSON Schema keyword: 400" 400 "$(tail -1 <<<"$r")"
body="$(sed '$d' <<<"$r")"
assert_eq "… the error's field is the keyword's path" "spec.execution.validation[0].schema.properties.x.dependentSchemas" \
        "$(jq -r .field <<<"$body")"
assert_match "… and the message says it is unsupported, with the line" \
        'request body:[0-9]+:[0-9]+: spec\.execution\.validation\[0\]\.schema\.properties\.x\.dependentSchemas: unsupported JSON Schema keyword' \
        "$(jq -r .error <<<"$body")"

m="$(manifest misspelt 'echo {}' "  execution:
    validation:
      - {type: json_schema, schema: {type: string, minLenght: 2}}")"
r="$(submit "$m")"
assert_eq "a misspelt keyword: 400" 400 "$(tail -1 <<<"$r")"
assert_match "… with a suggestion" 'did you mean "minLength"' "$(sed '$d' <<<"$r" | jq -r .error)"

m="$(manifest badregex 'echo {}' "  execution:
    validation:
      - {type: regex, pattern: 'done (\\d+'}")"
r="$(submit "$m")"
assert_eq "a regex PCRE2 cannot compile: 400" 400 "$(tail -1 <<<"$r")"
assert_match "… with PCRE2's reason" 'spec\.execution\.validation\[0\]\.pattern: invalid regular expression \(PCRE2\): missing closing parenthesis' \
        "$(sed '$d' <<<"$r" | jq -r .error)"
assert_eq "nothing was created for the refused manifests" 0 "$(api GET /v1/executions | jq '.executions | length')"

validation="  execution:
    max_iterations: 1
    validation:
      - {type: regex, pattern: '^done \\d+\$', multiline: true}
      - type: json_schema
        schema:
          \$defs:
            id: {type: string, pattern: '^[a-f0-9]{8}\$'}
          type: object
          required: [status, id, size]
          additionalProperties: false
          properties:
            status: {const: ok}
            id: {\$ref: '#/\$defs/id'}
            size: {oneOf: [{type: integer, minimum: 1}, {enum: [unknown]}]}"
good="$(manifest good 'echo working; echo done 42; echo "{\"status\": \"ok\", \"id\": \"0badcafe\", \"size\": 3}"' "$validation")"
bad="$(manifest bad 'echo done 42; echo "{\"status\": \"ok\", \"id\": \"0BADCAFE\", \"size\": 3}"' "$validation")"
nodigit="$(manifest nodigit 'echo done x; echo "{\"status\": \"ok\", \"id\": \"0badcafe\", \"size\": 3}"' "$validation")"
id_good="$(submit "$good" | head -1 | jq -r .execution_id)"
id_bad="$(submit "$bad" | head -1 | jq -r .execution_id)"
id_nodigit="$(submit "$nodigit" | head -1 | jq -r .execution_id)"
wait_status "$id_good" completed 60 || fail "the conforming execution did not complete: $(api GET "/v1/executions/$id_good")"
wait_status "$id_bad" failed 60 || fail "the non-conforming execution did not fail: $(api GET "/v1/executions/$id_bad")"
wait_status "$id_nodigit" failed 60 || fail "the execution without a number did not fail: $(api GET "/v1/executions/$id_nodigit")"
assert_match "the schema's failure names the place in the output" \
        'validator 2 \(json_schema\): \$\.id: "0BADCAFE" does not match the pattern /\^\[a-f0-9\]\{8\}\$/' \
        "$(execution_field "$id_bad" '.iterations[0].reason')"
assert_match "\\d matches digits only" 'validator 1 \(regex on stdout\): /\^done \\d\+\$/ did not match' \
        "$(execution_field "$id_nodigit" '.iterations[0].reason')"
finish
