/* http.c — libmicrohttpd on sd-event: routing, bodies, JSON, deferred answers and streams.
 *
 * MHD runs in external-polling epoll mode: its epoll fd is an sd-event io source, MHD_run()
 * runs when it is readable, and a timer follows MHD_get_timeout(). Resuming a suspended
 * connection also "kicks" a one-shot defer source so MHD runs again on the next iteration
 * (MHD asks for a run after MHD_resume_connection()).
 *
 * Invariants:
 *  - A request is answered at most once: request_submit() is the only place that hands MHD a
 *    response, and it refuses a second one.
 *  - MHD_queue_response() is called only from inside the access handler: answers produced
 *    outside it (deferred requests) are parked in r->pending and the connection is resumed;
 *    MHD then calls the handler again, which queues them.
 *  - A stream is shared by its request and its MHD response (two references); whichever goes
 *    last frees it, so neither MHD's order of callbacks nor the owner can free it twice.
 *  - The listening socket is never closed or shut down here (MHD_quiesce_daemon() before
 *    MHD_stop_daemon()): under socket activation it belongs to systemd.
 *  - A parked stream's socket, which MHD does not poll, is watched for its client leaving
 *    (stream_watch_peer()) only while it is parked: the watch goes before MHD may close it. */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "http.h"
#include "list.h"
#include "log.h"
#include "loopback.h"
#include "metrics.h"
#include "util.h"

#define DEFAULT_MAX_BODY (8u * 1024 * 1024)
#define STREAM_MAX_BACKLOG (4u * 1024 * 1024)
#define STREAM_HEARTBEAT_USEC (15 * USEC_PER_SEC)
#define MAX_PARAMS 8
#define MAX_TABLES 32
/* How much longer than the request deadline MHD's own idle timeout is. */
#define MHD_TIMEOUT_MARGIN_SECS 10
/* An upload answered before its body ended (a quota passed midway) is read on so the client
 * gets the answer; past this much more, the connection is closed instead. */
#define UPLOAD_DROP_MAX (64u * 1024 * 1024)
#define POST_BUFFER_SIZE (64u * 1024)
#define CONNECTION_MEMORY_DEFAULT (32u * 1024) /* MHD's own */

/* One TCP connection, from MHD's NOTIFY_STARTED to NOTIFY_CLOSED (its socket context): for
 * the request deadline. */
typedef struct HttpConn HttpConn;
struct HttpConn {
        HttpConn *prev, *next;
        int fd;
        uint64_t waiting_since; /* CLOCK_MONOTONIC µs since it has no request in progress; 0 = one is */
        bool cut;
};

typedef struct RouteTable {
        const HttpRoute *routes;
        void *userdata;
} RouteTable;

struct HttpServer {
        sd_event *event;
        struct MHD_Daemon *mhd;
        sd_event_source *io, *timer, *kick;
        int listen_fd;
        char *name;
        uint64_t max_body;
        RouteTable tables[MAX_TABLES];
        size_t n_tables;
        HttpAuthFunc auth;
        void *auth_userdata;
        unsigned n_connections;
        uint64_t last_activity;
        HttpRequest *requests; /* every live request, for shutdown */
        HttpConn *conns; /* every open connection */
        sd_event_source *deadline_timer;
        uint64_t request_timeout_usec;
        Metric *requests_total, *timeouts_total;
        bool stopping;
        HttpServerOptions opts; /* as given (name: ours), for the listeners added later */
        /* Another listening socket of the same server (aegis.socket's 127.0.0.1 and [::1]
         * lines): its own MHD daemon, the primary's routes, authentication and counts. */
        HttpServer *primary; /* NULL for the primary itself */
        HttpServer *siblings, *sibling_next;
        bool unix_socket; /* listening on AF_UNIX: no Host check (no browser gets there by name) */
};

typedef enum RequestPhase {
        PHASE_ROUTED, /* reading the body */
        PHASE_DEFERRED, /* handler ran, answer comes later */
        PHASE_ANSWERED, /* a response was given to MHD (or parked in pending) */
} RequestPhase;

struct HttpRequest {
        HttpServer *server;
        struct MHD_Connection *conn;
        HttpRequest *prev, *next;
        HttpMethod method;
        char *path;
        const HttpRoute *route;
        void *route_userdata;
        struct {
                const char *name; /* into the route pattern */
                size_t name_len;
                char *value;
        } params[MAX_PARAMS];
        size_t n_params;
        char *body;
        size_t body_size, body_alloc;
        RequestPhase phase;
        bool begun, in_handler, suspended, closed_notified, too_large;
        struct MHD_Response *pending;
        unsigned pending_status, status;
        char **headers; /* name, value, name, value, … */
        HttpClosedFunc on_closed;
        void *closed_userdata;
        HttpStream *stream;
        uint64_t start_usec;
        const char *tenant; /* borrowed from the authentication hook; NULL = default */
        /* A streamed upload body (http_request_stream_body): */
        bool handler_ran;
        HttpBodyDataFunc body_data;
        HttpBodyEndFunc body_end;
        HttpClosedFunc body_closed;
        void *body_userdata;
        struct MHD_PostProcessor *post; /* multipart/form-data decoder; NULL for a raw body */
        uint64_t dropped; /* bytes read and dropped after the answer */
};

struct HttpStream {
        unsigned n_ref;
        HttpRequest *req; /* NULL once the request is gone */
        HttpServer *server;
        char *buf;
        size_t len, off, alloc;
        bool owner_done; /* http_stream_end() called: no more writes, no on_closed */
        bool failed; /* end the response with an error (overflow, shutdown) */
        bool suspended; /* MHD connection suspended waiting for data */
        bool sse;
        sd_event_source *heartbeat;
        sd_event_source *peer_watch; /* while suspended: the client hanging up */
        HttpClosedFunc on_closed;
        void *userdata;
};

static const struct {
        HttpMethod method;
        const char *name;
} method_table[] = {
        { HTTP_GET, "GET" },       { HTTP_HEAD, "HEAD" },   { HTTP_POST, "POST" },       { HTTP_PUT, "PUT" },
        { HTTP_DELETE, "DELETE" }, { HTTP_PATCH, "PATCH" }, { HTTP_OPTIONS, "OPTIONS" },
};

const char *http_method_to_string(HttpMethod m) {
        for (size_t i = 0; i < ELEMENTSOF(method_table); i++)
                if (method_table[i].method == m)
                        return method_table[i].name;
        return NULL;
}

static HttpMethod http_method_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(method_table); i++)
                if (streq(method_table[i].name, s))
                        return method_table[i].method;
        return 0;
}

