/* judge.c — see judge.h. The verdict is looked for where models put it (the whole answer, a
 * ```json fence, or the outermost {…} amid prose) and then checked field by field, so the
 * reason a judge failed names the field. */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <string.h>

#include "judge.h"
#include "json-util.h"
#include "util.h"

#define JUDGE_SYSTEM_PROMPT                                                                     \
        "You are a judge. You evaluate the output of an AI agent against the criteria you are " \
        "given, and nothing else. Answer with exactly one JSON object and no other text:\n"     \
        "{\"score\": <number from 0 to 1: how well the output meets the criteria>, "            \
        "\"confidence\": <number from 0 to 1: how sure you are of that score>, "                \
        "\"reasoning\": \"<one or two sentences: why; when the score is low, what must change>\"}"

#define JUDGE_TOOL_SYSTEM_PROMPT                                                                 \
        "You are a judge. An AI agent proposes to call a tool; you evaluate whether the call "   \
        "should run, against the criteria you are given, and nothing else. Answer with exactly " \
        "one JSON object and no other text:\n"                                                   \
        "{\"score\": <number from 0 to 1: how well the call meets the criteria>, "               \
        "\"confidence\": <number from 0 to 1: how sure you are of that score>, "                 \
        "\"reasoning\": \"<one or two sentences: why; when the score is low, what the agent "    \
        "should do instead>\"}"

void judge_verdict_done(JudgeVerdict *v) {
        free(v->reasoning);
        free(v->error);
        free(v->execution_id);
        v->reasoning = v->error = v->execution_id = NULL;
}

/* How a judge is named in reasons: its model alias, or "agent NAME". */
static char *judge_name(const JudgeVerdict *j) {
        return j->agent ? asprintf_safe("agent %s", j->agent) : strdup(strempty(j->model));
}

void judge_decision_done(JudgeDecision *d) {
        free(d->reason);
        d->reason = NULL;
}

/* The last max bytes of s, starting on a UTF-8 character boundary. */
static const char *utf8_tail(const char *s, size_t max) {
        size_t n = strlen(s);

        if (n <= max)
                return s;
        s += n - max;
        while (((unsigned char) *s & 0xC0) == 0x80)
                s++;
        return s;
}

int judge_messages(const char *criteria, const char *task, const char *input_json, const char *output,
                   const char *tool, json_object **ret) {
        _cleanup_json_ json_object *a = json_object_new_array();
        _cleanup_free_ char *user = NULL;
        const char *out;
        json_object *m;
        int r = 0;

        assert(criteria);
        assert(ret);
        if (!a)
                return -ENOMEM;
        out = utf8_tail(strempty(output), JUDGE_OUTPUT_MAX);
        if (tool)
                user = asprintf_safe("# Criteria:\n%s\n\n%s%s%s# Proposed tool call:\n%s %s\n", criteria,
                                     task ? "# Task:\n" : "", strempty(task), task ? "\n\n" : "", tool, out);
        else
                user = asprintf_safe("# Criteria:\n%s\n\n%s%s%s%s%s%s# Output%s:\n%s\n", criteria,
                                     task ? "# Task:\n" : "", strempty(task), task ? "\n\n" : "",
                                     input_json && !streq(input_json, "null") ? "# Input:\n" : "",
                                     input_json && !streq(input_json, "null") ? input_json : "",
                                     input_json && !streq(input_json, "null") ? "\n\n" : "",
                                     out != strempty(output) ? " (its end)" : "", out);
        if (!user)
                return -ENOMEM;
        m = json_object_new_object();
        if (!m || json_object_array_add(a, m) < 0) {
                json_object_put(m);
                return -ENOMEM;
        }
        if (r >= 0)
                r = json_add_string(m, "role", "system");
        if (r >= 0)
                r = json_add_string(m, "content", tool ? JUDGE_TOOL_SYSTEM_PROMPT : JUDGE_SYSTEM_PROMPT);
        m = json_object_new_object();
        if (!m || json_object_array_add(a, m) < 0) {
                json_object_put(m);
                return -ENOMEM;
        }
        if (r >= 0)
                r = json_add_string(m, "role", "user");
        if (r >= 0)
                r = json_add_string(m, "content", user);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

static json_object *parse_object(const char *p, size_t n) {
        _cleanup_free_ char *s = strndup(p, n);
        json_object *j;

        if (!s)
                return NULL;
        j = json_tokener_parse(s);
        if (j && !json_object_is_type(j, json_type_object)) {
                json_object_put(j);
                return NULL;
        }
        return j;
}

/* The verdict object in text: the whole of it, the inside of a ``` fence, or the span from
 * the first '{' to the last '}'. */
static json_object *find_object(const char *text) {
        const char *fence, *open, *close;
        json_object *j;

        j = parse_object(text, strlen(text));
        if (j)
                return j;
        fence = strstr(text, "```");
        if (fence) {
                const char *body = strchr(fence + 3, '\n'), *end;
                if (body && (end = strstr(body + 1, "```")) &&
                    (j = parse_object(body + 1, (size_t) (end - body - 1))))
                        return j;
        }
        open = strchr(text, '{');
        close = strrchr(text, '}');
        if (open && close && close > open)
                return parse_object(open, (size_t) (close - open + 1));
        return NULL;
}

static int unit_number(json_object *o, const char *key, double *ret, char **ret_error) {
        json_object *v;
        double d;

        if (!json_object_object_get_ex(o, key, &v) ||
            !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))) {
                *ret_error = asprintf_safe("the verdict has no \"%s\" number", key);
                return *ret_error ? -EBADMSG : -ENOMEM;
        }
        d = json_object_get_double(v);
        if (!isfinite(d) || d < 0 || d > 1) {
                *ret_error = asprintf_safe("the verdict's \"%s\" is %g, not between 0 and 1", key, d);
                return *ret_error ? -EBADMSG : -ENOMEM;
        }
        *ret = d;
        return 0;
}

