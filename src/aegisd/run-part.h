/* run-part.h — what the parts of an iteration (RunVolumes, RunDispatch; HACKING.md, "An
 * iteration's parts") share: the log callback of their context structs, and the one way to
 * format a line for it. A part never logs itself: its owner (the Run) decides how. */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "macros.h"

/* The context's log report: one line about this execution. */
typedef void (*run_part_log_fn)(void *userdata, int level, const char *message);

/* Formats and hands the line to log (nothing when log is NULL or on allocation failure). */
static inline void run_part_log(run_part_log_fn log, void *userdata, int level, const char *fmt, ...)
        _printf_(4, 5);
static inline void run_part_log(run_part_log_fn log, void *userdata, int level, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;

        if (!log)
                return;
        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        if (m)
                log(userdata, level, m);
}
