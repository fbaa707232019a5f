/* api-routes.h — every route table the API listener serves, in one list.
 *
 * The daemon registers both lists on its API server, the first with its ApiContext as
 * userdata, the second with its Executions, and `aegisd --list-routes` prints them: what the
 * API serves, the OpenAPI document (data/openapi.json) and that listing cannot drift apart
 * unnoticed (tests/integration/api-openapi.sh compares them). A new table of the API listener goes
 * here, never straight into http_server_add_routes(). */
#pragma once

#include <stdio.h>

#include "http.h"

/* NULL-terminated; registered with the daemon's ApiContext as userdata (daemon.c). */
extern const HttpRoute *const api_daemon_route_tables[];
/* NULL-terminated; registered with the daemon's Executions as userdata (daemon.c). */
extern const HttpRoute *const api_executions_route_tables[];

/* One line "METHOD PATTERN" per route of both lists, to f. */
int api_routes_print(FILE *f);
