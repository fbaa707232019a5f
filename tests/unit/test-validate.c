/* test-validate.c — iteration success: exit code, regex and json_schema validators. */
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "test-main.h"
#include "validate.h"

static ManifestValidator regex_validator_ml(const char *pattern, ManifestStream target, bool multiline) {
        ManifestValidator v = { .type = MANIFEST_VALIDATOR_REGEX,
                                .pattern = (char *) pattern,
                                .target = target,
                                .multiline = multiline };
        ck_assert_int_eq(regex_compile(pattern, multiline, &v.regex, NULL, 0), 0);
        return v;
}

static ManifestValidator regex_validator(const char *pattern, ManifestStream target) {
        return regex_validator_ml(pattern, target, false);
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
        /* Without multiline, ^ anchors the start of the text; the failure names the validator. */
        ck_assert_ptr_nonnull(strstr(reason, "validator 1 (regex on stdout)"));
        free(reason);
        regex_freep(&v[0].regex);
        v[0] = regex_validator("done [0-9]+", MANIFEST_STREAM_STDOUT);
        ck_assert_int_eq(validate_iteration(v, 2, 0, "step\ndone 42\n", "a warning", &reason), 1);
        ck_assert_int_eq(validate_iteration(v, 2, 0, "step\ndone 42\n", "", &reason), 0);
        ck_assert_ptr_nonnull(strstr(reason, "validator 2 (regex on stderr): /warn/ did not match"));
        free(reason);
        regex_freep(&v[0].regex);
        regex_freep(&v[1].regex);
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
        regex_freep(&v.regex);
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

START_TEST(test_validate_regex_is_pcre2) {
        ManifestValidator v = regex_validator("^done \\d+$", MANIFEST_STREAM_STDOUT);
        char *reason = NULL;

        /* \d is a digit (POSIX ERE has no \d and never matched it); PCRE2's $ also matches
         * before a final newline. */
        ck_assert_int_eq(validate_iteration(&v, 1, 0, "done 42\n", "", &reason), 1);
        ck_assert_int_eq(validate_iteration(&v, 1, 0, "done x\n", "", &reason), 0);
        ck_assert_str_eq(reason, "validator 1 (regex on stdout): /^done \\d+$/ did not match");
        free(reason);
        regex_freep(&v.regex);
        /* Lookahead and non-greedy repetition, which ERE lacks. */
        v = regex_validator("(?=.*ok)res.*?ult", MANIFEST_STREAM_STDOUT);
        ck_assert_int_eq(validate_iteration(&v, 1, 0, "result ok", "", &reason), 1);
        ck_assert_int_eq(validate_iteration(&v, 1, 0, "result", "", &reason), 0);
        free(reason);
        regex_freep(&v.regex);
}
END_TEST

START_TEST(test_validate_regex_multiline_anchors_each_line) {
        ManifestValidator v = regex_validator_ml("^done \\d+$", MANIFEST_STREAM_STDOUT, true);
        char *reason = NULL;

        ck_assert_int_eq(validate_iteration(&v, 1, 0, "step 1\ndone 42\nbye\n", "", &reason), 1);
        ck_assert_int_eq(validate_iteration(&v, 1, 0, "step 1\nnot done 42\n", "", &reason), 0);
        free(reason);
        regex_freep(&v.regex);
        v = regex_validator("^done \\d+$", MANIFEST_STREAM_STDOUT);
        ck_assert_int_eq(validate_iteration(&v, 1, 0, "step 1\ndone 42\nbye\n", "", &reason), 0);
        free(reason);
        regex_freep(&v.regex);
}
END_TEST

START_TEST(test_validate_regex_match_limit_fails_closed_quickly) {
        ManifestValidator v = regex_validator("^(a+)+$", MANIFEST_STREAM_STDOUT);
        char text[64], *reason = NULL;
        struct timespec a, b;

        memset(text, 'a', 40);
        memcpy(text + 40, "!", 2);
        clock_gettime(CLOCK_MONOTONIC, &a);
        ck_assert_int_eq(validate_iteration(&v, 1, 0, text, "", &reason), 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        regex_freep(&v.regex);
        ck_assert_ptr_nonnull(
                strstr(reason, "validator 1 (regex on stdout): /^(a+)+$/ hit the match limit"));
        free(reason);
        /* Backtracking over 2^40 paths would take hours: the limit stops it in about 0.1 s
         * (the bound leaves room for a loaded machine and sanitizers, not for valgrind). */
        ck_assert_int_lt((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 3000);
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
        tcase_add_test(tc, test_validate_regex_is_pcre2);
        tcase_add_test(tc, test_validate_regex_multiline_anchors_each_line);
        tcase_add_test(tc, test_validate_regex_match_limit_fails_closed_quickly);
        tcase_add_test(tc, test_validate_json_schema_reads_stdout_or_its_last_line);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
