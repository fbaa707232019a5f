/* utf8.h — the one UTF-8 decoder of the tree, header-only so that aegis-bootstrap (static,
 * libc only: it links none of libaegis-*) and the rest use the same rule: well-formed as RFC
 * 3629 says (shortest form, no surrogates, nothing above U+10FFFF). */
#pragma once

#include <stddef.h>

/* The length (1–4) of the well-formed character at s (at most left bytes), or 0 when the
 * bytes there are not one. */
static inline size_t utf8_char_len(const char *s, size_t left) {
        const unsigned char *p = (const unsigned char *) s;
        unsigned c, cp;
        size_t n;

        if (left == 0)
                return 0;
        c = p[0];
        n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0 || left < n)
                return 0;
        for (size_t k = 1; k < n; k++)
                if ((p[k] & 0xC0) != 0x80)
                        return 0;
        switch (n) {
        case 2:
                return c >= 0xC2 ? 2 : 0;
        case 3:
                cp = ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
                return cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF) ? 3 : 0;
        case 4:
                cp = ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
                return cp >= 0x10000 && cp <= 0x10FFFF ? 4 : 0;
        default:
                return 1;
        }
}
