/* tools-web.c — web.fetch and web.search (issue 21). web.fetch: aegisd fetches one http(s) URL
 * for the model and gives back its text (HTML made readable by html-text.h). web.search: see
 * its section below.
 *
 * Arguments: url (http or https), to_markdown (true: headings, list items, "text [url]" links),
 * follow_redirects (true), timeout_secs (30, at most 120: the whole fetch, redirects included).
 * Result: {url (the final one), status, content_type, content, truncated}, plus location for a
 * redirect that was not followed.
 *
 * What must stay true:
 *  - every request's host, the first and every redirect hop, passes env->web_host_check (the
 *    network_policy and the security context's domain_allowlist) before a byte goes to it:
 *    redirects are followed here, by hand (CURLOPT_FOLLOWLOCATION off), at most
 *    WEB_REDIRECTS_MAX hops, http and https only;
 *  - with env->web_public_only, no connection to a loopback, link-local (cloud metadata) or
 *    unspecified address, checked on the address curl is about to connect to (so a name that
 *    resolves there is refused too; a proxy in aegisd's environment is such a connection);
 *  - no cookies, no .netrc, no credentials: a user:password in a URL is dropped, never sent;
 *  - bounded: WEB_BODY_MAX bytes of body read (more is the error "too big"), WEB_TEXT_MAX
 *    bytes of content returned (truncated: true past it), timeout_secs in all;
 *  - a refusal, a bad URL, a timeout, a body too big or not text are results for the model
 *    ({"error": …}, naming the hop for a redirect); the call completes once, from the loop. */
#include <assert.h>
#include <errno.h>
#include <arpa/inet.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "curl-event.h"
#include "html-text.h"
#include "json-util.h"
#include "loopback.h"
#include "tools-web.h"
#include "util.h"

#define WEB_TIMEOUT_DEFAULT 30 /* s */
#define WEB_TIMEOUT_MAX 120
#define WEB_REDIRECTS_MAX 5
#define WEB_BODY_MAX (2 * 1024 * 1024) /* bytes of body read */
#define WEB_TEXT_MAX (128 * 1024) /* bytes of content returned */

typedef struct WebFetch {
        const ToolEnv *env;
        ToolCall *call;
        CurlEvent *ce;
        CURL *easy;
        sd_event_source *finish; /* delivers result from a clean stack */
        json_object *result;
        char *url; /* the request in flight */
        unsigned hop; /* 0 = the first request */
        bool markdown, follow;
        unsigned timeout_secs;
        uint64_t deadline_ms; /* CLOCK_MONOTONIC */
        char *body;
        size_t n;
        bool too_big;
        bool local_refused; /* a loopback or link-local address was refused (web_public_only) */
} WebFetch;

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void web_free(WebFetch *f) {
        if (!f)
                return;
        if (f->ce && f->easy)
                curl_event_remove(f->ce, f->easy);
        if (f->easy)
                curl_easy_cleanup(f->easy);
        curl_event_free(f->ce);
        sd_event_source_disable_unref(f->finish);
        json_object_put(f->result);
        free(f->url);
        free(f->body);
        free(f);
}

static void web_cancel(void *impl) {
        web_free(impl);
}

/* url as it will be requested: http(s) only, no credentials, no fragment. 0 with *ret_url
 * and *ret_host (malloc'd); -EINVAL with *ret_why (static); -ENOMEM. */
static int web_url(const char *url, char **ret_url, char **ret_host, const char **ret_why) {
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL, *out = NULL;
        int k = -EINVAL;

        *ret_why = NULL;
        if (!u)
                return -ENOMEM;
        if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
                *ret_why = "not a valid absolute URL";
        else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
                 (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0))
                *ret_why = "only http and https URLs can be fetched";
        else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || isempty(host))
                *ret_why = "the URL names no host";
        else if (curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
                 curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
                 curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) != CURLUE_OK ||
                 curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
                 curl_url_get(u, CURLUPART_URL, &out, 0) != CURLUE_OK)
                k = -ENOMEM;
        else {
                *ret_url = strdup(out);
                *ret_host = strdup(host);
                k = *ret_url && *ret_host ? 0 : -ENOMEM;
                if (k < 0) {
                        free(*ret_url);
                        free(*ret_host);
                        *ret_url = *ret_host = NULL;
                }
        }
        curl_free(scheme);
        curl_free(host);
        curl_free(out);
        curl_url_cleanup(u);
        return k;
}

