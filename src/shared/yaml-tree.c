/* yaml-tree.c — libyaml events into a bounded node tree, typed getters with positioned
 * messages, "did you mean" for unknown keys, and conversion to json-c (see yaml-tree.h).
 *
 * The builder keeps an explicit stack (no recursion while parsing); recursion elsewhere
 * (free, path, JSON) is bounded by YamlLimits.max_depth. Duplicate keys are found at the
 * end of each mapping by sorting its keys, so a hostile mapping with many keys costs
 * O(n log n), not O(n²). */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <yaml.h>

#include "util.h"
#include "yaml-tree.h"

#define TAG_STR "tag:yaml.org,2002:str"

static void node_free(YamlNode *n) {
        if (!n)
                return;
        for (size_t i = 0; i < n->n_items; i++)
                node_free(n->items[i]);
        free(n->items);
        free(n->value);
        free(n->tag);
        free(n);
}

void yaml_document_free(YamlDocument *d) {
        if (!d)
                return;
        node_free(d->root);
        free(d->file);
        free(d);
}

/* ---- paths and messages ---- */

char *yaml_node_path(const YamlNode *n, char *buf, size_t size) {
        const YamlNode *chain[128];
        size_t depth = 0, len = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        for (const YamlNode *p = n; p && p->parent && depth < ELEMENTSOF(chain); p = p->parent)
                chain[depth++] = p;
        while (depth > 0) {
                const YamlNode *p = chain[--depth];
                int k;

                if (p->key)
                        k = snprintf(buf + len, size - len, "%s%s", len > 0 ? "." : "", p->key);
                else
                        k = snprintf(buf + len, size - len, "[%zu]", p->index);
                if (k < 0 || (size_t) k >= size - len) {
                        len = size - 1;
                        break;
                }
                len += (size_t) k;
        }
        return buf;
}

static int node_errorv(const YamlNode *n, const char *path, Error *e, int code, const char *fmt, va_list ap)
        _printf_(5, 0);
static int node_errorv(const YamlNode *n, const char *path, Error *e, int code, const char *fmt,
                       va_list ap) {
        char msg[ERROR_MESSAGE_MAX];

        if (!e)
                return code;
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        if (isempty(path))
                error_set(e, code, "%s:%u:%u: %s", n->file, n->line, n->column, msg);
        else
                error_set_field(e, code, path, "%s:%u:%u: %s: %s", n->file, n->line, n->column, path, msg);
        return code;
}

int yaml_node_error(const YamlNode *n, Error *e, int code, const char *fmt, ...) {
        char path[YAML_PATH_MAX];
        va_list ap;

        yaml_node_path(n, path, sizeof path);
        va_start(ap, fmt);
        code = node_errorv(n, path, e, code, fmt, ap);
        va_end(ap);
        return code;
}

int yaml_node_error_path(const YamlNode *n, const char *path, Error *e, int code, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        code = node_errorv(n, path, e, code, fmt, ap);
        va_end(ap);
        return code;
}

/* ---- scalar classification (YAML 1.2 core schema) ---- */

static bool scalar_is_plain(const YamlNode *n) {
        if (n->kind != YAML_TREE_SCALAR || n->quoted)
                return false;
        if (!n->tag)
                return true;
        /* An explicit core tag other than !!str keeps the plain interpretation. */
        return startswith(n->tag, "tag:yaml.org,2002:") && !streq(n->tag, TAG_STR);
}

bool yaml_node_is_null(const YamlNode *n) {
        if (!n || !scalar_is_plain(n))
                return false;
        return n->length == 0 || streq(n->value, "null") || streq(n->value, "Null") ||
               streq(n->value, "NULL") || streq(n->value, "~");
}

bool yaml_node_is_string(const YamlNode *n) {
        return n && n->kind == YAML_TREE_SCALAR && !yaml_node_is_null(n);
}

static int plain_bool(const YamlNode *n) {
        static const char *const yes[] = { "true", "True", "TRUE" }, *const no[] = { "false", "False",
                                                                                     "FALSE" };

        if (!scalar_is_plain(n))
                return -1;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (streq(n->value, yes[i]))
                        return 1;
                if (streq(n->value, no[i]))
                        return 0;
        }
        return -1;
}

