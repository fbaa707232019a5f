/* api-volumes.c — standalone volumes over the API: POST/GET /v1/volumes, GET /v1/volumes/quota,
 * GET/PATCH/DELETE /v1/volumes/{id} (their files: api-volume-files.c).
 *
 * A volume is a row in the store and a directory storage.root/<tenant>/<id> (volume.h).
 * Bodies take our fields and the reference SDK's (label for name, size_limit_bytes for
 * size_limit); answers carry both spellings. The tenant is the authenticated token's
 * (api.tokens_file "TOKEN TENANT"), else "default"; a volume of another tenant is 404, like
 * one that never existed. DELETE is refused (409) while an execution that is not finished
 * owns or mounts the volume (store_volume_users()). The store is the daemon's. */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "api-volumes.h"
#include "api-context.h"
#include "executions.h"
#include "api-request.h"
#include "json-util.h"
#include "log.h"
#include "manifest.h"
#include "store.h"
#include "util.h"
#include "volume-userns.h"
#include "volume.h"

#define VOLUME_TTL_HOURS_DEFAULT 24 /* ephemeral volumes without ttl_hours */
#define VOLUME_TTL_HOURS_MAX (24 * 365 * 10)

static const char *request_tenant(HttpRequest *r) {
        return http_request_tenant(r);
}

/* The daemon's store, opened before any request is served. */
static Store *get_store(ApiContext *ctx) {
        assert(ctx->store);
        return ctx->store;
}

static struct json_object *volume_to_json(const StoreVolume *v, const uint64_t *bytes_used) {
        _cleanup_json_ struct json_object *o = json_object_new_object();
        int k;

        if (!o)
                return NULL;
        k = json_add_string(o, "id", v->id);
        if (k >= 0)
                k = json_add_string(o, "tenant_id", strempty(v->tenant_id));
        if (k >= 0)
                k = json_add_string(o, "name", strempty(v->name));
        if (k >= 0)
                k = json_add_string(o, "label", strempty(v->name));
        if (k >= 0)
                k = json_add_string(o, "storage_class", volume_storage_class_to_string(v->storage_class));
        if (k >= 0)
                k = json_add_string(o, "access_mode", volume_access_mode_to_string(v->access_mode));
        if (k >= 0)
                k = json_add_uint(o, "size_limit", v->size_limit);
        if (k >= 0)
                k = json_add_uint(o, "size_limit_bytes", v->size_limit);
        if (k >= 0)
                k = json_add_int(o, "uid", v->uid);
        if (k >= 0)
                k = json_add_int(o, "gid", v->gid);
        if (k >= 0)
                k = json_add_string(o, "owner_execution_id", v->owner_execution_id);
        if (k >= 0)
                k = json_add_string(o, "status", volume_status_to_string(v->status));
        if (k >= 0)
                k = json_add_timestamp(o, "created_at", v->created_at);
        if (k >= 0)
                k = json_add_timestamp(o, "expires_at", v->expires_at);
        if (k >= 0 && bytes_used)
                k = json_add_uint(o, "bytes_used", *bytes_used);
        if (k >= 0 && bytes_used)
                k = json_add_uint(o, "used_bytes", *bytes_used);
        return k < 0 ? NULL : TAKE_PTR(o);
}

static int respond_volume(HttpRequest *r, unsigned status, const StoreVolume *v,
                          const uint64_t *bytes_used) {
        struct json_object *o = volume_to_json(v, bytes_used);

        if (!o)
                return -ENOMEM;
        return http_respond_json_unref(r, status, o);
}

typedef struct CreateRequest {
        const char *name;
        uint64_t size_limit;
        VolumeAccessMode access_mode;
        VolumeStorageClass storage_class;
        int64_t ttl_hours; /* -1 = not given */
} CreateRequest;

static const char *const create_fields[] = {
        "name", "label", "size_limit", "size_limit_bytes", "access_mode", "storage_class", "ttl_hours"
};

#define LABEL_MAX 256

/* The reference's label: text (no control characters), 1 to LABEL_MAX bytes. */
static bool label_is_valid(const char *s) {
        return !isempty(s) && strlen(s) <= LABEL_MAX && utf8_is_valid_text(s, strlen(s));
}

