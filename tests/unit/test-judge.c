/* test-judge.c — judged validators: reading a judge's verdict (and refusing what is not one),
 * the consensus of several judges, and what a judge is asked. */
#include <json-c/json.h>
#include <string.h>

#include "judge.h"
#include "test-main.h"

static int parse(const char *text, JudgeVerdict *v, char **error) {
        *v = (JudgeVerdict){ .model = "default", .weight = 1 };
        *error = NULL;
        return judge_verdict_parse(text, v, error);
}

START_TEST(test_judge_verdict_read_where_models_put_it) {
        JudgeVerdict v;
        char *error;

        ck_assert_int_eq(parse("{\"score\": 0.8, \"confidence\": 1, \"reasoning\": \"fine\"}", &v, &error),
                         0);
        ck_assert(v.answered);
        ck_assert(v.score == 0.8 && v.confidence == 1.0);
        ck_assert_str_eq(v.reasoning, "fine");
        judge_verdict_done(&v);

        ck_assert_int_eq(parse("Here you go:\n```json\n{\"score\":0.1,\"confidence\":0.5,\"reasoning\":\"no "
                               "greeting\"}\n```\nHope it helps.",
                               &v, &error),
                         0);
        ck_assert(v.score == 0.1);
        ck_assert_str_eq(v.reasoning, "no greeting");
        judge_verdict_done(&v);

        ck_assert_int_eq(
                parse("My verdict is {\"score\":0,\"confidence\":0.9,\"reasoning\":\"{braces}\"} done", &v,
                      &error),
                0);
        ck_assert_str_eq(v.reasoning, "{braces}");
        judge_verdict_done(&v);
}
END_TEST

START_TEST(test_judge_malformed_verdict_is_a_failure_not_a_pass) {
        static const struct {
                const char *text, *error;
        } cases[] = {
                { "looks good to me", "the judge answered no JSON verdict: \"looks good to me\"" },
                { "", "the judge answered no JSON verdict: \"\"" },
                { "[0.9]", "the judge answered no JSON verdict: \"[0.9]\"" },
                { "{\"confidence\":1,\"reasoning\":\"x\"}", "the verdict has no \"score\" number" },
                { "{\"score\":\"high\",\"confidence\":1,\"reasoning\":\"x\"}",
                  "the verdict has no \"score\" number" },
                { "{\"score\":7,\"confidence\":1,\"reasoning\":\"x\"}",
                  "the verdict's \"score\" is 7, not between 0 and 1" },
                { "{\"score\":0.5,\"confidence\":-1,\"reasoning\":\"x\"}",
                  "the verdict's \"confidence\" is -1, not between 0 and 1" },
                { "{\"score\":0.5,\"confidence\":1}", "the verdict has no \"reasoning\" string" },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                JudgeVerdict v;
                char *error;

                ck_assert_int_eq(parse(cases[i].text, &v, &error), -EBADMSG);
                ck_assert(!v.answered);
                ck_assert_str_eq(error, cases[i].error);
                free(error);
                judge_verdict_done(&v);
        }
}
END_TEST

