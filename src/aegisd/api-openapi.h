/* api-openapi.h — GET /v1/openapi.json (api-openapi.c): the route table, which needs no
 * userdata. */
#pragma once

#include "http.h"

extern const HttpRoute api_openapi_routes[];
