/* fs-tools-core.h — what the fs.* tools do wherever they run: compiled into aegisd
 * (src/aegisd/tools-fs.c, on an execution's volume) and into the static aegis-bootstrap
 * (src/bootstrap/bootstrap-fs.c, in the container when there is no volume), so the model
 * gets one result shape, one set of error texts, one regex dialect and one set of bounds
 * from either place.
 *
 * It uses libc, json-c and PCRE2 only (the three link statically into aegis-bootstrap),
 * never libaegis-*: the callers open what a tool works on — aegisd beneath the volume
 * with openat2(), aegis-bootstrap by path in the container — and hand the fds in.
 *
 * What must stay true:
 *  - errors are results {"error": "<tool>: <path>: <why>"} (valid UTF-8), never failures;
 *    functions taking an fd take it over (close it), and accept a negative errno instead,
 *    which they turn into that tool's error after checking the other arguments (so both
 *    sides report the same first problem);
 *  - a replaced file is written whole to a temporary file in the same directory and
 *    renamed over the old one; what is replaced is never followed (O_NOFOLLOW, renameat);
 *  - bounded: reads and writes FS_READ_MAX, a read's serialized content FS_RESULT_BUDGET,
 *    lists FS_LIST_MAX entries, edits FS_EDITS_MAX; grep and glob walk at most
 *    20000 entries and 32 directories deep, never following a symlink nor entering another
 *    mount, grep reads at most 64 MiB (files over 2 MiB skipped), both give at most 500
 *    matches, and a grep's PCRE2 match runs under match and depth limits. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FS_READ_MAX (10 * 1024 * 1024)
#define FS_WRITE_MAX (10 * 1024 * 1024)
#define FS_RESULT_BUDGET (11 * 1024 * 1024) /* bytes of a read's content once JSON-escaped */
#define FS_LIST_MAX 1000 /* entries of fs.list */
#define FS_EDITS_MAX 100
#define FS_PATH_MAX 4096
#define FS_WALK_DEPTH_MAX 32 /* directories below the start a walk goes */

/* Whether s[0..n) is well-formed UTF-8 without NUL (text, not binary). */
bool fs_text_ok(const char *s, size_t n);
/* Length of the longest prefix of s[0..len) that does not end inside a UTF-8 sequence. */
size_t fs_utf8_head_cut(const char *s, size_t len);

/* {"error": printf(fmt, …)}, invalid UTF-8 bytes shown as '?'. */
json_object *fs_result_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* {"error": "<tool>: <shown>: <why>"} for the negative errno k. */
json_object *fs_result_fail(const char *tool, const char *shown, int k);

/* Reads the regular file fd (taken; at most max bytes, *ret_truncated when it had more);
 * -EISDIR for a directory, -EBADFD for anything else that is not a regular file (and for
 * any file of /proc). */
int fs_read_fd(int fd, size_t max, char **ret, size_t *ret_n, uint64_t *ret_size, bool *ret_truncated);
/* Replaces last in the directory pfd with data[0..n): an existing file keeps its mode (and
 * its owner when we are root); a new one gets uid:gid unless uid is (uid_t) -1. */
int fs_replace_at(int pfd, const char *last, const char *data, size_t n, uid_t uid, gid_t gid);

/* fs.read's result for the file fd (or a negative errno). */
json_object *fs_read(int fd, const char *shown);
/* fs.list's result for the directory fd (or a negative errno). */
json_object *fs_list(int fd, const char *shown);

/* How fs_edit() reads and replaces the file it edits. */
typedef struct FsFileIO {
        int (*read)(void *userdata, char **ret, size_t *ret_n, uint64_t *ret_size, bool *ret_truncated);
        int (*replace)(void *userdata, const char *data, size_t n);
        void *userdata;
} FsFileIO;
/* fs.edit (tool "fs.edit": args' target_content and replacement_content) or fs.multi_edit
 * (args' edits[]): all edits apply in memory, in order, or nothing is written. */
json_object *fs_edit(const char *tool, json_object *args, const char *shown, const FsFileIO *io);

/* fs.grep and fs.glob from the file or directory fd (or a negative errno), shown as shown;
 * pattern is the model's (NULL when absent). */
json_object *fs_grep(int fd, const char *shown, const char *pattern);
json_object *fs_glob(int fd, const char *shown, const char *pattern);