/* A judge agent's output is the verdict itself (or its last line), never prose around one. */
START_TEST(test_judge_agent_output_must_be_the_verdict) {
        JudgeVerdict v = { .agent = "reviewer", .weight = 1 };
        char *error = NULL;

        ck_assert_int_eq(judge_agent_verdict_parse(
                                 "{\"score\":0.2,\"confidence\":0.9,\"reasoning\":\"terse\"}\n", &v, &error),
                         0);
        ck_assert(v.answered && v.score == 0.2 && v.confidence == 0.9);
        ck_assert_str_eq(v.reasoning, "terse");
        judge_verdict_done(&v);

        v = (JudgeVerdict){ .agent = "reviewer", .weight = 1 };
        ck_assert_int_eq(judge_agent_verdict_parse("thinking...\nstill thinking\n"
                                                   "{\"score\":1,\"confidence\":1,\"reasoning\":\"ok\"}\n\n",
                                                   &v, &error),
                         0);
        ck_assert_str_eq(v.reasoning, "ok");
        judge_verdict_done(&v);

        v = (JudgeVerdict){ .agent = "reviewer", .weight = 1 };
        ck_assert_int_eq(
                judge_agent_verdict_parse("My verdict is {\"score\":1,\"confidence\":1,\"reasoning\":"
                                          "\"ok\"} as you see",
                                          &v, &error),
                -EBADMSG);
        ck_assert(!v.answered);
        ck_assert_str_eq(error,
                         "the judge agent's output is not a JSON verdict {\"score\", \"confidence\", "
                         "\"reasoning\"}: \"My verdict is {\"score\":1,\"confidence\":1,\"reasoning\":"
                         "\"ok\"} as you see\"");
        free(error);
        error = NULL;
        ck_assert_int_eq(
                judge_agent_verdict_parse("{\"score\":2,\"confidence\":1,\"reasoning\":\"x\"}", &v, &error),
                -EBADMSG);
        ck_assert_str_eq(error, "the verdict's \"score\" is 2, not between 0 and 1");
        free(error);
}
END_TEST

/* What a judge agent's execution is given, and how an agent judge is recorded and named. */
START_TEST(test_judge_agent_input_and_record) {
        _cleanup_free_ char *in = judge_agent_input("is kind", "greet", "{\"who\":\"x\"}", "hello",
                                                    "0f8fad5b-d9cb-469f-a165-70867728950e", 2, 1, 3);
        ManifestJudge js[] = { { .agent = (char *) "reviewer", .weight = 1 } };
        ManifestValidator v = { .type = MANIFEST_VALIDATOR_SEMANTIC,
                                .criteria = (char *) "is kind",
                                .min_score = 0.7,
                                .judges = js,
                                .n_judges = 1 };
        JudgeVerdict said_ = { .agent = "reviewer", .weight = 1, .answered = false };
        JudgeDecision d = {};
        json_object *rec, *j;

        ck_assert_ptr_nonnull(in);
        ck_assert_str_eq(in, "{\"criteria\":\"is kind\",\"task\":\"greet\",\"input\":{\"who\":\"x\"},"
                             "\"output\":\"hello\",\"output_truncated\":false,\"iteration\":2,\"judge_of\":"
                             "{\"execution_id\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"iteration\":2,"
                             "\"validator\":1,\"judge\":3}}");
        said_.execution_id = strdup("e1");
        said_.error = strdup("timeout: gone");
        ck_assert_int_eq(judge_decide(&v, 1, &said_, 1, &d), 0);
        ck_assert(!d.passed);
        ck_assert_str_eq(d.reason,
                         "validator 1 (semantic): the judge (agent reviewer) did not answer: timeout: gone");
        rec = judge_record(&v, 1, &said_, 1, &d);
        ck_assert_ptr_nonnull(rec);
        j = json_object_array_get_idx(json_object_object_get(rec, "judges"), 0);
        ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "agent")), "reviewer");
        ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "execution_id")), "e1");
        ck_assert(!json_object_object_get_ex(j, "model", NULL));
        json_object_put(rec);
        judge_decision_done(&d);
        judge_verdict_done(&said_);
}
END_TEST

START_TEST(test_judge_reasoning_is_bounded) {
        char *text = malloc(JUDGE_REASONING_MAX * 2 + 100), *error;
        JudgeVerdict v;
        size_t o;

        ck_assert_ptr_nonnull(text);
        o = (size_t) snprintf(text, 100, "{\"score\":1,\"confidence\":1,\"reasoning\":\"");
        memset(text + o, 'a', JUDGE_REASONING_MAX * 2);
        memcpy(text + o + JUDGE_REASONING_MAX * 2, "\"}", 3);
        ck_assert_int_eq(parse(text, &v, &error), 0);
        ck_assert_uint_eq(strlen(v.reasoning), JUDGE_REASONING_MAX);
        judge_verdict_done(&v);
        free(text);
}
END_TEST