static bool text_is_integer(const char *s) {
        if (*s == '-' || *s == '+')
                s++;
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static bool text_is_float(const char *s) {
        bool digits = false;

        if (*s == '-' || *s == '+')
                s++;
        if (streq(s, ".inf") || streq(s, ".Inf") || streq(s, ".INF"))
                return true;
        while (*s >= '0' && *s <= '9')
                s++, digits = true;
        if (*s == '.') {
                s++;
                while (*s >= '0' && *s <= '9')
                        s++, digits = true;
        }
        if (!digits)
                return false;
        if (*s == 'e' || *s == 'E') {
                s++;
                if (*s == '-' || *s == '+')
                        s++;
                if (!(*s >= '0' && *s <= '9'))
                        return false;
                while (*s >= '0' && *s <= '9')
                        s++;
        }
        return *s == '\0';
}

static bool text_is_nan(const char *s) {
        return streq(s, ".nan") || streq(s, ".NaN") || streq(s, ".NAN");
}

const char *yaml_node_describe(const YamlNode *n) {
        if (!n)
                return "nothing";
        switch (n->kind) {
        case YAML_TREE_MAPPING:
                return "a mapping";
        case YAML_TREE_SEQUENCE:
                return "a sequence";
        case YAML_TREE_SCALAR:
                break;
        }
        if (yaml_node_is_null(n))
                return "null";
        if (!scalar_is_plain(n))
                return "a string";
        if (plain_bool(n) >= 0)
                return "a boolean";
        if (text_is_integer(n->value))
                return "an integer";
        if (text_is_float(n->value) || text_is_nan(n->value))
                return "a number";
        return "a string";
}

/* What the user wrote, for "got …": scalars quoted and escaped (bounded), else the kind. */
static const char *got_text(const YamlNode *n, char *buf, size_t size) {
        size_t o = 0;

        if (n->kind != YAML_TREE_SCALAR || yaml_node_is_null(n)) {
                (void) snprintf(buf, size, "%s", yaml_node_describe(n));
                return buf;
        }
        if (n->quoted && (text_is_integer(n->value) || text_is_float(n->value) || plain_bool(n) >= 0 ||
                          streq(n->value, "true") || streq(n->value, "false")))
                o = (size_t) snprintf(buf, size, "the string ");
        buf[o++] = '"';
        for (size_t i = 0; i < n->length && o + 8 < size; i++) {
                unsigned char c = (unsigned char) n->value[i];
                if (o + 12 >= size || i >= 64) {
                        o += (size_t) snprintf(buf + o, size - o, "…");
                        break;
                }
                if (c == '"' || c == '\\')
                        o += (size_t) snprintf(buf + o, size - o, "\\%c", c);
                else if (c < 0x20 || c == 0x7f)
                        o += (size_t) snprintf(buf + o, size - o, "\\x%02x", c);
                else
                        buf[o++] = (char) c;
        }
        (void) snprintf(buf + o, size - o, "\"");
        return buf;
}

#define GOT_MAX 128

int yaml_node_expect(const YamlNode *n, YamlNodeKind kind, Error *e) {
        static const char *const names[] = {
                [YAML_TREE_SCALAR] = "a scalar",
                [YAML_TREE_SEQUENCE] = "a sequence (a list)",
                [YAML_TREE_MAPPING] = "a mapping (key: value pairs)",
        };
        char got[GOT_MAX];

        if (n->kind == kind)
                return 0;
        return yaml_node_error(n, e, -EINVAL, "expected %s, got %s", names[kind],
                               got_text(n, got, sizeof got));
}

int yaml_node_get_string(const YamlNode *n, size_t max_len, const char **ret, Error *e) {
        char got[GOT_MAX];

        if (!yaml_node_is_string(n))
                return yaml_node_error(n, e, -EINVAL, "expected a string, got %s",
                                       got_text(n, got, sizeof got));
        if (max_len > 0 && n->length > max_len)
                return yaml_node_error(n, e, -ERANGE,
                                       "expected a string of at most %zu bytes, got %zu bytes", max_len,
                                       n->length);
        *ret = n->value;
        return 0;
}

int yaml_node_get_bool(const YamlNode *n, bool *ret, Error *e) {
        char got[GOT_MAX];
        int b = n->kind == YAML_TREE_SCALAR ? plain_bool(n) : -1;

        if (b < 0)
                return yaml_node_error(n, e, -EINVAL, "expected a boolean (true or false), got %s",
                                       got_text(n, got, sizeof got));
        *ret = b;
        return 0;
}

/* "an integer ≥ MIN" / "≤ MAX" for messages: the bound that was violated, and for values
 * that are not numbers at all the lower bound (or the upper one when the lower is 0). */
static void bound_text(char *buf, size_t size, const char *what, const char *unit, uint64_t min,
                       uint64_t max, bool too_big) {
        if (too_big || (min == 0 && max != UINT64_MAX))
                (void) snprintf(buf, size, "%s ≤ %" PRIu64 "%s", what, max, unit);
        else if (min > 0)
                (void) snprintf(buf, size, "%s ≥ %" PRIu64 "%s", what, min, unit);
        else
                (void) snprintf(buf, size, "%s", what);
}

static int range_error(const YamlNode *n, Error *e, int code, const char *what, const char *unit,
                       const char *example, uint64_t min, uint64_t max, bool too_big) {
        char got[GOT_MAX], expected[128];

        bound_text(expected, sizeof expected, what, unit, min, max, too_big);
        return yaml_node_error(n, e, code, "expected %s%s, got %s", expected, example,
                               got_text(n, got, sizeof got));
}

static int check_range(const YamlNode *n, uint64_t v, uint64_t min, uint64_t max, const char *what,
                       const char *unit, const char *example, uint64_t *ret, Error *e) {
        if (v < min)
                return range_error(n, e, -ERANGE, what, unit, example, min, max, false);
        if (v > max)
                return range_error(n, e, -ERANGE, what, unit, example, min, max, true);
        *ret = v;
        return 0;
}

int yaml_node_get_u64(const YamlNode *n, uint64_t min, uint64_t max, uint64_t *ret, Error *e) {
        uint64_t v;
        int r;

        if (!scalar_is_plain(n) || !text_is_integer(n->value))
                return range_error(n, e, -EINVAL, "an integer", "", "", min, max, false);
        if (n->value[0] == '-')
                return range_error(n, e, -ERANGE, "an integer", "", "", min, max, false);
        r = safe_atou64(n->value + (n->value[0] == '+'), &v);
        if (r < 0)
                return range_error(n, e, -ERANGE, "an integer", "", "", min, max, true);
        return check_range(n, v, min, max, "an integer", "", "", ret, e);
}

int yaml_node_get_double(const YamlNode *n, double min, double max, double *ret, Error *e) {
        char got[GOT_MAX];
        double v;

        if (!scalar_is_plain(n) || !(text_is_integer(n->value) || text_is_float(n->value)) ||
            safe_atod(n->value, &v) < 0)
                return yaml_node_error(n, e, -EINVAL, "expected a number between %g and %g, got %s", min,
                                       max, got_text(n, got, sizeof got));
        if (v < min || v > max)
                return yaml_node_error(n, e, -ERANGE, "expected a number between %g and %g, got %s", min,
                                       max, got_text(n, got, sizeof got));
        *ret = v;
        return 0;
}

int yaml_node_get_size(const YamlNode *n, uint64_t min, uint64_t max, uint64_t *ret, Error *e) {
        static const char example[] = " (bytes, or with a suffix like \"512Mi\", \"1Gi\")";
        uint64_t v;
        int r;

        if (!yaml_node_is_string(n) || (scalar_is_plain(n) && n->value[0] == '-'))
                return range_error(n, e, -EINVAL, "a size", " bytes", example, min, max, false);
        r = parse_size(n->value, &v);
        if (r == -ERANGE)
                return range_error(n, e, -ERANGE, "a size", " bytes", example, min, max, true);
        if (r < 0)
                return range_error(n, e, -EINVAL, "a size", " bytes", example, min, max, false);
        return check_range(n, v, min, max, "a size", " bytes", example, ret, e);
}

int yaml_node_get_duration_secs(const YamlNode *n, uint64_t min, uint64_t max, uint64_t *ret, Error *e) {
        static const char example[] = " (seconds, or like \"600s\", \"10m\", \"1h30m\")";
        uint64_t v;
        int r;

        if (!yaml_node_is_string(n))
                return range_error(n, e, -EINVAL, "a duration", " s", example, min, max, false);
        r = parse_duration_secs(n->value, &v);
        if (r == -ERANGE)
                return range_error(n, e, -ERANGE, "a duration", " s", example, min, max, true);
        if (r < 0)
                return range_error(n, e, -EINVAL, "a duration", " s", example, min, max, false);
        return check_range(n, v, min, max, "a duration", " s", example, ret, e);
}

const YamlNode *yaml_mapping_get(const YamlNode *map, const char *key) {
        if (!map || map->kind != YAML_TREE_MAPPING)
                return NULL;
        for (size_t i = 0; i < map->n_items / 2; i++)
                if (streq(map->items[2 * i]->value, key))
                        return map->items[2 * i + 1];
        return NULL;
}

/* ---- did you mean ---- */

static char ascii_lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        size_t rows[3][65], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

        if (la > 64 || lb > 64)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                prev[j] = j;
        for (size_t i = 1; i <= la; i++) {
                cur[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t cost = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1;
                        size_t v = MIN(prev[j] + 1, cur[j - 1] + 1);
                        v = MIN(v, prev[j - 1] + cost);
                        if (i > 1 && j > 1 && ascii_lower(a[i - 1]) == ascii_lower(b[j - 2]) &&
                            ascii_lower(a[i - 2]) == ascii_lower(b[j - 1]))
                                v = MIN(v, prev2[j - 2] + 1);
                        cur[j] = v;
                }
                size_t *t = prev2;
                prev2 = prev;
                prev = cur;
                cur = t;
        }
        return prev[lb];
}