/* Returns 0, or answers 400 naming the field and returns 1. */
static int parse_create(HttpRequest *r, struct json_object *body, CreateRequest *c) {
        struct json_object *v;

        *c = (CreateRequest){ .access_mode = VOLUME_READ_WRITE,
                              .storage_class = VOLUME_PERSISTENT,
                              .ttl_hours = -1 };

        if (!json_object_is_type(body, json_type_object))
                return ANSWER_ERROR(r, 400, NULL, "the request body must be a JSON object");
        json_object_object_foreach (body, key, val) {
                bool known = false;

                (void) val;
                for (size_t i = 0; i < ELEMENTSOF(create_fields); i++)
                        known = known || streq(key, create_fields[i]);
                if (!known)
                        return ANSWER_ERROR(r, 400, key,
                                            "unknown field \"%s\": a volume takes name (or label), "
                                            "size_limit (or size_limit_bytes), access_mode, storage_class "
                                            "and ttl_hours",
                                            key);
        }

        if (json_object_object_get_ex(body, "label", &v) && v) {
                if (!json_object_is_type(v, json_type_string) || !label_is_valid(json_object_get_string(v)))
                        return ANSWER_ERROR(r, 400, "label",
                                            "label must be text of 1 to %d bytes without control characters",
                                            LABEL_MAX);
                c->name = json_object_get_string(v);
        }
        if (json_object_object_get_ex(body, "name", &v) || !c->name) {
                if (!v || !json_object_is_type(v, json_type_string) ||
                    !id_is_valid(json_object_get_string(v)))
                        return ANSWER_ERROR(
                                r, 400, "name",
                                "name (or label) is required: 1 to 64 characters of A-Z a-z 0-9 _ "
                                ". - (not \".\" or \"..\")");
                if (c->name && !streq(c->name, json_object_get_string(v)))
                        return ANSWER_ERROR(r, 400, "label",
                                            "name and label name the same thing: give one of them");
                c->name = json_object_get_string(v);
        }
        if (json_object_object_get_ex(body, "size_limit_bytes", &v) && v) {
                if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
                        return ANSWER_ERROR(r, 400, "size_limit_bytes",
                                            "size_limit_bytes must be a number of bytes (0 = unlimited)");
                c->size_limit = json_object_get_uint64(v);
                if (json_object_object_get_ex(body, "size_limit", &v) && v)
                        return ANSWER_ERROR(
                                r, 400, "size_limit_bytes",
                                "size_limit and size_limit_bytes name the same thing: give one of "
                                "them");
        }

        if (json_object_object_get_ex(body, "size_limit", &v) && v) {
                if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0)
                        c->size_limit = json_object_get_uint64(v);
                else if (!json_object_is_type(v, json_type_string) ||
                         volume_parse_size_limit(json_object_get_string(v), &c->size_limit) < 0)
                        return ANSWER_ERROR(r, 400, "size_limit",
                                            "size_limit must be a size like \"512Mi\", \"1Gi\" or a number "
                                            "of bytes (0 = unlimited)");
        }
        if (json_object_object_get_ex(body, "access_mode", &v) && v) {
                c->access_mode = json_object_is_type(v, json_type_string)
                                         ? volume_access_mode_from_string(json_object_get_string(v))
                                         : _VOLUME_ACCESS_MODE_INVALID;
                if (c->access_mode < 0)
                        return ANSWER_ERROR(r, 400, "access_mode",
                                            "access_mode must be \"read-write\" or \"read-only\"");
        }
        if (json_object_object_get_ex(body, "storage_class", &v) && v) {
                c->storage_class = json_object_is_type(v, json_type_string)
                                           ? volume_storage_class_from_string(json_object_get_string(v))
                                           : _VOLUME_STORAGE_CLASS_INVALID;
                if (c->storage_class < 0)
                        return ANSWER_ERROR(r, 400, "storage_class",
                                            "storage_class must be \"ephemeral\" or \"persistent\"");
        }
        if (json_object_object_get_ex(body, "ttl_hours", &v) && v) {
                if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
                    json_object_get_int64(v) > VOLUME_TTL_HOURS_MAX)
                        return ANSWER_ERROR(r, 400, "ttl_hours", "ttl_hours must be an integer from 1 to %d",
                                            VOLUME_TTL_HOURS_MAX);
                if (c->storage_class != VOLUME_EPHEMERAL)
                        return ANSWER_ERROR(r, 400, "ttl_hours",
                                            "ttl_hours applies to ephemeral volumes only: set "
                                            "\"storage_class\": \"ephemeral\" or drop ttl_hours");
                c->ttl_hours = json_object_get_int64(v);
        }
        return 0;
}

