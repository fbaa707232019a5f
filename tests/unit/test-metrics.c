/* test-metrics.c — the Prometheus registry: exposition text exactly, label escaping,
 * cumulative histogram buckets, collectors, and the refusals (bad names, duplicate
 * families, counters going down, wrong label counts). */
#include <math.h>
#include <string.h>

#include "metrics.h"
#include "test-main.h"
#include "util.h"

static char *render(MetricsRegistry *reg) {
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(metrics_render(reg, f), 0);
        ck_assert_int_eq(fclose(f), 0);
        return out;
}

START_TEST(test_metrics_counter_and_gauge_exposition) {
        static const char *const labels[] = { "status", NULL };
        _cleanup_(metrics_registry_freep) MetricsRegistry *reg = NULL;
        _cleanup_free_ char *out = NULL;
        Metric *c, *g;

        ck_assert_int_eq(metrics_registry_new(&reg), 0);
        ck_assert_int_eq(metrics_register(reg, METRIC_COUNTER, "aegis_executions_total",
                                          "Executions, by status.", labels, NULL, 0, &c),
                         0);
        ck_assert_int_eq(metrics_register(reg, METRIC_GAUGE, "aegis_execution_active", "Live executions.",
                                          NULL, NULL, 0, &g),
                         0);
        ck_assert_int_eq(metric_add(c, METRIC_LABELS("completed"), 2), 0);
        ck_assert_int_eq(metric_add(c, METRIC_LABELS("failed"), 1), 0);
        ck_assert_int_eq(metric_add(c, METRIC_LABELS("completed"), 1), 0);
        ck_assert_int_eq(metric_add(c, METRIC_LABELS("quote\"back\\slash\nnl"), 0.5), 0);
        ck_assert_int_eq(metric_set(g, NULL, 3), 0);
        ck_assert_int_eq(metric_add(g, NULL, -1), 0);
        out = render(reg);
        ck_assert_str_eq(out, "# HELP aegis_executions_total Executions, by status.\n"
                              "# TYPE aegis_executions_total counter\n"
                              "aegis_executions_total{status=\"completed\"} 3\n"
                              "aegis_executions_total{status=\"failed\"} 1\n"
                              "aegis_executions_total{status=\"quote\\\"back\\\\slash\\nnl\"} 0.5\n"
                              "# HELP aegis_execution_active Live executions.\n"
                              "# TYPE aegis_execution_active gauge\n"
                              "aegis_execution_active 2\n");
}
END_TEST

START_TEST(test_metrics_histogram_buckets_are_cumulative) {
        static const char *const labels[] = { "op", NULL };
        static const double buckets[] = { 0.125, 1 };
        _cleanup_(metrics_registry_freep) MetricsRegistry *reg = NULL;
        _cleanup_free_ char *out = NULL;
        Metric *h;

        ck_assert_int_eq(metrics_registry_new(&reg), 0);
        ck_assert_int_eq(metrics_register(reg, METRIC_HISTOGRAM, "aegis_op_seconds", "Op time.", labels,
                                          buckets, 2, &h),
                         0);
        ck_assert_int_eq(metric_observe(h, METRIC_LABELS("read"), 0.0625), 0);
        ck_assert_int_eq(metric_observe(h, METRIC_LABELS("read"), 0.5), 0);
        ck_assert_int_eq(metric_observe(h, METRIC_LABELS("read"), 7), 0);
        ck_assert_int_eq(metric_observe(h, METRIC_LABELS("read"), 0.125), 0); /* le is inclusive */
        out = render(reg);
        ck_assert_str_eq(out, "# HELP aegis_op_seconds Op time.\n"
                              "# TYPE aegis_op_seconds histogram\n"
                              "aegis_op_seconds_bucket{op=\"read\",le=\"0.125\"} 2\n"
                              "aegis_op_seconds_bucket{op=\"read\",le=\"1\"} 3\n"
                              "aegis_op_seconds_bucket{op=\"read\",le=\"+Inf\"} 4\n"
                              "aegis_op_seconds_sum{op=\"read\"} 7.6875\n"
                              "aegis_op_seconds_count{op=\"read\"} 4\n");
}
END_TEST

static int collect(MetricsRegistry *reg, void *userdata) {
        return metric_set(userdata, NULL, 42);
}

