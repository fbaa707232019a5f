/* http.h — aegisd's HTTP server: libmicrohttpd driven by sd-event, a route table, JSON
 * responses, deferred responses and streams (Server-Sent Events, followed logs).
 *
 * One HttpServer serves one listening socket (api, metrics) on the daemon's sd-event loop,
 * single-threaded: MHD runs in "external polling" mode with its epoll fd registered in
 * sd-event (as systemd-journal-remote does), so handlers run on the loop thread and may touch
 * any daemon state without locks — and must never block.
 *
 * Routes. Modules export tables and the daemon adds them:
 *
 *     static int get_execution(HttpRequest *r, void *userdata) {
 *             const char *id = http_request_param(r, "id");
 *             …
 *             return http_respond_json(r, 200, obj);
 *     }
 *     const HttpRoute api_execution_routes[] = {
 *             { HTTP_GET, "/v1/executions/{id}", get_execution },
 *             { HTTP_POST, "/v1/executions/{id}/cancel", cancel_execution },
 *             {}
 *     };
 *     http_server_add_routes(server, api_execution_routes, daemon);
 *
 * A pattern is a path whose "{name}" segments capture one non-empty path segment (already
 * %-decoded by MHD); a last segment "{name*}" captures the rest of the path, slashes and all. Paths that match no pattern get 404 {"error":…}; a path that matches
 * with another method gets 405 with "Allow:". GET routes answer HEAD too. The request body
 * (bounded by max_body_bytes, else 413) is read completely before the handler runs. A path
 * or query argument that is not UTF-8 text (after %-decoding; no control characters) gets 400
 * before routing, so handlers only ever see text.
 *
 * A handler answers exactly once, by one of:
 *   - http_respond*(): a complete response, now;
 *   - http_request_defer(): answer later (from any sd-event callback) with http_respond*();
 *   - http_respond_stream(): headers now, then http_stream_*() writes from callbacks.
 * Returning a negative errno without answering gives 500 {"error":"internal error: …"}.
 *
 * Errors are JSON: {"error":"message","code":"not_found","field":"spec.image"} ("field" only
 * when known; "code" from api-error.h, by default the one of the status).
 *
 * Cross-site requests (issue 19: a web page must not drive a loopback API), refused before
 * any handler runs, health and metrics included:
 *   - 421 when loopback_host_only and the Host header is not localhost, 127.0.0.0/8 or [::1]
 *     (with any port): a DNS-rebinding page sends its own name (not on a unix socket);
 *   - 403 when an Origin header is not one of allowed_origins (browsers send it on every
 *     cross-origin request and every POST);
 *   - 415 when a POST, PUT, PATCH or DELETE has a Content-Type other than application/json,
 *     application/yaml, application/x-yaml, text/yaml or text/x-yaml (multipart/form-data
 *     too on HTTP_ROUTE_UPLOAD routes), or a body without a Content-Type: what a browser
 *     sends cross-site without a preflight (text/plain, a form) never reaches a route.
 *
 * Uploads (HTTP_ROUTE_UPLOAD routes) are streamed, never held whole: their handler runs as
 * soon as the headers are in, before any of the body, and either answers at once (the body
 * is then dropped: a 404 or 413 costs no upload) or calls http_request_stream_body(). They
 * also take multipart/form-data and application/octet-stream bodies, and max_body_bytes does
 * not bound them: the handler bounds what it accepts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "api-error.h"
#include "error.h"
#include "macros.h"

struct json_object;

typedef enum HttpMethod {
        HTTP_GET = 1 << 0,
        HTTP_HEAD = 1 << 1,
        HTTP_POST = 1 << 2,
        HTTP_PUT = 1 << 3,
        HTTP_DELETE = 1 << 4,
        HTTP_PATCH = 1 << 5,
        HTTP_OPTIONS = 1 << 6,
} HttpMethod;

const char *http_method_to_string(HttpMethod m);

typedef struct HttpServer HttpServer;
typedef struct HttpRequest HttpRequest;
typedef struct HttpStream HttpStream;

typedef int (*HttpHandler)(HttpRequest *r, void *userdata);
typedef void (*HttpClosedFunc)(void *userdata);

typedef enum HttpRouteFlags {
        HTTP_ROUTE_PUBLIC = 1 << 0, /* no authentication (health, metrics) */
        HTTP_ROUTE_UPLOAD = 1 << 1, /* also takes multipart/form-data bodies (file uploads) */
} HttpRouteFlags;

