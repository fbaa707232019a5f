/* run-dispatch.c — one iteration's inner loop (see run-dispatch.h): the conversation, its
 * states, the dispatch protocol's answers and the conversation's persistence. */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>

#include "json-util.h"
#include "run-dispatch.h"
#include "util.h"

/* 2: the messages are rows of their own (store_conversation_add_messages()); 1 kept them in
 * the state, which a resumed conversation of version 1 moves to rows at its first save. */
#define STATE_VERSION 2
#define TOOL_OUTPUT_MAX (1024 * 1024) /* what the model gets of each stream, whatever was sent */
#define EVENT_ARGUMENTS_MAX 1024 /* arguments shown in tool_call_started */
/* what the model gets of an fs dispatch's result: a 10 MiB read, escaped, and its fields */
#define FS_RESULT_MAX (12 * 1024 * 1024)
#define TRAJECTORY_CONTENT_MAX (4 * 1024) /* per message in GET /v1/executions/{id} */
#define TRAJECTORY_MESSAGES_MAX 200 /* the last ones */
#define VIOLATIONS_MAX 100 /* recorded per iteration (all are counted and reported as events) */

#define SYSTEM_PROMPT                                                                              \
        "You are an autonomous agent working inside an isolated container. Use the tools you are " \
        "offered to act on the workspace; when the task is done, answer with the final result as " \
        "plain text, without calling a tool."

typedef enum DispatchState {
        STATE_START, /* no model call made yet */
        STATE_THINKING, /* a model call is in flight (or must be made again after a restart) */
        STATE_DISPATCHED, /* a cmd.run was handed to the bootstrap: waiting for its result */
        STATE_TOOL, /* a host tool (or a review) runs for calls[batch_next] (made again after a restart) */
        STATE_FINAL,
        STATE_FAILED,
        _STATE_MAX,
} DispatchState;

static const char *const state_table[_STATE_MAX] = {
        [STATE_START] = "start", [STATE_THINKING] = "thinking", [STATE_DISPATCHED] = "dispatched",
        [STATE_TOOL] = "tool",   [STATE_FINAL] = "final",       [STATE_FAILED] = "failed",
};

static int state_from_string(const char *s) {
        for (int i = 0; i < _STATE_MAX; i++)
                if (streq(state_table[i], s))
                        return i;
        return -EINVAL;
}

struct RunDispatch {
        RunDispatchContext ctx; /* strings below are our copies */
        char *execution_id, *model_alias, *prompt;
        char **tools;
        char capability[RUN_DISPATCH_CAPABILITY_LEN + 1];

        DispatchState state;
        json_object *messages; /* the conversation, llm.h's neutral format (only ever appended to) */
        size_t n_saved; /* messages[0, n_saved) are in the store */
        json_object *tool_defs; /* the tools offered (NULL = none) */
        LlmConversation *conv; /* what the model calls keep between turns (llm.h) */
        char **offered; /* their names */
        json_object *pending; /* the dispatch answer in flight (STATE_DISPATCHED) */
        char *pending_notes; /* what the model is told with the dispatch's result, or NULL */
        json_object *violations; /* [{tool, tool_call_id, round, reason}] */
        unsigned n_violations;
        ToolCall *tool; /* the host call in flight (STATE_TOOL) */
        void *review; /* the review in flight (STATE_TOOL) */
        bool reviewed; /* calls[batch_next] passed its review */
        void *slot; /* the admission of calls[batch_next] (admit hook), held or waiting */
        bool admitted; /* calls[batch_next] may run */
        size_t batch_next; /* next tool call of the last assistant message */
        unsigned rounds; /* model turns that asked for tools */
        unsigned llm_calls, tool_calls_executed;
        uint64_t tokens_in, tokens_out;
        char *final; /* STATE_FINAL */
        char *error; /* STATE_FAILED: "<tag>: <message>" or a reason */
        unsigned error_status;
        bool finished_reported;

        LlmCall *call;
        uint64_t call_started; /* CLOCK_MONOTONIC µs */
        run_dispatch_reply_fn waiter;
        void *waiter_userdata;
};

/* ---- small helpers ---- */

static json_object *jstr(const char *s) {
        return json_object_new_string(strempty(s));
}

static const char *jget_str(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static bool jget_i64(json_object *o, const char *key, int64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) ||
            !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
                return false;
        *ret = json_object_get_int64(v);
        return true;
}

static json_object *jstr_bounded(const char *s, size_t max) {
        size_t n = strlen(strempty(s));

        if (n <= max)
                return jstr(s);
        while (max > 0 && (((unsigned char) s[max]) & 0xC0) == 0x80) /* not inside a character */
                max--;
        return json_object_new_string_len(s, (int) max);
}

#define dlog(d, level, ...) run_part_log((d)->ctx.log, (d)->ctx.userdata, level, __VA_ARGS__)

static void emit(RunDispatch *d, const char *type, json_object *payload) {
        if (d->ctx.event)
                d->ctx.event(d->ctx.userdata, type, payload);
        else
                json_object_put(payload);
}

static int make_capability(char ret[RUN_DISPATCH_CAPABILITY_LEN + 1]) {
        static const char hex[] = "0123456789abcdef";
        uint8_t b[RUN_DISPATCH_CAPABILITY_LEN / 2];
        size_t got = 0;

        while (got < sizeof b) {
                ssize_t n = getrandom(b + got, sizeof b - got, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t) n;
        }
        for (size_t i = 0; i < sizeof b; i++) {
                ret[2 * i] = hex[b[i] >> 4];
                ret[2 * i + 1] = hex[b[i] & 15];
        }
        ret[RUN_DISPATCH_CAPABILITY_LEN] = '\0';
        return 0;
}

