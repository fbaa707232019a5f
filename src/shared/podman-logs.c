/* podman-logs.c — GET /containers/{id}/logs, or POST /containers/{id}/attach (the same frames,
 * live), demultiplexed into stdout and stderr.
 *
 * Each stream keeps at most max_bytes (binary-safe); past the bound the bytes are counted but
 * dropped and PODMAN_TRUNCATION_MARKER is appended once, so a runaway agent cannot exhaust the
 * daemon's memory and the reader can see that output is missing. The optional chunk callback
 * sees every byte as it arrives (for live streaming), bounded or not. */
#include <errno.h>
#include <string.h>

#include "podman-internal.h"
#include "podman-sync.h"
#include "util.h"

#define LOGS_DEFAULT_MAX (1024U * 1024U)

typedef struct LogsState {
        PodmanDemux demux;
        PodmanLogOptions opts;
        PodmanLogs logs;
        size_t out_alloc, err_alloc;
} LogsState;

void podman_logs_done(PodmanLogs *l) {
        if (!l)
                return;
        free(l->out);
        free(l->err);
        *l = (PodmanLogs){ 0 };
}

static void logs_state_free(void *p) {
        LogsState *s = p;

        if (!s)
                return;
        podman_logs_done(&s->logs);
        free(s);
}

static int buf_append(char **buf, size_t *size, size_t *alloc, const void *data, size_t n) {
        if (*size + n + 1 > *alloc) {
                size_t want = MAX(*alloc * 2, *size + n + 1);
                char *b = realloc(*buf, MAX(want, (size_t) 256));
                if (!b)
                        return -ENOMEM;
                *buf = b;
                *alloc = MAX(want, (size_t) 256);
        }
        memcpy(*buf + *size, data, n);
        *size += n;
        (*buf)[*size] = '\0';
        return 0;
}

static int logs_emit(PodmanStream stream, const void *data, size_t n, void *userdata) {
        LogsState *s = userdata;
        char **buf;
        size_t *size, *alloc, max = s->opts.max_bytes;
        uint64_t *total;
        bool *truncated;
        int r;

        if (stream == PODMAN_STREAM_STDERR) {
                buf = &s->logs.err, size = &s->logs.err_size, alloc = &s->err_alloc;
                total = &s->logs.err_total, truncated = &s->logs.err_truncated;
        } else {
                buf = &s->logs.out, size = &s->logs.out_size, alloc = &s->out_alloc;
                total = &s->logs.out_total, truncated = &s->logs.out_truncated;
        }
        if (s->opts.on_chunk) {
                r = s->opts.on_chunk(stream, data, n, s->opts.chunk_userdata);
                if (r < 0)
                        return r;
        }
        *total += n;
        if (*truncated)
                return 0;
        if (*size + n > max) {
                size_t keep = max - *size;
                if (buf_append(buf, size, alloc, data, keep) < 0 ||
                    buf_append(buf, size, alloc, PODMAN_TRUNCATION_MARKER,
                               strlen(PODMAN_TRUNCATION_MARKER)) < 0)
                        return -ENOMEM;
                *truncated = true;
                return 0;
        }
        return buf_append(buf, size, alloc, data, n);
}

static int logs_sink(PodmanCall *call, const char *p, size_t n) {
        LogsState *s = call->state;
        int r = podman_demux_feed(&s->demux, p, n, logs_emit, s);

        if (r == -EBADMSG)
                error_set(&call->data_error, r,
                          "%s: the log stream is not multiplexed (8-byte frame headers expected); was the "
                          "container created with a TTY?",
                          call->what);
        else if (r == -ENOMEM)
                error_set(&call->data_error, r, "%s: out of memory", call->what);
        else if (r < 0)
                error_set(&call->data_error, r, "%s: the log consumer stopped the stream", call->what);
        return r;
}

/* The engine answers an attach once it is attached to the container's output. */
static void attach_headers(PodmanCall *call) {
        LogsState *s = call->state;

        if (call->status >= 200 && call->status < 300 && s->opts.on_attached)
                s->opts.on_attached(s->opts.chunk_userdata);
}

static void logs_finish(PodmanCall *call, int r, Error *e) {
        LogsState *s = call->state;
        podman_logs_fn cb = (podman_logs_fn) call->cb;

        if (r >= 0 && podman_demux_finish(&s->demux) < 0)
                r = podman_call_bad_answer(call, e, "the log stream ended inside a frame");
        cb(r, r >= 0 ? &s->logs : NULL, r < 0 ? e : NULL, call->userdata);
}

int podman_container_logs_async(PodmanClient *c, const char *id, const PodmanLogOptions *opts,
                                podman_logs_fn cb, void *userdata, PodmanOp **ret_op) {
        PodmanLogOptions o = opts ? *opts : (PodmanLogOptions){ 0 };
        _cleanup_free_ char *eid = NULL, *path = NULL;
        PodmanCall *call;
        LogsState *s;
        int r;

        if (!cb || isempty(id) || strchr(id, '/'))
                return -EINVAL;
        if (!o.stdout_ && !o.stderr_)
                o.stdout_ = o.stderr_ = true;
        if (o.max_bytes == 0)
                o.max_bytes = LOGS_DEFAULT_MAX;
        eid = podman_escape(id);
        if (!eid)
                return -ENOMEM;
        path = o.attach ? asprintf_safe("/containers/%s/attach?stream=1&stdout=%d&stderr=%d", eid, o.stdout_,
                                        o.stderr_)
                        : asprintf_safe("/containers/%s/logs?stdout=%d&stderr=%d&follow=%d", eid, o.stdout_,
                                        o.stderr_, o.follow);
        if (!path)
                return -ENOMEM;
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        podman_demux_init(&s->demux);
        s->opts = o;
        r = podman_call_new(c, o.attach ? "POST" : "GET", path, o.timeout_usec, &call);
        if (r < 0) {
                free(s);
                return r;
        }
        call->state = s;
        call->free_state = logs_state_free;
        call->sink = logs_sink;
        if (o.attach)
                call->on_headers = attach_headers;
        return podman_call_start(call, logs_finish, cb, userdata, ret_op);
}

static char *memdup_nul(const void *p, size_t n) {
        char *b = malloc(n + 1);

        if (!b)
                return NULL;
        memcpy(b, p, n);
        b[n] = '\0';
        return b;
}

static void logs_sync_cb(int r, const PodmanLogs *logs, const Error *e, void *userdata) {
        PodmanSync *sync = userdata;
        PodmanLogs *dst = sync->result;

        if (r >= 0) {
                *dst = *logs;
                dst->out = dst->err = NULL;
                if (logs->out && !(dst->out = memdup_nul(logs->out, logs->out_size)))
                        r = -ENOMEM;
                if (logs->err && !(dst->err = memdup_nul(logs->err, logs->err_size)))
                        r = -ENOMEM;
        }
        podman_sync_done(r, e, sync);
}

int podman_container_logs(PodmanClient *c, const char *id, const PodmanLogOptions *opts, PodmanLogs *ret,
                          Error *e) {
        PodmanLogs logs = { 0 };

        PODMAN_SYNC_BEGIN(c, e);
        sync.result = &logs;
        r = podman_container_logs_async(priv, id, opts, logs_sync_cb, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        if (r < 0) {
                podman_logs_done(&logs);
                return r;
        }
        *ret = logs;
        return 0;
}
