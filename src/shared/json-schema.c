/* json-schema.c — the check of a schema at submission (see json-schema.h): one table says
 * which keywords exist and what value each takes, and the check walks the YAML tree with it,
 * so an error has a line and a path. $refs are resolved once the walk is done, against the
 * set of nodes it checked as schemas, so a $ref can only land on a checked schema.
 * json-schema-validate.c runs what this accepted. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json-schema-internal.h"
#include "json-schema.h"
#include "regex-match.h"
#include "util.h"
#include "yaml-tree.h"

typedef enum KeywordKind {
        KW_SCHEMA, /* one schema */
        KW_SCHEMA_MAP, /* name → schema */
        KW_SCHEMA_LIST, /* non-empty list of schemas */
        KW_PATTERN_MAP, /* regex → schema */
        KW_TYPE, /* a type name or a list of them */
        KW_NUMBER,
        KW_POSITIVE_NUMBER,
        KW_COUNT, /* a non-negative integer */
        KW_BOOL,
        KW_STRING,
        KW_STRINGS, /* a list of unique strings */
        KW_DEPENDENT_REQUIRED, /* name → list of strings */
        KW_ANY,
        KW_LIST,
        KW_PATTERN,
        KW_FORMAT,
        KW_REF,
} KeywordKind;

typedef struct Keyword {
        const char *name;
        KeywordKind kind;
} Keyword;

static const Keyword keywords[] = {
        { "type", KW_TYPE },
        { "enum", KW_LIST },
        { "const", KW_ANY },
        { "multipleOf", KW_POSITIVE_NUMBER },
        { "minimum", KW_NUMBER },
        { "maximum", KW_NUMBER },
        { "exclusiveMinimum", KW_NUMBER },
        { "exclusiveMaximum", KW_NUMBER },
        { "minLength", KW_COUNT },
        { "maxLength", KW_COUNT },
        { "pattern", KW_PATTERN },
        { "format", KW_FORMAT },
        { "items", KW_SCHEMA },
        { "prefixItems", KW_SCHEMA_LIST },
        { "contains", KW_SCHEMA },
        { "minContains", KW_COUNT },
        { "maxContains", KW_COUNT },
        { "minItems", KW_COUNT },
        { "maxItems", KW_COUNT },
        { "uniqueItems", KW_BOOL },
        { "properties", KW_SCHEMA_MAP },
        { "patternProperties", KW_PATTERN_MAP },
        { "additionalProperties", KW_SCHEMA },
        { "propertyNames", KW_SCHEMA },
        { "required", KW_STRINGS },
        { "dependentRequired", KW_DEPENDENT_REQUIRED },
        { "minProperties", KW_COUNT },
        { "maxProperties", KW_COUNT },
        { "allOf", KW_SCHEMA_LIST },
        { "anyOf", KW_SCHEMA_LIST },
        { "oneOf", KW_SCHEMA_LIST },
        { "not", KW_SCHEMA },
        { "if", KW_SCHEMA },
        { "then", KW_SCHEMA },
        { "else", KW_SCHEMA },
        { "$ref", KW_REF },
        { "$defs", KW_SCHEMA_MAP },
        { "definitions", KW_SCHEMA_MAP },
        { "$schema", KW_STRING },
        { "$comment", KW_STRING },
        { "title", KW_STRING },
        { "description", KW_STRING },
        { "default", KW_ANY },
        { "examples", KW_LIST },
        { "deprecated", KW_BOOL },
        { "readOnly", KW_BOOL },
        { "writeOnly", KW_BOOL },
};

static const char *const type_names[] = { "object",  "array",   "string", "number",
                                          "integer", "boolean", "null",   NULL };

static const Keyword *keyword_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(keywords); i++)
                if (streq(keywords[i].name, name))
                        return &keywords[i];
        return NULL;
}

static bool is_type_name(const char *s) {
        for (size_t i = 0; type_names[i]; i++)
                if (streq(type_names[i], s))
                        return true;
        return false;
}

/* ---- the check, at submission ---- */

