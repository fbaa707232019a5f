/* daemon.h — the aegisd process: its objects, sockets, sd_notify life cycle and idle exit.
 *
 * One Daemon lives in main(); the api-*.c route modules it serves get its ApiContext
 * (api-context.h) as their route userdata, never the Daemon.
 * Life cycle: daemon_new() (config already loaded) → daemon_start() (take or bind sockets,
 * HTTP servers, signals, watchdog, idle timer, READY=1) → sd_event_loop() → daemon_free()
 * (STOPPING=1 was sent by whatever ended the loop). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "api-context.h"
#include "config.h"
#include "http.h"
#include "metrics.h"
#include "util.h"

typedef struct PodmanClient PodmanClient;
typedef struct Store Store;

#define DAEMON_MAX_MORE_FDS 7

typedef struct Daemon {
        sd_event *event;
        Config *config;

        int api_fd, metrics_fd;
        /* Further sockets systemd passed under the same name (one per ListenStream= line:
         * 127.0.0.1 and [::1]), served by the same HttpServer. */
        int api_more_fds[DAEMON_MAX_MORE_FDS], metrics_more_fds[DAEMON_MAX_MORE_FDS];
        unsigned n_api_more_fds, n_metrics_more_fds;
        bool socket_activated;
        HttpServer *api, *metrics;
        MetricsRegistry *registry;
        Metric *m_api_requests, *m_api_connections; /* aegis_api_requests_total{code}, _connections */
        Metric *m_api_timeouts; /* aegis_api_connections_timed_out_total */
        PodmanClient *podman;
        Store *store; /* opened once (database.url) and lent to the rest; /health/ready pings it */
        struct Executions *executions; /* supervisor, /v1/executions and /v1/agents */

        char **tokens; /* from api.tokens_file; NULL = no authentication */
        char **token_tenants; /* the tenant of each token, same order */

        ApiContext api_context; /* what the daemon's own routes are lent */

        sd_event_source *sigterm, *sigint, *watchdog, *idle;
        uint64_t watchdog_usec;
} Daemon;

/* Takes ownership of config. */
int daemon_new(Config *config, Daemon **ret);
Daemon *daemon_free(Daemon *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Daemon *, daemon_free);

/* Everything up to READY=1. Errors are logged here; the return value is an exit status
 * (0, or EXIT_FAILURE / CONFIG_EXIT_STATUS). */
int daemon_start(Daemon *d);
