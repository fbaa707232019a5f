/* json-schema-validate.c — json_schema_validate() (see json-schema.h): walks schema and value
 * together and stops at the first violation, so the reason names one precise place in the
 * value. Failures that come from a bound (depth, steps, a regex's match limit) travel up as
 * negative codes through not/anyOf/oneOf/if, which would otherwise turn a failure into a
 * pass. Patterns are compiled once per validation and kept in a small cache. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-schema-internal.h"
#include "json-schema.h"
#include "json-util.h"
#include "regex-match.h"
#include "util.h"

typedef struct Pattern {
        const void *source; /* where the schema keeps the pattern (borrowed): the cache key */
        pcre2_code *re;
} Pattern;

typedef struct Eval {
        json_object *root;
        Pattern *patterns;
        size_t n_patterns, n_patterns_alloc;
        uint64_t steps;
        char path[512];
        size_t path_len;
        char *reason;
} Eval;

/* A bound was hit: fails the value whatever surrounds the keyword (not, anyOf, if). */
#define EVAL_BOUND (-ELOOP)

static const char *value_type_name(json_object *v) {
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
        return streq(t, value_type_name(v));
}

/* Unicode code points in a UTF-8 string (what JSON Schema's lengths count). */
static size_t utf8_length(const char *s) {
        size_t n = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        n++;
        return n;
}

/* -1, 0, 1 as a < b, a == b, a > b; integers compared exactly. */
static int number_cmp(json_object *a, json_object *b) {
        if (json_object_is_type(a, json_type_int) && json_object_is_type(b, json_type_int)) {
                int64_t x = json_object_get_int64(a), y = json_object_get_int64(b);
                return x < y ? -1 : x > y;
        }
        {
                double x = json_object_get_double(a), y = json_object_get_double(b);
                return x < y ? -1 : x > y;
        }
}

/* JSON equality: 1 and 1.0 are equal, key order does not matter. */
static bool json_equal(Eval *c, json_object *a, json_object *b) {
        c->steps++;
        if (is_number(a) && is_number(b))
                return number_cmp(a, b) == 0;
        if (json_object_get_type(a) != json_object_get_type(b))
                return false;
        switch (json_object_get_type(a)) {
        case json_type_object:
                if (json_object_object_length(a) != json_object_object_length(b))
                        return false;
                json_object_object_foreach (a, key, va) {
                        json_object *vb;
                        if (!json_object_object_get_ex(b, key, &vb) || !json_equal(c, va, vb))
                                return false;
                }
                return true;
        case json_type_array:
                if (json_object_array_length(a) != json_object_array_length(b))
                        return false;
                for (size_t i = 0; i < json_object_array_length(a); i++)
                        if (!json_equal(c, json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
                                return false;
                return true;
        default:
                return json_object_equal(a, b);
        }
}

/* Sets the reason "<instance path>: <message>" and returns code: 0 for a failure, EVAL_BOUND
 * for a bound that was hit. */
static int set_reason(Eval *c, int code, const char *fmt, va_list ap) _printf_(3, 0);
static int set_reason(Eval *c, int code, const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) < 0)
                return -ENOMEM;
        free(c->reason);
        c->reason = asprintf_safe("%s: %s", c->path, msg);
        return c->reason ? code : -ENOMEM;
}

static int fail(Eval *c, const char *fmt, ...) _printf_(2, 3);
static int fail(Eval *c, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = set_reason(c, 0, fmt, ap);
        va_end(ap);
        return r;
}

static int bound(Eval *c, const char *fmt, ...) _printf_(2, 3);
static int bound(Eval *c, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = set_reason(c, EVAL_BOUND, fmt, ap);
        va_end(ap);
        return r;
}

/* Instance path: push a key or an index, pop back to the returned length. */
static size_t path_push_key(Eval *c, const char *key) {
        size_t old = c->path_len;
        bool plain =
                *key && strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                                strlen(key);
        int k = snprintf(c->path + old, sizeof c->path - old, plain ? ".%s" : "[\"%s\"]", key);

        c->path_len = k < 0 || (size_t) k >= sizeof c->path - old ? sizeof c->path - 1 : old + (size_t) k;
        return old;
}

