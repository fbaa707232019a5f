/* api-openapi.c — GET /v1/openapi.json: the OpenAPI 3.1 document of the API listener.
 *
 * The document is data/openapi.json, compiled in (openapi-data.c is generated from it by the
 * build) so that the daemon always serves the description of its own routes, installed or
 * not; the same file is installed as $(pkgdatadir)/openapi.json. It must list exactly the
 * routes of api-routes.c: tests/integration/api-openapi.sh checks both ways. */
#include <string.h>

#include "api-openapi.h"

/* openapi-data.c (generated) */
extern const char aegis_openapi_json[];

static int get_openapi(HttpRequest *r, void *userdata) {
        return http_respond(r, 200, "application/json", aegis_openapi_json, strlen(aegis_openapi_json));
}

const HttpRoute api_openapi_routes[] = {
        { HTTP_GET, "/v1/openapi.json", get_openapi },
        {},
};
