/* nfs3-proc.c — the NFSv3 procedures (RFC 1813 §3.3), one handler each, dispatched through
 * nfs3_procs[] by nfs-rpc.c; READDIR/READDIRPLUS live in nfs3-readdir.c.
 *
 * Rules every handler keeps: a handle is decoded and verified before anything else
 * (forged → BADHANDLE, gone → STALE, a host the volume does not admit → ACCES); names are single components; a read-only volume
 * answers ROFS on every path that would change it; every file is created and reported as
 * the volume's uid:gid; quota is checked before any byte is written, so a refused write
 * changes nothing. */
#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#include "log.h"
#include "nfs3-proc.h"
#include "util.h"

static const struct {
        int err;
        nfsstat3 status;
} errno_map[] = {
        { EPERM, NFS3ERR_PERM },
        { ENOENT, NFS3ERR_NOENT },
        { EIO, NFS3ERR_IO },
        { ENXIO, NFS3ERR_NXIO },
        { EACCES, NFS3ERR_ACCES },
        { EEXIST, NFS3ERR_EXIST },
        { EXDEV, NFS3ERR_XDEV },
        { ENODEV, NFS3ERR_NODEV },
        { ENOTDIR, NFS3ERR_NOTDIR },
        { EISDIR, NFS3ERR_ISDIR },
        { EINVAL, NFS3ERR_INVAL },
        { EFBIG, NFS3ERR_FBIG },
        { ENOSPC, NFS3ERR_NOSPC },
        { EROFS, NFS3ERR_ROFS },
        { EMLINK, NFS3ERR_MLINK },
        { ENAMETOOLONG, NFS3ERR_NAMETOOLONG },
        { ENOTEMPTY, NFS3ERR_NOTEMPTY },
        { EDQUOT, NFS3ERR_DQUOT },
        { ESTALE, NFS3ERR_STALE },
        { EBADMSG, NFS3ERR_BADHANDLE },
        { EOPNOTSUPP, NFS3ERR_NOTSUPP },
        { ELOOP, NFS3ERR_ACCES },
        { ENOMEM, NFS3ERR_SERVERFAULT },
        { EBADF, NFS3ERR_INVAL },
};

nfsstat3 nfs3_status_from_errno(int r) {
        for (size_t i = 0; i < ELEMENTSOF(errno_map); i++)
                if (errno_map[i].err == -r)
                        return errno_map[i].status;
        return NFS3ERR_IO;
}

nfsstat3 nfs3_get(NfsCall *c, const nfs_fh3 *fh, NfsOpen mode, NfsVol **ret_vol, NfsObj *ret) {
        NfsHandle h;
        NfsVol *v;
        int r;

        if (nfs_handle_decode(c->g->key, fh->data.data_val, fh->data.data_len, &h) < 0)
                return NFS3ERR_BADHANDLE;
        r = nfs_gateway_volume(c->g, h.volume_key, &v);
        if (r < 0)
                return r == -ESTALE ? NFS3ERR_STALE : nfs3_status_from_errno(r);
        /* Held until the reply is sent: resolving a second handle (RENAME, LINK) may close
         * this volume (open-volume limit, or no longer exported) while its objects are used. */
        if (nfs_call_pin(c, v) < 0)
                return NFS3ERR_SERVERFAULT;
        /* A valid handle is a volume's, not a permission: the host using it must be one the
         * volume admits, exactly as at MNT (a borrowed handle of another tenant's volume). */
        if (!nfs_gateway_client_allowed(c->g, v, c->peer->host)) {
                c->g->metrics.access_denials++;
                return NFS3ERR_ACCES;
        }
        r = nfs_vol_resolve(v, &h, mode, ret);
        if (r < 0)
                return nfs3_status_from_errno(r);
        *ret_vol = v;
        return NFS3_OK;
}

/* Name checks shared by every procedure that takes one: too long, or not a single
 * component (a traversal attempt, counted as an access denial). */
nfsstat3 nfs3_check_name(NfsCall *c, const char *name) {
        if (name && strlen(name) > 255)
                return NFS3ERR_NAMETOOLONG;
        if (!nfs_name_is_valid(name)) {
                c->g->metrics.access_denials++;
                return isempty(name) || streq(name, ".") || streq(name, "..") ? NFS3ERR_INVAL
                                                                              : NFS3ERR_ACCES;
        }
        return NFS3_OK;
}

static ftype3 ftype_of(mode_t m) {
        switch (m & S_IFMT) {
        case S_IFREG:
                return NF3REG;
        case S_IFDIR:
                return NF3DIR;
        case S_IFLNK:
                return NF3LNK;
        case S_IFBLK:
                return NF3BLK;
        case S_IFCHR:
                return NF3CHR;
        case S_IFSOCK:
                return NF3SOCK;
        default:
                return NF3FIFO;
        }
}

void nfs3_fattr(const NfsVol *v, const NfsObj *o, fattr3 *a) {
        const struct statx *s = &o->sx;

        *a = (fattr3){
                .type = ftype_of(s->stx_mode),
                .mode = s->stx_mode & 07777,
                .nlink = s->stx_nlink,
                .uid = v->info.uid,
                .gid = v->info.gid,
                .size = s->stx_size,
                .used = s->stx_blocks * 512,
                .rdev = { s->stx_rdev_major, s->stx_rdev_minor },
                .fsid = v->key,
                .fileid = s->stx_ino,
                .atime = { (uint32) s->stx_atime.tv_sec, s->stx_atime.tv_nsec },
                .mtime = { (uint32) s->stx_mtime.tv_sec, s->stx_mtime.tv_nsec },
                .ctime = { (uint32) s->stx_ctime.tv_sec, s->stx_ctime.tv_nsec },
        };
}

void nfs3_post_attr(const NfsVol *v, const NfsObj *o, post_op_attr *p) {
        p->attributes_follow = v && o && (o->fd >= 0 || o->unopened);
        if (p->attributes_follow)
                nfs3_fattr(v, o, &p->post_op_attr_u.attributes);
}

