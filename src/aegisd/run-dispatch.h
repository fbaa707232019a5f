/* run-dispatch.h — one iteration's inner loop: the LLM conversation aegisd holds on behalf of
 * the container's bootstrap (issue 14), spoken over the dispatch protocol
 * (POST /d/{capability}/v1/dispatch-gateway, see aegis-api(7)).
 *
 *   bootstrap: {"type":"generate",…}        → aegisd calls the model with the conversation
 *   model asks for cmd.run                   → {"type":"dispatch",…} to the bootstrap
 *   bootstrap: {"type":"dispatch_result",…}  → the result goes back to the model …
 *   model answers with text only             → {"content","tool_calls_executed"}: final
 *
 * Tools (tools.h): the ones offered are spec.tools ∩ what the context's offer hook allows ∩
 * what is available (tool_available()). A call of the model goes, in order, through
 *   1. the policy check (check hook, synchronous): denied → "Tool 'X' is not available: why"
 *      for the model, a policy_violation event, the violation recorded in the conversation;
 *   2. the tool's own argument check (cmd.run: ToolDef.dispatch): bad → an error result;
 *   3. the review (review hook, asynchronous: the pre-call judge, tool_validation): refused →
 *      an error result with the reviewer's reason;
 *   4. the admission (admit hook, asynchronous: max_concurrent): the call waits its turn;
 *   5. the run: a container tool becomes the pending dispatch; a host tool starts
 *      (ToolDef.start) and the loop goes on when it completes.
 * Unknown tools, bad arguments, refusals and tool errors are results for the model; only what
 * it cannot fix (a tool that cannot start: out of memory, no event loop) ends the loop.
 *
 * What must stay true:
 *  - every request is answered exactly once (now or when the model answers) with the current
 *    state's answer, so a repeated generate or dispatch_result (the bootstrap reconnecting
 *    after a broken connection or an aegisd restart) never causes a second model call for the
 *    same turn nor a second dispatch: it gets the pending dispatch again, or the final answer;
 *    while the model thinks or a host tool (or a review) runs, it keeps waiting;
 *  - the conversation (messages, pending dispatch, rounds, tokens, violations, final content,
 *    capability) is written to the store after every turn and before every tool starts, so
 *    run_dispatch_resume() continues it: a model call or a host tool call (state "tool": its
 *    review included) that was in flight is made again; a host tool's result is in the
 *    messages once it completed (so it is used, never recomputed); what one step (a request,
 *    the model's answer, a tool's result, a review) records — its events and its saves — is
 *    one store transaction, committed before its answer or its model request leaves aegisd;
 *  - every tool call of a batch runs (or is refused), in order; at most max_tool_rounds model
 *    turns ask for tools, then the iteration fails;
 *  - on_finished runs once, when the final content is known or the loop failed; afterwards
 *    requests get that outcome again (idempotent) and nothing else happens.
 *
 * The model is reached through RunDispatchModel (llm.h's llm_generate in aegisd, a script in
 * tests/unit/test-run-dispatch.c), so this file holds the protocol and nothing of HTTP. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "llm.h"
#include "macros.h"
#include "run-part.h"
#include "store.h"
#include "tools.h"

struct json_object;

#define RUN_DISPATCH_CAPABILITY_LEN 64 /* hex characters: 32 random bytes */
#define RUN_DISPATCH_TOOL_CMD_RUN TOOL_CMD_RUN

/* How the conversation reaches a model: llm_generate()/llm_call_cancel()/llm_error_tag()/
 * llm_error_http_status() with the daemon's LlmClient as model. */
typedef struct RunDispatchModel {
        int (*generate)(void *model, const char *alias, struct json_object *messages,
                        struct json_object *tools, LlmConversation *conv, uint64_t timeout_usec,
                        llm_done_fn done, void *userdata, LlmCall **ret);
        void (*cancel)(LlmCall *call);
        const char *(*error_tag)(LlmErrorKind k);
        unsigned (*error_status)(LlmErrorKind k);
        void *model;
} RunDispatchModel;

typedef struct RunDispatch RunDispatch;

/* The end of a review: allowed, or refused with a reason for the model (may be NULL). */
typedef void (*run_dispatch_verdict_fn)(bool allowed, const char *reason, void *userdata);

