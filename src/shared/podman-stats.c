/* podman-stats.c — one container's resource usage, normalised over cgroups v1 and v2 and over
 * Docker's and Podman's answers.
 *
 * Engines report a zero where they could not read a controller (rootless without cgroup v2
 * delegation: the seed's "Container Stats Returning Zeros"); a running container never really
 * has zero CPU time, memory or pids, so each zero is reported as unknown rather than as 0. */
#include <errno.h>
#include <string.h>

#include "podman-internal.h"
#include "podman-sync.h"
#include "util.h"

static uint64_t u64_at(json_object *o, const char *key) {
        int64_t v = json_get_int(o, key, NULL);

        return v > 0 ? (uint64_t) v : 0;
}

int podman_stats_parse(const char *json, size_t size, PodmanStats *ret) {
        json_object *o, *mem, *memstats;
        PodmanStats s = { 0 };
        uint64_t usage, cache;
        int r;

        r = json_parse_object(json, size, 32, &o);
        if (r < 0)
                return r;
        s.cpu_usage_nsec = u64_at(json_get_path(o, "cpu_stats", "cpu_usage", NULL), "total_usage");
        s.cpu_known = s.cpu_usage_nsec > 0;

        mem = json_get(o, "memory_stats");
        memstats = json_get(mem, "stats");
        usage = u64_at(mem, "usage");
        /* Page cache the kernel can drop is not the container's footprint (what `docker stats`
         * shows): v1 reports total_inactive_file, v2 inactive_file. */
        cache = u64_at(memstats, "total_inactive_file");
        if (cache == 0)
                cache = u64_at(memstats, "inactive_file");
        if (usage > 0) {
                s.memory_bytes = cache < usage ? usage - cache : usage;
                s.memory_known = true;
        }
        s.memory_limit_bytes = u64_at(mem, "limit");
        s.memory_limit_known = s.memory_limit_bytes > 0;

        s.pids = u64_at(json_get(o, "pids_stats"), "current");
        s.pids_known = s.pids > 0;

        {
                const char *read = json_get_string(o, "read");
                struct tm tm = { 0 };
                if (read && strptime(read, "%Y-%m-%dT%H:%M:%S", &tm)) {
                        time_t t = timegm(&tm);
                        s.read_usec = t > 0 ? (uint64_t) t * USEC_PER_SEC : 0;
                }
        }
        json_object_put(o);
        *ret = s;
        return 0;
}

static void stats_finish(PodmanCall *call, int r, Error *e) {
        podman_stats_fn cb = (podman_stats_fn) call->cb;
        PodmanStats s = { 0 };

        if (r >= 0 && podman_stats_parse(call->body ? call->body : "", call->body_size, &s) < 0)
                r = podman_call_bad_answer(call, e, "not a stats object");
        cb(r, r >= 0 ? &s : NULL, r < 0 ? e : NULL, call->userdata);
}

int podman_container_stats_async(PodmanClient *c, const char *id, podman_stats_fn cb, void *userdata,
                                 PodmanOp **ret_op) {
        _cleanup_free_ char *eid = NULL, *path = NULL;
        PodmanCall *call;
        int r;

        if (!cb || isempty(id) || strchr(id, '/'))
                return -EINVAL;
        eid = podman_escape(id);
        path = eid ? asprintf_safe("/containers/%s/stats?stream=false", eid) : NULL;
        if (!path)
                return -ENOMEM;
        r = podman_call_new(c, "GET", path, 0, &call);
        if (r < 0)
                return r;
        return podman_call_start(call, stats_finish, cb, userdata, ret_op);
}

static void stats_sync_cb(int r, const PodmanStats *s, const Error *e, void *userdata) {
        PodmanSync *sync = userdata;

        if (s)
                *(PodmanStats *) sync->result = *s;
        podman_sync_done(r, e, sync);
}

int podman_container_stats(PodmanClient *c, const char *id, PodmanStats *ret, Error *e) {
        PodmanStats s = { 0 };

        PODMAN_SYNC_BEGIN(c, e);
        sync.result = &s;
        r = podman_container_stats_async(priv, id, stats_sync_cb, &sync, NULL);
        PODMAN_SYNC_END(c, e);
        if (r >= 0 && ret)
                *ret = s;
        return r;
}
