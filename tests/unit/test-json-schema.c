/* test-json-schema.c — JSON Schema (draft 2020-12): each keyword with a conforming and a
 * non-conforming value, the bounds, and the check at submission (json-schema.h). */
#include <json-c/json.h>
#include <string.h>

#include "json-schema.h"
#include "test-main.h"
#include "yaml-tree.h"

static int validate(const char *schema, const char *value, char **reason) {
        json_object *s = json_tokener_parse(schema), *v = json_tokener_parse(value);
        int r;

        ck_assert_msg(s != NULL, "bad test schema: %s", schema);
        ck_assert_msg(v != NULL || strcmp(value, "null") == 0, "bad test value: %s", value);
        *reason = NULL;
        r = json_schema_validate(s, v, reason);
        json_object_put(s);
        json_object_put(v);
        return r;
}

#define PASSES(schema, value)                                                                     \
        do {                                                                                      \
                char *_why = NULL;                                                                \
                int _r = validate(schema, value, &_why);                                          \
                ck_assert_msg(_r == 1, "%s should pass %s, got %d: %s", value, schema, _r, _why); \
        } while (0)

#define FAILS(schema, value, expected)                               \
        do {                                                         \
                char *_why = NULL;                                   \
                ck_assert_int_eq(validate(schema, value, &_why), 0); \
                ck_assert_msg(_why &&strstr(_why, expected),         \
                              "%s against %s: got \"%s\", "          \
                              "expected \"%s\"",                     \
                              value, schema, _why, expected);        \
                free(_why);                                          \
        } while (0)

START_TEST(test_json_schema_type) {
        PASSES("{\"type\":\"object\"}", "{}");
        PASSES("{\"type\":\"array\"}", "[]");
        PASSES("{\"type\":\"string\"}", "\"x\"");
        PASSES("{\"type\":\"number\"}", "1.5");
        PASSES("{\"type\":\"integer\"}", "1.0"); /* a number with zero fraction is an integer */
        PASSES("{\"type\":\"boolean\"}", "false");
        PASSES("{\"type\":\"null\"}", "null");
        PASSES("{\"type\":[\"string\",\"null\"]}", "null");
        FAILS("{\"type\":\"integer\"}", "1.5", "$: expected integer, got number");
        FAILS("{\"type\":\"object\"}", "[]", "$: expected object, got array");
        FAILS("{\"type\":[\"string\",\"null\"]}", "3", "$: expected [\"string\",\"null\"], got integer");
        PASSES("true", "{\"anything\":1}");
        FAILS("false", "1", "$: no value is allowed here (schema false)");
}
END_TEST

START_TEST(test_json_schema_objects) {
        const char *s = "{\"type\":\"object\",\"required\":[\"answer\"],"
                        "\"properties\":{\"answer\":{\"type\":\"integer\"},\"note\":{\"type\":\"string\"}},"
                        "\"additionalProperties\":false}";

        PASSES(s, "{\"answer\":42,\"note\":\"x\"}");
        FAILS(s, "{\"note\":\"x\"}", "$: missing required property \"answer\"");
        FAILS(s, "{\"answer\":\"42\"}", "$.answer: expected integer, got string");
        FAILS(s, "{\"answer\":1,\"extra\":1}",
              "$: unexpected property \"extra\" (additionalProperties is false)");
        /* additionalProperties as a schema applies to the properties the others do not name. */
        s = "{\"properties\":{\"a\":{}},\"patternProperties\":{\"^x-\\\\d+$\":{\"type\":\"string\"}},"
            "\"additionalProperties\":{\"type\":\"integer\"}}";
        PASSES(s, "{\"a\":\"any\",\"x-1\":\"s\",\"b\":2}");
        FAILS(s, "{\"x-12\":3}", "$.x-12: expected string, got integer");
        FAILS(s, "{\"b\":\"two\"}", "$.b: expected integer, got string");
        FAILS(s, "{\"b c\":\"two\"}", "$[\"b c\"]: expected integer, got string");
        s = "{\"minProperties\":1,\"maxProperties\":2}";
        PASSES(s, "{\"a\":1}");
        FAILS(s, "{}", "$: fewer properties than minProperties 1 (0)");
        FAILS(s, "{\"a\":1,\"b\":2,\"c\":3}", "$: more properties than maxProperties 2 (3)");
        s = "{\"propertyNames\":{\"pattern\":\"^[a-z]+$\"}}";
        PASSES(s, "{\"abc\":1}");
        FAILS(s, "{\"aBc\":1}", "$.aBc: the property name does not conform to propertyNames");
        s = "{\"dependentRequired\":{\"card\":[\"billing\"]}}";
        PASSES(s, "{\"card\":1,\"billing\":2}");
        PASSES(s, "{\"billing\":2}");
        FAILS(s, "{\"card\":1}", "$: property \"card\" requires property \"billing\"");
}
END_TEST