static size_t path_push_index(Eval *c, size_t i) {
        size_t old = c->path_len;
        int k = snprintf(c->path + old, sizeof c->path - old, "[%zu]", i);

        c->path_len = k < 0 || (size_t) k >= sizeof c->path - old ? sizeof c->path - 1 : old + (size_t) k;
        return old;
}

static void path_pop(Eval *c, size_t old) {
        c->path_len = old;
        c->path[old] = '\0';
}

static int pattern_get(Eval *c, const void *source, const char *pattern, pcre2_code **ret) {
        char msg[256];
        int r;

        for (size_t i = 0; i < c->n_patterns; i++)
                if (c->patterns[i].source == source) {
                        *ret = c->patterns[i].re;
                        return 0;
                }
        if (c->n_patterns >= c->n_patterns_alloc) {
                size_t k = MAX(c->n_patterns_alloc * 2, (size_t) 8);
                Pattern *p = reallocarray(c->patterns, k, sizeof *p);
                if (!p)
                        return -ENOMEM;
                c->patterns = p;
                c->n_patterns_alloc = k;
        }
        r = regex_compile(pattern, false, ret, msg, sizeof msg);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return bound(c, "the schema's pattern /%.200s/ does not compile: %s", pattern, msg);
        c->patterns[c->n_patterns++] = (Pattern){ source, *ret };
        return 0;
}

/* 1 when the string s matches the pattern, 0 when not, EVAL_BOUND at the match limit. */
static int pattern_search(Eval *c, const void *source, const char *pattern, const char *s) {
        pcre2_code *re;
        int r;

        r = pattern_get(c, source, pattern, &re);
        if (r < 0)
                return r;
        r = regex_search(re, s, strlen(s));
        if (r == -E2BIG)
                return bound(c, "the pattern /%.200s/ hit the regex match limit (%d steps): simplify it",
                             pattern, REGEX_MATCH_LIMIT);
        return r;
}

static int eval(Eval *c, json_object *schema, json_object *v, unsigned depth);

/* Evaluates sub on v without keeping its reason unless it fails outright. */
static int eval_quiet(Eval *c, json_object *sub, json_object *v, unsigned depth, char **ret_reason) {
        int r = eval(c, sub, v, depth);

        if (r == 0 && ret_reason) {
                free(*ret_reason);
                *ret_reason = TAKE_PTR(c->reason);
        }
        return r;
}

static int resolve_ref(Eval *c, const char *ref, json_object **ret) {
        json_object *n = c->root;
        char tok[256];

        if (ref[0] != '#')
                return bound(c, "$ref \"%.128s\" is not a reference within the schema", ref);
        for (const char *p = ref + 1; *p;) {
                size_t i;
                if (*p != '/' || json_schema_pointer_next_token(&p, tok, sizeof tok) < 0)
                        return bound(c, "$ref \"%.128s\" is not a JSON pointer", ref);
                if (json_object_is_type(n, json_type_object))
                        n = json_object_object_get_ex(n, tok, &n) ? n : NULL;
                else if (json_object_is_type(n, json_type_array) && json_schema_pointer_index(tok, &i) &&
                         i < json_object_array_length(n))
                        n = json_object_array_get_idx(n, i);
                else
                        n = NULL;
                if (!n)
                        return bound(c, "$ref \"%.128s\" names nothing in the schema", ref);
        }
        *ret = n;
        return 0;
}

