/* nfs-clients.h — which client hosts may use a volume: a short list of addresses and
 * prefixes ("127.0.0.1", "10.88.0.0/16", "fd00::/8") or "*" for any. NFSv3 requests carry
 * no export context (a handle is all a client sends), so the client's address is what the
 * gateway checks, at MNT and on every request that presents a handle, like exports(5).
 *
 * The list is a fixed-size value (copied with the volume's registry entry). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define NFS_CLIENTS_MAX 8

typedef struct NfsClientNet {
        uint8_t family; /* AF_INET or AF_INET6 */
        uint8_t prefix; /* bits */
        uint8_t addr[16];
} NfsClientNet;

typedef struct NfsClients {
        bool set; /* false: not given (the gateway's default applies) */
        bool any; /* "*" */
        uint8_t n;
        NfsClientNet nets[NFS_CLIENTS_MAX];
} NfsClients;

/* "ADDR[/PREFIX][,ADDR[/PREFIX]...]" or "*". -EINVAL for a malformed address or prefix,
 * -E2BIG for more than NFS_CLIENTS_MAX entries. */
int nfs_clients_parse(const char *s, NfsClients *ret);
/* Whether the numeric host (as inet_ntop() wrote it; IPv4-mapped IPv6 counts as IPv4) is
 * in the list. An unset list matches nothing: callers resolve the default first. */
bool nfs_clients_match(const NfsClients *c, const char *host);
