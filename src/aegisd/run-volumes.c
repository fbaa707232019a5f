/* run-volumes.c — the volumes of one execution (spec.volumes[]): created when the execution
 * starts, mounted into every iteration's container, measured after each iteration.
 *
 *  - A volume the manifest names without volume_id is the execution's own: a store row (owner
 *    = the execution, active, so aegis-nfsd exports it; ephemeral ones expire ttl_hours after
 *    creation) and the directory storage.root/<tenant>/<id> owned by the execution's uid:gid
 *    as the containers' user namespace maps it (owner), recorded so in the store.
 *    It is created once: a restarted or adopted run finds it again by owner and name.
 *  - A volume_id attaches an existing volume of the execution's tenant (recorded with
 *    store_volume_attach, so it cannot be deleted while the execution lives). A missing,
 *    deleted or foreign one fails the execution before any container exists.
 *  - Mounts: bind mode bind-mounts the directory; nfs mode creates the engine volume
 *    aegis-vol-<id>[-ro] (volume-mount.h) before each container create, removing a stale one
 *    of that name first (engines reuse an existing volume and ignore new options), and removes
 *    it again after the container. An engine volume another live execution also uses is
 *    neither replaced nor removed (force-removing it would take that execution's container).
 *  - bind mode: after each iteration the read-write volumes are measured: one above its
 *    size_limit fails the iteration with reason "quota_exceeded: …", which the next iteration
 *    receives as AEGIS_PREVIOUS_REASON and in feedback.json (aegis-volumes(7)). In nfs mode
 *    the gateway enforces the limit on every write instead.
 *
 * The object sees only its context (run-volumes.h): no Run, no Supervisor. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "execution-events.h" /* REASON_QUOTA_EXCEEDED */
#include "log.h"
#include "run-volumes.h"
#include "util.h"
#include "volume-mount.h"
#include "volume-userns.h"
#include "volume.h"

typedef struct RunVolume {
        char id[UUID_STRING_MAX];
        char *name; /* the manifest's name */
        char *dir; /* storage.root/<tenant>/<id> */
        const char *mount_path; /* borrowed from the plan */
        bool read_only; /* the manifest's access mode or the volume's own */
        uint64_t size_limit;
        char *engine_name; /* nfs: aegis-vol-<id>[-ro] */
        char **nfs_options; /* nfs: type=, o=, device= */
} RunVolume;

struct RunVolumes {
        RunVolumesContext c; /* strings below owned copies; store, podman, plan borrowed */
        char *storage_root, *nfs_host, *tenant_id, *execution_id, *state_dir;
        RunVolume *volumes; /* one per plan->volumes[], same order */
        size_t n_volumes;
        PodmanMount *mounts; /* the containers' mounts, one per volume */
        bool ready;

        /* The asynchronous step (prepare or release) in progress. */
        size_t step; /* engine volume being prepared / released */
        PodmanOp **op; /* the caller's slot for the in-flight operation */
        run_volumes_done_fn done;
        void *done_userdata;
        int error; /* prepare: the first failure … */
        char *error_message; /* … and what it was */

        /* The quota measurement in progress (run_volumes_check_quota). */
        struct QuotaJob *quota_job;
        sd_event_source *quota_source;
        run_volumes_quota_fn quota_done;
        void *quota_userdata;
};

static void quota_job_unref(struct QuotaJob *j);

#define vlog(v, level, ...) run_part_log((v)->c.log, (v)->c.userdata, level, __VA_ARGS__)

static void count_op(RunVolumes *v, const char *op, int k) {
        if (v->c.count_op)
                v->c.count_op(v->c.userdata, op, k);
}

static bool interrupted(RunVolumes *v) {
        return v->c.interrupted && v->c.interrupted(v->c.userdata);
}

static bool nfs_mode(const RunVolumes *v) {
        return v->c.mount_mode == STORAGE_MOUNT_NFS;
}

