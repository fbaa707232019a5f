/* test-json-util.c — the json-c adders of json-util.h: what each writes, byte for byte as the
 * API answers them, and that a failed add releases its value. */
#include <errno.h>

#include "json-util.h"
#include "test-main.h"

static const char *plain(json_object *o) {
        return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

START_TEST(test_scalars) {
        _cleanup_json_ json_object *o = json_object_new_object();

        ck_assert_ptr_nonnull(o);
        ck_assert_int_eq(json_add_string(o, "s", "x"), 0);
        ck_assert_int_eq(json_add_string(o, "none", NULL), 0);
        ck_assert_int_eq(json_add_int(o, "i", -3), 0);
        ck_assert_int_eq(json_add_uint(o, "u", UINT64_MAX), 0);
        ck_assert_int_eq(json_add_bool(o, "b", true), 0);
        ck_assert_str_eq(plain(o),
                         "{\"s\":\"x\",\"none\":null,\"i\":-3,\"u\":18446744073709551615,\"b\":true}");
}
END_TEST

START_TEST(test_timestamp_rfc3339_and_null_for_never) {
        _cleanup_json_ json_object *o = json_object_new_object();

        ck_assert_ptr_nonnull(o);
        ck_assert_int_eq(json_add_timestamp(o, "at", UINT64_C(1767323045000006)), 0);
        ck_assert_int_eq(json_add_timestamp(o, "never", 0), 0);
        ck_assert_str_eq(plain(o), "{\"at\":\"2026-01-02T03:04:05.000006Z\",\"never\":null}");
}
END_TEST

START_TEST(test_obj_takes_ownership_and_refuses_null) {
        _cleanup_json_ json_object *o = json_object_new_object();

        ck_assert_ptr_nonnull(o);
        ck_assert_int_eq(json_add_obj(o, "a", json_strv((char *[]){ (char *) "x", NULL })), 0);
        ck_assert_int_eq(json_add_obj(o, "missing", NULL), -ENOMEM);
        ck_assert(!json_object_object_get_ex(o, "missing", NULL));
        ck_assert_int_eq(json_add_nullable(o, "maybe", NULL), 0);
        ck_assert_int_eq(json_add_nullable(o, "there", json_object_new_int(1)), 0);
        ck_assert_str_eq(plain(o), "{\"a\":[\"x\"],\"maybe\":null,\"there\":1}");
}
END_TEST

int main(void) {
        Suite *s = suite_create("json-util");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_scalars);
        tcase_add_test(tc, test_timestamp_rfc3339_and_null_for_never);
        tcase_add_test(tc, test_obj_takes_ownership_and_refuses_null);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
