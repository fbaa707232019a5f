/* podman-lifecycle.c — the verbs on an existing container: put files, wait, start, stop, kill,
 * remove, inspect, list; and parsing the engine's container descriptions (inspect and list
 * use different shapes: State object vs string, Name vs Names, RFC 3339 vs Unix Created).
 *
 * Invariant: the idempotent verbs succeed when there is nothing to do (start or stop of a
 * container already in that state, remove of a container already gone). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "podman-internal.h"
#include "podman-sync.h"
#include "util.h"

/* --- simple verbs ----------------------------------------------------------------------- */

static void done_finish(PodmanCall *call, int r, Error *e) {
        ((podman_done_fn) call->cb)(r, r < 0 ? e : NULL, call->userdata);
}

/* A missing object is what remove wanted anyway. Podman sometimes fails to unmount a just
 * stopped container's /dev/shm ("device or resource busy"): retry that a few times. */
static void remove_finish(PodmanCall *call, int r, Error *e) {
        uintptr_t tries = (uintptr_t) call->state;

        if (r == -ENOENT)
                r = 0;
        if (r < 0 && call->status == 500 && strstr(e->message, "resource busy") && tries < 10) {
                PodmanCall *again;
                const char *path = strstr(call->what, "/containers/");
                if (path && podman_call_new(call->client, "DELETE", path, 60 * USEC_PER_SEC, &again) >= 0) {
                        again->not_before_usec = now_usec(CLOCK_MONOTONIC) + 200 * USEC_PER_MSEC;
                        (void) podman_call_continue(call, again, remove_finish);
                        again->state = (void *) (tries + 1);
                        return;
                }
        }
        done_finish(call, r, e);
}

/* Docker answers 409 for a container that is not running; Podman 500 "container state improper". */
static void kill_finish(PodmanCall *call, int r, Error *e) {
        if (r < 0 &&
            (call->status == 409 || (call->status == 500 && strstr(e->message, "state improper")))) {
                r = e->code = -EBUSY;
                e->http_status = 409;
        }
        done_finish(call, r, e);
}

static int id_check(const char *id) {
        return isempty(id) || strlen(id) > 256 || strchr(id, '/') ? -EINVAL : 0;
}

static int verb_async(PodmanClient *c, const char *method, const char *id, const char *suffix,
                      uint64_t timeout_usec, podman_finish_fn finish, void *cb, void *userdata,
                      PodmanOp **ret_op) {
        _cleanup_free_ char *eid = NULL, *path = NULL;
        PodmanCall *call;
        int r;

        if (!cb || id_check(id) < 0)
                return -EINVAL;
        eid = podman_escape(id);
        path = eid ? asprintf_safe("/containers/%s%s", eid, suffix) : NULL;
        if (!path)
                return -ENOMEM;
        r = podman_call_new(c, method, path, timeout_usec, &call);
        if (r < 0)
                return r;
        return podman_call_start(call, finish, cb, userdata, ret_op);
}

int podman_container_start_async(PodmanClient *c, const char *id, podman_done_fn cb, void *userdata,
                                 PodmanOp **ret_op) {
        return verb_async(c, "POST", id, "/start", PODMAN_START_TIMEOUT_USEC, done_finish, (void *) cb,
                          userdata, ret_op);
}

int podman_container_stop_async(PodmanClient *c, const char *id, unsigned timeout_secs, podman_done_fn cb,
                                void *userdata, PodmanOp **ret_op) {
        char suffix[32];

        (void) snprintf(suffix, sizeof suffix, "/stop?t=%u", timeout_secs);
        return verb_async(c, "POST", id, suffix, (timeout_secs + 30) * USEC_PER_SEC, done_finish, cb,
                          userdata, ret_op);
}

