/* test-prompt.c — the inner loop's prompt: the reference's template subset (exact output),
 * its errors with their positions (also through the manifest parser), the bindings of
 * instruction/intent/input, the "# Previous Attempts:" section, AEGIS_ITERATION_HISTORY and
 * every bound. */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "manifest.h"
#include "prompt.h"
#include "util.h"
#include "test-main.h"

/* A plan with this instruction and template (either may be NULL). */
static ManifestPlan *plan(const char *instruction, const char *template) {
        ManifestPlan *p = calloc(1, sizeof *p);

        ck_assert_ptr_nonnull(p);
        p->task_instruction = instruction ? strdup(instruction) : NULL;
        p->prompt_template = template ? strdup(template) : NULL;
        p->inner_loop = true;
        return p;
}

static char *build(const char *instruction, const char *template, const char *input, const char *history) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p = plan(instruction, template);
        struct json_object *h = history ? json_tokener_parse(history) : NULL;
        Error e = ERROR_INIT;
        char *s = NULL;
        int r;

        ck_assert(!history || h);
        r = prompt_build(p->prompt_template, p->task_instruction, input, h, &s, &e);
        json_object_put(h);
        ck_assert_msg(r == 0, "prompt_build: %s", e.message);
        ck_assert_ptr_nonnull(s);
        return s;
}

static void renders(const char *template, const char *input, const char *want) {
        _cleanup_free_ char *s = build("Be brief.", template, input, NULL);
        ck_assert_str_eq(s, want);
}

static void refused(const char *template, const char *message) {
        Error e = ERROR_INIT;
        _cleanup_(manifest_plan_freep) ManifestPlan *p = plan(NULL, template);
        char *s = NULL;

        ck_assert_int_eq(prompt_template_check(template, &e), -EINVAL);
        ck_assert_str_eq(e.message, message);
        /* Rendering refuses it the same way. */
        e = ERROR_INIT;
        ck_assert_int_eq(prompt_build(p->prompt_template, p->task_instruction, "\"x\"", NULL, &s, &e),
                         -EINVAL);
        ck_assert_ptr_null(s);
        ck_assert_str_eq(e.message, message);
}

START_TEST(test_prompt_default_template) {
        _cleanup_free_ char *a = build("Say hi.", NULL, "\"hello\"", NULL);
        _cleanup_free_ char *b = build("Say hi.", NULL, "{\"intent\": \"greet\", \"input\": \"bob\"}", NULL);
        _cleanup_free_ char *c = build(NULL, NULL, NULL, NULL);
        Error e = ERROR_INIT;

        ck_assert_str_eq(a, "Say hi.\n\nUser: hello\nAgent:");
        ck_assert_str_eq(b, "Say hi.\n\nTask: greet\n\nUser: bob\nAgent:");
        ck_assert_str_eq(c, "\n\nUser: \nAgent:");
        ck_assert_int_eq(prompt_template_check(PROMPT_DEFAULT_TEMPLATE, &e), 0);
}
END_TEST

START_TEST(test_prompt_input_binding) {
        /* A string as is; an object's workflow_input, else its input, else the whole object
         * as compact JSON; scalars as their JSON text; null and no input as nothing. */
        renders("[{{input}}]", "\"a \\\"q\\\" <b>\"", "[a \"q\" <b>]");
        renders("[{{input}}]", "{\"input\": {\"k\": [1, 2.5, \"/\"]}, \"other\": 1}",
                "[{\"k\":[1,2.5,\"/\"]}]");
        renders("[{{input}}]", "{\"workflow_input\": \"w\", \"input\": \"i\"}", "[w]");
        renders("[{{input}}]", "{\"input\": null, \"k\": true}", "[{\"input\":null,\"k\":true}]");
        renders("[{{input}}|{{intent}}]", "{\"intent\": \"do\", \"k\": 1}",
                "[{\"intent\":\"do\",\"k\":1}|do]");
        renders("[{{intent}}]", "{\"intent\": 5}", "[]");
        renders("[{{input}}]", "42", "[42]");
        renders("[{{input}}]", "false", "[false]");
        renders("[{{input}}]", "[1, \"a\"]", "[[1,\"a\"]]");
        renders("[{{input}}]", "null", "[]");
        renders("[{{input}}]", "", "[]");
        renders("[{{input}}]", NULL, "[]");
        renders("{{instruction}}", NULL, "Be brief.");
}
END_TEST

