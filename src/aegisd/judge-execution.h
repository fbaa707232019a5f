/* judge-execution.h — a deployed agent as a judge (judge_agent of the validators semantic and
 * multi_judge): one execution of that agent, of the judged execution's tenant, whose output is
 * the verdict. run-judge.c asks; this module creates the execution, watches it on the sd-event
 * loop and reports its output.
 *
 * What must stay true:
 *  - a judge execution is an execution like any other: a row of the tenant (GET
 *    /v1/executions lists it), claimed and run by the supervisor under runtime.max_concurrent,
 *    counted against limits.max_concurrent_executions (at the quota, no judge execution is
 *    created and the judge fails saying so); its input's "judge_of" names the judged
 *    execution, iteration and validator (judge.h, judge_agent_input());
 *  - only an agent of the same tenant judges (another tenant's looks exactly like a missing
 *    one), and never one whose own validators name judge agents (depth 1: no recursion);
 *  - its id is derived from the judged execution, iteration, validator and judge, so an
 *    aegisd restarted while it runs finds the same execution again instead of starting a
 *    second one;
 *  - done() runs exactly once, from the event loop (never from judge_execution_start()),
 *    unless the JudgeExecution is freed first; it may free the JudgeExecution. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "store.h"

typedef struct JudgeExecution JudgeExecution;
struct json_object;

/* What the node (supervisor.c) does for a judge execution, each called with the context's
 * ops_userdata: append an event of it (payload: taken, completed with type, execution_id
 * and time), look for pending work now, cancel it (-ENOENT, -EALREADY when it ended), and
 * call fn for each event of it this node appends until unlisten (which takes NULL). */
typedef void (*judge_execution_event_fn)(const char *execution_id, uint64_t seq, void *userdata);
typedef struct JudgeExecutionOps {
        int (*emit)(void *userdata, const char *execution_id, const char *type, struct json_object *payload);
        void (*kick)(void *userdata);
        int (*cancel)(void *userdata, const char *execution_id);
        int (*listen)(void *userdata, const char *execution_id, judge_execution_event_fn fn,
                      void *fn_userdata, void **ret_listener);
        void (*unlisten)(void *userdata, void *listener);
} JudgeExecutionOps;

/* What the judged execution's Run lends (borrowed, outliving every JudgeExecution). */
typedef struct JudgeExecutionContext {
        sd_event *loop;
        Store *store;
        const JudgeExecutionOps *ops;
        void *ops_userdata;
        const Config *config; /* limits: the tenant's quota */
        const char *tenant_id;
        const char *execution_id; /* the judged execution */
} JudgeExecutionContext;

typedef struct JudgeExecutionRequest {
        const char *agent; /* name or id */
        const char *version; /* NULL = the latest */
        const char *input_json; /* judge_agent_input() */
        unsigned iteration; /* of the judged execution */
        size_t validator, judge; /* 1-based: which judge this is */
        uint64_t timeout_usec; /* the validator's timeout_seconds: then it is cancelled */
} JudgeExecutionRequest;

/* k == 0: the judge execution completed and output is its output; k < 0: it gave none,
 * message says why (it failed, was cancelled, ran out of time, or vanished). */
typedef void (*judge_execution_done_fn)(int k, const char *output, const char *message, void *userdata);

/* Creates the judge execution (or finds the one a previous aegisd created for the same judge)
 * and watches it. On failure nothing is created and *ret_error says why: -ENOENT no such agent
 * for the tenant, -ELOOP the agent is itself judged by agents, -EDQUOT the tenant is at its
 * quota, -EINVAL its stored manifest does not parse, -ENOMEM, or the store's error. */
int judge_execution_start(const JudgeExecutionContext *c, const JudgeExecutionRequest *req,
                          judge_execution_done_fn done, void *userdata, JudgeExecution **ret,
                          char **ret_error);
/* The judge execution's id. */
const char *judge_execution_id(const JudgeExecution *j);
/* Stops watching; the judge execution runs on (aegisd stopping: found again at the restart).
 * NULL is fine. Returns NULL. */
JudgeExecution *judge_execution_free(JudgeExecution *j);
/* Cancels the judge execution (the judged one was cancelled or ran out of time), then frees
 * j; done() does not run. NULL is fine. Returns NULL. */
JudgeExecution *judge_execution_cancel(JudgeExecution *j);

/* Whether execution id is the judge execution that judge_of ({"execution_id", "iteration",
 * "validator", "judge"}, its input's) names: ids are derived from those, so an execution
 * submitted with such an input does not pass for a judge. */
bool judge_execution_is_judge_of(const char *id, struct json_object *judge_of);

/* Whether the stored manifest of agent may judge: 0, -ELOOP when its own validators name judge
 * agents, -EINVAL when it does not parse. The API's check at submission uses it too. */
int judge_execution_check_agent(const char *manifest_json);