static int create_volume(HttpRequest *r, void *userdata) {
        ApiContext *ctx = userdata;
        _cleanup_(store_volume_done) StoreVolume v = {};
        struct json_object *body;
        CreateRequest c;
        Store *s;
        int k;

        k = api_parse_json_body(r, &body);
        if (k < 0)
                return k == -ENOMEM ? k : 0;
        k = parse_create(r, body, &c);
        if (k != 0) {
                json_object_put(body);
                return k > 0 ? 0 : k;
        }
        s = get_store(ctx);

        v.tenant_id = strdup(request_tenant(r));
        v.name = strdup(c.name);
        json_object_put(body);
        if (!v.tenant_id || !v.name)
                return -ENOMEM;
        v.storage_class = c.storage_class;
        v.access_mode = c.access_mode;
        v.size_limit = c.size_limit;
        /* The owner on the host: the default agent's ids as its user namespace maps them. */
        {
                VolumeOwner o = ctx->executions ? ctx->executions->volume_owner : (VolumeOwner){ 0 };
                v.uid = volume_owner_uid(&o, MANIFEST_UID_DEFAULT);
                v.gid = volume_owner_gid(&o, MANIFEST_GID_DEFAULT);
        }
        if (c.storage_class == VOLUME_EPHEMERAL)
                v.expires_at = now_usec(CLOCK_REALTIME) +
                               (uint64_t) (c.ttl_hours > 0 ? c.ttl_hours : VOLUME_TTL_HOURS_DEFAULT) * 3600 *
                                       USEC_PER_SEC;

        k = store_volume_create(s, &v);
        if (k < 0)
                return http_respond_error(r, 503, NULL, "cannot record the volume in the store: %s",
                                          strerror(-k));
        k = volume_dir_create(ctx->config->storage.root, v.tenant_id, v.id, v.uid, v.gid,
                              v.access_mode == VOLUME_READ_ONLY ? 0750 : 0770);
        if (k < 0) {
                log_error_errno(k, "volumes: cannot create %s/%s/%s: %s", ctx->config->storage.root,
                                v.tenant_id, v.id, volume_userns_strerror(k));
                (void) store_volume_purge(s, v.id);
                return http_respond_error(r, 500, NULL,
                                          "cannot create the volume's directory under storage.root: %s",
                                          volume_userns_strerror(k));
        }
        log_info("volumes: created %s (%s) for tenant %s", v.id, v.name, v.tenant_id);
        {
                uint64_t zero = 0;
                return respond_volume(r, 201, &v, &zero);
        }
}