static void volumes_clear(RunVolumes *v) {
        for (size_t i = 0; i < v->n_volumes; i++) {
                free(v->volumes[i].name);
                free(v->volumes[i].dir);
                free(v->volumes[i].engine_name);
                strv_free(v->volumes[i].nfs_options);
        }
        free(v->volumes);
        free(v->mounts);
        v->volumes = NULL;
        v->mounts = NULL;
        v->n_volumes = 0;
}

static int strdup_opt(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int run_volumes_new(const RunVolumesContext *c, RunVolumes **ret) {
        _cleanup_(run_volumes_freep) RunVolumes *v = NULL;

        assert(c);
        assert(c->store);
        assert(c->plan);
        assert(c->tenant_id);
        assert(c->execution_id);
        assert(ret);

        v = calloc(1, sizeof *v);
        if (!v)
                return -ENOMEM;
        v->c = *c;
        if (strdup_opt(c->storage_root, &v->storage_root) < 0 || strdup_opt(c->nfs_host, &v->nfs_host) < 0 ||
            strdup_opt(c->tenant_id, &v->tenant_id) < 0 ||
            strdup_opt(c->execution_id, &v->execution_id) < 0 || strdup_opt(c->state_dir, &v->state_dir) < 0)
                return -ENOMEM;
        v->c.storage_root = v->storage_root;
        v->c.nfs_host = v->nfs_host;
        v->c.tenant_id = v->tenant_id;
        v->c.execution_id = v->execution_id;
        v->c.state_dir = v->state_dir;
        *ret = TAKE_PTR(v);
        return 0;
}

RunVolumes *run_volumes_free(RunVolumes *v) {
        if (!v)
                return NULL;
        volumes_clear(v);
        free(v->storage_root);
        free(v->nfs_host);
        free(v->tenant_id);
        free(v->execution_id);
        free(v->state_dir);
        free(v->error_message);
        /* A walk in progress finishes on its thread, into a job nobody reads. */
        v->quota_source = sd_event_source_disable_unref(v->quota_source);
        quota_job_unref(v->quota_job);
        free(v);
        return NULL;
}

static int fail(char **ret_reason, int k, const char *fmt, ...) _printf_(3, 4);
static int fail(char **ret_reason, int k, const char *fmt, ...) {
        va_list ap;
        char *m = NULL;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        free(*ret_reason);
        *ret_reason = m;
        return k < 0 ? k : -EINVAL;
}

/* The existing volume a manifest entry attaches by id. */
static int attach_existing(RunVolumes *rv, const ManifestVolume *mv, size_t i, RunVolume *v,
                           char **ret_reason) {
        _cleanup_(store_volume_done) StoreVolume sv = {};
        Store *store = rv->c.store;
        int k;

        k = store_volume_get(store, rv->tenant_id, mv->volume_id, &sv);
        if (k == -ENOENT || (k >= 0 && sv.status != VOLUME_ACTIVE))
                return fail(ret_reason, -ENOENT,
                            "spec.volumes[%zu].volume_id: no volume %s for tenant %s (create it with POST "
                            "/v1/volumes or `aegis volume create`)",
                            i, mv->volume_id, rv->tenant_id);
        if (k < 0)
                return fail(ret_reason, k, "store: cannot read volume %s: %s", mv->volume_id,
                            store_last_error(store));
        k = store_volume_attach(store, sv.id, rv->execution_id);
        if (k < 0)
                return fail(ret_reason, k, "store: cannot attach volume %s: %s", sv.id,
                            store_last_error(store));
        memcpy(v->id, sv.id, sizeof v->id);
        v->read_only = mv->access_mode == VOLUME_READ_ONLY || sv.access_mode == VOLUME_READ_ONLY;
        v->size_limit = sv.size_limit;
        return 0;
}

/* The execution's own volume named mv->name: found again, or created (row, then directory). */
static int ensure_owned(RunVolumes *rv, const ManifestVolume *mv, const StoreVolume *owned, size_t n_owned,
                        RunVolume *v, char **ret_reason) {
        _cleanup_(store_volume_done) StoreVolume sv = {};
        const char *root = rv->storage_root, *tenant = rv->tenant_id;
        Store *store = rv->c.store;
        int k;

        for (size_t j = 0; j < n_owned; j++)
                if (owned[j].status == VOLUME_ACTIVE && streq_ptr(owned[j].name, mv->name)) {
                        memcpy(v->id, owned[j].id, sizeof v->id);
                        v->read_only = mv->access_mode == VOLUME_READ_ONLY;
                        v->size_limit = owned[j].size_limit;
                        /* A crash between row and directory left no directory: make it. */
                        k = volume_dir_create(root, tenant, v->id, owned[j].uid, owned[j].gid,
                                              v->read_only ? 0750 : 0770);
                        if (k < 0 && k != -EEXIST)
                                return fail(ret_reason, k, "volume %s: cannot create %s/%s/%s: %s", mv->name,
                                            root, tenant, v->id, volume_userns_strerror(k));
                        return 0;
                }

        sv.tenant_id = strdup(tenant);
        sv.name = strdup(mv->name);
        sv.owner_execution_id = strdup(rv->execution_id);
        if (!sv.tenant_id || !sv.name || !sv.owner_execution_id)
                return fail(ret_reason, -ENOMEM, "out of memory");
        sv.storage_class = mv->storage_class;
        sv.access_mode = mv->access_mode;
        sv.size_limit = mv->size_limit_bytes;
        sv.uid = volume_owner_uid(&rv->c.owner, rv->c.plan->uid);
        sv.gid = volume_owner_gid(&rv->c.owner, rv->c.plan->gid);
        if (sv.storage_class == VOLUME_EPHEMERAL)
                sv.expires_at = now_usec(CLOCK_REALTIME) + mv->ttl_hours * 3600 * USEC_PER_SEC;
        k = store_volume_create(store, &sv);
        if (k < 0)
                return fail(ret_reason, k, "store: cannot record volume %s: %s", mv->name,
                            store_last_error(store));
        k = volume_dir_create(root, tenant, sv.id, sv.uid, sv.gid,
                              sv.access_mode == VOLUME_READ_ONLY ? 0750 : 0770);
        if (k < 0) {
                (void) store_volume_purge(store, sv.id);
                return fail(ret_reason, k, "volume %s: cannot create %s/%s/%s: %s", mv->name, root, tenant,
                            sv.id, volume_userns_strerror(k));
        }
        memcpy(v->id, sv.id, sizeof v->id);
        v->read_only = sv.access_mode == VOLUME_READ_ONLY;
        v->size_limit = sv.size_limit;
        vlog(rv, LOG_INFO, "created %s volume %s (%s) at %s/%s/%s",
             volume_storage_class_to_string(sv.storage_class), sv.id, mv->name, root, tenant, sv.id);
        return 0;
}

static int build_mount(RunVolumes *rv, RunVolume *v, PodmanMount *m, char **ret_reason) {
        int k;

        k = volume_path(rv->storage_root, rv->tenant_id, v->id, &v->dir);
        if (k < 0)
                return fail(ret_reason, k, "volume %s: invalid path", v->id);
        if (!nfs_mode(rv)) {
                *m = (PodmanMount){ .type = PODMAN_MOUNT_BIND,
                                    .source = v->dir,
                                    .target = v->mount_path,
                                    .read_only = v->read_only };
                return 0;
        }
        k = volume_engine_name(v->id, v->read_only, &v->engine_name);
        /* Docker's local driver hands addr= to mount(2); Podman's runs mount.nfs, which wants
         * the host in the device (aegis-volumes(7)). */
        const PodmanVersion *pv = podman_client_version(rv->c.podman);
        if (k >= 0)
                k = volume_nfs_options(rv->nfs_host, rv->c.nfs_port, rv->state_dir,
                                       !pv || pv->engine != PODMAN_ENGINE_DOCKER, rv->tenant_id, v->id,
                                       v->read_only, &v->nfs_options);
        if (k < 0)
                return fail(ret_reason, k,
                            "volume %s: cannot build its NFS mount (storage.nfs_server_host \"%s\", port "
                            "%u): %s",
                            v->id, strempty(rv->nfs_host), (unsigned) rv->c.nfs_port, strerror(-k));
        *m = (PodmanMount){ .type = PODMAN_MOUNT_VOLUME,
                            .source = v->engine_name,
                            .target = v->mount_path,
                            .read_only = v->read_only,
                            .driver = "local",
                            .driver_options = v->nfs_options };
        return 0;
}

int run_volumes_setup(RunVolumes *rv, char **ret_reason) {
        StoreVolumeFilter f = STORE_VOLUME_FILTER_INIT;
        const ManifestPlan *plan;
        StoreVolume *owned = NULL;
        size_t n_owned = 0;
        int k = 0;

        assert(rv);
        assert(ret_reason);
        plan = rv->c.plan;
        if (rv->ready || plan->n_volumes == 0) {
                rv->ready = true;
                return 0;
        }
        if (nfs_mode(rv) && isempty(rv->nfs_host))
                return fail(ret_reason, -EADDRNOTAVAIL,
                            "storage.nfs_server_host is not set and the host's address could not be "
                            "determined: set it, or use storage.mount_mode: bind");
        volumes_clear(rv);
        rv->volumes = calloc(plan->n_volumes, sizeof *rv->volumes);
        rv->mounts = calloc(plan->n_volumes, sizeof *rv->mounts);
        if (!rv->volumes || !rv->mounts)
                return fail(ret_reason, -ENOMEM, "out of memory");
        f.owner_execution_id = rv->execution_id;
        k = store_volume_list(rv->c.store, &f, &owned, &n_owned);
        if (k < 0)
                return fail(ret_reason, k, "store: cannot list the execution's volumes: %s",
                            store_last_error(rv->c.store));
        for (size_t i = 0; i < plan->n_volumes && k >= 0; i++) {
                const ManifestVolume *mv = &plan->volumes[i];
                RunVolume *v = &rv->volumes[i];

                rv->n_volumes++;
                v->mount_path = mv->mount_path;
                v->name = strdup(mv->name);
                if (!v->name) {
                        k = fail(ret_reason, -ENOMEM, "out of memory");
                        break;
                }
                k = mv->volume_id ? attach_existing(rv, mv, i, v, ret_reason)
                                  : ensure_owned(rv, mv, owned, n_owned, v, ret_reason);
                if (k >= 0)
                        k = build_mount(rv, v, &rv->mounts[i], ret_reason);
        }
        store_volume_array_free(owned, n_owned);
        if (k < 0)
                return k;
        rv->ready = true;
        return 0;
}

bool run_volumes_ready(const RunVolumes *rv) {
        assert(rv);
        return rv->ready;
}

const PodmanMount *run_volumes_mounts(const RunVolumes *rv, size_t *ret_n) {
        assert(rv);
        assert(ret_n);
        *ret_n = rv->ready ? rv->n_volumes : 0;
        return rv->mounts;
}

int run_volumes_tool_volumes(const RunVolumes *rv, ToolVolume **ret, size_t *ret_n) {
        ToolVolume *t;

        assert(rv);
        assert(ret && ret_n);
        if (!rv->ready || rv->n_volumes == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        t = calloc(rv->n_volumes, sizeof *t);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < rv->n_volumes; i++)
                t[i] = (ToolVolume){ .mount_path = rv->volumes[i].mount_path,
                                     .dir = rv->volumes[i].dir,
                                     .read_only = rv->volumes[i].read_only };
        *ret = t;
        *ret_n = rv->n_volumes;
        return 0;
}

/* ---- nfs: engine volumes around each container ---- */

/* Hands the step's result to its caller; the callback may free rv. */
static void step_done(RunVolumes *rv) {
        run_volumes_done_fn done = rv->done;
        void *userdata = rv->done_userdata;
        _cleanup_free_ char *m = TAKE_PTR(rv->error_message);
        int k = rv->error;

        rv->done = NULL;
        rv->done_userdata = NULL;
        rv->op = NULL;
        rv->error = 0;
        done(k, m, userdata);
}

/* Whether an execution other than this one may be using the volume right now. */
static bool shared_with_others(RunVolumes *rv, const RunVolume *v) {
        uint64_t users = 0;

        if (store_volume_users(rv->c.store, v->id, &users) < 0)
                return true; /* unknown: do not touch what someone else may use */
        return users > 1;
}

static void prepare_step(RunVolumes *rv);

static void prepare_failed(RunVolumes *rv, const RunVolume *v, const char *what, int k, const Error *e) {
        rv->error = k < 0 ? k : -EIO;
        rv->error_message = asprintf_safe("volume %s: %s engine volume %s: %s", v->name, what,
                                          v->engine_name, e && e->message[0] ? e->message : "failed");
        rv->step = rv->n_volumes; /* stop preparing */
}

static void on_engine_created(int k, const Error *e, void *userdata) {
        RunVolumes *rv = userdata;
        RunVolume *v = &rv->volumes[rv->step];

        *rv->op = NULL;
        count_op(rv, "volume_create", k == -EEXIST ? 0 : k);
        /* -EEXIST: another live execution created it meanwhile, with the same options. */
        if (k < 0 && !(k == -EEXIST && shared_with_others(rv, v))) {
                prepare_failed(rv, v, "cannot create", k, e);
                prepare_step(rv);
                return;
        }
        rv->step++;
        prepare_step(rv);
}

static void create_engine_volume(RunVolumes *rv) {
        RunVolume *v = &rv->volumes[rv->step];
        Store *store = rv->c.store;
        _cleanup_free_ char *l_exec = asprintf_safe(PODMAN_LABEL_EXECUTION_ID "=%s", rv->execution_id),
                            *l_vol = asprintf_safe(VOLUME_ENGINE_LABEL_VOLUME_ID "=%s", v->id),
                            *l_store = asprintf_safe(PODMAN_LABEL_STORE "=%s", store_id(store));
        /* l_store last: a store without an id (none in practice) ends the list there. */
        char *labels[] = { (char *) PODMAN_LABEL_MANAGED "=true", l_exec, l_vol,
                           isempty(store_id(store)) ? NULL : l_store, NULL };
        int k;

        if (!l_exec || !l_vol || !l_store)
                k = -ENOMEM;
        else
                k = podman_volume_create_async(rv->c.podman, v->engine_name, "local", v->nfs_options, labels,
                                               on_engine_created, rv, rv->op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "%s", strerror(-k));
                *rv->op = NULL;
                on_engine_created(k, &e, rv);
        }
}

