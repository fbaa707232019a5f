/* podman-transport.c — HTTP over the engine's unix socket: libcurl's multi interface driven by
 * sd-event (curl-event.h), calls, error mapping, sync runner.
 *
 * Invariants: a call is on the client's list from podman_call_new() until freed; it is added to
 * the multi handle only from the deferred source (never from inside a curl callback); a
 * cancelled call never runs its finish(); every transfer has a connect timeout and, unless the
 * caller asked for an unbounded stream, a whole-transfer timeout. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "list.h"
#include "podman-internal.h"
#include "util.h"

static void client_process_done(CURL *easy, CURLcode result, void *userdata);

static void call_unlink(PodmanCall *call) {
        PodmanClient *c = call->client;

        if (!c)
                return;
        LIST_REMOVE(c->calls, call);
        c->n_calls--;
        call->client = NULL;
}

void podman_call_free(PodmanCall *call) {
        if (!call)
                return;
        if (call->easy) {
                if (call->added && call->client)
                        curl_event_remove(call->client->curl, call->easy);
                curl_easy_cleanup(call->easy);
        }
        call_unlink(call);
        if (call->op && call->op->call == call)
                free(call->op);
        curl_slist_free_all(call->headers);
        if (call->free_state)
                call->free_state(call->state);
        free(call->what);
        free(call->request_body);
        free(call->body);
        free(call);
}

static int on_delay(sd_event_source *s, uint64_t usec, void *userdata);

static int on_defer(sd_event_source *s, void *userdata) {
        PodmanClient *c = userdata;
        PodmanCall *call, *next;
        uint64_t now = now_usec(CLOCK_MONOTONIC), earliest = UINT64_MAX;

restart:
        for (call = c->calls; call; call = next) {
                next = call->next;
                if (call->cancelled) {
                        podman_call_free(call);
                        continue;
                }
                if (call->added || !call->finish)
                        continue;
                if (call->not_before_usec > now) {
                        earliest = MIN(earliest, call->not_before_usec);
                        continue;
                }
                if (curl_event_add(c->curl, call->easy) < 0) {
                        Error e = ERROR_INIT;
                        error_set(&e, -ENOMEM, "%s: cannot start the transfer", call->what);
                        call->done = true;
                        call->finish(call, e.code, &e);
                        podman_call_free(call);
                        /* The callback may have started or cancelled other calls. */
                        goto restart;
                }
                call->added = true;
        }
        if (earliest != UINT64_MAX) {
                if (!c->delay)
                        (void) sd_event_add_time(c->event, &c->delay, CLOCK_MONOTONIC, earliest, 0, on_delay,
                                                 c);
                else {
                        (void) sd_event_source_set_time(c->delay, earliest);
                        (void) sd_event_source_set_enabled(c->delay, SD_EVENT_ONESHOT);
                }
        }
        /* Let curl start the new transfers now rather than at its next timer. */
        curl_event_kick(c->curl);
        return 0;
}

static void client_wake(PodmanClient *c) {
        (void) sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
}

static int on_delay(sd_event_source *s, uint64_t usec, void *userdata) {
        client_wake(userdata);
        return 0;
}

/* --- errors ----------------------------------------------------------------------------- */

const char *podman_engine_label(const PodmanClient *c) {
        if (c && c->have_version && c->version.engine == PODMAN_ENGINE_DOCKER)
                return "Docker";
        return "Podman";
}

bool podman_error_unreachable(int r) {
        return r == -ECONNREFUSED || r == -ECONNRESET;
}

/* The engine cannot be reached. Never -ENOENT, even for a missing socket file: callers read
 * -ENOENT as "no such container/image" (a container would be recorded as removed, an image as
 * absent, while the engine is merely down). */
