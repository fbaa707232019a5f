/* nfs3-proc.h — internal to the gateway: helpers the NFSv3 procedure files share, and the
 * READDIR/READDIRPLUS table entries (nfs3-readdir.c). */
#pragma once

#include "nfs-rpc.h"
#include "nfs3.h"

nfsstat3 nfs3_status_from_errno(int r);
/* Handle → volume + object: BADHANDLE when it does not verify, STALE when gone, ACCES
 * when the client's host may not use that volume. */
nfsstat3 nfs3_get(NfsCall *c, const nfs_fh3 *fh, NfsOpen mode, NfsVol **ret_vol, NfsObj *ret);
nfsstat3 nfs3_check_name(NfsCall *c, const char *name);
void nfs3_fattr(const NfsVol *v, const NfsObj *o, fattr3 *a);
void nfs3_post_attr(const NfsVol *v, const NfsObj *o, post_op_attr *p);
void nfs3_set_fh(NfsCall *c, const NfsVol *v, const NfsObj *o, nfs_fh3 *fh);

uint32_t nfs3_proc_readdir(NfsCall *c, void *args, void *res);
uint32_t nfs3_proc_readdirplus(NfsCall *c, void *args, void *res);
bool_t nfs3_xdr_readdir_res(XDR *x, void *res);
size_t nfs3_readdir_reply_max(const void *args);
size_t nfs3_readdirplus_reply_max(const void *args);

typedef struct Nfs3DirEntry {
        uint64_t fileid;
        uint64_t cookie;
        const char *name;
        bool has_attr, has_fh;
        fattr3 attr;
        uint8_t fh[NFS_HANDLE_SIZE];
} Nfs3DirEntry;

typedef struct Nfs3ReaddirRes {
        nfsstat3 status;
        bool plus;
        post_op_attr dir_attributes;
        uint8_t verf[NFS3_COOKIEVERFSIZE];
        Nfs3DirEntry *entries;
        size_t n_entries;
        bool eof;
} Nfs3ReaddirRes;

#define NFS3_READDIR_PROC                                                                        \
        {                                                                                        \
                .xdr_args = (xdrproc_t) xdr_READDIR3args, .args_size = sizeof(READDIR3args),     \
                .xdr_res = (xdrproc_t) nfs3_xdr_readdir_res, .res_size = sizeof(Nfs3ReaddirRes), \
                .handler = nfs3_proc_readdir, .reply_max = nfs3_readdir_reply_max,               \
        }
#define NFS3_READDIRPLUS_PROC                                                                        \
        {                                                                                            \
                .xdr_args = (xdrproc_t) xdr_READDIRPLUS3args, .args_size = sizeof(READDIRPLUS3args), \
                .xdr_res = (xdrproc_t) nfs3_xdr_readdir_res, .res_size = sizeof(Nfs3ReaddirRes),     \
                .handler = nfs3_proc_readdirplus, .reply_max = nfs3_readdirplus_reply_max,           \
        }