static void on_stale_removed(int k, const Error *e, void *userdata) {
        RunVolumes *rv = userdata;
        RunVolume *v = &rv->volumes[rv->step];

        *rv->op = NULL;
        if (k < 0 && k != -ENOENT) {
                prepare_failed(rv, v, "cannot remove the stale", k, e);
                prepare_step(rv);
                return;
        }
        create_engine_volume(rv);
}

static void prepare_step(RunVolumes *rv) {
        RunVolume *v;
        int k;

        if (rv->step >= rv->n_volumes || interrupted(rv)) {
                step_done(rv);
                return;
        }
        v = &rv->volumes[rv->step];
        if (shared_with_others(rv, v)) {
                create_engine_volume(rv); /* -EEXIST is fine: theirs has the same options */
                return;
        }
        /* Whatever carries this name now is stale: a leftover of a crash, or made with other
         * options (an engine would silently reuse it and ignore ours). */
        k = podman_volume_remove_async(rv->c.podman, v->engine_name, on_stale_removed, rv, rv->op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "%s", strerror(-k));
                *rv->op = NULL;
                on_stale_removed(k, &e, rv);
        }
}

static void step_begin(RunVolumes *rv, PodmanOp **op, run_volumes_done_fn done, void *userdata) {
        assert(rv);
        assert(op);
        assert(done);
        rv->op = op;
        rv->done = done;
        rv->done_userdata = userdata;
        rv->error = 0;
        free(rv->error_message);
        rv->error_message = NULL;
        rv->step = 0;
        if (!nfs_mode(rv) || !rv->ready)
                rv->step = rv->n_volumes;
}