/* ---- the MHD ↔ sd-event glue ---- */

static HttpConn *conn_of(struct MHD_Connection *conn) {
        const union MHD_ConnectionInfo *i =
                MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        return i ? i->socket_context : NULL;
}

static void server_kick(HttpServer *s) {
        if (s->kick)
                (void) sd_event_source_set_enabled(s->kick, SD_EVENT_ONESHOT);
}

static int server_run(HttpServer *s) {
        MHD_UNSIGNED_LONG_LONG timeout_ms;

        if (MHD_run(s->mhd) == MHD_NO)
                log_debug("%s: MHD_run() failed", s->name);
        if (MHD_get_timeout(s->mhd, &timeout_ms) == MHD_YES) {
                uint64_t usec = timeout_ms > UINT64_MAX / 1000 ? UINT64_MAX : (uint64_t) timeout_ms * 1000;
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                (void) sd_event_source_set_time(s->timer, usec > UINT64_MAX - now ? UINT64_MAX : now + usec);
                (void) sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        } else
                (void) sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        return 0;
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        return server_run(userdata);
}
static int on_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        return server_run(userdata);
}
static int on_kick(sd_event_source *src, void *userdata) {
        return server_run(userdata);
}

static _printf_(2, 0) void mhd_logger(void *cls, const char *fmt, va_list ap) {
        char msg[512];
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        msg[strcspn(msg, "\n")] = '\0';
        log_debug("%s: libmicrohttpd: %s", (const char *) cls, msg);
}

/* ---- streams ---- */

static void stream_unwatch_peer(HttpStream *st) {
        st->peer_watch = sd_event_source_disable_unref(st->peer_watch);
}

static HttpStream *stream_unref(HttpStream *st) {
        if (!st || --st->n_ref > 0)
                return NULL;
        stream_unwatch_peer(st);
        sd_event_source_disable_unref(st->heartbeat);
        free(st->buf);
        free(st);
        return NULL;
}

/* Lets MHD call the reader again (data arrived, end, or failure). */
static void stream_wake(HttpStream *st) {
        stream_unwatch_peer(st);
        if (st->suspended && st->req) {
                st->suspended = false;
                st->req->suspended = false;
                MHD_resume_connection(st->req->conn);
                server_kick(st->server);
        }
}

/* The client of a parked stream hung up: end the response, so that MHD closes the connection
 * and the owner's on_closed frees what the stream held (a per-token stream slot) now, not at
 * the second heartbeat after (the first write to a closed peer still succeeds). */
static int on_peer_gone(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        HttpStream *st = userdata;

        st->failed = true;
        stream_wake(st);
        return 0;
}

/* MHD does not poll a suspended connection: watch its socket for the peer's hang-up (not for
 * data, which a client may send at any time). Without the watch, the heartbeat finds out. */
static void stream_watch_peer(HttpStream *st) {
        const union MHD_ConnectionInfo *i =
                MHD_get_connection_info(st->req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);

        if (st->peer_watch || !i)
                return;
        if (sd_event_add_io(st->server->event, &st->peer_watch, i->connect_fd, EPOLLRDHUP, on_peer_gone,
                            st) < 0)
                st->peer_watch = NULL;
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
        HttpStream *st = cls;

        if (st->failed)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        if (st->len > st->off) {
                size_t n = MIN(max, st->len - st->off);
                memcpy(buf, st->buf + st->off, n);
                st->off += n;
                if (st->off == st->len)
                        st->off = st->len = 0;
                return (ssize_t) n;
        }
        if (st->owner_done)
                return MHD_CONTENT_READER_END_OF_STREAM;
        if (!st->req)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        /* Nothing to send: park the connection until a write wakes it. */
        st->suspended = true;
        st->req->suspended = true;
        MHD_suspend_connection(st->req->conn);
        stream_watch_peer(st);
        return 0;
}

static void stream_response_freed(void *cls) {
        stream_unref(cls);
}

static int stream_append(HttpStream *st, const void *data, size_t size) {
        if (st->len - st->off + size > STREAM_MAX_BACKLOG) {
                st->failed = true;
                stream_wake(st);
                return -ENOBUFS;
        }
        if (st->off > 0 && st->len + size > st->alloc) {
                memmove(st->buf, st->buf + st->off, st->len - st->off);
                st->len -= st->off;
                st->off = 0;
        }
        if (st->len + size > st->alloc) {
                size_t a = MAX(st->alloc * 2, st->len + size);
                char *b = realloc(st->buf, MAX(a, (size_t) 4096));
                if (!b)
                        return -ENOMEM;
                st->buf = b;
                st->alloc = MAX(a, (size_t) 4096);
        }
        memcpy(st->buf + st->len, data, size);
        st->len += size;
        return 0;
}

int http_stream_write(HttpStream *st, const void *data, size_t size) {
        int r;

        if (!st || st->owner_done)
                return -EINVAL;
        if (st->failed || !st->req)
                return -EPIPE;
        if (size == 0)
                return 0;
        r = stream_append(st, data, size);
        if (r < 0)
                return r;
        stream_wake(st);
        return 0;
}

int http_stream_printf(HttpStream *st, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        return http_stream_write(st, s, (size_t) n);
}

int http_stream_sse(HttpStream *st, const char *event, const char *id, const char *data) {
        _cleanup_free_ char *msg = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        f = open_memstream(&msg, &size);
        if (!f)
                return -ENOMEM;
        if (id)
                fprintf(f, "id: %s\n", id);
        if (event)
                fprintf(f, "event: %s\n", event);
        for (const char *p = strempty(data);;) {
                size_t n = strcspn(p, "\n");
                fprintf(f, "data: %.*s\n", (int) n, p);
                if (!p[n])
                        break;
                p += n + 1;
        }
        fputc('\n', f);
        r = fclose(f) == 0 ? 0 : -ENOMEM;
        if (r < 0)
                return r;
        return http_stream_write(st, msg, size);
}

void http_stream_end(HttpStream *st) {
        if (!st || st->owner_done)
                return;
        st->owner_done = true;
        st->on_closed = NULL;
        (void) sd_event_source_set_enabled(st->heartbeat, SD_EVENT_OFF);
        stream_wake(st);
}

static int on_heartbeat(sd_event_source *src, uint64_t usec, void *userdata) {
        HttpStream *st = userdata;

        if (!st->owner_done && !st->failed && st->req && st->len == st->off)
                (void) http_stream_write(st, ":\n\n", 3);
        (void) sd_event_source_set_time_relative(src, STREAM_HEARTBEAT_USEC);
        return 0;
}

