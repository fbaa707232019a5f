/* test-run-dispatch.c — the inner loop's protocol (src/aegisd/run-dispatch.c) against a scripted
 * model and a real SQLite store: final answers, dispatch round trips, batches, unknown tools,
 * the round limit, model errors, idempotent repeats and resuming from the store. */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "run-dispatch.h"
#include "tool-slots.h"
#include "test-main.h"
#include "util.h"

/* ---- the scripted model: each call takes the next step ---- */

typedef struct Step {
        const char *content; /* NULL: tool calls only */
        const char *calls_json; /* [{"id","name","arguments"}] or NULL */
        LlmErrorKind error; /* != NONE: the call fails */
} Step;

static const Step *script;
static size_t n_script, next_step;
static unsigned generate_calls, cancels;
static json_object *last_messages; /* a copy of what the last call saw */
static llm_done_fn pending_done;
static void *pending_userdata;
static int fake_call; /* its address is the LlmCall handle */
static bool last_tools; /* the last call offered tools */

static int fake_generate(void *model, const char *alias, json_object *messages, json_object *tools,
                         LlmConversation *conv, uint64_t timeout_usec, llm_done_fn done, void *userdata,
                         LlmCall **ret) {
        generate_calls++;
        last_tools = tools != NULL;
        json_object_put(last_messages);
        last_messages = NULL;
        json_object_deep_copy(messages, &last_messages, NULL);
        pending_done = done;
        pending_userdata = userdata;
        *ret = (LlmCall *) &fake_call;
        return 0;
}

static void fake_cancel(LlmCall *c) {
        cancels++;
        pending_done = NULL;
}

static const char *fake_tag(LlmErrorKind k) {
        return k == LLM_ERROR_UNAVAILABLE ? "upstream_unavailable" : "upstream_provider";
}

static unsigned fake_status(LlmErrorKind k) {
        return k == LLM_ERROR_UNAVAILABLE ? 503 : 502;
}

static const RunDispatchModel model = {
        .generate = fake_generate,
        .cancel = fake_cancel,
        .error_tag = fake_tag,
        .error_status = fake_status,
};

/* Answers the call in flight with the next step (what the event loop would do later). */
static void model_answers(void) {
        const Step *s;
        LlmResponse resp = {
                .provider = (char *) "fake", .model = (char *) "m", .tokens_in = 10, .tokens_out = 3
        };
        LlmToolCall calls[8] = {};
        json_object *a = NULL;
        llm_done_fn done = pending_done;

        ck_assert_msg(done, "no model call in flight");
        ck_assert_uint_lt(next_step, n_script);
        s = &script[next_step++];
        pending_done = NULL;
        if (s->error != LLM_ERROR_NONE) {
                done(-EIO, NULL, s->error, "provider down", pending_userdata);
                return;
        }
        resp.content = (char *) s->content;
        if (s->calls_json) {
                a = json_tokener_parse(s->calls_json);
                ck_assert_ptr_nonnull(a);
                resp.n_tool_calls = json_object_array_length(a);
                for (size_t i = 0; i < resp.n_tool_calls; i++) {
                        json_object *c = json_object_array_get_idx(a, i), *v;
                        json_object_object_get_ex(c, "id", &v);
                        calls[i].id = (char *) json_object_get_string(v);
                        json_object_object_get_ex(c, "name", &v);
                        calls[i].name = (char *) json_object_get_string(v);
                        json_object_object_get_ex(c, "arguments", &calls[i].arguments);
                }
                resp.tool_calls = calls;
        }
        done(0, &resp, LLM_ERROR_NONE, NULL, pending_userdata);
        json_object_put(a);
}

/* ---- replies, events and the outcome ---- */

static unsigned reply_status, n_replies;
static json_object *reply_body;
static unsigned n_finished;
static bool finished_ok;
static char *finished_text;
static unsigned n_events_tool_started, n_events_tool_finished, n_events_llm_finished, n_events_violation;

static void on_reply(unsigned status, json_object *answer, void *userdata) {
        n_replies++;
        reply_status = status;
        json_object_put(reply_body);
        reply_body = json_object_get(answer);
}

static void on_event(void *userdata, const char *type, json_object *payload) {
        if (streq(type, "tool_call_started"))
                n_events_tool_started++;
        else if (streq(type, "tool_call_finished"))
                n_events_tool_finished++;
        else if (streq(type, "llm_call_finished"))
                n_events_llm_finished++;
        else if (streq(type, "policy_violation"))
                n_events_violation++;
        json_object_put(payload);
}

