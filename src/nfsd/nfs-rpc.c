/* nfs-rpc.c — ONC RPC (RFC 5531) call decoding, program/procedure dispatch through the
 * tables of nfs3-proc.c and mount3-proc.c, portmapper GETPORT, and reply encoding.
 *
 * Every length read from the wire is checked against what is left of the record before
 * anything is allocated (the XDR definitions bound every variable-length field), so a
 * malformed call gets GARBAGE_ARGS / an auth error, or the connection is closed when the
 * record is not an RPC call at all. */
#include <errno.h>
#include <string.h>

#include "nfs-rpc.h"
#include "util.h"

#define RPC_CALL 0
#define RPC_REPLY 1
#define MSG_ACCEPTED 0
#define MSG_DENIED 1
#define ACCEPT_SUCCESS 0
#define ACCEPT_PROG_UNAVAIL 1
#define ACCEPT_PROG_MISMATCH 2
#define ACCEPT_PROC_UNAVAIL 3
#define ACCEPT_GARBAGE_ARGS 4
#define ACCEPT_SYSTEM_ERR 5
#define REJECT_RPC_MISMATCH 0
#define REJECT_AUTH_ERROR 1
#define AUTH_STAT_BADCRED 1
#define AUTH_STAT_TOOWEAK 5
#define FLAVOR_NONE 0
#define FLAVOR_UNIX 1
#define MAX_AUTH_BODY 400

#define PROG_PORTMAP 100000
#define PROG_NFS 100003
#define PROG_MOUNT 100005
#define DEFAULT_REPLY_MAX (16 * 1024)

void *nfs_call_alloc(NfsCall *c, size_t size) {
        void *p;

        if (c->n_autofree >= ELEMENTSOF(c->autofree))
                return NULL;
        p = malloc(size ? size : 1);
        if (p)
                c->autofree[c->n_autofree++] = p;
        return p;
}

int nfs_call_pin(NfsCall *c, NfsVol *v) {
        for (unsigned i = 0; i < c->n_pinned; i++)
                if (c->pinned[i] == v)
                        return 0;
        if (c->n_pinned >= ELEMENTSOF(c->pinned))
                return -ENOBUFS;
        nfs_gateway_pin(v);
        c->pinned[c->n_pinned++] = v;
        return 0;
}

void *nfs_call_reply_space(NfsCall *c, size_t offset, size_t size) {
        uint8_t *p = c->reply_at;

        c->reply_at = NULL;
        if (!p || offset > c->reply_room || size > c->reply_room - offset)
                return NULL;
        return p + offset;
}

bool_t nfs_xdr_opaque_in_place(XDR *x, char *data, u_int len, u_int max) {
        u_int padded = (len + 3) & ~3u;
        char *p;

        if (x->x_op != XDR_ENCODE || len > max || padded < len || !xdr_u_int(x, &len))
                return FALSE;
        /* xdr_inline() on a memory stream: the current position, advanced past the data. */
        p = padded > 0 ? (char *) xdr_inline(x, (int) padded) : NULL;
        if (!p)
                return padded == 0 || xdr_opaque(x, data, len);
        if (p != data)
                memmove(p, data, len);
        memset(p + len, 0, padded - len);
        return TRUE;
}

typedef struct Reply {
        uint8_t *buf;
        size_t cap;
        XDR x;
} Reply;

static int reply_begin(Reply *r, size_t payload_max, uint32_t xid) {
        uint32_t v[3] = { xid, RPC_REPLY, 0 };

        r->cap = payload_max + 64;
        r->buf = malloc(4 + r->cap);
        if (!r->buf)
                return -ENOMEM;
        xdrmem_create(&r->x, (char *) r->buf + 4, (unsigned) r->cap, XDR_ENCODE);
        if (!xdr_u_int32_t(&r->x, &v[0]) || !xdr_u_int32_t(&r->x, &v[1]))
                return -ENOBUFS;
        return 0;
}

static int reply_accepted(Reply *r, uint32_t stat) {
        uint32_t v[4] = { MSG_ACCEPTED, FLAVOR_NONE, 0, stat };

        for (unsigned i = 0; i < 4; i++)
                if (!xdr_u_int32_t(&r->x, &v[i]))
                        return -ENOBUFS;
        return 0;
}

static int reply_finish(Reply *r, uint8_t **ret, size_t *ret_size) {
        uint32_t len = xdr_getpos(&r->x);
        uint32_t mark = 0x80000000u | len;

        r->buf[0] = (uint8_t) (mark >> 24);
        r->buf[1] = (uint8_t) (mark >> 16);
        r->buf[2] = (uint8_t) (mark >> 8);
        r->buf[3] = (uint8_t) mark;
        xdr_destroy(&r->x);
        *ret = r->buf;
        *ret_size = 4 + (size_t) len;
        r->buf = NULL;
        return 0;
}

