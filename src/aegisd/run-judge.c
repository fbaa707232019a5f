/* run-judge.c — see run-judge.h. One validator at a time: its judges' calls go out together,
 * the last answer decides it (judge_decide), and the next judged validator starts or done()
 * reports. Moving on from run_judge_start() goes through a defer event source, so done()
 * never runs inside it. */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "judge.h"
#include "json-util.h"
#include "run-judge.h"
#include "util.h"

typedef struct JudgeCall {
        RunJudge *owner;
        size_t index; /* in the validator's judges */
        LlmCall *call;
        JudgeExecution *exec; /* a judge agent's execution being watched */
        uint64_t started; /* CLOCK_MONOTONIC µs */
} JudgeCall;

struct RunJudge {
        RunJudgeContext ctx;
        size_t next; /* the validator to look at next (index into plan->validators) */
        size_t current; /* the validator being judged */
        JudgeVerdict verdicts[MANIFEST_MAX_JUDGES];
        JudgeCall calls[MANIFEST_MAX_JUDGES];
        size_t n_pending;
        json_object *messages; /* the current validator's judge conversation */
        json_object *records;
        sd_event_source *defer;
};

static void emit(RunJudge *j, const char *type, json_object *payload) {
        if (j->ctx.event)
                j->ctx.event(j->ctx.userdata, type, payload);
        else
                json_object_put(payload);
}

static void finish(RunJudge *j, int k, const char *message) {
        /* Last thing: done() may free j. */
        j->ctx.done(k, message, j->ctx.userdata);
}

static void clear_verdicts(RunJudge *j) {
        for (size_t i = 0; i < MANIFEST_MAX_JUDGES; i++)
                judge_verdict_done(&j->verdicts[i]);
}

static void advance(RunJudge *j);

static void decide(RunJudge *j) {
        const ManifestValidator *v = &j->ctx.validators[j->current];
        JudgeDecision d = {};
        json_object *rec;
        int k;

        k = judge_decide(v, j->current + 1, j->verdicts, v->n_judges, &d);
        if (k < 0) {
                finish(j, k, "out of memory while judging");
                return;
        }
        rec = judge_record(v, j->current + 1, j->verdicts, v->n_judges, &d);
        if (!rec || json_object_array_add(j->records, rec) < 0) {
                json_object_put(rec);
                judge_decision_done(&d);
                finish(j, -ENOMEM, "out of memory while judging");
                return;
        }
        {
                /* A copy: the event's emitter adds its own keys ("type") to the payload. */
                json_object *copy = NULL;
                if (json_object_deep_copy(rec, &copy, NULL) >= 0)
                        emit(j, "validator_judged", copy);
        }
        run_part_log(j->ctx.log, j->ctx.userdata, d.passed ? LOG_INFO : LOG_NOTICE,
                     "validator %zu (%s): %s, score %.2f, confidence %.2f, %u of %zu judges answered",
                     j->current + 1, manifest_validator_type_to_string(v->type),
                     d.passed ? "passed" : "failed", d.score, d.confidence, d.answered, v->n_judges);
        clear_verdicts(j);
        json_object_put(j->messages);
        j->messages = NULL;
        if (!d.passed) {
                _cleanup_free_ char *reason = TAKE_PTR(d.reason);
                finish(j, 0, reason);
                return;
        }
        judge_decision_done(&d);
        advance(j);
}

static void on_answer(int k, const LlmResponse *resp, LlmErrorKind kind, const char *message,
                      void *userdata) {
        JudgeCall *c = userdata;
        RunJudge *j = c->owner;
        JudgeVerdict *verdict = &j->verdicts[c->index];
        const RunDispatchModel *m = j->ctx.model;
        json_object *p = json_object_new_object();
        _cleanup_free_ char *bad = NULL;

        c->call = NULL;
        json_object_object_add(p, "judge", json_object_new_int64((int64_t) j->current + 1));
        json_object_object_add(p, "judge_index", json_object_new_int64((int64_t) c->index + 1));
        if (k >= 0 && resp) {
                llm_response_event_fields(resp, p);
                if (judge_verdict_parse(resp->content, verdict, &bad) < 0) {
                        verdict->error = bad ? TAKE_PTR(bad) : strdup("out of memory reading the verdict");
                        json_object_object_add(p, "verdict_error",
                                               json_object_new_string(strempty(verdict->error)));
                }
        } else {
                const char *tag = m->error_tag ? m->error_tag(kind) : "internal";
                json_object_object_add(p, "model_alias", json_object_new_string(strempty(verdict->model)));
                json_object_object_add(
                        p, "latency_ms",
                        json_object_new_int64(
                                (int64_t) ((now_usec(CLOCK_MONOTONIC) - c->started) / USEC_PER_MSEC)));
                json_object_object_add(p, "outcome", json_object_new_string(tag));
                json_object_object_add(p, "error", json_object_new_string(strempty(message)));
                verdict->error =
                        asprintf_safe("%s: %s", tag, isempty(message) ? "the model call failed" : message);
        }
        emit(j, "llm_call_finished", p);
        assert(j->n_pending > 0);
        if (--j->n_pending == 0)
                decide(j);
}

