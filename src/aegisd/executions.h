/* executions.h — the executions subsystem of aegisd: the supervisor, its metrics, and what
 * the daemon, the API files of executions and agents (their route userdata) and D-Bus ask of
 * it (busy, the active executions, cancel). It is given what it uses (ExecutionsContext) and
 * never calls back into the daemon nor into an API file. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "bus.h"
#include "config.h"
#include "http.h"
#include "manifest.h"
#include "metrics.h"
#include "podman.h"
#include "store.h"
#include "supervisor.h"

typedef struct ApiStream ApiStream;

/* What executions_new() is given: all borrowed, living longer than the Executions. */
typedef struct ExecutionsContext {
        sd_event *event;
        const Config *config;
        Store *store;
        PodmanClient *podman;
        MetricsRegistry *registry; /* NULL: no metrics */
} ExecutionsContext;

typedef struct Executions {
        sd_event *event;
        const Config *config;
        Store *store; /* borrowed */
        PodmanClient *podman; /* borrowed */
        Supervisor *supervisor;
        struct Gateway *gateway; /* the dispatch gateway's socket (inner-loop containers) */
        char *bootstrap; /* runtime.bootstrap_binary's bytes, read at start; NULL = unreadable */
        size_t bootstrap_size;
        char *bootstrap_error; /* why it is NULL, for the API's refusal */
        const struct RunDispatchModel *model; /* how iterations reach the LLM; NULL = none configured */
        struct LlmClient *llm; /* llm.providers, NULL when none is configured */
        char *web_search_key; /* tools.web_search.api_key resolved; NULL = none */
        ApiStream *streams; /* open SSE / followed-log streams (api-executions.c's, closed by
                             * api_close_streams() before executions_free()) */
        /* What the engine can enforce (GET /libpod/info), asked at start, at each readiness
         * probe and at a submission while unknown. */
        PodmanInfo engine;
        bool engine_known;
        /* Whose a volume's files are on the host (SupervisorOptions). */
        VolumeOwner volume_owner;
        /* aegis_reaper_containers_total{action}, aegis_reaper_engine_volumes_total{action}:
         * what this daemon's reconciliation passes did (action = the report's result). */
        struct Metric *m_reaper_containers, *m_reaper_engine_volumes;
        /* aegis_reaper_last_run_*, aegis_reaper_last_success_timestamp_seconds: this host's
         * last aegis-reaper run (the timer's), read from the store at each scrape. */
        struct Metric *m_last_run_ts, *m_last_success_ts, *m_last_run_ok, *m_last_run_duration;
        struct Metric *m_last_run_containers, *m_last_run_engine_volumes;
} Executions;

/* Creates the supervisor on c->podman and c->store and registers the metrics on c->registry
 * (the routes of executions and agents are the daemon's to serve, with the Executions as
 * userdata: api-routes.h). Errors are logged; returns a negative errno. */
int executions_new(const ExecutionsContext *c, Executions **ret);
/* Re-attaches to what a crash left running, then starts claiming work. */
int executions_start(Executions *x);
Executions *executions_free(Executions *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(Executions *, executions_free);
/* True while an execution runs on this node or a client follows one (no idle exit then). */
bool executions_busy(const Executions *x);
/* Records what the engine can enforce (from a readiness probe). */
void executions_record_engine(Executions *x, const PodmanInfo *i);
/* Whether the engine enforces every limit of an agent container: 0 yes, 1 no (buf gets the
 * limits that do not hold, *ret_why why and the fix), negative errno when the engine could not
 * be asked. Asks it (synchronously) when nothing is known yet. */
int executions_unenforced_limits(Executions *x, char *buf, size_t size, const char **ret_why);
/* The D-Bus methods (bus.h), served by x. */
void executions_bus_callbacks(Executions *x, BusCallbacks *ret);
