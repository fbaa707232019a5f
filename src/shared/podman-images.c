/* podman-images.c — image inspect and "ensure present" under a pull policy, with registry
 * credentials and streamed progress.
 *
 * A pull is the one engine call that depends on the outside world (a hung registry once
 * blocked every execution of the reference runtime): it is always bounded by the caller's
 * timeout, and an error the engine reports inside the 200 stream fails it with that text. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "podman-internal.h"
#include "podman-sync.h"
#include "util.h"

#define PULL_LINE_MAX (64U * 1024U)
#define PULL_LAYERS_MAX 512U /* layers tracked for the progress sums; more are not counted */
#define PULL_SIZE_MAX (INT64_C(1) << 50) /* a layer's size or offset above this is ignored */
#define AUTH_FILE_MAX (1024U * 1024U)

void podman_image_done(PodmanImage *i) {
        if (!i)
                return;
        free(i->reference);
        *i = (PodmanImage){ 0 };
}

/* References go into paths unescaped (the engines route /images/{name:.*}/json), so only the
 * characters a reference can hold are accepted. */
static bool reference_ok(const char *r) {
        size_t n = r ? strlen(r) : 0;

        return n > 0 && n <= 255 && r[0] != '/' && r[0] != '-' &&
               strspn(r, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:@-") == n &&
               !strstr(r, "..");
}

/* --- registry credentials --------------------------------------------------------------- */

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *base64_encode(const void *data, size_t n, const char *alphabet) {
        const uint8_t *p = data;
        char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t) p[i] << 16 | (i + 1 < n ? (uint32_t) p[i + 1] << 8 : 0) |
                             (i + 2 < n ? p[i + 2] : 0);
                *o++ = alphabet[v >> 18 & 63];
                *o++ = alphabet[v >> 12 & 63];
                *o++ = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
                *o++ = i + 2 < n ? alphabet[v & 63] : '=';
        }
        *o = '\0';
        return out;
}

static char *base64_decode(const char *s) {
        size_t n = strlen(s), j = 0;
        char *out = malloc(n / 4 * 3 + 4);
        uint32_t acc = 0;
        int bits = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n && s[i] != '='; i++) {
                const char *c = strchr(b64std, s[i]);
                if (!c || !s[i]) {
                        free(out);
                        return NULL;
                }
                acc = acc << 6 | (uint32_t) (c - b64std);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[j++] = (char) (acc >> bits & 0xff);
                }
        }
        out[j] = '\0';
        return out;
}

/* "quay.io/org/img:1" → "quay.io"; "busybox" → "docker.io". */
static char *reference_registry(const char *ref) {
        const char *slash = strchr(ref, '/');
        char *first;

        if (!slash)
                return strdup("docker.io");
        first = strndup(ref, slash - ref);
        if (first && !strchr(first, '.') && !strchr(first, ':') && !streq(first, "localhost")) {
                free(first);
                return strdup("docker.io");
        }
        return first;
}

/* An auths key, normalised: no scheme, no "/v1/"-style suffix, Docker Hub's aliases folded. */
static char *auth_key_normalise(const char *k) {
        const char *p = startswith(k, "https://") ?: startswith(k, "http://") ?: k;
        char *n = strdup(p);
        size_t len;

        if (!n)
                return NULL;
        len = strlen(n);
        while (len > 0 && n[len - 1] == '/')
                n[--len] = '\0';
        if (endswith(n, "/v1") || endswith(n, "/v2"))
                n[len - 3] = '\0';
        if (streq(n, "index.docker.io") || streq(n, "registry-1.docker.io")) {
                free(n);
                return strdup("docker.io");
        }
        return n;
}

