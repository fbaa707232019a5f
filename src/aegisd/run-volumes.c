/* run-volumes.c — the volumes of one execution (spec.volumes[]): created when the execution
 * starts, mounted into every iteration's container, measured after each iteration.
 *
 *  - A volume the manifest names without volume_id is the execution's own: a store row (owner
 *    = the execution, active, so aegis-nfsd exports it; ephemeral ones expire ttl_hours after
 *    creation) and the directory storage.root/<tenant>/<id> owned by the execution's uid:gid.
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
 *    the gateway enforces the limit on every write instead. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "supervisor-internal.h"
#include "util.h"
#include "volume-mount.h"
#include "volume.h"

struct RunVolume {
        char id[UUID_STRING_MAX];
        char *name; /* the manifest's name */
        char *dir; /* storage.root/<tenant>/<id> */
        const char *mount_path; /* borrowed from the plan */
        bool read_only; /* the manifest's access mode or the volume's own */
        uint64_t size_limit;
        char *engine_name; /* nfs: aegis-vol-<id>[-ro] */
        char **nfs_options; /* nfs: type=, o=, device= */
};

static bool nfs_mode(const Run *r) {
        return r->sup->opts.mount_mode == STORAGE_MOUNT_NFS;
}

void run_volumes_free(Run *r) {
        for (size_t i = 0; i < r->n_volumes; i++) {
                free(r->volumes[i].name);
                free(r->volumes[i].dir);
                free(r->volumes[i].engine_name);
                strv_free(r->volumes[i].nfs_options);
        }
        free(r->volumes);
        free(r->mounts);
        r->volumes = NULL;
        r->mounts = NULL;
        r->n_volumes = 0;
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
static int attach_existing(Run *r, const ManifestVolume *mv, size_t i, RunVolume *v, char **ret_reason) {
        _cleanup_(store_volume_done) StoreVolume sv = {};
        int k;

        k = store_volume_get(r->sup->store, r->tenant_id, mv->volume_id, &sv);
        if (k == -ENOENT || (k >= 0 && sv.status != VOLUME_ACTIVE))
                return fail(ret_reason, -ENOENT,
                            "spec.volumes[%zu].volume_id: no volume %s for tenant %s (create it with POST "
                            "/v1/volumes or `aegis volume create`)",
                            i, mv->volume_id, r->tenant_id);
        if (k < 0)
                return fail(ret_reason, k, "store: cannot read volume %s: %s", mv->volume_id,
                            store_last_error(r->sup->store));
        k = store_volume_attach(r->sup->store, sv.id, r->id);
        if (k < 0)
                return fail(ret_reason, k, "store: cannot attach volume %s: %s", sv.id,
                            store_last_error(r->sup->store));
        memcpy(v->id, sv.id, sizeof v->id);
        v->read_only = mv->access_mode == MANIFEST_ACCESS_READ_ONLY || sv.access_mode == VOLUME_READ_ONLY;
        v->size_limit = sv.size_limit;
        return 0;
}

/* The execution's own volume named mv->name: found again, or created (row, then directory). */
static int ensure_owned(Run *r, const ManifestVolume *mv, const StoreVolume *owned, size_t n_owned,
                        RunVolume *v, char **ret_reason) {
        _cleanup_(store_volume_done) StoreVolume sv = {};
        const char *root = r->sup->storage_root;
        int k;

        for (size_t j = 0; j < n_owned; j++)
                if (owned[j].status == VOLUME_ACTIVE && streq_ptr(owned[j].name, mv->name)) {
                        memcpy(v->id, owned[j].id, sizeof v->id);
                        v->read_only = mv->access_mode == MANIFEST_ACCESS_READ_ONLY;
                        v->size_limit = owned[j].size_limit;
                        /* A crash between row and directory left no directory: make it. */
                        k = volume_dir_create(root, r->tenant_id, v->id, owned[j].uid, owned[j].gid,
                                              v->read_only ? 0750 : 0770);
                        if (k < 0 && k != -EEXIST)
                                return fail(ret_reason, k, "volume %s: cannot create %s/%s/%s: %s", mv->name,
                                            root, r->tenant_id, v->id, strerror(-k));
                        return 0;
                }

        sv.tenant_id = strdup(r->tenant_id);
        sv.name = strdup(mv->name);
        sv.owner_execution_id = strdup(r->id);
        if (!sv.tenant_id || !sv.name || !sv.owner_execution_id)
                return fail(ret_reason, -ENOMEM, "out of memory");
        sv.storage_class =
                mv->storage_class == MANIFEST_STORAGE_PERSISTENT ? VOLUME_PERSISTENT : VOLUME_EPHEMERAL;
        sv.access_mode = mv->access_mode == MANIFEST_ACCESS_READ_ONLY ? VOLUME_READ_ONLY : VOLUME_READ_WRITE;
        sv.size_limit = mv->size_limit_bytes;
        sv.uid = r->plan->uid;
        sv.gid = r->plan->gid;
        if (sv.storage_class == VOLUME_EPHEMERAL)
                sv.expires_at = now_usec(CLOCK_REALTIME) + mv->ttl_hours * 3600 * USEC_PER_SEC;
        k = store_volume_create(r->sup->store, &sv);
        if (k < 0)
                return fail(ret_reason, k, "store: cannot record volume %s: %s", mv->name,
                            store_last_error(r->sup->store));
        k = volume_dir_create(root, r->tenant_id, sv.id, sv.uid, sv.gid,
                              sv.access_mode == VOLUME_READ_ONLY ? 0750 : 0770);
        if (k < 0) {
                (void) store_volume_purge(r->sup->store, sv.id);
                return fail(ret_reason, k, "volume %s: cannot create %s/%s/%s: %s", mv->name, root,
                            r->tenant_id, sv.id, strerror(-k));
        }
        memcpy(v->id, sv.id, sizeof v->id);
        v->read_only = sv.access_mode == VOLUME_READ_ONLY;
        v->size_limit = sv.size_limit;
        run_log(r, LOG_INFO, "created %s volume %s (%s) at %s/%s/%s",
                volume_storage_class_to_string(sv.storage_class), sv.id, mv->name, root, r->tenant_id,
                sv.id);
        return 0;
}

static int build_mount(Run *r, RunVolume *v, PodmanMount *m, char **ret_reason) {
        int k;

        k = volume_path(r->sup->storage_root, r->tenant_id, v->id, &v->dir);
        if (k < 0)
                return fail(ret_reason, k, "volume %s: invalid path", v->id);
        if (!nfs_mode(r)) {
                *m = (PodmanMount){ .type = PODMAN_MOUNT_BIND,
                                    .source = v->dir,
                                    .target = v->mount_path,
                                    .read_only = v->read_only };
                return 0;
        }
        k = volume_engine_name(v->id, v->read_only, &v->engine_name);
        /* Docker's local driver hands addr= to mount(2); Podman's runs mount.nfs, which wants
         * the host in the device (aegis-volumes(7)). */
        const PodmanVersion *pv = podman_client_version(r->sup->podman);
        if (k >= 0)
                k = volume_nfs_options(r->sup->nfs_host, r->sup->opts.nfs_port, r->sup->state_dir,
                                       !pv || pv->engine != PODMAN_ENGINE_DOCKER, r->tenant_id, v->id,
                                       v->read_only, &v->nfs_options);
        if (k < 0)
                return fail(ret_reason, k,
                            "volume %s: cannot build its NFS mount (storage.nfs_server_host \"%s\", port "
                            "%u): %s",
                            v->id, strempty(r->sup->nfs_host), (unsigned) r->sup->opts.nfs_port,
                            strerror(-k));
        *m = (PodmanMount){ .type = PODMAN_MOUNT_VOLUME,
                            .source = v->engine_name,
                            .target = v->mount_path,
                            .read_only = v->read_only,
                            .driver = "local",
                            .driver_options = v->nfs_options };
        return 0;
}

int run_volumes_setup(Run *r, char **ret_reason) {
        StoreVolumeFilter f = STORE_VOLUME_FILTER_INIT;
        StoreVolume *owned = NULL;
        size_t n_owned = 0;
        int k = 0;

        if (r->volumes_ready || r->plan->n_volumes == 0) {
                r->volumes_ready = true;
                return 0;
        }
        if (nfs_mode(r) && isempty(r->sup->nfs_host))
                return fail(ret_reason, -EADDRNOTAVAIL,
                            "storage.nfs_server_host is not set and the host's address could not be "
                            "determined: set it, or use storage.mount_mode: bind");
        run_volumes_free(r);
        r->volumes = calloc(r->plan->n_volumes, sizeof *r->volumes);
        r->mounts = calloc(r->plan->n_volumes, sizeof *r->mounts);
        if (!r->volumes || !r->mounts)
                return fail(ret_reason, -ENOMEM, "out of memory");
        f.owner_execution_id = r->id;
        k = store_volume_list(r->sup->store, &f, &owned, &n_owned);
        if (k < 0)
                return fail(ret_reason, k, "store: cannot list the execution's volumes: %s",
                            store_last_error(r->sup->store));
        for (size_t i = 0; i < r->plan->n_volumes && k >= 0; i++) {
                const ManifestVolume *mv = &r->plan->volumes[i];
                RunVolume *v = &r->volumes[i];

                r->n_volumes++;
                v->mount_path = mv->mount_path;
                v->name = strdup(mv->name);
                if (!v->name) {
                        k = fail(ret_reason, -ENOMEM, "out of memory");
                        break;
                }
                k = mv->volume_id ? attach_existing(r, mv, i, v, ret_reason)
                                  : ensure_owned(r, mv, owned, n_owned, v, ret_reason);
                if (k >= 0)
                        k = build_mount(r, v, &r->mounts[i], ret_reason);
        }
        store_volume_array_free(owned, n_owned);
        if (k < 0)
                return k;
        r->volumes_ready = true;
        return 0;
}

/* ---- nfs: engine volumes around each container ---- */

/* Whether an execution other than this one may be using the volume right now. */
static bool shared_with_others(Run *r, const RunVolume *v) {
        uint64_t users = 0;

        if (store_volume_users(r->sup->store, v->id, &users) < 0)
                return true; /* unknown: do not touch what someone else may use */
        return users > 1;
}

static void prepare_step(Run *r);

static void prepare_failed(Run *r, const RunVolume *v, const char *what, const Error *e) {
        _cleanup_free_ char *m = asprintf_safe("volume %s: %s engine volume %s: %s", v->name, what,
                                               v->engine_name, e && e->message[0] ? e->message : "failed");

        run_log(r, LOG_ERR, "iteration %u: %s", r->iteration, strempty(m));
        if (!r->error_reason)
                r->error_reason = strdup(m ? m : "volume: cannot create the engine volume");
        r->vol_step = r->n_volumes; /* stop preparing */
}

static void on_engine_created(int k, const Error *e, void *userdata) {
        Run *r = userdata;
        RunVolume *v = &r->volumes[r->vol_step];

        r->op = NULL;
        supervisor_count_container_op(r->sup, "volume_create", k == -EEXIST ? 0 : k);
        /* -EEXIST: another live execution created it meanwhile, with the same options. */
        if (k < 0 && !(k == -EEXIST && shared_with_others(r, v))) {
                prepare_failed(r, v, "cannot create", e);
                prepare_step(r);
                return;
        }
        r->vol_step++;
        prepare_step(r);
}

static void create_engine_volume(Run *r) {
        RunVolume *v = &r->volumes[r->vol_step];
        _cleanup_free_ char *l_exec = asprintf_safe(PODMAN_LABEL_EXECUTION_ID "=%s", r->id),
                            *l_vol = asprintf_safe(VOLUME_ENGINE_LABEL_VOLUME_ID "=%s", v->id),
                            *l_store = asprintf_safe(PODMAN_LABEL_STORE "=%s", store_id(r->sup->store));
        /* l_store last: a store without an id (none in practice) ends the list there. */
        char *labels[] = { (char *) PODMAN_LABEL_MANAGED "=true", l_exec, l_vol,
                           isempty(store_id(r->sup->store)) ? NULL : l_store, NULL };
        int k;

        if (!l_exec || !l_vol || !l_store)
                k = -ENOMEM;
        else
                k = podman_volume_create_async(r->sup->podman, v->engine_name, "local", v->nfs_options,
                                               labels, on_engine_created, r, &r->op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "%s", strerror(-k));
                r->op = NULL;
                on_engine_created(k, &e, r);
        }
}