/* ---- requests ---- */

/* Ends a streamed body without on_end: its owner's on_closed, once. */
static void body_stop(HttpRequest *r) {
        HttpClosedFunc f = r->body_closed;

        r->body_data = NULL;
        r->body_end = NULL;
        r->body_closed = NULL;
        if (r->post) {
                (void) MHD_destroy_post_processor(r->post);
                r->post = NULL;
        }
        if (f)
                f(r->body_userdata);
}

static void request_notify_closed(HttpRequest *r) {
        body_stop(r);
        if (r->stream && !r->stream->owner_done && r->stream->on_closed) {
                HttpClosedFunc f = r->stream->on_closed;
                r->stream->on_closed = NULL;
                r->stream->owner_done = true;
                f(r->stream->userdata);
        } else if (r->phase == PHASE_DEFERRED && r->on_closed && !r->closed_notified) {
                r->closed_notified = true;
                r->on_closed(r->closed_userdata);
        }
}

static void request_free(HttpRequest *r) {
        HttpServer *s = r->server;

        LIST_REMOVE(s->requests, r);
        if (r->stream) {
                r->stream->req = NULL;
                stream_unwatch_peer(r->stream);
                (void) sd_event_source_set_enabled(r->stream->heartbeat, SD_EVENT_OFF);
                stream_unref(r->stream);
        }
        if (r->pending)
                MHD_destroy_response(r->pending);
        for (size_t i = 0; i < r->n_params; i++)
                free(r->params[i].value);
        strv_free(r->headers);
        free(r->body);
        free(r->path);
        free(r);
}

static void on_request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                                 enum MHD_RequestTerminationCode toe) {
        HttpRequest *r = *con_cls;

        if (!r)
                return;
        *con_cls = NULL;
        log_debug("%s: %s %s → %u (%.1f ms)%s", r->server->name, strempty(http_method_to_string(r->method)),
                  r->path, r->status, (double) (now_usec(CLOCK_MONOTONIC) - r->start_usec) / 1000.0,
                  toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection ended early)");
        request_notify_closed(r);
        r->server->last_activity = now_usec(CLOCK_MONOTONIC);
        {
                HttpConn *c = conn_of(conn);
                if (c)
                        c->waiting_since = r->server->last_activity; /* it may carry another request */
        }
        if (r->server->requests_total) {
                char code[16] = "none";
                if (r->status > 0)
                        (void) snprintf(code, sizeof code, "%u", r->status);
                (void) metric_add(r->server->requests_total, METRIC_LABELS(code), 1);
        }
        request_free(r);
}

/* MHD's own timeout only counts silence, so a client dribbling a byte of header now and then
 * (slowloris) would hold its connection forever: a connection that has no complete request
 * within request_timeout_usec of opening (or of its previous request ending) is shut down
 * here, and MHD closes it on its next read. */
static int on_deadline(sd_event_source *src, uint64_t usec, void *userdata) {
        HttpServer *s = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        bool cut = false;

        for (HttpConn *c = s->conns; c; c = c->next)
                if (!c->cut && c->waiting_since > 0 && now - c->waiting_since >= s->request_timeout_usec) {
                        (void) shutdown(c->fd, SHUT_RDWR);
                        c->cut = cut = true;
                        if (s->timeouts_total)
                                (void) metric_add(s->timeouts_total, NULL, 1);
                }
        if (cut)
                log_debug("%s: closed connections without a complete request after %" PRIu64 " s", s->name,
                          s->request_timeout_usec / USEC_PER_SEC);
        if (s->conns) {
                (void) sd_event_source_set_time(src, now + USEC_PER_SEC);
                (void) sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        }
        return 0;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
        HttpServer *s = cls;
        HttpConn *c;

        s->last_activity = now_usec(CLOCK_MONOTONIC);
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *i =
                        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

                s->n_connections++;
                c = calloc(1, sizeof *c);
                if (!c || !i) {
                        free(c);
                        return; /* no deadline for this one: MHD's idle timeout still applies */
                }
                c->fd = i->connect_fd;
                c->waiting_since = s->last_activity;
                LIST_PREPEND(s->conns, c);
                *socket_context = c;
                if (s->deadline_timer && !c->next) {
                        (void) sd_event_source_set_time(s->deadline_timer, s->last_activity + USEC_PER_SEC);
                        (void) sd_event_source_set_enabled(s->deadline_timer, SD_EVENT_ONESHOT);
                }
                return;
        }
        if (s->n_connections > 0)
                s->n_connections--;
        c = *socket_context;
        if (!c)
                return;
        *socket_context = NULL;
        LIST_REMOVE(s->conns, c);
        free(c);
}

/* Hands a response to MHD (now, inside the handler) or parks it and resumes (outside). */
static int request_submit(HttpRequest *r, unsigned status, struct MHD_Response *resp) {
        for (size_t i = 0; r->headers && r->headers[i] && r->headers[i + 1]; i += 2)
                (void) MHD_add_response_header(resp, r->headers[i], r->headers[i + 1]);
        r->status = status;
        r->phase = PHASE_ANSWERED;
        if (r->in_handler) {
                enum MHD_Result ok = MHD_queue_response(r->conn, status, resp);
                MHD_destroy_response(resp);
                return ok == MHD_YES ? 0 : -EIO;
        }
        r->pending = resp;
        r->pending_status = status;
        if (r->suspended) {
                r->suspended = false;
                MHD_resume_connection(r->conn);
                server_kick(r->server);
        }
        return 0;
}