static int connect_error(PodmanCall *call, long os_errno, Error *e) {
        const char *p = call->client->socket_path;
        struct stat st;

        if (os_errno == 0 && stat(p, &st) < 0)
                os_errno = errno;
        switch (os_errno) {
        case ENOENT:
        case ENOTDIR:
                return error_set(
                        e, -ECONNREFUSED,
                        "Podman API socket %s not found (Socket Not Found): the Podman socket is not "
                        "active. Enable it with `systemctl --user enable --now podman.socket` (as the "
                        "daemon's user; rootful: `systemctl enable --now podman.socket`), check it with "
                        "`systemctl --user status podman.socket` and `ls -la %s`, enable lingering "
                        "(`loginctl enable-linger $USER`) so it survives logout, and make "
                        "runtime.container_socket_path (or CONTAINER_HOST) name that socket",
                        p, p);
        case EACCES:
        case EPERM:
                return error_set(e, -EACCES,
                                 "Permission denied connecting to the Podman API socket %s (uid %u): the "
                                 "socket belongs to another user. Check its owner with `ls -la %s`, run the "
                                 "daemon as that user (rootless: /run/user/<uid>/podman/podman.sock of the "
                                 "service user, with `loginctl show-user <user> | grep Linger` showing "
                                 "Linger=yes), or point runtime.container_socket_path at your own socket",
                                 p, (unsigned) geteuid(), p);
        case ECONNREFUSED:
                return error_set(e, -ECONNREFUSED,
                                 "Nothing accepts connections on the Podman API socket %s (stale socket "
                                 "file, podman.socket stopped): restart it with `systemctl --user restart "
                                 "podman.socket` and check `systemctl --user status podman.socket`",
                                 p);
        default:
                return error_set(e, -ECONNREFUSED, "Cannot connect to the Podman API socket %s: %s (%s)", p,
                                 call->errbuf[0] ? call->errbuf : "connection failed",
                                 os_errno ? strerror((int) os_errno) : "unknown error");
        }
}

static int transport_error(PodmanCall *call, CURLcode cc, Error *e) {
        long os_errno = 0;
        int r;

        (void) curl_easy_getinfo(call->easy, CURLINFO_OS_ERRNO, &os_errno);
        switch (cc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
                r = connect_error(call, os_errno, e);
                e->http_status = 503;
                return r;
        case CURLE_OPERATION_TIMEDOUT:
                r = error_set(e, -ETIMEDOUT, "%s: %s at %s did not finish within %.1f s", call->what,
                              podman_engine_label(call->client), call->client->socket_path,
                              (double) call->timeout_usec / USEC_PER_SEC);
                e->http_status = 504;
                return r;
        case CURLE_OUT_OF_MEMORY:
                return error_set(e, -ENOMEM, "%s: out of memory", call->what);
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
                /* The engine went away in the middle of the call (service stopped, restarted). */
                r = error_set(e, -ECONNRESET, "%s: the connection to %s at %s broke: %s", call->what,
                              podman_engine_label(call->client), call->client->socket_path,
                              call->errbuf[0] ? call->errbuf : curl_easy_strerror(cc));
                e->http_status = 503;
                return r;
        default:
                r = error_set(e, -EIO, "%s: talking to %s at %s failed: %s", call->what,
                              podman_engine_label(call->client), call->client->socket_path,
                              call->errbuf[0] ? call->errbuf : curl_easy_strerror(cc));
                e->http_status = 502;
                return r;
        }
}

static int status_to_errno(long status) {
        switch (status) {
        case 400:
                return -EINVAL;
        case 401:
        case 403:
                return -EACCES;
        case 404:
                return -ENOENT;
        case 409:
                return -EBUSY;
        case 413:
                return -EFBIG;
        default:
                return -EIO;
        }
}

static int status_error(PodmanCall *call, Error *e) {
        json_object *j = podman_call_json(call);
        const char *msg = j ? json_get_string(j, "message") : NULL;
        char excerpt[256];
        int r;

        if (!msg) {
                /* Not JSON: show the start of the body, made printable. */
                size_t i, n = MIN(call->body_size, sizeof excerpt - 1);
                for (i = 0; i < n; i++) {
                        char ch = call->body[i];
                        excerpt[i] = (ch >= 0x20 && ch < 0x7f) ? ch : ' ';
                }
                excerpt[n] = '\0';
                msg = n > 0 ? excerpt : "(empty answer)";
        }
        r = error_set(e, status_to_errno(call->status), "%s: %s answered HTTP %ld: %s", call->what,
                      podman_engine_label(call->client), call->status, msg);
        e->http_status = call->status >= 400 && call->status < 500 ? (int) call->status : 502;
        json_object_put(j);
        return r;
}

