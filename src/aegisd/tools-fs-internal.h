/* tools-fs-internal.h — what the two files of the fs tools share: tools-fs.c (paths, the
 * call's context, the file tools) and tools-fs-walk.c (fs.grep and fs.glob, the bounded
 * walks). Not for other modules: they use tools.h and tools-fs.h. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "tools.h"

#define FS_READ_MAX (10 * 1024 * 1024)
#define FS_PATH_MAX 4096
#define FS_WALK_DEPTH_MAX 32 /* directories below the start a walk goes */

/* One call's context: the volume's root fd and the path inside it. */
typedef struct FsCtx {
        const ToolEnv *env;
        const ToolVolume *vol;
        char *rel; /* "." or "a/b" */
        char *shown; /* the container's path, for results */
        int root_fd;
} FsCtx;

void fs_ctx_done(FsCtx *c);
/* Resolves args[key] (a path, default dflt when absent; required when dflt is NULL) into c
 * (write: the volume must be writable). NULL on success, else the error result. */
json_object *fs_ctx_open(FsCtx *c, const ToolEnv *env, json_object *args, const char *key, const char *dflt,
                         bool write);
/* args[key] when it is a string, else NULL. */
const char *fs_arg_str(json_object *args, const char *key);
/* c->rel's parent directory (an O_PATH fd, opened beneath the root) and its last component;
 * -EBUSY for the volume itself. */
int fs_open_parent(FsCtx *c, const char **ret_last);
/* Whether s[0..n) is valid UTF-8 without NUL. */
bool fs_text_ok(const char *s, size_t n);
/* {"error": "<what>: <path>: <why>"}. */
json_object *fs_fail(FsCtx *c, const char *what, int k);

json_object *fs_do_grep(const ToolEnv *env, json_object *args);
json_object *fs_do_glob(const ToolEnv *env, json_object *args);
