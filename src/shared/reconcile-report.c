/* reconcile-report.c — the report of one reconciliation pass: freeing it, its two
 * renderings (the JSON object of `aegis-reaper --output json`, and text lines), and its counts
 * per family and result (what the store keeps of aegis-reaper's last run for /metrics). */
#include <json-c/json.h>

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

/* json-c helpers that tolerate NULL values (as JSON null) and count allocation failures. */
static void add(json_object *o, const char *key, json_object *v, bool *oom) {
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                *oom = true;
        }
}

/* v was just made: NULL means its allocation failed. */
static void add_new(json_object *o, const char *key, json_object *v, bool *oom) {
        if (!v) {
                *oom = true;
                return;
        }
        add(o, key, v, oom);
}

static void add_str(json_object *o, const char *key, const char *s, bool *oom) {
        if (s)
                add_new(o, key, json_object_new_string(s), oom);
        else
                add(o, key, NULL, oom);
}

static void add_int(json_object *o, const char *key, int64_t n, bool *oom) {
        add_new(o, key, json_object_new_int64(n), oom);
}

static void add_bool(json_object *o, const char *key, bool b, bool *oom) {
        add_new(o, key, json_object_new_boolean(b), oom);
}

static void add_time(json_object *o, const char *key, uint64_t usec, bool *oom) {
        char buf[TIMESTAMP_MAX];

        add_str(o, key, usec ? format_timestamp(buf, sizeof buf, usec) : NULL, oom);
}

static void container_json(json_object *o, const void *entry, bool *oom) {
        const ReconcileContainerReport *c = entry;

        add_str(o, "id", c->id, oom);
        add_str(o, "name", c->name, oom);
        add_str(o, "execution_id", c->execution_id, oom);
        add_str(o, "state", c->state, oom);
        add_str(o, "action", reconcile_action_to_string(c->decision.action), oom);
        add_str(o, "reason", reconcile_reason_to_string(c->decision.reason), oom);
        add_str(o, "result", reconcile_result_to_string(c->result), oom);
        add_bool(o, "execution_lost", c->decision.execution_lost, oom);
        if (c->error)
                add_str(o, "error", c->error, oom);
        if (c->backoff.failures > 0) {
                add_int(o, "failures", c->backoff.failures, oom);
                add_time(o, "next_attempt_at", c->backoff.next_attempt_usec, oom);
                add_bool(o, "quarantined", c->backoff.quarantined, oom);
        }
}

static void execution_json(json_object *o, const void *entry, bool *oom) {
        const ReconcileExecutionReport *x = entry;

        add_str(o, "id", x->id, oom);
        add_str(o, "status", "failed", oom);
        add_str(o, "reason", RECONCILE_REASON_CONTAINER_LOST, oom);
        add_str(o, "container", x->container, oom);
        add_str(o, "result", reconcile_result_to_string(x->result), oom);
        if (x->error)
                add_str(o, "error", x->error, oom);
}

static void volume_json(json_object *o, const void *entry, bool *oom) {
        const ReconcileVolumeReport *v = entry;

        add_str(o, "id", v->id, oom);
        add_str(o, "tenant_id", v->tenant_id, oom);
        add_str(o, "path", v->path, oom);
        add_time(o, "expires_at", v->expires_usec, oom);
        add_str(o, "result", reconcile_result_to_string(v->result), oom);
        if (v->error)
                add_str(o, "error", v->error, oom);
}

static void engine_volume_json(json_object *o, const void *entry, bool *oom) {
        const ReconcileEngineVolumeReport *v = entry;

        add_str(o, "name", v->name, oom);
        add_str(o, "volume_id", v->volume_id, oom);
        add_str(o, "reason", v->reason, oom);
        add_str(o, "result", reconcile_result_to_string(v->result), oom);
        if (v->error)
                add_str(o, "error", v->error, oom);
}

/* o[key] = an array with one object per entry (n entries of size bytes), filled by fill. */
static void add_list(json_object *o, const char *key, const void *entries, size_t n, size_t size,
                     void (*fill)(json_object *o, const void *entry, bool *oom), bool *oom) {
        json_object *list = json_object_new_array();

        for (size_t i = 0; list && i < n; i++) {
                json_object *e = json_object_new_object();
                if (!e || json_object_array_add(list, e) < 0) {
                        json_object_put(e);
                        json_object_put(list);
                        list = NULL;
                        break;
                }
                fill(e, (const char *) entries + i * size, oom);
        }
        add_new(o, key, list, oom);
}

json_object *reconcile_report_to_json(const ReconcileReport *r) {
        json_object *root = NULL, *summary = NULL;
        bool oom = false;

        if (!r)
                return NULL;
        root = json_object_new_object();
        summary = json_object_new_object();
        if (!root || !summary)
                goto fail;
        add_bool(root, "dry_run", r->dry_run, &oom);
        add_int(root, "grace_secs", (int64_t) (r->grace_usec / USEC_PER_SEC), &oom);
        add_time(root, "started_at", r->started_usec, &oom);
        add_int(root, "duration_ms", (int64_t) (r->duration_usec / USEC_PER_MSEC), &oom);
        add_int(summary, "reaped", r->reaped, &oom);
        add_int(summary, "kept", r->kept, &oom);
        add_int(summary, "quarantined", r->quarantined, &oom);
        add_int(summary, "failed", r->failed, &oom);
        add_int(summary, "skipped", r->skipped, &oom);
        add_int(summary, "lost", r->lost, &oom);
        add_int(summary, "volumes_deleted", r->volumes_deleted, &oom);
        add_int(summary, "engine_volumes_removed", r->engine_volumes_removed, &oom);
        add_int(summary, "other_store", r->other_store, &oom);
        add(root, "summary", TAKE_PTR(summary), &oom);

        add_list(root, "containers", r->containers, r->n_containers, sizeof *r->containers, container_json,
                 &oom);
        add_list(root, "executions", r->executions, r->n_executions, sizeof *r->executions, execution_json,
                 &oom);
        add_list(root, "volumes", r->volumes, r->n_volumes, sizeof *r->volumes, volume_json, &oom);
        add_list(root, "engine_volumes", r->engine_volumes, r->n_engine_volumes, sizeof *r->engine_volumes,
                 engine_volume_json, &oom);
        if (oom)
                goto fail;
        return root;
fail:
        json_object_put(summary);
        json_object_put(root);
        return NULL;
}

static void add_counts(json_object *root, const char *family, const unsigned counts[], bool *oom) {
        json_object *o = json_object_new_object();

        if (!o) {
                *oom = true;
                return;
        }
        for (size_t i = 0; i < _RECONCILE_RESULT_MAX; i++)
                if (counts[i] > 0)
                        add_int(o, result_table[i], counts[i], oom);
        add(root, family, o, oom);
}

char *reconcile_report_counts_json(const ReconcileReport *r) {
        unsigned c[_RECONCILE_RESULT_MAX] = {}, x[_RECONCILE_RESULT_MAX] = {}, v[_RECONCILE_RESULT_MAX] = {},
                 ev[_RECONCILE_RESULT_MAX] = {};
        json_object *root;
        bool oom = false;
        char *text = NULL;

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
        add_counts(root, "containers", c, &oom);
        add_counts(root, "executions", x, &oom);
        add_counts(root, "volumes", v, &oom);
        add_counts(root, "engine_volumes", ev, &oom);
        if (!oom)
                text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
        json_object_put(root);
        return text;
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
