/* fs-tools-core.c — see fs-tools-core.h: the fs tools' work on open fds, shared by aegisd and
 * aegis-bootstrap (libc, json-c and PCRE2 only). */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "fs-tools-core.h"
#include "macros.h"
#include "utf8.h"

#define FS_WALK_ENTRIES_MAX 20000 /* entries a grep or glob looks at */
#define FS_GREP_BYTES_MAX (64 * 1024 * 1024) /* bytes a grep reads */
#define FS_GREP_FILE_MAX (2 * 1024 * 1024) /* larger files are skipped by grep */
#define FS_MATCHES_MAX 500 /* grep lines, glob paths */
#define FS_LINE_MAX 400 /* bytes of a matching line shown */
#define FS_GREP_PATTERN_MAX 4096
#define FS_GLOB_PATTERN_MAX 1024
#define FS_PCRE2_MATCH_LIMIT 100000
#define FS_PCRE2_DEPTH_LIMIT 1000

/* ---- text ---- */

bool fs_text_ok(const char *s, size_t n) {
        for (size_t i = 0; i < n;) {
                size_t k = utf8_char_len(s + i, n - i);
                if (k == 0 || s[i] == '\0')
                        return false;
                i += k;
        }
        return true;
}

size_t fs_utf8_head_cut(const char *s, size_t len) {
        const unsigned char *u = (const unsigned char *) s;
        size_t i = len, back = 0;

        /* Step back over at most three continuation bytes to the lead byte before the cut. */
        while (i > 0 && back < 3 && (u[i - 1] & 0xC0) == 0x80) {
                i--;
                back++;
        }
        if (i > 0 && u[i - 1] >= 0xC0) {
                size_t want = u[i - 1] >= 0xF0 ? 4 : u[i - 1] >= 0xE0 ? 3 : 2;

                if (back + 1 < want)
                        return i - 1; /* the sequence is cut: drop its start */
        }
        return len;
}

/* ---- results ---- */

json_object *fs_result_error(const char *fmt, ...) {
        json_object *o = json_object_new_object();
        char *m = NULL;
        va_list ap;
        size_t n;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        n = m ? strlen(m) : 0;
        for (size_t i = 0; i < n;) {
                size_t k = utf8_char_len(m + i, n - i);
                if (k == 0)
                        m[i] = '?', k = 1;
                i += k;
        }
        json_object_object_add(o, "error", json_object_new_string(m ? m : "out of memory"));
        free(m);
        return o;
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
                return "the file system is read-only";
        case EBADFD:
                return "not a regular file";
        default:
                return strerror(-k);
        }
}

json_object *fs_result_fail(const char *tool, const char *shown, int k) {
        return fs_result_error("%s: %s: %s", tool, shown, errno_text(k));
}

/* ---- files ---- */

int fs_read_fd(int fd, size_t max, char **ret, size_t *ret_n, uint64_t *ret_size, bool *ret_truncated) {
        struct statfs sf;
        struct stat st;
        char *buf;
        size_t n = 0;
        int k = 0;

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0 || fstatfs(fd, &sf) < 0)
                k = -errno;
        else if (S_ISDIR(st.st_mode))
                k = -EISDIR;
        else if (!S_ISREG(st.st_mode) || sf.f_type == PROC_SUPER_MAGIC)
                k = -EBADFD; /* nothing of /proc: aegis-bootstrap's capability lives there */
        buf = k < 0 ? NULL : malloc(max + 1);
        if (k == 0 && !buf)
                k = -ENOMEM;
        while (k == 0 && n < max) {
                ssize_t r = read(fd, buf + n, max - n);
                if (r < 0 && errno != EINTR)
                        k = -errno;
                else if (r == 0)
                        break;
                else if (r > 0)
                        n += (size_t) r;
        }
        close(fd);
        if (k < 0) {
                free(buf);
                return k;
        }
        buf[n] = '\0';
        *ret_truncated = (uint64_t) st.st_size > n;
        *ret_size = (uint64_t) st.st_size;
        *ret_n = n;
        *ret = buf;
        return 0;
}

int fs_replace_at(int pfd, const char *last, const char *data, size_t n, uid_t uid, gid_t gid) {
        char tmp[64];
        struct stat st;
        bool existed;
        int fd = -1, k = 0;

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
        for (size_t done = 0; done < n && k == 0;) {
                ssize_t w = write(fd, data + done, n - done);
                if (w < 0 && errno != EINTR)
                        k = -errno;
                else if (w > 0)
                        done += (size_t) w;
        }
        if (k == 0 && existed && S_ISREG(st.st_mode)) {
                if (geteuid() == 0)
                        (void) fchown(fd, st.st_uid, st.st_gid);
                (void) fchmod(fd, st.st_mode & 07777);
        } else if (k == 0 && uid != (uid_t) -1)
                (void) fchown(fd, uid, gid);
        if (k == 0 && fsync(fd) < 0)
                k = -errno;
        if (k == 0 && renameat(pfd, tmp, pfd, last) < 0)
                k = -errno;
        if (k < 0)
                (void) unlinkat(pfd, tmp, 0);
        close(fd);
        return k;
}

