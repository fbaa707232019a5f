/* metrics.c — the Prometheus registry and text exposition (see metrics.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "util.h"

#define MAX_LABELS 8
#define MAX_BUCKETS 32
#define MAX_COLLECTORS 16

typedef struct Series {
        char **values; /* label values, one per label name */
        double value; /* counter/gauge */
        double sum; /* histogram */
        uint64_t count;
        uint64_t *bucket_counts; /* histogram: per bucket, not cumulative */
        struct Series *next;
} Series;

struct Metric {
        MetricType type;
        char *name, *help;
        char **label_names;
        size_t n_labels;
        double buckets[MAX_BUCKETS];
        size_t n_buckets;
        Series *series, *series_tail;
        Metric *next;
};

struct MetricsRegistry {
        Metric *metrics, *metrics_tail;
        struct {
                MetricsCollectFunc f;
                void *userdata;
        } collectors[MAX_COLLECTORS];
        size_t n_collectors;
};

static const char *const type_names[_METRIC_TYPE_MAX] = {
        [METRIC_COUNTER] = "counter",
        [METRIC_GAUGE] = "gauge",
        [METRIC_HISTOGRAM] = "histogram",
};

static const double default_buckets[] = { .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10 };

int metrics_registry_new(MetricsRegistry **ret) {
        MetricsRegistry *reg = calloc(1, sizeof *reg);
        if (!reg)
                return -ENOMEM;
        *ret = reg;
        return 0;
}

static void series_free(Series *s) {
        strv_free(s->values);
        free(s->bucket_counts);
        free(s);
}

MetricsRegistry *metrics_registry_free(MetricsRegistry *reg) {
        if (!reg)
                return NULL;
        for (Metric *m = reg->metrics, *mn; m; m = mn) {
                mn = m->next;
                for (Series *s = m->series, *sn; s; s = sn) {
                        sn = s->next;
                        series_free(s);
                }
                strv_free(m->label_names);
                free(m->name);
                free(m->help);
                free(m);
        }
        free(reg);
        return NULL;
}

static bool name_valid(const char *s, bool label) {
        if (isempty(s) || isdigit((unsigned char) s[0]))
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '_' && (label || *p != ':'))
                        return false;
        return !label || !startswith(s, "__");
}

int metrics_register(MetricsRegistry *reg, MetricType type, const char *name, const char *help,
                     const char *const *label_names, const double *buckets, size_t n_buckets, Metric **ret) {
        Metric *m;

        if (type < 0 || type >= _METRIC_TYPE_MAX || !name_valid(name, false))
                return -EINVAL;
        for (Metric *o = reg->metrics; o; o = o->next)
                if (streq(o->name, name))
                        return -EEXIST;
        if (type == METRIC_HISTOGRAM && !buckets) {
                buckets = default_buckets;
                n_buckets = ELEMENTSOF(default_buckets);
        }
        if (n_buckets > MAX_BUCKETS)
                return -E2BIG;
        for (size_t i = 1; i < n_buckets; i++)
                if (!(buckets[i] > buckets[i - 1]))
                        return -EINVAL;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->type = type;
        m->name = strdup(name);
        m->help = strdup(strempty(help));
        if (!m->name || !m->help)
                goto oom;
        for (size_t i = 0; label_names && label_names[i]; i++) {
                if (i >= MAX_LABELS || !name_valid(label_names[i], true) ||
                    (type == METRIC_HISTOGRAM && streq(label_names[i], "le"))) {
                        strv_free(m->label_names);
                        free(m->name);
                        free(m->help);
                        free(m);
                        return -EINVAL;
                }
                if (strv_extend(&m->label_names, label_names[i]) < 0)
                        goto oom;
                m->n_labels++;
        }
        if (type == METRIC_HISTOGRAM) {
                memcpy(m->buckets, buckets, n_buckets * sizeof(double));
                m->n_buckets = n_buckets;
        }
        if (reg->metrics_tail)
                reg->metrics_tail->next = m;
        else
                reg->metrics = m;
        reg->metrics_tail = m;
        if (ret)
                *ret = m;
        return 0;
oom:
        strv_free(m->label_names);
        free(m->name);
        free(m->help);
        free(m);
        return -ENOMEM;
}

