/* llm-anthropic.c — Anthropic messages (POST {endpoint}/v1/messages, "x-api-key" and
 * "anthropic-version" headers).
 *
 * The system prompt is the top-level "system"; every other message is a list of content
 * blocks: text, "tool_use" (the model's call: id, name, input object) and "tool_result" (our
 * answer, in a user message, naming tool_use_id). Roles must alternate, so consecutive
 * messages of one role (several tool results, a tool result then the user's text) are merged
 * into one. max_tokens is required: the model's max_output_tokens, else 4096. */
#include <errno.h>
#include <json-c/json.h>

#include "json-body.h"
#include "llm-internal.h"
#include "util.h"

#define ANTHROPIC_VERSION "2023-06-01"
#define ANTHROPIC_DEFAULT_MAX_TOKENS 4096

static json_object *text_block(const char *text) {
        json_object *b = json_object_new_object();

        if (!b || json_add(b, "type", json_object_new_string("text")) < 0 ||
            json_add(b, "text", json_object_new_string(text)) < 0) {
                json_object_put(b);
                return NULL;
        }
        return b;
}

/* msgs stays the caller's: it joins the body only once complete, after "system". */
static int build(const LlmRequestInput *in, json_object *msgs, LlmHttpRequest *ret, const char **ret_why) {
        json_object *body = json_object_new_object();
        _cleanup_free_ char *system = NULL;

        ret->body = body;
        if (!body || !msgs || json_add(body, "model", json_object_new_string(in->model->model)) < 0 ||
            json_add(body, "max_tokens",
                     json_object_new_int64(
                             (int64_t) (in->model->max_output_tokens ?: ANTHROPIC_DEFAULT_MAX_TOKENS))) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(in->messages); i++) {
                json_object *m = json_object_array_get_idx(in->messages, i), *blocks, *calls;
                const char *role = json_get_string(m, "role"), *text = llm_message_text(m);

                if (streq(role, "system")) {
                        if (llm_join_system(&system, text) < 0)
                                return -ENOMEM;
                } else if (streq(role, "user")) {
                        blocks = llm_last_turn(msgs, "user", "content");
                        if (!blocks || (!isempty(text) && json_append(blocks, text_block(text)) < 0))
                                return -ENOMEM;
                } else if (streq(role, "assistant")) {
                        blocks = llm_last_turn(msgs, "assistant", "content");
                        if (!blocks || (!isempty(text) && json_append(blocks, text_block(text)) < 0))
                                return -ENOMEM;
                        calls = json_get(m, "tool_calls");
                        for (size_t j = 0; calls && j < json_object_array_length(calls); j++) {
                                json_object *c = json_object_array_get_idx(calls, j),
                                            *args = json_get(c, "arguments");
                                json_object *b = json_object_new_object();
                                if (!b || json_append(blocks, b) < 0 ||
                                    json_add(b, "type", json_object_new_string("tool_use")) < 0 ||
                                    json_add(b, "id",
                                             json_object_new_string(strempty(json_get_string(c, "id")))) <
                                            0 ||
                                    json_add(b, "name",
                                             json_object_new_string(strempty(llm_names_to_wire(
                                                     in->names, json_get_string(c, "name"))))) < 0 ||
                                    json_add(b, "input",
                                             args ? json_object_get(args) : json_object_new_object()) < 0)
                                        return -ENOMEM;
                        }
                } else if (streq(role, "tool")) {
                        const char *id = json_get_string(m, "tool_call_id");
                        json_object *b;
                        if (!id) {
                                *ret_why = "a tool result names no tool_call_id";
                                return -EINVAL;
                        }
                        blocks = llm_last_turn(msgs, "user", "content");
                        b = json_object_new_object();
                        if (!blocks || !b || json_append(blocks, b) < 0 ||
                            json_add(b, "type", json_object_new_string("tool_result")) < 0 ||
                            json_add(b, "tool_use_id", json_object_new_string(id)) < 0 ||
                            json_add(b, "content", json_object_new_string(text)) < 0)
                                return -ENOMEM;
                } else {
                        *ret_why = "a message has no role Anthropic knows (system, user, assistant, tool)";
                        return -EINVAL;
                }
        }
        if (system && json_add(body, "system", json_object_new_string(system)) < 0)
                return -ENOMEM;
        if (json_add(body, "messages", json_object_get(msgs)) < 0)
                return -ENOMEM;
        if (in->tools && json_object_array_length(in->tools) > 0 &&
            json_add(body, "tools", llm_tool_declarations(in, "input_schema", true, false)) < 0)
                return -ENOMEM;
        if (in->model->has_temperature &&
            json_add(body, "temperature", json_object_new_double(in->model->temperature)) < 0)
                return -ENOMEM;

        ret->url = asprintf_safe("%s/v1/messages", in->endpoint);
        if (!ret->url || llm_request_add_header(ret, "anthropic-version", ANTHROPIC_VERSION) < 0)
                return -ENOMEM;
        if (in->api_key && llm_request_add_header(ret, "x-api-key", in->api_key) < 0)
                return -ENOMEM;
        return 0;
}

int llm_anthropic_build(const LlmRequestInput *in, LlmHttpRequest *ret, const char **ret_why) {
        json_object *msgs = json_object_new_array();
        int r;

        if (!msgs)
                return -ENOMEM;
        r = build(in, msgs, ret, ret_why);
        json_object_put(msgs);
        return r;
}

int llm_anthropic_parse(json_object *answer, const LlmNameTable *names, LlmResponse *resp,
                        const char **ret_why) {
        json_object *content = json_get(answer, "content"), *usage = json_get(answer, "usage");
        int r;

        if (!content || !json_object_is_type(content, json_type_array)) {
                *ret_why = "the answer has no content list";
                return -EBADMSG;
        }
        for (size_t i = 0; i < json_object_array_length(content); i++) {
                json_object *b = json_object_array_get_idx(content, i), *input = json_get(b, "input");
                const char *type = json_get_string(b, "type");

                if (streq(type, "text"))
                        r = llm_response_add_text(resp, json_get_string(b, "text"));
                else if (streq(type, "tool_use")) {
                        const char *name = json_get_string(b, "name");
                        if (!name || (input && !json_object_is_type(input, json_type_object))) {
                                *ret_why = "a tool_use block has no name or an input that is not an object";
                                return -EBADMSG;
                        }
                        r = llm_response_add_tool_call(resp, json_get_string(b, "id"), name, names,
                                                       input ? json_object_get(input) : NULL);
                } else
                        r = 0; /* thinking and other blocks are not for the loop */
                if (r < 0)
                        return r;
        }
        resp->tokens_in = (uint64_t) MAX(json_get_int(usage, "input_tokens", NULL), 0);
        resp->tokens_out = (uint64_t) MAX(json_get_int(usage, "output_tokens", NULL), 0);
        return 0;
}
