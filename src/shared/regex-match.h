/* regex-match.h — PCRE2 regular expressions as the validators use them: compiled once from
 * user text (a manifest's regex validator, a JSON Schema's pattern), searched with bounded
 * effort.
 *
 * Invariants: patterns are compiled in UTF mode and match invalid UTF-8 input without
 * failing (PCRE2_MATCH_INVALID_UTF), so container output of any bytes can be searched; every
 * search runs under REGEX_MATCH_LIMIT backtracking steps and REGEX_DEPTH_LIMIT nested
 * backtracking points, so a catastrophic pattern ((a+)+$) ends in milliseconds with -E2BIG
 * instead of holding the event loop. Callers treat -E2BIG as a failure, never a pass. */
#pragma once

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>

#define REGEX_MATCH_LIMIT 1000000
#define REGEX_DEPTH_LIMIT 10000

/* Compile pattern. multiline: ^ and $ also match at line starts and ends. On a syntax error
 * returns -EINVAL and writes "missing closing parenthesis at offset 2" into errbuf. */
int regex_compile(const char *pattern, bool multiline, pcre2_code **ret, char *errbuf, size_t errsize);

/* Search text (len bytes) for a match anywhere. Returns 1 matched, 0 not, -E2BIG when the
 * match or depth limit was hit, -ENOMEM. */
int regex_search(const pcre2_code *re, const char *text, size_t len);

void regex_freep(pcre2_code **re);
