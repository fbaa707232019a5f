/* nfs-server.h — the TCP transport: one listening socket, many non-blocking connections on
 * one sd-event loop (no thread per connection), RPC record marking (RFC 5531 §11) with
 * fragments, pipelined requests, and limits on everything a client controls: record size,
 * connections in all and per client, idle time, and queued reply bytes per connection
 * (reading pauses until they drain).
 *
 * A client is a source address; its connections from reserved ports (below 1024) and from
 * others count separately, so an unprivileged user of a host cannot use up the connections
 * that host's kernel NFS client needs. A connection over a limit is closed at once (and
 * counted); one that sends nothing for the idle timeout is closed (the kernel client
 * reconnects when it needs to). */
#pragma once

#include <systemd/sd-event.h>

#include "nfs-gateway.h"

#define NFS_MAX_CONNECTIONS_DEFAULT 512
#define NFS_MAX_CONNECTIONS_PER_CLIENT_DEFAULT 64
#define NFS_IDLE_TIMEOUT_DEFAULT 300 /* seconds */
#define NFS_MAX_QUEUED_REPLY_BYTES (8 * 1024 * 1024)
#define NFS_MAX_REQUESTS_PER_WAKEUP 32

typedef struct NfsServer NfsServer;

typedef struct NfsServerLimits {
        unsigned max_connections; /* 0: NFS_MAX_CONNECTIONS_DEFAULT */
        unsigned max_per_client; /* 0: NFS_MAX_CONNECTIONS_PER_CLIENT_DEFAULT */
        uint64_t idle_timeout_usec; /* 0: NFS_IDLE_TIMEOUT_DEFAULT s */
} NfsServerLimits;

/* Takes ownership of listen_fd. limits may be NULL (the defaults). */
int nfs_server_new(sd_event *e, NfsGateway *g, int listen_fd, const NfsServerLimits *limits,
                   NfsServer **ret);
NfsServer *nfs_server_free(NfsServer *s);
unsigned nfs_server_connections(const NfsServer *s);
/* CLOCK_MONOTONIC µs of the last request or connection (for idle exit). */
uint64_t nfs_server_last_activity(const NfsServer *s);
