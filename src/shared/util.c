/* util.c — see util.h. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <systemd/sd-id128.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

const char *startswith(const char *s, const char *prefix) {
        size_t n;

        if (!s || !prefix)
                return NULL;
        n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

bool endswith(const char *s, const char *suffix) {
        size_t a, b;

        if (!s || !suffix)
                return false;
        a = strlen(s);
        b = strlen(suffix);
        return b <= a && memcmp(s + a - b, suffix, b) == 0;
}

char *strdup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

char *asprintf_safe(const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

char *strjoin_sep(const char *sep, const char *const *parts, size_t n) {
        size_t len = 1, sl = sep ? strlen(sep) : 0;
        char *s, *p;

        for (size_t i = 0; i < n; i++)
                len += strlen(parts[i]) + (i ? sl : 0);
        s = p = malloc(len);
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (i && sl) {
                        memcpy(p, sep, sl);
                        p += sl;
                }
                size_t k = strlen(parts[i]);
                memcpy(p, parts[i], k);
                p += k;
        }
        *p = '\0';
        return s;
}

char *home_dir(void) {
        const char *h = getenv("HOME");
        struct passwd *pw;

        if (h && h[0] == '/')
                return strdup(h);
        pw = getpwuid(getuid());
        return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? strdup(pw->pw_dir) : NULL;
}

char *path_join(const char *a, const char *b) {
        size_t la, lb;

        if (!a || !*a)
                return strdup(b ? b : "");
        if (!b || !*b)
                return strdup(a);
        la = strlen(a);
        while (la > 1 && a[la - 1] == '/')
                la--;
        while (*b == '/')
                b++;
        lb = strlen(b);
        char *s = malloc(la + 1 + lb + 1);
        if (!s)
                return NULL;
        memcpy(s, a, la);
        if (!(la == 1 && a[0] == '/'))
                s[la++] = '/';
        memcpy(s + la, b, lb + 1);
        return s;
}

void strv_free(char **l) {
        if (!l)
                return;
        for (char **p = l; *p; p++)
                free(*p);
        free(l);
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        while (l && l[n])
                n++;
        return n;
}

int strv_extend(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char *c = strdup(s);
        char **nl;

        if (!c)
                return -ENOMEM;
        nl = realloc(*l, sizeof(char *) * (n + 2));
        if (!nl) {
                free(c);
                return -ENOMEM;
        }
        nl[n] = c;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

char **strv_copy(char *const *l) {
        char **c = calloc(strv_length(l) + 1, sizeof(char *));

        if (!c)
                return NULL;
        for (size_t i = 0; l && l[i]; i++)
                if (!(c[i] = strdup(l[i]))) {
                        strv_free(c);
                        return NULL;
                }
        return c;
}

bool utf8_is_valid_text(const char *s, size_t n) {
        for (size_t i = 0; i < n;) {
                size_t k = utf8_char_len(s + i, n - i);
                if (k == 0 || ((unsigned char) s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7F)
                        return false;
                i += k;
        }
        return true;
}

bool strv_contains(char *const *l, const char *s) {
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

int safe_atou64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end)
                return -EINVAL;
        *ret = (uint64_t) v;
        return 0;
}

int safe_atoi64(const char *s, int64_t *ret) {
        char *end;
        long long v;

        if (isempty(s) || isspace((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end || end == s)
                return -EINVAL;
        *ret = (int64_t) v;
        return 0;
}

int safe_atou(const char *s, unsigned *ret) {
        uint64_t v;
        int r = safe_atou64(s, &v);

        if (r < 0)
                return r;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int safe_atoi(const char *s, int *ret) {
        int64_t v;
        int r = safe_atoi64(s, &v);

        if (r < 0)
                return r;
        if (v < INT_MIN || v > INT_MAX)
                return -ERANGE;
        *ret = (int) v;
        return 0;
}

int safe_atod(const char *s, double *ret) {
        char *end;
        double v;

        if (isempty(s) || isspace((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end || end == s || !isfinite(v))
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        /* Kubernetes' spellings (K = 1000, Ki = 1024) and podman's (k, m, g, t = 1024), each
         * with an optional trailing "B" ("GB", "GiB", "gb"). */
        static const struct {
                const char *suffix;
                uint64_t factor;
        } table[] = {
                { "Ki", UINT64_C(1) << 10 },
                { "Mi", UINT64_C(1) << 20 },
                { "Gi", UINT64_C(1) << 30 },
                { "Ti", UINT64_C(1) << 40 },
                { "K", UINT64_C(1000) },
                { "M", UINT64_C(1000000) },
                { "G", UINT64_C(1000000000) },
                { "T", UINT64_C(1000000000000) },
                { "k", UINT64_C(1) << 10 },
                { "m", UINT64_C(1) << 20 },
                { "g", UINT64_C(1) << 30 },
                { "t", UINT64_C(1) << 40 },
                { "", 1 },
        };
        char num[32], frac[16] = "";
        size_t n = 0, nf = 0;
        const char *unit;
        uint64_t v, f = 0, div = 1, factor = 1;
        int r;

        if (isempty(s))
                return -EINVAL;
        while (isdigit((unsigned char) s[n]))
                n++;
        if (n == 0 || n >= sizeof num)
                return n == 0 ? -EINVAL : -ERANGE;
        memcpy(num, s, n);
        num[n] = '\0';
        unit = s + n;
        if (*unit == '.') { /* "1.5Gi": a fraction, of a unit only */
                unit++;
                while (isdigit((unsigned char) unit[nf]))
                        nf++;
                if (nf == 0 || nf >= sizeof frac)
                        return -EINVAL;
                memcpy(frac, unit, nf);
                frac[nf] = '\0';
                unit += nf;
        }
        {
                size_t i, len = strlen(unit);
                if (len > 0 && (unit[len - 1] == 'B' || unit[len - 1] == 'b'))
                        len--;
                for (i = 0; i < ELEMENTSOF(table); i++)
                        if (strlen(table[i].suffix) == len && strncmp(unit, table[i].suffix, len) == 0)
                                break;
                if (i == ELEMENTSOF(table))
                        return -EINVAL;
                factor = table[i].factor;
        }
        if (nf > 0 && factor == 1)
                return -EINVAL; /* no fraction of a byte */
        r = safe_atou64(num, &v);
        if (r < 0)
                return r;
        if (v > UINT64_MAX / factor)
                return -ERANGE;
        if (nf > 0) {
                r = safe_atou64(frac, &f);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < nf; i++)
                        div *= 10;
                /* factor * f / div, without overflow for the factors above (< 2^41, f < 10^15). */
                f = factor / div * f + factor % div * f / div;
        }
        if (v * factor > UINT64_MAX - f)
                return -ERANGE;
        *ret = v * factor + f;
        return 0;
}

