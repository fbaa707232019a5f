/* gateway.c — the dispatch gateway's socket and route (see gateway.h). */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gateway.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "run-dispatch.h"
#include "util.h"

struct Gateway {
        char *dir, *path;
        int fd;
        HttpServer *server;
        gateway_lookup_fn lookup;
        void *userdata;
        Metric *m_refused, *m_requests;
};

/* One request waiting for its answer. */
typedef struct GatewayRequest {
        Gateway *gw;
        HttpRequest *req;
        char capability[RUN_DISPATCH_CAPABILITY_LEN + 1];
        bool in_call, answered;
} GatewayRequest;

bool gateway_capability_equal(const char *a, const char *b) {
        unsigned char diff = 0;

        if (!a || !b || strlen(a) != RUN_DISPATCH_CAPABILITY_LEN || strlen(b) != RUN_DISPATCH_CAPABILITY_LEN)
                return false;
        for (size_t i = 0; i < RUN_DISPATCH_CAPABILITY_LEN; i++)
                diff |= (unsigned char) a[i] ^ (unsigned char) b[i];
        return diff == 0;
}

static bool capability_well_formed(const char *c) {
        if (!c || strlen(c) != RUN_DISPATCH_CAPABILITY_LEN)
                return false;
        for (; *c; c++)
                if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
                        return false;
        return true;
}

static int refuse(Gateway *g, HttpRequest *r, const char *reason) {
        if (g->m_refused)
                (void) metric_add(g->m_refused, METRIC_LABELS(reason), 1);
        log_debug("gateway: refused a request to %s (%s)", reason, http_request_path(r));
        /* One answer for every refusal: nothing tells a live execution's wrong capability apart. */
        return http_respond_error(r, 404, NULL, "not_found: no live iteration has this capability");
}

static void on_reply(unsigned status, json_object *answer, void *userdata) {
        GatewayRequest *q = userdata;

        q->answered = true;
        (void) http_respond_json(q->req, status, answer);
        if (!q->in_call)
                free(q);
}

/* The server is going away with the request still waiting. */
static void on_closed(void *userdata) {
        GatewayRequest *q = userdata;
        RunDispatch *d = q->gw->lookup(q->capability, q->gw->userdata);

        run_dispatch_forget(d, q);
        free(q);
}

static int post_dispatch(HttpRequest *r, void *userdata) {
        Gateway *g = userdata;
        const char *cap = http_request_param(r, "capability"), *body;
        _cleanup_free_ GatewayRequest *q = NULL;
        json_object *o;
        RunDispatch *d;
        size_t size;

        if (!capability_well_formed(cap))
                return refuse(g, r, "malformed");
        d = g->lookup(cap, g->userdata);
        if (!d)
                return refuse(g, r, "unknown");
        body = http_request_body(r, &size);
        o = json_tokener_parse(body);
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return http_respond_error(r, 400, NULL, "invalid_request: the body must be a JSON object");
        }
        if (!run_dispatch_speaks_for(d, o)) {
                json_object_put(o);
                return refuse(g, r, "mismatch");
        }
        q = calloc(1, sizeof *q);
        if (!q) {
                json_object_put(o);
                return -ENOMEM;
        }
        q->gw = g;
        q->req = r;
        memcpy(q->capability, cap, sizeof q->capability);
        q->in_call = true;
        run_dispatch_request(d, o, on_reply, q);
        json_object_put(o);
        q->in_call = false;
        if (q->answered)
                return 0;
        /* The model is thinking: answered later, by on_reply. */
        (void) http_request_defer(r, on_closed, q);
        TAKE_PTR(q);
        return 0;
}

static int post_without_capability(HttpRequest *r, void *userdata) {
        return refuse(userdata, r, "missing");
}

static const HttpRoute gateway_routes[] = {
        { HTTP_POST, "/d/{capability}/v1/dispatch-gateway", post_dispatch, HTTP_ROUTE_PUBLIC },
        { HTTP_POST, "/v1/dispatch-gateway", post_without_capability, HTTP_ROUTE_PUBLIC },
        {},
};

int gateway_listen_unix(const char *path, int *ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (unlink(path) < 0 && errno != ENOENT) /* a stale one from the previous process */
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        /* Containers connect as whatever uid their manifest says: the capability decides. */
        if (chmod(path, 0666) < 0 || listen(fd, SOMAXCONN) < 0)
                return -errno;
        *ret = TAKE_FD(fd);
        return 0;
}

int gateway_new(sd_event *event, const char *state_dir, MetricsRegistry *reg, gateway_lookup_fn lookup,
                void *userdata, Gateway **ret) {
        static const char *const reason_labels[] = { "reason", NULL };
        static const char *const code_labels[] = { "code", NULL };
        _cleanup_(gateway_freep) Gateway *g = NULL;
        HttpServerOptions o = { .name = "gateway",
                                .max_body_bytes = GATEWAY_MAX_BODY,
                                .connection_limit = 1024 };
        int k;

        g = calloc(1, sizeof *g);
        if (!g)
                return log_error_errno(-ENOMEM, "Out of memory");
        g->fd = -1;
        g->lookup = lookup;
        g->userdata = userdata;
        g->dir = path_join(state_dir, GATEWAY_DIR);
        g->path = g->dir ? path_join(g->dir, GATEWAY_SOCKET) : NULL;
        if (!g->path)
                return log_error_errno(-ENOMEM, "Out of memory");
        k = mkdir_p_exact(g->dir, 0755);
        if (k < 0)
                return log_error_errno(k, "Cannot create the dispatch gateway's directory %s: %m", g->dir);
        k = gateway_listen_unix(g->path, &g->fd);
        if (k < 0)
                return log_error_errno(k, "Cannot listen on the dispatch gateway socket %s: %m", g->path);
        if (reg) {
                k = metrics_register(
                        reg, METRIC_COUNTER, "aegis_dispatch_refused_total",
                        "Dispatch gateway requests refused: capability malformed, unknown (wrong, "
                        "or its iteration is over), missing, or presented with another "
                        "iteration's identity (mismatch).",
                        reason_labels, NULL, 0, &g->m_refused);
                if (k >= 0)
                        k = metrics_register(reg, METRIC_COUNTER, "aegis_dispatch_requests_total",
                                             "Dispatch gateway requests answered, by HTTP status.",
                                             code_labels, NULL, 0, &g->m_requests);
                if (k < 0)
                        return log_error_errno(k, "Cannot register the gateway metrics: %m");
                (void) metric_add(g->m_refused, METRIC_LABELS("unknown"), 0);
                o.requests_total = g->m_requests;
        }
        k = http_server_new(event, g->fd, &o, &g->server);
        if (k >= 0)
                k = http_server_add_routes(g->server, gateway_routes, g);
        if (k < 0)
                return log_error_errno(k, "Cannot serve the dispatch gateway: %m");
        log_debug("dispatch gateway on %s", g->path);
        *ret = TAKE_PTR(g);
        return 0;
}

Gateway *gateway_free(Gateway *g) {
        if (!g)
                return NULL;
        http_server_free(g->server);
        if (g->fd >= 0) {
                safe_close(g->fd);
                (void) unlink(g->path);
        }
        free(g->path);
        free(g->dir);
        free(g);
        return NULL;
}

const char *gateway_directory(const Gateway *g) {
        return g->dir;
}