static JudgeVerdict said(const char *model, double weight, double score, double confidence,
                         const char *why) {
        return (JudgeVerdict){ .model = model,
                               .weight = weight,
                               .answered = true,
                               .score = score,
                               .confidence = confidence,
                               .reasoning = (char *) why };
}

static JudgeVerdict silent(const char *model, const char *error) {
        return (JudgeVerdict){ .model = model, .weight = 1, .error = (char *) error };
}

START_TEST(test_judge_semantic_thresholds_and_feedback) {
        ManifestJudge j = { .weight = 1 };
        ManifestValidator v = { .type = MANIFEST_VALIDATOR_SEMANTIC,
                                .criteria = (char *) "greets",
                                .min_score = 0.7,
                                .min_confidence = 0.5,
                                .judges = &j,
                                .n_judges = 1 };
        JudgeVerdict vs[1];
        JudgeDecision d;

        vs[0] = said("default", 1, 0.9, 0.9, "it greets");
        ck_assert_int_eq(judge_decide(&v, 2, vs, 1, &d), 0);
        ck_assert(d.passed);
        ck_assert_ptr_null(d.reason);

        vs[0] = said("default", 1, 0.2, 0.9, "it does not greet the user");
        ck_assert_int_eq(judge_decide(&v, 2, vs, 1, &d), 0);
        ck_assert(!d.passed);
        ck_assert_str_eq(
                d.reason,
                "validator 2 (semantic): score 0.20 is below min_score 0.70: it does not greet the user");
        judge_decision_done(&d);

        vs[0] = said("default", 1, 0.9, 0.3, "unsure");
        ck_assert_int_eq(judge_decide(&v, 1, vs, 1, &d), 0);
        ck_assert(!d.passed);
        ck_assert_str_eq(d.reason,
                         "validator 1 (semantic): confidence 0.30 is below min_confidence 0.50: unsure");
        judge_decision_done(&d);

        vs[0] = silent("default", "the judge answered no JSON verdict: \"ok\"");
        ck_assert_int_eq(judge_decide(&v, 1, vs, 1, &d), 0);
        ck_assert(!d.passed);
        ck_assert_uint_eq(d.answered, 0);
        ck_assert_str_eq(d.reason, "validator 1 (semantic): the judge (default) did not answer: the judge "
                                   "answered no JSON verdict: \"ok\"");
        judge_decision_done(&d);
}
END_TEST

static ManifestValidator multi(ManifestConsensus c, unsigned min_required, ManifestJudge *js, size_t n) {
        return (ManifestValidator){ .type = MANIFEST_VALIDATOR_MULTI_JUDGE,
                                    .criteria = (char *) "correct",
                                    .min_score = 0.7,
                                    .min_confidence = 0,
                                    .judges = js,
                                    .n_judges = n,
                                    .consensus = c,
                                    .min_judges_required = min_required };
}

START_TEST(test_judge_weighted_average) {
        ManifestJudge js[3] = { { .weight = 3 }, { .weight = 1 }, { .weight = 1 } };
        ManifestValidator v = multi(MANIFEST_CONSENSUS_WEIGHTED_AVERAGE, 1, js, 3);
        JudgeVerdict vs[3] = { said("a", 3, 0.9, 1, "good"), said("b", 1, 0.3, 1, "bad"),
                               said("c", 1, 0.5, 0.5, "meh") };
        JudgeDecision d;

        /* (3·0.9 + 0.3 + 0.5) / 5 = 0.7 */
        ck_assert_int_eq(judge_decide(&v, 1, vs, 3, &d), 0);
        ck_assert(d.passed);
        ck_assert_uint_eq(d.answered, 3);
        ck_assert_double_eq_tol(d.score, 0.7, 1e-9);
        ck_assert_double_eq_tol(d.confidence, 0.9, 1e-9);

        vs[0].weight = 1; /* (0.9 + 0.3 + 0.5) / 3 < 0.7 */
        ck_assert_int_eq(judge_decide(&v, 4, vs, 3, &d), 0);
        ck_assert(!d.passed);
        ck_assert_str_eq(d.reason,
                         "validator 4 (multi_judge, weighted_average): weighted average score 0.57 is "
                         "below min_score 0.70: judge 1 (a, score 0.90): good; judge 2 (b, score "
                         "0.30): bad; judge 3 (c, score 0.50): meh");
        judge_decision_done(&d);
}
END_TEST

