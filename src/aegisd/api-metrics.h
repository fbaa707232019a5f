/* api-metrics.h — GET /metrics on the metrics listener (api-metrics.c): the route table the
 * daemon serves with its ApiContext as userdata. */
#pragma once

#include "http.h"

extern const HttpRoute api_metrics_routes[];
