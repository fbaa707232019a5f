/* tools-fs.h — the fs tools (tools-fs.c): their catalogue entries (listed in tools.c), the
 * path resolution and a synchronous run, for tests. */
#pragma once

#include "tool-call.h"

extern const ToolDef tool_fs_read, tool_fs_write, tool_fs_list, tool_fs_create_dir, tool_fs_delete,
        tool_fs_edit, tool_fs_multi_edit, tool_fs_grep, tool_fs_glob;

struct json_object;

/* Maps a path the model gave to the volume holding it and the path inside it ("." for its
 * root): relative paths are under /workspace, "." and ".." are resolved lexically. -EXDEV: a
 * ".." above "/"; -ENOENT: no volume holds it; -EINVAL: too long. Nothing is opened. */
int tool_fs_locate(const ToolEnv *env, const char *path, const ToolVolume **ret_vol, char **ret_rel);
/* openat2(root_fd, rel, flags | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV): an fd, or -errno (-EXDEV when it would leave root_fd's tree). */
int tool_fs_open(int root_fd, const char *rel, int flags, mode_t mode);
/* Runs the fs tool name at once: its result for the model (never NULL). */
struct json_object *tool_fs_run(const ToolEnv *env, const char *name, struct json_object *args);
