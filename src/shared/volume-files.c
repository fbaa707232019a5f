/* volume-files.c — see volume-files.h. Nothing here takes a path from the root of the host:
 * every call is relative to a descriptor of the volume or of a directory opened beneath it. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macros.h"
#include "util.h"
#include "volume-files.h"
#include "volume-userns.h"
#include "volume.h"

static const char *const file_type_table[_VOLUME_FILE_TYPE_MAX] = {
        [VOLUME_FILE_REGULAR] = "file",
        [VOLUME_FILE_DIRECTORY] = "dir",
        [VOLUME_FILE_SYMLINK] = "symlink",
        [VOLUME_FILE_OTHER] = "other",
};

const char *volume_file_type_to_string(VolumeFileType t) {
        return t >= 0 && t < _VOLUME_FILE_TYPE_MAX ? file_type_table[t] : NULL;
}

void volume_entry_array_free(VolumeEntry *a, size_t n) {
        for (size_t i = 0; a && i < n; i++)
                free(a[i].name);
        free(a);
}

int volume_path_split(const char *path, char ***ret) {
        _cleanup_(strv_freep) char **l = NULL;
        const char *p = strempty(path);

        assert(ret);
        if (strlen(p) > VOLUME_CLIENT_PATH_MAX)
                return -EINVAL;
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        while (*p) {
                size_t n = strcspn(p, "/");
                _cleanup_free_ char *c = NULL;

                if (n == 0 || (n == 1 && p[0] == '.')) {
                        p += n + (p[n] == '/');
                        continue;
                }
                if ((n == 2 && p[0] == '.' && p[1] == '.') || n > NAME_MAX)
                        return -EINVAL;
                c = strndup(p, n);
                if (!c || strv_extend(&l, c) < 0)
                        return -ENOMEM;
                p += n + (p[n] == '/');
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int open_walk(int vfd, char *const *comps, size_t n, int flags) {
        _cleanup_close_ int cur = -EBADF;
        struct stat root, st;

        if (fstat(vfd, &root) < 0)
                return -errno;
        for (size_t i = 0; i < n; i++) {
                bool last = i + 1 == n;
                int fd = openat(cur >= 0 ? cur : vfd, comps[i],
                                (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return errno == ENOTDIR && !last ? -ENOTDIR : -errno;
                safe_close(cur);
                cur = fd;
                if (fstat(cur, &st) < 0)
                        return -errno;
                if (st.st_dev != root.st_dev)
                        return -EXDEV;
        }
        return TAKE_FD(cur);
}

static int open_beneath(int vfd, char *const *comps, size_t n, int flags) {
        static bool no_openat2 = false;
        _cleanup_free_ char *path = NULL;
        int fd;

        assert(vfd >= 0);
        if (n == 0) {
                fd = openat(vfd, ".", flags | O_CLOEXEC);
                return fd < 0 ? -errno : fd;
        }
        if (!no_openat2) {
                path = strjoin_sep("/", (const char *const *) comps, n);
                if (!path)
                        return -ENOMEM;
                struct open_how how = {
                        .flags = (uint64_t) (flags | O_NOFOLLOW | O_CLOEXEC),
                        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                                   RESOLVE_NO_XDEV,
                };
                fd = (int) syscall(SYS_openat2, vfd, path, &how, sizeof how);
                if (fd >= 0)
                        return fd;
                if (errno != ENOSYS && errno != EPERM)
                        return -errno;
                no_openat2 = true; /* an old kernel, or a seccomp filter refusing it */
        }
        return open_walk(vfd, comps, n, flags);
}

static int mkdir_at(int dfd, const char *name, uid_t uid, gid_t gid) {
        _cleanup_close_ int fd = -EBADF;

        if (mkdirat(dfd, name, 0770) < 0)
                return errno == EEXIST ? 0 : -errno;
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                (void) fchown(fd, uid, gid); /* only root may; others keep their own */
        return 0;
}

typedef struct Args {
        int vfd, dfd, tdfd;
        char *const *comps;
        size_t n;
        int flags;
        uid_t uid;
        gid_t gid;
        bool create;
        const char *name, *to;
        const char *path;
} Args;

