/* http-test-server.c — serves test routes through src/aegisd/http.c so http-layer.sh can
 * check routing, captures, bodies, deferred answers, streams and auth with curl.
 *
 * Usage: http-test-server PORT MARKER_DIR. Writes MARKER_DIR/ready when listening; a stream
 * whose client goes away writes MARKER_DIR/closed-<name>. Exits on SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http.h"
#include "log.h"
#include "util.h"

static sd_event *event;
static const char *marker_dir;

static void touch(const char *name) {
        _cleanup_free_ char *p = path_join(marker_dir, name);
        (void) write_file_atomic(p, "", 0, 0644);
}

static int get_item(HttpRequest *r, void *userdata) {
        struct json_object *o = json_object_new_object();
        int k;

        json_object_object_add(o, "id", json_object_new_string(http_request_param(r, "id")));
        json_object_object_add(o, "sub", json_object_new_string(strempty(http_request_param(r, "sub"))));
        json_object_object_add(o, "q", json_object_new_string(strempty(http_request_query(r, "q"))));
        k = http_respond_json(r, 200, o);
        json_object_put(o);
        return k;
}

static int post_echo(HttpRequest *r, void *userdata) {
        size_t size;
        const char *body = http_request_body(r, &size);
        struct json_object *o = json_object_new_object();
        int k;

        json_object_object_add(o, "size", json_object_new_int64((int64_t) size));
        json_object_object_add(o, "body", json_object_new_string_len(body, (int) size));
        (void) http_request_add_header(r, "Location", "/items/new");
        k = http_respond_json(r, 201, o);
        json_object_put(o);
        return k;
}

static int on_deferred_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        HttpRequest *r = userdata;
        (void) http_respond_error(r, 409, "spec.name", "conflict decided %s", "later");
        sd_event_source_disable_unref(s);
        return 0;
}

static int get_deferred(HttpRequest *r, void *userdata) {
        int k = http_request_defer(r, NULL, NULL);
        if (k < 0)
                return k;
        return sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, 100 * USEC_PER_MSEC, USEC_PER_MSEC,
                                          on_deferred_timer, r);
}

typedef struct Ticker {
        HttpStream *stream;
        sd_event_source *timer;
        unsigned n, limit;
        char name[32];
} Ticker;

static void ticker_closed(void *userdata) {
        Ticker *t = userdata;
        char name[64];

        (void) snprintf(name, sizeof name, "closed-%s", t->name);
        touch(name);
        sd_event_source_disable_unref(t->timer);
        free(t);
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        Ticker *t = userdata;
        char id[16];

        t->n++;
        (void) snprintf(id, sizeof id, "%u", t->n);
        if (t->n == 2)
                (void) http_stream_sse(t->stream, "log", id, "line one\nline two");
        else
                (void) http_stream_sse(t->stream, "tick", id, "{\"n\":1}");
        if (t->limit && t->n >= t->limit) {
                (void) http_stream_sse(t->stream, "end", NULL, "done");
                http_stream_end(t->stream);
                sd_event_source_disable_unref(t->timer);
                free(t);
                return 0;
        }
        (void) sd_event_source_set_time_relative(s, 50 * USEC_PER_MSEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int start_ticker(HttpRequest *r, const char *name, unsigned limit) {
        Ticker *t = calloc(1, sizeof *t);
        int k;

        if (!t)
                return -ENOMEM;
        t->limit = limit;
        (void) snprintf(t->name, sizeof t->name, "%s", name);
        k = http_respond_stream(r, 200, "text/event-stream", ticker_closed, t, &t->stream);
        if (k < 0) {
                free(t);
                return k;
        }
        return sd_event_add_time_relative(event, &t->timer, CLOCK_MONOTONIC, 50 * USEC_PER_MSEC,
                                          USEC_PER_MSEC, on_tick, t);
}

static int get_events(HttpRequest *r, void *userdata) {
        return start_ticker(r, "events", 3);
}
static int get_follow(HttpRequest *r, void *userdata) {
        return start_ticker(r, "follow", 0);
}
static int get_fail(HttpRequest *r, void *userdata) {
        return -EIO;
}
static int get_secret(HttpRequest *r, void *userdata) {
        return http_respond(r, 200, "text/plain", "secret\n", 7);
}

static int auth(HttpRequest *r, const char *bearer, void *userdata) {
        if (!bearer)
                return -ENOKEY;
        if (streq(bearer, "readonly"))
                return -EACCES;
        return streq(bearer, "s3cret") ? 0 : -ENOKEY;
}

static const HttpRoute routes[] = {
        { HTTP_GET, "/items/{id}", get_item, HTTP_ROUTE_PUBLIC },
        { HTTP_GET, "/items/{id}/sub/{sub}", get_item, HTTP_ROUTE_PUBLIC },
        { HTTP_DELETE, "/items/{id}", get_item, HTTP_ROUTE_PUBLIC },
        { HTTP_POST, "/echo", post_echo, HTTP_ROUTE_PUBLIC },
        { HTTP_GET, "/deferred", get_deferred, HTTP_ROUTE_PUBLIC },
        { HTTP_GET, "/events", get_events, HTTP_ROUTE_PUBLIC },
        { HTTP_GET, "/follow", get_follow, HTTP_ROUTE_PUBLIC },
        { HTTP_GET, "/fail", get_fail, HTTP_ROUTE_PUBLIC },
        { HTTP_GET, "/secret", get_secret },
        {},
};

static int on_term(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        return sd_event_exit(event, 0);
}

int main(int argc, char *argv[]) {
        HttpServerOptions opts = { .name = "test", .max_body_bytes = 1024 };
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        HttpServer *server = NULL;
        sigset_t mask;
        unsigned port;
        int fd, one = 1;

        if (argc != 3 || safe_atou(argv[1], &port) < 0 || port == 0 || port > 65535)
                return 2;
        marker_dir = argv[2];
        log_setup("http-test-server");
        log_set_max_level(LOG_DEBUG);
        sa.sin_port = htons((uint16_t) port);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 16) < 0)
                return 1;
        (void) sigemptyset(&mask);
        (void) sigaddset(&mask, SIGTERM);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        if (sd_event_default(&event) < 0 || sd_event_add_signal(event, NULL, SIGTERM, on_term, NULL) < 0 ||
            http_server_new(event, fd, &opts, &server) < 0 ||
            http_server_add_routes(server, routes, NULL) < 0)
                return 1;
        http_server_set_auth(server, auth, NULL);
        touch("ready");
        (void) sd_event_loop(event);
        /* Streams still open are told (closed-follow) when the server goes. */
        http_server_free(server);
        (void) close(fd);
        sd_event_unref(event);
        return 0;
}
