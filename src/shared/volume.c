/* volume.c — see volume.h. Every walk is fd-relative (openat/fstatat with
 * AT_SYMLINK_NOFOLLOW, O_NOFOLLOW|O_DIRECTORY), so a symlink planted inside a volume can
 * never make us read or delete outside it. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macros.h"
#include "util.h"
#include "volume-userns.h"
#include "volume.h"

int volume_path(const char *root, const char *tenant, const char *id, char **ret) {
        char *p;

        if (isempty(root) || !id_is_valid(tenant) || !id_is_valid(id))
                return -EINVAL;
        p = asprintf_safe("%s/%s/%s", root, tenant, id);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* Opens root/<tenant> as a directory fd (never through a symlink at the tenant level). */
static int open_tenant_dir(const char *root, const char *tenant, bool create, int *ret) {
        _cleanup_close_ int rfd = -EBADF, tfd = -EBADF;

        if (isempty(root) || !id_is_valid(tenant))
                return -EINVAL;
        if (create && mkdir_p(root, 0755) < 0 && errno != EEXIST)
                return -errno;
        rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0)
                return -errno;
        if (create && mkdirat(rfd, tenant, 0755) < 0 && errno != EEXIST)
                return -errno;
        tfd = openat(rfd, tenant, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tfd < 0)
                return errno == ELOOP ? -ENOTDIR : -errno;
        *ret = TAKE_FD(tfd);
        return 0;
}

typedef struct DirArgs {
        const char *root, *tenant, *id;
        uid_t uid;
        gid_t gid;
        mode_t mode;
        uint64_t max_entries;
} DirArgs;

