/* egress.c — one execution's egress proxy on aegisd's event loop (see egress.h). */
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "egress-parse.h"
#include "egress.h"
#include "gateway.h"
#include "list.h"
#include "loopback.h"
#include "macros.h"
#include "util.h"

#define BUF_SIZE (64u * 1024)
#define SETUP_TIMEOUT_USEC (30 * USEC_PER_SEC) /* head, lookup, connect, ClientHello */
#define IDLE_TIMEOUT_USEC (300 * USEC_PER_SEC) /* a tunnel with no byte either way */

typedef enum ConnState {
        CONN_HEAD, /* reading the client's request head */
        CONN_RESOLVING,
        CONN_CONNECTING,
        CONN_HELLO, /* CONNECT answered; reading the ClientHello */
        CONN_SPLICE,
        CONN_CLOSING, /* sending a refusal, then closing */
} ConnState;

/* One name lookup, shared by the loop and its thread; the last of the two to let go frees it. */
typedef struct Lookup {
        int refs; /* atomic */
        int efd; /* eventfd the thread signals */
        char *host, port[6];
        struct addrinfo *result;
        int error;
} Lookup;

typedef struct Buf {
        char data[BUF_SIZE];
        size_t len;
} Buf;

typedef struct Conn Conn;
struct Conn {
        EgressProxy *proxy;
        Conn *prev, *next;
        ConnState state;
        int cfd, ufd;
        sd_event_source *cio, *uio, *lio, *timer;
        Lookup *lookup;
        struct addrinfo *addrs, *next_addr;
        bool internal_skipped; /* an address was not tried: loopback or link-local */
        bool ufd_tried; /* a connection to an address was tried */
        EgressRequest req;
        Buf in; /* client bytes not yet judged: the head, then the ClientHello */
        Buf up, down; /* client → upstream, upstream → client */
        bool c_eof, u_eof, u_shut;
};

struct EgressProxy {
        EgressContext ctx;
        char *path;
        int fd;
        sd_event_source *listen;
        Conn *conns;
        unsigned n_conns;
};

static void plog(EgressProxy *p, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void plog(EgressProxy *p, int level, const char *fmt, ...) {
        char buf[512];
        va_list ap;

        if (!p->ctx.log)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        p->ctx.log(p->ctx.userdata, level, buf);
}

static void count(EgressProxy *p, const char *result) {
        if (p->ctx.connections)
                (void) metric_add(p->ctx.connections, METRIC_LABELS(result), 1);
}

static void lookup_unref(Lookup *l) {
        if (!l || __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) > 0)
                return;
        if (l->result)
                freeaddrinfo(l->result);
        safe_close(l->efd);
        free(l->host);
        free(l);
}

static void *lookup_thread(void *arg) {
        Lookup *l = arg;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
        uint64_t one = 1;

        l->error = getaddrinfo(l->host, l->port, &hints, &l->result);
        (void) !write(l->efd, &one, sizeof one);
        lookup_unref(l);
        return NULL;
}

static void conn_free(Conn *c) {
        EgressProxy *p = c->proxy;

        LIST_REMOVE(p->conns, c);
        p->n_conns--;
        sd_event_source_disable_unref(c->cio);
        sd_event_source_disable_unref(c->uio);
        sd_event_source_disable_unref(c->lio);
        sd_event_source_disable_unref(c->timer);
        lookup_unref(c->lookup);
        if (c->addrs)
                freeaddrinfo(c->addrs);
        safe_close(c->cfd);
        safe_close(c->ufd);
        egress_request_done(&c->req);
        free(c);
}

