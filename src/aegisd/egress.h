/* egress.h — the egress proxy of one execution whose network_policy has an allow- or
 * deny-list (issue 21; the mechanism is in aegisd(8), EGRESS PROXY).
 *
 * The container of such an execution has no network (NetworkMode none). Its one way out is
 * this proxy's unix socket, bind-mounted into it; aegis-bootstrap --egress forwards a
 * loopback port inside the container to the socket and HTTP_PROXY/HTTPS_PROXY point there.
 * The proxy reads the first request of each connection (egress-parse.h), asks `allowed`
 * about its host, resolves the name itself, connects, and from then on copies bytes.
 *
 * What must stay true:
 * - Nothing reaches a host `allowed` did not admit: one request per connection, a CONNECT
 *   tunnel's TLS ClientHello must name the host the CONNECT asked for.
 * - The event loop never blocks: name resolution runs on a thread of its own per lookup,
 *   sockets are non-blocking, every buffer is bounded, a connection that idles past its
 *   deadline is closed, and at most EGRESS_MAX_CONNECTIONS are open at once. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "metrics.h"

#define EGRESS_MAX_CONNECTIONS 64
#define EGRESS_SOCKET "egress.sock"

typedef struct EgressProxy EgressProxy;

typedef struct EgressContext {
        sd_event *event;
        const char *socket_path; /* made (a stale one replaced); its directory must exist */
        bool (*allowed)(const char *host, void *userdata);
        /* Whether an admitted host may be reached on a loopback or link-local address
         * (sockaddr_is_internal()); never otherwise, whatever the name resolves to. */
        bool allow_internal;
        void (*log)(void *userdata, int level, const char *message); /* refusals, failures */
        Metric *connections; /* counter with one label, result: allowed|refused|failed; or NULL */
        void *userdata;
} EgressContext;

int egress_proxy_new(const EgressContext *c, EgressProxy **ret);
/* Closes every connection and removes the socket. Takes NULL. */
EgressProxy *egress_proxy_free(EgressProxy *p);
