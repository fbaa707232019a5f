/* api-context.h — what the daemon lends the API files whose routes it serves itself
 * (api-health.c, api-metrics.c, api-volumes.c, api-volume-files.c): their route userdata.
 *
 * A header only, with no function: the daemon fills one ApiContext it owns, the API files
 * read it, so they never include daemon.h nor call into the daemon (layers: daemon → api-* →
 * executions). Everything in it is borrowed and outlives every request: the daemon sets the
 * handles in daemon_start() before the event loop serves the first request and frees them
 * only after its servers. */
#pragma once

#include <stdint.h>

#include "config.h"
#include "metrics.h"

typedef struct Executions Executions;
typedef struct PodmanClient PodmanClient;
typedef struct Store Store;

typedef struct ApiContext {
        const Config *config;
        uint64_t start_usec; /* CLOCK_MONOTONIC, when the daemon started: /health's uptime */
        MetricsRegistry *registry; /* GET /metrics renders it */
        PodmanClient *podman;
        Store *store; /* the daemon's one store; /health/ready pings it */
        Executions *executions; /* what the engine enforces, whose a volume's files are */
} ApiContext;
