/* podman-system.c — engine-level calls (_ping, version) and what behaviour adapts to: whether
 * the engine resolves "host-gateway" itself, and the host address we use when it does not. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "podman-internal.h"
#include "podman-sync.h"
#include "util.h"

static const char *const engine_table[_PODMAN_ENGINE_MAX] = {
        [PODMAN_ENGINE_UNKNOWN] = "unknown",
        [PODMAN_ENGINE_PODMAN] = "podman",
        [PODMAN_ENGINE_DOCKER] = "docker",
};

const char *podman_engine_to_string(PodmanEngine e) {
        return e >= 0 && e < _PODMAN_ENGINE_MAX ? engine_table[e] : NULL;
}

/* --- _ping ------------------------------------------------------------------------------ */

static void ping_finish(PodmanCall *call, int r, Error *e) {
        podman_done_fn cb = (podman_done_fn) call->cb;

        if (r >= 0 && !(call->body_size >= 2 && memcmp(call->body, "OK", 2) == 0))
                r = podman_call_bad_answer(call, e, "expected \"OK\"");
        cb(r, r < 0 ? e : NULL, call->userdata);
}

int podman_ping_async(PodmanClient *c, uint64_t timeout_usec, podman_done_fn cb, void *userdata,
                      PodmanOp **ret_op) {
        PodmanCall *call;
        int r;

        if (!cb)
                return -EINVAL;
        r = podman_call_new(c, "GET", "/_ping", timeout_usec, &call);
        if (r < 0)
                return r;
        return podman_call_start(call, ping_finish, cb, userdata, ret_op);
}

