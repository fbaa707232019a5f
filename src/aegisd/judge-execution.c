/* judge-execution.c — see judge-execution.h. The judge execution is watched three ways: a
 * listener of the node's (ops->listen: its events on this node, prompt), a poll of its row (it
 * may run on another node sharing the store) and the timeout. Each only schedules a look at
 * the row from a defer source, so done() never runs inside the node's event emission. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api-limits.h"
#include "execution-events.h"
#include "hmac.h"
#include "json-util.h"
#include "judge-execution.h"
#include "manifest.h"
#include "util.h"

#define POLL_USEC (1 * USEC_PER_SEC)

struct JudgeExecution {
        JudgeExecutionContext ctx;
        char id[UUID_STRING_MAX];
        uint64_t timeout_usec;
        judge_execution_done_fn done;
        void *userdata;
        void *listener; /* ctx.ops->listen()'s */
        sd_event_source *look, *poll, *timer;
};

/* A UUID made from the judge's place, so a restarted aegisd finds the same execution. */
static void derive_id(const char *parent, unsigned iteration, size_t validator, size_t judge,
                      char ret[UUID_STRING_MAX]) {
        uint8_t h[SHA256_DIGEST_SIZE];
        char buf[256], hex[33];

        (void) snprintf(buf, sizeof buf, "aegis.judge\n%s\n%u\n%zu\n%zu", parent, iteration, validator,
                        judge);
        sha256(buf, strlen(buf), h);
        h[6] = (h[6] & 0x0f) | 0x50; /* RFC 4122 version 5 (name-based, SHA) … */
        h[8] = (h[8] & 0x3f) | 0x80; /* … variant 1 */
        for (size_t i = 0; i < 16; i++)
                (void) snprintf(hex + 2 * i, 3, "%02x", h[i]);
        (void) snprintf(ret, UUID_STRING_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
                        hex + 20);
}

bool judge_execution_is_judge_of(const char *id, json_object *judge_of) {
        json_object *p, *it, *v, *jd;
        char want[UUID_STRING_MAX];

        assert(id);
        if (!json_object_is_type(judge_of, json_type_object) ||
            !json_object_object_get_ex(judge_of, "execution_id", &p) ||
            !json_object_is_type(p, json_type_string) ||
            !json_object_object_get_ex(judge_of, "iteration", &it) ||
            !json_object_is_type(it, json_type_int) ||
            !json_object_object_get_ex(judge_of, "validator", &v) ||
            !json_object_is_type(v, json_type_int) || !json_object_object_get_ex(judge_of, "judge", &jd) ||
            !json_object_is_type(jd, json_type_int))
                return false;
        derive_id(json_object_get_string(p), (unsigned) json_object_get_int64(it),
                  (size_t) json_object_get_int64(v), (size_t) json_object_get_int64(jd), want);
        return streq(want, id);
}

int judge_execution_check_agent(const char *manifest_json) {
        _cleanup_(manifest_plan_freep) ManifestPlan *plan = NULL;
        Error e = ERROR_INIT;

        assert(manifest_json);
        if (manifest_parse(manifest_json, strlen(manifest_json), "judge agent", &plan, &e) < 0)
                return -EINVAL;
        return manifest_plan_has_agent_judges(plan) ? -ELOOP : 0;
}

static void stop_watching(JudgeExecution *j) {
        j->ctx.ops->unlisten(j->ctx.ops_userdata, j->listener);
        j->listener = NULL;
        j->look = sd_event_source_disable_unref(j->look);
        j->poll = sd_event_source_disable_unref(j->poll);
        j->timer = sd_event_source_disable_unref(j->timer);
}

static void finish(JudgeExecution *j, int k, const char *output, const char *message) {
        stop_watching(j);
        j->done(k, output, message, j->userdata); /* last: may free j */
}

