/* error.h — an error that reaches a user: a negative errno plus a message saying what was
 * wrong, where, and what to do.
 *
 * Library code never logs: it fills an Error and returns its code; the program decides
 * whether to log it, answer it over HTTP, or print it. The message buffer is fixed-size so
 * that reporting an error can never itself fail on allocation. */
#pragma once

#include <stdarg.h>

#include "macros.h"

#define ERROR_MESSAGE_MAX 1024
#define ERROR_FIELD_MAX 256

typedef struct Error {
        int code; /* negative errno, 0 when no error is set */
        int http_status; /* suggested HTTP status, 0 = derive from code */
        char field[ERROR_FIELD_MAX]; /* the offending field or key path, "" if none */
        char message[ERROR_MESSAGE_MAX]; /* the whole human-readable message */
} Error;

#define ERROR_INIT ((Error){ 0 })

/* Set e (if non-NULL) and return code (which must be negative). */
int error_set(Error *e, int code, const char *fmt, ...) _printf_(3, 4);
int error_setv(Error *e, int code, const char *fmt, va_list ap) _printf_(3, 0);
/* Same, recording the field the message is about. */
int error_set_field(Error *e, int code, const char *field, const char *fmt, ...) _printf_(4, 5);
/* Prefix an existing message ("while doing X: <old message>"), keeping code and field. */
int error_prefix(Error *e, const char *fmt, ...) _printf_(2, 3);
void error_clear(Error *e);
/* HTTP status for an error: e->http_status if set, else a mapping from the errno. */
int error_http_status(const Error *e);