static void conn_deadline(Conn *c, uint64_t usec) {
        uint64_t now = 0;

        (void) sd_event_now(c->proxy->ctx.event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(c->timer, now + usec);
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static int buf_put(Buf *b, const void *data, size_t n) {
        if (n > sizeof b->data - b->len)
                return -ENOBUFS;
        memcpy(b->data + b->len, data, n);
        b->len += n;
        return 0;
}

static void conn_update(Conn *c);

/* Answers the client with status and closes once it is sent. */
static void conn_refuse(Conn *c, int status, const char *why) {
        char body[512];
        int n;

        n = snprintf(body, sizeof body,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\naegis egress "
                     "proxy: %s\n",
                     status,
                     status == 403   ? "Forbidden"
                     : status == 400 ? "Bad Request"
                                     : "Bad Gateway",
                     why);
        c->down.len = 0;
        (void) buf_put(&c->down, body, (size_t) MIN(n, (int) sizeof body - 1));
        c->state = CONN_CLOSING;
        c->ufd = safe_close(c->ufd);
        c->uio = sd_event_source_disable_unref(c->uio);
        conn_deadline(c, SETUP_TIMEOUT_USEC);
        conn_update(c);
}

static void conn_try_connect(Conn *c);
static int conn_check_hello(Conn *c);

static int on_upstream(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static void conn_connected(Conn *c) {
        static const char established[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        size_t rest = c->in.len - c->req.consumed;

        count(c->proxy, "allowed");
        if (c->req.connect) {
                (void) buf_put(&c->down, established, sizeof established - 1);
                memmove(c->in.data, c->in.data + c->req.consumed, rest);
                c->in.len = rest;
                c->state = CONN_HELLO;
                if (rest > 0 && conn_check_hello(c) == -EPERM)
                        return;
        } else {
                /* The rebuilt head, then whatever of the body came with it. */
                if (buf_put(&c->up, c->req.head, c->req.head_len) < 0 ||
                    buf_put(&c->up, c->in.data + c->req.consumed, rest) < 0) {
                        conn_free(c);
                        return;
                }
                c->in.len = 0;
                c->state = CONN_SPLICE;
                conn_deadline(c, IDLE_TIMEOUT_USEC);
        }
        conn_update(c);
}

static void conn_try_connect(Conn *c) {
        for (; c->next_addr; c->next_addr = c->next_addr->ai_next) {
                struct addrinfo *a = c->next_addr;
                int fd;

                if (!c->proxy->ctx.allow_internal && sockaddr_is_internal(a->ai_addr)) {
                        c->internal_skipped = true;
                        continue;
                }
                fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        continue;
                c->ufd_tried = true;
                if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
                        close(fd);
                        continue;
                }
                c->ufd = fd;
                c->next_addr = a->ai_next;
                if (sd_event_add_io(c->proxy->ctx.event, &c->uio, fd, EPOLLOUT, on_upstream, c) < 0) {
                        conn_free(c);
                        return;
                }
                c->state = CONN_CONNECTING;
                return;
        }
        if (c->internal_skipped && !c->ufd_tried) {
                /* A name that resolves to this host's services or the cloud metadata service
                 * (a DNS answer the agent may control) is refused like an unlisted host. */
                count(c->proxy, "refused");
                plog(c->proxy, LOG_WARNING,
                     "egress: refused %s port %u: it resolves to a loopback or link-local address "
                     "(security.allow_internal_egress is off)",
                     c->req.host, c->req.port);
                conn_refuse(c, 403, "the host resolves to a loopback or link-local address");
                return;
        }
        count(c->proxy, "failed");
        plog(c->proxy, LOG_INFO, "egress: cannot connect to %s port %u", c->req.host, c->req.port);
        conn_refuse(c, 502, "cannot connect to the host");
}

static int on_lookup(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;
        Lookup *l = c->lookup;

        c->lio = sd_event_source_disable_unref(c->lio);
        c->lookup = NULL;
        if (l->error != 0 || !l->result) {
                count(c->proxy, "failed");
                plog(c->proxy, LOG_INFO, "egress: cannot resolve %s: %s", c->req.host,
                     gai_strerror(l->error));
                lookup_unref(l);
                conn_refuse(c, 502, "cannot resolve the host name");
                return 0;
        }
        c->addrs = c->next_addr = TAKE_PTR(l->result);
        lookup_unref(l);
        conn_try_connect(c);
        return 0;
}

static int conn_resolve(Conn *c) {
        Lookup *l;
        pthread_attr_t attr;
        pthread_t t;
        int k;

        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->refs = 2;
        l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        l->host = strdup(c->req.host);
        (void) snprintf(l->port, sizeof l->port, "%u", c->req.port);
        if (l->efd < 0 || !l->host) {
                l->refs = 1;
                lookup_unref(l);
                return -ENOMEM;
        }
        k = sd_event_add_io(c->proxy->ctx.event, &c->lio, l->efd, EPOLLIN, on_lookup, c);
        if (k < 0) {
                l->refs = 1;
                lookup_unref(l);
                return k;
        }
        c->lookup = l;
        (void) pthread_attr_init(&attr);
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        (void) pthread_attr_setstacksize(&attr, 256 * 1024);
        k = pthread_create(&t, &attr, lookup_thread, l);
        (void) pthread_attr_destroy(&attr);
        if (k != 0) {
                __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL); /* the thread's, never taken */
                return -k;
        }
        c->state = CONN_RESOLVING;
        return 0;
}

/* The client's first request has arrived: decide. */
static void conn_judge(Conn *c) {
        EgressProxy *p = c->proxy;
        int k = egress_parse_request(c->in.data, c->in.len, &c->req);

        if (k == -EAGAIN)
                return;
        if (k < 0) {
                count(p, "refused");
                plog(p, LOG_NOTICE,
                     "egress: refused a request that is not a plain HTTP/1 request or CONNECT (%s)",
                     k == -EPROTONOSUPPORT ? "https:// needs CONNECT" : strerror(-k));
                conn_refuse(c, 400,
                            k == -EPROTONOSUPPORT ? "send https:// requests through CONNECT"
                                                  : "not an HTTP/1 request or CONNECT this proxy forwards");
                return;
        }
        if (!p->ctx.allowed(c->req.host, p->ctx.userdata)) {
                count(p, "refused");
                plog(p, LOG_NOTICE, "egress: refused %s %s port %u: not allowed by the network_policy",
                     c->req.connect ? "CONNECT to" : "a request to", c->req.host, c->req.port);
                conn_refuse(c, 403, "the host is not allowed by the execution's network_policy");
                return;
        }
        k = conn_resolve(c);
        if (k < 0) {
                count(p, "failed");
                conn_refuse(c, 502, "cannot look the host up");
        }
}

/* 0: the tunnel is open (CONN_SPLICE); -EAGAIN: more of the hello to come; -EPERM: refused, c
 * is freed. */
static int conn_check_hello(Conn *c) {
        _cleanup_free_ char *sni = NULL;
        int k = egress_parse_client_hello((const uint8_t *) c->in.data, c->in.len, &sni);

        if (k == -EAGAIN && c->in.len < EGRESS_MAX_HELLO && !c->c_eof)
                return -EAGAIN;
        if (k == 0 && sni && strcasecmp(sni, c->req.host) != 0) {
                count(c->proxy, "refused");
                plog(c->proxy, LOG_NOTICE,
                     "egress: refused a tunnel to %s whose TLS ClientHello names %s: not the host allowed",
                     c->req.host, sni);
                conn_free(c);
                return -EPERM;
        }
        if (k < 0 && k != -ENOMSG) {
                count(c->proxy, "refused");
                plog(c->proxy, LOG_NOTICE,
                     "egress: refused a tunnel to %s: a TLS ClientHello that cannot be read", c->req.host);
                conn_free(c);
                return -EPERM;
        }
        /* TLS to the host asked for, or not TLS at all: a tunnel to an admitted host. */
        (void) buf_put(&c->up, c->in.data, c->in.len);
        c->in.len = 0;
        c->state = CONN_SPLICE;
        conn_deadline(c, IDLE_TIMEOUT_USEC);
        return 0;
}

static void conn_update(Conn *c) {
        uint32_t ce = 0, ue = 0;

        if (c->state == CONN_CLOSING && c->down.len == 0) {
                conn_free(c);
                return;
        }
        if (c->state == CONN_SPLICE && c->u_eof && c->down.len == 0) {
                conn_free(c); /* the server is done and all it sent is delivered */
                return;
        }
        if (!c->c_eof && ((c->state == CONN_HEAD || c->state == CONN_HELLO)
                                  ? c->in.len < sizeof c->in.data
                                  : c->state == CONN_SPLICE && c->up.len < sizeof c->up.data))
                ce |= EPOLLIN;
        if (c->down.len > 0)
                ce |= EPOLLOUT;
        if (c->cio) {
                (void) sd_event_source_set_io_events(c->cio, ce);
                (void) sd_event_source_set_enabled(c->cio, ce ? SD_EVENT_ON : SD_EVENT_OFF);
        }
        if (c->uio) {
                if (c->state == CONN_CONNECTING)
                        ue = EPOLLOUT;
                else if (c->state == CONN_SPLICE || c->state == CONN_HELLO) {
                        if (c->up.len > 0)
                                ue |= EPOLLOUT;
                        if (!c->u_eof && c->down.len < sizeof c->down.data)
                                ue |= EPOLLIN;
                }
                (void) sd_event_source_set_io_events(c->uio, ue);
                (void) sd_event_source_set_enabled(c->uio, ue ? SD_EVENT_ON : SD_EVENT_OFF);
        }
}

static int flush(int fd, Buf *b) {
        ssize_t n = send(fd, b->data, b->len, MSG_NOSIGNAL);

        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        memmove(b->data, b->data + n, b->len - (size_t) n);
        b->len -= (size_t) n;
        return 0;
}

static int fill(int fd, Buf *b, bool *eof) {
        ssize_t n = read(fd, b->data + b->len, sizeof b->data - b->len);

        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (n == 0)
                *eof = true;
        b->len += (size_t) n;
        return 0;
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;

        if ((revents & EPOLLOUT) && flush(c->cfd, &c->down) < 0) {
                conn_free(c);
                return 0;
        }
        if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->state != CONN_CLOSING) {
                bool head = c->state == CONN_HEAD || c->state == CONN_HELLO;

                if (fill(c->cfd, head ? &c->in : &c->up, &c->c_eof) < 0) {
                        conn_free(c);
                        return 0;
                }
                if (c->state == CONN_HEAD) {
                        conn_judge(c);
                        if (c->state == CONN_HEAD && c->c_eof) { /* no whole request will come */
                                conn_free(c);
                                return 0;
                        }
                        if (c->state == CONN_CLOSING)
                                return 0;
                } else if (c->state == CONN_HELLO) {
                        if (conn_check_hello(c) == -EPERM)
                                return 0;
                } else if (c->state == CONN_SPLICE)
                        conn_deadline(c, IDLE_TIMEOUT_USEC);
        }
        if (c->state == CONN_SPLICE && c->c_eof && c->up.len == 0 && !c->u_shut && c->ufd >= 0) {
                (void) shutdown(c->ufd, SHUT_WR);
                c->u_shut = true;
        }
        conn_update(c);
        return 0;
}

static int on_upstream(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;

        if (c->state == CONN_CONNECTING) {
                int err = 0;
                socklen_t len = sizeof err;

                if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        err = errno;
                if (err) {
                        c->uio = sd_event_source_disable_unref(c->uio);
                        c->ufd = safe_close(c->ufd);
                        conn_try_connect(c);
                        return 0;
                }
                conn_connected(c);
                return 0;
        }
        if ((revents & EPOLLOUT) && c->up.len > 0 && flush(c->ufd, &c->up) < 0) {
                conn_free(c);
                return 0;
        }
        if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->u_eof &&
            fill(c->ufd, &c->down, &c->u_eof) < 0) {
                conn_free(c);
                return 0;
        }
        if (c->state == CONN_SPLICE)
                conn_deadline(c, IDLE_TIMEOUT_USEC);
        if (c->state == CONN_SPLICE && c->c_eof && c->up.len == 0 && !c->u_shut) {
                (void) shutdown(c->ufd, SHUT_WR);
                c->u_shut = true;
        }
        conn_update(c);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Conn *c = userdata;

        if (c->state != CONN_SPLICE && c->state != CONN_CLOSING)
                plog(c->proxy, LOG_INFO,
                     "egress: closed a connection that did not finish its request in time");
        conn_free(c);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        EgressProxy *p = userdata;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        Conn *c;

        if (cfd < 0)
                return 0;
        if (p->n_conns >= EGRESS_MAX_CONNECTIONS) {
                count(p, "refused");
                plog(p, LOG_WARNING, "egress: more than %d connections at once: refusing one",
                     EGRESS_MAX_CONNECTIONS);
                close(cfd);
                return 0;
        }
        c = calloc(1, sizeof *c);
        if (!c) {
                close(cfd);
                return 0;
        }
        c->proxy = p;
        c->cfd = cfd;
        c->ufd = -1;
        LIST_PREPEND(p->conns, c);
        p->n_conns++;
        if (sd_event_add_io(p->ctx.event, &c->cio, cfd, EPOLLIN, on_client, c) < 0 ||
            sd_event_add_time_relative(p->ctx.event, &c->timer, CLOCK_MONOTONIC, SETUP_TIMEOUT_USEC, 0,
                                       on_timeout, c) < 0) {
                conn_free(c);
                return 0;
        }
        return 0;
}

int egress_proxy_new(const EgressContext *ctx, EgressProxy **ret) {
        EgressProxy *p;
        int k;

        assert(ctx);
        assert(ctx->event);
        assert(ctx->socket_path);
        assert(ctx->allowed);
        assert(ret);
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->ctx = *ctx;
        p->fd = -1;
        p->path = strdup(ctx->socket_path);
        if (!p->path) {
                egress_proxy_free(p);
                return -ENOMEM;
        }
        p->ctx.socket_path = p->path;
        k = gateway_listen_unix(p->path, &p->fd);
        if (k >= 0)
                k = sd_event_add_io(p->ctx.event, &p->listen, p->fd, EPOLLIN, on_accept, p);
        if (k < 0) {
                egress_proxy_free(p);
                return k;
        }
        *ret = p;
        return 0;
}

EgressProxy *egress_proxy_free(EgressProxy *p) {
        if (!p)
                return NULL;
        while (p->conns)
                conn_free(p->conns);
        sd_event_source_disable_unref(p->listen);
        if (p->fd >= 0) {
                safe_close(p->fd);
                (void) unlink(p->path);
        }
        free(p->path);
        free(p);
        return NULL;
}