const char *suggest_closest(const char *word, const char *const *candidates) {
        size_t best = SIZE_MAX, limit, len = strlen(word);
        const char *pick = NULL;

        limit = MAX((size_t) 1, MIN((size_t) 3, len / 3));
        for (size_t i = 0; candidates && candidates[i]; i++) {
                size_t d = edit_distance(word, candidates[i]);
                if (d < best) {
                        best = d;
                        pick = candidates[i];
                }
        }
        return best <= limit ? pick : NULL;
}

int yaml_mapping_check_keys(const YamlNode *map, const char *const *known, Error *e) {
        if (map->kind != YAML_TREE_MAPPING)
                return yaml_node_expect(map, YAML_TREE_MAPPING, e);
        for (size_t i = 0; i < map->n_items / 2; i++) {
                const YamlNode *k = yaml_mapping_key(map, i);
                char path[YAML_PATH_MAX], list[512];
                const char *s;
                size_t o = 0;
                bool found = false;

                for (size_t j = 0; known && known[j]; j++)
                        if (streq(known[j], k->value)) {
                                found = true;
                                break;
                        }
                if (found)
                        continue;
                yaml_node_path(yaml_mapping_value(map, i), path, sizeof path);
                s = suggest_closest(k->value, known);
                if (s)
                        return yaml_node_error_path(k, path, e, -EINVAL, "unknown key, did you mean \"%s\"?",
                                                    s);
                list[0] = '\0';
                for (size_t j = 0; known && known[j] && o < sizeof list; j++) {
                        int w = snprintf(list + o, sizeof list - o, "%s%s", j > 0 ? ", " : "", known[j]);
                        if (w < 0)
                                break;
                        o += (size_t) w;
                }
                return yaml_node_error_path(k, path, e, -EINVAL, "unknown key (known keys: %s)", list);
        }
        return 0;
}