static void on_stale_removed(int k, const Error *e, void *userdata) {
        Run *r = userdata;
        RunVolume *v = &r->volumes[r->vol_step];

        r->op = NULL;
        if (k < 0 && k != -ENOENT) {
                prepare_failed(r, v, "cannot remove the stale", e);
                prepare_step(r);
                return;
        }
        create_engine_volume(r);
}

static void prepare_step(Run *r) {
        RunVolume *v;
        int k;

        if (r->vol_step >= r->n_volumes || r->kill_reason) {
                void (*next)(Run *) = r->vol_next;
                r->vol_next = NULL;
                next(r);
                return;
        }
        v = &r->volumes[r->vol_step];
        if (shared_with_others(r, v)) {
                create_engine_volume(r); /* -EEXIST is fine: theirs has the same options */
                return;
        }
        /* Whatever carries this name now is stale: a leftover of a crash, or made with other
         * options (an engine would silently reuse it and ignore ours). */
        k = podman_volume_remove_async(r->sup->podman, v->engine_name, on_stale_removed, r, &r->op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "%s", strerror(-k));
                r->op = NULL;
                on_stale_removed(k, &e, r);
        }
}

void run_volumes_prepare(Run *r, void (*next)(Run *r)) {
        r->vol_step = 0;
        r->vol_next = next;
        if (!nfs_mode(r) || !r->volumes_ready)
                r->vol_step = r->n_volumes;
        prepare_step(r);
}

