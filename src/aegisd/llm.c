/* llm.c — the LLM client of llm.h: providers resolved from the configuration, one call =
 * attempts on the primary provider (retries with backoff), then on the fallback, all under
 * one deadline, each attempt an HTTP request on the client's curl-event multi handle.
 *
 * Invariants: a call is on its client's list from llm_generate() until it is freed; every
 * attempt starts from an sd-event timer, never from llm_generate() or a curl callback; done()
 * runs once, from the event loop, and the call is freed right after (a cancelled call never
 * runs it); the resolved keys live only in LlmProvider.api_key and in request headers, are
 * wiped on free, and every message that may quote a provider's answer is scrubbed of them. */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curl-event.h"
#include "json-body.h"
#include "list.h"
#include "llm-internal.h"
#include "metrics.h"
#include "util.h"

#define LLM_CONNECT_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define LLM_BACKOFF_MAX_USEC (30 * USEC_PER_SEC)
#define LLM_KEY_MAX 4096
/* Timers fire when due: sd-event's default accuracy (0) is 250 ms. */

typedef struct LlmProvider {
        const ConfigLlmProvider *config;
        char *api_key; /* resolved; NULL = none */
} LlmProvider;

struct LlmClient {
        sd_event *event;
        CurlEvent *curl;
        LlmProvider *providers;
        size_t n_providers;
        size_t default_provider, fallback_provider; /* SIZE_MAX = no fallback */
        uint64_t max_retries, retry_delay_usec, overall_timeout_usec;
        LlmCall *calls;
        Metric *requests, *tokens, *duration;
};

struct LlmCall {
        LlmClient *client;
        LlmCall *prev, *next;
        json_object *messages, *tools; /* borrowed */
        LlmConversation *conv; /* borrowed, may be NULL */
        LlmNameTable names;
        llm_done_fn done;
        void *userdata;
        bool in_done;
        uint64_t start_usec, deadline_usec; /* CLOCK_MONOTONIC */
        size_t provider; /* index in client->providers */
        const ConfigLlmModel *model;
        bool on_fallback;
        unsigned attempts, attempts_here;
        sd_event_source *timer; /* the next attempt */
        sd_event_source *deadline;

        /* The running attempt. */
        CURL *easy;
        struct curl_slist *headers;
        char *request_body;
        char *body;
        size_t body_size;
        bool too_big;
        bool have_retry_after;
        uint64_t retry_after_usec;
        uint64_t attempt_start_usec;
        char errbuf[CURL_ERROR_SIZE];

        /* Why the last attempt failed (reported when nothing else is left to try). */
        LlmErrorKind kind;
        char message[ERROR_MESSAGE_MAX];
};

static const char *const llm_error_tags[_LLM_ERROR_MAX] = {
        [LLM_ERROR_NONE] = "none",
        [LLM_ERROR_AUTHENTICATION] = "upstream_authentication",
        [LLM_ERROR_RATE_LIMIT] = "upstream_rate_limit",
        [LLM_ERROR_MODEL_NOT_FOUND] = "upstream_model_not_found",
        [LLM_ERROR_INVALID_INPUT] = "upstream_invalid_input",
        [LLM_ERROR_UNAVAILABLE] = "upstream_unavailable",
        [LLM_ERROR_NETWORK] = "upstream_network",
        [LLM_ERROR_PROVIDER] = "upstream_provider",
        [LLM_ERROR_CONFIG] = "configuration",
        [LLM_ERROR_INTERNAL] = "internal",
};

static const unsigned llm_error_statuses[_LLM_ERROR_MAX] = {
        [LLM_ERROR_NONE] = 200,          [LLM_ERROR_AUTHENTICATION] = 502,
        [LLM_ERROR_RATE_LIMIT] = 429,    [LLM_ERROR_MODEL_NOT_FOUND] = 502,
        [LLM_ERROR_INVALID_INPUT] = 502, [LLM_ERROR_UNAVAILABLE] = 503,
        [LLM_ERROR_NETWORK] = 502,       [LLM_ERROR_PROVIDER] = 502,
        [LLM_ERROR_CONFIG] = 500,        [LLM_ERROR_INTERNAL] = 500,
};

const char *llm_error_tag(LlmErrorKind k) {
        return k >= 0 && k < _LLM_ERROR_MAX ? llm_error_tags[k] : "internal";
}