static int eval_numeric(Eval *c, json_object *schema, json_object *v) {
        json_object *k;

        if (json_object_object_get_ex(schema, "minimum", &k) && is_number(k) && number_cmp(v, k) < 0)
                return fail(c, "%s is less than the minimum %s", json_object_to_json_string(v),
                            json_object_to_json_string(k));
        if (json_object_object_get_ex(schema, "maximum", &k) && is_number(k) && number_cmp(v, k) > 0)
                return fail(c, "%s is greater than the maximum %s", json_object_to_json_string(v),
                            json_object_to_json_string(k));
        if (json_object_object_get_ex(schema, "exclusiveMinimum", &k) && is_number(k) &&
            number_cmp(v, k) <= 0)
                return fail(c, "%s is not greater than the exclusiveMinimum %s",
                            json_object_to_json_string(v), json_object_to_json_string(k));
        if (json_object_object_get_ex(schema, "exclusiveMaximum", &k) && is_number(k) &&
            number_cmp(v, k) >= 0)
                return fail(c, "%s is not less than the exclusiveMaximum %s", json_object_to_json_string(v),
                            json_object_to_json_string(k));
        if (json_object_object_get_ex(schema, "multipleOf", &k) && is_number(k)) {
                bool ok;
                if (json_object_is_type(v, json_type_int) && json_object_is_type(k, json_type_int) &&
                    json_object_get_int64(k) > 0)
                        ok = json_object_get_int64(v) % json_object_get_int64(k) == 0;
                else {
                        double m = json_object_get_double(k), q = json_object_get_double(v) / m;
                        ok = m > 0 && isfinite(q) && fabs(q - nearbyint(q)) <= 1e-9 * MAX(1.0, fabs(q));
                }
                if (!ok)
                        return fail(c, "%s is not a multiple of %s", json_object_to_json_string(v),
                                    json_object_to_json_string(k));
        }
        return 1;
}

static int eval_string(Eval *c, json_object *schema, json_object *v) {
        const char *s = json_object_get_string(v);
        json_object *k;
        int r;

        if (json_object_object_get_ex(schema, "minLength", &k) ||
            json_object_object_get_ex(schema, "maxLength", NULL)) {
                size_t n = utf8_length(s);
                if (k && is_number(k) && (double) n < json_object_get_double(k))
                        return fail(c, "shorter than minLength %s (%zu characters)",
                                    json_object_to_json_string(k), n);
                if (json_object_object_get_ex(schema, "maxLength", &k) && is_number(k) &&
                    (double) n > json_object_get_double(k))
                        return fail(c, "longer than maxLength %s (%zu characters)",
                                    json_object_to_json_string(k), n);
        }
        if (json_object_object_get_ex(schema, "pattern", &k) && json_object_is_type(k, json_type_string)) {
                r = pattern_search(c, k, json_object_get_string(k), s);
                if (r < 0)
                        return r;
                if (r == 0)
                        return fail(c, "\"%.80s\" does not match the pattern /%.200s/", s,
                                    json_object_get_string(k));
        }
        if (json_object_object_get_ex(schema, "format", &k) && json_object_is_type(k, json_type_string)) {
                int f = json_schema_format_from_string(json_object_get_string(k));
                if (f >= 0 && !json_schema_format_matches(f, s))
                        return fail(c, "\"%.80s\" is not a valid %s", s, json_schema_format_to_string(f));
        }
        return 1;
}