/* Looks at the row: reports once it is terminal. */
static int on_look(sd_event_source *s, void *userdata) {
        JudgeExecution *j = userdata;
        _cleanup_free_ char *message = NULL;
        StoreExecution x = {};
        int k;

        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        k = store_execution_get(j->ctx.store, j->id, &x);
        if (k == -ENOENT) {
                message = asprintf_safe("the judge execution %s is gone (deleted while it judged)", j->id);
                finish(j, -ENOENT, NULL, strempty(message));
                return 0;
        }
        if (k < 0 || !execution_status_is_terminal(x.status)) {
                store_execution_done(&x);
                return 0; /* asked again at the next poll */
        }
        switch (x.status) {
        case EXECUTION_COMPLETED:
                k = 0;
                break;
        case EXECUTION_CANCELLED:
                k = -ECANCELED;
                message = asprintf_safe("the judge execution %s was cancelled", j->id);
                break;
        default:
                k = -EIO;
                message = asprintf_safe("the judge execution %s failed: %s", j->id, strempty(x.reason));
                break;
        }
        finish(j, k, x.output, message ? message : (k == 0 ? NULL : "out of memory"));
        store_execution_done(&x);
        return 0;
}

static void schedule_look(JudgeExecution *j) {
        if (j->look)
                (void) sd_event_source_set_enabled(j->look, SD_EVENT_ONESHOT);
}

