/* host-match.c — allow/deny-list entries against a host (see host-match.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "host-match.h"
#include "util.h"

#define NAME_MAX_LEN 253
#define LABEL_MAX_LEN 63

typedef struct Addr {
        int family; /* AF_INET or AF_INET6 */
        uint8_t bytes[16];
} Addr;

/* An IP literal, "[v6]" allowed; an IPv4-mapped IPv6 address becomes the IPv4 one, so a
 * list entry for 10.0.0.1 also holds for ::ffff:10.0.0.1. */
static bool parse_addr(const char *s, size_t len, Addr *ret) {
        char buf[INET6_ADDRSTRLEN + 2];
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

        if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
                s++, len -= 2;
        if (len == 0 || len >= sizeof(buf))
                return false;
        memcpy(buf, s, len);
        buf[len] = 0;
        if (inet_pton(AF_INET, buf, ret->bytes) == 1) {
                ret->family = AF_INET;
                return true;
        }
        if (inet_pton(AF_INET6, buf, ret->bytes) != 1)
                return false;
        ret->family = AF_INET6;
        if (memcmp(ret->bytes, mapped, sizeof(mapped)) == 0) {
                memmove(ret->bytes, ret->bytes + 12, 4);
                ret->family = AF_INET;
        }
        return true;
}

/* A DNS name of len bytes (no trailing dot): labels of letters, digits, '-' and '_'. */
static bool valid_name(const char *s, size_t len) {
        size_t label = 0;

        if (len == 0 || len > NAME_MAX_LEN)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];

                if (c == '.') {
                        if (label == 0)
                                return false;
                        label = 0;
                        continue;
                }
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_'))
                        return false;
                if (++label > LABEL_MAX_LEN)
                        return false;
        }
        return label > 0;
}

static size_t name_len(const char *s) {
        size_t n = strlen(s);

        return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

/* Whether name (nlen bytes) is base (blen bytes) or, with subdomains, a name under it. */
static bool name_under(const char *name, size_t nlen, const char *base, size_t blen, bool self,
                       bool subdomains) {
        if (nlen == blen)
                return self && strncasecmp(name, base, blen) == 0;
        return subdomains && nlen > blen && name[nlen - blen - 1] == '.' &&
               strncasecmp(name + nlen - blen, base, blen) == 0;
}

static bool prefix_matches(const Addr *net, unsigned bits, const Addr *a) {
        unsigned whole = bits / 8, rest = bits % 8;

        if (net->family != a->family)
                return false;
        if (memcmp(net->bytes, a->bytes, whole) != 0)
                return false;
        return rest == 0 || ((net->bytes[whole] ^ a->bytes[whole]) & (uint8_t) (0xff << (8 - rest))) == 0;
}

/* pattern "ADDR/BITS" → *net and *bits; false when it is not one. */
static bool parse_prefix(const char *pattern, Addr *net, unsigned *bits) {
        const char *slash = strchr(pattern, '/');
        char *end;
        unsigned long b;

        if (!slash || !parse_addr(pattern, (size_t) (slash - pattern), net) || !slash[1])
                return false;
        errno = 0;
        b = strtoul(slash + 1, &end, 10);
        if (errno || *end || slash[1] == '-' || slash[1] == '+' || b > (net->family == AF_INET ? 32u : 128u))
                return false;
        *bits = (unsigned) b;
        return true;
}

int host_pattern_check(const char *pattern, const char **ret_why) {
        Addr a;
        unsigned bits;
        size_t n;

        if (isempty(pattern)) {
                *ret_why = "an entry is empty";
                return -EINVAL;
        }
        if (streq(pattern, "*") || parse_addr(pattern, strlen(pattern), &a) ||
            parse_prefix(pattern, &a, &bits))
                return 0;
        if (strchr(pattern, '/')) {
                *ret_why =
                        "an address prefix must be ADDRESS/BITS with at most 32 (IPv4) or 128 (IPv6) bits";
                return -EINVAL;
        }
        if (strchr(pattern, ':')) {
                *ret_why = "an entry is a host name or an address, without a port or a scheme";
                return -EINVAL;
        }
        if (startswith(pattern, "*."))
                pattern += 2;
        n = name_len(pattern);
        if (!valid_name(pattern, n)) {
                *ret_why = strchr(pattern, '*') ? "'*' is allowed only alone or as a leading \"*.\""
                                                : "not a valid host name (letters, digits, '-', '_' "
                                                  "and dots; labels of at most 63 characters)";
                return -EINVAL;
        }
        return 0;
}

bool host_matches(const char *pattern, const char *host) {
        Addr pa, ha;
        unsigned bits;
        size_t hlen, plen;
        bool host_is_addr, subdomains_only = false;

        if (isempty(pattern) || isempty(host))
                return false;
        hlen = strlen(host);
        host_is_addr = parse_addr(host, hlen, &ha);
        if (!host_is_addr) {
                hlen = name_len(host);
                if (!valid_name(host, hlen))
                        return false;
        }
        if (streq(pattern, "*"))
                return true;
        if (parse_addr(pattern, strlen(pattern), &pa))
                return host_is_addr && pa.family == ha.family &&
                       memcmp(pa.bytes, ha.bytes, pa.family == AF_INET ? 4 : 16) == 0;
        if (parse_prefix(pattern, &pa, &bits))
                return host_is_addr && prefix_matches(&pa, bits, &ha);
        if (host_is_addr)
                return false;
        if (startswith(pattern, "*.")) {
                pattern += 2;
                subdomains_only = true;
        }
        plen = name_len(pattern);
        if (!valid_name(pattern, plen))
                return false;
        return name_under(host, hlen, pattern, plen, !subdomains_only, true);
}

bool host_matches_any(char *const *patterns, const char *host) {
        for (size_t i = 0; patterns && patterns[i]; i++)
                if (host_matches(patterns[i], host))
                        return true;
        return false;
}