int parse_duration_secs(const char *s, uint64_t *ret) {
        uint64_t total_ms = 0;
        const char *p = s;

        if (isempty(s))
                return -EINVAL;
        while (*p) {
                uint64_t v = 0, unit_ms;
                size_t digits = 0;

                while (isdigit((unsigned char) *p)) {
                        if (v > (UINT64_MAX - 9) / 10)
                                return -ERANGE;
                        v = v * 10 + (uint64_t) (*p - '0');
                        p++;
                        digits++;
                }
                if (digits == 0)
                        return -EINVAL;
                if (startswith(p, "ms")) {
                        unit_ms = 1;
                        p += 2;
                } else if (*p == 's') {
                        unit_ms = 1000;
                        p++;
                } else if (*p == 'm') {
                        unit_ms = 60000;
                        p++;
                } else if (*p == 'h') {
                        unit_ms = 3600000;
                        p++;
                } else if (*p == 'd') {
                        unit_ms = 86400000;
                        p++;
                } else if (*p == '\0' && p == s + digits) {
                        unit_ms = 1000; /* a bare number is seconds */
                } else
                        return -EINVAL;
                if (v > (UINT64_MAX - total_ms) / unit_ms)
                        return -ERANGE;
                total_ms += v * unit_ms;
        }
        *ret = (total_ms + 999) / 1000;
        return 0;
}

