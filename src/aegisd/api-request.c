/* api-request.c — what the API files read off a request the same way: a JSON body (400
 * answered when it is not JSON), whether the body is YAML by its Content-Type, and the
 * ?dry_run= switch of a submission. Calls only the HTTP layer and json-body.h: nothing of
 * the daemon, the executions or another API file. */
#include <errno.h>

#include "api-request.h"
#include "json-body.h"
#include "util.h"

bool api_content_is_yaml(HttpRequest *r) {
        const char *ct = http_request_header(r, "Content-Type");

        return ct && (startswith(ct, "application/yaml") || startswith(ct, "application/x-yaml") ||
                      startswith(ct, "text/yaml") || startswith(ct, "text/x-yaml"));
}

int api_parse_json_body(HttpRequest *r, json_object **ret) {
        Error e = ERROR_INIT;
        const char *body;
        size_t n;
        int k;

        body = http_request_body(r, &n);
        k = json_body_parse(body, n, ret, &e);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                (void) http_respond_error_from(r, &e);
        return k;
}

int api_query_dry_run(HttpRequest *r) {
        const char *v = http_request_query(r, "dry_run");

        if (!v || streq(v, "false") || streq(v, "0"))
                return 0;
        if (streq(v, "true") || streq(v, "1") || streq(v, ""))
                return 1;
        (void) http_respond_error(r, 400, "dry_run", "dry_run: expected true or false, got \"%s\"", v);
        return -EINVAL;
}