typedef struct HttpRoute {
        HttpMethod method; /* one method per line; add one line per method */
        const char *pattern; /* "/v1/executions/{id}/events" */
        HttpHandler handler;
        HttpRouteFlags flags;
} HttpRoute; /* tables end with an entry whose pattern is NULL */

/* Authentication hook: 0 lets the request through; a negative errno refuses it with 401
 * (-EACCES/-EPERM: 403) and msg as the error. bearer is the token of "Authorization: Bearer
 * …" or NULL. Not called for HTTP_ROUTE_PUBLIC routes. */
typedef int (*HttpAuthFunc)(HttpRequest *r, const char *bearer, void *userdata);
/* Asked before an idle exit: return true while something (a live execution) needs us. */
typedef bool (*HttpBusyFunc)(void *userdata);

typedef struct HttpServerOptions {
        const char *name; /* "api", "metrics": for logs */
        uint64_t max_body_bytes; /* 0 = 8 MiB */
        unsigned connection_limit; /* 0 = 1024 */
        /* A connection silent for this long, or without a complete request (line and headers)
         * this long after it opened or its previous request ended, is closed. 0 = 60. */
        unsigned connection_timeout_secs;
        /* Counter with one label, "code": every request once it ends, by the status it got
         * ("none" when the client went away before an answer). NULL = not counted. */
        struct Metric *requests_total;
        /* Counter without labels: connections closed for want of a complete request in time
         * (silent clients, slowloris). NULL = not counted. */
        struct Metric *timeouts_total;
        /* Cross-site requests (see "Cross-site requests" above). The origins a request with an
         * Origin header may come from, separated by spaces or commas (api.allowed_origins;
         * must outlive the server); NULL = none. */
        const char *allowed_origins;
        /* 421 to a request whose Host is not loopback (no tokens: DNS rebinding). */
        bool loopback_host_only;
        /* Each connection's memory pool, its read buffer included (0 = MHD's 32 KiB). Every
         * connection maps and clears it, which costs small requests; uploads want more. */
        size_t connection_memory;
} HttpServerOptions;

/* Serve listen_fd (a listening stream socket; not closed, never shut down: it may be
 * systemd's) on event. */
int http_server_new(sd_event *event, int listen_fd, const HttpServerOptions *opts, HttpServer **ret);
/* Ends every stream and deferred request (their on_closed runs), stops serving, frees. The
 * listening socket stays open and untouched (the caller owns it). */
HttpServer *http_server_free(HttpServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpServer *, http_server_free);

/* Serves one more listening socket (another address of the same service: aegis.socket listens
 * on 127.0.0.1 and [::1]) with s's options, routes and authentication; its connections count
 * in s's http_server_connections() and last activity. Freed with s. */
int http_server_add_listener(HttpServer *s, int listen_fd);

/* Adds a route table (terminated by a NULL pattern; it must outlive the server). Earlier
 * tables win when two patterns match. */
int http_server_add_routes(HttpServer *s, const HttpRoute *routes, void *userdata);
void http_server_set_auth(HttpServer *s, HttpAuthFunc f, void *userdata);

/* Connections open now (requests in progress, streams, keep-alive) and when the last
 * request started or a connection ended (CLOCK_MONOTONIC µs): for idle exit. */
unsigned http_server_connections(const HttpServer *s);
uint64_t http_server_last_activity(const HttpServer *s);

/* ---- requests ---- */
HttpMethod http_request_method(const HttpRequest *r);
const char *http_request_path(const HttpRequest *r);
/* A "{name}" capture of the route's pattern, or NULL. */
const char *http_request_param(const HttpRequest *r, const char *name);
/* A query-string argument ("?follow=true"), or NULL. */
const char *http_request_query(const HttpRequest *r, const char *name);
/* A request header (case-insensitive name), or NULL. */
const char *http_request_header(const HttpRequest *r, const char *name);
/* The tenant the request acts for: set by the authentication hook from the token (the string
 * must outlive the request), HTTP_TENANT_DEFAULT without authentication or tenant. */
