/* bootstrap-relay.c — aegis-bootstrap --relay PORT -- PROG ARGS…
 *
 * For a client of the reference's protocol (spec.advanced.bootstrap_path) that speaks
 * HTTP over TCP to AEGIS_ORCHESTRATOR_URL: listens on 127.0.0.1:PORT inside the container
 * and forwards each connection, byte for byte in both directions, to aegisd's dispatch
 * socket, so the client reaches aegisd with no network at all. Runs PROG with ARGS (its
 * stdin, stdout and stderr untouched) and exits with its status once it exits.
 *
 * What must stay true:
 * - No byte is changed, added or dropped in either direction.
 * - A connection to the socket that fails, or breaks before aegisd sent a byte back, is
 *   made again and everything the client sent on it is sent again (aegisd answers a
 *   repeated request idempotently), with backoff, within the retry budget: a client that
 *   never retries still survives an aegisd restart.
 * - One poll() loop; no connection can block another or the child's exit.
 * - With --egress PORT:SOCKET the same pipe leads to aegisd's egress proxy instead, and
 *   nothing is ever sent twice (a request to another host is not idempotent): a broken
 *   connection is the client's to retry. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootstrap.h"
#include "macros.h"

#define MAX_CONNS 64
/* Bytes kept from a client for a resend; past this, a break is final. */
#define MAX_REPLAY (BOOTSTRAP_MAX_RESPONSE + 64u * 1024)
#define DOWN_BUF (256u * 1024)

typedef struct Conn {
        int tcp, ux;
        char *up; /* client → aegisd, from the start of the connection while replayable */
        size_t up_len, up_cap, up_sent;
        bool replayable; /* aegisd has sent nothing back yet and up holds every byte */
        char down[DOWN_BUF];
        size_t down_len;
        bool tcp_eof, ux_eof, up_shut;
        uint64_t retry_at, deadline;
        unsigned backoff, retries;
} Conn;

static volatile sig_atomic_t pending_signal = 0;
static pid_t relay_child = 0;

static void forward_signal(int sig) {
        pending_signal = sig;
        if (relay_child > 0)
                (void) kill(relay_child, sig);
}

static int ux_connect(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
                int k = -errno;

                close(fd);
                return k;
        }
        return fd;
}

static void conn_free(Conn **slot) {
        Conn *c = *slot;

        if (!c)
                return;
        safe_close(c->tcp);
        safe_close(c->ux);
        free(c->up);
        free(c);
        *slot = NULL;
}

/* The socket side failed: try again later when that is still allowed, else give up. */
static void conn_ux_broken(Conn **slot, const char *what, int err, const char *socket_path) {
        Conn *c = *slot;
        uint64_t now = bs_now_ms();

        c->ux = safe_close(c->ux);
        if (!c->replayable || now + c->backoff > c->deadline) {
                bs_log("relay: %s %s: %s; closing the client's connection", what, socket_path,
                       strerror(err));
                conn_free(slot);
                return;
        }
        c->retries++;
        bs_log("relay: %s %s: %s; connecting again in %u ms and sending the %zu bytes again (retry %u)",
               what, socket_path, strerror(err), c->backoff, c->up_len, c->retries);
        c->retry_at = now + c->backoff;
        c->backoff = MIN(c->backoff * 2, 2000u);
        c->up_sent = 0;
        c->ux_eof = c->up_shut = false;
}

static void conn_try_connect(Conn **slot, const char *socket_path) {
        Conn *c = *slot;
        int fd = ux_connect(socket_path);

        c->retry_at = 0;
        if (fd < 0) {
                conn_ux_broken(slot, "connect to", -fd, socket_path);
                return;
        }
        c->ux = fd;
}

static int listen_on(uint16_t port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        int fd, one = 1;

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
                int k = -errno;

                close(fd);
                return k;
        }
        return fd;
}

