/* policy.h — a security context's decisions (aegis-config.yaml(5), "SECURITY CONTEXTS"):
 * whether a tool is offered, and whether one call of it may run. Pure functions of the
 * context, the tool's name and the model's arguments: no I/O, no state (max_concurrent is
 * counted by the caller: policy_max_concurrent() says the bound).
 *
 * A call is decided so:
 *   1. a deny_list pattern matching the tool → denied;
 *   2. no capability whose tool_pattern matches → denied;
 *   3. allowed when one matching capability's lists all admit the call:
 *        path_allowlist     fs.*: "path" (default /workspace), made absolute under /workspace
 *                           and resolved lexically, is an entry or under one;
 *        command_allowlist  cmd.run: the first word of "command" (of the command line when
 *                           "args" is absent) is an entry, exactly;
 *        domain_allowlist   web.fetch: the host of "url" matches an entry (host_matches());
 *      a list that does not apply to the tool admits it; else denied with the first reason.
 * Patterns: "*" every tool, "prefix.*" the tools under prefix, else the name exactly.
 *
 * What must stay true: every denial has a reason that names the context and what did not
 * match but nothing else (it is shown to the model). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct json_object;

/* Whether pattern names tool. */
bool policy_pattern_matches(const char *pattern, const char *tool);
/* Whether the context offers the tool at all (not deny-listed, some capability names it). */
bool policy_offers(const ConfigSecurityContext *x, const char *tool);
/* 0 allowed; 1 denied with *ret_reason (malloc'd); -ENOMEM. args may be NULL. */
int policy_check(const ConfigSecurityContext *x, const char *tool, struct json_object *args,
                 char **ret_reason);
/* A path a model gave, as the container sees it: relative ones under /workspace ("" is
 * /workspace), "//", "." and ".." resolved lexically. -EXDEV when ".." climbs above "/". */
int policy_workspace_path(const char *path, char **ret);
/* The smallest max_concurrent of the capabilities naming tool, 0 = no bound. */
uint64_t policy_max_concurrent(const ConfigSecurityContext *x, const char *tool);