typedef struct RunDispatchContext {
        const char *execution_id;
        unsigned iteration;
        const char *model_alias; /* spec.runtime.model */
        const char *prompt; /* the rendered prompt: the user message */
        char *const *tools; /* spec.tools (NULL = none offered) */
        uint64_t llm_timeout_usec; /* one model call, retries and fallback included */
        unsigned max_tool_rounds; /* llm.max_tool_rounds */
        const RunDispatchModel *model;
        Store *store; /* written after every turn */
        const ToolEnv *tool_env; /* host tools' environment, borrowed (NULL: container tools only) */

        /* Policy hooks (all optional: NULL allows everything); userdata below.
         *  offer:  whether a tool of spec.tools may be offered at all (the security context's
         *          tool patterns and deny list), asked once per tool when the loop opens.
         *  check:  before every call of a catalogue tool, offered or not, with the model's
         *          arguments (an object, possibly empty): 0 allowed, 1 denied with *ret_reason
         *          (malloc'd, shown to the model, so nothing secret; may be NULL), < 0 an
         *          error (the call is denied). A denial is reported as a policy_violation event
         *          by this object; counting it is the owner's (event callback).
         *  review: after check and the arguments' check, the pre-call judge (tool_validation):
         *          returns 0 and later calls done once (never from inside review), unless
         *          review_cancel(*ret_handle) came first; < 0 refuses the call. 0 with a NULL
         *          *ret_handle = no review needed for this call (done is never called). */
        bool (*offer)(void *userdata, const char *tool);
        int (*check)(void *userdata, const char *tool, struct json_object *args, char **ret_reason);
        int (*review)(void *userdata, const char *tool, struct json_object *args,
                      run_dispatch_verdict_fn done, void *done_userdata, void **ret_handle);
        void (*review_cancel)(void *handle);
        /*  admit:  after the review, right before the call runs (the context's max_concurrent):
         *          1 runs it now, 0 makes it wait — admitted(done_userdata) runs once later
         *          (never from inside admit), unless admit_release(*ret_handle) came first —,
         *          < 0 refuses the call. *ret_handle (NULL = nothing held) is given back with
         *          admit_release() once the call ended, whatever its outcome. A dispatch in
         *          flight across an aegisd restart is not admitted again. */
        int (*admit)(void *userdata, const char *tool, void (*admitted)(void *done_userdata),
                     void *done_userdata, void **ret_handle);
        void (*admit_release)(void *handle);

        /* Reports (all optional). event: llm_call_* / tool_call_* / policy_violation for SSE,
         * journal and store (takes payload). log: one line about this iteration (store failures). finished: once,
         * ok with the final content or !ok with the reason the loop failed; it must not free
         * the RunDispatch (free it from the iteration's end). */
        void (*event)(void *userdata, const char *type, struct json_object *payload);
        run_part_log_fn log;
        void (*finished)(void *userdata, bool ok, const char *content_or_reason);
        void *userdata;
} RunDispatchContext;

/* A fresh conversation with a new random capability, written to the store at once (the
 * capability outlives an aegisd restart: the container keeps its URL). */
int run_dispatch_new(const RunDispatchContext *c, RunDispatch **ret);
/* The stored conversation of (c->execution_id, c->iteration), continued: a model call that
 * was in flight is made again. -ENOENT when none is stored. */
int run_dispatch_resume(const RunDispatchContext *c, RunDispatch **ret);
/* A request still waiting gets 404 {"error":"… iteration is over"}. */
RunDispatch *run_dispatch_free(RunDispatch *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(RunDispatch *, run_dispatch_free);

const char *run_dispatch_capability(const RunDispatch *d);
/* Whether the loop ended (final content or failure). */
bool run_dispatch_finished(const RunDispatch *d);
/* Whether a request's body speaks for this iteration: the "execution_id" and
 * "iteration_number" it carries (both optional, as in the reference's protocol) are this
 * conversation's. A capability presented with another iteration's identity is refused by the
 * gateway like an unknown one. */
bool run_dispatch_speaks_for(const RunDispatch *d, struct json_object *body);
/* The final content, or NULL. */
const char *run_dispatch_final(const RunDispatch *d);

/* How a request is answered: status and a JSON body (borrowed during the call). */
typedef void (*run_dispatch_reply_fn)(unsigned status, struct json_object *answer, void *userdata);

/* One protocol request (body: the parsed JSON). reply runs exactly once — during this call or
 * later from the event loop — unless run_dispatch_forget(d, userdata) is called first (the
 * connection went away). A newer request takes over from one still waiting (which is answered
 * 409). */
void run_dispatch_request(RunDispatch *d, struct json_object *body, run_dispatch_reply_fn reply,
                          void *userdata);
void run_dispatch_forget(RunDispatch *d, void *userdata);

/* The bounded view of a stored conversation for GET /v1/executions/{id}: messages (each
 * content bounded), rounds, tool calls, tokens, policy violations, state, final content or
 * error; never the capability. NULL on a document that is not a conversation. */
struct json_object *run_dispatch_trajectory(const char *state_json);
