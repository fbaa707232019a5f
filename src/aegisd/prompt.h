/* prompt.h — the inner loop's prompt: the manifest's template rendered with the execution's
 * input, and the history of failed iterations in the reference's shape.
 *
 * Templates are the reference's subset of Handlebars: {{instruction}}, {{intent}},
 * {{input}} and {{input.KEY.KEY…}}, {{#if X}}…{{else}}…{{/if}} (nested, at most
 * PROMPT_MAX_NESTING deep), comments {{! …}} / {{!-- … --}}; {{{X}}} is {{X}} (nothing is
 * HTML-escaped, as in the reference). Anything else is an error at submission time
 * (prompt_template_check(), called by the manifest parser), naming the line and column of
 * the template.
 *
 * What the names are bound to, as the reference binds them (its ExecutionService):
 *   instruction  ManifestPlan.task_instruction (spec.task.instruction, else
 *                metadata.description), else "".
 *   input        the execution's input: a string as is; an object's "workflow_input" or
 *                "input" member if it has one, else the whole object; null or absent = "".
 *                Numbers and booleans are their JSON text; objects and arrays are compact
 *                JSON (the reference prints "[object]", which tells a model nothing).
 *   intent       the input object's "intent" member when it is a string (the reference's
 *                separate ExecutionInput.intent; our requests carry one input), else "".
 * #if is false for "", null, false, 0, [] and {} and for a missing input.KEY.
 *
 * History (iteration 2 on): a JSON array of {"iteration": N, "output": "…", "reason": "…"}
 * (optional "error", "feedback", "exit_code"), oldest first. Only the last
 * PROMPT_HISTORY_MAX_ATTEMPTS are used, each output cut to its last PROMPT_HISTORY_MAX_TEXT
 * bytes and each reason to its first, so the prompt and the variable stay bounded. */
#pragma once

#include <stddef.h>

#include "error.h"

struct json_object;

#define PROMPT_DEFAULT_TEMPLATE \
        "{{instruction}}{{#if intent}}\n\nTask: {{intent}}{{/if}}\n\nUser: {{input}}\nAgent:"
#define PROMPT_MAX_BYTES (512 * 1024) /* a rendered prompt, history included */
#define PROMPT_MAX_NESTING 16 /* {{#if}} inside {{#if}} */
#define PROMPT_HISTORY_MAX_ATTEMPTS 3 /* the most recent failed iterations shown */
#define PROMPT_HISTORY_MAX_TEXT 4096 /* bytes of one output (its tail) or reason (its head) */
#define PROMPT_HISTORY_ENV_MAX (64 * 1024) /* AEGIS_ITERATION_HISTORY, well under one env string's 128 KiB */

/* Check a template. 0, or -EINVAL with e saying "line L, column C of the template: what".
 * Never allocates. */
int prompt_template_check(const char *template, Error *e);

/* The prompt of one iteration: the reference's "# Previous Attempts:" section built from
 * history (NULL or empty on iteration 1; pass NULL as well when the client builds it itself
 * from AEGIS_ITERATION_HISTORY, as the reference's bootstrap.py does), then template (the
 * plan's prompt_template; NULL = PROMPT_DEFAULT_TEMPLATE) rendered with input_json (JSON text,
 * NULL = no input) and instruction (the plan's task_instruction; NULL = ""). Takes the two
 * strings, not the plan, so that the manifest parser may use this file and not the reverse.
 * Errors: -EINVAL (input_json is not JSON; a template that prompt_template_check() refuses),
 * -E2BIG (more than PROMPT_MAX_BYTES), -ENOMEM. */
int prompt_build(const char *template, const char *instruction, const char *input_json,
                 struct json_object *history, char **ret, Error *e);

/* The value of AEGIS_ITERATION_HISTORY for history, in the reference's shape: a JSON array
 * of {"iteration", "output", "exit_code", "validation_failed": true, "validation_reason",
 * "error", "feedback"} (each only when known), bounded as above and to
 * PROMPT_HISTORY_ENV_MAX bytes (oldest attempts dropped first). NULL when history is NULL
 * or empty — the reference sets the variable from iteration 2 only — or on allocation
 * failure (errno ENOMEM). */
char *prompt_history_env(struct json_object *history);
