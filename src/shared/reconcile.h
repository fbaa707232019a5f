/* reconcile.h — the third cleanup layer: which containers are orphans, and what to do
 * about them. Shared by `aegis-reaper` (every 5 minutes, from a timer) and `aegisd`
 * (once at start-up), so both always decide the same way.
 *
 * Two layers:
 *  - pure decisions (this part needs neither Podman nor the store, and is unit-tested
 *    exhaustively): given what Podman says about a container, what the store says about
 *    its execution, the backoff state, the policy and "now", decide keep / reap / skip
 *    and whether the execution row is stale;
 *  - the run (reconcile_run(), below), which gathers those facts with one label-filtered
 *    list call and store look-ups, acts on the decisions, and returns a report.
 *
 * Invariants:
 *  - a container without the label aegis.managed=true is never acted on, whatever the
 *    store says about it (RECONCILE_SKIP);
 *  - a container labelled aegis.store with another store's id than the one the pass opened
 *    is another daemon's: kept (RECONCILE_REASON_OTHER_STORE), whatever this store says
 *    about its execution; one without the label (made before stores had ids) is decided on
 *    this store's facts as before;
 *  - a container labelled aegis.keep_container_on_failure=true is never removed;
 *  - a container created (or exited) less than grace ago is never removed: its row may not
 *    be committed yet, or its supervisor may still be collecting its logs;
 *  - a warm pool's container (label aegis.pool) is kept while the aegisd its label
 *    aegis.pool_owner names lives, and removed at once (no grace: no row waits for it) when
 *    that process is gone, whatever it was doing;
 *  - a container whose removal failed is retried after 5, 10, 20, 40, then every 60
 *    minutes; after 5 failures it is quarantined, which is reported once. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "macros.h"
#include "util.h"

#define RECONCILE_LABEL_MANAGED "aegis.managed"
#define RECONCILE_LABEL_EXECUTION_ID "aegis.execution_id"
#define RECONCILE_LABEL_ITERATION "aegis.iteration"
#define RECONCILE_LABEL_KEEP "aegis.keep_container_on_failure"
#define RECONCILE_LABEL_STORE "aegis.store"
/* The reason written on an execution whose container vanished or died unobserved. */
#define RECONCILE_REASON_CONTAINER_LOST "container_lost"

#define RECONCILE_GRACE_SECS_DEFAULT 60
#define RECONCILE_QUARANTINE_FAILURES 5

/* What Podman says about one container. Strings are borrowed. */
typedef struct ReconcileContainer {
        const char *id;
        const char *name;
        bool managed; /* label aegis.managed is exactly "true" */
        const char *execution_id; /* label aegis.execution_id, NULL when absent */
        const char *store_id; /* label aegis.store, NULL when absent */
        bool keep_on_failure; /* label aegis.keep_container_on_failure is exactly "true" */
        bool running; /* running, paused or restarting: a process may still be in it */
        uint64_t created_usec; /* CLOCK_REALTIME; 0 = unknown (treated as old) */
        uint64_t finished_usec; /* when it exited; 0 = never ran or unknown */
        bool pool; /* label aegis.pool present: a warm pool's container (run-pool.c) */
        bool pool_owner_alive; /* the process its aegis.pool_owner names still runs */
} ReconcileContainer;

typedef enum ReconcileExecutionState {
        RECONCILE_EXECUTION_UNKNOWN, /* no such row */
        RECONCILE_EXECUTION_LIVE, /* pending or running: its current container should run */
        RECONCILE_EXECUTION_FINISHED, /* completed, failed or cancelled */
        _RECONCILE_EXECUTION_STATE_MAX,
} ReconcileExecutionState;

/* What the store says about the execution a container names. Strings are borrowed. */
typedef struct ReconcileExecution {
        ReconcileExecutionState state;
        /* The name and/or id of the container of the execution's current iteration, as the
         * store recorded it; both NULL when unknown (then every container of a live
         * execution counts as current). Containers of earlier iterations are orphans. */
        const char *current_container;
        const char *current_container_id;
        /* A supervisor will handle the container's exit itself: another process holds a
         * live claim on the execution, or the calling aegisd's previous life held one and
         * it is about to re-attach (ReconcileOptions.owner). */
        bool owned;
} ReconcileExecution;

