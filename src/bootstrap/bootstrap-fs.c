/* bootstrap-fs.c — the fs tools in the container: one {"type":"dispatch","action":"fs"} message
 * (op read, write, list, create_dir, delete, edit, multi_edit, grep, glob), run natively (no
 * shell: a distroless image has none), answered with {"type":"dispatch_result", …, "result":
 * {…}}. What they do to an open file or directory (reading, replacing, listing, editing,
 * grep's PCRE2 and glob's walks, the bounds and the result objects) is
 * src/shared/fs-tools-core.c, the code aegisd runs on a volume; this file opens by path.
 *
 * aegisd offers the fs tools this way when an execution has no volume (src/aegisd/tools-fs.c
 * runs them on the host otherwise). What must stay true:
 *  - the result object is the one the host-side tools give, field for field and with the
 *    same error texts where they apply, so the model sees one shape; a tool error is a
 *    result {"error": "…"}, never a failed dispatch;
 *  - paths are absolute (aegisd normalizes them; a relative one is taken under /workspace);
 *    the container is the sandbox: the kernel's permissions for the container's user apply,
 *    but nothing under /proc is read (the capability lives in this process's memory);
 *  - a write or an edit replaces the file whole (a temporary file in the same directory,
 *    renamed over it): a shorter text leaves no old bytes; the last component of what is
 *    replaced or removed is never followed, and a recursive delete never follows symlinks
 *    nor crosses mounts;
 *  - bounded as fs-tools-core.h says, so the serialized result stays under the gateway's
 *    request limit (a read is cut, and says so); grep and glob never start inside /proc. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "bootstrap.h"
#include "fs-tools-core.h"

#define FS_PATH_OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC)
#define WORKSPACE "/workspace"

/* open(path) for the shared tools: the fd, or a negative errno they report. */
static int open_path(const char *path, int flags) {
        int fd = open(path, flags | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static const char *arg_str(json_object *d, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(d, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* The absolute path of d's "path" (relative ones under /workspace), without trailing '/'. */
static char *arg_path(json_object *d) {
        const char *p = arg_str(d, "path");
        char *r;
        size_t n;

        if (!p)
                return NULL;
        if (!*p)
                p = WORKSPACE;
        if (p[0] == '/')
                r = strdup(p);
        else if (asprintf(&r, WORKSPACE "/%s", p) < 0)
                r = NULL;
        if (!r)
                return NULL;
        n = strlen(r);
        while (n > 1 && r[n - 1] == '/')
                r[--n] = '\0';
        return r;
}

/* path's parent directory (an O_PATH fd) and its last component; -EBUSY for "/". */
static int open_parent(const char *path, const char **ret_last) {
        const char *slash = strrchr(path, '/');
        char *parent;
        int fd;

        if (!slash || !slash[1])
                return -EBUSY;
        *ret_last = slash + 1;
        if (slash == path)
                return open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        parent = strndup(path, (size_t) (slash - path));
        if (!parent)
                return -ENOMEM;
        fd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        free(parent);
        return fd < 0 ? -errno : fd;
}

/* mkdir -p of path's components (all of them when whole, else all but the last). */
static int make_dirs(const char *path, bool whole, bool *ret_created) {
        char *p = strdup(path), *s;
        int k = 0;

        if (!p)
                return -ENOMEM;
        if (ret_created)
                *ret_created = false;
        for (s = p + 1;; s++) {
                bool final = *s == '\0';
                struct stat st;

                if (*s != '/' && !final)
                        continue;
                if (final && !whole)
                        break;
                *s = '\0';
                if (mkdir(p, 0755) == 0) {
                        if (final && ret_created)
                                *ret_created = true;
                } else if (errno != EEXIST) {
                        k = -errno;
                        break;
                } else if (stat(p, &st) < 0) {
                        k = -errno;
                        break;
                } else if (!S_ISDIR(st.st_mode)) {
                        k = -ENOTDIR;
                        break;
                }
                if (final)
                        break;
                *s = '/';
        }
        free(p);
        return k;
}

/* Replaces path with data: a temporary file in the same directory, renamed over it. */
static int replace_file(const char *path, const char *data, size_t n) {
        const char *last;
        int pfd, k;

        pfd = open_parent(path, &last);
        if (pfd < 0)
                return pfd == -EBUSY ? -EISDIR : pfd;
        k = fs_replace_at(pfd, last, data, n, (uid_t) -1, (gid_t) -1);
        close(pfd);
        return k;
}

static json_object *do_read(json_object *d, const char *path) {
        (void) d;
        return fs_read(open_path(path, FS_PATH_OPEN_FLAGS), path);
}

static json_object *do_write(json_object *d, const char *path) {
        json_object *v, *o;
        size_t n;
        int k;

        if (!json_object_object_get_ex(d, "content", &v) || !json_object_is_type(v, json_type_string))
                return fs_result_error("fs.write: \"content\" (a string) is required");
        n = (size_t) json_object_get_string_len(v);
        if (n > FS_WRITE_MAX)
                return fs_result_error("fs.write: content of %zu bytes is over the limit of %d", n,
                                       FS_WRITE_MAX);
        k = make_dirs(path, false, NULL);
        if (k >= 0)
                k = replace_file(path, json_object_get_string(v), n);
        if (k < 0)
                return fs_result_fail("fs.write", path, k);
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "bytes_written", json_object_new_int64((int64_t) n));
        return o;
}

static json_object *do_list(json_object *d, const char *path) {
        (void) d;
        return fs_list(open_path(path, O_RDONLY | O_DIRECTORY), path);
}

static json_object *do_create_dir(json_object *d, const char *path) {
        json_object *o;
        bool created;
        int k;

        (void) d;
        k = make_dirs(path, true, &created);
        if (k < 0)
                return fs_result_fail("fs.create_dir", path, k);
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "created", json_object_new_boolean(created));
        return o;
}

static int remove_one(const char *fpath, const struct stat *sb, int typeflag, struct FTW *ftwbuf) {
        (void) sb;
        (void) ftwbuf;
        return remove(fpath) < 0 && errno != ENOENT && typeflag != FTW_NS ? -1 : 0;
}

static json_object *do_delete(json_object *d, const char *path) {
        json_object *v, *o;
        bool recursive = false;
        const char *last;
        struct stat st;
        int pfd;

        if (json_object_object_get_ex(d, "recursive", &v))
                recursive = json_object_get_boolean(v);
        if (strcmp(path, WORKSPACE) == 0)
                return fs_result_error("fs.delete: %s is the workspace itself: delete what it holds instead",
                                       path);
        pfd = open_parent(path, &last);
        if (pfd == -EBUSY)
                return fs_result_error("fs.delete: %s: the root directory is not deleted", path);
        if (pfd < 0)
                return fs_result_fail("fs.delete", path, pfd);
        if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                int k = errno;
                close(pfd);
                return fs_result_fail("fs.delete", path, -k);
        }
        if (S_ISDIR(st.st_mode) && recursive) {
                close(pfd);
                /* depth first, never following a symlink nor crossing a mount */
                if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
                        return fs_result_fail("fs.delete", path, -errno);
        } else if (S_ISDIR(st.st_mode)) {
                int k = unlinkat(pfd, last, AT_REMOVEDIR) < 0 ? errno : 0;
                close(pfd);
                if (k == ENOTEMPTY || k == EEXIST)
                        return fs_result_error("fs.delete: %s is a directory that is not empty: pass "
                                               "\"recursive\": true to delete it and what it holds",
                                               path);
                if (k)
                        return fs_result_fail("fs.delete", path, -k);
        } else {
                int k = unlinkat(pfd, last, 0) < 0 ? errno : 0;
                close(pfd);
                if (k)
                        return fs_result_fail("fs.delete", path, -k);
        }
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "deleted", json_object_new_boolean(true));
        return o;
}