int podman_call_bad_answer(PodmanCall *call, Error *e, const char *why) {
        int r = error_set(e, -EBADMSG, "%s: unexpected answer from %s (HTTP %ld): %s", call->what,
                          podman_engine_label(call->client), call->status, why);
        e->http_status = 502;
        return r;
}

static void call_complete(PodmanCall *call, CURLcode cc) {
        Error e = ERROR_INIT;
        int r = 0;

        (void) curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &call->status);
        if (call->cancelled) {
                podman_call_free(call);
                return;
        }
        if (call->data_error.code < 0) {
                e = call->data_error;
                r = e.code;
        } else if (cc != CURLE_OK)
                r = transport_error(call, cc, &e);
        else if (call->status >= 400 || call->status < 200)
                r = status_error(call, &e);
        else if (call->status >= 300 && call->status != 304)
                r = status_error(call, &e);
        call->done = true;
        call->finish(call, r, &e);
        podman_call_free(call);
}

static void client_process_done(CURL *easy, CURLcode result, void *userdata) {
        PodmanCall *call = NULL;

        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &call);
        if (!call)
                return;
        /* curl-event removed the handle from the multi handle already. */
        call->added = false;
        call_complete(call, result);
}

/* --- calls ------------------------------------------------------------------------------ */

static size_t on_write(char *p, size_t size, size_t nmemb, void *userdata) {
        PodmanCall *call = userdata;
        size_t n = size * nmemb;
        char *b;

        if (call->cancelled)
                return 0;
        if (call->status == 0)
                (void) curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &call->status);
        if (call->sink && call->status >= 200 && call->status < 300)
                return call->sink(call, p, n) < 0 ? 0 : n;
        if (n > call->body_max - call->body_size) {
                error_set(&call->data_error, -EFBIG, "%s: the answer of %s exceeds %zu bytes", call->what,
                          podman_engine_label(call->client), call->body_max);
                call->data_error.http_status = 502;
                return 0;
        }
        b = realloc(call->body, call->body_size + n + 1);
        if (!b) {
                error_set(&call->data_error, -ENOMEM, "%s: out of memory", call->what);
                return 0;
        }
        memcpy(b + call->body_size, p, n);
        call->body = b;
        call->body_size += n;
        b[call->body_size] = '\0';
        return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *userdata) {
        PodmanCall *call = userdata;
        size_t n = size * nmemb;

        if (call->cancelled)
                return 0;
        if (n <= 2 && (n == 0 || p[0] == '\r' || p[0] == '\n')) {
                long status = 0;
                (void) curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
                if (status >= 200 && !call->headers_seen) {
                        call->status = status;
                        call->headers_seen = true;
                        if (call->on_headers)
                                call->on_headers(call);
                }
        }
        return n;
}

void podman_call_fail(PodmanCall *call, Error *e) {
        if (!call || call->done || call->cancelled)
                return;
        call->done = true;
        if (call->added) {
                curl_event_remove(call->client->curl, call->easy);
                call->added = false;
        }
        call->finish(call, e->code, e);
        podman_call_free(call);
}