unsigned llm_error_http_status(LlmErrorKind k) {
        return k >= 0 && k < _LLM_ERROR_MAX ? llm_error_statuses[k] : 500;
}

void llm_response_done(LlmResponse *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_tool_calls; i++) {
                free(r->tool_calls[i].id);
                free(r->tool_calls[i].name);
                json_object_put(r->tool_calls[i].arguments);
        }
        free(r->tool_calls);
        free(r->content);
        free(r->provider);
        free(r->model);
        *r = (LlmResponse){};
}

void llm_response_event_fields(const LlmResponse *r, json_object *payload) {
        assert(r);
        assert(payload);
        json_object_object_add(payload, "provider", json_object_new_string(strempty(r->provider)));
        json_object_object_add(payload, "model", json_object_new_string(strempty(r->model)));
        json_object_object_add(payload, "tokens_in", json_object_new_int64((int64_t) r->tokens_in));
        json_object_object_add(payload, "tokens_out", json_object_new_int64((int64_t) r->tokens_out));
        json_object_object_add(payload, "latency_ms",
                               json_object_new_int64((int64_t) (r->latency_usec / USEC_PER_MSEC)));
        json_object_object_add(payload, "attempts", json_object_new_int64(r->attempts));
        json_object_object_add(payload, "outcome", json_object_new_string("ok"));
}

/* --- keys ------------------------------------------------------------------------------- */

void api_key_free(char *key) {
        if (key) {
                explicit_bzero(key, strlen(key));
                free(key);
        }
}

/* api_key "env:VAR": $VAR, else the systemd credential $CREDENTIALS_DIRECTORY/VAR (llm.h). */
int api_key_resolve(const char *var, const char *field, const char *who, char **ret, Error *e) {
        const char *v, *creds = getenv("CREDENTIALS_DIRECTORY");
        _cleanup_free_ char *path = NULL;
        char *key = NULL;
        size_t n = 0;
        int r;

        assert(var);
        assert(field);
        assert(who);
        assert(ret);
        v = getenv(var);
        if (!isempty(v))
                key = strdup(v);
        else if (!isempty(creds)) {
                path = path_join(creds, var);
                if (!path)
                        return error_set(e, -ENOMEM, "Out of memory");
                r = read_full_file(path, LLM_KEY_MAX, &key, &n);
                if (r == -ENOENT)
                        key = NULL;
                else if (r < 0)
                        return error_set_field(e, r, field,
                                               "%s: api_key env:%s: cannot read the credential %s: %s", who,
                                               var, path, strerror(-r));
                else
                        while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r'))
                                key[--n] = '\0';
        } else
                return error_set_field(e, -ENOKEY, field,
                                       "%s: api_key env:%s: $%s is not set and there is no credential "
                                       "directory; set it in the unit's EnvironmentFile= or pass it as a "
                                       "credential (LoadCredential=%s:/path/to/key)",
                                       who, var, var, var);
        if (!key && path)
                return error_set_field(
                        e, -ENOKEY, field,
                        "%s: api_key env:%s: $%s is not set and there is no credential %s; set "
                        "it in the unit's EnvironmentFile= or pass it as a credential "
                        "(LoadCredential=%s:/path/to/key)",
                        who, var, var, path, var);
        if (!key)
                return error_set(e, -ENOMEM, "Out of memory");
        /* A key goes into an HTTP header: nothing that could end or split it. */
        for (const char *q = key; *q; q++)
                if ((unsigned char) *q < 0x20 || *q == 0x7f) {
                        api_key_free(key);
                        return error_set_field(e, -EINVAL, field,
                                               "%s: the key in env:%s holds control characters (a stray "
                                               "newline?); store the bare key",
                                               who, var);
                }
        if (isempty(key)) {
                api_key_free(key);
                return error_set_field(e, -ENOKEY, field, "%s: api_key env:%s is empty", who, var);
        }
        *ret = key;
        return 0;
}

/* Replaces every occurrence of key in s (NUL-terminated, in place) by "***". */
static void scrub_key(char *s, const char *key) {
        size_t klen = key ? strlen(key) : 0;
        char *p;

        if (klen < 4)
                return; /* too short to be a key; scrubbing would mangle the message */
        while ((p = strstr(s, key))) {
                memcpy(p, "***", 3);
                memmove(p + 3, p + klen, strlen(p + klen) + 1);
        }
}