START_TEST(test_prompt_template_subset) {
        static const char input[] = "{\"input\": {\"name\": \"Ann\", \"tags\": [\"x\", \"y\"], \"n\": 0, "
                                    "\"e\": \"\", \"a\": [], \"o\": {}, \"f\": false, \"t\": true, "
                                    "\"deep\": {\"k-1\": {\"v_2\": \"z\"}}}}";

        renders("Hi {{input.name}}, {{ input.tags.1 }} {{{input.deep.k-1.v_2}}}!", input, "Hi Ann, y z!");
        renders("{{input.missing}}|{{input.name.x}}|{{input.tags.9}}|{{input.tags.x}}", input, "|||");
        renders("{{#if input.t}}T{{else}}F{{/if}}{{#if input.f}}T{{else}}F{{/if}}", input, "TF");
        renders("{{#if input.n}}1{{/if}}{{#if input.e}}2{{/if}}{{#if input.a}}3{{/if}}{{#if "
                "input.o}}4{{/if}}"
                "{{#if input.missing}}5{{/if}}{{#if input.tags}}6{{/if}}{{#if input.deep}}7{{/if}}",
                input, "67");
        renders("{{#if intent}}i{{else}}{{#if input.name}}n{{#if input.t}}t{{else}}!{{/if}}{{/if}}{{/if}}",
                input, "nt");
        renders("{{#if\tinput.f}}{{#if input.t}}hidden{{else}}hidden too{{/if}}{{/if}}.", input, ".");
        renders("a{{! a comment }}b{{!-- {{input}} }} --}}c", input, "abc");
        renders("{{#if instruction}}{{instruction}}{{/if}}\n{{ instruction\n}}", input,
                "Be brief.\nBe brief.");
        renders("single { braces } and }} stay", input, "single { braces } and }} stay");
        renders("", input, "");
}
END_TEST

START_TEST(test_prompt_template_errors) {
        refused("Hello {{name}}",
                "line 1, column 7 of the template: unknown name \"name\": a template knows {{instruction}}, "
                "{{intent}}, {{input}} and {{input.KEY}}, with {{#if NAME}}…{{else}}…{{/if}}");
        refused("ä\nb {{input.}}",
                "line 2, column 3 of the template: unknown name \"input.\": a template knows "
                "{{instruction}}, {{intent}}, {{input}} and {{input.KEY}}, with {{#if "
                "NAME}}…{{else}}…{{/if}}");
        refused("{{input..a}}",
                "line 1, column 1 of the template: unknown name \"input..a\": a template knows "
                "{{instruction}}, {{intent}}, {{input}} and {{input.KEY}}, with {{#if "
                "NAME}}…{{else}}…{{/if}}");
        refused("{{#if foo}}x{{/if}}",
                "line 1, column 1 of the template: unknown name \"foo\": a template knows {{instruction}}, "
                "{{intent}}, {{input}} and {{input.KEY}}, with {{#if NAME}}…{{else}}…{{/if}}");
        refused("{{#if input intent}}x{{/if}}",
                "line 1, column 1 of the template: unknown name \"input intent\": a template knows "
                "{{instruction}}, {{intent}}, {{input}} and {{input.KEY}}, with {{#if "
                "NAME}}…{{else}}…{{/if}}");
        refused("{{#each input}}{{this}}{{/each}}",
                "line 1, column 1 of the template: unsupported block \"{{#each input}}\": only "
                "{{#if NAME}}…{{/if}} is supported");
        refused("{{#if}}x{{/if}}", "line 1, column 1 of the template: unsupported block \"{{#if}}\": only "
                                   "{{#if NAME}}…{{/if}} is supported");
        refused("{{#if input}}x{{/each}}",
                "line 1, column 15 of the template: unsupported \"{{/each}}\": only {{/if}} closes a block");
        refused("a\n  {{#if input}}x",
                "line 2, column 3 of the template: {{#if}} never closed with {{/if}}");
        refused("x{{/if}}", "line 1, column 2 of the template: {{/if}} without {{#if}}");
        refused("{{else}}", "line 1, column 1 of the template: {{else}} outside {{#if}}…{{/if}}");
        refused("{{#if input}}{{else}}{{else}}{{/if}}",
                "line 1, column 22 of the template: a second {{else}} in one {{#if}}");
        refused("x {{input", "line 1, column 3 of the template: \"{{\" never closed with \"}}\"");
        refused("{{{input}}", "line 1, column 1 of the template: \"{{{\" never closed with \"}}}\"");
        refused("{{{#if input}}}",
                "line 1, column 1 of the template: unknown name \"#if input\": a template "
                "knows {{instruction}}, {{intent}}, {{input}} and {{input.KEY}}, with "
                "{{#if NAME}}…{{else}}…{{/if}}");
        refused("{{ }}", "line 1, column 1 of the template: empty expression");
        refused("{{!-- x }}", "line 1, column 1 of the template: comment never closed with --}}");
        refused("{{~input}}", "line 1, column 1 of the template: unknown name \"~input\": a template knows "
                              "{{instruction}}, "
                              "{{intent}}, {{input}} and {{input.KEY}}, with {{#if NAME}}…{{else}}…{{/if}}");
}
END_TEST

