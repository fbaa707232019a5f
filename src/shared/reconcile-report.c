/* reconcile-report.c — the report of one reconciliation pass: freeing it, its two
 * renderings (the JSON object of `aegis-reaper --output json`, and text lines), and its counts
 * per family and result (what the store keeps of aegis-reaper's last run for /metrics). */
#include <json-c/json.h>

#include "json-util.h"
#include "reconcile.h"
#include "util.h"

static const char *const result_table[_RECONCILE_RESULT_MAX] = {
        [RECONCILE_RESULT_KEPT] = "kept",
        [RECONCILE_RESULT_SKIPPED] = "skipped",
        [RECONCILE_RESULT_REMOVED] = "removed",
        [RECONCILE_RESULT_WOULD_REMOVE] = "would_remove",
        [RECONCILE_RESULT_FAILED] = "failed",
        [RECONCILE_RESULT_MARKED] = "marked",
        [RECONCILE_RESULT_WOULD_MARK] = "would_mark",
        [RECONCILE_RESULT_DELETED] = "deleted",
        [RECONCILE_RESULT_WOULD_DELETE] = "would_delete",
};

const char *reconcile_result_to_string(ReconcileResult r) {
        return r >= 0 && r < _RECONCILE_RESULT_MAX ? result_table[r] : NULL;
}

ReconcileReport *reconcile_report_free(ReconcileReport *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_containers; i++) {
                ReconcileContainerReport *c = &r->containers[i];
                free(c->id);
                free(c->name);
                free(c->execution_id);
                free(c->state);
                free(c->error);
        }
        free(r->containers);
        for (size_t i = 0; i < r->n_executions; i++) {
                free(r->executions[i].id);
                free(r->executions[i].container);
                free(r->executions[i].error);
        }
        free(r->executions);
        for (size_t i = 0; i < r->n_volumes; i++) {
                free(r->volumes[i].id);
                free(r->volumes[i].tenant_id);
                free(r->volumes[i].path);
                free(r->volumes[i].error);
        }
        free(r->volumes);
        for (size_t i = 0; i < r->n_engine_volumes; i++) {
                free(r->engine_volumes[i].name);
                free(r->engine_volumes[i].volume_id);
                free(r->engine_volumes[i].error);
        }
        free(r->engine_volumes);
        free(r);
        return NULL;
}

/* o[key] = the timestamp usec, or null when 0. */
static int add_time(json_object *o, const char *key, uint64_t usec) {
        char buf[TIMESTAMP_MAX];

        return json_add_string(o, key, usec ? format_timestamp(buf, sizeof buf, usec) : NULL);
}

static int add_error(json_object *o, const char *error) {
        return error ? json_add_string(o, "error", error) : 0;
}

static int container_json(json_object *o, const void *entry) {
        const ReconcileContainerReport *c = entry;
        int r;

        r = json_add_string(o, "id", c->id);
        if (r >= 0)
                r = json_add_string(o, "name", c->name);
        if (r >= 0)
                r = json_add_string(o, "execution_id", c->execution_id);
        if (r >= 0)
                r = json_add_string(o, "state", c->state);
        if (r >= 0)
                r = json_add_string(o, "action", reconcile_action_to_string(c->decision.action));
        if (r >= 0)
                r = json_add_string(o, "reason", reconcile_reason_to_string(c->decision.reason));
        if (r >= 0)
                r = json_add_string(o, "result", reconcile_result_to_string(c->result));
        if (r >= 0)
                r = json_add_bool(o, "execution_lost", c->decision.execution_lost);
        if (r >= 0)
                r = add_error(o, c->error);
        if (r >= 0 && c->backoff.failures > 0) {
                r = json_add_int(o, "failures", c->backoff.failures);
                if (r >= 0)
                        r = add_time(o, "next_attempt_at", c->backoff.next_attempt_usec);
                if (r >= 0)
                        r = json_add_bool(o, "quarantined", c->backoff.quarantined);
        }
        return r;
}

static int execution_json(json_object *o, const void *entry) {
        const ReconcileExecutionReport *x = entry;
        int r;

        r = json_add_string(o, "id", x->id);
        if (r >= 0)
                r = json_add_string(o, "status", "failed");
        if (r >= 0)
                r = json_add_string(o, "reason", RECONCILE_REASON_CONTAINER_LOST);
        if (r >= 0)
                r = json_add_string(o, "container", x->container);
        if (r >= 0)
                r = json_add_string(o, "result", reconcile_result_to_string(x->result));
        if (r >= 0)
                r = add_error(o, x->error);
        return r;
}

