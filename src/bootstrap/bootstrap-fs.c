/* bootstrap-fs.c — the fs tools in the container: one {"type":"dispatch","action":"fs"} message
 * (op read, write, list, create_dir, delete, edit, multi_edit), run natively (no shell: a
 * distroless image has none), answered with {"type":"dispatch_result", …, "result": {…}}.
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
 *  - bounded: reads and writes 10 MiB, lists 1000 entries, edits 100, and the serialized
 *    result stays under the gateway's request limit (a read is cut, and says so). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "bootstrap.h"

#define FS_READ_MAX (10 * 1024 * 1024)
#define FS_WRITE_MAX (10 * 1024 * 1024)
#define FS_RESULT_BUDGET (11 * 1024 * 1024) /* serialized content of a read */
#define FS_LIST_MAX 1000
#define FS_EDITS_MAX 100
#define FS_PATH_MAX 4096
#define WORKSPACE "/workspace"

static json_object *fs_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_object *fs_error(const char *fmt, ...) {
        char msg[FS_PATH_MAX + 512];
        size_t len;
        char *clean;
        json_object *o = json_object_new_object();
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        clean = bs_utf8_sanitize(msg, strlen(msg), &len);
        json_object_object_add(o, "error", json_object_new_string(clean ? clean : "out of memory"));
        free(clean);
        return o;
}

static const char *errno_text(int k) {
        switch (k) {
        case ENOENT:
                return "no such file or directory";
        case ELOOP:
                return "the path is a symlink, or has too many";
        case EROFS:
                return "the file system is read-only";
        case EBADFD:
                return "not a regular file";
        default:
                return strerror(k);
        }
}

static json_object *fs_fail(const char *tool, const char *path, int k) {
        return fs_error("%s: %s: %s", tool, path, errno_text(k));
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
        char tmp[64];
        const char *last;
        struct stat st;
        bool existed;
        int pfd, fd = -1, k = 0;

        pfd = open_parent(path, &last);
        if (pfd < 0)
                return pfd == -EBUSY ? -EISDIR : pfd;
        existed = fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (existed && S_ISDIR(st.st_mode)) {
                close(pfd);
                return -EISDIR;
        }
        for (unsigned i = 0;; i++) {
                snprintf(tmp, sizeof tmp, ".aegis-tmp-%d-%u-%u", getpid(), (unsigned) random(), i);
                fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd >= 0)
                        break;
                if (errno != EEXIST || i > 100) {
                        k = -errno;
                        close(pfd);
                        return k;
                }
        }
        for (size_t done = 0; done < n && k == 0;) {
                ssize_t w = write(fd, data + done, n - done);
                if (w < 0 && errno != EINTR)
                        k = -errno;
                else if (w > 0)
                        done += (size_t) w;
        }
        if (k == 0 && existed && S_ISREG(st.st_mode))
                (void) fchmod(fd, st.st_mode & 07777);
        if (k == 0 && fsync(fd) < 0)
                k = -errno;
        if (k == 0 && renameat(pfd, tmp, pfd, last) < 0)
                k = -errno;
        if (k < 0)
                (void) unlinkat(pfd, tmp, 0);
        close(fd);
        close(pfd);
        return k;
}

/* Reads the regular file path (at most max bytes; *ret_truncated when it had more). */
static int read_file(const char *path, size_t max, char **ret, size_t *ret_n, uint64_t *ret_size,
                     bool *ret_truncated) {
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        struct statfs sf;
        struct stat st;
        char *buf;
        size_t n = 0;
        int k = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || fstatfs(fd, &sf) < 0)
                k = -errno;
        else if (S_ISDIR(st.st_mode))
                k = -EISDIR;
        else if (!S_ISREG(st.st_mode) || sf.f_type == PROC_SUPER_MAGIC)
                k = -EBADFD;
        if (k < 0) {
                close(fd);
                return k;
        }
        buf = malloc(max + 1);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        while (n < max) {
                ssize_t r = read(fd, buf + n, max - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        k = -errno;
                        free(buf);
                        close(fd);
                        return k;
                }
                if (r == 0)
                        break;
                n += (size_t) r;
        }
        close(fd);
        buf[n] = '\0';
        *ret_truncated = (uint64_t) st.st_size > n;
        *ret_size = (uint64_t) st.st_size;
        *ret_n = n;
        *ret = buf;
        return 0;
}

/* How many bytes json-c writes for s[0..n) in a string (plain, '/' not escaped). */
static size_t escaped_len(unsigned char c) {
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
                return 2;
        return c < 0x20 ? 6 : 1;
}

