/* aegis-reaper — one reconciliation pass (reconcile.h), run by aegis-reaper.timer every
 * 5 minutes: removes orphaned aegis.managed=true containers, fixes execution rows whose
 * container vanished, deletes expired ephemeral volumes and leaked engine volumes
 * (aegis-vol-*), logs one summary line with
 * REAPED= KEPT= QUARANTINED= fields, and prints the report (text or JSON).
 *
 * Unless --dry-run, each run that got as far as reaching Podman or the store is recorded in the
 * store (store_reaper_run_put: this host's last run, ok or not, with its counts), which aegisd
 * exposes as the aegis_reaper_last_run_* metrics.
 *
 * Exit status (aegis-reaper(8)): 0 the pass did its job; 1 the store failed mid-pass;
 * 2 usage; 69 Podman unreachable; 75 the store could not be opened; 78 bad configuration, or
 * the configured store had no schema while Podman has aegis containers or engine volumes (it
 * is not the daemon's store: nothing is removed, and the schema is not created). */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "log.h"
#include "podman.h"
#include "reconcile.h"
#include "store.h"
#include "util.h"
#include "volume-userns.h"

#define EXIT_USAGE 2
#define EXIT_PODMAN 69 /* EX_UNAVAILABLE */
#define EXIT_STORE 75 /* EX_TEMPFAIL */

typedef enum Output {
        OUTPUT_TEXT,
        OUTPUT_JSON,
} Output;

static void help(void) {
        printf("Usage: aegis-reaper [--config FILE] [--dry-run] [--output text|json]\n"
               "\n"
               "Remove orphaned AEGIS agent containers (label aegis.managed=true) whose execution\n"
               "is unknown, finished, or no longer has its container running; mark executions\n"
               "whose container was lost as failed; delete expired ephemeral volumes.\n"
               "\n"
               "  -c, --config FILE       read this configuration file\n"
               "  -n, --dry-run           decide and report, change nothing\n"
               "  -o, --output text|json  report format on standard output (default text)\n"
               "  -h, --help              show this help\n"
               "      --version           show the version\n"
               "\n"
               "See aegis-reaper(8).\n");
}

static int parse_args(int argc, char **argv, const char **ret_config, bool *ret_dry_run,
                      Output *ret_output) {
        enum { ARG_VERSION = 0x100 };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },    { "dry-run", no_argument, NULL, 'n' },
                { "output", required_argument, NULL, 'o' },    { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION }, {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "c:no:h", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        *ret_config = optarg;
                        break;
                case 'n':
                        *ret_dry_run = true;
                        break;
                case 'o':
                        if (streq(optarg, "text"))
                                *ret_output = OUTPUT_TEXT;
                        else if (streq(optarg, "json"))
                                *ret_output = OUTPUT_JSON;
                        else {
                                fprintf(stderr,
                                        "aegis-reaper: --output: expected text or json, got \"%s\"\n",
                                        optarg);
                                return -EINVAL;
                        }
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("aegis-reaper %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        fprintf(stderr, "Try 'aegis-reaper --help'.\n");
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "aegis-reaper: unexpected argument \"%s\"; try 'aegis-reaper --help'.\n",
                        argv[optind]);
                return -EINVAL;
        }
        return 1;
}