/* One step of a connection after poll(); frees it when it is over. */
static void conn_step(Conn **slot, short tcp_ev, short ux_ev, const char *socket_path) {
        Conn *c = *slot;
        ssize_t k;

        if ((tcp_ev & (POLLHUP | POLLERR)) && c->tcp_eof) {
                conn_free(slot); /* the client is gone: nobody to answer */
                return;
        }
        /* client → buffer */
        if (tcp_ev & (POLLIN | POLLHUP | POLLERR)) {
                if (c->up_len == c->up_cap) {
                        size_t cap = c->up_cap ? c->up_cap * 2 : 65536;
                        char *b = realloc(c->up, cap);

                        if (!b) {
                                conn_free(slot);
                                return;
                        }
                        c->up = b;
                        c->up_cap = cap;
                }
                k = read(c->tcp, c->up + c->up_len, c->up_cap - c->up_len);
                if (k > 0)
                        c->up_len += (size_t) k;
                else if (k == 0)
                        c->tcp_eof = true;
                else if (errno != EAGAIN && errno != EINTR) {
                        conn_free(slot);
                        return;
                }
                if (c->up_len > MAX_REPLAY)
                        c->replayable = false;
        }
        /* buffer → aegisd */
        if (c->ux >= 0 && c->up_sent < c->up_len && (ux_ev & POLLOUT)) {
                k = send(c->ux, c->up + c->up_sent, c->up_len - c->up_sent, MSG_NOSIGNAL);
                if (k > 0)
                        c->up_sent += (size_t) k;
                else if (k < 0 && errno != EAGAIN && errno != EINTR) {
                        conn_ux_broken(slot, "sending to", errno, socket_path);
                        return;
                }
                if (!c->replayable && c->up_sent == c->up_len) {
                        c->up_len = c->up_sent = 0; /* nothing to resend: keep no copy */
                }
        }
        if (c->ux >= 0 && c->tcp_eof && !c->up_shut && c->up_sent == c->up_len) {
                (void) shutdown(c->ux, SHUT_WR);
                c->up_shut = true;
        }
        /* aegisd → buffer */
        if (c->ux >= 0 && !c->ux_eof && c->down_len < sizeof(c->down) &&
            (ux_ev & (POLLIN | POLLHUP | POLLERR))) {
                k = read(c->ux, c->down + c->down_len, sizeof(c->down) - c->down_len);
                if (k > 0) {
                        c->down_len += (size_t) k;
                        c->replayable = false;
                } else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
                        if (c->replayable) {
                                conn_ux_broken(slot, k == 0 ? "connection closed by" : "reading from",
                                               k == 0 ? ECONNRESET : errno, socket_path);
                                return;
                        }
                        c->ux_eof = true;
                }
        }
        /* buffer → client */
        if (c->down_len > 0) {
                k = send(c->tcp, c->down, c->down_len, MSG_NOSIGNAL);
                if (k > 0) {
                        memmove(c->down, c->down + k, c->down_len - (size_t) k);
                        c->down_len -= (size_t) k;
                } else if (k < 0 && errno != EAGAIN && errno != EINTR) {
                        conn_free(slot);
                        return;
                }
        }
        if (c->ux_eof && c->down_len == 0) {
                conn_free(slot); /* aegisd's answer is complete: the client sees the end */
                return;
        }
        if (c->tcp_eof && c->up_shut && c->up_len == 0 && c->ux < 0)
                conn_free(slot);
}