static int auth_from_file(const char *path, const char *ref, const char *registry, char **ret) {
        _cleanup_free_ char *data = NULL, *best_auth = NULL, *best_token = NULL;
        json_object *j, *auths;
        size_t best_len = 0, size;
        int r;

        _cleanup_free_ char *full = NULL;

        /* Docker Hub short names are matched in their full spelling. */
        full = streq(registry, "docker.io") && !startswith(ref, "docker.io/")
                       ? asprintf_safe("docker.io/%s", ref)
                       : strdup(ref);
        if (!full)
                return -ENOMEM;
        r = read_full_file(path, AUTH_FILE_MAX, &data, &size);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        j = json_tokener_parse(data);
        auths = json_get(j, "auths");
        if (!auths || !json_object_is_type(auths, json_type_object)) {
                json_object_put(j);
                return -EBADMSG;
        }
        json_object_object_foreach (auths, key, entry) {
                _cleanup_free_ char *k = auth_key_normalise(key);
                const char *rest;
                size_t klen;
                if (!k)
                        continue;
                klen = strlen(k);
                /* The registry itself, or a repository namespace of it ("quay.io/org"). */
                if (!streq(k, registry) && !((rest = startswith(full, k)) && rest[0] == '/'))
                        continue;
                if (klen < best_len)
                        continue;
                best_len = klen;
                free(best_auth);
                free(best_token);
                best_auth = strdup_or_null(json_get_string(entry, "auth"));
                best_token = strdup_or_null(json_get_string(entry, "identitytoken"));
        }
        json_object_put(j);
        if (best_len == 0)
                return 0;

        json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        if (best_auth) {
                _cleanup_free_ char *plain = base64_decode(best_auth);
                char *colon = plain ? strchr(plain, ':') : NULL;
                if (!colon) {
                        json_object_put(o);
                        return -EBADMSG;
                }
                *colon = '\0';
                json_object_object_add(o, "username", json_object_new_string(plain));
                json_object_object_add(o, "password", json_object_new_string(colon + 1));
        }
        if (best_token)
                json_object_object_add(o, "identitytoken", json_object_new_string(best_token));
        json_object_object_add(o, "serveraddress", json_object_new_string(registry));
        {
                size_t n;
                const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
                *ret = s ? base64_encode(s, n, b64url) : NULL;
        }
        json_object_put(o);
        return *ret ? 1 : -ENOMEM;
}

int podman_registry_auth_header(const char *reference, char **ret, Error *e) {
        _cleanup_free_ char *registry = NULL, *xdg = NULL, *docker = NULL;
        const char *env = getenv("REGISTRY_AUTH_FILE"), *rt = getenv("XDG_RUNTIME_DIR"),
                   *home = getenv("HOME");
        const char *files[3];
        size_t n = 0;

        *ret = NULL;
        if (!reference_ok(reference))
                return error_set_field(e, -EINVAL, "image", "image: \"%s\" is not a valid image reference",
                                       strempty(reference));
        registry = reference_registry(reference);
        if (!registry)
                return error_set(e, -ENOMEM, "out of memory");
        if (!isempty(env))
                files[n++] = env;
        if (!isempty(rt) && (xdg = path_join(rt, "containers/auth.json")))
                files[n++] = xdg;
        if (!isempty(home) && (docker = path_join(home, ".docker/config.json")))
                files[n++] = docker;
        for (size_t i = 0; i < n; i++) {
                int r = auth_from_file(files[i], reference, registry, ret);
                if (r == -EBADMSG)
                        return error_set(e, r,
                                         "registry credentials file %s is not valid (expected {\"auths\": "
                                         "{\"<registry>\": {\"auth\": \"<base64 user:password>\"}}})",
                                         files[i]);
                if (r < 0 && r != -EACCES)
                        return error_set(e, r, "cannot read registry credentials file %s: %s", files[i],
                                         strerror(-r));
                if (r > 0)
                        return 1;
        }
        return 0;
}

/* --- inspect ---------------------------------------------------------------------------- */

static int image_from_json(PodmanCall *call, const char *reference, PodmanImage *ret, Error *e) {
        json_object *j = podman_call_json(call);
        const char *id = json_get_string(j, "Id");
        int64_t size;

        if (!id) {
                json_object_put(j);
                return podman_call_bad_answer(call, e, "no image \"Id\"");
        }
        *ret = (PodmanImage){ 0 };
        (void) snprintf(ret->id, sizeof ret->id, "%s", id);
        size = json_get_int(j, "Size", NULL);
        ret->size_bytes = size > 0 ? (uint64_t) size : 0;
        json_object_put(j);
        ret->reference = strdup(reference);
        if (!ret->reference)
                return error_set(e, -ENOMEM, "out of memory");
        return 0;
}