START_TEST(test_json_schema_arrays) {
        const char *s = "{\"type\":\"array\",\"minItems\":1,\"maxItems\":3,\"items\":{\"type\":\"string\"}}";

        PASSES(s, "[\"a\",\"b\"]");
        FAILS(s, "[]", "$: fewer items than minItems 1 (0)");
        FAILS(s, "[\"a\",\"b\",\"c\",\"d\"]", "$: more items than maxItems 3 (4)");
        FAILS(s, "[\"a\",2]", "$[1]: expected string, got integer");
        /* prefixItems checks positions; items the rest. */
        s = "{\"prefixItems\":[{\"type\":\"integer\"},{\"type\":\"string\"}],\"items\":false}";
        PASSES(s, "[1,\"a\"]");
        PASSES(s, "[1]");
        FAILS(s, "[\"a\"]", "$[0]: expected integer, got string");
        FAILS(s, "[1,\"a\",true]", "$[2]: no value is allowed here");
        s = "{\"uniqueItems\":true}";
        PASSES(s, "[1,2,{\"a\":1},{\"a\":2}]");
        FAILS(s, "[1,1.0]", "$: items 0 and 1 are equal but uniqueItems is true");
        FAILS(s, "[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1}]", "items 0 and 1 are equal");
        s = "{\"contains\":{\"type\":\"integer\"},\"minContains\":2,\"maxContains\":3}";
        PASSES(s, "[1,\"x\",2]");
        FAILS(s, "[1,\"x\"]", "$: 1 items match contains, at least 2 must");
        FAILS(s, "[1,2,3,4]", "$: 4 items match contains, at most 3 may");
        FAILS("{\"contains\":{\"const\":5}}", "[1,2]", "$: 0 items match contains, at least 1 must");
}
END_TEST

START_TEST(test_json_schema_enum_const) {
        PASSES("{\"enum\":[\"fast\",\"slow\",1]}", "\"slow\"");
        PASSES("{\"enum\":[\"fast\",\"slow\",1]}", "1.0");
        FAILS("{\"enum\":[\"fast\",\"slow\"]}", "\"medium\"",
              "$: \"medium\" is not one of [\"fast\",\"slow\"]");
        PASSES("{\"const\":{\"a\":[1,2],\"b\":null}}", "{\"b\":null,\"a\":[1,2.0]}");
        FAILS("{\"const\":{\"a\":[1,2]}}", "{\"a\":[2,1]}", "$: expected {\"a\":[1,2]}, got {\"a\":[2,1]}");
        FAILS("{\"const\":\"done\"}", "\"Done\"", "$: expected \"done\", got \"Done\"");
}
END_TEST

START_TEST(test_json_schema_numbers) {
        const char *s = "{\"minimum\":1,\"maximum\":100,\"exclusiveMinimum\":0,\"exclusiveMaximum\":100.5}";

        PASSES(s, "1");
        PASSES(s, "100");
        FAILS(s, "0.5", "$: 0.5 is less than the minimum 1");
        FAILS(s, "101", "$: 101 is greater than the maximum 100");
        FAILS("{\"exclusiveMinimum\":0}", "0", "$: 0 is not greater than the exclusiveMinimum 0");
        FAILS("{\"exclusiveMaximum\":10}", "10", "$: 10 is not less than the exclusiveMaximum 10");
        PASSES("{\"multipleOf\":0.1}", "0.3");
        PASSES("{\"multipleOf\":5}", "25");
        FAILS("{\"multipleOf\":5}", "26", "$: 26 is not a multiple of 5");
        /* Integers beyond a double's precision are compared exactly. */
        FAILS("{\"maximum\":9007199254740992}", "9007199254740993", "greater than the maximum");
        /* Number keywords do not apply to other types. */
        PASSES("{\"minimum\":5}", "\"3\"");
}
END_TEST

