/* nfs-volume.c — see nfs-volume.h.
 *
 * The index maps an inode number to one (parent inode, name) pair. It is filled as names
 * pass through the gateway (LOOKUP, READDIR, CREATE…) and, when a handle misses (after a
 * restart, or a change made behind our back), by a bounded walk of the whole volume at most
 * once per NFS_SCAN_INTERVAL_USEC. Needing no open_by_handle_at() means no
 * CAP_DAC_READ_SEARCH: the service runs without it. */
#include <dirent.h>
#include <errno.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <time.h>

#include "nfs-volume.h"
#include "util.h"

struct NfsIndexEntry {
        uint64_t ino;
        uint64_t parent;
        NfsIndexEntry *next;
        char name[];
};

void nfs_obj_done(NfsObj *o) {
        o->unopened = false;
        if (o->cached) {
                nfs_fdcache_put(o->cached);
                o->cached = NULL;
                o->fd = -1;
        } else
                o->fd = safe_close(o->fd);
}

void nfs_obj_set_fd(NfsObj *o, int fd) {
        nfs_obj_done(o);
        o->fd = fd;
}

bool nfs_name_is_valid(const char *name) {
        size_t n;

        if (isempty(name) || streq(name, ".") || streq(name, ".."))
                return false;
        n = strlen(name);
        return n <= 255 && !memchr(name, '/', n);
}

bool nfs_symlink_target_is_confined(const char *target, unsigned depth) {
        long level = depth;
        const char *p = target;

        if (isempty(target) || target[0] == '/')
                return false;
        while (*p) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (--level < 0)
                                return false;
                } else if (n > 0 && !(n == 1 && p[0] == '.'))
                        level++;
                p += n;
                while (*p == '/')
                        p++;
        }
        return true;
}

/* ---- index ---- */

