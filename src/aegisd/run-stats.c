/* run-stats.c — what one iteration's container used, read from the engine while it runs
 * (run-stats.h).
 *
 * Readings come from GET /containers/{id}/stats?stream=false, normalised by podman-stats.c:
 * a value the engine could not read is unknown there, never 0. The CPU time is the last
 * known reading (the engine counts it up from the container's start); memory and pids keep
 * the highest reading. A container that exits between two readings is caught by the first
 * one, taken as soon as it starts; what it did after the last reading is not seen (the
 * engine has no cgroup to read once it exited), except when aegisd kills it: then
 * run_stats_last() reads it once more first. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json-util.h"
#include "log.h"
#include "run-stats.h"
#include "util.h"

#define RUN_STATS_INTERVAL_DEFAULT_USEC USEC_PER_SEC
#define RUN_STATS_FIRST_USEC (1 * USEC_PER_MSEC) /* the first reading, right after the start */
/* During the container's first second, readings come this often (when the interval is longer):
 * an iteration shorter than the interval still gets several readings and a fair peak. The
 * engine has nothing to read once the container exited (Podman answers zeros), so a reading
 * after the exit cannot make up for them. */
#define RUN_STATS_EARLY_USEC (200 * USEC_PER_MSEC)
#define RUN_STATS_EARLY_READINGS 5U

struct RunStats {
        RunStatsContext c;
        char *container_id;
        sd_event_source *timer;
        PodmanOp *op; /* the reading in flight, if any */
        unsigned asked; /* readings asked for since run_stats_start() */
        RunStatsUsage usage;
        unsigned failures; /* readings the engine refused this iteration (logged once) */
        run_stats_done_fn last_done; /* run_stats_last() in flight */
        void *last_userdata;
};

int run_stats_new(const RunStatsContext *c, RunStats **ret) {
        RunStats *s;

        assert(c);
        assert(c->event);
        assert(c->podman);
        assert(ret);
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->c = *c;
        if (s->c.interval_usec == 0)
                s->c.interval_usec = RUN_STATS_INTERVAL_DEFAULT_USEC;
        *ret = s;
        return 0;
}

void run_stats_stop(RunStats *s) {
        if (!s)
                return;
        podman_op_cancel(s->op);
        s->op = NULL;
        s->timer = sd_event_source_disable_unref(s->timer);
        s->last_done = NULL;
}

void run_stats_reset(RunStats *s) {
        assert(s);
        run_stats_stop(s);
        s->usage = (RunStatsUsage){};
        s->failures = 0;
}

RunStats *run_stats_free(RunStats *s) {
        if (!s)
                return NULL;
        run_stats_stop(s);
        free(s->container_id);
        free(s);
        return NULL;
}

static void usage_merge(RunStatsUsage *u, const PodmanStats *st) {
        u->samples++;
        if (st->cpu_known && (!u->cpu_known || st->cpu_usage_nsec > u->cpu_usage_nsec)) {
                u->cpu_usage_nsec = st->cpu_usage_nsec;
                u->cpu_known = true;
        }
        if (st->memory_known && (!u->memory_known || st->memory_bytes > u->memory_peak_bytes)) {
                u->memory_peak_bytes = st->memory_bytes;
                u->memory_known = true;
        }
        if (st->pids_known && (!u->pids_known || st->pids > u->pids_peak)) {
                u->pids_peak = st->pids;
                u->pids_known = true;
        }
}

static int arm(RunStats *s, uint64_t usec);

/* The end of run_stats_last(): its reading came back or its time ran out. */
static void last_end(RunStats *s) {
        run_stats_done_fn done = s->last_done;

        podman_op_cancel(s->op);
        s->op = NULL;
        s->timer = sd_event_source_disable_unref(s->timer);
        s->last_done = NULL;
        done(s->last_userdata);
}

