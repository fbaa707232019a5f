/* llm-gemini.c — Google Gemini (POST {endpoint}/v1beta/models/{model}:generateContent, the
 * key in the "x-goog-api-key" header, never in the URL where it would reach access logs).
 *
 * System prompts become systemInstruction; messages become contents of role "user" or
 * "model" made of parts: text, functionCall {name, args} (the model's call) and
 * functionResponse {name, response: {content}} (our result, in a user turn; Gemini pairs it by
 * name, so a tool message without "name" takes the name of the call it answers). Consecutive
 * turns of one role are merged. Tools: one {"functionDeclarations": […]}, whose "parameters"
 * are cut down to the OpenAPI 3.0 subset Gemini's Schema object takes (gemini_schema()):
 * a JSON Schema keyword it does not know, such as additionalProperties, makes it refuse the
 * whole request with 400. */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>

#include "json-body.h"
#include "llm-internal.h"
#include "util.h"

/* The keywords of Gemini's Schema object that a tool's JSON Schema may carry over as they are;
 * properties and items are filtered recursively, "type": [T, "null"] becomes T + nullable. */
static const char *const gemini_schema_keys[] = {
        "type",     "format",  "description", "nullable",  "enum",      "required", "minItems",
        "maxItems", "minimum", "maximum",     "minLength", "maxLength", NULL,
};

static json_object *gemini_schema(json_object *s) {
        json_object *o, *v;

        if (!json_object_is_type(s, json_type_object))
                return json_object_new_object();
        o = json_object_new_object();
        for (size_t i = 0; o && gemini_schema_keys[i]; i++)
                if (json_object_object_get_ex(s, gemini_schema_keys[i], &v) &&
                    json_add(o, gemini_schema_keys[i], json_object_get(v)) < 0)
                        goto oom;
        if (json_object_object_get_ex(s, "type", &v) && json_object_is_type(v, json_type_array)) {
                const char *t = NULL;
                bool null = false;

                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        const char *e = json_object_get_string(json_object_array_get_idx(v, i));
                        if (streq(e, "null"))
                                null = true;
                        else if (!t)
                                t = e;
                }
                json_object_object_del(o, "type");
                if ((t && json_add(o, "type", json_object_new_string(t)) < 0) ||
                    (null && json_add(o, "nullable", json_object_new_boolean(true)) < 0))
                        goto oom;
        }
        if (json_object_object_get_ex(s, "items", &v) && json_add(o, "items", gemini_schema(v)) < 0)
                goto oom;
        if (json_object_object_get_ex(s, "properties", &v) && json_object_is_type(v, json_type_object)) {
                json_object *props = json_object_new_object();

                if (json_add(o, "properties", props) < 0)
                        goto oom;
                json_object_object_foreach (v, name, sub)
                        if (json_add(props, name, gemini_schema(sub)) < 0)
                                goto oom;
        }
        return o;
oom:
        json_object_put(o);
        return NULL;
}