static void on_agent_verdict(int k, const char *output, const char *message, void *userdata) {
        JudgeCall *c = userdata;
        RunJudge *j = c->owner;
        JudgeVerdict *verdict = &j->verdicts[c->index];
        json_object *p = json_object_new_object();
        _cleanup_free_ char *bad = NULL;

        c->exec = judge_execution_free(c->exec); /* done with it: output and message are borrowed
                                                  * until we return, not from it */
        json_object_object_add(p, "judge", json_object_new_int64((int64_t) j->current + 1));
        json_object_object_add(p, "judge_index", json_object_new_int64((int64_t) c->index + 1));
        json_object_object_add(p, "agent", json_object_new_string(verdict->agent));
        json_object_object_add(p, "execution_id", json_object_new_string(strempty(verdict->execution_id)));
        json_object_object_add(
                p, "latency_ms",
                json_object_new_int64((int64_t) ((now_usec(CLOCK_MONOTONIC) - c->started) / USEC_PER_MSEC)));
        if (k >= 0) {
                if (judge_agent_verdict_parse(output, verdict, &bad) < 0)
                        verdict->error = bad ? TAKE_PTR(bad) : strdup("out of memory reading the verdict");
        } else
                verdict->error = strdup(isempty(message) ? "the judge execution gave no output" : message);
        if (verdict->error)
                json_object_object_add(p, "error", json_object_new_string(verdict->error));
        emit(j, "judge_execution_finished", p);
        assert(j->n_pending > 0);
        if (--j->n_pending == 0)
                decide(j);
}

/* Starts judge n of validator i, a deployed agent: 0 when it is pending. */
static int ask_agent(RunJudge *j, size_t i, size_t n) {
        const ManifestValidator *v = &j->ctx.validators[i];
        const ManifestJudge *mj = &v->judges[n];
        JudgeVerdict *verdict = &j->verdicts[n];
        JudgeCall *c = &j->calls[n];
        _cleanup_free_ char *input = NULL, *error = NULL;
        int k;

        verdict->agent = mj->agent;
        if (!j->ctx.agents) {
                verdict->error = strdup("internal: judge agents cannot be asked here");
                return -EOPNOTSUPP;
        }
        input = judge_agent_input(v->criteria, j->ctx.plan->task_instruction, j->ctx.input_json,
                                  j->ctx.output, j->ctx.agents->execution_id, j->ctx.iteration, i + 1,
                                  n + 1);
        if (!input) {
                verdict->error = strdup("out of memory while judging");
                return -ENOMEM;
        }
        k = judge_execution_start(j->ctx.agents,
                                  &(JudgeExecutionRequest){
                                          .agent = mj->agent,
                                          .version = mj->agent_version,
                                          .input_json = input,
                                          .iteration = j->ctx.iteration,
                                          .validator = i + 1,
                                          .judge = n + 1,
                                          .timeout_usec = v->judge_timeout_secs * USEC_PER_SEC,
                                  },
                                  on_agent_verdict, c, &c->exec, &error);
        if (k < 0) {
                c->exec = NULL;
                verdict->error = error ? TAKE_PTR(error)
                                       : asprintf_safe("internal: cannot start the judge execution: %s",
                                                       strerror(-k));
                return k;
        }
        verdict->execution_id = strdup(judge_execution_id(c->exec));
        emit(j, "judge_execution_started", ({
                     json_object *p = json_object_new_object();
                     json_object_object_add(p, "judge", json_object_new_int64((int64_t) i + 1));
                     json_object_object_add(p, "judge_index", json_object_new_int64((int64_t) n + 1));
                     json_object_object_add(p, "agent", json_object_new_string(mj->agent));
                     json_object_object_add(p, "execution_id",
                                            json_object_new_string(judge_execution_id(c->exec)));
                     p;
             }));
        return 0;
}

