/* judge.h — models judging an iteration's output: the validators `semantic` (one judge) and
 * `multi_judge` (several and a consensus) of spec.execution.validation. What a judge is asked,
 * how its answer is read, and how the answers make one decision; no I/O here (aegisd's
 * run-judge.c makes the model calls).
 *
 * What must stay true:
 *  - a judge answers with one JSON object {"score": 0..1, "confidence": 0..1, "reasoning": "…"}
 *    (alone, in a ```json fence, or amid prose); anything else — no object, a score out of
 *    range, no reasoning — is that judge's failure with a reason saying what was wrong, never
 *    a pass and never a crash;
 *  - judges that failed do not count: fewer answers than min_judges_required (1 for semantic)
 *    fails the validator with that reason;
 *  - a failed validator's reason carries the judges' reasoning, since it is the feedback the
 *    next iteration gets ("# Previous Attempts:", AEGIS_PREVIOUS_REASON). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "manifest.h"

struct json_object;

#define JUDGE_OUTPUT_MAX (64 * 1024) /* the tail of the output a judge sees */
#define JUDGE_REASONING_MAX 4096 /* bytes of a judge's reasoning kept */

typedef struct JudgeVerdict {
        const char *model; /* the alias asked (borrowed); NULL for an agent */
        const char *agent; /* judge_agent (borrowed), NULL for a model */
        char *execution_id; /* agent: the judge's execution, once created */
        double weight;
        bool answered; /* false: the call failed or the answer was no verdict (error says why) */
        double score, confidence;
        char *reasoning; /* answered */
        char *error; /* !answered */
} JudgeVerdict;

void judge_verdict_done(JudgeVerdict *v);

/* The conversation a judge gets (llm.h's messages): a system message that asks for the JSON
 * verdict, and a user message with the criteria, the task, the input and the output (its last
 * JUDGE_OUTPUT_MAX bytes). With tool (tool_validation), the judge reviews a proposed call
 * instead: output is then its arguments (JSON) and the input is left out. task and input_json
 * may be NULL. -ENOMEM only. */
int judge_messages(const char *criteria, const char *task, const char *input_json, const char *output,
                   const char *tool, struct json_object **ret);

/* Reads a judge's answer. 0 with ret filled (answered), -EBADMSG with *ret_error saying what is
 * wrong with it, -ENOMEM. ret->model and ret->weight are left alone. */
int judge_verdict_parse(const char *text, JudgeVerdict *ret, char **ret_error);

/* A judge agent's answer: its execution's output must be the JSON verdict itself (the whole
 * output, or its last non-empty line), not prose around one; then as judge_verdict_parse(). */
int judge_agent_verdict_parse(const char *output, JudgeVerdict *ret, char **ret_error);

/* The input of a judge agent's execution (a JSON object, compact, malloc'd): {"criteria",
 * "task" (when known), "input" (the judged execution's, when there is one), "output" (its
 * last JUDGE_OUTPUT_MAX bytes), "output_truncated", "iteration", "judge_of": {"execution_id",
 * "iteration", "validator", "judge"}} (validator and judge 1-based). NULL on allocation
 * failure. */
char *judge_agent_input(const char *criteria, const char *task, const char *input_json, const char *output,
                        const char *execution_id, unsigned iteration, size_t validator, size_t judge);

typedef struct JudgeDecision {
        bool passed;
        unsigned answered; /* judges that gave a verdict */
        double score, confidence; /* weighted averages over those that answered (0 when none) */
        char *reason; /* failed: the sentence for the iteration's record and feedback */
} JudgeDecision;

void judge_decision_done(JudgeDecision *d);

/* Decides validator v (number index, 1-based, for the reason) from its judges' verdicts
 * (n == v->n_judges, in order): weighted_average passes when the averages reach min_score and
 * min_confidence; majority when the judges that reach both hold more than half the weight
 * of those that answered; unanimous when all that answered reach both. -ENOMEM only. */
int judge_decide(const ManifestValidator *v, size_t index, const JudgeVerdict *verdicts, size_t n,
                 JudgeDecision *ret);

/* The record kept with the iteration: {"validator": index, "type", "criteria", "passed", "score",
 * "confidence", "consensus" (multi_judge), "judges": [{"model","weight","score","confidence",
 * "reasoning"} or {"model","weight","error"}]}; an agent judge has "agent" and
 * "execution_id" (its judge execution) in place of "model". NULL on allocation failure. */
struct json_object *judge_record(const ManifestValidator *v, size_t index, const JudgeVerdict *verdicts,
                                 size_t n, const JudgeDecision *d);