static int list_volumes(HttpRequest *r, void *userdata) {
        ApiContext *ctx = userdata;
        StoreVolumeFilter f = STORE_VOLUME_FILTER_INIT;
        uint64_t total_quota = 0;
        StoreVolume *a = NULL;
        _cleanup_json_ struct json_object *o = NULL;
        struct json_object *arr;
        size_t n = 0;
        Store *s;
        int k;

        s = get_store(userdata);
        f.tenant_id = request_tenant(r);
        f.status = VOLUME_ACTIVE;
        k = store_volume_list(s, &f, &a, &n);
        if (k < 0)
                return http_respond_error(r, 503, NULL, "cannot list volumes: %s", strerror(-k));
        o = json_object_new_object();
        arr = json_object_new_array();
        if (!o || json_add_obj(o, "volumes", arr) < 0) {
                store_volume_array_free(a, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                uint64_t used = 0;
                /* Measured on each list (a bounded walk): what the reference's list shows. */
                bool measured = volume_dir_bytes_used(ctx->config->storage.root, a[i].tenant_id, a[i].id,
                                                      &used) >= 0;
                struct json_object *e = volume_to_json(&a[i], measured ? &used : NULL);
                total_quota += a[i].size_limit;
                if (!e || json_object_array_add(arr, e) < 0) {
                        json_object_put(e);
                        store_volume_array_free(a, n);
                        return -ENOMEM;
                }
        }
        store_volume_array_free(a, n);
        k = json_add_uint(o, "total_count", n);
        if (k >= 0)
                k = json_add_uint(o, "total_quota_bytes", total_quota);
        if (k < 0)
                return k;
        return http_respond_json_unref(r, 200, TAKE_PTR(o));
}

/* GET /v1/volumes/quota: the caller's tenant's usage. There is no per-tenant quota: the
 * ceiling is the file system under storage.root (quota_bytes its size), and volume_limit is
 * null (no limit on the number of volumes). */
static int get_quota(HttpRequest *r, void *userdata) {
        ApiContext *ctx = userdata;
        StoreVolumeFilter f = STORE_VOLUME_FILTER_INIT;
        StoreVolume *a = NULL;
        _cleanup_json_ struct json_object *o = NULL;
        struct statvfs sv;
        uint64_t used = 0, fs_bytes = 0;
        size_t n = 0;
        int k;

        f.tenant_id = request_tenant(r);
        f.status = VOLUME_ACTIVE;
        k = store_volume_list(get_store(ctx), &f, &a, &n);
        if (k < 0)
                return http_respond_error(r, 503, NULL, "cannot list volumes: %s", strerror(-k));
        for (size_t i = 0; i < n; i++) {
                uint64_t u = 0;
                if (volume_dir_bytes_used(ctx->config->storage.root, a[i].tenant_id, a[i].id, &u) >= 0)
                        used += u;
        }
        store_volume_array_free(a, n);
        if (statvfs(ctx->config->storage.root, &sv) >= 0)
                fs_bytes = (uint64_t) sv.f_blocks * sv.f_frsize;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        k = json_add_uint(o, "quota_bytes", fs_bytes);
        if (k >= 0)
                k = json_add_uint(o, "used_bytes", used);
        if (k >= 0)
                k = json_add_uint(o, "volume_count", n);
        if (k >= 0)
                k = json_add_nullable(o, "volume_limit", NULL);
        if (k < 0)
                return k;
        return http_respond_json_unref(r, 200, TAKE_PTR(o));
}

static int open_volume(HttpRequest *r, ApiContext *ctx, Store **ret_store, StoreVolume *ret) {
        const char *id = http_request_param(r, "id");
        Store *s;
        int k;

        s = get_store(ctx);
        *ret_store = s;
        if (!id_is_valid(id))
                return ANSWER_ERROR(r, 404, "id",
                                    "no such volume: ids are 1 to 64 characters of A-Z a-z 0-9 _ . -");
        k = store_volume_get(s, request_tenant(r), id, ret);
        if (k == -ENOENT || (k >= 0 && ret->status == VOLUME_DELETED)) {
                if (k >= 0)
                        store_volume_done(ret);
                return ANSWER_ERROR(r, 404, "id", "no such volume: %s", id);
        }
        if (k < 0)
                return ANSWER_ERROR(r, 503, NULL, "cannot read the volume: %s", strerror(-k));
        return 0;
}

int api_volume_open(HttpRequest *r, ApiContext *ctx, StoreVolume *ret) {
        Store *s;

        return open_volume(r, ctx, &s, ret);
}

static int get_volume(HttpRequest *r, void *userdata) {
        ApiContext *ctx = userdata;
        _cleanup_(store_volume_done) StoreVolume v = {};
        uint64_t used = 0;
        Store *s;
        int k;

        k = open_volume(r, ctx, &s, &v);
        if (k != 0)
                return k > 0 ? 0 : k;
        k = volume_dir_bytes_used(ctx->config->storage.root, v.tenant_id, v.id, &used);
        if (k < 0) {
                log_warning_errno(k, "volumes: cannot measure %s: %s", v.id, volume_userns_strerror(k));
                return http_respond_error(r, 500, NULL, "cannot measure the volume's directory: %s",
                                          volume_userns_strerror(k));
        }
        return respond_volume(r, 200, &v, &used);
}

/* PATCH /v1/volumes/{id} {"label"}: what can change of a volume (its size, class and mode
 * stay what executions were promised). */
static int patch_volume(HttpRequest *r, void *userdata) {
        ApiContext *ctx = userdata;
        _cleanup_(store_volume_done) StoreVolume v = {};
        struct json_object *body = NULL, *label = NULL;
        uint64_t used = 0;
        Store *s;
        int k;

        k = open_volume(r, ctx, &s, &v);
        if (k != 0)
                return k > 0 ? 0 : k;
        k = api_parse_json_body(r, &body);
        if (k < 0)
                return k == -ENOMEM ? k : 0;
        if (!json_object_is_type(body, json_type_object)) {
                json_object_put(body);
                return http_respond_error(r, 400, NULL, "the request body must be a JSON object");
        }
        json_object_object_foreach (body, key, val) {
                (void) val;
                if (!streq(key, "label") && !streq(key, "name")) {
                        k = http_respond_error(r, 400, key,
                                               "unknown field \"%s\": only label (or name) can change", key);
                        json_object_put(body);
                        return k;
                }
        }
        if (!json_object_object_get_ex(body, "label", &label))
                (void) json_object_object_get_ex(body, "name", &label);
        if (!label || !json_object_is_type(label, json_type_string) ||
            !label_is_valid(json_object_get_string(label))) {
                json_object_put(body);
                return http_respond_error(r, 400, "label",
                                          "label must be text of 1 to %d bytes without control characters",
                                          LABEL_MAX);
        }
        k = store_volume_set_name(s, v.id, json_object_get_string(label));
        if (k >= 0) {
                free(v.name);
                v.name = strdup(json_object_get_string(label));
        }
        json_object_put(body);
        if (k == -ENOENT)
                return http_respond_error(r, 404, "id", "no such volume: %s", v.id);
        if (k < 0)
                return http_respond_error(r, 503, NULL, "cannot rename the volume: %s", strerror(-k));
        if (!v.name)
                return -ENOMEM;
        return respond_volume(r, 200, &v,
                              volume_dir_bytes_used(ctx->config->storage.root, v.tenant_id, v.id, &used) >= 0
                                      ? &used
                                      : NULL);
}

static int delete_volume(HttpRequest *r, void *userdata) {
        ApiContext *ctx = userdata;
        _cleanup_(store_volume_done) StoreVolume v = {};
        uint64_t users = 0;
        Store *s;
        int k;

        k = open_volume(r, ctx, &s, &v);
        if (k != 0)
                return k > 0 ? 0 : k;
        k = store_volume_users(s, v.id, &users);
        if (k < 0)
                return http_respond_error(r, 503, NULL, "cannot check the volume's users: %s", strerror(-k));
        if (users > 0)
                return http_respond_error(r, 409, "id",
                                          "volume %s is in use by %" PRIu64
                                          " live execution(s): cancel or wait for them, then delete",
                                          v.id, users);
        /* Deleted first, so nothing mounts it while the directory goes. */
        k = store_volume_set_status(s, v.id, VOLUME_DELETED);
        if (k < 0 && k != -EALREADY)
                return http_respond_error(r, 503, NULL, "cannot mark the volume deleted: %s", strerror(-k));
        k = volume_dir_remove(ctx->config->storage.root, v.tenant_id, v.id);
        if (k < 0) {
                log_error_errno(k, "volumes: cannot remove the directory of %s: %s", v.id,
                                volume_userns_strerror(k));
                return http_respond_error(r, 500, NULL,
                                          "the volume is deleted but its directory could not be removed: %s",
                                          volume_userns_strerror(k));
        }
        k = store_volume_purge(s, v.id);
        if (k < 0 && k != -ENOENT)
                log_warning_errno(k, "volumes: cannot purge the row of %s: %m", v.id);
        log_info("volumes: deleted %s (%s)", v.id, strempty(v.name));
        return http_respond(r, 204, NULL, NULL, 0);
}

const HttpRoute api_volumes_routes[] = {
        { HTTP_POST, "/v1/volumes", create_volume },
        { HTTP_GET, "/v1/volumes", list_volumes },
        { HTTP_GET, "/v1/volumes/quota", get_quota },
        { HTTP_GET, "/v1/volumes/{id}", get_volume },
        { HTTP_PATCH, "/v1/volumes/{id}", patch_volume },
        { HTTP_DELETE, "/v1/volumes/{id}", delete_volume },
        {},
};