START_TEST(test_prompt_nesting_bound) {
        char deep[32 * 20], ok_[32 * 20];
        size_t n = 0, m = 0;
        Error e = ERROR_INIT;

        for (int i = 0; i < PROMPT_MAX_NESTING; i++)
                n += (size_t) snprintf(ok_ + n, sizeof ok_ - n, "{{#if input}}");
        for (int i = 0; i < PROMPT_MAX_NESTING; i++)
                n += (size_t) snprintf(ok_ + n, sizeof ok_ - n, "{{/if}}");
        ck_assert_int_eq(prompt_template_check(ok_, &e), 0);
        for (int i = 0; i <= PROMPT_MAX_NESTING; i++)
                m += (size_t) snprintf(deep + m, sizeof deep - m, "{{#if input}}");
        ck_assert_int_eq(prompt_template_check(deep, &e), -EINVAL);
        ck_assert_str_eq(e.message, "line 1, column 209 of the template: {{#if}} nested more than 16 deep");
}
END_TEST

START_TEST(test_prompt_manifest_checks_template) {
        static const char head[] = "spec:\n  runtime: {image: busybox}\n  task:\n    prompt_template: ";
        _cleanup_free_ char *bad = asprintf_safe("%s\"ok {{input}}\\n{{#if x}}\"\n", head);
        _cleanup_free_ char *good =
                asprintf_safe("%s\"{{#if intent}}{{intent}}{{/if}} {{input.a}}\"\n", head);
        _cleanup_(manifest_plan_freep) ManifestPlan *p = NULL, *q = NULL;
        _cleanup_free_ char *s = NULL;
        Error e = ERROR_INIT;

        ck_assert_int_eq(manifest_parse(bad, strlen(bad), "a.yaml", &p, &e), -EINVAL);
        ck_assert_ptr_null(p);
        ck_assert_str_eq(
                e.message,
                "a.yaml:4:22: spec.task.prompt_template: line 2, column 1 of the template: unknown name "
                "\"x\": a template knows {{instruction}}, {{intent}}, {{input}} and {{input.KEY}}, "
                "with {{#if NAME}}…{{else}}…{{/if}}");
        ck_assert_int_eq(manifest_parse(good, strlen(good), "a.yaml", &q, &e), 0);
        ck_assert_int_eq(prompt_build(q->prompt_template, q->task_instruction,
                                      "{\"intent\": \"I\", \"input\": {\"a\": \"A\"}}", NULL, &s, &e),
                         0);
        ck_assert_str_eq(s, "I A");
}
END_TEST

