/* json-body.h — a request body parsed as JSON the way every API endpoint wants it: a single
 * JSON object, nested at most JSON_BODY_MAX_DEPTH levels, strings valid UTF-8, nothing after
 * it but whitespace. Refusals are an Error with http_status 400 and a message saying what is
 * wrong, ready to be sent back. Shared by the REST handlers and the request-body fuzzer. */
#pragma once

#include <stddef.h>

#include "error.h"

struct json_object;

#define JSON_BODY_MAX_DEPTH 64

/* body[0..size) (need not be NUL-terminated); *ret is a new reference on success. An empty
 * body is refused too. -EINVAL (or -ENOMEM) with e set. */
int json_body_parse(const char *body, size_t size, struct json_object **ret, Error *e);