static int edit_read(void *userdata, char **ret, size_t *ret_n, uint64_t *ret_size, bool *ret_truncated) {
        return fs_read_fd(open_path(userdata, FS_PATH_OPEN_FLAGS), FS_READ_MAX, ret, ret_n, ret_size,
                          ret_truncated);
}

static int edit_replace(void *userdata, const char *data, size_t n) {
        return replace_file(userdata, data, n);
}

static json_object *edit_file(json_object *d, const char *path, const char *tool) {
        return fs_edit(tool, d, path,
                       &(FsFileIO){ .read = edit_read, .replace = edit_replace, .userdata = (char *) path });
}

static json_object *do_edit(json_object *d, const char *path) {
        return edit_file(d, path, "fs.edit");
}

static json_object *do_multi_edit(json_object *d, const char *path) {
        return edit_file(d, path, "fs.multi_edit");
}

/* grep and glob: a walk from path, never of /proc (see fs_read_fd()). */
static json_object *search(json_object *d, const char *path, const char *tool,
                           json_object *(*fn)(int fd, const char *shown, const char *pattern)) {
        struct statfs sf;
        int fd = open_path(path, FS_PATH_OPEN_FLAGS);

        if (fd >= 0 && fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC) {
                close(fd);
                return fs_result_error("%s: %s: the process file system is not searched", tool, path);
        }
        return fn(fd, path, arg_str(d, "pattern"));
}