int podman_ping(PodmanClient *c, uint64_t timeout_usec, Error *e) {
        PODMAN_SYNC_BEGIN(c, e);
        r = podman_ping_async(priv, timeout_usec, podman_sync_done, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        return r;
}

/* --- info ------------------------------------------------------------------------------- */

int podman_info_parse(const char *json, size_t size, PodmanInfo *ret) {
        json_object *o, *host, *sec, *controllers;
        PodmanInfo i = {};
        const char *v;
        int r;

        r = json_parse_object(json, size, 32, &o);
        if (r < 0)
                return r;
        host = json_get(o, "host");
        if (!host || !json_object_is_type(host, json_type_object)) {
                json_object_put(o);
                return -EBADMSG;
        }
        v = json_get_string(host, "cgroupVersion");
        i.cgroup_version = streq_ptr(v, "v1") ? 1 : streq_ptr(v, "v2") ? 2 : 0;
        sec = json_get(host, "security");
        if (sec && json_object_is_type(sec, json_type_object)) {
                json_object *rl = json_get(sec, "rootless");
                i.rootless = rl && json_object_is_type(rl, json_type_boolean) && json_object_get_boolean(rl);
        }
        controllers = json_get(host, "cgroupControllers");
        if (controllers && json_object_is_type(controllers, json_type_array))
                for (size_t k = 0, n = json_object_array_length(controllers); k < n; k++) {
                        json_object *c = json_object_array_get_idx(controllers, k);
                        const char *name =
                                json_object_is_type(c, json_type_string) ? json_object_get_string(c) : NULL;
                        i.cpu = i.cpu || streq_ptr(name, "cpu");
                        i.memory = i.memory || streq_ptr(name, "memory");
                        i.pids = i.pids || streq_ptr(name, "pids");
                }
        json_object_put(o);
        *ret = i;
        return 0;
}

const char *podman_info_unenforced_limits(const PodmanInfo *i, char *buf, size_t size) {
        assert(i);
        assert(buf);
        assert(size > 0);
        buf[0] = '\0';
        if (i->rootless && i->cgroup_version == 1) {
                (void) snprintf(buf, size, "memory, pids, cpu");
                return "rootless Podman on cgroup v1 cannot set any resource limit: boot the host with "
                       "cgroup v2 (systemd.unified_cgroup_hierarchy=1) and install the delegation drop-in "
                       "the package ships (user@.service.d/50-aegis-delegate.conf: Delegate=cpu cpuset io "
                       "memory pids), or run aegisd with rootful Podman";
        }
        (void) snprintf(buf, size, "%s%s%s%s%s", i->memory ? "" : "memory",
                        !i->memory && (!i->pids || !i->cpu) ? ", " : "", i->pids ? "" : "pids",
                        !i->pids && !i->cpu ? ", " : "", i->cpu ? "" : "cpu");
        if (buf[0] == '\0')
                return NULL;
        if (i->rootless)
                return "the engine's cgroup lacks these controllers: install the delegation drop-in the "
                       "package ships (/usr/lib/systemd/system/user@.service.d/50-aegis-delegate.conf: "
                       "Delegate=cpu cpuset io memory pids), systemctl daemon-reload, then restart the "
                       "user manager (log out and in, or reboot)";
        return "the host's cgroup hierarchy lacks these controllers: enable them (cgroup_enable= on the "
               "kernel command line, or cgroup v2 with the controllers in cgroup.subtree_control)";
}

static void info_finish(PodmanCall *call, int r, Error *e) {
        podman_info_fn cb = (podman_info_fn) call->cb;
        PodmanInfo i;

        if (r >= 0) {
                r = podman_info_parse(call->body ? call->body : "", call->body_size, &i);
                if (r < 0)
                        r = podman_call_bad_answer(call, e, "no \"host\" in the answer");
        }
        cb(r, r >= 0 ? &i : NULL, r < 0 ? e : NULL, call->userdata);
}

int podman_info_async(PodmanClient *c, uint64_t timeout_usec, podman_info_fn cb, void *userdata,
                      PodmanOp **ret_op) {
        PodmanCall *call;
        int r;

        if (!cb)
                return -EINVAL;
        r = podman_call_new(c, "GET", "/libpod/info", timeout_usec, &call);
        if (r < 0)
                return r;
        return podman_call_start(call, info_finish, cb, userdata, ret_op);
}

static void info_sync_cb(int r, const PodmanInfo *i, const Error *e, void *userdata) {
        PodmanSync *sync = userdata;

        if (i)
                *(PodmanInfo *) sync->result = *i;
        podman_sync_done(r, e, sync);
}

int podman_info(PodmanClient *c, PodmanInfo *ret, Error *e) {
        PodmanInfo i;

        PODMAN_SYNC_BEGIN(c, e);
        sync.result = &i;
        r = podman_info_async(priv, 0, info_sync_cb, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        if (r >= 0 && ret)
                *ret = i;
        return r;
}

/* --- version ---------------------------------------------------------------------------- */

static void parse_semver(const char *s, unsigned *major, unsigned *minor, unsigned *patch) {
        unsigned v[3] = { 0, 0, 0 };
        size_t i;

        for (i = 0; i < 3 && s && *s; i++) {
                char *end;
                unsigned long n = strtoul(s, &end, 10);
                if (end == s)
                        break;
                v[i] = (unsigned) MIN(n, 100000UL);
                s = *end == '.' ? end + 1 : NULL;
        }
        *major = v[0];
        *minor = v[1];
        *patch = v[2];
}

int podman_version_parse(const char *json, size_t size, PodmanVersion *ret) {
        json_object *o, *components;
        PodmanVersion v = { 0 };
        const char *s;
        int r;

        r = json_parse_object(json, size, 16, &o);
        if (r < 0)
                return r;
        s = json_get_string(o, "Version");
        if (!s) {
                json_object_put(o);
                return -EBADMSG;
        }
        (void) snprintf(v.version, sizeof v.version, "%s", s);
        (void) snprintf(v.api_version, sizeof v.api_version, "%s",
                        strempty(json_get_string(o, "ApiVersion")));
        (void) snprintf(v.os_arch, sizeof v.os_arch, "%s/%s", strempty(json_get_string(o, "Os")),
                        strempty(json_get_string(o, "Arch")));
        v.engine = PODMAN_ENGINE_DOCKER;
        components = json_get(o, "Components");
        if (components && json_object_is_type(components, json_type_array)) {
                size_t i, n = json_object_array_length(components);
                for (i = 0; i < n; i++) {
                        const char *name = json_get_string(json_object_array_get_idx(components, i), "Name");
                        if (name && strstr(name, "Podman")) {
                                v.engine = PODMAN_ENGINE_PODMAN;
                                break;
                        }
                }
        }
        parse_semver(v.version, &v.major, &v.minor, &v.patch);
        /* Docker translates host-gateway since 20.10; Podman only from 5.0 on (4.3 writes the
         * literal word into /etc/hosts). */
        if (v.engine == PODMAN_ENGINE_DOCKER)
                v.resolves_host_gateway = v.major > 20 || (v.major == 20 && v.minor >= 10);
        else
                v.resolves_host_gateway = v.major >= 5;
        v.keep_id_uid = v.engine == PODMAN_ENGINE_PODMAN && (v.major > 4 || (v.major == 4 && v.minor >= 3));
        json_object_put(o);
        *ret = v;
        return 0;
}

static void version_finish(PodmanCall *call, int r, Error *e) {
        podman_version_fn cb = (podman_version_fn) call->cb;
        PodmanVersion v;

        if (r >= 0) {
                r = podman_version_parse(call->body ? call->body : "", call->body_size, &v);
                if (r < 0)
                        r = podman_call_bad_answer(call, e, "no \"Version\" in the answer");
                else
                        podman_client_record_version(call->client, &v);
        }
        cb(r, r >= 0 ? &v : NULL, r < 0 ? e : NULL, call->userdata);
}

int podman_version_async(PodmanClient *c, podman_version_fn cb, void *userdata, PodmanOp **ret_op) {
        PodmanCall *call;
        int r;

        if (!cb)
                return -EINVAL;
        r = podman_call_new(c, "GET", "/version", 0, &call);
        if (r < 0)
                return r;
        return podman_call_start(call, version_finish, cb, userdata, ret_op);
}

static void version_sync_cb(int r, const PodmanVersion *v, const Error *e, void *userdata) {
        PodmanSync *sync = userdata;

        if (v)
                *(PodmanVersion *) sync->result = *v;
        podman_sync_done(r, e, sync);
}

int podman_version(PodmanClient *c, PodmanVersion *ret, Error *e) {
        PodmanVersion v;

        PODMAN_SYNC_BEGIN(c, e);
        sync.result = &v;
        r = podman_version_async(priv, version_sync_cb, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        if (r >= 0) {
                podman_client_record_version(c, &v);
                if (ret)
                        *ret = v;
        }
        return r;
}

/* --- host-gateway ----------------------------------------------------------------------- */

int podman_host_gateway_address(char ret[PODMAN_ADDRESS_MAX], Error *e) {
        struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(53) }, src;
        socklen_t len = sizeof src;
        struct ifaddrs *ifs, *i;
        _cleanup_close_ int fd = -EBADF;

        /* The source address of the default route: reachable from bridged containers (through
         * the bridge gateway) and from rootless slirp4netns/pasta ones alike. A UDP connect()
         * only consults the routing table; nothing is sent. */
        (void) inet_pton(AF_INET, "198.51.100.1", &dst.sin_addr);
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *) &dst, sizeof dst) == 0 &&
            getsockname(fd, (struct sockaddr *) &src, &len) == 0 &&
            src.sin_addr.s_addr != htonl(INADDR_ANY)) {
                if (!inet_ntop(AF_INET, &src.sin_addr, ret, PODMAN_ADDRESS_MAX))
                        return error_set(e, -EINVAL, "cannot format the host address");
                return 0;
        }
        /* No default route: any non-loopback IPv4 address of an interface that is up. */
        if (getifaddrs(&ifs) < 0)
                return error_set(e, negative_errno(), "cannot list the host's addresses: %s",
                                 strerror(errno));
        for (i = ifs; i; i = i->ifa_next) {
                struct sockaddr_in *a = (struct sockaddr_in *) i->ifa_addr;
                if (!a || a->sin_family != AF_INET || !(i->ifa_flags & IFF_UP) ||
                    (i->ifa_flags & IFF_LOOPBACK))
                        continue;
                if (inet_ntop(AF_INET, &a->sin_addr, ret, PODMAN_ADDRESS_MAX)) {
                        freeifaddrs(ifs);
                        return 0;
                }
        }
        freeifaddrs(ifs);
        return error_set(
                e, -EADDRNOTAVAIL,
                "cannot resolve host-gateway: the host has no default route and no non-loopback "
                "IPv4 address; set runtime.host_gateway to the address containers reach the host at");
}

