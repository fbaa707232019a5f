/* api-refusals.c — the host-level refusals of a submission (security context, ceilings,
 * tenant quota, what this host can enforce…), checked after the manifest parsed.
 *
 * A real submission stops at the first and answers it as any error ({error, code, field}).
 * A dry run collects them all and answers them together in the shape of the manifest's
 * errors (api_check_manifest()): the first's error, code and field, dry_run: true,
 * valid: false and errors[] with every one, under the first's status.
 *
 * What must stay true: at most one answer is sent per request; a dry run answers only from
 * refusals_finish(). */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>

#include "api-error.h"
#include "api-refusals.h"
#include "util.h"

void refusals_init(Refusals *f, HttpRequest *r, bool collect) {
        assert(f);
        assert(r);
        *f = (Refusals){ .request = r, .collect = collect };
}

void refusals_done(Refusals *f) {
        if (!f)
                return;
        json_object_put(f->errors);
        f->errors = NULL;
}

bool refusals_any(const Refusals *f) {
        assert(f);
        return f->answered || f->status > 0;
}

int refusals_add(Refusals *f, unsigned status, const char *field, const char *fmt, ...) {
        char msg[ERROR_MESSAGE_MAX];
        json_object *one;
        va_list ap;

        assert(f);
        assert(status >= 400);
        assert(fmt);
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (!f->collect) {
                int k = http_respond_error(f->request, status, field, "%s", msg);
                f->answered = true;
                return k < 0 ? k : 1;
        }
        if (!f->errors && !(f->errors = json_object_new_array()))
                return -ENOMEM;
        one = json_object_new_object();
        if (!one)
                return -ENOMEM;
        json_object_object_add(one, "error", json_object_new_string(msg));
        json_object_object_add(
                one, "code",
                json_object_new_string(api_error_code_to_string(api_error_code_from_status(status))));
        if (!isempty(field))
                json_object_object_add(one, "field", json_object_new_string(field));
        if (json_object_array_add(f->errors, one) < 0) {
                json_object_put(one);
                return -ENOMEM;
        }
        if (f->status == 0) {
                f->status = status;
                (void) snprintf(f->field, sizeof f->field, "%s", strempty(field));
                (void) snprintf(f->message, sizeof f->message, "%s", msg);
        }
        return 0;
}

int refusals_finish(Refusals *f) {
        json_object *o;
        int k;

        assert(f);
        if (f->answered)
                return 1;
        if (f->status == 0)
                return 0;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "error", json_object_new_string(f->message));
        json_object_object_add(
                o, "code",
                json_object_new_string(api_error_code_to_string(api_error_code_from_status(f->status))));
        if (f->field[0])
                json_object_object_add(o, "field", json_object_new_string(f->field));
        json_object_object_add(o, "dry_run", json_object_new_boolean(true));
        json_object_object_add(o, "valid", json_object_new_boolean(false));
        json_object_object_add(o, "errors", TAKE_PTR(f->errors));
        f->answered = true;
        k = http_respond_json_unref(f->request, f->status, o);
        return k < 0 ? k : 1;
}