#define HTTP_TENANT_DEFAULT "default"
void http_request_set_tenant(HttpRequest *r, const char *tenant);
const char *http_request_tenant(const HttpRequest *r);
/* The body (NUL-terminated for convenience; size excludes the NUL), "" when none. */
const char *http_request_body(const HttpRequest *r, size_t *ret_size);
/* Adds a header to the response this request will get (before responding). */
int http_request_add_header(HttpRequest *r, const char *name, const char *value);

/* Streams the body of an HTTP_ROUTE_UPLOAD request, from its handler (which then returns 0
 * without answering). The body reaches on_data as it arrives and is never kept: a
 * multipart/form-data body decoded (each part's bytes, with its field name and file name,
 * possibly in several calls), any other body as is (field and filename NULL). on_data returns
 * 0 to go on, or answers (http_respond*(): the answer is sent once the client has sent the
 * rest, which is read and dropped) and returns 1; a negative errno answers 500. on_end runs
 * once the body is complete and must answer (or defer). on_closed runs instead of on_end when
 * the client goes away or the server stops first (remove what was half written there). */
typedef int (*HttpBodyDataFunc)(HttpRequest *r, const char *field, const char *filename, const void *data,
                                size_t size, void *userdata);
typedef int (*HttpBodyEndFunc)(HttpRequest *r, void *userdata);
int http_request_stream_body(HttpRequest *r, HttpBodyDataFunc on_data, HttpBodyEndFunc on_end,
                             HttpClosedFunc on_closed, void *userdata);

/* ---- responses ---- */
int http_respond(HttpRequest *r, unsigned status, const char *content_type, const void *body, size_t size);
/* A regular file's bytes (fd is taken over and closed in every case), with Content-Length,
 * "Accept-Ranges: bytes" and, for a "Range: bytes=…" request of one range, 206 with
 * Content-Range (416 when it lies past the end). filename non-NULL: a Content-Disposition
 * attachment header naming it. */
int http_respond_file(HttpRequest *r, int fd, const char *content_type, const char *filename);
/* Serializes o (the caller keeps its reference) with a trailing newline. */
int http_respond_json(HttpRequest *r, unsigned status, struct json_object *o);
/* The same, then drops the caller's reference to o (the handlers' usual last step). */
int http_respond_json_unref(HttpRequest *r, unsigned status, struct json_object *o);
/* {"error": message, "code": the status's code, "field": field} — field may be NULL. */
int http_respond_error(HttpRequest *r, unsigned status, const char *field, const char *fmt, ...)
        _printf_(4, 5);
/* The same with a code other than that of the status (api-error.h). */
int http_respond_error_code(HttpRequest *r, unsigned status, ApiErrorCode code, const char *field,
                            const char *fmt, ...) _printf_(5, 6);
/* From an Error: status error_http_status(e), its message and field. */
int http_respond_error_from(HttpRequest *r, const Error *e);
int http_respond_error_from_code(HttpRequest *r, const Error *e, ApiErrorCode code);

/* Answer later. The request stays valid until it is answered with http_respond*() or
 * http_respond_stream(), or until on_closed(userdata) runs (the server is going away); after
 * either, forget the pointer. on_closed may be NULL. */
int http_request_defer(HttpRequest *r, HttpClosedFunc on_closed, void *userdata);

/* ---- streams ---- */
/* Sends status and headers now; the body is written later, chunked, from any callback.
 * on_closed(userdata) runs once if the stream ends for any reason other than
 * http_stream_end() (client gone, write error, too slow a reader, server stopping); after it
 * returns, the stream pointer is invalid. The server sends an SSE comment every 15 s while a
 * text/event-stream is idle, so a client that went away is noticed. */
int http_respond_stream(HttpRequest *r, unsigned status, const char *content_type, HttpClosedFunc on_closed,
                        void *userdata, HttpStream **ret);
/* Queue bytes (copied). -ENOBUFS when the client lags more than 4 MiB behind: the stream is
 * then closed (on_closed runs later, from the loop, never from inside this call). */
int http_stream_write(HttpStream *s, const void *data, size_t size);
int http_stream_printf(HttpStream *s, const char *fmt, ...) _printf_(2, 3);
/* One Server-Sent Event: "id: …\nevent: …\ndata: …\n\n"; data may span lines (each becomes
 * a "data:" line); event and id may be NULL. */
int http_stream_sse(HttpStream *s, const char *event, const char *id, const char *data);
/* Finish: what was written is still delivered, then the response ends. on_closed will not
 * run; the pointer is invalid after this call. */
void http_stream_end(HttpStream *s);
