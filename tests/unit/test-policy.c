/* test-policy.c — security contexts: parsed from aegis-config.yaml (config-security.c) and
 * their decisions (policy.c): deny_list first, tool patterns, path, command and domain
 * allow-lists, the built-in default, an unknown default_context refused. */
#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy.h"
#include "test-main.h"
#include "util.h"

static const char config_text[] = "security:\n"
                                  "  default_context: restricted\n"
                                  "  contexts:\n"
                                  "    - name: restricted\n"
                                  "      capabilities:\n"
                                  "        - tool_pattern: \"fs.*\"\n"
                                  "          path_allowlist: [/workspace/src, /data]\n"
                                  "        - tool_pattern: cmd.run\n"
                                  "          command_allowlist: [make, /usr/bin/python3]\n"
                                  "          max_concurrent: 3\n"
                                  "        - tool_pattern: web.fetch\n"
                                  "          domain_allowlist: [pypi.org]\n"
                                  "      deny_list: [fs.delete]\n"
                                  "    - name: nothing\n";

static Config *load(const char *text, Error *e) {
        Config *c = NULL;
        if (config_load_string("config.yaml", text, strlen(text), &c, e) < 0)
                return NULL;
        return c;
}

/* The decision for tool with args (JSON); *reason kept for inspection. */
static char *reason;
static int decide(const ConfigSecurityContext *x, const char *tool, const char *args_json) {
        json_object *a = args_json ? json_tokener_parse(args_json) : NULL;
        int k;
        free(reason);
        reason = NULL;
        k = policy_check(x, tool, a, &reason);
        json_object_put(a);
        return k;
}

START_TEST(test_patterns) {
        ck_assert(policy_pattern_matches("*", "cmd.run"));
        ck_assert(policy_pattern_matches("fs.*", "fs.read"));
        ck_assert(!policy_pattern_matches("fs.*", "fs."));
        ck_assert(!policy_pattern_matches("fs.*", "fsx.read"));
        ck_assert(!policy_pattern_matches("fs.*", "cmd.run"));
        ck_assert(policy_pattern_matches("cmd.run", "cmd.run"));
        ck_assert(!policy_pattern_matches("cmd.run", "cmd.runx"));
}
END_TEST