/* Checks the verdict object o field by field and fills ret. */
static int verdict_from_object(json_object *o, JudgeVerdict *ret, char **ret_error) {
        json_object *v;
        double score, confidence;
        const char *reasoning;
        char *copy;
        size_t n;
        int r;

        if ((r = unit_number(o, "score", &score, ret_error)) < 0 ||
            (r = unit_number(o, "confidence", &confidence, ret_error)) < 0)
                return r;
        if (!json_object_object_get_ex(o, "reasoning", &v) || !json_object_is_type(v, json_type_string)) {
                *ret_error = strdup("the verdict has no \"reasoning\" string");
                return *ret_error ? -EBADMSG : -ENOMEM;
        }
        reasoning = json_object_get_string(v);
        n = strlen(reasoning);
        if (n > JUDGE_REASONING_MAX) {
                n = JUDGE_REASONING_MAX;
                while (n > 0 && ((unsigned char) reasoning[n] & 0xC0) == 0x80)
                        n--;
        }
        copy = strndup(reasoning, n);
        if (!copy)
                return -ENOMEM;
        free(ret->reasoning);
        free(ret->error);
        ret->error = NULL;
        ret->reasoning = copy;
        ret->score = score;
        ret->confidence = confidence;
        ret->answered = true;
        return 0;
}

int judge_verdict_parse(const char *text, JudgeVerdict *ret, char **ret_error) {
        _cleanup_json_ json_object *o = NULL;

        assert(ret);
        assert(ret_error);
        o = find_object(strempty(text));
        if (!o) {
                *ret_error = asprintf_safe("the judge answered no JSON verdict: \"%.80s%s\"", strempty(text),
                                           strlen(strempty(text)) > 80 ? "…" : "");
                return *ret_error ? -EBADMSG : -ENOMEM;
        }
        return verdict_from_object(o, ret, ret_error);
}

int judge_agent_verdict_parse(const char *output, JudgeVerdict *ret, char **ret_error) {
        _cleanup_json_ json_object *o = NULL;
        const char *text = strempty(output), *end, *line;

        assert(ret);
        assert(ret_error);
        o = parse_object(text, strlen(text));
        if (!o) {
                /* The last non-empty line, as the json_schema validator reads stdout. */
                end = text + strlen(text);
                while (end > text && strchr(" \t\r\n", end[-1]))
                        end--;
                line = end;
                while (line > text && line[-1] != '\n')
                        line--;
                if (end > line)
                        o = parse_object(line, (size_t) (end - line));
        }
        if (!o) {
                const char *tail = utf8_tail(text, 80);
                *ret_error = asprintf_safe("the judge agent's output is not a JSON verdict "
                                           "{\"score\", \"confidence\", \"reasoning\"}: \"%s%s\"",
                                           tail != text ? "…" : "", tail);
                return *ret_error ? -EBADMSG : -ENOMEM;
        }
        return verdict_from_object(o, ret, ret_error);
}