static void pre_attr(const NfsObj *o, pre_op_attr *p) {
        p->attributes_follow = o && o->fd >= 0;
        if (!p->attributes_follow)
                return;
        p->pre_op_attr_u.attributes = (wcc_attr){
                .size = o->sx.stx_size,
                .mtime = { (uint32) o->sx.stx_mtime.tv_sec, o->sx.stx_mtime.tv_nsec },
                .ctime = { (uint32) o->sx.stx_ctime.tv_sec, o->sx.stx_ctime.tv_nsec },
        };
}

/* wcc_data: `before` was captured by the caller; o is refreshed for `after` unless
 * `unchanged` (nothing the procedure did can have changed its attributes). */
static void wcc_of(const NfsVol *v, const pre_op_attr *before, NfsObj *o, bool unchanged, wcc_data *w) {
        w->before = *before;
        if (o && o->fd >= 0 && !unchanged)
                (void) nfs_vol_refresh(o);
        nfs3_post_attr(v, o, &w->after);
}

static void wcc(const NfsVol *v, const pre_op_attr *before, NfsObj *o, wcc_data *w) {
        wcc_of(v, before, o, false, w);
}

void nfs3_set_fh(NfsCall *c, const NfsVol *v, const NfsObj *o, nfs_fh3 *fh) {
        NfsHandle h;

        nfs_vol_handle(v, o, &h);
        nfs_handle_encode(c->g->key, &h, c->fh);
        fh->data.data_len = NFS_HANDLE_SIZE;
        fh->data.data_val = (char *) c->fh;
}

static uint32_t proc_null(NfsCall *c, void *args, void *res) {
        return NFS3_OK;
}

static uint32_t proc_getattr(NfsCall *c, void *a, void *r) {
        GETATTR3args *args = a;
        GETATTR3res *res = r;
        NfsObj o = NFS_OBJ_NULL;
        NfsVol *v;

        res->status = nfs3_get(c, &args->object, NFS_OPEN_ATTR, &v, &o);
        if (res->status == NFS3_OK)
                nfs3_fattr(v, &o, &res->GETATTR3res_u.resok.obj_attributes);
        nfs_obj_done(&o);
        return res->status;
}

static struct timespec ts_of(const nfstime3 *t) {
        return (struct timespec){ .tv_sec = t->seconds,
                                  .tv_nsec = t->nseconds < 1000000000 ? t->nseconds : 999999999 };
}

/* Applies mode, size and times (uid/gid were checked by the caller); o must be open
 * O_RDWR when the size changes. */
static nfsstat3 apply_sattr(NfsVol *v, NfsObj *o, const sattr3 *s) {
        if (s->size.set_it) {
                uint64_t size = s->size.set_size3_u.size, old = o->sx.stx_size;
                if (o->type != NFS_HANDLE_REG)
                        return o->type == NFS_HANDLE_DIR ? NFS3ERR_ISDIR : NFS3ERR_INVAL;
                if (size > INT64_MAX)
                        return NFS3ERR_FBIG;
                if (size > old && nfs_vol_quota_check(v, size - old) < 0)
                        return NFS3ERR_DQUOT;
                if (ftruncate(o->fd, (off_t) size) < 0)
                        return nfs3_status_from_errno(-errno);
                nfs_vol_usage_add(v, (int64_t) size - (int64_t) old);
        }
        if (s->mode.set_it && (o->type == NFS_HANDLE_REG || o->type == NFS_HANDLE_DIR) &&
            fchmod(o->fd, s->mode.set_mode3_u.mode & 07777) < 0)
                return nfs3_status_from_errno(-errno);
        if ((s->atime.set_it != DONT_CHANGE || s->mtime.set_it != DONT_CHANGE) &&
            (o->type == NFS_HANDLE_REG || o->type == NFS_HANDLE_DIR)) {
                struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
                if (s->atime.set_it == SET_TO_SERVER_TIME)
                        ts[0].tv_nsec = UTIME_NOW;
                else if (s->atime.set_it == SET_TO_CLIENT_TIME)
                        ts[0] = ts_of(&s->atime.set_atime_u.atime);
                if (s->mtime.set_it == SET_TO_SERVER_TIME)
                        ts[1].tv_nsec = UTIME_NOW;
                else if (s->mtime.set_it == SET_TO_CLIENT_TIME)
                        ts[1] = ts_of(&s->mtime.set_mtime_u.mtime);
                if (futimens(o->fd, ts) < 0)
                        return nfs3_status_from_errno(-errno);
        }
        return NFS3_OK;
}

/* uid/gid may only be "set" to what they already are: the volume's owner. */
static nfsstat3 check_owner(NfsCall *c, const NfsVol *v, const sattr3 *s) {
        if ((s->uid.set_it && s->uid.set_uid3_u.uid != v->info.uid) ||
            (s->gid.set_it && s->gid.set_gid3_u.gid != v->info.gid)) {
                c->g->metrics.access_denials++;
                return NFS3ERR_PERM;
        }
        return NFS3_OK;
}

static uint32_t proc_setattr(NfsCall *c, void *a, void *r) {
        SETATTR3args *args = a;
        SETATTR3res *res = r;
        const sattr3 *s = &args->new_attributes;
        NfsObj o = NFS_OBJ_NULL;
        pre_op_attr before = { 0 };
        NfsVol *v = NULL;
        nfsstat3 st;

        st = nfs3_get(c, &args->object, s->size.set_it ? NFS_OPEN_WRITE : NFS_OPEN_READ, &v, &o);
        if (st != NFS3_OK)
                goto out;
        pre_attr(&o, &before);
        if (v->info.read_only) {
                st = NFS3ERR_ROFS;
                goto out;
        }
        if (args->guard.check &&
            (args->guard.sattrguard3_u.obj_ctime.seconds != (uint32) o.sx.stx_ctime.tv_sec ||
             args->guard.sattrguard3_u.obj_ctime.nseconds != o.sx.stx_ctime.tv_nsec)) {
                st = NFS3ERR_NOT_SYNC;
                goto out;
        }
        st = check_owner(c, v, s);
        if (st == NFS3_OK)
                st = apply_sattr(v, &o, s);
out:
        res->status = st;
        wcc(v, &before, &o,
            st == NFS3_OK ? &res->SETATTR3res_u.resok.obj_wcc : &res->SETATTR3res_u.resfail.obj_wcc);
        nfs_obj_done(&o);
        return st;
}

