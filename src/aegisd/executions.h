/* executions.h — the executions subsystem of aegisd: the store, the supervisor, the REST
 * routes of executions and agents, their metrics and the idle-exit hook, wired into the
 * Daemon in one place. */
#pragma once

#include "daemon.h"
#include "store.h"
#include "supervisor.h"

typedef struct ApiStream ApiStream;

typedef struct Executions {
        Daemon *daemon;
        Store *store;
        Supervisor *supervisor;
        ApiStream *streams; /* open SSE / followed-log streams */
        /* aegis_reaper_containers_total{action}, aegis_reaper_engine_volumes_total{action}:
         * what this daemon's reconciliation passes did (action = the report's result). */
        struct Metric *m_reaper_containers, *m_reaper_engine_volumes;
        /* aegis_reaper_last_run_*, aegis_reaper_last_success_timestamp_seconds: this host's
         * last aegis-reaper run (the timer's), read from the store at each scrape. */
        struct Metric *m_last_run_ts, *m_last_success_ts, *m_last_run_ok, *m_last_run_duration;
        struct Metric *m_last_run_containers, *m_last_run_engine_volumes;
} Executions;

/* Opens the store (database.url; migrations with EXTEND_TIMEOUT_USEC), creates the
 * supervisor on d->podman, registers the routes on d->api, the metrics on d->registry and
 * the busy hook. Errors are logged; returns a negative errno. */
int executions_new(Daemon *d, Executions **ret);
/* Re-attaches to what a crash left running, then starts claiming work. */
int executions_start(Executions *x);
Executions *executions_free(Executions *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(Executions *, executions_free);

extern const HttpRoute api_execution_routes[];
extern const HttpRoute api_agent_routes[];

/* Shared by api-executions.c and api-agents.c. */
int api_submit(Executions *x, HttpRequest *r, struct json_object *input, const char *agent_id,
               const char *agent_name, const char *manifest_text, size_t manifest_size, const char *file);
int api_respond_store_error(HttpRequest *r, Store *s, int k, const char *what, const char *id);
/* The execution id if it is the caller's tenant's: another tenant's is -ENOENT, which
 * api_respond_store_error() answers exactly as a missing id (no existence oracle). */
int api_execution_get(Executions *x, HttpRequest *r, const char *id, StoreExecution *ret);
/* The HTTP status of a manifest_parse() failure k: 413 only when the document is too many
 * bytes, 400 for every other refusal (structural limits: nesting, entries, lengths). */
unsigned api_manifest_error_status(int k);
/* Parses a request body as JSON (400 answered when it is not). */
int api_parse_json_body(HttpRequest *r, struct json_object **ret);
bool api_content_is_yaml(HttpRequest *r);
char *api_timestamp(uint64_t usec); /* RFC 3339, NULL for 0 */
void api_close_streams(Executions *x);
