/* api-refusals.h — the host-level refusals of a submission, answered at the first or, in a
 * dry run, all together (api-refusals.c). */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

#include "error.h"
#include "http.h"
#include "macros.h"

typedef struct Refusals {
        HttpRequest *request; /* borrowed */
        bool collect; /* a dry run: collect every refusal, answer at refusals_finish() */
        bool answered;
        unsigned status; /* the first refusal's */
        char field[ERROR_FIELD_MAX];
        char message[ERROR_MESSAGE_MAX];
        json_object *errors; /* collected: [{error, code, field}] */
} Refusals;

void refusals_init(Refusals *f, HttpRequest *r, bool collect);
void refusals_done(Refusals *f);

/* One refusal (status, field or NULL, message). A real submission is answered with it at once
 * and 1 is returned: the caller stops. A dry run records it and gets 0: the caller goes on with
 * the next check. Negative errno when memory runs out. */
int refusals_add(Refusals *f, unsigned status, const char *field, const char *fmt, ...) _printf_(4, 5);

/* True once a refusal was recorded or answered. */
bool refusals_any(const Refusals *f);

/* After the last check: answers the collected refusals (the first's status; the manifest
 * errors' body: error, code and field of the first, dry_run, valid: false and errors[]) and
 * returns 1; 0 when there were none (nothing answered). */
int refusals_finish(Refusals *f);