START_TEST(test_metrics_collector_runs_at_render) {
        _cleanup_(metrics_registry_freep) MetricsRegistry *reg = NULL;
        _cleanup_free_ char *out = NULL;
        Metric *g;

        ck_assert_int_eq(metrics_registry_new(&reg), 0);
        ck_assert_int_eq(metrics_register(reg, METRIC_GAUGE, "x", "", NULL, NULL, 0, &g), 0);
        ck_assert_int_eq(metrics_add_collector(reg, collect, g), 0);
        out = render(reg);
        ck_assert_ptr_nonnull(strstr(out, "\nx 42\n"));
}
END_TEST

START_TEST(test_metrics_refusals) {
        static const char *const labels[] = { "a", NULL };
        static const char *const bad_labels[] = { "__reserved", NULL };
        static const char *const le[] = { "le", NULL };
        static const double unsorted[] = { 1, 0.5 };
        _cleanup_(metrics_registry_freep) MetricsRegistry *reg = NULL;
        Metric *c, *h;

        ck_assert_int_eq(metrics_registry_new(&reg), 0);
        ck_assert_int_eq(metrics_register(reg, METRIC_COUNTER, "9lives", "", NULL, NULL, 0, NULL), -EINVAL);
        ck_assert_int_eq(metrics_register(reg, METRIC_COUNTER, "has-dash", "", NULL, NULL, 0, NULL),
                         -EINVAL);
        ck_assert_int_eq(metrics_register(reg, METRIC_COUNTER, "ok", "", bad_labels, NULL, 0, NULL),
                         -EINVAL);
        ck_assert_int_eq(metrics_register(reg, METRIC_HISTOGRAM, "h", "", le, NULL, 0, NULL), -EINVAL);
        ck_assert_int_eq(metrics_register(reg, METRIC_HISTOGRAM, "h", "", NULL, unsorted, 2, NULL), -EINVAL);
        ck_assert_int_eq(metrics_register(reg, METRIC_COUNTER, "c", "", labels, NULL, 0, &c), 0);
        ck_assert_int_eq(metrics_register(reg, METRIC_GAUGE, "c", "", NULL, NULL, 0, NULL), -EEXIST);
        ck_assert_int_eq(metric_add(c, METRIC_LABELS("x"), -1), -EINVAL);
        ck_assert_int_eq(metric_add(c, NULL, 1), -EINVAL);
        ck_assert_int_eq(metric_add(c, METRIC_LABELS("x", "y"), 1), -EINVAL);
        ck_assert_int_eq(metric_observe(c, METRIC_LABELS("x"), 1), -EINVAL);
        ck_assert_int_eq(metrics_register(reg, METRIC_HISTOGRAM, "h", "", NULL, NULL, 0, &h), 0);
        ck_assert_int_eq(metric_observe(h, NULL, NAN), -EINVAL);
        ck_assert_int_eq(metric_set(h, NULL, 1), -EINVAL);
}
END_TEST

START_TEST(test_metrics_process_families) {
        _cleanup_(metrics_registry_freep) MetricsRegistry *reg = NULL;
        _cleanup_free_ char *out = NULL;

        ck_assert_int_eq(metrics_registry_new(&reg), 0);
        ck_assert_int_eq(metrics_register_process(reg, "1.2.3"), 0);
        out = render(reg);
        ck_assert_ptr_nonnull(strstr(out, "aegis_build_info{version=\"1.2.3\"} 1\n"));
        ck_assert_ptr_nonnull(strstr(out, "# TYPE process_cpu_seconds_total counter\n"));
        ck_assert_ptr_nonnull(strstr(out, "\nprocess_resident_memory_bytes "));
        ck_assert_ptr_nonnull(strstr(out, "\nprocess_open_fds "));
        ck_assert_ptr_nonnull(strstr(out, "\nprocess_max_fds "));
        ck_assert_ptr_nonnull(strstr(out, "\nprocess_start_time_seconds "));
}
END_TEST

int main(void) {
        Suite *s = suite_create("metrics");
        TCase *tc = tcase_create("metrics");

        tcase_add_test(tc, test_metrics_counter_and_gauge_exposition);
        tcase_add_test(tc, test_metrics_histogram_buckets_are_cumulative);
        tcase_add_test(tc, test_metrics_collector_runs_at_render);
        tcase_add_test(tc, test_metrics_refusals);
        tcase_add_test(tc, test_metrics_process_families);
        suite_add_tcase(s, tc);
        return run_suite(s);
}
