/* mount3-proc.c — MOUNT v3 (RFC 1813 appendix I): NULL, MNT, DUMP, UMNT, UMNTALL, EXPORT.
 *
 * MNT takes /<tenant>/<volume>/<token> (volume-mount.h) and answers only for a volume
 * registered and active in the registry: a missing or wrong token gets MNT3ERR_ACCES before
 * the volume is looked up, unknown paths MNT3ERR_NOENT, registered-but-inactive ones and
 * volumes the client's host is not allowed to use (nfs-clients.h) MNT3ERR_ACCES.
 * EXPORT lists nothing, to anyone: a volume is mounted by the path its engine volume names,
 * never discovered. DUMP lists the caller's own host's mounts, without their tokens. Lists
 * are bounded (NFS_MAX_MOUNTS records, the reply buffer) and encoded as loops. */
#include <errno.h>
#include <string.h>

#include "mount3.h"
#include "nfs-rpc.h"
#include "util.h"

#define LIST_REPLY_MAX (256 * 1024)

typedef struct MntRes {
        mountstat3 status;
        int flavors[2];
        mountres3 res;
} MntRes;

static uint32_t mnt_null(NfsCall *c, void *a, void *r) {
        return MNT3_OK;
}

static bool_t xdr_mnt_res(XDR *x, void *r) {
        MntRes *m = r;
        return xdr_mountres3(x, &m->res);
}

static uint32_t mnt_mnt(NfsCall *c, void *a, void *r) {
        dirpath *path = a;
        MntRes *m = r;
        NfsObj root = NFS_OBJ_NULL;
        NfsVol *v;
        int k;

        k = nfs_gateway_mount(c->g, c->peer->host, *path, &v);
        if (k == 0)
                k = nfs_vol_root(v, &root);
        switch (k) {
        case 0:
                break;
        case -EACCES:
                c->g->metrics.access_denials++;
                m->res.fhs_status = MNT3ERR_ACCES;
                return m->res.fhs_status;
        case -EINVAL:
        case -ENOENT:
                m->res.fhs_status = MNT3ERR_NOENT;
                return m->res.fhs_status;
        default:
                m->res.fhs_status = MNT3ERR_SERVERFAULT;
                return m->res.fhs_status;
        }
        NfsHandle h;
        nfs_vol_handle(v, &root, &h);
        nfs_handle_encode(c->g->key, &h, c->fh);
        nfs_obj_done(&root);
        m->flavors[0] = 1; /* AUTH_UNIX */
        m->flavors[1] = 0; /* AUTH_NONE */
        m->res.fhs_status = MNT3_OK;
        m->res.mountres3_u.mountinfo.fhandle.fhandle3_len = NFS_HANDLE_SIZE;
        m->res.mountres3_u.mountinfo.fhandle.fhandle3_val = (char *) c->fh;
        m->res.mountres3_u.mountinfo.auth_flavors.auth_flavors_len = 2;
        m->res.mountres3_u.mountinfo.auth_flavors.auth_flavors_val = m->flavors;

        /* Remember it for DUMP (bounded; the oldest record goes first), without the token. */
        NfsGateway *g = c->g;
        char shown[sizeof(g->mounts[0].path)];
        snprintf(shown, sizeof(shown), "/%s/%s", v->info.tenant, v->info.volume);
        for (size_t i = 0; i < g->n_mounts; i++)
                if (streq(g->mounts[i].host, c->peer->host) && streq(g->mounts[i].path, shown))
                        return MNT3_OK;
        if (!g->mounts) {
                g->mounts = calloc(NFS_MAX_MOUNTS, sizeof(NfsMountRecord));
                if (!g->mounts)
                        return MNT3_OK;
        }
        if (g->n_mounts == NFS_MAX_MOUNTS) {
                memmove(g->mounts, g->mounts + 1, (NFS_MAX_MOUNTS - 1) * sizeof(NfsMountRecord));
                g->n_mounts--;
        }
        snprintf(g->mounts[g->n_mounts].host, sizeof(g->mounts[0].host), "%s", c->peer->host);
        snprintf(g->mounts[g->n_mounts].path, sizeof(g->mounts[0].path), "%s", shown);
        g->n_mounts++;
        return MNT3_OK;
}

