/* bootstrap-http.c — one HTTP/1.1 POST to aegisd's dispatch gateway over a unix socket.
 *
 * One connection per request ("Connection: close"): a request never depends on the state
 * of an earlier connection, so a retry after aegisd restarted is the same as a first try.
 * The answer is read to its Content-Length or its last chunk; a connection that closes
 * before that is a transport failure (the caller retries), never a short answer. Every
 * size read from the peer is bounded by BOOTSTRAP_MAX_RESPONSE. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bootstrap.h"

#define MAX_HEADER_BYTES (64u * 1024)

typedef struct Reader {
        int fd;
        char *buf;
        size_t len, cap, pos; /* bytes [pos, len) are read and not consumed yet */
} Reader;

void bs_response_done(BsResponse *r) {
        free(r->body);
        *r = (BsResponse){ 0 };
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Reads more bytes into the reader; -EPIPE when the peer closed the connection. */
static int reader_fill(Reader *r, size_t limit) {
        ssize_t k;

        if (r->pos > 0) { /* no pointer into consumed bytes outlives a fill */
                memmove(r->buf, r->buf + r->pos, r->len - r->pos);
                r->len -= r->pos;
                r->pos = 0;
        }
        if (r->len == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 16384;
                char *b;

                if (r->len - r->pos >= limit)
                        return -EFBIG;
                b = realloc(r->buf, cap + 1);
                if (!b)
                        return -ENOMEM;
                r->buf = b;
                r->cap = cap;
        }
        do
                k = read(r->fd, r->buf + r->len, r->cap - r->len);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        if (k == 0)
                return -EPIPE;
        r->len += (size_t) k;
        r->buf[r->len] = 0;
        return 0;
}

/* The next CRLF-terminated line, NUL-terminated in place, without its CRLF. */
static int reader_line(Reader *r, char **ret) {
        for (;;) {
                char *nl = r->len > r->pos ? memchr(r->buf + r->pos, '\n', r->len - r->pos) : NULL;
                int k;

                if (nl) {
                        char *line = r->buf + r->pos;

                        r->pos = (size_t) (nl - r->buf) + 1;
                        *nl = 0;
                        if (nl > line && nl[-1] == '\r')
                                nl[-1] = 0;
                        *ret = line;
                        return 0;
                }
                k = reader_fill(r, MAX_HEADER_BYTES);
                if (k < 0)
                        return k;
        }
}

/* Appends exactly n bytes of the stream to the body. */
static int reader_take(Reader *r, BsResponse *resp, size_t n) {
        char *b;

        if (n > BOOTSTRAP_MAX_RESPONSE - resp->body_len)
                return -EFBIG;
        b = realloc(resp->body, resp->body_len + n + 1);
        if (!b)
                return -ENOMEM;
        resp->body = b;
        while (n > 0) {
                size_t have = r->len - r->pos, k = have < n ? have : n;
                int e;

                if (k > 0) {
                        memcpy(resp->body + resp->body_len, r->buf + r->pos, k);
                        resp->body_len += k;
                        r->pos += k;
                        n -= k;
                        continue;
                }
                e = reader_fill(r, BOOTSTRAP_MAX_RESPONSE);
                if (e < 0)
                        return e;
        }
        resp->body[resp->body_len] = 0;
        return 0;
}

static int parse_size_hex_or_dec(const char *s, int base, size_t *ret) {
        char *end;
        unsigned long long v;

        while (*s == ' ' || *s == '\t')
                s++;
        if (!*s)
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, base);
        if (errno || end == s || (*end && *end != ';' && *end != ' ' && *end != '\t'))
                return -EINVAL;
        if (v > BOOTSTRAP_MAX_RESPONSE)
                return -EFBIG;
        *ret = (size_t) v;
        return 0;
}