/* One layer of a pull, as the engine's progress lines named it. */
typedef struct PullLayer {
        char id[72];
        uint64_t current;
        uint64_t total; /* 0: not said yet */
        bool done;
} PullLayer;

typedef struct EnsureState {
        char *reference;
        ImagePullPolicy policy;
        uint64_t pull_timeout_usec;
        podman_pull_progress_fn progress;
        char *auth;
        char *line;
        size_t line_size;
        PullLayer *layers;
        size_t n_layers;
        bool pulled;
} EnsureState;

static void ensure_state_free(void *p) {
        EnsureState *s = p;

        if (!s)
                return;
        free(s->reference);
        free(s->auth);
        free(s->line);
        free(s->layers);
        free(s);
}

static void ensure_report(PodmanCall *call, int r, const PodmanImage *img, const Error *e) {
        ((podman_image_fn) call->cb)(r, r >= 0 ? img : NULL, r < 0 ? e : NULL, call->userdata);
}

/* The layer called id, added when a line starts one (NULL when it does not, or the table is
 * full). The engine's last line names the image by the same kind of short id: it is not a
 * layer, and it only says "Download complete", which starts none. */
static PullLayer *pull_layer(EnsureState *s, const char *id, bool starts) {
        PullLayer *l;

        if (isempty(id) || strlen(id) >= sizeof l->id)
                return NULL;
        for (size_t i = 0; i < s->n_layers; i++)
                if (streq(s->layers[i].id, id))
                        return &s->layers[i];
        if (!starts || s->n_layers >= PULL_LAYERS_MAX)
                return NULL;
        if (!s->layers && !(s->layers = calloc(PULL_LAYERS_MAX, sizeof *s->layers)))
                return NULL;
        l = &s->layers[s->n_layers++];
        (void) snprintf(l->id, sizeof l->id, "%s", id);
        return l;
}

/* Folds one progress line into the layer table and reports the sums. */
static void pull_progress(PodmanCall *call, json_object *j) {
        static const char *const starting[] = { "Pulling fs layer",   "Waiting",        "Downloading",
                                                "Verifying Checksum", "Already exists", "Extracting" };
        static const char *const finishing[] = { "Download complete", "Pull complete", "Already exists" };
        EnsureState *s = call->state;
        const char *status = json_get_string(j, "status") ?: json_get_string(j, "stream"),
                   *id = strempty(json_get_string(j, "id"));
        json_object *detail = json_get(j, "progressDetail");
        PodmanPullProgress p = { .status = status, .layer = id };
        bool starts = false, finishes = false;
        PullLayer *l;

        for (size_t i = 0; i < ELEMENTSOF(starting); i++)
                starts = starts || streq(status, starting[i]);
        for (size_t i = 0; i < ELEMENTSOF(finishing); i++)
                finishes = finishes || streq(status, finishing[i]);
        l = json_get_string(j, "status") ? pull_layer(s, id, starts) : NULL;
        if (l) {
                int64_t cur = json_get_int(detail, "current", NULL),
                        tot = json_get_int(detail, "total", NULL);
                /* Sizes come from the registry: past PULL_SIZE_MAX they are nonsense, and the
                 * sums must not wrap. */
                if (tot > 0 && tot <= PULL_SIZE_MAX)
                        l->total = (uint64_t) tot;
                if (cur > 0 && cur <= PULL_SIZE_MAX && (uint64_t) cur > l->current &&
                    streq(status, "Downloading"))
                        l->current = (uint64_t) cur;
                if (finishes)
                        l->done = true;
                if (l->done && l->total > 0)
                        l->current = l->total;
                if (l->total > 0 && l->current > l->total)
                        l->current = l->total;
        }
        for (size_t i = 0; i < s->n_layers; i++) {
                p.bytes_done += s->layers[i].current;
                p.bytes_total += s->layers[i].total;
                p.layers_done += s->layers[i].done;
        }
        p.layers_total = (unsigned) s->n_layers;
        s->progress(&p, call->userdata);
}

