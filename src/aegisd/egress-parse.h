/* egress-parse.h — what a client of aegisd's egress proxy asks for: the first request of a
 * connection (an HTTP/1.x request in absolute or origin form, or CONNECT host:port) and the
 * server name of a TLS ClientHello sent through a CONNECT tunnel (issue 21).
 *
 * Pure functions over bytes, so the proxy (src/aegisd/egress.c) decides on what these
 * return and the parsing is unit-tested and fuzzed alone.
 *
 * What must stay true:
 * - Anything ambiguous is an error, never a guess: a request whose Host header names another
 *   host than its absolute URI, two Host headers, folded header lines, a userinfo in the
 *   authority, bytes that cannot be in a host name. The proxy refuses what fails here.
 * - A request that is admitted is sent on as the head rebuilt here (origin form,
 *   "Connection: close", no proxy headers), so one connection carries one request to one
 *   host: keep-alive cannot carry a second request to a host nobody checked.
 * - Every size is bounded: EGRESS_MAX_HEAD for a request head, one TLS record for a
 *   ClientHello. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EGRESS_MAX_HEAD (16u * 1024)
#define EGRESS_MAX_HELLO (5u + 16384u) /* one TLS record header + its largest payload */

typedef struct EgressRequest {
        bool connect; /* CONNECT host:port: a tunnel */
        char *host; /* the target host: a name (as sent) or an address ("[v6]" without brackets) */
        uint16_t port;
        char *head; /* not CONNECT: the head to send upstream, NUL-terminated */
        size_t head_len;
        size_t consumed; /* bytes of the input the request head took */
} EgressRequest;

void egress_request_done(EgressRequest *r);

/* 0 with *ret filled; -EAGAIN when buf does not hold a whole head yet; -E2BIG when no head
 * ends within EGRESS_MAX_HEAD; -EPROTONOSUPPORT for an https:// absolute URI (use CONNECT);
 * -EINVAL for anything else that is not a request this proxy forwards. */
int egress_parse_request(const char *buf, size_t len, EgressRequest *ret);

/* The SNI host name of the ClientHello at the start of buf: 0 with *ret_sni (NULL when the
 * hello names no server); -EAGAIN when the record is not complete yet; -ENOMSG when buf does
 * not start a TLS handshake record (not TLS); -EINVAL for a malformed or oversized hello. */
int egress_parse_client_hello(const uint8_t *buf, size_t len, char **ret_sni);

/* Whether s is an acceptable target host: a DNS name of letters, digits, '-', '_' and dots,
 * or an IPv4/IPv6 address. */
bool egress_host_valid(const char *s);