START_TEST(test_judge_majority_and_unanimous) {
        ManifestJudge js[3] = { { .weight = 1 }, { .weight = 1 }, { .weight = 1 } };
        ManifestValidator v = multi(MANIFEST_CONSENSUS_MAJORITY, 1, js, 3);
        JudgeVerdict vs[3] = { said("a", 1, 0.9, 1, "good"), said("b", 1, 0.8, 1, "fine"),
                               said("c", 1, 0.1, 1, "bad") };
        JudgeDecision d;

        ck_assert_int_eq(judge_decide(&v, 1, vs, 3, &d), 0);
        ck_assert(d.passed); /* 2 of 3 */

        v.consensus = MANIFEST_CONSENSUS_UNANIMOUS;
        ck_assert_int_eq(judge_decide(&v, 1, vs, 3, &d), 0);
        ck_assert(!d.passed);
        ck_assert_ptr_nonnull(strstr(d.reason, "not unanimous: 2 of 3 judges that answered"));
        ck_assert_ptr_nonnull(strstr(d.reason, "judge 3 (c, score 0.10): bad"));
        judge_decision_done(&d);

        /* A tie is no majority; weights count. */
        v.consensus = MANIFEST_CONSENSUS_MAJORITY;
        vs[1] = said("b", 1, 0.1, 1, "bad too");
        ck_assert_int_eq(judge_decide(&v, 1, vs, 3, &d), 0);
        ck_assert(!d.passed);
        judge_decision_done(&d);
        vs[0].weight = 3;
        ck_assert_int_eq(judge_decide(&v, 1, vs, 3, &d), 0);
        ck_assert(d.passed); /* weight 3 of 5 */

        /* Those that did not answer do not count, either way. */
        vs[0] = said("a", 1, 0.9, 1, "good");
        vs[1] = silent("b", "upstream_network: timeout");
        vs[2] = silent("c", "upstream_network: timeout");
        v.consensus = MANIFEST_CONSENSUS_UNANIMOUS;
        ck_assert_int_eq(judge_decide(&v, 1, vs, 3, &d), 0);
        ck_assert(d.passed);
        ck_assert_uint_eq(d.answered, 1);
}
END_TEST

START_TEST(test_judge_too_few_answers_fail) {
        ManifestJudge js[3] = { { .weight = 1 }, { .weight = 1 }, { .weight = 1 } };
        ManifestValidator v = multi(MANIFEST_CONSENSUS_WEIGHTED_AVERAGE, 2, js, 3);
        JudgeVerdict vs[3] = { said("a", 1, 1, 1, "perfect"), silent("b", "upstream_rate_limit: slow down"),
                               silent("c", "the verdict has no \"reasoning\" string") };
        JudgeDecision d;
        json_object *rec;

        ck_assert_int_eq(judge_decide(&v, 3, vs, 3, &d), 0);
        ck_assert(!d.passed);
        ck_assert_str_eq(d.reason,
                         "validator 3 (multi_judge, weighted_average): only 1 of 3 judges answered "
                         "(min_judges_required 2): judge 1 (a, score 1.00): perfect; judge 2 (b) did "
                         "not answer: upstream_rate_limit: slow down; judge 3 (c) did not answer: the "
                         "verdict has no \"reasoning\" string");

        rec = judge_record(&v, 3, vs, 3, &d);
        ck_assert_ptr_nonnull(rec);
        ck_assert_str_eq(
                json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN),
                "{\"validator\":3,\"type\":\"multi_judge\",\"criteria\":\"correct\",\"passed\":false,"
                "\"score\":1.0,\"confidence\":1.0,\"consensus\":\"weighted_average\",\"reason\":\"validator "
                "3 (multi_judge, weighted_average): only 1 of 3 judges answered (min_judges_required 2): "
                "judge 1 (a, score 1.00): perfect; judge 2 (b) did not answer: upstream_rate_limit: slow "
                "down; judge 3 (c) did not answer: the verdict has no \\\"reasoning\\\" string\","
                "\"judges\":[{\"model\":\"a\",\"weight\":1.0,\"score\":1.0,\"confidence\":1.0,"
                "\"reasoning\":\"perfect\"},{\"model\":\"b\",\"weight\":1.0,\"error\":\"upstream_rate_"
                "limit: slow down\"},{\"model\":\"c\",\"weight\":1.0,\"error\":\"the verdict has no "
                "\\\"reasoning\\\" string\"}]}");
        json_object_put(rec);
        judge_decision_done(&d);
}
END_TEST