static void on_finished(void *userdata, bool ok, const char *text) {
        n_finished++;
        finished_ok = ok;
        free(finished_text);
        finished_text = strdup(text);
}

static const char *reply_str(const char *key) {
        json_object *v;
        return json_object_object_get_ex(reply_body, key, &v) ? json_object_get_string(v) : NULL;
}

static char tmpdir[] = "/tmp/test-run-dispatch-XXXXXX";
static Store *store;
static char exec_id[UUID_STRING_MAX];

static void setup(void) {
        _cleanup_free_ char *url = NULL;
        StoreExecution x = { .tenant_id = (char *) "default",
                             .max_iterations = 3,
                             .manifest_json = (char *) "{}" };
        Error e = ERROR_INIT;

        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        url = asprintf_safe("sqlite://%s/store.db", tmpdir);
        ck_assert_int_eq(store_open(url, &e, &store), 0);
        ck_assert_int_eq(store_execution_create(store, &x), 0);
        memcpy(exec_id, x.id, sizeof exec_id);
        next_step = generate_calls = cancels = n_replies = n_finished = 0;
        n_events_tool_started = n_events_tool_finished = n_events_llm_finished = n_events_violation = 0;
        pending_done = NULL;
}

static void teardown(void) {
        _cleanup_free_ char *cmd = asprintf_safe("rm -rf %s", tmpdir);
        store_close(store);
        ck_assert_int_eq(system(cmd), 0);
        memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
        json_object_put(reply_body);
        reply_body = NULL;
        json_object_put(last_messages);
        last_messages = NULL;
        free(finished_text);
        finished_text = NULL;
}

static char *const tools_cmd_run[] = { (char *) "cmd.run", NULL };

static RunDispatchContext context(char *const *tools, unsigned max_rounds) {
        return (RunDispatchContext){
                .execution_id = exec_id,
                .iteration = 1,
                .model_alias = "default",
                .prompt = "Say hi",
                .tools = tools,
                .llm_timeout_usec = 5 * USEC_PER_SEC,
                .max_tool_rounds = max_rounds,
                .model = &model,
                .store = store,
                .event = on_event,
                .finished = on_finished,
        };
}

static void request(RunDispatch *d, const char *json) {
        json_object *b = json_tokener_parse(json);
        ck_assert_ptr_nonnull(b);
        run_dispatch_request(d, b, on_reply, NULL);
        json_object_put(b);
}

#define GENERATE "{\"type\":\"generate\",\"prompt\":\"ignored\",\"messages\":[]}"

static void send_result(RunDispatch *d, const char *dispatch_id, const char *out) {
        _cleanup_free_ char *b = asprintf_safe(
                "{\"type\":\"dispatch_result\",\"dispatch_id\":\"%s\",\"exit_code\":0,\"stdout\":\"%s\","
                "\"stderr\":\"\",\"duration_ms\":5,\"truncated\":false}",
                dispatch_id, out);
        request(d, b);
}

/* A message of the conversation the model saw last: role and content of index i. */
static const char *seen(size_t i, const char *key) {
        json_object *m = json_object_array_get_idx(last_messages, i), *v;
        return m && json_object_object_get_ex(m, key, &v) ? json_object_get_string(v) : NULL;
}

START_TEST(test_single_turn_final_answer_and_repeats_are_idempotent) {
        static const Step s[] = { { .content = "hi there" } };
        RunDispatchContext c = context(NULL, 0);
        RunDispatch *d = NULL;

        script = s, n_script = ELEMENTSOF(s);
        ck_assert_int_eq(run_dispatch_new(&c, &d), 0);
        ck_assert_uint_eq(strlen(run_dispatch_capability(d)), RUN_DISPATCH_CAPABILITY_LEN);
        request(d, GENERATE);
        ck_assert_uint_eq(n_replies, 0); /* deferred while the model thinks */
        ck_assert_uint_eq(generate_calls, 1);
        /* Our prompt is the user message, not the request's. */
        ck_assert_str_eq(seen(0, "role"), "system");
        ck_assert_str_eq(seen(1, "content"), "Say hi");
        model_answers();
        ck_assert_uint_eq(n_replies, 1);
        ck_assert_uint_eq(reply_status, 200);
        ck_assert_str_eq(reply_str("content"), "hi there");
        ck_assert_uint_eq(n_finished, 1);
        ck_assert(finished_ok);
        ck_assert_str_eq(finished_text, "hi there");
        /* A repeat gets the final again, with no second model call. */
        request(d, GENERATE);
        ck_assert_uint_eq(n_replies, 2);
        ck_assert_str_eq(reply_str("content"), "hi there");
        ck_assert_uint_eq(generate_calls, 1);
        ck_assert_uint_eq(n_finished, 1);
        run_dispatch_free(d);
}
END_TEST