/* ---- the tools offered ---- */

/* spec.tools ∩ the context's offer ∩ what is available → definitions and names. */
static int tool_definitions(RunDispatch *d) {
        json_object *a = NULL;

        for (char **name = d->tools; name && *name; name++) {
                const ToolDef *t = tool_find(*name);
                if (!t || !tool_available(t, d->ctx.tool_env))
                        continue;
                if (d->ctx.offer && !d->ctx.offer(d->ctx.userdata, t->name))
                        continue;
                if (strv_extend(&d->offered, t->name) < 0)
                        return -ENOMEM;
                if (!a)
                        a = json_object_new_array();
                json_object_array_add(a, tool_definition(t));
        }
        d->tool_defs = a;
        return 0;
}

/* ---- persistence ---- */

static json_object *state_to_json(RunDispatch *d) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "version", json_object_new_int(STATE_VERSION));
        json_object_object_add(o, "capability", jstr(d->capability));
        json_object_object_add(o, "state", jstr(state_table[d->state]));
        json_object_object_add(o, "model_alias", jstr(d->model_alias));
        json_object_object_add(o, "pending", json_object_get(d->pending));
        if (d->pending_notes)
                json_object_object_add(o, "pending_notes", jstr(d->pending_notes));
        if (d->violations)
                json_object_object_add(o, "violations", json_object_get(d->violations));
        json_object_object_add(o, "violations_total", json_object_new_int64(d->n_violations));
        json_object_object_add(o, "batch_next", json_object_new_int64((int64_t) d->batch_next));
        json_object_object_add(o, "rounds", json_object_new_int64(d->rounds));
        json_object_object_add(o, "llm_calls", json_object_new_int64(d->llm_calls));
        json_object_object_add(o, "tool_calls_executed", json_object_new_int64(d->tool_calls_executed));
        json_object_object_add(o, "tokens_in", json_object_new_int64((int64_t) d->tokens_in));
        json_object_object_add(o, "tokens_out", json_object_new_int64((int64_t) d->tokens_out));
        if (d->final)
                json_object_object_add(o, "final", jstr(d->final));
        if (d->error) {
                json_object_object_add(o, "error", jstr(d->error));
                json_object_object_add(o, "error_status", json_object_new_int(d->error_status));
        }
        return o;
}

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Records the state and the messages added since the last save. Messages are never changed
 * once in the conversation, so a save costs the turn, not the whole conversation. */
static void save(RunDispatch *d) {
        _cleanup_json_ json_object *o = NULL;
        size_t n = json_object_array_length(d->messages);
        _cleanup_free_ const char **texts = NULL;
        const char *text;
        int k = -ENOMEM;

        if (!d->ctx.store)
                return;
        o = state_to_json(d);
        text = o ? json_object_to_json_string_ext(o, JSON_FLAGS) : NULL;
        texts = n > d->n_saved ? calloc(n - d->n_saved, sizeof *texts) : NULL;
        if (text && (texts || n == d->n_saved)) {
                k = 0;
                for (size_t i = d->n_saved; k == 0 && i < n; i++) {
                        texts[i - d->n_saved] = json_object_to_json_string_ext(
                                json_object_array_get_idx(d->messages, i), JSON_FLAGS);
                        if (!texts[i - d->n_saved])
                                k = -ENOMEM;
                }
        }
        if (k == 0)
                k = store_conversation_put(d->ctx.store, d->execution_id, d->ctx.iteration, text);
        if (k == 0)
                k = store_conversation_add_messages(d->ctx.store, d->execution_id, d->ctx.iteration,
                                                    d->n_saved, texts, n - d->n_saved);
        if (k < 0) {
                dlog(d, LOG_WARNING, "cannot record the conversation of iteration %u: %s (%s)",
                     d->ctx.iteration, strerror(-k),
                     k == -ENOMEM ? "out of memory" : store_last_error(d->ctx.store));
                return;
        }
        d->n_saved = n;
}

/* A step: what one callback changes (the model's answer, a tool's result, a review's verdict,
 * a request of the bootstrap) — its events and its conversation saves — is one transaction of
 * the store, committed when the step ends. The step ends before control goes back to the
 * event loop, and the answers and provider requests a step queues leave aegisd only from the
 * event loop (http.h's deferred answers, curl-event.h's transfers): what a turn recorded is
 * committed before anyone hears of it. */
static void step_begin(RunDispatch *d) {
        int k;

        if (!d->ctx.store)
                return;
        k = store_batch_begin(d->ctx.store);
        if (k < 0) /* each write then commits on its own */
                dlog(d, LOG_WARNING, "cannot start a transaction for iteration %u: %s (%s)",
                     d->ctx.iteration, strerror(-k), store_last_error(d->ctx.store));
}

static void step_end(RunDispatch *d) {
        int k;

        if (!d->ctx.store)
                return;
        k = store_batch_end(d->ctx.store);
        if (k < 0)
                dlog(d, LOG_WARNING,
                     "cannot record the events and the conversation of iteration %u: %s (%s)",
                     d->ctx.iteration, strerror(-k), store_last_error(d->ctx.store));
}

/* ---- answers ---- */

static json_object *final_answer(RunDispatch *d) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "content", jstr(d->final));
        json_object_object_add(o, "tool_calls_executed", json_object_new_int64(d->tool_calls_executed));
        return o;
}