/* ---- building the tree from libyaml events ---- */

typedef struct Builder {
        YamlDocument *doc;
        const YamlLimits *limits;
        YamlNode *stack[256];
        unsigned depth;
        Error *error;
} Builder;

/* Characters a scalar may hold: YAML's printable set, which is also what survives a trip
 * through JSON text and back (json-c writes these raw), minus the characters libyaml folds
 * as line breaks inside quoted scalars (U+0085, U+2028, U+2029). Everything else (C0/C1
 * controls but tab, LF, CR; DEL; U+FFFE/U+FFFF) could only have arrived through an escape,
 * and would either not round-trip or smuggle terminal escapes into logs. */
static bool char_allowed(uint32_t cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r')
                return true;
        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029 || cp == 0xfffe ||
            cp == 0xffff)
                return false;
        return true;
}

/* 0 if s is valid UTF-8 of allowed characters; else -EILSEQ (bad UTF-8) or -EINVAL with
 * *ret_cp the first character not allowed. */
static int scalar_text_check(const char *s, size_t n, uint32_t *ret_cp) {
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char) s[i];
                size_t len;
                uint32_t cp;

                if (c < 0x80)
                        len = 1, cp = c;
                else if ((c & 0xe0) == 0xc0)
                        len = 2, cp = c & 0x1f;
                else if ((c & 0xf0) == 0xe0)
                        len = 3, cp = c & 0x0f;
                else if ((c & 0xf8) == 0xf0)
                        len = 4, cp = c & 0x07;
                else
                        return -EILSEQ;
                if (i + len > n)
                        return -EILSEQ;
                for (size_t k = 1; k < len; k++) {
                        unsigned char cc = (unsigned char) s[i + k];
                        if ((cc & 0xc0) != 0x80)
                                return -EILSEQ;
                        cp = (cp << 6) | (cc & 0x3f);
                }
                if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
                    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return -EILSEQ;
                if (!char_allowed(cp)) {
                        *ret_cp = cp;
                        return -EINVAL;
                }
                i += len;
        }
        return 0;
}

