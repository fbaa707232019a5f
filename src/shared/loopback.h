/* loopback.h — is an address, a listening socket or an HTTP Host header this host only?
 *
 * aegisd refuses to serve its API to the network without tokens (a listener that is not
 * loopback), and without tokens answers only requests whose Host names this host (DNS
 * rebinding: a web page whose name resolves to 127.0.0.1 sends its own name as Host).
 *
 * Loopback means: IPv4 127.0.0.0/8, IPv6 ::1, IPv4-mapped 127.0.0.0/8 (::ffff:127.x.y.z), and
 * AF_UNIX (reachable only through the file system). A wildcard address (0.0.0.0, ::) is not
 * loopback: it listens on every interface. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

bool sockaddr_is_loopback(const struct sockaddr *sa, socklen_t len);
/* An address an agent must not reach unless the operator says so (security.allow_internal_egress):
 * loopback (this host's own services), 0.0.0.0/8 and ::, link-local (169.254.0.0/16 — the cloud
 * metadata service — and fe80::/10), IPv4-mapped ones included; anything that is not an
 * internet address. */
bool sockaddr_is_internal(const struct sockaddr *sa);

/* "127.0.0.1:8088", "[::1]:9091", "unix:/run/aegis.sock": for messages. */
#define SOCKADDR_TEXT_MAX 128
void sockaddr_to_text(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/* Whether the socket fd is bound to a loopback address (getsockname()): 1 yes, 0 no (text, if
 * non-NULL, gets the address for a message), or a negative errno. */
int socket_is_loopback(int fd, char text[SOCKADDR_TEXT_MAX]);

/* An HTTP Host header value naming this host: "localhost", an address of 127.0.0.0/8 or
 * "[::1]", each with or without ":PORT" (and "localhost." with the root dot). NULL and "" are
 * not (HTTP/1.1 requires Host; a request without one did not come from a browser, but then
 * nothing proves where it came from either). */
bool http_host_is_loopback(const char *host);
