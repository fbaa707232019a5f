/* loopback.c — loopback addresses, sockets and Host headers (see loopback.h).
 *
 * Must stay true: only what the kernel routes to this host alone is loopback; a name other
 * than "localhost" is never trusted (it could resolve anywhere, which is the DNS-rebinding
 * attack the Host check exists for). */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stddef.h>
#include <sys/un.h>

#include "loopback.h"
#include "util.h"

static bool in4_is_loopback(const struct in_addr *a) {
        return (ntohl(a->s_addr) >> 24) == 127;
}

static bool in6_is_loopback(const struct in6_addr *a) {
        if (IN6_IS_ADDR_LOOPBACK(a))
                return true;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
                struct in_addr v4;
                memcpy(&v4, &a->s6_addr[12], sizeof v4);
                return in4_is_loopback(&v4);
        }
        return false;
}

bool sockaddr_is_loopback(const struct sockaddr *sa, socklen_t len) {
        assert(sa);
        switch (sa->sa_family) {
        case AF_UNIX:
                return true;
        case AF_INET:
                return len >= sizeof(struct sockaddr_in) &&
                       in4_is_loopback(&((const struct sockaddr_in *) sa)->sin_addr);
        case AF_INET6:
                return len >= sizeof(struct sockaddr_in6) &&
                       in6_is_loopback(&((const struct sockaddr_in6 *) sa)->sin6_addr);
        default:
                return false;
        }
}

static bool ipv4_is_internal(uint32_t a) {
        return (a >> 24) == 127 || (a >> 24) == 0 || (a >> 16) == 0xA9FE; /* 127/8, 0/8, 169.254/16 */
}

bool sockaddr_is_internal(const struct sockaddr *sa) {
        assert(sa);
        if (sa->sa_family == AF_INET)
                return ipv4_is_internal(ntohl(((const struct sockaddr_in *) sa)->sin_addr.s_addr));
        if (sa->sa_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *) sa)->sin6_addr;
                uint32_t v4;
                if (IN6_IS_ADDR_V4MAPPED(a)) {
                        memcpy(&v4, a->s6_addr + 12, sizeof v4);
                        return ipv4_is_internal(ntohl(v4));
                }
                return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_UNSPECIFIED(a);
        }
        return true;
}

void sockaddr_to_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size) {
        char a[INET6_ADDRSTRLEN] = "?";

        assert(sa);
        assert(buf);
        switch (sa->sa_family) {
        case AF_UNIX: {
                const struct sockaddr_un *u = (const struct sockaddr_un *) sa;
                size_t n = len > offsetof(struct sockaddr_un, sun_path)
                                   ? (size_t) len - offsetof(struct sockaddr_un, sun_path)
                                   : 0;
                (void) snprintf(buf, size, "unix:%.*s",
                                (int) strnlen(u->sun_path, MIN(n, sizeof u->sun_path)), u->sun_path);
                return;
        }
        case AF_INET: {
                const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
                (void) inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
                (void) snprintf(buf, size, "%s:%u", a, ntohs(in->sin_port));
                return;
        }
        case AF_INET6: {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
                (void) inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
                (void) snprintf(buf, size, "[%s]:%u", a, ntohs(in6->sin6_port));
                return;
        }
        default:
                (void) snprintf(buf, size, "(address family %d)", sa->sa_family);
        }
}

int socket_is_loopback(int fd, char text[SOCKADDR_TEXT_MAX]) {
        struct sockaddr_storage ss = {};
        socklen_t len = sizeof ss;

        assert(fd >= 0);
        if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
                return -errno;
        if (text)
                sockaddr_to_text((const struct sockaddr *) &ss, len, text, SOCKADDR_TEXT_MAX);
        return sockaddr_is_loopback((const struct sockaddr *) &ss, len);
}

/* digits only, 1 to 5 of them (a port; its range does not matter here). */
static bool is_port(const char *s) {
        size_t n = strspn(s, "0123456789");
        return n >= 1 && n <= 5 && s[n] == '\0';
}

bool http_host_is_loopback(const char *host) {
        char name[64];
        const char *colon;
        size_t n;

        if (isempty(host))
                return false;
        if (host[0] == '[') {
                const char *end = strchr(host, ']');
                struct in6_addr a6;

                if (!end || (end[1] != '\0' && (end[1] != ':' || !is_port(end + 2))))
                        return false;
                n = (size_t) (end - host - 1);
                if (n >= sizeof name)
                        return false;
                memcpy(name, host + 1, n);
                name[n] = '\0';
                return inet_pton(AF_INET6, name, &a6) == 1 && in6_is_loopback(&a6);
        }
        colon = strchr(host, ':');
        if (colon && !is_port(colon + 1))
                return false;
        n = colon ? (size_t) (colon - host) : strlen(host);
        if (n == 0 || n >= sizeof name)
                return false;
        memcpy(name, host, n);
        name[n] = '\0';
        if (strcasecmp(name, "localhost") == 0 || strcasecmp(name, "localhost.") == 0)
                return true;
        struct in_addr a4;
        /* inet_pton() takes only the dotted quad: "127.1" or "0x7f.1" are not addresses here. */
        return inet_pton(AF_INET, name, &a4) == 1 && in4_is_loopback(&a4);
}
