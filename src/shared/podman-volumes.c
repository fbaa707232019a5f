/* podman-volumes.c — engine volumes: create (with a driver and its options, e.g. the local
 * driver's NFS options), remove, inspect. Stale-volume replacement (remove then create,
 * because engines silently reuse an existing volume and ignore new options) builds on these. */
#include <errno.h>
#include <string.h>

#include "podman-internal.h"
#include "podman-sync.h"
#include "util.h"

static bool volume_name_ok(const char *n) {
        size_t len = n ? strlen(n) : 0;

        return len > 0 && len <= 255 &&
               strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == len &&
               n[0] != '.' && n[0] != '-';
}

static void done_finish(PodmanCall *call, int r, Error *e) {
        ((podman_done_fn) call->cb)(r, r < 0 ? e : NULL, call->userdata);
}

static void remove_finish(PodmanCall *call, int r, Error *e) {
        done_finish(call, r == -ENOENT ? 0 : r, e);
}

static int kv_into(json_object *o, const char *key, char *const *l) {
        json_object *m = json_object_new_object();

        if (!m || json_object_object_add(o, key, m) < 0) {
                json_object_put(m);
                return -ENOMEM;
        }
        for (size_t i = 0; l && l[i]; i++) {
                const char *eq = strchr(l[i], '=');
                _cleanup_free_ char *k = eq ? strndup(l[i], eq - l[i]) : NULL;
                if (!eq || eq == l[i])
                        return -EINVAL;
                if (!k || json_object_object_add(m, k, json_object_new_string(eq + 1)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

typedef struct VolumeCreate {
        char *name;
        char *body;
} VolumeCreate;

static void volume_create_free(void *p) {
        VolumeCreate *v = p;

        if (!v)
                return;
        free(v->name);
        free(v->body);
        free(v);
}

/* Engines answer a create for an existing name with the existing volume and silently ignore
 * the new driver options (the reference's NFS incident), so we look first and refuse. */
static void volume_exists_finish(PodmanCall *call, int r, Error *e) {
        VolumeCreate *v = call->state;
        PodmanCall *create;

        if (r >= 0) {
                r = error_set(
                        e, -EEXIST,
                        "volume %s already exists: the engine would reuse it and ignore the new driver "
                        "options; remove it first",
                        v->name);
                e->http_status = 409;
        } else if (r == -ENOENT) {
                r = podman_call_new(call->client, "POST", "/volumes/create", 0, &create);
                if (r >= 0) {
                        size_t n = strlen(v->body);
                        r = podman_call_set_body(create, TAKE_PTR(v->body), n, "application/json");
                        if (r >= 0) {
                                (void) podman_call_continue(call, create, done_finish);
                                return;
                        }
                        podman_call_free(create);
                }
                r = error_set(e, r, "cannot create volume %s: %s", v->name, strerror(-r));
        }
        done_finish(call, r, e);
}

int podman_volume_create_async(PodmanClient *c, const char *name, const char *driver,
                               char *const *driver_options, char *const *labels, podman_done_fn cb,
                               void *userdata, PodmanOp **ret_op) {
        _cleanup_free_ char *path = NULL;
        VolumeCreate *v;
        json_object *o;
        PodmanCall *call;
        int r;

        if (!cb || !volume_name_ok(name))
                return -EINVAL;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "Name", json_object_new_string(name));
        json_object_object_add(o, "Driver", json_object_new_string(driver ? driver : "local"));
        r = kv_into(o, "DriverOpts", driver_options);
        if (r >= 0)
                r = kv_into(o, "Labels", labels);
        v = calloc(1, sizeof *v);
        if (r >= 0 && (!v || !(v->name = strdup(name)) ||
                       !(v->body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)))))
                r = -ENOMEM;
        json_object_put(o);
        path = asprintf_safe("/volumes/%s", name);
        if (r >= 0 && !path)
                r = -ENOMEM;
        if (r >= 0)
                r = podman_call_new(c, "GET", path, 0, &call);
        if (r < 0) {
                volume_create_free(v);
                return r;
        }
        call->state = v;
        call->free_state = volume_create_free;
        return podman_call_start(call, volume_exists_finish, (void *) cb, userdata, ret_op);
}

static int remove_async(PodmanClient *c, const char *name, bool force, podman_done_fn cb, void *userdata,
                        PodmanOp **ret_op) {
        _cleanup_free_ char *path = NULL;
        PodmanCall *call;
        int r;

        if (!cb || !volume_name_ok(name))
                return -EINVAL;
        path = asprintf_safe("/volumes/%s%s", name, force ? "?force=true" : "");
        if (!path)
                return -ENOMEM;
        r = podman_call_new(c, "DELETE", path, 0, &call);
        if (r < 0)
                return r;
        return podman_call_start(call, remove_finish, cb, userdata, ret_op);
}

int podman_volume_remove_async(PodmanClient *c, const char *name, podman_done_fn cb, void *userdata,
                               PodmanOp **ret_op) {
        return remove_async(c, name, true, cb, userdata, ret_op);
}

int podman_volume_create(PodmanClient *c, const char *name, const char *driver, char *const *driver_options,
                         char *const *labels, Error *e) {
        if (!volume_name_ok(name))
                return error_set_field(e, -EINVAL, "name",
                                       "volume name \"%s\" is not valid ([A-Za-z0-9_.-], 1-255)",
                                       strempty(name));
        PODMAN_SYNC_BEGIN(c, e);
        r = podman_volume_create_async(priv, name, driver, driver_options, labels, podman_sync_done, &sync,
                                       NULL);
        if (r == -EINVAL)
                return error_set_field(e, r, "driver_options",
                                       "volume %s: options and labels must be key=value", name);
        PODMAN_SYNC_END(c, e);
        return r;
}

int podman_volume_remove(PodmanClient *c, const char *name, Error *e) {
        if (!volume_name_ok(name))
                return error_set_field(e, -EINVAL, "name", "volume name \"%s\" is not valid",
                                       strempty(name));
        PODMAN_SYNC_BEGIN(c, e);
        r = podman_volume_remove_async(priv, name, podman_sync_done, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        return r;
}

int podman_volume_remove_unused(PodmanClient *c, const char *name, Error *e) {
        if (!volume_name_ok(name))
                return error_set_field(e, -EINVAL, "name", "volume name \"%s\" is not valid",
                                       strempty(name));
        PODMAN_SYNC_BEGIN(c, e);
        r = remove_async(priv, name, false, podman_sync_done, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        return r;
}

static void in_use_finish(PodmanCall *call, int r, Error *e) {
        PodmanSync *sync = call->userdata;
        bool *in_use = sync->result;

        if (r >= 0) {
                json_object *j = podman_call_json(call);
                if (!j || !json_object_is_type(j, json_type_array))
                        r = podman_call_bad_answer(call, e, "not a list of containers");
                else
                        *in_use = json_object_array_length(j) > 0;
                json_object_put(j);
        }
        podman_sync_done(r, e, sync);
}

int podman_volume_in_use(PodmanClient *c, const char *name, Error *e) {
        _cleanup_free_ char *f = NULL, *q = NULL, *path = NULL;
        bool in_use = false;
        PodmanCall *call;

        if (!volume_name_ok(name))
                return error_set_field(e, -EINVAL, "name", "volume name \"%s\" is not valid",
                                       strempty(name));
        PODMAN_SYNC_BEGIN(c, e);
        sync.result = &in_use;
        f = asprintf_safe("{\"volume\":[\"%s\"]}", name);
        q = f ? podman_escape(f) : NULL;
        path = q ? asprintf_safe("/containers/json?all=1&filters=%s", q) : NULL;
        r = path ? podman_call_new(priv, "GET", path, 0, &call) : -ENOMEM;
        if (r >= 0)
                r = podman_call_start(call, in_use_finish, NULL, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        return r < 0 ? r : in_use;
}

void podman_volume_list_free(PodmanVolume *vs, size_t n) {
        for (size_t i = 0; vs && i < n; i++) {
                free(vs[i].name);
                free(vs[i].store_id);
        }
        free(vs);
}

typedef struct VolumeList {
        const char *prefix;
        PodmanVolume *vs;
        size_t n;
} VolumeList;

/* The engine's name filter matches substrings: only names with the prefix are kept. */
static int parse_volume(json_object *o, void *ret_item, void *userdata) {
        const char *prefix = userdata, *name = json_get_string(o, "Name"), *store;
        PodmanVolume *v = ret_item;

        if (!name || !startswith(name, strempty(prefix)))
                return 0;
        v->name = strdup(name);
        if (!v->name)
                return -ENOMEM;
        v->created_usec = podman_parse_rfc3339(json_get_string(o, "CreatedAt"));
        store = json_get_string(json_get(o, "Labels"), PODMAN_LABEL_STORE);
        if (store) {
                v->store_id = strdup(store);
                if (!v->store_id) {
                        free(v->name);
                        v->name = NULL;
                        return -ENOMEM;
                }
        }
        return 1;
}

static void volume_done(void *item) {
        PodmanVolume *v = item;

        free(v->name);
        free(v->store_id);
}

static const PodmanListParser volume_list_parser = {
        .item_size = sizeof(PodmanVolume),
        .parse = parse_volume,
        .done = volume_done,
};

/* Docker's answer {"Volumes": [...]}; Podman's compatible API answers the same. */
static void list_finish(PodmanCall *call, int r, Error *e) {
        PodmanSync *sync = call->userdata;
        VolumeList *res = sync->result;
        json_object *j = NULL, *a = NULL;
        void *items;

        if (r >= 0) {
                j = podman_call_json(call);
                a = json_get(j, "Volumes");
                if (a && json_object_is_type(a, json_type_null))
                        a = NULL; /* Docker says null for none */
                else if (!a || !json_object_is_type(a, json_type_array))
                        r = podman_call_bad_answer(call, e, "not a list of volumes");
        }
        if (r >= 0 && a) {
                r = podman_parse_list(a, &volume_list_parser, (void *) res->prefix, &items, &res->n, e);
                if (r >= 0)
                        res->vs = items;
        }
        json_object_put(j);
        podman_sync_done(r, e, sync);
}

int podman_volume_list(PodmanClient *c, const char *name_prefix, PodmanVolume **ret, size_t *ret_n,
                       Error *e) {
        _cleanup_free_ char *q = NULL, *path = NULL;
        VolumeList res = { .prefix = name_prefix };
        PodmanCall *call;

        if (!ret || !ret_n)
                return error_set(e, -EINVAL, "podman_volume_list: missing argument");
        PODMAN_SYNC_BEGIN(c, e);
        sync.result = &res;
        if (!isempty(name_prefix)) {
                _cleanup_free_ char *f = asprintf_safe("{\"name\":[\"%s\"]}", name_prefix);
                q = f && volume_name_ok(name_prefix) ? podman_escape(f) : NULL;
                path = q ? asprintf_safe("/volumes?filters=%s", q) : NULL;
        } else
                path = strdup("/volumes");
        r = path ? podman_call_new(priv, "GET", path, 0, &call) : -ENOMEM;
        if (r >= 0)
                r = podman_call_start(call, list_finish, NULL, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        if (r < 0) {
                podman_volume_list_free(res.vs, res.n);
                return r;
        }
        *ret = res.vs;
        *ret_n = res.n;
        return 0;
}

typedef struct VolumeInspect {
        bool found;
        char **options;
} VolumeInspect;

static void inspect_finish(PodmanCall *call, int r, Error *e) {
        PodmanSync *sync = call->userdata;
        VolumeInspect *res = sync->result;

        if (r == -ENOENT) {
                podman_sync_done(0, NULL, sync);
                return;
        }
        if (r >= 0) {
                json_object *j = podman_call_json(call), *opts = json_get(j, "Options");
                res->found = true;
                if (opts && json_object_is_type(opts, json_type_object)) {
                        json_object_object_foreach (opts, k, v) {
                                _cleanup_free_ char *kv =
                                        asprintf_safe("%s=%s", k, json_object_get_string(v));
                                if (!kv || strv_extend(&res->options, kv) < 0)
                                        r = error_set(e, -ENOMEM, "out of memory");
                        }
                }
                json_object_put(j);
        }
        podman_sync_done(r, e, sync);
}

int podman_volume_inspect(PodmanClient *c, const char *name, char ***ret_options, Error *e) {
        _cleanup_free_ char *path = NULL;
        VolumeInspect res = { 0 };
        PodmanCall *call;

        if (!volume_name_ok(name))
                return error_set_field(e, -EINVAL, "name", "volume name \"%s\" is not valid",
                                       strempty(name));
        PODMAN_SYNC_BEGIN(c, e);
        sync.result = &res;
        path = asprintf_safe("/volumes/%s", name);
        r = path ? podman_call_new(priv, "GET", path, 0, &call) : -ENOMEM;
        if (r >= 0)
                r = podman_call_start(call, inspect_finish, NULL, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        if (r < 0) {
                strv_free(res.options);
                return r;
        }
        if (ret_options)
                *ret_options = res.options;
        else
                strv_free(res.options);
        return res.found ? 1 : 0;
}
