/* test-validate.c — iteration success: exit code, regex and json_schema validators. */
#include <json-c/json.h>
#include <string.h>

#include "test-main.h"
#include "validate.h"

static ManifestValidator regex_validator(const char *pattern, ManifestStream target) {
        ManifestValidator v = { .type = MANIFEST_VALIDATOR_REGEX,
                                .pattern = (char *) pattern,
                                .target = target };
        ck_assert_int_eq(regcomp(&v.regex, pattern, REG_EXTENDED | REG_NOSUB), 0);
        return v;
}

static int schema_check(const char *schema, const char *value, char **reason) {
        json_object *s = json_tokener_parse(schema), *v = json_tokener_parse(value);
        int r;

        ck_assert_ptr_nonnull(s);
        ck_assert_ptr_nonnull(v);
        *reason = NULL;
        r = validate_json_schema(s, v, reason);
        json_object_put(s);
        json_object_put(v);
        return r;
}

START_TEST(test_validate_nonzero_exit_fails_without_validators) {
        char *reason = NULL;

        ck_assert_int_eq(validate_iteration(NULL, 0, 0, "x", "", &reason), 1);
        ck_assert_int_eq(validate_iteration(NULL, 0, 3, "x", "", &reason), 0);
        ck_assert_str_eq(reason, "exit code 3");
        free(reason);
        ck_assert_int_eq(validate_iteration(NULL, 0, -1, NULL, NULL, &reason), 0);
        free(reason);
}
END_TEST

START_TEST(test_validate_regex_on_stdout_and_stderr) {
        ManifestValidator v[2] = { regex_validator("^done [0-9]+$", MANIFEST_STREAM_STDOUT),
                                   regex_validator("warn", MANIFEST_STREAM_STDERR) };
        char *reason = NULL;

        ck_assert_int_eq(validate_iteration(v, 2, 0, "step\ndone 42\n", "a warning", &reason), 0);
        /* REG_NEWLINE is not set: ^ and $ anchor the whole text; the failure names the validator. */
        ck_assert_ptr_nonnull(strstr(reason, "validator 1 (regex on stdout)"));
        free(reason);
        regfree(&v[0].regex);
        v[0] = regex_validator("done [0-9]+", MANIFEST_STREAM_STDOUT);
        ck_assert_int_eq(validate_iteration(v, 2, 0, "step\ndone 42\n", "a warning", &reason), 1);
        ck_assert_int_eq(validate_iteration(v, 2, 0, "step\ndone 42\n", "", &reason), 0);
        ck_assert_ptr_nonnull(strstr(reason, "validator 2 (regex on stderr): /warn/ did not match"));
        free(reason);
        regfree(&v[0].regex);
        regfree(&v[1].regex);
}
END_TEST

START_TEST(test_validate_regex_input_is_bounded) {
        ManifestValidator v = regex_validator("^HEAD", MANIFEST_STREAM_STDOUT);
        size_t n = VALIDATE_REGEX_INPUT_MAX + 100;
        char *big = malloc(n + 1), *reason = NULL;

        memset(big, 'x', n);
        memcpy(big, "HEAD", 4);
        big[n] = '\0';
        /* Only the tail is searched, so the head is out of reach. */
        ck_assert_int_eq(validate_iteration(&v, 1, 0, big, NULL, &reason), 0);
        free(reason);
        free(big);
        regfree(&v.regex);
}
END_TEST

START_TEST(test_validate_exit_code_validator) {
        ManifestValidator v = { .type = MANIFEST_VALIDATOR_EXIT_CODE, .expected_exit_code = 0 };
        char *reason = NULL;

        ck_assert_int_eq(validate_iteration(&v, 1, 0, "", "", &reason), 1);
        ck_assert_int_eq(validate_iteration(&v, 1, 2, "", "", &reason), 0);
        free(reason);
}
END_TEST

START_TEST(test_validate_exit_code_honours_expected) {
        ManifestValidator v = { .type = MANIFEST_VALIDATOR_EXIT_CODE, .expected_exit_code = 3 };
        char *reason = NULL;

        ck_assert_int_eq(validate_iteration(&v, 1, 3, "", "", &reason), 1);
        ck_assert_int_eq(validate_iteration(&v, 1, 0, "", "", &reason), 0);
        ck_assert_str_eq(reason, "validator 1 (exit_code): expected 3, got 0");
        free(reason);
        reason = NULL;
        ck_assert_int_eq(validate_iteration(&v, 1, -1, "", "", &reason), 0);
        ck_assert_str_eq(reason, "the container did not exit normally");
        free(reason);

        /* What keep_container_on_failure asks: did the container exit as it should? */
        ck_assert(validate_exit_code_passes(&v, 1, 3));
        ck_assert(!validate_exit_code_passes(&v, 1, 0));
        ck_assert(validate_exit_code_passes(NULL, 0, 0));
        ck_assert(!validate_exit_code_passes(NULL, 0, 3));
        ck_assert(!validate_exit_code_passes(&v, 1, -1));
}
END_TEST