int podman_container_kill_async(PodmanClient *c, const char *id, const char *signal, podman_done_fn cb,
                                void *userdata, PodmanOp **ret_op) {
        char suffix[64];

        if (signal && (strlen(signal) > 16 ||
                       strspn(signal, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+") != strlen(signal)))
                return -EINVAL;
        (void) snprintf(suffix, sizeof suffix, "/kill?signal=%s", signal ? signal : "KILL");
        return verb_async(c, "POST", id, suffix, 0, kill_finish, (void *) cb, userdata, ret_op);
}

int podman_container_remove_async(PodmanClient *c, const char *id, podman_done_fn cb, void *userdata,
                                  PodmanOp **ret_op) {
        /* Removing a running container stops it first (up to its stop timeout): allow for it. */
        return verb_async(c, "DELETE", id, "?force=1&v=1", 60 * USEC_PER_SEC, remove_finish, (void *) cb,
                          userdata, ret_op);
}

int podman_container_put_files_async(PodmanClient *c, const char *id, const PodmanFile *files,
                                     size_t n_files, podman_done_fn cb, void *userdata, PodmanOp **ret_op) {
        _cleanup_free_ char *eid = NULL, *path = NULL;
        Error ignored = ERROR_INIT;
        PodmanCall *call;
        char *tar;
        size_t size;
        int r;

        if (!cb || id_check(id) < 0)
                return -EINVAL;
        r = podman_tar_build(files, n_files, &tar, &size, &ignored);
        if (r < 0)
                return r;
        eid = podman_escape(id);
        path = eid ? asprintf_safe("/containers/%s/archive?path=%%2F", eid) : NULL;
        if (!path) {
                free(tar);
                return -ENOMEM;
        }
        r = podman_call_new(c, "PUT", path, 0, &call);
        if (r < 0) {
                free(tar);
                return r;
        }
        r = podman_call_set_body(call, tar, size, "application/x-tar");
        if (r < 0) {
                podman_call_free(call);
                return r;
        }
        return podman_call_start(call, done_finish, (void *) cb, userdata, ret_op);
}

#define SYNC_VERB(call_expr)     \
        PODMAN_SYNC_BEGIN(c, e); \
        r = call_expr;           \
        PODMAN_SYNC_END(c, e);   \
        return r

int podman_container_start(PodmanClient *c, const char *id, Error *e) {
        SYNC_VERB(podman_container_start_async(priv, id, podman_sync_done, &sync, NULL));
}

int podman_container_stop(PodmanClient *c, const char *id, unsigned timeout_secs, Error *e) {
        SYNC_VERB(podman_container_stop_async(priv, id, timeout_secs, podman_sync_done, &sync, NULL));
}

int podman_container_kill(PodmanClient *c, const char *id, const char *signal, Error *e) {
        SYNC_VERB(podman_container_kill_async(priv, id, signal, podman_sync_done, &sync, NULL));
}

int podman_container_remove(PodmanClient *c, const char *id, Error *e) {
        SYNC_VERB(podman_container_remove_async(priv, id, podman_sync_done, &sync, NULL));
}

int podman_container_put_files(PodmanClient *c, const char *id, const PodmanFile *files, size_t n_files,
                               Error *e) {
        {
                _cleanup_free_ char *tar = NULL;
                size_t n;
                int q = podman_tar_build(files, n_files, &tar, &n, e);
                if (q < 0)
                        return q;
        }
        SYNC_VERB(podman_container_put_files_async(priv, id, files, n_files, podman_sync_done, &sync, NULL));
}

/* --- wait ------------------------------------------------------------------------------- */

static void wait_finish(PodmanCall *call, int r, Error *e) {
        podman_wait_fn cb = (podman_wait_fn) call->cb;
        json_object *j = NULL;
        int64_t code = -1;
        bool present;

        if (r >= 0) {
                const char *msg;
                j = podman_call_json(call);
                code = json_get_int(j, "StatusCode", &present);
                msg = json_get_string(json_get(j, "Error"), "Message");
                if (!present)
                        r = podman_call_bad_answer(call, e, "no \"StatusCode\"");
                else if (!isempty(msg))
                        r = error_set(e, -EIO, "%s: the engine could not wait for the container: %s",
                                      call->what, msg);
        }
        cb(r, code, r < 0 ? e : NULL, call->userdata);
        json_object_put(j);
}

/* After Podman's wait: the code it answered, confirmed by inspect. Podman can report a
 * container that is "stopped" (the runtime says so) before conmon's exit file was read, with
 * ExitCode still 0 (measured with Podman 4.3: 1 run in ~10 of `exit 3` said 0). So we inspect
 * until the state is "exited" and take ExitCode from there (every 50 ms, for up to 10 s). */
typedef struct ExitConfirm {
        char *id;
        int64_t waited_code;
        unsigned tries;
} ExitConfirm;

static void exit_confirm_free(void *p) {
        ExitConfirm *x = p;

        if (x)
                free(x->id);
        free(x);
}

static int confirm_next(PodmanCall *prev, ExitConfirm *x, uint64_t delay_usec);

static void confirm_finish(PodmanCall *call, int r, Error *e) {
        ExitConfirm *x = call->state;
        podman_wait_fn cb = (podman_wait_fn) call->cb;
        json_object *j = NULL, *state;
        int64_t code = x->waited_code;

        if (r >= 0) {
                j = podman_call_json(call);
                state = json_get(j, "State");
                if (streq(json_get_string(state, "Status"), "created") &&
                    podman_parse_rfc3339(json_get_string(state, "StartedAt")) > 0) {
                        r = error_set(e, -EIO,
                                      "%s lost track of container %s after starting it (its state went back "
                                      "to \"created\" without an exit code): the exit status is unknown",
                                      podman_engine_label(call->client), x->id);
                        e->http_status = 502;
                        json_object_put(j);
                        cb(r, -1, e, call->userdata);
                        return;
                }
                if (!streq(json_get_string(state, "Status"), "exited") && x->tries < 200) {
                        json_object_put(j);
                        if (confirm_next(call, x, 50 * USEC_PER_MSEC) >= 0)
                                return;
                        j = NULL;
                } else if (json_get(state, "ExitCode"))
                        code = json_get_int(state, "ExitCode", NULL);
        }
        json_object_put(j);
        /* An inspect failure (container removed meanwhile) leaves the waited code standing. */
        cb(0, code, NULL, call->userdata);
}

static int confirm_next(PodmanCall *prev, ExitConfirm *x, uint64_t delay_usec) {
        _cleanup_free_ char *eid = podman_escape(x->id), *path = NULL;
        PodmanCall *call;
        int r;

        path = eid ? asprintf_safe("/containers/%s/json", eid) : NULL;
        if (!path)
                return -ENOMEM;
        r = podman_call_new(prev->client, "GET", path, 0, &call);
        if (r < 0)
                return r;
        x->tries++;
        call->not_before_usec = delay_usec ? now_usec(CLOCK_MONOTONIC) + delay_usec : 0;
        return podman_call_continue(prev, call, confirm_finish);
}

/* Podman's own wait answers a bare number. */
static void libpod_wait_finish(PodmanCall *call, int r, Error *e) {
        podman_wait_fn cb = (podman_wait_fn) call->cb;
        int64_t code = -1;

        if (r >= 0) {
                _cleanup_free_ char *s = call->body ? strndup(call->body, call->body_size) : NULL;
                size_t n = s ? strlen(s) : 0;
                while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
                        s[--n] = '\0';
                if (!s || safe_atoi64(s, &code) < 0)
                        r = podman_call_bad_answer(call, e, "expected the exit code");
        }
        if (r >= 0) {
                /* The call's own state is the wait's; the confirmation needs the id. */
                ExitConfirm *x = calloc(1, sizeof *x);
                const char *p = strstr(call->what, "/containers/"), *end;
                if (x && p && (end = strchr(p + 12, '/')) && (x->id = strndup(p + 12, end - (p + 12)))) {
                        x->waited_code = code;
                        if (call->free_state)
                                call->free_state(call->state);
                        call->state = x;
                        call->free_state = exit_confirm_free;
                        if (confirm_next(call, x, 0) >= 0)
                                return;
                } else
                        exit_confirm_free(x);
        }
        cb(r, code, r < 0 ? e : NULL, call->userdata);
}

static bool engine_is_docker(const PodmanClient *c) {
        return c->have_version && c->version.engine == PODMAN_ENGINE_DOCKER;
}

/* Docker: condition not-running. Podman: its own endpoint with condition exited, because the
 * compatible not-running can return while the container is "stopped" but its exit code not yet
 * recorded (then it reports 0 for a container that exited 3: measured with Podman 4.3). */
/* Podman's wait for "exited" returns at once (0) for a container that is only created. So a
 * wait issued before start (the usual order) first watches the container with inspect every
 * 250 ms until it has left "created", then waits for it to exit. */
typedef struct WaitPoll {
        char *id;
        uint64_t deadline_usec; /* CLOCK_MONOTONIC, UINT64_MAX for none */
        uint64_t timeout_usec;
} WaitPoll;

static void wait_poll_free(void *p) {
        WaitPoll *w = p;

        if (w)
                free(w->id);
        free(w);
}

static void wait_poll_finish(PodmanCall *call, int r, Error *e) {
        WaitPoll *w = call->state;
        _cleanup_free_ char *eid = NULL, *path = NULL;
        json_object *j = NULL, *state;
        PodmanCall *next;
        bool created = false, started = false;
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (r >= 0) {
                j = podman_call_json(call);
                state = json_get(j, "State");
                created = streq(json_get_string(state, "Status"), "created");
                started = podman_parse_rfc3339(json_get_string(state, "StartedAt")) > 0;
                json_object_put(j);
        }
        if (r < 0) {
                ((podman_wait_fn) call->cb)(r, -1, e, call->userdata);
                return;
        }
        eid = podman_escape(w->id);
        if (!eid) {
                ((podman_wait_fn) call->cb)(error_set(e, -ENOMEM, "out of memory"), -1, e, call->userdata);
                return;
        }
        if (created && !started) {
                if (now >= w->deadline_usec) {
                        r = error_set(e, -ETIMEDOUT,
                                      "container %s was not started within %.1f s of the wait", w->id,
                                      (double) w->timeout_usec / USEC_PER_SEC);
                        e->http_status = 504;
                        ((podman_wait_fn) call->cb)(r, -1, e, call->userdata);
                        return;
                }
                path = asprintf_safe("/containers/%s/json", eid);
                r = path ? podman_call_new(call->client, "GET", path, 0, &next) : -ENOMEM;
                if (r >= 0) {
                        next->not_before_usec = now + 250 * USEC_PER_MSEC;
                        (void) podman_call_continue(call, next, wait_poll_finish);
                        return;
                }
        } else {
                /* Running, exited, or lost (created again after running): the exit wait and its
                 * confirmation sort these out. */
                uint64_t left = w->deadline_usec == UINT64_MAX ? UINT64_MAX
                                : w->deadline_usec > now       ? w->deadline_usec - now
                                                               : 1;
                path = asprintf_safe("/libpod/containers/%s/wait?condition=exited", eid);
                r = path ? podman_call_new(call->client, "POST", path, left, &next) : -ENOMEM;
                if (r >= 0) {
                        (void) podman_call_continue(call, next, libpod_wait_finish);
                        return;
                }
        }
        ((podman_wait_fn) call->cb)(error_set(e, r, "cannot wait for container %s", w->id), -1, e,
                                    call->userdata);
}

int podman_container_wait_async(PodmanClient *c, const char *id, uint64_t timeout_usec, podman_wait_fn cb,
                                void *userdata, PodmanOp **ret_op) {
        _cleanup_free_ char *eid = NULL, *path = NULL;
        PodmanCall *call;
        WaitPoll *w;
        int r;

        if (engine_is_docker(c))
                return verb_async(c, "POST", id, "/wait?condition=not-running", timeout_usec, wait_finish,
                                  (void *) cb, userdata, ret_op);
        if (!cb || id_check(id) < 0)
                return -EINVAL;
        eid = podman_escape(id);
        path = eid ? asprintf_safe("/containers/%s/json", eid) : NULL;
        w = calloc(1, sizeof *w);
        if (!path || !w || !(w->id = strdup(id))) {
                wait_poll_free(w);
                return -ENOMEM;
        }
        if (timeout_usec == 0)
                timeout_usec = UINT64_MAX;
        w->timeout_usec = timeout_usec;
        w->deadline_usec =
                timeout_usec == UINT64_MAX ? UINT64_MAX : now_usec(CLOCK_MONOTONIC) + timeout_usec;
        r = podman_call_new(c, "GET", path, 0, &call);
        if (r < 0) {
                wait_poll_free(w);
                return r;
        }
        call->state = w;
        call->free_state = wait_poll_free;
        return podman_call_start(call, wait_poll_finish, (void *) cb, userdata, ret_op);
}

int podman_container_wait_started_async(PodmanClient *c, const char *id, uint64_t timeout_usec,
                                        podman_wait_fn cb, void *userdata, PodmanOp **ret_op) {
        _cleanup_free_ char *eid = NULL, *path = NULL;
        PodmanCall *call;
        int r;

        if (engine_is_docker(c))
                return podman_container_wait_async(c, id, timeout_usec, cb, userdata, ret_op);
        if (!cb || id_check(id) < 0)
                return -EINVAL;
        eid = podman_escape(id);
        path = eid ? asprintf_safe("/libpod/containers/%s/wait?condition=exited", eid) : NULL;
        if (!path)
                return -ENOMEM;
        r = podman_call_new(c, "POST", path, timeout_usec == 0 ? UINT64_MAX : timeout_usec, &call);
        if (r < 0)
                return r;
        return podman_call_start(call, libpod_wait_finish, (void *) cb, userdata, ret_op);
}

/* Docker: the wait (condition next-exit: the container is only "created" yet) is sent first;
 * Docker answers its headers once the waiter is registered, and only then is the start sent,
 * so even a container that exits at once cannot slip past the wait. */
typedef struct WaitStartState {
        char *id;
        uint64_t timeout_usec;
        PodmanCall *wait_call;
        PodmanCall *start_call;
} WaitStartState;

static void wait_start_state_free(void *p) {
        WaitStartState *s = p;

        if (!s)
                return;
        if (s->start_call)
                s->start_call->userdata = NULL; /* orphan it: its result no longer matters */
        free(s->id);
        free(s);
}

static void wait_start_started(PodmanCall *call, int r, Error *e) {
        WaitStartState *s = call->userdata;

        if (!s)
                return;
        s->start_call = NULL;
        if (r < 0) {
                (void) error_prefix(e, "starting container %s", s->id);
                podman_call_fail(s->wait_call, e);
        }
}

static void wait_start_headers(PodmanCall *call) {
        WaitStartState *s = call->state;
        _cleanup_free_ char *path = NULL, *eid = NULL;
        PodmanCall *start;

        if (call->status < 200 || call->status >= 300 || s->start_call)
                return;
        eid = podman_escape(s->id);
        path = eid ? asprintf_safe("/containers/%s/start", eid) : NULL;
        if (!path || podman_call_new(call->client, "POST", path, 0, &start) < 0) {
                error_set(&call->data_error, -ENOMEM, "cannot start container %s: out of memory", s->id);
                return;
        }
        s->start_call = start;
        (void) podman_call_start(start, wait_start_started, NULL, s, NULL);
}

/* Podman: start, then wait for the state "exited" (libpod endpoint, see
 * podman_container_wait_async): Podman keeps an exited container's exit code and reports it
 * at once, so nothing can be missed in between. */
static void start_then_wait_started(PodmanCall *call, int r, Error *e) {
        WaitStartState *s = call->state;
        _cleanup_free_ char *path = NULL, *eid = NULL;
        PodmanCall *wait;

        if (r >= 0) {
                eid = podman_escape(s->id);
                path = eid ? asprintf_safe("/libpod/containers/%s/wait?condition=exited", eid) : NULL;
                r = path ? podman_call_new(call->client, "POST", path, s->timeout_usec, &wait) : -ENOMEM;
                if (r >= 0) {
                        (void) podman_call_continue(call, wait, libpod_wait_finish);
                        return;
                }
                (void) error_set(e, r, "cannot wait for container %s: %s", s->id, strerror(-r));
        } else
                (void) error_prefix(e, "starting container %s", s->id);
        ((podman_wait_fn) call->cb)(r, -1, e, call->userdata);
}

int podman_container_wait_start_async(PodmanClient *c, const char *id, uint64_t timeout_usec,
                                      podman_wait_fn cb, void *userdata, PodmanOp **ret_op) {
        _cleanup_free_ char *eid = NULL, *path = NULL;
        bool docker = engine_is_docker(c);
        WaitStartState *s;
        PodmanCall *call;
        int r;

        if (!cb || id_check(id) < 0)
                return -EINVAL;
        eid = podman_escape(id);
        path = !eid     ? NULL
               : docker ? asprintf_safe("/containers/%s/wait?condition=next-exit", eid)
                        : asprintf_safe("/containers/%s/start", eid);
        s = calloc(1, sizeof *s);
        if (!path || !s || !(s->id = strdup(id))) {
                wait_start_state_free(s);
                return -ENOMEM;
        }
        s->timeout_usec = timeout_usec;
        r = podman_call_new(c, "POST", path, docker ? timeout_usec : PODMAN_START_TIMEOUT_USEC, &call);
        if (r < 0) {
                wait_start_state_free(s);
                return r;
        }
        s->wait_call = call;
        call->state = s;
        call->free_state = wait_start_state_free;
        if (!docker)
                return podman_call_start(call, start_then_wait_started, (void *) cb, userdata, ret_op);
        call->on_headers = wait_start_headers;
        return podman_call_start(call, wait_finish, (void *) cb, userdata, ret_op);
}

static void wait_sync_cb(int r, int64_t code, const Error *e, void *userdata) {
        PodmanSync *sync = userdata;

        *(int64_t *) sync->result = code;
        podman_sync_done(r, e, sync);
}

int podman_container_wait_start(PodmanClient *c, const char *id, uint64_t timeout_usec,
                                int64_t *ret_exit_code, Error *e) {
        int64_t code = -1;

        PODMAN_SYNC_BEGIN(c, e);
        sync.result = &code;
        r = podman_container_wait_start_async(priv, id, timeout_usec, wait_sync_cb, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        if (r >= 0 && ret_exit_code)
                *ret_exit_code = code;
        return r;
}

int podman_container_wait(PodmanClient *c, const char *id, uint64_t timeout_usec, int64_t *ret_exit_code,
                          Error *e) {
        int64_t code = -1;

        PODMAN_SYNC_BEGIN(c, e);
        sync.result = &code;
        r = podman_container_wait_async(priv, id, timeout_usec, wait_sync_cb, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        if (r >= 0 && ret_exit_code)
                *ret_exit_code = code;
        return r;
}

/* --- container descriptions ------------------------------------------------------------- */

/* RFC 3339 ("2026-11-28T10:00:00.123456789Z", "+01:00" offsets) → µs; 0 for the zero time. */
uint64_t podman_parse_rfc3339(const char *s) {
        struct tm tm = { 0 };
        int y, mo, d, h, mi, sec, n = 0;
        uint64_t frac = 0, scale = 100000;
        long off = 0;
        time_t t;

        if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || y < 1970)
                return 0;
        s += n;
        if (*s == '.')
                for (s++; *s >= '0' && *s <= '9'; s++) {
                        frac += (uint64_t) (*s - '0') * scale;
                        scale /= 10;
                }
        if (*s == '+' || *s == '-') {
                int oh, om;
                if (sscanf(s + 1, "%2d:%2d", &oh, &om) == 2)
                        off = (*s == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
        }
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        t = timegm(&tm);
        if (t < 0 || (int64_t) t - off < 0)
                return 0;
        return (uint64_t) ((int64_t) t - off) * USEC_PER_SEC + frac;
}

void podman_container_done(PodmanContainer *ct) {
        if (!ct)
                return;
        free(ct->id);
        free(ct->name);
        free(ct->image);
        free(ct->error);
        free(ct->execution_id);
        free(ct->store_id);
        strv_free(ct->labels);
        *ct = (PodmanContainer){ 0 };
}

void podman_container_list_free(PodmanContainer *cts, size_t n) {
        for (size_t i = 0; cts && i < n; i++)
                podman_container_done(&cts[i]);
        free(cts);
}

static int dup_or_null(const char *s, char **ret) {
        if (!s) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int parse_labels(json_object *labels, PodmanContainer *ct) {
        if (!labels || !json_object_is_type(labels, json_type_object))
                return 0;
        json_object_object_foreach (labels, k, v) {
                const char *val = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
                _cleanup_free_ char *kv = asprintf_safe("%s=%s", k, val);
                if (!kv || strv_extend(&ct->labels, kv) < 0)
                        return -ENOMEM;
                if (streq(k, PODMAN_LABEL_MANAGED))
                        ct->managed = streq(val, "true");
                else if (streq(k, PODMAN_LABEL_EXECUTION_ID)) {
                        free(ct->execution_id);
                        if (dup_or_null(val, &ct->execution_id) < 0)
                                return -ENOMEM;
                } else if (streq(k, PODMAN_LABEL_STORE)) {
                        free(ct->store_id);
                        if (dup_or_null(val, &ct->store_id) < 0)
                                return -ENOMEM;
                } else if (streq(k, PODMAN_LABEL_ITERATION))
                        (void) safe_atou(val, &ct->iteration);
                else if (streq(k, PODMAN_LABEL_KEEP_ON_FAILURE))
                        ct->keep_container_on_failure = streq(val, "true");
        }
        return 0;
}

/* Fills ct from an inspect answer (State object) or a list entry (State string). */
static int parse_container(json_object *o, PodmanContainer *ct) {
        json_object *state = json_get(o, "State"), *names = json_get(o, "Names");
        const char *name = json_get_string(o, "Name");
        int r;

        *ct = (PodmanContainer){ 0 };
        if (!json_get_string(o, "Id"))
                return -EBADMSG;
        if (isempty(name)) /* Podman's list has "Name": "" beside "Names" */
                name = NULL;
        if (!name && names && json_object_is_type(names, json_type_array) &&
            json_object_array_length(names) > 0)
                name = json_object_get_string(json_object_array_get_idx(names, 0));
        if (name && name[0] == '/')
                name++;
        r = dup_or_null(json_get_string(o, "Id"), &ct->id);
        if (r >= 0)
                r = dup_or_null(name, &ct->name);
        if (r >= 0)
                r = dup_or_null(json_get_string(json_get(o, "Config"), "Image")
                                        ?: json_get_string(o, "Image"),
                                &ct->image);
        if (r < 0)
                goto fail;
        if (state && json_object_is_type(state, json_type_object)) {
                ct->status = podman_container_status_from_string(json_get_string(state, "Status"));
                ct->running = json_get_bool(state, "Running");
                ct->oom_killed = json_get_bool(state, "OOMKilled");
                ct->exit_code = json_get_int(state, "ExitCode", NULL);
                ct->pid = json_get_int(state, "Pid", NULL);
                ct->started_usec = podman_parse_rfc3339(json_get_string(state, "StartedAt"));
                ct->finished_usec = podman_parse_rfc3339(json_get_string(state, "FinishedAt"));
                r = dup_or_null(isempty(json_get_string(state, "Error")) ? NULL
                                                                         : json_get_string(state, "Error"),
                                &ct->error);
                if (r < 0)
                        goto fail;
        } else if (state && json_object_is_type(state, json_type_string)) {
                ct->status = podman_container_status_from_string(json_object_get_string(state));
                ct->running = ct->status == PODMAN_STATUS_RUNNING;
        }
        {
                json_object *hc = json_get(o, "HostConfig");
                int64_t v, quota, period;
                if (hc && json_object_is_type(hc, json_type_object)) {
                        v = json_get_int(hc, "Memory", NULL);
                        ct->memory_bytes = v > 0 ? (uint64_t) v : 0;
                        v = json_get_int(hc, "PidsLimit", NULL);
                        ct->pids_limit = v > 0 ? (uint64_t) v : 0;
                        /* Docker keeps NanoCpus; an engine may answer in quota/period only. */
                        v = json_get_int(hc, "NanoCpus", NULL);
                        quota = json_get_int(hc, "CpuQuota", NULL);
                        period = json_get_int(hc, "CpuPeriod", NULL);
                        if (v > 0)
                                ct->nano_cpus = (uint64_t) v;
                        else if (quota > 0 && period > 0 && quota < INT64_MAX / 1000000000)
                                ct->nano_cpus = (uint64_t) (quota * 1000000000 / period);
                }
        }
        if (json_get_string(o, "Created"))
                ct->created_usec = podman_parse_rfc3339(json_get_string(o, "Created"));
        else {
                int64_t created = json_get_int(o, "Created", NULL);
                ct->created_usec = created > 0 ? (uint64_t) created * USEC_PER_SEC : 0;
        }
        r = parse_labels(json_get(json_get(o, "Config"), "Labels") ?: json_get(o, "Labels"), ct);
        if (r < 0)
                goto fail;
        return 0;
fail:
        podman_container_done(ct);
        return r;
}

/* --- inspect ---------------------------------------------------------------------------- */

static void inspect_finish(PodmanCall *call, int r, Error *e) {
        podman_inspect_fn cb = (podman_inspect_fn) call->cb;
        PodmanContainer ct = { 0 };
        json_object *j = NULL;

        if (r >= 0) {
                j = podman_call_json(call);
                r = parse_container(j, &ct);
                if (r == -ENOMEM)
                        r = error_set(e, r, "out of memory");
                else if (r < 0)
                        r = podman_call_bad_answer(call, e, "not a container description");
        }
        cb(r, r >= 0 ? &ct : NULL, r < 0 ? e : NULL, call->userdata);
        podman_container_done(&ct);
        json_object_put(j);
}

int podman_container_inspect_async(PodmanClient *c, const char *id, podman_inspect_fn cb, void *userdata,
                                   PodmanOp **ret_op) {
        return verb_async(c, "GET", id, "/json", 0, inspect_finish, (void *) cb, userdata, ret_op);
}

static int container_copy(const PodmanContainer *src, PodmanContainer *dst) {
        *dst = *src;
        dst->id = dst->name = dst->image = dst->error = dst->execution_id = dst->store_id = NULL;
        dst->labels = NULL;
        if (dup_or_null(src->id, &dst->id) < 0 || dup_or_null(src->name, &dst->name) < 0 ||
            dup_or_null(src->image, &dst->image) < 0 || dup_or_null(src->error, &dst->error) < 0 ||
            dup_or_null(src->execution_id, &dst->execution_id) < 0 ||
            dup_or_null(src->store_id, &dst->store_id) < 0 ||
            (src->labels && !(dst->labels = strv_copy(src->labels)))) {
                podman_container_done(dst);
                return -ENOMEM;
        }
        return 0;
}

static void inspect_sync_cb(int r, const PodmanContainer *ct, const Error *e, void *userdata) {
        PodmanSync *sync = userdata;

        if (r >= 0)
                r = container_copy(ct, sync->result);
        podman_sync_done(r, e, sync);
}

int podman_container_inspect(PodmanClient *c, const char *id, PodmanContainer *ret, Error *e) {
        PodmanContainer ct = { 0 };

        PODMAN_SYNC_BEGIN(c, e);
        sync.result = &ct;
        r = podman_container_inspect_async(priv, id, inspect_sync_cb, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        if (r < 0)
                return r;
        if (ret)
                *ret = ct;
        else
                podman_container_done(&ct);
        return 0;
}

/* --- list ------------------------------------------------------------------------------- */

/* filters={"label":["k=v",…]} (URL-encoded). */
static char *label_filters_query(char *const *label_filters) {
        char *const managed[] = { (char *) PODMAN_LABEL_MANAGED "=true", NULL };
        json_object *o = json_object_new_object(), *a;
        char *q = NULL;

        if (!label_filters)
                label_filters = managed;
        a = json_object_new_array();
        if (!o || !a || json_object_object_add(o, "label", a) < 0) {
                json_object_put(a);
                goto out;
        }
        for (size_t i = 0; label_filters[i]; i++) {
                json_object *s = json_object_new_string(label_filters[i]);
                if (!s || json_object_array_add(a, s) < 0) {
                        json_object_put(s);
                        goto out;
                }
        }
        q = podman_escape(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
out:
        json_object_put(o);
        return q;
}

char *podman_label_filters_query(char *const *label_filters) {
        return label_filters_query(label_filters);
}

/* A list entry without an Id is not a container we can name: it is passed over. */
static int parse_list_entry(json_object *o, void *ret_item, void *userdata) {
        int r = parse_container(o, ret_item);

        return r == -ENOMEM ? r : r >= 0;
}

static void container_done(void *item) {
        podman_container_done(item);
}

static const PodmanListParser container_list_parser = {
        .item_size = sizeof(PodmanContainer),
        .parse = parse_list_entry,
        .done = container_done,
};

static void list_finish(PodmanCall *call, int r, Error *e) {
        podman_list_fn cb = (podman_list_fn) call->cb;
        void *items = NULL;
        json_object *j = NULL;
        size_t n = 0;

        if (r >= 0) {
                j = podman_call_json(call);
                if (!j || !json_object_is_type(j, json_type_array))
                        r = podman_call_bad_answer(call, e, "not a list of containers");
        }
        if (r >= 0)
                r = podman_parse_list(j, &container_list_parser, NULL, &items, &n, e);
        cb(r, r >= 0 ? items : NULL, r >= 0 ? n : 0, r < 0 ? e : NULL, call->userdata);
        podman_container_list_free(items, n);
        json_object_put(j);
}

int podman_container_list_async(PodmanClient *c, char *const *label_filters, podman_list_fn cb,
                                void *userdata, PodmanOp **ret_op) {
        _cleanup_free_ char *q = NULL, *path = NULL;
        PodmanCall *call;
        int r;

        if (!cb)
                return -EINVAL;
        q = label_filters_query(label_filters);
        path = q ? asprintf_safe("/containers/json?all=1&filters=%s", q) : NULL;
        if (!path)
                return -ENOMEM;
        r = podman_call_new(c, "GET", path, 0, &call);
        if (r < 0)
                return r;
        return podman_call_start(call, list_finish, cb, userdata, ret_op);
}

typedef struct ListResult {
        PodmanContainer *cts;
        size_t n;
} ListResult;

static void list_sync_cb(int r, const PodmanContainer *cts, size_t n, const Error *e, void *userdata) {
        PodmanSync *sync = userdata;
        ListResult *res = sync->result;

        if (r >= 0) {
                res->cts = calloc(n ? n : 1, sizeof *res->cts);
                if (!res->cts)
                        r = -ENOMEM;
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        r = container_copy(&cts[i], &res->cts[i]);
                        if (r >= 0)
                                res->n++;
                }
        }
        podman_sync_done(r, e, sync);
}

int podman_container_list(PodmanClient *c, char *const *label_filters, PodmanContainer **ret, size_t *ret_n,
                          Error *e) {
        ListResult res = { 0 };

        PODMAN_SYNC_BEGIN(c, e);
        sync.result = &res;
        r = podman_container_list_async(priv, label_filters, list_sync_cb, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        if (r < 0) {
                podman_container_list_free(res.cts, res.n);
                return r;
        }
        *ret = res.cts;
        *ret_n = res.n;
        return 0;
}
