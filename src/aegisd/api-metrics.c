/* api-metrics.c — GET /metrics on the metrics socket: the daemon's registry in Prometheus
 * text format. */
#include <errno.h>
#include <stdio.h>

#include "api-metrics.h"
#include "api-context.h"
#include "util.h"

static int get_metrics(HttpRequest *r, void *userdata) {
        ApiContext *ctx = userdata;
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f;
        int k;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        k = metrics_render(ctx->registry, f);
        if (fclose(f) != 0 && k >= 0)
                k = -ENOMEM;
        if (k < 0)
                return k;
        return http_respond(r, 200, METRICS_CONTENT_TYPE, text, size);
}

const HttpRoute api_metrics_routes[] = {
        { HTTP_GET, "/metrics", get_metrics, HTTP_ROUTE_PUBLIC },
        {},
};