static int volume_json(json_object *o, const void *entry) {
        const ReconcileVolumeReport *v = entry;
        int r;

        r = json_add_string(o, "id", v->id);
        if (r >= 0)
                r = json_add_string(o, "tenant_id", v->tenant_id);
        if (r >= 0)
                r = json_add_string(o, "path", v->path);
        if (r >= 0)
                r = add_time(o, "expires_at", v->expires_usec);
        if (r >= 0)
                r = json_add_string(o, "result", reconcile_result_to_string(v->result));
        if (r >= 0)
                r = add_error(o, v->error);
        return r;
}

static int engine_volume_json(json_object *o, const void *entry) {
        const ReconcileEngineVolumeReport *v = entry;
        int r;

        r = json_add_string(o, "name", v->name);
        if (r >= 0)
                r = json_add_string(o, "volume_id", v->volume_id);
        if (r >= 0)
                r = json_add_string(o, "reason", v->reason);
        if (r >= 0)
                r = json_add_string(o, "result", reconcile_result_to_string(v->result));
        if (r >= 0)
                r = add_error(o, v->error);
        return r;
}

/* o[key] = an array with one object per entry (n entries of size bytes), filled by fill. */
static int add_list(json_object *o, const char *key, const void *entries, size_t n, size_t size,
                    int (*fill)(json_object *o, const void *entry)) {
        _cleanup_json_ json_object *list = json_object_new_array();

        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_new_object();
                if (!e || json_object_array_add(list, e) < 0) {
                        json_object_put(e);
                        return -ENOMEM;
                }
                int r = fill(e, (const char *) entries + i * size);
                if (r < 0)
                        return r;
        }
        return json_add_obj(o, key, TAKE_PTR(list));
}

static int add_summary(json_object *root, const ReconcileReport *r) {
        _cleanup_json_ json_object *o = json_object_new_object();
        const struct {
                const char *key;
                unsigned n;
        } counts[] = {
                { "reaped", r->reaped },
                { "kept", r->kept },
                { "quarantined", r->quarantined },
                { "failed", r->failed },
                { "skipped", r->skipped },
                { "lost", r->lost },
                { "volumes_deleted", r->volumes_deleted },
                { "engine_volumes_removed", r->engine_volumes_removed },
                { "other_store", r->other_store },
        };

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(counts); i++)
                if (json_add_int(o, counts[i].key, counts[i].n) < 0)
                        return -ENOMEM;
        return json_add_obj(root, "summary", TAKE_PTR(o));
}

json_object *reconcile_report_to_json(const ReconcileReport *r) {
        _cleanup_json_ json_object *root = NULL;
        int k;

        if (!r)
                return NULL;
        root = json_object_new_object();
        if (!root)
                return NULL;
        k = json_add_bool(root, "dry_run", r->dry_run);
        if (k >= 0)
                k = json_add_int(root, "grace_secs", (int64_t) (r->grace_usec / USEC_PER_SEC));
        if (k >= 0)
                k = add_time(root, "started_at", r->started_usec);
        if (k >= 0)
                k = json_add_int(root, "duration_ms", (int64_t) (r->duration_usec / USEC_PER_MSEC));
        if (k >= 0)
                k = add_summary(root, r);
        if (k >= 0)
                k = add_list(root, "containers", r->containers, r->n_containers, sizeof *r->containers,
                             container_json);
        if (k >= 0)
                k = add_list(root, "executions", r->executions, r->n_executions, sizeof *r->executions,
                             execution_json);
        if (k >= 0)
                k = add_list(root, "volumes", r->volumes, r->n_volumes, sizeof *r->volumes, volume_json);
        if (k >= 0)
                k = add_list(root, "engine_volumes", r->engine_volumes, r->n_engine_volumes,
                             sizeof *r->engine_volumes, engine_volume_json);
        return k < 0 ? NULL : TAKE_PTR(root);
}

static int add_counts(json_object *root, const char *family, const unsigned counts[]) {
        _cleanup_json_ json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < _RECONCILE_RESULT_MAX; i++)
                if (counts[i] > 0 && json_add_int(o, result_table[i], counts[i]) < 0)
                        return -ENOMEM;
        return json_add_obj(root, family, TAKE_PTR(o));
}

