/* egress-parse.c — the egress proxy's request, CONNECT and ClientHello parsing (see
 * egress-parse.h for what must stay true). */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "egress-parse.h"
#include "macros.h"
#include "util.h"

void egress_request_done(EgressRequest *r) {
        if (!r)
                return;
        free(r->host);
        free(r->head);
        *r = (EgressRequest){};
}

bool egress_host_valid(const char *s) {
        unsigned char a[sizeof(struct in6_addr)];
        size_t n = strlen(s);

        if (n == 0 || n > 253)
                return false;
        if (inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1)
                return true;
        if (s[0] == '.' || s[0] == '-')
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '-' || *p == '_' || *p == '.'))
                        return false;
        return true;
}

/* host[:port] or [v6][:port] of s[0..len); the port is required when default_port is 0. */
static int parse_authority(const char *s, size_t len, uint16_t default_port, char **ret_host,
                           uint16_t *ret_port) {
        const char *h = s, *colon = NULL;
        size_t hlen;
        unsigned port = default_port;
        char *host;

        if (len == 0 || memchr(s, '@', len))
                return -EINVAL;
        if (s[0] == '[') {
                const char *close = memchr(s, ']', len);

                if (!close)
                        return -EINVAL;
                h = s + 1;
                hlen = (size_t) (close - h);
                if (close + 1 < s + len) {
                        if (close[1] != ':')
                                return -EINVAL;
                        colon = close + 1;
                }
        } else {
                colon = memchr(s, ':', len);
                hlen = colon ? (size_t) (colon - s) : len;
        }
        if (colon) {
                const char *p = colon + 1, *end = s + len;

                if (p == end || end - p > 5)
                        return -EINVAL;
                port = 0;
                for (; p < end; p++) {
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        port = port * 10 + (unsigned) (*p - '0');
                }
        }
        if (port == 0 || port > 65535 || hlen == 0)
                return -EINVAL;
        host = strndup(h, hlen);
        if (!host)
                return -ENOMEM;
        /* A v6 address only in brackets; a name or v4 address never in them. */
        if (!egress_host_valid(host) || (s[0] == '[') != (strchr(host, ':') != NULL)) {
                free(host);
                return -EINVAL;
        }
        *ret_host = host;
        *ret_port = (uint16_t) port;
        return 0;
}

static bool header_is(const char *line, size_t len, const char *name) {
        size_t n = strlen(name);

        return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

/* The headers a proxy consumes or that would keep the connection open for another request. */
static bool header_dropped(const char *line, size_t len) {
        static const char *const dropped[] = {
                "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization", "Upgrade", "TE", NULL,
        };
        for (size_t i = 0; dropped[i]; i++)
                if (header_is(line, len, dropped[i]))
                        return true;
        return false;
}

static bool token_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               strchr("!#$%&'*+-.^_`|~", c);
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
        if (*len + n + 1 > *cap) {
                size_t c = MAX(*cap * 2, *len + n + 1);
                char *b = realloc(*buf, c);

                if (!b)
                        return -ENOMEM;
                *buf = b;
                *cap = c;
        }
        memcpy(*buf + *len, s, n);
        *len += n;
        (*buf)[*len] = '\0';
        return 0;
}

