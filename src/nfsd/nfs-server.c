/* nfs-server.c — see nfs-server.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "list.h"
#include "log.h"
#include "nfs-server.h"
#include "util.h"

#define READ_CHUNK (64 * 1024)

typedef struct OutBuf {
        struct OutBuf *next;
        uint8_t *data;
        size_t size, off;
} OutBuf;

typedef struct NfsConn {
        struct NfsConn *prev, *next;
        NfsServer *server;
        int fd;
        sd_event_source *src;
        NfsPeer peer;
        uint8_t *in; /* raw bytes from the socket */
        size_t in_len, in_cap;
        uint8_t *rec; /* a record being assembled from several fragments */
        size_t rec_len;
        OutBuf *out_head, *out_tail;
        size_t out_bytes;
        uint64_t active_usec; /* CLOCK_MONOTONIC of the last bytes received (or the accept) */
        bool paused;
} NfsConn;

struct NfsServer {
        sd_event *event;
        NfsGateway *g;
        int fd;
        sd_event_source *src;
        sd_event_source *sweep; /* closes idle connections */
        NfsConn *conns;
        unsigned n_conns, max_conns, max_per_client;
        uint64_t idle_timeout_usec;
        uint64_t last_activity;
};

/* A quarter of the idle timeout, between 0.1 s and 10 s: a connection is closed at most that
 * long after its timeout. */
static uint64_t sweep_interval(const NfsServer *s) {
        return MIN(MAX(s->idle_timeout_usec / 4, 100 * UINT64_C(1000)), 10 * USEC_PER_SEC);
}

static void conn_free(NfsConn *c) {
        NfsServer *s = c->server;

        LIST_REMOVE(s->conns, c);
        s->n_conns--;
        s->g->metrics.connections_active = s->n_conns;
        sd_event_source_disable_unref(c->src);
        safe_close(c->fd);
        while (c->out_head) {
                OutBuf *b = c->out_head;
                c->out_head = b->next;
                free(b->data);
                free(b);
        }
        free(c->in);
        free(c->rec);
        free(c);
        /* Request and reply buffers stay in the heap while clients are connected (see
         * nfsd.c's mallopt()); give them back when the last one leaves. */
        if (s->n_conns == 0) {
                nfs_gateway_idle(s->g);
                (void) malloc_trim(0);
        }
}

static int conn_update_events(NfsConn *c) {
        uint32_t ev = (c->paused ? 0 : EPOLLIN) | (c->out_head ? EPOLLOUT : 0);
        return sd_event_source_set_io_events(c->src, ev);
}

static int conn_flush(NfsConn *c) {
        while (c->out_head) {
                struct iovec iov[16];
                int n = 0;
                for (OutBuf *b = c->out_head; b && n < 16; b = b->next, n++)
                        iov[n] = (struct iovec){ b->data + b->off, b->size - b->off };
                ssize_t k = writev(c->fd, iov, n);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        return -errno;
                }
                c->out_bytes -= (size_t) k;
                while (k > 0) {
                        OutBuf *b = c->out_head;
                        size_t left = b->size - b->off;
                        if ((size_t) k < left) {
                                b->off += (size_t) k;
                                break;
                        }
                        k -= (ssize_t) left;
                        c->out_head = b->next;
                        if (!c->out_head)
                                c->out_tail = NULL;
                        free(b->data);
                        free(b);
                }
        }
        if (c->paused && c->out_bytes < NFS_MAX_QUEUED_REPLY_BYTES / 2)
                c->paused = false;
        return conn_update_events(c);
}

static int conn_queue(NfsConn *c, uint8_t *data, size_t size) {
        OutBuf *b = malloc(sizeof(*b));

        if (!b) {
                free(data);
                return -ENOMEM;
        }
        *b = (OutBuf){ .data = data, .size = size };
        if (c->out_tail)
                c->out_tail->next = b;
        else
                c->out_head = b;
        c->out_tail = b;
        c->out_bytes += size;
        return 0;
}

static int conn_request(NfsConn *c, const uint8_t *rec, size_t size) {
        uint8_t *reply = NULL;
        size_t reply_size = 0;
        int r;

        r = nfs_rpc_process(c->server->g, &c->peer, rec, size, &reply, &reply_size);
        if (r < 0)
                return r;
        if (!reply)
                return 0;
        return conn_queue(c, reply, reply_size);
}

