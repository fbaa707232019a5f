/* test-log.c — what log.c hands to the journal: the fields of one entry, the caller's
 * location exactly once. sd_journal_sendv_with_location() is replaced at link time
 * (-Wl,--wrap) by a recorder, so the test needs no journald; libsystemd turns the three
 * location arguments into the entry's only CODE_FILE, CODE_LINE and CODE_FUNC. */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>

#include "log.h"
#include "util.h"
#include "test-main.h"

static struct {
        unsigned calls;
        char file[512], line[64], func[128];
        char fields[32][512];
        int n;
} sent;

int __wrap_sd_journal_sendv_with_location(const char *file, const char *line, const char *func,
                                          const struct iovec *iov, int n);
int __wrap_sd_journal_sendv_with_location(const char *file, const char *line, const char *func,
                                          const struct iovec *iov, int n) {
        sent.calls++;
        (void) snprintf(sent.file, sizeof sent.file, "%s", file);
        (void) snprintf(sent.line, sizeof sent.line, "%s", line);
        (void) snprintf(sent.func, sizeof sent.func, "%s", func);
        sent.n = n;
        for (int i = 0; i < n && i < (int) ELEMENTSOF(sent.fields); i++)
                (void) snprintf(sent.fields[i], sizeof sent.fields[i], "%.*s", (int) iov[i].iov_len,
                                (const char *) iov[i].iov_base);
        return 0;
}

static unsigned count_prefix(const char *prefix) {
        unsigned k = 0;
        for (int i = 0; i < sent.n; i++)
                k += startswith(sent.fields[i], prefix) != NULL;
        return k;
}

static bool has_field(const char *field) {
        for (int i = 0; i < sent.n; i++)
                if (streq(sent.fields[i], field))
                        return true;
        return false;
}

static void setup(void) {
        memset(&sent, 0, sizeof sent);
        log_setup("aegis-test");
        log_set_max_level(LOG_DEBUG);
        log_set_target("journal");
}

START_TEST(test_log_journal_entry_has_one_location_the_callers) {
        int line = __LINE__ + 1;
        log_fields(LOG_INFO, LOG_FIELDS("EXECUTION_ID=abc", "ITERATION=2"), "started %d", 5);

        ck_assert_uint_eq(sent.calls, 1);
        ck_assert_str_eq(sent.file, "CODE_FILE=" __FILE__);
        {
                char expected[64];
                (void) snprintf(expected, sizeof expected, "CODE_LINE=%d", line);
                ck_assert_str_eq(sent.line, expected);
        }
        ck_assert_str_eq(sent.func, "test_log_journal_entry_has_one_location_the_callers_fn");
        /* The location travels only as the three arguments, never again among the fields. */
        ck_assert_uint_eq(count_prefix("CODE_FILE="), 0);
        ck_assert_uint_eq(count_prefix("CODE_LINE="), 0);
        ck_assert_uint_eq(count_prefix("CODE_FUNC="), 0);
        ck_assert(has_field("MESSAGE=started 5"));
        ck_assert(has_field("PRIORITY=6"));
        ck_assert(has_field("SYSLOG_IDENTIFIER=aegis-test"));
        ck_assert(has_field("EXECUTION_ID=abc"));
        ck_assert(has_field("ITERATION=2"));
        ck_assert_uint_eq(count_prefix("MESSAGE="), 1);
        ck_assert_uint_eq(count_prefix("ERRNO="), 0);
}
END_TEST

START_TEST(test_log_journal_error_carries_errno_and_message) {
        ck_assert_int_eq(log_error_errno(-ENOENT, "Failed to open %s: %m", "x.db"), -ENOENT);
        ck_assert_uint_eq(sent.calls, 1);
        ck_assert(has_field("MESSAGE=Failed to open x.db: No such file or directory"));
        ck_assert(has_field("PRIORITY=3"));
        ck_assert(has_field("ERRNO=2"));
        ck_assert_uint_eq(count_prefix("CODE_FILE="), 0);
}
END_TEST

START_TEST(test_log_below_max_level_sends_nothing) {
        log_set_max_level(LOG_INFO);
        log_debug("not sent");
        ck_assert_uint_eq(sent.calls, 0);
}
END_TEST

static Suite *log_suite(void) {
        Suite *s = suite_create("log");
        TCase *tc = tcase_create("journal");

        tcase_add_checked_fixture(tc, setup, NULL);
        tcase_add_test(tc, test_log_journal_entry_has_one_location_the_callers);
        tcase_add_test(tc, test_log_journal_error_carries_errno_and_message);
        tcase_add_test(tc, test_log_below_max_level_sends_nothing);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(log_suite());
}
