/* test-util.c — parsers and helpers in util.c, error.c and log.c. */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <syslog.h>

#include "error.h"
#include "log.h"
#include "util.h"
#include "test-main.h"

START_TEST(test_parse_size_accepts_binary_and_decimal_suffixes) {
        uint64_t v = 0;
        ck_assert_int_eq(parse_size("512Mi", &v), 0);
        ck_assert_uint_eq(v, UINT64_C(512) << 20);
        ck_assert_int_eq(parse_size("1Gi", &v), 0);
        ck_assert_uint_eq(v, UINT64_C(1) << 30);
        ck_assert_int_eq(parse_size("4096", &v), 0);
        ck_assert_uint_eq(v, 4096);
        ck_assert_int_eq(parse_size("2K", &v), 0);
        ck_assert_uint_eq(v, 2000);
}
END_TEST

START_TEST(test_parse_size_accepts_podman_spellings_and_fractions) {
        uint64_t v = 0;
        ck_assert_int_eq(parse_size("1g", &v), 0);
        ck_assert_uint_eq(v, UINT64_C(1) << 30);
        ck_assert_int_eq(parse_size("512m", &v), 0);
        ck_assert_uint_eq(v, UINT64_C(512) << 20);
        ck_assert_int_eq(parse_size("512M", &v), 0);
        ck_assert_uint_eq(v, UINT64_C(512000000));
        ck_assert_int_eq(parse_size("1.5Gi", &v), 0);
        ck_assert_uint_eq(v, UINT64_C(3) << 29);
        ck_assert_int_eq(parse_size("0.5k", &v), 0);
        ck_assert_uint_eq(v, 512);
        ck_assert_int_eq(parse_size("2GiB", &v), 0);
        ck_assert_uint_eq(v, UINT64_C(2) << 30);
        ck_assert_int_eq(parse_size("3GB", &v), 0);
        ck_assert_uint_eq(v, UINT64_C(3000000000));
        ck_assert_int_eq(parse_size("1024", &v), 0);
        ck_assert_uint_eq(v, 1024);
        ck_assert_int_eq(parse_size("100B", &v), 0);
        ck_assert_uint_eq(v, 100);
}
END_TEST