static int call_open_beneath(void *userdata, void *out, size_t out_size, int *ret_fd) {
        const Args *a = userdata;
        int fd = open_beneath(a->vfd, a->comps, a->n, a->flags);

        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

int volume_open_beneath(int vfd, char *const *comps, size_t n, int flags) {
        int fd = -EBADF, k;

        assert(vfd >= 0);
        k = volume_userns_call(call_open_beneath,
                               &(Args){ .vfd = vfd, .comps = comps, .n = n, .flags = flags }, NULL, 0, &fd);
        return k < 0 ? k : fd;
}

static int call_open_path(void *userdata, void *out, size_t out_size, int *ret_fd) {
        const Args *a = userdata;
        int fd = open(a->path, a->flags | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int volume_open_path(const char *path, int flags) {
        int fd = -EBADF, k;

        assert(path);
        k = volume_userns_call(call_open_path, &(Args){ .path = path, .flags = flags }, NULL, 0, &fd);
        return k < 0 ? k : fd;
}

static int mkdir_beneath(int vfd, char *const *comps, size_t n, uid_t uid, gid_t gid) {
        int k;

        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int parent = open_beneath(vfd, comps, i, O_PATH | O_DIRECTORY);
                if (parent < 0)
                        return parent;
                k = mkdir_at(parent, comps[i], uid, gid);
                if (k < 0)
                        return k;
        }
        /* What exists now must be a directory reached without a link. */
        _cleanup_close_ int fd = open_beneath(vfd, comps, n, O_PATH | O_DIRECTORY);
        return fd < 0 ? fd : 0;
}

static int call_mkdir_p(void *userdata, void *out, size_t out_size, int *ret_fd) {
        const Args *a = userdata;
        return mkdir_beneath(a->vfd, a->comps, a->n, a->uid, a->gid);
}

int volume_mkdir_p(int vfd, char *const *comps, size_t n, uid_t uid, gid_t gid) {
        return volume_userns_call(call_mkdir_p,
                                  &(Args){ .vfd = vfd, .comps = comps, .n = n, .uid = uid, .gid = gid },
                                  NULL, 0, NULL);
}

static int call_open_parent(void *userdata, void *out, size_t out_size, int *ret_fd) {
        const Args *a = userdata;
        int fd, k;

        if (a->create) {
                k = mkdir_beneath(a->vfd, a->comps, a->n - 1, a->uid, a->gid);
                if (k < 0)
                        return k;
        }
        fd = open_beneath(a->vfd, a->comps, a->n - 1, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

int volume_open_parent(int vfd, char *const *comps, size_t n, bool create, uid_t uid, gid_t gid,
                       int *ret_fd) {
        assert(n >= 1);
        assert(ret_fd);
        return volume_userns_call(
                call_open_parent,
                &(Args){ .vfd = vfd, .comps = comps, .n = n, .create = create, .uid = uid, .gid = gid },
                NULL, 0, ret_fd);
}

static int entry_cmp(const void *a, const void *b) {
        return strcmp(((const VolumeEntry *) a)->name, ((const VolumeEntry *) b)->name);
}

static VolumeFileType type_of(mode_t m) {
        return S_ISREG(m)   ? VOLUME_FILE_REGULAR
               : S_ISDIR(m) ? VOLUME_FILE_DIRECTORY
               : S_ISLNK(m) ? VOLUME_FILE_SYMLINK
                            : VOLUME_FILE_OTHER;
}

static int list_dir(int dfd, VolumeEntry **ret, size_t *ret_n) {
        VolumeEntry *a = NULL;
        size_t n = 0, alloc = 0;
        DIR *d;
        int fd, k = 0;

        assert(ret);
        assert(ret_n);
        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                k = -errno;
                (void) close(fd);
                return k;
        }
        for (;;) {
                struct dirent *de;
                struct stat st;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        k = errno != 0 ? -errno : 0;
                        break;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, "..") ||
                    startswith(de->d_name, VOLUME_UPLOAD_TMP_PREFIX))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        k = -errno;
                        break;
                }
                if (n >= VOLUME_LIST_MAX) {
                        k = -E2BIG;
                        break;
                }
                if (n == alloc) {
                        size_t na = MAX(alloc * 2, (size_t) 16);
                        VolumeEntry *b = realloc(a, na * sizeof *a);
                        if (!b) {
                                k = -ENOMEM;
                                break;
                        }
                        a = b;
                        alloc = na;
                }
                a[n] = (VolumeEntry){
                        .name = strdup(de->d_name),
                        .type = type_of(st.st_mode),
                        .size = (uint64_t) st.st_size,
                        .mtime_usec = (uint64_t) st.st_mtim.tv_sec * USEC_PER_SEC +
                                      (uint64_t) st.st_mtim.tv_nsec / 1000,
                };
                if (!a[n].name) {
                        k = -ENOMEM;
                        break;
                }
                n++;
        }
        (void) closedir(d);
        if (k < 0) {
                volume_entry_array_free(a, n);
                return k;
        }
        if (n > 0)
                qsort(a, n, sizeof *a, entry_cmp);
        *ret = a;
        *ret_n = n;
        return 0;
}

/* The entries as the child hands them back: a memfd of records (type, size, mtime, name
 * length, name). */
typedef struct EntryRecord {
        uint32_t type;
        uint32_t name_len;
        uint64_t size, mtime_usec;
} EntryRecord;