static int pull_line(PodmanCall *call, const char *line) {
        EnsureState *s = call->state;
        json_object *j = json_tokener_parse(line);
        const char *err =
                json_get_string(j, "error") ?: json_get_string(json_get(j, "errorDetail"), "message");

        if (err) {
                error_set(&call->data_error, -EIO, "pulling image %s failed: %s", s->reference, err);
                call->data_error.http_status = 502;
                json_object_put(j);
                return -EIO;
        }
        if (s->progress && (json_get_string(j, "status") || json_get_string(j, "stream")))
                pull_progress(call, j);
        json_object_put(j);
        return 0;
}

static int pull_sink(PodmanCall *call, const char *p, size_t n) {
        EnsureState *s = call->state;

        for (size_t i = 0; i < n; i++) {
                if (p[i] == '\n' || p[i] == '\r') {
                        if (s->line_size > 0) {
                                s->line[s->line_size] = '\0';
                                s->line_size = 0;
                                if (pull_line(call, s->line) < 0)
                                        return -EIO;
                        }
                        continue;
                }
                if (s->line_size + 1 >= PULL_LINE_MAX) {
                        error_set(&call->data_error, -EFBIG,
                                  "pulling image %s: a progress line exceeds %u bytes", s->reference,
                                  PULL_LINE_MAX);
                        return -EFBIG;
                }
                if (!s->line && !(s->line = malloc(PULL_LINE_MAX))) {
                        error_set(&call->data_error, -ENOMEM, "out of memory");
                        return -ENOMEM;
                }
                s->line[s->line_size++] = p[i];
        }
        return 0;
}

static int start_inspect(PodmanCall *prev, PodmanClient *c, const char *reference, podman_finish_fn finish,
                         PodmanCall **ret);

static void ensure_after_pull_inspect(PodmanCall *call, int r, Error *e) {
        EnsureState *s = call->state;
        PodmanImage img = { 0 };

        if (r == -ENOENT)
                r = error_set(e, -ENOENT,
                              "image %s: the pull finished but the engine does not have the image",
                              s->reference);
        if (r >= 0)
                r = image_from_json(call, s->reference, &img, e);
        ensure_report(call, r, &img, e);
        podman_image_done(&img);
}

static void ensure_pull_finish(PodmanCall *call, int r, Error *e) {
        EnsureState *s = call->state;
        PodmanCall *next;

        if (r >= 0 && s->line_size > 0) {
                s->line[s->line_size] = '\0';
                s->line_size = 0;
                if (pull_line(call, s->line) < 0) {
                        *e = call->data_error;
                        r = e->code;
                }
        }
        if (r < 0) {
                if (r == -ETIMEDOUT)
                        (void) error_set(e, r,
                                         "pulling image %s did not finish within %.0f s "
                                         "(runtime.image_pull_timeout_secs): is the registry reachable?",
                                         s->reference, (double) s->pull_timeout_usec / USEC_PER_SEC);
                else if (!strstr(e->message, s->reference))
                        (void) error_prefix(e, "pulling image %s", s->reference);
                ensure_report(call, r, NULL, e);
                return;
        }
        r = start_inspect(call, call->client, s->reference, ensure_after_pull_inspect, &next);
        if (r < 0)
                ensure_report(call, error_set(e, r, "out of memory"), NULL, e);
}

static int make_pull_call(PodmanClient *c, EnsureState *s, PodmanCall **ret) {
        _cleanup_free_ char *path = NULL, *eref = podman_escape(s->reference), *h = NULL;
        PodmanCall *call;
        int r;

        path = eref ? asprintf_safe("/images/create?fromImage=%s", eref) : NULL;
        if (!path)
                return -ENOMEM;
        r = podman_call_new(c, "POST", path, s->pull_timeout_usec, &call);
        if (r < 0)
                return r;
        if (s->auth) {
                h = asprintf_safe("X-Registry-Auth: %s", s->auth);
                if (!h || podman_call_add_header(call, h) < 0) {
                        podman_call_free(call);
                        return -ENOMEM;
                }
        }
        call->sink = pull_sink;
        *ret = call;
        return 0;
}

static int start_pull(PodmanCall *prev) {
        EnsureState *s = prev->state;
        PodmanCall *call;
        int r = make_pull_call(prev->client, prev->state, &call);

        if (r < 0)
                return r;
        if (s->progress) /* the caller learns that a pull begins, even one failing at once */
                s->progress(&(PodmanPullProgress){ .status = "pulling", .layer = "" }, prev->userdata);
        return podman_call_continue(prev, call, ensure_pull_finish);
}