START_TEST(test_parse_size_rejects_garbage_and_overflow) {
        uint64_t v = 7;
        ck_assert_int_eq(parse_size("", &v), -EINVAL);
        ck_assert_int_eq(parse_size("lots", &v), -EINVAL);
        ck_assert_int_eq(parse_size("12Zi", &v), -EINVAL);
        ck_assert_int_eq(parse_size("-1", &v), -EINVAL);
        ck_assert_int_eq(parse_size("99999999999Ti", &v), -ERANGE);
        ck_assert_int_eq(parse_size("1.5", &v), -EINVAL); /* a fraction of a byte */
        ck_assert_int_eq(parse_size("1.Gi", &v), -EINVAL);
        ck_assert_int_eq(parse_size("1gg", &v), -EINVAL);
        ck_assert_int_eq(parse_size("1iB", &v), -EINVAL);
        ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(test_parse_duration_units) {
        uint64_t v = 0;
        ck_assert_int_eq(parse_duration_secs("600s", &v), 0);
        ck_assert_uint_eq(v, 600);
        ck_assert_int_eq(parse_duration_secs("600", &v), 0);
        ck_assert_uint_eq(v, 600);
        ck_assert_int_eq(parse_duration_secs("10m", &v), 0);
        ck_assert_uint_eq(v, 600);
        ck_assert_int_eq(parse_duration_secs("1h30m", &v), 0);
        ck_assert_uint_eq(v, 5400);
        ck_assert_int_eq(parse_duration_secs("1500ms", &v), 0);
        ck_assert_uint_eq(v, 2);
        ck_assert_int_eq(parse_duration_secs("10x", &v), -EINVAL);
        ck_assert_int_eq(parse_duration_secs("s", &v), -EINVAL);
        ck_assert_int_eq(parse_duration_secs("10 s", &v), -EINVAL);
}
END_TEST

START_TEST(test_parse_listen_address_forms) {
        _cleanup_free_ char *h1 = NULL, *h2 = NULL, *h3 = NULL;
        char *bad = NULL;
        uint16_t p = 0;
        ck_assert_int_eq(parse_listen_address("127.0.0.1:8088", &h1, &p), 0);
        ck_assert_str_eq(h1, "127.0.0.1");
        ck_assert_uint_eq(p, 8088);
        ck_assert_int_eq(parse_listen_address("[::1]:2049", &h2, &p), 0);
        ck_assert_str_eq(h2, "::1");
        ck_assert_uint_eq(p, 2049);
        ck_assert_int_eq(parse_listen_address(":9091", &h3, &p), 0);
        ck_assert_str_eq(h3, "");
        ck_assert_int_eq(parse_listen_address("localhost", &bad, &p), -EINVAL);
        ck_assert_int_eq(parse_listen_address("h:0", &bad, &p), -EINVAL);
        ck_assert_int_eq(parse_listen_address("h:70000", &bad, &p), -EINVAL);
        ck_assert_int_eq(parse_listen_address("::1:80", &bad, &p), -EINVAL);
        ck_assert_ptr_null(bad);
}
END_TEST

START_TEST(test_safe_atoi_is_strict) {
        int v = 3;
        ck_assert_int_eq(safe_atoi("42", &v), 0);
        ck_assert_int_eq(v, 42);
        ck_assert_int_eq(safe_atoi("-42", &v), 0);
        ck_assert_int_eq(v, -42);
        ck_assert_int_eq(safe_atoi("42abc", &v), -EINVAL);
        ck_assert_int_eq(safe_atoi(" 1", &v), -EINVAL);
        ck_assert_int_eq(safe_atoi("99999999999", &v), -ERANGE);
        ck_assert_int_eq(v, -42);
}
END_TEST

START_TEST(test_path_join_and_ids) {
        _cleanup_free_ char *a = path_join("/var/lib/", "/aegis");
        _cleanup_free_ char *b = path_join("/", "x");
        ck_assert_str_eq(a, "/var/lib/aegis");
        ck_assert_str_eq(b, "/x");
        ck_assert(id_is_valid("abc-DEF_1.2"));
        ck_assert(!id_is_valid(".."));
        ck_assert(!id_is_valid("a/b"));
        ck_assert(!id_is_valid(""));
        char u[UUID_STRING_MAX];
        ck_assert_int_eq(random_uuid(u), 0);
        ck_assert_uint_eq(strlen(u), 36);
        ck_assert(id_is_valid(u));
}
END_TEST

START_TEST(test_strv_helpers) {
        _cleanup_strv_free_ char **l = NULL;
        ck_assert_int_eq(strv_extend(&l, "a"), 0);
        ck_assert_int_eq(strv_extend(&l, "b"), 0);
        ck_assert_uint_eq(strv_length(l), 2);
        ck_assert(strv_contains(l, "b"));
        ck_assert(!strv_contains(l, "c"));
        _cleanup_strv_free_ char **c = strv_copy(l);
        ck_assert_str_eq(c[1], "b");
        _cleanup_free_ char *j = strjoin_sep(", ", (const char *const *) l, 2);
        ck_assert_str_eq(j, "a, b");
}
END_TEST

START_TEST(test_error_maps_to_http_status) {
        Error e = ERROR_INIT;
        ck_assert_int_eq(error_set_field(&e, -EINVAL, "spec.x", "bad %s", "thing"), -EINVAL);
        ck_assert_str_eq(e.message, "bad thing");
        ck_assert_str_eq(e.field, "spec.x");
        ck_assert_int_eq(error_http_status(&e), 400);
        error_prefix(&e, "while parsing");
        ck_assert_str_eq(e.message, "while parsing: bad thing");
        error_set(&e, -ENOENT, "gone");
        ck_assert_int_eq(error_http_status(&e), 404);
        e.http_status = 503;
        ck_assert_int_eq(error_http_status(&e), 503);
}
END_TEST

START_TEST(test_log_levels_accept_rust_log_syntax) {
        ck_assert_int_eq(log_level_from_string("debug"), LOG_DEBUG);
        ck_assert_int_eq(log_level_from_string("WARN"), LOG_WARNING);
        ck_assert_int_eq(log_level_from_string("hyper=warn,aegis=debug"), LOG_DEBUG);
        ck_assert_int_eq(log_level_from_string("aegis_orchestrator=trace"), LOG_DEBUG);
        ck_assert_int_eq(log_level_from_string("loud"), -EINVAL);
        ck_assert_int_eq(log_level_from_string(""), -EINVAL);
}
END_TEST

START_TEST(test_file_roundtrip_and_size_cap) {
        char dir[] = "/tmp/aegis-util-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        _cleanup_free_ char *p = path_join(dir, "f");
        ck_assert_int_eq(write_file_atomic(p, "hello", 5, 0600), 0);
        _cleanup_free_ char *s = NULL;
        size_t n = 0;
        ck_assert_int_eq(read_full_file(p, 100, &s, &n), 0);
        ck_assert_str_eq(s, "hello");
        ck_assert_uint_eq(n, 5);
        char *t = NULL;
        ck_assert_int_eq(read_full_file(p, 3, &t, NULL), -EFBIG);
        ck_assert_ptr_null(t);
        unlink(p);
        rmdir(dir);
}
END_TEST

START_TEST(test_write_all_writes_everything_or_says_why) {
        char dir[] = "/tmp/aegis-util-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        _cleanup_free_ char *p = path_join(dir, "f");
        size_t size = 3 * 1024 * 1024;
        _cleanup_free_ char *data = malloc(size);
        ck_assert_ptr_nonnull(data);
        for (size_t i = 0; i < size; i++)
                data[i] = (char) ('a' + i % 26);
        int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write_all(fd, data, size), 0);
        close(fd);
        _cleanup_free_ char *back = NULL;
        size_t n = 0;
        ck_assert_int_eq(read_full_file(p, size + 1, &back, &n), 0);
        ck_assert_uint_eq(n, size);
        ck_assert_int_eq(memcmp(back, data, size), 0);
        fd = open(p, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write_all(fd, "x", 1), -EBADF); /* not open for writing */
        close(fd);
        unlink(p);
        rmdir(dir);
}
END_TEST

