/* store.h — the execution store: agents, executions, iterations, containers, events, volumes and
 * the reaper's backoff records, behind one interface with two backends.
 *
 *   sqlite:///abs/path/aegis.db  or  sqlite://relative/path.db   embedded (WAL, one file)
 *   postgresql://…  or  postgres://…                             libpq (multi-host)
 *
 * store_open() applies the versioned schema migrations (idempotent; a progress callback runs
 * before each step so aegisd can send EXTEND_TIMEOUT_USEC). Every value reaches SQL as a bound
 * parameter. Timestamps are microseconds since the epoch (CLOCK_REALTIME of the writing host).
 *
 * Invariants the store itself enforces (tests prove each):
 *   1. An execution never leaves a terminal state (completed, failed, cancelled):
 *      store_execution_set_status() answers -EALREADY and changes nothing.
 *   2. An execution reaches `running` only when a container row for it exists:
 *      record the container (store_container_record) BEFORE asking Podman to create it, then
 *      set `running`; otherwise -EPROTO. A crash at any point therefore leaves either a pending
 *      row (nothing started) or a running row whose containers are all listed, so reconciliation
 *      and the reaper can always find and remove what was created.
 *   3. store_execution_claim() hands a pending execution to exactly one owner at a time, across
 *      processes and hosts sharing the database (FOR UPDATE SKIP LOCKED on PostgreSQL, a write
 *      transaction on SQLite); a claim is a lease that the owner renews with
 *      store_execution_heartbeat() and that others may take over once it expired.
 *   4. Event sequence numbers are per execution, start at 1, and increase by exactly 1.
 *
 * A Store is one connection: use it from one thread at a time (open another for a worker thread).
 * Calls block until the database answers (local SQLite: microseconds; PostgreSQL: a round trip).
 *
 * Errors: functions return 0 (or a positive count/flag where documented) or a negative errno:
 * -ENOENT no such row, -EEXIST duplicate, -EINVAL bad argument, -EALREADY terminal state,
 * -EPROTO invariant 2, -ESTALE lease lost, -EBUSY database locked / still in use,
 * -ECONNRESET connection lost, -EIO other database errors. store_last_error() has the database's
 * own message for the last failure (never contains the password of the URL). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "spec-enums.h"
#include "util.h"

typedef struct Store Store;

/* Stored stdout/stderr of one iteration keep at most their last STORE_OUTPUT_MAX bytes. */
#define STORE_OUTPUT_MAX (1024 * 1024)
/* Page size bounds of the list functions (limit 0 = the default). */
#define STORE_LIST_DEFAULT 50
#define STORE_LIST_MAX 1000

/* ---- enums (string forms are what the API and the database use) ---- */

typedef enum ExecutionStatus {
        EXECUTION_PENDING,
        EXECUTION_RUNNING,
        EXECUTION_COMPLETED,
        EXECUTION_FAILED,
        EXECUTION_CANCELLED,
        _EXECUTION_STATUS_MAX,
        _EXECUTION_STATUS_INVALID = -EINVAL,
} ExecutionStatus;
const char *execution_status_to_string(ExecutionStatus s); /* NULL when out of range */
ExecutionStatus execution_status_from_string(const char *s); /* _EXECUTION_STATUS_INVALID */
bool execution_status_is_terminal(ExecutionStatus s);

typedef enum IterationStatus {
        ITERATION_RUNNING,
        ITERATION_SUCCEEDED,
        ITERATION_FAILED,
        ITERATION_CANCELLED,
        _ITERATION_STATUS_MAX,
        _ITERATION_STATUS_INVALID = -EINVAL,
} IterationStatus;
const char *iteration_status_to_string(IterationStatus s);
IterationStatus iteration_status_from_string(const char *s);

typedef enum ContainerState {
        CONTAINER_CREATED, /* row written; Podman may or may not have created it yet */
        CONTAINER_RUNNING,
        CONTAINER_REMOVED,
        _CONTAINER_STATE_MAX,
        _CONTAINER_STATE_INVALID = -EINVAL,
} ContainerState;
const char *container_state_to_string(ContainerState s);
ContainerState container_state_from_string(const char *s);

