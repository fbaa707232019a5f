/* reconcile-volumes.c — expiry of ephemeral volumes (issue 7): an ephemeral volume past its
 * expires_at is marked deleted in the store (which deregisters it from the NFS gateway at
 * once: its handles go STALE), its directory storage.root/<tenant>/<volume_id> is removed,
 * then its row is purged.
 *
 * Invariants:
 *  - the directory removed is always exactly root/<tenant>/<id> with both names validated
 *    (id_is_valid), opened without following symlinks at any level, and removed with
 *    unlinkat() relative to directory fds, so nothing outside it can be reached through a
 *    symlink planted inside a volume;
 *  - a volume owned or attached by an execution that has not finished is kept until it ends;
 *  - persistent volumes never expire (expires_at 0 is never listed), and a row is purged
 *    only after its directory is gone, so a failed removal is retried next run. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "reconcile.h"
#include "store.h"
#include "util.h"

#define RM_MAX_DEPTH 256

static int rm_rf_children(int dfd, unsigned depth);

static int rm_rf_at(int parent, const char *name, unsigned depth) {
        struct stat st;

        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode)) {
                int fd, r;

                if (depth >= RM_MAX_DEPTH)
                        return -ELOOP;
                fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return errno == ENOENT ? 0 : -errno;
                r = rm_rf_children(fd, depth + 1); /* takes fd */
                if (r < 0)
                        return r;
                if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* Removes everything inside the directory dfd (which it closes). */
static int rm_rf_children(int dfd, unsigned depth) {
        DIR *d = fdopendir(dfd);
        struct dirent *de;
        int r = 0;

        if (!d) {
                r = -errno;
                safe_close(dfd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = rm_rf_at(dirfd(d), de->d_name, depth);
                if (r < 0)
                        break;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(d);
        return r;
}

/* Removes root/tenant/id; 0 also when it did not exist. */
static int remove_volume_dir(const char *root, const char *tenant, const char *id) {
        _cleanup_close_ int rfd = -1, tfd = -1;

        if (!id_is_valid(tenant) || !id_is_valid(id))
                return -EINVAL;
        rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0)
                return errno == ENOENT ? 0 : -errno;
        tfd = openat(rfd, tenant, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tfd < 0)
                return errno == ENOENT ? 0 : -errno;
        return rm_rf_at(tfd, id, 0);
}

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
                q = remove_volume_dir(storage_root, strempty(v->tenant_id), v->id);
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