/* The series for these label values, created on first use. */
static int series_get(Metric *m, const char *const *values, Series **ret) {
        size_t n = 0;
        Series *s;

        while (values && values[n])
                n++;
        if (n != m->n_labels)
                return -EINVAL;
        for (s = m->series; s; s = s->next) {
                bool same = true;
                for (size_t i = 0; i < n && same; i++)
                        same = streq(s->values[i], values[i]);
                if (same) {
                        *ret = s;
                        return 0;
                }
        }
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (strv_extend(&s->values, values[i]) < 0) {
                        series_free(s);
                        return -ENOMEM;
                }
        if (m->type == METRIC_HISTOGRAM) {
                s->bucket_counts = calloc(m->n_buckets + 1, sizeof(uint64_t));
                if (!s->bucket_counts) {
                        series_free(s);
                        return -ENOMEM;
                }
        }
        if (m->series_tail)
                m->series_tail->next = s;
        else
                m->series = s;
        m->series_tail = s;
        *ret = s;
        return 0;
}

int metric_add(Metric *m, const char *const *values, double v) {
        Series *s;
        int r;

        if (!m || m->type == METRIC_HISTOGRAM || (m->type == METRIC_COUNTER && !(v >= 0)))
                return -EINVAL;
        r = series_get(m, values, &s);
        if (r < 0)
                return r;
        s->value += v;
        return 0;
}

int metric_set(Metric *m, const char *const *values, double v) {
        Series *s;
        int r;

        if (!m || m->type == METRIC_HISTOGRAM)
                return -EINVAL;
        r = series_get(m, values, &s);
        if (r < 0)
                return r;
        s->value = v;
        return 0;
}

int metric_observe(Metric *m, const char *const *values, double v) {
        Series *s;
        size_t i;
        int r;

        if (!m || m->type != METRIC_HISTOGRAM || isnan(v))
                return -EINVAL;
        r = series_get(m, values, &s);
        if (r < 0)
                return r;
        for (i = 0; i < m->n_buckets && v > m->buckets[i]; i++)
                ;
        s->bucket_counts[i]++;
        s->sum += v;
        s->count++;
        return 0;
}

int metrics_add_collector(MetricsRegistry *reg, MetricsCollectFunc f, void *userdata) {
        if (reg->n_collectors >= MAX_COLLECTORS)
                return -E2BIG;
        reg->collectors[reg->n_collectors].f = f;
        reg->collectors[reg->n_collectors].userdata = userdata;
        reg->n_collectors++;
        return 0;
}

static void put_escaped(FILE *f, const char *s, bool quote) {
        for (; *s; s++) {
                if (*s == '\\')
                        fputs("\\\\", f);
                else if (*s == '\n')
                        fputs("\\n", f);
                else if (*s == '"' && quote)
                        fputs("\\\"", f);
                else
                        fputc(*s, f);
        }
}

/* The shortest text that reads back as the same double ("0.1", "3", "+Inf"). */
static const char *format_value(char buf[static 32], double v) {
        if (isnan(v))
                return "NaN";
        if (isinf(v))
                return v > 0 ? "+Inf" : "-Inf";
        if (v == floor(v) && fabs(v) < 1e15) {
                (void) snprintf(buf, 32, "%.0f", v);
                return buf;
        }
        for (int prec = 15; prec <= 17; prec++) {
                (void) snprintf(buf, 32, "%.*g", prec, v);
                if (strtod(buf, NULL) == v)
                        break;
        }
        return buf;
}

static void put_value(FILE *f, double v) {
        char buf[32];
        fputs(format_value(buf, v), f);
}

/* name{a="x",b="y"[,le="…"]} */
static void put_series_name(FILE *f, const Metric *m, const char *suffix, const Series *s, const char *le) {
        bool any = m->n_labels > 0 || le;

        fprintf(f, "%s%s", m->name, suffix);
        if (!any)
                return;
        fputc('{', f);
        for (size_t i = 0; i < m->n_labels; i++) {
                fprintf(f, "%s%s=\"", i ? "," : "", m->label_names[i]);
                put_escaped(f, s->values[i], true);
                fputc('"', f);
        }
        if (le)
                fprintf(f, "%sle=\"%s\"", m->n_labels ? "," : "", le);
        fputc('}', f);
}

int metrics_render(MetricsRegistry *reg, FILE *f) {
        for (size_t i = 0; i < reg->n_collectors; i++) {
                int r = reg->collectors[i].f(reg, reg->collectors[i].userdata);
                if (r < 0)
                        return r;
        }
        for (const Metric *m = reg->metrics; m; m = m->next) {
                fprintf(f, "# HELP %s ", m->name);
                put_escaped(f, m->help, false);
                fprintf(f, "\n# TYPE %s %s\n", m->name, type_names[m->type]);
                for (const Series *s = m->series; s; s = s->next) {
                        if (m->type != METRIC_HISTOGRAM) {
                                put_series_name(f, m, "", s, NULL);
                                fputc(' ', f);
                                put_value(f, s->value);
                                fputc('\n', f);
                                continue;
                        }
                        uint64_t cum = 0;
                        for (size_t b = 0; b <= m->n_buckets; b++) {
                                char le[32];
                                cum += s->bucket_counts[b];
                                put_series_name(
                                        f, m, "_bucket", s,
                                        format_value(le, b < m->n_buckets ? m->buckets[b] : INFINITY));
                                fprintf(f, " %" PRIu64 "\n", cum);
                        }
                        put_series_name(f, m, "_sum", s, NULL);
                        fputc(' ', f);
                        put_value(f, s->sum);
                        fputc('\n', f);
                        put_series_name(f, m, "_count", s, NULL);
                        fprintf(f, " %" PRIu64 "\n", s->count);
                }
        }
        return ferror(f) ? -EIO : 0;
}

