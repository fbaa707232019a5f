#!/bin/bash
# The API describes itself (issue 17): GET /v1/openapi.json serves data/openapi.json; the
# document is valid OpenAPI 3.1 (python3-jsonschema against the vendored 3.1 meta-schema,
# no network); it lists exactly the routes of the daemon's route tables (`aegisd
# --list-routes`, printed from the lists the daemon registers), and every path and method
# in it answers on the real daemon with something other than the router's 404
# (code no_such_route) or 405. Error bodies carry their stable "code" beside the unchanged
# "error" text.
. "${AEGIS_TEST_LIB:-$(dirname "$0")/../lib}/common.sh"
require_cmd curl jq
DOC="$top_srcdir/data/openapi.json"
SCHEMA="$top_srcdir/tests/data/openapi-3.1-schema.json"
# python3-jsonschema (Debian) is /usr/bin/python3's; another python3 first on PATH may lack it.
PY=""
for p in /usr/bin/python3 python3; do
        "$p" -c 'import jsonschema' 2>/dev/null && { PY="$p"; break; }
done
[ -n "$PY" ] || skip_or_fail "needs python3-jsonschema"
make_scratch
export STATE_DIRECTORY="$SCRATCH/state"
unset DATABASE_URL CONTAINER_HOST DOCKER_HOST

# 1. The document is valid OpenAPI 3.1, and the validator does refuse an invalid one.
validate() {
        "$PY" - "$SCHEMA" "$1" <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
for e in errors[:10]:
    print("/".join(map(str, e.path)) + ": " + e.message[:300], file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}
check "data/openapi.json is valid against the OpenAPI 3.1 meta-schema" validate "$DOC"
assert_eq "the document says 3.1" 3.1 "$(jq -r '.openapi | .[0:3]' "$DOC")"
jq '.paths["/v1/executions"].get.responses["200"] = {"content": {}}' "$DOC" >"$SCRATCH/broken.json"
if validate "$SCRATCH/broken.json" 2>/dev/null; then r=accepted; else r=refused; fi
assert_eq "… and the validator refuses a response without a description" refused "$r"

# 2. The document's routes are exactly the route tables' ({name*} captures are {name}).
"$AEGISD" --list-routes >"$SCRATCH/routes" || fail "aegisd --list-routes failed"
sed -e 's/\*}/}/g' "$SCRATCH/routes" | sort -u >"$SCRATCH/served"
jq -r '.paths | to_entries[] | .key as $p | .value | keys[]
        | select(IN("get","put","post","delete","patch","head","options","trace")) | "\(ascii_upcase) \($p)"' \
        "$DOC" | sort -u >"$SCRATCH/documented"
assert_eq "aegisd --list-routes lists routes" true "$([ "$(wc -l <"$SCRATCH/served")" -ge 30 ] && echo true)"
assert_eq "every served route is in the document" "" "$(comm -23 "$SCRATCH/served" "$SCRATCH/documented" | tr '\n' ';')"
assert_eq "every documented route is served" "" "$(comm -13 "$SCRATCH/served" "$SCRATCH/documented" | tr '\n' ';')"

# 3. The real daemon (no Podman behind it: the routes do not need it to answer).
PORT="$(free_port)" MPORT="$(free_port)"
cat >"$SCRATCH/config.yaml" <<YAML
api:
  listen: "127.0.0.1:$PORT"
  metrics_listen: "127.0.0.1:$MPORT"
runtime:
  container_socket_path: $SCRATCH/podman/podman.sock
YAML
"$AEGISD" --config "$SCRATCH/config.yaml" 2>"$SCRATCH/aegisd.log" &
PID=$!
on_exit "kill $PID 2>/dev/null; wait $PID 2>/dev/null"
URL="http://127.0.0.1:$PORT"
wait_for 20 curl -sf "$URL/health" -o /dev/null || fail "aegisd did not come up: $(cat "$SCRATCH/aegisd.log")"

code="$(curl -s -o "$SCRATCH/served.json" -w '%{http_code} %{content_type}' "$URL/v1/openapi.json")"
assert_eq "GET /v1/openapi.json: 200 JSON" "200 application/json" "$code"
check "… the installed document, byte for byte" cmp -s "$DOC" "$SCRATCH/served.json"

# Every documented path and method answers: parameters filled with "x", bodies "[]" (refused
# as they should be, after routing). The router's own refusals are 404 no_such_route and 405.
bad=""
n=0
while read -r method path; do
        url="$URL$(sed -e 's/{[^}]*}/x/g' <<<"$path")"
        args=(-s -o "$SCRATCH/body" -w '%{http_code}' --max-time 30 -X "$method")
        case "$method" in POST | PUT | PATCH) args+=(-H 'Content-Type: application/json' --data-binary '[]') ;; esac
        st="$(curl "${args[@]}" "$url")"
        c="$(jq -r '.code? // empty' "$SCRATCH/body" 2>/dev/null)"
        if [ "$st" = 405 ] || [ "$c" = no_such_route ] || [ "$st" = 000 ]; then
                bad="$bad $method $path ($st $c);"
        fi
        n=$((n + 1))