typedef enum VolumeStatus {
        VOLUME_ACTIVE,
        VOLUME_DELETED,
        _VOLUME_STATUS_MAX,
        _VOLUME_STATUS_INVALID = -EINVAL,
} VolumeStatus;
const char *volume_status_to_string(VolumeStatus s);
VolumeStatus volume_status_from_string(const char *s);

/* VolumeStorageClass, VolumeAccessMode and their words: spec-enums.h. */

/* ---- records: strings are malloc'd and owned by the record; free with *_done() ---- */

typedef struct StoreAgent {
        char id[UUID_STRING_MAX];
        char *name;
        char *version;
        char *manifest_json;
        uint64_t created_at;
        uint64_t updated_at;
        char *tenant_id; /* agents are named per tenant */
} StoreAgent;

typedef struct StoreExecution {
        char id[UUID_STRING_MAX];
        char *agent_id; /* NULL for an ad hoc manifest */
        char *agent_name;
        char *tenant_id;
        ExecutionStatus status;
        char *reason; /* NULL until set */
        char *input_json;
        char *manifest_json; /* the manifest / plan the supervisor runs */
        char *output; /* NULL until set */
        unsigned max_iterations;
        unsigned iteration; /* current iteration, 0 before the first */
        uint64_t created_at, started_at, finished_at, updated_at; /* 0 = not yet */
        char *claimed_by; /* owner of the claim, NULL when unclaimed */
        uint64_t lease_expires_at; /* 0 when unclaimed */
} StoreExecution;

typedef struct StoreIteration {
        char execution_id[UUID_STRING_MAX];
        unsigned number; /* 1-based */
        IterationStatus status;
        int exit_code; /* -1 when unknown (killed, never started) */
        char *reason; /* NULL or e.g. "timeout", "oom", "exit_code" */
        char *container_id; /* Podman's id, NULL if none */
        char *stdout_text; /* at most STORE_OUTPUT_MAX bytes: the tail */
        char *stderr_text;
        uint64_t started_at, finished_at;
        char *judgement_json; /* NULL, or what the judges said (store-schema.h, version 7) */
        char *usage_json; /* NULL, or what it used (store-schema.h, version 8; run-stats.h) */
} StoreIteration;

typedef struct StoreContainer {
        char *name; /* our name, known before Podman creates it (unique) */
        char *container_id; /* Podman's id once known, else NULL */
        char execution_id[UUID_STRING_MAX];
        unsigned iteration;
        ContainerState state;
        uint64_t created_at, updated_at;
} StoreContainer;

typedef struct StoreEvent {
        char execution_id[UUID_STRING_MAX];
        uint64_t seq; /* 1, 2, 3, … per execution */
        char *type; /* e.g. "status", "iteration", "log" */
        char *payload_json;
        uint64_t timestamp;
} StoreEvent;

typedef struct StoreVolume {
        char id[UUID_STRING_MAX];
        char *tenant_id;
        char *name;
        VolumeStorageClass storage_class;
        VolumeAccessMode access_mode;
        uint64_t size_limit; /* bytes, 0 = unlimited */
        uint32_t uid, gid; /* every file on the volume is squashed to these */
        char *owner_execution_id; /* NULL for a standalone volume */
        VolumeStatus status;
        uint64_t expires_at; /* 0 = never */
        uint64_t created_at, deleted_at;
} StoreVolume;

typedef struct StoreReaperBackoff {
        char *container_id;
        unsigned failures;
        uint64_t next_attempt_at;
        bool quarantined;
        uint64_t updated_at;
} StoreReaperBackoff;

