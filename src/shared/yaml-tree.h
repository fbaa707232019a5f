/* yaml-tree.h — a YAML (or JSON) document read into a small, bounded tree of nodes.
 *
 * The configuration file and agent manifests are both read through this: libyaml's event
 * parser builds scalars, sequences and mappings, each node remembering the file, line and
 * column (1-based) it came from, so every validation error can say where it is. JSON is
 * accepted as the YAML subset it is.
 *
 * Invariants: the input, the depth, the node count and every scalar are bounded
 * (YamlLimits); aliases are refused (no "billion laughs"); mapping keys are unique, non-empty
 * scalars; scalars are valid UTF-8 without NUL bytes; there is exactly one document.
 *
 * Typed getters fill an Error in the house format
 *   FILE:LINE:COL: path.to.key: expected an integer ≥ 4194304, got "lots"
 * with Error.field = "path.to.key". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct json_object;

typedef enum YamlNodeKind {
        YAML_TREE_SCALAR,
        YAML_TREE_SEQUENCE,
        YAML_TREE_MAPPING,
} YamlNodeKind;

typedef struct YamlNode YamlNode;
struct YamlNode {
        YamlNodeKind kind;
        unsigned line, column; /* 1-based, where the node starts */
        const char *file; /* the document's file name (owned by the document) */
        const YamlNode *parent; /* NULL for the root */
        const char *key; /* when the parent is a mapping: this value's key, else NULL */
        size_t index; /* when the parent is a sequence: this item's index */

        /* YAML_TREE_SCALAR */
        char *value; /* NUL-terminated, valid UTF-8, never NULL for scalars */
        size_t length;
        bool quoted; /* written '…' or "…" (or a block scalar |, >): always a string */
        char *tag; /* explicit tag ("tag:yaml.org,2002:str" for !!str), NULL if none */

        /* YAML_TREE_SEQUENCE: n_items items. YAML_TREE_MAPPING: n_items pairs,
         * items[2i] the key (a scalar), items[2i+1] its value. */
        YamlNode **items;
        size_t n_items;
};

typedef struct YamlLimits {
        size_t max_input; /* bytes of input */
        unsigned max_depth; /* nesting of sequences/mappings */
        size_t max_nodes; /* all nodes, keys included */
        size_t max_scalar; /* bytes of one scalar */
        size_t max_key; /* bytes of one mapping key */
} YamlLimits;

#define YAML_LIMITS_DEFAULT                      \
        ((YamlLimits){ .max_input = 1024 * 1024, \
                       .max_depth = 64,          \
                       .max_nodes = 50000,       \
                       .max_scalar = 256 * 1024, \
                       .max_key = 256 })

typedef struct YamlDocument {
        char *file;
        YamlNode *root; /* never NULL: an empty document is a null scalar */
        size_t n_nodes;
} YamlDocument;

/* Parse data (size bytes, need not be NUL-terminated) named file in messages. limits may be
 * NULL for YAML_LIMITS_DEFAULT. Errors: -EMSGSIZE / -E2BIG (limits), -EBADMSG (syntax),
 * -EINVAL (aliases, duplicate keys, …), -ENOMEM; the message names file, line and column. */
int yaml_tree_parse(const char *data, size_t size, const char *file, const YamlLimits *limits,
                    YamlDocument **ret, Error *e);
/* Read path (at most limits->max_input bytes) and parse it. */
int yaml_tree_parse_file(const char *path, const YamlLimits *limits, YamlDocument **ret, Error *e);
void yaml_document_free(YamlDocument *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(YamlDocument *, yaml_document_free);

/* Navigation. yaml_mapping_get returns NULL when map is not a mapping or lacks key. */
const YamlNode *yaml_mapping_get(const YamlNode *map, const char *key);
static inline const YamlNode *yaml_mapping_key(const YamlNode *map, size_t i) {
        return map->items[2 * i];
}
static inline const YamlNode *yaml_mapping_value(const YamlNode *map, size_t i) {
        return map->items[2 * i + 1];
}
static inline const YamlNode *yaml_sequence_item(const YamlNode *seq, size_t i) {
        return seq->items[i];
}

/* Key path of n, e.g. "spec.volumes[0].name" ("" for the root), into buf; returns buf. */
#define YAML_PATH_MAX 256
char *yaml_node_path(const YamlNode *n, char *buf, size_t size);
/* "a mapping", "a sequence", "null", "a string", "an integer", … for messages. */
const char *yaml_node_describe(const YamlNode *n);

/* Fill e with "FILE:LINE:COL: path: <fmt…>" (or "FILE:LINE:COL: <fmt…>" at the root), with
 * e->field = path; returns code. */
int yaml_node_error(const YamlNode *n, Error *e, int code, const char *fmt, ...) _printf_(4, 5);
/* Same with an explicit path (for a key that is missing from the mapping n). */
int yaml_node_error_path(const YamlNode *n, const char *path, Error *e, int code, const char *fmt, ...)
        _printf_(5, 6);

/* Scalar classification (YAML 1.2 core schema, plain scalars only; quoted or !!str-tagged
 * scalars are always strings). */
bool yaml_node_is_null(const YamlNode *n); /* plain null, Null, NULL, ~ or empty */
bool yaml_node_is_string(const YamlNode *n); /* any non-null scalar */

/* Typed getters. On a wrong type or out-of-range value they fill e (house format, "got …"
 * quoting the offending text) and return -EINVAL (-ERANGE for range). ret is set only on
 * success. */
int yaml_node_expect(const YamlNode *n, YamlNodeKind kind, Error *e);
/* A non-null scalar of at most max_len bytes (0 = only the parser's limit). */
int yaml_node_get_string(const YamlNode *n, size_t max_len, const char **ret, Error *e);
/* true/false (also True/TRUE/False/FALSE), plain. */
int yaml_node_get_bool(const YamlNode *n, bool *ret, Error *e);
/* A plain decimal integer in [min, max]. Message: "expected an integer ≥ MIN, got "x"". */
int yaml_node_get_u64(const YamlNode *n, uint64_t min, uint64_t max, uint64_t *ret, Error *e);
/* A plain number (integer or decimal fraction) in [min, max]. */
int yaml_node_get_double(const YamlNode *n, double min, double max, double *ret, Error *e);
/* A byte count: a plain integer, or a string with a suffix ("512Mi", "1Gi", "2G"; see
 * parse_size()), in [min, max]. */
int yaml_node_get_size(const YamlNode *n, uint64_t min, uint64_t max, uint64_t *ret, Error *e);
/* Seconds: a plain integer, or a string "600s", "10m", "1h30m", "600" (see
 * parse_duration_secs()), in [min, max]. */
int yaml_node_get_duration_secs(const YamlNode *n, uint64_t min, uint64_t max, uint64_t *ret, Error *e);

/* Refuse keys of map not in known (NULL-terminated): "FILE:L:C: path.key: unknown key, did you
 * mean "x"?" (or "…: unknown key; known keys: a, b, c"). Returns 0 when all keys are known. */
int yaml_mapping_check_keys(const YamlNode *map, const char *const *known, Error *e);

/* The candidate closest to word by edit distance (case-insensitive, transpositions count
 * 1), or NULL if none is close enough to be a plausible typo. candidates is NULL-terminated. */
const char *suggest_closest(const char *word, const char *const *candidates);

/* Convert a subtree to json-c: plain null/true/false/integers/floats become JSON values,
 * everything quoted or tagged !!str stays a string; mappings become objects. */
int yaml_node_to_json(const YamlNode *n, struct json_object **ret, Error *e);
