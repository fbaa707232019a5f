/* test-exit-report.c — the exit report line (exit-report.h): aegis-bootstrap writes it,
 * aegisd takes it off the end of a stream only with the iteration's nonce, and a line with
 * another nonce, or not at the end, stays output. */
#include <string.h>

#include "exit-report.h"
#include "test-main.h"

#define NONCE "0123456789abcdef0123456789abcdef"
#define OTHER "ffffffffffffffffffffffffffffffff"

/* take() on a copy of s; the rest of the stream in out. */
static bool take(const char *s, const char *nonce, int *status, char *out, size_t out_size) {
        size_t n = strlen(s);
        char buf[512];
        bool r;

        ck_assert_uint_lt(n, sizeof buf);
        memcpy(buf, s, n + 1);
        r = exit_report_take(buf, &n, nonce, status);
        ck_assert_uint_eq(strlen(buf), n);
        ck_assert_uint_lt(n, out_size);
        memcpy(out, buf, n + 1);
        return r;
}

START_TEST(test_format) {
        char buf[EXIT_REPORT_LINE_MAX];

        ck_assert_int_eq(exit_report_format(buf, sizeof buf, NONCE, 0), (int) strlen(buf));
        ck_assert_str_eq(buf, "AEGIS-EXIT " NONCE " 0\n");
        ck_assert_int_gt(exit_report_format(buf, sizeof buf, NONCE, 255), 0);
        ck_assert_str_eq(buf, "AEGIS-EXIT " NONCE " 255\n");
        ck_assert_int_lt(exit_report_format(buf, sizeof buf, NONCE, 256), 0);
        ck_assert_int_lt(exit_report_format(buf, sizeof buf, NONCE, -1), 0);
        ck_assert_int_lt(exit_report_format(buf, sizeof buf, "0123", 0), 0);
        ck_assert_int_lt(exit_report_format(buf, sizeof buf, "0123456789ABCDEF0123456789ABCDEF", 0), 0);
        ck_assert_int_lt(exit_report_format(buf, 10, NONCE, 0), 0);
}
END_TEST

START_TEST(test_take_at_end) {
        char out[512];
        int status = -1;

        ck_assert(take("hello\nAEGIS-EXIT " NONCE " 3\n", NONCE, &status, out, sizeof out));
        ck_assert_int_eq(status, 3);
        ck_assert_str_eq(out, "hello\n");
        /* Output without a final newline: the report follows it on the same line. */
        ck_assert(take("no newlineAEGIS-EXIT " NONCE " 0\n", NONCE, &status, out, sizeof out));
        ck_assert_int_eq(status, 0);
        ck_assert_str_eq(out, "no newline");
        ck_assert(take("AEGIS-EXIT " NONCE " 42\n", NONCE, &status, out, sizeof out));
        ck_assert_int_eq(status, 42);
        ck_assert_str_eq(out, "");
        /* Any valid nonce, when aegisd no longer knows it (re-attached after a restart). */
        ck_assert(take("x\nAEGIS-EXIT " OTHER " 7\n", NULL, &status, out, sizeof out));
        ck_assert_int_eq(status, 7);
        ck_assert_str_eq(out, "x\n");
}
END_TEST

START_TEST(test_not_taken) {
        char out[512];
        int status = -1;

        /* Another nonce: the command's own line, output. */
        ck_assert(!take("AEGIS-EXIT " OTHER " 0\n", NONCE, &status, out, sizeof out));
        ck_assert_str_eq(out, "AEGIS-EXIT " OTHER " 0\n");
        /* Not the last line, or not whole yet (a stream cut in the middle of it). */
        ck_assert(!take("AEGIS-EXIT " NONCE " 0\nmore\n", NONCE, &status, out, sizeof out));
        ck_assert(!take("AEGIS-EXIT " NONCE " 0", NONCE, &status, out, sizeof out));
        ck_assert(!take("AEGIS-EXIT " NONCE " \n", NONCE, &status, out, sizeof out));
        ck_assert(!take("AEGIS-EXIT " NONCE "\n", NONCE, &status, out, sizeof out));
        ck_assert(!take("AEGIS-EXIT " NONCE " 256\n", NONCE, &status, out, sizeof out));
        ck_assert(!take("AEGIS-EXIT " NONCE " 1000\n", NONCE, &status, out, sizeof out));
        ck_assert(!take("AEGIS-EXIT " NONCE " -1\n", NONCE, &status, out, sizeof out));
        ck_assert(!take("AEGIS-EXIT 0123456789ABCDEF0123456789ABCDEF 0\n", NULL, &status, out, sizeof out));
        ck_assert(!take("AEGIS-EXIT 0123 0\n", NULL, &status, out, sizeof out));
        ck_assert(!take("", NONCE, &status, out, sizeof out));
        ck_assert_int_eq(status, -1);
        /* An invalid nonce to look for matches nothing. */
        ck_assert(!take("AEGIS-EXIT " NONCE " 0\n", "nope", &status, out, sizeof out));
}
END_TEST

START_TEST(test_binary_and_long) {
        char buf[4096];
        size_t n;
        int status = -1;
        int len;

        /* NULs in the output, and more output than the end that is looked at. */
        memset(buf, 0, sizeof buf);
        for (size_t i = 0; i < 3000; i++)
                buf[i] = (char) (i % 7 == 0 ? 0 : 'a' + i % 26);
        len = exit_report_format(buf + 3000, sizeof buf - 3000, NONCE, 9);
        ck_assert_int_gt(len, 0);
        n = 3000 + (size_t) len;
        ck_assert(exit_report_take(buf, &n, NONCE, &status));
        ck_assert_uint_eq(n, 3000);
        ck_assert_int_eq(status, 9);
        ck_assert_int_eq(buf[3000], 0);
        ck_assert_int_eq(buf[2999], 'a' + 2999 % 26);
        /* Taken once: what is left has no report. */
        ck_assert(!exit_report_take(buf, &n, NONCE, &status));
}
END_TEST

START_TEST(test_nonce_valid) {
        ck_assert(exit_report_nonce_valid(NONCE));
        ck_assert(!exit_report_nonce_valid(NULL));
        ck_assert(!exit_report_nonce_valid(""));
        ck_assert(!exit_report_nonce_valid(NONCE "0"));
        ck_assert(!exit_report_nonce_valid("0123456789abcdef0123456789abcdeg"));
}
END_TEST

int main(void) {
        Suite *s = suite_create("exit-report");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_format);
        tcase_add_test(tc, test_take_at_end);
        tcase_add_test(tc, test_not_taken);
        tcase_add_test(tc, test_binary_and_long);
        tcase_add_test(tc, test_nonce_valid);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
