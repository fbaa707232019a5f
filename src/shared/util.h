/* util.h — small string, number, file and time helpers every program uses.
 *
 * Parsers are strict: the whole string must be consumed, overflow is -ERANGE, anything
 * else -EINVAL; results are written only on success. */
#pragma once

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "macros.h"
#include "utf8.h"

#define USEC_PER_SEC UINT64_C(1000000)
#define NSEC_PER_SEC UINT64_C(1000000000)
#define USEC_PER_MSEC UINT64_C(1000)

static inline bool streq(const char *a, const char *b) {
        return a && b && strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b) {
        return (!a && !b) || streq(a, b);
}
static inline const char *strempty(const char *s) {
        return s ? s : "";
}
static inline bool isempty(const char *s) {
        return !s || !*s;
}
/* Returns the rest of s after prefix, or NULL when s does not start with it. */
const char *startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);

/* malloc'd copies / formatting; NULL on allocation failure. */
char *strdup_or_null(const char *s);
char *strjoin_sep(const char *sep, const char *const *parts, size_t n);
char *asprintf_safe(const char *fmt, ...) _printf_(1, 2);
/* Joins path segments with single '/' separators. */
char *path_join(const char *a, const char *b);
/* $HOME when absolute, else the password database's home of this uid, else NULL. */
char *home_dir(void);

/* UTF-8: utf8_char_len() is in utf8.h. */
/* Whether s[0..n) is well-formed UTF-8 without NUL or other C0 control characters but tab. */
bool utf8_is_valid_text(const char *s, size_t n);

size_t strv_length(char *const *l);
/* Appends a copy of s; returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *s);
char **strv_copy(char *const *l);
bool strv_contains(char *const *l, const char *s);

int safe_atou64(const char *s, uint64_t *ret);
int safe_atoi64(const char *s, int64_t *ret);
int safe_atou(const char *s, unsigned *ret);
int safe_atoi(const char *s, int *ret);
int safe_atod(const char *s, double *ret);
/* "4096", "512Ki", "512Mi", "1Gi", "2Ti", "1.5Gi"; "1K"/"1M"/"1G" (powers of 1000);
 * podman's "512m", "1g" (powers of 1024); an optional "B" after the unit → bytes. */
int parse_size(const char *s, uint64_t *ret);
/* "600", "600s", "10m", "2h", "1h30m", "500ms" (rounded up to whole seconds) → seconds. */
int parse_duration_secs(const char *s, uint64_t *ret);
/* "host:port", "[v6]:port", ":port" (all addresses) → host (malloc'd, may be "") and port. */
int parse_listen_address(const char *s, char **ret_host, uint16_t *ret_port);

/* Whole-file helpers with a size cap; ret is NUL-terminated, ret_size excludes the NUL. */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);
/* Writes all of p to fd, again after EINTR and short writes; -errno on failure (-EIO when
 * the file takes nothing more). */
int write_all(int fd, const void *p, size_t size);
/* Writes via a temporary file in the same directory and rename(), with the given mode. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);
int mkdir_p(const char *path, mode_t mode);
/* mkdir_p(), then path itself gets exactly mode, whatever the umask or the mode it had. */
int mkdir_p_exact(const char *path, mode_t mode);

uint64_t now_usec(int clock); /* CLOCK_REALTIME / CLOCK_MONOTONIC / CLOCK_BOOTTIME */
/* RFC 3339 UTC with microseconds into buf ("2026-11-28T10:00:00.123456Z"). */
char *format_timestamp(char *buf, size_t size, uint64_t realtime_usec);
#define TIMESTAMP_MAX 40

/* A new random id as 32 lowercase hex digits (sd_id128), or a UUID-formatted string. */
#define ID128_STRING_MAX 33
#define UUID_STRING_MAX 37
int random_id(char ret[ID128_STRING_MAX]);
int random_uuid(char ret[UUID_STRING_MAX]);
/* True for ids we issue and accept in paths: 1..64 of [A-Za-z0-9_.-], not "." or "..". */
bool id_is_valid(const char *s);

/* Close-on-exec everywhere; errors as negative errno. */
int fd_nonblock(int fd, bool nonblock);

/* A bounded tail of a byte stream: keeps the last `cap` bytes (set cap before the first
 * append; data is NUL-terminated, truncated says bytes were dropped). */
typedef struct Tail {
        char *data;
        size_t size;
        size_t cap;
        bool truncated;
} Tail;
int tail_append(Tail *t, const char *p, size_t n);
void tail_reset(Tail *t); /* frees the bytes, keeps cap */
const char *tail_str(const Tail *t); /* NUL-terminated, "" when empty */
