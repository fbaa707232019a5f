/* test-llm.c — the LLM providers without a network: each wire format's request for a
 * conversation with a tool round (golden JSON), each format's answer parsed back, the tool
 * name table, error classification and Retry-After. */
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "llm-internal.h"
#include "test-main.h"
#include "util.h"

/* The requests for conversation and tools_json below, as each provider documents them. */
#define GOLDEN_OPENAI                                                                                       \
        "{\"model\":\"m-1\",\"messages\":[{\"role\":\"system\",\"content\":\"Be "                           \
        "brief.\"},{\"role\":\"user\",\"content\":\"Make /w.\"},{\"role\":\"assistant\",\"content\":\"Let " \
        "me "                                                                                               \
        "look.\",\"tool_calls\":[{\"function\":{\"name\":\"fs__create_dir\",\"arguments\":\"{\\\"path\\\":" \
        "\\\"/"                                                                                             \
        "w\\\"}\"},\"id\":\"call_1\",\"type\":\"function\"},{\"function\":{\"name\":\"cmd__run\","          \
        "\"arguments\":\"{\\\"command\\\":\\\"ls\\\"}\"},\"id\":\"call_2\",\"type\":\"function\"}]},{"      \
        "\"role\":\"tool\",\"content\":\"ok\",\"tool_call_id\":\"call_1\"},{\"role\":\"tool\",\"content\":" \
        "\"w\",\"tool_call_id\":\"call_2\"}],\"tools\":[{\"function\":{\"name\":\"cmd__run\","              \
        "\"description\":\"Run\",\"parameters\":{\"type\":\"object\"}},\"type\":\"function\"},{"            \
        "\"function\":{\"name\":\"fs__create_dir\",\"parameters\":{\"type\":\"object\",\"properties\":{"    \
        "\"path\":{\"type\":\"string\"}}}},\"type\":\"function\"}],\"max_completion_tokens\":100,"          \
        "\"temperature\":0.5}"
#define GOLDEN_ANTHROPIC                                                                                    \
        "{\"model\":\"m-1\",\"max_tokens\":100,\"system\":\"Be "                                            \
        "brief.\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Make "        \
        "/w.\"}]},{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Let me "               \
        "look.\"},{\"type\":\"tool_use\",\"id\":\"call_1\",\"name\":\"fs__create_dir\",\"input\":{"         \
        "\"path\":\"/"                                                                                      \
        "w\"}},{\"type\":\"tool_use\",\"id\":\"call_2\",\"name\":\"cmd__run\",\"input\":{\"command\":"      \
        "\"ls\"}}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"call_1\","  \
        "\"content\":\"ok\"},{\"type\":\"tool_result\",\"tool_use_id\":\"call_2\",\"content\":\"w\"}]}],"   \
        "\"tools\":[{\"name\":\"cmd__run\",\"description\":\"Run\",\"input_schema\":{\"type\":\"object\"}}" \
        ",{\"name\":\"fs__create_dir\",\"input_schema\":{\"type\":\"object\",\"properties\":{\"path\":{"    \
        "\"type\":\"string\"}}}}],\"temperature\":0.5}"
#define GOLDEN_OLLAMA                                                                                       \
        "{\"model\":\"m-1\",\"messages\":[{\"role\":\"system\",\"content\":\"Be "                           \
        "brief.\"},{\"role\":\"user\",\"content\":\"Make /w.\"},{\"role\":\"assistant\",\"content\":\"Let " \
        "me "                                                                                               \
        "look.\",\"tool_calls\":[{\"function\":{\"name\":\"fs__create_dir\",\"arguments\":{\"path\":\"/"    \
        "w\"}}},{\"function\":{\"name\":\"cmd__run\",\"arguments\":{\"command\":\"ls\"}}}]},{\"role\":"     \
        "\"tool\",\"content\":\"ok\",\"tool_name\":\"fs__create_dir\"},{\"role\":\"tool\",\"content\":"     \
        "\"w\",\"tool_name\":\"cmd__run\"}],\"stream\":false,\"tools\":[{\"function\":{\"name\":\"cmd__"    \
        "run\",\"description\":\"Run\",\"parameters\":{\"type\":\"object\"}},\"type\":\"function\"},{"      \
        "\"function\":{\"name\":\"fs__create_dir\",\"parameters\":{\"type\":\"object\",\"properties\":{"    \
        "\"path\":{\"type\":\"string\"}}}},\"type\":\"function\"}],\"options\":{\"num_predict\":100,"       \
        "\"temperature\":0.5}}"