int egress_parse_request(const char *buf, size_t len, EgressRequest *ret) {
        _cleanup_free_ char *host = NULL, *out = NULL, *host_header = NULL;
        const char *end = NULL, *line, *sp1, *sp2, *eol, *target, *path;
        size_t head_len, tlen, out_len = 0, out_cap = 0, mlen;
        uint16_t port = 0, hh_port = 0;
        bool connect, absolute, saw_host = false;
        int k;

        assert(buf || len == 0);
        assert(ret);
        for (size_t i = 0; i + 3 < len && i + 4 <= EGRESS_MAX_HEAD; i++)
                if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
                        end = buf + i;
                        break;
                }
        if (!end)
                return len >= EGRESS_MAX_HEAD ? -E2BIG : -EAGAIN;
        head_len = (size_t) (end - buf) + 4;
        if (memchr(buf, '\0', head_len))
                return -EINVAL;

        /* METHOD SP TARGET SP HTTP/1.x CRLF */
        eol = memmem(buf, head_len, "\r\n", 2);
        sp1 = memchr(buf, ' ', (size_t) (eol - buf));
        if (!sp1 || sp1 == buf)
                return -EINVAL;
        for (const char *p = buf; p < sp1; p++)
                if (!token_char(*p))
                        return -EINVAL;
        target = sp1 + 1;
        sp2 = memchr(target, ' ', (size_t) (eol - target));
        if (!sp2 || sp2 == target || (size_t) (eol - sp2) != 9 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
            (sp2[8] != '0' && sp2[8] != '1'))
                return -EINVAL;
        tlen = (size_t) (sp2 - target);
        for (const char *p = target; p < sp2; p++)
                if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f)
                        return -EINVAL;
        mlen = (size_t) (sp1 - buf);
        connect = mlen == 7 && memcmp(buf, "CONNECT", 7) == 0;
        absolute = false;
        path = NULL;
        if (connect) {
                k = parse_authority(target, tlen, 0, &host, &port);
                if (k < 0)
                        return k;
        } else if (tlen > 8 && strncasecmp(target, "https://", 8) == 0)
                return -EPROTONOSUPPORT;
        else if (tlen > 7 && strncasecmp(target, "http://", 7) == 0) {
                const char *a = target + 7, *slash = memchr(a, '/', (size_t) (sp2 - a)),
                           *q = memchr(a, '?', (size_t) (sp2 - a));
                const char *aend = slash ? slash : sp2;

                if (q && q < aend)
                        aend = q;
                k = parse_authority(a, (size_t) (aend - a), 80, &host, &port);
                if (k < 0)
                        return k;
                absolute = true;
                path = aend;
        } else if (target[0] == '/')
                path = target;
        else
                return -EINVAL;

        if (!connect) {
                /* The request line in origin form. */
                if (append(&out, &out_len, &out_cap, buf, mlen + 1) < 0)
                        return -ENOMEM;
                if (path == sp2 || *path == '?') {
                        if (append(&out, &out_len, &out_cap, "/", 1) < 0)
                                return -ENOMEM;
                }
                if (append(&out, &out_len, &out_cap, path, (size_t) (sp2 - path)) < 0 ||
                    append(&out, &out_len, &out_cap, sp2, (size_t) (eol - sp2) + 2) < 0)
                        return -ENOMEM;
        }
        for (line = eol + 2; line < end + 2; line = eol + 2) {
                size_t n;
                const char *colon, *v, *ve;

                eol = memmem(line, (size_t) (end + 2 - line), "\r\n", 2);
                n = (size_t) (eol - line);
                if (n == 0)
                        break;
                if (line[0] == ' ' || line[0] == '\t') /* obsolete folding: ambiguous */
                        return -EINVAL;
                colon = memchr(line, ':', n);
                if (!colon || colon == line)
                        return -EINVAL;
                for (const char *p = line; p < colon; p++)
                        if (!token_char(*p))
                                return -EINVAL;
                if (header_is(line, n, "Host")) {
                        if (saw_host)
                                return -EINVAL;
                        saw_host = true;
                        for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
                                ;
                        for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
                                ;
                        k = parse_authority(v, (size_t) (ve - v), connect ? port : 80, &host_header,
                                            &hh_port);
                        if (k < 0)
                                return k;
                }
                if (connect || header_dropped(line, n))
                        continue;
                if (append(&out, &out_len, &out_cap, line, n + 2) < 0)
                        return -ENOMEM;
        }
        if (!connect && !absolute) {
                if (!host_header)
                        return -EINVAL;
                host = TAKE_PTR(host_header);
                port = hh_port;
        } else if (host_header && (strcasecmp(host_header, host) != 0 || (!connect && hh_port != port)))
                return -EINVAL; /* the server would see another host than the one checked */
        if (!connect) {
                if (!saw_host) {
                        _cleanup_free_ char *h = NULL;

                        h = strchr(host, ':') ? asprintf_safe("Host: [%s]:%u\r\n", host, port)
                                              : asprintf_safe("Host: %s:%u\r\n", host, port);
                        if (!h || append(&out, &out_len, &out_cap, h, strlen(h)) < 0)
                                return -ENOMEM;
                }
                if (append(&out, &out_len, &out_cap, "Connection: close\r\n\r\n", 21) < 0)
                        return -ENOMEM;
        }
        *ret = (EgressRequest){
                .connect = connect,
                .host = TAKE_PTR(host),
                .port = port,
                .head = TAKE_PTR(out),
                .head_len = out_len,
                .consumed = head_len,
        };
        return 0;
}