int podman_call_new(PodmanClient *c, const char *method, const char *path, uint64_t timeout_usec,
                    PodmanCall **ret) {
        _cleanup_free_ char *url = NULL;
        PodmanCall *call;

        if (!c || !method || !path || path[0] != '/')
                return -EINVAL;
        call = calloc(1, sizeof *call);
        if (!call)
                return -ENOMEM;
        call->client = c;
        LIST_PREPEND(c->calls, call);
        c->n_calls++;
        call->body_max = PODMAN_RESPONSE_MAX;
        call->timeout_usec = timeout_usec ? timeout_usec : PODMAN_DEFAULT_TIMEOUT_USEC;
        call->what = asprintf_safe("%s /v%s%s", method, PODMAN_API_VERSION, path);
        url = asprintf_safe("http://d/v%s%s", PODMAN_API_VERSION, path);
        call->easy = curl_easy_init();
        if (!call->what || !url || !call->easy)
                goto oom;
        /* "Expect: 100-continue" would stall uploads (archives) for a second. */
        if (podman_call_add_header(call, "Expect:") < 0)
                goto oom;
        if (curl_easy_setopt(call->easy, CURLOPT_UNIX_SOCKET_PATH, c->socket_path) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_PRIVATE, call) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_ERRORBUFFER, call->errbuf) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_WRITEDATA, call) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_HEADERDATA, call) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_CONNECTTIMEOUT_MS,
                             (long) (PODMAN_CONNECT_TIMEOUT_USEC / USEC_PER_MSEC)) != CURLE_OK)
                goto oom;
        if (call->timeout_usec != UINT64_MAX &&
            curl_easy_setopt(call->easy, CURLOPT_TIMEOUT_MS,
                             (long) MAX(call->timeout_usec / USEC_PER_MSEC, 1)) != CURLE_OK)
                goto oom;
        if (streq(method, "POST")) {
                if (curl_easy_setopt(call->easy, CURLOPT_POST, 1L) != CURLE_OK ||
                    curl_easy_setopt(call->easy, CURLOPT_POSTFIELDS, "") != CURLE_OK ||
                    curl_easy_setopt(call->easy, CURLOPT_POSTFIELDSIZE, 0L) != CURLE_OK)
                        goto oom;
        } else if (!streq(method, "GET")) {
                if (curl_easy_setopt(call->easy, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)
                        goto oom;
        }
        *ret = call;
        return 0;
oom:
        podman_call_free(call);
        return -ENOMEM;
}

int podman_call_add_header(PodmanCall *call, const char *header) {
        struct curl_slist *l = curl_slist_append(call->headers, header);

        if (!l)
                return -ENOMEM;
        call->headers = l;
        return curl_easy_setopt(call->easy, CURLOPT_HTTPHEADER, call->headers) == CURLE_OK ? 0 : -ENOMEM;
}

int podman_call_set_body(PodmanCall *call, char *body, size_t size, const char *content_type) {
        _cleanup_free_ char *h = asprintf_safe("Content-Type: %s", content_type);

        if (!h) {
                free(body);
                return -ENOMEM;
        }
        free(call->request_body);
        call->request_body = body;
        call->request_size = size;
        if (podman_call_add_header(call, h) < 0)
                return -ENOMEM;
        /* POSTFIELDS with a custom request (PUT) sends the body with that method. */
        if (curl_easy_setopt(call->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) size) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_POSTFIELDS, body) != CURLE_OK)
                return -ENOMEM;
        return 0;
}

int podman_call_set_json_body(PodmanCall *call, json_object *o) {
        size_t n;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
        char *copy;

        if (!s)
                return -ENOMEM;
        copy = strndup(s, n);
        if (!copy)
                return -ENOMEM;
        return podman_call_set_body(call, copy, n, "application/json");
}

int podman_call_start(PodmanCall *call, podman_finish_fn finish, void *cb, void *userdata,
                      PodmanOp **ret_op) {
        if (!finish) {
                podman_call_free(call);
                return -EINVAL;
        }
        call->finish = finish;
        call->cb = cb;
        call->userdata = userdata;
        if (!call->op) {
                call->op = calloc(1, sizeof *call->op);
                if (!call->op) {
                        podman_call_free(call);
                        return -ENOMEM;
                }
                call->op->call = call;
        }
        client_wake(call->client);
        if (ret_op)
                *ret_op = call->op;
        return 0;
}

int podman_call_continue(PodmanCall *prev, PodmanCall *next, podman_finish_fn finish) {
        next->finish = finish;
        next->cb = prev->cb;
        next->userdata = prev->userdata;
        next->state = prev->state;
        next->free_state = prev->free_state;
        next->op = prev->op;
        prev->state = NULL;
        prev->free_state = NULL;
        prev->op = NULL;
        if (next->op)
                next->op->call = next;
        client_wake(next->client);
        return 0;
}

