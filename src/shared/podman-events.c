/* podman-events.c — the engine's event stream (GET /events), one JSON object per line, turned
 * into PodmanEvent callbacks for the containers carrying our labels.
 *
 * Only type=container is filtered by the engine; the label filter is applied here on the
 * event's attributes, because engines differ in which event filters they accept and an
 * unsupported one would fail the whole stream. Lines are bounded in size. */
#include <errno.h>
#include <string.h>

#include "podman-internal.h"
#include "util.h"

#define EVENT_LINE_MAX (256U * 1024U)

int podman_event_parse(const char *line, size_t size, PodmanEvent *ret, json_object **ret_json) {
        json_object *o, *attrs;
        const char *code;
        int64_t t;
        int r;

        r = json_parse_object(line, size, 16, &o);
        if (r < 0)
                return r;
        attrs = json_get_path(o, "Actor", "Attributes", NULL);
        *ret = (PodmanEvent){
                .type = json_get_string(o, "Type") ?: json_get_string(o, "type"),
                .action = json_get_string(o, "Action") ?: json_get_string(o, "status"),
                .id = json_get_string(json_get(o, "Actor"), "ID") ?: json_get_string(o, "id"),
                .name = json_get_string(attrs, "name"),
                .execution_id = json_get_string(attrs, PODMAN_LABEL_EXECUTION_ID),
                .exit_code = -1,
        };
        if (!ret->type || !ret->action) {
                json_object_put(o);
                return -EBADMSG;
        }
        code = json_get_string(attrs, "containerExitCode") ?: json_get_string(attrs, "exitCode");
        if (code) {
                int64_t v;
                if (safe_atoi64(code, &v) >= 0)
                        ret->exit_code = v;
        }
        t = json_get_int(o, "timeNano", NULL);
        if (t <= 0) {
                t = json_get_int(o, "time", NULL);
                t = t > 0 && t < INT64_MAX / (int64_t) NSEC_PER_SEC ? t * (int64_t) NSEC_PER_SEC : 0;
        }
        ret->time_nsec = t > 0 ? (uint64_t) t : 0;
        *ret_json = o;
        return 0;
}

typedef struct EventsState {
        char **labels; /* "k=v" the event's attributes must all carry */
        podman_event_fn on_event;
        char *line;
        size_t line_size;
        bool stopped;
} EventsState;

static void events_state_free(void *p) {
        EventsState *s = p;

        if (!s)
                return;
        strv_free(s->labels);
        free(s->line);
        free(s);
}

static bool labels_match(json_object *attrs, char *const *labels) {
        for (size_t i = 0; labels && labels[i]; i++) {
                const char *eq = strchr(labels[i], '=');
                _cleanup_free_ char *k = eq ? strndup(labels[i], eq - labels[i]) : strdup(labels[i]);
                const char *v = k ? json_get_string(attrs, k) : NULL;
                if (!v || (eq && !streq(v, eq + 1)))
                        return false;
        }
        return true;
}

static int events_line(PodmanCall *call, const char *line, size_t n) {
        EventsState *s = call->state;
        json_object *j;
        PodmanEvent ev;
        int r;

        if (podman_event_parse(line, n, &ev, &j) < 0)
                return 0; /* not an event we understand: skip, do not kill the stream */
        if (streq(ev.type, "container") &&
            labels_match(json_get_path(j, "Actor", "Attributes", NULL), s->labels)) {
                r = s->on_event(&ev, call->userdata);
                if (r < 0) {
                        s->stopped = true;
                        error_set(&call->data_error, -ECANCELED, "stopped by the consumer");
                        json_object_put(j);
                        return r;
                }
        }
        json_object_put(j);
        return 0;
}

static int events_sink(PodmanCall *call, const char *p, size_t n) {
        EventsState *s = call->state;

        for (size_t i = 0; i < n; i++) {
                if (p[i] == '\n') {
                        if (s->line_size > 0) {
                                size_t len = s->line_size;
                                s->line_size = 0;
                                if (events_line(call, s->line, len) < 0)
                                        return -ECANCELED;
                        }
                        continue;
                }
                if (s->line_size >= EVENT_LINE_MAX) {
                        error_set(&call->data_error, -EFBIG, "%s: an event exceeds %u bytes", call->what,
                                  EVENT_LINE_MAX);
                        return -EFBIG;
                }
                if (!s->line && !(s->line = malloc(EVENT_LINE_MAX))) {
                        error_set(&call->data_error, -ENOMEM, "out of memory");
                        return -ENOMEM;
                }
                s->line[s->line_size++] = p[i];
        }
        return 0;
}

static void events_finish(PodmanCall *call, int r, Error *e) {
        EventsState *s = call->state;

        if (s->stopped)
                r = 0;
        ((podman_done_fn) call->cb)(r, r < 0 ? e : NULL, call->userdata);
}

int podman_events_async(PodmanClient *c, char *const *label_filters, uint64_t since_usec,
                        uint64_t timeout_usec, podman_event_fn on_event, podman_done_fn done, void *userdata,
                        PodmanOp **ret_op) {
        char *const managed[] = { (char *) PODMAN_LABEL_MANAGED "=true", NULL };
        _cleanup_free_ char *filters = NULL, *path = NULL;
        EventsState *s;
        PodmanCall *call;
        int r;

        if (!on_event || !done)
                return -EINVAL;
        filters = podman_escape("{\"type\":[\"container\"]}");
        if (!filters)
                return -ENOMEM;
        if (since_usec > 0)
                path = asprintf_safe("/events?filters=%s&since=%" PRIu64, filters,
                                     since_usec / USEC_PER_SEC);
        else
                path = asprintf_safe("/events?filters=%s", filters);
        s = calloc(1, sizeof *s);
        if (!path || !s) {
                free(s);
                return -ENOMEM;
        }
        s->on_event = on_event;
        s->labels = strv_copy(label_filters ? label_filters : managed);
        if (!s->labels) {
                events_state_free(s);
                return -ENOMEM;
        }
        r = podman_call_new(c, "GET", path, timeout_usec ? timeout_usec : UINT64_MAX, &call);
        if (r < 0) {
                events_state_free(s);
                return r;
        }
        call->state = s;
        call->free_state = events_state_free;
        call->sink = events_sink;
        return podman_call_start(call, events_finish, done, userdata, ret_op);
}