/* NULL when hop's url may be requested, else the error result. Sets *ret_url (normalized). */
static json_object *web_admit(const ToolEnv *env, unsigned hop, const char *url, char **ret_url) {
        _cleanup_free_ char *u = NULL, *host = NULL, *reason = NULL, *what = NULL;
        const char *why;
        int k;

        what = hop == 0 ? strdup("") : asprintf_safe("redirect hop %u to ", hop);
        if (!what)
                return tool_error("out of memory");
        k = web_url(url, &u, &host, &why);
        if (k == -EINVAL)
                return tool_error("%s%s: %s", what, url, why);
        if (k < 0)
                return tool_error("out of memory");
        k = env->web_host_check(env->web_userdata, u, host, &reason);
        if (k != 0)
                return tool_error("%s%s refused: %s", what, u,
                                  reason  ? reason
                                  : k < 0 ? "the policy could not be checked"
                                          : "host not allowed");
        *ret_url = TAKE_PTR(u);
        return NULL;
}

/* Appends len bytes of p to *body (NUL-terminated, *n bytes): curl's write callbacks. Past max
 * sets *too_big; returns what curl must get back (0 stops the transfer). */
static size_t body_append(char **body, size_t *n, bool *too_big, size_t max, const char *p, size_t len) {
        char *b;

        if (*n + len > max) {
                *too_big = true;
                return 0;
        }
        b = realloc(*body, *n + len + 1);
        if (!b)
                return 0;
        memcpy(b + *n, p, len);
        *n += len;
        b[*n] = 0;
        *body = b;
        return len;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *userdata) {
        WebFetch *f = userdata;

        return body_append(&f->body, &f->n, &f->too_big, WEB_BODY_MAX, p, size * nmemb);
}

static curl_socket_t on_open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *a) {
        WebFetch *f = userdata;

        if (purpose != CURLSOCKTYPE_IPCXN || (f->env->web_public_only && sockaddr_is_internal(&a->addr))) {
                f->local_refused = true;
                return CURL_SOCKET_BAD;
        }
        return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static int web_request(WebFetch *f) {
        uint64_t now = now_ms();

        f->local_refused = false;
        free(f->body);
        f->body = NULL;
        f->n = 0;
        if (now >= f->deadline_ms)
                return -ETIMEDOUT;
        if (curl_easy_setopt(f->easy, CURLOPT_URL, f->url) != CURLE_OK ||
            curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, (long) (f->deadline_ms - now)) != CURLE_OK)
                return -ENOMEM;
        return curl_event_add(f->ce, f->easy);
}

static bool type_is(const char *ct, const char *prefix) {
        return ct && strncasecmp(ct, prefix, strlen(prefix)) == 0;
}

static bool type_is_text(const char *ct) {
        return !ct || type_is(ct, "text/") || type_is(ct, "application/json") ||
               type_is(ct, "application/xml") || type_is(ct, "application/javascript") ||
               (strcasestr(ct, "+json") || strcasestr(ct, "+xml"));
}

/* The charset parameter of a Content-Type (malloc'd), or NULL. */
static char *type_charset(const char *ct) {
        const char *p = ct ? strcasestr(ct, "charset=") : NULL;
        size_t n;

        if (!p)
                return NULL;
        p += strlen("charset=");
        p += *p == '"';
        n = strcspn(p, "\"; \t");
        return n > 0 && n < 64 ? strndup(p, n) : NULL;
}

/* The body as text for the model: HTML made readable, other text as it is (bounded, valid
 * UTF-8). NULL with *ret_error for what is not text. */
