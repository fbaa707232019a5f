/* curl-event.c — libcurl's multi interface on sd-event (curl-event.h).
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to call it back
 * (CURLMOPT_TIMERFUNCTION); we turn those into io sources and one timer, and after each
 * curl_multi_socket_action() hand finished transfers to the owner's done(). Invariant: an io
 * source exists exactly for the sockets curl asked us to watch and dies with CURL_POLL_REMOVE
 * or with the CurlEvent. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "curl-event.h"
#include "util.h"

struct CurlEvent {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        char *description;
        curl_event_done_fn done;
        void *userdata;
};

typedef struct CurlEventIo {
        curl_socket_t fd;
        sd_event_source *source;
} CurlEventIo;

static bool curl_initialized;

int curl_event_global_init(void) {
        if (curl_initialized)
                return 0;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        curl_initialized = true;
        return 0;
}

static void process_done(CurlEvent *ce) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(ce->multi, &left))) {
                CURL *easy;
                CURLcode result;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                easy = msg->easy_handle;
                result = msg->data.result;
                (void) curl_multi_remove_handle(ce->multi, easy);
                ce->done(easy, result, ce->userdata);
        }
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CurlEvent *ce = userdata;
        int action = 0, running;

        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;
        (void) curl_multi_socket_action(ce->multi, fd, action, &running);
        process_done(ce);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        curl_event_kick(userdata);
        return 0;
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        CurlEvent *ce = userp;
        CurlEventIo *io = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        sd_event_source_disable_unref(io->source);
                        (void) curl_multi_assign(ce->multi, fd, NULL);
                        free(io);
                }
                return 0;
        }
        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;
        if (io) {
                if (sd_event_source_set_io_events(io->source, events) < 0 ||
                    sd_event_source_set_enabled(io->source, SD_EVENT_ON) < 0)
                        return -1;
                return 0;
        }
        io = calloc(1, sizeof *io);
        if (!io)
                return -1;
        io->fd = fd;
        if (sd_event_add_io(ce->event, &io->source, fd, events, on_io, ce) < 0) {
                free(io);
                return -1;
        }
        (void) sd_event_source_set_description(io->source, ce->description);
        if (curl_multi_assign(ce->multi, fd, io) != CURLM_OK) {
                sd_event_source_disable_unref(io->source);
                free(io);
                return -1;
        }
        return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
        CurlEvent *ce = userp;
        uint64_t when;

        if (timeout_ms < 0) {
                if (ce->timer)
                        (void) sd_event_source_set_enabled(ce->timer, SD_EVENT_OFF);
                return 0;
        }
        when = now_usec(CLOCK_MONOTONIC) + (uint64_t) timeout_ms * USEC_PER_MSEC + 1;
        if (ce->timer) {
                if (sd_event_source_set_time(ce->timer, when) < 0 ||
                    sd_event_source_set_enabled(ce->timer, SD_EVENT_ONESHOT) < 0)
                        return -1;
                return 0;
        }
        /* Accuracy 1 µs: 0 would mean sd-event's default of 250 ms, and curl's "act now"
         * (timeout 0) would wait for it. */
        if (sd_event_add_time(ce->event, &ce->timer, CLOCK_MONOTONIC, when, 1, on_timer, ce) < 0)
                return -1;
        (void) sd_event_source_set_description(ce->timer, ce->description);
        return 0;
}

int curl_event_new(sd_event *event, const char *description, curl_event_done_fn done, void *userdata,
                   CurlEvent **ret) {
        _cleanup_(curl_event_freep) CurlEvent *ce = NULL;
        int r;

        assert(event);
        assert(done);
        assert(ret);
        r = curl_event_global_init();
        if (r < 0)
                return r;
        ce = calloc(1, sizeof *ce);
        if (!ce)
                return -ENOMEM;
        ce->event = sd_event_ref(event);
        ce->done = done;
        ce->userdata = userdata;
        ce->description = strdup(description ? description : "curl");
        ce->multi = curl_multi_init();
        if (!ce->description || !ce->multi)
                return -ENOMEM;
        if (curl_multi_setopt(ce->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
            curl_multi_setopt(ce->multi, CURLMOPT_SOCKETDATA, ce) != CURLM_OK ||
            curl_multi_setopt(ce->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
            curl_multi_setopt(ce->multi, CURLMOPT_TIMERDATA, ce) != CURLM_OK)
                return -ENOMEM;
        *ret = TAKE_PTR(ce);
        return 0;
}

CurlEvent *curl_event_free(CurlEvent *ce) {
        if (!ce)
                return NULL;
        /* curl_multi_cleanup() reports every socket as removed, freeing the io sources. */
        if (ce->multi)
                (void) curl_multi_cleanup(ce->multi);
        sd_event_source_disable_unref(ce->timer);
        sd_event_unref(ce->event);
        free(ce->description);
        free(ce);
        return NULL;
}

sd_event *curl_event_get_event(CurlEvent *ce) {
        assert(ce);
        return ce->event;
}

int curl_event_add(CurlEvent *ce, CURL *easy) {
        CURLMcode mc;

        assert(ce);
        assert(easy);
        mc = curl_multi_add_handle(ce->multi, easy);
        if (mc == CURLM_ADDED_ALREADY || mc == CURLM_BAD_EASY_HANDLE)
                return -EINVAL;
        return mc == CURLM_OK ? 0 : -ENOMEM;
}

void curl_event_remove(CurlEvent *ce, CURL *easy) {
        assert(ce);
        if (easy)
                (void) curl_multi_remove_handle(ce->multi, easy);
}

void curl_event_kick(CurlEvent *ce) {
        int running;

        assert(ce);
        (void) curl_multi_socket_action(ce->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        process_done(ce);
}
