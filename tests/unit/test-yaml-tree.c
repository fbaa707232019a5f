/* test-yaml-tree.c — the bounded YAML/JSON tree: positions, limits, typed getters and their
 * exact messages, "did you mean", JSON conversion. */
#include <check.h>
#include <json-c/json.h>
#include <string.h>

#include "util.h"
#include "yaml-tree.h"
#include "test-main.h"

static YamlDocument *parse_ok(const char *text) {
        Error e = ERROR_INIT;
        YamlDocument *d = NULL;
        int r = yaml_tree_parse(text, strlen(text), "t.yaml", NULL, &d, &e);
        ck_assert_msg(r == 0, "parse failed: %s", e.message);
        return d;
}

static int parse_fail(const char *text, size_t len, const YamlLimits *limits, Error *e) {
        YamlDocument *d = NULL;
        int r = yaml_tree_parse(text, len, "t.yaml", limits, &d, e);
        ck_assert_int_lt(r, 0);
        ck_assert_ptr_null(d);
        return r;
}

START_TEST(test_yaml_positions_and_paths) {
        _cleanup_(yaml_document_freep) YamlDocument *d = parse_ok("spec:\n"
                                                                  "  volumes:\n"
                                                                  "    - name: a\n"
                                                                  "      size: 1Gi\n");
        const YamlNode *spec = yaml_mapping_get(d->root, "spec");
        const YamlNode *vols = yaml_mapping_get(spec, "volumes");
        const YamlNode *size = yaml_mapping_get(yaml_sequence_item(vols, 0), "size");
        char path[YAML_PATH_MAX];

        ck_assert_ptr_nonnull(size);
        ck_assert_uint_eq(size->line, 4);
        ck_assert_uint_eq(size->column, 13);
        ck_assert_str_eq(yaml_node_path(size, path, sizeof path), "spec.volumes[0].size");
        ck_assert_str_eq(size->file, "t.yaml");
        ck_assert_str_eq(yaml_node_path(d->root, path, sizeof path), "");
}
END_TEST

