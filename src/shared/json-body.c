/* json-body.c — request bodies as JSON objects (see json-body.h). */
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "json-body.h"
#include "util.h"

int json_body_parse(const char *body, size_t size, struct json_object **ret, Error *e) {
        json_tokener *tok;
        json_object *j;
        enum json_tokener_error err;
        size_t used;
        int k;

        if (size == 0) {
                k = error_set(e, -EINVAL, "the request has no body: send a JSON object");
                e->http_status = 400;
                return k;
        }
        if (size > INT32_MAX) {
                k = error_set(e, -EINVAL, "the request body is too large to parse");
                e->http_status = 413;
                return k;
        }
        /* Invalid UTF-8 would reach the store (PostgreSQL refuses it) and the answers. json-c's
         * JSON_TOKENER_VALIDATE_UTF8 checks only the byte structure and lets overlong forms
         * such as C0 B7 through (found by fuzz/api-body), so the body is checked strictly first. */
        for (size_t i = 0, n; i < size; i += n)
                if ((n = utf8_char_len(body + i, size - i)) == 0) {
                        k = error_set(e, -EINVAL, "the request body is not valid UTF-8 (byte %zu)", i);
                        e->http_status = 400;
                        return k;
                }
        tok = json_tokener_new_ex(JSON_BODY_MAX_DEPTH);
        if (!tok)
                return error_set(e, -ENOMEM, "out of memory");
        json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
        j = json_tokener_parse_ex(tok, body, (int) size);
        err = json_tokener_get_error(tok);
        used = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!j || err != json_tokener_success) {
                json_object_put(j);
                k = error_set(e, -EINVAL, "the request body is not JSON: %s",
                              err == json_tokener_continue ? "it ends too early"
                                                           : json_tokener_error_desc(err));
                e->http_status = 400;
                return k;
        }
        for (; used < size; used++)
                if (!strchr(" \t\r\n", body[used]) || body[used] == '\0') {
                        json_object_put(j);
                        k = error_set(e, -EINVAL,
                                      "the request body has more after its JSON value (byte %zu)", used);
                        e->http_status = 400;
                        return k;
                }
        if (!json_object_is_type(j, json_type_object)) {
                json_object_put(j);
                k = error_set(e, -EINVAL, "the request body must be a JSON object");
                e->http_status = 400;
                return k;
        }
        *ret = j;
        return 0;
}