START_TEST(test_cmd_run_round_trip_reaches_the_model_and_repeats_resend_the_dispatch) {
        static const Step s[] = {
                { .calls_json = "[{\"id\":\"c1\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"echo\","
                                "\"args\":[\"hello\"]}}]" },
                { .content = "done" },
        };
        RunDispatchContext c = context(tools_cmd_run, 0);
        RunDispatch *d = NULL;
        _cleanup_free_ char *id = NULL;

        script = s, n_script = ELEMENTSOF(s);
        ck_assert_int_eq(run_dispatch_new(&c, &d), 0);
        request(d, GENERATE);
        model_answers();
        ck_assert_uint_eq(reply_status, 200);
        ck_assert_str_eq(reply_str("type"), "dispatch");
        ck_assert_str_eq(reply_str("command"), "echo");
        ck_assert_str_eq(reply_str("cwd"), "/workspace");
        ck_assert_str_eq(reply_str("timeout_secs"), "600");
        ck_assert_str_eq(reply_str("max_output_bytes"), "1048576");
        id = strdup(reply_str("dispatch_id"));
        ck_assert_uint_eq(n_events_tool_started, 1);
        /* The bootstrap reconnects and asks again: the same dispatch, no model call. */
        request(d, GENERATE);
        ck_assert_str_eq(reply_str("dispatch_id"), id);
        ck_assert_uint_eq(generate_calls, 1);
        send_result(d, id, "hello\\n");
        ck_assert_uint_eq(generate_calls, 2);
        ck_assert_uint_eq(n_events_tool_finished, 1);
        /* The model saw the tool's output. */
        ck_assert_str_eq(seen(3, "role"), "tool");
        ck_assert_str_eq(seen(3, "tool_call_id"), "c1");
        ck_assert_ptr_nonnull(strstr(seen(3, "content"), "hello\\n"));
        /* The result sent twice (broken connection): still one model call. */
        send_result(d, id, "hello\\n");
        ck_assert_uint_eq(generate_calls, 2);
        model_answers();
        ck_assert_str_eq(reply_str("content"), "done");
        ck_assert_str_eq(reply_str("tool_calls_executed"), "1");
        ck_assert(finished_ok);
        run_dispatch_free(d);
}
END_TEST

START_TEST(test_every_call_of_a_batch_runs_and_unknown_tools_get_an_error) {
        static const Step s[] = {
                { .calls_json =
                          "[{\"id\":\"a\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"true\"}},"
                          "{\"id\":\"b\",\"name\":\"fs.nope\",\"arguments\":{}},"
                          "{\"id\":\"c\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"false\"}}]" },
                { .content = "ok" },
        };
        RunDispatchContext c = context(tools_cmd_run, 0);
        RunDispatch *d = NULL;
        _cleanup_free_ char *first = NULL;

        script = s, n_script = ELEMENTSOF(s);
        ck_assert_int_eq(run_dispatch_new(&c, &d), 0);
        request(d, GENERATE);
        model_answers();
        ck_assert_str_eq(reply_str("command"), "true");
        first = strdup(reply_str("dispatch_id"));
        send_result(d, first, "");
        /* The unknown tool was answered at once; the third call is dispatched. */
        ck_assert_str_eq(reply_str("type"), "dispatch");
        ck_assert_str_eq(reply_str("command"), "false");
        ck_assert_str_ne(reply_str("dispatch_id"), first);
        ck_assert_uint_eq(generate_calls, 1);
        send_result(d, reply_str("dispatch_id"), "");
        ck_assert_uint_eq(generate_calls, 2);
        ck_assert_str_eq(seen(3, "tool_call_id"), "a");
        ck_assert_str_eq(seen(4, "tool_call_id"), "b");
        ck_assert_ptr_nonnull(strstr(seen(4, "content"), "unknown tool"));
        ck_assert_str_eq(seen(5, "tool_call_id"), "c");
        model_answers();
        ck_assert_str_eq(reply_str("tool_calls_executed"), "2");
        run_dispatch_free(d);
}
END_TEST

