/* llm-internal.h — what llm.c and the wire formats (llm-openai.c, llm-anthropic.c,
 * llm-ollama.c, llm-gemini.c) share, and what the unit tests check without a network.
 *
 * A wire format turns the neutral conversation of llm.h into one HTTP request (path, headers,
 * JSON body) and one answer back into an LlmResponse. Tool names cross through an LlmNameTable
 * made per call: both directions are table look-ups, so "fs.create_dir" comes back as
 * "fs.create_dir" whatever the provider's spelling. Not for use outside src/aegisd/llm*.c and
 * tests. */
#pragma once

#include <curl/curl.h>

#include "llm.h"

struct json_object;

/* Bound on one provider answer. */
#define LLM_RESPONSE_MAX (8U * 1024U * 1024U)
/* Longest wire name every provider accepts ([A-Za-z0-9_-]{1,64}). */
#define LLM_WIRE_NAME_MAX 64

typedef struct LlmNameTable {
        char **ours; /* "fs.create_dir" */
        char **wire; /* "fs__create_dir", or "tool_3" when the spelling would clash or be too long */
        size_t n;
} LlmNameTable;

/* Every tool name of tools and of the conversation's tool calls and results, each with a wire
 * spelling unique within the table. */
int llm_names_build(struct json_object *tools, struct json_object *messages, LlmNameTable *ret);
/* Adds the names of messages[from, …) to t: a table built from a conversation's first
 * messages and extended with the next ones is the table of the whole (names keep their wire
 * spelling once given). */
int llm_names_extend(LlmNameTable *t, struct json_object *messages, size_t from);
int llm_names_copy(const LlmNameTable *t, LlmNameTable *ret);
void llm_names_done(LlmNameTable *t);
/* NULL when name is not in the table. */
const char *llm_names_to_wire(const LlmNameTable *t, const char *ours);
const char *llm_names_from_wire(const LlmNameTable *t, const char *wire);

/* What one request needs. api_key may be NULL. */
typedef struct LlmRequestInput {
        LlmProviderType type;
        const char *endpoint; /* no trailing "/" */
        const char *api_key;
        const ConfigLlmModel *model;
        struct json_object *messages;
        struct json_object *tools; /* may be NULL */
        const LlmNameTable *names;
} LlmRequestInput;

typedef struct LlmHttpRequest {
        char *url;
        char **headers; /* "Name: value", NULL-terminated (may hold the key: never log them) */
        struct json_object *body;
} LlmHttpRequest;

void llm_http_request_done(LlmHttpRequest *r);

/* Builds the request of in->type: -EINVAL with *ret_why (static text) when the conversation
 * cannot be expressed (a message without a role, a tool result without its call, …). */
int llm_build_request(const LlmRequestInput *in, LlmHttpRequest *ret, const char **ret_why);
/* The wire form of in->messages[i] alone, as llm_build_request() puts it in its "messages"
 * array, for the formats whose messages map one to one onto the conversation's (OpenAI,
 * OpenAI-compatible, Ollama); -EOPNOTSUPP for the others (Anthropic and Gemini group tool
 * results), -EINVAL with *ret_why like llm_build_request(). */
bool llm_wire_has_messages(LlmProviderType type);
int llm_wire_message(const LlmRequestInput *in, size_t i, struct json_object **ret, const char **ret_why);
/* A format's part of one message: the rest of in->messages[i] (m, its role already in w and
 * checked). */
typedef int (*LlmMessageFn)(const LlmRequestInput *in, size_t i, struct json_object *m, const char *role,
                            struct json_object *w, const char **ret_why);
/* llm_wire_message() with the format's message given (llm-wire.c): what the formats call, so
 * that they need not go through the table of formats (llm-formats.c). */
int llm_wire_message_with(const LlmRequestInput *in, size_t i, LlmMessageFn message,
                          struct json_object **ret, const char **ret_why);
/* llm-conversation.c: the names of tools and messages (a copy for the call), from the
 * conversation's cache. */
int llm_conversation_names(LlmConversation *c, struct json_object *tools, struct json_object *messages,
                           LlmNameTable *ret);
/* For a format with llm_wire_has_messages(): the request llm_build_request() would make, with
 * its body as text in *ret_body (*ret_len bytes; ret->body is the body without messages). */
