/* llm-wire.c — what every wire format shares: the tool name table, one message's envelope,
 * the response helpers, error classification and Retry-After. The dispatch to a format is
 * llm-formats.c: the formats use this file, this file uses none of them.
 *
 * Invariants: a wire name matches [A-Za-z0-9_-]{1,64} (the charset OpenAI, Anthropic, Ollama
 * and Gemini all accept) and is unique within its table; names are never turned back by
 * rewriting characters, only by look-up. */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json-body.h"
#include "json-util.h"
#include "llm-internal.h"
#include "util.h"

/* --- json-c ------------------------------------------------------------------------------ */

int json_add(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

int json_append(json_object *a, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

const char *llm_message_text(json_object *message) {
        json_object *c = json_get(message, "content");

        if (!c || json_object_is_type(c, json_type_null))
                return "";
        if (json_object_is_type(c, json_type_string))
                return json_object_get_string(c);
        return json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

const char *llm_tool_result_name(json_object *messages, size_t i) {
        json_object *m = json_object_array_get_idx(messages, i);
        const char *name = json_get_string(m, "name"), *id = json_get_string(m, "tool_call_id");

        for (size_t k = i; !name && id && k-- > 0;) {
                json_object *calls = json_get(json_object_array_get_idx(messages, k), "tool_calls");
                for (size_t j = 0; calls && json_object_is_type(calls, json_type_array) &&
                                   j < json_object_array_length(calls);
                     j++) {
                        json_object *c = json_object_array_get_idx(calls, j);
                        if (streq(json_get_string(c, "id"), id))
                                return json_get_string(c, "name");
                }
        }
        return name;
}

json_object *llm_last_turn(json_object *list, const char *role, const char *items_key) {
        size_t n = json_object_array_length(list);
        json_object *last = n > 0 ? json_object_array_get_idx(list, n - 1) : NULL, *t, *items;

        if (last && streq(json_get_string(last, "role"), role))
                return json_get(last, items_key);
        t = json_object_new_object();
        if (json_append(list, t) < 0)
                return NULL;
        items = json_object_new_array();
        if (json_add(t, "role", json_object_new_string(role)) < 0 || json_add(t, items_key, items) < 0)
                return NULL;
        return items;
}

json_object *llm_tool_declarations(const LlmRequestInput *in, const char *schema_key, bool schema_default,
                                   bool function_wrapper) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < json_object_array_length(in->tools); i++) {
                json_object *t = json_object_array_get_idx(in->tools, i),
                            *params = json_get(t, "parameters");
                json_object *d = json_object_new_object(), *w;
                const char *desc = json_get_string(t, "description");

                if (function_wrapper) {
                        w = json_object_new_object();
                        if (json_append(a, w) < 0 || json_add(w, "function", d) < 0 ||
                            json_add(w, "type", json_object_new_string("function")) < 0)
                                goto oom;
                } else if (json_append(a, d) < 0)
                        goto oom;
                if (json_add(d, "name",
                             json_object_new_string(strempty(
                                     llm_names_to_wire(in->names, json_get_string(t, "name"))))) < 0 ||
                    (desc && json_add(d, "description", json_object_new_string(desc)) < 0))
                        goto oom;
                if (params ? json_add(d, schema_key, json_object_get(params)) < 0
                           : schema_default &&
                                     json_add(d, schema_key,
                                              json_tokener_parse(
                                                      "{\"type\":\"object\",\"properties\":{}}")) < 0)
                        goto oom;
        }
        return a;
oom:
        json_object_put(a);
        return NULL;
}

/* --- tool names --------------------------------------------------------------------------- */

void llm_names_done(LlmNameTable *t) {
        for (size_t i = 0; i < t->n; i++) {
                free(t->ours[i]);
                free(t->wire[i]);
        }
        free(t->ours);
        free(t->wire);
        *t = (LlmNameTable){};
}

const char *llm_names_to_wire(const LlmNameTable *t, const char *ours) {
        for (size_t i = 0; i < t->n; i++)
                if (streq(t->ours[i], ours))
                        return t->wire[i];
        return NULL;
}

const char *llm_names_from_wire(const LlmNameTable *t, const char *wire) {
        for (size_t i = 0; i < t->n; i++)
                if (streq(t->wire[i], wire))
                        return t->ours[i];
        return NULL;
}

/* "fs.create_dir" → "fs__create_dir"; other characters outside the charset → "_". NULL when
 * the result would be empty or too long. */
static char *wire_spelling(const char *ours) {
        size_t n = 0;
        char *w = malloc(2 * strlen(ours) + 1);

        if (!w)
                return NULL;
        for (const char *p = ours; *p; p++) {
                if (*p == '.') {
                        w[n++] = '_';
                        w[n++] = '_';
                } else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                           (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')
                        w[n++] = *p;
                else
                        w[n++] = '_';
        }
        w[n] = '\0';
        return w;
}

static int names_add(LlmNameTable *t, const char *ours) {
        _cleanup_free_ char *w = NULL, *o = NULL;
        char **no, **nw;

        if (isempty(ours) || llm_names_to_wire(t, ours))
                return 0;
        w = wire_spelling(ours);
        o = strdup(ours);
        if (!w || !o)
                return -ENOMEM;
        if (strlen(w) > LLM_WIRE_NAME_MAX || llm_names_from_wire(t, w)) {
                /* A clash ("a.b" and "a__b") or too long: an index-based name, unique too. */
                for (size_t k = t->n;; k++) {
                        free(w);
                        w = asprintf_safe("tool_%zu", k);
                        if (!w)
                                return -ENOMEM;
                        if (!llm_names_from_wire(t, w))
                                break;
                }
        }
        no = reallocarray(t->ours, t->n + 1, sizeof *no);
        if (!no)
                return -ENOMEM;
        t->ours = no;
        nw = reallocarray(t->wire, t->n + 1, sizeof *nw);
        if (!nw)
                return -ENOMEM;
        t->wire = nw;
        t->ours[t->n] = TAKE_PTR(o);
        t->wire[t->n] = TAKE_PTR(w);
        t->n++;
        return 0;
}

int llm_names_extend(LlmNameTable *t, json_object *messages, size_t from) {
        int r = 0;

        assert(t);
        for (size_t i = from; r >= 0 && messages && i < json_object_array_length(messages); i++) {
                json_object *m = json_object_array_get_idx(messages, i), *calls = json_get(m, "tool_calls");

                r = names_add(t, json_get_string(m, "name"));
                for (size_t j = 0; r >= 0 && calls && json_object_is_type(calls, json_type_array) &&
                                   j < json_object_array_length(calls);
                     j++)
                        r = names_add(t, json_get_string(json_object_array_get_idx(calls, j), "name"));
        }
        return r < 0 ? r : 0;
}

int llm_names_build(json_object *tools, json_object *messages, LlmNameTable *ret) {
        LlmNameTable t = {};
        int r = 0;

        for (size_t i = 0; r >= 0 && tools && i < json_object_array_length(tools); i++)
                r = names_add(&t, json_get_string(json_object_array_get_idx(tools, i), "name"));
        if (r >= 0)
                r = llm_names_extend(&t, messages, 0);
        if (r < 0) {
                llm_names_done(&t);
                return r;
        }
        *ret = t;
        return 0;
}

int llm_names_copy(const LlmNameTable *t, LlmNameTable *ret) {
        LlmNameTable c = {};

        assert(t && ret);
        if (t->n > 0) {
                c.ours = calloc(t->n, sizeof *c.ours);
                c.wire = calloc(t->n, sizeof *c.wire);
                if (!c.ours || !c.wire) {
                        llm_names_done(&c);
                        return -ENOMEM;
                }
        }
        for (; c.n < t->n; c.n++) {
                c.ours[c.n] = strdup(t->ours[c.n]);
                c.wire[c.n] = strdup(t->wire[c.n]);
                if (!c.ours[c.n] || !c.wire[c.n]) {
                        c.n++;
                        llm_names_done(&c);
                        return -ENOMEM;
                }
        }
        *ret = c;
        return 0;
}

/* --- requests and responses --------------------------------------------------------------- */

void llm_http_request_done(LlmHttpRequest *r) {
        free(r->url);
        for (size_t i = 0; r->headers && r->headers[i]; i++) {
                /* Headers may carry the key: leave nothing behind in freed memory. */
                explicit_bzero(r->headers[i], strlen(r->headers[i]));
                free(r->headers[i]);
        }
        free(r->headers);
        json_object_put(r->body);
        *r = (LlmHttpRequest){};
}

int llm_request_add_header(LlmHttpRequest *r, const char *name, const char *value) {
        _cleanup_free_ char *h = asprintf_safe("%s: %s", name, value);

        if (!h)
                return -ENOMEM;
        if (strv_extend(&r->headers, h) < 0) {
                explicit_bzero(h, strlen(h));
                return -ENOMEM;
        }
        explicit_bzero(h, strlen(h));
        return 0;
}

int llm_request_add_bearer(LlmHttpRequest *r, const char *key) {
        _cleanup_free_ char *v = asprintf_safe("Bearer %s", key);
        int k;

        if (!v)
                return -ENOMEM;
        k = llm_request_add_header(r, "Authorization", v);
        explicit_bzero(v, strlen(v));
        return k;
}

int llm_join_system(char **system, const char *text) {
        char *s = *system ? asprintf_safe("%s\n\n%s", *system, text) : strdup(text);

        if (!s)
                return -ENOMEM;
        free(*system);
        *system = s;
        return 0;
}

int llm_wire_message_with(const LlmRequestInput *in, size_t i, LlmMessageFn message, json_object **ret,
                          const char **ret_why) {
        _cleanup_json_ json_object *w = NULL;
        json_object *m;
        const char *role;
        int r;

        assert(in && in->messages && message && ret);
        assert(i < json_object_array_length(in->messages));
        m = json_object_array_get_idx(in->messages, i);
        role = json_get_string(m, "role");
        if (!role) {
                *ret_why = "a message has no role";
                return -EINVAL;
        }
        w = json_object_new_object();
        if (!w || json_add(w, "role", json_object_new_string(role)) < 0)
                return -ENOMEM;
        r = message(in, i, m, role, w, ret_why);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(w);
        return 0;
}

int llm_response_add_text(LlmResponse *resp, const char *text) {
        char *n;

        if (isempty(text))
                return 0;
        n = resp->content ? asprintf_safe("%s%s", resp->content, text) : strdup(text);
        if (!n)
                return -ENOMEM;
        free(resp->content);
        resp->content = n;
        return 0;
}

int llm_response_add_tool_call(LlmResponse *resp, const char *id, const char *wire_name,
                               const LlmNameTable *names, json_object *arguments) {
        const char *ours = llm_names_from_wire(names, wire_name);
        LlmToolCall *calls, *tc;

        if (!arguments)
                arguments = json_object_new_object();
        if (!arguments)
                return -ENOMEM;
        calls = reallocarray(resp->tool_calls, resp->n_tool_calls + 1, sizeof *calls);
        if (!calls) {
                json_object_put(arguments);
                return -ENOMEM;
        }
        resp->tool_calls = calls;
        tc = &calls[resp->n_tool_calls];
        *tc = (LlmToolCall){ .arguments = arguments };
        /* A name the model made up is passed on as it came: the loop refuses unknown tools. */
        tc->name = strdup(ours ?: wire_name);
        tc->id = isempty(id) ? asprintf_safe("call_%zu", resp->n_tool_calls + 1) : strdup(id);
        resp->n_tool_calls++;
        return tc->name && tc->id ? 0 : -ENOMEM;
}

/* --- errors ---------------------------------------------------------------------------- */

LlmErrorKind llm_classify_http(long status) {
        if (status >= 200 && status < 300)
                return LLM_ERROR_NONE;
        switch (status) {
        case 401:
        case 403:
                return LLM_ERROR_AUTHENTICATION;
        case 429:
                return LLM_ERROR_RATE_LIMIT;
        case 404:
                return LLM_ERROR_MODEL_NOT_FOUND;
        case 400:
        case 413:
        case 422:
                return LLM_ERROR_INVALID_INPUT;
        case 408:
                return LLM_ERROR_NETWORK;
        default:
                return status >= 500 && status < 600 ? LLM_ERROR_UNAVAILABLE : LLM_ERROR_PROVIDER;
        }
}

LlmErrorKind llm_classify_curl(CURLcode cc) {
        switch (cc) {
        case CURLE_OK:
                return LLM_ERROR_NONE;
        case CURLE_COULDNT_CONNECT:
                return LLM_ERROR_UNAVAILABLE; /* refused: nothing listens */
        case CURLE_OUT_OF_MEMORY:
                return LLM_ERROR_INTERNAL;
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
                return LLM_ERROR_CONFIG;
        case CURLE_WRITE_ERROR:
                return LLM_ERROR_PROVIDER; /* our bound on the answer's size */
        default:
                /* Timeouts, DNS, resets, TLS: the network between us. */
                return LLM_ERROR_NETWORK;
        }
}

bool llm_error_retryable(LlmErrorKind k) {
        return k == LLM_ERROR_RATE_LIMIT || k == LLM_ERROR_UNAVAILABLE || k == LLM_ERROR_NETWORK;
}

int llm_parse_retry_after(const char *value, uint64_t now_realtime_usec, uint64_t *ret_usec) {
        uint64_t secs;
        struct tm tm = {};
        const char *end;
        time_t t;

        if (isempty(value))
                return -EINVAL;
        while (*value == ' ' || *value == '\t')
                value++;
        if (safe_atou64(value, &secs) == 0) {
                *ret_usec = MIN(secs, (uint64_t) 86400) * USEC_PER_SEC;
                return 0;
        }
        /* IMF-fixdate, the one form RFC 9110 lets senders use: "Sun, 06 Nov 1994 08:49:37 GMT". */
        end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (!end || *end != '\0')
                return -EINVAL;
        t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        if ((uint64_t) t * USEC_PER_SEC <= now_realtime_usec)
                *ret_usec = 0;
        else
                *ret_usec = MIN((uint64_t) t * USEC_PER_SEC - now_realtime_usec, 86400 * USEC_PER_SEC);
        return 0;
}
