/* executions.c — wires the executions subsystem into aegisd: supervisor, metrics, and the
 * answers the daemon (busy), the API files and D-Bus (active, list, cancel) ask for. The
 * store is the daemon's, lent. It calls no API file: the daemon serves the routes of
 * executions and agents (api-routes.h) and closes their streams before freeing it. */
#include <assert.h>
#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <unistd.h>

#include "executions.h"
#include "gateway.h"
#include "llm.h"
#include "run-dispatch.h"
#include "log.h"
#include "podman.h"
#include "reconcile.h"
#include "util.h"
#include "volume-mount.h"
#include "volume-userns.h"

bool executions_busy(const Executions *x) {
        assert(x);
        return supervisor_active(x->supervisor) > 0 || x->streams;
}

static struct RunDispatch *lookup_dispatch(const char *capability, void *userdata) {
        Executions *x = userdata;

        return supervisor_find_dispatch(x->supervisor, capability);
}

static int model_generate(void *model, const char *alias, json_object *messages, json_object *tools,
                          LlmConversation *conv, uint64_t timeout_usec, llm_done_fn done, void *userdata,
                          LlmCall **ret) {
        return llm_generate(model, alias, messages, tools, conv, timeout_usec, done, userdata, ret);
}

/* The LLM client of llm.providers (none configured: inner-loop manifests are refused). */
static int open_llm(Executions *x, MetricsRegistry *reg) {
        static RunDispatchModel model = {
                .generate = model_generate,
                .cancel = llm_call_cancel,
                .error_tag = llm_error_tag,
                .error_status = llm_error_http_status,
        };
        const Config *c = x->config;
        Error e = ERROR_INIT;
        int k;

        if (c->llm.n_providers == 0) {
                log_info("No LLM provider configured (llm.providers): inner-loop manifests will be refused");
                return 0;
        }
        k = llm_client_new(x->event, c, &x->llm, &e);
        if (k < 0)
                return log_error_errno(k, "%s", e.message);
        if (reg && (k = llm_client_register_metrics(x->llm, reg)) < 0)
                log_warning_errno(k, "Cannot register the LLM metrics: %m");
        model.model = x->llm;
        x->model = &model;
        return 0;
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

int executions_new(const ExecutionsContext *ctx, Executions **ret) {
        _cleanup_(executions_freep) Executions *x = NULL;
        const Config *c;
        SupervisorOptions o;
        StorageMountMode mount_mode;
        const char *mount_why;
        bool userns, userns_rootless;
        VolumeUserns vmode;
        Error e = ERROR_INIT;
        int k;

        assert(ctx);
        assert(ctx->event);
        assert(ctx->config);
        assert(ctx->store);
        assert(ctx->podman);
        assert(ret);
        c = ctx->config;
        {
                /* storage.mount_mode auto: what the engine is decides. */
                PodmanInfo info;
                bool rootless = geteuid() != 0;
                int q = podman_info(ctx->podman, &info, NULL);
                /* Asked once here: the client keeps it (podman_client_version()). Unknown, the
                 * engine is taken for the Podman ≥ 4.3 the packages depend on. */
                const PodmanVersion *pv = podman_version(ctx->podman, NULL, NULL) >= 0
                                                  ? podman_client_version(ctx->podman)
                                                  : NULL;
                if (q >= 0)
                        rootless = info.rootless;
                mount_mode = storage_mount_mode_resolve(c->storage.mount_mode, rootless, &mount_why);
                log_info("volumes reach containers by %s mounts: %s%s",
                         storage_mount_mode_to_string(mount_mode), mount_why,
                         q < 0 ? " (the engine did not answer: taken as rootless only when aegisd is not "
                                 "root)"
                               : "");
                userns = c->runtime.user_namespace && !(pv && pv->engine == PODMAN_ENGINE_DOCKER);
                userns_rootless = rootless;
                /* Rootless and not root: the agent's ids are the engine user's subordinate
                 * ones, which aegisd cannot give a volume or touch its files with; keep-id
                 * makes the agent of a bind-mode volume this user, or (Podman < 4.3) the
                 * engine's user namespace lets us (volume-userns.h). */
                k = volume_userns_setup(rootless, pv && pv->engine == PODMAN_ENGINE_DOCKER,
                                        !pv || pv->keep_id_uid, c->runtime.engine_pause_pid_file);
                if (k < 0)
                        return log_error_errno(k, "Out of memory");
                vmode = (VolumeUserns) k;
                if (vmode == VOLUME_USERNS_KEEP_ID)
                        log_info("the rootless engine's containers with bind-mode volumes run as its own "
                                 "user (keep-id with the agent's uid:gid): their files are aegisd's");
                else if (vmode == VOLUME_USERNS_ENGINE)
                        log_info("volumes are worked on in the rootless engine's user namespace (its pause "
                                 "process is recorded in %s)",
                                 volume_userns_pid_file());
        }
        o = (SupervisorOptions){
                .max_concurrent = c->runtime.max_concurrent,
                .image_pull_timeout_usec = c->runtime.image_pull_timeout_secs * USEC_PER_SEC,
                .stats_interval_usec = c->runtime.stats_interval_secs * USEC_PER_SEC,
                .stop_timeout_secs = c->runtime.stop_timeout_secs,
                .network = c->runtime.network,
                .state_dir = c->state_dir,
                .lease_usec = c->runtime.lease_secs * USEC_PER_SEC,
                .storage_root = c->storage.root,
                .volume_max_entries = c->storage.volume_max_entries,
                .mount_mode = mount_mode,
                .nfs_server_host = c->storage.nfs_server_host,
                .userns = userns,
                /* Rootless: the engine's own namespace is 0 = its user, 1… its subordinate
                 * ids; the container's start at 1, so none of its ids is that user. */
                .userns_base = userns_rootless ? 1 : (uint32_t) c->runtime.user_namespace_base,
                /* In the namespace the volume is chowned in: the host's (rootful) or the
                 * engine's (rootless), where the agent's u is userns_base+u. Rootless with
                 * aegisd as root: the host's, where those ids are not the agent's (BUGS). */
                .volume_owner = { .mode = vmode,
                                  .shift = !userns            ? 0
                                           : !userns_rootless ? (uint32_t) c->runtime.user_namespace_base
                                           : vmode == VOLUME_USERNS_ENGINE ? 1
                                                                           : 0 },
        };
        x = calloc(1, sizeof *x);
        if (!x)
                return log_error_errno(-ENOMEM, "Out of memory");
        x->event = ctx->event;
        x->config = c;
        x->volume_owner = o.volume_owner;
        x->store = ctx->store;
        x->podman = ctx->podman;
        _cleanup_free_ char *nfs_listen_host = NULL;
        if (c->storage.nfs_listen_addr)
                (void) parse_listen_address(c->storage.nfs_listen_addr, &nfs_listen_host, &o.nfs_port);
        /* Without storage.nfs_server_host the host kernel mounts from where the gateway listens
         * (loopback by default, as aegis-nfs.socket does); only a wildcard listener leaves the
         * choice to the host's own address. */
        if (!o.nfs_server_host && nfs_listen_host && !streq(nfs_listen_host, "0.0.0.0") &&
            !streq(nfs_listen_host, "::") && !streq(nfs_listen_host, "[::]"))
                o.nfs_server_host = nfs_listen_host;
        /* Read once: every inner-loop container gets these bytes, whatever happens to the file. */
        k = read_full_file(c->runtime.bootstrap_binary, PODMAN_FILE_MAX, &x->bootstrap, &x->bootstrap_size);
        if (k < 0) {
                x->bootstrap_error = asprintf_safe("runtime.bootstrap_binary %s: %s",
                                                   c->runtime.bootstrap_binary, strerror(-k));
                log_warning("Cannot read %s: inner-loop manifests (spec.task without spec.runtime.command) "
                            "will be refused",
                            strempty(x->bootstrap_error));
        } else {
                o.bootstrap_binary = x->bootstrap;
                o.bootstrap_binary_size = x->bootstrap_size;
        }
        k = open_llm(x, ctx->registry);
        if (k < 0)
                return k;
        o.model = x->model;
        o.max_tool_rounds = (unsigned) c->llm.max_tool_rounds;
        o.config = c;
        /* web.search's key, read once like the LLM providers' (a missing one stops the start). */
        if (c->tools.web_search.endpoint && c->tools.web_search.api_key) {
                k = api_key_resolve(startswith(c->tools.web_search.api_key, "env:"),
                                    "tools.web_search.api_key", "tools.web_search", &x->web_search_key, &e);
                if (k < 0)
                        return log_error_errno(k, "%s", e.message);
        }
        o.web_search_key = x->web_search_key;
        k = supervisor_new(x->event, x->store, x->podman, &o, &x->supervisor, &e);
        if (k < 0)
                return log_error_errno(k, "Failed to set up the supervisor: %s", e.message);
        if (ctx->registry) {
                k = supervisor_register_metrics(x->supervisor, ctx->registry);
                if (k >= 0)
                        k = register_reaper_metrics(x, ctx->registry);
                if (k >= 0)
                        k = register_last_run_metrics(x, ctx->registry);
                if (k < 0)
                        log_warning_errno(k, "Cannot register the execution metrics: %m");
                (void) metrics_add_collector(ctx->registry, collect_active, x);
                (void) metrics_add_collector(ctx->registry, collect_last_run, x);
        }
        k = gateway_new(x->event, c->state_dir, ctx->registry, lookup_dispatch, x, &x->gateway);
        if (k < 0)
                return k;
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

        reconcile_options_from_config(x->config, &o);
        o.owner = supervisor_node_id(x->supervisor);
        o.fix_rows = false;
        o.storage_root = NULL; /* volume expiry is the reaper timer's job */
        k = reconcile_run(x->podman, x->store, &o, &report, &e);
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

void executions_record_engine(Executions *x, const PodmanInfo *i) {
        assert(x);
        assert(i);
        x->engine = *i;
        x->engine_known = true;
}

int executions_unenforced_limits(Executions *x, char *buf, size_t size, const char **ret_why) {
        const char *why;

        assert(x);
        assert(ret_why);
        if (!x->engine_known) {
                PodmanInfo i;
                int k = podman_info(x->podman, &i, NULL);
                if (k < 0)
                        return k;
                executions_record_engine(x, &i);
        }
        why = podman_info_unenforced_limits(&x->engine, buf, size);
        *ret_why = why;
        return why ? 1 : 0;
}

/* Says at start whether the limits of agent containers will hold. */
static void check_engine_limits(Executions *x) {
        const char *why;
        char limits[64];
        int k = executions_unenforced_limits(x, limits, sizeof limits, &why);

        if (k < 0)
                log_warning_errno(k, "cannot ask the engine what limits it enforces (asked again at the "
                                     "next submission or readiness probe): %m");
        else if (k > 0 && x->config->runtime.allow_unenforced_limits)
                log_warning("the engine does not enforce these limits of agent containers: %s (%s); "
                            "running anyway: runtime.allow_unenforced_limits is true",
                            limits, why);
        else if (k > 0)
                log_error("the engine does not enforce these limits of agent containers: %s, so "
                          "submissions are refused with 503 and /health/ready fails: %s; or set "
                          "runtime.allow_unenforced_limits: true to run without them",
                          limits, why);
        else
                log_info("the engine enforces the memory, pids and cpu limits of agent containers "
                         "(cgroup v%u, %s)",
                         x->engine.cgroup_version, x->engine.rootless ? "rootless" : "rootful");
}

int executions_start(Executions *x) {
        int k;

        check_engine_limits(x);
        reconcile_at_start(x);
        k = supervisor_start(x->supervisor);

        if (k < 0)
                return log_error_errno(k, "Failed to start the supervisor: %m");
        return 0;
}

Executions *executions_free(Executions *x) {
        if (!x)
                return NULL;
        gateway_free(x->gateway); /* its waiting requests look their iteration up */
        supervisor_free(x->supervisor);
        free(x->bootstrap);
        free(x->bootstrap_error);
        llm_client_free(x->llm); /* after the supervisor: its runs cancelled their calls */
        api_key_free(x->web_search_key);
        free(x);
        return NULL;
}

/* ---- D-Bus (bus.h) ---- */

static unsigned bus_active_executions(void *userdata) {
        Executions *x = userdata;
        return supervisor_active(x->supervisor);
}

/* Appends the executions of one status (this node's when claimed_by is set) to *l. */
static int bus_list_status(Executions *x, ExecutionStatus status, const char *claimed_by, BusExecution **l,
                           size_t *n) {
        StoreExecutionFilter f = STORE_EXECUTION_FILTER_INIT;
        StoreExecution *a = NULL;
        size_t m = 0;
        int k;

        f.status = status;
        f.claimed_by = claimed_by;
        f.tenant_id = HTTP_TENANT_DEFAULT; /* the bus carries no token: tenant default only */
        f.limit = STORE_LIST_MAX;
        f.summary = true;
        k = store_execution_list(x->store, &f, &a, &m, NULL);
        if (k < 0)
                return k;
        for (size_t i = 0; i < m && k >= 0; i++) {
                BusExecution *grown = realloc(*l, (*n + 1) * sizeof **l);
                if (!grown) {
                        k = -ENOMEM;
                        break;
                }
                *l = grown;
                grown[*n] = (BusExecution){ .id = strdup(a[i].id),
                                            .state = strdup(execution_status_to_string(status)),
                                            .agent = strdup(strempty(a[i].agent_name)) };
                (*n)++;
                if (!grown[*n - 1].id || !grown[*n - 1].state || !grown[*n - 1].agent)
                        k = -ENOMEM;
        }
        store_execution_array_free(a, m);
        return k < 0 ? k : 0;
}

/* What runs on this node, then what waits for any node. */
static int bus_list_executions(void *userdata, BusExecution **ret, size_t *ret_n) {
        Executions *x = userdata;
        BusExecution *l = NULL;
        size_t n = 0;
        int k;

        k = bus_list_status(x, EXECUTION_RUNNING, supervisor_node_id(x->supervisor), &l, &n);
        if (k >= 0)
                k = bus_list_status(x, EXECUTION_PENDING, NULL, &l, &n);
        if (k < 0) {
                for (size_t i = 0; i < n; i++) {
                        free(l[i].id);
                        free(l[i].state);
                        free(l[i].agent);
                }
                free(l);
                return k;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

static int bus_cancel_execution(void *userdata, const char *id, Error *e) {
        Executions *x = userdata;
        StoreExecution ex = { 0 };
        bool mine;
        int k;

        /* The bus carries no token: it acts for tenant default only, and another tenant's
         * execution is as absent as a missing one (aegisd(8)). */
        k = store_execution_get(x->store, id, &ex);
        if (k == -ENOENT)
                return error_set(e, -ENOENT, "no execution %s", id);
        if (k < 0)
                return error_set(e, k, "cannot read execution %s: %s", id, store_last_error(x->store));
        mine = streq(isempty(ex.tenant_id) ? HTTP_TENANT_DEFAULT : ex.tenant_id, HTTP_TENANT_DEFAULT);
        store_execution_done(&ex);
        if (!mine)
                return error_set(e, -ENOENT, "no execution %s", id);
        return supervisor_cancel(x->supervisor, id, e);
}

void executions_bus_callbacks(Executions *x, BusCallbacks *ret) {
        assert(x);
        assert(ret);
        *ret = (BusCallbacks){ .active_executions = bus_active_executions,
                               .list_executions = bus_list_executions,
                               .cancel_execution = bus_cancel_execution,
                               .userdata = x };
}