/* How many bytes json-c writes for c in a string (plain, '/' not escaped: how aegis-bootstrap
 * posts a result). */
static size_t escaped_len(unsigned char c) {
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
                return 2;
        return c < 0x20 ? 6 : 1;
}

json_object *fs_read(int fd, const char *shown) {
        char *buf = NULL;
        uint64_t size;
        size_t n, shown_n = 0, cost = 0;
        bool trunc;
        json_object *o;
        int k;

        k = fs_read_fd(fd, FS_READ_MAX, &buf, &n, &size, &trunc);
        if (k < 0)
                return fs_result_fail("fs.read", shown, k);
        while (shown_n < n && cost + escaped_len((unsigned char) buf[shown_n]) <= FS_RESULT_BUDGET)
                cost += escaped_len((unsigned char) buf[shown_n++]);
        if (shown_n < n) {
                trunc = true;
                n = shown_n;
        }
        if (trunc)
                n = fs_utf8_head_cut(buf, n); /* not inside a character cut by the bound */
        if (!fs_text_ok(buf, n)) {
                free(buf);
                return fs_result_error("fs.read: %s: a binary file (%" PRIu64 " bytes): not shown", shown,
                                       size);
        }
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(shown));
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

static const char *type_name(mode_t m) {
        return S_ISREG(m) ? "file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : "other";
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(json_object_get_string(json_object_object_get(*(json_object *const *) a, "name")),
                      json_object_get_string(json_object_object_get(*(json_object *const *) b, "name")));
}

