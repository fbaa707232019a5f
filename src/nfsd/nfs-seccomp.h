/* nfs-seccomp.h — the gateway's system-call allow-list, installed after setup (sockets
 * bound, state loaded): file-system calls on already-open directories, socket I/O on
 * accepted connections, sd-event/sd-notify plumbing and memory management. Anything else
 * fails with EPERM, so a compromised gateway cannot exec, ptrace, mount or open network
 * connections of its own. */
#pragma once

#include <stdbool.h>

/* allow_inet: also allow AF_INET/AF_INET6 sockets (a PostgreSQL registry reconnecting). */
int nfs_seccomp_install(bool allow_inet);
