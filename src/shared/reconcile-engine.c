/* reconcile-engine.c — the engine side of a reconciliation pass over podman.h: a private
 * client on a private sd-event loop (never the caller's), one label-filtered list, the
 * exit time of stopped containers (inspect, concurrently), and stop / kill / remove started
 * concurrently and driven until done. */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "process-token.h"
#include "reconcile-internal.h"
#include "reconcile.h"
#include "util.h"

#define FIELD_PODMAN "runtime.container_socket_path"
/* Bound on one list: far beyond what one host runs, small enough to keep memory sane. */
#define LIST_MAX 100000
#define INSPECT_PARALLEL 16

struct ReconcileEngine {
        sd_event *event;
        PodmanClient *client;
};

void reconcile_engine_container_done(ReconcileEngineContainer *c) {
        if (!c)
                return;
        free(c->id);
        free(c->name);
        free(c->execution_id);
        free(c->store_id);
        free(c->state);
        *c = (ReconcileEngineContainer){ 0 };
}

ReconcileEngine *reconcile_engine_free(ReconcileEngine *engine) {
        if (!engine)
                return NULL;
        podman_client_free(engine->client);
        sd_event_unref(engine->event);
        free(engine);
        return NULL;
}

int reconcile_engine_new(const char *socket_path, ReconcileEngine **ret, Error *e) {
        _cleanup_(reconcile_engine_freep) ReconcileEngine *engine = NULL;
        int r;

        engine = calloc(1, sizeof(*engine));
        if (!engine)
                return error_set(e, -ENOMEM, "out of memory");
        r = sd_event_new(&engine->event);
        if (r < 0)
                return error_set(e, r, "cannot create an event loop: %s", strerror(-r));
        r = podman_client_new(socket_path, engine->event, &engine->client);
        if (r < 0)
                return error_set_field(e, r, FIELD_PODMAN,
                                       "cannot set up a client for the Podman API at %s: %s",
                                       strempty(socket_path), strerror(-r));
        *ret = TAKE_PTR(engine);
        return 0;
}

int reconcile_engine_run_until_idle(ReconcileEngine *engine, const size_t *in_flight, Error *e) {
        while (*in_flight > 0) {
                int r = sd_event_run(engine->event, UINT64_MAX);
                if (r < 0)
                        return error_set(e, r, "the event loop failed: %s", strerror(-r));
        }
        return 0;
}

/* ---- list + inspect ---- */

typedef struct Inspecting {
        ReconcileEngineContainer *c;
        size_t *in_flight;
} Inspecting;

static void on_inspected(int r, const PodmanContainer *ct, const Error *err, void *userdata) {
        Inspecting *in = userdata;

        (*in->in_flight)--;
        if (r < 0 || !ct)
                return; /* gone meanwhile, or unknown: the finish time stays unknown (old) */
        in->c->finished_usec = ct->finished_usec;
        in->c->running = ct->running;
        const char *state = podman_container_status_to_string(ct->status);
        if (state && !streq(state, in->c->state)) {
                char *s = strdup(state);
                if (s) {
                        free(in->c->state);
                        in->c->state = s;
                }
        }
}

static void free_containers(ReconcileEngineContainer *out, size_t n) {
        for (size_t j = 0; j < n; j++)
                reconcile_engine_container_done(&out[j]);
        free(out);
}

int reconcile_engine_list(ReconcileEngine *engine, ReconcileEngineContainer **ret, size_t *ret_n, Error *e) {
        static char *const managed[] = { (char *) RECONCILE_LABEL_MANAGED "=true", NULL };
        PodmanContainer *list = NULL;
        ReconcileEngineContainer *out = NULL;
        _cleanup_free_ Inspecting *ins = NULL;
        size_t n = 0, in_flight = 0, next = 0;
        int r;

        r = podman_container_list(engine->client, managed, &list, &n, e);
        if (r < 0) {
                if (e && isempty(e->field))
                        snprintf(e->field, sizeof e->field, "%s", FIELD_PODMAN);
                return r;
        }
        if (n > LIST_MAX) {
                podman_container_list_free(list, n);
                return error_set_field(e, -E2BIG, FIELD_PODMAN,
                                       "the engine lists %zu managed containers, more than %d", n, LIST_MAX);
        }
        out = calloc(n ? n : 1, sizeof(*out));
        ins = calloc(n ? n : 1, sizeof(*ins));
        if (!out || !ins) {
                free(out);
                podman_container_list_free(list, n);
                return error_set(e, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                const PodmanContainer *s = &list[i];
                ReconcileEngineContainer *c = &out[i];
                const char *state = podman_container_status_to_string(s->status);

                c->id = strdup_or_null(s->id);
                c->name = strdup_or_null(s->name);
                c->state = strdup_or_null(state);
                c->execution_id = strdup_or_null(s->execution_id);
                c->store_id = strdup_or_null(s->store_id);
                if (!c->id || (s->name && !c->name) || (state && !c->state) ||
                    (s->execution_id && !c->execution_id) || (s->store_id && !c->store_id)) {
                        free_containers(out, n);
                        podman_container_list_free(list, n);
                        return error_set(e, -ENOMEM, "out of memory");
                }
                /* The filter asked for the label; the decision still insists on it. */
                c->managed = s->managed;
                c->keep_on_failure = s->keep_container_on_failure;
                c->running = s->running || s->status == PODMAN_STATUS_PAUSED ||
                             s->status == PODMAN_STATUS_RESTARTING;
                c->created_usec = s->created_usec;
                for (char **l = s->labels; l && *l; l++) {
                        const char *v;
                        if (startswith(*l, PODMAN_LABEL_POOL "="))
                                c->pool = true;
                        else if ((v = startswith(*l, PODMAN_LABEL_POOL_OWNER "=")))
                                c->pool_owner_alive = process_token_alive(v);
                }
        }
        podman_container_list_free(list, n);

        /* The list does not say when a container exited: inspect the stopped ones,
         * several at a time. A failure leaves the time unknown (treated as long ago). */
        for (;;) {
                while (in_flight < INSPECT_PARALLEL && next < n) {
                        ReconcileEngineContainer *c = &out[next];
                        Inspecting *in = &ins[next++];

                        if (c->running || !c->managed)
                                continue;
                        *in = (Inspecting){ .c = c, .in_flight = &in_flight };
                        if (podman_container_inspect_async(engine->client, c->id, on_inspected, in, NULL) >=
                            0)
                                in_flight++;
                }
                if (in_flight == 0 && next >= n)
                        break;
                r = sd_event_run(engine->event, UINT64_MAX);
                if (r < 0) {
                        free_containers(out, n);
                        return error_set(e, r, "the event loop failed: %s", strerror(-r));
                }
        }
        *ret = out;
        *ret_n = n;
        return 0;
}

/* ---- the removal steps ---- */

int reconcile_engine_stop_async(ReconcileEngine *engine, const char *id, uint64_t timeout_secs,
                                podman_done_fn cb, void *userdata) {
        return podman_container_stop_async(engine->client, id, (unsigned) MIN(timeout_secs, 3600), cb,
                                           userdata, NULL);
}

int reconcile_engine_kill_async(ReconcileEngine *engine, const char *id, podman_done_fn cb, void *userdata) {
        return podman_container_kill_async(engine->client, id, "SIGKILL", cb, userdata, NULL);
}

int reconcile_engine_remove_async(ReconcileEngine *engine, const char *id, podman_done_fn cb,
                                  void *userdata) {
        return podman_container_remove_async(engine->client, id, cb, userdata, NULL);
}