json_object *podman_call_json(PodmanCall *call) {
        json_tokener *tok;
        json_object *o;

        if (!call->body || call->body_size == 0)
                return NULL;
        tok = json_tokener_new_ex(64);
        if (!tok)
                return NULL;
        o = json_tokener_parse_ex(tok, call->body, (int) MIN(call->body_size, (size_t) INT32_MAX));
        if (json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(o);
                o = NULL;
        }
        json_tokener_free(tok);
        return o;
}

void podman_op_cancel(PodmanOp *op) {
        PodmanCall *call;

        if (!op)
                return;
        call = op->call;
        if (!call || call->done || call->cancelled)
                return;
        call->cancelled = true;
        call->op = NULL;
        free(op);
        if (call->client)
                client_wake(call->client);
}

/* --- client ----------------------------------------------------------------------------- */

int podman_client_new(const char *socket_path, sd_event *event, PodmanClient **ret) {
        _cleanup_(podman_client_freep) PodmanClient *c = NULL;
        int r;

        if (isempty(socket_path) || socket_path[0] != '/' || !ret)
                return -EINVAL;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->socket_path = strdup(socket_path);
        if (!c->socket_path)
                return -ENOMEM;
        if (event)
                c->event = sd_event_ref(event);
        else {
                r = sd_event_new(&c->event);
                if (r < 0)
                        return r;
        }
        r = curl_event_new(c->event, "podman", client_process_done, c, &c->curl);
        if (r < 0)
                return r;
        r = sd_event_add_defer(c->event, &c->defer, on_defer, c);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
        (void) sd_event_source_set_description(c->defer, "podman-defer");
        *ret = TAKE_PTR(c);
        return 0;
}

PodmanClient *podman_client_free(PodmanClient *c) {
        if (!c)
                return NULL;
        while (c->calls)
                podman_call_free(c->calls);
        curl_event_free(c->curl);
        sd_event_source_disable_unref(c->defer);
        sd_event_source_disable_unref(c->delay);
        sd_event_unref(c->event);
        free(c->socket_path);
        free(c);
        return NULL;
}

const char *podman_client_socket_path(const PodmanClient *c) {
        return c ? c->socket_path : NULL;
}

const PodmanVersion *podman_client_version(const PodmanClient *c) {
        return c && c->have_version ? &c->version : NULL;
}

void podman_client_record_version(PodmanClient *c, const PodmanVersion *v) {
        c->version = *v;
        c->have_version = true;
}

size_t podman_client_pending(const PodmanClient *c) {
        return c ? c->n_calls : 0;
}

int podman_client_clone_private(PodmanClient *c, PodmanClient **ret) {
        PodmanClient *n;
        int r;

        r = podman_client_new(c->socket_path, NULL, &n);
        if (r < 0)
                return r;
        n->version = c->version;
        n->have_version = c->have_version;
        *ret = n;
        return 0;
}

int podman_client_run_until(PodmanClient *c, const bool *done) {
        while (!*done) {
                int r = sd_event_run(c->event, UINT64_MAX);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* --- helpers ---------------------------------------------------------------------------- */

int podman_parse_list(json_object *a, const PodmanListParser *p, void *userdata, void **ret, size_t *ret_n,
                      Error *e) {
        size_t len = json_object_array_length(a), n = 0;
        char *items = calloc(len ? len : 1, p->item_size);
        int r = 0;

        if (!items)
                return error_set(e, -ENOMEM, "out of memory");
        for (size_t i = 0; i < len; i++) {
                r = p->parse(json_object_array_get_idx(a, i), items + n * p->item_size, userdata);
                if (r < 0)
                        break;
                n += r > 0;
        }
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        p->done(items + i * p->item_size);
                free(items);
                return error_set(e, r, "out of memory");
        }
        *ret = items;
        *ret_n = n;
        return 0;
}

char *podman_escape(const char *s) {
        char *r = curl_easy_escape(NULL, s, 0), *copy;

        if (!r)
                return NULL;
        copy = strdup(r);
        curl_free(r);
        return copy;
}