/* Persisted per container id in the store (reaper_backoff). failures == 0: no row. */
typedef struct ReconcileBackoff {
        unsigned failures; /* removal attempts that failed, in a row */
        uint64_t next_attempt_usec; /* CLOCK_REALTIME; do not retry before */
        bool quarantined; /* failures reached RECONCILE_QUARANTINE_FAILURES */
} ReconcileBackoff;

typedef struct ReconcilePolicy {
        uint64_t grace_usec; /* reaper.grace_secs */
        const char *store_id; /* the id of the store the pass opened (store_id()); NULL = none */
} ReconcilePolicy;

typedef enum ReconcileAction {
        RECONCILE_SKIP, /* not ours: never touched */
        RECONCILE_KEEP,
        RECONCILE_REAP,
        _RECONCILE_ACTION_MAX,
} ReconcileAction;

typedef enum ReconcileReason {
        RECONCILE_REASON_NOT_MANAGED, /* skip: no aegis.managed=true label */
        RECONCILE_REASON_OTHER_STORE, /* keep: labelled aegis.store with another store's id */
        RECONCILE_REASON_LIVE, /* keep: execution live, container running */
        RECONCILE_REASON_OWNED, /* keep: execution live, its supervisor alive elsewhere */
        RECONCILE_REASON_KEEP_ON_FAILURE, /* keep: aegis.keep_container_on_failure=true */
        RECONCILE_REASON_GRACE, /* keep: created or exited less than grace ago */
        RECONCILE_REASON_BACKOFF, /* keep: an orphan whose last removal failed; retry later */
        RECONCILE_REASON_QUARANTINED, /* keep: like backoff, after too many failures */
        RECONCILE_REASON_NO_EXECUTION_ID, /* reap: our label but no execution id */
        RECONCILE_REASON_UNKNOWN_EXECUTION, /* reap: no such execution in the store */
        RECONCILE_REASON_EXECUTION_FINISHED, /* reap: the execution ended */
        RECONCILE_REASON_CONTAINER_EXITED, /* reap: execution live, its container is not running */
        RECONCILE_REASON_STALE_ITERATION, /* reap: execution live, container of an earlier iteration */
        RECONCILE_REASON_POOL_LIVE, /* keep: a warm pool's, its aegisd alive */
        RECONCILE_REASON_POOL_ORPHAN, /* reap: a warm pool's, its aegisd gone */
        _RECONCILE_REASON_MAX,
} ReconcileReason;

typedef struct ReconcileDecision {
        ReconcileAction action;
        ReconcileReason reason;
        /* The execution is live but its current container is no longer running and nobody
         * recorded it: mark it failed with reason container_lost. */
        bool execution_lost;
} ReconcileDecision;

const char *reconcile_action_to_string(ReconcileAction a);
const char *reconcile_reason_to_string(ReconcileReason r);
/* The status strings the store uses → execution state ("pending", "running" → LIVE;
 * "completed", "failed", "cancelled" → FINISHED; NULL → UNKNOWN). Unrecognised strings
 * count as LIVE: a state we do not know must never make us remove a container. */
ReconcileExecutionState reconcile_execution_state_from_status(const char *status);

/* Whether an object labelled aegis.store=label_store_id (NULL: no label) belongs to another
 * store than store_id (the opened one's): it has the label, and it differs. */
bool reconcile_other_store(const char *label_store_id, const char *store_id);

/* The decision for one container. execution NULL = no such row; backoff NULL = no row. */
ReconcileDecision reconcile_decide(const ReconcileContainer *c, const ReconcileExecution *execution,
                                   const ReconcileBackoff *backoff, const ReconcilePolicy *policy,
                                   uint64_t now_usec);

/* One container with its facts, as reconcile_plan() takes them. */
typedef struct ReconcileItem {
        ReconcileContainer container;
        const ReconcileExecution *execution; /* NULL: no such row */
        const ReconcileBackoff *backoff; /* NULL: no backoff row */
        ReconcileDecision decision; /* filled in by reconcile_plan() */
} ReconcileItem;

/* Decides every item, then settles execution_lost per execution: an execution that still
 * has a running (or just created / just exited) container of its own is not lost, so only
 * its other, stale containers are reaped. */
void reconcile_plan(ReconcileItem *items, size_t n_items, const ReconcilePolicy *policy, uint64_t now_usec);

