/* nfs-server.h — the TCP transport: one listening socket, many non-blocking connections on
 * one sd-event loop (no thread per connection), RPC record marking (RFC 5531 §11) with
 * fragments, pipelined requests, and limits on everything a client controls: record size,
 * connections, and queued reply bytes per connection (reading pauses until they drain). */
#pragma once

#include <systemd/sd-event.h>

#include "nfs-gateway.h"

#define NFS_MAX_CONNECTIONS_DEFAULT 512
#define NFS_MAX_QUEUED_REPLY_BYTES (8 * 1024 * 1024)
#define NFS_MAX_REQUESTS_PER_WAKEUP 32

typedef struct NfsServer NfsServer;

/* Takes ownership of listen_fd. */
int nfs_server_new(sd_event *e, NfsGateway *g, int listen_fd, unsigned max_connections, NfsServer **ret);
NfsServer *nfs_server_free(NfsServer *s);
unsigned nfs_server_connections(const NfsServer *s);
/* CLOCK_MONOTONIC µs of the last request or connection (for idle exit). */
uint64_t nfs_server_last_activity(const NfsServer *s);
