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
#include "json-util.h"
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

/* o's error, code (from status) and, unless empty, field: the shape of every API error. */
static int add_error(json_object *o, const char *message, unsigned status, const char *field) {
        int k;

        k = json_add_string(o, "error", message);
        if (k >= 0)
                k = json_add_string(o, "code", api_error_code_to_string(api_error_code_from_status(status)));
        if (k >= 0 && !isempty(field))
                k = json_add_string(o, "field", field);
        return k;
}

int refusals_add(Refusals *f, unsigned status, const char *field, const char *fmt, ...) {
        char msg[ERROR_MESSAGE_MAX];
        _cleanup_json_ json_object *one = NULL;
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
        if (!one || add_error(one, msg, status, field) < 0 || json_object_array_add(f->errors, one) < 0)
                return -ENOMEM;
        TAKE_PTR(one);
        if (f->status == 0) {
                f->status = status;
                (void) snprintf(f->field, sizeof f->field, "%s", strempty(field));
                (void) snprintf(f->message, sizeof f->message, "%s", msg);
        }
        return 0;
}

int refusals_finish(Refusals *f) {
        _cleanup_json_ json_object *o = NULL;
        int k;

        assert(f);
        if (f->answered)
                return 1;
        if (f->status == 0)
                return 0;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        k = add_error(o, f->message, f->status, f->field);
        if (k >= 0)
                k = json_add_bool(o, "dry_run", true);
        if (k >= 0)
                k = json_add_bool(o, "valid", false);
        if (k >= 0)
                k = json_add_obj(o, "errors", TAKE_PTR(f->errors));
        if (k < 0)
                return k;
        f->answered = true;
        k = http_respond_json(f->request, f->status, o);
        return k < 0 ? k : 1;
}
