/* tools-fs.c — the fs.* tools (tools.h): run by aegisd on the execution's volumes, on the host,
 * in the volume's directory storage.root/<tenant>/<id> (the same in bind and nfs mode).
 *
 * What must stay true:
 *  - nothing outside a volume is ever opened: a path is mapped lexically to the volume whose
 *    mount path holds it (relative paths are under /workspace; a ".." above "/" is refused),
 *    then opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) from
 *    the volume's directory, so neither "..", nor a symlink (one the agent planted included),
 *    nor another mount leads out; the last component of what is created, replaced or removed
 *    is never followed (O_NOFOLLOW, unlinkat, renameat);
 *  - a write or an edit replaces the file whole (a temporary file in the same directory,
 *    renamed over it), so a shorter text leaves no old bytes, and a reader never sees half;
 *  - everything is bounded: reads (10 MiB), what is written (10 MiB), lists, walks (entries,
 *    depth, bytes read), matches, and regexes (PCRE2 match and depth limits), so one call
 *    cannot hold the event loop long; the walks never follow symlinks nor cross mounts;
 *  - read-only volumes are never written; what is created belongs to the execution's uid:gid
 *    (when aegisd may give it away), a replaced file keeps its owner and mode.
 * Results name paths as the container sees them (/workspace/…).
 *
 * Without a volume (on_host false), the file tools but fs.grep and fs.glob run in the
 * container instead: their dispatch is {"action":"fs","op":"read",…} with the model's
 * arguments, the path made absolute and lexically normalized here (relative under
 * /workspace), and aegis-bootstrap (bootstrap-fs.c) answers with the same result object. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy.h"
#include "tools-fs-internal.h"
#include "tools-fs.h"
#include "volume-files.h"
#include "util.h"

#define FS_WRITE_MAX (10 * 1024 * 1024)
#define FS_LIST_MAX 1000 /* entries of fs.list */
#define FS_EDITS_MAX 100
#define FS_DISPATCH_MAX (14 * 1024 * 1024) /* an fs dispatch's JSON (a write of 10 MiB, escaped) */

#define RESOLVE_FLAGS (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

/* ---- paths ---- */

int tool_fs_locate(const ToolEnv *env, const char *path, const ToolVolume **ret_vol, char **ret_rel) {
        _cleanup_free_ char *norm = NULL;
        const ToolVolume *best = NULL;
        size_t best_len = 0;
        const char *p;
        int k;

        assert(env);
        assert(ret_vol && ret_rel);
        if (!path || strlen(path) > FS_PATH_MAX)
                return -EINVAL;
        k = policy_workspace_path(isempty(path) ? "." : path, &norm);
        if (k < 0)
                return k;
        for (size_t i = 0; i < env->n_volumes; i++) {
                const char *m = env->volumes[i].mount_path;
                size_t ml = strlen(m);
                while (ml > 1 && m[ml - 1] == '/')
                        ml--;
                if (strncmp(norm, m, ml) != 0 || (norm[ml] != '\0' && norm[ml] != '/' && ml > 1))
                        continue;
                if (!best || ml > best_len) {
                        best = &env->volumes[i];
                        best_len = ml;
                }
        }
        if (!best)
                return -ENOENT;
        p = norm + best_len;
        while (*p == '/')
                p++;
        *ret_rel = strdup(*p ? p : ".");
        if (!*ret_rel)
                return -ENOMEM;
        *ret_vol = best;
        return 0;
}

int tool_fs_open(int root_fd, const char *rel, int flags, mode_t mode) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .mode = (flags & O_CREAT) ? mode : 0,
                .resolve = RESOLVE_FLAGS,
        };
        long fd;

        fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
        return fd < 0 ? -errno : (int) fd;
}

void fs_ctx_done(FsCtx *c) {
        free(c->rel);
        free(c->shown);
        safe_close(c->root_fd);
}