char *reconcile_report_counts_json(const ReconcileReport *r) {
        unsigned c[_RECONCILE_RESULT_MAX] = {}, x[_RECONCILE_RESULT_MAX] = {}, v[_RECONCILE_RESULT_MAX] = {},
                 ev[_RECONCILE_RESULT_MAX] = {};
        _cleanup_json_ json_object *root = NULL;
        int k;

        if (!r)
                return strdup("{}");
        for (size_t i = 0; i < r->n_containers; i++)
                if ((unsigned) r->containers[i].result < _RECONCILE_RESULT_MAX)
                        c[r->containers[i].result]++;
        for (size_t i = 0; i < r->n_executions; i++)
                if ((unsigned) r->executions[i].result < _RECONCILE_RESULT_MAX)
                        x[r->executions[i].result]++;
        for (size_t i = 0; i < r->n_volumes; i++)
                if ((unsigned) r->volumes[i].result < _RECONCILE_RESULT_MAX)
                        v[r->volumes[i].result]++;
        for (size_t i = 0; i < r->n_engine_volumes; i++)
                if ((unsigned) r->engine_volumes[i].result < _RECONCILE_RESULT_MAX)
                        ev[r->engine_volumes[i].result]++;
        root = json_object_new_object();
        if (!root)
                return NULL;
        k = add_counts(root, "containers", c);
        if (k >= 0)
                k = add_counts(root, "executions", x);
        if (k >= 0)
                k = add_counts(root, "volumes", v);
        if (k >= 0)
                k = add_counts(root, "engine_volumes", ev);
        return k < 0 ? NULL : strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
}

static const char *short_id(const char *id, char buf[static 13]) {
        if (!id)
                return "-";
        snprintf(buf, 13, "%s", id);
        return buf;
}

int reconcile_report_print(const ReconcileReport *r, FILE *f) {
        char idbuf[13];

        for (size_t i = 0; i < r->n_containers; i++) {
                const ReconcileContainerReport *c = &r->containers[i];

                fprintf(f, "container %s %s execution=%s state=%s %s (%s)%s%s%s", short_id(c->id, idbuf),
                        strempty(c->name), c->execution_id ? c->execution_id : "-", strempty(c->state),
                        reconcile_result_to_string(c->result),
                        reconcile_reason_to_string(c->decision.reason),
                        c->decision.execution_lost ? " execution-lost" : "", c->error ? ": " : "",
                        strempty(c->error));
                if (c->backoff.failures > 0) {
                        char ts[TIMESTAMP_MAX];
                        fprintf(f, " failures=%u next-attempt=%s%s", c->backoff.failures,
                                format_timestamp(ts, sizeof ts, c->backoff.next_attempt_usec),
                                c->backoff.quarantined ? " quarantined" : "");
                }
                fputc('\n', f);
        }
        for (size_t i = 0; i < r->n_executions; i++) {
                const ReconcileExecutionReport *x = &r->executions[i];
                fprintf(f, "execution %s failed (%s) container=%s %s%s%s\n", x->id,
                        RECONCILE_REASON_CONTAINER_LOST, x->container ? x->container : "-",
                        reconcile_result_to_string(x->result), x->error ? ": " : "", strempty(x->error));
        }
        for (size_t i = 0; i < r->n_volumes; i++) {
                const ReconcileVolumeReport *v = &r->volumes[i];
                char ts[TIMESTAMP_MAX];
                fprintf(f, "volume %s tenant=%s expired=%s %s%s%s\n", v->id, strempty(v->tenant_id),
                        format_timestamp(ts, sizeof ts, v->expires_usec),
                        reconcile_result_to_string(v->result), v->error ? ": " : "", strempty(v->error));
        }
        for (size_t i = 0; i < r->n_engine_volumes; i++) {
                const ReconcileEngineVolumeReport *v = &r->engine_volumes[i];
                fprintf(f, "engine-volume %s %s (%s)%s%s\n", v->name, reconcile_result_to_string(v->result),
                        strempty(v->reason), v->error ? ": " : "", strempty(v->error));
        }
        fprintf(f,
                "%sreaped=%u kept=%u other_store=%u quarantined=%u failed=%u skipped=%u lost=%u "
                "volumes_deleted=%u engine_volumes_removed=%u (%" PRIu64 " ms)\n",
                r->dry_run ? "dry run: " : "", r->reaped, r->kept, r->other_store, r->quarantined, r->failed,
                r->skipped, r->lost, r->volumes_deleted, r->engine_volumes_removed,
                r->duration_usec / USEC_PER_MSEC);
        return ferror(f) ? -EIO : 0;
}