typedef struct Check {
        const YamlNode *root;
        Error *e;
        const YamlNode **schemas; /* every node checked as a schema, for $ref targets */
        size_t n_schemas, n_schemas_alloc;
        const YamlNode **refs; /* every $ref value, resolved when the walk is done */
        size_t n_refs, n_refs_alloc;
} Check;

static int push_node(const YamlNode ***list, size_t *n, size_t *n_alloc, const YamlNode *node) {
        if (*n >= *n_alloc) {
                size_t k = MAX(*n_alloc * 2, (size_t) 16);
                const YamlNode **l = reallocarray(*list, k, sizeof *l);
                if (!l)
                        return -ENOMEM;
                *list = l;
                *n_alloc = k;
        }
        (*list)[(*n)++] = node;
        return 0;
}

static bool yaml_is_bool(const YamlNode *n) {
        Error scratch = ERROR_INIT;
        bool b;

        return n->kind == YAML_TREE_SCALAR && yaml_node_get_bool(n, &b, &scratch) >= 0;
}

static bool yaml_is_plain_string(const YamlNode *n) {
        return n->kind == YAML_TREE_SCALAR && !yaml_node_is_null(n) && (n->quoted || !yaml_is_bool(n));
}

static int check_schema(Check *c, const YamlNode *n);

static int check_pattern(Check *c, const YamlNode *at, const char *pattern) {
        _cleanup_(regex_freep) pcre2_code *re = NULL;
        char msg[256];
        int r;

        r = regex_compile(pattern, false, &re, msg, sizeof msg);
        if (r == -ENOMEM)
                return error_set(c->e, r, "out of memory while compiling a JSON Schema pattern");
        if (r < 0)
                return yaml_node_error(at, c->e, r, "invalid regular expression (PCRE2): %s", msg);
        return 0;
}

static int check_strings(Check *c, const YamlNode *n) {
        int r;

        r = yaml_node_expect(n, YAML_TREE_SEQUENCE, c->e);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n->n_items; i++) {
                const YamlNode *item = yaml_sequence_item(n, i);
                if (!yaml_is_plain_string(item))
                        return yaml_node_error(item, c->e, -EINVAL, "expected a property name, got %s",
                                               yaml_node_describe(item));
                for (size_t j = 0; j < i; j++)
                        if (streq(yaml_sequence_item(n, j)->value, item->value))
                                return yaml_node_error(item, c->e, -EINVAL, "\"%.80s\" is listed twice",
                                                       item->value);
        }
        return 0;
}

static int check_type(Check *c, const YamlNode *n) {
        const YamlNode *single = n;

        if (n->kind == YAML_TREE_SEQUENCE) {
                if (n->n_items == 0)
                        return yaml_node_error(n, c->e, -EINVAL, "expected at least one type name");
                for (size_t i = 0; i < n->n_items; i++) {
                        const YamlNode *item = yaml_sequence_item(n, i);
                        if (item->kind != YAML_TREE_SCALAR || !is_type_name(item->value))
                                return yaml_node_error(item, c->e, -EINVAL,
                                                       "expected object, array, string, number, integer, "
                                                       "boolean or null, got %s",
                                                       yaml_node_describe(item));
                        for (size_t j = 0; j < i; j++)
                                if (streq(yaml_sequence_item(n, j)->value, item->value))
                                        return yaml_node_error(item, c->e, -EINVAL, "\"%s\" is listed twice",
                                                               item->value);
                }
                return 0;
        }
        if (single->kind != YAML_TREE_SCALAR || !is_type_name(single->value)) {
                const char *guess =
                        single->kind == YAML_TREE_SCALAR ? suggest_closest(single->value, type_names) : NULL;
                return yaml_node_error(single, c->e, -EINVAL,
                                       "expected object, array, string, number, integer, boolean or null "
                                       "(or a list of them), got %s%s%s%s",
                                       yaml_node_describe(single), guess ? " (did you mean \"" : "",
                                       strempty(guess), guess ? "\"?)" : "");
        }
        return 0;
}