const char *fs_arg_str(json_object *args, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(args, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static const char *errno_text(int k) {
        switch (-k) {
        case EXDEV:
                return "the path leads outside the volume (\"..\", a symlink or another mount)";
        case ELOOP:
                return "the path is a symlink, or has too many";
        case ENOENT:
                return "no such file or directory";
        case EROFS:
                return "the volume is mounted read-only";
        default:
                return strerror(-k);
        }
}

/* Resolves args[key] (a path, default dflt); NULL on success, else the error result. */
json_object *fs_ctx_open(FsCtx *c, const ToolEnv *env, json_object *args, const char *key, const char *dflt,
                         bool write) {
        const char *path = fs_arg_str(args, key);
        int k;

        *c = (FsCtx){ .env = env, .root_fd = -EBADF };
        if (!path) {
                if (!dflt)
                        return tool_error("\"%s\" (a string) is required", key);
                path = dflt;
        }
        k = tool_fs_locate(env, path, &c->vol, &c->rel);
        if (k == -ENOENT)
                return tool_error(
                        "%s: outside the execution's volumes (relative paths are under " TOOL_WORKSPACE ")",
                        path);
        if (k == -EXDEV)
                return tool_error("%s: outside the execution's volumes (it climbs above /)", path);
        if (k < 0)
                return tool_error("%s: invalid path", path);
        if (write && c->vol->read_only)
                return tool_error("%s: the volume at %s is read-only", path, c->vol->mount_path);
        c->shown = streq(c->rel, ".") ? strdup(c->vol->mount_path)
                                      : asprintf_safe("%s%s%s", c->vol->mount_path,
                                                      endswith(c->vol->mount_path, "/") ? "" : "/", c->rel);
        c->root_fd = open(c->vol->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (!c->shown || c->root_fd < 0)
                return tool_error("%s: the volume is not reachable: %s", path, strerror(errno));
        return NULL;
}

/* Splits rel into its parent (opened, O_PATH directory) and its last component. */
int fs_open_parent(FsCtx *c, const char **ret_last) {
        _cleanup_free_ char *parent = NULL;
        const char *slash = strrchr(c->rel, '/');

        if (streq(c->rel, "."))
                return -EBUSY; /* the volume itself */
        if (!slash) {
                *ret_last = c->rel;
                return tool_fs_open(c->root_fd, ".", O_PATH | O_DIRECTORY, 0);
        }
        parent = strndup(c->rel, (size_t) (slash - c->rel));
        if (!parent)
                return -ENOMEM;
        *ret_last = slash + 1;
        return tool_fs_open(c->root_fd, parent, O_PATH | O_DIRECTORY, 0);
}

static void give_to_execution(const FsCtx *c, int fd) {
        if (geteuid() == 0)
                (void) fchown(fd, c->env->uid, c->env->gid);
}

/* mkdir -p of rel's components (all of them when whole, else all but the last). */
static int make_dirs(FsCtx *c, bool whole, bool *ret_created) {
        _cleanup_free_ char *path = strdup(c->rel);
        char *p;
        int k;

        if (!path)
                return -ENOMEM;
        if (ret_created)
                *ret_created = false;
        if (streq(path, "."))
                return 0;
        p = path;
        for (;;) {
                char *slash = strchr(p, '/');
                _cleanup_close_ int pfd = -EBADF, dfd = -EBADF;
                const char *last;
                char *sep;
                bool final = !slash;

                if (final && !whole)
                        return 0;
                if (slash)
                        *slash = '\0';
                sep = strrchr(path, '/');
                if (sep) {
                        *sep = '\0';
                        pfd = tool_fs_open(c->root_fd, path, O_PATH | O_DIRECTORY, 0);
                        *sep = '/';
                        last = sep + 1;
                } else {
                        pfd = tool_fs_open(c->root_fd, ".", O_PATH | O_DIRECTORY, 0);
                        last = path;
                }
                if (pfd < 0)
                        return pfd;
                if (mkdirat(pfd, last, 0755) == 0) {
                        dfd = openat(pfd, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (dfd >= 0)
                                give_to_execution(c, dfd);
                        if (final && ret_created)
                                *ret_created = true;
                } else if (errno != EEXIST)
                        return -errno;
                else {
                        struct stat st;
                        if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                return -errno;
                        if (S_ISLNK(st.st_mode)) {
                                /* Followed only if it stays beneath the root. */
                                k = tool_fs_open(c->root_fd, path, O_PATH | O_DIRECTORY, 0);
                                if (k < 0)
                                        return k;
                                safe_close(k);
                        } else if (!S_ISDIR(st.st_mode))
                                return -ENOTDIR;
                }
                if (final)
                        return 0;
                *slash = '/';
                p = slash + 1;
        }
}

/* Replaces rel with data (a temporary file in the same directory, renamed over it). */
static int replace_file(FsCtx *c, const char *data, size_t n) {
        _cleanup_close_ int pfd = -EBADF, fd = -EBADF;
        char tmp[64];
        const char *last;
        struct stat st;
        bool existed;
        int k;

        pfd = fs_open_parent(c, &last);
        if (pfd < 0)
                return pfd;
        existed = fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (existed && S_ISDIR(st.st_mode))
                return -EISDIR;
        for (unsigned i = 0;; i++) {
                snprintf(tmp, sizeof tmp, ".aegis-tmp-%d-%u-%u", getpid(), (unsigned) random(), i);
                fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd >= 0)
                        break;
                if (errno != EEXIST || i > 100)
                        return -errno;
        }
        for (size_t done = 0; done < n;) {
                ssize_t w = write(fd, data + done, n - done);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        k = -errno;
                        goto fail;
                }
                done += (size_t) w;
        }
        if (existed && S_ISREG(st.st_mode)) {
                if (geteuid() == 0)
                        (void) fchown(fd, st.st_uid, st.st_gid);
                (void) fchmod(fd, st.st_mode & 07777);
        } else
                give_to_execution(c, fd);
        if (fsync(fd) < 0) {
                k = -errno;
                goto fail;
        }
        if (renameat(pfd, tmp, pfd, last) < 0) {
                k = -errno;
                goto fail;
        }
        return 0;
fail:
        (void) unlinkat(pfd, tmp, 0);
        return k;
}

bool fs_text_ok(const char *s, size_t n) {
        for (size_t i = 0; i < n;) {
                size_t k = utf8_char_len(s + i, n - i);
                if (k == 0 || s[i] == '\0')
                        return false;
                i += k;
        }
        return true;
}

/* Reads the regular file rel (at most max bytes; *ret_truncated when it had more). */
static int read_file(FsCtx *c, const char *rel, size_t max, char **ret, size_t *ret_n, uint64_t *ret_size,
                     bool *ret_truncated) {
        _cleanup_close_ int fd = tool_fs_open(c->root_fd, rel, O_RDONLY | O_NONBLOCK, 0);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n = 0;

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        while (n < max) {
                ssize_t r = read(fd, buf + n, max - n);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        break;
                n += (size_t) r;
        }
        buf[n] = '\0';
        *ret_truncated = (uint64_t) st.st_size > n;
        *ret_size = (uint64_t) st.st_size;
        *ret_n = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

json_object *fs_fail(FsCtx *c, const char *what, int k) {
        if (k == -EBADFD)
                return tool_error("%s: %s: not a regular file", what, c->shown);
        return tool_error("%s: %s: %s", what, c->shown, errno_text(k));
}

/* ---- the tools ---- */

static json_object *do_read(const ToolEnv *env, json_object *args) {
        _cleanup_(fs_ctx_done) FsCtx c;
        _cleanup_free_ char *buf = NULL;
        json_object *e = fs_ctx_open(&c, env, args, "path", NULL, false), *o;
        uint64_t size;
        size_t n;
        bool trunc;
        int k;

        if (e)
                return e;
        k = read_file(&c, c.rel, FS_READ_MAX, &buf, &n, &size, &trunc);
        if (k < 0)
                return fs_fail(&c, "fs.read", k);
        while (trunc && n > 0 && utf8_char_len(buf + n - 1, 1) == 0 && (buf[n - 1] & 0xC0) == 0x80)
                n--; /* not inside a character cut by the bound */
        if (!fs_text_ok(buf, n))
                return tool_error("fs.read: %s: a binary file (%" PRIu64 " bytes): not shown", c.shown,
                                  size);
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(c.shown));
        json_object_object_add(o, "content", json_object_new_string_len(buf, (int) n));
        json_object_object_add(o, "size", json_object_new_int64((int64_t) size));
        json_object_object_add(o, "truncated", json_object_new_boolean(trunc));
        if (trunc)
                json_object_object_add(o, "note", json_object_new_string("only the first 10 MiB are shown"));
        return o;
}

static json_object *do_write(const ToolEnv *env, json_object *args) {
        _cleanup_(fs_ctx_done) FsCtx c;
        json_object *e = fs_ctx_open(&c, env, args, "path", NULL, true), *o, *v;
        const char *content;
        size_t n;
        int k;

        if (e)
                return e;
        if (!json_object_object_get_ex(args, "content", &v) || !json_object_is_type(v, json_type_string))
                return tool_error("fs.write: \"content\" (a string) is required");
        content = json_object_get_string(v);
        n = (size_t) json_object_get_string_len(v);
        if (n > FS_WRITE_MAX)
                return tool_error("fs.write: content of %zu bytes is over the limit of %d", n, FS_WRITE_MAX);
        k = make_dirs(&c, false, NULL);
        if (k >= 0)
                k = replace_file(&c, content, n);
        if (k < 0)
                return fs_fail(&c, "fs.write", k == -EBUSY ? -EISDIR : k);
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(c.shown));
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

static json_object *do_list(const ToolEnv *env, json_object *args) {
        _cleanup_(fs_ctx_done) FsCtx c;
        json_object *e = fs_ctx_open(&c, env, args, "path", ".", false), *o, *a;
        int fd;
        DIR *d;
        struct dirent *de;
        bool trunc = false;

        if (e)
                return e;
        fd = tool_fs_open(c.root_fd, c.rel, O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0)
                return fs_fail(&c, "fs.list", fd);
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return fs_fail(&c, "fs.list", -errno);
        }
        a = json_object_new_array();
        while ((de = readdir(d))) {
                struct stat st;
                json_object *x;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (json_object_array_length(a) >= FS_LIST_MAX) {
                        trunc = true;
                        break;
                }
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                x = json_object_new_object();
                json_object_object_add(x, "name", json_object_new_string(de->d_name));
                json_object_object_add(x, "type", json_object_new_string(type_name(st.st_mode)));
                json_object_object_add(x, "size", json_object_new_int64((int64_t) st.st_size));
                json_object_array_add(a, x);
        }
        closedir(d);
        json_object_array_sort(a, cmp_names);
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(c.shown));
        json_object_object_add(o, "entries", a);
        json_object_object_add(o, "truncated", json_object_new_boolean(trunc));
        return o;
}

