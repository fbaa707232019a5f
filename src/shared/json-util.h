/* json-util.h — the few json-c helpers building a document needs: a cleanup for a
 * json_object reference, and adders that report allocation failure as -ENOMEM and never
 * leak the value they were given (on failure it is released), so a builder can chain them
 * with `if (r >= 0) r = json_add_…(…)` and free the root once. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "macros.h"

static inline void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* value NULL adds a JSON null. */
int json_add_string(json_object *o, const char *key, const char *value);
int json_add_int(json_object *o, const char *key, int64_t value);
int json_add_uint(json_object *o, const char *key, uint64_t value);
int json_add_bool(json_object *o, const char *key, bool value);
/* usec (CLOCK_REALTIME) as RFC 3339 UTC with microseconds ("2026-01-02T03:04:05.000006Z");
 * 0 (never) adds a JSON null. */
int json_add_timestamp(json_object *o, const char *key, uint64_t usec);
/* Adds v (ownership passes to o; on failure v is released): -ENOMEM when v is NULL. */
int json_add_obj(json_object *o, const char *key, json_object *v);
/* Adds v, or a JSON null when v is NULL (a value that may be absent, e.g. stored JSON text
 * that did not parse); ownership passes to o, on failure v is released. */
int json_add_nullable(json_object *o, const char *key, json_object *v);
/* A new array of the strings of l (NULL = empty), or NULL when out of memory. */
json_object *json_strv(char *const *l);
