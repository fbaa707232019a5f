/* exit-report.c — the exit report line of aegis-bootstrap (exit-report.h). libc only. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "exit-report.h"

#define PREFIX_LEN (sizeof(EXIT_REPORT_PREFIX) - 1)

static bool is_lower_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool exit_report_nonce_valid(const char *s) {
        if (!s)
                return false;
        for (size_t i = 0; i < EXIT_REPORT_NONCE_LEN; i++)
                if (!is_lower_hex(s[i]))
                        return false;
        return s[EXIT_REPORT_NONCE_LEN] == '\0';
}

int exit_report_format(char *buf, size_t size, const char *nonce, int status) {
        int n;

        if (!buf || !exit_report_nonce_valid(nonce) || status < 0 || status > 255)
                return -EINVAL;
        n = snprintf(buf, size, EXIT_REPORT_PREFIX "%s %d\n", nonce, status);
        return n < 0 || (size_t) n >= size ? -EINVAL : n;
}

/* The line at p (a prefix's start, n bytes to the end of data): its length and status when
 * it is a whole report line for nonce, 0 otherwise. */
static size_t parse_line(const char *p, size_t n, const char *nonce, int *ret_status) {
        const char *q = p + PREFIX_LEN, *end = p + n;
        int status = 0, digits = 0;

        if (n < PREFIX_LEN + EXIT_REPORT_NONCE_LEN + 3)
                return 0;
        for (size_t i = 0; i < EXIT_REPORT_NONCE_LEN; i++)
                if (!is_lower_hex(q[i]) || (nonce && q[i] != nonce[i]))
                        return 0;
        q += EXIT_REPORT_NONCE_LEN;
        if (*q++ != ' ')
                return 0;
        while (q < end && *q >= '0' && *q <= '9' && digits < 3) {
                status = status * 10 + (*q++ - '0');
                digits++;
        }
        if (digits == 0 || q >= end || *q != '\n' || status > 255)
                return 0;
        *ret_status = status;
        return (size_t) (q + 1 - p);
}

bool exit_report_take(char *data, size_t *size, const char *nonce, int *ret_status) {
        size_t n, from;

        if (!data || !size || !ret_status || (nonce && !exit_report_nonce_valid(nonce)))
                return false;
        n = *size;
        /* Only the end: the report is the last line of its stream. */
        from = n > EXIT_REPORT_LINE_MAX ? n - EXIT_REPORT_LINE_MAX : 0;
        for (size_t i = n; i-- > from;) {
                size_t len;

                if (data[i] != 'A' || n - i < PREFIX_LEN ||
                    memcmp(data + i, EXIT_REPORT_PREFIX, PREFIX_LEN) != 0)
                        continue;
                len = parse_line(data + i, n - i, nonce, ret_status);
                if (len != n - i)
                        continue;
                *size = i;
                data[i] = '\0';
                return true;
        }
        return false;
}