static int eval_array(Eval *c, json_object *schema, json_object *v, unsigned depth) {
        size_t n = json_object_array_length(v), n_prefix = 0;
        json_object *k, *items = NULL;
        int r;

        if (json_object_object_get_ex(schema, "minItems", &k) && is_number(k) &&
            (double) n < json_object_get_double(k))
                return fail(c, "fewer items than minItems %s (%zu)", json_object_to_json_string(k), n);
        if (json_object_object_get_ex(schema, "maxItems", &k) && is_number(k) &&
            (double) n > json_object_get_double(k))
                return fail(c, "more items than maxItems %s (%zu)", json_object_to_json_string(k), n);
        if (json_object_object_get_ex(schema, "uniqueItems", &k) && json_object_get_boolean(k))
                for (size_t i = 1; i < n; i++)
                        for (size_t j = 0; j < i; j++) {
                                if (c->steps > JSON_SCHEMA_STEPS_MAX)
                                        return bound(c, "uniqueItems took more than %d steps",
                                                     JSON_SCHEMA_STEPS_MAX);
                                if (json_equal(c, json_object_array_get_idx(v, i),
                                               json_object_array_get_idx(v, j)))
                                        return fail(c, "items %zu and %zu are equal but uniqueItems is true",
                                                    j, i);
                        }
        if (json_object_object_get_ex(schema, "prefixItems", &k) &&
            json_object_is_type(k, json_type_array)) {
                n_prefix = MIN(n, json_object_array_length(k));
                for (size_t i = 0; i < n_prefix; i++) {
                        size_t old = path_push_index(c, i);
                        r = eval(c, json_object_array_get_idx(k, i), json_object_array_get_idx(v, i),
                                 depth + 1);
                        path_pop(c, old);
                        if (r <= 0)
                                return r;
                }
        }
        if (json_object_object_get_ex(schema, "items", &items))
                for (size_t i = n_prefix; i < n; i++) {
                        size_t old = path_push_index(c, i);
                        r = eval(c, items, json_object_array_get_idx(v, i), depth + 1);
                        path_pop(c, old);
                        if (r <= 0)
                                return r;
                }
        if (json_object_object_get_ex(schema, "contains", &k)) {
                json_object *lim;
                uint64_t min = 1, max = UINT64_MAX, found = 0;

                if (json_object_object_get_ex(schema, "minContains", &lim) && is_number(lim))
                        min = (uint64_t) json_object_get_int64(lim);
                if (json_object_object_get_ex(schema, "maxContains", &lim) && is_number(lim))
                        max = (uint64_t) json_object_get_int64(lim);
                for (size_t i = 0; i < n; i++) {
                        size_t old = path_push_index(c, i);
                        r = eval_quiet(c, k, json_object_array_get_idx(v, i), depth + 1, NULL);
                        path_pop(c, old);
                        if (r < 0)
                                return r;
                        found += r;
                }
                if (found < min)
                        return fail(c, "%" PRIu64 " items match contains, at least %" PRIu64 " must", found,
                                    min);
                if (found > max)
                        return fail(c, "%" PRIu64 " items match contains, at most %" PRIu64 " may", found,
                                    max);
        }
        return 1;
}

/* One property of an object: propertyNames, then properties, patternProperties and
 * additionalProperties (for a key neither of the other two names). The path names the key. */
static int eval_property(Eval *c, json_object *props, json_object *pprops, json_object *ap,
                         json_object *names, const char *key, json_object *val, size_t object_path_len,
                         unsigned depth) {
        json_object *sub;
        bool evaluated = false;
        int r;

        if (names) {
                _cleanup_json_ json_object *kj = json_object_new_string(key);
                _cleanup_free_ char *why = NULL;
                if (!kj)
                        return -ENOMEM;
                r = eval_quiet(c, names, kj, depth + 1, &why);
                if (r == 0)
                        return fail(c, "the property name does not conform to propertyNames (%s)", why);
                if (r < 0)
                        return r;
        }
        if (props && json_object_object_get_ex(props, key, &sub)) {
                evaluated = true;
                r = eval(c, sub, val, depth + 1);
                if (r <= 0)
                        return r;
        }
        if (pprops) {
                struct json_object_iterator it = json_object_iter_begin(pprops),
                                            end = json_object_iter_end(pprops);
                for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                        const char *pattern = json_object_iter_peek_name(&it);

                        /* The key's own storage identifies the pattern in the cache. */
                        r = pattern_search(c, pattern, pattern, key);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                continue;
                        evaluated = true;
                        r = eval(c, json_object_iter_peek_value(&it), val, depth + 1);
                        if (r <= 0)
                                return r;
                }
        }
        if (!evaluated && ap) {
                if (json_object_is_type(ap, json_type_boolean) && !json_object_get_boolean(ap)) {
                        /* The object is at fault, not the value: name the object's path. */
                        path_pop(c, object_path_len);
                        return fail(c, "unexpected property \"%.80s\" (additionalProperties is false)", key);
                }
                return eval(c, ap, val, depth + 1);
        }
        return 1;
}

