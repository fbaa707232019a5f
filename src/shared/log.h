/* log.h — the one logging path of every program.
 *
 * Under systemd (JOURNAL_STREAM names our stderr) entries go to the journal natively with
 * structured fields, so `journalctl --user -u aegis EXECUTION_ID=<id>` finds them; otherwise
 * they go to stderr as one line each, the fields appended. Library code does not log; the
 * programs do, once, where they handle an error. Levels are syslog's. */
#pragma once

#include <syslog.h>

#include "macros.h"

/* A NULL-terminated list of "KEY=value" journal fields, e.g.
 * LOG_FIELDS("EXECUTION_ID=abc", "ITERATION=2"). */
#define LOG_FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

void log_setup(const char *ident);
void log_set_max_level(int level);
int log_get_max_level(void);
/* Accepts error|warn|warning|info|debug|trace (and RUST_LOG-style "target=level,..."
 * lists, taking the last plain or aegis level). Returns the syslog level or -EINVAL. */
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);
/* Force a target: "journal", "stderr" or "auto" (the default). */
void log_set_target(const char *target);

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *const *fields, const char *fmt, ...) _printf_(7, 8);

#define log_full_errno_fields(level, error, fields, ...) \
        log_internal(level, error, __FILE__, __LINE__, __func__, fields, __VA_ARGS__)
#define log_full_errno(level, error, ...) log_full_errno_fields(level, error, NULL, __VA_ARGS__)

#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
/* These return the negative errno they were given (or -EIO for 0), for
 * `return log_error_errno(r, "Failed to …: %m");`. %m prints that error. */
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)
/* With structured fields: log_fields(LOG_INFO, LOG_FIELDS("EXECUTION_ID=x"), "started"). */
#define log_fields(level, fields, ...) log_full_errno_fields(level, 0, fields, __VA_ARGS__)
