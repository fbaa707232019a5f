/* validate.c — see validate.h. Schema checking walks schema and value together and stops at
 * the first violation, so the reason names one precise place. Depth is bounded by the schema
 * (VALIDATE_SCHEMA_DEPTH_MAX) — a value can be nested deeper than that only where the
 * schema does not look. */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <regex.h>
#include <string.h>

#include "util.h"
#include "validate.h"

static const char *json_type_name(json_object *v) {
        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "boolean";
        case json_type_double:
                return "number";
        case json_type_int:
                return "integer";
        case json_type_object:
                return "object";
        case json_type_array:
                return "array";
        case json_type_string:
                return "string";
        }
        return "unknown";
}

static bool is_number(json_object *v) {
        return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static bool type_matches(const char *t, json_object *v) {
        if (streq(t, "number"))
                return is_number(v);
        if (streq(t, "integer")) {
                if (json_object_is_type(v, json_type_int))
                        return true;
                if (json_object_is_type(v, json_type_double)) {
                        double d = json_object_get_double(v);
                        return isfinite(d) && d == floor(d);
                }
                return false;
        }
        return streq(t, json_type_name(v));
}

/* Unicode code points in a UTF-8 string (what JSON Schema's lengths count). */
static size_t utf8_length(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        n++;
        return n;
}

static bool json_equal(json_object *a, json_object *b) {
        if (is_number(a) && is_number(b))
                return json_object_get_double(a) == json_object_get_double(b);
        return json_object_equal(a, b);
}

static int fail(char **ret_reason, const char *path, const char *fmt, const char *detail) {
        *ret_reason = asprintf_safe("%s: %s%s", path, fmt, strempty(detail));
        return *ret_reason ? 0 : -ENOMEM;
}

static int check(json_object *schema, json_object *v, const char *path, unsigned depth, char **ret_reason) {
        json_object *k;
        char buf[128];

        if (!json_object_is_type(schema, json_type_object))
                return 1; /* `true`, or not a schema: anything goes */
        if (depth > VALIDATE_SCHEMA_DEPTH_MAX)
                return fail(ret_reason, path, "schema nested too deeply", NULL);

        if (json_object_object_get_ex(schema, "type", &k)) {
                bool ok = false;

                if (json_object_is_type(k, json_type_string))
                        ok = type_matches(json_object_get_string(k), v);
                else if (json_object_is_type(k, json_type_array)) {
                        for (size_t i = 0; i < json_object_array_length(k) && !ok; i++)
                                ok = type_matches(json_object_get_string(json_object_array_get_idx(k, i)),
                                                  v);
                } else
                        ok = true;
                if (!ok) {
                        snprintf(buf, sizeof buf, "expected %s, got %s",
                                 json_object_is_type(k, json_type_string) ? json_object_get_string(k)
                                                                          : json_object_to_json_string(k),
                                 json_type_name(v));
                        return fail(ret_reason, path, buf, NULL);
                }
        }

        if (json_object_object_get_ex(schema, "enum", &k) && json_object_is_type(k, json_type_array)) {
                bool found = false;
                for (size_t i = 0; i < json_object_array_length(k) && !found; i++)
                        found = json_equal(json_object_array_get_idx(k, i), v);
                if (!found)
                        return fail(ret_reason, path, "not one of ",
                                    json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN));
        }

        if (is_number(v)) {
                double d = json_object_get_double(v);
                if (json_object_object_get_ex(schema, "minimum", &k) && is_number(k) &&
                    d < json_object_get_double(k))
                        return fail(ret_reason, path, "less than the minimum ",
                                    json_object_to_json_string(k));
                if (json_object_object_get_ex(schema, "maximum", &k) && is_number(k) &&
                    d > json_object_get_double(k))
                        return fail(ret_reason, path, "greater than the maximum ",
                                    json_object_to_json_string(k));
        }

        if (json_object_is_type(v, json_type_string)) {
                size_t n = utf8_length(json_object_get_string(v));
                if (json_object_object_get_ex(schema, "minLength", &k) && is_number(k) &&
                    (double) n < json_object_get_double(k))
                        return fail(ret_reason, path, "shorter than minLength ",
                                    json_object_to_json_string(k));
                if (json_object_object_get_ex(schema, "maxLength", &k) && is_number(k) &&
                    (double) n > json_object_get_double(k))
                        return fail(ret_reason, path, "longer than maxLength ",
                                    json_object_to_json_string(k));
        }

        if (json_object_is_type(v, json_type_array)) {
                size_t n = json_object_array_length(v);
                if (json_object_object_get_ex(schema, "minItems", &k) && is_number(k) &&
                    (double) n < json_object_get_double(k))
                        return fail(ret_reason, path, "fewer items than minItems ",
                                    json_object_to_json_string(k));
                if (json_object_object_get_ex(schema, "maxItems", &k) && is_number(k) &&
                    (double) n > json_object_get_double(k))
                        return fail(ret_reason, path, "more items than maxItems ",
                                    json_object_to_json_string(k));
                if (json_object_object_get_ex(schema, "items", &k))
                        for (size_t i = 0; i < n; i++) {
                                _cleanup_free_ char *sub = asprintf_safe("%s[%zu]", path, i);
                                int r;
                                if (!sub)
                                        return -ENOMEM;
                                r = check(k, json_object_array_get_idx(v, i), sub, depth + 1, ret_reason);
                                if (r <= 0)
                                        return r;
                        }
        }

        if (json_object_is_type(v, json_type_object)) {
                json_object *props = NULL, *ap;

                if (json_object_object_get_ex(schema, "required", &k) &&
                    json_object_is_type(k, json_type_array))
                        for (size_t i = 0; i < json_object_array_length(k); i++) {
                                const char *name = json_object_get_string(json_object_array_get_idx(k, i));
                                if (name && !json_object_object_get_ex(v, name, NULL)) {
                                        snprintf(buf, sizeof buf, "missing required property \"%.80s\"",
                                                 name);
                                        return fail(ret_reason, path, buf, NULL);
                                }
                        }
                if (json_object_object_get_ex(schema, "properties", &props) &&
                    !json_object_is_type(props, json_type_object))
                        props = NULL;
                json_object_object_foreach (v, key, val) {
                        json_object *sub_schema;

                        if (props && json_object_object_get_ex(props, key, &sub_schema)) {
                                _cleanup_free_ char *sub = asprintf_safe("%s.%s", path, key);
                                int r;
                                if (!sub)
                                        return -ENOMEM;
                                r = check(sub_schema, val, sub, depth + 1, ret_reason);
                                if (r <= 0)
                                        return r;
                        } else if (json_object_object_get_ex(schema, "additionalProperties", &ap) &&
                                   json_object_is_type(ap, json_type_boolean) &&
                                   !json_object_get_boolean(ap)) {
                                snprintf(buf, sizeof buf, "unexpected property \"%.80s\"", key);
                                return fail(ret_reason, path, buf, NULL);
                        }
                }
        }
        return 1;
}

