/* supervisor.h — the execution supervisor: the 100monkeys loop on aegisd's sd-event loop.
 *
 * The API inserts executions as `pending` (supervisor_submit); the supervisor claims them
 * through the store (multi-host safe), up to runtime.max_concurrent at once, and runs each
 * one iteration after the other in a fresh container:
 *
 *   image (pull policy, bounded) → container row written → create (labels, limits, env,
 *   /run/aegis/{input,feedback}.json) → wait (issued before start) → start → logs streamed →
 *   exit | iteration timeout (SIGKILL, reason "timeout") | OOM (reason "oom") | cancel →
 *   remove → validators → completed, or feed back and iterate, or failed.
 *
 * Nothing blocks the loop: every Podman call is asynchronous; store calls are short.
 * Every state change is written before the side effect it leads to; every error path after
 * create goes through one cleanup (remove the container unless keep_container_on_failure).
 * Every event is appended to the store (SSE history), passed to local listeners (SSE live)
 * and logged with EXECUTION_ID=, ITERATION=, CONTAINER_ID= journal fields.
 *
 * At start-up supervisor_start() re-attaches to executions this node left running (same
 * node id, kept in the state directory): a container still running is followed again, one
 * that exited is collected, a vanished one fails its iteration and the loop goes on.
 * Executions of other nodes whose lease expired are adopted the same way. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "error.h"
#include "execution-events.h"
#include "podman.h"
#include "store.h"
#include "volume-userns.h"

typedef struct Supervisor Supervisor;
struct RunDispatchModel;

typedef struct SupervisorOptions {
        uint64_t max_concurrent; /* runtime.max_concurrent */
        uint64_t image_pull_timeout_usec;
        uint64_t stats_interval_usec; /* run-stats.h's interval (0 = its default) */
        uint64_t stop_timeout_secs;
        const char *network; /* runtime.network or NULL */
        const char *state_dir; /* per-execution files live in state_dir/executions/<id>/ */
        uint64_t lease_usec; /* claim lease; renewed every lease/3 */
        uint64_t poll_usec; /* how often to look for pending / abandoned work */
        const char *storage_root; /* storage.root: volumes live in root/<tenant>/<id> */
        StorageMountMode mount_mode; /* storage.mount_mode: how containers get their volumes */
        const char *nfs_server_host; /* addr= of NFS mounts; NULL = the host's address */
        uint16_t nfs_port; /* port= and mountport= of NFS mounts (storage.nfs_listen_addr's) */
        uint64_t volume_max_entries; /* storage.volume_max_entries: the bind-mode quota walk's bound */
        /* runtime.user_namespace: containers get ids userns_base…+65535 of the engine's
         * namespace (podman.h). volume_owner: whose a volume's files are on the host
         * (volume-userns.h); with VOLUME_USERNS_KEEP_ID a container with a bind-mode volume
         * runs keep-id with the agent's ids instead. */
        bool userns;
        uint32_t userns_base;
        VolumeOwner volume_owner;
        /* The inner loop (issue 14), all borrowed: aegis-bootstrap's bytes (NULL = unavailable:
         * the API refuses inner-loop manifests), how to reach the model (NULL = no LLM
         * configured) and llm.max_tool_rounds (0 = 50). */
        const void *bootstrap_binary;
        size_t bootstrap_binary_size;
        const struct RunDispatchModel *model;
        unsigned max_tool_rounds;
        /* security.contexts (borrowed): the tools' policy (policy.h). NULL = the built-in
         * default's "every tool". */
        const Config *config;
        /* tools.web_search.api_key resolved (borrowed; NULL = none): web.search's key. */
        const char *web_search_key;
} SupervisorOptions;

int supervisor_new(sd_event *event, Store *store, PodmanClient *podman, const SupervisorOptions *o,
                   Supervisor **ret, Error *e);
Supervisor *supervisor_free(Supervisor *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Supervisor *, supervisor_free);

/* Reconciles this node's leftovers, then starts claiming work. */
int supervisor_start(Supervisor *s);
/* Stops claiming; running executions are left to reconciliation (their containers keep
 * running and are re-attached by the next start). */
void supervisor_stop(Supervisor *s);

const char *supervisor_node_id(const Supervisor *s);
/* An agent was deployed, changed or deleted: the warm pools follow (run-pool.h). */
void supervisor_agents_changed(Supervisor *s);
/* Executions running on this node now (for idle exit, /metrics, D-Bus). */
unsigned supervisor_active(const Supervisor *s);
/* Pending work was created: look for it now instead of at the next poll. */
void supervisor_kick(Supervisor *s);
/* Cancels: a pending execution ends `cancelled` at once; a running one has its container
 * killed at once. Another node's execution is marked for cancellation and that node acts
 * on it at its next heartbeat. -ENOENT, -EALREADY when it already ended. */
int supervisor_cancel(Supervisor *s, const char *id, Error *e);

/* Appends an event (store + listeners + journal). payload: a JSON object the function
 * completes with type, execution_id, time; it takes ownership. */
int supervisor_emit(Supervisor *s, const char *execution_id, unsigned iteration, const char *container_id,
                    const char *type, struct json_object *payload);

/* Live event listeners (SSE): called for every event of execution_id appended by this node,
 * after it is in the store. A listener with execution_id NULL sees all. */
typedef void (*supervisor_listener_fn)(const char *execution_id, uint64_t seq, void *userdata);
typedef struct SupervisorListener SupervisorListener;
int supervisor_listen(Supervisor *s, const char *execution_id, supervisor_listener_fn fn, void *userdata,
                      SupervisorListener **ret);
void supervisor_unlisten(Supervisor *s, SupervisorListener *l);

/* Registers aegis_executions_total{status}, aegis_execution_active,
 * aegis_execution_duration_seconds, aegis_iterations_total{result} and
 * aegis_container_operations_total{op,result}; the supervisor keeps them current. */
struct MetricsRegistry;
int supervisor_register_metrics(Supervisor *s, struct MetricsRegistry *reg);
/* Sets the gauges (called before each scrape). */
void supervisor_update_metrics(Supervisor *s);

/* The inner-loop conversation of the live iteration whose capability this is (compared in
 * constant time with every live one), or NULL: the dispatch gateway's lookup. */
struct RunDispatch;
struct RunDispatch *supervisor_find_dispatch(Supervisor *s, const char *capability);

/* The live stdout+stderr of the running iteration of a local execution ("" when none);
 * borrowed until the next loop turn. */
const char *supervisor_live_output(Supervisor *s, const char *id, unsigned *ret_iteration, size_t *ret_len);
