/* curl-event.h — libcurl's multi interface driven by an sd-event loop (sockets and one timer,
 * as systemd's curl-util.c): the glue the Podman driver and the LLM providers share.
 *
 * The owner creates easy handles, adds them with curl_event_add() and learns of each finished
 * transfer through the done callback given at creation (it finds its own state through
 * CURLINFO_PRIVATE). Invariants: done() runs once per finished transfer, after the handle has
 * been removed from the multi handle (so it may free the easy handle and add new ones); it
 * never runs from inside curl_event_add(); a handle removed with curl_event_remove() before it
 * finished never reaches done(). Not for use from inside a curl callback (write, header). */
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include "macros.h"

typedef struct CurlEvent CurlEvent;

/* A transfer ended: result is its CURLcode (CURLE_OK for any HTTP answer). */
typedef void (*curl_event_done_fn)(CURL *easy, CURLcode result, void *userdata);

/* curl_global_init() once per process, before the first easy handle. */
int curl_event_global_init(void);

/* description names the event sources ("podman", "llm"). */
int curl_event_new(sd_event *event, const char *description, curl_event_done_fn done, void *userdata,
                   CurlEvent **ret);
/* Transfers still added are removed (no done()); the easy handles stay the owner's. */
CurlEvent *curl_event_free(CurlEvent *ce);
DEFINE_TRIVIAL_CLEANUP_FUNC(CurlEvent *, curl_event_free);

sd_event *curl_event_get_event(CurlEvent *ce);

/* Starts easy: -ENOMEM (or -EINVAL when it is already added somewhere). */
int curl_event_add(CurlEvent *ce, CURL *easy);
/* Stops easy if it is running; done() will not run for it. */
void curl_event_remove(CurlEvent *ce, CURL *easy);
/* Lets curl act on what was added now rather than at its next timer, then reports finished
 * transfers. */
void curl_event_kick(CurlEvent *ce);
