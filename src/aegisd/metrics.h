/* metrics.h — a small Prometheus registry: counters, gauges and histograms with labels,
 * rendered in the text exposition format (version 0.0.4) for GET /metrics.
 *
 *     static const char *const labels[] = { "status", NULL };
 *     Metric *executions;
 *     metrics_register(reg, METRIC_COUNTER, "aegis_executions_total", "Executions finished, by status.",
 *                      labels, NULL, 0, &executions);
 *     metric_add(executions, METRIC_LABELS("completed"), 1);
 *
 * Values computed at scrape time (process figures, live executions) come from collectors that
 * run just before rendering and metric_set() their gauges. Single-threaded like the daemon.
 * Invariants: names and label names are validated at registration; a family's series all
 * carry its label names in order; counters never go down (metric_add refuses negatives). */
#pragma once

#include <stdio.h>

#include "macros.h"

typedef enum MetricType {
        METRIC_COUNTER,
        METRIC_GAUGE,
        METRIC_HISTOGRAM,
        _METRIC_TYPE_MAX,
} MetricType;

typedef struct MetricsRegistry MetricsRegistry;
typedef struct Metric Metric;

/* Label values in the order of the family's label names (NULL for a family without labels). */
#define METRIC_LABELS(...) ((const char *const[]){ __VA_ARGS__, NULL })

int metrics_registry_new(MetricsRegistry **ret);
MetricsRegistry *metrics_registry_free(MetricsRegistry *reg);
DEFINE_TRIVIAL_CLEANUP_FUNC(MetricsRegistry *, metrics_registry_free);

/* label_names: NULL-terminated or NULL. buckets: upper bounds, ascending, for histograms
 * (NULL = the Prometheus defaults .005 … 10); +Inf is implicit. The returned Metric lives as
 * long as the registry. -EEXIST when the name is taken, -EINVAL on a bad name. */
int metrics_register(MetricsRegistry *reg, MetricType type, const char *name, const char *help,
                     const char *const *label_names, const double *buckets, size_t n_buckets, Metric **ret);

/* Counter/gauge: add v (counters: v ≥ 0). Set: gauges, and counters mirrored from a monotonic
 * source read at scrape time (the kernel's CPU time). Histogram: observe one value. */
int metric_add(Metric *m, const char *const *label_values, double v);
int metric_set(Metric *m, const char *const *label_values, double v);
int metric_observe(Metric *m, const char *const *label_values, double v);

typedef int (*MetricsCollectFunc)(MetricsRegistry *reg, void *userdata);
int metrics_add_collector(MetricsRegistry *reg, MetricsCollectFunc f, void *userdata);

/* Runs the collectors, then writes every family (sorted by registration). */
int metrics_render(MetricsRegistry *reg, FILE *f);
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Registers aegis_build_info{version} and the process_* families (CPU seconds, resident and
 * virtual memory, open and max fds, start time), refreshed at each scrape from /proc/self. */
int metrics_register_process(MetricsRegistry *reg, const char *version);
