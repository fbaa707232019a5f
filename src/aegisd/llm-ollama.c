/* llm-ollama.c — Ollama's chat (POST {endpoint}/api/chat, "stream": false).
 *
 * Messages are OpenAI-like, but a call's arguments are an object both ways, calls carry no
 * id (we number them "call_N"), and a tool result names its tool ("tool_name"). Options:
 * num_predict (max_output_tokens), temperature. A key, when configured, goes as a bearer
 * token (Ollama behind an authenticating proxy). */
#include <errno.h>
#include <json-c/json.h>

#include "json-body.h"
#include "json-util.h"
#include "llm-internal.h"
#include "util.h"

int llm_ollama_message(const LlmRequestInput *in, size_t i, json_object *m, const char *role, json_object *w,
                       const char **ret_why) {
        json_object *calls = json_get(m, "tool_calls");

        if (json_add(w, "content", json_object_new_string(llm_message_text(m))) < 0)
                return -ENOMEM;
        if (streq(role, "tool")) {
                const char *name = llm_names_to_wire(in->names, llm_tool_result_name(in->messages, i));
                if (name && json_add(w, "tool_name", json_object_new_string(name)) < 0)
                        return -ENOMEM;
        }
        if (streq(role, "assistant") && calls && json_object_array_length(calls) > 0) {
                json_object *a = json_object_new_array();
                if (json_add(w, "tool_calls", a) < 0)
                        return -ENOMEM;
                for (size_t j = 0; j < json_object_array_length(calls); j++) {
                        json_object *c = json_object_array_get_idx(calls, j),
                                    *args = json_get(c, "arguments");
                        json_object *tc = json_object_new_object(), *f = json_object_new_object();
                        if (json_append(a, tc) < 0 || json_add(tc, "function", f) < 0 ||
                            json_add(f, "name",
                                     json_object_new_string(strempty(llm_names_to_wire(
                                             in->names, json_get_string(c, "name"))))) < 0 ||
                            json_add(f, "arguments",
                                     args ? json_object_get(args) : json_object_new_object()) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

int llm_ollama_build(const LlmRequestInput *in, LlmHttpRequest *ret, const char **ret_why) {
        json_object *body = json_object_new_object(), *msgs = json_object_new_array(), *options;
        int r;

        ret->body = body;
        if (!body || !msgs || json_add(body, "model", json_object_new_string(in->model->model)) < 0 ||
            json_add(body, "messages", msgs) < 0 ||
            json_add(body, "stream", json_object_new_boolean(false)) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(in->messages); i++) {
                json_object *w = NULL;

                r = llm_wire_message_with(in, i, llm_ollama_message, &w, ret_why);
                if (r < 0)
                        return r;
                if (json_append(msgs, w) < 0)
                        return -ENOMEM;
        }
        if (in->tools && json_object_array_length(in->tools) > 0 &&
            json_add(body, "tools", llm_tool_declarations(in, "parameters", true, true)) < 0)
                return -ENOMEM;
        if (in->model->max_output_tokens > 0 || in->model->has_temperature) {
                options = json_object_new_object();
                if (json_add(body, "options", options) < 0)
                        return -ENOMEM;
                if (in->model->max_output_tokens > 0 &&
                    json_add(options, "num_predict",
                             json_object_new_int64((int64_t) in->model->max_output_tokens)) < 0)
                        return -ENOMEM;
                if (in->model->has_temperature &&
                    json_add(options, "temperature", json_object_new_double(in->model->temperature)) < 0)
                        return -ENOMEM;
        }
        ret->url = asprintf_safe("%s/api/chat", in->endpoint);
        if (!ret->url)
                return -ENOMEM;
        if (in->api_key && llm_request_add_bearer(ret, in->api_key) < 0)
                return -ENOMEM;
        return 0;
}

int llm_ollama_parse(json_object *answer, const LlmNameTable *names, LlmResponse *resp,
                     const char **ret_why) {
        json_object *msg = json_get(answer, "message"), *calls;
        int r;

        if (!msg) {
                *ret_why = "the answer has no message";
                return -EBADMSG;
        }
        r = llm_response_add_text(resp, json_get_string(msg, "content"));
        if (r < 0)
                return r;
        calls = json_get(msg, "tool_calls");
        for (size_t i = 0;
             calls && json_object_is_type(calls, json_type_array) && i < json_object_array_length(calls);
             i++) {
                json_object *c = json_object_array_get_idx(calls, i), *f = json_get(c, "function");
                json_object *args = json_get(f, "arguments");
                const char *name = json_get_string(f, "name");

                if (!name || (args && !json_object_is_type(args, json_type_object))) {
                        *ret_why = "a tool call has no function name or arguments that are not an object";
                        return -EBADMSG;
                }
                r = llm_response_add_tool_call(resp, json_get_string(c, "id"), name, names,
                                               args ? json_object_get(args) : NULL);
                if (r < 0)
                        return r;
        }
        resp->tokens_in = (uint64_t) MAX(json_get_int(answer, "prompt_eval_count", NULL), 0);
        resp->tokens_out = (uint64_t) MAX(json_get_int(answer, "eval_count", NULL), 0);
        return 0;
}
