/* tools-fs-walk.c — fs.grep and fs.glob (see tools-fs.c for what the fs tools keep true):
 * walks that never follow symlinks nor cross mounts, bounded in entries, depth, bytes read
 * and matches; regexes are PCRE2 with match and depth limits, so a pathological pattern from
 * the model cannot hold the event loop. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools-fs-internal.h"
#include "tools-fs.h"
#include "util.h"

#define FS_WALK_ENTRIES_MAX 20000 /* entries a grep or glob looks at */
#define FS_GREP_BYTES_MAX (64 * 1024 * 1024) /* bytes a grep reads */
#define FS_GREP_FILE_MAX (2 * 1024 * 1024) /* larger files are skipped by grep */
#define FS_MATCHES_MAX 500 /* grep lines, glob paths */
#define FS_LINE_MAX 400 /* bytes of a matching line shown */
#define FS_PCRE2_MATCH_LIMIT 100000
#define FS_PCRE2_DEPTH_LIMIT 1000

/* ---- walks: grep and glob ---- */

typedef struct Walk {
        FsCtx *c;
        dev_t dev;
        size_t entries;
        uint64_t bytes;
        bool truncated;
        json_object *matches;
        /* grep */
        pcre2_code *re;
        pcre2_match_data *md;
        pcre2_match_context *mctx;
        int re_error;
        /* glob */
        char **pattern; /* components */
} Walk;

static bool walk_full(Walk *w) {
        return json_object_array_length(w->matches) >= FS_MATCHES_MAX;
}

static void shown_path(Walk *w, const char *rel, char *buf, size_t size) {
        const char *m = w->c->vol->mount_path;
        snprintf(buf, size, "%s%s%s", m, endswith(m, "/") ? "" : "/", rel);
}

static void grep_file(Walk *w, int dfd, const char *name, const char *rel, const struct stat *st) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, line_no = 1;
        char shown[FS_PATH_MAX + 256];
        const char *p, *end;

        if (!S_ISREG(st->st_mode) || st->st_size > FS_GREP_FILE_MAX ||
            w->bytes + (uint64_t) st->st_size > FS_GREP_BYTES_MAX) {
                if (S_ISREG(st->st_mode) && w->bytes + (uint64_t) st->st_size > FS_GREP_BYTES_MAX)
                        w->truncated = true;
                return;
        }
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return;
        buf = malloc((size_t) st->st_size + 1);
        if (!buf)
                return;
        while (n < (size_t) st->st_size) {
                ssize_t r = read(fd, buf + n, (size_t) st->st_size - n);
                if (r <= 0)
                        break;
                n += (size_t) r;
        }
        w->bytes += n;
        if (memchr(buf, '\0', MIN(n, (size_t) 8192)))
                return; /* binary */
        shown_path(w, rel, shown, sizeof shown);
        for (p = buf, end = buf + n; p < end && !walk_full(w); line_no++) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
                int r = pcre2_match(w->re, (PCRE2_SPTR) p, len, 0, 0, w->md, w->mctx);
                if (r >= 0) {
                        json_object *m = json_object_new_object();
                        size_t show = MIN(len, (size_t) FS_LINE_MAX);
                        while (show < len && show > 0 && (((unsigned char) p[show]) & 0xC0) == 0x80)
                                show--;
                        json_object_object_add(m, "path", json_object_new_string(shown));
                        json_object_object_add(m, "line", json_object_new_int64((int64_t) line_no));
                        json_object_object_add(m, "text",
                                               fs_text_ok(p, show)
                                                       ? json_object_new_string_len(p, (int) show)
                                                       : json_object_new_string("(not valid UTF-8)"));
                        json_object_array_add(w->matches, m);
                } else if (r == PCRE2_ERROR_MATCHLIMIT || r == PCRE2_ERROR_DEPTHLIMIT)
                        w->re_error = r;
                p = nl ? nl + 1 : end;
        }
        if (walk_full(w))
                w->truncated = true;
}

/* Splits s (modified) at '/' into at most max-1 components, NULL-terminated; -E2BIG past it. */
static int split_path(char *s, char **comps, size_t max, size_t *ret_n) {
        size_t n = 0;

        for (char *p = s; *p;) {
                char *e;
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                if (n >= max - 1)
                        return -E2BIG;
                e = strchrnul(p, '/');
                comps[n++] = p;
                p = *e ? (*e = '\0', e + 1) : e;
        }
        comps[n] = NULL;
        *ret_n = n;
        return 0;
}

/* Whether the path components comps[0..n) match the pattern's components from pi on ("**"
 * matches any number of components). */
static bool glob_match(char **pat, char **comps, size_t n) {
        if (!*pat)
                return n == 0;
        if (streq(*pat, "**")) {
                for (size_t k = 0; k <= n; k++)
                        if (glob_match(pat + 1, comps + k, n - k))
                                return true;
                return false;
        }
        return n > 0 && fnmatch(*pat, comps[0], FNM_PERIOD) == 0 && glob_match(pat + 1, comps + 1, n - 1);
}

static void glob_entry(Walk *w, const char *rel_to_base) {
        _cleanup_free_ char *copy = strdup(rel_to_base);
        char *comps[FS_WALK_DEPTH_MAX + 2];
        size_t n = 0;

        if (!copy || split_path(copy, comps, ELEMENTSOF(comps), &n) < 0)
                return;
        if (glob_match(w->pattern, comps, n)) {
                if (walk_full(w)) {
                        w->truncated = true;
                        return;
                }
                json_object_array_add(w->matches, json_object_new_string(rel_to_base));
        }
}

/* Walks the directory dfd (taken) at rel (under the volume), base_len: the length of the
 * walk's start in rel (glob matches relative to it). */