static int eval_object(Eval *c, json_object *schema, json_object *v, unsigned depth) {
        size_t n = (size_t) json_object_object_length(v);
        json_object *k, *props = NULL, *pprops = NULL, *ap = NULL, *names = NULL;
        int r;

        if (json_object_object_get_ex(schema, "required", &k) && json_object_is_type(k, json_type_array))
                for (size_t i = 0; i < json_object_array_length(k); i++) {
                        const char *name = json_object_get_string(json_object_array_get_idx(k, i));
                        if (name && !json_object_object_get_ex(v, name, NULL))
                                return fail(c, "missing required property \"%.80s\"", name);
                }
        if (json_object_object_get_ex(schema, "minProperties", &k) && is_number(k) &&
            (double) n < json_object_get_double(k))
                return fail(c, "fewer properties than minProperties %s (%zu)", json_object_to_json_string(k),
                            n);
        if (json_object_object_get_ex(schema, "maxProperties", &k) && is_number(k) &&
            (double) n > json_object_get_double(k))
                return fail(c, "more properties than maxProperties %s (%zu)", json_object_to_json_string(k),
                            n);
        if (json_object_object_get_ex(schema, "dependentRequired", &k) &&
            json_object_is_type(k, json_type_object)) {
                json_object_object_foreach (k, trigger, needs) {
                        if (!json_object_object_get_ex(v, trigger, NULL) ||
                            !json_object_is_type(needs, json_type_array))
                                continue;
                        for (size_t i = 0; i < json_object_array_length(needs); i++) {
                                const char *name =
                                        json_object_get_string(json_object_array_get_idx(needs, i));
                                if (name && !json_object_object_get_ex(v, name, NULL))
                                        return fail(c, "property \"%.80s\" requires property \"%.80s\"",
                                                    trigger, name);
                        }
                }
        }
        if (json_object_object_get_ex(schema, "properties", &props) &&
            !json_object_is_type(props, json_type_object))
                props = NULL;
        if (json_object_object_get_ex(schema, "patternProperties", &pprops) &&
            !json_object_is_type(pprops, json_type_object))
                pprops = NULL;
        (void) json_object_object_get_ex(schema, "additionalProperties", &ap);
        (void) json_object_object_get_ex(schema, "propertyNames", &names);

        json_object_object_foreach (v, key, val) {
                size_t old = path_push_key(c, key);
                r = eval_property(c, props, pprops, ap, names, key, val, old, depth);
                path_pop(c, old);
                if (r <= 0)
                        return r;
        }
        return 1;
}

static int eval_combinators(Eval *c, json_object *schema, json_object *v, unsigned depth) {
        json_object *k;
        int r;

        if (json_object_object_get_ex(schema, "allOf", &k) && json_object_is_type(k, json_type_array))
                for (size_t i = 0; i < json_object_array_length(k); i++) {
                        r = eval(c, json_object_array_get_idx(k, i), v, depth + 1);
                        if (r <= 0)
                                return r;
                }
        if (json_object_object_get_ex(schema, "anyOf", &k) && json_object_is_type(k, json_type_array)) {
                _cleanup_free_ char *first = NULL;
                bool ok = false;
                for (size_t i = 0; i < json_object_array_length(k) && !ok; i++) {
                        r = eval_quiet(c, json_object_array_get_idx(k, i), v, depth + 1,
                                       i == 0 ? &first : NULL);
                        if (r < 0)
                                return r;
                        ok = r > 0;
                }
                if (!ok)
                        return fail(c, "matches none of the %zu schemas of anyOf (the first says: %s)",
                                    json_object_array_length(k), strempty(first));
        }
        if (json_object_object_get_ex(schema, "oneOf", &k) && json_object_is_type(k, json_type_array)) {
                _cleanup_free_ char *first = NULL;
                size_t matched = 0, which[2] = { 0, 0 };
                for (size_t i = 0; i < json_object_array_length(k); i++) {
                        r = eval_quiet(c, json_object_array_get_idx(k, i), v, depth + 1,
                                       i == 0 ? &first : NULL);
                        if (r < 0)
                                return r;
                        if (r > 0 && matched < 2)
                                which[matched] = i + 1;
                        matched += r;
                }
                if (matched == 0)
                        return fail(c, "matches none of the %zu schemas of oneOf (the first says: %s)",
                                    json_object_array_length(k), strempty(first));
                if (matched > 1)
                        return fail(
                                c,
                                "matches %zu of the schemas of oneOf (%zu and %zu), exactly one must match",
                                matched, which[0], which[1]);
        }
        if (json_object_object_get_ex(schema, "not", &k)) {
                r = eval_quiet(c, k, v, depth + 1, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        return fail(c, "matches the schema under not: %s",
                                    json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN));
        }
        if (json_object_object_get_ex(schema, "if", &k)) {
                json_object *branch = NULL;
                r = eval_quiet(c, k, v, depth + 1, NULL);
                if (r < 0)
                        return r;
                if (json_object_object_get_ex(schema, r > 0 ? "then" : "else", &branch)) {
                        r = eval(c, branch, v, depth + 1);
                        if (r <= 0)
                                return r;
                }
        }
        return 1;
}