static void forget_mounts(NfsGateway *g, const char *host, const char *path) {
        size_t j = 0;

        for (size_t i = 0; i < g->n_mounts; i++)
                if (!(streq(g->mounts[i].host, host) && (!path || streq(g->mounts[i].path, path))))
                        g->mounts[j++] = g->mounts[i];
        g->n_mounts = j;
}

static uint32_t mnt_umnt(NfsCall *c, void *a, void *r) {
        const char *p = *(dirpath *) a;
        char shown[sizeof(c->g->mounts[0].path)];
        size_t n = 0;

        /* Recorded without the token: drop it (the third component) from the path too. */
        for (size_t slashes = 0; p[n] && n + 1 < sizeof(shown); n++)
                if (p[n] == '/' && ++slashes == 3)
                        break;
        memcpy(shown, p, n);
        shown[n] = '\0';
        forget_mounts(c->g, c->peer->host, shown);
        return MNT3_OK;
}

static uint32_t mnt_umntall(NfsCall *c, void *a, void *r) {
        forget_mounts(c->g, c->peer->host, NULL);
        return MNT3_OK;
}

typedef struct ListRes {
        NfsGateway *g;
        const char *host; /* DUMP: whose records */
        bool exports;
} ListRes;

static uint32_t mnt_dump(NfsCall *c, void *a, void *r) {
        ((ListRes *) r)->g = c->g;
        ((ListRes *) r)->host = c->peer->host;
        return MNT3_OK;
}

static uint32_t mnt_export(NfsCall *c, void *a, void *r) {
        ((ListRes *) r)->g = c->g;
        ((ListRes *) r)->exports = true;
        return MNT3_OK;
}

/* mountlist / exports as loops: value-follows TRUE, fields, ..., FALSE. Entries that would
 * overflow the reply are left out. */
static bool_t xdr_list_res(XDR *x, void *r) {
        ListRes *l = r;
        bool_t t = TRUE, f = FALSE;
        const size_t limit = LIST_REPLY_MAX - 64;

        if (!l->exports) {
                for (size_t i = 0; i < l->g->n_mounts; i++) {
                        char *h = l->g->mounts[i].host, *p = l->g->mounts[i].path;
                        if (!streq(h, l->host))
                                continue;
                        if (xdr_getpos(x) + 8 + strlen(h) + strlen(p) + 16 > limit)
                                break;
                        if (!xdr_bool(x, &t) || !xdr_string(x, &h, MNTNAMLEN) ||
                            !xdr_string(x, &p, MNTPATHLEN))
                                return FALSE;
                }
                return xdr_bool(x, &f);
        }
        /* EXPORT: the empty list (see the head comment). */
        return xdr_bool(x, &f);
}

static size_t list_reply_max(const void *a) {
        return LIST_REPLY_MAX;
}

const NfsProc mount3_procs[6] = {
        [MOUNTPROC3_NULL] = { .handler = mnt_null },
        [MOUNTPROC3_MNT] = { .xdr_args = (xdrproc_t) xdr_dirpath,
                             .args_size = sizeof(dirpath),
                             .xdr_res = (xdrproc_t) xdr_mnt_res,
                             .res_size = sizeof(MntRes),
                             .handler = mnt_mnt },
        [MOUNTPROC3_DUMP] = { .xdr_res = (xdrproc_t) xdr_list_res,
                              .res_size = sizeof(ListRes),
                              .handler = mnt_dump,
                              .reply_max = list_reply_max },
        [MOUNTPROC3_UMNT] = { .xdr_args = (xdrproc_t) xdr_dirpath,
                              .args_size = sizeof(dirpath),
                              .handler = mnt_umnt },
        [MOUNTPROC3_UMNTALL] = { .handler = mnt_umntall },
        [MOUNTPROC3_EXPORT] = { .xdr_res = (xdrproc_t) xdr_list_res,
                                .res_size = sizeof(ListRes),
                                .handler = mnt_export,
                                .reply_max = list_reply_max },
};
