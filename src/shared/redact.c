/* redact.c — replace the passwords in connection strings by "***" (see redact.h).
 *
 * Must stay true: the output never contains a byte of a password the input's forms hold;
 * over-redacting (a word that only looks like a password key) is acceptable, missing one is
 * not. One pass, left to right, no allocation but the output. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "redact.h"
#include "util.h"

#define MASK "***"

/* Where a URL's authority ends: the path, query, fragment, or white space (not a quote: a
 * password may hold one, and redacting too much is the safe side). */
#define AUTHORITY_END "/?# \t\r\n"
/* Where an unquoted keyword or query value ends. */
#define VALUE_END " \t\r\n&#;,\"'"

/* "password" as a key at p (not the tail of a longer word) followed by "=": returns where
 * its value starts, else NULL. */
static const char *password_value(const char *start, const char *p) {
        const char *q;

        if (strncasecmp(p, "password", 8) != 0)
                return NULL;
        if (p > start && (isalnum((unsigned char) p[-1]) || p[-1] == '_' || p[-1] == '-'))
                return NULL;
        q = p + 8;
        q += strspn(q, " \t");
        if (*q != '=')
                return NULL;
        q++;
        return q + strspn(q, " \t");
}

/* The end of a value starting at v: past its closing quote when quoted (backslash escapes,
 * as libpq has them), else at the first separator. */
static const char *value_end(const char *v) {
        if (*v == '\'' || *v == '"') {
                char quote = *v++;
                for (; *v && *v != quote; v++)
                        if (*v == '\\' && v[1])
                                v++;
                return *v ? v + 1 : v;
        }
        return v + strcspn(v, VALUE_END);
}

char *redact_secrets(const char *text) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        for (const char *p = strempty(text); *p;) {
                const char *v;

                if (startswith(p, "://")) {
                        const char *auth = p + 3, *at, *colon;
                        size_t len = strcspn(auth, AUTHORITY_END);

                        at = memrchr(auth, '@', len);
                        colon = at ? memchr(auth, ':', (size_t) (at - auth)) : NULL;
                        if (colon) {
                                fwrite(p, 1, (size_t) (colon + 1 - p), f);
                                fputs(MASK, f);
                                p = at;
                        } else {
                                fwrite(p, 1, 3, f);
                                p = auth;
                        }
                        continue;
                }
                v = password_value(strempty(text), p);
                if (v) {
                        fwrite(p, 1, (size_t) (v - p), f);
                        fputs(MASK, f);
                        p = value_end(v);
                        continue;
                }
                fputc(*p++, f);
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}