START_TEST(test_fs_tools_without_a_volume_are_dispatched_to_the_container) {
        static char *const tools_fs[] = { (char *) "fs.read", (char *) "fs.write", NULL };
        static const Step s[] = {
                { .calls_json =
                          "[{\"id\":\"r\",\"name\":\"fs.read\",\"arguments\":{\"path\":\"a/../b.txt\"}},"
                          "{\"id\":\"w\",\"name\":\"fs.write\",\"arguments\":{\"path\":\"c\","
                          "\"content\":\"x\"}}]" },
                { .content = "done" },
        };
        RunDispatchContext c = context(tools_fs, 0); /* no tool_env: no volume, no host tool */
        RunDispatch *d = NULL;
        _cleanup_free_ char *b = NULL;
        json_object *content;

        script = s, n_script = ELEMENTSOF(s);
        ck_assert_int_eq(run_dispatch_new(&c, &d), 0);
        request(d, GENERATE);
        model_answers();
        ck_assert_str_eq(reply_str("type"), "dispatch");
        ck_assert_str_eq(reply_str("action"), "fs");
        ck_assert_str_eq(reply_str("op"), "read");
        ck_assert_str_eq(reply_str("path"), "/workspace/b.txt");
        ck_assert_ptr_null(reply_str("command"));
        b = asprintf_safe(
                "{\"type\":\"dispatch_result\",\"dispatch_id\":\"%s\",\"result\":"
                "{\"path\":\"/workspace/b.txt\",\"content\":\"hi\",\"size\":2,\"truncated\":false}}",
                reply_str("dispatch_id"));
        request(d, b);
        ck_assert_str_eq(reply_str("op"), "write");
        ck_assert_str_eq(reply_str("content"), "x");
        /* a client that does not know the action answers without a result */
        send_result(d, reply_str("dispatch_id"), "");
        ck_assert_uint_eq(generate_calls, 2);
        /* the model got the container's result object as is, and an error for the other */
        content = json_tokener_parse(seen(3, "content"));
        ck_assert_str_eq(
                json_object_to_json_string_ext(content, JSON_C_TO_STRING_PLAIN),
                "{\"path\":\"\\/workspace\\/b.txt\",\"content\":\"hi\",\"size\":2,\"truncated\":false}");
        json_object_put(content);
        ck_assert_ptr_nonnull(
                strstr(seen(4, "content"), "fs.write: the container's client answered without a result"));
        ck_assert_uint_eq(n_events_tool_finished, 2);
        model_answers();
        ck_assert_str_eq(reply_str("content"), "done");
        run_dispatch_free(d);
}
END_TEST

START_TEST(test_round_limit_fails_the_loop) {
        static const Step s[] = {
                { .calls_json =
                          "[{\"id\":\"a\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"true\"}}]" },
                { .calls_json =
                          "[{\"id\":\"b\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"true\"}}]" },
        };
        RunDispatchContext c = context(tools_cmd_run, 1);
        RunDispatch *d = NULL;

        script = s, n_script = ELEMENTSOF(s);
        ck_assert_int_eq(run_dispatch_new(&c, &d), 0);
        request(d, GENERATE);
        model_answers();
        send_result(d, reply_str("dispatch_id"), "");
        model_answers();
        ck_assert_uint_eq(reply_status, 500);
        ck_assert_ptr_nonnull(strstr(reply_str("error"), "llm.max_tool_rounds"));
        ck_assert_uint_eq(n_finished, 1);
        ck_assert(!finished_ok);
        run_dispatch_free(d);
}
END_TEST

START_TEST(test_model_error_answers_its_tag_and_status) {
        static const Step s[] = { { .error = LLM_ERROR_UNAVAILABLE } };
        RunDispatchContext c = context(NULL, 0);
        RunDispatch *d = NULL;

        script = s, n_script = ELEMENTSOF(s);
        ck_assert_int_eq(run_dispatch_new(&c, &d), 0);
        request(d, GENERATE);
        model_answers();
        ck_assert_uint_eq(reply_status, 503);
        ck_assert_str_eq(reply_str("error"), "upstream_unavailable: provider down");
        ck_assert(!finished_ok);
        ck_assert_str_eq(finished_text, "upstream_unavailable: provider down");
        request(d, GENERATE); /* a repeat: the same error, no call */
        ck_assert_uint_eq(reply_status, 503);
        ck_assert_uint_eq(generate_calls, 1);
        request(d, "{\"type\":\"bogus\"}");
        ck_assert_uint_eq(reply_status, 400);
        run_dispatch_free(d);
}
END_TEST

