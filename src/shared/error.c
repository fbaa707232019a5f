/* error.c — filling and mapping Error values (see error.h). */
#include <stdio.h>
#include <string.h>

#include "error.h"

int error_setv(Error *e, int code, const char *fmt, va_list ap) {
        if (code >= 0)
                code = -EIO;
        if (!e)
                return code;
        e->code = code;
        e->http_status = 0;
        e->field[0] = '\0';
        (void) vsnprintf(e->message, sizeof e->message, fmt, ap);
        return code;
}

int error_set(Error *e, int code, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        code = error_setv(e, code, fmt, ap);
        va_end(ap);
        return code;
}

int error_set_field(Error *e, int code, const char *field, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        code = error_setv(e, code, fmt, ap);
        va_end(ap);
        if (e && field)
                (void) snprintf(e->field, sizeof e->field, "%s", field);
        return code;
}

int error_prefix(Error *e, const char *fmt, ...) {
        char prefix[ERROR_MESSAGE_MAX], old[ERROR_MESSAGE_MAX];
        va_list ap;

        if (!e)
                return -EIO;
        va_start(ap, fmt);
        (void) vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, e->message, sizeof old);
        (void) snprintf(e->message, sizeof e->message, "%s: %s", prefix, old);
        return e->code < 0 ? e->code : -EIO;
}

void error_clear(Error *e) {
        if (e)
                *e = ERROR_INIT;
}

int error_http_status(const Error *e) {
        if (!e || e->code == 0)
                return 200;
        if (e->http_status)
                return e->http_status;
        switch (-e->code) {
        case EINVAL:
        case EBADMSG:
        case ERANGE:
        case E2BIG:
                return 400;
        case EACCES:
        case EPERM:
                return 403;
        case ENOENT:
        case ESRCH:
                return 404;
        case EEXIST:
        case EBUSY:
                return 409;
        case EMSGSIZE:
        case EFBIG:
                return 413;
        case ECONNREFUSED:
        case EHOSTUNREACH:
        case ENOTCONN:
        case ECONNRESET:
        case EAGAIN:
                return 503;
        case ETIMEDOUT:
                return 504;
        default:
                return 500;
        }
}
