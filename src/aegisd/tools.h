/* tools.h — the tool catalogue of the inner loop (issue 21): every tool a model can be offered,
 * its JSON-schema definition, where it runs and how.
 *
 *   TOOL_IN_CONTAINER  handed to aegis-bootstrap as a {"type":"dispatch"} answer (cmd.run);
 *                      ToolDef.dispatch turns the model's arguments into the dispatch's fields.
 *   TOOL_ON_HOST       run by aegisd itself (fs.* on the execution's volume, web.*):
 *                      ToolDef.start begins the call; its completion callback runs later, once,
 *                      from the event loop, with the result object the model gets.
 *
 * A tool with both (the fs tools) runs where ToolDef.on_host says, per execution: on the
 * host when the execution has a volume, else in the container as an {"action":"fs"}
 * dispatch that aegis-bootstrap runs natively, answering with the same result object.
 *
 * The set offered to a model is spec.tools ∩ what the security context allows (the owner's
 * policy hook, run-dispatch.h) ∩ what is available here (ToolDef.available: a tool whose
 * backend is not configured is not offered).
 *
 * What must stay true:
 *  - a tool's own failures (bad arguments, a missing file, a path outside the volume, a
 *    command that fails) are results for the model: {"error": "…"} (plus what else helps);
 *    start() returns < 0 only for what the model cannot fix (out of memory, no event loop);
 *  - a started host call calls its done exactly once, never from inside start(), unless
 *    tool_call_cancel() came first (then never);
 *  - results are bounded (each tool says how); nothing here logs.
 *
 * Adding a tool: a ToolDef (tool-call.h: name, description, parameters schema, place,
 * available, dispatch or start) declared in its implementation's header and listed in the
 * catalogue of tools.c. Its implementation lives in its own file (tools-fs.c, tools-web.c,
 * …), includes tool-call.h and not this header (the catalogue uses the tools, the tools do
 * not use the catalogue), and completes through tool_call_new()/tool_call_finish(), or
 * tool_call_finish_later() when it computes its result at once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "tool-call.h"

struct json_object;

/* The tool named so, NULL when there is none. */
const ToolDef *tool_find(const char *name);
/* The catalogue, in a stable order (for documentation and tests). */
const ToolDef *const *tool_catalogue(size_t *ret_n);
/* Where t runs with env (place, or what on_host says). */
ToolPlace tool_place(const ToolDef *t, const ToolEnv *env);
/* Whether t can run with env (available() and, for host tools, an event loop). */
bool tool_available(const ToolDef *t, const ToolEnv *env);
/* {"name","description","parameters"}: what llm.h offers the model (new reference). */
struct json_object *tool_definition(const ToolDef *t);

extern const ToolDef tool_cmd_run; /* tools.c */