static int check_keyword(Check *c, const Keyword *k, const YamlNode *v) {
        double d;
        uint64_t u;
        bool b;
        int r;

        switch (k->kind) {
        case KW_SCHEMA:
                if (streq(k->name, "items") && v->kind == YAML_TREE_SEQUENCE)
                        return yaml_node_error(v, c->e, -EINVAL,
                                               "items takes one schema (draft 2020-12); for a tuple, "
                                               "list the schemas under prefixItems");
                return check_schema(c, v);
        case KW_SCHEMA_MAP:
        case KW_PATTERN_MAP:
                r = yaml_node_expect(v, YAML_TREE_MAPPING, c->e);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < v->n_items / 2; i++) {
                        if (k->kind == KW_PATTERN_MAP) {
                                r = check_pattern(c, yaml_mapping_value(v, i),
                                                  yaml_mapping_key(v, i)->value);
                                if (r < 0)
                                        return r;
                        }
                        r = check_schema(c, yaml_mapping_value(v, i));
                        if (r < 0)
                                return r;
                }
                return 0;
        case KW_SCHEMA_LIST:
                r = yaml_node_expect(v, YAML_TREE_SEQUENCE, c->e);
                if (r < 0)
                        return r;
                if (v->n_items == 0)
                        return yaml_node_error(v, c->e, -EINVAL, "expected a non-empty list of schemas");
                for (size_t i = 0; i < v->n_items; i++) {
                        r = check_schema(c, yaml_sequence_item(v, i));
                        if (r < 0)
                                return r;
                }
                return 0;
        case KW_TYPE:
                return check_type(c, v);
        case KW_NUMBER:
                return yaml_node_get_double(v, -HUGE_VAL, HUGE_VAL, &d, c->e);
        case KW_POSITIVE_NUMBER:
                r = yaml_node_get_double(v, 0, HUGE_VAL, &d, c->e);
                if (r < 0)
                        return r;
                if (d <= 0)
                        return yaml_node_error(v, c->e, -EINVAL, "expected a number greater than 0, got %g",
                                               d);
                return 0;
        case KW_COUNT:
                return yaml_node_get_u64(v, 0, UINT32_MAX, &u, c->e);
        case KW_BOOL:
                return yaml_node_get_bool(v, &b, c->e);
        case KW_STRING:
                if (v->kind != YAML_TREE_SCALAR)
                        return yaml_node_error(v, c->e, -EINVAL, "expected a string, got %s",
                                               yaml_node_describe(v));
                return 0;
        case KW_STRINGS:
                return check_strings(c, v);
        case KW_DEPENDENT_REQUIRED:
                r = yaml_node_expect(v, YAML_TREE_MAPPING, c->e);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < v->n_items / 2; i++) {
                        r = check_strings(c, yaml_mapping_value(v, i));
                        if (r < 0)
                                return r;
                }
                return 0;
        case KW_ANY:
                return 0;
        case KW_LIST:
                return yaml_node_expect(v, YAML_TREE_SEQUENCE, c->e);
        case KW_PATTERN:
                if (!yaml_is_plain_string(v))
                        return yaml_node_error(v, c->e, -EINVAL, "expected a regular expression, got %s",
                                               yaml_node_describe(v));
                return check_pattern(c, v, v->value);
        case KW_FORMAT:
                if (v->kind != YAML_TREE_SCALAR || json_schema_format_from_string(v->value) < 0)
                        return yaml_node_error(
                                v, c->e, -EINVAL,
                                "unsupported format %s%.64s%s: this runtime checks date-time, "
                                "date, time, email, uri, uuid, ipv4 and ipv6; use pattern "
                                "for others",
                                v->kind == YAML_TREE_SCALAR ? "\"" : "",
                                v->kind == YAML_TREE_SCALAR ? v->value : yaml_node_describe(v),
                                v->kind == YAML_TREE_SCALAR ? "\"" : "");
                return 0;
        case KW_REF:
                if (!yaml_is_plain_string(v))
                        return yaml_node_error(v, c->e, -EINVAL,
                                               "expected a JSON pointer like \"#/$defs/item\", got %s",
                                               yaml_node_describe(v));
                if (push_node(&c->refs, &c->n_refs, &c->n_refs_alloc, v) < 0)
                        return error_set(c->e, -ENOMEM, "out of memory while checking a JSON Schema");
                return 0;
        }
        return 0;
}

