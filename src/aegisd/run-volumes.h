/* run-volumes.h — the volumes of one execution (spec.volumes[]), as an object a Run owns.
 *
 * A RunVolumes knows only what its context gives it (store, engine client, storage root, NFS
 * address, mount mode, tenant, execution id, the plan's volumes) and reports back through
 * the context's callbacks and the completion callback of each asynchronous step; it never
 * sees the Run or the Supervisor. This is the shape of every part of an iteration
 * (HACKING.md, "An iteration's parts").
 *
 * What must stay true: at most one engine operation is in flight, and it sits in the slot
 * the caller passes to prepare/release (the Run's step operation), so cancelling that slot
 * cancels the step; a cancelled step never calls its completion callback. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "macros.h"
#include <systemd/sd-event.h>

#include "run-part.h"
#include "manifest.h"
#include "podman.h"
#include "store.h"
#include "volume-userns.h"
#include "tools.h"

typedef struct RunVolumes RunVolumes;

typedef struct RunVolumesContext {
        Store *store; /* borrowed */
        PodmanClient *podman; /* borrowed */
        const char *storage_root; /* storage.root: volumes live in root/<tenant>/<id> */
        StorageMountMode mount_mode;
        const char *nfs_host; /* addr= of NFS mounts (nfs mode); NULL or "" = unknown */
        uint16_t nfs_port;
        uint64_t max_entries; /* bind mode: a volume with more entries fails the quota check */
        const char *state_dir; /* nfs mode: the gateway's mount key lives in state_dir/nfs/ */
        const char *tenant_id;
        const char *execution_id;
        const ManifestPlan *plan; /* volumes[], uid, gid; borrowed, must outlive the object */
        VolumeOwner owner; /* a volume's owner on the host, from plan->uid:gid */

        /* Reports (all optional). log: one line about this execution. count_op: an engine
         * operation ended with result k (aegis_container_operations_total). interrupted:
         * true when the iteration is being ended, so preparing stops before the next volume. */
        run_part_log_fn log;
        void (*count_op)(void *userdata, const char *op, int k);
        bool (*interrupted)(void *userdata);
        void *userdata;
} RunVolumesContext;

/* The end of prepare/release: k < 0 and message (may be NULL when out of memory) on failure. */
typedef void (*run_volumes_done_fn)(int k, const char *message, void *userdata);

/* Copies what the context points to except store, podman and plan. */
int run_volumes_new(const RunVolumesContext *c, RunVolumes **ret);
RunVolumes *run_volumes_free(RunVolumes *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(RunVolumes *, run_volumes_free);

/* Creates or finds the execution's volumes and attaches the ones named by id (idempotent: 0
 * at once when done before). On failure *ret_reason says why (for the execution's reason). */
int run_volumes_setup(RunVolumes *v, char **ret_reason);
bool run_volumes_ready(const RunVolumes *v);
/* The mounts for the next container (valid while v lives; none before set-up). */
const PodmanMount *run_volumes_mounts(const RunVolumes *v, size_t *ret_n);
/* The volumes as the host sees them, for the host tools (tools.h): an array (free() it; its
 * strings are borrowed from v and valid while v lives), none before set-up. */
int run_volumes_tool_volumes(const RunVolumes *v, ToolVolume **ret, size_t *ret_n);
/* nfs mode: replaces stale engine volumes and creates them, then done(); the first failure
 * stops and is passed to done(). bind mode or not set up: done(0) at once. *op holds the
 * in-flight engine operation. */
void run_volumes_prepare(RunVolumes *v, PodmanOp **op, run_volumes_done_fn done, void *userdata);
/* nfs mode: removes the engine volumes no other live execution uses (a failure is logged,
 * not passed on), then done(0). bind mode or not set up: done(0) at once. */
void run_volumes_release(RunVolumes *v, PodmanOp **op, run_volumes_done_fn done, void *userdata);
/* The end of a quota check: k > 0 and reason_taken (the callee's to free) when a volume is
 * over its limit or could not be measured, 0 when all are within, negative errno when the
 * check itself failed. */
typedef void (*run_volumes_quota_fn)(int k, char *reason_taken, void *userdata);
/* bind mode: measures the read-write volumes with a size_limit on a worker thread (the walk
 * is slow on large volumes) and calls done on event's loop: over the limit, or unmeasurable,
 * is k = 1 with a reason. nfs mode (the gateway enforces the limit) or nothing to measure:
 * done(0) at once. One check at a time; freeing v cancels the callback. */
void run_volumes_check_quota(RunVolumes *v, sd_event *event, run_volumes_quota_fn done, void *userdata);