static uint32_t be(const uint8_t *p, size_t n) {
        uint32_t v = 0;

        for (size_t i = 0; i < n; i++)
                v = v << 8 | p[i];
        return v;
}

int egress_parse_client_hello(const uint8_t *buf, size_t len, char **ret_sni) {
        const uint8_t *p, *end;
        size_t rec_len, hs_len, n;

        assert(buf || len == 0);
        assert(ret_sni);
        if (len >= 1 && buf[0] != 0x16)
                return -ENOMSG;
        if (len >= 2 && buf[1] != 0x03)
                return -ENOMSG;
        if (len < 5)
                return -EAGAIN;
        rec_len = be(buf + 3, 2);
        if (rec_len > 16384 || rec_len < 4)
                return -EINVAL;
        if (len < 5 + rec_len)
                return -EAGAIN;
        p = buf + 5;
        end = p + rec_len;
        /* The whole ClientHello must be in this record: a name we could not see is no name. */
        if (p[0] != 0x01)
                return -EINVAL;
        hs_len = be(p + 1, 3);
        if (hs_len > (size_t) (end - p - 4))
                return -EINVAL;
        end = p + 4 + hs_len;
        p += 4;
#define NEED(x)                               \
        do {                                  \
                if ((size_t) (end - p) < (x)) \
                        return -EINVAL;       \
        } while (0)
        NEED(2 + 32 + 1); /* version, random, session id length */
        p += 34;
        n = p[0];
        NEED(1 + n + 2);
        p += 1 + n;
        n = be(p, 2); /* cipher suites */
        NEED(2 + n + 1);
        p += 2 + n;
        n = p[0]; /* compression methods */
        NEED(1 + n);
        p += 1 + n;
        if (p == end) {
                *ret_sni = NULL; /* no extensions at all */
                return 0;
        }
        NEED(2);
        n = be(p, 2);
        p += 2;
        NEED(n);
        end = p + n;
        while (p < end) {
                size_t type, elen;

                NEED(4);
                type = be(p, 2);
                elen = be(p + 2, 2);
                p += 4;
                NEED(elen);
                if (type == 0) { /* server_name */
                        const uint8_t *q = p, *qend = p + elen;
                        size_t list, nlen;
                        char *name;

                        if (elen < 2)
                                return -EINVAL;
                        list = be(q, 2);
                        q += 2;
                        if (list != (size_t) (qend - q) || list < 3 || q[0] != 0)
                                return -EINVAL;
                        nlen = be(q + 1, 2);
                        if (nlen == 0 || nlen > 253 || nlen > list - 3)
                                return -EINVAL;
                        name = strndup((const char *) q + 3, nlen);
                        if (!name)
                                return -ENOMEM;
                        if (strlen(name) != nlen || !egress_host_valid(name)) {
                                free(name);
                                return -EINVAL;
                        }
                        *ret_sni = name;
                        return 0;
                }
                p += elen;
        }
#undef NEED
        *ret_sni = NULL;
        return 0;
}