static void on_stats(int k, const PodmanStats *st, const Error *e, void *userdata) {
        RunStats *s = userdata;

        s->op = NULL;
        if (s->last_done) {
                if (k >= 0 && st)
                        usage_merge(&s->usage, st);
                last_end(s);
                return;
        }
        if (k >= 0 && st)
                usage_merge(&s->usage, st);
        else if (s->failures++ == 0)
                /* Usually the container exited between the timer and the answer. */
                run_part_log(s->c.log, s->c.userdata, LOG_DEBUG, "cannot read container stats: %s",
                             e && e->message[0] ? e->message : strerror(-k));
        (void) arm(s, s->asked < RUN_STATS_EARLY_READINGS ? MIN(s->c.interval_usec, RUN_STATS_EARLY_USEC)
                                                          : s->c.interval_usec);
}

static int on_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        RunStats *s = userdata;
        int k;

        if (s->op || !s->container_id)
                return 0;
        s->asked++;
        k = podman_container_stats_async(s->c.podman, s->container_id, on_stats, s, &s->op);
        if (k < 0) {
                s->op = NULL;
                (void) arm(s, s->c.interval_usec);
        }
        return 0;
}

static int arm(RunStats *s, uint64_t usec) {
        s->timer = sd_event_source_disable_unref(s->timer);
        return sd_event_add_time_relative(s->c.event, &s->timer, CLOCK_MONOTONIC, usec, 0, on_timer, s);
}

static int on_last_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        last_end(userdata);
        return 0;
}

int run_stats_last(RunStats *s, run_stats_done_fn done, void *userdata) {
        int k;

        assert(s);
        assert(done);
        if (s->last_done)
                return -EBUSY;
        if (!s->container_id || !s->timer)
                return -ENOENT; /* not reading: stopped, never started, or the last reading taken */
        podman_op_cancel(s->op); /* a reading in flight may be older than the kill */
        s->op = NULL;
        s->timer = sd_event_source_disable_unref(s->timer);
        k = sd_event_add_time_relative(s->c.event, &s->timer, CLOCK_MONOTONIC, RUN_STATS_LAST_USEC, 0,
                                       on_last_timeout, s);
        if (k < 0)
                return k;
        s->asked++;
        k = podman_container_stats_async(s->c.podman, s->container_id, on_stats, s, &s->op);
        if (k < 0) {
                s->op = NULL;
                s->timer = sd_event_source_disable_unref(s->timer);
                return k;
        }
        s->last_done = done;
        s->last_userdata = userdata;
        return 0;
}

int run_stats_start(RunStats *s, const char *container_id) {
        char *id;

        assert(s);
        assert(container_id);
        id = strdup(container_id);
        if (!id)
                return -ENOMEM;
        run_stats_stop(s);
        free(s->container_id);
        s->container_id = id;
        s->usage = (RunStatsUsage){};
        s->failures = 0;
        s->asked = 0;
        return arm(s, RUN_STATS_FIRST_USEC);
}

const RunStatsUsage *run_stats_usage(const RunStats *s) {
        assert(s);
        return &s->usage;
}

bool run_stats_unavailable(const RunStats *s) {
        assert(s);
        return s->usage.samples > 0 && !s->usage.cpu_known && !s->usage.memory_known && !s->usage.pids_known;
}

int run_stats_usage_json(const RunStats *s, bool oom_killed, char **ret) {
        _cleanup_json_ json_object *o = NULL;
        const RunStatsUsage *u;
        char *j;

        assert(s);
        assert(ret);
        u = &s->usage;
        if (u->samples == 0 && !oom_killed) {
                *ret = NULL;
                return 0;
        }
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "cpu_seconds",
                               u->cpu_known ? json_object_new_double((double) u->cpu_usage_nsec / 1e9)
                                            : NULL);
        json_object_object_add(o, "memory_peak_bytes",
                               u->memory_known ? json_object_new_uint64(u->memory_peak_bytes) : NULL);
        json_object_object_add(o, "pids_peak", u->pids_known ? json_object_new_uint64(u->pids_peak) : NULL);
        json_object_object_add(o, "oom_killed", json_object_new_boolean(oom_killed));
        json_object_object_add(o, "samples", json_object_new_uint64(u->samples));
        json_object_object_add(o, "known",
                               json_object_new_boolean(!run_stats_unavailable(s) && u->samples > 0));
        j = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}
