/* reconcile-volumes.c — expiry of ephemeral volumes: an ephemeral volume past its
 * expires_at is marked deleted in the store (which deregisters it from the NFS gateway at
 * once: its handles go STALE), its directory storage.root/<tenant>/<volume_id> is removed,
 * then its row is purged.
 *
 * Invariants:
 *  - the directory removed is always exactly root/<tenant>/<id>, by volume_dir_remove()
 *    (volume.h): both names validated, opened without following symlinks at any level,
 *    removed with unlinkat() relative to directory fds on the volume's own file system, so
 *    nothing outside it can be reached through a symlink planted inside a volume;
 *  - a volume owned or attached by an execution that has not finished is kept until it ends;
 *  - persistent volumes never expire (expires_at 0 is never listed), and a row is purged
 *    only after its directory is gone, so a failed removal is retried next run. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reconcile.h"
#include "store.h"
#include "util.h"
#include "volume.h"

static int add_volume(ReconcileReport *r, const StoreVolume *v, const char *path, ReconcileResult result,
                      const char *error) {
        ReconcileVolumeReport *a = reallocarray(r->volumes, r->n_volumes + 1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        r->volumes = a;
        a = &r->volumes[r->n_volumes];
        *a = (ReconcileVolumeReport){ .id = strdup(v->id),
                                      .tenant_id = strdup_or_null(v->tenant_id),
                                      .path = strdup_or_null(path),
                                      .expires_usec = v->expires_at,
                                      .result = result,
                                      .error = strdup_or_null(error) };
        if (!a->id)
                return -ENOMEM;
        r->n_volumes++;
        if (result == RECONCILE_RESULT_DELETED || result == RECONCILE_RESULT_WOULD_DELETE)
                r->volumes_deleted++;
        return 0;
}

int reconcile_expire_volumes(Store *store, const char *storage_root, bool dry_run, uint64_t now_usec,
                             ReconcileReport *rep, Error *e) {
        StoreVolumeFilter f = STORE_VOLUME_FILTER_INIT;
        StoreVolume *vs = NULL;
        size_t n = 0;
        int r;

        if (!store || isempty(storage_root) || !rep)
                return error_set(e, -EINVAL, "reconcile_expire_volumes: missing argument");

        /* Active ones that expired, and deleted ones whose directory or row is left over. */
        f.expired_before = now_usec;
        r = store_volume_list(store, &f, &vs, &n);
        if (r < 0)
                return error_set_field(
                        e, r, "database.url", "the execution store failed while listing volumes: %s",
                        !isempty(store_last_error(store)) ? store_last_error(store) : strerror(-r));

        r = 0;
        for (size_t i = 0; i < n && r >= 0; i++) {
                StoreVolume *v = &vs[i];
                _cleanup_free_ char *tdir = NULL, *path = NULL;
                int q;

                if (v->storage_class != VOLUME_EPHEMERAL || v->expires_at == 0 || v->expires_at > now_usec)
                        continue;
                tdir = path_join(storage_root, strempty(v->tenant_id));
                path = tdir ? path_join(tdir, v->id) : NULL;
                if (!path) {
                        r = error_set(e, -ENOMEM, "out of memory");
                        break;
                }
                if (v->status == VOLUME_ACTIVE) {
                        uint64_t users = 0;

                        /* Owned or attached by an execution that has not finished: keep. */
                        q = store_volume_users(store, v->id, &users);
                        if (q < 0) {
                                r = error_set_field(
                                        e, q, "database.url",
                                        "the execution store failed while looking up volume %s's users: %s",
                                        v->id, strerror(-q));
                                break;
                        }
                        if (users > 0) {
                                if (add_volume(rep, v, path, RECONCILE_RESULT_KEPT, NULL) < 0)
                                        r = error_set(e, -ENOMEM, "out of memory");
                                continue;
                        }
                }
                if (dry_run) {
                        if (add_volume(rep, v, path, RECONCILE_RESULT_WOULD_DELETE, NULL) < 0)
                                r = error_set(e, -ENOMEM, "out of memory");
                        continue;
                }
                /* Deregister first: the gateway refuses it from now on. */
                if (v->status == VOLUME_ACTIVE) {
                        q = store_volume_set_status(store, v->id, VOLUME_DELETED);
                        if (q < 0 && q != -EALREADY && q != -ENOENT) {
                                r = error_set_field(
                                        e, q, "database.url",
                                        "the execution store failed while deleting volume %s: %s", v->id,
                                        strerror(-q));
                                break;
                        }
                }
                q = volume_dir_remove(storage_root, strempty(v->tenant_id), v->id);
                if (q < 0) {
                        char msg[512];
                        snprintf(msg, sizeof msg, "cannot remove %s: %s", path, strerror(-q));
                        if (add_volume(rep, v, path, RECONCILE_RESULT_FAILED, msg) < 0)
                                r = error_set(e, -ENOMEM, "out of memory");
                        continue;
                }
                q = store_volume_purge(store, v->id);
                if (q < 0 && q != -ENOENT) {
                        r = error_set_field(e, q, "database.url",
                                            "the execution store failed while purging volume %s: %s", v->id,
                                            strerror(-q));
                        break;
                }
                if (add_volume(rep, v, path, RECONCILE_RESULT_DELETED, NULL) < 0)
                        r = error_set(e, -ENOMEM, "out of memory");
        }
        store_volume_array_free(vs, n);
        return r < 0 ? r : 0;
}
