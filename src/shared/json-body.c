/* json-body.c — request bodies as JSON objects (see json-body.h). */
#include <errno.h>
#include <stdarg.h>
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

/* --- reading answers ------------------------------------------------------------------- */

json_object *json_get(json_object *o, const char *key) {
        json_object *v;

        if (!o || !json_object_is_type(o, json_type_object))
                return NULL;
        return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

json_object *json_get_path(json_object *o, ...) {
        const char *k;
        va_list ap;

        va_start(ap, o);
        while (o && (k = va_arg(ap, const char *)))
                o = json_get(o, k);
        va_end(ap);
        return o;
}

int json_parse_object(const char *json, size_t size, int depth, json_object **ret) {
        json_tokener *tok = json_tokener_new_ex(depth);
        json_object *o;

        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, json, (int) MIN(size, (size_t) INT32_MAX));
        if (json_tokener_get_error(tok) != json_tokener_success ||
            !json_object_is_type(o, json_type_object)) {
                json_tokener_free(tok);
                json_object_put(o);
                return -EBADMSG;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;
}

const char *json_get_string(json_object *o, const char *key) {
        json_object *v = json_get(o, key);

        return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t json_get_int(json_object *o, const char *key, bool *ret_present) {
        json_object *v = json_get(o, key);
        bool ok = v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double));

        if (ret_present)
                *ret_present = ok;
        return ok ? json_object_get_int64(v) : 0;
}

bool json_get_bool(json_object *o, const char *key) {
        json_object *v = json_get(o, key);

        return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}