/* A reply with only a status (errors): accepted with stat, plus up to two extra words. */
static int reply_simple(uint32_t xid, bool denied, uint32_t stat, const uint32_t *extra, unsigned n_extra,
                        uint8_t **ret, size_t *ret_size) {
        Reply r = { 0 };
        int k = reply_begin(&r, 64, xid);

        if (k == 0) {
                if (denied) {
                        uint32_t v[2] = { MSG_DENIED, stat };
                        if (!xdr_u_int32_t(&r.x, &v[0]) || !xdr_u_int32_t(&r.x, &v[1]))
                                k = -ENOBUFS;
                } else
                        k = reply_accepted(&r, stat);
        }
        for (unsigned i = 0; k == 0 && i < n_extra; i++) {
                uint32_t e = extra[i];
                if (!xdr_u_int32_t(&r.x, &e))
                        k = -ENOBUFS;
        }
        if (k < 0) {
                free(r.buf);
                return k;
        }
        return reply_finish(&r, ret, ret_size);
}

static bool skip_opaque(XDR *x, uint32_t *flavor, uint32_t *len, uint8_t body[MAX_AUTH_BODY]) {
        if (!xdr_u_int32_t(x, flavor) || !xdr_u_int32_t(x, len) || *len > MAX_AUTH_BODY)
                return false;
        return xdr_opaque(x, (char *) body, *len);
}

/* AUTH_UNIX body: stamp, machinename<255>, uid, gid, gids<16>, exactly filling len. */
static bool parse_auth_unix(const uint8_t *body, uint32_t len, uint32_t *uid, uint32_t *gid) {
        XDR x;
        uint32_t stamp, n, g;
        char name[256];
        bool ok = false;

        xdrmem_create(&x, (char *) body, len, XDR_DECODE);
        if (!xdr_u_int32_t(&x, &stamp) || !xdr_u_int32_t(&x, &n) || n > 255 || !xdr_opaque(&x, name, n) ||
            !xdr_u_int32_t(&x, uid) || !xdr_u_int32_t(&x, gid) || !xdr_u_int32_t(&x, &n) || n > 16)
                goto out;
        for (uint32_t i = 0; i < n; i++)
                if (!xdr_u_int32_t(&x, &g))
                        goto out;
        ok = xdr_getpos(&x) == len;
out:
        xdr_destroy(&x);
        return ok;
}

static int process_portmap(NfsGateway *g, uint32_t xid, uint32_t vers, uint32_t proc, XDR *in, uint8_t **ret,
                           size_t *ret_size) {
        uint32_t a[4], port = 0;

        if (vers != 2) {
                uint32_t range[2] = { 2, 2 };
                return reply_simple(xid, false, ACCEPT_PROG_MISMATCH, range, 2, ret, ret_size);
        }
        if (proc == 0)
                return reply_simple(xid, false, ACCEPT_SUCCESS, NULL, 0, ret, ret_size);
        if (proc != 3) /* only GETPORT: we are not a general portmapper */
                return reply_simple(xid, false, ACCEPT_PROC_UNAVAIL, NULL, 0, ret, ret_size);
        for (unsigned i = 0; i < 4; i++)
                if (!xdr_u_int32_t(in, &a[i]))
                        return reply_simple(xid, false, ACCEPT_GARBAGE_ARGS, NULL, 0, ret, ret_size);
        if ((a[0] == PROG_NFS || a[0] == PROG_MOUNT) && a[1] == 3 && a[2] == IPPROTO_TCP)
                port = g->port;
        return reply_simple(xid, false, ACCEPT_SUCCESS, &port, 1, ret, ret_size);
}

