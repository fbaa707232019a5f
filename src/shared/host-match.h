/* host-match.h — whether a host is named by an allow- or deny-list entry: the one matcher of
 * network_policy (per tool call and in the egress proxy) and of a security context's
 * domain_allowlist (issue 21).
 *
 * An entry is one of:
 *   example.com      that name and every name under it (api.example.com, a.b.example.com),
 *                    the reference's documented rule; not "badexample.com";
 *   *.example.com    only the names under example.com, not example.com itself;
 *   *                every host;
 *   192.0.2.7, ::1   that address exactly (an IPv6 address with or without brackets);
 *   10.0.0.0/8       every address of the prefix (IPv4 or IPv6).
 * Names compare without regard to case and to one trailing dot. A name never matches an
 * address entry nor the reverse: nothing here resolves names, so "an address by its name"
 * is for the caller to decide (the egress proxy checks the name it was asked for, then
 * refuses an address that was not listed as one).
 *
 * What must stay true: a host that is not a syntactically valid name or address matches
 * nothing (fail closed), and host_pattern_check() accepts exactly the entries
 * host_matches() understands, so a list that validated never silently matches less. */
#pragma once

#include <stdbool.h>

/* Whether host (a DNS name or an IP literal, "[v6]" allowed) is named by pattern. */
bool host_matches(const char *pattern, const char *host);
/* Whether any entry of the NULL-terminated list names host; false for a NULL list. */
bool host_matches_any(char *const *patterns, const char *host);
/* 0 when pattern is a valid entry; -EINVAL with *ret_why (a static string) when not. */
int host_pattern_check(const char *pattern, const char **ret_why);
