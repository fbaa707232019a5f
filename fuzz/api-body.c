/* fuzz/api-body.c — libFuzzer target for JSON request bodies as POST /v1/executions,
 * /v1/agents and /v1/volumes read them: json_body_parse() (depth, UTF-8, one object), then
 * the manifest the body carries — as YAML text, as a JSON object re-serialised, or the body
 * itself — through manifest_parse(), exactly as api-executions.c dispatches.
 *
 * Beyond "no crash, no leak, no UB": every refusal carries a message and a 4xx status (the
 * API sends both back), and every accepted manifest has a canonical JSON form that parses. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-body.h"
#include "manifest.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(int r, const Error *e) {
        if (r == -ENOMEM)
                return;
        if (e->code != r || isempty(e->message))
                abort();
}

static void parse_manifest(const char *text, size_t n) {
        ManifestPlan *p = NULL;
        Error e = ERROR_INIT;
        json_object *j;
        char *s;
        int r;

        r = manifest_parse(text, n, "request body", &p, &e);
        if (r < 0) {
                check_refusal(r, &e);
                return;
        }
        s = manifest_plan_to_json_string(p);
        if (!s)
                abort();
        j = json_tokener_parse(s);
        if (!j)
                abort();
        json_object_put(j);
        free(s);
        manifest_plan_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Error e = ERROR_INIT;
        json_object *body = NULL, *m, *name;
        int r;

        r = json_body_parse((const char *) data, size, &body, &e);
        if (r < 0) {
                check_refusal(r, &e);
                if (r != -ENOMEM && (e.http_status < 400 || e.http_status > 499))
                        abort();
                return 0;
        }
        if (json_object_object_get_ex(body, "manifest", &m)) {
                if (json_object_is_type(m, json_type_string))
                        parse_manifest(json_object_get_string(m), (size_t) json_object_get_string_len(m));
                else if (json_object_is_type(m, json_type_object)) {
                        const char *s = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY);
                        parse_manifest(s, strlen(s));
                }
        } else if (json_object_object_get_ex(body, "spec", NULL) ||
                   json_object_object_get_ex(body, "apiVersion", NULL))
                parse_manifest((const char *) data, size);
        /* Strings quoted back in answers must be UTF-8 (json_body_parse validated them). */
        if (json_object_object_get_ex(body, "name", &name) && json_object_is_type(name, json_type_string)) {
                const char *s = json_object_get_string(name);
                size_t n = (size_t) json_object_get_string_len(name);
                for (size_t i = 0, k; i < n; i += k)
                        if ((k = s[i] ? utf8_char_len(s + i, n - i) : 1) == 0)
                                abort();
        }
        json_object_put(body);
        return 0;
}