START_TEST(test_resume_from_the_store_continues_the_conversation) {
        static const Step s[] = {
                { .calls_json =
                          "[{\"id\":\"a\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"sleep\"}}]" },
                { .content = "after restart" },
        };
        RunDispatchContext c = context(tools_cmd_run, 0);
        RunDispatch *d = NULL, *r = NULL;
        _cleanup_free_ char *cap = NULL, *id = NULL, *stored = NULL;
        json_object *t;

        script = s, n_script = ELEMENTSOF(s);
        ck_assert_int_eq(run_dispatch_resume(&c, &r), -ENOENT);
        ck_assert_int_eq(run_dispatch_new(&c, &d), 0);
        cap = strdup(run_dispatch_capability(d));
        request(d, GENERATE);
        model_answers();
        id = strdup(reply_str("dispatch_id"));
        /* aegisd dies here (nothing more is written); a new one resumes from the store. */
        d = run_dispatch_free(d);
        ck_assert_int_eq(run_dispatch_resume(&c, &r), 0);
        ck_assert_str_eq(run_dispatch_capability(r), cap);
        ck_assert_uint_eq(generate_calls, 1);
        request(r, GENERATE); /* the bootstrap's retry: the same dispatch */
        ck_assert_str_eq(reply_str("dispatch_id"), id);
        send_result(r, id, "slept");
        ck_assert_uint_eq(generate_calls, 2);
        ck_assert_ptr_nonnull(strstr(seen(3, "content"), "slept"));
        /* Dies while the model thinks: the resumed one asks again at once. */
        r = run_dispatch_free(r);
        ck_assert_int_eq(run_dispatch_resume(&c, &r), 0);
        ck_assert_uint_eq(generate_calls, 3);
        request(r, GENERATE);
        model_answers();
        ck_assert_str_eq(reply_str("content"), "after restart");

        /* The trajectory: the conversation without the capability. */
        ck_assert_int_eq(store_conversation_get(store, exec_id, 1, &stored), 0);
        ck_assert_ptr_nonnull(strstr(stored, cap));
        t = run_dispatch_trajectory(stored);
        ck_assert_ptr_nonnull(t);
        ck_assert_ptr_null(strstr(json_object_to_json_string(t), cap));
        ck_assert_str_eq(json_object_get_string(json_object_object_get(t, "final")), "after restart");
        ck_assert_int_eq(json_object_get_int(json_object_object_get(t, "tokens_in")), 20);
        json_object_put(t);
        run_dispatch_free(r);
}
END_TEST