static uint32_t proc_lookup(NfsCall *c, void *a, void *r) {
        LOOKUP3args *args = a;
        LOOKUP3res *res = r;
        NfsObj dir = NFS_OBJ_NULL, o = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        const char *name = args->what.name;
        nfsstat3 st;
        int k;

        st = nfs3_get(c, &args->what.dir, NFS_OPEN_READ, &v, &dir);
        if (st != NFS3_OK)
                goto out;
        if (dir.type != NFS_HANDLE_DIR) {
                st = NFS3ERR_NOTDIR;
                goto out;
        }
        if (!streq(name, ".") && !streq(name, "..")) {
                st = nfs3_check_name(c, name);
                if (st != NFS3_OK)
                        goto out;
        }
        k = nfs_vol_lookup(v, &dir, name, &o);
        if (k < 0) {
                st = k == -EXDEV ? NFS3ERR_ACCES : nfs3_status_from_errno(k);
                goto out;
        }
        nfs3_set_fh(c, v, &o, &res->LOOKUP3res_u.resok.object);
        nfs3_post_attr(v, &o, &res->LOOKUP3res_u.resok.obj_attributes);
out:
        res->status = st;
        nfs3_post_attr(v, &dir,
                       st == NFS3_OK ? &res->LOOKUP3res_u.resok.dir_attributes
                                     : &res->LOOKUP3res_u.resfail.dir_attributes);
        nfs_obj_done(&o);
        nfs_obj_done(&dir);
        return st;
}

static uint32_t proc_access(NfsCall *c, void *a, void *r) {
        ACCESS3args *args = a;
        ACCESS3res *res = r;
        NfsObj o = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        uint32 acc = 0;
        mode_t m;

        res->status = nfs3_get(c, &args->object, NFS_OPEN_ATTR, &v, &o);
        if (res->status != NFS3_OK) {
                nfs3_post_attr(NULL, NULL, &res->ACCESS3res_u.resfail.obj_attributes);
                return res->status;
        }
        /* Everyone is squashed to the owner: the owner's bits decide. */
        m = o.sx.stx_mode;
        if (m & S_IRUSR)
                acc |= ACCESS3_READ;
        if (S_ISDIR(m)) {
                if (m & S_IXUSR)
                        acc |= ACCESS3_LOOKUP;
                if (m & S_IWUSR)
                        acc |= ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE;
        } else {
                if (m & S_IWUSR)
                        acc |= ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE;
                if (m & S_IXUSR)
                        acc |= ACCESS3_EXECUTE;
        }
        if (v->info.read_only)
                acc &= ~(uint32) (ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE);
        res->ACCESS3res_u.resok.access = args->access & acc;
        nfs3_post_attr(v, &o, &res->ACCESS3res_u.resok.obj_attributes);
        nfs_obj_done(&o);
        return NFS3_OK;
}

static uint32_t proc_readlink(NfsCall *c, void *a, void *r) {
        READLINK3args *args = a;
        READLINK3res *res = r;
        NfsObj o = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        char *buf;
        ssize_t n;

        res->status = nfs3_get(c, &args->symlink, NFS_OPEN_READ, &v, &o);
        if (res->status == NFS3_OK && o.type != NFS_HANDLE_LNK)
                res->status = NFS3ERR_INVAL;
        if (res->status == NFS3_OK) {
                buf = nfs_call_alloc(c, NFS3_MAXPATHLEN + 1);
                n = buf ? readlinkat(o.fd, "", buf, NFS3_MAXPATHLEN + 1) : -1;
                if (!buf)
                        res->status = NFS3ERR_SERVERFAULT;
                else if (n < 0)
                        res->status = nfs3_status_from_errno(-errno);
                else if (n > NFS3_MAXPATHLEN)
                        res->status = NFS3ERR_NAMETOOLONG;
                else {
                        buf[n] = '\0';
                        res->READLINK3res_u.resok.data = buf;
                }
        }
        nfs3_post_attr(v, &o,
                       res->status == NFS3_OK ? &res->READLINK3res_u.resok.symlink_attributes
                                              : &res->READLINK3res_u.resfail.symlink_attributes);
        nfs_obj_done(&o);
        return res->status;
}

static size_t read_reply_max(const void *a) {
        const READ3args *args = a;
        return MIN((size_t) args->count, (size_t) NFS_MAX_IO) + 1024;
}

/* Encoded READ3resok up to its data: status, post_op_attr with fattr3 (84 bytes), count,
 * eof, data length. */
#define READ3_RESOK_DATA_OFFSET (4 + 4 + 84 + 4 + 4 + 4)

/* xdr_READ3res(), but the data is not copied when proc_read() put it in place. */
static bool_t xdr_read_res(XDR *x, void *r) {
        READ3res *res = r;
        READ3resok *ok = &res->READ3res_u.resok;

        if (x->x_op != XDR_ENCODE || res->status != NFS3_OK)
                return xdr_READ3res(x, res);
        return xdr_nfsstat3(x, &res->status) && xdr_post_op_attr(x, &ok->file_attributes) &&
               xdr_count3(x, &ok->count) && xdr_bool(x, &ok->eof) &&
               nfs_xdr_opaque_in_place(x, ok->data.data_val, ok->data.data_len, NFS3_MAXDATA);
}

