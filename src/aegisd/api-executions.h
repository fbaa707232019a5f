/* api-executions.h — /v1/executions (api-executions.c): its route table, served with the
 * Executions as userdata, and what it lends api-agents.c (a submission, the tenant's
 * execution, an agent's event stream) and the daemon (closing the open streams). */
#pragma once

#include <stdbool.h>

#include "error.h"
#include "executions.h"
#include "http.h"
#include "manifest.h"
#include "store.h"

extern const HttpRoute api_execution_routes[];

/* Shared by api-executions.c and api-agents.c. */
int api_submit(Executions *x, HttpRequest *r, struct json_object *input, const char *agent_id,
               const char *agent_name, const char *manifest_text, size_t manifest_size, const char *file);
/* The execution id if it is the caller's tenant's: another tenant's is -ENOENT, which
 * api_respond_store_error() (api-store-error.h) answers exactly as a missing id (no existence oracle). */
int api_execution_get(Executions *x, HttpRequest *r, const char *id, StoreExecution *ret);
void api_close_streams(Executions *x);
/* GET /v1/agents/{id}/events: an SSE stream of the live events of the executions of agent_id
 * (an agent of the caller's tenant, checked by the caller) that this node runs. */
int api_agent_events(Executions *x, HttpRequest *r, const char *agent_id);
