/* executions.c — wires the executions subsystem into aegisd: store, supervisor, routes,
 * metrics, idle-exit hook. */
#include <errno.h>
#include <string.h>
#include <systemd/sd-daemon.h>

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
                if (k < 0)
                        log_warning_errno(k, "Cannot register the execution metrics: %m");
                (void) metrics_add_collector(d->registry, collect_active, x);
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