/* ---- process metrics ---- */

typedef struct ProcessMetrics {
        Metric *cpu, *rss, *vsize, *fds, *max_fds, *start;
} ProcessMetrics;

static ProcessMetrics process_metrics;

static int collect_process(MetricsRegistry *reg, void *userdata) {
        ProcessMetrics *pm = userdata;
        _cleanup_free_ char *stat = NULL;
        unsigned long long utime, stime, starttime, vsize;
        long long rss;
        long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
        struct rlimit rl;
        const char *p;
        unsigned n_fds = 0;
        DIR *d;

        if (read_full_file("/proc/self/stat", 4096, &stat, NULL) >= 0 && (p = strrchr(stat, ')')) &&
            sscanf(p + 2,
                   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu %llu "
                   "%lld",
                   &utime, &stime, &starttime, &vsize, &rss) == 5 &&
            ticks > 0) {
                _cleanup_free_ char *up = NULL;
                double uptime = 0;

                (void) metric_set(pm->cpu, NULL, (double) (utime + stime) / (double) ticks);
                (void) metric_set(pm->vsize, NULL, (double) vsize);
                (void) metric_set(pm->rss, NULL, (double) rss * (double) page);
                /* starttime is in ticks since boot: convert through the boot time. */
                if (read_full_file("/proc/uptime", 256, &up, NULL) >= 0 && sscanf(up, "%lf", &uptime) == 1) {
                        double boot = (double) time(NULL) - uptime;
                        (void) metric_set(pm->start, NULL, boot + (double) starttime / (double) ticks);
                }
        }
        d = opendir("/proc/self/fd");
        if (d) {
                for (struct dirent *de; (de = readdir(d));)
                        if (de->d_name[0] != '.')
                                n_fds++;
                closedir(d);
                (void) metric_set(pm->fds, NULL, (double) (n_fds > 0 ? n_fds - 1 : 0)); /* minus opendir's */
        }
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
                (void) metric_set(pm->max_fds, NULL, (double) rl.rlim_cur);
        return 0;
}

int metrics_register_process(MetricsRegistry *reg, const char *version) {
        static const char *const build_labels[] = { "version", NULL };
        ProcessMetrics *pm = &process_metrics;
        Metric *build;
        int r;

        r = metrics_register(reg, METRIC_GAUGE, "aegis_build_info", "AEGIS build information; always 1.",
                             build_labels, NULL, 0, &build);
        if (r < 0)
                return r;
        r = metric_set(build, METRIC_LABELS(version), 1);
        if (r < 0)
                return r;
        if ((r = metrics_register(reg, METRIC_COUNTER, "process_cpu_seconds_total",
                                  "Total user and system CPU time spent in seconds.", NULL, NULL, 0,
                                  &pm->cpu)) < 0 ||
            (r = metrics_register(reg, METRIC_GAUGE, "process_resident_memory_bytes",
                                  "Resident memory size in bytes.", NULL, NULL, 0, &pm->rss)) < 0 ||
            (r = metrics_register(reg, METRIC_GAUGE, "process_virtual_memory_bytes",
                                  "Virtual memory size in bytes.", NULL, NULL, 0, &pm->vsize)) < 0 ||
            (r = metrics_register(reg, METRIC_GAUGE, "process_open_fds", "Number of open file descriptors.",
                                  NULL, NULL, 0, &pm->fds)) < 0 ||
            (r = metrics_register(reg, METRIC_GAUGE, "process_max_fds",
                                  "Maximum number of open file descriptors.", NULL, NULL, 0, &pm->max_fds)) <
                    0 ||
            (r = metrics_register(reg, METRIC_GAUGE, "process_start_time_seconds",
                                  "Start time of the process since unix epoch in seconds.", NULL, NULL, 0,
                                  &pm->start)) < 0)
                return r;
        return metrics_add_collector(reg, collect_process, pm);
}