static int read_response(Reader *r, BsResponse *resp, char *error, size_t error_size) {
        bool chunked = false, have_length = false;
        size_t length = 0;
        char *line;
        int k, status;

        k = reader_line(r, &line);
        if (k < 0)
                return k;
        if (strncmp(line, "HTTP/1.", 7) != 0 || sscanf(line + 8, " %3d", &status) != 1 || status < 100 ||
            status > 599) {
                snprintf(error, error_size, "not an HTTP status line: \"%.80s\"", line);
                return -EPROTO;
        }
        for (;;) {
                char *colon, *v;

                k = reader_line(r, &line);
                if (k < 0)
                        return k;
                if (!*line)
                        break;
                colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = 0;
                for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
                        ;
                if (strcasecmp(line, "Content-Length") == 0) {
                        k = parse_size_hex_or_dec(v, 10, &length);
                        if (k < 0)
                                return k == -EFBIG ? k : -EPROTO;
                        have_length = true;
                } else if (strcasecmp(line, "Transfer-Encoding") == 0 && strcasestr(v, "chunked"))
                        chunked = true;
        }
        resp->status = status;
        resp->body = calloc(1, 1);
        if (!resp->body)
                return -ENOMEM;
        if (chunked) {
                for (;;) {
                        size_t n;

                        k = reader_line(r, &line);
                        if (k < 0)
                                return k;
                        k = parse_size_hex_or_dec(line, 16, &n);
                        if (k < 0)
                                return k == -EFBIG ? k : -EPROTO;
                        if (n == 0)
                                break; /* trailers are not read: the connection closes */
                        k = reader_take(r, resp, n);
                        if (k < 0)
                                return k;
                        k = reader_line(r, &line);
                        if (k < 0)
                                return k;
                }
                return 0;
        }
        if (have_length)
                return reader_take(r, resp, length);
        /* Neither: the body runs to the end of the connection (we asked it to close). */
        for (;;) {
                size_t have = r->len - r->pos;

                if (have > 0) {
                        k = reader_take(r, resp, have);
                        if (k < 0)
                                return k;
                }
                k = reader_fill(r, BOOTSTRAP_MAX_RESPONSE);
                if (k == -EPIPE)
                        return 0;
                if (k < 0)
                        return k;
        }
}

int bs_http_post(const char *socket_path, const char *path, const char *body, size_t body_len,
                 BsResponse *ret, char *error, size_t error_size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        BsResponse resp = { 0 };
        Reader r = { .fd = -1 };
        char head[1024];
        int n, k;

        error[0] = 0;
        if (strlen(socket_path) >= sizeof(sa.sun_path)) {
                snprintf(error, error_size, "socket path %s is too long", socket_path);
                return -ENAMETOOLONG;
        }
        memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
        n = snprintf(head, sizeof(head),
                     "POST %s HTTP/1.1\r\nHost: aegisd\r\nUser-Agent: aegis-bootstrap/" PACKAGE_VERSION
                     "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     path, body_len);
        if (n < 0 || (size_t) n >= sizeof(head)) {
                snprintf(error, error_size, "request path too long");
                return -ENAMETOOLONG;
        }

        r.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (r.fd < 0) {
                k = -errno;
                snprintf(error, error_size, "socket: %s", strerror(-k));
                return k;
        }
        if (connect(r.fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                k = -errno;
                snprintf(error, error_size, "connect to %s: %s", socket_path, strerror(-k));
                goto out;
        }
        k = write_all(r.fd, head, (size_t) n);
        if (k == 0)
                k = write_all(r.fd, body, body_len);
        if (k < 0) {
                snprintf(error, error_size, "sending the request: %s", strerror(-k));
                goto out;
        }
        k = read_response(&r, &resp, error, error_size);
        if (k < 0 && !error[0]) {
                if (k == -EPIPE)
                        snprintf(error, error_size, "the connection closed before the whole answer");
                else if (k == -EFBIG)
                        snprintf(error, error_size, "the answer is larger than %u bytes",
                                 BOOTSTRAP_MAX_RESPONSE);
                else
                        snprintf(error, error_size, "reading the answer: %s", strerror(-k));
        }
out:
        close(r.fd);
        free(r.buf);
        if (k < 0) {
                bs_response_done(&resp);
                return k;
        }
        *ret = resp;
        return 0;
}