static int dir_create(void *userdata, void *out, size_t out_size, int *ret_fd) {
        const DirArgs *a = userdata;
        const char *root = a->root, *tenant = a->tenant, *id = a->id;
        uid_t uid = a->uid;
        gid_t gid = a->gid;
        mode_t mode = a->mode;
        _cleanup_close_ int tfd = -EBADF, vfd = -EBADF;
        struct stat st;
        int r;

        r = open_tenant_dir(root, tenant, true, &tfd);
        if (r < 0)
                return r;
        if (mkdirat(tfd, id, 0700) < 0)
                return -errno;
        vfd = openat(tfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (vfd < 0 || fstat(vfd, &st) < 0)
                r = -errno;
        /* A directory that is already uid:gid's (keep-id: this process's own) is not chowned:
         * the shipped user unit's seccomp filter refuses every chown (~@privileged). */
        else if (((st.st_uid != uid || st.st_gid != gid) && fchown(vfd, uid, gid) < 0) ||
                 fchmod(vfd, mode & 07777) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(tfd, id, AT_REMOVEDIR);
                return r;
        }
        return 0;
}

int volume_dir_create(const char *root, const char *tenant, const char *id, uid_t uid, gid_t gid,
                      mode_t mode) {
        if (!id_is_valid(id))
                return -EINVAL;
        return volume_userns_call(
                dir_create,
                &(DirArgs){ .root = root, .tenant = tenant, .id = id, .uid = uid, .gid = gid, .mode = mode },
                NULL, 0, NULL);
}

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

typedef struct Walk {
        uint64_t entries;
        uint64_t max_entries; /* 0: VOLUME_WALK_MAX_ENTRIES */
        uint64_t bytes;
        dev_t dev;
        bool remove;
} Walk;

/* Visits the entries of directory dfd (consumed). For remove, empties it. */
static int walk_dir(int dfd, unsigned depth, Walk *w) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r = 0;

        if (depth > VOLUME_WALK_MAX_DEPTH) {
                (void) close(dfd);
                return -ELOOP;
        }
        d = fdopendir(dfd);
        if (!d) {
                (void) close(dfd);
                return -errno;
        }
        for (;;) {
                struct dirent *de;
                struct stat st;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return -errno;
                        break;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (++w->entries > (w->max_entries ?: VOLUME_WALK_MAX_ENTRIES))
                        return -E2BIG;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (S_ISDIR(st.st_mode)) {
                        int sub;

                        if (st.st_dev != w->dev)
                                return -EXDEV; /* a mount inside a volume: never cross */
                        sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                if (errno == ENOENT)
                                        continue;
                                return -errno;
                        }
                        r = walk_dir(sub, depth + 1, w);
                        if (r < 0)
                                return r;
                        if (w->remove && unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                                return -errno;
                        continue;
                }
                if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
                        w->bytes += (uint64_t) st.st_size;
                if (w->remove && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
                        return -errno;
        }
        return 0;
}

static int open_volume_dir(const char *root, const char *tenant, const char *id, int *ret_tfd,
                           int *ret_vfd) {
        _cleanup_close_ int tfd = -EBADF, vfd = -EBADF;
        int r;

        if (!id_is_valid(id))
                return -EINVAL;
        r = open_tenant_dir(root, tenant, false, &tfd);
        if (r < 0)
                return r;
        vfd = openat(tfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (vfd < 0)
                return errno == ELOOP ? -ENOTDIR : -errno;
        *ret_vfd = TAKE_FD(vfd);
        if (ret_tfd)
                *ret_tfd = TAKE_FD(tfd);
        return 0;
}

/* Walks the volume directory vfd (consumed) with w, never leaving its file system. */
static int walk_volume_dir(int vfd, Walk *w) {
        struct stat st;
        int r;

        if (fstat(vfd, &st) < 0) {
                r = -errno;
                (void) close(vfd);
                return r;
        }
        w->dev = st.st_dev;
        return walk_dir(vfd, 0, w);
}

int volume_dir_bytes_used(const char *root, const char *tenant, const char *id, uint64_t *ret) {
        return volume_dir_usage(root, tenant, id, 0, ret);
}

static int dir_usage(void *userdata, void *out, size_t out_size, int *ret_fd) {
        const DirArgs *a = userdata;
        Walk w = { .max_entries = a->max_entries };
        int vfd = -EBADF, r;

        assert(out_size == sizeof w.bytes);
        r = open_volume_dir(a->root, a->tenant, a->id, NULL, &vfd);
        if (r < 0)
                return r;
        r = walk_volume_dir(vfd, &w);
        if (r < 0)
                return r;
        memcpy(out, &w.bytes, sizeof w.bytes);
        return 0;
}

int volume_dir_usage(const char *root, const char *tenant, const char *id, uint64_t max_entries,
                     uint64_t *ret) {
        uint64_t bytes;
        int r;

        r = volume_userns_call(
                dir_usage,
                &(DirArgs){ .root = root, .tenant = tenant, .id = id, .max_entries = max_entries }, &bytes,
                sizeof bytes, NULL);
        if (r < 0)
                return r;
        *ret = bytes;
        return 0;
}

static int dir_remove(void *userdata, void *out, size_t out_size, int *ret_fd) {
        const DirArgs *a = userdata;
        const char *id = a->id;
        _cleanup_close_ int tfd = -EBADF;
        Walk w = { .remove = true };
        int vfd = -EBADF, r;

        r = open_volume_dir(a->root, a->tenant, id, &tfd, &vfd);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = walk_volume_dir(vfd, &w);
        if (r < 0)
                return r;
        if (unlinkat(tfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int volume_dir_remove(const char *root, const char *tenant, const char *id) {
        return volume_userns_call(dir_remove, &(DirArgs){ .root = root, .tenant = tenant, .id = id }, NULL,
                                  0, NULL);
}

int volume_parse_size_limit(const char *s, uint64_t *ret) {
        if (isempty(s))
                return -EINVAL;
        return parse_size(s, ret);
}

int volume_dir_empty_fd(int dfd) {
        Walk w = { .remove = true };

        assert(dfd >= 0);
        return walk_volume_dir(dfd, &w);
}