int llm_conversation_request(LlmConversation *c, const LlmRequestInput *in, LlmHttpRequest *ret,
                             char **ret_body, size_t *ret_len, const char **ret_why);
/* Parses a 2xx answer of type into resp (provider/model/latency/attempts left untouched):
 * -EBADMSG with *ret_why (static text) when it is not an answer we can use. */
int llm_parse_response(LlmProviderType type, const char *body, size_t size, const LlmNameTable *names,
                       LlmResponse *resp, const char **ret_why);

/* The wire formats. Each fills ret (the body and headers beyond Content-Type). */
int llm_openai_build(const LlmRequestInput *in, LlmHttpRequest *ret, const char **ret_why);
/* The rest of in->messages[i] (m, its role already in w and checked), for llm_wire_message(). */
int llm_openai_message(const LlmRequestInput *in, size_t i, struct json_object *m, const char *role,
                       struct json_object *w, const char **ret_why);
int llm_openai_parse(struct json_object *answer, const LlmNameTable *names, LlmResponse *resp,
                     const char **ret_why);
int llm_anthropic_build(const LlmRequestInput *in, LlmHttpRequest *ret, const char **ret_why);
int llm_anthropic_parse(struct json_object *answer, const LlmNameTable *names, LlmResponse *resp,
                        const char **ret_why);
int llm_ollama_build(const LlmRequestInput *in, LlmHttpRequest *ret, const char **ret_why);
int llm_ollama_message(const LlmRequestInput *in, size_t i, struct json_object *m, const char *role,
                       struct json_object *w, const char **ret_why);
int llm_ollama_parse(struct json_object *answer, const LlmNameTable *names, LlmResponse *resp,
                     const char **ret_why);
int llm_gemini_build(const LlmRequestInput *in, LlmHttpRequest *ret, const char **ret_why);
int llm_gemini_parse(struct json_object *answer, const LlmNameTable *names, LlmResponse *resp,
                     const char **ret_why);

/* Shared by the wire formats. */
int llm_request_add_header(LlmHttpRequest *r, const char *name, const char *value);
/* "Authorization: Bearer KEY". */
int llm_request_add_bearer(LlmHttpRequest *r, const char *key);
/* Appends a system message's text to *system (paragraphs), for formats with one system prompt. */
int llm_join_system(char **system, const char *text);
/* A tool call of resp: takes arguments (NULL = {}); id NULL = "call_<index>". */
int llm_response_add_tool_call(LlmResponse *resp, const char *id, const char *wire_name,
                               const LlmNameTable *names, struct json_object *arguments);
/* Appends text to resp->content. */
int llm_response_add_text(LlmResponse *resp, const char *text);
/* A message's content as text ("" when null; non-string contents as their JSON). */
const char *llm_message_text(struct json_object *message);
/* The tool a "tool" message (index i of messages) answers: its "name", else the name of the
 * call its tool_call_id names in an earlier assistant message; NULL when neither. */
const char *llm_tool_result_name(struct json_object *messages, size_t i);
/* The item list (items_key) of the last element of list when its role is role, else of a new
 * element {"role": role, items_key: []}: consecutive turns of one role merge. NULL: -ENOMEM. */
struct json_object *llm_last_turn(struct json_object *list, const char *role, const char *items_key);
/* in->tools as a list of {name (wire), description, schema_key: parameters} (an empty object
 * schema when a tool has none and schema_default), each wrapped as {"function": …, "type":
 * "function"} when function_wrapper (OpenAI, Ollama). NULL: -ENOMEM. */
struct json_object *llm_tool_declarations(const LlmRequestInput *in, const char *schema_key,
                                          bool schema_default, bool function_wrapper);
/* json-c helpers that own nothing on failure. */
int json_add(struct json_object *o, const char *key, struct json_object *v);
int json_append(struct json_object *a, struct json_object *v);

/* Error classification: an HTTP status of the provider, or a transfer that got none. */
LlmErrorKind llm_classify_http(long status);
LlmErrorKind llm_classify_curl(CURLcode cc);
bool llm_error_retryable(LlmErrorKind k);
/* A Retry-After value ("120" or an HTTP date) → the wait in µs from now_realtime (µs). */
int llm_parse_retry_after(const char *value, uint64_t now_realtime_usec, uint64_t *ret_usec);
