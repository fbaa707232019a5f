/* validate.h — deciding whether one iteration succeeded: its exit code and the manifest's
 * validators (spec.execution.validation).
 *
 * An iteration succeeds when the container exited 0 (or, with exit_code validators, with the
 * code each expects) AND every validator passes:
 *   exit_code    the exit code equals `expected` (default 0): `expected: 3` makes exit code 3 a
 *                pass and 0 a failure (the reference ignores `expected`);
 *   regex        a PCRE2 regex (compiled by the manifest; ^ and $ per line with
 *                multiline: true) matches the stdout or stderr of the iteration; only the
 *                last VALIDATE_REGEX_INPUT_MAX bytes are searched and the search runs under
 *                a match limit (regex-match.h), so a validator's cost is bounded whatever
 *                the container prints and whatever the pattern; hitting the limit fails;
 *   json_schema  stdout (or, when stdout as a whole is not JSON, its last non-empty line)
 *                parses as JSON and conforms to the schema: JSON Schema draft 2020-12, the
 *                keywords json-schema.h lists (the manifest refuses any other).
 * The reason a check failed is a sentence for the execution's record and the next
 * iteration's feedback ("validator 2 (regex on stdout): /^done$/ did not match"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "manifest.h"

#define VALIDATE_REGEX_INPUT_MAX (1024 * 1024)
#define VALIDATE_JSON_INPUT_MAX (4 * 1024 * 1024)
#define VALIDATE_SCHEMA_DEPTH_MAX 32

/* Whether exit_code is one that passes: what every exit_code validator expects, else 0. */
bool validate_exit_code_passes(const ManifestValidator *validators, size_t n_validators, int exit_code);

/* Returns 1 when the iteration passes, 0 when it fails (ret_reason gets a malloc'd
 * sentence), -ENOMEM. out/err may be NULL (empty). */
int validate_iteration(const ManifestValidator *validators, size_t n_validators, int exit_code,
                       const char *out, const char *err, char **ret_reason);
