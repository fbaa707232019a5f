/* nfs-rpc.h — internal to the gateway: the dispatch table format shared by the NFSv3 and
 * MOUNT v3 procedure files, and the per-call context handlers receive. */
#pragma once

#include <rpc/rpc.h>

#include "nfs-gateway.h"

typedef struct NfsCall {
        NfsGateway *g;
        const NfsPeer *peer;
        uint32_t prog, proc;
        uint32_t auth_uid, auth_gid; /* as claimed (AUTH_UNIX); never trusted for access */
        uint8_t fh[NFS_HANDLE_SIZE]; /* the one handle a result may carry */
        void *autofree[4]; /* buffers the result points into, freed after encoding */
        unsigned n_autofree;
        NfsVol *pinned[2]; /* volumes the call's handles resolved to (RENAME, LINK: two) */
        unsigned n_pinned;
        uint8_t *reply_at; /* where the result's encoding will begin in the reply buffer */
        size_t reply_room; /* bytes from there to the end of the buffer */
} NfsCall;

/* Fills res (zeroed beforehand); returns the status code placed in it (for metrics). */
typedef uint32_t (*NfsHandler)(NfsCall *c, void *args, void *res);

typedef struct NfsProc {
        xdrproc_t xdr_args;
        size_t args_size;
        xdrproc_t xdr_res;
        size_t res_size;
        NfsHandler handler;
        /* Upper bound of the encoded result for these args; NULL = 16 KiB. */
        size_t (*reply_max)(const void *args);
} NfsProc;

extern const NfsProc nfs3_procs[22];
extern const NfsProc mount3_procs[6];

/* A buffer owned by the call (freed after the reply is encoded); NULL on ENOMEM. */
void *nfs_call_alloc(NfsCall *c, size_t size);
/* size bytes of the reply buffer, offset bytes into where the result's encoding begins
 * (once: NULL afterwards, or when they do not fit), so that a handler can put bulk data
 * (READ) where its encoder will find it in place (nfs_xdr_opaque_in_place()) instead of
 * copying it there. */
void *nfs_call_reply_space(NfsCall *c, size_t offset, size_t size);
/* Encodes variable-length opaque data (≤ max bytes) like xdr_bytes(), without a copy when
 * *data already sits at the current position of an XDR_ENCODE memory stream. */
bool_t nfs_xdr_opaque_in_place(XDR *x, char *data, u_int len, u_int max);

/* Keeps v allocated until the call ends, whatever other lookups of the call close; -ENOBUFS
 * when the call already holds as many volumes as a procedure can name. */
int nfs_call_pin(NfsCall *c, NfsVol *v);
