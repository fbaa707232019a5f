/* nfs3-readdir.c — READDIR and READDIRPLUS (RFC 1813 §3.3.16–17).
 *
 * Cookies are the file system's own directory offsets (getdents64 d_off), so a listing
 * resumes exactly where it stopped even while the directory changes; the cookie verifier
 * is keyed to the directory (nfs_vol_cookieverf()), and a cookie presented with another
 * directory's verifier gets BAD_COOKIE. The reply is bounded by the client's count/maxcount,
 * itself capped at NFS_MAX_READDIR, and encoded as a loop (no recursion over the list). */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

#include "nfs3-proc.h"
#include "util.h"

#define ATTR_SIZE 88 /* post_op_attr with fattr3 */
#define REPLY_OVERHEAD (4 + ATTR_SIZE + 8 + 8) /* status, dir attrs, verifier, end + eof */

struct linux_dirent64 {
        uint64_t d_ino;
        int64_t d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
};

static size_t xdr_len(size_t n) {
        return (n + 3) & ~(size_t) 3;
}

static size_t entry_size(size_t namelen, bool plus) {
        return 4 + 8 + 4 + xdr_len(namelen) + 8 + (plus ? ATTR_SIZE + 4 + 4 + NFS_HANDLE_SIZE : 0);
}

size_t nfs3_readdir_reply_max(const void *a) {
        const READDIR3args *args = a;
        return MIN((size_t) args->count, (size_t) NFS_MAX_READDIR) + 512;
}

size_t nfs3_readdirplus_reply_max(const void *a) {
        const READDIRPLUS3args *args = a;
        return MIN((size_t) args->maxcount, (size_t) NFS_MAX_READDIR) + 512;
}

static uint32_t readdir_common(NfsCall *c, const nfs_fh3 *fh, uint64_t cookie, const uint8_t *verf,
                               size_t maxcount, bool plus, Nfs3ReaddirRes *res) {
        NfsObj dir = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        size_t used = REPLY_OVERHEAD, cap, namebytes = 0;
        char *names, buf[32 * 1024];
        static const uint8_t zero[NFS3_COOKIEVERFSIZE];
        bool full = false;

        res->plus = plus;
        res->status = nfs3_get(c, fh, NFS_OPEN_READ, &v, &dir);
        if (res->status == NFS3_OK && dir.type != NFS_HANDLE_DIR)
                res->status = NFS3ERR_NOTDIR;
        if (res->status != NFS3_OK)
                goto out;
        nfs_vol_cookieverf(v, c->g->key, &dir, res->verf);
        if (cookie != 0 && memcmp(verf, res->verf, sizeof(res->verf)) != 0 &&
            memcmp(verf, zero, sizeof(zero)) != 0) {
                res->status = NFS3ERR_BAD_COOKIE;
                goto out;
        }
        maxcount = MIN(maxcount, (size_t) NFS_MAX_READDIR);
        if (maxcount < REPLY_OVERHEAD + entry_size(1, plus)) {
                res->status = NFS3ERR_TOOSMALL;
                goto out;
        }
        cap = (maxcount - REPLY_OVERHEAD) / entry_size(1, plus) + 1;
        res->entries = nfs_call_alloc(c, cap * sizeof(Nfs3DirEntry));
        names = nfs_call_alloc(c, maxcount);
        if (!res->entries || !names) {
                res->status = NFS3ERR_SERVERFAULT;
                goto out;
        }
        if (lseek(dir.fd, (off_t) cookie, SEEK_SET) < 0) {
                res->status = NFS3ERR_BAD_COOKIE;
                goto out;
        }
        while (!full) {
                long n = syscall(SYS_getdents64, dir.fd, buf, sizeof(buf));
                if (n < 0) {
                        res->status = nfs3_status_from_errno(-errno);
                        goto out;
                }
                if (n == 0) {
                        res->eof = true;
                        break;
                }
                for (long pos = 0; pos < n;) {
                        struct linux_dirent64 *d = (struct linux_dirent64 *) (buf + pos);
                        size_t len = strlen(d->d_name), es = entry_size(len, plus);
                        Nfs3DirEntry *e;
                        bool dot = streq(d->d_name, "."), dotdot = streq(d->d_name, "..");

                        pos += d->d_reclen;
                        if (used + es > maxcount || res->n_entries >= cap ||
                            namebytes + len + 1 > maxcount) {
                                full = true;
                                break;
                        }
                        e = &res->entries[res->n_entries];
                        *e = (Nfs3DirEntry){ .fileid = d->d_ino, .cookie = (uint64_t) d->d_off };
                        memcpy(names + namebytes, d->d_name, len + 1);
                        e->name = names + namebytes;
                        namebytes += len + 1;
                        if (dot || (dotdot && dir.sx.stx_ino == v->root_ino)) {
                                /* The root's ".." is the root: nothing above the volume shows. */
                                e->fileid = dir.sx.stx_ino;
                                if (plus) {
                                        NfsHandle h;
                                        nfs_vol_handle(v, &dir, &h);
                                        nfs_handle_encode(c->g->key, &h, e->fh);
                                        nfs3_fattr(v, &dir, &e->attr);
                                        e->has_fh = e->has_attr = true;
                                }
                        } else if (plus && !dotdot) {
                                NfsObj o = NFS_OBJ_NULL;
                                if (nfs_vol_stat_at(v, &dir, d->d_name, &o) == 0) {
                                        NfsHandle h;
                                        nfs_vol_handle(v, &o, &h);
                                        nfs_handle_encode(c->g->key, &h, e->fh);
                                        nfs3_fattr(v, &o, &e->attr);
                                        e->has_fh = e->has_attr = true;
                                        nfs_obj_done(&o);
                                }
                        } else if (!dotdot)
                                (void) nfs_vol_index_add(v, d->d_ino, dir.sx.stx_ino, d->d_name);
                        used += es;
                        res->n_entries++;
                }
        }
        if (res->n_entries == 0 && !res->eof)
                res->status = NFS3ERR_TOOSMALL;
out:
        (void) (dir.fd >= 0 && nfs_vol_refresh(&dir));
        nfs3_post_attr(v, &dir, &res->dir_attributes);
        nfs_obj_done(&dir);
        return res->status;
}