/* --- calls ------------------------------------------------------------------------------ */

static void attempt_free(LlmCall *call) {
        if (call->easy) {
                curl_event_remove(call->client->curl, call->easy);
                curl_easy_cleanup(call->easy);
                call->easy = NULL;
        }
        for (struct curl_slist *h = call->headers; h; h = h->next)
                explicit_bzero(h->data, strlen(h->data));
        curl_slist_free_all(call->headers);
        call->headers = NULL;
        free(call->request_body);
        call->request_body = NULL;
        free(call->body);
        call->body = NULL;
        call->body_size = 0;
        call->too_big = false;
        call->have_retry_after = false;
        call->errbuf[0] = '\0';
}

static void call_free(LlmCall *call) {
        if (!call)
                return;
        attempt_free(call);
        sd_event_source_disable_unref(call->timer);
        sd_event_source_disable_unref(call->deadline);
        llm_names_done(&call->names);
        if (call->client)
                LIST_REMOVE(call->client->calls, call);
        free(call);
}

void llm_call_cancel(LlmCall *call) {
        if (!call || call->in_done)
                return;
        call_free(call);
}

static const char *provider_name(const LlmCall *call) {
        return call->client->providers[call->provider].config->name;
}

static void finish(LlmCall *call, LlmErrorKind kind, const char *message, const LlmResponse *resp) {
        call->in_done = true;
        attempt_free(call);
        if (kind == LLM_ERROR_NONE)
                call->done(0, resp, kind, NULL, call->userdata);
        else
                call->done(kind == LLM_ERROR_INTERNAL ? -ENOMEM : -EIO, NULL, kind, message, call->userdata);
        call_free(call);
}

static void finish_failed(LlmCall *call) {
        finish(call, call->kind, call->message, NULL);
}

static int on_attempt(sd_event_source *s, uint64_t usec, void *userdata);

static int schedule_attempt(LlmCall *call, uint64_t when) {
        int r;

        if (!call->timer) {
                r = sd_event_add_time(call->client->event, &call->timer, CLOCK_MONOTONIC, when, 1,
                                      on_attempt, call);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(call->timer, "llm-attempt");
                return 0;
        }
        r = sd_event_source_set_time(call->timer, when);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(call->timer, SD_EVENT_ONESHOT);
}

/* The model behind alias on provider i: that alias, else (for "default" or a fallback) its
 * first model. */
static const ConfigLlmModel *provider_model(const LlmClient *c, size_t i, const char *alias, bool first_ok) {
        const ConfigLlmProvider *p = c->providers[i].config;

        for (size_t j = 0; j < p->n_models; j++)
                if (streq(p->models[j].alias, alias))
                        return &p->models[j];
        return first_ok && p->n_models > 0 ? &p->models[0] : NULL;
}

/* The provider and model of alias: the default provider's, else the first provider that has
 * the alias. */
static bool resolve_alias(const LlmClient *c, const char *alias, size_t *ret_provider,
                          const ConfigLlmModel **ret_model) {
        const ConfigLlmModel *m;

        if (c->n_providers == 0)
                return false;
        m = provider_model(c, c->default_provider, alias, streq(alias, "default"));
        if (m) {
                *ret_provider = c->default_provider;
                *ret_model = m;
                return true;
        }
        for (size_t i = 0; i < c->n_providers; i++)
                if ((m = provider_model(c, i, alias, false))) {
                        *ret_provider = i;
                        *ret_model = m;
                        return true;
                }
        return false;
}

bool llm_client_has_alias(const LlmClient *c, const char *alias) {
        size_t i;
        const ConfigLlmModel *m;

        assert(c);
        assert(alias);
        return resolve_alias(c, alias, &i, &m);
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *userdata) {
        LlmCall *call = userdata;
        size_t n = size * nmemb;
        char *b;

        if (n > LLM_RESPONSE_MAX - call->body_size) {
                call->too_big = true;
                return 0;
        }
        b = realloc(call->body, call->body_size + n + 1);
        if (!b)
                return 0;
        memcpy(b + call->body_size, p, n);
        call->body = b;
        call->body_size += n;
        b[call->body_size] = '\0';
        return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *userdata) {
        LlmCall *call = userdata;
        size_t n = size * nmemb;
        char value[128];
        uint64_t usec;

        if (n > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
                size_t len = MIN(n - 12, sizeof value - 1);
                memcpy(value, p + 12, len);
                value[len] = '\0';
                value[strcspn(value, "\r\n")] = '\0';
                if (llm_parse_retry_after(value, now_usec(CLOCK_REALTIME), &usec) == 0) {
                        call->have_retry_after = true;
                        call->retry_after_usec = usec;
                }
        }
        return n;
}

