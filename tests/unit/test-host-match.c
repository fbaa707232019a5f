/* test-host-match.c — host_matches() and host_pattern_check() (host-match.h): a name matches
 * itself and its subdomains and nothing that merely ends like it, addresses and prefixes match
 * addresses only, and whatever is not a valid host matches nothing. */
#include <errno.h>

#include "host-match.h"
#include "test-main.h"

#define YES(p, h) ck_assert_msg(host_matches(p, h), "\"%s\" should name \"%s\"", p, h)
#define NO(p, h) ck_assert_msg(!host_matches(p, h), "\"%s\" should not name \"%s\"", p, h)

START_TEST(test_names) {
        YES("example.com", "example.com");
        YES("example.com", "api.example.com");
        YES("example.com", "a.b.example.com");
        YES("example.com", "EXAMPLE.com.");
        YES("Example.COM.", "api.example.com");
        NO("example.com", "badexample.com");
        NO("example.com", "example.com.evil.test");
        NO("example.com", "com");
        NO("api.example.com", "example.com");
        YES("*.example.com", "api.example.com");
        NO("*.example.com", "example.com");
        YES("localhost", "localhost");
        YES("*", "anything.test");
        YES("*", "10.1.2.3");
}
END_TEST

START_TEST(test_addresses) {
        YES("192.0.2.7", "192.0.2.7");
        NO("192.0.2.7", "192.0.2.70");
        YES("::1", "[::1]");
        YES("[::1]", "::1");
        YES("10.0.0.0/8", "10.200.3.4");
        NO("10.0.0.0/8", "11.0.0.1");
        YES("10.0.0.1", "::ffff:10.0.0.1"); /* a mapped address is the IPv4 one */
        YES("192.168.0.0/23", "192.168.1.255");
        NO("192.168.0.0/23", "192.168.2.0");
        YES("fd00::/8", "fd12:3456::1");
        NO("fd00::/8", "fe80::1");
        YES("0.0.0.0/0", "203.0.113.9");
        /* A name never matches an address entry nor the reverse: nothing resolves here. */
        NO("127.0.0.1", "localhost");
        NO("localhost", "127.0.0.1");
        NO("example.com", "93.184.216.34");
}
END_TEST

START_TEST(test_invalid_hosts_match_nothing) {
        NO("example.com", "");
        ck_assert(!host_matches("example.com", NULL));
        NO("example.com", "evil test.example.com");
        NO("example.com", "x..example.com");
        NO("example.com", "user@example.com");
        NO("example.com", "example.com:443");
        NO("*", "exa mple.com");
        NO("", "example.com");
        NO("bad pattern", "bad pattern");
}
END_TEST

START_TEST(test_pattern_check) {
        const char *why = NULL;

        ck_assert_int_eq(host_pattern_check("example.com", &why), 0);
        ck_assert_int_eq(host_pattern_check("*.example.com", &why), 0);
        ck_assert_int_eq(host_pattern_check("*", &why), 0);
        ck_assert_int_eq(host_pattern_check("10.0.0.0/8", &why), 0);
        ck_assert_int_eq(host_pattern_check("[::1]", &why), 0);
        ck_assert_int_eq(host_pattern_check("pypi.org.", &why), 0);
        ck_assert_int_eq(host_pattern_check("", &why), -EINVAL);
        ck_assert_int_eq(host_pattern_check("https://example.com", &why), -EINVAL);
        ck_assert_ptr_nonnull(why);
        ck_assert_int_eq(host_pattern_check("example.com:443", &why), -EINVAL);
        ck_assert_int_eq(host_pattern_check("ex*ample.com", &why), -EINVAL);
        ck_assert_int_eq(host_pattern_check("10.0.0.0/33", &why), -EINVAL);
        ck_assert_int_eq(host_pattern_check("10.0.0.0/", &why), -EINVAL);
        ck_assert_int_eq(host_pattern_check("a..b", &why), -EINVAL);
}
END_TEST

START_TEST(test_lists) {
        char *list[] = { (char *) "pypi.org", (char *) "files.pythonhosted.org", NULL };

        ck_assert(host_matches_any(list, "pypi.org"));
        ck_assert(host_matches_any(list, "files.pythonhosted.org"));
        ck_assert(!host_matches_any(list, "evil.test"));
        ck_assert(!host_matches_any(NULL, "pypi.org"));
}
END_TEST

int main(void) {
        Suite *s = suite_create("host-match");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_addresses);
        tcase_add_test(tc, test_invalid_hosts_match_nothing);
        tcase_add_test(tc, test_pattern_check);
        tcase_add_test(tc, test_lists);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