static json_object *error_answer(const char *msg) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "error", jstr(msg));
        return o;
}

static void reply(run_dispatch_reply_fn fn, void *userdata, unsigned status, json_object *answer) {
        fn(status, answer, userdata);
        json_object_put(answer);
}

/* Answers the request waiting, if any, with what the state says now (THINKING: keep waiting). */
static void answer_waiter(RunDispatch *d) {
        run_dispatch_reply_fn fn = d->waiter;
        void *ud = d->waiter_userdata;

        if (!fn)
                return;
        switch (d->state) {
        case STATE_START:
        case STATE_THINKING:
        case STATE_TOOL:
                return;
        case STATE_DISPATCHED:
                d->waiter = NULL;
                reply(fn, ud, 200, json_object_get(d->pending));
                return;
        case STATE_FINAL:
                d->waiter = NULL;
                reply(fn, ud, 200, final_answer(d));
                return;
        case STATE_FAILED:
        default:
                d->waiter = NULL;
                reply(fn, ud, d->error_status ?: 500, error_answer(d->error));
                return;
        }
}

static void finish(RunDispatch *d) {
        if (d->finished_reported)
                return;
        d->finished_reported = true;
        if (d->ctx.finished)
                d->ctx.finished(d->ctx.userdata, d->state == STATE_FINAL,
                                d->state == STATE_FINAL ? d->final : d->error);
}

/* The current call ended (or never ran): its admission is given back. */
static void release_slot(RunDispatch *d) {
        if (d->slot && d->ctx.admit_release)
                d->ctx.admit_release(d->slot);
        d->slot = NULL;
        d->admitted = false;
}

static void fail(RunDispatch *d, unsigned status, const char *fmt, ...) _printf_(3, 4);
static void fail(RunDispatch *d, unsigned status, const char *fmt, ...) {
        va_list ap;

        free(d->error);
        va_start(ap, fmt);
        if (vasprintf(&d->error, fmt, ap) < 0)
                d->error = NULL;
        va_end(ap);
        if (!d->error)
                d->error = strdup("internal: out of memory");
        d->error_status = status;
        d->state = STATE_FAILED;
        release_slot(d);
        json_object_put(d->pending);
        d->pending = NULL;
        free(d->pending_notes);
        d->pending_notes = NULL;
        save(d);
        answer_waiter(d);
        finish(d);
}

/* ---- the loop ---- */

static void call_model(RunDispatch *d);
static void advance_batch(RunDispatch *d);

static json_object *last_assistant_calls(RunDispatch *d) {
        size_t n = json_object_array_length(d->messages);
        json_object *calls;

        for (size_t i = n; i > 0; i--) {
                json_object *m = json_object_array_get_idx(d->messages, i - 1);
                if (streq(jget_str(m, "role"), "assistant"))
                        return json_object_object_get_ex(m, "tool_calls", &calls) ? calls : NULL;
        }
        return NULL;
}

static void add_tool_result(RunDispatch *d, json_object *call, json_object *content) {
        json_object *m = json_object_new_object();

        json_object_object_add(m, "role", jstr("tool"));
        json_object_object_add(m, "tool_call_id", jstr(jget_str(call, "id")));
        json_object_object_add(m, "name", jstr(jget_str(call, "name")));
        json_object_object_add(m, "content",
                               jstr(json_object_to_json_string_ext(
                                       content, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)));
        json_object_put(content);
        json_object_array_add(d->messages, m);
}