int parse_listen_address(const char *s, char **ret_host, uint16_t *ret_port) {
        const char *colon, *host_start, *host_end;
        unsigned port;
        char *host;
        int r;

        if (isempty(s))
                return -EINVAL;
        if (s[0] == '[') {
                host_end = strchr(s, ']');
                if (!host_end || host_end[1] != ':')
                        return -EINVAL;
                host_start = s + 1;
                colon = host_end + 1;
        } else {
                colon = strrchr(s, ':');
                if (!colon || memchr(s, ':', (size_t) (colon - s)))
                        return -EINVAL;
                host_start = s;
                host_end = colon;
        }
        r = safe_atou(colon + 1, &port);
        if (r < 0 || port == 0 || port > 65535)
                return -EINVAL;
        host = strndup(host_start, (size_t) (host_end - host_start));
        if (!host)
                return -ENOMEM;
        *ret_host = host;
        *ret_port = (uint16_t) port;
        return 0;
}

int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                if (size + 1 >= alloc) {
                        size_t na = alloc ? alloc * 2 : 4096;
                        if (na > max_size + 1)
                                na = max_size + 1;
                        if (na <= size + 1)
                                return -EFBIG;
                        char *nb = realloc(buf, na);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        alloc = na;
                }
                ssize_t k = read(fd, buf + size, alloc - size - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
                if (size > max_size)
                        return -EFBIG;
        }
        if (!buf && !(buf = malloc(1)))
                return -ENOMEM;
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int write_all(int fd, const void *data, size_t size) {
        const char *p = data;

        while (size > 0) {
                ssize_t k = write(fd, p, size);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                p += k;
                size -= (size_t) k;
        }
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = asprintf_safe("%s.XXXXXX", path);
        _cleanup_close_ int fd = -1;
        int r;

        if (!tmp)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, size);
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int mkdir_p_exact(const char *path, mode_t mode) {
        int r = mkdir_p(path, mode);

        if (r >= 0 && chmod(path, mode) < 0)
                r = -errno;
        return r;
}

uint64_t now_usec(int clock) {
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

char *format_timestamp(char *buf, size_t size, uint64_t usec) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (!gmtime_r(&t, &tm) || size < 28)
                return NULL;
        size_t k = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
        (void) snprintf(buf + k, size - k, ".%06" PRIu64 "Z", usec % USEC_PER_SEC);
        return buf;
}

int random_id(char ret[ID128_STRING_MAX]) {
        sd_id128_t id;
        int r = sd_id128_randomize(&id);

        if (r < 0)
                return r;
        (void) sd_id128_to_string(id, ret);
        return 0;
}

int random_uuid(char ret[UUID_STRING_MAX]) {
        char hex[ID128_STRING_MAX];
        int r = random_id(hex);

        if (r < 0)
                return r;
        /* RFC 4122 version 4 / variant 1 bits, as sd_id128_randomize already sets them. */
        (void) snprintf(ret, UUID_STRING_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
                        hex + 20);
        return 0;
}

bool id_is_valid(const char *s) {
        size_t n;

        if (isempty(s) || streq(s, ".") || streq(s, ".."))
                return false;
        n = strlen(s);
        if (n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && !strchr("_.-", s[i]))
                        return false;
        return true;
}

int fd_nonblock(int fd, bool nonblock) {
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0)
                return -errno;
        flags = nonblock ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        return fcntl(fd, F_SETFL, flags) < 0 ? -errno : 0;
}

int tail_append(Tail *t, const char *p, size_t n) {
        assert(t);

        if (n >= t->cap) {
                p += n - t->cap;
                n = t->cap;
                t->truncated = true;
                t->size = 0;
        }
        if (t->size + n > t->cap) {
                size_t drop = t->size + n - t->cap;
                memmove(t->data, t->data + drop, t->size - drop);
                t->size -= drop;
                t->truncated = true;
        }
        if (!t->data) {
                t->data = malloc(t->cap + 1);
                if (!t->data)
                        return -ENOMEM;
        }
        memcpy(t->data + t->size, p, n);
        t->size += n;
        t->data[t->size] = '\0';
        return 0;
}

void tail_reset(Tail *t) {
        assert(t);

        free(t->data);
        t->data = NULL;
        t->size = 0;
        t->truncated = false;
}

const char *tail_str(const Tail *t) {
        assert(t);

        return t->data ? t->data : "";
}