static json_object *do_read(json_object *d, const char *path) {
        char *buf = NULL;
        uint64_t size;
        size_t n, shown = 0, cost = 0;
        bool trunc;
        json_object *o;
        int k;

        k = read_file(path, FS_READ_MAX, &buf, &n, &size, &trunc);
        if (k < 0)
                return fs_fail("fs.read", path, -k);
        (void) d;
        while (shown < n && cost + escaped_len((unsigned char) buf[shown]) <= FS_RESULT_BUDGET)
                cost += escaped_len((unsigned char) buf[shown++]);
        if (shown < n) {
                trunc = true;
                n = shown;
        }
        if (trunc)
                n = bs_utf8_head_cut(buf, n); /* not inside a character cut by the bound */
        if (!bs_utf8_text_ok(buf, n)) {
                free(buf);
                return fs_error("fs.read: %s: a binary file (%" PRIu64 " bytes): not shown", path, size);
        }
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "content", json_object_new_string_len(buf, (int) n));
        json_object_object_add(o, "size", json_object_new_int64((int64_t) size));
        json_object_object_add(o, "truncated", json_object_new_boolean(trunc));
        if (trunc)
                json_object_object_add(o, "note",
                                       json_object_new_string(n + 4 >= FS_READ_MAX
                                                                      ? "only the first 10 MiB are shown"
                                                                      : "only the first part is shown"));
        free(buf);
        return o;
}

static json_object *do_write(json_object *d, const char *path) {
        json_object *v, *o;
        size_t n;
        int k;

        if (!json_object_object_get_ex(d, "content", &v) || !json_object_is_type(v, json_type_string))
                return fs_error("fs.write: \"content\" (a string) is required");
        n = (size_t) json_object_get_string_len(v);
        if (n > FS_WRITE_MAX)
                return fs_error("fs.write: content of %zu bytes is over the limit of %d", n, FS_WRITE_MAX);
        k = make_dirs(path, false, NULL);
        if (k >= 0)
                k = replace_file(path, json_object_get_string(v), n);
        if (k < 0)
                return fs_fail("fs.write", path, -k);
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "bytes_written", json_object_new_int64((int64_t) n));
        return o;
}

static const char *type_name(mode_t m) {
        return S_ISREG(m) ? "file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : "other";
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(json_object_get_string(json_object_object_get(*(json_object *const *) a, "name")),
                      json_object_get_string(json_object_object_get(*(json_object *const *) b, "name")));
}

static json_object *do_list(json_object *d, const char *path) {
        DIR *dir = opendir(path);
        struct dirent *de;
        json_object *a, *o;
        bool trunc = false;

        (void) d;
        if (!dir)
                return fs_fail("fs.list", path, errno);
        a = json_object_new_array();
        while ((de = readdir(dir))) {
                struct stat st;
                json_object *x;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (json_object_array_length(a) >= FS_LIST_MAX) {
                        trunc = true;
                        break;
                }
                if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                x = json_object_new_object();
                json_object_object_add(x, "name", json_object_new_string(de->d_name));
                json_object_object_add(x, "type", json_object_new_string(type_name(st.st_mode)));
                json_object_object_add(x, "size", json_object_new_int64((int64_t) st.st_size));
                json_object_array_add(a, x);
        }
        closedir(dir);
        json_object_array_sort(a, cmp_names);
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "entries", a);
        json_object_object_add(o, "truncated", json_object_new_boolean(trunc));
        return o;
}

static json_object *do_create_dir(json_object *d, const char *path) {
        json_object *o;
        bool created;
        int k;

        (void) d;
        k = make_dirs(path, true, &created);
        if (k < 0)
                return fs_fail("fs.create_dir", path, -k);
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
                return fs_error("fs.delete: %s is the workspace itself: delete what it holds instead", path);
        pfd = open_parent(path, &last);
        if (pfd == -EBUSY)
                return fs_error("fs.delete: %s: the root directory is not deleted", path);
        if (pfd < 0)
                return fs_fail("fs.delete", path, -pfd);
        if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                int k = errno;
                close(pfd);
                return fs_fail("fs.delete", path, k);
        }
        if (S_ISDIR(st.st_mode) && recursive) {
                close(pfd);
                /* depth first, never following a symlink nor crossing a mount */
                if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
                        return fs_fail("fs.delete", path, errno);
        } else if (S_ISDIR(st.st_mode)) {
                int k = unlinkat(pfd, last, AT_REMOVEDIR) < 0 ? errno : 0;
                close(pfd);
                if (k == ENOTEMPTY || k == EEXIST)
                        return fs_error("fs.delete: %s is a directory that is not empty: pass "
                                        "\"recursive\": true to delete it and what it holds",
                                        path);
                if (k)
                        return fs_fail("fs.delete", path, k);
        } else {
                int k = unlinkat(pfd, last, 0) < 0 ? errno : 0;
                close(pfd);
                if (k)
                        return fs_fail("fs.delete", path, k);
        }
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "deleted", json_object_new_boolean(true));
        return o;
}

/* Replaces the first occurrence of target in *text (*n bytes); *ret_count: how many there
 * were. 0, -ENOENT when absent, -EINVAL for an empty target. */
