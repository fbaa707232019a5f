/* executions.c — wires the executions subsystem into aegisd: store, supervisor, routes,
 * metrics, idle-exit hook. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "executions.h"
#include "log.h"
#include "podman.h"
#include "reconcile.h"
#include "util.h"

static void on_migration(unsigned version, unsigned target, void *userdata) {
        /* Migrations may be slow on a big PostgreSQL: tell systemd we are still starting. */
        (void) sd_notifyf(false,
                          "EXTEND_TIMEOUT_USEC=%" PRIu64 "\nSTATUS=Migrating the database to schema %u/%u",
                          (uint64_t) 120 * USEC_PER_SEC, version, target);
}

static bool executions_busy(void *userdata) {
        Executions *x = userdata;

        return supervisor_active(x->supervisor) > 0 || x->streams;
}

static int register_reaper_metrics(Executions *x, MetricsRegistry *reg) {
        static const char *const labels[] = { "action", NULL };
        int k;

        k = metrics_register(reg, METRIC_COUNTER, "aegis_reaper_containers_total",
                             "Containers looked at by aegisd's reconciliation, by what was done (removed, "
                             "failed, kept, skipped).",
                             labels, NULL, 0, &x->m_reaper_containers);
        if (k >= 0)
                k = metrics_register(
                        reg, METRIC_COUNTER, "aegis_reaper_engine_volumes_total",
                        "Engine volumes aegis-vol-* looked at by aegisd's reconciliation, by what "
                        "was done (removed, failed, kept).",
                        labels, NULL, 0, &x->m_reaper_engine_volumes);
        if (k < 0)
                return k;
        /* The series alerts look at exist from the start, at 0. */
        (void) metric_add(x->m_reaper_containers, METRIC_LABELS("removed"), 0);
        (void) metric_add(x->m_reaper_containers, METRIC_LABELS("failed"), 0);
        (void) metric_add(x->m_reaper_engine_volumes, METRIC_LABELS("removed"), 0);
        (void) metric_add(x->m_reaper_engine_volumes, METRIC_LABELS("failed"), 0);
        return 0;
}

/* The timer's runs are another process's: aegisd only ever sees the last one (it may have been
 * idle-exited through many), so they are gauges of that run, not counters. */
static int register_last_run_metrics(Executions *x, MetricsRegistry *reg) {
        static const char *const labels[] = { "action", NULL };
        static const struct {
                const char *name, *help;
                bool labelled;
                size_t offset;
        } table[] = {
                { "aegis_reaper_last_run_timestamp_seconds",
                  "When this host's last aegis-reaper run finished (Unix time), ok or not.", false,
                  offsetof(Executions, m_last_run_ts) },
                { "aegis_reaper_last_success_timestamp_seconds",
                  "When this host's last successful aegis-reaper run finished (Unix time).", false,
                  offsetof(Executions, m_last_success_ts) },
                { "aegis_reaper_last_run_ok", "1 when this host's last aegis-reaper run succeeded, else 0.",
                  false, offsetof(Executions, m_last_run_ok) },
                { "aegis_reaper_last_run_duration_seconds",
                  "How long this host's last aegis-reaper run took.", false,
                  offsetof(Executions, m_last_run_duration) },
                { "aegis_reaper_last_run_containers",
                  "Containers looked at by this host's last aegis-reaper run, by what was done (removed, "
                  "failed, kept, skipped).",
                  true, offsetof(Executions, m_last_run_containers) },
                { "aegis_reaper_last_run_engine_volumes",
                  "Engine volumes aegis-vol-* looked at by this host's last aegis-reaper run, by what was "
                  "done (removed, failed, kept).",
                  true, offsetof(Executions, m_last_run_engine_volumes) },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int k = metrics_register(reg, METRIC_GAUGE, table[i].name, table[i].help,
                                         table[i].labelled ? labels : NULL, NULL, 0,
                                         (Metric **) ((char *) x + table[i].offset));
                if (k < 0)
                        return k;
        }
        return 0;
}