/* Consumes whole fragments from c->in; returns <0 to close the connection. */
static int conn_parse(NfsConn *c) {
        size_t pos = 0;
        unsigned handled = 0;
        int r = 0;

        while (c->in_len - pos >= 4 && !c->paused) {
                const uint8_t *p = c->in + pos;
                uint32_t hdr = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
                bool last = hdr & 0x80000000u;
                size_t flen = hdr & 0x7fffffffu;

                if (c->rec_len + flen > NFS_MAX_RECORD || (last && c->rec_len + flen == 0)) {
                        c->server->g->metrics.rpc_garbage++;
                        return -EMSGSIZE;
                }
                if (c->in_len - pos - 4 < flen) {
                        /* Make room for the whole fragment (bounded above). */
                        if (pos + 4 + flen > c->in_cap && pos == 0) {
                                uint8_t *t = realloc(c->in, 4 + flen);
                                if (!t)
                                        return -ENOMEM;
                                c->in = t;
                                c->in_cap = 4 + flen;
                        }
                        break;
                }
                if (last && c->rec_len == 0)
                        r = conn_request(c, p + 4, flen);
                else {
                        uint8_t *t = realloc(c->rec, c->rec_len + flen);
                        if (!t)
                                return -ENOMEM;
                        c->rec = t;
                        memcpy(c->rec + c->rec_len, p + 4, flen);
                        c->rec_len += flen;
                        if (last) {
                                r = conn_request(c, c->rec, c->rec_len);
                                free(c->rec);
                                c->rec = NULL;
                                c->rec_len = 0;
                        }
                }
                pos += 4 + flen;
                if (r < 0)
                        return r;
                if (last) {
                        c->server->last_activity = now_usec(CLOCK_MONOTONIC);
                        if (c->out_bytes >= NFS_MAX_QUEUED_REPLY_BYTES)
                                c->paused = true; /* in-flight bound: wait for the client to read */
                        if (++handled >= NFS_MAX_REQUESTS_PER_WAKEUP)
                                break;
                }
        }
        if (pos > 0) {
                memmove(c->in, c->in + pos, c->in_len - pos);
                c->in_len -= pos;
        }
        return handled;
}

static int conn_read(NfsConn *c) {
        if (c->in_cap - c->in_len < 4096) {
                size_t cap = MAX(c->in_cap * 2, (size_t) READ_CHUNK);
                uint8_t *t;
                if (cap > NFS_MAX_RECORD + 8 + READ_CHUNK)
                        cap = NFS_MAX_RECORD + 8 + READ_CHUNK;
                if (cap <= c->in_cap)
                        return 0; /* full: parse first */
                t = realloc(c->in, cap);
                if (!t)
                        return -ENOMEM;
                c->in = t;
                c->in_cap = cap;
        }
        ssize_t k = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (k == 0)
                return -ECONNRESET;
        c->in_len += (size_t) k;
        c->active_usec = now_usec(CLOCK_MONOTONIC);
        return 1;
}

static int on_conn(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        NfsConn *c = userdata;
        int r = 0;

        if (revents & (EPOLLERR | EPOLLHUP) && !(revents & EPOLLIN)) {
                conn_free(c);
                return 0;
        }
        if (revents & EPOLLIN && !c->paused)
                r = conn_read(c);
        if (r >= 0)
                r = conn_flush(c); /* may lift a pause */
        while (r >= 0 && !c->paused) {
                int n = conn_parse(c);
                if (n <= 0) {
                        r = n;
                        break;
                }
                r = conn_flush(c);
        }
        if (r < 0) {
                if (r != -ECONNRESET && r != -EPIPE)
                        log_debug_errno(r, "Closing connection from %s: %m", c->peer.host);
                conn_free(c);
        }
        return 0;
}

/* Connections of the client peer is (its address, and the same kind of source port). */
static unsigned client_connections(const NfsServer *s, const NfsPeer *peer) {
        unsigned n = 0;

        for (const NfsConn *c = s->conns; c; c = c->next)
                if (streq(c->peer.host, peer->host) &&
                    nfs_peer_reserved(&c->peer) == nfs_peer_reserved(peer))
                        n++;
        return n;
}