static json_object *do_create_dir(const ToolEnv *env, json_object *args) {
        _cleanup_(fs_ctx_done) FsCtx c;
        json_object *e = fs_ctx_open(&c, env, args, "path", NULL, true), *o;
        bool created;
        int k;

        if (e)
                return e;
        k = make_dirs(&c, true, &created);
        if (k < 0)
                return fs_fail(&c, "fs.create_dir", k);
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(c.shown));
        json_object_object_add(o, "created", json_object_new_boolean(created));
        return o;
}

static json_object *do_delete(const ToolEnv *env, json_object *args) {
        _cleanup_(fs_ctx_done) FsCtx c;
        _cleanup_close_ int pfd = -EBADF;
        json_object *e = fs_ctx_open(&c, env, args, "path", NULL, true), *o, *v;
        bool recursive = false;
        const char *last;
        struct stat st;
        int k;

        if (e)
                return e;
        if (json_object_object_get_ex(args, "recursive", &v))
                recursive = json_object_get_boolean(v);
        pfd = fs_open_parent(&c, &last);
        if (pfd == -EBUSY)
                return tool_error("fs.delete: %s is the volume itself: delete what it holds instead",
                                  c.shown);
        if (pfd < 0)
                return fs_fail(&c, "fs.delete", pfd);
        if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fs_fail(&c, "fs.delete", -errno);
        if (S_ISDIR(st.st_mode) && recursive) {
                /* volume-files.h's removal: bounded, never following, never leaving the volume */
                k = volume_remove_at(pfd, last);
                if (k < 0)
                        return fs_fail(&c, "fs.delete", k);
        } else if (S_ISDIR(st.st_mode)) {
                if (unlinkat(pfd, last, AT_REMOVEDIR) < 0) {
                        if (errno == ENOTEMPTY)
                                return tool_error("fs.delete: %s is a directory that is not empty: pass "
                                                  "\"recursive\": true to delete it and what it holds",
                                                  c.shown);
                        return fs_fail(&c, "fs.delete", -errno);
                }
        } else if (unlinkat(pfd, last, 0) < 0)
                return fs_fail(&c, "fs.delete", -errno);
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(c.shown));
        json_object_object_add(o, "deleted", json_object_new_boolean(true));
        return o;
}