static void release_step(Run *r);

static void on_engine_removed(int k, const Error *e, void *userdata) {
        Run *r = userdata;
        RunVolume *v = &r->volumes[r->vol_step];

        r->op = NULL;
        if (k < 0 && k != -ENOENT)
                run_log(r, LOG_WARNING, "cannot remove engine volume %s: %s", v->engine_name,
                        e && e->message[0] ? e->message : strerror(-k));
        r->vol_step++;
        release_step(r);
}

static void release_step(Run *r) {
        int k;

        while (r->vol_step < r->n_volumes && shared_with_others(r, &r->volumes[r->vol_step]))
                r->vol_step++; /* still mounted elsewhere: the last user removes it */
        if (r->vol_step >= r->n_volumes) {
                void (*next)(Run *) = r->vol_next;
                r->vol_next = NULL;
                next(r);
                return;
        }
        k = podman_volume_remove_async(r->sup->podman, r->volumes[r->vol_step].engine_name,
                                       on_engine_removed, r, &r->op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "%s", strerror(-k));
                r->op = NULL;
                on_engine_removed(k, &e, r);
        }
}

void run_volumes_release(Run *r, void (*next)(Run *r)) {
        r->vol_step = 0;
        r->vol_next = next;
        /* Not set up (a re-attach whose set-up failed): nothing of ours to remove. */
        if (!nfs_mode(r) || r->lost_claim || !r->volumes_ready)
                r->vol_step = r->n_volumes;
        release_step(r);
}