static int apply_edit(char **text, size_t *n, const char *target, size_t tn, const char *repl, size_t rn,
                      size_t *ret_count) {
        char *hit, *out;
        size_t count = 0, off;

        if (tn == 0)
                return -EINVAL;
        hit = memmem(*text, *n, target, tn);
        if (!hit)
                return -ENOENT;
        for (char *p = hit; p; p = memmem(p + tn, *n - (size_t) (p + tn - *text), target, tn))
                count++;
        off = (size_t) (hit - *text);
        out = malloc(*n - tn + rn + 1);
        if (!out)
                return -ENOMEM;
        memcpy(out, *text, off);
        memcpy(out + off, repl, rn);
        memcpy(out + off + rn, hit + tn, *n - off - tn);
        *n = *n - tn + rn;
        out[*n] = '\0';
        free(*text);
        *text = out;
        *ret_count = count;
        return 0;
}

static json_object *edit_file(const char *path, const char *tool, json_object *edits) {
        json_object *o, *counts, *err = NULL;
        char *buf = NULL;
        uint64_t size;
        size_t n, ne = json_object_array_length(edits);
        bool trunc;
        int k;

        if (ne == 0 || ne > FS_EDITS_MAX)
                return fs_error("%s: between 1 and %d edits are needed", tool, FS_EDITS_MAX);
        k = read_file(path, FS_READ_MAX, &buf, &n, &size, &trunc);
        if (k < 0)
                return fs_fail(tool, path, -k);
        if (trunc) {
                free(buf);
                return fs_error("%s: %s is over 10 MiB: not edited", tool, path);
        }
        counts = json_object_new_array();
        for (size_t i = 0; i < ne && !err; i++) {
                json_object *ed = json_object_array_get_idx(edits, i), *t, *r;
                size_t count = 0;

                if (!json_object_object_get_ex(ed, "target_content", &t) ||
                    !json_object_is_type(t, json_type_string) ||
                    !json_object_object_get_ex(ed, "replacement_content", &r) ||
                    !json_object_is_type(r, json_type_string)) {
                        err = fs_error("%s: edit %zu: \"target_content\" and \"replacement_content\" "
                                       "(strings) are required",
                                       tool, i + 1);
                        break;
                }
                k = apply_edit(&buf, &n, json_object_get_string(t), (size_t) json_object_get_string_len(t),
                               json_object_get_string(r), (size_t) json_object_get_string_len(r), &count);
                if (k == -ENOENT)
                        err = fs_error("%s: edit %zu: target_content not found in %s (nothing was changed)",
                                       tool, i + 1, path);
                else if (k == -EINVAL)
                        err = fs_error("%s: edit %zu: target_content is empty", tool, i + 1);
                else if (k < 0)
                        err = fs_fail(tool, path, -k);
                else if (n > FS_WRITE_MAX)
                        err = fs_error("%s: the result would be over 10 MiB: not edited", tool);
                else
                        json_object_array_add(counts, json_object_new_int64((int64_t) count));
        }
        if (!err) {
                k = replace_file(path, buf, n);
                if (k < 0)
                        err = fs_fail(tool, path, -k);
        }
        free(buf);
        if (err) {
                json_object_put(counts);
                return err;
        }
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "edits_applied", json_object_new_int64((int64_t) ne));
        json_object_object_add(o, "occurrences", counts);
        json_object_object_add(o, "size", json_object_new_int64((int64_t) n));
        return o;
}

static json_object *do_edit(json_object *d, const char *path) {
        json_object *edits = json_object_new_array(), *one = json_object_new_object(), *v, *r;

        if (json_object_object_get_ex(d, "target_content", &v))
                json_object_object_add(one, "target_content", json_object_get(v));
        if (json_object_object_get_ex(d, "replacement_content", &v))
                json_object_object_add(one, "replacement_content", json_object_get(v));
        json_object_array_add(edits, one);
        r = edit_file(path, "fs.edit", edits);
        json_object_put(edits);
        return r;
}

static json_object *do_multi_edit(json_object *d, const char *path) {
        json_object *edits;

        if (!json_object_object_get_ex(d, "edits", &edits) || !json_object_is_type(edits, json_type_array))
                return fs_error("fs.multi_edit: \"edits\" (an array of {target_content, "
                                "replacement_content}) is required");
        return edit_file(path, "fs.multi_edit", edits);
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
};

json_object *bs_fs_run(json_object *d) {
        const char *op = arg_str(d, "op");
        json_object *r = NULL;
        char *path;

        for (size_t i = 0; i < sizeof(fs_ops) / sizeof(fs_ops[0]); i++) {
                if (!op || strcmp(op, fs_ops[i].op) != 0)
                        continue;
                if (!arg_str(d, "path"))
                        return fs_error("\"path\" (a string) is required");
                path = arg_path(d);
                if (!path)
                        return fs_error("fs.%s: out of memory", op);
                if (strlen(path) > FS_PATH_MAX)
                        r = fs_error("%s: invalid path", path);
                else
                        r = fs_ops[i].run(d, path);
                free(path);
                return r;
        }
        return fs_error("aegis-bootstrap: unknown fs op \"%s\"", op ? op : "");
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