int bs_relay_main(uint16_t port, const char *socket_path, unsigned retry_secs, bool replay, char **argv) {
        Conn *conns[MAX_CONNS] = {};
        struct sigaction sa = { .sa_handler = forward_signal };
        int lfd, sfd = bs_sigchld_fd(), status = 0;
        sigset_t none;
        pid_t pid;

        lfd = listen_on(port);
        if (lfd < 0) {
                bs_log("relay: cannot listen on 127.0.0.1:%u: %s", port, strerror(-lfd));
                return BOOTSTRAP_EXIT_USAGE;
        }
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);

        pid = fork();
        if (pid < 0) {
                bs_log("relay: cannot fork: %s", strerror(errno));
                return BOOTSTRAP_EXIT_USAGE;
        }
        if (pid == 0) {
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                (void) signal(SIGPIPE, SIG_DFL);
                (void) signal(SIGTERM, SIG_DFL);
                (void) signal(SIGINT, SIG_DFL);
                (void) signal(SIGHUP, SIG_DFL);
                execvp(argv[0], argv);
                bs_log("relay: cannot execute %s: %s", argv[0], strerror(errno));
                _exit(errno == ENOENT ? 127 : 126);
        }
        relay_child = pid;
        if (!replay) {
                /* --egress runs as the container's PID 1 above the inner loop's bootstrap:
                 * the capability in its environment must not be readable from
                 * /proc/1/environ by the commands the loop runs. */
                bs_scrub_environment();
                (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        }
        if (pending_signal)
                (void) kill(pid, pending_signal);

        for (;;) {
                struct pollfd p[2 + 2 * MAX_CONNS];
                int idx[MAX_CONNS][2];
                uint64_t now = bs_now_ms(), next = UINT64_MAX;
                size_t np = 0;
                int i;

                for (i = 0; i < MAX_CONNS; i++) {
                        Conn *c = conns[i];

                        idx[i][0] = idx[i][1] = -1;
                        if (!c)
                                continue;
                        if (c->ux < 0 && c->retry_at && now >= c->retry_at) {
                                conn_try_connect(&conns[i], socket_path);
                                c = conns[i];
                                if (!c)
                                        continue;
                        }
                        if (c->ux < 0 && c->retry_at)
                                next = MIN(next, c->retry_at);
                        p[np] = (struct pollfd){ .fd = c->tcp, .events = 0 };
                        if (!c->tcp_eof && c->up_len < MAX_REPLAY + 65536)
                                p[np].events |= POLLIN;
                        if (c->down_len > 0)
                                p[np].events |= POLLOUT;
                        idx[i][0] = (int) np++;
                        if (c->ux >= 0 && !c->ux_eof) {
                                p[np] = (struct pollfd){ .fd = c->ux, .events = 0 };
                                if (c->up_sent < c->up_len)
                                        p[np].events |= POLLOUT;
                                if (!c->ux_eof && c->down_len < sizeof(c->down))
                                        p[np].events |= POLLIN;
                                idx[i][1] = (int) np++;
                        }
                }
                p[np++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
                p[np++] = (struct pollfd){ .fd = sfd, .events = POLLIN };

                if (poll(p, (nfds_t) np, next == UINT64_MAX ? -1 : (int) MIN(next - MIN(next, now), 1000u)) <
                            0 &&
                    errno != EINTR)
                        break;

                if (p[np - 1].revents && bs_reap(pid, &status))
                        break;
                if (p[np - 2].revents & POLLIN) {
                        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

                        if (fd >= 0) {
                                for (i = 0; i < MAX_CONNS && conns[i]; i++)
                                        ;
                                if (i == MAX_CONNS) {
                                        bs_log("relay: more than %d connections at once: refusing one",
                                               MAX_CONNS);
                                        close(fd);
                                } else {
                                        Conn *c = calloc(1, sizeof(Conn));

                                        if (!c)
                                                close(fd);
                                        else {
                                                *c = (Conn){ .tcp = fd,
                                                             .ux = -1,
                                                             .replayable = replay,
                                                             .backoff = 100,
                                                             .deadline = bs_now_ms() +
                                                                         (uint64_t) retry_secs * 1000u };
                                                conns[i] = c;
                                                conn_try_connect(&conns[i], socket_path);
                                        }
                                }
                        }
                }
                for (i = 0; i < MAX_CONNS; i++) {
                        short te = 0, ue = 0;

                        if (!conns[i] || idx[i][0] < 0)
                                continue;
                        te = p[idx[i][0]].revents;
                        if (idx[i][1] >= 0 && conns[i]->ux == p[idx[i][1]].fd)
                                ue = p[idx[i][1]].revents;
                        conn_step(&conns[i], te, ue, socket_path);
                }
        }
        for (int i = 0; i < MAX_CONNS; i++)
                conn_free(&conns[i]);
        close(lfd);
        return bs_exit_code(status);
}