char *judge_agent_input(const char *criteria, const char *task, const char *input_json, const char *output,
                        const char *execution_id, unsigned iteration, size_t validator, size_t judge) {
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *of = NULL, *in = input_json ? json_tokener_parse(input_json) : NULL;
        const char *out = utf8_tail(strempty(output), JUDGE_OUTPUT_MAX);
        int r = o ? 0 : -ENOMEM;

        assert(criteria);
        assert(execution_id);
        if (r >= 0)
                r = json_add_string(o, "criteria", criteria);
        if (r >= 0 && task)
                r = json_add_string(o, "task", task);
        if (r >= 0 && in)
                r = json_add_obj(o, "input", TAKE_PTR(in));
        if (r >= 0)
                r = json_add_string(o, "output", out);
        if (r >= 0)
                r = json_add_bool(o, "output_truncated", out != strempty(output));
        if (r >= 0)
                r = json_add_int(o, "iteration", iteration);
        if (r >= 0)
                r = json_add_obj(o, "judge_of", of = json_object_new_object());
        if (r >= 0)
                r = json_add_string(of, "execution_id", execution_id);
        if (r >= 0)
                r = json_add_int(of, "iteration", iteration);
        if (r >= 0)
                r = json_add_int(of, "validator", (int64_t) validator);
        if (r >= 0)
                r = json_add_int(of, "judge", (int64_t) judge);
        json_object_put(in);
        return r < 0 ? NULL : strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

static bool judge_passes(const ManifestValidator *v, const JudgeVerdict *j) {
        return j->answered && j->score >= v->min_score && j->confidence >= v->min_confidence;
}

/* "; judge 1 (default): reasoning; judge 2 (fast): did not answer: …" — every judge, so the
 * next iteration hears each of them. */
static char *judges_said(const JudgeVerdict *verdicts, size_t n, bool single) {
        _cleanup_free_ char *acc = strdup("");

        for (size_t i = 0; acc && i < n; i++) {
                const JudgeVerdict *j = &verdicts[i];
                char *next;
                _cleanup_free_ char *name = judge_name(j);
                if (!name)
                        return NULL;
                if (single)
                        next = j->answered ? asprintf_safe("%s", strempty(j->reasoning))
                                           : asprintf_safe("the judge (%s) did not answer: %s", name,
                                                           strempty(j->error));
                else
                        next = j->answered ? asprintf_safe("%s%sjudge %zu (%s, score %.2f): %s", acc,
                                                           i ? "; " : "", i + 1, name, j->score,
                                                           strempty(j->reasoning))
                                           : asprintf_safe("%s%sjudge %zu (%s) did not answer: %s", acc,
                                                           i ? "; " : "", i + 1, name, strempty(j->error));
                free(acc);
                acc = next;
        }
        return TAKE_PTR(acc);
}

int judge_decide(const ManifestValidator *v, size_t index, const JudgeVerdict *verdicts, size_t n,
                 JudgeDecision *ret) {
        bool single = v->type == MANIFEST_VALIDATOR_SEMANTIC;
        unsigned need = single ? 1 : v->min_judges_required;
        const char *kind = manifest_validator_type_to_string(v->type);
        double w = 0, ws = 0, wc = 0, w_pass = 0;
        unsigned answered = 0, passing = 0;
        _cleanup_free_ char *said = NULL, *why = NULL;
        JudgeDecision d = {};

        assert(v);
        assert(ret);
        assert(n == v->n_judges);
        for (size_t i = 0; i < n; i++) {
                const JudgeVerdict *j = &verdicts[i];
                if (!j->answered)
                        continue;
                answered++;
                w += j->weight;
                ws += j->weight * j->score;
                wc += j->weight * j->confidence;
                if (judge_passes(v, j)) {
                        passing++;
                        w_pass += j->weight;
                }
        }
        d.answered = answered;
        if (w > 0) {
                d.score = ws / w;
                d.confidence = wc / w;
        }
        if (answered < MAX(need, 1u)) {
                d.passed = false;
                why = single ? strdup("")
                             : asprintf_safe("only %u of %zu judges answered (min_judges_required %u)",
                                             answered, n, need);
        } else if (single || v->consensus == MANIFEST_CONSENSUS_WEIGHTED_AVERAGE) {
                d.passed = d.score >= v->min_score && d.confidence >= v->min_confidence;
                if (!d.passed)
                        why = d.score < v->min_score
                                      ? asprintf_safe("%sscore %.2f is below min_score %.2f",
                                                      single ? "" : "weighted average ", d.score,
                                                      v->min_score)
                                      : asprintf_safe("%sconfidence %.2f is below min_confidence %.2f",
                                                      single ? "" : "weighted average ", d.confidence,
                                                      v->min_confidence);
        } else if (v->consensus == MANIFEST_CONSENSUS_MAJORITY) {
                d.passed = w_pass * 2 > w;
                if (!d.passed)
                        why = asprintf_safe(
                                "no majority: %u of %u judges that answered reached min_score %.2f "
                                "and min_confidence %.2f (weight %g of %g)",
                                passing, answered, v->min_score, v->min_confidence, w_pass, w);
        } else {
                d.passed = passing == answered;
                if (!d.passed)
                        why = asprintf_safe("not unanimous: %u of %u judges that answered reached min_score "
                                            "%.2f and min_confidence %.2f",
                                            passing, answered, v->min_score, v->min_confidence);
        }
        if (!d.passed) {
                said = judges_said(verdicts, n, single);
                if (!why || !said)
                        return -ENOMEM;
                d.reason = asprintf_safe("validator %zu (%s%s%s): %s%s%s", index, kind, single ? "" : ", ",
                                         single ? "" : manifest_consensus_to_string(v->consensus), why,
                                         isempty(why) ? "" : ": ", said);
                if (!d.reason)
                        return -ENOMEM;
        }
        *ret = d;
        return 0;
}

json_object *judge_record(const ManifestValidator *v, size_t index, const JudgeVerdict *verdicts, size_t n,
                          const JudgeDecision *d) {
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *a = NULL;
        int r = o ? 0 : -ENOMEM;

        if (r >= 0)
                r = json_add_int(o, "validator", (int64_t) index);
        if (r >= 0)
                r = json_add_string(o, "type", manifest_validator_type_to_string(v->type));
        if (r >= 0)
                r = json_add_string(o, "criteria", v->criteria);
        if (r >= 0)
                r = json_add_bool(o, "passed", d->passed);
        if (r >= 0 && d->answered > 0)
                r = json_add_obj(o, "score", json_object_new_double(d->score));
        if (r >= 0 && d->answered > 0)
                r = json_add_obj(o, "confidence", json_object_new_double(d->confidence));
        if (r >= 0 && v->type == MANIFEST_VALIDATOR_MULTI_JUDGE)
                r = json_add_string(o, "consensus", manifest_consensus_to_string(v->consensus));
        if (r >= 0 && d->reason)
                r = json_add_string(o, "reason", d->reason);
        if (r >= 0)
                r = json_add_obj(o, "judges", a = json_object_new_array());
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const JudgeVerdict *j = &verdicts[i];
                json_object *jo = json_object_new_object();
                if (!jo || json_object_array_add(a, jo) < 0) {
                        json_object_put(jo);
                        return NULL;
                }
                if (j->agent) {
                        r = json_add_string(jo, "agent", j->agent);
                        if (r >= 0 && j->execution_id)
                                r = json_add_string(jo, "execution_id", j->execution_id);
                } else
                        r = json_add_string(jo, "model", strempty(j->model));
                if (r >= 0)
                        r = json_add_obj(jo, "weight", json_object_new_double(j->weight));
                if (r >= 0 && j->answered) {
                        r = json_add_obj(jo, "score", json_object_new_double(j->score));
                        if (r >= 0)
                                r = json_add_obj(jo, "confidence", json_object_new_double(j->confidence));
                        if (r >= 0)
                                r = json_add_string(jo, "reasoning", strempty(j->reasoning));
                } else if (r >= 0)
                        r = json_add_string(jo, "error", strempty(j->error));
        }
        return r < 0 ? NULL : TAKE_PTR(o);
}