/* Replaces the first occurrence of target in *text (n bytes). 0, or -ENOENT when absent.
 * *ret_count: how many occurrences there were. */
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

static json_object *edit_file(const ToolEnv *env, json_object *args, const char *tool, json_object *edits) {
        _cleanup_(fs_ctx_done) FsCtx c;
        _cleanup_free_ char *buf = NULL;
        json_object *e = fs_ctx_open(&c, env, args, "path", NULL, true), *o, *counts;
        uint64_t size;
        size_t n, ne;
        bool trunc;
        int k;

        if (e)
                return e;
        ne = json_object_array_length(edits);
        if (ne == 0 || ne > FS_EDITS_MAX)
                return tool_error("%s: between 1 and %d edits are needed", tool, FS_EDITS_MAX);
        k = read_file(&c, c.rel, FS_READ_MAX, &buf, &n, &size, &trunc);
        if (k < 0)
                return fs_fail(&c, tool, k);
        if (trunc)
                return tool_error("%s: %s is over 10 MiB: not edited", tool, c.shown);
        counts = json_object_new_array();
        for (size_t i = 0; i < ne; i++) {
                json_object *ed = json_object_array_get_idx(edits, i), *t, *r;
                size_t count = 0;
                if (!json_object_object_get_ex(ed, "target_content", &t) ||
                    !json_object_is_type(t, json_type_string) ||
                    !json_object_object_get_ex(ed, "replacement_content", &r) ||
                    !json_object_is_type(r, json_type_string)) {
                        json_object_put(counts);
                        return tool_error("%s: edit %zu: \"target_content\" and \"replacement_content\" "
                                          "(strings) are required",
                                          tool, i + 1);
                }
                k = apply_edit(&buf, &n, json_object_get_string(t), (size_t) json_object_get_string_len(t),
                               json_object_get_string(r), (size_t) json_object_get_string_len(r), &count);
                if (k < 0) {
                        json_object_put(counts);
                        if (k == -ENOENT)
                                return tool_error(
                                        "%s: edit %zu: target_content not found in %s (nothing was "
                                        "changed)",
                                        tool, i + 1, c.shown);
                        if (k == -EINVAL)
                                return tool_error("%s: edit %zu: target_content is empty", tool, i + 1);
                        return fs_fail(&c, tool, k);
                }
                if (n > FS_WRITE_MAX) {
                        json_object_put(counts);
                        return tool_error("%s: the result would be over 10 MiB: not edited", tool);
                }
                json_object_array_add(counts, json_object_new_int64((int64_t) count));
        }
        k = replace_file(&c, buf, n);
        if (k < 0) {
                json_object_put(counts);
                return fs_fail(&c, tool, k);
        }
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(c.shown));
        json_object_object_add(o, "edits_applied", json_object_new_int64((int64_t) ne));
        json_object_object_add(o, "occurrences", counts);
        json_object_object_add(o, "size", json_object_new_int64((int64_t) n));
        return o;
}