static void set_last_run_counts(Metric *m, json_object *counts, const char *const *actions) {
        json_object_iter it;

        for (; *actions; actions++) /* a result the last run did not have is 0 */
                (void) metric_set(m, METRIC_LABELS(*actions), 0);
        if (!json_object_is_type(counts, json_type_object))
                return;
        json_object_object_foreachC(counts, it)(void)
                metric_set(m, METRIC_LABELS(it.key), (double) json_object_get_int64(it.val));
}

static int collect_last_run(MetricsRegistry *reg, void *userdata) {
        Executions *x = userdata;
        _cleanup_(store_reaper_run_done) StoreReaperRun run = {};
        json_object *counts, *family;
        char host[256] = {};
        int k;

        if (!x->m_last_run_ts)
                return 0;
        if (gethostname(host, sizeof host - 1) < 0 || isempty(host))
                snprintf(host, sizeof host, "localhost");
        k = store_reaper_run_get(x->store, host, &run);
        if (k < 0) {
                if (k != -ENOENT) /* keep what the last scrape showed */
                        log_debug_errno(k, "Cannot read the reaper's last run: %s",
                                        store_last_error(x->store));
                return 0;
        }
        (void) metric_set(x->m_last_run_ts, NULL, (double) run.finished_at / USEC_PER_SEC);
        (void) metric_set(x->m_last_success_ts, NULL, (double) run.last_success_at / USEC_PER_SEC);
        (void) metric_set(x->m_last_run_ok, NULL, run.ok ? 1 : 0);
        (void) metric_set(x->m_last_run_duration, NULL,
                          run.finished_at > run.started_at
                                  ? (double) (run.finished_at - run.started_at) / USEC_PER_SEC
                                  : 0);
        counts = json_tokener_parse(run.counts_json);
        set_last_run_counts(x->m_last_run_containers,
                            json_object_object_get_ex(counts, "containers", &family) ? family : NULL,
                            METRIC_LABELS("removed", "failed", "kept", "skipped"));
        set_last_run_counts(x->m_last_run_engine_volumes,
                            json_object_object_get_ex(counts, "engine_volumes", &family) ? family : NULL,
                            METRIC_LABELS("removed", "failed", "kept"));
        json_object_put(counts);
        return 0;
}

static void count_reconcile(Executions *x, const ReconcileReport *rep) {
        if (!x->m_reaper_containers || !rep)
                return;
        for (size_t i = 0; i < rep->n_containers; i++)
                (void) metric_add(x->m_reaper_containers,
                                  METRIC_LABELS(reconcile_result_to_string(rep->containers[i].result)), 1);
        for (size_t i = 0; i < rep->n_engine_volumes; i++)
                (void) metric_add(x->m_reaper_engine_volumes,
                                  METRIC_LABELS(reconcile_result_to_string(rep->engine_volumes[i].result)),
                                  1);
}

static int collect_active(MetricsRegistry *reg, void *userdata) {
        Executions *x = userdata;

        supervisor_update_metrics(x->supervisor);
        return 0;
}