static void set_failure(LlmCall *call, LlmErrorKind kind, const char *fmt, ...) _printf_(3, 4);
static void set_failure(LlmCall *call, LlmErrorKind kind, const char *fmt, ...) {
        va_list ap;

        call->kind = kind;
        va_start(ap, fmt);
        (void) vsnprintf(call->message, sizeof call->message, fmt, ap);
        va_end(ap);
        scrub_key(call->message, call->client->providers[call->provider].api_key);
}

static int start_attempt(LlmCall *call) {
        LlmClient *c = call->client;
        LlmProvider *p = &c->providers[call->provider];
        LlmHttpRequest req = {};
        LlmRequestInput in;
        const char *why = NULL, *s;
        uint64_t now = now_usec(CLOCK_MONOTONIC), left;
        size_t n;
        int r;

        if (now >= call->deadline_usec)
                return -ETIME;
        left = call->deadline_usec - now;
        in = (LlmRequestInput){ .type = p->config->type,
                                .endpoint = p->config->endpoint,
                                .api_key = p->api_key,
                                .model = call->model,
                                .messages = call->messages,
                                .tools = call->tools,
                                .names = &call->names };
        /* A conversation's turn costs its own messages: the others' wire text is kept. */
        if (call->conv && llm_wire_has_messages(in.type))
                r = llm_conversation_request(call->conv, &in, &req, &call->request_body, &n, &why);
        else
                r = llm_build_request(&in, &req, &why);
        if (r == -EINVAL) {
                set_failure(call, LLM_ERROR_INTERNAL,
                            "the conversation cannot be sent to provider \"%s\": %s", p->config->name, why);
                return r;
        }
        if (r < 0)
                goto oom;
        if (!call->request_body) {
                s = json_object_to_json_string_length(
                        req.body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
                call->request_body = s ? strndup(s, n) : NULL;
        }
        call->easy = curl_easy_init();
        if (!call->request_body || !call->easy)
                goto oom;
        for (size_t i = 0; req.headers && req.headers[i]; i++) {
                struct curl_slist *l = curl_slist_append(call->headers, req.headers[i]);
                if (!l)
                        goto oom;
                call->headers = l;
        }
        /* No "Expect: 100-continue" round trip before large conversations. */
        {
                struct curl_slist *l = curl_slist_append(call->headers, "Expect:");
                if (!l)
                        goto oom;
                call->headers = l;
        }
        if (curl_easy_setopt(call->easy, CURLOPT_URL, req.url) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_PRIVATE, call) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_ERRORBUFFER, call->errbuf) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_HTTPHEADER, call->headers) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) n) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_POSTFIELDS, call->request_body) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_WRITEDATA, call) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_HEADERDATA, call) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_CONNECTTIMEOUT_MS,
                             (long) MAX(MIN(left, LLM_CONNECT_TIMEOUT_USEC) / USEC_PER_MSEC, 1)) !=
                    CURLE_OK ||
            curl_easy_setopt(call->easy, CURLOPT_TIMEOUT_MS, (long) MAX(left / USEC_PER_MSEC, 1)) !=
                    CURLE_OK)
                goto oom;
        llm_http_request_done(&req);
        r = curl_event_add(c->curl, call->easy);
        if (r < 0) {
                set_failure(call, LLM_ERROR_INTERNAL, "cannot start a request to provider \"%s\"",
                            p->config->name);
                return r;
        }
        call->attempts++;
        call->attempts_here++;
        call->attempt_start_usec = now;
        return 0;
oom:
        llm_http_request_done(&req);
        set_failure(call, LLM_ERROR_INTERNAL, "out of memory building a request to provider \"%s\"",
                    p->config->name);
        return -ENOMEM;
}

static void next_attempt(LlmCall *call);