int validate_json_schema(json_object *schema, json_object *value, char **ret_reason) {
        return check(schema, value, "$", 0, ret_reason);
}

/* Parses the whole text as one JSON value, or else its last non-empty line. */
static json_object *parse_output_json(const char *text) {
        json_tokener *tok;
        json_object *j;
        size_t len = strlen(text), end;
        const char *last;

        if (len > VALIDATE_JSON_INPUT_MAX)
                return NULL;
        tok = json_tokener_new_ex(VALIDATE_SCHEMA_DEPTH_MAX * 4);
        if (!tok)
                return NULL;
        j = json_tokener_parse_ex(tok, text, (int) len + 1);
        end = json_tokener_get_parse_end(tok);
        if (end > 0 && end <= len && text[end - 1] == '\0')
                end--;
        if (j && json_tokener_get_error(tok) == json_tokener_success &&
            (end >= len || text[end + strspn(text + end, " \t\r\n")] == '\0')) {
                json_tokener_free(tok);
                return j;
        }
        json_object_put(j);
        json_tokener_free(tok);

        while (len > 0 && strchr(" \t\r\n", text[len - 1]))
                len--;
        last = text + len;
        while (last > text && last[-1] != '\n')
                last--;
        if (last == text || len == 0)
                return NULL; /* one line only: already tried */
        {
                _cleanup_free_ char *line = strndup(last, len - (size_t) (last - text));
                return line ? json_tokener_parse(line) : NULL;
        }
}