/* Asks every judge of validator i. */
static void ask(RunJudge *j, size_t i) {
        const ManifestValidator *v = &j->ctx.validators[i];
        const RunDispatchModel *m = j->ctx.model;
        int k;

        j->current = i;
        j->n_pending = 0;
        k = judge_messages(v->criteria, j->ctx.plan->task_instruction, j->ctx.input_json, j->ctx.output,
                           j->ctx.tool, &j->messages);
        if (k < 0) {
                finish(j, k, "out of memory while judging");
                return;
        }
        for (size_t n = 0; n < v->n_judges; n++) {
                JudgeCall *c = &j->calls[n];
                const char *alias = v->judges[n].model ? v->judges[n].model : j->ctx.plan->model_alias;

                j->verdicts[n] = (JudgeVerdict){ .model = alias, .weight = v->judges[n].weight };
                *c = (JudgeCall){ .owner = j, .index = n, .started = now_usec(CLOCK_MONOTONIC) };
                if (v->judges[n].agent) {
                        j->verdicts[n].model = NULL;
                        if (ask_agent(j, i, n) >= 0)
                                j->n_pending++;
                        continue;
                }
                if (!m) {
                        j->verdicts[n].error =
                                strdup("no LLM provider is configured (llm.providers in aegis-config.yaml)");
                        continue;
                }
                emit(j, "llm_call_started", ({
                             json_object *p = json_object_new_object();
                             json_object_object_add(p, "model_alias", json_object_new_string(alias));
                             json_object_object_add(p, "judge", json_object_new_int64((int64_t) i + 1));
                             json_object_object_add(p, "judge_index",
                                                    json_object_new_int64((int64_t) n + 1));
                             p;
                     }));
                k = m->generate(m->model, alias, j->messages, NULL, NULL,
                                v->judge_timeout_secs * USEC_PER_SEC, on_answer, c, &c->call);
                if (k < 0) {
                        c->call = NULL;
                        j->verdicts[n].error =
                                asprintf_safe("internal: cannot call the model: %s", strerror(-k));
                } else
                        j->n_pending++;
        }
        if (j->n_pending == 0)
                decide(j); /* from advance(), never from run_judge_start() */
}

static void advance(RunJudge *j) {
        for (; j->next < j->ctx.n_validators; j->next++) {
                const ManifestValidator *v = &j->ctx.validators[j->next];
                if (v->type == MANIFEST_VALIDATOR_SEMANTIC || v->type == MANIFEST_VALIDATOR_MULTI_JUDGE) {
                        ask(j, j->next++);
                        return;
                }
        }
        finish(j, 1, NULL);
}

static int on_defer(sd_event_source *s, void *userdata) {
        RunJudge *j = userdata;

        j->defer = sd_event_source_disable_unref(j->defer);
        advance(j);
        return 0;
}

int run_judge_start(const RunJudgeContext *c, RunJudge **ret) {
        bool judged = false;
        RunJudge *j;
        int k;

        assert(c);
        assert(c->plan);
        assert(c->done);
        assert(ret);
        for (size_t i = 0; i < c->n_validators; i++)
                if (c->validators[i].type == MANIFEST_VALIDATOR_SEMANTIC ||
                    c->validators[i].type == MANIFEST_VALIDATOR_MULTI_JUDGE)
                        judged = true;
        if (!judged)
                return -EINVAL;
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->ctx = *c;
        j->records = json_object_new_array();
        if (!j->records) {
                free(j);
                return -ENOMEM;
        }
        k = sd_event_add_defer(c->loop, &j->defer, on_defer, j);
        if (k < 0) {
                run_judge_free(j);
                return k;
        }
        *ret = j;
        return 0;
}

RunJudge *run_judge_free(RunJudge *j) {
        if (!j)
                return NULL;
        for (size_t i = 0; i < MANIFEST_MAX_JUDGES; i++) {
                if (j->calls[i].call && j->ctx.model && j->ctx.model->cancel)
                        j->ctx.model->cancel(j->calls[i].call);
                j->calls[i].exec = judge_execution_free(j->calls[i].exec);
        }
        clear_verdicts(j);
        json_object_put(j->messages);
        json_object_put(j->records);
        sd_event_source_disable_unref(j->defer);
        free(j);
        return NULL;
}

RunJudge *run_judge_cancel(RunJudge *j) {
        if (!j)
                return NULL;
        for (size_t i = 0; i < MANIFEST_MAX_JUDGES; i++)
                j->calls[i].exec = judge_execution_cancel(j->calls[i].exec);
        return run_judge_free(j);
}

json_object *run_judge_records(const RunJudge *j) {
        assert(j);
        return j->records;
}