static void ensure_inspect_finish(PodmanCall *call, int r, Error *e) {
        EnsureState *s = call->state;
        PodmanImage img = { 0 };

        if (r == -ENOENT) {
                if (s->policy == IMAGE_PULL_NEVER) {
                        r = error_set_field(
                                e, -ENOENT, "spec.runtime.image_pull_policy",
                                "image %s is not present and image_pull_policy is Never, so it is not "
                                "pulled: pull it first (`podman pull %s`) or set "
                                "spec.runtime.image_pull_policy to IfNotPresent",
                                s->reference, s->reference);
                        e->http_status = 422;
                        ensure_report(call, r, NULL, e);
                        return;
                }
                r = start_pull(call);
                if (r < 0)
                        ensure_report(call, error_set(e, r, "cannot start pulling %s", s->reference), NULL,
                                      e);
                return;
        }
        if (r >= 0)
                r = image_from_json(call, s->reference, &img, e);
        ensure_report(call, r, &img, e);
        podman_image_done(&img);
}

static int start_inspect(PodmanCall *prev, PodmanClient *c, const char *reference, podman_finish_fn finish,
                         PodmanCall **ret) {
        _cleanup_free_ char *path = asprintf_safe("/images/%s/json", reference);
        PodmanCall *call;
        int r;

        if (!path)
                return -ENOMEM;
        r = podman_call_new(c, "GET", path, 0, &call);
        if (r < 0)
                return r;
        *ret = call;
        if (prev)
                return podman_call_continue(prev, call, finish);
        return 0;
}

/* Starts the inspect of s->reference on c, s the call's state (freed with the call, or here when
 * it cannot start): how ensure (other than "always") and inspect begin. */
static int start_inspect_with_state(PodmanClient *c, EnsureState *s, podman_finish_fn finish,
                                    podman_image_fn cb, void *userdata, PodmanOp **ret_op) {
        PodmanCall *call;
        int r;

        r = start_inspect(NULL, c, s->reference, NULL, &call);
        if (r < 0) {
                ensure_state_free(s);
                return r;
        }
        call->state = s;
        call->free_state = ensure_state_free;
        return podman_call_start(call, finish, cb, userdata, ret_op);
}

int podman_image_ensure_async(PodmanClient *c, const char *reference, ImagePullPolicy policy,
                              uint64_t timeout_usec, podman_pull_progress_fn progress, podman_image_fn cb,
                              void *userdata, PodmanOp **ret_op) {
        Error ignored = ERROR_INIT;
        EnsureState *s;
        PodmanCall *call;
        int r;

        if (!cb || !reference_ok(reference) || policy < 0 || policy >= _IMAGE_PULL_POLICY_MAX)
                return -EINVAL;
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->policy = policy;
        s->progress = progress;
        s->pull_timeout_usec = timeout_usec ? timeout_usec : 180 * USEC_PER_SEC;
        s->reference = strdup(reference);
        if (!s->reference || podman_registry_auth_header(reference, &s->auth, &ignored) < 0) {
                /* A broken credentials file is reported by the pull's 401, not here. */
                if (!s->reference) {
                        ensure_state_free(s);
                        return -ENOMEM;
                }
        }
        if (policy == IMAGE_PULL_ALWAYS) {
                r = make_pull_call(c, s, &call);
                if (r < 0) {
                        ensure_state_free(s);
                        return r;
                }
                call->state = s;
                call->free_state = ensure_state_free;
                r = podman_call_start(call, ensure_pull_finish, cb, userdata, ret_op);
                if (r >= 0 && progress) /* see start_pull() */
                        progress(&(PodmanPullProgress){ .status = "pulling", .layer = "" }, userdata);
                return r;
        }
        return start_inspect_with_state(c, s, ensure_inspect_finish, cb, userdata, ret_op);
}

