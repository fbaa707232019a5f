/* llm.h — the LLM providers of the inner loop: one call "generate the next turn of this
 * conversation with these tools" over any configured provider, on aegisd's sd-event loop.
 *
 * The conversation and the tools are provider-neutral json-c values, the same ones the store
 * keeps after every turn (so a fallback provider, or an aegisd restarted mid-iteration, goes
 * on with the same conversation):
 *
 *   messages: [ {"role":"system","content":"…"},
 *               {"role":"user","content":"…"},
 *               {"role":"assistant","content":"…" or null,
 *                "tool_calls":[{"id":"call_1","name":"cmd.run","arguments":{…}}]},
 *               {"role":"tool","tool_call_id":"call_1","name":"cmd.run","content":"…"} ]
 *   tools:    [ {"name":"cmd.run","description":"…","parameters":{JSON Schema}} ]
 *
 * Tool names are ours ("fs.create_dir"); each provider's wire spelling is made and read back
 * through a table, never by rewriting characters (the reference turns every "_" back into ".").
 *
 * Invariants: a call's done() runs exactly once unless the call is cancelled first, never
 * from inside llm_generate(); retries (429, 5xx, network errors; Retry-After honoured) and
 * the fallback provider all happen inside the call's one overall deadline; API keys never
 * appear in an Error, a log line, a metric label or a response. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "error.h"
#include "macros.h"

struct json_object;
struct MetricsRegistry;

/* What went wrong, as the dispatch protocol reports it: {"error":"<tag>: <message>"} with
 * the tag's HTTP status (the reference's tags and statuses). */
typedef enum LlmErrorKind {
        LLM_ERROR_NONE,
        LLM_ERROR_AUTHENTICATION, /* "upstream_authentication", 502 */
        LLM_ERROR_RATE_LIMIT, /* "upstream_rate_limit", 429 */
        LLM_ERROR_MODEL_NOT_FOUND, /* "upstream_model_not_found", 502 */
        LLM_ERROR_INVALID_INPUT, /* "upstream_invalid_input", 502 */
        LLM_ERROR_UNAVAILABLE, /* "upstream_unavailable", 503 */
        LLM_ERROR_NETWORK, /* "upstream_network", 502 (a provider that never answers: timeout) */
        LLM_ERROR_PROVIDER, /* "upstream_provider", 502: any other provider answer we cannot use */
        LLM_ERROR_CONFIG, /* "configuration", 500: unknown alias, no provider configured */
        LLM_ERROR_INTERNAL, /* "internal", 500 */
        _LLM_ERROR_MAX,
} LlmErrorKind;

const char *llm_error_tag(LlmErrorKind k);
unsigned llm_error_http_status(LlmErrorKind k);

typedef struct LlmToolCall {
        char *id; /* the provider's call id, or one we made ("call_N") when it gives none */
        char *name; /* our spelling: "cmd.run", "fs.create_dir" */
        struct json_object *arguments; /* always an object (owned) */
} LlmToolCall;

typedef struct LlmResponse {
        char *content; /* the model's text; NULL when it only asked for tools */
        LlmToolCall *tool_calls;
        size_t n_tool_calls;
        char *provider; /* the provider that answered (llm.providers[].name) */
        char *model; /* its model name */
        uint64_t tokens_in, tokens_out;
        uint64_t latency_usec; /* the whole call, retries included */
        unsigned attempts; /* HTTP requests made, over every provider */
} LlmResponse;

typedef struct LlmClient LlmClient;
typedef struct LlmCall LlmCall;

/* The llm: section of the configuration (config.h) with the keys resolved: api_key "env:VAR"
 * is looked up in the environment, then in $CREDENTIALS_DIRECTORY/VAR (a systemd credential).
 * Errors name the provider and the key. */
int llm_client_new(sd_event *event, const Config *config, LlmClient **ret, Error *e);
LlmClient *llm_client_free(LlmClient *c);

/* An api_key "env:VAR" of the configuration (llm providers, tools.web_search): $VAR, else the
 * systemd credential $CREDENTIALS_DIRECTORY/VAR, without a trailing newline, refused when it
 * is empty or holds control characters. Errors are "WHO: api_key env:VAR: …" on field (the
 * key's name). *ret is freed with api_key_free(), which wipes it. */
int api_key_resolve(const char *var, const char *field, const char *who, char **ret, Error *e);
void api_key_free(char *key);
DEFINE_TRIVIAL_CLEANUP_FUNC(LlmClient *, llm_client_free);

/* Whether alias names a configured model ("default" is the default provider's first model). */
bool llm_client_has_alias(const LlmClient *c, const char *alias);

/* Registers aegis_llm_requests_total{provider,outcome}, aegis_llm_tokens_total{provider,
 * direction} and aegis_llm_request_duration_seconds{provider}; the client keeps them current. */
int llm_client_register_metrics(LlmClient *c, struct MetricsRegistry *reg);

/* r ≥ 0: resp is valid during the callback only. r < 0: kind and message say why (message
 * never holds a key). */
typedef void (*llm_done_fn)(int r, const LlmResponse *resp, LlmErrorKind kind, const char *message,
                            void *userdata);

/* What one conversation's calls keep between its turns: its tool names and the wire text of
 * the messages already sent, so a turn costs its own messages rather than the whole
 * conversation again. Owned by the conversation's owner, given to every llm_generate() of
 * that conversation, and valid only while the conversation is only ever appended to (a
 * conversation whose earlier messages are not the same objects any more is noticed, and the
 * cache made again). Freed after the last call that used it ended or was cancelled. */
typedef struct LlmConversation LlmConversation;
int llm_conversation_new(LlmConversation **ret);
LlmConversation *llm_conversation_free(LlmConversation *c);

/* Asks the model behind alias for the next turn. messages and tools are borrowed until
 * done() runs or the call is cancelled (tools may be NULL: no tools offered); conv (may be
 * NULL) is the conversation's cache, used and updated by the call. timeout_usec
 * bounds the whole call, retries and fallback included (0 = llm.selection.overall_timeout_secs).
 * Returns < 0 only when the call cannot be made at all (-ENOMEM, -EINVAL: messages or tools
 * not arrays); an unknown alias or no provider is LLM_ERROR_CONFIG through done(), like any
 * other failure. The alias is looked up on the default provider, then on the others in order. */
int llm_generate(LlmClient *c, const char *alias, struct json_object *messages, struct json_object *tools,
                 LlmConversation *conv, uint64_t timeout_usec, llm_done_fn done, void *userdata,
                 LlmCall **ret);
/* done() will not run. NULL is fine. */
void llm_call_cancel(LlmCall *call);

void llm_response_done(LlmResponse *r);
/* What an llm_call_finished event says of a call that answered, added to payload: provider,
 * model, tokens_in, tokens_out, latency_ms, attempts and outcome "ok". One shape for every
 * caller (the inner loop, the judges). */
void llm_response_event_fields(const LlmResponse *r, struct json_object *payload);