void run_volumes_prepare(RunVolumes *rv, PodmanOp **op, run_volumes_done_fn done, void *userdata) {
        step_begin(rv, op, done, userdata);
        prepare_step(rv);
}

static void release_step(RunVolumes *rv);

static void on_engine_removed(int k, const Error *e, void *userdata) {
        RunVolumes *rv = userdata;
        RunVolume *v = &rv->volumes[rv->step];

        *rv->op = NULL;
        if (k < 0 && k != -ENOENT)
                vlog(rv, LOG_WARNING, "cannot remove engine volume %s: %s", v->engine_name,
                     e && e->message[0] ? e->message : strerror(-k));
        rv->step++;
        release_step(rv);
}

static void release_step(RunVolumes *rv) {
        int k;

        while (rv->step < rv->n_volumes && shared_with_others(rv, &rv->volumes[rv->step]))
                rv->step++; /* still mounted elsewhere: the last user removes it */
        if (rv->step >= rv->n_volumes) {
                step_done(rv);
                return;
        }
        k = podman_volume_remove_async(rv->c.podman, rv->volumes[rv->step].engine_name, on_engine_removed,
                                       rv, rv->op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "%s", strerror(-k));
                *rv->op = NULL;
                on_engine_removed(k, &e, rv);
        }
}

