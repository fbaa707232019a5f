/* reconcile-engine-volumes.c — leaked engine volumes: the supervisor creates a named engine
 * volume aegis-vol-<volume_id>[-ro] (volume-mount.h) for each NFS mount of an execution and
 * removes it when the execution ends; a daemon killed in between leaves it behind. A pass
 * removes every such volume that no execution still needs.
 *
 * Invariants:
 *  - only volumes named with VOLUME_ENGINE_PREFIX are looked at;
 *  - a volume labelled aegis.store with another store's id is another daemon's: kept
 *    (reason other_store); one without the label (older) is decided as below;
 *  - a volume whose store volume is owned or attached by an execution that has not finished
 *    is kept (its supervisor, or the one that re-attaches after a restart, still uses it);
 *  - a volume created less than grace ago is kept (it may be between its create and its
 *    container's create, whose store row may not be committed yet);
 *  - removal is never forced: the engine refuses it while any container uses the volume,
 *    and such a volume is kept (reason in_use) until its container is gone. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "podman.h"
#include "reconcile.h"
#include "store.h"
#include "util.h"
#include "volume-mount.h"

static int add_engine_volume(ReconcileReport *r, const char *name, const char *volume_id, const char *reason,
                             ReconcileResult result, const char *error) {
        ReconcileEngineVolumeReport *a =
                reallocarray(r->engine_volumes, r->n_engine_volumes + 1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        r->engine_volumes = a;
        a = &r->engine_volumes[r->n_engine_volumes];
        *a = (ReconcileEngineVolumeReport){ .name = strdup(name),
                                            .volume_id = strdup_or_null(volume_id),
                                            .reason = reason,
                                            .result = result,
                                            .error = strdup_or_null(error) };
        if (!a->name || (volume_id && !a->volume_id) || (error && !a->error)) {
                free(a->name);
                free(a->volume_id);
                free(a->error);
                return -ENOMEM;
        }
        r->n_engine_volumes++;
        if (result == RECONCILE_RESULT_REMOVED || result == RECONCILE_RESULT_WOULD_REMOVE)
                r->engine_volumes_removed++;
        else if (result == RECONCILE_RESULT_FAILED)
                r->engine_volumes_failed++;
        return 0;
}

/* Unfinished executions using the store volume the engine volume is named after. The name
 * aegis-vol-X-ro is X read-only, or a volume whose id ends in "-ro": both are asked. */
static int users_of(Store *store, const char *id, uint64_t *ret) {
        _cleanup_free_ char *stripped = NULL;
        uint64_t n = 0, m = 0;
        int r;

        r = store_volume_users(store, id, &n);
        if (r < 0 && r != -ENOENT)
                return r;
        if (endswith(id, "-ro") && strlen(id) > 3) {
                stripped = strndup(id, strlen(id) - 3);
                if (!stripped)
                        return -ENOMEM;
                r = store_volume_users(store, stripped, &m);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        *ret = n + m;
        return 0;
}

int reconcile_engine_volumes(PodmanClient *podman, Store *store, const ReconcileOptions *o,
                             uint64_t now_usec, ReconcileReport *rep, Error *e) {
        PodmanVolume *vs = NULL;
        size_t n = 0;
        int r;

        if (!podman || !store || !o || !rep)
                return error_set(e, -EINVAL, "reconcile_engine_volumes: missing argument");
        r = podman_volume_list(podman, VOLUME_ENGINE_PREFIX, &vs, &n, e);
        if (r < 0) {
                if (e && isempty(e->field))
                        snprintf(e->field, sizeof e->field, "%s", "runtime.container_socket_path");
                return r;
        }
        for (size_t i = 0; i < n && r >= 0; i++) {
                const PodmanVolume *v = &vs[i];
                const char *id = startswith(v->name, VOLUME_ENGINE_PREFIX);
                Error err = ERROR_INIT;
                uint64_t users = 0;
                int q;

                if (isempty(id))
                        continue;
                if (reconcile_other_store(v->store_id, store_id(store))) {
                        r = add_engine_volume(rep, v->name, id, "other_store", RECONCILE_RESULT_KEPT, NULL);
                        if (r >= 0)
                                rep->other_store++;
                        continue;
                }
                if (v->created_usec > now_usec - MIN(now_usec, o->grace_usec)) {
                        r = add_engine_volume(rep, v->name, id, "grace_period", RECONCILE_RESULT_KEPT, NULL);
                        continue;
                }
                q = users_of(store, id, &users);
                if (q < 0) {
                        r = error_set_field(
                                e, q, "database.url",
                                "the execution store failed while looking up engine volume %s's users: %s",
                                v->name,
                                !isempty(store_last_error(store)) ? store_last_error(store) : strerror(-q));
                        break;
                }
                if (users > 0) {
                        r = add_engine_volume(rep, v->name, id, "live_execution", RECONCILE_RESULT_KEPT,
                                              NULL);
                        continue;
                }
                /* Asked first so a dry run tells the truth; the removal is not forced either,
                 * for a container created meanwhile. */
                q = podman_volume_in_use(podman, v->name, &err);
                if (q > 0) {
                        r = add_engine_volume(rep, v->name, id, "in_use", RECONCILE_RESULT_KEPT, NULL);
                        continue;
                }
                if (o->dry_run) {
                        r = add_engine_volume(rep, v->name, id, "no_live_execution",
                                              RECONCILE_RESULT_WOULD_REMOVE, NULL);
                        continue;
                }
                err = ERROR_INIT;
                q = podman_volume_remove_unused(podman, v->name, &err);
                if (q == -EBUSY)
                        r = add_engine_volume(rep, v->name, id, "in_use", RECONCILE_RESULT_KEPT, NULL);
                else if (q < 0)
                        r = add_engine_volume(rep, v->name, id, "no_live_execution", RECONCILE_RESULT_FAILED,
                                              err.message[0] ? err.message : strerror(-q));
                else
                        r = add_engine_volume(rep, v->name, id, "no_live_execution",
                                              RECONCILE_RESULT_REMOVED, NULL);
        }
        if (r == -ENOMEM && !(e && e->code < 0))
                r = error_set(e, r, "out of memory");
        podman_volume_list_free(vs, n);
        return r < 0 ? r : 0;
}