static void on_event(const char *execution_id, uint64_t seq, void *userdata) {
        schedule_look(userdata);
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        JudgeExecution *j = userdata;

        schedule_look(j);
        (void) sd_event_source_set_time_relative(s, POLL_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        JudgeExecution *j = userdata;
        _cleanup_free_ char *message = NULL;

        (void) j->ctx.ops->cancel(j->ctx.ops_userdata, j->id);
        message = asprintf_safe("timeout: the judge execution %s did not finish within %" PRIu64
                                " s (timeout_seconds): cancelled",
                                j->id, j->timeout_usec / USEC_PER_SEC);
        finish(j, -ETIME, NULL, message ? message : "timeout");
        return 0;
}

/* The judge execution's row: created now, or found from before a restart. */
static int create_row(const JudgeExecutionContext *c, const JudgeExecutionRequest *req, const char *id,
                      char **ret_error) {
        _cleanup_(manifest_plan_freep) ManifestPlan *plan = NULL;
        _cleanup_free_ char *canonical = NULL;
        StoreExecution ex = {}, old = {};
        StoreAgent a = {};
        ConfigLimits l;
        Error e = ERROR_INIT;
        uint64_t n;
        int k;

        k = store_execution_get(c->store, id, &old);
        if (k >= 0) {
                /* A previous aegisd asked this judge already: watch that execution. */
                bool ours = streq_ptr(old.tenant_id, c->tenant_id);
                store_execution_done(&old);
                if (ours)
                        return 0;
                *ret_error = strdup("the judge execution's id is taken");
                return -EEXIST;
        }
        k = store_agent_get(c->store, c->tenant_id, req->agent, req->version, &a);
        if (k == -ENOENT) {
                *ret_error = asprintf_safe("no deployed agent \"%s%s%s\" (deploy it with POST /v1/agents)",
                                           req->agent, req->version ? ":" : "", strempty(req->version));
                return -ENOENT;
        }
        if (k < 0) {
                *ret_error =
                        asprintf_safe("cannot read agent %s: %s", req->agent, store_last_error(c->store));
                return k;
        }
        k = manifest_parse(a.manifest_json, strlen(a.manifest_json), a.name, &plan, &e);
        if (k < 0) {
                *ret_error = asprintf_safe("the judge agent %s does not parse: %s", a.name, e.message);
                store_agent_done(&a);
                return -EINVAL;
        }
        if (manifest_plan_has_agent_judges(plan)) {
                *ret_error = asprintf_safe("the judge agent %s is itself judged by agents (judge_agent): a "
                                           "judge agent's validators may use models only",
                                           a.name);
                store_agent_done(&a);
                return -ELOOP;
        }
        if (c->config)
                config_limits_for_tenant(c->config, c->tenant_id, &l, NULL);
        k = c->config ? limits_count_unfinished(c->store, c->tenant_id, l.max_concurrent_executions, &n)
                      : -ENOENT;
        if (k >= 0 && n >= l.max_concurrent_executions) {
                *ret_error =
                        asprintf_safe("tenant %s already has %" PRIu64 " unfinished executions, its quota "
                                      "(max_concurrent_executions in aegis-config.yaml): no room for "
                                      "the judge execution",
                                      c->tenant_id, n);
                store_agent_done(&a);
                return -EDQUOT;
        }
        canonical = manifest_plan_to_json_string(plan);
        if (!canonical) {
                store_agent_done(&a);
                return -ENOMEM;
        }
        memcpy(ex.id, id, UUID_STRING_MAX);
        ex.tenant_id = (char *) c->tenant_id;
        ex.agent_id = a.id;
        ex.agent_name = a.name;
        ex.input_json = (char *) req->input_json;
        ex.manifest_json = canonical;
        ex.max_iterations = (unsigned) plan->max_iterations;
        k = store_execution_create(c->store, &ex);
        if (k < 0)
                *ret_error =
                        asprintf_safe("cannot create the judge execution: %s", store_last_error(c->store));
        else
                (void) c->ops->emit(
                        c->ops_userdata, id, EVENT_EXECUTION_CREATED, ({
                                json_object *p = json_object_new_object();
                                json_object *of = json_object_new_object();
                                json_object_object_add(p, "status", json_object_new_string("pending"));
                                json_object_object_add(p, "max_iterations",
                                                       json_object_new_int64(plan->max_iterations));
                                json_object_object_add(of, "execution_id",
                                                       json_object_new_string(c->execution_id));
                                json_object_object_add(of, "iteration",
                                                       json_object_new_int64(req->iteration));
                                json_object_object_add(of, "validator",
                                                       json_object_new_int64((int64_t) req->validator));
                                json_object_object_add(of, "judge",
                                                       json_object_new_int64((int64_t) req->judge));
                                json_object_object_add(p, "judge_of", of);
                                p;
                        }));
        store_agent_done(&a);
        return k;
}

int judge_execution_start(const JudgeExecutionContext *c, const JudgeExecutionRequest *req,
                          judge_execution_done_fn done, void *userdata, JudgeExecution **ret,
                          char **ret_error) {
        JudgeExecution *j;
        char id[UUID_STRING_MAX];
        int k;

        assert(c);
        assert(c->ops);
        assert(req);
        assert(req->agent);
        assert(req->input_json);
        assert(done);
        assert(ret);
        assert(ret_error);
        *ret_error = NULL;
        derive_id(c->execution_id, req->iteration, req->validator, req->judge, id);
        k = create_row(c, req, id, ret_error);
        if (k < 0)
                return k;
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->ctx = *c;
        memcpy(j->id, id, sizeof id);
        j->timeout_usec = req->timeout_usec;
        j->done = done;
        j->userdata = userdata;
        k = sd_event_add_defer(c->loop, &j->look, on_look, j);
        if (k >= 0)
                k = sd_event_add_time_relative(c->loop, &j->poll, CLOCK_MONOTONIC, POLL_USEC,
                                               USEC_PER_MSEC * 100, on_poll, j);
        if (k >= 0)
                k = sd_event_add_time_relative(c->loop, &j->timer, CLOCK_MONOTONIC, req->timeout_usec,
                                               USEC_PER_MSEC * 10, on_timeout, j);
        if (k >= 0)
                k = c->ops->listen(c->ops_userdata, id, on_event, j, &j->listener);
        if (k < 0) {
                /* Created but not watched: it must not run unjudged-for. */
                judge_execution_cancel(j);
                *ret_error = asprintf_safe("cannot watch the judge execution: %s", strerror(-k));
                return k;
        }
        c->ops->kick(c->ops_userdata);
        *ret = j;
        return 0;
}

const char *judge_execution_id(const JudgeExecution *j) {
        assert(j);
        return j->id;
}

JudgeExecution *judge_execution_free(JudgeExecution *j) {
        if (!j)
                return NULL;
        stop_watching(j);
        free(j);
        return NULL;
}

JudgeExecution *judge_execution_cancel(JudgeExecution *j) {
        if (!j)
                return NULL;
        (void) j->ctx.ops->cancel(j->ctx.ops_userdata, j->id);
        return judge_execution_free(j);
}