/* The declarations llm_tool_declarations() made, each "parameters" replaced by gemini_schema(). */
static json_object *gemini_declarations(const LlmRequestInput *in) {
        json_object *a = llm_tool_declarations(in, "parameters", false, false), *p;

        for (size_t i = 0; a && i < json_object_array_length(a); i++) {
                json_object *d = json_object_array_get_idx(a, i);

                if (json_object_object_get_ex(d, "parameters", &p) &&
                    json_add(d, "parameters", gemini_schema(p)) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

static int add_text_part(json_object *parts, const char *text) {
        json_object *p = json_object_new_object();

        if (json_append(parts, p) < 0)
                return -ENOMEM;
        return json_add(p, "text", json_object_new_string(text));
}

/* contents stays the caller's: it joins the body only once complete, after systemInstruction. */
static int build(const LlmRequestInput *in, json_object *contents, LlmHttpRequest *ret,
                 const char **ret_why) {
        json_object *body = json_object_new_object(), *gen;
        _cleanup_free_ char *system = NULL;
        const char *model = startswith(in->model->model, "models/") ?: in->model->model;
        char *escaped;

        ret->body = body;
        if (!body || !contents)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(in->messages); i++) {
                json_object *m = json_object_array_get_idx(in->messages, i), *parts, *calls;
                const char *role = json_get_string(m, "role"), *text = llm_message_text(m);

                if (streq(role, "system")) {
                        if (llm_join_system(&system, text) < 0)
                                return -ENOMEM;
                } else if (streq(role, "user")) {
                        parts = llm_last_turn(contents, "user", "parts");
                        if (!parts || (!isempty(text) && add_text_part(parts, text) < 0))
                                return -ENOMEM;
                } else if (streq(role, "assistant")) {
                        parts = llm_last_turn(contents, "model", "parts");
                        if (!parts || (!isempty(text) && add_text_part(parts, text) < 0))
                                return -ENOMEM;
                        calls = json_get(m, "tool_calls");
                        for (size_t j = 0; calls && j < json_object_array_length(calls); j++) {
                                json_object *c = json_object_array_get_idx(calls, j),
                                            *args = json_get(c, "arguments");
                                json_object *p = json_object_new_object(), *fc = json_object_new_object();
                                if (json_append(parts, p) < 0 || json_add(p, "functionCall", fc) < 0 ||
                                    json_add(fc, "name",
                                             json_object_new_string(strempty(llm_names_to_wire(
                                                     in->names, json_get_string(c, "name"))))) < 0 ||
                                    json_add(fc, "args",
                                             args ? json_object_get(args) : json_object_new_object()) < 0)
                                        return -ENOMEM;
                        }
                } else if (streq(role, "tool")) {
                        const char *name = llm_tool_result_name(in->messages, i);
                        json_object *p, *fr, *resp;
                        if (!name) {
                                *ret_why = "a tool result names neither its tool nor a call of the "
                                           "conversation";
                                return -EINVAL;
                        }
                        parts = llm_last_turn(contents, "user", "parts");
                        p = json_object_new_object();
                        fr = json_object_new_object();
                        resp = json_object_new_object();
                        if (!parts || json_append(parts, p) < 0 || json_add(p, "functionResponse", fr) < 0 ||
                            json_add(fr, "name",
                                     json_object_new_string(strempty(llm_names_to_wire(in->names, name)))) <
                                    0 ||
                            json_add(fr, "response", resp) < 0 ||
                            json_add(resp, "content", json_object_new_string(text)) < 0)
                                return -ENOMEM;
                } else {
                        *ret_why = "a message has no role Gemini knows (system, user, assistant, tool)";
                        return -EINVAL;
                }
        }
        if (system) {
                json_object *si = json_object_new_object(), *parts = json_object_new_array();
                if (json_add(body, "systemInstruction", si) < 0 || json_add(si, "parts", parts) < 0 ||
                    add_text_part(parts, system) < 0)
                        return -ENOMEM;
        }
        if (json_add(body, "contents", json_object_get(contents)) < 0)
                return -ENOMEM;
        if (in->tools && json_object_array_length(in->tools) > 0) {
                json_object *tools = json_object_new_array(), *t0 = json_object_new_object();
                if (json_add(body, "tools", tools) < 0 || json_append(tools, t0) < 0 ||
                    json_add(t0, "functionDeclarations", gemini_declarations(in)) < 0)
                        return -ENOMEM;
        }
        if (in->model->max_output_tokens > 0 || in->model->has_temperature) {
                gen = json_object_new_object();
                if (json_add(body, "generationConfig", gen) < 0)
                        return -ENOMEM;
                if (in->model->max_output_tokens > 0 &&
                    json_add(gen, "maxOutputTokens",
                             json_object_new_int64((int64_t) in->model->max_output_tokens)) < 0)
                        return -ENOMEM;
                if (in->model->has_temperature &&
                    json_add(gen, "temperature", json_object_new_double(in->model->temperature)) < 0)
                        return -ENOMEM;
        }
        escaped = curl_easy_escape(NULL, model, 0);
        if (!escaped)
                return -ENOMEM;
        ret->url = asprintf_safe("%s/v1beta/models/%s:generateContent", in->endpoint, escaped);
        curl_free(escaped);
        if (!ret->url)
                return -ENOMEM;
        if (in->api_key && llm_request_add_header(ret, "x-goog-api-key", in->api_key) < 0)
                return -ENOMEM;
        return 0;
}

int llm_gemini_build(const LlmRequestInput *in, LlmHttpRequest *ret, const char **ret_why) {
        json_object *contents = json_object_new_array();
        int r;

        if (!contents)
                return -ENOMEM;
        r = build(in, contents, ret, ret_why);
        json_object_put(contents);
        return r;
}

int llm_gemini_parse(json_object *answer, const LlmNameTable *names, LlmResponse *resp,
                     const char **ret_why) {
        json_object *cands = json_get(answer, "candidates"), *parts,
                    *usage = json_get(answer, "usageMetadata");
        int r;

        if (!cands || !json_object_is_type(cands, json_type_array) || json_object_array_length(cands) == 0) {
                *ret_why = json_get_path(answer, "promptFeedback", "blockReason", NULL)
                                   ? "the prompt was blocked (promptFeedback.blockReason)"
                                   : "the answer has no candidates";
                return -EBADMSG;
        }
        parts = json_get_path(json_object_array_get_idx(cands, 0), "content", "parts", NULL);
        for (size_t i = 0;
             parts && json_object_is_type(parts, json_type_array) && i < json_object_array_length(parts);
             i++) {
                json_object *p = json_object_array_get_idx(parts, i), *fc = json_get(p, "functionCall");

                if (fc) {
                        json_object *args = json_get(fc, "args");
                        const char *name = json_get_string(fc, "name");
                        if (!name || (args && !json_object_is_type(args, json_type_object))) {
                                *ret_why = "a functionCall has no name or args that are not an object";
                                return -EBADMSG;
                        }
                        r = llm_response_add_tool_call(resp, json_get_string(fc, "id"), name, names,
                                                       args ? json_object_get(args) : NULL);
                } else if (json_get_bool(p, "thought"))
                        r = 0;
                else
                        r = llm_response_add_text(resp, json_get_string(p, "text"));
                if (r < 0)
                        return r;
        }
        resp->tokens_in = (uint64_t) MAX(json_get_int(usage, "promptTokenCount", NULL), 0);
        resp->tokens_out = (uint64_t) MAX(json_get_int(usage, "candidatesTokenCount", NULL), 0);
        return 0;
}
