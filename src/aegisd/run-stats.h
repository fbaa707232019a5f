/* run-stats.h — what one iteration's container used (CPU time, peak memory, peak pids), as a
 * part a Run owns (HACKING.md, "An iteration's parts").
 *
 * While the container runs, a RunStats asks the engine for a stats reading (podman-stats.c)
 * right after the start, every 200 ms during the first second (so a short iteration has its
 * numbers too) and then every interval, off the iteration's critical path: the
 * reading uses its own engine operation, never the Run's step slot, and a failed or late
 * reading is skipped, never retried or waited for.
 *
 * What must stay true: at most one reading is in flight; run_stats_stop() cancels it and the
 * timer, so nothing of the part runs after it until the next run_stats_start(); the usage
 * only ever grows within an iteration (peaks, and CPU time the engine counts up). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macros.h"
#include "podman.h"
#include "run-part.h"

typedef struct RunStats RunStats;

typedef struct RunStatsContext {
        sd_event *event; /* borrowed */
        PodmanClient *podman; /* borrowed */
        uint64_t interval_usec; /* between readings; 0 = 1 s */
        run_part_log_fn log; /* optional */
        void *userdata;
} RunStatsContext;

/* What an iteration used: each value with a flag, false = the engine never reported it. */
typedef struct RunStatsUsage {
        unsigned samples; /* readings the engine answered */
        uint64_t cpu_usage_nsec;
        bool cpu_known;
        uint64_t memory_peak_bytes;
        bool memory_known;
        uint64_t pids_peak;
        bool pids_known;
} RunStatsUsage;

int run_stats_new(const RunStatsContext *c, RunStats **ret);
RunStats *run_stats_free(RunStats *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(RunStats *, run_stats_free);

/* Forgets the readings and starts reading container_id (a new iteration's container, or the
 * same one again after a restart, whose CPU time the engine still counts). */
int run_stats_start(RunStats *s, const char *container_id);
/* A last reading before aegisd kills the container (a timeout, a cancel): the engine has
 * nothing to read once it is dead. The reading counts like any other; done(userdata) runs
 * once, from the event loop, when it came back, failed or RUN_STATS_LAST_USEC passed, and no
 * reading follows it until the next run_stats_start(). -EBUSY while one is in flight, -ENOENT
 * when no container is being read (never started, stopped, or its last reading was taken);
 * done does not run then. */
#define RUN_STATS_LAST_USEC (500 * USEC_PER_MSEC)
typedef void (*run_stats_done_fn)(void *userdata);
int run_stats_last(RunStats *s, run_stats_done_fn done, void *userdata);
/* Stops reading (the container exited or is being removed); the usage stays. A last reading
 * in flight is cancelled and its done does not run. */
void run_stats_stop(RunStats *s);
/* Stops reading and forgets the usage (a new iteration, before it has a container). */
void run_stats_reset(RunStats *s);
const RunStatsUsage *run_stats_usage(const RunStats *s);
/* True when readings came back but not one value in them was real: the engine reads zeros
 * because the cgroup controllers are not delegated to it. */
bool run_stats_unavailable(const RunStats *s);
/* The usage as the store's usage_json (store-schema.h, version 8), oom_killed added: NULL in
 * *ret when no reading came back. */
int run_stats_usage_json(const RunStats *s, bool oom_killed, char **ret);