static uint32_t proc_read(NfsCall *c, void *a, void *r) {
        READ3args *args = a;
        READ3res *res = r;
        NfsObj o = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        size_t count = MIN((size_t) args->count, (size_t) NFS_MAX_IO), done = 0;
        char *buf;

        res->status = nfs3_get(c, &args->file, NFS_OPEN_READ, &v, &o);
        if (res->status == NFS3_OK && o.type != NFS_HANDLE_REG)
                res->status = o.type == NFS_HANDLE_DIR ? NFS3ERR_ISDIR : NFS3ERR_INVAL;
        if (res->status != NFS3_OK) {
                nfs3_post_attr(v, &o, &res->READ3res_u.resfail.file_attributes);
                nfs_obj_done(&o);
                return res->status;
        }
        /* Straight into the reply, where the encoder leaves it (one copy, kernel to reply). */
        buf = nfs_call_reply_space(c, READ3_RESOK_DATA_OFFSET, count);
        if (!buf)
                buf = nfs_call_alloc(c, count);
        if (!buf) {
                res->status = NFS3ERR_SERVERFAULT;
                nfs_obj_done(&o);
                return res->status;
        }
        while (done < count && args->offset + done <= INT64_MAX) {
                ssize_t k = pread(o.fd, buf + done, count - done, (off_t) (args->offset + done));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        res->status = nfs3_status_from_errno(-errno);
                        nfs3_post_attr(v, &o, &res->READ3res_u.resfail.file_attributes);
                        nfs_obj_done(&o);
                        return res->status;
                }
                if (k == 0)
                        break;
                done += (size_t) k;
        }
        (void) nfs_vol_refresh(&o);
        res->READ3res_u.resok.count = (count3) done;
        res->READ3res_u.resok.eof = args->offset + done >= o.sx.stx_size;
        res->READ3res_u.resok.data.data_len = (u_int) done;
        res->READ3res_u.resok.data.data_val = buf;
        nfs3_post_attr(v, &o, &res->READ3res_u.resok.file_attributes);
        c->g->metrics.bytes_read += done;
        nfs_obj_done(&o);
        return NFS3_OK;
}

static int pwrite_all(int fd, const char *p, size_t n, uint64_t offset) {
        while (n > 0) {
                ssize_t k = pwrite(fd, p, n, (off_t) offset);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                p += k;
                n -= (size_t) k;
                offset += (uint64_t) k;
        }
        return 0;
}

static uint32_t proc_write(NfsCall *c, void *a, void *r) {
        WRITE3args *args = a;
        WRITE3res *res = r;
        NfsObj o = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        pre_op_attr before = { 0 };
        size_t n = MIN((size_t) args->count, (size_t) args->data.data_len);
        uint64_t old, end, grow;
        nfsstat3 st;
        int k;

        st = nfs3_get(c, &args->file, NFS_OPEN_WRITE, &v, &o);
        if (st == NFS3ERR_ACCES || st == NFS3ERR_PERM) /* maybe not writable: still answer ROFS first */
                st = nfs3_get(c, &args->file, NFS_OPEN_READ, &v, &o) == NFS3_OK && v->info.read_only
                             ? NFS3ERR_ROFS
                             : st;
        if (st != NFS3_OK)
                goto out;
        pre_attr(&o, &before);
        if (v->info.read_only) {
                st = NFS3ERR_ROFS;
                goto out;
        }
        if (o.type != NFS_HANDLE_REG) {
                st = o.type == NFS_HANDLE_DIR ? NFS3ERR_ISDIR : NFS3ERR_INVAL;
                goto out;
        }
        old = o.sx.stx_size;
        end = args->offset + n;
        if (end < args->offset || end > INT64_MAX) {
                st = NFS3ERR_FBIG;
                goto out;
        }
        grow = end > old ? end - old : 0;
        if (nfs_vol_quota_check(v, grow) < 0) {
                st = NFS3ERR_DQUOT;
                goto out;
        }
        k = pwrite_all(o.fd, args->data.data_val, n, args->offset);
        if (k == 0 && args->stable == FILE_SYNC)
                k = fsync(o.fd) < 0 ? -errno : 0;
        else if (k == 0 && args->stable == DATA_SYNC)
                k = fdatasync(o.fd) < 0 ? -errno : 0;
        if (k < 0) {
                /* All or nothing: a failed extending write leaves the old size. */
                if (grow > 0)
                        (void) ftruncate(o.fd, (off_t) old);
                st = nfs3_status_from_errno(k);
                goto out;
        }
        nfs_vol_usage_add(v, (int64_t) grow);
        if (args->stable == UNSTABLE)
                v->unsynced = true;
        c->g->metrics.bytes_written += n;
        res->WRITE3res_u.resok.count = (count3) n;
        res->WRITE3res_u.resok.committed = args->stable;
        memcpy(res->WRITE3res_u.resok.verf, c->g->write_verf, NFS3_WRITEVERFSIZE);
out:
        res->status = st;
        wcc(v, &before, &o,
            st == NFS3_OK ? &res->WRITE3res_u.resok.file_wcc : &res->WRITE3res_u.resfail.file_wcc);
        nfs_obj_done(&o);
        return st;
}

/* The start of every procedure that adds or removes a name: directory handle, ROFS, name. */
static nfsstat3 dirop_begin(NfsCall *c, const diropargs3 *d, NfsVol **v, NfsObj *dir, pre_op_attr *before) {
        nfsstat3 st = nfs3_get(c, &d->dir, NFS_OPEN_READ, v, dir);

        if (st != NFS3_OK)
                return st;
        pre_attr(dir, before);
        if ((*v)->info.read_only)
                return NFS3ERR_ROFS;
        if (dir->type != NFS_HANDLE_DIR)
                return NFS3ERR_NOTDIR;
        return nfs3_check_name(c, d->name);
}

static void squash(NfsCall *c, const NfsVol *v, const NfsObj *dir, const char *name, int fd) {
        int k;

        /* Created by the gateway running as the volume's uid:gid in a directory without the
         * set-group-ID bit: the new object is that owner's already. */
        if (v->info.uid == c->g->euid && v->info.gid == c->g->egid && !(dir->sx.stx_mode & S_ISGID))
                return;
        k = fd >= 0 ? fchown(fd, v->info.uid, v->info.gid)
                    : fchownat(dir->fd, name, v->info.uid, v->info.gid, AT_SYMLINK_NOFOLLOW);
        /* Unprivileged and not the owner: the file stays ours; it is reported squashed anyway. */
        if (k < 0 && errno != EPERM)
                log_debug_errno(-errno, "Failed to set owner of %s: %m", name);
}