/* The last run of aegis-reaper on one host (store_reaper_run_put). */
typedef struct StoreReaperRun {
        char *host;
        uint64_t started_at, finished_at;
        bool ok;
        uint64_t last_success_at; /* finished_at of the last ok run, 0 = never */
        char *counts_json; /* {"containers":{"removed":N,…},"engine_volumes":{…},…} */
} StoreReaperRun;

void store_agent_done(StoreAgent *a);
void store_execution_done(StoreExecution *x);
void store_iteration_done(StoreIteration *it);
void store_container_done(StoreContainer *c);
void store_event_done(StoreEvent *ev);
void store_volume_done(StoreVolume *v);
void store_reaper_backoff_done(StoreReaperBackoff *b);
void store_reaper_run_done(StoreReaperRun *r);
/* Free an array returned by a list function (each element's _done, then the array). */
void store_agent_array_free(StoreAgent *a, size_t n);
void store_execution_array_free(StoreExecution *a, size_t n);
void store_iteration_array_free(StoreIteration *a, size_t n);
void store_container_array_free(StoreContainer *a, size_t n);
void store_event_array_free(StoreEvent *a, size_t n);
void store_volume_array_free(StoreVolume *a, size_t n);

/* ---- connection ---- */

/* Called before migration step `version` (of `target`) runs; e.g. to send EXTEND_TIMEOUT_USEC. */
typedef void (*StoreProgressFn)(unsigned version, unsigned target, void *userdata);

/* A StoreProgressFn for services: sd_notify()s EXTEND_TIMEOUT_USEC (60 s per step) and a STATUS=
 * line saying which schema version is being applied; does nothing outside systemd. */
void store_progress_sd_notify(unsigned version, unsigned target, void *userdata);

/* Opens url (see top), applies pending migrations. Errors name the field "database.url". */
int store_open(const char *url, Error *e, Store **ret);
int store_open_full(const char *url, StoreProgressFn progress, void *userdata, Error *e, Store **ret);
/* Like store_open(), but a database without the AEGIS schema is left without it: the store is
 * open with store_schema_version() 0 and only store_schema_found() and store_url() may be used
 * (aegis-reaper: a store nobody created is not the daemon's; opening it must not make it look
 * like one to the next run). A SQLite file that does not exist is still created, empty. */
int store_open_existing(const char *url, Error *e, Store **ret);
/* Opens url for reading only (aegis doctor): creates nothing (a SQLite file that does not exist
 * is -ENOENT), migrates nothing (store_schema_version() is the version the database is at, 0 when
 * it has no schema; a schema newer than this build is -EPROTONOSUPPORT), and every transaction is
 * read-only (SQLite SQLITE_OPEN_READONLY, PostgreSQL default_transaction_read_only). */
int store_open_read_only(const char *url, Error *e, Store **ret);
Store *store_close(Store *s); /* NULL-safe, returns NULL */
DEFINE_TRIVIAL_CLEANUP_FUNC(Store *, store_close);
/* A round trip to the database (for /health/ready); Error says what is down. */
int store_ping(Store *s, Error *e);
const char *store_backend(const Store *s); /* "sqlite" | "postgresql" */
unsigned store_schema_version(const Store *s); /* what the database is at after open */
/* The store's identity: a random UUID made with its schema (a store upgraded from before
 * version 3 gets one then), never changed. aegisd labels what it creates with it (aegis.store);
 * a reconciliation only treats as orphans what carries its own store's id. "" when the store
 * has no schema (store_open_existing()). */
const char *store_id(const Store *s);
/* The schema version the database was at before this open migrated it: 0 when it had no
 * AEGIS schema (this open created it, or with store_open_existing() left it absent). */
unsigned store_schema_found(const Store *s);
/* The database.url this store was opened with, password masked ("sqlite:///var/lib/…"). */
const char *store_url(const Store *s);
unsigned store_schema_version_latest(void); /* what this build knows */
const char *store_last_error(const Store *s); /* "" when none */
/* A batch: every write from store_batch_begin() to store_batch_end() is one transaction,
 * committed at the end (one commit instead of one per write: what makes a turn of the inner
 * loop cheap). An operation that fails inside it changes nothing and leaves the others
 * (SQLite; on PostgreSQL a failed statement aborts the whole batch, which the end then
 * reports). Batches nest: only the outermost end commits. Keep a batch short, without waiting
 * for anything: it holds the database's write lock. store_batch_end() after a failed begin
 * does nothing. */
