/* api-volume-files.c — files in and out of a volume (issue 15), the reference's routes:
 *
 *   GET    /v1/volumes/{id}/files?path=            {"path", "entries":[{name, type, size_bytes, modified_at}]}
 *   GET    /v1/volumes/{id}/files/download?path=   the bytes (Content-Length, Range)
 *   POST   /v1/volumes/{id}/files/upload?path=     multipart field "file" (or a raw
 *                                                  application/octet-stream body) → 201 {name, path, size_bytes, uploaded_at}
 *   POST   /v1/volumes/{id}/files/mkdir            {"path"} → 201
 *   POST   /v1/volumes/{id}/files/move             {"from", "to"} → 200
 *   DELETE /v1/volumes/{id}/files?path=            → 200 {"status":"deleted"}
 *
 * What stays true:
 *   - every path is resolved beneath the volume's directory by volume-files.h (no "..", no
 *     symlink followed, no other mount): a request can neither read nor write outside it;
 *   - the volume is the caller's tenant's (api_volume_open(): another tenant's is 404);
 *   - an upload is streamed to a temporary file beside its target and renamed into place
 *     only once complete and within the volume's size_limit: a refused, failed or abandoned
 *     upload leaves nothing behind, and an upload never sits whole in memory;
 *   - files are made owned by the volume's uid:gid (when aegisd may), so the container that
 *     mounts the volume reads and writes them. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api-volume-files.h"
#include "api-volumes.h"
#include "api-request.h"
#include "json-util.h"
#include "log.h"
#include "util.h"
#include "volume-files.h"
#include "volume-userns.h"
#include "volume.h"

/* Multipart framing (boundaries, part headers) an upload's Content-Length may carry beyond
 * the file itself before it is refused up front; the exact bytes are counted as they come. */
#define MULTIPART_SLACK (64u * 1024)

/* Answers the errno of a file operation on path with the status that says what to do. */
static int answer_errno(HttpRequest *r, int k, const char *field, const char *path) {
        const char *p = isempty(path) ? "/" : path;

        switch (k) {
        case -EINVAL:
                return ANSWER_ERROR(
                        r, 400, field,
                        "%s \"%.200s\": a path inside the volume (\"/dir/file\"), without \"..\", "
                        "each name at most 255 bytes and the whole at most 4096",
                        field, p);
        case -ENOENT:
                return ANSWER_ERROR(r, 404, field, "%s \"%.200s\": no such file or directory in the volume",
                                    field, p);
        case -ELOOP:
                return ANSWER_ERROR(r, 400, field,
                                    "%s \"%.200s\" goes through a symbolic link: the file API never follows "
                                    "links; name the place the link points to instead",
                                    field, p);
        case -EXDEV:
                return ANSWER_ERROR(r, 400, field, "%s \"%.200s\" crosses into another file system", field,
                                    p);
        case -ENOTDIR:
                return ANSWER_ERROR(r, 400, field,
                                    "%s \"%.200s\": a part of it is not a directory (or is a symbolic link, "
                                    "which is never followed)",
                                    field, p);
        case -EISDIR:
                return ANSWER_ERROR(r, 409, field, "%s \"%.200s\" is a directory", field, p);
        case -EEXIST:
        case -ENOTEMPTY:
                return ANSWER_ERROR(r, 409, field,
                                    "%s \"%.200s\" exists already (and is not an empty directory)", field,
                                    p);
        case -ENAMETOOLONG:
                return ANSWER_ERROR(r, 400, field, "%s \"%.200s\": a name is too long", field, p);
        case -EACCES:
        case -EPERM:
                return ANSWER_ERROR(r, 403, field, "%s \"%.200s\": permission denied on the volume's files",
                                    field, p);
        case -ENOSPC:
        case -EDQUOT:
                return ANSWER_ERROR(r, 507, NULL, "the storage under storage.root is full: %s",
                                    strerror(-k));
        case -E2BIG:
                return ANSWER_ERROR(r, 400, field,
                                    "%s \"%.200s\": the directory holds more than %d entries; list a "
                                    "subdirectory",
                                    field, p, VOLUME_LIST_MAX);
        case -ENOLINK:
                log_warning("volumes: %s \"%s\": %s", field, p, volume_userns_strerror(k));
                return ANSWER_ERROR(r, 500, NULL, "%s", volume_userns_strerror(k));
        default:
                log_warning_errno(k, "volumes: %s \"%s\": %m", field, p);
                return ANSWER_ERROR(r, 500, field, "%s \"%.200s\": %s", field, p, strerror(-k));
        }
}

