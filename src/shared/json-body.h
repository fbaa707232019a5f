/* json-body.h — a request body parsed as JSON the way every API endpoint wants it: a single
 * JSON object, nested at most JSON_BODY_MAX_DEPTH levels, strings valid UTF-8, nothing after
 * it but whitespace. Refusals are an Error with http_status 400 and a message saying what is
 * wrong, ready to be sent back. Shared by the REST handlers and the request-body fuzzer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct json_object;

#define JSON_BODY_MAX_DEPTH 64

/* body[0..size) (need not be NUL-terminated); *ret is a new reference on success. An empty
 * body is refused too. -EINVAL (or -ENOMEM) with e set. */
int json_body_parse(const char *body, size_t size, struct json_object **ret, Error *e);

/* JSON helpers: NULL / 0 when absent or of another type. */
const char *json_get_string(struct json_object *o, const char *key);
int64_t json_get_int(struct json_object *o, const char *key, bool *ret_present);
bool json_get_bool(struct json_object *o, const char *key);
struct json_object *json_get(struct json_object *o, const char *key);
/* o[k1][k2]... (NULL-terminated key list). */
struct json_object *json_get_path(struct json_object *o, ...);
/* Parses size bytes of json, nested at most depth deep, as one JSON object: -ENOMEM, or
 * -EBADMSG when it is not JSON or not an object. */
int json_parse_object(const char *json, size_t size, int depth, struct json_object **ret);