static int build_error(Builder *b, const yaml_mark_t *mark, int code, const char *fmt, ...) _printf_(4, 5);
static int build_error(Builder *b, const yaml_mark_t *mark, int code, const char *fmt, ...) {
        char msg[ERROR_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return error_set(b->error, code, "%s:%zu:%zu: %s", b->doc->file, mark->line + 1, mark->column + 1,
                         msg);
}

static YamlNode *node_new(Builder *b, YamlNodeKind kind, const yaml_mark_t *mark) {
        YamlNode *n = calloc(1, sizeof *n);

        if (!n)
                return NULL;
        n->kind = kind;
        n->line = (unsigned) MIN(mark->line + 1, (size_t) UINT_MAX);
        n->column = (unsigned) MIN(mark->column + 1, (size_t) UINT_MAX);
        n->file = b->doc->file;
        return n;
}

static int items_push(YamlNode *parent, YamlNode *child) {
        if (parent->n_items % 16 == 0) {
                YamlNode **items = reallocarray(parent->items, parent->n_items + 16, sizeof *items);
                if (!items)
                        return -ENOMEM;
                parent->items = items;
        }
        parent->items[parent->n_items++] = child;
        return 0;
}

/* Attach child to the collection on top of the stack (or make it the root). Takes ownership. */
static int attach(Builder *b, YamlNode *child, const yaml_mark_t *mark) {
        YamlNode *parent = b->depth > 0 ? b->stack[b->depth - 1] : NULL;
        int r;

        if (++b->doc->n_nodes > b->limits->max_nodes) {
                node_free(child);
                return build_error(b, mark, -E2BIG, "document has more than %zu nodes",
                                   b->limits->max_nodes);
        }
        if (!parent) {
                if (b->doc->root) {
                        node_free(child);
                        return build_error(b, mark, -EBADMSG, "more than one root node");
                }
                b->doc->root = child;
                return 0;
        }
        child->parent = parent;
        if (parent->kind == YAML_TREE_MAPPING) {
                if (parent->n_items % 2 == 0) {
                        if (child->kind != YAML_TREE_SCALAR) {
                                node_free(child);
                                return build_error(b, mark, -EINVAL,
                                                   "mapping keys must be plain strings, not collections");
                        }
                        if (child->length == 0) {
                                node_free(child);
                                return build_error(b, mark, -EINVAL, "mapping keys must not be empty");
                        }
                        for (size_t i = 0; i < child->length; i++)
                                if ((unsigned char) child->value[i] < 0x20 || child->value[i] == 0x7f) {
                                        node_free(child);
                                        return build_error(
                                                b, mark, -EINVAL,
                                                "mapping keys must not contain control characters");
                                }
                        if (child->length > b->limits->max_key) {
                                node_free(child);
                                return build_error(b, mark, -E2BIG, "mapping key longer than %zu bytes",
                                                   b->limits->max_key);
                        }
                } else
                        child->key = parent->items[parent->n_items - 1]->value;
        } else
                child->index = parent->n_items;
        r = items_push(parent, child);
        if (r < 0) {
                node_free(child);
                return error_set(b->error, r, "%s: out of memory", b->doc->file);
        }
        return 0;
}

static int key_cmp(const void *a, const void *b) {
        const YamlNode *ka = *(const YamlNode *const *) a, *kb = *(const YamlNode *const *) b;
        int c = strcmp(ka->value, kb->value);
        if (c != 0)
                return c;
        return ka->line != kb->line ? (ka->line < kb->line ? -1 : 1)
                                    : (ka->column < kb->column ? -1 : ka->column > kb->column);
}

static int check_duplicate_keys(Builder *b, const YamlNode *map) {
        size_t n = map->n_items / 2;
        _cleanup_free_ const YamlNode **keys = NULL;

        if (n < 2)
                return 0;
        keys = reallocarray(NULL, n, sizeof *keys);
        if (!keys)
                return error_set(b->error, -ENOMEM, "%s: out of memory", b->doc->file);
        for (size_t i = 0; i < n; i++)
                keys[i] = map->items[2 * i];
        qsort(keys, n, sizeof *keys, key_cmp);
        for (size_t i = 1; i < n; i++)
                if (streq(keys[i - 1]->value, keys[i]->value)) {
                        char path[YAML_PATH_MAX];
                        const YamlNode *value = NULL;
                        for (size_t j = 0; j < n; j++)
                                if (map->items[2 * j] == keys[i])
                                        value = map->items[2 * j + 1];
                        yaml_node_path(value, path, sizeof path);
                        return yaml_node_error_path(keys[i], path, b->error, -EINVAL,
                                                    "duplicate key (first given at line %u)",
                                                    keys[i - 1]->line);
                }
        return 0;
}

static int on_scalar(Builder *b, const yaml_event_t *ev) {
        const yaml_mark_t *mark = &ev->start_mark;
        size_t len = ev->data.scalar.length;
        uint32_t cp = 0;
        YamlNode *n;
        int r;

        if (len > b->limits->max_scalar)
                return build_error(b, mark, -E2BIG, "string longer than %zu bytes", b->limits->max_scalar);
        r = scalar_text_check((const char *) ev->data.scalar.value, len, &cp);
        if (r == -EILSEQ)
                return build_error(b, mark, -EINVAL, "string is not valid UTF-8");
        if (r < 0)
                return build_error(b, mark, -EINVAL,
                                   "string contains U+%04" PRIX32
                                   ": control characters (but tab and newline) and "
                                   "line or paragraph separators are not allowed",
                                   cp);
        n = node_new(b, YAML_TREE_SCALAR, mark);
        if (!n)
                return error_set(b->error, -ENOMEM, "%s: out of memory", b->doc->file);
        n->value = strndup((const char *) ev->data.scalar.value, len);
        n->length = len;
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE &&
                    ev->data.scalar.style != YAML_ANY_SCALAR_STYLE;
        if (ev->data.scalar.tag)
                n->tag = strdup((const char *) ev->data.scalar.tag);
        if (!n->value || (ev->data.scalar.tag && !n->tag)) {
                node_free(n);
                return error_set(b->error, -ENOMEM, "%s: out of memory", b->doc->file);
        }
        return attach(b, n, mark);
}

static int on_collection_start(Builder *b, const yaml_event_t *ev, YamlNodeKind kind) {
        const yaml_mark_t *mark = &ev->start_mark;
        YamlNode *n;
        int r;

        if (b->depth >= b->limits->max_depth || b->depth >= ELEMENTSOF(b->stack))
                return build_error(b, mark, -E2BIG, "nesting deeper than %u levels",
                                   MIN(b->limits->max_depth, (unsigned) ELEMENTSOF(b->stack)));
        n = node_new(b, kind, mark);
        if (!n)
                return error_set(b->error, -ENOMEM, "%s: out of memory", b->doc->file);
        r = attach(b, n, mark);
        if (r < 0)
                return r;
        b->stack[b->depth++] = n;
        return 0;
}

static int parser_error(Builder *b, const yaml_parser_t *p) {
        const char *problem = p->problem ? p->problem : "syntax error";

        switch (p->error) {
        case YAML_MEMORY_ERROR:
                return error_set(b->error, -ENOMEM, "%s: out of memory", b->doc->file);
        case YAML_READER_ERROR:
                return error_set(b->error, -EBADMSG, "%s: invalid input at byte %zu: %s", b->doc->file,
                                 p->problem_offset, problem);
        default:
                if (p->context)
                        return error_set(b->error, -EBADMSG,
                                         "%s:%zu:%zu: invalid YAML: %s %s that started at line %zu",
                                         b->doc->file, p->problem_mark.line + 1, p->problem_mark.column + 1,
                                         problem, p->context, p->context_mark.line + 1);
                return error_set(b->error, -EBADMSG, "%s:%zu:%zu: invalid YAML: %s", b->doc->file,
                                 p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
        }
}

static int build(Builder *b, yaml_parser_t *p) {
        unsigned documents = 0;

        for (;;) {
                yaml_event_t ev;
                int r = 0;
                bool done = false;

                if (!yaml_parser_parse(p, &ev))
                        return parser_error(b, p);
                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++documents > 1)
                                r = build_error(b, &ev.start_mark, -EINVAL,
                                                "more than one document (\"---\"): give exactly one");
                        break;
                case YAML_ALIAS_EVENT:
                        r = build_error(b, &ev.start_mark, -EINVAL,
                                        "aliases (*%s) are not supported: write the value out",
                                        (const char *) ev.data.alias.anchor);
                        break;
                case YAML_SCALAR_EVENT:
                        r = on_scalar(b, &ev);
                        break;
                case YAML_SEQUENCE_START_EVENT:
                        r = on_collection_start(b, &ev, YAML_TREE_SEQUENCE);
                        break;
                case YAML_MAPPING_START_EVENT:
                        r = on_collection_start(b, &ev, YAML_TREE_MAPPING);
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        if (b->depth == 0) {
                                r = build_error(b, &ev.start_mark, -EBADMSG, "unbalanced collection end");
                                break;
                        }
                        b->depth--;
                        if (ev.type == YAML_MAPPING_END_EVENT)
                                r = check_duplicate_keys(b, b->stack[b->depth]);
                        break;
                default:
                        break;
                }
                yaml_event_delete(&ev);
                if (r < 0)
                        return r;
                if (done)
                        return 0;
        }
}