/* The volume of the route's {id} and its directory: 0 with *ret_v and *ret_vfd set, 1 once
 * answered, -EIO. */
static int open_volume_dir(HttpRequest *r, ApiContext *ctx, StoreVolume *ret_v, int *ret_vfd) {
        _cleanup_free_ char *dir = NULL;
        int k, fd;

        k = api_volume_open(r, ctx, ret_v);
        if (k != 0)
                return k;
        k = volume_path(ctx->config->storage.root, ret_v->tenant_id, ret_v->id, &dir);
        if (k < 0) {
                store_volume_done(ret_v);
                return k == -ENOMEM ? k : ANSWER_ERROR(r, 500, NULL, "bad volume path: %s", strerror(-k));
        }
        fd = volume_open_path(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (fd < 0) {
                k = fd;
                log_warning_errno(k, "volumes: cannot open %s: %s", dir, volume_userns_strerror(k));
                store_volume_done(ret_v);
                return ANSWER_ERROR(r, 500, NULL,
                                    "cannot open the volume's directory under storage.root: %s",
                                    volume_userns_strerror(k));
        }
        *ret_vfd = fd;
        return 0;
}

/* The split query ?path= (NULL = the root): 0, or 1 once answered (400). */
static int query_path(HttpRequest *r, const char *name, char ***ret) {
        int k = volume_path_split(http_request_query(r, name), ret);

        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return answer_errno(r, k, name, http_request_query(r, name));
        return 0;
}

/* open_volume_dir() and the split ?path=: 0, or 1 once answered, or a negative errno. */
static int open_volume_path(HttpRequest *r, ApiContext *ctx, StoreVolume *ret_v, int *ret_vfd,
                            char ***ret_comps) {
        int k = open_volume_dir(r, ctx, ret_v, ret_vfd);

        if (k != 0)
                return k;
        k = query_path(r, "path", ret_comps);
        if (k != 0) {
                store_volume_done(ret_v);
                *ret_vfd = safe_close(*ret_vfd);
        }
        return k;
}

static int add_time(struct json_object *o, const char *key, uint64_t usec) {
        char buf[TIMESTAMP_MAX];
        return json_add_string(o, key, format_timestamp(buf, sizeof buf, usec));
}

/* ---- list ---- */

static int list_files(HttpRequest *r, void *userdata) {
        _cleanup_(store_volume_done) StoreVolume v = {};
        _cleanup_strv_free_ char **comps = NULL;
        _cleanup_close_ int vfd = -EBADF, dfd = -EBADF;
        const char *path = http_request_query(r, "path");
        _cleanup_json_ struct json_object *o = NULL, *arr = NULL;
        VolumeEntry *e = NULL;
        size_t n = 0;
        int k;

        k = open_volume_path(r, userdata, &v, &vfd, &comps);
        if (k != 0)
                return k > 0 ? 0 : k;
        dfd = volume_open_beneath(vfd, comps, strv_length(comps), O_RDONLY | O_DIRECTORY);
        if (dfd < 0)
                return answer_errno(r, dfd, "path", path) > 0 ? 0 : -EIO;
        k = volume_list_dir(dfd, &e, &n);
        if (k < 0)
                return answer_errno(r, k, "path", path) > 0 ? 0 : -EIO;
        o = json_object_new_object();
        arr = json_object_new_array();
        k = o && arr ? 0 : -ENOMEM;
        if (k >= 0)
                k = json_add_string(o, "path", isempty(path) ? "/" : path);
        for (size_t i = 0; k >= 0 && i < n; i++) {
                struct json_object *it = json_object_new_object();
                if (!it || json_object_array_add(arr, it) < 0) {
                        json_object_put(it);
                        k = -ENOMEM;
                        break;
                }
                k = json_add_string(it, "name", e[i].name);
                if (k >= 0)
                        k = json_add_string(it, "type", volume_file_type_to_string(e[i].type));
                if (k >= 0)
                        k = json_add_int(it, "size_bytes", (int64_t) e[i].size);
                if (k >= 0)
                        k = add_time(it, "modified_at", e[i].mtime_usec);
        }
        volume_entry_array_free(e, n);
        if (k >= 0)
                k = json_add_obj(o, "entries", TAKE_PTR(arr));
        if (k >= 0)
                k = json_add_int(o, "count", (int64_t) n);
        if (k < 0)
                return -ENOMEM;
        return http_respond_json(r, 200, o);
}

/* ---- download ---- */

/* Answers the regular file comps names beneath vfd (path: as the client spelled it). */
static int respond_file_beneath(HttpRequest *r, int vfd, char *const *comps, const char *path) {
        size_t n = strv_length(comps);
        struct stat st;
        int fd;

        if (n == 0)
                return http_respond_error(r, 400, "path",
                                          "path: name the file to download (\"?path=/dir/file\")");
        /* O_NONBLOCK: a FIFO planted in the volume must not hang the daemon. */
        fd = volume_open_beneath(vfd, comps, n, O_RDONLY | O_NONBLOCK);
        if (fd < 0)
                return answer_errno(r, fd, "path", path) > 0 ? 0 : -EIO;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                bool dir = S_ISDIR(st.st_mode);
                (void) close(fd);
                return http_respond_error(r, 400, "path",
                                          "path \"%.200s\" is %s: only regular files can be downloaded%s",
                                          path, dir ? "a directory" : "not a regular file",
                                          dir ? " (list it with GET …/files?path=)" : "");
        }
        return http_respond_file(r, fd, "application/octet-stream", comps[n - 1]);
}

