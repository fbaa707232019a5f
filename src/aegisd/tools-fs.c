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
 * What the tools do once a path is open (reading, replacing, listing, editing, grep and glob,
 * their bounds and result objects) is src/shared/fs-tools-core.c, which aegis-bootstrap runs
 * too. Without a volume, or with volumes of a rootless engine's user namespace (on_host false),
 * every fs tool runs in the container instead: its
 * dispatch is {"action":"fs","op":"read",…} with the model's arguments, the path made
 * absolute and lexically normalized here (relative under /workspace), and aegis-bootstrap
 * (bootstrap-fs.c) answers with the same result object. */
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

#include "fs-tools-core.h"
#include "policy.h"
#include "tools-fs.h"
#include "volume-files.h"
#include "volume-userns.h"
#include "util.h"

#define FS_DISPATCH_MAX (14 * 1024 * 1024) /* an fs dispatch's JSON (a write of 10 MiB, escaped) */

#define RESOLVE_FLAGS (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

/* One call's context: the volume's root fd and the path inside it. */
typedef struct FsCtx {
        const ToolEnv *env;
        const ToolVolume *vol;
        char *rel; /* "." or "a/b" */
        char *shown; /* the container's path, for results */
        int root_fd;
} FsCtx;

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

static void fs_ctx_done(FsCtx *c) {
        free(c->rel);
        free(c->shown);
        safe_close(c->root_fd);
}

static const char *fs_arg_str(json_object *args, const char *key) {
        json_object *v;
        if (!json_object_object_get_ex(args, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

/* Resolves args[key] (a path, default dflt when absent; required when dflt is NULL) into c
 * (write: the volume must be writable). NULL on success, else the error result. */
static json_object *fs_ctx_open(FsCtx *c, const ToolEnv *env, json_object *args, const char *key,
                                const char *dflt, bool write) {
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

/* c->rel's parent directory (an O_PATH fd, opened beneath the root) and its last component;
 * -EBUSY for the volume itself. */
static int fs_open_parent(FsCtx *c, const char **ret_last) {
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
        _cleanup_close_ int pfd = -EBADF;
        const char *last;

        pfd = fs_open_parent(c, &last);
        if (pfd < 0)
                return pfd;
        return fs_replace_at(pfd, last, data, n, geteuid() == 0 ? c->env->uid : (uid_t) -1, c->env->gid);
}

/* rel opened beneath the volume for reading (the shared tools take the fd or the error). */
static int open_rel(FsCtx *c, int flags) {
        return tool_fs_open(c->root_fd, c->rel, O_RDONLY | O_NONBLOCK | flags, 0);
}

static json_object *fs_fail(FsCtx *c, const char *what, int k) {
        return fs_result_fail(what, c->shown, k);
}

/* ---- the tools ---- */

static json_object *do_read(const ToolEnv *env, json_object *args) {
        _cleanup_(fs_ctx_done) FsCtx c;
        json_object *e = fs_ctx_open(&c, env, args, "path", NULL, false);

        return e ?: fs_read(open_rel(&c, 0), c.shown);
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

static json_object *do_list(const ToolEnv *env, json_object *args) {
        _cleanup_(fs_ctx_done) FsCtx c;
        json_object *e = fs_ctx_open(&c, env, args, "path", ".", false);

        return e ?: fs_list(open_rel(&c, O_DIRECTORY), c.shown);
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

static int edit_read(void *userdata, char **ret, size_t *ret_n, uint64_t *ret_size, bool *ret_truncated) {
        return fs_read_fd(open_rel(userdata, 0), FS_READ_MAX, ret, ret_n, ret_size, ret_truncated);
}

static int edit_replace(void *userdata, const char *data, size_t n) {
        return replace_file(userdata, data, n);
}

static json_object *edit_file(const ToolEnv *env, json_object *args, const char *tool) {
        _cleanup_(fs_ctx_done) FsCtx c;
        json_object *e = fs_ctx_open(&c, env, args, "path", NULL, true);

        return e
                       ?: fs_edit(tool, args, c.shown,
                                  &(FsFileIO){ .read = edit_read, .replace = edit_replace, .userdata = &c });
}

static json_object *do_edit(const ToolEnv *env, json_object *args) {
        return edit_file(env, args, "fs.edit");
}

static json_object *do_multi_edit(const ToolEnv *env, json_object *args) {
        return edit_file(env, args, "fs.multi_edit");
}

static json_object *do_grep(const ToolEnv *env, json_object *args) {
        _cleanup_(fs_ctx_done) FsCtx c;
        json_object *e = fs_ctx_open(&c, env, args, "path", ".", false);

        return e ?: fs_grep(open_rel(&c, 0), c.shown, fs_arg_str(args, "pattern"));
}

static json_object *do_glob(const ToolEnv *env, json_object *args) {
        _cleanup_(fs_ctx_done) FsCtx c;
        json_object *e = fs_ctx_open(&c, env, args, "path", ".", false);

        return e ?: fs_glob(open_rel(&c, 0), c.shown, fs_arg_str(args, "pattern"));
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
        { "fs.grep", do_grep },
        { "fs.glob", do_glob },
};

json_object *tool_fs_run(const ToolEnv *env, const char *name, json_object *args) {
        assert(env);
        for (size_t i = 0; i < ELEMENTSOF(fs_tools); i++)
                if (streq(fs_tools[i].name, name))
                        return fs_tools[i].run(env, args);
        return tool_error("unknown tool \"%s\"", strempty(name));
}

/* On the host with a volume, unless volumes are worked on in a rootless engine's user
 * namespace (volume-userns.h): there aegisd as itself may not write the agent's files, and
 * aegis-bootstrap, the agent's own uid behind the same mounts, may. */
static bool fs_on_host(const ToolEnv *env) {
        return env && env->n_volumes > 0 && !volume_userns_pid_file();
}

/* The container's side: {"action":"fs","op":op} and the arguments the op takes, the path
 * absolute (relative ones under /workspace) and normalized; dflt when absent (NULL: leave it
 * absent, aegis-bootstrap says it is required). */
static json_object *fs_dispatch(const char *op, const char *dflt, json_object *args, char **ret_why,
                                char **ret_notes) {
        static const char *const keys[] = {
                "content", "recursive", "target_content", "replacement_content", "edits", "pattern",
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
FS_DISPATCH(dispatch_grep, "grep", TOOL_WORKSPACE)
FS_DISPATCH(dispatch_glob, "glob", TOOL_WORKSPACE)

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
        .on_host = fs_on_host,
        .start = start_grep,
        .dispatch = dispatch_grep,
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
        .on_host = fs_on_host,
        .start = start_glob,
        .dispatch = dispatch_glob,
};
