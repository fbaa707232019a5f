/* executions.h — the executions subsystem of aegisd: the supervisor, the REST routes of
 * executions and agents, their metrics, and what the daemon and D-Bus ask of it (busy,
 * the active executions, cancel). It is given what it uses (ExecutionsContext) and never
 * calls back into the daemon. */
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
        HttpServer *api; /* the routes are added here */
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
        ApiStream *streams; /* open SSE / followed-log streams */
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

/* Creates the supervisor on c->podman and c->store, registers the routes on c->api and the
 * metrics on c->registry. Errors are logged; returns a negative errno. */
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
/* Answers manifest_parse()'s failure k described by e, with code "invalid_manifest" (500s
 * keep theirs). */
int api_respond_manifest_error(HttpRequest *r, int k, Error *e);
/* ?dry_run=true|false: 1 or 0, or -EINVAL once 400 is answered. A dry run of a submission
 * checks everything a real one does, reports every error of the manifest, and creates
 * nothing. */
int api_query_dry_run(HttpRequest *r);
/* A dry run's manifest check: 0 with *ret set when valid; else 1 once every error is
 * answered (400, or 413 past the size limit: the first error's "error", "code" and "field",
 * and all of them in "errors"), or a negative errno. */
int api_check_manifest(HttpRequest *r, const char *text, size_t size, const char *file, ManifestPlan **ret);
/* A dry run that would have been accepted: 200 {"dry_run", "valid", "warnings", "manifest"}
 * (the canonical manifest). */
int api_respond_dry_run(HttpRequest *r, const ManifestPlan *plan);
/* Parses a request body as JSON (400 answered when it is not). */
int api_parse_json_body(HttpRequest *r, struct json_object **ret);
bool api_content_is_yaml(HttpRequest *r);
char *api_timestamp(uint64_t usec); /* RFC 3339, NULL for 0 */
void api_close_streams(Executions *x);
/* GET /v1/agents/{id}/events: an SSE stream of the live events of the executions of agent_id
 * (an agent of the caller's tenant, checked by the caller) that this node runs. */
int api_agent_events(Executions *x, HttpRequest *r, const char *agent_id);
