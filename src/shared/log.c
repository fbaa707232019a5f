/* log.c — journal or stderr logging with structured fields (see log.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *log_ident = "aegis";
static enum { TARGET_AUTO, TARGET_JOURNAL, TARGET_STDERR } log_target = TARGET_AUTO;
static int use_journal = -1; /* resolved lazily from JOURNAL_STREAM */

static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(const char *ident) {
        if (ident)
                log_ident = ident;
        use_journal = -1;
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_target(const char *target) {
        if (target && strcmp(target, "journal") == 0)
                log_target = TARGET_JOURNAL;
        else if (target && strcmp(target, "stderr") == 0)
                log_target = TARGET_STDERR;
        else
                log_target = TARGET_AUTO;
        use_journal = -1;
}

static const struct {
        const char *name;
        int level;
} level_table[] = {
        { "error", LOG_ERR },     { "err", LOG_ERR },   { "warn", LOG_WARNING }, { "warning", LOG_WARNING },
        { "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },  { "trace", LOG_DEBUG },
};

static int level_lookup(const char *s, size_t n) {
        for (size_t i = 0; i < ELEMENTSOF(level_table); i++)
                if (strlen(level_table[i].name) == n && strncasecmp(level_table[i].name, s, n) == 0)
                        return level_table[i].level;
        return -EINVAL;
}

int log_level_from_string(const char *s) {
        int result = -EINVAL;

        if (!s || !*s)
                return -EINVAL;
        /* RUST_LOG-style: "info", "aegis=debug,hyper=warn". A plain level or one for an
         * aegis target wins; unrelated targets are ignored. */
        for (const char *p = s; *p;) {
                size_t n = strcspn(p, ",");
                const char *eq = memchr(p, '=', n);
                int l;

                if (!eq)
                        l = level_lookup(p, n);
                else if ((size_t) (eq - p) >= 5 && strncmp(p, "aegis", 5) == 0)
                        l = level_lookup(eq + 1, n - (size_t) (eq + 1 - p));
                else
                        l = -ENOENT;
                if (l == -EINVAL)
                        return -EINVAL;
                if (l >= 0)
                        result = l;
                p += n;
                if (*p == ',')
                        p++;
        }
        return result;
}

const char *log_level_to_string(int level) {
        switch (level) {
        case LOG_EMERG:
        case LOG_ALERT:
        case LOG_CRIT:
        case LOG_ERR:
                return "error";
        case LOG_WARNING:
                return "warning";
        case LOG_NOTICE:
                return "notice";
        case LOG_INFO:
                return "info";
        default:
                return "debug";
        }
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *const *fields, const char *fmt, ...) {
        char msg[4096];
        va_list ap;
        int saved = errno;

        if (error < 0)
                error = -error;
        if (level > max_level)
                return error > 0 ? -error : -EIO;

        errno = error;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        if (use_journal < 0)
                use_journal =
                        log_target == TARGET_JOURNAL || (log_target == TARGET_AUTO && stderr_is_journal());

        if (use_journal) {
                struct iovec iov[64];
                char f_msg[4200], f_prio[32], f_file[512], f_line[32], f_ident[128], f_errno[32];
                size_t n = 0;

                (void) snprintf(f_msg, sizeof f_msg, "MESSAGE=%s", msg);
                (void) snprintf(f_prio, sizeof f_prio, "PRIORITY=%d", level);
                (void) snprintf(f_file, sizeof f_file, "CODE_FILE=%s", file);
                (void) snprintf(f_line, sizeof f_line, "CODE_LINE=%d", line);
                (void) snprintf(f_ident, sizeof f_ident, "SYSLOG_IDENTIFIER=%s", log_ident);
                iov[n++] = (struct iovec){ f_msg, strlen(f_msg) };
                iov[n++] = (struct iovec){ f_prio, strlen(f_prio) };
                iov[n++] = (struct iovec){ f_ident, strlen(f_ident) };
                if (error > 0) {
                        (void) snprintf(f_errno, sizeof f_errno, "ERRNO=%d", error);
                        iov[n++] = (struct iovec){ f_errno, strlen(f_errno) };
                }
                for (size_t i = 0; fields && fields[i] && n < ELEMENTSOF(iov); i++)
                        iov[n++] = (struct iovec){ (void *) fields[i], strlen(fields[i]) };
                /* The caller's location, given once: plain sd_journal_sendv() is a macro that
                 * adds CODE_FILE/CODE_LINE/CODE_FUNC of this very line on top of ours. */
                if (sd_journal_sendv_with_location(f_file, f_line, func, iov, (int) n) >= 0)
                        goto done;
        }

        /* stderr: "ident: message [KEY=value ...]" — fields kept so greps still work. */
        {
                char extra[1024] = "";
                size_t off = 0;

                for (size_t i = 0; fields && fields[i] && off + 2 < sizeof extra; i++) {
                        int k = snprintf(extra + off, sizeof extra - off, "%s%s", off ? " " : " [",
                                         fields[i]);
                        if (k < 0)
                                break;
                        off += (size_t) k;
                }
                if (off > 0 && off + 2 < sizeof extra) {
                        extra[off++] = ']';
                        extra[off] = '\0';
                }
                (void) fprintf(stderr, "%s: %s%s\n", log_ident, msg, off ? extra : "");
        }
done:
        errno = saved;
        return error > 0 ? -error : -EIO;
}