static size_t bucket_of(const NfsVol *v, uint64_t ino) {
        return (size_t) ((ino * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (v->n_buckets - 1);
}

static NfsIndexEntry *index_find(const NfsVol *v, uint64_t ino) {
        if (v->n_buckets == 0)
                return NULL;
        for (NfsIndexEntry *e = v->buckets[bucket_of(v, ino)]; e; e = e->next)
                if (e->ino == ino)
                        return e;
        return NULL;
}

static void index_clear(NfsVol *v) {
        for (size_t i = 0; i < v->n_buckets; i++)
                while (v->buckets[i]) {
                        NfsIndexEntry *e = v->buckets[i];
                        v->buckets[i] = e->next;
                        free(e);
                }
        free(v->buckets);
        v->buckets = NULL;
        v->n_buckets = v->n_entries = 0;
}

static int index_grow(NfsVol *v) {
        size_t n = v->n_buckets ? v->n_buckets * 2 : 256;
        NfsIndexEntry **b = calloc(n, sizeof(*b));
        NfsIndexEntry **old = v->buckets;
        size_t old_n = v->n_buckets;

        if (!b)
                return -ENOMEM;
        v->buckets = b;
        v->n_buckets = n;
        for (size_t i = 0; i < old_n; i++)
                while (old[i]) {
                        NfsIndexEntry *e = old[i];
                        old[i] = e->next;
                        size_t k = bucket_of(v, e->ino);
                        e->next = b[k];
                        b[k] = e;
                }
        free(old);
        return 0;
}

int nfs_vol_index_add(NfsVol *v, uint64_t ino, uint64_t parent, const char *name) {
        NfsIndexEntry *e;
        size_t len = strlen(name), k;

        if (ino == v->root_ino)
                return 0;
        e = index_find(v, ino);
        if (e && e->parent == parent && streq(e->name, name))
                return 0;
        if (e)
                nfs_vol_index_remove(v, ino);
        if (v->n_entries >= NFS_INDEX_MAX)
                return -ENOSPC;
        if (v->n_entries >= v->n_buckets && index_grow(v) < 0)
                return -ENOMEM;
        e = malloc(sizeof(*e) + len + 1);
        if (!e)
                return -ENOMEM;
        e->ino = ino;
        e->parent = parent;
        memcpy(e->name, name, len + 1);
        k = bucket_of(v, ino);
        e->next = v->buckets[k];
        v->buckets[k] = e;
        v->n_entries++;
        return 0;
}

void nfs_vol_index_remove(NfsVol *v, uint64_t ino) {
        if (v->n_buckets == 0)
                return;
        for (NfsIndexEntry **p = &v->buckets[bucket_of(v, ino)]; *p; p = &(*p)->next)
                if ((*p)->ino == ino) {
                        NfsIndexEntry *e = *p;
                        *p = e->next;
                        free(e);
                        v->n_entries--;
                        return;
                }
}

/* Components from the root down to ino, into comps[] (deepest last). */
static int index_chain(const NfsVol *v, uint64_t ino, const char **comps, unsigned *ret_n) {
        unsigned n = 0;

        while (ino != v->root_ino) {
                NfsIndexEntry *e = index_find(v, ino);
                if (!e || n >= NFS_DEPTH_MAX)
                        return -ENOENT;
                comps[n++] = e->name;
                ino = e->parent;
        }
        for (unsigned i = 0; i < n / 2; i++) {
                const char *t = comps[i];
                comps[i] = comps[n - 1 - i];
                comps[n - 1 - i] = t;
        }
        *ret_n = n;
        return 0;
}

int nfs_vol_depth(NfsVol *v, uint64_t dir_ino, unsigned *ret_depth) {
        const char *comps[NFS_DEPTH_MAX];
        return index_chain(v, dir_ino, comps, ret_depth);
}

/* ---- generation ---- */

static uint32_t gen_from_btime(const struct statx *sx) {
        uint64_t x;

        if (!(sx->stx_mask & STATX_BTIME))
                return 0;
        x = (uint64_t) sx->stx_btime.tv_sec * 1000000007u ^ sx->stx_btime.tv_nsec;
        x ^= x >> 33;
        x *= UINT64_C(0xff51afd7ed558ccd);
        x ^= x >> 33;
        return (uint32_t) x;
}

static bool gen_needs_ioctl(const NfsVol *v, const struct statx *sx) {
        return v->gen_ioctl && (S_ISREG(sx->stx_mode) || S_ISDIR(sx->stx_mode));
}

uint32_t nfs_vol_gen(const NfsVol *v, int fd, const struct statx *sx) {
        int g;

        if (gen_needs_ioctl(v, sx) && fd >= 0 && ioctl(fd, FS_IOC_GETVERSION, &g) >= 0)
                return (uint32_t) g;
        return gen_from_btime(sx);
}

/* The generation of dir/name, just statx'ed into sx, without opening it: the same number
 * nfs_vol_gen() would compute on an fd. -EOPNOTSUPP when that takes an open.
 *
 * Order matters: statx first, the handle second. If the name is replaced in between, the
 * handle names another inode number (-ESTALE: the caller opens and re-stats) or, should the
 * new file have reused the number, carries the new file's generation, so the NFS handle
 * made from it resolves to the file the name now denotes (with attributes a moment old, as
 * any attributes may be), never to a removed one. */
static int gen_by_name(const NfsVol *v, int dir_fd, const char *name, const struct statx *sx,
                       uint32_t *ret) {
        if (!gen_needs_ioctl(v, sx)) {
                *ret = gen_from_btime(sx);
                return 0;
        }
        return nfs_fsgen_at(&v->fsgen, dir_fd, name, sx->stx_ino, ret);
}

static uint8_t type_of(mode_t m) {
        return S_ISREG(m)   ? NFS_HANDLE_REG
               : S_ISDIR(m) ? NFS_HANDLE_DIR
               : S_ISLNK(m) ? NFS_HANDLE_LNK
                            : NFS_HANDLE_OTHER;
}

#define STATX_WANT (STATX_BASIC_STATS | STATX_BTIME)

static int obj_fill(const NfsVol *v, int fd, NfsObj *o) {
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_WANT, &o->sx) < 0)
                return -errno;
        o->fd = fd;
        o->type = type_of(o->sx.stx_mode);
        o->gen = nfs_vol_gen(v, fd, &o->sx);
        return 0;
}

