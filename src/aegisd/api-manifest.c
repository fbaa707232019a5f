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

int api_check_manifest(HttpRequest *r, const char *text, size_t size, const char *file, ManifestPlan **ret) {
        _cleanup_free_ Error *errors = calloc(MANIFEST_MAX_ERRORS, sizeof *errors);
        Error e = ERROR_INIT;
        json_object *o, *a;
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
        a = json_object_new_array();
        if (!o || !a) {
                json_object_put(o);
                json_object_put(a);
                return -ENOMEM;
        }
        json_object_object_add(o, "error", json_object_new_string(e.message));
        json_object_object_add(o, "code",
                               json_object_new_string(api_error_code_to_string(API_ERROR_INVALID_MANIFEST)));
        json_object_object_add(o, "field", json_object_new_string(e.field));
        json_object_object_add(o, "dry_run", json_object_new_boolean(true));
        json_object_object_add(o, "valid", json_object_new_boolean(false));
        for (size_t i = 0; i < n; i++) {
                json_object *one = json_object_new_object();
                json_object_object_add(one, "error", json_object_new_string(errors[i].message));
                if (errors[i].field[0])
                        json_object_object_add(one, "field", json_object_new_string(errors[i].field));
                json_object_array_add(a, one);
        }
        json_object_object_add(o, "errors", a);
        k = http_respond_json_unref(r, (unsigned) error_http_status(&e), o);
        return k < 0 ? k : 1;
}

int api_respond_dry_run(HttpRequest *r, const ManifestPlan *plan) {
        json_object *o = json_object_new_object(), *m = NULL;

        if (!o || manifest_plan_to_json(plan, &m) < 0) {
                json_object_put(o);
                return -ENOMEM;
        }
        json_object_object_add(o, "dry_run", json_object_new_boolean(true));
        json_object_object_add(o, "valid", json_object_new_boolean(true));
        json_object_object_add(o, "warnings", json_strv(plan->warnings));
        json_object_object_add(o, "manifest", m);
        return http_respond_json_unref(r, 200, o);
}