int nfs_rpc_process(NfsGateway *g, const NfsPeer *peer, const uint8_t *req, size_t size, uint8_t **ret,
                    size_t *ret_size) {
        uint32_t xid, mtype, rpcvers = 0, prog, vers, proc, cflavor, clen, vflavor, vlen;
        uint8_t cbody[MAX_AUTH_BODY], vbody[MAX_AUTH_BODY];
        NfsCall call = { .g = g, .peer = peer };
        const NfsProc *tab, *p;
        size_t n_tab;
        Reply r = { 0 };
        void *args = NULL, *res = NULL;
        uint32_t status;
        XDR in;
        int k;

        *ret = NULL;
        *ret_size = 0;
        if (size < 8 || size > NFS_MAX_RECORD)
                goto garbage_close;
        xdrmem_create(&in, (char *) req, (unsigned) size, XDR_DECODE);
        if (!xdr_u_int32_t(&in, &xid) || !xdr_u_int32_t(&in, &mtype) || mtype != RPC_CALL)
                goto garbage_close;
        if (!xdr_u_int32_t(&in, &rpcvers) || !xdr_u_int32_t(&in, &prog) || !xdr_u_int32_t(&in, &vers) ||
            !xdr_u_int32_t(&in, &proc) || !skip_opaque(&in, &cflavor, &clen, cbody) ||
            !skip_opaque(&in, &vflavor, &vlen, vbody)) {
                g->metrics.rpc_garbage++;
                if (rpcvers != 2)
                        goto garbage_close;
                uint32_t st = AUTH_STAT_BADCRED;
                return reply_simple(xid, true, REJECT_AUTH_ERROR, &st, 1, ret, ret_size);
        }
        if (rpcvers != 2) {
                uint32_t range[2] = { 2, 2 };
                g->metrics.rpc_rejected++;
                return reply_simple(xid, true, REJECT_RPC_MISMATCH, range, 2, ret, ret_size);
        }
        if (cflavor == FLAVOR_UNIX) {
                if (!parse_auth_unix(cbody, clen, &call.auth_uid, &call.auth_gid)) {
                        uint32_t st = AUTH_STAT_BADCRED;
                        g->metrics.rpc_rejected++;
                        return reply_simple(xid, true, REJECT_AUTH_ERROR, &st, 1, ret, ret_size);
                }
        } else if (cflavor != FLAVOR_NONE) {
                uint32_t st = AUTH_STAT_TOOWEAK;
                g->metrics.rpc_rejected++;
                return reply_simple(xid, true, REJECT_AUTH_ERROR, &st, 1, ret, ret_size);
        }

        switch (prog) {
        case PROG_NFS:
                tab = nfs3_procs, n_tab = ELEMENTSOF(nfs3_procs);
                break;
        case PROG_MOUNT:
                tab = mount3_procs, n_tab = ELEMENTSOF(mount3_procs);
                break;
        case PROG_PORTMAP:
                k = process_portmap(g, xid, vers, proc, &in, ret, ret_size);
                xdr_destroy(&in);
                return k;
        default:
                g->metrics.rpc_rejected++;
                xdr_destroy(&in);
                return reply_simple(xid, false, ACCEPT_PROG_UNAVAIL, NULL, 0, ret, ret_size);
        }
        if (vers != 3) {
                uint32_t range[2] = { 3, 3 };
                g->metrics.rpc_rejected++;
                xdr_destroy(&in);
                return reply_simple(xid, false, ACCEPT_PROG_MISMATCH, range, 2, ret, ret_size);
        }
        if (proc >= n_tab || !tab[proc].handler) {
                g->metrics.rpc_rejected++;
                xdr_destroy(&in);
                return reply_simple(xid, false, ACCEPT_PROC_UNAVAIL, NULL, 0, ret, ret_size);
        }
        /* Only the kernel's NFS client (root, a reserved source port) mounts volumes and
         * uses their handles: an unprivileged local user gets nothing, whatever it claims in
         * AUTH_UNIX and whatever handle it holds. NULL stays open (a liveness probe). */
        if (proc != 0 && g->require_reserved_port && !nfs_peer_reserved(peer)) {
                uint32_t st = AUTH_STAT_TOOWEAK;
                g->metrics.rpc_rejected++;
                g->metrics.access_denials++;
                xdr_destroy(&in);
                return reply_simple(xid, true, REJECT_AUTH_ERROR, &st, 1, ret, ret_size);
        }
        p = &tab[proc];
        call.prog = prog;
        call.proc = proc;
        args = calloc(1, p->args_size ? p->args_size : 1);
        res = calloc(1, p->res_size ? p->res_size : 1);
        if (!args || !res) {
                k = -ENOMEM;
                goto finish;
        }
        if (p->xdr_args && !p->xdr_args(&in, args)) {
                g->metrics.rpc_garbage++;
                k = reply_simple(xid, false, ACCEPT_GARBAGE_ARGS, NULL, 0, ret, ret_size);
                goto finish;
        }
        /* The reply buffer exists before the handler runs, so that bulk data can be read
         * straight into its final place (nfs_call_reply_space()). */
        k = reply_begin(&r, p->reply_max ? p->reply_max(args) : DEFAULT_REPLY_MAX, xid);
        if (k == 0)
                k = reply_accepted(&r, ACCEPT_SUCCESS);
        if (k == 0) {
                call.reply_at = r.buf + 4 + xdr_getpos(&r.x);
                call.reply_room = r.cap - xdr_getpos(&r.x);
                status = p->handler(&call, args, res);
                nfs_metrics_count(&g->metrics, prog, proc, status);
                if (p->xdr_res && !p->xdr_res(&r.x, res))
                        k = -ENOBUFS;
        }
        if (k < 0) {
                free(r.buf);
                r.buf = NULL;
                k = reply_simple(xid, false, ACCEPT_SYSTEM_ERR, NULL, 0, ret, ret_size);
                goto finish;
        }
        k = reply_finish(&r, ret, ret_size);
finish:
        if (args && p->xdr_args)
                xdr_free(p->xdr_args, args);
        free(args);
        free(res);
        for (unsigned i = 0; i < call.n_autofree; i++)
                free(call.autofree[i]);
        for (unsigned i = 0; i < call.n_pinned; i++)
                nfs_gateway_unpin(call.pinned[i]);
        xdr_destroy(&in);
        return k;

garbage_close:
        g->metrics.rpc_garbage++;
        return -EBADMSG;
}