static json_object *tool_event(RunDispatch *d, json_object *call) {
        json_object *p = json_object_new_object(), *args = NULL;
        const char *a;

        json_object_object_add(p, "tool", jstr(jget_str(call, "name")));
        json_object_object_add(p, "tool_call_id", jstr(jget_str(call, "id")));
        if (json_object_object_get_ex(call, "arguments", &args)) {
                a = json_object_to_json_string_ext(args,
                                                   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
                json_object_object_add(p, "arguments", jstr_bounded(a, EVENT_ARGUMENTS_MAX));
        }
        return p;
}

/* A tool call that does not run: an error result for the model, at once. outcome: "refused",
 * "denied" (policy) or "rejected" (review). */
static void refuse_call(RunDispatch *d, json_object *call, const char *outcome, const char *fmt, ...)
        _printf_(4, 5);
static void refuse_call(RunDispatch *d, json_object *call, const char *outcome, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        json_object *c, *p;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        c = json_object_new_object();
        json_object_object_add(c, "error", jstr(m ? m : "tool call refused"));
        add_tool_result(d, call, c);
        emit(d, "tool_call_started", tool_event(d, call));
        p = tool_event(d, call);
        json_object_object_add(p, "outcome", jstr(outcome));
        json_object_object_add(p, "error", jstr(m));
        emit(d, "tool_call_finished", p);
}

/* The policy denied a call: the model is told, the violation recorded and reported. */
static void deny_call(RunDispatch *d, json_object *call, const char *reason) {
        const char *name = jget_str(call, "name");
        json_object *v, *p;

        d->n_violations++;
        v = json_object_new_object();
        json_object_object_add(v, "tool", jstr(name));
        json_object_object_add(v, "tool_call_id", jstr(jget_str(call, "id")));
        json_object_object_add(v, "round", json_object_new_int64(d->rounds));
        json_object_object_add(v, "reason", jstr(reason));
        p = json_object_get(v);
        if (d->n_violations <= VIOLATIONS_MAX) {
                if (!d->violations)
                        d->violations = json_object_new_array();
                json_object_array_add(d->violations, v);
        } else
                json_object_put(v);
        emit(d, "policy_violation", p);
        if (isempty(reason))
                refuse_call(d, call, "denied", "Tool '%s' is not available", strempty(name));
        else
                refuse_call(d, call, "denied", "Tool '%s' is not available: %s", strempty(name), reason);
}

/* The check hook: 0 allowed, 1 denied (*ret_reason may be NULL). */
static int policy_check(RunDispatch *d, const char *name, json_object *args, char **ret_reason) {
        int k;

        *ret_reason = NULL;
        if (!d->ctx.check)
                return 0;
        k = d->ctx.check(d->ctx.userdata, name, args, ret_reason);
        if (k < 0 && !*ret_reason)
                *ret_reason = asprintf_safe("the policy could not be evaluated: %s", strerror(-k));
        return k == 0 ? 0 : 1;
}

static void tool_done(RunDispatch *d, json_object *result) {
        json_object *calls = last_assistant_calls(d), *call, *p, *v;
        bool failed;

        d->tool = NULL;
        release_slot(d);
        call = calls ? json_object_array_get_idx(calls, d->batch_next) : NULL;
        if (!result)
                result = json_object_new_object();
        failed = json_object_object_get_ex(result, "error", &v);
        p = tool_event(d, call);
        json_object_object_add(p, "outcome", jstr(failed ? "error" : "ok"));
        if (failed)
                json_object_object_add(p, "error",
                                       jstr_bounded(json_object_get_string(v), EVENT_ARGUMENTS_MAX));
        add_tool_result(d, call, result);
        d->tool_calls_executed++;
        emit(d, "tool_call_finished", p);
        json_object_put(d->pending);
        d->pending = NULL;
        d->batch_next++;
        d->reviewed = false;
        advance_batch(d);
}

static void on_tool_done(json_object *result, void *userdata) {
        RunDispatch *d = userdata;

        step_begin(d);
        tool_done(d, result);
        step_end(d);
}

static void reviewed(RunDispatch *d, bool allowed, const char *reason) {
        json_object *calls = last_assistant_calls(d), *call;

        d->review = NULL;
        if (allowed) {
                d->reviewed = true;
                advance_batch(d);
                return;
        }
        call = calls ? json_object_array_get_idx(calls, d->batch_next) : NULL;
        refuse_call(d, call, "rejected", "the tool call was rejected by review: %s",
                    isempty(reason) ? "no reason given" : reason);
        d->batch_next++;
        d->reviewed = false;
        advance_batch(d);
}

static void on_review(bool allowed, const char *reason, void *userdata) {
        RunDispatch *d = userdata;

        step_begin(d);
        reviewed(d, allowed, reason);
        step_end(d);
}

/* max_concurrent let the current call run (an entry from the event loop: one step). */
static void on_admitted(void *userdata) {
        RunDispatch *d = userdata;

        step_begin(d);
        d->admitted = true;
        advance_batch(d);
        step_end(d);
}

/* "a, b, c" (NULL when none or out of memory). */
static char *offered_list(RunDispatch *d) {
        char *l = NULL;

        for (char **t = d->offered; t && *t; t++) {
                char *m = asprintf_safe("%s%s%s", strempty(l), l ? ", " : "", *t);
                free(l);
                if (!m)
                        return NULL;
                l = m;
        }
        return l;
}

/* pending in STATE_TOOL: which call runs (for the store and the trajectory). */
static void set_tool_pending(RunDispatch *d, json_object *call) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "tool", jstr(jget_str(call, "name")));
        json_object_object_add(o, "tool_call_id", jstr(jget_str(call, "id")));
        json_object_put(d->pending);
        d->pending = o;
        d->state = STATE_TOOL;
        save(d);
}

/* Runs the tool calls of the last assistant turn from batch_next on (run-dispatch.h: policy,
 * arguments, review, run): the next container tool becomes the pending dispatch, the next host
 * tool starts; calls that cannot run get an error result; when none is left, the model is asked
 * again. */