int store_batch_begin(Store *s);
int store_batch_end(Store *s);
/* "sqlite://<state_dir>/aegis.db", malloc'd. */
char *store_default_url(const char *state_dir);
/* True when url is a sqlite:// URL whose file does not exist (opening it would create it). */
bool store_url_names_missing_file(const char *url);
/* A copy of url with any password replaced by "***", for messages. malloc'd. */
char *store_url_redact(const char *url);

/* ---- agents (deployed manifests, unique by tenant+name+version) ---- */

/* Inserts, or replaces the manifest of the tenant's existing name+version (keeping its id);
 * another tenant's agent of the same name is never touched. ret_id (may be NULL) gets the
 * agent's id. */
int store_agent_put(Store *s, const char *tenant_id, const char *name, const char *version,
                    const char *manifest_json, char ret_id[UUID_STRING_MAX]);
/* By id, or by name (version NULL = the most recently deployed version of that name).
 * tenant_id non-NULL: only that tenant's agents (another tenant's is -ENOENT, never revealed);
 * NULL = any tenant. */
int store_agent_get(Store *s, const char *tenant_id, const char *id_or_name, const char *version,
                    StoreAgent *ret);
/* Deployed agents of tenant_id (NULL = every tenant's), newest first. */
int store_agent_list(Store *s, const char *tenant_id, StoreAgent **ret, size_t *ret_n);
int store_agent_delete(Store *s, const char *id);
/* Replaces the stored manifest of agent id, keeping its place (updated_at: which version is
 * the latest). -ENOENT when there is no such agent. */
int store_agent_set_manifest(Store *s, const char *id, const char *manifest_json);
/* Deletes the tenant's agent name: every version, or only version (non-NULL). ret_n (may be
 * NULL) gets how many rows went. -ENOENT when none did. Executions keep their own copy of
 * the manifest. */
int store_agent_delete_versions(Store *s, const char *tenant_id, const char *name, const char *version,
                                uint64_t *ret_n);

/* ---- executions ---- */

/* Inserts x as pending. Reads agent_id, agent_name, tenant_id ("default" when NULL), input_json,
 * manifest_json, max_iterations; a non-empty x->id is used as is (else a new UUID). On success
 * fills x->id, status, created_at, updated_at. */
int store_execution_create(Store *s, StoreExecution *x);
int store_execution_get(Store *s, const char *id, StoreExecution *ret);

typedef struct StoreExecutionFilter {
        ExecutionStatus status; /* _EXECUTION_STATUS_INVALID = any */
        const char *tenant_id; /* NULL = any */
        const char *claimed_by; /* NULL = any */
        const char *agent_id; /* NULL = any */
        uint64_t offset; /* rows skipped before the page (after the cursor, if any) */
        size_t limit; /* 0 = STORE_LIST_DEFAULT; > STORE_LIST_MAX is -EINVAL */
        const char *cursor; /* NULL = first page; else a next_cursor from before */
        bool summary; /* leave input_json, manifest_json and output NULL */
} StoreExecutionFilter;
#define STORE_EXECUTION_FILTER_INIT ((StoreExecutionFilter){ .status = _EXECUTION_STATUS_INVALID })
/* Newest first. ret_next_cursor (may be NULL) gets a malloc'd cursor for the next page, or NULL
 * when this was the last page. Cursors stay valid while rows are added or deleted. A malformed
 * cursor is -EINVAL. */
int store_execution_list(Store *s, const StoreExecutionFilter *f, StoreExecution **ret, size_t *ret_n,
                         char **ret_next_cursor);