static json_object *do_edit(const ToolEnv *env, json_object *args) {
        json_object *edits = json_object_new_array(), *one = json_object_new_object(), *v, *r;

        if (json_object_object_get_ex(args, "target_content", &v))
                json_object_object_add(one, "target_content", json_object_get(v));
        if (json_object_object_get_ex(args, "replacement_content", &v))
                json_object_object_add(one, "replacement_content", json_object_get(v));
        json_object_array_add(edits, one);
        r = edit_file(env, args, "fs.edit", edits);
        json_object_put(edits);
        return r;
}

static json_object *do_multi_edit(const ToolEnv *env, json_object *args) {
        json_object *edits;

        if (!json_object_object_get_ex(args, "edits", &edits) ||
            !json_object_is_type(edits, json_type_array))
                return tool_error("fs.multi_edit: \"edits\" (an array of {target_content, "
                                  "replacement_content}) is required");
        return edit_file(env, args, "fs.multi_edit", edits);
}

/* ---- the catalogue's entries ---- */

typedef struct FsTool {
        const char *name;
        json_object *(*run)(const ToolEnv *env, json_object *args);
} FsTool;

static const FsTool fs_tools[] = {
        { "fs.read", do_read },
        { "fs.write", do_write },
        { "fs.list", do_list },
        { "fs.create_dir", do_create_dir },
        { "fs.delete", do_delete },
        { "fs.edit", do_edit },
        { "fs.multi_edit", do_multi_edit },
        { "fs.grep", fs_do_grep },
        { "fs.glob", fs_do_glob },
};

