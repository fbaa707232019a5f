/* test-redact.c — redact_secrets() (redact.h): passwords of URLs, query strings and keyword
 * connection strings never survive, everything else does (issue 19: no secret in any log or
 * --check-config). */
#include <string.h>

#include "redact.h"
#include "test-main.h"
#include "util.h"

static void expect(const char *in, const char *out) {
        _cleanup_free_ char *r = redact_secrets(in);

        ck_assert_ptr_nonnull(r);
        ck_assert_msg(streq(r, out), "redact_secrets(\"%s\") = \"%s\", expected \"%s\"", in, r, out);
}

START_TEST(test_url_user_info) {
        expect("postgresql://aegis:hunter2@db.example:5432/aegis",
               "postgresql://aegis:***@db.example:5432/aegis");
        expect("postgres://u:pw@h/db", "postgres://u:***@h/db");
        expect("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"); /* the last @ ends it */
        expect("postgresql://u:p:w@h", "postgresql://u:***@h");
        expect("postgresql://u@h/db", "postgresql://u@h/db");
        expect("postgresql://h:5432/db", "postgresql://h:5432/db");
        expect("postgresql://:pw@h/db", "postgresql://:***@h/db");
        expect("sqlite:///var/lib/aegis/aegis.db", "sqlite:///var/lib/aegis/aegis.db");
        /* Inside a sentence, and twice. */
        expect("Cannot open postgresql://a:one@h1/db (also postgresql://b:two@h2/db): refused",
               "Cannot open postgresql://a:***@h1/db (also postgresql://b:***@h2/db): refused");
        expect("registry \"postgresql://a:s3cr\"@h\"", "registry \"postgresql://a:***@h\"");
}
END_TEST

START_TEST(test_query_password) {
        expect("postgresql://h/db?user=u&password=pw&sslmode=require",
               "postgresql://h/db?user=u&password=***&sslmode=require");
        expect("postgresql://h/db?password=pw", "postgresql://h/db?password=***");
        expect("postgresql://h/db?PASSWORD=pw#frag", "postgresql://h/db?PASSWORD=***#frag");
        expect("postgresql://u:a@h/db?password=b", "postgresql://u:***@h/db?password=***");
        /* Only the key "password", not a longer word ending in it. */
        expect("postgresql://h/db?nopassword=x", "postgresql://h/db?nopassword=x");
}
END_TEST

START_TEST(test_keyword_connection_strings) {
        expect("host=h password=hunter2 dbname=d", "host=h password=*** dbname=d");
        expect("password=hunter2", "password=***");
        expect("host=h password = 'with spaces \\' and quote' dbname=d", "host=h password = *** dbname=d");
        expect("host=h Password=\"x y\" user=u", "host=h Password=*** user=u");
        expect("dbname=password user=u", "dbname=password user=u"); /* a value, not a key */
        expect("password='unterminated", "password=***");
        expect("host=h", "host=h");
}
END_TEST

START_TEST(test_edges) {
        expect("", "");
        expect("://", "://");
        expect("x://@", "x://@");
        expect("password", "password");
        expect("password=", "password=***");
        _cleanup_free_ char *r = redact_secrets(NULL);
        ck_assert_str_eq(r, "");
}
END_TEST

int main(void) {
        Suite *s = suite_create("redact");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_url_user_info);
        tcase_add_test(tc, test_query_password);
        tcase_add_test(tc, test_keyword_connection_strings);
        tcase_add_test(tc, test_edges);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