START_TEST(test_mkdir_p_exact_sets_the_mode) {
        char dir[] = "/tmp/aegis-util-XXXXXX";
        struct stat st;
        ck_assert_ptr_nonnull(mkdtemp(dir));
        _cleanup_free_ char *a = path_join(dir, "a");
        _cleanup_free_ char *b = path_join(a, "b");
        mode_t old = umask(0077);
        ck_assert_int_eq(mkdir_p_exact(b, 0755), 0); /* made, despite the umask */
        umask(old);
        ck_assert_int_eq(stat(b, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0755);
        ck_assert_int_eq(chmod(b, 0777), 0);
        ck_assert_int_eq(mkdir_p_exact(b, 0700), 0); /* there already, with another mode */
        ck_assert_int_eq(stat(b, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0700);
        ck_assert_int_eq(mkdir_p_exact("/proc/no-such-dir/x", 0700) < 0, 1);
        rmdir(b);
        rmdir(a);
        rmdir(dir);
}
END_TEST

START_TEST(test_tail_keeps_the_last_cap_bytes) {
        Tail t = { .cap = 4 };

        ck_assert_str_eq(tail_str(&t), "");
        ck_assert_int_eq(tail_append(&t, "ab", 2), 0);
        ck_assert_str_eq(tail_str(&t), "ab");
        ck_assert(!t.truncated);
        ck_assert_int_eq(tail_append(&t, "cde", 3), 0);
        ck_assert_str_eq(tail_str(&t), "bcde");
        ck_assert_uint_eq(t.size, 4);
        ck_assert(t.truncated);
        ck_assert_int_eq(tail_append(&t, "0123456", 7), 0);
        ck_assert_str_eq(tail_str(&t), "3456");
        tail_reset(&t);
        ck_assert_str_eq(tail_str(&t), "");
        ck_assert(!t.truncated);
        ck_assert_uint_eq(t.cap, 4);
        ck_assert_int_eq(tail_append(&t, "xyz", 3), 0);
        ck_assert_str_eq(tail_str(&t), "xyz");
        tail_reset(&t);
}
END_TEST

int main(void) {
        Suite *s = suite_create("util");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_parse_size_accepts_binary_and_decimal_suffixes);
        tcase_add_test(tc, test_parse_size_accepts_podman_spellings_and_fractions);
        tcase_add_test(tc, test_parse_size_rejects_garbage_and_overflow);
        tcase_add_test(tc, test_parse_duration_units);
        tcase_add_test(tc, test_parse_listen_address_forms);
        tcase_add_test(tc, test_safe_atoi_is_strict);
        tcase_add_test(tc, test_path_join_and_ids);
        tcase_add_test(tc, test_strv_helpers);
        tcase_add_test(tc, test_error_maps_to_http_status);
        tcase_add_test(tc, test_log_levels_accept_rust_log_syntax);
        tcase_add_test(tc, test_file_roundtrip_and_size_cap);
        tcase_add_test(tc, test_write_all_writes_everything_or_says_why);
        tcase_add_test(tc, test_mkdir_p_exact_sets_the_mode);
        tcase_add_test(tc, test_tail_keeps_the_last_cap_bytes);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