json_object *tool_fs_run(const ToolEnv *env, const char *name, json_object *args) {
        assert(env);
        for (size_t i = 0; i < ELEMENTSOF(fs_tools); i++)
                if (streq(fs_tools[i].name, name))
                        return fs_tools[i].run(env, args);
        return tool_error("unknown tool \"%s\"", strempty(name));
}

static bool fs_on_host(const ToolEnv *env) {
        return env && env->n_volumes > 0;
}

/* The container's side: {"action":"fs","op":op} and the arguments the op takes, the path
 * absolute (relative ones under /workspace) and normalized; dflt when absent (NULL: leave it
 * absent, aegis-bootstrap says it is required). */
static json_object *fs_dispatch(const char *op, const char *dflt, json_object *args, char **ret_why,
                                char **ret_notes) {
        static const char *const keys[] = {
                "content", "recursive", "target_content", "replacement_content", "edits",
        };
        _cleanup_free_ char *abs = NULL;
        json_object *o, *v;
        const char *path;
        size_t n = 0;
        int k;

        *ret_why = *ret_notes = NULL;
        path = fs_arg_str(args, "path");
        if (!path && json_object_object_get_ex(args, "path", &v) && v) {
                *ret_why = strdup("\"path\" must be a string");
                return NULL;
        }
        if (!path)
                path = dflt;
        if (path) {
                if (strlen(path) > FS_PATH_MAX) {
                        *ret_why = strdup("\"path\" is too long");
                        return NULL;
                }
                k = policy_workspace_path(isempty(path) ? "." : path, &abs);
                if (k == -EXDEV) {
                        *ret_why = asprintf_safe("%s: the path climbs above /", path);
                        return NULL;
                }
                if (k < 0)
                        return NULL;
        }
        o = json_object_new_object();
        json_object_object_add(o, "action", json_object_new_string("fs"));
        json_object_object_add(o, "op", json_object_new_string(op));
        if (abs)
                json_object_object_add(o, "path", json_object_new_string(abs));
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (json_object_object_get_ex(args, keys[i], &v))
                        json_object_object_add(o, keys[i], json_object_get(v));
        (void) json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
        if (n > FS_DISPATCH_MAX) { /* aegis-bootstrap reads answers of 16 MiB at most */
                json_object_put(o);
                *ret_why = asprintf_safe("the arguments are over %d bytes (writes are bounded at %d)",
                                         FS_DISPATCH_MAX, FS_WRITE_MAX);
                return NULL;
        }
        return o;
}