static int on_attempt(sd_event_source *s, uint64_t usec, void *userdata) {
        LlmCall *call = userdata;

        if (call->kind == LLM_ERROR_CONFIG) {
                finish_failed(call);
                return 0;
        }
        if (start_attempt(call) < 0) {
                if (call->kind == LLM_ERROR_INTERNAL)
                        finish_failed(call);
                else
                        next_attempt(call);
        }
        return 0;
}

/* After a failed attempt (call->kind, call->message): retry here, go to the fallback, or
 * give up. */
static void next_attempt(LlmCall *call) {
        LlmClient *c = call->client;
        uint64_t now = now_usec(CLOCK_MONOTONIC), delay;
        bool have_retry_after = call->have_retry_after;

        attempt_free(call);
        if (llm_error_retryable(call->kind) && call->attempts_here <= c->max_retries) {
                delay = c->retry_delay_usec << MIN(call->attempts_here - 1, 16U);
                delay = MIN(delay, LLM_BACKOFF_MAX_USEC);
                if (have_retry_after)
                        delay = MAX(delay, call->retry_after_usec);
                if (now + delay < call->deadline_usec && schedule_attempt(call, now + delay) >= 0)
                        return;
        }
        if (!call->on_fallback && c->fallback_provider != SIZE_MAX &&
            c->fallback_provider != call->provider) {
                call->on_fallback = true;
                call->provider = c->fallback_provider;
                call->model = provider_model(c, call->provider, "", true);
                call->attempts_here = 0;
                if (schedule_attempt(call, now) >= 0)
                        return;
        }
        finish_failed(call);
}

static void count_request(LlmCall *call, const char *outcome, uint64_t usec) {
        LlmClient *c = call->client;
        const char *name = provider_name(call);

        if (c->requests)
                (void) metric_add(c->requests, METRIC_LABELS(name, outcome), 1);
        if (c->duration)
                (void) metric_observe(c->duration, METRIC_LABELS(name), (double) usec / USEC_PER_SEC);
}

/* The provider's own words about an error, printable and short. */
static void error_excerpt(const LlmCall *call, char *buf, size_t size) {
        json_object *j = NULL;
        const char *msg = NULL;
        size_t i, n;

        buf[0] = '\0';
        if (!call->body || call->body_size == 0)
                return;
        if (json_parse_object(call->body, call->body_size, 32, &j) == 0) {
                json_object *err = json_get(j, "error");
                msg = json_object_is_type(err, json_type_string) ? json_object_get_string(err)
                                                                 : json_get_string(err, "message");
                if (!msg)
                        msg = json_get_string(j, "message");
        }
        if (!msg)
                msg = call->body;
        n = strlen(msg);
        for (i = 0; i < n && i < MIN(size - 1, (size_t) 300); i++)
                buf[i] = ((unsigned char) msg[i] >= 0x20 && msg[i] != 0x7f) ? msg[i] : ' ';
        buf[i] = '\0';
        json_object_put(j);
}