/* Should a live execution whose recorded current container is absent from Podman's list be
 * marked container_lost? Yes when it recorded one more than grace ago and no container of
 * that id/name exists. recorded_usec = when the store wrote that container down. */
bool reconcile_execution_vanished(const char *current_container, uint64_t recorded_usec,
                                  const ReconcileContainer *containers, size_t n_containers,
                                  const ReconcilePolicy *policy, uint64_t now_usec);

/* The delay before retry number failures+1, after `failures` failed attempts (≥ 1):
 * 5, 10, 20, 40 minutes, then 60 minutes from the 5th on. */
uint64_t reconcile_backoff_delay_usec(unsigned failures);
/* The new backoff state after one more failed removal at now. Sets *ret_newly_quarantined
 * when this failure is the one that quarantines it (the moment to report it, once). */
void reconcile_backoff_failed(const ReconcileBackoff *old, uint64_t now_usec, ReconcileBackoff *ret,
                              bool *ret_newly_quarantined);

/* ---- the run: gather facts, decide, act, report ---- */

typedef struct PodmanClient PodmanClient;
typedef struct Store Store;
struct json_object;

typedef struct ReconcileOptions {
        uint64_t grace_usec; /* reaper.grace_secs × USEC_PER_SEC */
        uint64_t stop_timeout_secs; /* runtime.stop_timeout_secs: stop before SIGKILL */
        bool dry_run; /* decide and report; change nothing in Podman or the store */
        /* The claim owner name of the calling aegisd, whose claims (left by its previous
         * life) count as owned whatever their lease says: it re-attaches to them, so their
         * current containers stay, exited or not. NULL for the reaper: every live lease is
         * respected, and an expired one is dead. */
        const char *owner;
        /* Whether to mark executions container_lost (aegisd may prefer to re-run the
         * iteration itself: then false, and it reads report->executions). */
        bool fix_rows;
        const char *storage_root; /* storage.root, for volume expiry; NULL = skip volumes */
        unsigned parallel; /* removals in flight at once; 0 = RECONCILE_PARALLEL_DEFAULT */
        uint64_t now_usec; /* CLOCK_REALTIME; 0 = now */
} ReconcileOptions;
#define RECONCILE_PARALLEL_DEFAULT 16
struct Config;
/* Options from the configuration: reaper.grace_secs, runtime.stop_timeout_secs,
 * storage.root; fix_rows true, dry_run false, owner NULL. */
void reconcile_options_from_config(const struct Config *config, ReconcileOptions *ret);
#define RECONCILE_OPTIONS_INIT                                                          \
        ((ReconcileOptions){ .grace_usec = RECONCILE_GRACE_SECS_DEFAULT * USEC_PER_SEC, \
                             .stop_timeout_secs = 5,                                    \
                             .fix_rows = true })

typedef enum ReconcileResult {
        RECONCILE_RESULT_KEPT, /* keep decisions */
        RECONCILE_RESULT_SKIPPED, /* not ours */
        RECONCILE_RESULT_REMOVED, /* gone now (also when it vanished before we removed it) */
        RECONCILE_RESULT_WOULD_REMOVE, /* --dry-run */
        RECONCILE_RESULT_FAILED, /* removal failed: backoff updated */
        RECONCILE_RESULT_MARKED, /* execution marked failed / volume deleted */
        RECONCILE_RESULT_WOULD_MARK, /* --dry-run */
        RECONCILE_RESULT_DELETED,
        RECONCILE_RESULT_WOULD_DELETE,
        _RECONCILE_RESULT_MAX,
} ReconcileResult;
const char *reconcile_result_to_string(ReconcileResult r);

typedef struct ReconcileContainerReport {
        char *id, *name, *execution_id, *state;
        ReconcileDecision decision;
        ReconcileResult result;
        char *error; /* why the removal failed, NULL otherwise */
        ReconcileBackoff backoff; /* after this run (failures 0 = none) */
        bool newly_quarantined; /* report it now: it will not be reported again */
} ReconcileContainerReport;

typedef struct ReconcileExecutionReport {
        char *id;
        ReconcileResult result; /* MARKED / WOULD_MARK / FAILED */
        char *container; /* the container it lost */
        char *error;
} ReconcileExecutionReport;