/* --- does the engine see a host directory ---------------------------------------------- */

/* The call's state is the directory asked about (for the engine's answer to be recognised). */
static void sees_dir_removed(PodmanCall *call, int r, Error *e) {
        /* Created: it sees dir, whatever the removal did (the probe never ran). */
        ((podman_done_fn) call->cb)(1, NULL, call->userdata);
}

static void sees_dir_created(PodmanCall *call, int r, Error *e) {
        const char *dir = call->state;
        json_object *j;
        const char *id;
        _cleanup_free_ char *path = NULL;
        PodmanCall *rm;

        if (r < 0) {
                /* Refused naming dir itself: the engine cannot stat it (0, its words in e).
                 * Anything else: it cannot be told. */
                bool about_dir = call->status >= 400 && call->status < 600 && strstr(e->message, dir);
                ((podman_done_fn) call->cb)(about_dir ? 0 : r, e, call->userdata);
                return;
        }
        j = podman_call_json(call);
        id = json_get_string(j, "Id");
        path = id ? asprintf_safe("/libpod/containers/%s?force=true", id) : NULL;
        json_object_put(j);
        if (path && podman_call_new(call->client, "DELETE", path, 0, &rm) >= 0 &&
            podman_call_continue(call, rm, sees_dir_removed) >= 0)
                return;
        sees_dir_removed(call, 0, NULL);
}