#define FS_DISPATCH(fn, op, dflt)                                                     \
        static json_object *fn(json_object *args, char **ret_why, char **ret_notes) { \
                return fs_dispatch(op, dflt, args, ret_why, ret_notes);               \
        }
FS_DISPATCH(dispatch_read, "read", NULL)
FS_DISPATCH(dispatch_write, "write", NULL)
FS_DISPATCH(dispatch_list, "list", TOOL_WORKSPACE)
FS_DISPATCH(dispatch_create_dir, "create_dir", NULL)
FS_DISPATCH(dispatch_delete, "delete", NULL)
FS_DISPATCH(dispatch_edit, "edit", NULL)
FS_DISPATCH(dispatch_multi_edit, "multi_edit", NULL)

#define FS_START(fn, tool)                                                                             \
        static int fn(const ToolEnv *env, json_object *args, tool_done_fn done, void *userdata,        \
                      ToolCall **ret) {                                                                \
                return tool_call_finish_later(env, tool_fs_run(env, tool, args), done, userdata, ret); \
        }
FS_START(start_read, "fs.read")
FS_START(start_write, "fs.write")
FS_START(start_list, "fs.list")
FS_START(start_create_dir, "fs.create_dir")
FS_START(start_delete, "fs.delete")
FS_START(start_edit, "fs.edit")
FS_START(start_multi_edit, "fs.multi_edit")
FS_START(start_grep, "fs.grep")
FS_START(start_glob, "fs.glob")

#define PATH_PROP(what) \
        "\"path\":{\"type\":\"string\",\"description\":\"" what " (relative paths are under /workspace)\"}"

const ToolDef tool_fs_read = {
        .name = "fs.read",
        .description = "Read a text file of the workspace (at most 10 MiB are returned).",
        .parameters =
                "{\"type\":\"object\",\"properties\":{" PATH_PROP("The file") "},\"required\":[\"path\"]}",
        .place = TOOL_ON_HOST,
        .on_host = fs_on_host,
        .start = start_read,
        .dispatch = dispatch_read,
};

const ToolDef tool_fs_write = {
        .name = "fs.write",
        .description =
                "Write a file of the workspace whole (created with its parent directories, or replaced).",
        .parameters = "{\"type\":\"object\",\"properties\":{" PATH_PROP(
                "The file") ",\"content\":{\"type\":\"string\",\"description\":\"Its new content\"}},"
                            "\"required\":[\"path\",\"content\"]}",
        .place = TOOL_ON_HOST,
        .on_host = fs_on_host,
        .start = start_write,
        .dispatch = dispatch_write,
};

const ToolDef tool_fs_list = {
        .name = "fs.list",
        .description = "List a directory of the workspace: names, types and sizes (at most 1000 entries).",
        .parameters =
                "{\"type\":\"object\",\"properties\":{" PATH_PROP("The directory (default /workspace)") "}}",
        .place = TOOL_ON_HOST,
        .on_host = fs_on_host,
        .start = start_list,
        .dispatch = dispatch_list,
};