typedef struct ReconcileVolumeReport {
        char *id, *tenant_id, *path;
        uint64_t expires_usec;
        ReconcileResult result; /* DELETED / WOULD_DELETE / KEPT (owner still live) / FAILED */
        char *error;
} ReconcileVolumeReport;

/* An engine volume aegis-vol-* (reconcile-engine-volumes.c). */
typedef struct ReconcileEngineVolumeReport {
        char *name, *volume_id;
        /* grace_period, live_execution, in_use, other_store (kept); no_live_execution (removed
         * or failed) */
        const char *reason;
        ReconcileResult result; /* REMOVED / WOULD_REMOVE / KEPT / FAILED */
        char *error;
} ReconcileEngineVolumeReport;

typedef struct ReconcileReport {
        bool dry_run;
        uint64_t grace_usec;
        uint64_t started_usec, finished_usec; /* CLOCK_REALTIME / duration from CLOCK_MONOTONIC */
        uint64_t duration_usec;
        ReconcileContainerReport *containers;
        size_t n_containers;
        ReconcileExecutionReport *executions;
        size_t n_executions;
        ReconcileVolumeReport *volumes;
        size_t n_volumes;
        ReconcileEngineVolumeReport *engine_volumes;
        size_t n_engine_volumes;
        /* The summary. */
        unsigned reaped, kept, quarantined, failed, skipped, lost, volumes_deleted;
        /* Of the kept containers and engine volumes, those labelled with another store's id. */
        unsigned other_store;
        unsigned engine_volumes_removed, engine_volumes_failed;
} ReconcileReport;

ReconcileReport *reconcile_report_free(ReconcileReport *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(ReconcileReport *, reconcile_report_free);
/* The report as the JSON object aegis-reaper(8) documents. NULL on allocation failure. */
struct json_object *reconcile_report_to_json(const ReconcileReport *r);
/* The report as text: one line per container/execution/volume, then the summary. */
int reconcile_report_print(const ReconcileReport *r, FILE *f);
/* How many containers, executions, volumes and engine volumes got each result, as the JSON
 * text store_reaper_run_put() keeps: {"containers":{"removed":1,"kept":2},"executions":{},…}
 * (results that did not occur are left out). NULL r gives "{}". malloc'd; NULL on OOM. */
char *reconcile_report_counts_json(const ReconcileReport *r);

/* One reconciliation pass (see the top of this file), shared by aegis-reaper and aegisd.
 *
 * podman: a client for the engine socket (only its socket path is used: the run drives its
 * own private client and event loop, so it may be called before or outside the caller's
 * loop without touching it). store: an open store, used from this thread only.
 *
 * Returns 0 when the pass did its job (removals that failed are in the report, with their
 * backoff, and do not make it fail), with *ret the report. On failure a negative errno and
 * e says why; e->field is "runtime.container_socket_path" when Podman could not be reached
 * and "database.url" when the store failed. Nothing is acted on unless the facts were
 * gathered completely; when a failure happens after acting began, *ret is set as well (the
 * report of what was done) and the negative errno is returned.
 *
 * A store that had no schema before it was opened (store_schema_found() 0) while the engine has
 * aegis containers or engine volumes is not theirs: -EMEDIUMTYPE, e names the store and says
 * what to do, nothing is acted on (dry run or not). Without anything labelled the pass goes on
 * (a fresh install); a store left without a schema (store_open_existing()) then yields an
 * empty report. */
int reconcile_run(PodmanClient *podman, Store *store, const ReconcileOptions *o, ReconcileReport **ret,
                  Error *e);

/* Only the engine-volume part: remove engine volumes aegis-vol-* that no unfinished
 * execution uses, older than o->grace_usec, that no container uses (never forced), into r.
 * Called by reconcile_run(). */
int reconcile_engine_volumes(PodmanClient *podman, Store *store, const ReconcileOptions *o,
                             uint64_t now_usec, ReconcileReport *r, Error *e);

/* Only the volume part: delete expired ephemeral volumes (directory storage_root/TENANT/ID,
 * then the row) into r. Called by reconcile_run(); exposed for aegisd's periodic task. */
int reconcile_expire_volumes(Store *store, const char *storage_root, bool dry_run, uint64_t now_usec,
                             ReconcileReport *r, Error *e);