int yaml_tree_parse(const char *data, size_t size, const char *file, const YamlLimits *limits,
                    YamlDocument **ret, Error *e) {
        static const YamlLimits defaults = YAML_LIMITS_DEFAULT;
        _cleanup_(yaml_document_freep) YamlDocument *doc = NULL;
        yaml_parser_t parser;
        Builder b;
        int r;

        if (!limits)
                limits = &defaults;
        if (!file)
                file = "<input>";
        if (size > limits->max_input)
                return error_set(e, -EMSGSIZE, "%s: document is %zu bytes, more than the limit of %zu bytes",
                                 file, size, limits->max_input);
        doc = calloc(1, sizeof *doc);
        if (!doc || !(doc->file = strdup(file)))
                return error_set(e, -ENOMEM, "%s: out of memory", file);
        if (!yaml_parser_initialize(&parser))
                return error_set(e, -ENOMEM, "%s: out of memory", file);
        yaml_parser_set_input_string(&parser, (const unsigned char *) (data ? data : ""), size);
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
        b = (Builder){ .doc = doc, .limits = limits, .error = e };
        r = build(&b, &parser);
        yaml_parser_delete(&parser);
        if (r < 0)
                return r;
        if (!doc->root) {
                /* An empty document: a null scalar at 1:1. */
                yaml_mark_t mark = { 0 };
                YamlNode *n = node_new(&b, YAML_TREE_SCALAR, &mark);
                if (!n || !(n->value = strdup(""))) {
                        node_free(n);
                        return error_set(e, -ENOMEM, "%s: out of memory", file);
                }
                doc->root = n;
                doc->n_nodes = 1;
        }
        *ret = TAKE_PTR(doc);
        return 0;
}