START_TEST(test_prompt_history_section) {
        _cleanup_free_ char *s = build(
                "Say hi.", NULL, "\"hello\"",
                "[{\"iteration\": 1, \"output\": \"hi\", \"reason\": \"regex validator: no match\"},"
                " {\"iteration\": 2, \"error\": \"timed out after 30 s\"},"
                " {\"iteration\": 3, \"output\": \"yo\", \"reason\": \"r\", \"feedback\": \"say hello\"}]");
        _cleanup_free_ char *none = build("Say hi.", NULL, "\"hello\"", "[]");
        _cleanup_free_ char *junk = build("Say hi.", NULL, "\"hello\"", "[1, \"x\", null]");

        ck_assert_str_eq(s, "\n\n# Previous Attempts:\n"
                            "\n## Iteration 1:\nOutput:\nhi\nValidation Failed:\nregex validator: no match\n"
                            "\n## Iteration 2:\nError:\ntimed out after 30 s\n"
                            "\n## Iteration 3:\nOutput:\nyo\nFeedback:\nsay hello\n"
                            "\n# Current Attempt:\n"
                            "Say hi.\n\nUser: hello\nAgent:");
        ck_assert_str_eq(none, "Say hi.\n\nUser: hello\nAgent:");
        ck_assert_str_eq(junk, "Say hi.\n\nUser: hello\nAgent:");
}
END_TEST

START_TEST(test_prompt_history_bounded) {
        struct json_object *h = json_object_new_array();
        _cleanup_(manifest_plan_freep) ManifestPlan *p = plan("I", "{{input}}");
        _cleanup_free_ char *big = malloc(100001), *s = NULL;
        Error e = ERROR_INIT;
        const char *o;

        /* Five attempts, each with a 100 000-byte output ending "<end N>" and a long reason
         * starting "<start N>": only the last three, the output's tail, the reason's head. */
        memset(big, 'o', 100000);
        big[100000] = '\0';
        for (int i = 1; i <= 5; i++) {
                struct json_object *item = json_object_new_object();
                char end[16];
                (void) snprintf(end, sizeof end, "<end %d>", i);
                memcpy(big + 100000 - strlen(end), end, strlen(end));
                json_object_object_add(item, "iteration", json_object_new_int(i));
                json_object_object_add(item, "output", json_object_new_string(big));
                (void) snprintf(end, sizeof end, "<start %d>", i);
                memcpy(big, end, strlen(end));
                json_object_object_add(item, "reason", json_object_new_string(big));
                json_object_array_add(h, item);
        }
        ck_assert_int_eq(prompt_build(p->prompt_template, p->task_instruction, "\"in\"", h, &s, &e), 0);
        ck_assert_ptr_null(strstr(s, "## Iteration 2:"));
        ck_assert_ptr_nonnull(strstr(s, "## Iteration 3:\nOutput:\n[… 95904 earlier bytes not shown]\n"));
        ck_assert_ptr_nonnull(strstr(s, "<end 5>\nValidation Failed:\n<start 5>"));
        ck_assert_ptr_nonnull(strstr(s, "o\n[… 95904 more bytes not shown]\n\n# Current Attempt:\nin"));
        ck_assert_ptr_null(strstr(s, "<end 2>"));
        ck_assert_uint_lt(strlen(s), 3 * (2 * PROMPT_HISTORY_MAX_TEXT + 200) + 100);
        /* A tail never starts inside a UTF-8 character. */
        memset(big, 'o', 100000);
        memcpy(big + 100000 - PROMPT_HISTORY_MAX_TEXT - 1, "é", 2);
        json_object_put(h);
        h = json_tokener_parse("[]");
        json_object_array_add(h, json_object_new_object());
        json_object_object_add(json_object_array_get_idx(h, 0), "output", json_object_new_string(big));
        free(s);
        s = NULL;
        ck_assert_int_eq(prompt_build(p->prompt_template, p->task_instruction, NULL, h, &s, &e), 0);
        o = strstr(s, "not shown]\n");
        ck_assert_ptr_nonnull(o);
        ck_assert_ptr_nonnull(strstr(s, "## Iteration ?:\nOutput:\n[… 95905 earlier bytes not shown]\nooo"));
        json_object_put(h);
}
END_TEST