START_TEST(test_validate_json_schema_subset) {
        const char *schema =
                "{\"type\":\"object\",\"required\":[\"answer\",\"tags\"],\"properties\":{"
                "\"answer\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},"
                "\"tags\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"type\":\"string\",\"minLength\":2,"
                "\"maxLength\":5}},"
                "\"mode\":{\"enum\":[\"fast\",\"slow\"]},"
                "\"note\":{\"type\":[\"string\",\"null\"]}},\"additionalProperties\":false}";
        char *reason;

        ck_assert_int_eq(schema_check(schema,
                                      "{\"answer\":42,\"tags\":[\"ab\"],\"mode\":\"fast\",\"note\":null}",
                                      &reason),
                         1);
        ck_assert_int_eq(schema_check(schema, "{\"answer\":42.0,\"tags\":[\"ab\"]}", &reason), 1);
        ck_assert_int_eq(schema_check(schema, "{\"tags\":[\"ab\"]}", &reason), 0);
        ck_assert_str_eq(reason, "$: missing required property \"answer\"");
        free(reason);
        ck_assert_int_eq(schema_check(schema, "{\"answer\":\"42\",\"tags\":[\"ab\"]}", &reason), 0);
        ck_assert_str_eq(reason, "$.answer: expected integer, got string");
        free(reason);
        ck_assert_int_eq(schema_check(schema, "{\"answer\":101,\"tags\":[\"ab\"]}", &reason), 0);
        ck_assert_str_eq(reason, "$.answer: greater than the maximum 100");
        free(reason);
        ck_assert_int_eq(schema_check(schema, "{\"answer\":1,\"tags\":[\"ab\",\"toolong\"]}", &reason), 0);
        ck_assert_str_eq(reason, "$.tags[1]: longer than maxLength 5");
        free(reason);
        ck_assert_int_eq(schema_check(schema, "{\"answer\":1,\"tags\":[]}", &reason), 0);
        ck_assert_str_eq(reason, "$.tags: fewer items than minItems 1");
        free(reason);
        ck_assert_int_eq(
                schema_check(schema, "{\"answer\":1,\"tags\":[\"ab\"],\"mode\":\"medium\"}", &reason), 0);
        ck_assert_str_eq(reason, "$.mode: not one of [\"fast\",\"slow\"]");
        free(reason);
        ck_assert_int_eq(schema_check(schema, "{\"answer\":1,\"tags\":[\"ab\"],\"extra\":1}", &reason), 0);
        ck_assert_str_eq(reason, "$: unexpected property \"extra\"");
        free(reason);
        /* Lengths count code points, not bytes. */
        ck_assert_int_eq(schema_check("{\"maxLength\":2}", "\"\xc3\xa9\xc3\xa9\"", &reason), 1);
}
END_TEST

START_TEST(test_validate_json_schema_reads_stdout_or_its_last_line) {
        ManifestValidator v = { .type = MANIFEST_VALIDATOR_JSON_SCHEMA };
        char *reason = NULL;

        v.schema = json_tokener_parse("{\"type\":\"object\",\"required\":[\"ok\"]}");
        ck_assert_int_eq(validate_iteration(&v, 1, 0, "{\"ok\": true}\n", "", &reason), 1);
        ck_assert_int_eq(
                validate_iteration(&v, 1, 0, "working...\nstill working\n{\"ok\": 1}\n\n", "", &reason), 1);
        ck_assert_int_eq(validate_iteration(&v, 1, 0, "no json here\n", "", &reason), 0);
        ck_assert_str_eq(reason, "validator 1 (json_schema): stdout is not JSON");
        free(reason);
        ck_assert_int_eq(validate_iteration(&v, 1, 0, "{\"nope\": 1}", "", &reason), 0);
        ck_assert_str_eq(reason, "validator 1 (json_schema): $: missing required property \"ok\"");
        free(reason);
        json_object_put(v.schema);
}
END_TEST

int main(void) {
        Suite *s = suite_create("validate");
        TCase *tc = tcase_create("validate");

        tcase_add_test(tc, test_validate_nonzero_exit_fails_without_validators);
        tcase_add_test(tc, test_validate_regex_on_stdout_and_stderr);
        tcase_add_test(tc, test_validate_regex_input_is_bounded);
        tcase_add_test(tc, test_validate_exit_code_validator);
        tcase_add_test(tc, test_validate_exit_code_honours_expected);
        tcase_add_test(tc, test_validate_json_schema_subset);
        tcase_add_test(tc, test_validate_json_schema_reads_stdout_or_its_last_line);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
