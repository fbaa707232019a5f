/* api-manifest.c — how the API answers a manifest it was sent (POST /v1/executions, POST
 * /v1/agents, their dry runs): the status of a refused manifest (413 only for too many bytes),
 * the invalid_manifest error body, a dry run's answer with every error or the canonical
 * manifest. Calls only the HTTP layer and manifest.h: nothing of the
 * daemon, the executions or another API file. */
#include <assert.h>
#include <errno.h>

#include "api-manifest.h"
#include "json-util.h"
#include "util.h"

unsigned api_manifest_error_status(int k) {
        return k == -ENOMEM ? 500 : k == -EMSGSIZE ? 413 : 400;
}

int api_respond_manifest_error(HttpRequest *r, int k, Error *e) {
        assert(k < 0);
        if (!e->http_status)
                e->http_status = api_manifest_error_status(k);
        if (error_http_status(e) >= 500)
                return http_respond_error_from(r, e);
        return http_respond_error_from_code(r, e, API_ERROR_INVALID_MANIFEST);
}

/* {"error", "field"?}: one error of a manifest. */
static int add_manifest_error(json_object *a, const Error *e) {
        _cleanup_json_ json_object *one = json_object_new_object();
        int k;

        if (!one)
                return -ENOMEM;
        k = json_add_string(one, "error", e->message);
        if (k >= 0 && e->field[0])
                k = json_add_string(one, "field", e->field);
        if (k < 0)
                return k;
        if (json_object_array_add(a, one) < 0)
                return -ENOMEM;
        TAKE_PTR(one);
        return 0;
}

int api_check_manifest(HttpRequest *r, const char *text, size_t size, const char *file, ManifestPlan **ret) {
        _cleanup_free_ Error *errors = calloc(MANIFEST_MAX_ERRORS, sizeof *errors);
        _cleanup_json_ json_object *o = NULL;
        Error e = ERROR_INIT;
        json_object *a;
        size_t n;
        int k;

        if (!errors)
                return -ENOMEM;
        k = manifest_check(text, size, file, errors, MANIFEST_MAX_ERRORS, &n, ret, &e);
        if (k >= 0)
                return 0;
        if (k == -ENOMEM)
                return k;
        if (!e.field[0])
                snprintf(e.field, sizeof e.field, "manifest");
        if (!e.http_status)
                e.http_status = api_manifest_error_status(k);
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        k = json_add_string(o, "error", e.message);
        if (k >= 0)
                k = json_add_string(o, "code", api_error_code_to_string(API_ERROR_INVALID_MANIFEST));
        if (k >= 0)
                k = json_add_string(o, "field", e.field);
        if (k >= 0)
                k = json_add_bool(o, "dry_run", true);
        if (k >= 0)
                k = json_add_bool(o, "valid", false);
        if (k >= 0)
                k = json_add_obj(o, "errors", a = json_object_new_array());
        for (size_t i = 0; k >= 0 && i < n; i++)
                k = add_manifest_error(a, &errors[i]);
        if (k < 0)
                return k;
        k = http_respond_json_unref(r, (unsigned) error_http_status(&e), TAKE_PTR(o));
        return k < 0 ? k : 1;
}

int api_respond_dry_run(HttpRequest *r, const ManifestPlan *plan) {
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *m = NULL;
        int k;

        if (!o || manifest_plan_to_json(plan, &m) < 0)
                return -ENOMEM;
        k = json_add_bool(o, "dry_run", true);
        if (k >= 0)
                k = json_add_bool(o, "valid", true);
        if (k >= 0)
                k = json_add_obj(o, "warnings", json_strv(plan->warnings));
        if (k >= 0)
                k = json_add_obj(o, "manifest", m);
        else
                json_object_put(m);
        if (k < 0)
                return k;
        return http_respond_json_unref(r, 200, TAKE_PTR(o));
}