START_TEST(test_prompt_size_bounds_and_input_errors) {
        _cleanup_(manifest_plan_freep) ManifestPlan *p = plan("I", "{{input}}{{input}}{{input}}");
        _cleanup_free_ char *input = malloc(200 * 1024 + 3), *s = NULL;
        Error e = ERROR_INIT;

        input[0] = '"';
        memset(input + 1, 'x', 200 * 1024);
        memcpy(input + 1 + 200 * 1024, "\"", 2);
        ck_assert_int_eq(prompt_build(p->prompt_template, p->task_instruction, input, NULL, &s, &e), -E2BIG);
        ck_assert_ptr_null(s);
        ck_assert_str_eq(e.message,
                         "the prompt would be larger than 524288 bytes: shorten the instruction, the "
                         "template or the input");
        free(p->prompt_template);
        p->prompt_template = strdup("{{input}}{{input}}");
        ck_assert_int_eq(prompt_build(p->prompt_template, p->task_instruction, input, NULL, &s, &e), 0);
        ck_assert_uint_eq(strlen(s), 400 * 1024);
        ck_assert_int_eq(prompt_build(p->prompt_template, p->task_instruction, "{\"a\": ", NULL, &s, &e),
                         -EINVAL);
        ck_assert_str_eq(e.message, "the execution's input is not valid JSON: unexpected end of data");
}
END_TEST

START_TEST(test_prompt_history_env) {
        struct json_object *h = json_tokener_parse(
                "[{\"iteration\": 1, \"output\": \"hi\", \"exit_code\": 0, \"reason\": \"no match\"},"
                " \"junk\", {\"iteration\": 2, \"error\": \"spawn failed\"}]");
        _cleanup_free_ char *s = prompt_history_env(h), *big = malloc(200001);
        struct json_object *empty = json_object_new_array(), *parsed;

        ck_assert_str_eq(
                s, "[{\"iteration\":1,\"output\":\"hi\",\"exit_code\":0,\"validation_failed\":true,"
                   "\"validation_reason\":\"no match\"},{\"iteration\":2,\"error\":\"spawn failed\"}]");
        ck_assert_ptr_null(prompt_history_env(NULL));
        ck_assert_int_eq(errno, 0);
        ck_assert_ptr_null(prompt_history_env(empty));
        json_object_put(h);
        json_object_put(empty);

        /* Five attempts of outputs of control characters (six bytes each in JSON): the last
         * three at most, and never more than PROMPT_HISTORY_ENV_MAX bytes. */
        memset(big, '\x01', 200000);
        big[200000] = '\0';
        h = json_object_new_array();
        for (int i = 1; i <= 5; i++) {
                struct json_object *item = json_object_new_object();
                json_object_object_add(item, "iteration", json_object_new_int(i));
                json_object_object_add(item, "output", json_object_new_string(big));
                json_object_object_add(item, "reason", json_object_new_string(big));
                json_object_object_add(item, "error", json_object_new_string(big));
                json_object_array_add(h, item);
        }
        free(s);
        s = prompt_history_env(h);
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_le(strlen(s), PROMPT_HISTORY_ENV_MAX);
        parsed = json_tokener_parse(s);
        ck_assert_ptr_nonnull(parsed);
        ck_assert_uint_ge(json_object_array_length(parsed), 1);
        ck_assert_uint_le(json_object_array_length(parsed), 3);
        ck_assert_int_eq(json_object_get_int(json_object_object_get(
                                 json_object_array_get_idx(parsed, json_object_array_length(parsed) - 1),
                                 "iteration")),
                         5);
        json_object_put(parsed);
        json_object_put(h);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("prompt");
        TCase *t = tcase_create("core");

        tcase_set_timeout(t, 60);
        tcase_add_test(t, test_prompt_default_template);
        tcase_add_test(t, test_prompt_input_binding);
        tcase_add_test(t, test_prompt_template_subset);
        tcase_add_test(t, test_prompt_template_errors);
        tcase_add_test(t, test_prompt_nesting_bound);
        tcase_add_test(t, test_prompt_manifest_checks_template);
        tcase_add_test(t, test_prompt_history_section);
        tcase_add_test(t, test_prompt_history_bounded);
        tcase_add_test(t, test_prompt_size_bounds_and_input_errors);
        tcase_add_test(t, test_prompt_history_env);
        suite_add_tcase(s, t);
        return s;
}

int main(void) {
        return run_suite(suite());
}