static void on_transfer_done(CURL *easy, CURLcode cc, void *userdata) {
        LlmCall *call = NULL;
        LlmClient *c = userdata;
        const ConfigLlmProvider *p;
        long status = 0;
        uint64_t now = now_usec(CLOCK_MONOTONIC), took;
        LlmErrorKind kind;

        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &call);
        if (!call)
                return;
        assert(call->client == c);
        p = c->providers[call->provider].config;
        took = now - call->attempt_start_usec;
        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);

        if (cc != CURLE_OK) {
                kind = call->too_big ? LLM_ERROR_PROVIDER : llm_classify_curl(cc);
                count_request(call, llm_error_tag(kind), took);
                if (call->too_big)
                        set_failure(call, kind, "provider \"%s\" (model %s): the answer exceeds %u bytes",
                                    p->name, call->model->model, LLM_RESPONSE_MAX);
                else if (cc == CURLE_OPERATION_TIMEDOUT)
                        set_failure(call, kind, "provider \"%s\" (model %s) at %s: no answer within %.1f s",
                                    p->name, call->model->model, p->endpoint, (double) took / USEC_PER_SEC);
                else
                        set_failure(call, kind, "provider \"%s\" (model %s) at %s: %s", p->name,
                                    call->model->model, p->endpoint,
                                    call->errbuf[0] ? call->errbuf : curl_easy_strerror(cc));
                next_attempt(call);
                return;
        }
        kind = llm_classify_http(status);
        if (kind != LLM_ERROR_NONE) {
                char excerpt[320];
                error_excerpt(call, excerpt, sizeof excerpt);
                count_request(call, llm_error_tag(kind), took);
                set_failure(call, kind, "provider \"%s\" (model %s) answered HTTP %ld%s%s", p->name,
                            call->model->model, status, excerpt[0] ? ": " : "", excerpt);
                next_attempt(call);
                return;
        }

        {
                LlmResponse resp = {};
                const char *why = NULL;
                int r = llm_parse_response(p->type, call->body ?: "", call->body_size, &call->names, &resp,
                                           &why);

                if (r < 0) {
                        llm_response_done(&resp);
                        kind = r == -ENOMEM ? LLM_ERROR_INTERNAL : LLM_ERROR_PROVIDER;
                        count_request(call, llm_error_tag(kind), took);
                        set_failure(call, kind, "provider \"%s\" (model %s): unusable answer (HTTP %ld): %s",
                                    p->name, call->model->model, status,
                                    r == -ENOMEM ? "out of memory" : why);
                        next_attempt(call);
                        return;
                }
                count_request(call, "success", took);
                if (c->tokens) {
                        (void) metric_add(c->tokens, METRIC_LABELS(p->name, "in"), (double) resp.tokens_in);
                        (void) metric_add(c->tokens, METRIC_LABELS(p->name, "out"),
                                          (double) resp.tokens_out);
                }
                resp.provider = strdup(p->name);
                resp.model = strdup(call->model->model);
                resp.latency_usec = now - call->start_usec;
                resp.attempts = call->attempts;
                if (!resp.provider || !resp.model) {
                        llm_response_done(&resp);
                        set_failure(call, LLM_ERROR_INTERNAL, "out of memory");
                        finish_failed(call);
                        return;
                }
                finish(call, LLM_ERROR_NONE, NULL, &resp);
                llm_response_done(&resp);
        }
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        LlmCall *call = userdata;
        const ConfigLlmProvider *p = call->client->providers[call->provider].config;

        /* Whatever the last failure was, the caller's budget is what ran out. */
        if (call->attempts == 0 || call->easy || call->kind == LLM_ERROR_NONE ||
            llm_error_retryable(call->kind))
                set_failure(call, LLM_ERROR_NETWORK,
                            "no answer from provider \"%s\" (model %s) within the call's %.1f s (%u "
                            "attempt%s)%s%s",
                            p->name, call->model->model,
                            (double) (call->deadline_usec - call->start_usec) / USEC_PER_SEC, call->attempts,
                            call->attempts == 1 ? "" : "s", call->message[0] ? "; last error: " : "",
                            call->message[0] ? call->message : "");
        finish_failed(call);
        return 0;
}

int llm_generate(LlmClient *c, const char *alias, json_object *messages, json_object *tools,
                 LlmConversation *conv, uint64_t timeout_usec, llm_done_fn done, void *userdata,
                 LlmCall **ret) {
        LlmCall *call;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        assert(c);
        assert(alias);
        assert(messages);
        assert(done);
        if (!json_object_is_type(messages, json_type_array) ||
            (tools && !json_object_is_type(tools, json_type_array)))
                return -EINVAL;
        call = calloc(1, sizeof *call);
        if (!call)
                return -ENOMEM;
        call->client = c;
        LIST_PREPEND(c->calls, call);
        call->messages = messages;
        call->tools = tools;
        call->conv = conv;
        call->done = done;
        call->userdata = userdata;
        call->start_usec = now;
        call->deadline_usec = now + (timeout_usec ?: c->overall_timeout_usec);
        if (!resolve_alias(c, alias, &call->provider, &call->model)) {
                /* Reported from the loop like any other failure: done() never runs in here. */
                call->provider = 0;
                call->kind = LLM_ERROR_CONFIG;
                if (c->n_providers == 0)
                        (void) snprintf(
                                call->message, sizeof call->message,
                                "no LLM provider is configured: add llm.providers to the configuration "
                                "(aegis-config.yaml(5))");
                else
                        (void) snprintf(
                                call->message, sizeof call->message,
                                "model alias \"%s\" is not configured on any provider in llm.providers",
                                alias);
        } else {
                r = conv ? llm_conversation_names(conv, tools, messages, &call->names)
                         : llm_names_build(tools, messages, &call->names);
                if (r < 0)
                        goto fail;
        }
        r = schedule_attempt(call, 0);
        if (r < 0)
                goto fail;
        if (call->kind != LLM_ERROR_CONFIG) {
                r = sd_event_add_time(c->event, &call->deadline, CLOCK_MONOTONIC, call->deadline_usec, 1,
                                      on_deadline, call);
                if (r < 0)
                        goto fail;
                (void) sd_event_source_set_description(call->deadline, "llm-deadline");
        }
        if (ret)
                *ret = call;
        return 0;
fail:
        call_free(call);
        return r;
}

