/* json-schema-format.c — the formats json_schema_validate() checks and the JSON pointer
 * tokens of $ref (see json-schema-internal.h). Each format check is strict about shape and
 * cheap: no look-ups, no allocation. */
#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json-schema-internal.h"
#include "util.h"

static const char *const format_table[_JSON_SCHEMA_FORMAT_MAX] = {
        [JSON_SCHEMA_FORMAT_DATE_TIME] = "date-time",
        [JSON_SCHEMA_FORMAT_DATE] = "date",
        [JSON_SCHEMA_FORMAT_TIME] = "time",
        [JSON_SCHEMA_FORMAT_EMAIL] = "email",
        [JSON_SCHEMA_FORMAT_URI] = "uri",
        [JSON_SCHEMA_FORMAT_UUID] = "uuid",
        [JSON_SCHEMA_FORMAT_IPV4] = "ipv4",
        [JSON_SCHEMA_FORMAT_IPV6] = "ipv6",
};

const char *json_schema_format_to_string(JsonSchemaFormat f) {
        return f < _JSON_SCHEMA_FORMAT_MAX ? format_table[f] : NULL;
}

int json_schema_format_from_string(const char *s) {
        for (int i = 0; i < _JSON_SCHEMA_FORMAT_MAX; i++)
                if (streq(format_table[i], s))
                        return i;
        return -EINVAL;
}

/* ---- formats ---- */

static bool digits(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

static int num(const char *s, size_t n) {
        int v = 0;
        for (size_t i = 0; i < n; i++)
                v = v * 10 + (s[i] - '0');
        return v;
}

/* RFC 3339 full-date: YYYY-MM-DD with a day that exists. */
static bool is_date(const char *s, size_t len) {
        static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int y, m, d, max;

        if (len != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
            !digits(s + 8, 2))
                return false;
        y = num(s, 4);
        m = num(s + 5, 2);
        d = num(s + 8, 2);
        if (m < 1 || m > 12)
                return false;
        max = days[m - 1] + (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
        return d >= 1 && d <= max;
}

/* RFC 3339 full-time: HH:MM:SS[.frac](Z|±HH:MM). */
static bool is_time(const char *s) {
        const char *p = s + 8;

        if (strlen(s) < 9 || !digits(s, 2) || s[2] != ':' || !digits(s + 3, 2) || s[5] != ':' ||
            !digits(s + 6, 2))
                return false;
        if (num(s, 2) > 23 || num(s + 3, 2) > 59 || num(s + 6, 2) > 60)
                return false;
        if (*p == '.') {
                size_t k = strspn(p + 1, "0123456789");
                if (k == 0)
                        return false;
                p += 1 + k;
        }
        if ((*p == 'Z' || *p == 'z') && !p[1])
                return true;
        return (*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2) && p[3] == ':' &&
               digits(p + 4, 2) && num(p + 1, 2) <= 23 && num(p + 4, 2) <= 59;
}

static bool is_email(const char *s) {
        const char *at = strrchr(s, '@'), *d;

        if (!at || at == s || !at[1])
                return false;
        for (const char *p = s; p < at; p++)
                if ((unsigned char) *p <= ' ' || strchr("()<>,;:\\\"[]@", *p))
                        return false;
        for (d = at + 1; *d;) {
                size_t k = strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
                if (k == 0 || k > 63 || d[0] == '-' || d[k - 1] == '-')
                        return false;
                d += k;
                if (*d == '.' && d[1])
                        d++;
                else if (*d)
                        return false;
        }
        return true;
}

/* RFC 3986 absolute URI: a scheme, ':', then no spaces, controls or stray characters. */
static bool is_uri(const char *s) {
        size_t k = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");

        if (k == 0 || s[k] != ':' || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
                return false;
        for (const char *p = s + k + 1; *p; p++) {
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f || strchr("\"<>\\^`{|}", *p))
                        return false;
                if (*p == '%' && !(isxdigit((unsigned char) p[1]) && isxdigit((unsigned char) p[2])))
                        return false;
        }
        return true;
}

static bool is_uuid(const char *s) {
        if (strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++)
                if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

bool json_schema_format_matches(JsonSchemaFormat f, const char *s) {
        unsigned char addr[16];
        const char *t;

        switch (f) {
        case JSON_SCHEMA_FORMAT_DATE_TIME:
                t = s + strcspn(s, "Tt");
                return *t && is_date(s, (size_t) (t - s)) && is_time(t + 1);
        case JSON_SCHEMA_FORMAT_DATE:
                return is_date(s, strlen(s));
        case JSON_SCHEMA_FORMAT_TIME:
                return is_time(s);
        case JSON_SCHEMA_FORMAT_EMAIL:
                return is_email(s);
        case JSON_SCHEMA_FORMAT_URI:
                return is_uri(s);
        case JSON_SCHEMA_FORMAT_UUID:
                return is_uuid(s);
        case JSON_SCHEMA_FORMAT_IPV4:
                return inet_pton(AF_INET, s, addr) == 1;
        case JSON_SCHEMA_FORMAT_IPV6:
                return inet_pton(AF_INET6, s, addr) == 1;
        default:
                return true;
        }
}

/* ---- JSON pointers ("#/$defs/a~1b/0"): one reference token at a time ---- */

int json_schema_pointer_next_token(const char **p, char *buf, size_t size) {
        const char *s = *p;
        size_t n = 0;

        assert(*s == '/');
        for (s++; *s && *s != '/'; s++) {
                char ch = *s;
                if (ch == '~') {
                        if (s[1] != '0' && s[1] != '1')
                                return -EINVAL;
                        ch = s[1] == '0' ? '~' : '/';
                        s++;
                } else if (ch == '%') {
                        char hex[3] = { s[1], s[1] ? s[2] : 0, 0 };
                        char *end;
                        long v = strtol(hex, &end, 16);
                        if (!hex[0] || !hex[1] || *end || v <= 0)
                                return -EINVAL;
                        ch = (char) v;
                        s += 2;
                }
                if (n + 1 >= size)
                        return -EINVAL;
                buf[n++] = ch;
        }
        buf[n] = '\0';
        *p = s;
        return 0;
}

bool json_schema_pointer_index(const char *tok, size_t *ret) {
        uint64_t u;

        if (!*tok || (tok[0] == '0' && tok[1]) || safe_atou64(tok, &u) < 0)
                return false;
        *ret = (size_t) u;
        return true;
}
