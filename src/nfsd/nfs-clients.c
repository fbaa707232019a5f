/* nfs-clients.c — see nfs-clients.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "nfs-clients.h"
#include "util.h"

static int parse_net(const char *s, size_t len, NfsClientNet *ret) {
        char buf[INET6_ADDRSTRLEN + 5];
        const char *slash;
        unsigned prefix = 0, max;
        NfsClientNet n = { 0 };

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = '\0';
        slash = strchr(buf, '/');
        if (slash) {
                buf[slash - buf] = '\0';
                if (safe_atou(slash + 1, &prefix) < 0)
                        return -EINVAL;
        }
        if (inet_pton(AF_INET, buf, n.addr) == 1) {
                n.family = AF_INET;
                max = 32;
        } else if (inet_pton(AF_INET6, buf, n.addr) == 1) {
                n.family = AF_INET6;
                max = 128;
        } else
                return -EINVAL;
        if (!slash)
                prefix = max;
        if (prefix > max)
                return -EINVAL;
        n.prefix = (uint8_t) prefix;
        *ret = n;
        return 0;
}

int nfs_clients_parse(const char *s, NfsClients *ret) {
        NfsClients c = { .set = true };

        if (streq(s, "*")) {
                c.any = true;
                *ret = c;
                return 0;
        }
        for (const char *p = s;;) {
                size_t len = strcspn(p, ",");
                int r;
                if (c.n == NFS_CLIENTS_MAX)
                        return -E2BIG;
                r = parse_net(p, len, &c.nets[c.n]);
                if (r < 0)
                        return r;
                c.n++;
                if (p[len] == '\0')
                        break;
                p += len + 1;
        }
        *ret = c;
        return 0;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits) {
        unsigned bytes = bits / 8, rest = bits % 8;

        if (memcmp(a, b, bytes) != 0)
                return false;
        return rest == 0 || ((a[bytes] ^ b[bytes]) & (uint8_t) (0xff << (8 - rest))) == 0;
}

bool nfs_clients_match(const NfsClients *c, const char *host) {
        uint8_t a[16];
        int family;

        if (!c->set)
                return false;
        if (c->any)
                return true;
        if (startswith(host, "::ffff:") && inet_pton(AF_INET, host + 7, a) == 1)
                family = AF_INET;
        else if (inet_pton(AF_INET, host, a) == 1)
                family = AF_INET;
        else if (inet_pton(AF_INET6, host, a) == 1)
                family = AF_INET6;
        else
                return false; /* "local" (a unix socket) or garbage: only "*" admits it */
        for (unsigned i = 0; i < c->n; i++)
                if (c->nets[i].family == family && prefix_equal(c->nets[i].addr, a, c->nets[i].prefix))
                        return true;
        return false;
}