int http_respond(HttpRequest *r, unsigned status, const char *content_type, const void *body, size_t size) {
        struct MHD_Response *resp;

        if (!r || r->phase == PHASE_ANSWERED)
                return -EALREADY;
        resp = MHD_create_response_from_buffer(size, (void *) body, MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return -ENOMEM;
        if (content_type)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        return request_submit(r, status, resp);
}

int http_respond_json(HttpRequest *r, unsigned status, struct json_object *o) {
        size_t len = 0;
        const char *s = json_object_to_json_string_length(
                o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        _cleanup_free_ char *body = NULL;

        if (!s)
                return -ENOMEM;
        body = malloc(len + 1);
        if (!body)
                return -ENOMEM;
        memcpy(body, s, len);
        body[len] = '\n';
        return http_respond(r, status, "application/json", body, len + 1);
}

int http_respond_json_unref(HttpRequest *r, unsigned status, struct json_object *o) {
        int k = http_respond_json(r, status, o);

        json_object_put(o);
        return k;
}

static int respond_error_message(HttpRequest *r, unsigned status, ApiErrorCode code, const char *field,
                                 const char *message) {
        struct json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        if (json_object_object_add(o, "error", json_object_new_string(message)) < 0 ||
            json_object_object_add(o, "code", json_object_new_string(api_error_code_to_string(code))) < 0 ||
            (!isempty(field) && json_object_object_add(o, "field", json_object_new_string(field)) < 0)) {
                json_object_put(o);
                return -ENOMEM;
        }
        return http_respond_json_unref(r, status, o);
}

int http_respond_error(HttpRequest *r, unsigned status, const char *field, const char *fmt, ...) {
        char msg[ERROR_MESSAGE_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return respond_error_message(r, status, api_error_code_from_status(status), field, msg);
}

int http_respond_error_code(HttpRequest *r, unsigned status, ApiErrorCode code, const char *field,
                            const char *fmt, ...) {
        char msg[ERROR_MESSAGE_MAX];
        va_list ap;

        assert(api_error_code_to_string(code));
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return respond_error_message(r, status, code, field, msg);
}

int http_respond_error_from(HttpRequest *r, const Error *e) {
        unsigned status = (unsigned) error_http_status(e);

        return respond_error_message(r, status, api_error_code_from_status(status), e->field,
                                     e->message[0] ? e->message : "internal error");
}

int http_respond_error_from_code(HttpRequest *r, const Error *e, ApiErrorCode code) {
        assert(api_error_code_to_string(code));
        return respond_error_message(r, (unsigned) error_http_status(e), code, e->field,
                                     e->message[0] ? e->message : "internal error");
}

int http_request_defer(HttpRequest *r, HttpClosedFunc on_closed, void *userdata) {
        if (!r || r->phase != PHASE_ROUTED || !r->in_handler)
                return -EINVAL;
        r->phase = PHASE_DEFERRED;
        r->on_closed = on_closed;
        r->closed_userdata = userdata;
        return 0;
}

/* "bytes=A-B", "bytes=A-", "bytes=-N" of a size-byte file: 0 with the first and last byte,
 * -ERANGE when it lies past the end, -EINVAL for anything else (several ranges, another
 * unit, garbage: served whole, as RFC 9110 allows). */
static int parse_range(const char *h, uint64_t size, uint64_t *ret_first, uint64_t *ret_last) {
        uint64_t a = 0, b = UINT64_MAX;
        const char *dash;
        char buf[64];

        if (!startswith(h, "bytes="))
                return -EINVAL;
        h += strlen("bytes=");
        dash = strchr(h, '-');
        if (!dash || strchr(h, ',') || (size_t) (dash - h) >= sizeof buf || strlen(dash + 1) >= sizeof buf)
                return -EINVAL;
        if (dash == h) { /* the last N bytes */
                if (safe_atou64(dash + 1, &b) < 0)
                        return -EINVAL;
                if (b == 0)
                        return -ERANGE;
                *ret_first = b >= size ? 0 : size - b;
                *ret_last = size - 1;
                return size == 0 ? -ERANGE : 0;
        }
        memcpy(buf, h, (size_t) (dash - h));
        buf[dash - h] = '\0';
        if (safe_atou64(buf, &a) < 0 || (dash[1] && safe_atou64(dash + 1, &b) < 0) || b < a)
                return -EINVAL;
        if (a >= size)
                return -ERANGE;
        *ret_first = a;
        *ret_last = MIN(b, size - 1);
        return 0;
}

int http_respond_file(HttpRequest *r, int fd, const char *content_type, const char *filename) {
        _cleanup_close_ int f = fd;
        struct MHD_Response *resp;
        uint64_t first = 0, last = 0, size;
        unsigned status = 200;
        const char *range;
        struct stat st;
        char buf[128];
        int k;

        assert(fd >= 0);
        if (!r || r->phase == PHASE_ANSWERED)
                return -EALREADY;
        if (fstat(f, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        size = (uint64_t) st.st_size;
        range = http_request_header(r, "Range");
        if (range) {
                k = parse_range(range, size, &first, &last);
                if (k == -ERANGE) {
                        (void) snprintf(buf, sizeof buf, "bytes */%" PRIu64, size);
                        (void) http_request_add_header(r, "Content-Range", buf);
                        return http_respond_error(r, 416, "Range",
                                                  "Range \"%.60s\" lies past the end of the %" PRIu64
                                                  "-byte file",
                                                  range, size);
                }
                if (k == 0)
                        status = 206;
        }
        if (status != 206)
                last = size - 1;
        if (size == 0)
                resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
        else {
                resp = MHD_create_response_from_fd_at_offset64(last - first + 1, f, first);
                if (resp)
                        TAKE_FD(f);
        }
        if (!resp)
                return -ENOMEM;
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                       content_type ? content_type : "application/octet-stream");
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
        if (status == 206) {
                (void) snprintf(buf, sizeof buf, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, first, last,
                                size);
                (void) MHD_add_response_header(resp, "Content-Range", buf);
        }
        if (filename) {
                /* RFC 6266 filename*: every byte but unreserved ones %-encoded. */
                _cleanup_free_ char *v = malloc(strlen(filename) * 3 + 64);
                size_t o;

                if (v) {
                        o = (size_t) snprintf(v, 64, "attachment; filename*=UTF-8''");
                        for (const unsigned char *p = (const unsigned char *) filename; *p; p++) {
                                if ((*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') ||
                                    (*p && strchr("-._~", *p)))
                                        v[o++] = (char) *p;
                                else
                                        o += (size_t) snprintf(v + o, 4, "%%%02X", *p);
                        }
                        v[o] = '\0';
                        (void) MHD_add_response_header(resp, "Content-Disposition", v);
                }
        }
        return request_submit(r, status, resp);
}

static enum MHD_Result post_iterator(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *filename, const char *content_type,
                                     const char *transfer_encoding, const char *data, uint64_t off,
                                     size_t size) {
        HttpRequest *r = cls;

        if (!r->body_data || r->phase != PHASE_ROUTED)
                return MHD_NO;
        return r->body_data(r, key, filename, data, size, r->body_userdata) == 0 ? MHD_YES : MHD_NO;
}

int http_request_stream_body(HttpRequest *r, HttpBodyDataFunc on_data, HttpBodyEndFunc on_end,
                             HttpClosedFunc on_closed, void *userdata) {
        const char *ct;

        assert(r);
        assert(on_data);
        assert(on_end);
        if (r->phase != PHASE_ROUTED || !r->in_handler || !(r->route->flags & HTTP_ROUTE_UPLOAD) ||
            r->body_data)
                return -EINVAL;
        ct = http_request_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (ct && strncasecmp(ct, "multipart/form-data", strlen("multipart/form-data")) == 0) {
                r->post = MHD_create_post_processor(r->conn, POST_BUFFER_SIZE, post_iterator, r);
                if (!r->post)
                        return -EBADMSG; /* no boundary= */
        }
        r->body_data = on_data;
        r->body_end = on_end;
        r->body_closed = on_closed;
        r->body_userdata = userdata;
        return 0;
}

/* A part of a streamed body: decoded and handed on; answers parked (see on_access). */
static void body_feed(HttpRequest *r, const char *data, size_t size) {
        int k;

        if (r->post)
                k = MHD_post_process(r->post, data, size) == MHD_YES ? 0 : -EBADMSG;
        else
                k = r->body_data(r, NULL, NULL, data, size, r->body_userdata);
        if (k == 0 && r->phase == PHASE_ROUTED)
                return;
        if (r->phase == PHASE_ROUTED) {
                if (k == -EBADMSG)
                        (void) http_respond_error(r, 400, NULL,
                                                  "the multipart/form-data body is malformed: send the file "
                                                  "as a form field (curl -F file=@PATH)");
                else
                        (void) http_respond_error(r, 500, NULL, "internal error: %s",
                                                  strerror(k < 0 ? -k : EIO));
        }
        body_stop(r);
}

/* The whole body is in: the last of it decoded, then on_end answers. */
static void body_finish(HttpRequest *r) {
        HttpBodyEndFunc end = r->body_end;
        int k;

        if (r->post) {
                struct MHD_PostProcessor *p = TAKE_PTR(r->post);
                if (MHD_destroy_post_processor(p) != MHD_YES && r->phase == PHASE_ROUTED)
                        (void) http_respond_error(
                                r, 400, NULL, "the multipart/form-data body ended early or is malformed");
        }
        if (r->phase != PHASE_ROUTED) {
                body_stop(r);
                return;
        }
        r->body_data = NULL;
        r->body_end = NULL;
        r->body_closed = NULL;
        k = end(r, r->body_userdata);
        if (k < 0 && r->phase == PHASE_ROUTED) {
                log_error_errno(k, "%s: %s %s failed: %m", r->server->name,
                                strempty(http_method_to_string(r->method)), r->path);
                (void) http_respond_error(r, 500, NULL, "internal error: %s", strerror(-k));
        }
}

/* Runs the route's handler once: answers 500 when it fails or returns without answering
 * (or, on an upload route, without streaming the body). */
static void request_run_handler(HttpRequest *r) {
        int k;

        r->handler_ran = true;
        k = r->route->handler(r, r->route_userdata);
        if (r->phase != PHASE_ROUTED || (k >= 0 && r->body_data))
                return;
        body_stop(r);
        if (k < 0) {
                log_error_errno(k, "%s: %s %s failed: %m", r->server->name,
                                strempty(http_method_to_string(r->method)), r->path);
                (void) http_respond_error(r, 500, NULL, "internal error: %s", strerror(-k));
        } else {
                log_error("%s: handler of %s %s returned without answering", r->server->name,
                          strempty(http_method_to_string(r->method)), r->path);
                (void) http_respond_error(r, 500, NULL, "internal error: no response");
        }
}

int http_respond_stream(HttpRequest *r, unsigned status, const char *content_type, HttpClosedFunc on_closed,
                        void *userdata, HttpStream **ret) {
        struct MHD_Response *resp;
        HttpStream *st;
        int k;

        if (!r || r->phase == PHASE_ANSWERED || !ret)
                return -EINVAL;
        st = calloc(1, sizeof *st);
        if (!st)
                return -ENOMEM;
        st->n_ref = 2; /* the request and the MHD response */
        st->req = r;
        st->server = r->server;
        st->on_closed = on_closed;
        st->userdata = userdata;
        st->sse = content_type && startswith(content_type, "text/event-stream");
        if (st->sse) {
                k = sd_event_add_time_relative(r->server->event, &st->heartbeat, CLOCK_MONOTONIC,
                                               STREAM_HEARTBEAT_USEC, 0, on_heartbeat, st);
                if (k < 0) {
                        free(st);
                        return k;
                }
                (void) sd_event_source_set_enabled(st->heartbeat, SD_EVENT_ON);
        }
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_reader, st,
                                                 stream_response_freed);
        if (!resp) {
                sd_event_source_disable_unref(st->heartbeat);
                free(st);
                return -ENOMEM;
        }
        if (content_type)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        if (st->sse)
                (void) MHD_add_response_header(resp, "X-Accel-Buffering", "no");
        r->stream = st;
        k = request_submit(r, status, resp);
        if (k < 0)
                return k; /* the request still owns the stream; it goes with the connection */
        *ret = st;
        return 0;
}

HttpMethod http_request_method(const HttpRequest *r) {
        return r->method;
}
const char *http_request_path(const HttpRequest *r) {
        return r->path;
}

const char *http_request_param(const HttpRequest *r, const char *name) {
        for (size_t i = 0; i < r->n_params; i++)
                if (strlen(name) == r->params[i].name_len &&
                    memcmp(name, r->params[i].name, r->params[i].name_len) == 0)
                        return r->params[i].value;
        return NULL;
}

const char *http_request_query(const HttpRequest *r, const char *name) {
        return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_request_header(const HttpRequest *r, const char *name) {
        return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

void http_request_set_tenant(HttpRequest *r, const char *tenant) {
        r->tenant = tenant;
}

const char *http_request_tenant(const HttpRequest *r) {
        return r->tenant ? r->tenant : HTTP_TENANT_DEFAULT;
}

const char *http_request_body(const HttpRequest *r, size_t *ret_size) {
        if (ret_size)
                *ret_size = r->body_size;
        return r->body ? r->body : "";
}

int http_request_add_header(HttpRequest *r, const char *name, const char *value) {
        int k = strv_extend(&r->headers, name);
        if (k < 0)
                return k;
        return strv_extend(&r->headers, value);
}

/* ---- routing ---- */

/* Matches path against pattern segment by segment; fills r's captures when r is non-NULL. */
static bool route_match(const char *pattern, const char *path, HttpRequest *r) {
        const char *p = pattern, *q = path;
        size_t n_params = 0;

        if (r) {
                for (size_t i = 0; i < r->n_params; i++)
                        free(r->params[i].value);
                r->n_params = 0;
        }
        while (*p && *q) {
                size_t pl, ql;

                if (*p != '/' || *q != '/')
                        return false;
                p++, q++;
                pl = strcspn(p, "/");
                ql = strcspn(q, "/");
                if (pl >= 3 && p[0] == '{' && p[pl - 2] == '*' && p[pl - 1] == '}' && !p[pl]) {
                        /* "{name*}", last: the rest of the path, slashes and all. */
                        ql = strlen(q);
                        if (ql == 0 || n_params >= MAX_PARAMS)
                                return false;
                        if (r) {
                                r->params[n_params].name = p + 1;
                                r->params[n_params].name_len = pl - 3;
                                r->params[n_params].value = strndup(q, ql);
                                if (!r->params[n_params].value)
                                        return false;
                                r->n_params = n_params + 1;
                        }
                        return true;
                }
                if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
                        if (ql == 0 || n_params >= MAX_PARAMS)
                                return false;
                        if (r) {
                                r->params[n_params].name = p + 1;
                                r->params[n_params].name_len = pl - 2;
                                r->params[n_params].value = strndup(q, ql);
                                if (!r->params[n_params].value)
                                        return false;
                                r->n_params = n_params + 1;
                        }
                        n_params++;
                } else if (pl != ql || memcmp(p, q, pl) != 0)
                        return false;
                p += pl;
                q += ql;
        }
        return *p == '\0' && *q == '\0';
}

/* Finds the route; 0, or 404/405 with *ret_allow (malloc'd "GET, POST") for 405. */
static unsigned route_find(HttpServer *server, HttpRequest *r, char **ret_allow) {
        const HttpServer *s = server->primary ?: server;
        unsigned allow = 0;

        for (size_t t = 0; t < s->n_tables; t++)
                for (const HttpRoute *rt = s->tables[t].routes; rt->pattern; rt++) {
                        if (!route_match(rt->pattern, r->path, NULL))
                                continue;
                        allow |= rt->method | (rt->method == HTTP_GET ? HTTP_HEAD : 0);
                        if (rt->method == r->method || (r->method == HTTP_HEAD && rt->method == HTTP_GET)) {
                                if (!route_match(rt->pattern, r->path, r))
                                        return 500;
                                r->route = rt;
                                r->route_userdata = s->tables[t].userdata;
                                return 0;
                        }
                }
        if (allow == 0)
                return 404;
        {
                char buf[128] = "";
                size_t o = 0;
                for (size_t i = 0; i < ELEMENTSOF(method_table); i++)
                        if (allow & method_table[i].method)
                                o += (size_t) snprintf(buf + o, sizeof buf - o, "%s%s", o ? ", " : "",
                                                       method_table[i].name);
                *ret_allow = strdup(buf);
        }
        return 405;
}

static const char *bearer_token(HttpRequest *r) {
        const char *h = http_request_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!h || strncasecmp(h, "Bearer ", 7) != 0)
                return NULL;
        h += 7;
        while (*h == ' ')
                h++;
        return *h ? h : NULL;
}

static enum MHD_Result check_argument(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
        bool *ok = cls;

        if (!utf8_is_valid_text(key, strlen(key)) || (value && !utf8_is_valid_text(value, strlen(value)))) {
                *ok = false;
                return MHD_NO;
        }
        return MHD_YES;
}

/* ---- cross-site requests (see http.h) ---- */

static bool origin_allowed(const char *list, const char *origin) {
        size_t n = strlen(origin);

        for (const char *p = list ? list + strspn(list, ", ") : ""; *p; p += strspn(p, ", ")) {
                size_t len = strcspn(p, ", ");
                if (len == n && strncmp(p, origin, n) == 0)
                        return true;
                p += len;
        }
        return false;
}

static const char *const body_types[] = {
        "application/json", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml",
};

static bool content_type_accepted(const char *ct, bool upload) {
        size_t n = strcspn(ct, "; \t");

        for (size_t i = 0; i < ELEMENTSOF(body_types); i++)
                if (n == strlen(body_types[i]) && strncasecmp(ct, body_types[i], n) == 0)
                        return true;
        if (!upload)
                return false;
        return (n == strlen("multipart/form-data") && strncasecmp(ct, "multipart/form-data", n) == 0) ||
               (n == strlen("application/octet-stream") &&
                strncasecmp(ct, "application/octet-stream", n) == 0);
}

/* Before routing: Host (421) and Origin (403). True when it answered. */
static bool refuse_cross_site(HttpServer *s, HttpRequest *r) {
        const char *host = http_request_header(r, MHD_HTTP_HEADER_HOST);
        const char *origin = http_request_header(r, "Origin");

        if (s->opts.loopback_host_only && !s->unix_socket && host && !http_host_is_loopback(host)) {
                (void) http_respond_error_code(
                        r, 421, API_ERROR_HOST_NOT_ALLOWED, "Host",
                        "Host \"%.100s\" is not this host: without api.tokens_file only "
                        "localhost, 127.0.0.0/8 and [::1] are answered (a web page could "
                        "reach the API through DNS rebinding); set api.tokens_file to "
                        "serve other names",
                        host);
                return true;
        }
        if (origin && !origin_allowed(s->opts.allowed_origins, origin)) {
                (void) http_respond_error_code(
                        r, 403, API_ERROR_ORIGIN_NOT_ALLOWED, "Origin",
                        "Origin \"%.100s\" is not in api.allowed_origins: requests from "
                        "web pages are refused unless their origin is listed there",
                        origin);
                return true;
        }
        return false;
}

/* After routing: the body's Content-Type (415). True when it answered. */
static bool refuse_content_type(HttpRequest *r) {
        const char *ct = http_request_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
        const char *cl = http_request_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        bool has_body;

        if (!(r->method & (HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE)))
                return false;
        has_body = (cl && !streq(cl, "0")) || http_request_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if (ct ? content_type_accepted(ct, r->route->flags & HTTP_ROUTE_UPLOAD) : !has_body)
                return false;
        if (ct)
                (void) http_respond_error(r, 415, "Content-Type",
                                          "Content-Type \"%.100s\" is not accepted: send the body as "
                                          "application/json (a manifest may also be application/yaml or "
                                          "text/yaml)",
                                          ct);
        else
                (void) http_respond_error(r, 415, "Content-Type",
                                          "a request body needs a Content-Type: send it as application/json "
                                          "(a manifest may also be application/yaml or text/yaml)");
        return true;
}

/* First call for a request: route, authenticate, check the announced body size. Returns
 * true when it answered already. */
static bool request_begin(HttpRequest *r) {
        HttpServer *s = r->server;
        _cleanup_free_ char *allow = NULL;
        const char *cl;
        bool args_ok = true;
        unsigned st;

        /* Everything after this quotes the path and arguments back in JSON, logs and store
         * lookups: only text gets that far. */
        (void) MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_argument, &args_ok);
        if (!utf8_is_valid_text(r->path, strlen(r->path)) || !args_ok) {
                (void) http_respond_error_code(
                        r, 400, API_ERROR_INVALID_TEXT, NULL,
                        "the request path or query is not UTF-8 text (after %%-decoding; "
                        "control characters are refused)");
                return true;
        }
        if (refuse_cross_site(s, r))
                return true;
        st = route_find(s, r, &allow);
        if (st == 404) {
                (void) http_respond_error_code(r, 404, API_ERROR_NO_SUCH_ROUTE, NULL,
                                               "no such endpoint: %s %s",
                                               strempty(http_method_to_string(r->method)), r->path);
                return true;
        }
        if (st == 405) {
                (void) http_request_add_header(r, MHD_HTTP_HEADER_ALLOW, strempty(allow));
                (void) http_respond_error(r, 405, NULL, "method %s not allowed on %s (allowed: %s)",
                                          strempty(http_method_to_string(r->method)), r->path,
                                          strempty(allow));
                return true;
        }
        if (st != 0) {
                (void) http_respond_error(r, 500, NULL, "internal error: out of memory");
                return true;
        }
        if (refuse_content_type(r))
                return true;
        const HttpServer *p = s->primary ?: s;
        if (p->auth && !(r->route->flags & HTTP_ROUTE_PUBLIC)) {
                int k = p->auth(r, bearer_token(r), p->auth_userdata);
                if (k < 0) {
                        bool forbidden = k == -EACCES || k == -EPERM;
                        if (!forbidden)
                                (void) http_request_add_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                                               "Bearer realm=\"aegis\"");
                        (void) http_respond_error(
                                r, forbidden ? 403 : 401, NULL, "%s",
                                forbidden
                                        ? "this token may not do that"
                                        : "authentication required: send \"Authorization: Bearer <token>\" "
                                          "with a token from api.tokens_file");
                        return true;
                }
        }
        cl = http_request_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl &&
            !(r->route->flags & HTTP_ROUTE_UPLOAD)) { /* uploads are streamed, bounded by their handler */
                uint64_t n;
                if (safe_atou64(cl, &n) < 0 || n > s->max_body) {
                        (void) http_respond_error(r, 413, NULL, "request body larger than %" PRIu64 " bytes",
                                                  s->max_body);
                        return true;
                }
        }
        return false;
}

static int body_append(HttpRequest *r, const char *data, size_t size) {
        if (r->body_size + size + 1 > r->body_alloc) {
                size_t a = MAX(r->body_alloc * 2, r->body_size + size + 1);
                char *b = realloc(r->body, MAX(a, (size_t) 1024));
                if (!b)
                        return -ENOMEM;
                r->body = b;
                r->body_alloc = MAX(a, (size_t) 1024);
        }
        memcpy(r->body + r->body_size, data, size);
        r->body_size += size;
        r->body[r->body_size] = '\0';
        return 0;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
        HttpServer *s = cls;
        HttpRequest *r = *con_cls;
        enum MHD_Result result = MHD_YES;

        if (!r) {
                HttpConn *c = conn_of(conn);
                if (c)
                        c->waiting_since = 0; /* its request line and headers are complete */
                r = calloc(1, sizeof *r);
                if (!r)
                        return MHD_NO;
                r->server = s;
                r->conn = conn;
                r->method = http_method_from_string(method);
                r->path = strdup(url);
                r->start_usec = now_usec(CLOCK_MONOTONIC);
                LIST_PREPEND(s->requests, r);
                *con_cls = r;
                s->last_activity = r->start_usec;
                if (!r->path)
                        return MHD_NO;
                /* With a body coming, refuse now (404, 401, 413) rather than read it first;
                 * without one, wait for the final call so the connection can stay open. */
                if (http_request_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH) ||
                    http_request_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
                        r->begun = true;
                        r->in_handler = true;
                        /* An upload's handler runs before its body (see http.h). */
                        if (!request_begin(r) && (r->route->flags & HTTP_ROUTE_UPLOAD))
                                request_run_handler(r);
                        r->in_handler = false;
                }
                return MHD_YES;
        }
        if (!r->begun) {
                r->begun = true;
                r->in_handler = true;
                (void) request_begin(r);
                r->in_handler = false;
        }

        if (r->phase == PHASE_ANSWERED && !r->pending) {
                *upload_data_size = 0; /* answered early (404, 413, …): drop the body */
                return MHD_YES;
        }
        if (r->phase == PHASE_ANSWERED && *upload_data_size > 0) {
                /* An upload answered midway (MHD sends nothing before the request is complete):
                 * the rest is read and dropped, within a bound. */
                r->dropped += *upload_data_size;
                *upload_data_size = 0;
                return r->dropped > UPLOAD_DROP_MAX ? MHD_NO : MHD_YES;
        }
        if (*upload_data_size > 0 && r->body_data) {
                /* in_handler stays false: an answer from on_data is parked until the end. */
                body_feed(r, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                /* Over the limit (a chunked body, no Content-Length to refuse early): keep
                 * nothing more and answer 413 once the body is over. */
                if (r->too_large || r->body_size + *upload_data_size > s->max_body)
                        r->too_large = true;
                else if (body_append(r, upload_data, *upload_data_size) < 0)
                        return MHD_NO;
                *upload_data_size = 0;
                return MHD_YES;
        }

        r->in_handler = true;
        if (r->pending) {
                /* An answer produced while the connection was suspended. */
                struct MHD_Response *resp = TAKE_PTR(r->pending);
                result = MHD_queue_response(conn, r->pending_status, resp);
                MHD_destroy_response(resp);
        } else if (r->phase == PHASE_ROUTED && r->too_large) {
                (void) http_respond_error(r, 413, NULL, "request body larger than %" PRIu64 " bytes",
                                          s->max_body);
        } else if (r->phase == PHASE_ROUTED) {
                if (!r->handler_ran)
                        request_run_handler(r);
                if (r->phase == PHASE_ROUTED && r->body_data)
                        body_finish(r);
        } else if (r->phase == PHASE_DEFERRED && s->stopping)
                (void) http_respond_error_code(r, 503, API_ERROR_SHUTTING_DOWN, NULL,
                                               "the server is shutting down");
        if (r->phase == PHASE_DEFERRED && !r->pending) {
                r->suspended = true;
                MHD_suspend_connection(conn);
        }
        r->in_handler = false;
        return result;
}

/* ---- the server ---- */

int http_server_new(sd_event *event, int listen_fd, const HttpServerOptions *opts, HttpServer **ret) {
        _cleanup_(http_server_freep) HttpServer *s = NULL;
        const union MHD_DaemonInfo *info;
        bool sigpipe_ignored;
        int k;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->listen_fd = listen_fd;
        s->name = strdup(opts && opts->name ? opts->name : "http");
        if (opts)
                s->opts = *opts;
        s->opts.name = s->name;
        {
                struct sockaddr_storage ss = {};
                socklen_t len = sizeof ss;
                s->unix_socket = getsockname(listen_fd, (struct sockaddr *) &ss, &len) >= 0 &&
                                 ss.ss_family == AF_UNIX;
        }
        s->max_body = opts && opts->max_body_bytes ? opts->max_body_bytes : DEFAULT_MAX_BODY;
        s->requests_total = opts ? opts->requests_total : NULL;
        s->timeouts_total = opts ? opts->timeouts_total : NULL;
        s->request_timeout_usec =
                (opts && opts->connection_timeout_secs ? opts->connection_timeout_secs : 60) * USEC_PER_SEC;
        s->last_activity = now_usec(CLOCK_MONOTONIC);
        if (!s->name)
                return -ENOMEM;

        k = fd_nonblock(listen_fd, true);
        if (k < 0)
                return k;
        {
                /* MHD sends file responses with sendfile() only when told that SIGPIPE cannot
                 * kill us; else it copies them through a 32 KiB buffer, a few times slower. */
                struct sigaction sa = {};
                sigpipe_ignored = sigaction(SIGPIPE, NULL, &sa) >= 0 && sa.sa_handler == SIG_IGN;
        }
        s->mhd = MHD_start_daemon(
                MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_access, s,
                MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s->name, MHD_OPTION_LISTEN_SOCKET, listen_fd,
                MHD_OPTION_NOTIFY_COMPLETED, on_request_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
                on_connection, s, MHD_OPTION_CONNECTION_LIMIT,
                (unsigned) (opts && opts->connection_limit ? opts->connection_limit : 1024),
                /* Comfortably above the request deadline (which on_deadline() checks every
                 * second): a connection waiting for a request is always closed, and counted, by
                 * on_deadline() first; MHD's timeout only catches a body that stalls. */
                MHD_OPTION_CONNECTION_TIMEOUT,
                (unsigned) (s->request_timeout_usec / USEC_PER_SEC + MHD_TIMEOUT_MARGIN_SECS),
                MHD_OPTION_SIGPIPE_HANDLED_BY_APP, (int) sigpipe_ignored,
                /* The read buffer of a connection: an upload's body arrives in pieces of about
                 * half this, each one trip round the event loop. */
                MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                (size_t) (opts->connection_memory ? opts->connection_memory : CONNECTION_MEMORY_DEFAULT),
                MHD_OPTION_END);
        if (!s->mhd)
                return -EINVAL;
        info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info)
                return -EINVAL;
        k = sd_event_add_io(event, &s->io, info->epoll_fd, EPOLLIN, on_io, s);
        if (k < 0)
                return k;
        k = sd_event_add_time(event, &s->timer, CLOCK_MONOTONIC, UINT64_MAX, 1, on_timer, s);
        if (k < 0)
                return k;
        k = sd_event_add_defer(event, &s->kick, on_kick, s);
        if (k < 0)
                return k;
        k = sd_event_add_time(event, &s->deadline_timer, CLOCK_MONOTONIC, UINT64_MAX, USEC_PER_SEC / 4,
                              on_deadline, s);
        if (k < 0)
                return k;
        /* Before MHD's I/O when both are due in one loop iteration. */
        (void) sd_event_source_set_priority(s->deadline_timer, SD_EVENT_PRIORITY_IMPORTANT);
        (void) sd_event_source_set_enabled(s->deadline_timer, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(s->kick, SD_EVENT_ONESHOT);
        *ret = TAKE_PTR(s);
        return 0;
}

int http_server_add_listener(HttpServer *s, int listen_fd) {
        HttpServer *sibling = NULL;
        int k;

        assert(s);
        assert(!s->primary);
        k = http_server_new(s->event, listen_fd, &s->opts, &sibling);
        if (k < 0)
                return k;
        sibling->primary = s;
        sibling->sibling_next = s->siblings;
        s->siblings = sibling;
        return 0;
}

HttpServer *http_server_free(HttpServer *s) {
        if (!s)
                return NULL;
        while (s->siblings) {
                HttpServer *next = s->siblings->sibling_next;
                http_server_free(s->siblings);
                s->siblings = next;
        }
        s->stopping = true;
        if (s->mhd) {
                /* Owners learn first, then every parked connection is let go so MHD can close it
                 * (MHD must not be stopped with suspended connections). */
                for (HttpRequest *r = s->requests; r; r = r->next) {
                        request_notify_closed(r);
                        if (r->stream)
                                r->stream->failed = true;
                        if (r->suspended) {
                                r->suspended = false;
                                if (r->stream) {
                                        r->stream->suspended = false;
                                        stream_unwatch_peer(r->stream);
                                }
                                MHD_resume_connection(r->conn);
                        }
                }
                (void) MHD_run(s->mhd);
                (void) MHD_quiesce_daemon(s->mhd); /* returns the socket: never shut down */
                MHD_stop_daemon(s->mhd);
        }
        while (s->conns) { /* in case MHD did not report every close */
                HttpConn *c = s->conns;
                s->conns = c->next;
                free(c);
        }
        sd_event_source_disable_unref(s->deadline_timer);
        sd_event_source_disable_unref(s->io);
        sd_event_source_disable_unref(s->timer);
        sd_event_source_disable_unref(s->kick);
        sd_event_unref(s->event);
        free(s->name);
        free(s);
        return NULL;
}

int http_server_add_routes(HttpServer *s, const HttpRoute *routes, void *userdata) {
        if (s->n_tables >= MAX_TABLES)
                return -E2BIG;
        s->tables[s->n_tables++] = (RouteTable){ routes, userdata };
        return 0;
}

void http_server_set_auth(HttpServer *s, HttpAuthFunc f, void *userdata) {
        s->auth = f;
        s->auth_userdata = userdata;
}

unsigned http_server_connections(const HttpServer *s) {
        unsigned n = s->n_connections;

        for (const HttpServer *i = s->siblings; i; i = i->sibling_next)
                n += i->n_connections;
        return n;
}

uint64_t http_server_last_activity(const HttpServer *s) {
        uint64_t t = s->last_activity;

        for (const HttpServer *i = s->siblings; i; i = i->sibling_next)
                t = MAX(t, i->last_activity);
        return t;
}