START_TEST(test_contexts_decide_by_deny_list_then_capabilities) {
        Error e = ERROR_INIT;
        _cleanup_(config_freep) Config *c = load(config_text, &e);
        const ConfigSecurityContext *x, *none, *def;

        ck_assert_msg(c, "%s", e.message);
        x = config_security_context(c, NULL);
        ck_assert_ptr_nonnull(x);
        ck_assert_str_eq(x->name, "restricted");
        none = config_security_context(c, "nothing");
        def = config_security_context(c, "default");
        ck_assert_ptr_nonnull(def); /* the built-in is still there */
        ck_assert_ptr_null(config_security_context(c, "nope"));

        /* offers */
        ck_assert(policy_offers(x, "fs.read"));
        ck_assert(!policy_offers(x, "fs.delete"));
        ck_assert(policy_offers(x, "cmd.run"));
        ck_assert(!policy_offers(x, "web.search"));
        ck_assert(!policy_offers(none, "cmd.run"));
        ck_assert(policy_offers(def, "cmd.run"));
        ck_assert(policy_offers(def, "web.search"));

        /* deny_list first */
        ck_assert_int_eq(decide(x, "fs.delete", "{\"path\":\"src/a\"}"), 1);
        ck_assert_ptr_nonnull(strstr(reason, "deny_list"));
        /* paths */
        ck_assert_int_eq(decide(x, "fs.read", "{\"path\":\"src/a.c\"}"), 0);
        ck_assert_int_eq(decide(x, "fs.read", "{\"path\":\"/workspace/src\"}"), 0);
        ck_assert_int_eq(decide(x, "fs.read", "{\"path\":\"/data/x\"}"), 0);
        ck_assert_int_eq(decide(x, "fs.read", "{\"path\":\"src/../secret\"}"), 1);
        ck_assert_ptr_nonnull(strstr(reason, "/workspace/secret"));
        ck_assert_int_eq(decide(x, "fs.read", "{\"path\":\"/workspace/srcx\"}"), 1);
        ck_assert_int_eq(decide(x, "fs.list", "{}"), 1); /* default /workspace */
        ck_assert_int_eq(decide(x, "fs.read", "{\"path\":\"../../..\"}"), 1);
        /* commands: the first word, exactly */
        ck_assert_int_eq(decide(x, "cmd.run", "{\"command\":\"make\",\"args\":[\"all\"]}"), 0);
        ck_assert_int_eq(decide(x, "cmd.run", "{\"command\":\"make -j2 all\"}"), 0);
        ck_assert_int_eq(decide(x, "cmd.run", "{\"command\":\"make;rm -rf /\"}"), 0);
        ck_assert_int_eq(decide(x, "cmd.run", "{\"command\":\"rm\",\"args\":[\"-rf\"]}"), 1);
        ck_assert_ptr_nonnull(strstr(reason, "command 'rm' is not in the command_allowlist"));
        ck_assert_int_eq(decide(x, "cmd.run", "{\"command\":\"python3\"}"), 1);
        ck_assert_int_eq(decide(x, "cmd.run", "{\"command\":\"/usr/bin/python3\",\"args\":[]}"), 0);
        ck_assert_int_eq(decide(x, "cmd.run", "{\"command\":\"make all\",\"args\":[]}"), 1);
        ck_assert_int_eq(decide(x, "cmd.run", NULL), 1);
        /* domains */
        ck_assert_int_eq(decide(x, "web.fetch", "{\"url\":\"https://files.pypi.org/x\"}"), 0);
        ck_assert_int_eq(decide(x, "web.fetch", "{\"url\":\"https://evil.example/x\"}"), 1);
        ck_assert_ptr_nonnull(strstr(reason, "evil.example"));
        ck_assert_int_eq(decide(x, "web.fetch", "{\"url\":\"not a url\"}"), 1);
        /* no capability */
        ck_assert_int_eq(decide(x, "web.search", "{}"), 1);
        ck_assert_ptr_nonnull(strstr(reason, "grants no capability"));
        ck_assert_int_eq(decide(none, "cmd.run", "{\"command\":\"ls\"}"), 1);
        /* the built-in default allows everything */
        ck_assert_int_eq(decide(def, "cmd.run", "{\"command\":\"rm\"}"), 0);
        ck_assert_int_eq(decide(def, "fs.read", "{\"path\":\"/anything\"}"), 0);
        ck_assert_uint_eq(policy_max_concurrent(x, "cmd.run"), 3);
        ck_assert_uint_eq(policy_max_concurrent(x, "fs.read"), 0);
        free(reason);
        reason = NULL;
}
END_TEST

START_TEST(test_config_errors_name_the_key) {
        Error e = ERROR_INIT;
        Config *c;

        c = load("security:\n  default_context: ghost\n", &e);
        ck_assert_ptr_null(c);
        ck_assert_ptr_nonnull(strstr(e.message, "no context \"ghost\""));
        error_clear(&e);
        c = load("security:\n  contexts:\n    - name: a\n    - name: a\n", &e);
        ck_assert_ptr_null(c);
        ck_assert_ptr_nonnull(strstr(e.message, "a second context named \"a\""));
        error_clear(&e);
        c = load("security:\n  contexts:\n    - name: a\n      capabilities:\n        - tool_pattern: \"f "
                 "s\"\n",
                 &e);
        ck_assert_ptr_null(c);
        ck_assert_ptr_nonnull(strstr(e.message, "expected \"*\""));
        error_clear(&e);
        c = load("security:\n  contexts:\n    - name: a\n      capabilities:\n        - tool_pattern: "
                 "web.fetch\n"
                 "          domain_allowlist: [\"http://x\"]\n",
                 &e);
        ck_assert_ptr_null(c);
        error_clear(&e);
        /* No security section: the built-in default, and it is the default context. */
        c = load("llm:\n  max_tool_rounds: 5\n", &e);
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(config_security_context(c, NULL)->name, "default");
        config_free(c);
}
END_TEST

int main(void) {
        Suite *s = suite_create("policy");
        TCase *tc = tcase_create("contexts");

        tcase_add_test(tc, test_patterns);
        tcase_add_test(tc, test_contexts_decide_by_deny_list_then_capabilities);
        tcase_add_test(tc, test_config_errors_name_the_key);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