/* ---- fd cache ---- */

/* Hands o's own fd to the volume's cache; o then borrows it. Nothing happens when the
 * cache cannot take it (o keeps its fd). */
static void obj_cache(NfsVol *v, NfsObj *o, bool rw) {
        NfsFdEntry *e;

        if (o->cached || o->fd < 0)
                return;
        e = nfs_fdcache_add(&v->fds, o->fd, o->sx.stx_ino, o->gen, o->type, rw, &o->sx);
        if (e)
                o->cached = e;
}

/* The cached fd of ino, with fresh attributes, if it still is that (named) object. */
static int obj_from_cache(NfsVol *v, uint64_t ino, bool need_rw, NfsObj *ret) {
        NfsFdEntry *e = nfs_fdcache_get(&v->fds, ino, need_rw);
        NfsObj o = NFS_OBJ_NULL;

        if (!e)
                return -ENOENT;
        if (statx(e->fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_WANT, &o.sx) < 0 ||
            !nfs_fdcache_valid(e, &o.sx)) {
                /* Removed behind our back, or its owner or mode changed: open it afresh. */
                nfs_fdcache_put(e);
                nfs_fdcache_forget(&v->fds, ino);
                return -ENOENT;
        }
        o.fd = e->fd;
        o.cached = e;
        o.gen = e->gen;
        o.type = e->type;
        *ret = o;
        return 0;
}

void nfs_vol_forget(NfsVol *v, uint64_t ino) {
        nfs_fdcache_forget(&v->fds, ino);
}

void nfs_vol_forget_all(NfsVol *v) {
        nfs_fdcache_clear(&v->fds);
}

int nfs_vol_refresh(NfsObj *o) {
        return statx(o->fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_WANT, &o->sx) < 0 ? -errno : 0;
}

void nfs_vol_handle(const NfsVol *v, const NfsObj *o, NfsHandle *ret) {
        *ret = (NfsHandle){ .volume_key = v->key, .ino = o->sx.stx_ino, .gen = o->gen, .type = o->type };
}

/* ---- opening ---- */

static int flags_for(uint8_t type, NfsOpen mode) {
        switch (type) {
        case NFS_HANDLE_REG:
                return (mode == NFS_OPEN_WRITE ? O_RDWR : O_RDONLY) | O_NOCTTY | O_NONBLOCK;
        case NFS_HANDLE_DIR:
                return O_RDONLY | O_DIRECTORY;
        default:
                return O_PATH;
        }
}

