/* client.c — see client.h. Blocking libcurl easy handles; the SSE parser keeps a line
 * buffer and dispatches on blank lines, as the EventSource spec says. */
#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <string.h>

#include "client.h"
#include "util.h"

#define SSE_LINE_MAX (4u * 1024u * 1024u)

int client_init(Client *c, const char *url, const char *token) {
        const char *sock;

        *c = (Client){ .timeout_secs = 60 };
        if (isempty(url))
                return -EINVAL;
        sock = startswith(url, "unix:");
        if (sock) {
                if (*sock != '/')
                        return -EINVAL;
                c->unix_socket = strdup(sock);
                c->base_url = strdup("http://localhost");
        } else if (startswith(url, "http://") || startswith(url, "https://")) {
                c->base_url = strdup(url);
                if (c->base_url) {
                        size_t n = strlen(c->base_url);
                        while (n > 0 && c->base_url[n - 1] == '/')
                                c->base_url[--n] = '\0';
                }
        } else
                return -EINVAL;
        if (!c->base_url || (sock && !c->unix_socket))
                return -ENOMEM;
        if (!isempty(token)) {
                c->token = strdup(token);
                if (!c->token)
                        return -ENOMEM;
        }
        return 0;
}

void client_done(Client *c) {
        free(c->base_url);
        free(c->unix_socket);
        free(c->token);
        *c = (Client){ 0 };
}

void response_done(Response *r) {
        free(r->body);
        *r = (Response){ 0 };
}

typedef struct Buffer {
        char *data;
        size_t size;
        bool overflow;
} Buffer;

static size_t buffer_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Buffer *b = userdata;
        size_t n = size * nmemb;
        char *p;

        if (b->size + n > CLIENT_BODY_MAX) {
                b->overflow = true;
                return 0;
        }
        p = realloc(b->data, b->size + n + 1);
        if (!p)
                return 0;
        memcpy(p + b->size, ptr, n);
        b->data = p;
        b->size += n;
        b->data[b->size] = '\0';
        return n;
}

static CURL *client_easy(Client *c, const char *method, const char *path, struct curl_slist **headers,
                         const char *content_type, char *errbuf) {
        _cleanup_free_ char *url = NULL, *auth = NULL, *ct = NULL;
        CURL *e;

        url = asprintf_safe("%s%s", c->base_url, path);
        if (!url)
                return NULL;
        e = curl_easy_init();
        if (!e)
                return NULL;
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
        if (c->unix_socket)
                curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, c->unix_socket);
        if (c->token) {
                auth = asprintf_safe("Authorization: Bearer %s", c->token);
                if (auth)
                        *headers = curl_slist_append(*headers, auth);
        }
        if (content_type) {
                ct = asprintf_safe("Content-Type: %s", content_type);
                if (ct)
                        *headers = curl_slist_append(*headers, ct);
        }
        *headers = curl_slist_append(*headers, "Expect:");
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, *headers);
        return e;
}

static int curl_to_errno(CURLcode cc) {
        switch (cc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_WRITE_ERROR:
                return -EFBIG;
        default:
                return -EIO;
        }
}

/* Performs E, reading the answer whole into *ret (0), or a negative errno with errbuf set. */
static int perform_buffered(CURL *e, Response *ret, char *errbuf) {
        Buffer b = { 0 };
        CURLcode cc;

        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, buffer_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
        cc = curl_easy_perform(e);
        if (cc != CURLE_OK) {
                if (!errbuf[0])
                        snprintf(errbuf, 256, "%s", curl_easy_strerror(cc));
                if (b.overflow)
                        snprintf(errbuf, 256, "response larger than %u bytes", CLIENT_BODY_MAX);
                free(b.data);
                return curl_to_errno(cc);
        }
        *ret = (Response){ .body = b.data ? b.data : strdup(""), .size = b.size };
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &ret->status);
        return ret->body ? 0 : -ENOMEM;
}

int client_request(Client *c, const char *method, const char *path, const char *content_type,
                   const char *body, size_t body_size, Response *ret, char *errbuf) {
        struct curl_slist *headers = NULL;
        CURL *e;
        int r;

        errbuf[0] = '\0';
        e = client_easy(c, method, path, &headers, content_type, errbuf);
        if (!e) {
                curl_slist_free_all(headers);
                return -ENOMEM;
        }
        if (body) {
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_size);
        }
        if (c->timeout_secs > 0)
                curl_easy_setopt(e, CURLOPT_TIMEOUT, c->timeout_secs);
        r = perform_buffered(e, ret, errbuf);
        curl_easy_cleanup(e);
        curl_slist_free_all(headers);
        return r;
}

