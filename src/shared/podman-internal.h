/* podman-internal.h — what the podman-*.c files share: the client, one HTTP call (a PodmanOp),
 * and small JSON helpers. Not for use outside src/shared/podman-*.c.
 *
 * A call is one curl easy handle plus the bookkeeping of one public operation. Its life:
 * podman_call_new() → configure (body, streaming sink, op state) → podman_call_start() queues
 * it; a deferred event source adds it to the curl multi handle (so calls may be started from
 * inside curl callbacks, e.g. an events stream reacting to "die"); when curl reports it done,
 * the call's finish() runs with the HTTP status and the transport result and is responsible
 * for invoking the user's callback; then the call is freed. Cancelled calls are only marked
 * and reaped from the deferred source, for the same reentrancy reason. */
#pragma once

#include <curl/curl.h>
#include <json-c/json.h>

#include "curl-event.h"
#include "json-body.h"
#include "podman.h"

/* Bound on a buffered (non-streamed) response body. */
#define PODMAN_RESPONSE_MAX (16U * 1024U * 1024U)

typedef struct PodmanCall PodmanCall;

/* The handle the caller holds: it follows an operation across the calls it chains (create →
 * put files, inspect → pull → inspect). */
struct PodmanOp {
        PodmanCall *call;
};

/* Receives each chunk of a 2xx response body when set; returns < 0 (with call->data_error set)
 * to abort the transfer. */
typedef int (*podman_sink_fn)(PodmanCall *call, const char *p, size_t n);
/* Runs once when the transfer ends (r < 0 with e filled on failure, else the status is 2xx or
 * 304); must call the user's callback. */
typedef void (*podman_finish_fn)(PodmanCall *call, int r, Error *e);

struct PodmanCall {
        PodmanClient *client;
        PodmanCall *prev, *next;
        PodmanOp *op; /* NULL once cancelled (or for a call nobody can cancel) */
        CURL *easy;
        struct curl_slist *headers;
        char *what; /* "POST /v1.41/containers/create", for messages */
        char *request_body;
        size_t request_size;
        char *body; /* the buffered response (error bodies always buffer) */
        size_t body_size, body_max;
        long status;
        bool added, done, cancelled;
        uint64_t not_before_usec; /* CLOCK_MONOTONIC; the call is sent no earlier (retries) */
        uint64_t timeout_usec;
        podman_sink_fn sink;
        podman_finish_fn finish;
        /* Runs once when the response headers are complete (before any body); must not call
         * curl, but may start other calls. */
        void (*on_headers)(PodmanCall *call);
        bool headers_seen;
        Error data_error; /* set by a sink that aborted */
        /* The operation's own state and its user callback. */
        void *state;
        void (*free_state)(void *state);
        void *cb;
        void *userdata;
        char errbuf[CURL_ERROR_SIZE];
};

struct PodmanClient {
        char *socket_path;
        sd_event *event;
        CurlEvent *curl; /* the multi handle on event */
        sd_event_source *defer;
        sd_event_source *delay; /* wakes the deferred source for calls with not_before_usec */
        PodmanCall *calls;
        size_t n_calls;
        PodmanVersion version;
        bool have_version;
};

/* A call for METHOD path (path without the /v1.41 prefix, query included); timeout 0 = default. */
int podman_call_new(PodmanClient *c, const char *method, const char *path, uint64_t timeout_usec,
                    PodmanCall **ret);
/* Request body: takes ownership of body (malloc'd), sets Content-Type. */
int podman_call_set_body(PodmanCall *call, char *body, size_t size, const char *content_type);
int podman_call_set_json_body(PodmanCall *call, json_object *o);
int podman_call_add_header(PodmanCall *call, const char *header);
/* Hands the call to the client: it runs from the event loop. On failure the call is freed. */
int podman_call_start(PodmanCall *call, podman_finish_fn finish, void *cb, void *userdata,
                      PodmanOp **ret_op);
void podman_call_free(PodmanCall *call);
/* Ends a call that is still running with e (its finish runs, then it is freed). Not from
 * inside a curl callback. */
void podman_call_fail(PodmanCall *call, Error *e);
/* From a finish(): continues the same operation with next (op handle, state, callback and
 * userdata move over) and starts it. On failure next is freed and prev keeps everything. */
int podman_call_continue(PodmanCall *prev, PodmanCall *next, podman_finish_fn finish);

/* The parsed buffered body (NULL when empty or not JSON). */
json_object *podman_call_json(PodmanCall *call);
/* Fills e for a response the operation cannot use ("unexpected answer"). */
int podman_call_bad_answer(PodmanCall *call, Error *e, const char *why);

/* Runs the loop of c until *done; used by the synchronous wrappers. */
int podman_client_run_until(PodmanClient *c, const bool *done);
/* A client with a private loop on the same socket, sharing the recorded version. */
int podman_client_clone_private(PodmanClient *c, PodmanClient **ret);
void podman_client_record_version(PodmanClient *c, const PodmanVersion *v);

/* How to turn one element of an engine's JSON list into an item of item_size bytes: parse()
 * fills *ret_item and returns 1 to keep it, 0 to pass over the element (the slot left empty),
 * or -ENOMEM (the slot left empty); done() frees a kept item's members. */
typedef struct PodmanListParser {
        size_t item_size;
        int (*parse)(json_object *o, void *ret_item, void *userdata);
        void (*done)(void *item);
} PodmanListParser;
/* Parses the JSON array a (the caller has checked it is one) with p into a new array of the
 * kept items. On failure (e filled, "out of memory") the items parsed so far are freed and
 * nothing is returned. */
int podman_parse_list(json_object *a, const PodmanListParser *p, void *userdata, void **ret, size_t *ret_n,
                      Error *e);

/* The URL-encoded filters={"label":[…]} value (NULL filters = aegis.managed=true). */
char *podman_label_filters_query(char *const *label_filters);

/* "Docker" when c is known to talk to Docker, else "Podman": the engine's name in messages. */
const char *podman_engine_label(const PodmanClient *c);

/* Percent-encodes s for a URL path segment or query value. */
char *podman_escape(const char *s);

/* "2024-01-02T03:04:05.123456789+01:00" (or Z) → CLOCK_REALTIME µs; 0 when unparsable. */
uint64_t podman_parse_rfc3339(const char *s);