/* Claims the oldest pending execution that is unclaimed or whose lease expired, for owner, with
 * a lease of lease_usec. Returns 1 and fills ret when it claimed one, 0 when there was none. */
int store_execution_claim(Store *s, const char *owner, uint64_t lease_usec, StoreExecution *ret);
/* Claims this execution (any non-terminal status) if it is unclaimed, already owner's, or its
 * lease expired: for reconciliation after a crash and for running what we just created.
 * -EBUSY when another owner holds a live lease, -EALREADY when it is terminal. */
int store_execution_claim_id(Store *s, const char *id, const char *owner, uint64_t lease_usec);
/* Renews owner's lease; -ESTALE when owner no longer holds the claim. */
int store_execution_heartbeat(Store *s, const char *id, const char *owner, uint64_t lease_usec);
/* Guarded transition (see invariants 1 and 2): pending → running|failed|cancelled,
 * running → running|completed|failed|cancelled. Entering running sets started_at (once), a
 * terminal status sets finished_at and clears the claim. reason may be NULL (kept as is).
 * -ENOENT, -EALREADY (terminal), -EPROTO (running without a container row), -EINVAL (other). */
int store_execution_set_status(Store *s, const char *id, ExecutionStatus to, const char *reason);
int store_execution_set_output(Store *s, const char *id, const char *output);
/* Deletes a finished execution with its iterations, containers and events (not its volumes).
 * -EBUSY when it is not terminal. */
int store_execution_delete(Store *s, const char *id);
/* Deletes every finished execution whose finished_at < before_usec; ret_n (may be NULL). */
int store_execution_prune(Store *s, uint64_t before_usec, uint64_t *ret_n);

/* ---- iterations ---- */

/* Inserts iteration `number` as running (started_at now) and sets the execution's current
 * iteration to it. -EEXIST when it exists. */
int store_iteration_begin(Store *s, const char *execution_id, unsigned number);
/* Writes it's status, exit_code, reason, container_id, stdout/stderr (tails kept),
 * judgement_json, usage_json and finished_at (now when 0 and the status is not running). */
int store_iteration_update(Store *s, const StoreIteration *it);
int store_iteration_get(Store *s, const char *execution_id, unsigned number, StoreIteration *ret);
/* In order of number. */
int store_iteration_list(Store *s, const char *execution_id, StoreIteration **ret, size_t *ret_n);

/* ---- containers (write BEFORE the Podman side effect: invariant 2) ---- */

/* Records a container we are about to create, state created. -EEXIST when the name exists. */
int store_container_record(Store *s, const char *name, const char *execution_id, unsigned iteration);
/* Updates state and, when container_id is non-NULL, Podman's id. name_or_id matches either. */
int store_container_update(Store *s, const char *name_or_id, const char *container_id, ContainerState state);
int store_container_get(Store *s, const char *name_or_id, StoreContainer *ret);
/* execution_id NULL = all executions; live_only = state != removed. Oldest first. */
int store_container_list(Store *s, const char *execution_id, bool live_only, StoreContainer **ret,
                         size_t *ret_n);

/* ---- events (SSE history, `aegis logs`) ---- */

/* Appends with the next sequence number of that execution; ret_seq may be NULL. -ENOENT when
 * the execution does not exist. */
int store_event_append(Store *s, const char *execution_id, const char *type, const char *payload_json,
                       uint64_t *ret_seq);
/* Events with seq > after_seq in order; limit 0 = all. */
int store_event_list(Store *s, const char *execution_id, uint64_t after_seq, size_t limit, StoreEvent **ret,
                     size_t *ret_n);

/* ---- volumes ---- */

/* Inserts v as active. Reads tenant_id, name, storage_class, access_mode, size_limit, uid, gid,
 * owner_execution_id, expires_at; a non-empty v->id is used as is. Fills id and created_at. */
int store_volume_create(Store *s, StoreVolume *v);
/* tenant_id non-NULL: a volume of another tenant is -ENOENT (never revealed). Deleted volumes
 * are returned too (check ret->status). */