json_object *response_json(const Response *r) {
        if (!r->body || r->size == 0)
                return NULL;
        return json_tokener_parse(r->body);
}

char *response_error_message(const Response *r) {
        json_object *j = response_json(r), *err, *field;
        char *m;

        if (j && json_object_object_get_ex(j, "error", &err)) {
                const char *f = NULL;
                if (json_object_object_get_ex(j, "field", &field) &&
                    json_object_is_type(field, json_type_string))
                        f = json_object_get_string(field);
                if (!isempty(f) && !strstr(json_object_get_string(err), f))
                        m = asprintf_safe("%s (field %s, HTTP %ld)", json_object_get_string(err), f,
                                          r->status);
                else
                        m = asprintf_safe("%s (HTTP %ld)", json_object_get_string(err), r->status);
        } else
                m = asprintf_safe("HTTP %ld: %.200s", r->status, strempty(r->body));
        json_object_put(j);
        return m;
}

/* What every streamed GET keeps, first member of each stream's own state (its write and
 * progress callbacks get the outer state). */
typedef struct Stream {
        CURL *easy;
        int result; /* < 0 failure, > 0 stopped by the caller's callback */
        Buffer err; /* the body of an error answer */
} Stream;

/* An error answer's body is not the stream: it is kept for the message. */
static bool stream_answer_failed(Stream *st) {
        long status = 0;

        curl_easy_getinfo(st->easy, CURLINFO_RESPONSE_CODE, &status);
        return status >= 300;
}

/* GETs path (with one more request header, when given), feeding the body to on_write (and
 * ticking on_progress, when given) with st as their data. Returns 0 when the stream ended or
 * was stopped, or a negative errno with errbuf set; when the answer is an error
 * (*ret_status ≥ 300) errbuf holds its message. */
static int stream_get(Client *c, const char *path, const char *header, curl_write_callback on_write,
                      curl_xferinfo_callback on_progress, Stream *st, long *ret_status, char *errbuf) {
        struct curl_slist *headers = NULL;
        CURLcode cc;
        CURL *e;
        int r = 0;

        errbuf[0] = '\0';
        e = client_easy(c, "GET", path, &headers, NULL, errbuf);
        if (!e) {
                curl_slist_free_all(headers);
                return -ENOMEM;
        }
        st->easy = e;
        if (header) {
                headers = curl_slist_append(headers, header);
                curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
        }
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, st);
        if (on_progress) {
                curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
                curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
                curl_easy_setopt(e, CURLOPT_XFERINFODATA, st);
        }
        cc = curl_easy_perform(e);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, ret_status);
        if (st->result < 0)
                r = st->result;
        else if (cc != CURLE_OK && st->result == 0) {
                if (!errbuf[0])
                        snprintf(errbuf, 256, "%s", curl_easy_strerror(cc));
                r = curl_to_errno(cc);
        }
        curl_easy_cleanup(e);
        curl_slist_free_all(headers);
        if (*ret_status >= 300 && r == 0) {
                Response resp = { .status = *ret_status, .body = st->err.data, .size = st->err.size };
                _cleanup_free_ char *m = response_error_message(&resp);
                snprintf(errbuf, 256, "%s", strempty(m));
        }
        free(st->err.data);
        return r;
}

/* SSE parsing state. */
typedef struct Sse {
        Stream st;
        char *line;
        size_t line_len;
        char *event;
        char *data;
        size_t data_len;
        client_sse_event_t on_event;
        client_sse_tick_t on_tick;
        void *userdata;
        bool too_long;
} Sse;

static int sse_append_data(Sse *s, const char *v) {
        size_t n = strlen(v);
        char *p = realloc(s->data, s->data_len + n + 2);

        if (!p)
                return -ENOMEM;
        s->data = p;
        if (s->data_len > 0)
                s->data[s->data_len++] = '\n';
        memcpy(s->data + s->data_len, v, n);
        s->data_len += n;
        s->data[s->data_len] = '\0';
        return 0;
}

static int sse_line(Sse *s, char *l) {
        char *v;

        if (*l == '\0') { /* dispatch */
                int r = 0;
                if (s->data)
                        r = s->on_event(s->event ? s->event : "message", s->data, s->userdata);
                free(s->event);
                free(s->data);
                s->event = s->data = NULL;
                s->data_len = 0;
                return r;
        }
        if (*l == ':')
                return 0; /* comment / keep-alive */
        v = strchr(l, ':');
        if (v) {
                *v++ = '\0';
                if (*v == ' ')
                        v++;
        } else
                v = l + strlen(l);
        if (streq(l, "event")) {
                free(s->event);
                s->event = strdup(v);
                return s->event ? 0 : -ENOMEM;
        }
        if (streq(l, "data"))
                return sse_append_data(s, v);
        return 0; /* id:, retry: and unknown fields */
}

