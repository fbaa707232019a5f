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
/* The HTTP status of a manifest_parse() failure k: 413 only when the document is too many
 * bytes, 400 for every other refusal (structural limits: nesting, entries, lengths). */
unsigned api_manifest_error_status(int k);
/* Answers manifest_parse()'s failure k described by e, with code "invalid_manifest" (500s
 * keep theirs). */
int api_respond_manifest_error(HttpRequest *r, int k, Error *e);
/* ?dry_run=true|false: 1 or 0, or -EINVAL once 400 is answered. A dry run of a submission
 * checks everything a real one does, reports every error of the manifest, and creates
 * nothing. */
int api_query_dry_run(HttpRequest *r);
/* A dry run's manifest check: 0 with *ret set when valid; else 1 once every error is
 * answered (400, or 413 past the size limit: the first error's "error", "code" and "field",
 * and all of them in "errors"), or a negative errno. */
int api_check_manifest(HttpRequest *r, const char *text, size_t size, const char *file, ManifestPlan **ret);
/* A dry run that would have been accepted: 200 {"dry_run", "valid", "warnings", "manifest"}
 * (the canonical manifest). */
int api_respond_dry_run(HttpRequest *r, const ManifestPlan *plan);
/* Parses a request body as JSON (400 answered when it is not). */
int api_parse_json_body(HttpRequest *r, struct json_object **ret);
bool api_content_is_yaml(HttpRequest *r);
char *api_timestamp(uint64_t usec); /* RFC 3339, NULL for 0 */
void api_close_streams(Executions *x);
/* GET /v1/agents/{id}/events: an SSE stream of the live events of the executions of agent_id
 * (an agent of the caller's tenant, checked by the caller) that this node runs. */
int api_agent_events(Executions *x, HttpRequest *r, const char *agent_id);