START_TEST(test_json_schema_strings) {
        PASSES("{\"minLength\":2,\"maxLength\":2}", "\"\xc3\xa9\xc3\xa9\""); /* code points, not bytes */
        FAILS("{\"minLength\":3}", "\"ab\"", "$: shorter than minLength 3 (2 characters)");
        FAILS("{\"maxLength\":1}", "\"ab\"", "$: longer than maxLength 1 (2 characters)");
        /* pattern is PCRE2 and unanchored: \d is a digit. */
        PASSES("{\"pattern\":\"\\\\d{3}\"}", "\"abc123\"");
        FAILS("{\"pattern\":\"^\\\\d+$\"}", "\"12a\"", "$: \"12a\" does not match the pattern /^\\d+$/");
}
END_TEST

START_TEST(test_json_schema_formats) {
        static const struct {
                const char *format, *good, *bad;
        } cases[] = {
                { "date-time", "\"2026-12-05T18:01:26.5+01:00\"", "\"2026-02-30T18:01:26Z\"" },
                { "date-time", "\"2024-02-29t00:00:00z\"", "\"2026-12-05 18:01:26Z\"" },
                { "date", "\"2024-02-29\"", "\"2023-02-29\"" },
                { "time", "\"23:59:60Z\"", "\"24:00:00Z\"" },
                { "email", "\"agent@example.org\"", "\"agent@@example.org\"" },
                { "email", "\"a.b+c@x.y\"", "\"no at sign\"" },
                { "uri", "\"https://example.org/a?b=%20c\"", "\"/relative/path\"" },
                { "uri", "\"urn:isbn:0451450523\"", "\"http://a b\"" },
                { "uuid", "\"770ccb2e-1b7a-4d8e-9f00-0123456789ab\"",
                  "\"770ccb2e1b7a4d8e9f000123456789ab\"" },
                { "ipv4", "\"192.168.0.1\"", "\"256.1.1.1\"" },
                { "ipv4", "\"10.0.0.1\"", "\"010.0.0.1\"" },
                { "ipv6", "\"::1\"", "\"1:::2\"" },
                { "ipv6", "\"fe80::1:2\"", "\"192.168.0.1\"" },
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char schema[64], expected[128];
                snprintf(schema, sizeof schema, "{\"format\":\"%s\"}", cases[i].format);
                snprintf(expected, sizeof expected, "is not a valid %s", cases[i].format);
                PASSES(schema, cases[i].good);
                FAILS(schema, cases[i].bad, expected);
        }
        PASSES("{\"format\":\"email\"}", "42"); /* formats apply to strings only */
}
END_TEST

START_TEST(test_json_schema_combinators) {
        const char *s = "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}";

        PASSES(s, "\"x\"");
        PASSES(s, "1");
        FAILS(s, "true",
              "$: matches none of the 2 schemas of anyOf (the first says: $: expected string, got boolean)");
        s = "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":10}]}";
        PASSES(s, "5");
        PASSES(s, "10.5");
        FAILS(s, "12", "$: matches 2 of the schemas of oneOf (1 and 2), exactly one must match");
        FAILS(s, "9.5",
              "$: matches none of the 2 schemas of oneOf (the first says: $: expected integer, got number)");
        s = "{\"allOf\":[{\"type\":\"integer\"},{\"maximum\":3}]}";
        PASSES(s, "3");
        FAILS(s, "4", "$: 4 is greater than the maximum 3");
        PASSES("{\"not\":{\"type\":\"null\"}}", "0");
        FAILS("{\"not\":{\"type\":\"null\"}}", "null",
              "$: matches the schema under not: {\"type\":\"null\"}");
        s = "{\"if\":{\"properties\":{\"kind\":{\"const\":\"a\"}}},\"then\":{\"required\":[\"a\"]},"
            "\"else\":{\"required\":[\"b\"]}}";
        PASSES(s, "{\"kind\":\"a\",\"a\":1}");
        PASSES(s, "{\"kind\":\"x\",\"b\":1}");
        FAILS(s, "{\"kind\":\"a\",\"b\":1}", "$: missing required property \"a\"");
        FAILS(s, "{\"kind\":\"x\",\"a\":1}", "$: missing required property \"b\"");
}
END_TEST