static size_t sse_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Sse *s = userdata;
        size_t n = size * nmemb;

        if (stream_answer_failed(&s->st))
                return buffer_write(ptr, size, nmemb, &s->st.err);
        for (size_t i = 0; i < n; i++) {
                char ch = ptr[i];
                int r;

                if (ch == '\r')
                        continue;
                if (ch != '\n') {
                        if (s->line_len + 2 > SSE_LINE_MAX) {
                                s->too_long = true;
                                return 0;
                        }
                        char *p = realloc(s->line, s->line_len + 2);
                        if (!p)
                                return 0;
                        s->line = p;
                        s->line[s->line_len++] = ch;
                        continue;
                }
                if (!s->line && !(s->line = malloc(1)))
                        return 0;
                s->line[s->line_len] = '\0';
                s->line_len = 0;
                r = sse_line(s, s->line);
                if (r != 0) {
                        s->st.result = r;
                        return 0; /* aborts the transfer */
                }
        }
        return n;
}

static int sse_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                        curl_off_t ulnow) {
        Sse *s = userdata;

        if (s->on_tick)
                s->on_tick(s->userdata);
        return 0;
}

int client_stream(Client *c, const char *path, client_sse_event_t on_event, client_sse_tick_t on_tick,
                  void *userdata, long *ret_status, char *errbuf) {
        Sse s = { .on_event = on_event, .on_tick = on_tick, .userdata = userdata };
        int r;

        r = stream_get(c, path, "Accept: text/event-stream", sse_write, sse_progress, &s.st, ret_status,
                       errbuf);
        if (r < 0 && s.too_long)
                snprintf(errbuf, 256, "event stream line longer than %u bytes", SSE_LINE_MAX);
        free(s.line);
        free(s.event);
        free(s.data);
        return r;
}

typedef struct Raw {
        Stream st;
        client_chunk_t on_chunk;
        void *userdata;
} Raw;

static size_t raw_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Raw *w = userdata;
        int r;

        if (stream_answer_failed(&w->st))
                return buffer_write(ptr, size, nmemb, &w->st.err);
        r = w->on_chunk(ptr, size * nmemb, w->userdata);
        if (r != 0) {
                w->st.result = r;
                return 0;
        }
        return size * nmemb;
}

int client_stream_raw(Client *c, const char *path, client_chunk_t on_chunk, void *userdata, long *ret_status,
                      char *errbuf) {
        Raw w = { .on_chunk = on_chunk, .userdata = userdata };

        return stream_get(c, path, NULL, raw_write, NULL, &w.st, ret_status, errbuf);
}

/* Feeds an upload from its FILE as curl asks: never more than curl's buffer in memory. */
static size_t upload_read(char *buf, size_t size, size_t nitems, void *userdata) {
        FILE *f = userdata;
        size_t n = fread(buf, 1, size * nitems, f);

        if (n == 0 && ferror(f))
                return CURL_READFUNC_ABORT;
        return n;
}

int client_upload(Client *c, const char *path, const char *file_name, FILE *f, int64_t size, Response *ret,
                  char *errbuf) {
        struct curl_slist *headers = NULL;
        curl_mime *mime = NULL;
        curl_mimepart *part;
        CURL *e;
        int r;

        assert(c && path && file_name && f && ret && errbuf);
        errbuf[0] = '\0';
        e = client_easy(c, "POST", path, &headers, NULL, errbuf);
        if (!e) {
                curl_slist_free_all(headers);
                return -ENOMEM;
        }
        mime = curl_mime_init(e);
        part = mime ? curl_mime_addpart(mime) : NULL;
        if (!part || curl_mime_name(part, "file") != CURLE_OK ||
            curl_mime_filename(part, file_name) != CURLE_OK ||
            curl_mime_type(part, "application/octet-stream") != CURLE_OK ||
            curl_mime_data_cb(part, size >= 0 ? (curl_off_t) size : -1, upload_read, NULL, NULL, f) !=
                    CURLE_OK) {
                curl_mime_free(mime);
                curl_easy_cleanup(e);
                curl_slist_free_all(headers);
                return -ENOMEM;
        }
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(e, CURLOPT_MIMEPOST, mime);
        r = perform_buffered(e, ret, errbuf);
        curl_easy_cleanup(e);
        curl_mime_free(mime);
        curl_slist_free_all(headers);
        return r;
}