#define GOLDEN_GEMINI                                                                                       \
        "{\"systemInstruction\":{\"parts\":[{\"text\":\"Be "                                                \
        "brief.\"}]},\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Make "                         \
        "/w.\"}]},{\"role\":\"model\",\"parts\":[{\"text\":\"Let me "                                       \
        "look.\"},{\"functionCall\":{\"name\":\"fs__create_dir\",\"args\":{\"path\":\"/"                    \
        "w\"}}},{\"functionCall\":{\"name\":\"cmd__run\",\"args\":{\"command\":\"ls\"}}}]},{\"role\":"      \
        "\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"fs__create_dir\",\"response\":{\"content\":" \
        "\"ok\"}}},{\"functionResponse\":{\"name\":\"cmd__run\",\"response\":{\"content\":\"w\"}}}]}],"     \
        "\"tools\":[{\"functionDeclarations\":[{\"name\":\"cmd__run\",\"description\":\"Run\","             \
        "\"parameters\":{\"type\":\"object\"}},{\"name\":\"fs__create_dir\",\"parameters\":{\"type\":"      \
        "\"object\",\"properties\":{\"path\":{\"type\":\"string\"}}}}]}],\"generationConfig\":{"            \
        "\"maxOutputTokens\":100,\"temperature\":0.5}}"

static const char conversation[] =
        "[{\"role\":\"system\",\"content\":\"Be brief.\"},"
        "{\"role\":\"user\",\"content\":\"Make /w.\"},"
        "{\"role\":\"assistant\",\"content\":\"Let me look.\",\"tool_calls\":[{\"id\":\"call_1\",\"name\":"
        "\"fs.create_dir\",\"arguments\":{\"path\":\"/w\"}},{\"id\":\"call_2\",\"name\":\"cmd.run\","
        "\"arguments\":{\"command\":\"ls\"}}]},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"name\":\"fs.create_dir\",\"content\":\"ok\"},"
        "{\"role\":\"tool\",\"tool_call_id\":\"call_2\",\"content\":\"w\"}]";
static const char tools_json[] =
        "[{\"name\":\"cmd.run\",\"description\":\"Run\",\"parameters\":{\"type\":\"object\"}},"
        "{\"name\":\"fs.create_dir\",\"parameters\":{\"type\":\"object\",\"properties\":{\"path\":{\"type\":"
        "\"string\"}}}}]";

typedef struct Built {
        char *url;
        char *headers; /* joined with "|" */
        char *body;
} Built;