static void advance_batch(RunDispatch *d) {
        json_object *calls = last_assistant_calls(d);
        size_t n = calls ? json_object_array_length(calls) : 0;

        while (d->batch_next < n) {
                json_object *call = json_object_array_get_idx(calls, d->batch_next), *args = NULL,
                            *disp = NULL;
                const char *name = jget_str(call, "name");
                const ToolDef *t = tool_find(name);
                _cleanup_free_ char *reason = NULL, *why = NULL, *notes = NULL, *list = NULL;
                bool offered = strv_contains(d->offered, name);
                char id[64];
                int k;

                if (!json_object_object_get_ex(call, "arguments", &args) ||
                    !json_object_is_type(args, json_type_object))
                        args = NULL;
                if (t && policy_check(d, name, args, &reason) > 0) {
                        deny_call(d, call, reason);
                        goto next;
                }
                if (!offered) {
                        list = offered_list(d);
                        if (t)
                                refuse_call(
                                        d, call, "refused",
                                        "Tool '%s' is not available to this agent: the tools offered are %s",
                                        name, isempty(list) ? "none" : list);
                        else
                                refuse_call(d, call, "refused",
                                            "unknown tool \"%s\": the tools offered are %s", strempty(name),
                                            isempty(list) ? "none" : list);
                        goto next;
                }
                if (!args) {
                        refuse_call(d, call, "refused",
                                    "invalid arguments for %s: arguments must be an object", name);
                        goto next;
                }
                if (tool_place(t, d->ctx.tool_env) == TOOL_IN_CONTAINER) {
                        disp = t->dispatch(args, &why, &notes);
                        if (!disp) {
                                refuse_call(d, call, "refused", "invalid arguments for %s: %s", name,
                                            why ? why : "out of memory");
                                goto next;
                        }
                }
                if (d->ctx.review && !d->reviewed) {
                        void *h = NULL;
                        set_tool_pending(d, call);
                        k = d->ctx.review(d->ctx.userdata, name, args, on_review, d, &h);
                        if (k < 0) {
                                json_object_put(disp);
                                refuse_call(d, call, "rejected", "the tool call could not be reviewed: %s",
                                            strerror(-k));
                                goto next;
                        }
                        if (h) {
                                json_object_put(disp);
                                d->review = h;
                                return; /* on_review() goes on */
                        }
                }
                if (d->ctx.admit && !d->admitted) {
                        if (d->slot) { /* still waiting (a repeated request) */
                                json_object_put(disp);
                                return;
                        }
                        k = d->ctx.admit(d->ctx.userdata, name, on_admitted, d, &d->slot);
                        if (k < 0) {
                                json_object_put(disp);
                                refuse_call(d, call, "refused", "the tool call could not be admitted: %s",
                                            strerror(-k));
                                goto next;
                        }
                        if (k == 0) {
                                json_object_put(disp);
                                set_tool_pending(d, call);
                                return; /* on_admitted() goes on */
                        }
                        d->admitted = true;
                }
                if (tool_place(t, d->ctx.tool_env) == TOOL_ON_HOST) {
                        set_tool_pending(d, call);
                        emit(d, "tool_call_started", tool_event(d, call));
                        k = t->start(d->ctx.tool_env, args, on_tool_done, d, &d->tool);
                        if (k < 0) {
                                d->tool = NULL;
                                fail(d, 500, "internal: cannot run %s: %s", name, strerror(-k));
                        }
                        return; /* on_tool_done() goes on */
                }

                snprintf(id, sizeof id, "d-%u-%u-%zu", d->ctx.iteration, d->rounds, d->batch_next);
                json_object_object_add(disp, "type", jstr("dispatch"));
                json_object_object_add(disp, "dispatch_id", jstr(id));
                json_object_object_add(disp, "tool_call_id", jstr(jget_str(call, "id")));
                json_object_put(d->pending);
                d->pending = disp;
                free(d->pending_notes);
                d->pending_notes = TAKE_PTR(notes);
                d->state = STATE_DISPATCHED;
                emit(d, "tool_call_started", ({
                             json_object *p = tool_event(d, call);
                             json_object_object_add(p, "dispatch_id", jstr(id));
                             p;
                     }));
                save(d);
                answer_waiter(d);
                return;
        next:
                d->batch_next++;
                d->reviewed = false;
        }
        json_object_put(d->pending);
        d->pending = NULL;
        call_model(d);
}

static void model_answered(RunDispatch *d, int k, const LlmResponse *resp, LlmErrorKind kind,
                           const char *message) {
        uint64_t latency = (now_usec(CLOCK_MONOTONIC) - d->call_started) / USEC_PER_MSEC;
        json_object *p = json_object_new_object(), *m;

        d->call = NULL;
        d->llm_calls++;
        if (k >= 0 && resp) {
                d->tokens_in += resp->tokens_in;
                d->tokens_out += resp->tokens_out;
                llm_response_event_fields(resp, p);
                json_object_object_add(p, "tool_calls", json_object_new_int64((int64_t) resp->n_tool_calls));
        } else {
                const char *tag = d->ctx.model->error_tag ? d->ctx.model->error_tag(kind) : "internal";
                json_object_object_add(p, "model_alias", jstr(d->model_alias));
                json_object_object_add(p, "latency_ms", json_object_new_int64((int64_t) latency));
                json_object_object_add(p, "outcome", jstr(tag));
                json_object_object_add(p, "error", jstr(message));
        }
        json_object_object_add(p, "round", json_object_new_int64(d->rounds));
        emit(d, "llm_call_finished", p);

        if (k < 0 || !resp) {
                fail(d, d->ctx.model->error_status ? d->ctx.model->error_status(kind) : 500, "%s: %s",
                     d->ctx.model->error_tag ? d->ctx.model->error_tag(kind) : "internal",
                     isempty(message) ? "the model call failed" : message);
                return;
        }

        m = json_object_new_object();
        json_object_object_add(m, "role", jstr("assistant"));
        json_object_object_add(m, "content", resp->content ? jstr(resp->content) : NULL);
        if (resp->n_tool_calls > 0) {
                json_object *calls = json_object_new_array();
                for (size_t i = 0; i < resp->n_tool_calls; i++) {
                        json_object *c = json_object_new_object();
                        json_object_object_add(c, "id", jstr(resp->tool_calls[i].id));
                        json_object_object_add(c, "name", jstr(resp->tool_calls[i].name));
                        json_object_object_add(c, "arguments",
                                               resp->tool_calls[i].arguments
                                                       ? json_object_get(resp->tool_calls[i].arguments)
                                                       : json_object_new_object());
                        json_object_array_add(calls, c);
                }
                json_object_object_add(m, "tool_calls", calls);
        }
        json_object_array_add(d->messages, m);

        if (resp->n_tool_calls == 0) {
                d->final = strdup(strempty(resp->content));
                if (!d->final) {
                        fail(d, 500, "internal: out of memory");
                        return;
                }
                d->state = STATE_FINAL;
                save(d);
                answer_waiter(d);
                finish(d);
                return;
        }
        if (d->rounds >= d->ctx.max_tool_rounds) {
                fail(d, 500,
                     "tool_rounds_exceeded: the model still asked for tools after %u rounds "
                     "(llm.max_tool_rounds)",
                     d->rounds);
                return;
        }
        d->rounds++;
        d->batch_next = 0;
        advance_batch(d);
}