int yaml_tree_parse_file(const char *path, const YamlLimits *limits, YamlDocument **ret, Error *e) {
        static const YamlLimits defaults = YAML_LIMITS_DEFAULT;
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        if (!limits)
                limits = &defaults;
        r = read_full_file(path, limits->max_input, &data, &size);
        if (r == -EFBIG || r == -E2BIG || r == -EMSGSIZE)
                return error_set(e, -EMSGSIZE, "%s: file is larger than the limit of %zu bytes", path,
                                 limits->max_input);
        if (r < 0)
                return error_set(e, r, "%s: cannot read: %s", path, strerror(-r));
        return yaml_tree_parse(data, size, path, limits, ret, e);
}

/* ---- JSON ---- */

static int scalar_to_json(const YamlNode *n, struct json_object **ret) {
        struct json_object *j = NULL;
        int b;

        if (yaml_node_is_null(n)) {
                *ret = NULL; /* json-c's null */
                return 0;
        }
        if (scalar_is_plain(n)) {
                b = plain_bool(n);
                if (b >= 0)
                        j = json_object_new_boolean(b);
                else if (text_is_integer(n->value)) {
                        int64_t v;
                        double d;
                        if (safe_atoi64(n->value + (n->value[0] == '+'), &v) >= 0)
                                j = json_object_new_int64(v);
                        else if (safe_atod(n->value, &d) >= 0)
                                j = json_object_new_double(d);
                        else
                                j = json_object_new_string_len(n->value, (int) n->length);
                } else if (text_is_float(n->value)) {
                        double d;
                        if (safe_atod(n->value, &d) >= 0)
                                j = json_object_new_double(d);
                        else /* .inf and overflow have no JSON form: keep the text */
                                j = json_object_new_string_len(n->value, (int) n->length);
                } else
                        j = json_object_new_string_len(n->value, (int) n->length);
        } else
                j = json_object_new_string_len(n->value, (int) n->length);
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}