START_TEST(test_json_schema_ref) {
        const char *s =
                "{\"$defs\":{\"node\":{\"type\":\"object\",\"required\":[\"v\"],"
                "\"properties\":{\"v\":{\"type\":\"integer\"},\"next\":{\"$ref\":\"#/$defs/node\"}}}},"
                "\"$ref\":\"#/$defs/node\"}";

        PASSES(s, "{\"v\":1,\"next\":{\"v\":2,\"next\":{\"v\":3}}}");
        FAILS(s, "{\"v\":1,\"next\":{\"v\":2,\"next\":{\"v\":\"3\"}}}",
              "$.next.next.v: expected integer, got string");
        /* "#" is the root; ~1 escapes '/' in a pointer; $ref's siblings apply too. */
        s = "{\"type\":[\"array\",\"integer\"],\"items\":{\"$ref\":\"#\"}}";
        PASSES(s, "[1,[2,[3]]]");
        FAILS(s, "[1,[2,[\"x\"]]]", "$[1][1][0]: expected [\"array\",\"integer\"], got string");
        s = "{\"$defs\":{\"a/b\":{\"type\":\"string\"}},\"$ref\":\"#/$defs/a~1b\",\"maxLength\":2}";
        PASSES(s, "\"ab\"");
        FAILS(s, "1", "$: expected string, got integer");
        FAILS(s, "\"abc\"", "$: longer than maxLength 2");
        /* draft 7's definitions work too */
        PASSES("{\"definitions\":{\"x\":{\"const\":1}},\"$ref\":\"#/definitions/x\"}", "1");
}
END_TEST

START_TEST(test_json_schema_bounds_fail_closed) {
        char *why = NULL;

        /* A $ref loop that never descends into the value stops at the depth bound. */
        FAILS("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/a\"}},\"$ref\":\"#/$defs/a\"}", "1", "levels deep");
        /* ... and even under not, hitting a bound fails: it never becomes a pass. */
        FAILS("{\"not\":{\"$defs\":{\"a\":{\"$ref\":\"#/not/$defs/a\"}},\"$ref\":\"#/not/$defs/a\"}}", "1",
              "levels deep");
        /* Exponential anyOf over a recursive $ref stops at the step budget. */
        FAILS("{\"$defs\":{\"a\":{\"anyOf\":[{\"$ref\":\"#/$defs/a\"},{\"$ref\":\"#/$defs/a\"}]}},"
              "\"$ref\":\"#/$defs/a\"}",
              "1", "levels deep");
        FAILS("{\"$defs\":{\"a\":{\"type\":\"array\",\"items\":{\"anyOf\":[{\"$ref\":\"#/$defs/"
              "a\"},{\"$ref\":\"#/$defs/a\"},"
              "{\"type\":\"integer\"}]}}},\"not\":{\"$ref\":\"#/$defs/a\"}}",
              "[[[[[[[[[[[[[[[[[[[[[[\"x\"]]]]]]]]]]]]]]]]]]]]]]", "more than 1000000 steps");
        /* A catastrophic pattern hits the regex match limit: a failure, not a pass. */
        ck_assert_int_eq(validate("{\"not\":{\"pattern\":\"^(a+)+$\"}}",
                                  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"", &why),
                         0);
        ck_assert_ptr_nonnull(strstr(why, "hit the regex match limit"));
        free(why);
}
END_TEST

/* ---- the check at submission ---- */

static int check_yaml(const char *yaml, char *message, size_t size) {
        YamlDocument *d = NULL;
        Error e = ERROR_INIT;
        int r;

        ck_assert_int_eq(yaml_tree_parse(yaml, strlen(yaml), "s.yaml", NULL, &d, &e), 0);
        r = json_schema_check(d->root, &e);
        snprintf(message, size, "%s", e.message);
        yaml_document_free(d);
        return r;
}

#define CHECK_FAILS(yaml, expected)                                                               \
        do {                                                                                      \
                char _m[ERROR_MESSAGE_MAX];                                                       \
                ck_assert_int_lt(check_yaml(yaml, _m, sizeof _m), 0);                             \
                ck_assert_msg(strstr(_m, expected), "got \"%s\", expected \"%s\"", _m, expected); \
        } while (0)

