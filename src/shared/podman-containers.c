/* podman-containers.c — creating an agent container from a PodmanContainerSpec: its name, the
 * create body (labels, mounts, limits, user namespace, network), the create call with the
 * spec's files put in before it starts, and the check that the engine kept the limits asked
 * for; plus the container status words. The verbs on an existing container are
 * podman-lifecycle.c's.
 *
 * Invariants: every container we create carries aegis.managed=true and its execution's labels
 * (the reaper's only way to find leaks); a create that fails after the engine made the
 * container removes it before reporting. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "json-util.h"
#include "podman-internal.h"
#include "podman-sync.h"
#include "string-table.h"
#include "util.h"

/* --- names and small tables ------------------------------------------------------------- */

static const char *const podman_container_status_table[_PODMAN_STATUS_MAX] = {
        [PODMAN_STATUS_UNKNOWN] = "unknown",       [PODMAN_STATUS_CREATED] = "created",
        [PODMAN_STATUS_RUNNING] = "running",       [PODMAN_STATUS_PAUSED] = "paused",
        [PODMAN_STATUS_RESTARTING] = "restarting", [PODMAN_STATUS_REMOVING] = "removing",
        [PODMAN_STATUS_EXITED] = "exited",         [PODMAN_STATUS_DEAD] = "dead",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(podman_container_status, PodmanContainerStatus)

PodmanContainerStatus podman_container_status_from_string(const char *s) {
        int i = string_table_lookup_from_string(podman_container_status_table,
                                                ELEMENTSOF(podman_container_status_table), s);

        if (i >= 0)
                return (PodmanContainerStatus) i;
        /* Podman's own words for the same states. */
        if (streq(s, "configured") || streq(s, "initialized"))
                return PODMAN_STATUS_CREATED;
        if (streq(s, "stopped") || streq(s, "stopping"))
                return PODMAN_STATUS_EXITED;
        return PODMAN_STATUS_UNKNOWN;
}

const char *podman_network_mode(const char *policy_mode, const char *configured) {
        if (streq(policy_mode, "deny") || streq(policy_mode, "none"))
                return "none";
        return configured;
}

int podman_container_name(const char *execution_id, unsigned iteration, char **ret) {
        char *n;

        if (!id_is_valid(execution_id) || iteration == 0)
                return -EINVAL;
        n = asprintf_safe("aegis-%s-%u", execution_id, iteration);
        if (!n)
                return -ENOMEM;
        *ret = n;
        return 0;
}

/* --- the create body -------------------------------------------------------------------- */

/* {"k": "v", …} from a strv of "k=v"; entries without '=' are an error naming them. */
static int json_kv_object(char *const *l, const char *what, json_object **ret, Error *e) {
        json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        for (size_t i = 0; l && l[i]; i++) {
                const char *eq = strchr(l[i], '=');
                _cleanup_free_ char *k = NULL;
                if (!eq || eq == l[i]) {
                        json_object_put(o);
                        return error_set_field(e, -EINVAL, what, "%s: expected key=value, got \"%s\"", what,
                                               l[i]);
                }
                k = strndup(l[i], eq - l[i]);
                if (!k || json_add_string(o, k, eq + 1) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
        }
        *ret = o;
        return 0;
}

static int mounts_json(const PodmanContainerSpec *spec, json_object **ret, Error *e) {
        json_object *a = json_object_new_array();
        int r;

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const PodmanMount *m = &spec->mounts[i];
                json_object *o = json_object_new_object();
                char field[64];

                (void) snprintf(field, sizeof field, "mounts[%zu]", i);
                if (!o || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        json_object_put(a);
                        return -ENOMEM;
                }
                if (isempty(m->source) || isempty(m->target) || m->target[0] != '/' ||
                    (m->type != PODMAN_MOUNT_BIND && m->type != PODMAN_MOUNT_VOLUME)) {
                        json_object_put(a);
                        return error_set_field(e, -EINVAL, field,
                                               "%s: a mount needs a type (bind or volume), a source and an "
                                               "absolute target",
                                               field);
                }
                r = json_add_string(o, "Type", m->type == PODMAN_MOUNT_BIND ? "bind" : "volume");
                if (r >= 0)
                        r = json_add_string(o, "Source", m->source);
                if (r >= 0)
                        r = json_add_string(o, "Target", m->target);
                if (r >= 0)
                        r = json_add_bool(o, "ReadOnly", m->read_only);
                if (r >= 0 && m->type == PODMAN_MOUNT_VOLUME && m->driver) {
                        json_object *vo = json_object_new_object(), *dc = json_object_new_object(),
                                    *opts = NULL;
                        r = json_add_obj(o, "VolumeOptions", vo);
                        if (r >= 0)
                                r = json_add_obj(vo, "DriverConfig", dc);
                        else
                                json_object_put(dc);
                        if (r >= 0)
                                r = json_add_string(dc, "Name", m->driver);
                        if (r >= 0) {
                                r = json_kv_object(m->driver_options, field, &opts, e);
                                if (r < 0) {
                                        json_object_put(a);
                                        return r;
                                }
                                r = json_add_obj(dc, "Options", opts);
                        }
                }
                if (r < 0) {
                        json_object_put(a);
                        return -ENOMEM;
                }
        }
        *ret = a;
        return 0;
}

#define BODY_OOM "out of memory building the container's definition"

/* The labels every container of ours carries (podman.h: PODMAN_LABEL_*). */
static int container_labels(const PodmanContainerSpec *spec, PodmanEngine engine, json_object **ret) {
        _cleanup_json_ json_object *l = json_object_new_object();
        char iteration[16];
        int r;

        if (!l)
                return -ENOMEM;
        (void) snprintf(iteration, sizeof iteration, "%u", spec->iteration);
        r = json_add_string(l, PODMAN_LABEL_MANAGED, "true");
        if (r >= 0 && spec->pool_agent_id) {
                r = json_add_string(l, PODMAN_LABEL_POOL, spec->pool_agent_id);
                if (r >= 0)
                        r = json_add_string(l, PODMAN_LABEL_POOL_OWNER, strempty(spec->pool_owner));
        } else if (r >= 0) {
                r = json_add_string(l, PODMAN_LABEL_EXECUTION_ID, spec->execution_id);
                if (r >= 0)
                        r = json_add_string(l, PODMAN_LABEL_ITERATION, iteration);
        }
        if (r >= 0)
                r = json_add_string(l, PODMAN_LABEL_RUNTIME,
                                    engine == PODMAN_ENGINE_DOCKER ? "docker" : "podman");
        if (r >= 0)
                r = json_add_string(l, PODMAN_LABEL_KEEP_ON_FAILURE,
                                    spec->keep_container_on_failure ? "true" : "false");
        if (r >= 0 && !isempty(spec->store_id))
                r = json_add_string(l, PODMAN_LABEL_STORE, spec->store_id);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

/* The container's own user namespace: a fixed range (the same for every container, so a
 * volume's files keep their owner from one execution to the next) given as "auto" with
 * explicit mappings, which rootful Podman takes without any /etc/subuid entry. The size is
 * given too: without it containers/storage sizes the namespace from the image's files
 * while it holds the layers lock, and Podman 4.3 (Debian 12's) then deadlocks on
 * storage.lock when several containers are created at once (containers/podman#16062,
 * fixed in containers/storage 1.45). IPC gets no
 * namespace-shared /dev/shm: Podman 4.3 races unmounting a user-namespaced container's
 * userdata/shm and then cannot remove it (EBUSY, containers/podman#11594, fixed in 4.4); a
 * tmpfs of the container's own replaces it. Or keep-id with the agent's ids (userns_keep_id):
 * the agent is the engine's own user, so a rootless aegisd owns what it writes in a volume. */
static int userns_config(json_object *hc, const PodmanContainerSpec *spec) {
        char mode[128];
        json_object *tmpfs;
        int r;

        if (spec->userns_keep_id)
                (void) snprintf(mode, sizeof mode, "keep-id:uid=%" PRIu32 ",gid=%" PRIu32, spec->keep_id_uid,
                                spec->keep_id_gid);
        else
                (void) snprintf(mode, sizeof mode,
                                "auto:size=%u,uidmapping=0:%" PRIu32 ":%u,gidmapping=0:%" PRIu32 ":%u",
                                PODMAN_USERNS_SIZE, spec->userns_base, PODMAN_USERNS_SIZE, spec->userns_base,
                                PODMAN_USERNS_SIZE);
        r = json_add_string(hc, "UsernsMode", mode);
        if (r >= 0)
                r = json_add_string(hc, "IpcMode", "none");
        if (r < 0)
                return r;
        tmpfs = json_object_new_object();
        r = json_add_obj(hc, "Tmpfs", tmpfs);
        if (r >= 0)
                r = json_add_string(tmpfs, "/dev/shm", "rw,nosuid,nodev,noexec,size=65536k");
        return r;
}

/* HostConfig: limits, network, the host names of the host, no capabilities, mounts. On
 * failure e says why. */
static int host_config(const PodmanContainerSpec *spec, PodmanEngine engine, const char *gateway,
                       json_object **ret, Error *e) {
        _cleanup_json_ json_object *hc = json_object_new_object();
        char *drop[] = { (char *) "ALL", NULL };
        char *secopt[] = { (char *) "no-new-privileges", NULL };
        int r = hc ? 0 : -ENOMEM;

        if (r >= 0 && spec->nano_cpus)
                r = json_add_int(hc, "NanoCpus", (int64_t) spec->nano_cpus);
        if (r >= 0 && spec->memory_bytes)
                r = json_add_int(hc, "Memory", (int64_t) spec->memory_bytes);
        if (r >= 0 && spec->memory_bytes)
                r = json_add_int(hc, "MemorySwap", (int64_t) spec->memory_bytes);
        if (r >= 0 && spec->pids_limit)
                r = json_add_int(hc, "PidsLimit", (int64_t) spec->pids_limit);
        if (r >= 0 && spec->network_mode)
                r = json_add_string(hc, "NetworkMode", spec->network_mode);
        /* Without a network there is no host to reach, and Docker refuses extra hosts then;
         * Podman takes them, which is how the relay's name works with no network at all. */
        if (r >= 0 && (!streq(spec->network_mode, "none") ||
                       (spec->host_names_loopback && engine != PODMAN_ENGINE_DOCKER))) {
                const char *g = spec->host_names_loopback ? "127.0.0.1" : gateway ? gateway : "host-gateway";
                _cleanup_free_ char *h1 = asprintf_safe("host.docker.internal:%s", g);
                _cleanup_free_ char *h2 = asprintf_safe("host.containers.internal:%s", g);
                char *hosts[] = { h1, h2, NULL };
                r = h1 && h2 ? json_add_obj(hc, "ExtraHosts", json_strv(hosts)) : -ENOMEM;
        }
        if (r >= 0)
                r = json_add_obj(hc, "CapDrop", json_strv(drop));
        if (r >= 0)
                r = json_add_obj(hc, "SecurityOpt", json_strv(secopt));
        if (r >= 0 && spec->read_only_rootfs)
                r = json_add_bool(hc, "ReadonlyRootfs", true);
        if (r >= 0 && (spec->userns || spec->userns_keep_id) && engine != PODMAN_ENGINE_DOCKER)
                r = userns_config(hc, spec);
        if (r < 0)
                return error_set(e, r, BODY_OOM);
        if (spec->n_mounts > 0) {
                json_object *m = NULL;
                r = mounts_json(spec, &m, e);
                if (r < 0)
                        return r == -ENOMEM ? error_set(e, r, "out of memory") : r;
                if (json_add_obj(hc, "Mounts", m) < 0)
                        return error_set(e, -ENOMEM, BODY_OOM);
        }
        *ret = TAKE_PTR(hc);
        return 0;
}

int podman_container_create_body(const PodmanContainerSpec *spec, PodmanEngine engine, const char *gateway,
                                 char **ret, Error *e) {
        _cleanup_json_ json_object *o = NULL;
        json_object *hc = NULL, *labels = NULL;
        const char *s;
        char *copy;
        int r;

        if (!spec || !id_is_valid(spec->execution_id))
                return error_set_field(e, -EINVAL, "execution_id", "execution_id: \"%s\" is not a valid id",
                                       spec ? strempty(spec->execution_id) : "");
        if (spec->iteration == 0)
                return error_set_field(e, -EINVAL, "iteration", "iteration: must be 1 or more");
        if (isempty(spec->image))
                return error_set_field(e, -EINVAL, "image", "image: required");
        if (spec->workdir && spec->workdir[0] != '/')
                return error_set_field(e, -EINVAL, "workdir", "workdir: \"%s\" is not an absolute path",
                                       spec->workdir);
        for (size_t i = 0; spec->env && spec->env[i]; i++)
                if (!strchr(spec->env[i], '=') || spec->env[i][0] == '=')
                        return error_set_field(e, -EINVAL, "env", "env: expected NAME=value, got \"%s\"",
                                               spec->env[i]);
        if (spec->nano_cpus > INT64_MAX || spec->memory_bytes > INT64_MAX || spec->pids_limit > INT64_MAX)
                return error_set(e, -ERANGE, "a resource limit is out of range");
        if (spec->userns && spec->userns_base > UINT32_MAX - PODMAN_USERNS_SIZE)
                return error_set_field(e, -ERANGE, "userns_base",
                                       "userns_base: %" PRIu32 " leaves no room for %u ids below 2^32",
                                       spec->userns_base, PODMAN_USERNS_SIZE);

        r = host_config(spec, engine, gateway, &hc, e);
        if (r < 0)
                return r;
        o = json_object_new_object();
        if (!o) {
                json_object_put(hc);
                return error_set(e, -ENOMEM, BODY_OOM);
        }
        r = json_add_obj(o, "HostConfig", hc);
        if (r >= 0)
                r = container_labels(spec, engine, &labels);
        if (r >= 0)
                r = json_add_obj(o, "Labels", labels);
        if (r >= 0)
                r = json_add_string(o, "Image", spec->image);
        if (r >= 0)
                r = json_add_bool(o, "Tty", false);
        if (r >= 0)
                r = json_add_bool(o, "OpenStdin", false);
        if (r >= 0)
                r = json_add_bool(o, "AttachStdin", false);
        if (r >= 0 && spec->cmd)
                r = json_add_obj(o, "Cmd", json_strv(spec->cmd));
        if (r >= 0 && spec->env)
                r = json_add_obj(o, "Env", json_strv(spec->env));
        if (r >= 0 && spec->user)
                r = json_add_string(o, "User", spec->user);
        if (r >= 0 && spec->workdir)
                r = json_add_string(o, "WorkingDir", spec->workdir);
        if (r < 0)
                return error_set(e, -ENOMEM, BODY_OOM);
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        copy = s ? strdup(s) : NULL;
        if (!copy)
                return error_set(e, -ENOMEM, "out of memory");
        *ret = copy;
        return 0;
}

int podman_container_limits_differ(const PodmanContainerSpec *spec, const PodmanContainer *ct, char *buf,
                                   size_t size) {
        const char *names[3];
        size_t n = 0, at = 0;

        assert(spec);
        assert(ct);
        assert(buf);
        assert(size > 0);
        /* The engine may round a limit (memory to its page size): more than asked is "not
         * held", less by under a page is. */
        if (spec->memory_bytes && (ct->memory_bytes == 0 || ct->memory_bytes > spec->memory_bytes ||
                                   spec->memory_bytes - ct->memory_bytes >= 4096))
                names[n++] = "memory";
        if (spec->pids_limit && (ct->pids_limit == 0 || ct->pids_limit > spec->pids_limit))
                names[n++] = "pids";
        /* CPU as quota/period loses a little to integer division: 0.1 % is the same limit. */
        if (spec->nano_cpus &&
            (ct->nano_cpus == 0 || ct->nano_cpus > spec->nano_cpus + spec->nano_cpus / 1000 ||
             ct->nano_cpus + spec->nano_cpus / 1000 < spec->nano_cpus))
                names[n++] = "cpu";
        buf[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                int w = snprintf(buf + at, size - at, "%s%s", i ? ", " : "", names[i]);
                if (w < 0 || (size_t) w >= size - at)
                        break;
                at += (size_t) w;
        }
        return n > 0;
}

/* --- create (+ files) ------------------------------------------------------------------- */

typedef struct CreateState {
        char *id;
        char *files_body; /* the tar, when the spec has files */
        size_t files_size;
        Error error; /* the failure being reported while the container is removed again */
} CreateState;

static void create_state_free(void *p) {
        CreateState *s = p;

        if (!s)
                return;
        free(s->id);
        free(s->files_body);
        free(s);
}

static void create_report(PodmanCall *call, int r, const Error *e) {
        CreateState *s = call->state;

        ((podman_create_fn) call->cb)(r, r >= 0 ? s->id : NULL, r < 0 ? e : NULL, call->userdata);
}

static void create_cleanup_finish(PodmanCall *call, int r, Error *e) {
        CreateState *s = call->state;

        /* Report the original failure whatever the removal did (the reaper backs us up). */
        create_report(call, s->error.code, &s->error);
}

static void create_fail_after_create(PodmanCall *call, Error *e) {
        CreateState *s = call->state;
        PodmanCall *rm;
        _cleanup_free_ char *path = asprintf_safe("/containers/%s?force=1&v=1", s->id);

        s->error = *e;
        if (path && podman_call_new(call->client, "DELETE", path, 0, &rm) >= 0 &&
            podman_call_continue(call, rm, create_cleanup_finish) >= 0)
                return;
        create_report(call, e->code, e);
}

static void create_files_finish(PodmanCall *call, int r, Error *e) {
        if (r < 0) {
                (void) error_prefix(e, "placing files into the container");
                create_fail_after_create(call, e);
                return;
        }
        create_report(call, 0, NULL);
}

static void create_finish(PodmanCall *call, int r, Error *e) {
        CreateState *s = call->state;
        json_object *j;
        const char *id;

        if (r < 0) {
                create_report(call, r, e);
                return;
        }
        j = podman_call_json(call);
        id = json_get_string(j, "Id");
        if (!id || strlen(id) < 12) {
                json_object_put(j);
                r = podman_call_bad_answer(call, e, "no container \"Id\"");
                create_report(call, r, e);
                return;
        }
        s->id = strdup(id);
        json_object_put(j);
        if (!s->id) {
                create_report(call, error_set(e, -ENOMEM, "out of memory"), e);
                return;
        }
        if (s->files_body) {
                _cleanup_free_ char *path = asprintf_safe("/containers/%s/archive?path=%%2F", s->id);
                PodmanCall *put;
                char *body = TAKE_PTR(s->files_body);

                r = path ? podman_call_new(call->client, "PUT", path, 0, &put) : -ENOMEM;
                if (r < 0) {
                        free(body);
                        error_set(e, r, "cannot place files into container %s", s->id);
                        create_fail_after_create(call, e);
                        return;
                }
                r = podman_call_set_body(put, body, s->files_size, "application/x-tar");
                if (r < 0 || podman_call_continue(call, put, create_files_finish) < 0) {
                        podman_call_free(put);
                        error_set(e, -ENOMEM, "cannot place files into container %s", s->id);
                        create_fail_after_create(call, e);
                }
                return;
        }
        create_report(call, 0, NULL);
}

int podman_container_create_async(PodmanClient *c, const PodmanContainerSpec *spec, podman_create_fn cb,
                                  void *userdata, PodmanOp **ret_op) {
        _cleanup_free_ char *name = NULL, *body = NULL, *path = NULL, *ename = NULL;
        char gateway[PODMAN_ADDRESS_MAX];
        const char *gw = NULL;
        PodmanEngine engine = c->have_version ? c->version.engine : PODMAN_ENGINE_PODMAN;
        CreateState *s;
        PodmanCall *call;
        Error ignored = ERROR_INIT;
        int r;

        if (!cb || !spec)
                return -EINVAL;
        if (!streq(spec->network_mode, "none") && !(c->have_version && c->version.resolves_host_gateway)) {
                if (spec->host_gateway)
                        gw = spec->host_gateway;
                else if (podman_host_gateway_address(gateway, &ignored) >= 0)
                        gw = gateway;
        }
        r = podman_container_create_body(spec, engine, gw, &body, &ignored);
        if (r < 0)
                return r;
        if (spec->pool_agent_id)
                name = asprintf_safe(PODMAN_POOL_NAME_PREFIX "%s", spec->execution_id);
        else {
                r = podman_container_name(spec->execution_id, spec->iteration, &name);
                if (r < 0)
                        return r;
        }
        if (!name)
                return -ENOMEM;
        ename = podman_escape(name);
        path = ename ? asprintf_safe("/containers/create?name=%s", ename) : NULL;
        if (!path)
                return -ENOMEM;
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        if (spec->n_files > 0) {
                r = podman_tar_build(spec->files, spec->n_files, &s->files_body, &s->files_size, &ignored);
                if (r < 0) {
                        create_state_free(s);
                        return r;
                }
        }
        r = podman_call_new(c, "POST", path, PODMAN_START_TIMEOUT_USEC, &call);
        if (r < 0) {
                create_state_free(s);
                return r;
        }
        call->state = s;
        call->free_state = create_state_free;
        size_t n = strlen(body);
        r = podman_call_set_body(call, TAKE_PTR(body), n, "application/json");
        if (r < 0) {
                podman_call_free(call);
                return r;
        }
        return podman_call_start(call, create_finish, cb, userdata, ret_op);
}

static void create_sync_cb(int r, const char *id, const Error *e, void *userdata) {
        PodmanSync *sync = userdata;

        if (r >= 0) {
                *(char **) sync->result = strdup(id);
                if (!*(char **) sync->result)
                        r = -ENOMEM;
        }
        podman_sync_done(r, e, sync);
}

int podman_container_create(PodmanClient *c, const PodmanContainerSpec *spec, char **ret_id, Error *e) {
        char *id = NULL;

        /* Validate here too, so the caller gets the field-naming message. */
        if (spec) {
                _cleanup_free_ char *body = NULL;
                int q = podman_container_create_body(spec, PODMAN_ENGINE_PODMAN, NULL, &body, e);
                if (q < 0)
                        return q;
                if (spec->n_files > 0) {
                        _cleanup_free_ char *tar = NULL;
                        size_t n;
                        q = podman_tar_build(spec->files, spec->n_files, &tar, &n, e);
                        if (q < 0)
                                return q;
                }
        }
        PODMAN_SYNC_BEGIN(c, e);
        sync.result = &id;
        r = podman_container_create_async(priv, spec, create_sync_cb, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        if (r < 0) {
                free(id);
                return r;
        }
        if (ret_id)
                *ret_id = id;
        else
                free(id);
        return 0;
}