static int eval(Eval *c, json_object *schema, json_object *v, unsigned depth) {
        json_object *k;
        int r;

        if (++c->steps > JSON_SCHEMA_STEPS_MAX)
                return bound(c, "validation took more than %d steps: simplify the schema",
                             JSON_SCHEMA_STEPS_MAX);
        if (depth > JSON_SCHEMA_DEPTH_MAX)
                return bound(c, "schema applied more than %d levels deep (a $ref loop?)",
                             JSON_SCHEMA_DEPTH_MAX);
        if (json_object_is_type(schema, json_type_boolean))
                return json_object_get_boolean(schema) ? 1
                                                       : fail(c, "no value is allowed here (schema false)");
        if (!json_object_is_type(schema, json_type_object))
                return 1;

        if (json_object_object_get_ex(schema, "$ref", &k) && json_object_is_type(k, json_type_string)) {
                json_object *target;
                r = resolve_ref(c, json_object_get_string(k), &target);
                if (r < 0)
                        return r;
                r = eval(c, target, v, depth + 1);
                if (r <= 0)
                        return r;
        }

        if (json_object_object_get_ex(schema, "type", &k)) {
                bool ok = false;
                if (json_object_is_type(k, json_type_string))
                        ok = type_matches(json_object_get_string(k), v);
                else if (json_object_is_type(k, json_type_array))
                        for (size_t i = 0; i < json_object_array_length(k) && !ok; i++)
                                ok = type_matches(json_object_get_string(json_object_array_get_idx(k, i)),
                                                  v);
                else
                        ok = true;
                if (!ok)
                        return fail(c, "expected %s, got %s",
                                    json_object_is_type(k, json_type_string)
                                            ? json_object_get_string(k)
                                            : json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN),
                                    value_type_name(v));
        }
        if (json_object_object_get_ex(schema, "enum", &k) && json_object_is_type(k, json_type_array)) {
                bool found = false;
                for (size_t i = 0; i < json_object_array_length(k) && !found; i++)
                        found = json_equal(c, json_object_array_get_idx(k, i), v);
                if (!found)
                        return fail(c, "%.200s is not one of %.400s",
                                    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                                    json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN));
        }
        if (json_object_object_get_ex(schema, "const", &k) && !json_equal(c, k, v))
                return fail(c, "expected %.200s, got %.200s",
                            json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN),
                            json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));

        if (is_number(v))
                r = eval_numeric(c, schema, v);
        else if (json_object_is_type(v, json_type_string))
                r = eval_string(c, schema, v);
        else if (json_object_is_type(v, json_type_array))
                r = eval_array(c, schema, v, depth);
        else if (json_object_is_type(v, json_type_object))
                r = eval_object(c, schema, v, depth);
        else
                r = 1;
        if (r <= 0)
                return r;
        return eval_combinators(c, schema, v, depth);
}

int json_schema_validate(json_object *schema, json_object *value, char **ret_reason) {
        Eval c = { .root = schema, .path = "$", .path_len = 1 };
        int r;

        assert(schema);
        assert(ret_reason);
        r = eval(&c, schema, value, 0);
        for (size_t i = 0; i < c.n_patterns; i++)
                pcre2_code_free(c.patterns[i].re);
        free(c.patterns);
        if (r == -ENOMEM) {
                free(c.reason);
                return r;
        }
        if (r <= 0) {
                *ret_reason = TAKE_PTR(c.reason);
                if (!*ret_reason)
                        *ret_reason = strdup("$: does not conform to the schema");
                return *ret_reason ? 0 : -ENOMEM;
        }
        free(c.reason);
        return 1;
}
