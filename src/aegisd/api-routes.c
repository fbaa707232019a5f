/* api-routes.c — the lists of the API listener's route tables (see api-routes.h). */
#include <assert.h>
#include <errno.h>

#include "api-agents.h"
#include "api-executions.h"
#include "api-health.h"
#include "api-openapi.h"
#include "api-routes.h"
#include "api-volume-files.h"
#include "api-volumes.h"

const HttpRoute *const api_daemon_route_tables[] = {
        api_health_routes, api_volumes_routes, api_volume_files_routes, api_openapi_routes, NULL,
};

const HttpRoute *const api_executions_route_tables[] = {
        api_execution_routes,
        api_agent_routes,
        NULL,
};

static int print_tables(FILE *f, const HttpRoute *const *tables) {
        for (const HttpRoute *const *t = tables; *t; t++)
                for (const HttpRoute *r = *t; r->pattern; r++)
                        if (fprintf(f, "%s %s\n", http_method_to_string(r->method), r->pattern) < 0)
                                return -EIO;
        return 0;
}

int api_routes_print(FILE *f) {
        int k;

        assert(f);
        k = print_tables(f, api_daemon_route_tables);
        if (k < 0)
                return k;
        k = print_tables(f, api_executions_route_tables);
        if (k < 0)
                return k;
        return fflush(f) == 0 ? 0 : -errno;
}