static json_object *do_grep(json_object *d, const char *path) {
        return search(d, path, "fs.grep", fs_grep);
}

static json_object *do_glob(json_object *d, const char *path) {
        return search(d, path, "fs.glob", fs_glob);
}

static const struct {
        const char *op;
        json_object *(*run)(json_object *d, const char *path);
} fs_ops[] = {
        { "read", do_read },
        { "write", do_write },
        { "list", do_list },
        { "create_dir", do_create_dir },
        { "delete", do_delete },
        { "edit", do_edit },
        { "multi_edit", do_multi_edit },
        { "grep", do_grep },
        { "glob", do_glob },
};

json_object *bs_fs_run(json_object *d) {
        const char *op = arg_str(d, "op");
        json_object *r = NULL;
        char *path;

        for (size_t i = 0; i < sizeof(fs_ops) / sizeof(fs_ops[0]); i++) {
                if (!op || strcmp(op, fs_ops[i].op) != 0)
                        continue;
                if (!arg_str(d, "path"))
                        return fs_result_error("\"path\" (a string) is required");
                path = arg_path(d);
                if (!path)
                        return fs_result_error("fs.%s: out of memory", op);
                if (strlen(path) > FS_PATH_MAX)
                        r = fs_result_error("%s: invalid path", path);
                else
                        r = fs_ops[i].run(d, path);
                free(path);
                return r;
        }
        return fs_result_error("aegis-bootstrap: unknown fs op \"%s\"", op ? op : "");
}

json_object *bs_run_fs_dispatch(json_object *d, const char *execution_id) {
        uint64_t start = bs_now_ms();
        json_object *r = json_object_new_object(), *v;
        const char *id = arg_str(d, "dispatch_id");

        json_object_object_add(r, "type", json_object_new_string("dispatch_result"));
        json_object_object_add(r, "execution_id", json_object_new_string(execution_id));
        json_object_object_add(r, "dispatch_id", json_object_new_string(id ? id : ""));
        if (json_object_object_get_ex(d, "tool_call_id", &v))
                json_object_object_add(r, "tool_call_id", json_object_get(v));
        json_object_object_add(r, "result", bs_fs_run(d));
        json_object_object_add(r, "duration_ms", json_object_new_int64((int64_t) (bs_now_ms() - start)));
        return r;
}
