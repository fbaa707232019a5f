/* api-health.c — GET /health, /health/live (the process answers) and /health/ready (every
 * dependency answers: 200, else 503 with what failed).
 *
 * Readiness runs the checks of ready_checks[] concurrently on the event loop and answers
 * when the last one reports; each check bounds its own time. To add a dependency, add a
 * line to the table with a function that eventually calls probe_done() exactly once. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "api-health.h"
#include "api-context.h"
#include "executions.h"
#include "json-util.h"
#include "log.h"
#include "podman.h"
#include "store.h"
#include "util.h"

#define READY_PODMAN_TIMEOUT_USEC (5 * USEC_PER_SEC)

typedef struct ReadyProbe ReadyProbe;
typedef int (*ReadyCheckFunc)(ApiContext *ctx, ReadyProbe *p, size_t i);

static int check_podman(ApiContext *ctx, ReadyProbe *p, size_t i);
static int check_database(ApiContext *ctx, ReadyProbe *p, size_t i);
static int check_limits(ApiContext *ctx, ReadyProbe *p, size_t i);

static const struct {
        const char *name; /* the key in "dependencies" */
        ReadyCheckFunc start;
} ready_checks[] = {
        { "podman", check_podman },
        { "database", check_database },
        { "limits", check_limits },
};
#define N_CHECKS ELEMENTSOF(ready_checks)

struct ReadyProbe {
        ApiContext *ctx;
        HttpRequest *req; /* NULL when the server went away first */
        size_t n_pending;
        struct {
                bool done, ok;
                char *error;
                PodmanOp *op;
        } results[N_CHECKS];
};

static struct json_object *health_object(ApiContext *ctx, const char *status) {
        _cleanup_json_ struct json_object *o = json_object_new_object();
        uint64_t uptime = (now_usec(CLOCK_MONOTONIC) - ctx->start_usec) / USEC_PER_SEC;