static void walk_dir(Walk *w, int dfd, const char *rel, size_t base_len, unsigned depth) {
        DIR *d = fdopendir(dfd);
        struct dirent *de;

        if (!d) {
                safe_close(dfd);
                return;
        }
        while (!w->truncated && (de = readdir(d))) {
                _cleanup_free_ char *child = NULL;
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (++w->entries > FS_WALK_ENTRIES_MAX) {
                        w->truncated = true;
                        break;
                }
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                child = streq(rel, ".") ? strdup(de->d_name) : asprintf_safe("%s/%s", rel, de->d_name);
                if (!child || strlen(child) > FS_PATH_MAX)
                        continue;
                if (w->re)
                        grep_file(w, dirfd(d), de->d_name, child, &st);
                else {
                        const char *r = child + base_len;
                        while (*r == '/')
                                r++;
                        glob_entry(w, r);
                }
                if (S_ISDIR(st.st_mode) && st.st_dev == w->dev && depth < FS_WALK_DEPTH_MAX) {
                        int sub = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                walk_dir(w, sub, child, base_len, depth + 1);
                }
        }
        closedir(d);
}

/* Starts a walk at c->rel: a directory is walked, a file is looked at alone (grep). */
static int walk(Walk *w) {
        struct stat st;
        int fd = tool_fs_open(w->c->root_fd, w->c->rel, O_RDONLY | O_NONBLOCK, 0);

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0) {
                safe_close(fd);
                return -errno;
        }
        w->dev = st.st_dev;
        if (S_ISDIR(st.st_mode)) {
                walk_dir(w, fd, w->c->rel, streq(w->c->rel, ".") ? 0 : strlen(w->c->rel), 0);
                return 0;
        }
        if (w->re) {
                _cleanup_close_ int pfd = -EBADF;
                const char *last;
                safe_close(fd);
                pfd = fs_open_parent(w->c, &last);
                if (pfd < 0)
                        return pfd;
                grep_file(w, pfd, last, w->c->rel, &st);
                return 0;
        }
        safe_close(fd);
        return -ENOTDIR;
}

static json_object *walk_result(Walk *w, FsCtx *c, const char *key) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "path", json_object_new_string(c->shown));
        json_object_object_add(o, key, TAKE_PTR(w->matches));
        json_object_object_add(o, "truncated", json_object_new_boolean(w->truncated));
        if (w->truncated)
                json_object_object_add(o, "note",
                                       json_object_new_string("the search stopped at its bounds (matches, "
                                                              "entries or bytes): narrow the path or the "
                                                              "pattern"));
        if (w->re_error)
                json_object_object_add(o, "warning",
                                       json_object_new_string("some lines hit the regex's match limit and "
                                                              "were skipped"));
        return o;
}

json_object *fs_do_grep(const ToolEnv *env, json_object *args) {
        _cleanup_(fs_ctx_done) FsCtx c;
        json_object *e = fs_ctx_open(&c, env, args, "path", ".", false), *o;
        const char *pattern = fs_arg_str(args, "pattern");
        Walk w = { .c = &c };
        PCRE2_SIZE off;
        int err, k;

        if (e)
                return e;
        if (isempty(pattern) || strlen(pattern) > 4096)
                return tool_error("fs.grep: \"pattern\" (a regular expression, PCRE2) is required");
        w.re = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED,
                             PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
        if (!w.re) {
                PCRE2_UCHAR msg[256];
                pcre2_get_error_message(err, msg, sizeof msg);
                return tool_error("fs.grep: pattern: %s at offset %zu", (const char *) msg, (size_t) off);
        }
        w.md = pcre2_match_data_create_from_pattern(w.re, NULL);
        w.mctx = pcre2_match_context_create(NULL);
        w.matches = json_object_new_array();
        if (w.md && w.mctx) {
                pcre2_set_match_limit(w.mctx, FS_PCRE2_MATCH_LIMIT);
                pcre2_set_depth_limit(w.mctx, FS_PCRE2_DEPTH_LIMIT);
                k = walk(&w);
        } else
                k = -ENOMEM;
        o = k < 0 ? fs_fail(&c, "fs.grep", k) : walk_result(&w, &c, "matches");
        json_object_put(w.matches);
        pcre2_match_context_free(w.mctx);
        pcre2_match_data_free(w.md);
        pcre2_code_free(w.re);
        return o;
}

static int cmp_strings(const void *a, const void *b) {
        return strcmp(json_object_get_string(*(json_object *const *) a),
                      json_object_get_string(*(json_object *const *) b));
}

json_object *fs_do_glob(const ToolEnv *env, json_object *args) {
        _cleanup_(fs_ctx_done) FsCtx c;
        _cleanup_free_ char *copy = NULL;
        json_object *e = fs_ctx_open(&c, env, args, "path", ".", false), *o;
        const char *pattern = fs_arg_str(args, "pattern");
        char *comps[FS_WALK_DEPTH_MAX + 2];
        size_t n = 0;
        Walk w = { .c = &c };
        int k;

        if (e)
                return e;
        if (isempty(pattern) || strlen(pattern) > 1024 || pattern[0] == '/')
                return tool_error(
                        "fs.glob: \"pattern\" (relative to \"path\", e.g. \"**/*.c\") is required");
        copy = strdup(pattern);
        if (!copy)
                return tool_error("out of memory");
        if (split_path(copy, comps, ELEMENTSOF(comps), &n) < 0)
                return tool_error("fs.glob: the pattern has too many components");
        w.pattern = comps;
        w.matches = json_object_new_array();
        k = walk(&w);
        if (k >= 0)
                json_object_array_sort(w.matches, cmp_strings);
        o = k < 0 ? fs_fail(&c, "fs.glob", k) : walk_result(&w, &c, "matches");
        json_object_put(w.matches);
        return o;
}
