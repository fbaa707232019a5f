/* api-request.h — what the API files read off a request the same way (api-request.c). */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "http.h"

/* Parses a request body as JSON (400 answered when it is not). */
int api_parse_json_body(HttpRequest *r, struct json_object **ret);
bool api_content_is_yaml(HttpRequest *r);
/* ?dry_run=true|false: 1 or 0, or -EINVAL once 400 is answered. A dry run of a submission
 * checks everything a real one does, reports every error of the manifest, and creates
 * nothing. */
int api_query_dry_run(HttpRequest *r);