static int check_schema(Check *c, const YamlNode *n) {
        int r;

        if (push_node(&c->schemas, &c->n_schemas, &c->n_schemas_alloc, n) < 0)
                return error_set(c->e, -ENOMEM, "out of memory while checking a JSON Schema");
        if (n->kind == YAML_TREE_SCALAR && !n->quoted && yaml_is_bool(n))
                return 0; /* true: anything; false: nothing */
        if (n->kind != YAML_TREE_MAPPING)
                return yaml_node_error(n, c->e, -EINVAL,
                                       "expected a schema (a mapping, or true or false), got %s",
                                       yaml_node_describe(n));
        for (size_t i = 0; i < n->n_items / 2; i++) {
                const char *key = yaml_mapping_key(n, i)->value;
                const YamlNode *v = yaml_mapping_value(n, i);
                const Keyword *k = keyword_find(key);

                if (!k) {
                        const char *names[ELEMENTSOF(keywords) + 1], *guess;
                        for (size_t j = 0; j < ELEMENTSOF(keywords); j++)
                                names[j] = keywords[j].name;
                        names[ELEMENTSOF(keywords)] = NULL;
                        guess = suggest_closest(key, names);
                        return yaml_node_error(
                                v, c->e, -EINVAL,
                                "unsupported JSON Schema keyword%s%s%s; aegis-manifest(5) lists "
                                "the keywords this runtime checks",
                                guess ? " (did you mean \"" : "", strempty(guess), guess ? "\"?)" : "");
                }
                r = check_keyword(c, k, v);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmp_ptr(const void *a, const void *b) {
        uintptr_t x = (uintptr_t) * (const YamlNode *const *) a,
                  y = (uintptr_t) * (const YamlNode *const *) b;
        return x < y ? -1 : x > y;
}

static int check_ref(Check *c, const YamlNode *ref) {
        const char *p = ref->value;
        const YamlNode *n = c->root;
        char tok[256];

        if (p[0] != '#')
                return yaml_node_error(
                        ref, c->e, -EINVAL,
                        "only references within this schema are supported, like \"#/$defs/item\"");
        for (p++; *p;) {
                size_t i;
                if (*p != '/' || json_schema_pointer_next_token(&p, tok, sizeof tok) < 0)
                        return yaml_node_error(
                                ref, c->e, -EINVAL,
                                "expected a JSON pointer like \"#/$defs/item\" (anchors are not "
                                "supported)");
                if (n->kind == YAML_TREE_MAPPING)
                        n = yaml_mapping_get(n, tok);
                else if (n->kind == YAML_TREE_SEQUENCE && json_schema_pointer_index(tok, &i) &&
                         i < n->n_items)
                        n = yaml_sequence_item(n, i);
                else
                        n = NULL;
                if (!n)
                        return yaml_node_error(ref, c->e, -EINVAL, "\"%.128s\" names nothing in this schema",
                                               ref->value);
        }
        if (!bsearch(&n, c->schemas, c->n_schemas, sizeof *c->schemas, cmp_ptr))
                return yaml_node_error(ref, c->e, -EINVAL, "\"%.128s\" does not name a schema", ref->value);
        return 0;
}

int json_schema_check(const YamlNode *schema, Error *e) {
        Check c = { .root = schema, .e = e };
        int r;

        assert(schema);
        r = check_schema(&c, schema);
        if (r >= 0) {
                if (c.n_schemas > 0)
                        qsort(c.schemas, c.n_schemas, sizeof *c.schemas, cmp_ptr);
                for (size_t i = 0; i < c.n_refs && r >= 0; i++)
                        r = check_ref(&c, c.refs[i]);
        }
        free(c.schemas);
        free(c.refs);
        return r < 0 ? r : 0;
}