static int to_json(const YamlNode *n, struct json_object **ret) {
        struct json_object *j;
        int r;

        switch (n->kind) {
        case YAML_TREE_SCALAR:
                return scalar_to_json(n, ret);
        case YAML_TREE_SEQUENCE:
                j = json_object_new_array_ext((int) n->n_items);
                if (!j)
                        return -ENOMEM;
                for (size_t i = 0; i < n->n_items; i++) {
                        struct json_object *c = NULL;
                        r = to_json(n->items[i], &c);
                        if (r < 0 || json_object_array_add(j, c) < 0) {
                                json_object_put(c);
                                json_object_put(j);
                                return r < 0 ? r : -ENOMEM;
                        }
                }
                break;
        case YAML_TREE_MAPPING:
                j = json_object_new_object();
                if (!j)
                        return -ENOMEM;
                for (size_t i = 0; i < n->n_items / 2; i++) {
                        struct json_object *c = NULL;
                        r = to_json(n->items[2 * i + 1], &c);
                        if (r < 0 || json_object_object_add(j, n->items[2 * i]->value, c) < 0) {
                                json_object_put(c);
                                json_object_put(j);
                                return r < 0 ? r : -ENOMEM;
                        }
                }
                break;
        default:
                return -EINVAL;
        }
        *ret = j;
        return 0;
}

int yaml_node_to_json(const YamlNode *n, struct json_object **ret, Error *e) {
        struct json_object *j = NULL;
        int r = to_json(n, &j);

        if (r < 0)
                return yaml_node_error(n, e, r, "cannot convert to JSON: %s", strerror(-r));
        *ret = j;
        return 0;
}