START_TEST(test_json_schema_check_accepts_the_supported_keywords) {
        char m[ERROR_MESSAGE_MAX];

        ck_assert_int_eq(
                check_yaml(
                        "$schema: https://json-schema.org/draft/2020-12/schema\n"
                        "title: answer\n"
                        "type: object\n"
                        "required: [answer]\n"
                        "properties:\n"
                        "  answer: {type: integer, minimum: 0, exclusiveMaximum: 10, multipleOf: 2}\n"
                        "  tags: {type: array, items: {type: string, pattern: '^\\d+$'}, uniqueItems: "
                        "true}\n"
                        "  pair: {prefixItems: [{type: string}, true], items: false, minItems: 2}\n"
                        "  when: {type: string, format: date-time}\n"
                        "  kind: {enum: [a, b], default: a}\n"
                        "  node: {$ref: '#/$defs/node'}\n"
                        "  any: {anyOf: [{const: 1}, {type: 'null'}], not: {const: 2}}\n"
                        "patternProperties: {'^x-': {description: extension}}\n"
                        "additionalProperties: false\n"
                        "$defs:\n"
                        "  node: {oneOf: [{type: integer}, {type: array, items: {$ref: '#/$defs/node'}}]}\n",
                        m, sizeof m),
                0);
        ck_assert_int_eq(check_yaml("true", m, sizeof m), 0);
}
END_TEST

START_TEST(test_json_schema_check_refuses_what_it_cannot_check) {
        CHECK_FAILS("properties: {x: {dependentSchemas: {a: {}}}}",
                    "s.yaml:1:36: properties.x.dependentSchemas: unsupported JSON Schema keyword; "
                    "aegis-manifest(5) lists");
        CHECK_FAILS("unevaluatedProperties: false",
                    "unevaluatedProperties: unsupported JSON Schema keyword");
        CHECK_FAILS("type: string\nminLenght: 2",
                    "minLenght: unsupported JSON Schema keyword (did you mean \"minLength\"?)");
        CHECK_FAILS("items: [{type: string}]", "items: items takes one schema (draft 2020-12); for a tuple");
        CHECK_FAILS("pattern: '(a'",
                    "pattern: invalid regular expression (PCRE2): missing closing parenthesis");
        CHECK_FAILS("patternProperties: {'(': {}}", "invalid regular expression (PCRE2)");
        CHECK_FAILS("format: hostname", "format: unsupported format \"hostname\"");
        CHECK_FAILS("type: strng",
                    "type: expected object, array, string, number, integer, boolean or null (or a "
                    "list of them), got a string (did you mean \"string\"?)");
        CHECK_FAILS("type: [string, string]", "\"string\" is listed twice");
        CHECK_FAILS("minLength: -1", "minLength: expected an integer");
        CHECK_FAILS("exclusiveMinimum: true", "exclusiveMinimum: expected a number");
        CHECK_FAILS("multipleOf: 0", "multipleOf: expected a number greater than 0");
        CHECK_FAILS("required: name", "required: expected a sequence");
        CHECK_FAILS("anyOf: []", "anyOf: expected a non-empty list of schemas");
        CHECK_FAILS("properties: {a: 3}", "properties.a: expected a schema (a mapping, or true or false)");
        CHECK_FAILS("$ref: '#/$defs/missing'", "$ref: \"#/$defs/missing\" names nothing in this schema");
        CHECK_FAILS("$ref: 'other.json#/a'", "$ref: only references within this schema are supported");
        CHECK_FAILS("$ref: '#anchor'", "anchors are not supported");
        CHECK_FAILS("properties: {a: {enum: [{x: 1}]}}\n$ref: '#/properties/a/enum/0'",
                    "does not name a schema");
        /* Keywords inside const, enum or default are data, not schema: not checked. */
        {
                char m[ERROR_MESSAGE_MAX];
                ck_assert_int_eq(
                        check_yaml("const: {dependentSchemas: 1}\ndefault: {bogus: 1}", m, sizeof m), 0);
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("json-schema");
        TCase *tc = tcase_create("json-schema");
        /* The step-budget case walks a million steps: seconds under ASan on a loaded machine. */
        tcase_set_timeout(tc, 60);

        tcase_add_test(tc, test_json_schema_type);
        tcase_add_test(tc, test_json_schema_objects);
        tcase_add_test(tc, test_json_schema_arrays);
        tcase_add_test(tc, test_json_schema_enum_const);
        tcase_add_test(tc, test_json_schema_numbers);
        tcase_add_test(tc, test_json_schema_strings);
        tcase_add_test(tc, test_json_schema_formats);
        tcase_add_test(tc, test_json_schema_combinators);
        tcase_add_test(tc, test_json_schema_ref);
        tcase_add_test(tc, test_json_schema_bounds_fail_closed);
        tcase_add_test(tc, test_json_schema_check_accepts_the_supported_keywords);
        tcase_add_test(tc, test_json_schema_check_refuses_what_it_cannot_check);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
