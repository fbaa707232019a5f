/* regex-match.c — see regex-match.h. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>

#include "regex-match.h"

int regex_compile(const char *pattern, bool multiline, pcre2_code **ret, char *errbuf, size_t errsize) {
        PCRE2_UCHAR msg[256];
        PCRE2_SIZE offset;
        pcre2_code *re;
        int err;

        assert(pattern);
        assert(ret);
        re = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED,
                           PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (multiline ? PCRE2_MULTILINE : 0), &err,
                           &offset, NULL);
        if (!re) {
                if (err == PCRE2_ERROR_HEAPLIMIT || err == PCRE2_ERROR_NOMEMORY)
                        return -ENOMEM;
                if (errbuf && errsize > 0) {
                        (void) pcre2_get_error_message(err, msg, sizeof msg);
                        snprintf(errbuf, errsize, "%s at offset %zu", (const char *) msg, (size_t) offset);
                }
                return -EINVAL;
        }
        *ret = re;
        return 0;
}

int regex_search(const pcre2_code *re, const char *text, size_t len) {
        pcre2_match_context *mctx;
        pcre2_match_data *md;
        int r;

        assert(re);
        assert(text || len == 0);
        md = pcre2_match_data_create(1, NULL);
        mctx = pcre2_match_context_create(NULL);
        if (!md || !mctx) {
                pcre2_match_data_free(md);
                pcre2_match_context_free(mctx);
                return -ENOMEM;
        }
        (void) pcre2_set_match_limit(mctx, REGEX_MATCH_LIMIT);
        (void) pcre2_set_depth_limit(mctx, REGEX_DEPTH_LIMIT);
        r = pcre2_match(re, (PCRE2_SPTR) (text ? text : ""), len, 0, 0, md, mctx);
        pcre2_match_data_free(md);
        pcre2_match_context_free(mctx);
        if (r >= 0)
                return 1;
        if (r == PCRE2_ERROR_NOMATCH)
                return 0;
        if (r == PCRE2_ERROR_MATCHLIMIT || r == PCRE2_ERROR_DEPTHLIMIT || r == PCRE2_ERROR_HEAPLIMIT)
                return -E2BIG;
        if (r == PCRE2_ERROR_NOMEMORY)
                return -ENOMEM;
        return -EINVAL;
}

void regex_freep(pcre2_code **re) {
        if (*re)
                pcre2_code_free(*re);
        *re = NULL;
}