/* ---- quota ---- */

int run_volumes_check_quota(Run *r, char **ret_reason) {
        /* nfs mode: aegis-nfsd refuses the write that would cross the limit (the container
         * sees EDQUOT), so there is nothing to measure. bind mode: nothing stops writes, so
         * measure now. The walk runs on the loop: about 0.3 to 1 s per 100,000 files here. */
        if (nfs_mode(r))
                return 0;
        for (size_t i = 0; i < r->n_volumes; i++) {
                const RunVolume *v = &r->volumes[i];
                uint64_t used = 0;
                int k;

                if (v->read_only || v->size_limit == 0)
                        continue;
                k = volume_dir_bytes_used(r->sup->storage_root, r->tenant_id, v->id, &used);
                if (k < 0) {
                        run_log(r, LOG_WARNING, "cannot measure volume %s (%s): %s", v->id, v->name,
                                strerror(-k));
                        continue;
                }
                if (used <= v->size_limit)
                        continue;
                run_log(r, LOG_NOTICE,
                        "volume %s (%s) holds %" PRIu64 " bytes, over its size_limit of %" PRIu64, v->id,
                        v->name, used, v->size_limit);
                *ret_reason = asprintf_safe(REASON_QUOTA_EXCEEDED ": volume \"%s\" at %s holds %" PRIu64
                                                                  " bytes, over its size_limit of %" PRIu64
                                                                  " bytes; delete files to get under it",
                                            v->name, v->mount_path, used, v->size_limit);
                return *ret_reason ? 1 : -ENOMEM;
        }
        return 0;
}

const PodmanMount *run_volumes_mounts(Run *r, size_t *ret_n) {
        *ret_n = r->volumes_ready ? r->n_volumes : 0;
        return r->mounts;
}