        if (!o || json_add_string(o, "status", status) < 0 ||
            json_add_int(o, "uptime_seconds", (int64_t) uptime) < 0 ||
            json_add_string(o, "version", PACKAGE_VERSION) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int get_health(HttpRequest *r, void *userdata) {
        struct json_object *o = health_object(userdata, "healthy");

        if (!o)
                return -ENOMEM;
        return http_respond_json_unref(r, 200, o);
}

static void probe_free(ReadyProbe *p) {
        for (size_t i = 0; i < N_CHECKS; i++)
                free(p->results[i].error);
        free(p);
}

/* {"ok": …, "error": …} per check, by name. */
static struct json_object *probe_dependencies(ReadyProbe *p) {
        _cleanup_json_ struct json_object *deps = json_object_new_object();

        if (!deps)
                return NULL;
        for (size_t i = 0; i < N_CHECKS; i++) {
                struct json_object *dep = json_object_new_object();
                if (json_add_obj(deps, ready_checks[i].name, dep) < 0 ||
                    json_add_bool(dep, "ok", p->results[i].ok) < 0 ||
                    (p->results[i].error && json_add_string(dep, "error", p->results[i].error) < 0))
                        return NULL;
        }
        return TAKE_PTR(deps);
}

static void probe_answer(ReadyProbe *p) {
        _cleanup_json_ struct json_object *o = NULL;
        bool all_ok = true;

        for (size_t i = 0; i < N_CHECKS; i++)
                all_ok = all_ok && p->results[i].ok;
        o = health_object(p->ctx, all_ok ? "ready" : "not_ready");
        if (!o || json_add_obj(o, "dependencies", probe_dependencies(p)) < 0) {
                (void) http_respond_error(p->req, 500, NULL, "internal error: out of memory");
                return;
        }
        if (http_respond_json(p->req, all_ok ? 200 : 503, o) < 0)
                log_warning("Failed to answer GET /health/ready");
}

/* Records one check's outcome; the last one answers and frees the probe. */
static void probe_done(ReadyProbe *p, size_t i, bool ok, const char *error) {
        if (i < N_CHECKS && !p->results[i].done) {
                p->results[i].done = true;
                p->results[i].ok = ok;
                p->results[i].op = NULL;
                p->results[i].error = error ? strdup(error) : NULL;
        }
        if (--p->n_pending > 0)
                return;
        if (p->req)
                probe_answer(p);
        probe_free(p);
}

/* The server is going away: stop the checks (their callbacks will not run). */
static void probe_closed(void *userdata) {
        ReadyProbe *p = userdata;

        p->req = NULL;
        p->n_pending++; /* hold the probe while cancelling */
        for (size_t i = 0; i < N_CHECKS; i++)
                if (!p->results[i].done && p->results[i].op) {
                        podman_op_cancel(p->results[i].op);
                        probe_done(p, i, false, "shutting down");
                }
        probe_done(p, SIZE_MAX, false, NULL);
}

static void on_podman_ping(int r, const Error *e, void *userdata) {
        ReadyProbe *p = userdata;
        size_t i = 0;

        while (i < N_CHECKS && ready_checks[i].start != check_podman)
                i++;
        probe_done(p, i, r >= 0, r >= 0 ? NULL : e && e->message[0] ? e->message : strerror(-r));
}

static int check_podman(ApiContext *ctx, ReadyProbe *p, size_t i) {
        Error e = ERROR_INIT;
        int r;

        r = podman_ping_async(ctx->podman, READY_PODMAN_TIMEOUT_USEC, on_podman_ping, p, &p->results[i].op);
        if (r < 0)
                probe_done(p, i, false, e.message[0] ? e.message : strerror(-r));
        return 0;
}

/* A round trip on the daemon's store when it has one; else the store must open (and migrate)
 * from database.url. Blocking: SQLite answers in microseconds, PostgreSQL in a round trip. */
static int check_database(ApiContext *ctx, ReadyProbe *p, size_t i) {
        Error e = ERROR_INIT;
        int r;

        if (ctx->store)
                r = store_ping(ctx->store, &e);
        else {
                _cleanup_(store_closep) Store *s = NULL;
                r = store_open(ctx->config->database.url, &e, &s);
        }
        probe_done(p, i, r >= 0, r >= 0 ? NULL : e.message[0] ? e.message : strerror(-r));
        return 0;
}

static void on_podman_info(int r, const PodmanInfo *info, const Error *e, void *userdata) {
        ReadyProbe *p = userdata;
        ApiContext *ctx = p->ctx;
        _cleanup_free_ char *message = NULL;
        const char *why;
        char limits[64];
        size_t i = 0;

        while (i < N_CHECKS && ready_checks[i].start != check_limits)
                i++;
        if (r < 0) {
                probe_done(p, i, false, e && e->message[0] ? e->message : strerror(-r));
                return;
        }
        if (ctx->executions)
                executions_record_engine(ctx->executions, info);
        why = podman_info_unenforced_limits(info, limits, sizeof limits);
        if (why && !ctx->config->runtime.allow_unenforced_limits) {
                message = asprintf_safe(
                        "the engine does not enforce these limits of agent containers: %s: %s; "
                        "or set runtime.allow_unenforced_limits: true to run without them",
                        limits, why);
                probe_done(p, i, false, message ?: "limits not enforced");
                return;
        }
        probe_done(p, i, true, NULL);
}

/* What the engine can enforce (GET /libpod/info): the memory, pids and cpu limits of agent
 * containers must hold unless runtime.allow_unenforced_limits says otherwise. */
static int check_limits(ApiContext *ctx, ReadyProbe *p, size_t i) {
        int r;

        r = podman_info_async(ctx->podman, READY_PODMAN_TIMEOUT_USEC, on_podman_info, p, &p->results[i].op);
        if (r < 0)
                probe_done(p, i, false, strerror(-r));
        return 0;
}

static int get_ready(HttpRequest *r, void *userdata) {
        ReadyProbe *p;
        int k;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->ctx = userdata;
        p->req = r;
        p->n_pending = N_CHECKS + 1; /* +1: this function, so that checks finishing at once cannot free p */
        k = http_request_defer(r, probe_closed, p);
        if (k < 0) {
                free(p);
                return k;
        }
        for (size_t i = 0; i < N_CHECKS; i++)
                (void) ready_checks[i].start(p->ctx, p, i);
        probe_done(p, SIZE_MAX, false, NULL);
        return 0;
}

const HttpRoute api_health_routes[] = {
        { HTTP_GET, "/health", get_health, HTTP_ROUTE_PUBLIC },
        { HTTP_GET, "/health/live", get_health, HTTP_ROUTE_PUBLIC },
        { HTTP_GET, "/health/ready", get_ready, HTTP_ROUTE_PUBLIC },
        {},
};