static int download_file(HttpRequest *r, void *userdata) {
        _cleanup_(store_volume_done) StoreVolume v = {};
        _cleanup_strv_free_ char **comps = NULL;
        _cleanup_close_ int vfd = -EBADF;
        int k;

        k = open_volume_path(r, userdata, &v, &vfd, &comps);
        if (k != 0)
                return k > 0 ? 0 : k;
        return respond_file_beneath(r, vfd, comps, http_request_query(r, "path"));
}

/* GET /v1/executions/{id}/files/{path*} (the reference's route): a file of a volume the
 * execution owns (its spec.volumes), ?volume=NAME when it owns several. An execution of
 * another tenant is 404 exactly as a missing one. */
static int execution_file(HttpRequest *r, void *userdata) {
        ApiContext *ctx = userdata;
        const char *id = http_request_param(r, "id"), *path = http_request_param(r, "path");
        const char *name = http_request_query(r, "volume");
        StoreVolumeFilter f = STORE_VOLUME_FILTER_INIT;
        _cleanup_strv_free_ char **comps = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int vfd = -EBADF;
        StoreExecution e = { 0 };
        StoreVolume *a = NULL, *v = NULL;
        size_t n = 0;
        int k;

        k = store_execution_get(ctx->store, id, &e);
        if (k >= 0 && !streq_ptr(e.tenant_id, http_request_tenant(r)))
                k = -ENOENT;
        store_execution_done(&e);
        if (k == -ENOENT)
                return http_respond_error(r, 404, NULL, "no execution %s", id);
        if (k < 0)
                return http_respond_error(r, 503, NULL, "cannot read the execution: %s", strerror(-k));
        k = volume_path_split(path, &comps);
        if (k < 0)
                return k == -ENOMEM ? k : (answer_errno(r, k, "path", path) > 0 ? 0 : -EIO);
        f.tenant_id = http_request_tenant(r);
        f.owner_execution_id = id;
        f.status = VOLUME_ACTIVE;
        k = store_volume_list(ctx->store, &f, &a, &n);
        if (k < 0)
                return http_respond_error(r, 503, NULL, "cannot list the execution's volumes: %s",
                                          strerror(-k));
        for (size_t i = 0; i < n; i++)
                if (name ? streq(a[i].name, name) : n == 1)
                        v = &a[i];
        if (!v) {
                k = n == 0 ? http_respond_error(r, 404, "volume",
                                                "execution %s has no volume (any more): its files lived in "
                                                "its spec.volumes",
                                                id)
                    : name ? http_respond_error(r, 404, "volume", "execution %s has no volume named \"%s\"",
                                                id, name)
                           : http_respond_error(r, 400, "volume",
                                                "execution %s has %zu volumes: name one with ?volume=NAME",
                                                id, n);
                store_volume_array_free(a, n);
                return k;
        }
        k = volume_path(ctx->config->storage.root, v->tenant_id, v->id, &dir);
        store_volume_array_free(a, n);
        if (k < 0)
                return k;
        vfd = volume_open_path(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (vfd == -ENOLINK)
                return http_respond_error(r, 500, NULL, "%s", volume_userns_strerror(vfd));
        if (vfd < 0)
                return http_respond_error(r, 404, "volume", "the volume's directory is gone: %s",
                                          strerror(-vfd));
        return respond_file_beneath(r, vfd, comps, path);
}

/* ---- upload ---- */

typedef struct Upload {
        ApiContext *ctx;
        char volume_id[UUID_STRING_MAX];
        int dfd; /* the directory the file lands in */
        int fd; /* the temporary */
        char tmp[VOLUME_TMP_NAME_MAX];
        char *name; /* the target's name in dfd; NULL until a multipart file name gives it */
        char *path; /* as the client will see it */
        uint64_t written;
        uint64_t room; /* bytes the quota leaves for this file; UINT64_MAX = unlimited */
        bool multipart, seen_file, failed;
} Upload;

static void upload_free(Upload *u) {
        if (!u)
                return;
        if (u->fd >= 0)
                (void) close(u->fd);
        if (u->tmp[0])
                (void) volume_unlink_at(u->dfd, u->tmp);
        safe_close(u->dfd);
        free(u->name);
        free(u->path);
        free(u);
}

static void upload_closed(void *userdata) {
        upload_free(userdata);
}

static bool file_name_is_valid(const char *s) {
        return !isempty(s) && strlen(s) <= NAME_MAX && !strchr(s, '/') && !streq(s, ".") &&
               !streq(s, "..") && !startswith(s, VOLUME_UPLOAD_TMP_PREFIX);
}

static int upload_data(HttpRequest *r, const char *field, const char *filename, const void *data,
                       size_t size, void *userdata) {
        Upload *u = userdata;
        int k;

        if (u->multipart && !streq(field, "file"))
                return 0; /* other form fields: not ours */
        if (!u->seen_file) {
                u->seen_file = true;
                if (!u->name) {
                        if (!file_name_is_valid(filename))
                                return ANSWER_ERROR(
                                        r, 400, "path",
                                        "path names a directory and the upload has no usable file "
                                        "name (\"%.100s\"): name the file in path",
                                        strempty(filename));
                        u->name = strdup(filename);
                        if (!u->name)
                                return -ENOMEM;
                }
        }
        u->written += size;
        if (u->written > u->room)
                return ANSWER_ERROR(r, 413, "file",
                                    "the upload passes volume %s's size_limit: %" PRIu64
                                    " bytes are left; delete files or create a larger volume",
                                    u->volume_id, u->room);
        k = write_all(u->fd, data, size);
        if (k < 0)
                return answer_errno(r, k, "file", u->path);
        return 0;
}

static int upload_end(HttpRequest *r, void *userdata) {
        Upload *u = userdata;
        _cleanup_json_ struct json_object *o = NULL;
        int k;

        if (u->multipart && !u->seen_file) {
                upload_free(u);
                return http_respond_error(r, 400, "file",
                                          "the form has no field \"file\": send the file as file=@PATH");
        }
        if (!u->name) { /* a directory path and an empty raw body */
                upload_free(u);
                return http_respond_error(r, 400, "path", "path names a directory: name the file in path");
        }
        if (close(u->fd) < 0) {
                k = -errno;
                u->fd = -EBADF;
                upload_free(u);
                return answer_errno(r, k, "file", NULL) > 0 ? 0 : -EIO;
        }
        u->fd = -EBADF;
        k = volume_rename_at(u->dfd, u->tmp, u->dfd, u->name);
        if (k < 0) {
                upload_free(u);
                return answer_errno(r, k == -ENOTEMPTY ? -EISDIR : k, "path",
                                    http_request_query(r, "path")) > 0
                               ? 0
                               : -EIO;
        }
        u->tmp[0] = '\0';
        log_info("volumes: %s: uploaded %s (%" PRIu64 " bytes)", u->volume_id, u->name, u->written);
        o = json_object_new_object();
        k = o ? 0 : -ENOMEM;
        if (k >= 0)
                k = json_add_string(o, "name", u->name);
        if (k >= 0)
                k = json_add_string(o, "path", u->path);
        if (k >= 0)
                k = json_add_int(o, "size_bytes", (int64_t) u->written);
        if (k >= 0)
                k = add_time(o, "uploaded_at", now_usec(CLOCK_REALTIME));
        upload_free(u);
        if (k < 0)
                return -ENOMEM;
        return http_respond_json(r, 201, o);
}

static int upload_file(HttpRequest *r, void *userdata) {
        ApiContext *ctx = userdata;
        _cleanup_(store_volume_done) StoreVolume v = {};
        _cleanup_strv_free_ char **comps = NULL;
        _cleanup_close_ int vfd = -EBADF;
        const char *path = http_request_query(r, "path");
        const char *ct = http_request_header(r, "Content-Type");
        const char *cl = http_request_header(r, "Content-Length");
        Upload *u;
        struct stat st;
        uint64_t used = 0, old = 0, length;
        bool into_dir;
        size_t n;
        int k;

        k = open_volume_path(r, ctx, &v, &vfd, &comps);
        if (k != 0)
                return k > 0 ? 0 : k;
        n = strv_length(comps);

        u = calloc(1, sizeof *u);
        if (!u)
                return -ENOMEM;
        u->ctx = ctx;
        u->dfd = u->fd = -EBADF;
        u->room = UINT64_MAX;
        u->multipart = ct && startswith(ct, "multipart/");
        memcpy(u->volume_id, v.id, sizeof u->volume_id);

        /* Into a directory (the root, a trailing "/", an existing directory) the multipart
         * file name names the file; else the last component does. */
        into_dir = n == 0 || endswith(path, "/");
        if (!into_dir) {
                _cleanup_close_ int fd = volume_open_beneath(vfd, comps, n, O_PATH);
                if (fd >= 0 && fstat(fd, &st) >= 0) {
                        into_dir = S_ISDIR(st.st_mode);
                        old = S_ISREG(st.st_mode) ? (uint64_t) st.st_size : 0;
                }
        }
        if (into_dir) {
                k = volume_mkdir_p(vfd, comps, n, v.uid, v.gid);
                if (k >= 0) {
                        u->dfd = volume_open_beneath(vfd, comps, n, O_RDONLY | O_DIRECTORY);
                        k = u->dfd < 0 ? u->dfd : 0;
                }
        } else {
                if (!file_name_is_valid(comps[n - 1]))
                        k = -EINVAL;
                else
                        k = volume_open_parent(vfd, comps, n, true, v.uid, v.gid, &u->dfd);
                if (k >= 0) {
                        u->name = strdup(comps[n - 1]);
                        k = u->name ? 0 : -ENOMEM;
                }
        }
        u->path = strdup(isempty(path) ? "/" : path);
        if (k >= 0 && !u->path)
                k = -ENOMEM;
        if (k < 0) {
                upload_free(u);
                return k == -ENOMEM ? k : (answer_errno(r, k, "path", path) > 0 ? 0 : -EIO);
        }

        if (v.size_limit > 0) {
                k = volume_dir_bytes_used(ctx->config->storage.root, v.tenant_id, v.id, &used);
                if (k < 0) {
                        upload_free(u);
                        return answer_errno(r, k, "path", path) > 0 ? 0 : -EIO;
                }
                used -= MIN(used, old); /* a file replaced frees its bytes */
                u->room = used >= v.size_limit ? 0 : v.size_limit - used;
                /* Refused before a byte is read when it cannot fit. */
                if (cl && safe_atou64(cl, &length) >= 0 &&
                    length > u->room + (u->multipart ? MULTIPART_SLACK : 0)) {
                        uint64_t room = u->room;
                        upload_free(u);
                        return http_respond_error(r, 413, "file",
                                                  "the upload (%" PRIu64
                                                  " bytes) passes volume %s's size_limit "
                                                  "of %" PRIu64 " bytes: %" PRIu64
                                                  " are left; delete files or create a larger volume",
                                                  length, v.id, v.size_limit, room);
                }
        }
        k = volume_tmpfile_at(u->dfd, v.uid, v.gid, u->tmp, &u->fd);
        if (k < 0) {
                u->tmp[0] = '\0';
                upload_free(u);
                return answer_errno(r, k, "path", path) > 0 ? 0 : -EIO;
        }
        k = http_request_stream_body(r, upload_data, upload_end, upload_closed, u);
        if (k < 0) {
                upload_free(u);
                if (k == -EBADMSG)
                        return http_respond_error(r, 400, "Content-Type",
                                                  "multipart/form-data without a boundary: let the client "
                                                  "build the form (curl -F file=@PATH)");
                return k;
        }
        return 0;
}

/* ---- mkdir, move, delete ---- */

/* The JSON object body: 0, or 1 once answered (400). */
static int parse_body(HttpRequest *r, struct json_object **ret) {
        int k;

        k = api_parse_json_body(r, ret);
        if (k < 0)
                return k == -ENOMEM ? k : 1;
        if (!json_object_is_type(*ret, json_type_object)) {
                json_object_put(*ret);
                return ANSWER_ERROR(r, 400, NULL, "the request body must be a JSON object");
        }
        return 0;
}

/* A string member split as a path that is not the root: 0, or 1 once answered. */
static int body_path(HttpRequest *r, struct json_object *body, const char *key, const char **ret_text,
                     char ***ret) {
        struct json_object *v;
        int k;

        if (!json_object_object_get_ex(body, key, &v) || !json_object_is_type(v, json_type_string))
                return ANSWER_ERROR(r, 400, key, "%s is required: a path inside the volume (\"/dir/name\")",
                                    key);
        *ret_text = json_object_get_string(v);
        k = volume_path_split(*ret_text, ret);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return answer_errno(r, k, key, *ret_text);
        if (!(*ret)[0]) {
                strv_free(TAKE_PTR(*ret));
                return ANSWER_ERROR(r, 400, key, "%s: the volume's root cannot be created, moved or removed",
                                    key);
        }
        return 0;
}

static int make_directory(HttpRequest *r, void *userdata) {
        _cleanup_(store_volume_done) StoreVolume v = {};
        _cleanup_strv_free_ char **comps = NULL;
        _cleanup_close_ int vfd = -EBADF;
        _cleanup_json_ struct json_object *o = NULL;
        struct json_object *body = NULL;
        const char *path;
        int k;

        k = open_volume_dir(r, userdata, &v, &vfd);
        if (k != 0)
                return k > 0 ? 0 : k;
        k = parse_body(r, &body);
        if (k != 0)
                return k > 0 ? 0 : k;
        k = body_path(r, body, "path", &path, &comps);
        if (k == 0) {
                k = volume_mkdir_p(vfd, comps, strv_length(comps), v.uid, v.gid);
                if (k < 0)
                        k = answer_errno(r, k, "path", path);
        }
        if (k != 0) {
                json_object_put(body);
                return k > 0 ? 0 : k;
        }
        o = json_object_new_object();
        k = o ? json_add_string(o, "path", path) : -ENOMEM;
        json_object_put(body);
        if (k < 0)
                return k;
        return http_respond_json(r, 201, o);
}

static int move_file(HttpRequest *r, void *userdata) {
        _cleanup_(store_volume_done) StoreVolume v = {};
        _cleanup_strv_free_ char **from = NULL, **to = NULL;
        _cleanup_close_ int vfd = -EBADF, fdfd = -EBADF, tdfd = -EBADF;
        _cleanup_json_ struct json_object *o = NULL;
        struct json_object *body = NULL;
        const char *from_text = NULL, *to_text = NULL;
        int k;

        k = open_volume_dir(r, userdata, &v, &vfd);
        if (k != 0)
                return k > 0 ? 0 : k;
        k = parse_body(r, &body);
        if (k != 0)
                return k > 0 ? 0 : k;
        k = body_path(r, body, "from", &from_text, &from);
        if (k == 0)
                k = body_path(r, body, "to", &to_text, &to);
        if (k == 0 && (startswith(to[strv_length(to) - 1], VOLUME_UPLOAD_TMP_PREFIX)))
                k = answer_errno(r, -EINVAL, "to", to_text);
        if (k == 0) {
                k = volume_open_parent(vfd, from, strv_length(from), false, v.uid, v.gid, &fdfd);
                if (k < 0)
                        k = answer_errno(r, k, "from", from_text);
        }
        if (k == 0) {
                k = volume_open_parent(vfd, to, strv_length(to), true, v.uid, v.gid, &tdfd);
                if (k < 0)
                        k = answer_errno(r, k, "to", to_text);
        }
        if (k == 0) {
                k = volume_rename_at(fdfd, from[strv_length(from) - 1], tdfd, to[strv_length(to) - 1]);
                if (k < 0)
                        k = answer_errno(r, k, k == -ENOENT ? "from" : "to",
                                         k == -ENOENT ? from_text : to_text);
        }
        if (k == 0) {
                o = json_object_new_object();
                if (!o || json_add_string(o, "from", from_text) < 0 || json_add_string(o, "to", to_text) < 0)
                        k = -ENOMEM;
        }
        json_object_put(body);
        if (k != 0)
                return k > 0 ? 0 : k;
        return http_respond_json(r, 200, o);
}

static int delete_file(HttpRequest *r, void *userdata) {
        _cleanup_(store_volume_done) StoreVolume v = {};
        _cleanup_strv_free_ char **comps = NULL;
        _cleanup_close_ int vfd = -EBADF, dfd = -EBADF;
        const char *path = http_request_query(r, "path");
        _cleanup_json_ struct json_object *o = NULL;
        size_t n;
        int k;

        k = open_volume_path(r, userdata, &v, &vfd, &comps);
        if (k != 0)
                return k > 0 ? 0 : k;
        n = strv_length(comps);
        if (n == 0)
                return http_respond_error(r, 400, "path",
                                          "path: name what to delete; the volume's root goes only with the "
                                          "volume (DELETE /v1/volumes/{id})");
        k = volume_open_parent(vfd, comps, n, false, v.uid, v.gid, &dfd);
        if (k >= 0)
                k = volume_remove_at(dfd, comps[n - 1]);
        if (k < 0)
                return answer_errno(r, k, "path", path) > 0 ? 0 : -EIO;
        o = json_object_new_object();
        if (!o || json_add_string(o, "status", "deleted") < 0 || json_add_string(o, "path", path) < 0)
                return -ENOMEM;
        return http_respond_json(r, 200, o);
}

const HttpRoute api_volume_files_routes[] = {
        { HTTP_GET, "/v1/volumes/{id}/files", list_files },
        { HTTP_DELETE, "/v1/volumes/{id}/files", delete_file },
        { HTTP_GET, "/v1/volumes/{id}/files/download", download_file },
        { HTTP_POST, "/v1/volumes/{id}/files/upload", upload_file, HTTP_ROUTE_UPLOAD },
        { HTTP_POST, "/v1/volumes/{id}/files/mkdir", make_directory },
        { HTTP_POST, "/v1/volumes/{id}/files/move", move_file },
        { HTTP_GET, "/v1/executions/{id}/files/{path*}", execution_file },
        {},
};
