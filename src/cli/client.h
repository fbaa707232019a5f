/* client.h — the CLI's HTTP client for aegisd's REST API (libcurl, blocking: a CLI waits).
 *
 * One Client per invocation: the base URL (http://host:port or unix:/path/to.sock), an
 * optional bearer token. Responses are read whole, capped at CLIENT_BODY_MAX; SSE streams
 * are parsed into events handed to a callback. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "macros.h"

#define CLIENT_BODY_MAX (64u * 1024u * 1024u)

typedef struct Client {
        char *base_url; /* "http://127.0.0.1:8088" (no trailing '/') */
        char *unix_socket; /* when the URL was unix:/path */
        char *token; /* bearer token or NULL */
        long timeout_secs; /* per request, 0 = none (streams) */
} Client;

int client_init(Client *c, const char *url, const char *token);
void client_done(Client *c);

typedef struct Response {
        long status;
        char *body; /* NUL-terminated */
        size_t size;
} Response;
void response_done(Response *r);

/* Performs METHOD base_url+path with an optional body. Returns 0 when an HTTP answer came
 * (any status: see r->status) or a negative errno when the server could not be reached,
 * with a message in errbuf (size >= 256). */
int client_request(Client *c, const char *method, const char *path, const char *content_type,
                   const char *body, size_t body_size, Response *ret, char *errbuf);

/* Parses the body as JSON; NULL if it is not JSON. */
json_object *response_json(const Response *r);
/* The "error" (and "field") of an error answer, as one line for a user. */
char *response_error_message(const Response *r);

/* Server-Sent Events: on_event(event type, data, userdata) returns < 0 to fail, 1 to stop,
 * 0 to continue. on_tick is called about every 200 ms (status line redraws). Returns 0
 * when the stream ended or was stopped, or a negative errno. */
typedef int (*client_sse_event_t)(const char *event, const char *data, void *userdata);
typedef void (*client_sse_tick_t)(void *userdata);
int client_stream(Client *c, const char *path, client_sse_event_t on_event, client_sse_tick_t on_tick,
                  void *userdata, long *ret_status, char *errbuf);

/* Streams a plain body to a callback as it arrives (for `logs -f`). */
typedef int (*client_chunk_t)(const char *data, size_t size, void *userdata);
int client_stream_raw(Client *c, const char *path, client_chunk_t on_chunk, void *userdata, long *ret_status,
                      char *errbuf);

/* POSTs F's bytes as the multipart form field "file" named FILE_NAME, read as curl sends
 * them (never whole in memory); SIZE is their length, or -1 when unknown (a pipe: the body
 * is chunked). Returns as client_request(). */
int client_upload(Client *c, const char *path, const char *file_name, FILE *f, int64_t size, Response *ret,
                  char *errbuf);
