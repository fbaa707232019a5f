/* api-health.h — GET /health, /health/live and /health/ready (api-health.c): the route table
 * the daemon serves with its ApiContext as userdata. */
#pragma once

#include "http.h"

extern const HttpRoute api_health_routes[];
