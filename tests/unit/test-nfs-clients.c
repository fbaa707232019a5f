/* test-nfs-clients.c — aegis-nfsd's client host lists: parsing ("*", addresses, prefixes,
 * limits) and matching (prefix edges, IPv6, IPv4-mapped IPv6, non-IP peers). */
#include <check.h>
#include <errno.h>

#include "nfs-clients.h"
#include "test-main.h"

START_TEST(test_any) {
        NfsClients c;
        ck_assert_int_eq(nfs_clients_parse("*", &c), 0);
        ck_assert(nfs_clients_match(&c, "10.1.2.3"));
        ck_assert(nfs_clients_match(&c, "local"));
}
END_TEST

START_TEST(test_prefixes) {
        NfsClients c;
        ck_assert_int_eq(nfs_clients_parse("10.1.2.0/23,192.168.7.9,fd00:1::/33", &c), 0);
        ck_assert_int_eq(c.n, 3);
        ck_assert(nfs_clients_match(&c, "10.1.3.255"));
        ck_assert(!nfs_clients_match(&c, "10.1.4.0"));
        ck_assert(!nfs_clients_match(&c, "10.1.0.255"));
        ck_assert(nfs_clients_match(&c, "192.168.7.9"));
        ck_assert(!nfs_clients_match(&c, "192.168.7.8"));
        ck_assert(nfs_clients_match(&c, "::ffff:192.168.7.9"));
        ck_assert(nfs_clients_match(&c, "fd00:1:7fff::1"));
        ck_assert(!nfs_clients_match(&c, "fd00:1:8000::1"));
        ck_assert(!nfs_clients_match(&c, "local"));
        ck_assert(!nfs_clients_match(&c, ""));
}
END_TEST

START_TEST(test_zero_prefix_and_unset) {
        NfsClients c = { 0 };
        ck_assert(!nfs_clients_match(&c, "10.0.0.1")); /* unset matches nothing */
        ck_assert_int_eq(nfs_clients_parse("0.0.0.0/0", &c), 0);
        ck_assert(nfs_clients_match(&c, "203.0.113.4"));
        ck_assert(!nfs_clients_match(&c, "2001:db8::1"));
}
END_TEST

START_TEST(test_bad_input) {
        NfsClients c = { .n = 42 };
        ck_assert_int_eq(nfs_clients_parse("10.0.0.300", &c), -EINVAL);
        ck_assert_int_eq(nfs_clients_parse("10.0.0.0/33", &c), -EINVAL);
        ck_assert_int_eq(nfs_clients_parse("::1/129", &c), -EINVAL);
        ck_assert_int_eq(nfs_clients_parse("10.0.0.1/", &c), -EINVAL);
        ck_assert_int_eq(nfs_clients_parse("10.0.0.1,", &c), -EINVAL);
        ck_assert_int_eq(nfs_clients_parse("", &c), -EINVAL);
        ck_assert_int_eq(nfs_clients_parse("host.example", &c), -EINVAL);
        ck_assert_int_eq(
                nfs_clients_parse("1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,7.7.7.7,8.8.8.8,9.9.9.9",
                                  &c),
                -E2BIG);
        ck_assert_int_eq(c.n, 42); /* untouched on error */
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("nfs-clients");
        TCase *t = tcase_create("core");
        tcase_add_test(t, test_any);
        tcase_add_test(t, test_prefixes);
        tcase_add_test(t, test_zero_prefix_and_unset);
        tcase_add_test(t, test_bad_input);
        suite_add_tcase(s, t);
        return s;
}

int main(void) {
        return run_suite(suite());
}