static size_t count(const char *haystack, const char *needle) {
        size_t n = 0;
        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* A conversation recorded by a version-1 aegisd (its messages inside the state) resumes, and
 * its first save moves the messages to rows: nothing lost, nothing twice. */
START_TEST(test_resume_of_a_version_1_conversation_keeps_every_message_once) {
        static const Step s[] = {
                { .calls_json =
                          "[{\"id\":\"a\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"sleep\"}}]" },
                { .content = "after upgrade" },
        };
        RunDispatchContext c = context(tools_cmd_run, 0);
        RunDispatch *d = NULL, *r = NULL;
        _cleanup_free_ char *v2 = NULL, *stored = NULL, *id = NULL;
        char *v1;

        script = s, n_script = ELEMENTSOF(s);
        ck_assert_int_eq(run_dispatch_new(&c, &d), 0);
        request(d, GENERATE);
        model_answers();
        id = strdup(reply_str("dispatch_id"));
        d = run_dispatch_free(d);
        /* The same state as version 1 wrote it, under an iteration with no message rows. */
        ck_assert_int_eq(store_conversation_get(store, exec_id, 1, &v2), 0);
        ck_assert_uint_eq(count(v2, "\"version\":2"), 1);
        v1 = strstr(v2, "\"version\":2");
        v1[strlen("\"version\":")] = '1';
        ck_assert_int_eq(store_conversation_put(store, exec_id, 2, v2), 0);
        c.iteration = 2;
        ck_assert_int_eq(run_dispatch_resume(&c, &r), 0);
        request(r, GENERATE);
        ck_assert_str_eq(reply_str("dispatch_id"), id);
        send_result(r, id, "slept");
        /* The model saw the whole conversation: system, prompt, its call, the result. */
        ck_assert_str_eq(seen(1, "content"), "Say hi");
        ck_assert_ptr_nonnull(strstr(seen(3, "content"), "slept"));
        model_answers();
        ck_assert_str_eq(reply_str("content"), "after upgrade");
        ck_assert_int_eq(store_conversation_get(store, exec_id, 2, &stored), 0);
        ck_assert_uint_eq(count(stored, "\"version\":2"), 1);
        ck_assert_uint_eq(count(stored, "\"messages\":"), 1);
        ck_assert_uint_eq(count(stored, "Say hi"), 1);
        ck_assert_uint_eq(count(stored, "after upgrade"), 2); /* the last message and "final" */
        run_dispatch_free(r);
        /* A state of a version this aegisd does not know is refused, not half-read. */
        v1 = strstr(v2, "\"version\":1");
        v1[strlen("\"version\":")] = '7';
        ck_assert_int_eq(store_conversation_put(store, exec_id, 3, v2), 0);
        c.iteration = 3;
        ck_assert_int_eq(run_dispatch_resume(&c, &r), -EBADMSG);
}
END_TEST

/* A policy that denies cmd.run when its command is "rm" and never offers it when asked to. */
static bool deny_offer;
static bool policy_offer(void *userdata, const char *tool) {
        return !deny_offer;
}
static int policy_check(void *userdata, const char *tool, json_object *args, char **ret_reason) {
        json_object *v;
        if (deny_offer || (args && json_object_object_get_ex(args, "command", &v) &&
                           streq(json_object_get_string(v), "rm"))) {
                *ret_reason = strdup("command \"rm\" is not in the command_allowlist");
                return 1;
        }
        return 0;
}

START_TEST(test_a_denied_call_tells_the_model_and_is_recorded) {
        static const Step s[] = {
                { .calls_json = "[{\"id\":\"a\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"rm\"}},"
                                "{\"id\":\"b\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"ls\"}}]" },
                { .content = "ok" },
        };
        RunDispatchContext c = context(tools_cmd_run, 0);
        RunDispatch *d = NULL;
        _cleanup_free_ char *stored = NULL;
        json_object *t, *v;

        c.offer = policy_offer;
        c.check = policy_check;
        deny_offer = false;
        script = s, n_script = ELEMENTSOF(s);
        ck_assert_int_eq(run_dispatch_new(&c, &d), 0);
        request(d, GENERATE);
        model_answers();
        /* The denied call was answered at once; the allowed one is dispatched. */
        ck_assert_str_eq(reply_str("command"), "ls");
        ck_assert_uint_eq(n_events_violation, 1);
        send_result(d, reply_str("dispatch_id"), "");
        ck_assert_ptr_nonnull(strstr(seen(3, "content"), "Tool 'cmd.run' is not available: command"));
        model_answers();
        ck_assert_int_eq(store_conversation_get(store, exec_id, 1, &stored), 0);
        t = run_dispatch_trajectory(stored);
        ck_assert_int_eq(json_object_get_int(json_object_object_get(t, "violations_total")), 1);
        v = json_object_array_get_idx(json_object_object_get(t, "violations"), 0);
        ck_assert_str_eq(json_object_get_string(json_object_object_get(v, "tool_call_id")), "a");
        json_object_put(t);
        run_dispatch_free(d);
}
END_TEST

START_TEST(test_a_tool_the_context_does_not_offer_is_not_offered_and_denied) {
        static const Step s[] = {
                { .calls_json = "[{\"id\":\"a\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"ls\"}}]" },
                { .content = "ok" },
        };
        RunDispatchContext c = context(tools_cmd_run, 0);
        RunDispatch *d = NULL;

        c.offer = policy_offer;
        c.check = policy_check;
        deny_offer = true;
        script = s, n_script = ELEMENTSOF(s);
        ck_assert_int_eq(run_dispatch_new(&c, &d), 0);
        request(d, GENERATE);
        ck_assert(!last_tools);
        model_answers();
        ck_assert_uint_eq(n_events_violation, 1);
        ck_assert_uint_eq(generate_calls, 2);
        ck_assert_ptr_nonnull(strstr(seen(3, "content"), "Tool 'cmd.run' is not available"));
        model_answers();
        ck_assert_str_eq(reply_str("content"), "ok");
        run_dispatch_free(d);
}
END_TEST

/* A host tool (fs.write on a scratch volume) runs from the event loop; aegisd killed while
 * it is pending makes the call again on resume, and the loop goes on. */
START_TEST(test_a_host_tool_runs_from_the_loop_and_again_after_a_restart) {
        static const Step s[] = {
                { .calls_json = "[{\"id\":\"w\",\"name\":\"fs.write\",\"arguments\":{\"path\":\"f.txt\","
                                "\"content\":\"written\"}}]" },
                { .content = "done" },
        };
        static char *const tools_fs[] = { (char *) "fs.write", NULL };
        RunDispatchContext c = context(tools_fs, 0);
        _cleanup_free_ char *vdir = asprintf_safe("%s/vol", tmpdir),
                            *file = asprintf_safe("%s/vol/f.txt", tmpdir);
        _cleanup_free_ char *text = NULL, *stored = NULL;
        ToolVolume vol = { .mount_path = "/workspace", .dir = vdir };
        sd_event *ev = NULL;
        ToolEnv env;
        RunDispatch *d = NULL, *r = NULL;
        size_t n;

        ck_assert_int_eq(mkdir(vdir, 0755), 0);
        ck_assert_int_ge(sd_event_new(&ev), 0);
        env = (ToolEnv){ .event = ev, .volumes = &vol, .n_volumes = 1, .uid = getuid(), .gid = getgid() };
        c.tool_env = &env;
        script = s, n_script = ELEMENTSOF(s);
        ck_assert_int_eq(run_dispatch_new(&c, &d), 0);
        request(d, GENERATE);
        ck_assert(last_tools);
        model_answers();
        /* Started, its result not yet delivered: the request waits; the state says "tool". */
        ck_assert_uint_eq(n_replies, 0);
        ck_assert_int_eq(store_conversation_get(store, exec_id, 1, &stored), 0);
        ck_assert_ptr_nonnull(strstr(stored, "\"state\":\"tool\""));
        /* aegisd dies here: the call never completed. */
        d = run_dispatch_free(d);
        ck_assert_uint_eq(n_replies, 1); /* 404: this process's request is gone */
        ck_assert_int_eq(unlink(file), 0); /* so the file shows the call was made again */
        ck_assert_int_eq(run_dispatch_resume(&c, &r), 0);
        request(r, GENERATE);
        ck_assert_int_ge(sd_event_run(ev, 0), 0);
        ck_assert_int_eq(read_full_file(file, 1024, &text, &n), 0);
        ck_assert_str_eq(text, "written");
        ck_assert_uint_eq(generate_calls, 2);
        ck_assert_ptr_nonnull(strstr(seen(3, "content"), "bytes_written"));
        model_answers();
        ck_assert_str_eq(reply_str("content"), "done");
        ck_assert_str_eq(reply_str("tool_calls_executed"), "1");
        run_dispatch_free(r);
        sd_event_unref(ev);
}
END_TEST

START_TEST(test_a_request_waiting_when_the_iteration_ends_gets_404) {
        static const Step s[] = { { .content = "never" } };
        RunDispatchContext c = context(NULL, 0);
        RunDispatch *d = NULL;

        script = s, n_script = ELEMENTSOF(s);
        ck_assert_int_eq(run_dispatch_new(&c, &d), 0);
        request(d, GENERATE);
        ck_assert_uint_eq(n_replies, 0);
        run_dispatch_free(d);
        ck_assert_uint_eq(n_replies, 1);
        ck_assert_uint_eq(reply_status, 404);
        ck_assert_uint_eq(cancels, 1);
}
END_TEST

/* ---- max_concurrent: the admit hook over a real ToolSlots ---- */

static ToolSlots *slots;

static int admit_one_at_a_time(void *userdata, const char *tool, void (*admitted)(void *done_userdata),
                               void *done_userdata, void **ret_handle) {
        ToolSlot *t = NULL;
        int k = tool_slots_acquire(slots, tool, 1, admitted, done_userdata, &t);
        *ret_handle = t;
        return k;
}

static void admit_release(void *handle) {
        tool_slot_release(handle);
}

/* Two iterations of one store, each asking for cmd.run, one slot between them. */
static void two_iterations(sd_event **ev, RunDispatch **d1, RunDispatch **d2) {
        RunDispatchContext c1 = context(tools_cmd_run, 0), c2 = context(tools_cmd_run, 0);

        ck_assert_int_ge(sd_event_new(ev), 0);
        ck_assert_int_eq(tool_slots_new(*ev, &slots), 0);
        c1.admit = c2.admit = admit_one_at_a_time;
        c1.admit_release = c2.admit_release = admit_release;
        c2.iteration = 2;
        ck_assert_int_eq(run_dispatch_new(&c1, d1), 0);
        ck_assert_int_eq(run_dispatch_new(&c2, d2), 0);
}

START_TEST(test_a_call_past_max_concurrent_waits_for_the_running_one) {
        static const Step s[] = {
                { .calls_json =
                          "[{\"id\":\"a\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"one\"}}]" },
                { .calls_json =
                          "[{\"id\":\"b\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"two\"}}]" },
                { .content = "first done" },
                { .content = "second done" },
        };
        RunDispatch *d1 = NULL, *d2 = NULL;
        _cleanup_free_ char *id1 = NULL, *id2 = NULL;
        sd_event *ev = NULL;

        script = s, n_script = ELEMENTSOF(s);
        two_iterations(&ev, &d1, &d2);
        request(d1, GENERATE);
        model_answers();
        ck_assert_str_eq(reply_str("command"), "one");
        id1 = strdup(reply_str("dispatch_id"));
        ck_assert_uint_eq(tool_slots_held(slots, "cmd.run"), 1);

        /* The second iteration's call finds the slot taken: no dispatch, no start event. */
        request(d2, GENERATE);
        model_answers();
        ck_assert_uint_eq(n_replies, 1);
        ck_assert_uint_eq(n_events_tool_started, 1);
        ck_assert_uint_eq(tool_slots_waiting(slots, "cmd.run"), 1);
        ck_assert_int_ge(sd_event_run(ev, 0), 0);
        ck_assert_uint_eq(n_replies, 1); /* still waiting: nothing was released */

        /* The first call ends: the second is granted from the event loop, not before. */
        send_result(d1, id1, "1");
        ck_assert_uint_eq(n_replies, 1);
        ck_assert_uint_eq(tool_slots_waiting(slots, "cmd.run"), 0);
        ck_assert_uint_eq(tool_slots_held(slots, "cmd.run"), 1);
        ck_assert_int_ge(sd_event_run(ev, 0), 0);
        ck_assert_uint_eq(n_replies, 2);
        ck_assert_str_eq(reply_str("command"), "two");
        id2 = strdup(reply_str("dispatch_id"));
        ck_assert_uint_eq(n_events_tool_started, 2);

        model_answers(); /* d1's turn after its result */
        ck_assert_str_eq(reply_str("content"), "first done");
        send_result(d2, id2, "2");
        ck_assert_uint_eq(tool_slots_held(slots, "cmd.run"), 0);
        model_answers();
        ck_assert_str_eq(reply_str("content"), "second done");
        run_dispatch_free(d1);
        run_dispatch_free(d2);
        slots = tool_slots_free(slots);
        sd_event_unref(ev);
}
END_TEST

START_TEST(test_an_iteration_ending_while_its_call_waits_gives_its_place_up) {
        static const Step s[] = {
                { .calls_json =
                          "[{\"id\":\"a\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"one\"}}]" },
                { .calls_json =
                          "[{\"id\":\"b\",\"name\":\"cmd.run\",\"arguments\":{\"command\":\"two\"}}]" },
        };
        RunDispatch *d1 = NULL, *d2 = NULL;
        sd_event *ev = NULL;

        script = s, n_script = ELEMENTSOF(s);
        two_iterations(&ev, &d1, &d2);
        request(d1, GENERATE);
        model_answers();
        request(d2, GENERATE);
        model_answers();
        ck_assert_uint_eq(tool_slots_waiting(slots, "cmd.run"), 1);
        run_dispatch_free(d2); /* its request is answered 404, its place in the queue given up */
        ck_assert_uint_eq(reply_status, 404);
        ck_assert_uint_eq(tool_slots_waiting(slots, "cmd.run"), 0);
        run_dispatch_free(d1); /* the container died mid-call: the held slot is given back */
        ck_assert_uint_eq(tool_slots_held(slots, "cmd.run"), 0);
        ck_assert_int_ge(sd_event_run(ev, 0), 0);
        slots = tool_slots_free(slots); /* asserts that no gate is left */
        sd_event_unref(ev);
}
END_TEST

int main(void) {
        Suite *s = suite_create("run-dispatch");
        TCase *tc = tcase_create("protocol");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_single_turn_final_answer_and_repeats_are_idempotent);
        tcase_add_test(tc, test_cmd_run_round_trip_reaches_the_model_and_repeats_resend_the_dispatch);
        tcase_add_test(tc, test_every_call_of_a_batch_runs_and_unknown_tools_get_an_error);
        tcase_add_test(tc, test_fs_tools_without_a_volume_are_dispatched_to_the_container);
        tcase_add_test(tc, test_round_limit_fails_the_loop);
        tcase_add_test(tc, test_model_error_answers_its_tag_and_status);
        tcase_add_test(tc, test_resume_from_the_store_continues_the_conversation);
        tcase_add_test(tc, test_resume_of_a_version_1_conversation_keeps_every_message_once);
        tcase_add_test(tc, test_a_request_waiting_when_the_iteration_ends_gets_404);
        tcase_add_test(tc, test_a_denied_call_tells_the_model_and_is_recorded);
        tcase_add_test(tc, test_a_tool_the_context_does_not_offer_is_not_offered_and_denied);
        tcase_add_test(tc, test_a_host_tool_runs_from_the_loop_and_again_after_a_restart);
        tcase_add_test(tc, test_a_call_past_max_concurrent_waits_for_the_running_one);
        tcase_add_test(tc, test_an_iteration_ending_while_its_call_waits_gives_its_place_up);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
