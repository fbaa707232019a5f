/* llm-formats.c — the table of wire formats (llm-openai.c, llm-anthropic.c, llm-ollama.c,
 * llm-gemini.c) and the calls that go through it: a request built, one message's wire form,
 * an answer parsed, each by in->type's format. Above the formats and llm-wire.c (which they
 * all use); nothing below calls back into it. */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>

#include "json-body.h"
#include "json-util.h"
#include "llm-internal.h"
#include "util.h"

typedef struct LlmWire {
        int (*build)(const LlmRequestInput *in, LlmHttpRequest *ret, const char **ret_why);
        int (*parse)(json_object *answer, const LlmNameTable *names, LlmResponse *resp,
                     const char **ret_why);
        LlmMessageFn message; /* NULL: the format groups messages (no one-to-one wire message) */
} LlmWire;

static const LlmWire wires[_LLM_PROVIDER_TYPE_MAX] = {
        [LLM_PROVIDER_OPENAI] = { llm_openai_build, llm_openai_parse, llm_openai_message },
        [LLM_PROVIDER_OPENAI_COMPATIBLE] = { llm_openai_build, llm_openai_parse, llm_openai_message },
        [LLM_PROVIDER_ANTHROPIC] = { llm_anthropic_build, llm_anthropic_parse, NULL },
        [LLM_PROVIDER_OLLAMA] = { llm_ollama_build, llm_ollama_parse, llm_ollama_message },
        [LLM_PROVIDER_GEMINI] = { llm_gemini_build, llm_gemini_parse, NULL },
};

bool llm_wire_has_messages(LlmProviderType type) {
        assert(type >= 0 && type < _LLM_PROVIDER_TYPE_MAX);
        return wires[type].message;
}

int llm_wire_message(const LlmRequestInput *in, size_t i, json_object **ret, const char **ret_why) {
        assert(in && in->type >= 0 && in->type < _LLM_PROVIDER_TYPE_MAX);
        assert(in->messages && in->names && ret);
        if (!wires[in->type].message)
                return -EOPNOTSUPP;
        return llm_wire_message_with(in, i, wires[in->type].message, ret, ret_why);
}

int llm_build_request(const LlmRequestInput *in, LlmHttpRequest *ret, const char **ret_why) {
        LlmHttpRequest req = {};
        int r;

        assert(in && in->type >= 0 && in->type < _LLM_PROVIDER_TYPE_MAX);
        assert(in->messages && in->model && in->names);
        if (!json_object_is_type(in->messages, json_type_array)) {
                *ret_why = "the conversation is not a list of messages";
                return -EINVAL;
        }
        r = wires[in->type].build(in, &req, ret_why);
        if (r >= 0)
                r = llm_request_add_header(&req, "Content-Type", "application/json");
        if (r < 0) {
                llm_http_request_done(&req);
                return r;
        }
        *ret = req;
        return 0;
}

int llm_parse_response(LlmProviderType type, const char *body, size_t size, const LlmNameTable *names,
                       LlmResponse *resp, const char **ret_why) {
        json_object *j = NULL;
        int r;

        assert(type >= 0 && type < _LLM_PROVIDER_TYPE_MAX);
        r = json_parse_object(body, size, 128, &j);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_why = "the answer is not a JSON object";
                return -EBADMSG;
        }
        r = wires[type].parse(j, names, resp, ret_why);
        json_object_put(j);
        return r;
}