static void exclusive_times(const createverf3 verf, struct timespec ts[2]) {
        uint32_t a = (uint32_t) verf[0] << 24 | (uint32_t) verf[1] << 16 | (uint32_t) verf[2] << 8 | verf[3];
        uint32_t m = (uint32_t) verf[4] << 24 | (uint32_t) verf[5] << 16 | (uint32_t) verf[6] << 8 | verf[7];
        ts[0] = (struct timespec){ .tv_sec = a & 0x7fffffff, .tv_nsec = 0 };
        ts[1] = (struct timespec){ .tv_sec = m & 0x7fffffff, .tv_nsec = 0 };
}

/* How CREATE, MKDIR, SYMLINK and MKNOD end, failed or not: st, the directory's wcc data in
 * the result's arm for st, the directory released, st returned. */
static uint32_t create_reply(NfsVol *v, const pre_op_attr *before, NfsObj *dir, CREATE3res *res,
                             nfsstat3 st) {
        res->status = st;
        wcc(v, before, dir,
            st == NFS3_OK ? &res->CREATE3res_u.resok.dir_wcc : &res->CREATE3res_u.resfail.dir_wcc);
        nfs_obj_done(dir);
        return st;
}

static uint32_t proc_create(NfsCall *c, void *a, void *r) {
        CREATE3args *args = a;
        CREATE3res *res = r;
        const char *name = args->where.name;
        NfsObj dir = NFS_OBJ_NULL, o = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        pre_op_attr before = { 0 };
        createmode3 how = args->how.mode;
        const sattr3 *s = how == EXCLUSIVE ? NULL : &args->how.createhow3_u.obj_attributes;
        mode_t mode = s && s->mode.set_it ? s->mode.set_mode3_u.mode & 07777 : 0644;
        bool created = true, changed = false;
        nfsstat3 st;
        int fd, k;

        st = dirop_begin(c, &args->where, &v, &dir, &before);
        if (st != NFS3_OK)
                goto out;
        if (s && (st = check_owner(c, v, s)) != NFS3_OK)
                goto out;
        if (nfs_vol_quota_check_entry(v, 0) < 0 && faccessat(dir.fd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                /* A new name past the volume's entries limit (an existing one may be reopened). */
                st = NFS3ERR_DQUOT;
                goto out;
        }
        fd = openat(dir.fd, name, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                    how == EXCLUSIVE ? 0600 : mode);
        if (fd < 0 && errno == EEXIST && how != GUARDED) {
                created = false;
                fd = openat(dir.fd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                if (fd < 0 && errno == ELOOP)
                        errno = EEXIST;
        }
        if (fd < 0) {
                st = nfs3_status_from_errno(-errno);
                goto out;
        }
        if (created) {
                squash(c, v, &dir, name, fd);
                nfs_vol_entries_add(v, 1);
        }
        /* The fd just opened (O_RDWR) is the object: kept for the WRITE that follows. */
        k = nfs_vol_adopt(v, &dir, name, fd, true, &o);
        if (k < 0) {
                safe_close(fd);
                st = nfs3_status_from_errno(k);
                goto out;
        }
        if (o.type != NFS_HANDLE_REG) {
                st = NFS3ERR_EXIST;
                goto out;
        }
        if (how == EXCLUSIVE) {
                struct timespec ts[2];
                exclusive_times(args->how.createhow3_u.verf, ts);
                if (created) {
                        changed = true;
                        if (futimens(o.fd, ts) < 0) {
                                st = nfs3_status_from_errno(-errno);
                                goto out;
                        }
                } else if (o.sx.stx_atime.tv_sec != ts[0].tv_sec || o.sx.stx_mtime.tv_sec != ts[1].tv_sec) {
                        st = NFS3ERR_EXIST; /* not our earlier attempt: someone else's file */
                        goto out;
                }
        } else {
                sattr3 rest = *s;
                rest.mode.set_it = !created && s->mode.set_it;
                changed = rest.mode.set_it || rest.size.set_it || rest.atime.set_it != DONT_CHANGE ||
                          rest.mtime.set_it != DONT_CHANGE;
                /* apply_sattr truncates through o.fd: open O_RDWR above. */
                st = apply_sattr(v, &o, &rest);
                if (st != NFS3_OK)
                        goto out;
        }
        if (changed) /* else o's attributes are those read when it was adopted */
                (void) nfs_vol_refresh(&o);
        res->CREATE3res_u.resok.obj.handle_follows = true;
        nfs3_set_fh(c, v, &o, &res->CREATE3res_u.resok.obj.post_op_fh3_u.handle);
        nfs3_post_attr(v, &o, &res->CREATE3res_u.resok.obj_attributes);
out:
        nfs_obj_done(&o);
        return create_reply(v, &before, &dir, res, st);
}

/* Common tail of MKDIR and SYMLINK: squash the new name, answer its handle. */
static nfsstat3 created_reply(NfsCall *c, NfsVol *v, NfsObj *dir, const char *name, CREATE3res *res) {
        NfsObj o = NFS_OBJ_NULL;
        int k;

        squash(c, v, dir, name, -1);
        k = nfs_vol_stat_at(v, dir, name, &o);
        if (k < 0)
                return nfs3_status_from_errno(k);
        res->CREATE3res_u.resok.obj.handle_follows = true;
        nfs3_set_fh(c, v, &o, &res->CREATE3res_u.resok.obj.post_op_fh3_u.handle);
        nfs3_post_attr(v, &o, &res->CREATE3res_u.resok.obj_attributes);
        nfs_obj_done(&o);
        return NFS3_OK;
}

/* MKDIR and SYMLINK: one more name, and a block, against the volume's limits. */
static nfsstat3 entry_quota(NfsVol *v) {
        return nfs_vol_quota_check_entry(v, NFS_INODE_CHARGE) == 0 ? NFS3_OK : NFS3ERR_DQUOT;
}

static void entry_charged(NfsVol *v) {
        nfs_vol_entries_add(v, 1);
        nfs_vol_usage_add(v, NFS_INODE_CHARGE);
}

static uint32_t proc_mkdir(NfsCall *c, void *a, void *r) {
        MKDIR3args *args = a;
        CREATE3res *res = r;
        const sattr3 *s = &args->attributes;
        NfsObj dir = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        pre_op_attr before = { 0 };
        nfsstat3 st;

        st = dirop_begin(c, &args->where, &v, &dir, &before);
        if (st == NFS3_OK)
                st = check_owner(c, v, s);
        if (st == NFS3_OK)
                st = entry_quota(v);
        if (st == NFS3_OK &&
            mkdirat(dir.fd, args->where.name, s->mode.set_it ? s->mode.set_mode3_u.mode & 07777 : 0755) < 0)
                st = nfs3_status_from_errno(-errno);
        if (st == NFS3_OK) {
                entry_charged(v);
                st = created_reply(c, v, &dir, args->where.name, res);
        }
        return create_reply(v, &before, &dir, res, st);
}

static uint32_t proc_symlink(NfsCall *c, void *a, void *r) {
        SYMLINK3args *args = a;
        CREATE3res *res = r;
        const char *target = args->symlink.symlink_data;
        NfsObj dir = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        pre_op_attr before = { 0 };
        unsigned depth = 0;
        nfsstat3 st;

        st = dirop_begin(c, &args->where, &v, &dir, &before);
        if (st == NFS3_OK)
                st = check_owner(c, v, &args->symlink.symlink_attributes);
        if (st == NFS3_OK && dir.sx.stx_ino != v->root_ino && nfs_vol_depth(v, dir.sx.stx_ino, &depth) < 0)
                st = NFS3ERR_STALE;
        if (st == NFS3_OK && !nfs_symlink_target_is_confined(target, depth)) {
                /* Absolute, or climbing above the volume root: refused. */
                c->g->metrics.access_denials++;
                st = NFS3ERR_ACCES;
        }
        if (st == NFS3_OK)
                st = entry_quota(v);
        if (st == NFS3_OK && symlinkat(target, dir.fd, args->where.name) < 0)
                st = nfs3_status_from_errno(-errno);
        if (st == NFS3_OK) {
                entry_charged(v);
                st = created_reply(c, v, &dir, args->where.name, res);
        }
        return create_reply(v, &before, &dir, res, st);
}

static uint32_t proc_mknod(NfsCall *c, void *a, void *r) {
        MKNOD3args *args = a;
        CREATE3res *res = r;
        NfsObj dir = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        pre_op_attr before = { 0 };
        nfsstat3 st = dirop_begin(c, &args->where, &v, &dir, &before);

        /* Devices, sockets and FIFOs have no business on an agent's volume. */
        if (st == NFS3_OK)
                st = NFS3ERR_NOTSUPP;
        return create_reply(v, &before, &dir, res, st);
}

static nfsstat3 remove_common(NfsCall *c, const diropargs3 *d, bool rmdir, REMOVE3res *res) {
        NfsObj dir = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        pre_op_attr before = { 0 };
        struct statx sx;
        nfsstat3 st;

        st = dirop_begin(c, d, &v, &dir, &before);
        if (st == NFS3_OK && statx(dir.fd, d->name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
                st = nfs3_status_from_errno(-errno);
        if (st == NFS3_OK && !rmdir && S_ISDIR(sx.stx_mode))
                st = NFS3ERR_ISDIR;
        if (st == NFS3_OK && rmdir && !S_ISDIR(sx.stx_mode))
                st = NFS3ERR_NOTDIR;
        if (st == NFS3_OK && unlinkat(dir.fd, d->name, rmdir ? AT_REMOVEDIR : 0) < 0)
                st = nfs3_status_from_errno(-errno);
        if (st == NFS3_OK)
                /* Even when other names remain: an fd we keep must not delay anything. */
                nfs_vol_forget(v, sx.stx_ino);
        if (st == NFS3_OK && (rmdir || sx.stx_nlink <= 1))
                nfs_vol_index_remove(v, sx.stx_ino);
        if (st == NFS3_OK)
                nfs_vol_usage_remove(v, sx.stx_mode, sx.stx_size, rmdir || sx.stx_nlink <= 1);
        res->status = st;
        wcc(v, &before, &dir,
            st == NFS3_OK ? &res->REMOVE3res_u.resok.dir_wcc : &res->REMOVE3res_u.resfail.dir_wcc);
        nfs_obj_done(&dir);
        return st;
}

static uint32_t proc_remove(NfsCall *c, void *a, void *r) {
        return remove_common(c, &((REMOVE3args *) a)->object, false, r);
}

static uint32_t proc_rmdir(NfsCall *c, void *a, void *r) {
        return remove_common(c, &((RMDIR3args *) a)->object, true, r);
}

static uint32_t proc_rename(NfsCall *c, void *a, void *r) {
        RENAME3args *args = a;
        RENAME3res *res = r;
        NfsObj from = NFS_OBJ_NULL, to = NFS_OBJ_NULL;
        NfsVol *v = NULL, *v2 = NULL;
        pre_op_attr bfrom = { 0 }, bto = { 0 };
        struct statx src, dst;
        bool replaced = false;
        nfsstat3 st;

        st = dirop_begin(c, &args->from, &v, &from, &bfrom);
        if (st == NFS3_OK)
                st = dirop_begin(c, &args->to, &v2, &to, &bto);
        if (st == NFS3_OK && v->key != v2->key)
                st = NFS3ERR_XDEV;
        if (st == NFS3_OK &&
            statx(from.fd, args->from.name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &src) < 0)
                st = nfs3_status_from_errno(-errno);
        if (st == NFS3_OK)
                replaced = statx(to.fd, args->to.name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &dst) == 0 &&
                           dst.stx_ino != src.stx_ino;
        if (st == NFS3_OK && renameat(from.fd, args->from.name, to.fd, args->to.name) < 0)
                st = nfs3_status_from_errno(-errno);
        if (st == NFS3_OK && replaced)
                nfs_vol_forget(v, dst.stx_ino); /* its space is freed now, its handle STALE */
        if (st == NFS3_OK) {
                if (replaced && (S_ISDIR(dst.stx_mode) || dst.stx_nlink <= 1))
                        nfs_vol_index_remove(v, dst.stx_ino);
                if (replaced)
                        nfs_vol_usage_remove(v, dst.stx_mode, dst.stx_size,
                                             S_ISDIR(dst.stx_mode) || dst.stx_nlink <= 1);
                (void) nfs_vol_index_add(v, src.stx_ino, to.sx.stx_ino, args->to.name);
        }
        res->status = st;
        if (st == NFS3_OK) {
                wcc(v, &bfrom, &from, &res->RENAME3res_u.resok.fromdir_wcc);
                wcc(v2, &bto, &to, &res->RENAME3res_u.resok.todir_wcc);
        } else {
                wcc(v, &bfrom, &from, &res->RENAME3res_u.resfail.fromdir_wcc);
                wcc(v2, &bto, &to, &res->RENAME3res_u.resfail.todir_wcc);
        }
        nfs_obj_done(&from);
        nfs_obj_done(&to);
        return st;
}

static uint32_t proc_link(NfsCall *c, void *a, void *r) {
        LINK3args *args = a;
        LINK3res *res = r;
        NfsObj file = NFS_OBJ_NULL, dir = NFS_OBJ_NULL;
        NfsVol *v = NULL, *vd = NULL;
        pre_op_attr before = { 0 };
        nfsstat3 st;
        int k;

        st = nfs3_get(c, &args->file, NFS_OPEN_READ, &v, &file);
        if (st == NFS3_OK)
                st = dirop_begin(c, &args->link, &vd, &dir, &before);
        if (st == NFS3_OK && v->key != vd->key)
                st = NFS3ERR_XDEV;
        if (st == NFS3_OK && file.type == NFS_HANDLE_DIR)
                st = NFS3ERR_ISDIR;
        if (st == NFS3_OK && nfs_vol_quota_check_entry(v, 0) < 0)
                st = NFS3ERR_DQUOT;
        if (st == NFS3_OK && (k = nfs_vol_link(v, &file, &dir, args->link.name)) < 0)
                st = nfs3_status_from_errno(k);
        if (st == NFS3_OK)
                nfs_vol_entries_add(v, 1);
        res->status = st;
        if (file.fd >= 0)
                (void) nfs_vol_refresh(&file);
        nfs3_post_attr(v, &file,
                       st == NFS3_OK ? &res->LINK3res_u.resok.file_attributes
                                     : &res->LINK3res_u.resfail.file_attributes);
        wcc(vd, &before, &dir,
            st == NFS3_OK ? &res->LINK3res_u.resok.linkdir_wcc : &res->LINK3res_u.resfail.linkdir_wcc);
        nfs_obj_done(&file);
        nfs_obj_done(&dir);
        return st;
}

/* How FSSTAT, FSINFO and PATHCONF end, failed or not: the object's post-op attributes in the
 * result's arm for st, the object released, st returned. */
static uint32_t obj_attr_reply(NfsVol *v, NfsObj *o, post_op_attr *attr, nfsstat3 st) {
        nfs3_post_attr(v, o, attr);
        nfs_obj_done(o);
        return st;
}

static uint32_t proc_fsstat(NfsCall *c, void *a, void *r) {
        FSSTAT3args *args = a;
        FSSTAT3res *res = r;
        NfsObj o = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        struct statvfs sv;
        FSSTAT3resok *ok = &res->FSSTAT3res_u.resok;

        res->status = nfs3_get(c, &args->fsroot, NFS_OPEN_READ, &v, &o);
        if (res->status == NFS3_OK && fstatvfs(o.fd, &sv) < 0)
                res->status = nfs3_status_from_errno(-errno);
        if (res->status != NFS3_OK)
                return obj_attr_reply(v, &o, &res->FSSTAT3res_u.resfail.obj_attributes, res->status);
        ok->tbytes = (size3) sv.f_blocks * sv.f_frsize;
        ok->fbytes = (size3) sv.f_bfree * sv.f_frsize;
        ok->abytes = (size3) sv.f_bavail * sv.f_frsize;
        if (v->info.size_limit > 0) {
                /* The quota is the file system the client sees. */
                uint64_t used = 0, left;
                (void) nfs_vol_usage(v, &used);
                left = used < v->info.size_limit ? v->info.size_limit - used : 0;
                ok->tbytes = v->info.size_limit;
                ok->fbytes = MIN(ok->fbytes, left);
                ok->abytes = MIN(ok->abytes, left);
        }
        ok->tfiles = sv.f_files;
        ok->ffiles = sv.f_ffree;
        ok->afiles = sv.f_favail;
        if (v->max_entries > 0) {
                /* The entries limit is the number of inodes the client sees. */
                uint64_t used = 0, left;
                (void) nfs_vol_usage(v, &used);
                left = v->used_entries < v->max_entries ? v->max_entries - v->used_entries : 0;
                ok->tfiles = MIN(ok->tfiles, v->max_entries);
                ok->ffiles = MIN(ok->ffiles, left);
                ok->afiles = MIN(ok->afiles, left);
        }
        ok->invarsec = 0;
        return obj_attr_reply(v, &o, &ok->obj_attributes, NFS3_OK);
}

static uint32_t proc_fsinfo(NfsCall *c, void *a, void *r) {
        FSINFO3args *args = a;
        FSINFO3res *res = r;
        NfsObj o = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        FSINFO3resok *ok = &res->FSINFO3res_u.resok;

        res->status = nfs3_get(c, &args->fsroot, NFS_OPEN_READ, &v, &o);
        if (res->status != NFS3_OK)
                return obj_attr_reply(v, &o, &res->FSINFO3res_u.resfail.obj_attributes, res->status);
        ok->rtmax = ok->rtpref = NFS_MAX_IO;
        ok->wtmax = ok->wtpref = NFS_MAX_IO;
        ok->rtmult = ok->wtmult = 4096;
        ok->dtpref = 64 * 1024;
        ok->maxfilesize = v->info.size_limit > 0 ? v->info.size_limit : (size3) INT64_MAX;
        ok->time_delta = (nfstime3){ 0, 1 };
        ok->properties = FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME;
        return obj_attr_reply(v, &o, &ok->obj_attributes, NFS3_OK);
}

static uint32_t proc_pathconf(NfsCall *c, void *a, void *r) {
        PATHCONF3args *args = a;
        PATHCONF3res *res = r;
        NfsObj o = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        PATHCONF3resok *ok = &res->PATHCONF3res_u.resok;

        res->status = nfs3_get(c, &args->object, NFS_OPEN_READ, &v, &o);
        if (res->status != NFS3_OK)
                return obj_attr_reply(v, &o, &res->PATHCONF3res_u.resfail.obj_attributes, res->status);
        ok->linkmax = 65000;
        ok->name_max = 255;
        ok->no_trunc = true;
        ok->chown_restricted = true;
        ok->case_insensitive = false;
        ok->case_preserving = true;
        return obj_attr_reply(v, &o, &ok->obj_attributes, NFS3_OK);
}

static uint32_t proc_commit(NfsCall *c, void *a, void *r) {
        COMMIT3args *args = a;
        COMMIT3res *res = r;
        NfsObj o = NFS_OBJ_NULL;
        NfsVol *v = NULL;
        pre_op_attr before = { 0 };
        nfsstat3 st;

        st = nfs3_get(c, &args->file, NFS_OPEN_READ, &v, &o);
        if (st == NFS3_OK) {
                pre_attr(&o, &before);
                if (v->info.read_only)
                        st = NFS3ERR_ROFS;
                else if (o.type != NFS_HANDLE_REG)
                        st = o.type == NFS_HANDLE_DIR ? NFS3ERR_ISDIR : NFS3ERR_INVAL;
                else if (fdatasync(o.fd) < 0)
                        /* The data and what reading it back needs (size, blocks), as
                         * DATA_SYNC: COMMIT promises the data, not the timestamps. */
                        st = nfs3_status_from_errno(-errno);
        }
        if (st == NFS3_OK)
                memcpy(res->COMMIT3res_u.resok.verf, c->g->write_verf, NFS3_WRITEVERFSIZE);
        res->status = st;
        /* fdatasync() changes no attribute: after = the attributes read just before it. */
        wcc_of(v, &before, &o, true,
               st == NFS3_OK ? &res->COMMIT3res_u.resok.file_wcc : &res->COMMIT3res_u.resfail.file_wcc);
        nfs_obj_done(&o);
        return st;
}

#define PROC(args_t, res_t, fn)                                                               \
        {                                                                                     \
                .xdr_args = (xdrproc_t) xdr_##args_t, .args_size = sizeof(args_t),            \
                .xdr_res = (xdrproc_t) xdr_##res_t, .res_size = sizeof(res_t), .handler = fn, \
        }

const NfsProc nfs3_procs[22] = {
        [NFSPROC3_NULL] = { .handler = proc_null },
        [NFSPROC3_GETATTR] = PROC(GETATTR3args, GETATTR3res, proc_getattr),
        [NFSPROC3_SETATTR] = PROC(SETATTR3args, SETATTR3res, proc_setattr),
        [NFSPROC3_LOOKUP] = PROC(LOOKUP3args, LOOKUP3res, proc_lookup),
        [NFSPROC3_ACCESS] = PROC(ACCESS3args, ACCESS3res, proc_access),
        [NFSPROC3_READLINK] = PROC(READLINK3args, READLINK3res, proc_readlink),
        [NFSPROC3_READ] = { .xdr_args = (xdrproc_t) xdr_READ3args,
                            .args_size = sizeof(READ3args),
                            .xdr_res = (xdrproc_t) xdr_read_res,
                            .res_size = sizeof(READ3res),
                            .handler = proc_read,
                            .reply_max = read_reply_max },
        [NFSPROC3_WRITE] = PROC(WRITE3args, WRITE3res, proc_write),
        [NFSPROC3_CREATE] = PROC(CREATE3args, CREATE3res, proc_create),
        [NFSPROC3_MKDIR] = PROC(MKDIR3args, MKDIR3res, proc_mkdir),
        [NFSPROC3_SYMLINK] = PROC(SYMLINK3args, SYMLINK3res, proc_symlink),
        [NFSPROC3_MKNOD] = PROC(MKNOD3args, MKNOD3res, proc_mknod),
        [NFSPROC3_REMOVE] = PROC(REMOVE3args, REMOVE3res, proc_remove),
        [NFSPROC3_RMDIR] = PROC(RMDIR3args, RMDIR3res, proc_rmdir),
        [NFSPROC3_RENAME] = PROC(RENAME3args, RENAME3res, proc_rename),
        [NFSPROC3_LINK] = PROC(LINK3args, LINK3res, proc_link),
        [NFSPROC3_READDIR] = NFS3_READDIR_PROC,
        [NFSPROC3_READDIRPLUS] = NFS3_READDIRPLUS_PROC,
        [NFSPROC3_FSSTAT] = PROC(FSSTAT3args, FSSTAT3res, proc_fsstat),
        [NFSPROC3_FSINFO] = PROC(FSINFO3args, FSINFO3res, proc_fsinfo),
        [NFSPROC3_PATHCONF] = PROC(PATHCONF3args, PATHCONF3res, proc_pathconf),
        [NFSPROC3_COMMIT] = PROC(COMMIT3args, COMMIT3res, proc_commit),
};