json_object *fs_list(int fd, const char *shown) {
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        struct dirent *de;
        json_object *a, *o;
        bool trunc = false;

        if (!d) {
                int k = fd < 0 ? fd : -errno;
                if (fd >= 0)
                        close(fd);
                return fs_result_fail("fs.list", shown, k);
        }
        a = json_object_new_array();
        while ((de = readdir(d))) {
                struct stat st;
                json_object *x;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
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
        json_object_object_add(o, "path", json_object_new_string(shown));
        json_object_object_add(o, "entries", a);
        json_object_object_add(o, "truncated", json_object_new_boolean(trunc));
        return o;
}

/* ---- edits ---- */

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

/* Applies edits[] to buf in order; NULL and *ret_counts, or the error result. */
static json_object *apply_edits(const char *tool, const char *shown, json_object *edits, char **buf,
                                size_t *n, json_object **ret_counts) {
        json_object *counts = json_object_new_array(), *err = NULL;
        size_t ne = json_object_array_length(edits);

        for (size_t i = 0; i < ne && !err; i++) {
                json_object *ed = json_object_array_get_idx(edits, i), *t, *r;
                size_t count = 0;
                int k;

                if (!json_object_object_get_ex(ed, "target_content", &t) ||
                    !json_object_is_type(t, json_type_string) ||
                    !json_object_object_get_ex(ed, "replacement_content", &r) ||
                    !json_object_is_type(r, json_type_string)) {
                        err = fs_result_error("%s: edit %zu: \"target_content\" and \"replacement_content\" "
                                              "(strings) are required",
                                              tool, i + 1);
                        break;
                }
                k = apply_edit(buf, n, json_object_get_string(t), (size_t) json_object_get_string_len(t),
                               json_object_get_string(r), (size_t) json_object_get_string_len(r), &count);
                if (k == -ENOENT)
                        err = fs_result_error(
                                "%s: edit %zu: target_content not found in %s (nothing was changed)", tool,
                                i + 1, shown);
                else if (k == -EINVAL)
                        err = fs_result_error("%s: edit %zu: target_content is empty", tool, i + 1);
                else if (k < 0)
                        err = fs_result_fail(tool, shown, k);
                else if (*n > FS_WRITE_MAX)
                        err = fs_result_error("%s: the result would be over 10 MiB: not edited", tool);
                else
                        json_object_array_add(counts, json_object_new_int64((int64_t) count));
        }
        if (err) {
                json_object_put(counts);
                return err;
        }
        *ret_counts = counts;
        return NULL;
}

json_object *fs_edit(const char *tool, json_object *args, const char *shown, const FsFileIO *io) {
        json_object *edits, *counts = NULL, *o, *v;
        char *buf = NULL;
        uint64_t size;
        size_t n, ne;
        bool trunc;
        int k;

        if (strcmp(tool, "fs.edit") == 0) {
                json_object *one = json_object_new_object();
                if (json_object_object_get_ex(args, "target_content", &v))
                        json_object_object_add(one, "target_content", json_object_get(v));
                if (json_object_object_get_ex(args, "replacement_content", &v))
                        json_object_object_add(one, "replacement_content", json_object_get(v));
                edits = json_object_new_array();
                json_object_array_add(edits, one);
        } else if (json_object_object_get_ex(args, "edits", &v) && json_object_is_type(v, json_type_array))
                edits = json_object_get(v);
        else
                return fs_result_error("%s: \"edits\" (an array of {target_content, replacement_content}) "
                                       "is required",
                                       tool);
        ne = json_object_array_length(edits);
        if (ne == 0 || ne > FS_EDITS_MAX)
                o = fs_result_error("%s: between 1 and %d edits are needed", tool, FS_EDITS_MAX);
        else if ((k = io->read(io->userdata, &buf, &n, &size, &trunc)) < 0)
                o = fs_result_fail(tool, shown, k);
        else if (trunc)
                o = fs_result_error("%s: %s is over 10 MiB: not edited", tool, shown);
        else if (!(o = apply_edits(tool, shown, edits, &buf, &n, &counts)) &&
                 (k = io->replace(io->userdata, buf, n)) < 0)
                o = fs_result_fail(tool, shown, k);
        else if (!o) {
                o = json_object_new_object();
                json_object_object_add(o, "path", json_object_new_string(shown));
                json_object_object_add(o, "edits_applied", json_object_new_int64((int64_t) ne));
                json_object_object_add(o, "occurrences", TAKE_PTR(counts));
                json_object_object_add(o, "size", json_object_new_int64((int64_t) n));
        }
        json_object_put(counts);
        json_object_put(edits);
        free(buf);
        return o;
}

/* ---- walks: grep and glob ---- */

typedef struct Walk {
        const char *shown; /* the start, as the model sees it */
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

/* Greps the file fd (taken), rel: its path from the start ("" for the start itself). */
static void grep_file(Walk *w, int fd, const char *rel, const struct stat *st) {
        char *buf = NULL, *shown = NULL;
        size_t n = 0, line_no = 1;
        const char *p, *end;

        if (!S_ISREG(st->st_mode) || st->st_size > FS_GREP_FILE_MAX ||
            w->bytes + (uint64_t) st->st_size > FS_GREP_BYTES_MAX) {
                if (S_ISREG(st->st_mode) && w->bytes + (uint64_t) st->st_size > FS_GREP_BYTES_MAX)
                        w->truncated = true;
                close(fd);
                return;
        }
        buf = malloc((size_t) st->st_size + 1);
        while (buf && n < (size_t) st->st_size) {
                ssize_t r = read(fd, buf + n, (size_t) st->st_size - n);
                if (r <= 0)
                        break;
                n += (size_t) r;
        }
        close(fd);
        w->bytes += n;
        if (!buf || memchr(buf, '\0', MIN(n, (size_t) 8192))) { /* binary */
                free(buf);
                return;
        }
        if (!*rel)
                shown = strdup(w->shown);
        else if (asprintf(&shown, "%s%s%s", w->shown, w->shown[strlen(w->shown) - 1] == '/' ? "" : "/",
                          rel) < 0)
                shown = NULL;
        for (p = buf, end = buf + n; shown && p < end && !walk_full(w); line_no++) {
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
        free(shown);
        free(buf);
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

/* Whether the path components comps[0..n) match the pattern's components ("**" matches any
 * number of components). */
static bool glob_match(char **pat, char **comps, size_t n) {
        if (!*pat)
                return n == 0;
        if (strcmp(*pat, "**") == 0) {
                for (size_t k = 0; k <= n; k++)
                        if (glob_match(pat + 1, comps + k, n - k))
                                return true;
                return false;
        }
        return n > 0 && fnmatch(*pat, comps[0], FNM_PERIOD) == 0 && glob_match(pat + 1, comps + 1, n - 1);
}

static void glob_entry(Walk *w, const char *rel) {
        char *copy = strdup(rel);
        char *comps[FS_WALK_DEPTH_MAX + 2];
        size_t n = 0;

        if (copy && split_path(copy, comps, ELEMENTSOF(comps), &n) == 0 &&
            glob_match(w->pattern, comps, n)) {
                if (walk_full(w))
                        w->truncated = true;
                else
                        json_object_array_add(w->matches, json_object_new_string(rel));
        }
        free(copy);
}

/* Walks the directory dfd (taken) at rel (its path from the start, "" for the start). */
static void walk_dir(Walk *w, int dfd, const char *rel, unsigned depth) {
        DIR *d = fdopendir(dfd);
        struct dirent *de;

        if (!d) {
                close(dfd);
                return;
        }
        while (!w->truncated && (de = readdir(d))) {
                char *child = NULL;
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (++w->entries > FS_WALK_ENTRIES_MAX) {
                        w->truncated = true;
                        break;
                }
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (asprintf(&child, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0)
                        continue;
                if (strlen(child) > FS_PATH_MAX) {
                        free(child);
                        continue;
                }
                if (!w->re)
                        glob_entry(w, child);
                else if (S_ISREG(st.st_mode)) {
                        int fd =
                                openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
                        if (fd >= 0)
                                grep_file(w, fd, child, &st);
                }
                if (S_ISDIR(st.st_mode) && st.st_dev == w->dev && depth < FS_WALK_DEPTH_MAX) {
                        int sub = openat(dirfd(d), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                walk_dir(w, sub, child, depth + 1);
                }
                free(child);
        }
        closedir(d);
}

/* Walks from fd (taken): a directory is walked, a file is looked at alone (grep). */
static int walk(Walk *w, int fd) {
        struct stat st;

        if (fstat(fd, &st) < 0) {
                int k = -errno;
                close(fd);
                return k;
        }
        w->dev = st.st_dev;
        if (S_ISDIR(st.st_mode)) {
                walk_dir(w, fd, "", 0);
                return 0;
        }
        if (w->re) {
                grep_file(w, fd, "", &st);
                return 0;
        }
        close(fd);
        return -ENOTDIR;
}

static json_object *walk_result(Walk *w, const char *tool, int k) {
        json_object *o;

        if (k < 0)
                return fs_result_fail(tool, w->shown, k);
        o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(w->shown));
        json_object_object_add(o, "matches", json_object_get(w->matches));
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

json_object *fs_grep(int fd, const char *shown, const char *pattern) {
        Walk w = { .shown = shown };
        PCRE2_SIZE off;
        json_object *o;
        int err, k;

        if (!pattern || !*pattern || strlen(pattern) > FS_GREP_PATTERN_MAX) {
                if (fd >= 0)
                        close(fd);
                return fs_result_error("fs.grep: \"pattern\" (a regular expression, PCRE2) is required");
        }
        w.re = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED,
                             PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
        if (!w.re) {
                PCRE2_UCHAR msg[256];
                if (fd >= 0)
                        close(fd);
                pcre2_get_error_message(err, msg, sizeof msg);
                return fs_result_error("fs.grep: pattern: %s at offset %zu", (const char *) msg,
                                       (size_t) off);
        }
        w.md = pcre2_match_data_create_from_pattern(w.re, NULL);
        w.mctx = pcre2_match_context_create(NULL);
        w.matches = json_object_new_array();
        if (fd < 0)
                k = fd;
        else if (w.md && w.mctx) {
                pcre2_set_match_limit(w.mctx, FS_PCRE2_MATCH_LIMIT);
                pcre2_set_depth_limit(w.mctx, FS_PCRE2_DEPTH_LIMIT);
                k = walk(&w, fd);
        } else {
                close(fd);
                k = -ENOMEM;
        }
        o = walk_result(&w, "fs.grep", k);
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

json_object *fs_glob(int fd, const char *shown, const char *pattern) {
        char *comps[FS_WALK_DEPTH_MAX + 2], *copy = NULL;
        Walk w = { .shown = shown };
        json_object *o;
        size_t n = 0;
        int k;

        if (!pattern || !*pattern || strlen(pattern) > FS_GLOB_PATTERN_MAX || pattern[0] == '/')
                o = fs_result_error(
                        "fs.glob: \"pattern\" (relative to \"path\", e.g. \"**/*.c\") is required");
        else if (!(copy = strdup(pattern)))
                o = fs_result_error("out of memory");
        else if (split_path(copy, comps, ELEMENTSOF(comps), &n) < 0)
                o = fs_result_error("fs.glob: the pattern has too many components");
        else {
                w.pattern = comps;
                w.matches = json_object_new_array();
                k = fd < 0 ? fd : walk(&w, TAKE_FD(fd));
                if (k >= 0)
                        json_object_array_sort(w.matches, cmp_strings);
                o = walk_result(&w, "fs.glob", k);
                json_object_put(w.matches);
        }
        if (fd >= 0)
                close(fd);
        free(copy);
        return o;
}