static json_object *web_result(WebFetch *f, long status, const char *ct, const char *location) {
        _cleanup_free_ char *text = NULL, *charset = NULL;
        bool truncated = false;
        json_object *o;

        if (type_is(ct, "text/html") || type_is(ct, "application/xhtml+xml")) {
                charset = type_charset(ct);
                if (html_to_text(f->body ? f->body : "", f->n, f->url, charset, f->markdown, WEB_TEXT_MAX,
                                 &text, &truncated) < 0)
                        return tool_error("out of memory");
        } else if (type_is_text(ct) && !memchr(f->body ? f->body : "", 0, f->n)) {
                size_t n = MIN(f->n, (size_t) WEB_TEXT_MAX);
                while (n > 0 && n < f->n && (((unsigned char) f->body[n]) & 0xC0) == 0x80)
                        n--;
                truncated = n < f->n;
                text = strndup(f->body ? f->body : "", n);
                if (!text)
                        return tool_error("out of memory");
                for (size_t i = 0; i < n;) {
                        size_t k = utf8_char_len(text + i, n - i);
                        if (k == 0) {
                                text[i] = '?';
                                k = 1;
                        }
                        i += k;
                }
        } else
                return tool_error("%s: the content (%s, %zu bytes) is not text; web.fetch returns text only",
                                  f->url, ct, f->n);
        o = json_object_new_object();
        json_object_object_add(o, "url", json_object_new_string(f->url));
        json_object_object_add(o, "status", json_object_new_int((int) status));
        json_object_object_add(o, "content_type", ct ? json_object_new_string(ct) : NULL);
        json_object_object_add(o, "content", json_object_new_string(text));
        json_object_object_add(o, "truncated", json_object_new_boolean(truncated));
        if (location)
                json_object_object_add(o, "location", json_object_new_string(location));
        return o;
}

static int on_finish(sd_event_source *s, void *userdata) {
        WebFetch *f = userdata;
        ToolCall *c = f->call;
        json_object *r = TAKE_PTR(f->result);

        web_free(f);
        tool_call_finish(c, r);
        return 0;
}

/* From curl's done: f (and its CurlEvent) cannot be freed on this stack, so the result is
 * delivered by f->finish (made at the start, so this cannot fail). */
static void web_finish(WebFetch *f, json_object *result) {
        f->result = result;
        (void) sd_event_source_set_enabled(f->finish, SD_EVENT_ONESHOT);
}

static void on_transfer(CURL *easy, CURLcode code, void *userdata) {
        WebFetch *f = NULL;
        char *redirect = NULL, *ct = NULL;
        _cleanup_free_ char *next = NULL;
        json_object *err;
        long status = 0;
        int k;

        (void) userdata;
        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &f);
        assert(f);
        if (f->too_big)
                return web_finish(
                        f, tool_error("%s: the response is larger than %d MiB; fetch a smaller resource",
                                      f->url, WEB_BODY_MAX / (1024 * 1024)));
        if (code == CURLE_OPERATION_TIMEDOUT)
                return web_finish(f, tool_error("%s: timed out after %u s (timeout_secs, at most %d)",
                                                f->url, f->timeout_secs, WEB_TIMEOUT_MAX));
        if (code != CURLE_OK && f->local_refused)
                return web_finish(
                        f, tool_error("%s refused: the host has a loopback or link-local address, which "
                                      "web.fetch does not reach when the network_policy lists no hosts",
                                      f->url));
        if (code != CURLE_OK)
                return web_finish(f, tool_error("%s: %s", f->url, curl_easy_strerror(code)));
        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        (void) curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ct);
        (void) curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &redirect);
        if (status >= 300 && status < 400 && redirect) {
                if (!f->follow) {
                        _cleanup_free_ char *loc = strdup(redirect);
                        return web_finish(f, web_result(f, status, ct, loc));
                }
                if (f->hop >= WEB_REDIRECTS_MAX)
                        return web_finish(
                                f, tool_error("%s: more than %d redirects", f->url, WEB_REDIRECTS_MAX));
                f->hop++;
                err = web_admit(f->env, f->hop, redirect, &next);
                if (err)
                        return web_finish(f, err);
                free(f->url);
                f->url = TAKE_PTR(next);
                k = web_request(f);
                if (k == -ETIMEDOUT)
                        return web_finish(f,
                                          tool_error("%s: timed out after %u s (timeout_secs, at most %d)",
                                                     f->url, f->timeout_secs, WEB_TIMEOUT_MAX));
                if (k < 0)
                        return web_finish(
                                f, tool_error("%s: cannot start the request: %s", f->url, strerror(-k)));
                return;
        }
        web_finish(f, web_result(f, status, ct, NULL));
}