static void on_model(int k, const LlmResponse *resp, LlmErrorKind kind, const char *message,
                     void *userdata) {
        RunDispatch *d = userdata;

        step_begin(d);
        model_answered(d, k, resp, kind, message);
        step_end(d);
}

static void call_model(RunDispatch *d) {
        int k;

        d->state = STATE_THINKING;
        save(d);
        d->call_started = now_usec(CLOCK_MONOTONIC);
        emit(d, "llm_call_started", ({
                     json_object *p = json_object_new_object();
                     json_object_object_add(p, "model_alias", jstr(d->model_alias));
                     json_object_object_add(p, "round", json_object_new_int64(d->rounds));
                     json_object_object_add(
                             p, "messages",
                             json_object_new_int64((int64_t) json_object_array_length(d->messages)));
                     p;
             }));
        if (!d->conv && llm_conversation_new(&d->conv) < 0)
                d->conv = NULL; /* the call goes without the cache */
        k = d->ctx.model->generate(d->ctx.model->model, d->model_alias, d->messages, d->tool_defs, d->conv,
                                   d->ctx.llm_timeout_usec, on_model, d, &d->call);
        if (k < 0) {
                d->call = NULL;
                fail(d, 500, "internal: cannot call the model: %s", strerror(-k));
        }
}

/* ---- requests ---- */

static void take_waiter(RunDispatch *d, run_dispatch_reply_fn fn, void *userdata) {
        if (d->waiter) {
                run_dispatch_reply_fn old = d->waiter;
                void *ud = d->waiter_userdata;
                d->waiter = NULL;
                reply(old, ud, 409,
                      error_answer("conflict: superseded by a newer request of this iteration"));
        }
        d->waiter = fn;
        d->waiter_userdata = userdata;
}

/* What the model gets of an {"action":"fs"} dispatch: the result object aegis-bootstrap ran,
 * bounded; a client that does not know the action answers without one. */
static json_object *fs_dispatch_result(RunDispatch *d, json_object *body) {
        json_object *r;
        size_t n = 0;

        if (!json_object_object_get_ex(body, "result", &r) || !json_object_is_type(r, json_type_object))
                return tool_error(
                        "fs.%s: the container's client answered without a result: it does not run fs "
                        "tools (aegis-bootstrap does); use cmd.run, or give the execution a volume",
                        strempty(jget_str(d->pending, "op")));
        (void) json_object_to_json_string_length(r, JSON_C_TO_STRING_PLAIN, &n);
        if (n > FS_RESULT_MAX)
                return tool_error("fs.%s: the container's result is over %d bytes: not shown",
                                  strempty(jget_str(d->pending, "op")), FS_RESULT_MAX);
        return json_object_get(r);
}

static void on_dispatch_result(RunDispatch *d, json_object *body) {
        json_object *calls, *call, *c, *p;
        const char *id = jget_str(body, "dispatch_id");
        int64_t exit_code = -1, duration = 0;
        json_object *v;
        bool truncated = false, fs_failed = false;

        if (d->state != STATE_DISPATCHED || !streq(id, jget_str(d->pending, "dispatch_id")))
                return; /* a repeat (or stale): the current state answers */
        calls = last_assistant_calls(d);
        call = calls ? json_object_array_get_idx(calls, d->batch_next) : NULL;
        (void) jget_i64(body, "exit_code", &exit_code);
        (void) jget_i64(body, "duration_ms", &duration);
        if (json_object_object_get_ex(body, "truncated", &v))
                truncated = json_object_get_boolean(v);
        if (streq(jget_str(d->pending, "action"), "fs")) {
                c = fs_dispatch_result(d, body);
                fs_failed = json_object_object_get_ex(c, "error", &v);
        } else {
                c = json_object_new_object();
                json_object_object_add(c, "exit_code", json_object_new_int64(exit_code));
                json_object_object_add(c, "stdout", jstr_bounded(jget_str(body, "stdout"), TOOL_OUTPUT_MAX));
                json_object_object_add(c, "stderr", jstr_bounded(jget_str(body, "stderr"), TOOL_OUTPUT_MAX));
                json_object_object_add(c, "duration_ms", json_object_new_int64(duration));
                json_object_object_add(c, "truncated", json_object_new_boolean(truncated));
                if (d->pending_notes)
                        json_object_object_add(c, "notes", jstr(d->pending_notes));
        }
        p = tool_event(d, call);
        if (fs_failed)
                json_object_object_add(p, "error",
                                       jstr_bounded(json_object_get_string(v), EVENT_ARGUMENTS_MAX));
        add_tool_result(d, call, c);
        d->tool_calls_executed++;
        release_slot(d);
        json_object_object_add(p, "dispatch_id", jstr(id));
        json_object_object_add(p, "exit_code", json_object_new_int64(exit_code));
        json_object_object_add(p, "duration_ms", json_object_new_int64(duration));
        json_object_object_add(p, "truncated", json_object_new_boolean(truncated));
        json_object_object_add(p, "outcome", jstr(fs_failed ? "error" : "ok"));
        emit(d, "tool_call_finished", p);
        json_object_put(d->pending);
        d->pending = NULL;
        free(d->pending_notes);
        d->pending_notes = NULL;
        d->batch_next++;
        d->reviewed = false;
        advance_batch(d);
}