bool validate_exit_code_passes(const ManifestValidator *validators, size_t n_validators, int exit_code) {
        bool validated = false;

        if (exit_code < 0)
                return false;
        /* An exit_code validator says which code passes; without one, only 0 does. */
        for (size_t i = 0; i < n_validators; i++)
                if (validators[i].type == MANIFEST_VALIDATOR_EXIT_CODE) {
                        validated = true;
                        if (validators[i].expected_exit_code != exit_code)
                                return false;
                }
        return validated || exit_code == 0;
}

int validate_iteration(const ManifestValidator *validators, size_t n_validators, int exit_code,
                       const char *out, const char *err, char **ret_reason) {
        bool exit_validated = false;

        out = strempty(out);
        err = strempty(err);

        /* With exit_code validators, they say (below) whether the code passes. */
        for (size_t i = 0; i < n_validators; i++)
                if (validators[i].type == MANIFEST_VALIDATOR_EXIT_CODE)
                        exit_validated = true;
        if (exit_code < 0 || (exit_code != 0 && !exit_validated)) {
                *ret_reason = exit_code < 0 ? strdup("the container did not exit normally")
                                            : asprintf_safe("exit code %d", exit_code);
                return *ret_reason ? 0 : -ENOMEM;
        }
        for (size_t i = 0; i < n_validators; i++) {
                const ManifestValidator *v = &validators[i];

                switch (v->type) {
                case MANIFEST_VALIDATOR_EXIT_CODE:
                        if (exit_code != v->expected_exit_code) {
                                *ret_reason = asprintf_safe("validator %zu (exit_code): expected %d, got %d",
                                                            i + 1, v->expected_exit_code, exit_code);
                                return *ret_reason ? 0 : -ENOMEM;
                        }
                        break;
                case MANIFEST_VALIDATOR_REGEX: {
                        const char *text = v->target == MANIFEST_STREAM_STDERR ? err : out;
                        size_t len = strlen(text);
                        int r;

                        if (len > VALIDATE_REGEX_INPUT_MAX)
                                text += len - VALIDATE_REGEX_INPUT_MAX;
                        r = regexec(&v->regex, text, 0, NULL, 0);
                        if (r == REG_ESPACE)
                                return -ENOMEM;
                        if (r != 0) {
                                *ret_reason = asprintf_safe(
                                        "validator %zu (regex on %s): /%s/ did not match", i + 1,
                                        v->target == MANIFEST_STREAM_STDERR ? "stderr" : "stdout",
                                        v->pattern);
                                return *ret_reason ? 0 : -ENOMEM;
                        }
                        break;
                }
                case MANIFEST_VALIDATOR_JSON_SCHEMA: {
                        json_object *j = parse_output_json(out);
                        _cleanup_free_ char *why = NULL;
                        int r;

                        if (!j) {
                                *ret_reason = asprintf_safe(
                                        "validator %zu (json_schema): stdout is not JSON", i + 1);
                                return *ret_reason ? 0 : -ENOMEM;
                        }
                        r = validate_json_schema(v->schema, j, &why);
                        json_object_put(j);
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                *ret_reason = asprintf_safe("validator %zu (json_schema): %s", i + 1, why);
                                return *ret_reason ? 0 : -ENOMEM;
                        }
                        break;
                }
                default:
                        break;
                }
        }
        return 1;
}
