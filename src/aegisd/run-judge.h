/* run-judge.h — one iteration's judging: the validators semantic and multi_judge of the
 * manifest, run by aegisd after the deterministic ones passed (an iteration's part, see
 * HACKING.md "An iteration's parts"). judge.h says what a judge is asked and how answers
 * become a decision; this part makes the model calls through RunDispatchModel (the daemon's
 * LlmClient) on the sd-event loop.
 *
 * What must stay true:
 *  - judged validators run in manifest order, the judges of one validator at once; the first
 *    validator that fails ends the judging (the later ones are not asked);
 *  - every judge call is bounded by the validator's timeout_seconds and reported as
 *    llm_call_started / llm_call_finished events ("judge": validator number) like the inner
 *    loop's calls; a failed call or an answer that is no verdict is that judge's failure;
 *  - a judge agent (judge_agent) judges in an execution of its own (judge-execution.h),
 *    reported as judge_execution_started / judge_execution_finished events with its id; its
 *    output must be the JSON verdict, anything else is that judge's failure as above;
 *  - done() runs exactly once, never from inside run_judge_start(), unless the RunJudge is
 *    freed first (which cancels the calls in flight); it may free the RunJudge. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

#include "judge-execution.h"
#include "manifest.h"
#include "run-dispatch.h"
#include "run-part.h"

struct json_object;

typedef struct RunJudge RunJudge;

typedef struct RunJudgeContext {
        sd_event *loop;
        const ManifestPlan *plan; /* spec.runtime.model and the task (borrowed) */
        const ManifestValidator *validators; /* plan->validators or plan->tool_validators */
        size_t n_validators;
        const char *input_json; /* the execution's input, "null" or NULL when none */
        const char *output; /* what is judged: stdout, the inner loop's final answer, or (with
                             * tool) the proposed call's arguments as JSON */
        const char *tool; /* tool_validation: the tool the call is for; NULL otherwise */
        const RunDispatchModel *model; /* NULL: no LLM provider (a model judge then fails) */
        /* Judge agents: where their executions go (NULL: a judge agent then fails) and which
         * iteration of the judged execution this is (their input says so). */
        const JudgeExecutionContext *agents;
        unsigned iteration;

        /* Reports: event (takes payload), log (optional), done once: k > 0 every judged
         * validator passed; k == 0 one failed, message says which and what its judges said;
         * k < 0 judging could not be done at all (message says why). */
        void (*event)(void *userdata, const char *type, struct json_object *payload);
        run_part_log_fn log;
        void (*done)(int k, const char *message, void *userdata);
        void *userdata;
} RunJudgeContext;

/* Starts judging. -ENOMEM; -EINVAL when no validator is a judged one. */
int run_judge_start(const RunJudgeContext *c, RunJudge **ret);
/* Cancels the model calls in flight and stops watching the judge executions, which run on
 * (aegisd stopping: a restarted one finds them again); done() will not run. NULL is fine.
 * Returns NULL. */
RunJudge *run_judge_free(RunJudge *j);
/* The same, and the judge executions in flight are cancelled (the judged execution was
 * cancelled or ran out of time). */
RunJudge *run_judge_cancel(RunJudge *j);

/* The judged validators so far, judge.h's judge_record() each, in order (borrowed; an
 * empty array before the first decision). */
struct json_object *run_judge_records(const RunJudge *j);