static bool web_available(const ToolEnv *env) {
        return env && env->web_host_check;
}

/* args[key] as a bool (dflt when absent); -EINVAL when it is something else. */
static int arg_bool(json_object *args, const char *key, bool dflt, bool *ret) {
        json_object *v;

        *ret = dflt;
        if (!json_object_object_get_ex(args, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return -EINVAL;
        *ret = json_object_get_boolean(v);
        return 0;
}

static int web_fetch_start(const ToolEnv *env, json_object *args, tool_done_fn done, void *userdata,
                           ToolCall **ret) {
        _cleanup_free_ char *url = NULL;
        WebFetch *f;
        json_object *v, *err;
        bool markdown, follow;
        int64_t timeout = WEB_TIMEOUT_DEFAULT;
        int k;

        if (!json_object_is_type(args, json_type_object) || !json_object_object_get_ex(args, "url", &v) ||
            !json_object_is_type(v, json_type_string) || isempty(json_object_get_string(v)))
                return tool_call_finish_later(env, tool_error("\"url\" (an http or https URL) is required"),
                                              done, userdata, ret);
        if (arg_bool(args, "to_markdown", true, &markdown) < 0 ||
            arg_bool(args, "follow_redirects", true, &follow) < 0)
                return tool_call_finish_later(
                        env, tool_error("\"to_markdown\" and \"follow_redirects\" are booleans"), done,
                        userdata, ret);
        if (json_object_object_get_ex(args, "timeout_secs", &v) && v) {
                if (!json_object_is_type(v, json_type_int) || (timeout = json_object_get_int64(v)) < 1 ||
                    timeout > WEB_TIMEOUT_MAX)
                        return tool_call_finish_later(
                                env,
                                tool_error("\"timeout_secs\" is a whole number of seconds, 1 to %d",
                                           WEB_TIMEOUT_MAX),
                                done, userdata, ret);
        }
        err = web_admit(env, 0, json_object_get_string(json_object_object_get(args, "url")), &url);
        if (err)
                return tool_call_finish_later(env, err, done, userdata, ret);

        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        *f = (WebFetch){ .env = env,
                         .url = TAKE_PTR(url),
                         .markdown = markdown,
                         .follow = follow,
                         .timeout_secs = (unsigned) timeout,
                         .deadline_ms = now_ms() + (uint64_t) timeout * 1000 };
        k = curl_event_new(env->event, "web.fetch", on_transfer, NULL, &f->ce);
        if (k < 0)
                goto fail;
        k = sd_event_add_defer(env->event, &f->finish, on_finish, f);
        if (k < 0)
                goto fail;
        (void) sd_event_source_set_enabled(f->finish, SD_EVENT_OFF);
        f->easy = curl_easy_init();
        if (!f->easy) {
                k = -ENOMEM;
                goto fail;
        }
        /* No cookie engine (no CURLOPT_COOKIEFILE), no .netrc, no automatic redirects. */
        if (curl_easy_setopt(f->easy, CURLOPT_PRIVATE, f) != CURLE_OK ||
            curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
            curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, f) != CURLE_OK ||
            curl_easy_setopt(f->easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket) != CURLE_OK ||
            curl_easy_setopt(f->easy, CURLOPT_OPENSOCKETDATA, f) != CURLE_OK ||
            curl_easy_setopt(f->easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
            curl_easy_setopt(f->easy, CURLOPT_NETRC, (long) CURL_NETRC_IGNORED) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
            curl_easy_setopt(f->easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
#endif
            curl_easy_setopt(f->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(f->easy, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
            curl_easy_setopt(f->easy, CURLOPT_USERAGENT, "aegis-web.fetch/1") != CURLE_OK)
                goto nomem;
        k = tool_call_new(done, userdata, web_cancel, f, &f->call);
        if (k < 0)
                goto fail;
        k = web_request(f);
        if (k < 0) {
                tool_call_cancel(f->call); /* frees f */
                return k;
        }
        *ret = f->call;
        return 0;
nomem:
        k = -ENOMEM;
fail:
        web_free(f);
        return k;
}

const ToolDef tool_web_fetch = {
        .name = "web.fetch",
        .description = "Fetch an http or https URL and return its content as text (HTML made readable). "
                       "Only hosts the execution's network policy allows can be fetched.",
        .parameters =
                "{\"type\":\"object\",\"properties\":{"
                "\"url\":{\"type\":\"string\",\"description\":\"http or https URL\"},"
                "\"to_markdown\":{\"type\":\"boolean\",\"description\":\"HTML as Markdown-like text: "
                "headings, list items, links as text [url] (default true)\"},"
                "\"follow_redirects\":{\"type\":\"boolean\",\"description\":\"follow up to 5 redirects "
                "(default true)\"},"
                "\"timeout_secs\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":120,\"description\":"
                "\"for the whole fetch (default 30)\"}},"
                "\"required\":[\"url\"]}",
        .place = TOOL_ON_HOST,
        .available = web_available,
        .start = web_fetch_start,
};

/* ---- web.search ----
 *
 * POST tools.web_search.endpoint with "Authorization: Bearer KEY" and {"query", "max_results"};
 * the answer {"results": [{"title", "url", "snippet"}]} goes back to the model as
 * {"query", "results": [{"title", "url", "snippet"}]}: at most max_results entries, each field
 * cut to SEARCH_FIELD_MAX bytes. The result URLs are text for the model, never fetched here.
 * The endpoint is the operator's: no web_host_check on it. The key is in the request's header
 * list only (wiped when freed); a field of the answer that holds it is replaced. */

#define SEARCH_TIMEOUT_DEFAULT 30 /* s, without tools.web_search.timeout_secs */
#define SEARCH_BODY_MAX (1024 * 1024) /* bytes of the provider's answer read */
#define SEARCH_QUERY_MAX 2048 /* bytes */
#define SEARCH_FIELD_MAX 400 /* bytes of a title, url or snippet returned */

typedef struct WebSearch {
        const ToolEnv *env;
        ToolCall *call;
        CurlEvent *ce;
        CURL *easy;
        struct curl_slist *headers; /* holds the key */
        char *auth; /* "Authorization: Bearer KEY" */
        sd_event_source *finish;
        json_object *result;
        char *query;
        unsigned max_results;
        char *body;
        size_t n;
        bool too_big;
} WebSearch;

static void search_free(WebSearch *s) {
        if (!s)
                return;
        if (s->ce && s->easy)
                curl_event_remove(s->ce, s->easy);
        if (s->easy)
                curl_easy_cleanup(s->easy);
        curl_event_free(s->ce);
        curl_slist_free_all(s->headers);
        if (s->auth) {
                explicit_bzero(s->auth, strlen(s->auth));
                free(s->auth);
        }
        sd_event_source_disable_unref(s->finish);
        json_object_put(s->result);
        free(s->query);
        free(s->body);
        free(s);
}

static void search_cancel(void *impl) {
        search_free(impl);
}

static size_t on_search_body(char *p, size_t size, size_t nmemb, void *userdata) {
        WebSearch *s = userdata;

        return body_append(&s->body, &s->n, &s->too_big, SEARCH_BODY_MAX, p, size * nmemb);
}

/* o[key] as a string for the model: at most SEARCH_FIELD_MAX bytes cut on a character,
 * invalid UTF-8 as '?', "" when absent or not a string. */
static json_object *search_field(const WebSearch *s, json_object *o, const char *key) {
        _cleanup_free_ char *t = NULL;
        json_object *v;
        const char *in;
        size_t n;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return json_object_new_string("");
        in = json_object_get_string(v);
        n = MIN(strlen(in), (size_t) SEARCH_FIELD_MAX);
        while (n > 0 && in[n] && (((unsigned char) in[n]) & 0xC0) == 0x80)
                n--;
        t = strndup(in, n);
        if (!t)
                return NULL;
        for (size_t i = 0; i < n;) {
                size_t k = utf8_char_len(t + i, n - i);
                if (k == 0) {
                        t[i] = '?';
                        k = 1;
                }
                i += k;
        }
        if (s->env->search_key && strstr(t, s->env->search_key))
                return json_object_new_string("[removed: it held the search provider's key]");
        return json_object_new_string(t);
}

static json_object *search_result(WebSearch *s) {
        _cleanup_json_ json_object *answer = NULL;
        json_object *results, *out, *list;
        size_t n;

        answer = s->body ? json_tokener_parse(s->body) : NULL;
        if (!answer || !json_object_object_get_ex(answer, "results", &results) ||
            !json_object_is_type(results, json_type_array))
                return tool_error("the search provider's answer is not the expected JSON "
                                  "({\"results\": [{\"title\", \"url\", \"snippet\"}]}); try again later");
        list = json_object_new_array();
        n = json_object_array_length(results);
        for (size_t i = 0; i < n && json_object_array_length(list) < s->max_results; i++) {
                json_object *e = json_object_array_get_idx(results, i), *r;
                if (!json_object_is_type(e, json_type_object))
                        continue;
                r = json_object_new_object();
                json_object_object_add(r, "title", search_field(s, e, "title"));
                json_object_object_add(r, "url", search_field(s, e, "url"));
                json_object_object_add(r, "snippet", search_field(s, e, "snippet"));
                json_object_array_add(list, r);
        }
        out = json_object_new_object();
        json_object_object_add(out, "query", json_object_new_string(s->query));
        json_object_object_add(out, "results", list);
        return out;
}

static int on_search_finish(sd_event_source *src, void *userdata) {
        WebSearch *s = userdata;
        ToolCall *c = s->call;
        json_object *r = TAKE_PTR(s->result);

        search_free(s);
        tool_call_finish(c, r);
        return 0;
}

static unsigned search_timeout(const ToolEnv *env) {
        return env->search_timeout_secs > 0 ? env->search_timeout_secs : SEARCH_TIMEOUT_DEFAULT;
}

static void on_search_transfer(CURL *easy, CURLcode code, void *userdata) {
        WebSearch *s = NULL;
        long status = 0;

        (void) userdata;
        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &s);
        assert(s);
        /* The provider's URL is the operator's: the model is not told it. */
        if (s->too_big)
                s->result = tool_error("the search provider's answer is larger than %d MiB",
                                       SEARCH_BODY_MAX / (1024 * 1024));
        else if (code == CURLE_OPERATION_TIMEDOUT)
                s->result = tool_error("the search provider did not answer within %u s; try again later",
                                       search_timeout(s->env));
        else if (code != CURLE_OK)
                s->result = tool_error("the search provider cannot be reached: %s; try again later",
                                       curl_easy_strerror(code));
        else if ((void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status),
                 status < 200 || status > 299)
                s->result = tool_error("the search provider answered HTTP %ld; try again later", status);
        else
                s->result = search_result(s);
        (void) sd_event_source_set_enabled(s->finish, SD_EVENT_ONESHOT);
}

static bool search_available(const ToolEnv *env) {
        return env && env->web_host_check && !isempty(env->search_endpoint) && env->search_max_results > 0;
}

static int web_search_start(const ToolEnv *env, json_object *args, tool_done_fn done, void *userdata,
                            ToolCall **ret) {
        _cleanup_json_ json_object *req = NULL;
        WebSearch *s;
        json_object *v;
        const char *query;
        int64_t max = env->search_max_results;
        int k;

        if (!json_object_is_type(args, json_type_object) || !json_object_object_get_ex(args, "query", &v) ||
            !json_object_is_type(v, json_type_string) || isempty(json_object_get_string(v)) ||
            strlen(json_object_get_string(v)) > SEARCH_QUERY_MAX)
                return tool_call_finish_later(
                        env,
                        tool_error("\"query\" (a non-empty string of at most %d bytes) is required",
                                   SEARCH_QUERY_MAX),
                        done, userdata, ret);
        query = json_object_get_string(v);
        if (json_object_object_get_ex(args, "max_results", &v) && v) {
                if (!json_object_is_type(v, json_type_int) || (max = json_object_get_int64(v)) < 1)
                        return tool_call_finish_later(
                                env,
                                tool_error("\"max_results\" is a whole number, 1 to %u",
                                           env->search_max_results),
                                done, userdata, ret);
                max = MIN(max, (int64_t) env->search_max_results);
        }

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        *s = (WebSearch){ .env = env, .query = strdup(query), .max_results = (unsigned) max };
        req = json_object_new_object();
        if (!s->query || !req || json_object_object_add(req, "query", json_object_new_string(query)) < 0 ||
            json_object_object_add(req, "max_results", json_object_new_int64(max)) < 0)
                goto nomem;
        if (env->search_key) {
                s->auth = asprintf_safe("Authorization: Bearer %s", env->search_key);
                if (!s->auth)
                        goto nomem;
        }
        k = curl_event_new(env->event, "web.search", on_search_transfer, NULL, &s->ce);
        if (k < 0)
                goto fail;
        k = sd_event_add_defer(env->event, &s->finish, on_search_finish, s);
        if (k < 0)
                goto fail;
        (void) sd_event_source_set_enabled(s->finish, SD_EVENT_OFF);
        s->easy = curl_easy_init();
        if (!s->easy)
                goto nomem;
        s->headers = curl_slist_append(NULL, "Content-Type: application/json");
        if (s->headers && !curl_slist_append(s->headers, "Accept: application/json"))
                goto nomem;
        if (s->headers && s->auth && !curl_slist_append(s->headers, s->auth))
                goto nomem;
        /* No cookies, no .netrc, no redirects (FOLLOWLOCATION is off by default). */
        if (!s->headers || curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s) != CURLE_OK ||
            curl_easy_setopt(s->easy, CURLOPT_URL, env->search_endpoint) != CURLE_OK ||
            curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers) != CURLE_OK ||
            curl_easy_setopt(s->easy, CURLOPT_COPYPOSTFIELDS,
                             json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN)) != CURLE_OK ||
            curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_search_body) != CURLE_OK ||
            curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s) != CURLE_OK ||
            curl_easy_setopt(s->easy, CURLOPT_NETRC, (long) CURL_NETRC_IGNORED) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
            curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
#endif
            curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, (long) search_timeout(env)) != CURLE_OK ||
            curl_easy_setopt(s->easy, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
            curl_easy_setopt(s->easy, CURLOPT_USERAGENT, "aegis-web.search/1") != CURLE_OK)
                goto nomem;
        k = tool_call_new(done, userdata, search_cancel, s, &s->call);
        if (k < 0)
                goto fail;
        k = curl_event_add(s->ce, s->easy);
        if (k < 0) {
                tool_call_cancel(s->call); /* frees s */
                return k;
        }
        *ret = s->call;
        return 0;
nomem:
        k = -ENOMEM;
fail:
        search_free(s);
        return k;
}

const ToolDef tool_web_search = {
        .name = "web.search",
        .description = "Search the web through the search provider configured on this host; returns "
                       "titles, URLs and snippets (fetch a URL with web.fetch to read it).",
        .parameters = "{\"type\":\"object\",\"properties\":{"
                      "\"query\":{\"type\":\"string\",\"description\":\"what to search for\"},"
                      "\"max_results\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":20,"
                      "\"description\":\"how many results (default and most: the host's "
                      "tools.web_search.max_results)\"}},"
                      "\"required\":[\"query\"]}",
        .place = TOOL_ON_HOST,
        .available = search_available,
        .start = web_search_start,
};