void run_volumes_release(RunVolumes *rv, PodmanOp **op, run_volumes_done_fn done, void *userdata) {
        /* Not set up (a re-attach whose set-up failed): nothing of ours to remove. */
        step_begin(rv, op, done, userdata);
        release_step(rv);
}

/* ---- quota ---- */

/* One measurement of the bind-mode volumes, shared by a worker thread and the loop: the thread
 * walks (touching nothing but the job) and signals efd; the loop judges. Whoever drops the
 * last of the two references frees it, so a RunVolumes freed mid-walk leaves the thread a job
 * to finish and free. */
typedef struct QuotaJob {
        int refs; /* atomic */
        int efd;
        char *root, *tenant;
        uint64_t max_entries;
        size_t n;
        struct {
                char id[UUID_STRING_MAX];
                int k; /* volume_dir_usage()'s result */
                uint64_t used;
        } v[];
} QuotaJob;

static void quota_job_unref(QuotaJob *j) {
        if (!j || __atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) > 0)
                return;
        if (j->efd >= 0)
                (void) close(j->efd);
        free(j->root);
        free(j->tenant);
        free(j);
}

static void *quota_thread(void *p) {
        QuotaJob *j = p;
        uint64_t one = 1;

        for (size_t i = 0; i < j->n; i++)
                j->v[i].k = volume_dir_usage(j->root, j->tenant, j->v[i].id, j->max_entries, &j->v[i].used);
        /* The results are written before the signal the loop reads them after. */
        __atomic_thread_fence(__ATOMIC_RELEASE);
        (void) write(j->efd, &one, sizeof one);
        quota_job_unref(j);
        return NULL;
}