/* --- client ----------------------------------------------------------------------------- */

int llm_client_new(sd_event *event, const Config *config, LlmClient **ret, Error *e) {
        _cleanup_(llm_client_freep) LlmClient *c = NULL;
        const char *def = config->llm.selection.default_provider,
                   *fb = config->llm.selection.fallback_provider;
        int r;

        assert(event);
        assert(config);
        assert(ret);
        c = calloc(1, sizeof *c);
        if (!c)
                return error_set(e, -ENOMEM, "Out of memory");
        c->event = sd_event_ref(event);
        c->fallback_provider = SIZE_MAX;
        c->max_retries = config->llm.selection.max_retries;
        c->retry_delay_usec = config->llm.selection.retry_delay_ms * USEC_PER_MSEC;
        c->overall_timeout_usec = config->llm.selection.overall_timeout_secs * USEC_PER_SEC;
        r = curl_event_new(event, "llm", on_transfer_done, c, &c->curl);
        if (r < 0)
                return error_set(e, r, "Failed to set up the LLM client: %s", strerror(-r));
        c->providers = calloc(MAX(config->llm.n_providers, (size_t) 1), sizeof *c->providers);
        if (!c->providers)
                return error_set(e, -ENOMEM, "Out of memory");
        for (size_t i = 0; i < config->llm.n_providers; i++) {
                const ConfigLlmProvider *p = &config->llm.providers[i];

                c->providers[i].config = p;
                c->n_providers = i + 1;
                if (p->api_key_env) {
                        _cleanup_free_ char *who =
                                asprintf_safe("%s: llm provider \"%s\"", p->where, p->name);
                        if (!who)
                                return error_set(e, -ENOMEM, "Out of memory");
                        r = api_key_resolve(p->api_key_env, "llm.providers.api_key", who,
                                            &c->providers[i].api_key, e);
                        if (r < 0)
                                return r;
                }
                if (streq(p->name, def))
                        c->default_provider = i;
                if (streq(p->name, fb))
                        c->fallback_provider = i;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

LlmClient *llm_client_free(LlmClient *c) {
        if (!c)
                return NULL;
        while (c->calls)
                call_free(c->calls);
        curl_event_free(c->curl);
        for (size_t i = 0; i < c->n_providers; i++)
                api_key_free(c->providers[i].api_key);
        free(c->providers);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

int llm_client_register_metrics(LlmClient *c, MetricsRegistry *reg) {
        static const char *const req_labels[] = { "provider", "outcome", NULL };
        static const char *const tok_labels[] = { "provider", "direction", NULL };
        static const char *const dur_labels[] = { "provider", NULL };
        static const double buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300 };
        int r;

        assert(c);
        assert(reg);
        r = metrics_register(
                reg, METRIC_COUNTER, "aegis_llm_requests_total",
                "HTTP requests to LLM providers, by provider and outcome (success or the error tag).",
                req_labels, NULL, 0, &c->requests);
        if (r < 0)
                return r;
        r = metrics_register(reg, METRIC_COUNTER, "aegis_llm_tokens_total",
                             "Tokens the LLM providers counted, by provider and direction (in, out).",
                             tok_labels, NULL, 0, &c->tokens);
        if (r < 0)
                return r;
        return metrics_register(reg, METRIC_HISTOGRAM, "aegis_llm_request_duration_seconds",
                                "Duration of HTTP requests to LLM providers, by provider.", dur_labels,
                                buckets, ELEMENTSOF(buckets), &c->duration);
}