uint32_t nfs3_proc_readdir(NfsCall *c, void *a, void *r) {
        READDIR3args *args = a;
        return readdir_common(c, &args->dir, args->cookie, (const uint8_t *) args->cookieverf, args->count,
                              false, r);
}

uint32_t nfs3_proc_readdirplus(NfsCall *c, void *a, void *r) {
        READDIRPLUS3args *args = a;
        return readdir_common(c, &args->dir, args->cookie, (const uint8_t *) args->cookieverf,
                              args->maxcount, true, r);
}

bool_t nfs3_xdr_readdir_res(XDR *x, void *r) {
        Nfs3ReaddirRes *res = r;
        bool_t t = TRUE, f = FALSE;

        if (!xdr_nfsstat3(x, &res->status) || !xdr_post_op_attr(x, &res->dir_attributes))
                return FALSE;
        if (res->status != NFS3_OK)
                return TRUE;
        if (!xdr_opaque(x, (char *) res->verf, NFS3_COOKIEVERFSIZE))
                return FALSE;
        for (size_t i = 0; i < res->n_entries; i++) {
                Nfs3DirEntry *e = &res->entries[i];
                char *name = (char *) e->name;
                if (!xdr_bool(x, &t) || !xdr_uint64(x, &e->fileid) ||
                    !xdr_string(x, &name, NFS3_MAXNAMLEN) || !xdr_uint64(x, &e->cookie))
                        return FALSE;
                if (res->plus) {
                        bool_t ha = e->has_attr, hf = e->has_fh;
                        u_int fhlen = NFS_HANDLE_SIZE;
                        char *fh = (char *) e->fh;
                        if (!xdr_bool(x, &ha) || (ha && !xdr_fattr3(x, &e->attr)) || !xdr_bool(x, &hf) ||
                            (hf && !xdr_bytes(x, &fh, &fhlen, NFS3_FHSIZE)))
                                return FALSE;
                }
        }
        return xdr_bool(x, &f) && xdr_bool(x, (bool_t *) &(bool_t){ res->eof });
}