/* One line per notable container, then the summary with its journal fields. */
static void log_report(const ReconcileReport *rep) {
        char reaped[32], kept[32], quarantined[32], failed[32], lost[32], volumes[32], engine[48], other[32],
                dry[16];

        for (size_t i = 0; i < rep->n_containers; i++) {
                const ReconcileContainerReport *c = &rep->containers[i];
                _cleanup_free_ char *cid = asprintf_safe("CONTAINER_ID=%s", strempty(c->id));
                _cleanup_free_ char *eid = asprintf_safe("EXECUTION_ID=%s", strempty(c->execution_id));
                const char *const *fields = (cid && eid) ? LOG_FIELDS(cid, eid) : NULL;

                if (c->newly_quarantined)
                        log_fields(
                                LOG_WARNING, fields,
                                "Container %s (execution %s) could not be removed %u times in a row and is "
                                "quarantined: it is retried hourly without further warnings. Last error: %s",
                                c->id, strempty(c->execution_id), c->backoff.failures, strempty(c->error));
                else if (c->result == RECONCILE_RESULT_FAILED && !c->backoff.quarantined)
                        log_fields(LOG_WARNING, fields,
                                   "Failed to remove container %s (attempt %u, retry after %u min): %s",
                                   c->id, c->backoff.failures,
                                   (unsigned) (reconcile_backoff_delay_usec(c->backoff.failures) /
                                               (60 * USEC_PER_SEC)),
                                   strempty(c->error));
                else if (c->result == RECONCILE_RESULT_FAILED)
                        log_fields(LOG_DEBUG, fields, "Quarantined container %s still cannot be removed: %s",
                                   c->id, strempty(c->error));
                else if (c->result == RECONCILE_RESULT_REMOVED || c->result == RECONCILE_RESULT_WOULD_REMOVE)
                        log_fields(LOG_INFO, fields, "%s container %s (%s)",
                                   c->result == RECONCILE_RESULT_REMOVED ? "Removed" : "Would remove", c->id,
                                   reconcile_reason_to_string(c->decision.reason));
        }
        for (size_t i = 0; i < rep->n_executions; i++) {
                const ReconcileExecutionReport *x = &rep->executions[i];
                _cleanup_free_ char *eid = asprintf_safe("EXECUTION_ID=%s", x->id);
                log_fields(x->result == RECONCILE_RESULT_FAILED ? LOG_WARNING : LOG_NOTICE,
                           eid ? LOG_FIELDS(eid) : NULL,
                           "%s execution %s failed (%s): its container %s is gone%s%s",
                           x->result == RECONCILE_RESULT_MARKED ? "Marked" : "Would mark", x->id,
                           RECONCILE_REASON_CONTAINER_LOST, x->container ? x->container : "-",
                           x->error ? ": " : "", strempty(x->error));
        }
        for (size_t i = 0; i < rep->n_volumes; i++) {
                const ReconcileVolumeReport *v = &rep->volumes[i];
                if (v->result == RECONCILE_RESULT_FAILED)
                        log_warning("Failed to delete expired volume %s: %s", v->id, strempty(v->error));
                else if (v->result != RECONCILE_RESULT_KEPT)
                        log_info("%s expired volume %s (%s)",
                                 v->result == RECONCILE_RESULT_DELETED ? "Deleted" : "Would delete", v->id,
                                 strempty(v->path));
        }

        for (size_t i = 0; i < rep->n_engine_volumes; i++) {
                const ReconcileEngineVolumeReport *v = &rep->engine_volumes[i];
                if (v->result == RECONCILE_RESULT_FAILED)
                        log_warning("Failed to remove engine volume %s: %s", v->name, strempty(v->error));
                else if (v->result != RECONCILE_RESULT_KEPT)
                        log_info("%s leaked engine volume %s",
                                 v->result == RECONCILE_RESULT_REMOVED ? "Removed" : "Would remove",
                                 v->name);
        }

        snprintf(reaped, sizeof reaped, "REAPED=%u", rep->reaped);
        snprintf(kept, sizeof kept, "KEPT=%u", rep->kept);
        snprintf(quarantined, sizeof quarantined, "QUARANTINED=%u", rep->quarantined);
        snprintf(failed, sizeof failed, "FAILED=%u", rep->failed);
        snprintf(lost, sizeof lost, "LOST=%u", rep->lost);
        snprintf(volumes, sizeof volumes, "VOLUMES_DELETED=%u", rep->volumes_deleted);
        snprintf(engine, sizeof engine, "ENGINE_VOLUMES_REMOVED=%u", rep->engine_volumes_removed);
        snprintf(other, sizeof other, "OTHER_STORE=%u", rep->other_store);
        snprintf(dry, sizeof dry, "DRY_RUN=%d", rep->dry_run);
        log_fields(LOG_INFO,
                   LOG_FIELDS(reaped, kept, quarantined, failed, lost, volumes, engine, other, dry),
                   "%sReaped %u orphaned container(s), kept %u, %u quarantined, %u removal(s) failed; "
                   "%u execution(s) marked %s; %u expired volume(s) deleted; %u leaked engine volume(s) "
                   "removed",
                   rep->dry_run ? "Dry run: " : "", rep->reaped, rep->kept, rep->quarantined, rep->failed,
                   rep->lost, RECONCILE_REASON_CONTAINER_LOST, rep->volumes_deleted,
                   rep->engine_volumes_removed);
}

static int print_report(const ReconcileReport *rep, Output output) {
        if (output == OUTPUT_JSON) {
                json_object *j = reconcile_report_to_json(rep);
                if (!j)
                        return log_error_errno(-ENOMEM, "Failed to build the JSON report: %m");
                puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(j);
        } else if (reconcile_report_print(rep, stdout) < 0)
                return log_error_errno(-EIO, "Failed to print the report: %m");
        return fflush(stdout) == 0 ? 0 : log_error_errno(-errno, "Failed to write the report: %m");
}

/* Records this run as this host's last one; a failure to do so is a warning (the pass itself is
 * what the exit status reports, and a stale aegis_reaper_last_run_timestamp_seconds shows it). */