int executions_new(Daemon *d, Executions **ret) {
        _cleanup_(executions_freep) Executions *x = NULL;
        _cleanup_free_ char *url = NULL, *redacted = NULL;
        const Config *c = d->config;
        SupervisorOptions o = {
                .max_concurrent = c->runtime.max_concurrent,
                .image_pull_timeout_usec = c->runtime.image_pull_timeout_secs * USEC_PER_SEC,
                .stop_timeout_secs = c->runtime.stop_timeout_secs,
                .network = c->runtime.network,
                .state_dir = c->state_dir,
                .storage_root = c->storage.root,
                .mount_mode = c->storage.mount_mode,
                .nfs_server_host = c->storage.nfs_server_host,
        };
        Error e = ERROR_INIT;
        const char *lease = getenv("AEGIS_LEASE_SECS");
        uint64_t secs;
        int k;

        x = calloc(1, sizeof *x);
        if (!x)
                return log_error_errno(-ENOMEM, "Out of memory");
        x->daemon = d;
        if (c->storage.nfs_listen_addr) {
                _cleanup_free_ char *host = NULL;
                (void) parse_listen_address(c->storage.nfs_listen_addr, &host, &o.nfs_port);
        }
        url = c->database.url ? strdup(c->database.url) : store_default_url(c->state_dir);
        if (!url)
                return log_error_errno(-ENOMEM, "Out of memory");
        redacted = store_url_redact(url);
        if (startswith(url, "sqlite://")) {
                _cleanup_free_ char *dir = strdup(url + strlen("sqlite://"));
                char *slash = dir ? strrchr(dir, '/') : NULL;
                if (slash && slash != dir) {
                        *slash = '\0';
                        (void) mkdir_p(dir, 0750);
                }
        }
        k = store_open_full(url, on_migration, x, &e, &x->store);
        if (k < 0)
                return log_error_errno(k, "Failed to open the store %s: %s", strempty(redacted), e.message);
        d->store = x->store; /* /health/ready pings it */
        log_info("store: %s at %s, schema %u", store_backend(x->store), strempty(redacted),
                 store_schema_version(x->store));
        if (lease && safe_atou64(lease, &secs) >= 0 && secs > 0)
                o.lease_usec = secs * USEC_PER_SEC;
        k = supervisor_new(d->event, x->store, d->podman, &o, &x->supervisor, &e);
        if (k < 0)
                return log_error_errno(k, "Failed to set up the supervisor: %s", e.message);
        if (d->registry) {
                k = supervisor_register_metrics(x->supervisor, d->registry);
                if (k >= 0)
                        k = register_reaper_metrics(x, d->registry);
                if (k >= 0)
                        k = register_last_run_metrics(x, d->registry);
                if (k < 0)
                        log_warning_errno(k, "Cannot register the execution metrics: %m");
                (void) metrics_add_collector(d->registry, collect_active, x);
                (void) metrics_add_collector(d->registry, collect_last_run, x);
        }
        k = http_server_add_routes(d->api, api_execution_routes, x);
        if (k >= 0)
                k = http_server_add_routes(d->api, api_agent_routes, x);
        if (k < 0)
                return log_error_errno(k, "Failed to add the execution routes: %m");
        k = daemon_add_busy_hook(d, executions_busy, x);
        if (k < 0)
                return log_error_errno(k, "Failed to add the idle-exit hook: %m");
        *ret = TAKE_PTR(x);
        return 0;
}

/* The third cleanup layer, once at start-up, before anything is claimed: containers whose
 * executions ended or vanished are removed (the reaper's rules, shared code). Rows are not
 * fixed here: the supervisor re-attaches to this node's running executions itself and fails
 * only the iteration whose container is gone. */
static void reconcile_at_start(Executions *x) {
        _cleanup_(reconcile_report_freep) ReconcileReport *report = NULL;
        ReconcileOptions o;
        Error e = ERROR_INIT;
        int k;

        reconcile_options_from_config(x->daemon->config, &o);
        o.owner = supervisor_node_id(x->supervisor);
        o.fix_rows = false;
        o.storage_root = NULL; /* volume expiry is the reaper timer's job */
        k = reconcile_run(x->daemon->podman, x->store, &o, &report, &e);
        count_reconcile(x, report);
        if (k == -EMEDIUMTYPE) {
                log_warning("start-up reconciliation: %s", e.message);
                return;
        }
        if (k < 0) {
                log_warning("start-up reconciliation failed: %s (the reaper will retry)", e.message);
                return;
        }
        if (report && (report->reaped || report->failed || report->quarantined ||
                       report->engine_volumes_removed || report->engine_volumes_failed))
                log_notice("start-up reconciliation: %u orphaned container(s) removed, %u kept, %u failed; "
                           "%u leaked engine volume(s) removed, %u failed",
                           report->reaped, report->kept, report->failed, report->engine_volumes_removed,
                           report->engine_volumes_failed);
}

int executions_start(Executions *x) {
        int k;

        reconcile_at_start(x);
        k = supervisor_start(x->supervisor);

        if (k < 0)
                return log_error_errno(k, "Failed to start the supervisor: %m");
        return 0;
}

Executions *executions_free(Executions *x) {
        if (!x)
                return NULL;
        api_close_streams(x);
        supervisor_free(x->supervisor);
        if (x->daemon && x->daemon->store == x->store)
                x->daemon->store = NULL;
        store_close(x->store);
        free(x);
        return NULL;
}