done <"$SCRATCH/documented"
assert_eq "every documented route answers on the daemon ($n routes)" "" "$bad"

# 4. Error codes: stable codes beside the unchanged messages.
err() { # err METHOD PATH [curl args…] -> "STATUS CODE"
        local m="$1" p="$2"
        shift 2
        printf '%s %s' "$(curl -s -o "$SCRATCH/err" -w '%{http_code}' -X "$m" "$@" "$URL$p")" "$(jq -r .code "$SCRATCH/err")"
        jq -r .code "$SCRATCH/err" >>"$SCRATCH/codes"
}
assert_eq "no such endpoint: 404 no_such_route" "404 no_such_route" "$(err GET /v1/nope)"
assert_eq "… with the same message as before" "no such endpoint: GET /v1/nope" "$(jq -r .error "$SCRATCH/err")"
assert_eq "wrong method: 405 method_not_allowed" "405 method_not_allowed" "$(err PUT /v1/executions)"
assert_eq "unknown execution: 404 not_found" "404 not_found" "$(err GET /v1/executions/0123456789abcdef)"
assert_eq "text/plain body: 415 unsupported_media_type" "415 unsupported_media_type" \
        "$(err POST /v1/executions -H 'Content-Type: text/plain' --data-binary x)"
assert_eq "… naming the header" Content-Type "$(jq -r .field "$SCRATCH/err")"
assert_eq "foreign Host: 421 host_not_allowed" "421 host_not_allowed" "$(err GET /v1/executions -H 'Host: evil.example')"
assert_eq "foreign Origin: 403 origin_not_allowed" "403 origin_not_allowed" \
        "$(err GET /v1/executions -H 'Origin: http://evil.example')"
printf 'apiVersion: 100monkeys.ai/v1\nkind: Agent\nmetadata:\n  name: bad\nspec:\n  runtime:\n    image: x\n  resources:\n    memory_bytes: lots\n' >"$SCRATCH/bad.yaml"
assert_eq "bad manifest: 400 invalid_manifest" "400 invalid_manifest" \
        "$(err POST /v1/executions -H 'Content-Type: application/yaml' --data-binary @"$SCRATCH/bad.yaml")"
assert_eq "… naming the field" spec.resources.memory_bytes "$(jq -r .field "$SCRATCH/err")"
assert_eq "body not JSON: 400 bad_request" "400 bad_request" \
        "$(err POST /v1/executions -H 'Content-Type: application/json' --data-binary '{')"
# Every code the daemon answered is one the document lists.
missing=""
for c in $(sort -u "$SCRATCH/codes"); do
        jq -e --arg c "$c" '.components.schemas.ErrorCode.enum | index($c)' "$DOC" >/dev/null || missing="$missing $c"
done
assert_eq "the codes answered are in the document's ErrorCode enum" "" "$missing"
finish