static int call_list_dir(void *userdata, void *out, size_t out_size, int *ret_fd) {
        const Args *a = userdata;
        _cleanup_close_ int fd = -EBADF;
        VolumeEntry *e = NULL;
        size_t n = 0;
        int k;

        k = list_dir(a->dfd, &e, &n);
        if (k < 0)
                return k;
        fd = memfd_create("aegis-volume-list", MFD_CLOEXEC);
        if (fd < 0)
                k = -errno;
        for (size_t i = 0; k >= 0 && i < n; i++) {
                EntryRecord r = { .type = e[i].type,
                                  .name_len = (uint32_t) strlen(e[i].name),
                                  .size = e[i].size,
                                  .mtime_usec = e[i].mtime_usec };
                if (write(fd, &r, sizeof r) != (ssize_t) sizeof r ||
                    write(fd, e[i].name, r.name_len) != (ssize_t) r.name_len)
                        k = errno > 0 ? -errno : -EIO;
        }
        volume_entry_array_free(e, n);
        if (k < 0)
                return k;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int volume_list_dir(int dfd, VolumeEntry **ret, size_t *ret_n) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        VolumeEntry *a = NULL;
        size_t n = 0, len, off = 0;
        struct stat st;
        int k;

        assert(ret);
        assert(ret_n);
        if (!volume_userns_pid_file())
                return list_dir(dfd, ret, ret_n);
        k = volume_userns_call(call_list_dir, &(Args){ .dfd = dfd }, NULL, 0, &fd);
        if (k < 0)
                return k;
        if (fstat(fd, &st) < 0)
                return -errno;
        len = (size_t) st.st_size;
        buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        if (pread(fd, buf, len, 0) != (ssize_t) len)
                return -EIO;
        /* At most VOLUME_LIST_MAX records, each at least a header long. */
        a = calloc(MAX(MIN(len / sizeof(EntryRecord), (size_t) VOLUME_LIST_MAX), (size_t) 1), sizeof *a);
        if (!a)
                return -ENOMEM;
        while (off + sizeof(EntryRecord) <= len && n < VOLUME_LIST_MAX) {
                EntryRecord r;
                memcpy(&r, buf + off, sizeof r);
                off += sizeof r;
                if (r.name_len > len - off || r.type >= _VOLUME_FILE_TYPE_MAX) {
                        volume_entry_array_free(a, n);
                        return -EIO;
                }
                a[n] = (VolumeEntry){ .name = strndup(buf + off, r.name_len),
                                      .type = (VolumeFileType) r.type,
                                      .size = r.size,
                                      .mtime_usec = r.mtime_usec };
                off += r.name_len;
                if (!a[n].name) {
                        volume_entry_array_free(a, n);
                        return -ENOMEM;
                }
                n++;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

static int remove_at(int dfd, const char *name) {
        struct stat st, parent;
        int sub, k;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
        if (fstat(dfd, &parent) < 0)
                return -errno;
        if (st.st_dev != parent.st_dev)
                return -EXDEV;
        sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
                return -errno;
        k = volume_dir_empty_fd(sub);
        if (k < 0)
                return k;
        return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

static int call_remove_at(void *userdata, void *out, size_t out_size, int *ret_fd) {
        const Args *a = userdata;
        return remove_at(a->dfd, a->name);
}

int volume_remove_at(int dfd, const char *name) {
        assert(dfd >= 0);
        assert(name);
        return volume_userns_call(call_remove_at, &(Args){ .dfd = dfd, .name = name }, NULL, 0, NULL);
}

static int call_unlink_at(void *userdata, void *out, size_t out_size, int *ret_fd) {
        const Args *a = userdata;
        return unlinkat(a->dfd, a->name, 0) < 0 ? -errno : 0;
}

int volume_unlink_at(int dfd, const char *name) {
        assert(dfd >= 0);
        assert(name);
        return volume_userns_call(call_unlink_at, &(Args){ .dfd = dfd, .name = name }, NULL, 0, NULL);
}

static int call_rename_at(void *userdata, void *out, size_t out_size, int *ret_fd) {
        const Args *a = userdata;
        return renameat(a->dfd, a->name, a->tdfd, a->to) < 0 ? -errno : 0;
}

int volume_rename_at(int from_dfd, const char *from, int to_dfd, const char *to) {
        assert(from_dfd >= 0 && to_dfd >= 0);
        assert(from && to);
        return volume_userns_call(call_rename_at,
                                  &(Args){ .dfd = from_dfd, .name = from, .tdfd = to_dfd, .to = to }, NULL,
                                  0, NULL);
}

static int call_tmpfile_at(void *userdata, void *out, size_t out_size, int *ret_fd) {
        const Args *a = userdata;
        char id[ID128_STRING_MAX];
        int fd, k;

        assert(out_size == VOLUME_TMP_NAME_MAX);
        k = random_id(id);
        if (k < 0)
                return k;
        (void) snprintf(out, VOLUME_TMP_NAME_MAX, VOLUME_UPLOAD_TMP_PREFIX "%.16s", id);
        fd = openat(a->dfd, out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0660);
        if (fd < 0)
                return -errno;
        (void) fchown(fd, a->uid, a->gid);
        *ret_fd = fd;
        return 0;
}

int volume_tmpfile_at(int dfd, uid_t uid, gid_t gid, char ret_name[VOLUME_TMP_NAME_MAX], int *ret_fd) {
        assert(ret_fd);
        return volume_userns_call(call_tmpfile_at, &(Args){ .dfd = dfd, .uid = uid, .gid = gid }, ret_name,
                                  VOLUME_TMP_NAME_MAX, ret_fd);
}