START_TEST(test_yaml_error_message_house_format) {
        _cleanup_(yaml_document_freep) YamlDocument *d =
                parse_ok("spec:\n  resources:\n    memory_bytes: lots\n");
        const YamlNode *m = yaml_mapping_get(
                yaml_mapping_get(yaml_mapping_get(d->root, "spec"), "resources"), "memory_bytes");
        Error e = ERROR_INIT;
        uint64_t v = 7;

        ck_assert_int_eq(yaml_node_get_u64(m, 4194304, INT64_MAX, &v, &e), -EINVAL);
        ck_assert_str_eq(
                e.message,
                "t.yaml:3:19: spec.resources.memory_bytes: expected an integer ≥ 4194304, got \"lots\"");
        ck_assert_str_eq(e.field, "spec.resources.memory_bytes");
        ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(test_yaml_integer_getter_bounds_and_quoting) {
        _cleanup_(yaml_document_freep) YamlDocument *d =
                parse_ok("a: 5\nb: \"5\"\nc: -3\nd: 99999999999999999999999\ne: 200\nf: +7\n");
        Error e = ERROR_INIT;
        uint64_t v = 0;

        ck_assert_int_eq(yaml_node_get_u64(yaml_mapping_get(d->root, "a"), 1, 100, &v, &e), 0);
        ck_assert_uint_eq(v, 5);
        ck_assert_int_eq(yaml_node_get_u64(yaml_mapping_get(d->root, "f"), 1, 100, &v, &e), 0);
        ck_assert_uint_eq(v, 7);
        ck_assert_int_eq(yaml_node_get_u64(yaml_mapping_get(d->root, "b"), 1, 100, &v, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:2:4: b: expected an integer ≥ 1, got the string \"5\"");
        ck_assert_int_eq(yaml_node_get_u64(yaml_mapping_get(d->root, "c"), 1, 100, &v, &e), -ERANGE);
        ck_assert_str_eq(e.message, "t.yaml:3:4: c: expected an integer ≥ 1, got \"-3\"");
        ck_assert_int_eq(yaml_node_get_u64(yaml_mapping_get(d->root, "d"), 1, 100, &v, &e), -ERANGE);
        ck_assert_str_eq(e.message,
                         "t.yaml:4:4: d: expected an integer ≤ 100, got \"99999999999999999999999\"");
        ck_assert_int_eq(yaml_node_get_u64(yaml_mapping_get(d->root, "e"), 1, 100, &v, &e), -ERANGE);
        ck_assert_str_eq(e.message, "t.yaml:5:4: e: expected an integer ≤ 100, got \"200\"");
        ck_assert_int_eq(yaml_node_get_u64(yaml_mapping_get(d->root, "e"), 0, 100, &v, &e), -ERANGE);
        ck_assert_int_eq(yaml_node_get_u64(d->root, 0, 100, &v, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:1:1: expected an integer ≤ 100, got a mapping");
}
END_TEST

START_TEST(test_yaml_bool_string_double_size_duration) {
        _cleanup_(yaml_document_freep) YamlDocument *d =
                parse_ok("t: true\nf: False\ny: yes\ns: 'hi'\nn: ~\nx: 0.5\n"
                         "z: 1e-3\nm: 512Mi\nq: 4096\nw: 10m\nbad: 12Zi\nlong: 100000\n");
        Error e = ERROR_INIT;
        bool b = false;
        const char *s;
        double x;
        uint64_t v;

        ck_assert_int_eq(yaml_node_get_bool(yaml_mapping_get(d->root, "t"), &b, &e), 0);
        ck_assert(b);
        ck_assert_int_eq(yaml_node_get_bool(yaml_mapping_get(d->root, "f"), &b, &e), 0);
        ck_assert(!b);
        ck_assert_int_eq(yaml_node_get_bool(yaml_mapping_get(d->root, "y"), &b, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:3:4: y: expected a boolean (true or false), got \"yes\"");
        ck_assert_int_eq(yaml_node_get_string(yaml_mapping_get(d->root, "s"), 0, &s, &e), 0);
        ck_assert_str_eq(s, "hi");
        ck_assert_int_eq(yaml_node_get_string(yaml_mapping_get(d->root, "s"), 1, &s, &e), -ERANGE);
        ck_assert_str_eq(e.message, "t.yaml:4:4: s: expected a string of at most 1 bytes, got 2 bytes");
        ck_assert_int_eq(yaml_node_get_string(yaml_mapping_get(d->root, "n"), 0, &s, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:5:4: n: expected a string, got null");
        ck_assert(yaml_node_is_null(yaml_mapping_get(d->root, "n")));
        ck_assert_int_eq(yaml_node_get_double(yaml_mapping_get(d->root, "x"), 0.001, 64, &x, &e), 0);
        ck_assert(x == 0.5);
        ck_assert_int_eq(yaml_node_get_double(yaml_mapping_get(d->root, "z"), 0.001, 64, &x, &e), 0);
        ck_assert_int_eq(yaml_node_get_double(yaml_mapping_get(d->root, "s"), 0.001, 64, &x, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:4:4: s: expected a number between 0.001 and 64, got \"hi\"");
        ck_assert_int_eq(yaml_node_get_size(yaml_mapping_get(d->root, "m"), 1, UINT64_MAX, &v, &e), 0);
        ck_assert_uint_eq(v, UINT64_C(512) << 20);
        ck_assert_int_eq(yaml_node_get_size(yaml_mapping_get(d->root, "q"), 1, UINT64_MAX, &v, &e), 0);
        ck_assert_uint_eq(v, 4096);
        ck_assert_int_eq(yaml_node_get_size(yaml_mapping_get(d->root, "bad"), 4194304, UINT64_MAX, &v, &e),
                         -EINVAL);
        ck_assert_str_eq(e.message,
                         "t.yaml:11:6: bad: expected a size ≥ 4194304 bytes (bytes, or with a suffix "
                         "like \"512Mi\", \"1Gi\"), got \"12Zi\"");
        ck_assert_int_eq(yaml_node_get_duration_secs(yaml_mapping_get(d->root, "w"), 1, 86400, &v, &e), 0);
        ck_assert_uint_eq(v, 600);
        ck_assert_int_eq(yaml_node_get_duration_secs(yaml_mapping_get(d->root, "long"), 1, 86400, &v, &e),
                         -ERANGE);
        ck_assert_str_eq(e.message,
                         "t.yaml:12:7: long: expected a duration ≤ 86400 s (seconds, or like \"600s\", "
                         "\"10m\", \"1h30m\"), got \"100000\"");
}
END_TEST

START_TEST(test_yaml_json_input_is_accepted) {
        _cleanup_(yaml_document_freep) YamlDocument *d =
                parse_ok("{\"a\":{\"b\":[1,2.5,\"x\\/y\",true,null]},\t\"c\": \"\\u00e9\"}");
        const YamlNode *b = yaml_mapping_get(yaml_mapping_get(d->root, "a"), "b");
        Error e = ERROR_INIT;
        uint64_t v;

        ck_assert_ptr_nonnull(b);
        ck_assert_uint_eq(b->n_items, 5);
        ck_assert_int_eq(yaml_node_get_u64(yaml_sequence_item(b, 0), 0, 10, &v, &e), 0);
        ck_assert_str_eq(yaml_sequence_item(b, 2)->value, "x/y");
        ck_assert(yaml_sequence_item(b, 2)->quoted);
        ck_assert_str_eq(yaml_mapping_get(d->root, "c")->value, "é");
}
END_TEST

START_TEST(test_yaml_to_json_keeps_types) {
        _cleanup_(yaml_document_freep) YamlDocument *d =
                parse_ok("a: 1\nb: \"1\"\nc: [true, null, 2.5, x]\nd: {e: 'f'}\ng: !!str 12\nh: .inf\n");
        struct json_object *j = NULL;
        Error e = ERROR_INIT;

        ck_assert_int_eq(yaml_node_to_json(d->root, &j, &e), 0);
        ck_assert_str_eq(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
                         "{\"a\":1,\"b\":\"1\",\"c\":[true,null,2.5,\"x\"],\"d\":{\"e\":\"f\"},\"g\":\"12\","
                         "\"h\":\".inf\"}");
        json_object_put(j);
}
END_TEST

START_TEST(test_yaml_aliases_refused) {
        static const char bomb[] = "a: &a [x, x, x, x, x, x, x, x, x]\n"
                                   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
        Error e = ERROR_INIT;

        ck_assert_int_eq(parse_fail(bomb, strlen(bomb), NULL, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:2:8: aliases (*a) are not supported: write the value out");
}
END_TEST

START_TEST(test_yaml_limits) {
        YamlLimits l = YAML_LIMITS_DEFAULT;
        _cleanup_free_ char *deep = NULL, *big = NULL, *many = NULL;
        Error e = ERROR_INIT;
        size_t n = 100000;

        deep = malloc(n + 1);
        memset(deep, '[', n);
        deep[n] = 0;
        ck_assert_int_eq(parse_fail(deep, n, NULL, &e), -E2BIG);
        ck_assert_str_eq(e.message, "t.yaml:1:65: nesting deeper than 64 levels");

        big = malloc(300 * 1024);
        memcpy(big, "a: ", 3);
        memset(big + 3, 'x', 300 * 1024 - 4);
        big[300 * 1024 - 1] = 0;
        ck_assert_int_eq(parse_fail(big, strlen(big), NULL, &e), -E2BIG);
        ck_assert_str_eq(e.message, "t.yaml:1:4: string longer than 262144 bytes");

        l.max_input = 100;
        ck_assert_int_eq(parse_fail(big, strlen(big), &l, &e), -EMSGSIZE);
        ck_assert_str_eq(e.message, "t.yaml: document is 307199 bytes, more than the limit of 100 bytes");

        l = YAML_LIMITS_DEFAULT;
        l.max_nodes = 10;
        ck_assert_int_eq(parse_fail("[1,2,3,4,5,6,7,8,9,10,11]", 25, &l, &e), -E2BIG);
        ck_assert_str_eq(e.message, "t.yaml:1:20: document has more than 10 nodes");

        /* Many keys: bounded by max_nodes, and duplicate detection stays fast. */
        many = malloc(1024 * 1024);
        size_t o = 0;
        for (unsigned i = 0; i < 40000; i++)
                o += (size_t) snprintf(many + o, 1024 * 1024 - o, "k%u: 1\n", i);
        Error e2 = ERROR_INIT;
        YamlDocument *d = NULL;
        ck_assert_int_eq(yaml_tree_parse(many, o, "t.yaml", NULL, &d, &e2), -E2BIG);
        ck_assert_ptr_null(d);
}
END_TEST

START_TEST(test_yaml_bad_input_messages) {
        Error e = ERROR_INIT;

        ck_assert_int_eq(parse_fail("a: 1\na: 2\n", 10, NULL, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:2:1: a: duplicate key (first given at line 1)");
        ck_assert_int_eq(parse_fail("a: \"\\0\"\n", 8, NULL, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:1:4: string contains U+0000: control characters (but tab and "
                                    "newline) and line or paragraph separators are not allowed");
        ck_assert_int_eq(parse_fail("a: \xff\xfe\n", 6, NULL, &e), -EBADMSG);
        ck_assert(startswith(e.message, "t.yaml: invalid input at byte 3: "));
        ck_assert_int_eq(parse_fail("a: [1, 2\n", 9, NULL, &e), -EBADMSG);
        ck_assert(startswith(e.message, "t.yaml:2:1: invalid YAML: "));
        ck_assert_int_eq(parse_fail("a: 1\n---\nb: 2\n", 14, NULL, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:2:1: more than one document (\"---\"): give exactly one");
        ck_assert_int_eq(parse_fail("? [a]\n: 1\n", 10, NULL, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:1:3: mapping keys must be plain strings, not collections");
        ck_assert_int_eq(parse_fail("\"a\\tb\": 1\n", 10, NULL, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:1:1: mapping keys must not contain control characters");
        ck_assert_int_eq(parse_fail("\"\": 1\n", 6, NULL, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:1:1: mapping keys must not be empty");
}
END_TEST

START_TEST(test_yaml_empty_document_is_null) {
        _cleanup_(yaml_document_freep) YamlDocument *d = parse_ok("");
        Error e = ERROR_INIT;

        ck_assert(yaml_node_is_null(d->root));
        ck_assert_int_eq(yaml_node_expect(d->root, YAML_TREE_MAPPING, &e), -EINVAL);
        ck_assert_str_eq(e.message, "t.yaml:1:1: expected a mapping (key: value pairs), got null");
}
END_TEST

START_TEST(test_yaml_unknown_key_did_you_mean) {
        static const char *const known[] = { "memory_bytes", "cpu_quota", "timeout_secs", NULL };
        _cleanup_(yaml_document_freep) YamlDocument *d = parse_ok("r:\n  cpu_quota: 1\n  memroy_bytes: 5\n");
        _cleanup_(yaml_document_freep) YamlDocument *d2 = parse_ok("r:\n  zzz: 1\n");
        Error e = ERROR_INIT;

        ck_assert_int_eq(yaml_mapping_check_keys(yaml_mapping_get(d->root, "r"), known, &e), -EINVAL);
        ck_assert_str_eq(e.message,
                         "t.yaml:3:3: r.memroy_bytes: unknown key, did you mean \"memory_bytes\"?");
        ck_assert_str_eq(e.field, "r.memroy_bytes");
        ck_assert_int_eq(yaml_mapping_check_keys(yaml_mapping_get(d2->root, "r"), known, &e), -EINVAL);
        ck_assert_str_eq(
                e.message,
                "t.yaml:2:3: r.zzz: unknown key (known keys: memory_bytes, cpu_quota, timeout_secs)");
}
END_TEST

START_TEST(test_suggest_closest) {
        static const char *const c[] = { "environment", "env", "image", "image_pull_policy", NULL };
        ck_assert_str_eq(suggest_closest("enviroment", c), "environment");
        ck_assert_str_eq(suggest_closest("imgae", c), "image");
        ck_assert_str_eq(suggest_closest("Image", c), "image");
        ck_assert_str_eq(suggest_closest("evn", c), "env");
        ck_assert_ptr_null(suggest_closest("network", c));
        ck_assert_ptr_null(suggest_closest("", c));
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("yaml-tree");
        TCase *t = tcase_create("core");

        tcase_set_timeout(t, 60);
        tcase_add_test(t, test_yaml_positions_and_paths);
        tcase_add_test(t, test_yaml_error_message_house_format);
        tcase_add_test(t, test_yaml_integer_getter_bounds_and_quoting);
        tcase_add_test(t, test_yaml_bool_string_double_size_duration);
        tcase_add_test(t, test_yaml_json_input_is_accepted);
        tcase_add_test(t, test_yaml_to_json_keeps_types);
        tcase_add_test(t, test_yaml_aliases_refused);
        tcase_add_test(t, test_yaml_limits);
        tcase_add_test(t, test_yaml_bad_input_messages);
        tcase_add_test(t, test_yaml_empty_document_is_null);
        tcase_add_test(t, test_yaml_unknown_key_did_you_mean);
        tcase_add_test(t, test_suggest_closest);
        suite_add_tcase(s, t);
        return s;
}

int main(void) {
        return run_suite(suite());
}
