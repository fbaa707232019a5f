/* llm-openai.c — OpenAI chat completions (POST {endpoint}/chat/completions), spoken by
 * api.openai.com and by the "openai-compatible" servers (vLLM, LiteLLM, llama.cpp, …).
 *
 * Tools go out as {"type":"function","function":{name,description,parameters}}; the model's
 * calls come back in choices[0].message.tool_calls with the arguments as a JSON *string*,
 * which we parse into an object (an empty string is {}). A tool result is a "tool" message
 * naming its call's id. */
#include <errno.h>
#include <json-c/json.h>

#include "json-body.h"
#include "json-util.h"
#include "llm-internal.h"
#include "util.h"

static json_object *tool_calls_to_wire(json_object *calls, const LlmNameTable *names) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < json_object_array_length(calls); i++) {
                json_object *c = json_object_array_get_idx(calls, i), *args = json_get(c, "arguments");
                json_object *w = json_object_new_object(), *f = json_object_new_object();
                const char *name = llm_names_to_wire(names, json_get_string(c, "name"));

                if (!w || !f || json_append(a, w) < 0 || json_add(w, "function", f) < 0 ||
                    json_add(w, "id", json_object_new_string(strempty(json_get_string(c, "id")))) < 0 ||
                    json_add(w, "type", json_object_new_string("function")) < 0 ||
                    json_add(f, "name", json_object_new_string(strempty(name))) < 0 ||
                    json_add(f, "arguments",
                             json_object_new_string(
                                     args ? json_object_to_json_string_ext(
                                                    args,
                                                    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                                          : "{}")) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

int llm_openai_message(const LlmRequestInput *in, size_t i, json_object *m, const char *role, json_object *w,
                       const char **ret_why) {
        json_object *calls = json_get(m, "tool_calls");

        if (streq(role, "assistant") && calls && json_object_array_length(calls) > 0) {
                json_object *c = json_get(m, "content");
                if (c && json_object_is_type(c, json_type_string)) {
                        if (json_add(w, "content", json_object_new_string(json_object_get_string(c))) < 0)
                                return -ENOMEM;
                } else if (json_object_object_add(w, "content", NULL) < 0)
                        return -ENOMEM;
                return json_add(w, "tool_calls", tool_calls_to_wire(calls, in->names));
        }
        if (json_add(w, "content", json_object_new_string(llm_message_text(m))) < 0)
                return -ENOMEM;
        if (streq(role, "tool")) {
                const char *id = json_get_string(m, "tool_call_id");
                if (!id) {
                        *ret_why = "a tool result names no tool_call_id";
                        return -EINVAL;
                }
                return json_add(w, "tool_call_id", json_object_new_string(id));
        }
        return 0;
}

int llm_openai_build(const LlmRequestInput *in, LlmHttpRequest *ret, const char **ret_why) {
        json_object *body = json_object_new_object(), *msgs = json_object_new_array();
        int r;

        ret->body = body;
        if (!body || !msgs || json_add(body, "model", json_object_new_string(in->model->model)) < 0 ||
            json_add(body, "messages", msgs) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(in->messages); i++) {
                json_object *w = NULL;

                r = llm_wire_message_with(in, i, llm_openai_message, &w, ret_why);
                if (r < 0)
                        return r;
                if (json_append(msgs, w) < 0)
                        return -ENOMEM;
        }
        if (in->tools && json_object_array_length(in->tools) > 0 &&
            json_add(body, "tools", llm_tool_declarations(in, "parameters", true, true)) < 0)
                return -ENOMEM;
        if (in->model->max_output_tokens > 0 &&
            json_add(body, in->type == LLM_PROVIDER_OPENAI ? "max_completion_tokens" : "max_tokens",
                     json_object_new_int64((int64_t) in->model->max_output_tokens)) < 0)
                return -ENOMEM;
        if (in->model->has_temperature &&
            json_add(body, "temperature", json_object_new_double(in->model->temperature)) < 0)
                return -ENOMEM;

        ret->url = asprintf_safe("%s/chat/completions", in->endpoint);
        if (!ret->url)
                return -ENOMEM;
        if (in->api_key && llm_request_add_bearer(ret, in->api_key) < 0)
                return -ENOMEM;
        return 0;
}

int llm_openai_parse(json_object *answer, const LlmNameTable *names, LlmResponse *resp,
                     const char **ret_why) {
        json_object *choices = json_get(answer, "choices"), *msg, *calls;
        const char *content;
        int r;

        if (!choices || !json_object_is_type(choices, json_type_array) ||
            json_object_array_length(choices) == 0) {
                *ret_why = "the answer has no choices";
                return -EBADMSG;
        }
        msg = json_get(json_object_array_get_idx(choices, 0), "message");
        if (!msg) {
                *ret_why = "choices[0] has no message";
                return -EBADMSG;
        }
        content = json_get_string(msg, "content");
        r = llm_response_add_text(resp, content);
        if (r < 0)
                return r;
        calls = json_get(msg, "tool_calls");
        for (size_t i = 0;
             calls && json_object_is_type(calls, json_type_array) && i < json_object_array_length(calls);
             i++) {
                json_object *c = json_object_array_get_idx(calls, i), *f = json_get(c, "function"),
                            *args = NULL;
                json_object *a = json_get(f, "arguments");
                const char *name = json_get_string(f, "name");

                if (!name) {
                        *ret_why = "a tool call has no function name";
                        return -EBADMSG;
                }
                if (a && json_object_is_type(a, json_type_string) && !isempty(json_object_get_string(a))) {
                        const char *s = json_object_get_string(a);
                        r = json_parse_object(s, strlen(s), 64, &args);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0) {
                                *ret_why = "a tool call's arguments are not a JSON object";
                                return -EBADMSG;
                        }
                } else if (a && json_object_is_type(a, json_type_object))
                        args = json_object_get(a); /* some compatible servers send the object */
                r = llm_response_add_tool_call(resp, json_get_string(c, "id"), name, names, args);
                if (r < 0)
                        return r;
        }
        resp->tokens_in = (uint64_t) MAX(json_get_int(json_get(answer, "usage"), "prompt_tokens", NULL), 0);
        resp->tokens_out =
                (uint64_t) MAX(json_get_int(json_get(answer, "usage"), "completion_tokens", NULL), 0);
        return 0;
}