static int open_walk(int root_fd, const char *const *comps, unsigned n, int flags) {
        _cleanup_close_ int cur = -1;

        for (unsigned i = 0; i < n; i++) {
                bool last = i + 1 == n;
                int fd = openat(cur >= 0 ? cur : root_fd, comps[i],
                                (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                safe_close(cur);
                cur = fd;
        }
        return TAKE_FD(cur);
}

static int open_beneath(int root_fd, const char *const *comps, unsigned n, int flags) {
        static bool no_openat2 = false;
        char path[4096 + 256];
        size_t len = 0;
        int fd;

        if (n == 0) {
                fd = openat(root_fd, ".", flags | O_CLOEXEC);
                return fd < 0 ? -errno : fd;
        }
        if (!no_openat2) {
                for (unsigned i = 0; i < n; i++) {
                        size_t k = strlen(comps[i]);
                        if (len + k + 2 > sizeof(path))
                                return -ENAMETOOLONG;
                        if (i > 0)
                                path[len++] = '/';
                        memcpy(path + len, comps[i], k);
                        len += k;
                }
                path[len] = '\0';
                struct open_how how = {
                        .flags = (uint64_t) (flags | O_NOFOLLOW | O_CLOEXEC),
                        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                                   RESOLVE_NO_XDEV,
                };
                fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
                if (fd >= 0)
                        return fd;
                if (errno != ENOSYS && errno != EPERM)
                        return -errno;
                /* ENOSYS: old kernel; EPERM: a seccomp filter (containers) refusing it. */
                no_openat2 = true;
        }
        return open_walk(root_fd, comps, n, flags);
}

/* ---- scanning ---- */

static int scan_dir(NfsVol *v, int dfd, uint64_t dino, unsigned depth, uint64_t *bytes, uint64_t *entries) {
        _cleanup_close_ int fd = dfd;
        DIR *d;
        struct dirent *de;

        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1;
        while ((de = readdir(d))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (st.st_dev != v->dev)
                        continue;
                if (nfs_vol_index_add(v, st.st_ino, dino, de->d_name) < 0)
                        break;
                (*entries)++;
                *bytes += S_ISREG(st.st_mode) ? (uint64_t) st.st_size : NFS_INODE_CHARGE;
                if (S_ISDIR(st.st_mode) && depth < NFS_DEPTH_MAX) {
                        int sub = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                (void) scan_dir(v, sub, st.st_ino, depth + 1, bytes, entries);
                }
        }
        closedir(d);
        return 0;
}

static int vol_scan(NfsVol *v, bool force) {
        uint64_t now = now_usec(CLOCK_MONOTONIC), bytes = 0, entries = 0;
        int fd;

        if (!force && v->scan_usec != 0 && now - v->scan_usec < NFS_SCAN_INTERVAL_USEC)
                return -EAGAIN;
        fd = openat(v->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        index_clear(v);
        (void) scan_dir(v, fd, v->root_ino, 0, &bytes, &entries);
        v->used_bytes = bytes;
        v->used_entries = entries;
        v->usage_known = true;
        v->scan_usec = now_usec(CLOCK_MONOTONIC);
        return 0;
}

/* ---- public ---- */

int nfs_vol_open(const char *storage_root, const NfsVolumeInfo *info, NfsVol **ret) {
        _cleanup_free_ char *path = asprintf_safe("%s/%s/%s", storage_root, info->tenant, info->volume);
        NfsVol *v;
        NfsObj o = NFS_OBJ_NULL;
        int fd, g, r;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        v = calloc(1, sizeof(*v));
        if (!v) {
                safe_close(fd);
                return -ENOMEM;
        }
        v->info = *info;
        v->key = nfs_volume_key(info->tenant, info->volume);
        v->root_fd = fd;
        v->gen_ioctl = ioctl(fd, FS_IOC_GETVERSION, &g) >= 0;
        r = obj_fill(v, fd, &o);
        if (r < 0) {
                nfs_vol_free(v);
                return r;
        }
        if (v->gen_ioctl)
                nfs_fsgen_learn(&v->fsgen, fd, o.sx.stx_ino, (uint32_t) g);
        v->dev = makedev(o.sx.stx_dev_major, o.sx.stx_dev_minor);
        v->root_ino = o.sx.stx_ino;
        v->root_gen = o.gen;
        *ret = v;
        return 0;
}

NfsVol *nfs_vol_free(NfsVol *v) {
        if (!v)
                return NULL;
        nfs_fdcache_clear(&v->fds);
        index_clear(v);
        safe_close(v->root_fd);
        free(v);
        return NULL;
}

int nfs_vol_root(NfsVol *v, NfsObj *ret) {
        int fd = openat(v->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

        if (fd < 0)
                return -errno;
        r = obj_fill(v, fd, ret);
        if (r < 0)
                safe_close(fd);
        return r;
}

static int try_resolve(NfsVol *v, const NfsHandle *h, NfsOpen mode, NfsObj *ret) {
        const char *comps[NFS_DEPTH_MAX];
        unsigned n = 0;
        NfsObj o = NFS_OBJ_NULL;
        int fd, r;

        r = index_chain(v, h->ino, comps, &n);
        if (r < 0)
                return r;
        fd = open_beneath(v->root_fd, comps, n, flags_for(h->type, mode));
        if (fd < 0)
                return fd == -ELOOP || fd == -ENOTDIR || fd == -EXDEV ? -ENOENT : fd;
        r = obj_fill(v, fd, &o);
        if (r < 0) {
                safe_close(fd);
                return r;
        }
        if (o.sx.stx_ino != h->ino || o.type != h->type) {
                nfs_obj_done(&o);
                return -ENOENT;
        }
        if (o.gen != h->gen && gen_from_btime(&o.sx) != h->gen) {
                nfs_obj_done(&o);
                return -ESTALE;
        }
        obj_cache(v, &o, h->type == NFS_HANDLE_REG && mode == NFS_OPEN_WRITE);
        *ret = o;
        return 0;
}

/* NFS_OPEN_ATTR without an open: the handle's indexed name, looked up in its parent
 * directory (the volume root, or a directory in the fd cache: a single component, nothing
 * to follow) and accepted only when that name is the handle's inode number, type and
 * generation right now. -ENOENT for anything else: the caller takes the opening path, which
 * knows how to tell STALE from moved. */
static int resolve_by_name(NfsVol *v, const NfsHandle *h, NfsObj *ret) {
        NfsIndexEntry *e = index_find(v, h->ino);
        NfsFdEntry *parent = NULL;
        NfsObj o = NFS_OBJ_NULL;
        int dir_fd, r = -ENOENT;

        if (!e)
                return -ENOENT;
        if (e->parent == v->root_ino)
                dir_fd = v->root_fd;
        else {
                parent = nfs_fdcache_get(&v->fds, e->parent, false);
                if (!parent || parent->type != NFS_HANDLE_DIR)
                        goto out;
                dir_fd = parent->fd;
        }
        if (statx(dir_fd, e->name, AT_SYMLINK_NOFOLLOW, STATX_WANT, &o.sx) < 0)
                goto out;
        o.type = type_of(o.sx.stx_mode);
        if (o.sx.stx_ino != h->ino || o.type != h->type ||
            makedev(o.sx.stx_dev_major, o.sx.stx_dev_minor) != v->dev)
                goto out;
        if (gen_by_name(v, dir_fd, e->name, &o.sx, &o.gen) < 0)
                goto out;
        if (o.gen != h->gen && gen_from_btime(&o.sx) != h->gen)
                goto out;
        o.unopened = true;
        *ret = o;
        r = 0;
out:
        nfs_fdcache_put(parent);
        return r;
}

int nfs_vol_resolve(NfsVol *v, const NfsHandle *h, NfsOpen mode, NfsObj *ret) {
        NfsObj o = NFS_OBJ_NULL;
        int r;

        if (h->ino == v->root_ino) {
                if (h->gen != v->root_gen || h->type != NFS_HANDLE_DIR)
                        return -ESTALE;
                if (obj_from_cache(v, h->ino, false, ret) == 0)
                        return 0;
                r = nfs_vol_root(v, ret);
                if (r == 0)
                        obj_cache(v, ret, false);
                return r;
        }
        /* Used a moment ago: the open fd is still that inode (it cannot be reused while we
         * hold it) and still has a name. Anything else takes the path below. */
        if (obj_from_cache(v, h->ino, h->type == NFS_HANDLE_REG && mode == NFS_OPEN_WRITE, &o) == 0) {
                if (o.type == h->type && (o.gen == h->gen || gen_from_btime(&o.sx) == h->gen)) {
                        *ret = o;
                        return 0;
                }
                nfs_obj_done(&o);
        }
        if (mode == NFS_OPEN_ATTR && resolve_by_name(v, h, ret) == 0)
                return 0;
        r = try_resolve(v, h, mode, ret);
        if (r != -ENOENT)
                return r == -ESTALE ? -ESTALE : r;
        /* Unknown or moved: walk the volume once (rate-limited) and retry. */
        if (vol_scan(v, false) < 0)
                return -ESTALE;
        r = try_resolve(v, h, mode, ret);
        return r == -ENOENT ? -ESTALE : r;
}

int nfs_vol_stat_at(NfsVol *v, const NfsObj *dir, const char *name, NfsObj *ret) {
        NfsObj o = NFS_OBJ_NULL;
        NfsFdEntry *e;
        int fd, r;

        if (statx(dir->fd, name, AT_SYMLINK_NOFOLLOW, STATX_WANT, &o.sx) < 0)
                return -errno;
        o.type = type_of(o.sx.stx_mode);
        if (makedev(o.sx.stx_dev_major, o.sx.stx_dev_minor) != v->dev)
                return -EXDEV;
        e = nfs_fdcache_get(&v->fds, o.sx.stx_ino, false);
        if (e && e->type == o.type && nfs_fdcache_valid(e, &o.sx)) {
                /* The name is that cached inode (alive, so its number is its own). */
                o.fd = e->fd;
                o.cached = e;
                o.gen = e->gen;
        } else {
                if (e) {
                        nfs_fdcache_put(e);
                        nfs_fdcache_forget(&v->fds, o.sx.stx_ino);
                }
                if (gen_by_name(v, dir->fd, name, &o.sx, &o.gen) == 0) {
                        /* A handle and attributes need no fd: the next request on the handle
                         * opens it, if one comes. */
                        o.unopened = true;
                        (void) nfs_vol_index_add(v, o.sx.stx_ino, dir->sx.stx_ino, name);
                        *ret = o;
                        return 0;
                }
                fd = openat(dir->fd, name, flags_for(o.type, NFS_OPEN_READ) | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                r = obj_fill(v, fd, &o);
                if (r < 0) {
                        safe_close(fd);
                        return r;
                }
                obj_cache(v, &o, false);
        }
        (void) nfs_vol_index_add(v, o.sx.stx_ino, dir->sx.stx_ino, name);
        *ret = o;
        return 0;
}

int nfs_vol_adopt(NfsVol *v, const NfsObj *dir, const char *name, int fd, bool rw, NfsObj *ret) {
        NfsObj o = NFS_OBJ_NULL;
        int r;

        r = obj_fill(v, fd, &o);
        if (r < 0)
                return r;
        if (makedev(o.sx.stx_dev_major, o.sx.stx_dev_minor) != v->dev)
                return -EXDEV;
        /* A fresh open of this inode replaces whatever the cache held for it. */
        obj_cache(v, &o, rw && o.type == NFS_HANDLE_REG);
        (void) nfs_vol_index_add(v, o.sx.stx_ino, dir->sx.stx_ino, name);
        *ret = o;
        return 0;
}

int nfs_vol_lookup(NfsVol *v, const NfsObj *dir, const char *name, NfsObj *ret) {
        if (streq(name, "."))
                return nfs_vol_stat_at(v, dir, ".", ret) < 0 ? -ENOENT : 0;
        if (streq(name, "..")) {
                const char *comps[NFS_DEPTH_MAX];
                NfsIndexEntry *e;
                unsigned n;
                int fd, r;

                if (dir->sx.stx_ino == v->root_ino)
                        return nfs_vol_root(v, ret);
                e = index_find(v, dir->sx.stx_ino);
                if (!e && vol_scan(v, false) == 0)
                        e = index_find(v, dir->sx.stx_ino);
                if (!e)
                        return -ESTALE;
                if (e->parent == v->root_ino)
                        return nfs_vol_root(v, ret);
                if (index_chain(v, e->parent, comps, &n) < 0)
                        return -ESTALE;
                fd = open_beneath(v->root_fd, comps, n, O_RDONLY | O_DIRECTORY);
                if (fd < 0)
                        return -ESTALE;
                r = obj_fill(v, fd, ret);
                if (r < 0)
                        safe_close(fd);
                return r;
        }
        if (!nfs_name_is_valid(name))
                return -EINVAL;
        return nfs_vol_stat_at(v, dir, name, ret);
}

int nfs_vol_usage(NfsVol *v, uint64_t *ret) {
        if (!v->usage_known)
                (void) vol_scan(v, true);
        *ret = v->used_bytes;
        return 0;
}

void nfs_vol_usage_add(NfsVol *v, int64_t delta) {
        if (!v->usage_known)
                return;
        if (delta < 0 && (uint64_t) -delta > v->used_bytes)
                v->used_bytes = 0;
        else
                v->used_bytes += (uint64_t) delta;
}

int nfs_vol_quota_check(NfsVol *v, uint64_t grow) {
        uint64_t used;

        if (v->info.size_limit == 0 || grow == 0)
                return 0;
        (void) nfs_vol_usage(v, &used);
        if (used + grow <= v->info.size_limit && used + grow >= used)
                return 0;
        /* Someone else may have freed space since: look again (rate-limited). */
        if (vol_scan(v, false) == 0 && v->used_bytes + grow <= v->info.size_limit)
                return 0;
        return -EDQUOT;
}

int nfs_vol_quota_check_entry(NfsVol *v, uint64_t grow) {
        uint64_t used;

        (void) nfs_vol_usage(v, &used);
        if (v->max_entries > 0 && v->used_entries >= v->max_entries &&
            (vol_scan(v, false) < 0 || v->used_entries >= v->max_entries))
                return -EDQUOT;
        return nfs_vol_quota_check(v, grow);
}

void nfs_vol_entries_add(NfsVol *v, int64_t delta) {
        if (!v->usage_known)
                return;
        if (delta < 0 && (uint64_t) -delta > v->used_entries)
                v->used_entries = 0;
        else
                v->used_entries += (uint64_t) delta;
}

void nfs_vol_usage_remove(NfsVol *v, mode_t mode, uint64_t size, bool last_name) {
        nfs_vol_entries_add(v, -1);
        if (!S_ISREG(mode))
                nfs_vol_usage_add(v, -(int64_t) NFS_INODE_CHARGE);
        else if (last_name)
                nfs_vol_usage_add(v, -(int64_t) size);
}

int nfs_vol_link(NfsVol *v, const NfsObj *file, const NfsObj *dir, const char *name) {
        const char *comps[NFS_DEPTH_MAX];
        _cleanup_close_ int parent = -1;
        struct statx sx;
        unsigned n;
        int r;

        r = index_chain(v, file->sx.stx_ino, comps, &n);
        if (r < 0 || n == 0)
                return -ESTALE;
        parent = open_beneath(v->root_fd, comps, n - 1, O_PATH | O_DIRECTORY);
        if (parent < 0)
                return -ESTALE;
        if (linkat(parent, comps[n - 1], dir->fd, name, 0) < 0)
                return -errno;
        if (statx(dir->fd, name, AT_SYMLINK_NOFOLLOW, STATX_INO, &sx) < 0 ||
            sx.stx_ino != file->sx.stx_ino) {
                (void) unlinkat(dir->fd, name, 0);
                return -ESTALE;
        }
        return 0;
}

void nfs_vol_cookieverf(const NfsVol *v, const uint8_t key[NFS_HANDLE_KEY_SIZE], const NfsObj *dir,
                        uint8_t ret[8]) {
        NfsHandle h;
        uint8_t fh[NFS_HANDLE_SIZE];

        nfs_vol_handle(v, dir, &h);
        nfs_handle_encode(key, &h, fh);
        /* The MAC part of the directory's own handle: stable for the directory's life. */
        memcpy(ret, fh + NFS_HANDLE_SIZE - 8, 8);
}