static bool measured(const RunVolume *v) {
        return !v->read_only && v->size_limit > 0;
}

/* The verdict on volume v measured as (k, used): 0 within its limit, 1 and *ret_reason not. */
static int quota_judge(RunVolumes *rv, const RunVolume *v, int k, uint64_t used, char **ret_reason) {
        if (k == -ENOENT)
                return 0; /* nothing there holds nothing */
        if (k == -E2BIG) {
                vlog(rv, LOG_NOTICE, "volume %s (%s) holds more than %" PRIu64 " entries", v->id, v->name,
                     rv->c.max_entries);
                *ret_reason = asprintf_safe(REASON_QUOTA_EXCEEDED
                                            ": volume \"%s\" at %s holds more than %" PRIu64
                                            " files, directories and links (storage.volume_max_entries); "
                                            "delete some to get under it",
                                            v->name, v->mount_path, rv->c.max_entries);
                return *ret_reason ? 1 : -ENOMEM;
        }
        if (k < 0) {
                vlog(rv, LOG_WARNING, "cannot measure volume %s (%s): %s", v->id, v->name,
                     volume_userns_strerror(k));
                *ret_reason = asprintf_safe(REASON_QUOTA_EXCEEDED
                                            ": volume \"%s\" at %s could not be measured (%s), so it "
                                            "is not known to be within its size_limit",
                                            v->name, v->mount_path, strerror(-k));
                return *ret_reason ? 1 : -ENOMEM;
        }
        if (used <= v->size_limit)
                return 0;
        vlog(rv, LOG_NOTICE, "volume %s (%s) holds %" PRIu64 " bytes, over its size_limit of %" PRIu64,
             v->id, v->name, used, v->size_limit);
        *ret_reason = asprintf_safe(REASON_QUOTA_EXCEEDED ": volume \"%s\" at %s holds %" PRIu64
                                                          " bytes, over its size_limit of %" PRIu64
                                                          " bytes; delete files to get under it",
                                    v->name, v->mount_path, used, v->size_limit);
        return *ret_reason ? 1 : -ENOMEM;
}