static void image_inspect_finish(PodmanCall *call, int r, Error *e) {
        EnsureState *s = call->state;
        PodmanImage img = { 0 };

        if (r == -ENOENT)
                (void) error_set(e, r, "image %s is not present", s->reference);
        if (r >= 0)
                r = image_from_json(call, s->reference, &img, e);
        ensure_report(call, r, &img, e);
        podman_image_done(&img);
}

int podman_image_inspect_async(PodmanClient *c, const char *reference, podman_image_fn cb, void *userdata,
                               PodmanOp **ret_op) {
        EnsureState *s;

        if (!cb || !reference_ok(reference))
                return -EINVAL;
        s = calloc(1, sizeof *s);
        if (!s || !(s->reference = strdup(reference))) {
                ensure_state_free(s);
                return -ENOMEM;
        }
        return start_inspect_with_state(c, s, image_inspect_finish, cb, userdata, ret_op);
}

typedef struct ImageSync {
        PodmanSync sync;
        PodmanImage image;
        podman_pull_progress_fn progress;
        void *progress_userdata;
        ImagePullPolicy policy; /* podman_image_ensure()'s arguments */
        uint64_t timeout_usec;
} ImageSync;

static void image_sync_cb(int r, const PodmanImage *img, const Error *e, void *userdata) {
        ImageSync *is = userdata;

        if (r >= 0) {
                is->image = *img;
                is->image.reference = strdup(img->reference);
                if (!is->image.reference)
                        r = -ENOMEM;
        }
        podman_sync_done(r, e, &is->sync);
}

static void image_sync_progress(const PodmanPullProgress *p, void *userdata) {
        ImageSync *is = userdata;

        if (is->progress)
                is->progress(p, is->progress_userdata);
}

static int reference_error(const char *reference, Error *e) {
        return error_set_field(
                e, -EINVAL, "image",
                "image: \"%s\" is not a valid image reference (registry/name:tag or @sha256:…)",
                strempty(reference));
}

typedef int (*image_sync_start_fn)(PodmanClient *priv, const char *reference, ImageSync *is);

/* What the synchronous wrappers share: checks the reference, starts the call with start() on a
 * private client, runs it until it answers ("cannot VERB image …" when that fails) and hands
 * the image to *ret (frees it when ret is NULL). */
static int image_sync_run(PodmanClient *c, const char *reference, const char *verb,
                          image_sync_start_fn start, ImageSync *is, PodmanImage *ret, Error *e) {
        _cleanup_(podman_client_freep) PodmanClient *priv = NULL;
        int r;

        if (!reference_ok(reference))
                return reference_error(reference, e);
        r = podman_client_clone_private(c, &priv);
        if (r < 0)
                return error_set(e, r, "cannot set up a Podman API client");
        r = start(priv, reference, is);
        if (r >= 0)
                r = podman_client_run_until(priv, &is->sync.done);
        if (r < 0)
                return error_set(e, r, "cannot %s image %s: %s", verb, reference, strerror(-r));
        if (is->sync.r < 0) {
                if (e)
                        *e = is->sync.e;
                return is->sync.r;
        }
        if (ret)
                *ret = is->image;
        else
                podman_image_done(&is->image);
        return 0;
}

static int image_sync_start_inspect(PodmanClient *priv, const char *reference, ImageSync *is) {
        return podman_image_inspect_async(priv, reference, image_sync_cb, is, NULL);
}

int podman_image_inspect(PodmanClient *c, const char *reference, PodmanImage *ret, Error *e) {
        ImageSync is = { 0 };

        return image_sync_run(c, reference, "inspect", image_sync_start_inspect, &is, ret, e);
}

static int image_sync_start_ensure(PodmanClient *priv, const char *reference, ImageSync *is) {
        return podman_image_ensure_async(priv, reference, is->policy, is->timeout_usec, image_sync_progress,
                                         image_sync_cb, is, NULL);
}

int podman_image_ensure(PodmanClient *c, const char *reference, ImagePullPolicy policy,
                        uint64_t timeout_usec, podman_pull_progress_fn progress, void *userdata,
                        PodmanImage *ret, Error *e) {
        ImageSync is = {
                .progress = progress,
                .progress_userdata = userdata,
                .policy = policy,
                .timeout_usec = timeout_usec,
        };

        return image_sync_run(c, reference, "ensure", image_sync_start_ensure, &is, ret, e);
}