int store_volume_get(Store *s, const char *tenant_id, const char *id, StoreVolume *ret);

typedef struct StoreVolumeFilter {
        const char *tenant_id; /* NULL = any */
        const char *owner_execution_id; /* NULL = any */
        VolumeStatus status; /* _VOLUME_STATUS_INVALID = any */
        uint64_t expired_before; /* non-zero: only 0 < expires_at <= expired_before */
} StoreVolumeFilter;
#define STORE_VOLUME_FILTER_INIT ((StoreVolumeFilter){ .status = _VOLUME_STATUS_INVALID })
/* Oldest first. */
int store_volume_list(Store *s, const StoreVolumeFilter *f, StoreVolume **ret, size_t *ret_n);
/* Marks deleted (sets deleted_at); deleted volumes stay deleted (-EALREADY). */
int store_volume_set_status(Store *s, const char *id, VolumeStatus status);
/* Renames an active volume (the reference's label). -ENOENT when none is active by that id. */
int store_volume_set_name(Store *s, const char *id, const char *name);
/* Removes the row for good (after the directory is gone). */
int store_volume_purge(Store *s, const char *id);
/* Records that execution_id mounts volume_id (one it may not own); idempotent. -ENOENT when
 * either does not exist. */
int store_volume_attach(Store *s, const char *volume_id, const char *execution_id);
/* How many executions that are not finished own or have attached the volume (0 = safe to
 * delete). */
int store_volume_users(Store *s, const char *volume_id, uint64_t *ret_n);

/* ---- reaper backoff ---- */

int store_reaper_backoff_get(Store *s, const char *container_id, StoreReaperBackoff *ret);
/* Inserts or replaces the record of b->container_id. */
int store_reaper_backoff_put(Store *s, const StoreReaperBackoff *b);
int store_reaper_backoff_delete(Store *s, const char *container_id);

/* ---- reaper runs (one row per host: the last run, for aegisd's /metrics) ---- */

/* Inserts or replaces the row of run->host with started_at, finished_at, ok and counts_json
 * (a JSON object, "{}" when NULL). last_success_at becomes finished_at when ok, and is kept
 * from the previous row (0 when none) when not; run->last_success_at is ignored. */
int store_reaper_run_put(Store *s, const StoreReaperRun *run);
/* -ENOENT when that host never recorded a run. */
int store_reaper_run_get(Store *s, const char *host, StoreReaperRun *ret);

/* ---- inner-loop conversations (one row per iteration: run-dispatch.c's state, and one row
 * per message) ---- */

/* Inserts or replaces the conversation state of (execution_id, iteration): a JSON object
 * at most STORE_CONVERSATION_MAX bytes (-E2BIG beyond). -ENOENT when the execution does not
 * exist. */
#define STORE_CONVERSATION_MAX (64U * 1024U * 1024U)
int store_conversation_put(Store *s, const char *execution_id, unsigned iteration, const char *state_json);
/* Records messages[0, n) (JSON texts, each at most STORE_CONVERSATION_MAX bytes) as the
 * conversation's messages first, first + 1, …; a message already recorded under one of those
 * numbers is replaced. All or nothing. Messages are what a turn appends: a turn costs its own
 * messages, not the conversation's. */
int store_conversation_add_messages(Store *s, const char *execution_id, unsigned iteration, size_t first,
                                    const char *const *messages, size_t n);
/* The state, with its messages (when store_conversation_add_messages() recorded any) spliced
 * in as its "messages" array, in order. -ENOENT when that iteration has none. */
int store_conversation_get(Store *s, const char *execution_id, unsigned iteration, char **ret_state_json);
/* Every conversation of an execution, by iteration, as store_conversation_get() gives each:
 * ret_iterations[i] and ret_states[i] (free with free() and strv_free()). */
int store_conversation_list(Store *s, const char *execution_id, unsigned **ret_iterations,
                            char ***ret_states, size_t *ret_n);
