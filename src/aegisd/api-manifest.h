/* api-manifest.h — how the API answers a manifest it was sent (api-manifest.c). */
#pragma once

#include <json-c/json.h>

#include "error.h"
#include "http.h"
#include "manifest.h"

/* The HTTP status of a manifest_parse() failure k: 413 only when the document is too many
 * bytes, 400 for every other refusal (structural limits: nesting, entries, lengths). */
unsigned api_manifest_error_status(int k);
/* Answers manifest_parse()'s failure k described by e, with code "invalid_manifest" (500s
 * keep theirs). */
int api_respond_manifest_error(HttpRequest *r, int k, Error *e);
/* A dry run's manifest check: 0 with *ret set when valid; else 1 once every error is
 * answered (400, or 413 past the size limit: the first error's "error", "code" and "field",
 * and all of them in "errors"), or a negative errno. */
int api_check_manifest(HttpRequest *r, const char *text, size_t size, const char *file, ManifestPlan **ret);
/* A dry run that would have been accepted: 200 {"dry_run", "valid", "warnings", "manifest"}
 * (the canonical manifest). */
int api_respond_dry_run(HttpRequest *r, const ManifestPlan *plan);
