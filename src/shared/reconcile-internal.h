/* reconcile-internal.h — the engine side of a reconciliation pass, as reconcile-run.c needs
 * it: one label-filtered list (with each container's exit time), and stop / kill / remove
 * started concurrently on a private client and event loop. Implemented over podman.h in
 * reconcile-engine.c. Internal to the reconcile module. */
#pragma once

#include <json-c/json.h>

#include "error.h"
#include "macros.h"
#include "podman.h"

typedef struct ReconcileEngine ReconcileEngine;

/* One container with the label aegis.managed=true, as the engine lists it. Owned strings. */
typedef struct ReconcileEngineContainer {
        char *id, *name, *execution_id, *state;
        char *store_id; /* label aegis.store, NULL when absent */
        bool managed; /* the label is exactly "true" (re-checked, whatever the filter did) */
        bool keep_on_failure;
        bool running; /* running, paused or restarting */
        bool pool, pool_owner_alive; /* label aegis.pool; its aegis.pool_owner lives */
        uint64_t created_usec, finished_usec; /* CLOCK_REALTIME, 0 unknown */
        void *run; /* the pass this container belongs to, for callbacks */
} ReconcileEngineContainer;

void reconcile_engine_container_done(ReconcileEngineContainer *c);

int reconcile_engine_new(const char *socket_path, ReconcileEngine **ret, Error *e);
ReconcileEngine *reconcile_engine_free(ReconcileEngine *engine);
DEFINE_TRIVIAL_CLEANUP_FUNC(ReconcileEngine *, reconcile_engine_free);

/* Every container labelled aegis.managed=true, running or not. Errors carry the field
 * runtime.container_socket_path. */
int reconcile_engine_list(ReconcileEngine *engine, ReconcileEngineContainer **ret, size_t *ret_n, Error *e);

/* Start one step; cb(r, error, userdata) runs later from reconcile_engine_run_until_idle().
 * r is -ENOENT when the container no longer exists. */
int reconcile_engine_stop_async(ReconcileEngine *engine, const char *id, uint64_t timeout_secs,
                                podman_done_fn cb, void *userdata);
int reconcile_engine_kill_async(ReconcileEngine *engine, const char *id, podman_done_fn cb, void *userdata);
/* Force-removes with its anonymous volumes. */
int reconcile_engine_remove_async(ReconcileEngine *engine, const char *id, podman_done_fn cb,
                                  void *userdata);

/* Runs the private loop until *in_flight is 0. */
int reconcile_engine_run_until_idle(ReconcileEngine *engine, const size_t *in_flight, Error *e);