static Built build_tools(LlmProviderType type, const char *endpoint, const char *key,
                         const char *tools_text) {
        json_object *messages = json_tokener_parse(conversation), *tools = json_tokener_parse(tools_text);
        ConfigLlmModel model = { .alias = (char *) "default",
                                 .model = (char *) "m-1",
                                 .max_output_tokens = 100,
                                 .temperature = 0.5,
                                 .has_temperature = true };
        LlmNameTable names = {};
        LlmHttpRequest req = {};
        const char *why = NULL;
        Built b = {};

        ck_assert_ptr_nonnull(messages);
        ck_assert_ptr_nonnull(tools);
        ck_assert_int_eq(llm_names_build(tools, messages, &names), 0);
        ck_assert_int_eq(llm_build_request(&(LlmRequestInput){ .type = type,
                                                               .endpoint = endpoint,
                                                               .api_key = key,
                                                               .model = &model,
                                                               .messages = messages,
                                                               .tools = tools,
                                                               .names = &names },
                                           &req, &why),
                         0);
        b.url = strdup(req.url);
        b.headers = strjoin_sep("|", (const char *const *) req.headers, strv_length(req.headers));
        b.body = strdup(json_object_to_json_string_ext(req.body, JSON_C_TO_STRING_PLAIN |
                                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
        llm_http_request_done(&req);
        llm_names_done(&names);
        json_object_put(messages);
        json_object_put(tools);
        return b;
}

static Built build(LlmProviderType type, const char *endpoint, const char *key) {
        return build_tools(type, endpoint, key, tools_json);
}

static void built_done(Built *b) {
        free(b->url);
        free(b->headers);
        free(b->body);
}

START_TEST(test_llm_openai_request) {
        Built b = build(LLM_PROVIDER_OPENAI, "https://api.openai.com/v1", "sk-1");

        ck_assert_str_eq(b.url, "https://api.openai.com/v1/chat/completions");
        ck_assert_str_eq(b.headers, "Authorization: Bearer sk-1|Content-Type: application/json");
        ck_assert_str_eq(b.body, GOLDEN_OPENAI);
        built_done(&b);
        /* openai-compatible servers know max_tokens, not max_completion_tokens. */
        b = build(LLM_PROVIDER_OPENAI_COMPATIBLE, "http://h:8000/v1", NULL);
        ck_assert_str_eq(b.url, "http://h:8000/v1/chat/completions");
        ck_assert_str_eq(b.headers, "Content-Type: application/json");
        ck_assert_ptr_nonnull(strstr(b.body, "\"max_tokens\":100"));
        built_done(&b);
}
END_TEST

START_TEST(test_llm_anthropic_request) {
        Built b = build(LLM_PROVIDER_ANTHROPIC, "https://api.anthropic.com", "ak-1");

        ck_assert_str_eq(b.url, "https://api.anthropic.com/v1/messages");
        ck_assert_str_eq(b.headers,
                         "anthropic-version: 2023-06-01|x-api-key: ak-1|Content-Type: application/json");
        ck_assert_str_eq(b.body, GOLDEN_ANTHROPIC);
        built_done(&b);
}
END_TEST

START_TEST(test_llm_ollama_request) {
        Built b = build(LLM_PROVIDER_OLLAMA, "http://127.0.0.1:11434", NULL);

        ck_assert_str_eq(b.url, "http://127.0.0.1:11434/api/chat");
        ck_assert_str_eq(b.headers, "Content-Type: application/json");
        ck_assert_str_eq(b.body, GOLDEN_OLLAMA);
        built_done(&b);
}
END_TEST

START_TEST(test_llm_gemini_request) {
        Built b = build(LLM_PROVIDER_GEMINI, "https://generativelanguage.googleapis.com", "g-1");

        ck_assert_str_eq(b.url,
                         "https://generativelanguage.googleapis.com/v1beta/models/m-1:generateContent");
        ck_assert_str_eq(b.headers, "x-goog-api-key: g-1|Content-Type: application/json");
        ck_assert_str_eq(b.body, GOLDEN_GEMINI);
        built_done(&b);
}
END_TEST

/* Gemini's Schema object is an OpenAPI 3.0 subset: JSON Schema keywords it does not know are
 * left out (it refuses the request otherwise), nested schemas too; ["T","null"] is T nullable. */
START_TEST(test_llm_gemini_schema_subset) {
        static const char tools[] =
                "[{\"name\":\"fs.write\",\"parameters\":{\"$schema\":\"x\",\"type\":\"object\","
                "\"additionalProperties\":false,\"required\":[\"path\"],\"properties\":{"
                "\"path\":{\"type\":\"string\",\"description\":\"P\",\"pattern\":\"^/\"},"
                "\"mode\":{\"type\":[\"integer\",\"null\"],\"const\":1},"
                "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"$ref\":\"#/x\"},"
                "\"maxItems\":3}}}}]";
        Built b = build_tools(LLM_PROVIDER_GEMINI, "https://g.example", "g-1", tools);
        json_object *body = json_tokener_parse(b.body), *t, *d, *p;

        ck_assert_ptr_nonnull(body);
        ck_assert(json_object_object_get_ex(body, "tools", &t));
        ck_assert(json_object_object_get_ex(json_object_array_get_idx(t, 0), "functionDeclarations", &d));
        ck_assert(json_object_object_get_ex(json_object_array_get_idx(d, 0), "parameters", &p));
        ck_assert_str_eq(
                json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                "{\"type\":\"object\",\"required\":[\"path\"],\"properties\":{\"path\":{"
                "\"type\":\"string\",\"description\":\"P\"},\"mode\":{\"type\":\"integer\","
                "\"nullable\":true},\"tags\":{\"type\":\"array\",\"maxItems\":3,\"items\":{"
                "\"type\":\"string\"}}}}");
        json_object_put(body);
        built_done(&b);
}
END_TEST

/* Parses answer with a table made from tools_json; returns the response. */
static LlmResponse parse_ok(LlmProviderType type, const char *answer) {
        json_object *tools = json_tokener_parse(tools_json);
        LlmNameTable names = {};
        LlmResponse resp = {};
        const char *why = NULL;
        int r;

        ck_assert_int_eq(llm_names_build(tools, NULL, &names), 0);
        r = llm_parse_response(type, answer, strlen(answer), &names, &resp, &why);
        ck_assert_msg(r == 0, "parse failed: %s", why);
        llm_names_done(&names);
        json_object_put(tools);
        return resp;
}

static void assert_call(const LlmResponse *r, size_t i, const char *id, const char *name, const char *args) {
        ck_assert_uint_gt(r->n_tool_calls, i);
        ck_assert_str_eq(r->tool_calls[i].id, id);
        ck_assert_str_eq(r->tool_calls[i].name, name);
        ck_assert(json_object_is_type(r->tool_calls[i].arguments, json_type_object));
        ck_assert_str_eq(
                json_object_to_json_string_ext(r->tool_calls[i].arguments,
                                               JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                args);
}

START_TEST(test_llm_openai_answer) {
        LlmResponse r =
                parse_ok(LLM_PROVIDER_OPENAI, "{\"choices\":[{\"index\":0,\"message\":{\"role\":"
                                              "\"assistant\",\"content\":null,\"tool_calls\":["
                                              "{\"id\":\"call_a\",\"type\":\"function\",\"function\":{"
                                              "\"name\":\"fs__create_dir\",\"arguments\":"
                                              "\"{\\\"path\\\":\\\"/w\\\"}\"}},"
                                              "{\"id\":\"call_b\",\"type\":\"function\",\"function\":{"
                                              "\"name\":\"cmd__run\",\"arguments\":\"\"}}]},"
                                              "\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_"
                                              "tokens\":12,\"completion_tokens\":5}}");

        ck_assert_ptr_null(r.content);
        ck_assert_uint_eq(r.n_tool_calls, 2);
        assert_call(&r, 0, "call_a", "fs.create_dir", "{\"path\":\"/w\"}");
        assert_call(&r, 1, "call_b", "cmd.run", "{}");
        ck_assert_uint_eq(r.tokens_in, 12);
        ck_assert_uint_eq(r.tokens_out, 5);
        llm_response_done(&r);

        r = parse_ok(LLM_PROVIDER_OPENAI, "{\"choices\":[{\"message\":{\"content\":\"Done.\"}}]}");
        ck_assert_str_eq(r.content, "Done.");
        ck_assert_uint_eq(r.n_tool_calls, 0);
        llm_response_done(&r);
}
END_TEST

START_TEST(test_llm_anthropic_answer) {
        LlmResponse r = parse_ok(
                LLM_PROVIDER_ANTHROPIC,
                "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":["
                "{\"type\":\"text\",\"text\":\"Making it.\"},"
                "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"fs__create_dir\",\"input\":{\"path\":"
                "\"/w\"}}],"
                "\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":30,\"output_tokens\":9}}");

        ck_assert_str_eq(r.content, "Making it.");
        assert_call(&r, 0, "toolu_1", "fs.create_dir", "{\"path\":\"/w\"}");
        ck_assert_uint_eq(r.tokens_in, 30);
        ck_assert_uint_eq(r.tokens_out, 9);
        llm_response_done(&r);
}
END_TEST

START_TEST(test_llm_ollama_answer) {
        LlmResponse r = parse_ok(
                LLM_PROVIDER_OLLAMA,
                "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":["
                "{\"function\":{\"name\":\"cmd__run\",\"arguments\":{\"command\":\"ls\"}}},"
                "{\"function\":{\"name\":\"fs__create_dir\",\"arguments\":{\"path\":\"/w\"}}}]},"
                "\"done\":true,\"prompt_eval_count\":7,\"eval_count\":3}");

        ck_assert_ptr_null(r.content);
        assert_call(&r, 0, "call_1", "cmd.run", "{\"command\":\"ls\"}");
        assert_call(&r, 1, "call_2", "fs.create_dir", "{\"path\":\"/w\"}");
        ck_assert_uint_eq(r.tokens_in, 7);
        ck_assert_uint_eq(r.tokens_out, 3);
        llm_response_done(&r);
}
END_TEST

START_TEST(test_llm_gemini_answer) {
        LlmResponse r = parse_ok(
                LLM_PROVIDER_GEMINI,
                "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"On it. \"},"
                "{\"functionCall\":{\"name\":\"fs__create_dir\",\"args\":{\"path\":\"/"
                "w\"}}},{\"text\":\"Soon.\"}]},"
                "\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":40,"
                "\"candidatesTokenCount\":"
                "6}}");

        ck_assert_str_eq(r.content, "On it. Soon.");
        assert_call(&r, 0, "call_1", "fs.create_dir", "{\"path\":\"/w\"}");
        ck_assert_uint_eq(r.tokens_in, 40);
        ck_assert_uint_eq(r.tokens_out, 6);
        llm_response_done(&r);
}
END_TEST

START_TEST(test_llm_unusable_answers) {
        static const struct {
                LlmProviderType type;
                const char *answer, *why;
        } cases[] = {
                { LLM_PROVIDER_OPENAI, "not json", "the answer is not a JSON object" },
                { LLM_PROVIDER_OPENAI, "{\"choices\":[]}", "the answer has no choices" },
                { LLM_PROVIDER_OPENAI,
                  "{\"choices\":[{\"message\":{\"tool_calls\":[{\"function\":{\"name\":\"x\",\"arguments\":"
                  "\"[1]\"}}]}}]}",
                  "a tool call's arguments are not a JSON object" },
                { LLM_PROVIDER_ANTHROPIC, "{\"type\":\"message\"}", "the answer has no content list" },
                { LLM_PROVIDER_OLLAMA, "{\"done\":true}", "the answer has no message" },
                { LLM_PROVIDER_GEMINI, "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}",
                  "the prompt was blocked (promptFeedback.blockReason)" },
        };
        LlmNameTable names = {};

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                LlmResponse r = {};
                const char *why = NULL;
                ck_assert_int_eq(llm_parse_response(cases[i].type, cases[i].answer, strlen(cases[i].answer),
                                                    &names, &r, &why),
                                 -EBADMSG);
                ck_assert_str_eq(why, cases[i].why);
                llm_response_done(&r);
        }
}
END_TEST

START_TEST(test_llm_names_round_trip_by_table) {
        json_object *tools = json_tokener_parse(
                "[{\"name\":\"fs.create_dir\"},{\"name\":\"fs__create_dir\"},{\"name\":\"cmd.run\"},"
                "{\"name\":\"a_b.c\"},{\"name\":\"x.y z\"},{\"name\":"
                "\"very.long.name.that.goes.on.and.on.and.on.and.on.and.on.past.sixty.four\"}]");
        json_object *messages = json_tokener_parse(
                "[{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"name\":\"old.tool\"}]}]");
        LlmNameTable t = {};

        ck_assert_int_eq(llm_names_build(tools, messages, &t), 0);
        ck_assert_uint_eq(t.n, 7);
        ck_assert_str_eq(llm_names_to_wire(&t, "fs.create_dir"), "fs__create_dir");
        ck_assert_str_eq(llm_names_from_wire(&t, "fs__create_dir"), "fs.create_dir");
        /* Our own "fs__create_dir" would clash: it gets an index-based name. */
        ck_assert_str_eq(llm_names_to_wire(&t, "fs__create_dir"), "tool_1");
        ck_assert_str_eq(llm_names_from_wire(&t, "tool_1"), "fs__create_dir");
        /* Underscores stay underscores; nothing turns "_" back into ".". */
        ck_assert_str_eq(llm_names_to_wire(&t, "a_b.c"), "a_b__c");
        ck_assert_str_eq(llm_names_from_wire(&t, "a_b__c"), "a_b.c");
        ck_assert_str_eq(llm_names_to_wire(&t, "x.y z"), "x__y_z");
        ck_assert_str_eq(
                llm_names_to_wire(&t,
                                  "very.long.name.that.goes.on.and.on.and.on.and.on.and.on.past.sixty.four"),
                "tool_5");
        ck_assert_str_eq(llm_names_to_wire(&t, "old.tool"), "old__tool");
        ck_assert_ptr_null(llm_names_from_wire(&t, "fs_create_dir"));
        for (size_t i = 0; i < t.n; i++) {
                ck_assert_uint_le(strlen(t.wire[i]), LLM_WIRE_NAME_MAX);
                ck_assert_uint_eq(strspn(t.wire[i],
                                         "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"),
                                  strlen(t.wire[i]));
                ck_assert_str_eq(llm_names_from_wire(&t, llm_names_to_wire(&t, t.ours[i])), t.ours[i]);
        }
        llm_names_done(&t);
        json_object_put(tools);
        json_object_put(messages);
}
END_TEST

START_TEST(test_llm_error_classification) {
        ck_assert_int_eq(llm_classify_http(200), LLM_ERROR_NONE);
        ck_assert_int_eq(llm_classify_http(401), LLM_ERROR_AUTHENTICATION);
        ck_assert_int_eq(llm_classify_http(403), LLM_ERROR_AUTHENTICATION);
        ck_assert_int_eq(llm_classify_http(429), LLM_ERROR_RATE_LIMIT);
        ck_assert_int_eq(llm_classify_http(404), LLM_ERROR_MODEL_NOT_FOUND);
        ck_assert_int_eq(llm_classify_http(400), LLM_ERROR_INVALID_INPUT);
        ck_assert_int_eq(llm_classify_http(500), LLM_ERROR_UNAVAILABLE);
        ck_assert_int_eq(llm_classify_http(503), LLM_ERROR_UNAVAILABLE);
        ck_assert_int_eq(llm_classify_http(529), LLM_ERROR_UNAVAILABLE); /* Anthropic: overloaded */
        ck_assert_int_eq(llm_classify_http(302), LLM_ERROR_PROVIDER);
        ck_assert_int_eq(llm_classify_http(418), LLM_ERROR_PROVIDER);
        ck_assert_int_eq(llm_classify_curl(CURLE_COULDNT_CONNECT), LLM_ERROR_UNAVAILABLE);
        ck_assert_int_eq(llm_classify_curl(CURLE_OPERATION_TIMEDOUT), LLM_ERROR_NETWORK);
        ck_assert_int_eq(llm_classify_curl(CURLE_COULDNT_RESOLVE_HOST), LLM_ERROR_NETWORK);
        ck_assert_int_eq(llm_classify_curl(CURLE_RECV_ERROR), LLM_ERROR_NETWORK);
        ck_assert_int_eq(llm_classify_curl(CURLE_GOT_NOTHING), LLM_ERROR_NETWORK);
        ck_assert(llm_error_retryable(LLM_ERROR_RATE_LIMIT));
        ck_assert(llm_error_retryable(LLM_ERROR_UNAVAILABLE));
        ck_assert(llm_error_retryable(LLM_ERROR_NETWORK));
        ck_assert(!llm_error_retryable(LLM_ERROR_AUTHENTICATION));
        ck_assert(!llm_error_retryable(LLM_ERROR_INVALID_INPUT));
        ck_assert(!llm_error_retryable(LLM_ERROR_MODEL_NOT_FOUND));
        ck_assert_str_eq(llm_error_tag(LLM_ERROR_UNAVAILABLE), "upstream_unavailable");
        ck_assert_uint_eq(llm_error_http_status(LLM_ERROR_UNAVAILABLE), 503);
        ck_assert_uint_eq(llm_error_http_status(LLM_ERROR_RATE_LIMIT), 429);
        ck_assert_uint_eq(llm_error_http_status(LLM_ERROR_AUTHENTICATION), 502);
        ck_assert_uint_eq(llm_error_http_status(LLM_ERROR_CONFIG), 500);
}
END_TEST

START_TEST(test_llm_retry_after) {
        /* 2026-12-05T12:00:00Z */
        uint64_t now = UINT64_C(1796472000) * USEC_PER_SEC, usec = 0;

        ck_assert_int_eq(llm_parse_retry_after("7", now, &usec), 0);
        ck_assert_uint_eq(usec, 7 * USEC_PER_SEC);
        ck_assert_int_eq(llm_parse_retry_after(" 0", now, &usec), 0);
        ck_assert_uint_eq(usec, 0);
        ck_assert_int_eq(llm_parse_retry_after("Sat, 05 Dec 2026 12:00:30 GMT", now, &usec), 0);
        ck_assert_uint_eq(usec, 30 * USEC_PER_SEC);
        ck_assert_int_eq(llm_parse_retry_after("Sat, 05 Dec 2026 11:00:00 GMT", now, &usec), 0);
        ck_assert_uint_eq(usec, 0); /* in the past: now */
        ck_assert_int_eq(llm_parse_retry_after("99999999", now, &usec), 0);
        ck_assert_uint_eq(usec, 86400 * USEC_PER_SEC); /* capped at a day */
        ck_assert_int_eq(llm_parse_retry_after("-1", now, &usec), -EINVAL);
        ck_assert_int_eq(llm_parse_retry_after("soon", now, &usec), -EINVAL);
        ck_assert_int_eq(llm_parse_retry_after("", now, &usec), -EINVAL);
        ck_assert_int_eq(llm_parse_retry_after("Sat, 05 Dec 2026 12:00:30 PST", now, &usec), -EINVAL);
}
END_TEST

/* The body llm_build_request() makes of messages, and the one made with the conversation's
 * cache (NULL where the format has no per-message wire: the names are still compared). */
static void both_bodies(LlmConversation *conv, LlmProviderType type, json_object *messages,
                        json_object *tools, char **ret_full, char **ret_cached) {
        ConfigLlmModel model = { .alias = (char *) "default",
                                 .model = (char *) "m-1",
                                 .max_output_tokens = 9 };
        LlmNameTable names = {}, cached = {};
        LlmHttpRequest req = {}, creq = {};
        LlmRequestInput in = {
                .type = type, .endpoint = "http://x", .model = &model, .messages = messages, .tools = tools
        };
        const char *why = NULL;
        size_t n = 0;

        ck_assert_int_eq(llm_names_build(tools, messages, &names), 0);
        ck_assert_int_eq(llm_conversation_names(conv, tools, messages, &cached), 0);
        ck_assert_uint_eq(cached.n, names.n);
        for (size_t i = 0; i < names.n; i++) {
                ck_assert_str_eq(cached.ours[i], names.ours[i]);
                ck_assert_str_eq(cached.wire[i], names.wire[i]);
        }
        in.names = &names;
        ck_assert_int_eq(llm_build_request(&in, &req, &why), 0);
        *ret_full = strdup(json_object_to_json_string_ext(req.body, JSON_C_TO_STRING_PLAIN |
                                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
        *ret_cached = NULL;
        if (llm_wire_has_messages(type)) {
                in.names = &cached;
                ck_assert_int_eq(llm_conversation_request(conv, &in, &creq, ret_cached, &n, &why), 0);
                ck_assert_uint_eq(n, strlen(*ret_cached));
                ck_assert_str_eq(creq.url, req.url);
        }
        llm_http_request_done(&req);
        llm_http_request_done(&creq);
        llm_names_done(&names);
        llm_names_done(&cached);
}

START_TEST(test_llm_conversation_cache_makes_the_same_request) {
        static const LlmProviderType types[] = { LLM_PROVIDER_OPENAI, LLM_PROVIDER_OLLAMA,
                                                 LLM_PROVIDER_OPENAI_COMPATIBLE, LLM_PROVIDER_ANTHROPIC };
        json_object *all = json_tokener_parse(conversation), *tools = json_tokener_parse(tools_json);
        json_object *grown = json_object_new_array(), *other = NULL;
        json_object *extra = json_tokener_parse(
                "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c9\","
                "\"name\":\"web.fetch\",\"arguments\":{\"url\":\"http://a/\\\"messages\\\":[]\"}}]}");
        LlmConversation *conv = NULL;
        char *full, *cached;

        ck_assert_ptr_nonnull(all);
        ck_assert_ptr_nonnull(extra);
        ck_assert_int_eq(llm_conversation_new(&conv), 0);
        /* Turn by turn, the provider changing between turns: always the whole request's bytes. */
        for (size_t k = 0; k <= json_object_array_length(all) + 1; k++) {
                if (k > 0 && k <= json_object_array_length(all))
                        json_object_array_add(grown, json_object_get(json_object_array_get_idx(all, k - 1)));
                else if (k > 0)
                        json_object_array_add(grown, json_object_get(extra)); /* a new tool name */
                for (size_t t = 0; t < ELEMENTSOF(types); t++) {
                        both_bodies(conv, types[(t + k) % ELEMENTSOF(types)], grown, tools, &full, &cached);
                        if (cached)
                                ck_assert_str_eq(cached, full);
                        free(full);
                        free(cached);
                }
        }
        /* Another conversation given the same cache (its messages are other objects), or other
         * tools: noticed, and the request is still right. */
        json_object_deep_copy(grown, &other, NULL);
        both_bodies(conv, LLM_PROVIDER_OPENAI, other, tools, &full, &cached);
        ck_assert_str_eq(cached, full);
        ck_assert_ptr_nonnull(strstr(full, "web__fetch"));
        free(full);
        free(cached);
        json_object_array_del_idx(other, 1, json_object_array_length(other) - 1);
        both_bodies(conv, LLM_PROVIDER_OLLAMA, other, NULL, &full, &cached);
        ck_assert_str_eq(cached, full);
        ck_assert_ptr_null(strstr(full, "web__fetch"));
        free(full);
        free(cached);
        llm_conversation_free(conv);
        json_object_put(other);
        json_object_put(grown);
        json_object_put(extra);
        json_object_put(all);
        json_object_put(tools);
}
END_TEST

START_TEST(test_llm_conversation_that_cannot_be_sent) {
        static const struct {
                LlmProviderType type;
                const char *messages, *why;
        } cases[] = {
                { LLM_PROVIDER_OPENAI, "[{\"role\":\"tool\",\"content\":\"x\"}]",
                  "a tool result names no tool_call_id" },
                { LLM_PROVIDER_OLLAMA, "[{\"content\":\"x\"}]", "a message has no role" },
                { LLM_PROVIDER_ANTHROPIC, "[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"critic\"}]",
                  "a message has no role Anthropic knows (system, user, assistant, tool)" },
                { LLM_PROVIDER_GEMINI, "[{\"role\":\"tool\",\"tool_call_id\":\"nope\",\"content\":\"x\"}]",
                  "a tool result names neither its tool nor a call of the conversation" },
        };
        ConfigLlmModel model = { .alias = (char *) "a", .model = (char *) "m" };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_object *messages = json_tokener_parse(cases[i].messages);
                LlmNameTable names = {};
                LlmHttpRequest req = {};
                const char *why = NULL;

                ck_assert_int_eq(llm_names_build(NULL, messages, &names), 0);
                ck_assert_int_eq(llm_build_request(&(LlmRequestInput){ .type = cases[i].type,
                                                                       .endpoint = "http://h",
                                                                       .model = &model,
                                                                       .messages = messages,
                                                                       .names = &names },
                                                   &req, &why),
                                 -EINVAL);
                ck_assert_str_eq(why, cases[i].why);
                ck_assert_ptr_null(req.body);
                llm_names_done(&names);
                json_object_put(messages);
        }
}
END_TEST

static Suite *llm_suite(void) {
        Suite *s = suite_create("llm");
        TCase *tc = tcase_create("llm");

        tcase_add_test(tc, test_llm_openai_request);
        tcase_add_test(tc, test_llm_anthropic_request);
        tcase_add_test(tc, test_llm_ollama_request);
        tcase_add_test(tc, test_llm_gemini_request);
        tcase_add_test(tc, test_llm_gemini_schema_subset);
        tcase_add_test(tc, test_llm_openai_answer);
        tcase_add_test(tc, test_llm_anthropic_answer);
        tcase_add_test(tc, test_llm_ollama_answer);
        tcase_add_test(tc, test_llm_gemini_answer);
        tcase_add_test(tc, test_llm_unusable_answers);
        tcase_add_test(tc, test_llm_conversation_that_cannot_be_sent);
        tcase_add_test(tc, test_llm_conversation_cache_makes_the_same_request);
        tcase_add_test(tc, test_llm_names_round_trip_by_table);
        tcase_add_test(tc, test_llm_error_classification);
        tcase_add_test(tc, test_llm_retry_after);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(llm_suite());
}