const ToolDef tool_fs_create_dir = {
        .name = "fs.create_dir",
        .description = "Create a directory of the workspace, with its parents.",
        .parameters = "{\"type\":\"object\",\"properties\":{" PATH_PROP(
                "The directory") "},\"required\":[\"path\"]}",
        .place = TOOL_ON_HOST,
        .on_host = fs_on_host,
        .start = start_create_dir,
        .dispatch = dispatch_create_dir,
};

const ToolDef tool_fs_delete = {
        .name = "fs.delete",
        .description =
                "Delete a file or directory of the workspace (a directory that is not empty only with "
                "recursive).",
        .parameters = "{\"type\":\"object\",\"properties\":{" PATH_PROP(
                "What to delete") ",\"recursive\":{\"type\":\"boolean\",\"description\":\"Delete a "
                                  "directory "
                                  "and everything in it\"}},\"required\":[\"path\"]}",
        .place = TOOL_ON_HOST,
        .on_host = fs_on_host,
        .start = start_delete,
        .dispatch = dispatch_delete,
};

#define EDIT_PROPS                                                                                          \
        "\"target_content\":{\"type\":\"string\",\"description\":\"The exact text to replace (its first "   \
        "occurrence)\"},\"replacement_content\":{\"type\":\"string\",\"description\":\"The text to put in " \
        "its place\"}"

const ToolDef tool_fs_edit = {
        .name = "fs.edit",
        .description = "Replace a piece of text in a file of the workspace (the file is rewritten whole).",
        .parameters = "{\"type\":\"object\",\"properties\":{" PATH_PROP(
                "The file") "," EDIT_PROPS
                            "},\"required\":[\"path\",\"target_content\",\"replacement_content\"]}",
        .place = TOOL_ON_HOST,
        .on_host = fs_on_host,
        .start = start_edit,
        .dispatch = dispatch_edit,
};

const ToolDef tool_fs_multi_edit = {
        .name = "fs.multi_edit",
        .description =
                "Apply several replacements to a file of the workspace, in order; if one does not apply, "
                "nothing changes.",
        .parameters = "{\"type\":\"object\",\"properties\":{" PATH_PROP(
                "The file") ",\"edits\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":"
                            "{" EDIT_PROPS "},\"required\":[\"target_content\",\"replacement_content\"]}}},"
                            "\"required\":[\"path\",\"edits\"]}",
        .place = TOOL_ON_HOST,
        .on_host = fs_on_host,
        .start = start_multi_edit,
        .dispatch = dispatch_multi_edit,
};

const ToolDef tool_fs_grep = {
        .name = "fs.grep",
        .description =
                "Search the workspace's text files for lines matching a regular expression (PCRE2); at "
                "most 500 matches.",
        .parameters =
                "{\"type\":\"object\",\"properties\":{\"pattern\":{\"type\":\"string\",\"description\":"
                "\"The regular expression\"}," PATH_PROP("A file or a directory to search (default "
                                                         "/workspace)") "},\"required\":[\"pattern\"]}",
        .place = TOOL_ON_HOST,
        .available = fs_on_host, /* not in the container (yet) */
        .start = start_grep,
};

const ToolDef tool_fs_glob = {
        .name = "fs.glob",
        .description =
                "Find the workspace's files whose path matches a glob pattern (\"**\" matches any number "
                "of directories); at most 500.",
        .parameters =
                "{\"type\":\"object\",\"properties\":{\"pattern\":{\"type\":\"string\",\"description\":"
                "\"The pattern, relative to path, e.g. **/*.py\"}," PATH_PROP(
                        "The directory to search "
                        "(default /workspace)") "},"
                                                "\"required\":[\"pattern\"]}",
        .place = TOOL_ON_HOST,
        .available = fs_on_host, /* not in the container (yet) */
        .start = start_glob,
};