static void quota_finish(RunVolumes *rv, int k, char *reason_taken) {
        run_volumes_quota_fn done = rv->quota_done;
        void *userdata = rv->quota_userdata;

        rv->quota_source = sd_event_source_disable_unref(rv->quota_source);
        quota_job_unref(rv->quota_job);
        rv->quota_job = NULL;
        rv->quota_done = NULL;
        done(k, reason_taken, userdata);
}

static int on_quota_measured(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RunVolumes *rv = userdata;
        QuotaJob *j = rv->quota_job;
        char *reason = NULL;
        size_t m = 0;
        int k = 0;

        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        for (size_t i = 0; i < rv->n_volumes && k == 0; i++) {
                if (!measured(&rv->volumes[i]))
                        continue;
                assert(m < j->n);
                k = quota_judge(rv, &rv->volumes[i], j->v[m].k, j->v[m].used, &reason);
                m++;
        }
        quota_finish(rv, k, k > 0 ? reason : NULL);
        return 0;
}

void run_volumes_check_quota(RunVolumes *rv, sd_event *event, run_volumes_quota_fn done, void *userdata) {
        pthread_attr_t attr;
        pthread_t t;
        QuotaJob *j;
        size_t n = 0;
        int k;

        assert(rv);
        assert(event);
        assert(done);
        assert(!rv->quota_done);
        /* nfs mode: aegis-nfsd refuses the write that would cross the limit (the container
         * sees EDQUOT), so there is nothing to measure. bind mode: nothing stops writes, so
         * measure now, on a thread: about 0.3 to 1 s per 100,000 files here, which the loop
         * (the API, every other execution) must not wait for. A volume the walk cannot measure
         * (more entries than storage.volume_max_entries, an I/O error) fails the check:
         * closed, never counted as within its limit. */
        for (size_t i = 0; !nfs_mode(rv) && i < rv->n_volumes; i++)
                n += measured(&rv->volumes[i]);
        if (n == 0) {
                done(0, NULL, userdata);
                return;
        }
        rv->quota_done = done;
        rv->quota_userdata = userdata;
        j = calloc(1, sizeof *j + n * sizeof j->v[0]);
        if (!j) {
                quota_finish(rv, -ENOMEM, NULL);
                return;
        }
        rv->quota_job = j;
        j->refs = 1;
        j->n = n;
        j->max_entries = rv->c.max_entries;
        j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        j->root = strdup(rv->storage_root);
        j->tenant = strdup(rv->tenant_id);
        for (size_t i = 0, m = 0; i < rv->n_volumes; i++)
                if (measured(&rv->volumes[i]))
                        memcpy(j->v[m++].id, rv->volumes[i].id, sizeof j->v[0].id);
        if (j->efd < 0 || !j->root || !j->tenant) {
                quota_finish(rv, -ENOMEM, NULL);
                return;
        }
        k = sd_event_add_io(event, &rv->quota_source, j->efd, EPOLLIN, on_quota_measured, rv);
        if (k < 0) {
                quota_finish(rv, k, NULL);
                return;
        }
        j->refs = 2;
        (void) pthread_attr_init(&attr);
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        (void) pthread_attr_setstacksize(&attr, 256 * 1024);
        k = pthread_create(&t, &attr, quota_thread, j);
        (void) pthread_attr_destroy(&attr);
        if (k != 0) {
                j->refs = 1; /* the thread's, never taken */
                quota_finish(rv, -k, NULL);
        }
}
