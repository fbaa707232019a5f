/* json-util.c — json-c adders and the string-list array (json-util.h). Every adder leaves o
 * unchanged and the given value released when it fails. */
#include <assert.h>
#include <errno.h>

#include "json-util.h"
#include "util.h"

int json_add_obj(json_object *o, const char *key, json_object *v) {
        assert(o);
        assert(key);
        if (!v || json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

int json_add_nullable(json_object *o, const char *key, json_object *v) {
        assert(o);
        assert(key);
        if (!v)
                return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
        return json_add_obj(o, key, v);
}

int json_add_string(json_object *o, const char *key, const char *value) {
        assert(o);
        assert(key);
        if (!value)
                return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
        return json_add_obj(o, key, json_object_new_string(value));
}

int json_add_int(json_object *o, const char *key, int64_t value) {
        return json_add_obj(o, key, json_object_new_int64(value));
}

int json_add_uint(json_object *o, const char *key, uint64_t value) {
        return json_add_obj(o, key, json_object_new_uint64(value));
}

int json_add_timestamp(json_object *o, const char *key, uint64_t usec) {
        char buf[TIMESTAMP_MAX];

        return json_add_string(o, key, usec == 0 ? NULL : format_timestamp(buf, sizeof buf, usec));
}

int json_add_bool(json_object *o, const char *key, bool value) {
        return json_add_obj(o, key, json_object_new_boolean(value));
}

json_object *json_strv(char *const *l) {
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && l && l[i]; i++) {
                json_object *s = json_object_new_string(l[i]);
                if (!s || json_object_array_add(a, s) < 0) {
                        json_object_put(s);
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}