static int podman_engine_sees_dir_async(PodmanClient *c, const char *dir, podman_done_fn cb,
                                        void *userdata) {
        char name[ID128_STRING_MAX + 16] = "aegis-probe-";
        char *state;
        json_object *o, *cmd;
        PodmanCall *call;
        int r;

        state = strdup(dir);
        r = random_id(name + strlen(name));
        o = json_object_new_object();
        cmd = json_object_new_array();
        if (r < 0 || !state || !o || !cmd) {
                json_object_put(o);
                json_object_put(cmd);
                free(state);
                return r < 0 ? r : -ENOMEM;
        }
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "rootfs", json_object_new_string(dir));
        json_object_array_add(cmd, json_object_new_string("/aegis-probe"));
        json_object_object_add(o, "command", cmd);
        r = podman_call_new(c, "POST", "/libpod/containers/create", 0, &call);
        if (r >= 0) {
                r = podman_call_set_json_body(call, o);
                if (r < 0)
                        podman_call_free(call);
        }
        json_object_put(o);
        if (r < 0) {
                free(state);
                return r;
        }
        call->state = state;
        call->free_state = free;
        return podman_call_start(call, sees_dir_created, (void *) cb, userdata, NULL);
}

static void sees_dir_sync_cb(int r, const Error *e, void *userdata) {
        PodmanSync *sync = userdata;

        sync->r = r;
        if (r <= 0 && e)
                sync->e = *e; /* 0 too: what the engine said */
        sync->done = true;
}

int podman_engine_sees_dir(PodmanClient *c, const char *dir, Error *e) {
        if (!dir || dir[0] != '/')
                return error_set(e, -EINVAL, "not an absolute path: %s", strempty(dir));
        PODMAN_SYNC_BEGIN(c, e);
        r = podman_engine_sees_dir_async(priv, dir, sees_dir_sync_cb, &sync);
        PODMAN_SYNC_END(c, e);
        if (r == 0 && e)
                *e = sync.e;
        return r;
}