START_TEST(test_judge_is_asked_for_the_json_verdict) {
        json_object *m = NULL;
        const char *user;

        ck_assert_int_eq(
                judge_messages("greets the user", "Say hello.", "{\"name\":\"Ann\"}", "Hello Ann", NULL, &m),
                0);
        ck_assert_int_eq(json_object_array_length(m), 2);
        ck_assert_ptr_nonnull(strstr(
                json_object_get_string(json_object_object_get(json_object_array_get_idx(m, 0), "content")),
                "\"score\": <number from 0 to 1"));
        user = json_object_get_string(json_object_object_get(json_object_array_get_idx(m, 1), "content"));
        ck_assert_str_eq(
                user,
                "# Criteria:\ngreets the user\n\n# Task:\nSay hello.\n\n# Input:\n{\"name\":\"Ann\"}\n\n"
                "# Output:\nHello Ann\n");
        json_object_put(m);

        ck_assert_int_eq(judge_messages("c", NULL, "null", "out", NULL, &m), 0);
        user = json_object_get_string(json_object_object_get(json_object_array_get_idx(m, 1), "content"));
        ck_assert_str_eq(user, "# Criteria:\nc\n\n# Output:\nout\n");
        json_object_put(m);

        /* tool_validation: the judge reviews a proposed call. */
        ck_assert_int_eq(judge_messages("no deletions", "Tidy up.", "{\"x\":1}", "{\"command\":\"rm\"}",
                                        "cmd.run", &m),
                         0);
        ck_assert_ptr_nonnull(strstr(
                json_object_get_string(json_object_object_get(json_object_array_get_idx(m, 0), "content")),
                "proposes to call a tool"));
        user = json_object_get_string(json_object_object_get(json_object_array_get_idx(m, 1), "content"));
        ck_assert_str_eq(user,
                         "# Criteria:\nno deletions\n\n# Task:\nTidy up.\n\n# Proposed tool call:\ncmd.run "
                         "{\"command\":\"rm\"}\n");
        json_object_put(m);
}
END_TEST

int main(void) {
        Suite *s = suite_create("judge");
        TCase *tc = tcase_create("judge");

        tcase_add_test(tc, test_judge_verdict_read_where_models_put_it);
        tcase_add_test(tc, test_judge_malformed_verdict_is_a_failure_not_a_pass);
        tcase_add_test(tc, test_judge_reasoning_is_bounded);
        tcase_add_test(tc, test_judge_agent_output_must_be_the_verdict);
        tcase_add_test(tc, test_judge_agent_input_and_record);
        tcase_add_test(tc, test_judge_semantic_thresholds_and_feedback);
        tcase_add_test(tc, test_judge_weighted_average);
        tcase_add_test(tc, test_judge_majority_and_unanimous);
        tcase_add_test(tc, test_judge_too_few_answers_fail);
        tcase_add_test(tc, test_judge_is_asked_for_the_json_verdict);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