static int on_sweep(sd_event_source *src, uint64_t usec, void *userdata) {
        NfsServer *s = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        NfsConn *next;

        for (NfsConn *c = s->conns; c; c = next) {
                next = c->next;
                if (now - c->active_usec >= s->idle_timeout_usec) {
                        log_debug("Closing connection from %s: idle for %" PRIu64 "s", c->peer.host,
                                  (now - c->active_usec) / USEC_PER_SEC);
                        s->g->metrics.connections_idle_closed++;
                        conn_free(c);
                }
        }
        if (sd_event_source_set_time_relative(src, sweep_interval(s)) >= 0)
                (void) sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        return 0;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        NfsServer *s = userdata;
        struct sockaddr_storage sa, la;
        socklen_t salen = sizeof(sa), lalen = sizeof(la);
        NfsConn *c;
        int cfd, one = 1, r;

        cfd = accept4(fd, (struct sockaddr *) &sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        if (s->n_conns >= s->max_conns) {
                s->g->metrics.connections_refused++;
                safe_close(cfd);
                return 0;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                safe_close(cfd);
                return 0;
        }
        c->server = s;
        c->fd = cfd;
        c->active_usec = now_usec(CLOCK_MONOTONIC);
        (void) setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (sa.ss_family == AF_INET) {
                inet_ntop(AF_INET, &((struct sockaddr_in *) &sa)->sin_addr, c->peer.host,
                          sizeof(c->peer.host));
                c->peer.port = ntohs(((struct sockaddr_in *) &sa)->sin_port);
        } else if (sa.ss_family == AF_INET6) {
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &sa)->sin6_addr, c->peer.host,
                          sizeof(c->peer.host));
                c->peer.port = ntohs(((struct sockaddr_in6 *) &sa)->sin6_port);
        } else
                snprintf(c->peer.host, sizeof(c->peer.host), "local");
        if (client_connections(s, &c->peer) >= s->max_per_client) {
                s->g->metrics.connections_refused++;
                safe_close(cfd);
                free(c);
                return 0;
        }
        if (getsockname(cfd, (struct sockaddr *) &la, &lalen) == 0)
                c->peer.local_port =
                        ntohs(la.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &la)->sin6_port
                                                       : ((struct sockaddr_in *) &la)->sin_port);
        r = sd_event_add_io(s->event, &c->src, cfd, EPOLLIN, on_conn, c);
        if (r < 0) {
                safe_close(cfd);
                free(c);
                return 0;
        }
        LIST_PREPEND(s->conns, c);
        s->n_conns++;
        s->g->metrics.connections_total++;
        s->g->metrics.connections_active = s->n_conns;
        s->last_activity = now_usec(CLOCK_MONOTONIC);
        return 0;
}

int nfs_server_new(sd_event *e, NfsGateway *g, int listen_fd, const NfsServerLimits *limits,
                   NfsServer **ret) {
        NfsServer *s = calloc(1, sizeof(*s));
        NfsServerLimits l = limits ? *limits : (NfsServerLimits){ 0 };
        int r;

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->g = g;
        s->fd = listen_fd;
        s->max_conns = l.max_connections ? l.max_connections : NFS_MAX_CONNECTIONS_DEFAULT;
        s->max_per_client = l.max_per_client ? l.max_per_client : NFS_MAX_CONNECTIONS_PER_CLIENT_DEFAULT;
        s->idle_timeout_usec =
                l.idle_timeout_usec ? l.idle_timeout_usec : NFS_IDLE_TIMEOUT_DEFAULT * USEC_PER_SEC;
        s->last_activity = now_usec(CLOCK_MONOTONIC);
        r = fd_nonblock(listen_fd, true);
        if (r >= 0)
                r = sd_event_add_io(e, &s->src, listen_fd, EPOLLIN, on_accept, s);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &s->sweep, CLOCK_MONOTONIC, sweep_interval(s), 0, on_sweep,
                                               s);

        if (r < 0) {
                nfs_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

NfsServer *nfs_server_free(NfsServer *s) {
        if (!s)
                return NULL;
        while (s->conns)
                conn_free(s->conns);
        sd_event_source_disable_unref(s->sweep);
        sd_event_source_disable_unref(s->src);
        safe_close(s->fd);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

unsigned nfs_server_connections(const NfsServer *s) {
        return s->n_conns;
}

uint64_t nfs_server_last_activity(const NfsServer *s) {
        return s->last_activity;
}