static void record_run(Store *store, uint64_t started, bool ok, const ReconcileReport *rep) {
        char host[256] = {};
        _cleanup_free_ char *counts = reconcile_report_counts_json(rep);
        StoreReaperRun run = {
                .host = host,
                .started_at = started,
                .finished_at = now_usec(CLOCK_REALTIME),
                .ok = ok,
                .counts_json = counts,
        };
        int r;

        if (store_schema_version(store) == 0) /* a store without the schema is nobody's: no row */
                return;
        if (gethostname(host, sizeof host - 1) < 0 || isempty(host))
                snprintf(host, sizeof host, "localhost");
        r = counts ? store_reaper_run_put(store, &run) : -ENOMEM;
        if (r < 0)
                log_warning_errno(r, "Failed to record this run in the store: %s",
                                  r == -ENOMEM ? "out of memory" : store_last_error(store));
}

/* Podman is down: record the failed run if the store exists already (never create one, nor
 * its schema). */
static void record_failed_run(const char *url, uint64_t started) {
        _cleanup_(store_closep) Store *store = NULL;
        Error e = ERROR_INIT;

        if (store_url_names_missing_file(url))
                return;
        if (store_open_existing(url, &e, &store) < 0) {
                log_debug("Cannot record the failed run in the store: %s", e.message);
                return;
        }
        record_run(store, started, false, NULL);
}

int main(int argc, char **argv) {
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(podman_client_freep) PodmanClient *podman = NULL;
        _cleanup_(store_closep) Store *store = NULL;
        _cleanup_(reconcile_report_freep) ReconcileReport *rep = NULL;
        ReconcileOptions o;
        const char *config_path = NULL;
        Output output = OUTPUT_TEXT;
        bool dry_run = false;
        Error e = ERROR_INIT;
        uint64_t started = now_usec(CLOCK_REALTIME);
        int r;

        log_setup("aegis-reaper");
        r = parse_args(argc, argv, &config_path, &dry_run, &output);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;

        r = config_load(config_path, &config, &e);
        if (r < 0) {
                log_error("%s", e.message);
                return CONFIG_EXIT_STATUS;
        }
        log_set_max_level(config->logging.level);

        r = podman_client_new(config->runtime.container_socket_path, NULL, &podman);
        if (r < 0) {
                log_error_errno(r, "Failed to set up a client for the Podman API at %s: %m",
                                config->runtime.container_socket_path);
                return EXIT_PODMAN;
        }
        r = podman_ping(podman, 0, &e);
        if (r < 0) {
                log_error("Cannot reach the Podman API (runtime.container_socket_path=%s): %s",
                          config->runtime.container_socket_path, e.message);
                if (!dry_run)
                        record_failed_run(config->database.url, started);
                return EXIT_PODMAN;
        }

        /* Expired volumes of a rootless Podman older than 4.3 hold the agent's files, which
         * only its user namespace lets us remove (volume-userns.h), as aegisd does. */
        {
                PodmanInfo info;
                const PodmanVersion *pv =
                        podman_version(podman, NULL, NULL) >= 0 ? podman_client_version(podman) : NULL;
                if (podman_info(podman, &info, NULL) >= 0 &&
                    volume_userns_setup(info.rootless, pv && pv->engine == PODMAN_ENGINE_DOCKER,
                                        !pv || pv->keep_id_uid, config->runtime.engine_pause_pid_file) < 0) {
                        log_error_errno(-ENOMEM, "Out of memory");
                        return EXIT_FAILURE;
                }
        }

        /* Never creates the schema: a new database stays new, and is refused again next time. */
        r = store_open_existing(config->database.url, &e, &store);
        if (r < 0) {
                _cleanup_free_ char *url = store_url_redact(config->database.url);
                log_error("Cannot open the execution store (database.url=%s): %s", url ? url : "?",
                          e.message);
                return EXIT_STORE;
        }

        reconcile_options_from_config(config, &o);
        o.dry_run = dry_run;
        r = reconcile_run(podman, store, &o, &rep, &e);
        if (!dry_run)
                record_run(store, started, r >= 0, rep);
        if (rep) {
                log_report(rep);
                (void) print_report(rep, output);
        }
        if (r == -EMEDIUMTYPE) {
                log_error("%s", e.message);
                return CONFIG_EXIT_STATUS;
        }
        if (r < 0) {
                log_error("Reconciliation failed: %s", e.message);
                if (streq(e.field, "runtime.container_socket_path"))
                        return EXIT_PODMAN;
                return rep ? EXIT_FAILURE : (streq(e.field, "database.url") ? EXIT_STORE : EXIT_FAILURE);
        }
        return EXIT_SUCCESS;
}