void run_dispatch_request(RunDispatch *d, json_object *body, run_dispatch_reply_fn fn, void *userdata) {
        const char *type;

        assert(d);
        assert(fn);
        type = jget_str(body, "type");
        if (!streq(type, "generate") && !streq(type, "dispatch_result")) {
                reply(fn, userdata, 400,
                      error_answer("invalid_request: \"type\" must be \"generate\" or \"dispatch_result\""));
                return;
        }
        if (streq(type, "dispatch_result") && !jget_str(body, "dispatch_id")) {
                reply(fn, userdata, 400,
                      error_answer("invalid_request: dispatch_result without dispatch_id"));
                return;
        }
        step_begin(d);
        take_waiter(d, fn, userdata);
        if (streq(type, "dispatch_result"))
                on_dispatch_result(d, body);
        if (d->state == STATE_START)
                call_model(d); /* the first generate: the prompt is ours, not the request's */
        answer_waiter(d);
        step_end(d);
}

void run_dispatch_forget(RunDispatch *d, void *userdata) {
        if (d && d->waiter && d->waiter_userdata == userdata)
                d->waiter = NULL;
}

/* ---- life cycle ---- */

static int dispatch_alloc(const RunDispatchContext *c, RunDispatch **ret) {
        RunDispatch *d;

        assert(c);
        assert(c->execution_id && c->iteration > 0 && c->model && c->model->generate);
        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->ctx = *c;
        d->execution_id = strdup(c->execution_id);
        d->model_alias = strdup(isempty(c->model_alias) ? "default" : c->model_alias);
        d->prompt = strdup(strempty(c->prompt));
        d->tools = strv_copy(c->tools);
        if (!d->execution_id || !d->model_alias || !d->prompt || (c->tools && !d->tools)) {
                run_dispatch_free(d);
                return -ENOMEM;
        }
        d->ctx.execution_id = d->execution_id;
        d->ctx.model_alias = d->model_alias;
        d->ctx.prompt = d->prompt;
        d->ctx.tools = d->tools;
        if (d->ctx.max_tool_rounds == 0)
                d->ctx.max_tool_rounds = 50;
        if (tool_definitions(d) < 0) {
                run_dispatch_free(d);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

int run_dispatch_new(const RunDispatchContext *c, RunDispatch **ret) {
        _cleanup_(run_dispatch_freep) RunDispatch *d = NULL;
        json_object *m;
        int k;

        k = dispatch_alloc(c, &d);
        if (k < 0)
                return k;
        k = make_capability(d->capability);
        if (k < 0)
                return k;
        d->messages = json_object_new_array();
        m = json_object_new_object();
        json_object_object_add(m, "role", jstr("system"));
        json_object_object_add(m, "content", jstr(SYSTEM_PROMPT));
        json_object_array_add(d->messages, m);
        m = json_object_new_object();
        json_object_object_add(m, "role", jstr("user"));
        json_object_object_add(m, "content", jstr(d->prompt));
        json_object_array_add(d->messages, m);
        d->state = STATE_START;
        save(d);
        *ret = TAKE_PTR(d);
        return 0;
}

int run_dispatch_resume(const RunDispatchContext *c, RunDispatch **ret) {
        _cleanup_(run_dispatch_freep) RunDispatch *d = NULL;
        _cleanup_free_ char *text = NULL;
        json_object *o, *v;
        const char *cap, *s;
        int64_t i;
        int k, st;

        if (!c->store)
                return -ENOENT;
        k = store_conversation_get(c->store, c->execution_id, c->iteration, &text);
        if (k < 0)
                return k;
        k = dispatch_alloc(c, &d);
        if (k < 0)
                return k;
        o = json_tokener_parse(text);
        cap = jget_str(o, "capability");
        st = state_from_string(jget_str(o, "state"));
        if (!o || !cap || strlen(cap) != RUN_DISPATCH_CAPABILITY_LEN || st < 0 ||
            !jget_i64(o, "version", &i) || i < 1 || i > STATE_VERSION) {
                json_object_put(o);
                return -EBADMSG;
        }
        if (json_object_object_get_ex(o, "messages", &v) && json_object_is_type(v, json_type_array))
                d->messages = json_object_get(v);
        else if (i == 1 || (v && !json_object_is_type(v, json_type_array))) {
                json_object_put(o);
                return -EBADMSG;
        }
        if (!d->messages && !(d->messages = json_object_new_array())) {
                json_object_put(o);
                return -ENOMEM;
        }
        /* version 1 kept its messages in the state: the first save records them as rows */
        d->n_saved = i == 1 ? 0 : json_object_array_length(d->messages);
        memcpy(d->capability, cap, sizeof d->capability);
        d->state = (DispatchState) st;
        if (json_object_object_get_ex(o, "pending", &v) && json_object_is_type(v, json_type_object))
                d->pending = json_object_get(v);
        if (jget_i64(o, "batch_next", &i) && i >= 0)
                d->batch_next = (size_t) i;
        if (jget_i64(o, "rounds", &i) && i >= 0)
                d->rounds = (unsigned) i;
        if (jget_i64(o, "llm_calls", &i) && i >= 0)
                d->llm_calls = (unsigned) i;
        if (jget_i64(o, "tool_calls_executed", &i) && i >= 0)
                d->tool_calls_executed = (unsigned) i;
        if (jget_i64(o, "tokens_in", &i) && i >= 0)
                d->tokens_in = (uint64_t) i;
        if (jget_i64(o, "tokens_out", &i) && i >= 0)
                d->tokens_out = (uint64_t) i;
        if ((s = jget_str(o, "pending_notes")))
                d->pending_notes = strdup(s);
        if (json_object_object_get_ex(o, "violations", &v) && json_object_is_type(v, json_type_array))
                d->violations = json_object_get(v);
        if (jget_i64(o, "violations_total", &i) && i >= 0)
                d->n_violations = (unsigned) i;
        if ((s = jget_str(o, "final")))
                d->final = strdup(s);
        if ((s = jget_str(o, "error")))
                d->error = strdup(s);
        if (jget_i64(o, "error_status", &i) && i >= 100 && i < 600)
                d->error_status = (unsigned) i;
        json_object_put(o);
        if (d->state == STATE_DISPATCHED && !d->pending)
                return -EBADMSG;
        if ((d->state == STATE_FINAL && !d->final) || (d->state == STATE_FAILED && !d->error))
                return -EBADMSG;
        step_begin(d);
        if (d->state == STATE_THINKING)
                call_model(d); /* the answer died with the previous process: ask again */
        else if (d->state == STATE_TOOL)
                advance_batch(d); /* the host call (or its review) died with it: make it again */
        step_end(d);
        *ret = TAKE_PTR(d);
        return 0;
}

RunDispatch *run_dispatch_free(RunDispatch *d) {
        if (!d)
                return NULL;
        if (d->call && d->ctx.model && d->ctx.model->cancel)
                d->ctx.model->cancel(d->call);
        tool_call_cancel(d->tool);
        if (d->review && d->ctx.review_cancel)
                d->ctx.review_cancel(d->review);
        release_slot(d);
        if (d->waiter) {
                run_dispatch_reply_fn fn = d->waiter;
                d->waiter = NULL;
                reply(fn, d->waiter_userdata, 404, error_answer("not_found: this iteration is over"));
        }
        llm_conversation_free(d->conv); /* after the call that used it was cancelled */
        json_object_put(d->messages);
        json_object_put(d->tool_defs);
        strv_free(d->offered);
        json_object_put(d->pending);
        free(d->pending_notes);
        json_object_put(d->violations);
        free(d->final);
        free(d->error);
        free(d->execution_id);
        free(d->model_alias);
        free(d->prompt);
        strv_free(d->tools);
        free(d);
        return NULL;
}

const char *run_dispatch_capability(const RunDispatch *d) {
        return d->capability;
}

bool run_dispatch_finished(const RunDispatch *d) {
        return d->state == STATE_FINAL || d->state == STATE_FAILED;
}

bool run_dispatch_speaks_for(const RunDispatch *d, json_object *body) {
        const char *execution_id = jget_str(body, "execution_id");
        json_object *v;

        assert(d);
        if (execution_id && !streq(execution_id, d->execution_id))
                return false;
        if (json_object_object_get_ex(body, "iteration_number", &v) && v &&
            (!json_object_is_type(v, json_type_int) ||
             json_object_get_int64(v) != (int64_t) d->ctx.iteration))
                return false;
        return true;
}

const char *run_dispatch_final(const RunDispatch *d) {
        return d->state == STATE_FINAL ? d->final : NULL;
}

/* ---- the trajectory for the API ---- */

json_object *run_dispatch_trajectory(const char *state_json) {
        json_object *o = json_tokener_parse(strempty(state_json)), *t, *msgs, *out, *v;
        static const char *const copied[] = {
                "state",     "model_alias", "rounds", "llm_calls",  "tool_calls_executed",
                "tokens_in", "tokens_out",  "error",  "violations", "violations_total"
        };
        size_t n, first;

        if (!o || !json_object_object_get_ex(o, "messages", &msgs) ||
            !json_object_is_type(msgs, json_type_array)) {
                json_object_put(o);
                return NULL;
        }
        t = json_object_new_object();
        for (size_t i = 0; i < ELEMENTSOF(copied); i++)
                if (json_object_object_get_ex(o, copied[i], &v))
                        json_object_object_add(t, copied[i], json_object_get(v));
        if (json_object_object_get_ex(o, "final", &v))
                json_object_object_add(t, "final",
                                       jstr_bounded(json_object_get_string(v), TRAJECTORY_CONTENT_MAX));
        n = json_object_array_length(msgs);
        first = n > TRAJECTORY_MESSAGES_MAX ? n - TRAJECTORY_MESSAGES_MAX : 0;
        json_object_object_add(t, "messages_total", json_object_new_int64((int64_t) n));
        out = json_object_new_array();
        for (size_t i = first; i < n; i++) {
                json_object *m = json_object_array_get_idx(msgs, i), *c = json_object_new_object();
                json_object_object_foreach (m, key, val) {
                        if (streq(key, "content") && json_object_is_type(val, json_type_string))
                                json_object_object_add(
                                        c, key,
                                        jstr_bounded(json_object_get_string(val), TRAJECTORY_CONTENT_MAX));
                        else
                                json_object_object_add(c, key, json_object_get(val));
                }
                json_object_array_add(out, c);
        }
        json_object_object_add(t, "messages", out);
        json_object_put(o);
        return t;
}
