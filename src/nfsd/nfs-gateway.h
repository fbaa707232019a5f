/* nfs-gateway.h — the gateway's state independent of sockets: keys, the export registry,
 * the open volumes, mount records and counters; and the entry point that turns one RPC
 * record into one reply (nfs_rpc_process()), which is all the transport and the fuzzer
 * need to know. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfs-exports.h"
#include "nfs-handle.h"
#include "nfs-metrics.h"
#include "nfs-volume.h"
#include "volume-mount.h"

#define NFS_MAX_IO (1024 * 1024) /* rtmax/wtmax */
#define NFS_MAX_RECORD (NFS_MAX_IO + 64 * 1024) /* largest request (WRITE) with headers */
#define NFS_MAX_READDIR (256 * 1024) /* cap on READDIR count / READDIRPLUS maxcount */
#define NFS_MAX_MOUNTS 1024 /* DUMP records kept */
#define NFS_MAX_VOLUMES_OPEN 4096 /* default of --max-open-volumes */
#define NFS_MAX_ENTRIES_DEFAULT 1000000 /* default of --max-entries: names per volume */

typedef struct NfsMountRecord {
        char host[64];
        char path[2 * NFS_ID_MAX + 2];
} NfsMountRecord;

typedef struct NfsGateway {
        uint8_t key[NFS_HANDLE_KEY_SIZE];
        uint8_t mount_key[VOLUME_NFS_KEY_SIZE]; /* export paths' tokens (volume-mount.h) */
        bool require_reserved_port; /* MOUNT and NFS calls only from source ports below 1024 */
        uint64_t max_entries; /* names per volume (files, directories, links) */
        uint8_t write_verf[8];
        char *storage_root;
        NfsExports *exports;
        NfsVol **vols;
        size_t n_vols, max_vols; /* open volumes; beyond max_vols one is closed first */
        NfsMountRecord *mounts;
        size_t n_mounts;
        uint16_t port; /* answered to portmapper GETPORT */
        uid_t euid; /* who the gateway runs as: what owns the objects it creates */
        gid_t egid;
        NfsClients default_clients; /* for volumes whose registry entry names none ("*" unless --clients) */
        NfsMetrics metrics;
        bool unsynced_closed; /* a volume was closed with UNSTABLE writes not yet synced */
} NfsGateway;

typedef struct NfsPeer {
        char host[64]; /* numeric address of the client */
        uint16_t port; /* the client's source port (0: not an IP peer) */
        uint16_t local_port;
} NfsPeer;

/* A source port only root (or CAP_NET_BIND_SERVICE) can bind: the kernel's NFS client, or a
 * privileged process; an unprivileged local user has none. */
static inline bool nfs_peer_reserved(const NfsPeer *p) {
        return p->port > 0 && p->port < 1024;
}

int nfs_gateway_new(const char *storage_root, NfsExports *exports, const uint8_t key[NFS_HANDLE_KEY_SIZE],
                    const uint8_t write_verf[8], NfsGateway **ret);
NfsGateway *nfs_gateway_free(NfsGateway *g);
/* syncfs() every open volume (clean shutdown, before the verifier is kept): 0 when all the
 * data UNSTABLE writes left in memory is now on stable storage; an error when a sync failed
 * or a volume holding such writes was closed earlier without one (the open-volume limit, or
 * no longer exported): then the verifier must change, so clients resend. */
int nfs_gateway_sync(NfsGateway *g);
/* No client left: close the fds the volumes keep open for speed. */
void nfs_gateway_idle(NfsGateway *g);

/* The active volume a handle key names, opened on first use; -ESTALE when it is no longer
 * exported (deleted or deactivated) or its directory is gone. Opening one may close another
 * (the open-volume limit) and a lookup may close the one it finds (no longer exported): a
 * request that keeps a volume while looking up another pins it first. */
int nfs_gateway_volume(NfsGateway *g, uint64_t key, NfsVol **ret);
/* A pinned volume stays allocated (its fd cache and the objects borrowed from it valid) until
 * unpinned, even if it is closed meanwhile; nfs_rpc_process() unpins at the end of the call. */
void nfs_gateway_pin(NfsVol *v);
void nfs_gateway_unpin(NfsVol *v);
/* Whether the client host may mount v and use its handles (the volume's clients, else the
 * gateway's default). */
bool nfs_gateway_client_allowed(const NfsGateway *g, const NfsVol *v, const char *host);
/* "/tenant/volume/token" → volume for the client host. The token (volume_nfs_export_path())
 * is checked first, in constant time: a missing or wrong one is -EACCES whether the volume
 * exists or not. Then -ENOENT unknown, -EACCES inactive or not allowed for that host,
 * -EINVAL malformed. */
int nfs_gateway_mount(NfsGateway *g, const char *host, const char *path, NfsVol **ret);

/* One RPC record in, one reply out. *ret is malloc'd, begins with 4 bytes reserved for the
 * record mark (filled in), *ret_size counts them. Returns 0 with a reply, 0 with
 * *ret == NULL when there is nothing to answer, or -EBADMSG when the connection should be
 * closed (not an RPC call at all). */
int nfs_rpc_process(NfsGateway *g, const NfsPeer *peer, const uint8_t *req, size_t size, uint8_t **ret,
                    size_t *ret_size);
