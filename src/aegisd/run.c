/* run.c — one execution's iteration loop (the seed's 100monkeys loop), as a state machine
 * driven by Podman callbacks and timers on the supervisor's sd-event loop.
 *
 * Invariants:
 *  - the container row is written before create, and every path after that goes through
 *    run_cleanup_container(), which removes the container (unless the manifest asked to keep
 *    failed ones) — so no error can leak a container; the iteration is decided (and the
 *    execution's end recorded) while the removal runs, and only what comes after it (the
 *    next iteration, freeing the Run) waits for the removal (run_after_cleanup());
 *    if aegisd dies in between, the container's row is still not "removed", the execution
 *    is terminal, and the reconciliation at start and the reaper remove it;
 *  - wait is issued before start (it blocks until the exit, and an early exit must not be
 *    missed);
 *  - one step operation (r->op) at a time, plus the wait and the log stream;
 *  - the first reason to end an iteration wins (timeout, cancel, error), later ones are
 *    ignored, so a timeout is never reported as a mere "exit code 137". */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "egress.h"
#include "gateway.h"
#include "host-match.h"
#include "json-util.h"
#include "log.h"
#include "prompt.h"
#include "policy.h"
#include "run-dispatch.h"
#include "run-inbox.h"
#include "run-judge.h"
#include "supervisor-internal.h"
#include "util.h"
#include "validate.h"

#define INPUT_ENV_MAX (32 * 1024) /* AEGIS_INPUT only when the input is at most this big */
#define FEEDBACK_TAIL_MAX (16 * 1024) /* output tail in feedback.json */
#define FLUSH_USEC (1 * USEC_PER_SEC) /* live output written to the store this often */
#define RUN_DIR_IN_CONTAINER "/run/aegis"
#define ENGINE_RETRY_USEC (1 * USEC_PER_SEC) /* Podman unreachable: try again this often… */
#define ENGINE_OUTAGE_MAX_USEC (120 * USEC_PER_SEC) /* …for this long, then fail the step */
#define PULL_EVENT_INTERVAL_USEC (500 * USEC_PER_MSEC) /* image_pull_progress at most 2/s (+ the final) */

static void run_iteration_step_create(Run *r);
static void run_collect(Run *r);
static void run_cleanup_container(Run *r);
static void run_finish(Run *r, ExecutionStatus status, const char *reason);
static void on_volumes_prepared(int k, const char *message, void *userdata);
static void on_volumes_released(int k, const char *message, void *userdata);
static void run_cleanup_done(Run *r);
static void run_pool_fallback(Run *r);
static void run_exit_report_reset(Run *r);
static void run_container_running(Run *r);
static void run_read_final_logs(Run *r);
static void run_container_created(Run *r, const char *container_id);
static void run_pool_attach(Run *r, char **env);
static void run_pool_abandon(Run *r);

/* The node's gate (RunHostOps.gate), for r. */
static void run_gate(Run *r, void (*fn)(Run *r)) {
        r->host.ops->gate(r->host.userdata, r, fn);
}

static void run_gate_cleanup(Run *r, void (*fn)(Run *r)) {
        r->host.ops->gate_cleanup(r->host.userdata, r, fn);
}

static void run_gate_release(Run *r) {
        r->host.ops->gate_release(r->host.userdata, r);
}

static void run_gate_forget(Run *r) {
        r->host.ops->gate_forget(r->host.userdata, r);
}

static char *output_tail(const char *s, size_t max) {
        size_t n = strlen(s);
        return strdup(n > max ? s + n - max : s);
}

static uint64_t now_rt(void) {
        return now_usec(CLOCK_REALTIME);
}

static void disarm(sd_event_source **s) {
        *s = sd_event_source_disable_unref(*s);
}

static void set_first(char **slot, const char *reason) {
        if (!*slot)
                *slot = strdup(reason);
}

void run_log(Run *r, int level, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL, *f1 = NULL, *f2 = NULL, *f3 = NULL;
        va_list ap;

        assert(r);
        assert(fmt);
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        f1 = asprintf_safe("EXECUTION_ID=%s", r->id);
        f2 = asprintf_safe("ITERATION=%u", r->iteration);
        f3 = asprintf_safe("CONTAINER_ID=%s", strempty(r->container_id));
        if (!msg || !f1 || !f2 || !f3)
                return;
        log_fields(level, LOG_FIELDS(f1, f2, f3), "execution %s: %s", r->id, msg);
}

void run_emit(Run *r, const char *type, json_object *payload) {
        const char *status = NULL, *reason = NULL;
        json_object *v;
        int k;

        assert(r);
        assert(type);
        if (!payload)
                payload = json_object_new_object();
        if (payload && json_object_object_get_ex(payload, "status", &v))
                status = json_object_get_string(v);
        if (payload && json_object_object_get_ex(payload, "reason", &v))
                reason = json_object_get_string(v);
        run_log(r, LOG_INFO, "%s%s%s%s%s", type, status ? " " : "", strempty(status), reason ? ": " : "",
                strempty(reason));
        k = r->host.ops->emit(r->host.userdata, r->id, r->iteration, r->container_id, type, payload);
        if (k < 0)
                run_log(r, LOG_WARNING, "cannot record event %s: %s", type, strerror(-k));
}

void run_op_begin(Run *r) {
        assert(r);

        r->op_started = now_usec(CLOCK_MONOTONIC);
}

void run_count_op(Run *r, const char *op, int k) {
        assert(r);
        assert(op);

        r->host.ops->count_container_op(r->host.userdata, op, k);
        if (r->op_started > 0)
                r->host.ops->observe_container_op(r->host.userdata, op,
                                                  now_usec(CLOCK_MONOTONIC) - r->op_started);
        r->op_started = 0;
}

/* ---- the callbacks of the run's parts (HACKING.md, "An iteration's parts") ---- */

static void on_volumes_log(void *userdata, int level, const char *message) {
        run_log(userdata, level, "%s", message);
}

static void on_volumes_count_op(void *userdata, const char *op, int k) {
        Run *r = userdata;
        r->host.ops->count_container_op(r->host.userdata, op, k);
}

static bool on_volumes_interrupted(void *userdata) {
        Run *r = userdata;
        return r->kill_reason;
}

int run_new(Supervisor *s, const RunHost *host, const StoreExecution *x, Run **ret) {
        _cleanup_(manifest_plan_freep) ManifestPlan *plan = NULL;
        Error e = ERROR_INIT;
        Run *r;
        int k;

        assert(s);
        assert(host);
        assert(host->ops);
        assert(x);
        assert(ret);
        k = manifest_parse(x->manifest_json, strlen(strempty(x->manifest_json)), "stored manifest", &plan,
                           &e);
        if (k < 0) {
                log_fields(LOG_ERR, LOG_FIELDS("EXECUTION_ID=%s"), "execution %s: %s", x->id, e.message);
                return k;
        }
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->sup = s;
        r->host = *host;
        memcpy(r->id, x->id, sizeof r->id);
        r->plan = TAKE_PTR(plan);
        r->input_json = strdup(x->input_json ? x->input_json : "null");
        r->agent_id = strdup(strempty(x->agent_id));
        r->manifest_json = strdup(strempty(x->manifest_json));
        r->tenant_id = strdup(isempty(x->tenant_id) ? "default" : x->tenant_id);
        r->exit_code = -1;
        r->prev_exit_code = -1;
        r->out.cap = r->err.cap = STORE_OUTPUT_MAX;
        if (!r->input_json || !r->agent_id || !r->manifest_json || !r->tenant_id) {
                run_free(r);
                return -ENOMEM;
        }
        r->judge_agents = (JudgeExecutionContext){
                .loop = s->event,
                .store = s->store,
                .ops = host->ops->judge_executions,
                .ops_userdata = host->userdata,
                .config = s->opts.config,
                .tenant_id = r->tenant_id,
                .execution_id = r->id,
        };
        k = run_volumes_new(
                &(RunVolumesContext){ .store = s->store,
                                      .podman = s->podman,
                                      .storage_root = s->storage_root,
                                      .mount_mode = s->opts.mount_mode,
                                      .owner = s->opts.volume_owner,
                                      .nfs_host = s->nfs_host,
                                      .nfs_port = s->opts.nfs_port,
                                      .max_entries = s->opts.volume_max_entries,
                                      .state_dir = s->state_dir,
                                      .tenant_id = isempty(x->tenant_id) ? "default" : x->tenant_id,
                                      .execution_id = r->id,
                                      .plan = r->plan,
                                      .log = on_volumes_log,
                                      .count_op = on_volumes_count_op,
                                      .interrupted = on_volumes_interrupted,
                                      .userdata = r },
                &r->volumes);
        if (k >= 0)
                k = run_inbox_new(
                        &(RunInboxContext){ .state_dir = s->state_dir, .engine_uid = s->engine_uid },
                        &r->inbox);
        if (k >= 0)
                k = run_stats_new(&(RunStatsContext){ .event = s->event,
                                                      .podman = s->podman,
                                                      .interval_usec = s->opts.stats_interval_usec,
                                                      .log = on_volumes_log,
                                                      .userdata = r },
                                  &r->stats);
        if (k < 0) {
                run_free(r);
                return k;
        }
        *ret = r;
        return 0;
}

/* ---- the egress proxy of a filtered network_policy (egress.h, aegisd(8)) ---- */

#define EGRESS_DIR "egress" /* under the state directory: one directory per execution */
#define EGRESS_IN_CONTAINER RUN_DIR_IN_CONTAINER "/egress"
#define EGRESS_PORT "18090" /* aegis-bootstrap --egress listens on 127.0.0.1:this */
#define EGRESS_PROXY_URL "http://127.0.0.1:" EGRESS_PORT

static char *egress_dir(Run *r) {
        _cleanup_free_ char *base = path_join(r->sup->state_dir, EGRESS_DIR);

        return base ? path_join(base, r->id) : NULL;
}

static void run_egress_close(Run *r) {
        _cleanup_free_ char *dir = NULL;

        if (!r->egress)
                return;
        r->egress = egress_proxy_free(r->egress);
        dir = egress_dir(r);
        if (dir)
                (void) rmdir(dir);
}

static bool on_egress_allowed(const char *host, void *userdata) {
        Run *r = userdata;

        return manifest_plan_host_allowed(r->plan, host);
}

static void on_egress_log(void *userdata, int level, const char *message) {
        run_log(userdata, level, "%s", message);
}

/* Listens for the container before it exists (and again after an aegisd restart: the
 * container mounts the directory, so a new socket in it is found). */
static int run_egress_open(Run *r) {
        _cleanup_free_ char *dir = NULL, *sock = NULL;
        int k;

        if (r->egress || manifest_plan_egress(r->plan) != MANIFEST_EGRESS_FILTERED)
                return 0;
        dir = egress_dir(r);
        sock = dir ? path_join(dir, EGRESS_SOCKET) : NULL;
        if (!sock)
                return -ENOMEM;
        k = mkdir_p_exact(dir, 0755);
        if (k < 0)
                return k;
        return egress_proxy_new(
                &(EgressContext){ .event = r->sup->event,
                                  .socket_path = sock,
                                  .allowed = on_egress_allowed,
                                  .allow_internal = r->sup->opts.config &&
                                                    r->sup->opts.config->security.allow_internal_egress,
                                  .log = on_egress_log,
                                  .connections = r->sup->m_egress,
                                  .userdata = r },
                &r->egress);
}

void run_free(Run *r) {
        if (!r)
                return;
        run_gate_forget(r);
        run_gate_release(r);
        podman_op_cancel(r->op);
        podman_op_cancel(r->wait_op);
        podman_op_cancel(r->logs_op);
        strv_free(r->pool_env);
        disarm(&r->iteration_timer);
        disarm(&r->overall_timer);
        disarm(&r->flush_timer);
        disarm(&r->probe_timer);
        disarm(&r->ended_timer);
        disarm(&r->report_event);
        run_dispatch_free(r->dispatch); /* before what its tools borrow */
        free(r->tool_volumes);
        run_volumes_free(r->volumes); /* cancels a quota check in progress */
        run_stats_free(r->stats);
        run_inbox_free(r->inbox);
        free(r->concluding_reason);
        free(r->concluding_final);
        run_egress_close(r);
        run_judge_free(r->judge);
        free(r->judged_output);
        free(r->judgement_json);
        free(r->tenant_id);
        manifest_plan_free(r->plan);
        free(r->input_json);
        free(r->agent_id);
        free(r->manifest_json);
        free(r->feedback_json);
        free(r->container_name);
        free(r->container_id);
        tail_reset(&r->out);
        tail_reset(&r->err);
        free(r->kill_reason);
        free(r->error_reason);
        free(r->prev_reason);
        free(r);
}

/* ---- timers ---- */

static int on_iteration_timeout(sd_event_source *es, uint64_t usec, void *userdata);
static int on_overall_timeout(sd_event_source *es, uint64_t usec, void *userdata);

static void arm_timer(Run *r, sd_event_source **slot, uint64_t deadline_realtime,
                      sd_event_time_handler_t cb) {
        uint64_t now = now_rt(), left = deadline_realtime > now ? deadline_realtime - now : 0;

        disarm(slot);
        (void) sd_event_add_time_relative(r->sup->event, slot, CLOCK_MONOTONIC, left, USEC_PER_MSEC * 10, cb,
                                          r);
}

static void flush_output(Run *r, IterationStatus status, const char *reason) {
        StoreIteration it = {
                .number = r->iteration,
                .status = status,
                .exit_code = r->exit_code,
                .reason = (char *) reason,
                .container_id = r->container_id,
                .stdout_text = (char *) tail_str(&r->out),
                .stderr_text = (char *) tail_str(&r->err),
                .judgement_json = r->judgement_json,
        };
        _cleanup_free_ char *usage = NULL;
        int k;

        memcpy(it.execution_id, r->id, sizeof it.execution_id);
        if (run_stats_usage_json(r->stats, streq_ptr(r->kill_reason, REASON_OOM), &usage) >= 0)
                it.usage_json = usage;
        k = store_iteration_update(r->sup->store, &it);
        if (k < 0)
                run_log(r, LOG_WARNING, "cannot record iteration %u: %s (%s)", r->iteration, strerror(-k),
                        store_last_error(r->sup->store));
        r->flushed_size = r->out.size + r->err.size;
}

static int on_flush(sd_event_source *es, uint64_t usec, void *userdata) {
        Run *r = userdata;

        if (r->out.size + r->err.size != r->flushed_size)
                flush_output(r, ITERATION_RUNNING, NULL);
        (void) sd_event_source_set_time_relative(es, FLUSH_USEC);
        (void) sd_event_source_set_enabled(es, SD_EVENT_ONESHOT); /* timers fire once per arming */
        return 0;
}

/* ---- Podman outages ---- */

/* k is a step's result: true when the engine could not be reached and the step should be
 * retried in ENGINE_RETRY_USEC rather than fail (the container runs on under conmon while the
 * API service restarts), for up to ENGINE_OUTAGE_MAX_USEC. */
static bool engine_outage_retry(Run *r, int k) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        if (!podman_error_unreachable(k) || r->lost_claim) {
                r->engine_down_since = 0;
                return false;
        }
        if (!r->engine_down_since) {
                r->engine_down_since = now;
                run_log(r, LOG_WARNING, "Podman does not answer: retrying for up to %u s",
                        (unsigned) (ENGINE_OUTAGE_MAX_USEC / USEC_PER_SEC));
        }
        return now - r->engine_down_since < ENGINE_OUTAGE_MAX_USEC;
}

static void engine_retry_later(Run *r, sd_event_time_handler_t cb) {
        disarm(&r->probe_timer);
        (void) sd_event_add_time_relative(r->sup->event, &r->probe_timer, CLOCK_MONOTONIC, ENGINE_RETRY_USEC,
                                          0, cb, r);
}

/* ---- kill, used by timeouts and cancel ---- */

static void on_killed(int k, const Error *e, void *userdata) {
        Run *r = userdata;

        r->op = NULL;
        run_count_op(r, "kill", k);
        if (k < 0 && !r->wait_done && engine_outage_retry(r, k)) {
                r->kill_pending = true; /* sent again when the wait is retried */
                return;
        }
        if (k < 0 && !r->wait_done) {
                /* Could not kill: force-remove it (which kills) once the wait gives up. */
                run_log(r, LOG_WARNING, "kill of %s failed: %s", strempty(r->container_id),
                        e ? e->message : "");
                set_first(&r->error_reason, "kill failed");
        }
}

static void run_judging_interrupted(Run *r);
static void run_pull_end(Run *r, const char *status);

/* Sends the kill, when the Run is still at a step where its container may run. */
static void run_kill_now(Run *r) {
        if (r->phase != PHASE_START && r->phase != PHASE_RUNNING)
                return; /* create in flight (checked on its answer) or already collecting */
        if (!r->container_id || r->op)
                return;
        run_log(r, LOG_INFO, "killing container %s (%s)", r->container_id, r->kill_reason);
        run_op_begin(r);
        if (podman_container_kill_async(r->sup->podman, r->container_id, NULL, on_killed, r, &r->op) < 0)
                r->op = NULL;
}

static void on_last_reading(void *userdata) {
        run_kill_now(userdata);
}

static void run_kill(Run *r, const char *reason) {
        set_first(&r->kill_reason, reason);
        if (r->phase == PHASE_JUDGE) {
                run_judging_interrupted(r);
                return;
        }
        if (r->phase == PHASE_IMAGE) {
                /* No container yet: stop pulling and decide. */
                podman_op_cancel(r->op);
                r->op = NULL;
                run_pull_end(r, "cancelled");
                r->pulling = false;
                run_collect(r);
                return;
        }
        if (r->phase == PHASE_CREATE && r->pool_env && r->logs_op && !r->op) {
                /* Waiting for the engine to attach to a pooled container: give it up. */
                podman_op_cancel(r->logs_op);
                r->logs_op = NULL;
                run_pool_abandon(r);
                return;
        }
        if (r->phase == PHASE_START && r->logs_op && !r->attached && !r->op) {
                /* Waiting for the engine to attach to a created container: never start it. */
                podman_op_cancel(r->logs_op);
                r->logs_op = NULL;
                run_gate_release(r);
                r->wait_done = r->logs_done = true;
                run_collect(r);
                return;
        }
        if (r->phase == PHASE_RUNNING && r->container_id && !r->op) {
                /* What it used until now, read while it still runs (at most RUN_STATS_LAST_USEC):
                 * the kill follows the reading, or already waits for one in flight. Once taken,
                 * the reading is not taken again this iteration (-ENOENT). */
                int k = run_stats_last(r->stats, on_last_reading, r);
                if (k >= 0 || k == -EBUSY)
                        return;
        }
        run_kill_now(r);
}

static bool overall_deadline_passed(Run *r) {
        return r->started_realtime &&
               now_rt() + USEC_PER_SEC / 2 >= r->started_realtime + r->plan->timeout_secs * USEC_PER_SEC;
}

static int on_iteration_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        Run *r = userdata;

        r->iteration_timer = sd_event_source_disable_unref(r->iteration_timer);
        if (overall_deadline_passed(r))
                r->overall_timeout = true; /* both deadlines at once: the execution's wins */
        run_log(r, LOG_NOTICE, "iteration %u hit its timeout of %" PRIu64 " s", r->iteration,
                r->plan->iteration_timeout_secs);
        run_kill(r, REASON_TIMEOUT);
        return 0;
}

static int on_overall_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        Run *r = userdata;

        r->overall_timer = sd_event_source_disable_unref(r->overall_timer);
        r->overall_timeout = true;
        run_log(r, LOG_NOTICE, "execution hit its timeout of %" PRIu64 " s", r->plan->timeout_secs);
        run_kill(r, REASON_TIMEOUT);
        return 0;
}

/* ---- the iteration ---- */

static void iteration_error(Run *r, const char *what, const Error *e) {
        _cleanup_free_ char *m = asprintf_safe("%s: %s", what, e && e->message[0] ? e->message : "failed");

        run_log(r, LOG_ERR, "iteration %u: %s", r->iteration, strempty(m));
        set_first(&r->error_reason, m ? m : what);
}

/* The exit report at the end of a stream's tail (exit-report.h), if any: taken off the
 * output, its status kept; true when it was there. */
static bool take_exit_report(Run *r, Tail *t) {
        const char *nonce = r->exit_nonce[0] ? r->exit_nonce : NULL;
        int status;

        if ((!nonce && !r->report_any) || !t->data || !exit_report_take(t->data, &t->size, nonce, &status))
                return false;
        r->reported_status = status;
        return true;
}

static void run_collect_reported(Run *r);

/* Both streams ended with the pooled command's exit report: it exited with
 * r->reported_status. The engine would say so only once the runtime has cleaned up after it
 * (about 0.6 s). What the attach brought is confirmed by the logs, read once more (they are
 * written before the attach is served): when they end with the report too, everything the
 * command wrote has been read and the iteration ends now; its container (aegis-bootstrap
 * exiting) is removed after, as always. */
static int on_exit_reported(sd_event_source *es, void *userdata) {
        Run *r = userdata;

        r->report_event = sd_event_source_disable_unref(r->report_event);
        /* A kill under way, the engine's answer already in, or a confirmation under way: the
         * path already taken decides. */
        if (r->phase != PHASE_RUNNING || r->wait_done || r->op || r->kill_reason || r->report_confirming)
                return 0;
        run_read_final_logs(r);
        r->report_confirming = r->logs_op != NULL;
        return 0;
}

/* When both streams have brought the report: on_exit_reported(), not from inside a stream's
 * own callback (which must not cancel it), and only once running (the report may come
 * before the engine has answered the upload of the files that started the command). */
static void run_exit_reported_soon(Run *r) {
        if (r->report_out && r->report_err && !r->report_event && r->phase == PHASE_RUNNING)
                (void) sd_event_add_defer(r->sup->event, &r->report_event, on_exit_reported, r);
}

static int on_log_data(PodmanStream stream, const void *p, size_t n, void *userdata) {
        Run *r = userdata;
        bool err = stream == PODMAN_STREAM_STDERR;
        bool *seen = err ? &r->report_err : &r->report_out;
        Tail *t = err ? &r->err : &r->out;
        int k;

        k = tail_append(t, p, n);
        if (k < 0 || !r->exit_nonce[0] || *seen || !take_exit_report(r, t))
                return k;
        *seen = true;
        run_exit_reported_soon(r);
        return 0;
}

/* ---- a created container's end, told by its attach ---- */

/* Its attach ends when its command has ended, but the runtime may not have reaped it yet:
 * inspect is asked again this often, this many times, before the wait is left to decide. */
#define ENDED_CHECK_USEC (20 * USEC_PER_MSEC)
#define ENDED_CHECKS_MAX 10

static void run_check_ended(Run *r);

static int on_ended_check_due(sd_event_source *es, uint64_t usec, void *userdata) {
        Run *r = userdata;

        r->ended_timer = sd_event_source_disable_unref(r->ended_timer);
        run_check_ended(r);
        return 0;
}

/* Exited, with the status conmon wrote (FinishedAt is set once Podman has read it): the
 * iteration ends now, its logs read once more. Still running: asked again shortly. Anything
 * else: the wait decides, as it would have without the attach. */
static void on_ended_inspected(int k, const PodmanContainer *ct, const Error *e, void *userdata) {
        Run *r = userdata;

        r->op = NULL;
        run_count_op(r, "inspect", k);
        if (r->phase != PHASE_RUNNING || r->wait_done)
                return; /* the wait answered meanwhile, and decided */
        if (k >= 0 && ct->status == PODMAN_STATUS_EXITED && ct->finished_usec > 0 && ct->exit_code >= 0) {
                podman_op_cancel(r->wait_op);
                r->wait_op = NULL;
                r->wait_done = true;
                r->exit_code = (int) ct->exit_code;
                r->exit_seen_by = "attach";
                if (ct->oom_killed)
                        set_first(&r->kill_reason, REASON_OOM);
                run_log(r, LOG_DEBUG, "container %s exited with status %d", strempty(r->container_id),
                        r->exit_code);
                disarm(&r->iteration_timer);
                run_read_final_logs(r);
                return;
        }
        if (r->kill_reason) { /* a kill that came meanwhile found the step busy: send it now */
                run_kill(r, r->kill_reason);
                return;
        }
        if (k >= 0 && ct->running && r->ended_checks < ENDED_CHECKS_MAX)
                (void) sd_event_add_time_relative(r->sup->event, &r->ended_timer, CLOCK_MONOTONIC,
                                                  ENDED_CHECK_USEC, 0, on_ended_check_due, r);
        else if (k < 0)
                run_log(r, LOG_DEBUG, "cannot inspect %s after its attach ended: %s; waiting for the engine",
                        strempty(r->container_id), e ? e->message : strerror(-k));
}

/* Podman's wait answers only once the engine has cleaned up after the container, 200–300 ms
 * after its command ended (Podman 4.3); inspect knows the status as soon as conmon wrote it. */
static void run_check_ended(Run *r) {
        if (r->phase != PHASE_RUNNING || r->wait_done || r->op || r->kill_reason || !r->container_id)
                return; /* the wait decides */
        r->ended_checks++;
        run_op_begin(r);
        if (podman_container_inspect_async(r->sup->podman, r->container_id, on_ended_inspected, r, &r->op) <
            0)
                r->op = NULL;
}

static void on_logs_done(int k, const PodmanLogs *logs, const Error *e, void *userdata) {
        Run *r = userdata;

        /* The stream ended by itself (the container stopped): the wait decides, or, for a
         * created container's attach, inspect may say at once. */
        r->logs_op = NULL;
        if (k < 0)
                run_log(r, LOG_DEBUG, "log stream of %s ended: %s", strempty(r->container_id),
                        e ? e->message : "");
        else if (r->attached && !r->pooled) {
                r->ended_checks = 0;
                run_check_ended(r);
        }
}

static void on_final_logs(int k, const PodmanLogs *logs, const Error *e, void *userdata) {
        Run *r = userdata;
        bool confirming = r->report_confirming;

        r->logs_op = NULL;
        r->logs_done = true;
        r->report_confirming = false;
        if (k < 0)
                run_log(r, LOG_WARNING, "cannot read the logs of %s: %s", strempty(r->container_id),
                        e ? e->message : "");
        /* A report the stream did not bring in time (or whose nonce died with an aegisd
         * restart) is not output either. */
        if (!r->report_out)
                r->report_out = take_exit_report(r, &r->out);
        if (!r->report_err)
                r->report_err = take_exit_report(r, &r->err);
        if (!confirming) {
                run_collect(r);
                return;
        }
        if (r->report_out && r->report_err && !r->wait_done && !r->kill_reason) {
                run_collect_reported(r);
                return;
        }
        /* The logs did not confirm the report (or a kill or the engine's answer came first):
         * the engine decides, as for a cold container (on_wait() reads the logs again). */
        run_log(r, LOG_DEBUG, "the logs of %s do not end with its exit report yet: waiting for the engine",
                strempty(r->container_id));
        r->report_out = r->report_err = false;
        if (r->wait_done)
                run_collect(r);
        else
                r->logs_done = false;
}

static void run_read_final_logs(Run *r) {
        PodmanLogOptions lo = {
                .follow = false,
                .max_bytes = 4096, /* we keep our own tail through on_chunk */
                .on_chunk = on_log_data,
                .chunk_userdata = r,
        };

        /* The followed stream may lag behind the exit: read the whole output once more, now
         * that it is complete, instead of waiting for the stream to notice. */
        podman_op_cancel(r->logs_op);
        r->logs_op = NULL;
        r->report_confirming = false;
        if (r->started && r->container_id) {
                tail_reset(&r->out);
                tail_reset(&r->err);
                r->report_out = r->report_err = false;
                r->logs_done = false;
                if (podman_container_logs_async(r->sup->podman, r->container_id, &lo, on_final_logs, r,
                                                &r->logs_op) >= 0)
                        return;
                r->logs_op = NULL;
        }
        r->logs_done = true;
        run_collect(r);
}

static void run_issue_wait(Run *r);

static int on_probe_retry(sd_event_source *es, uint64_t usec, void *userdata) {
        Run *r = userdata;

        r->probe_timer = sd_event_source_disable_unref(r->probe_timer);
        if (r->kill_pending && r->kill_reason && !r->op) {
                r->kill_pending = false;
                run_kill(r, r->kill_reason);
        }
        run_issue_wait(r);
        return 0;
}

/* Podman's wait sometimes answers exit code -1 for a container that just exited, before
 * the engine recorded its code: ask inspect, and wait again while it still runs. */
static void on_exit_probe(int k, const PodmanContainer *ct, const Error *e, void *userdata) {
        Run *r = userdata;

        r->op = NULL;
        if (k >= 0 && ct && (ct->status == PODMAN_STATUS_EXITED || ct->status == PODMAN_STATUS_DEAD) &&
            ct->exit_code >= 0) {
                r->exit_code = (int) ct->exit_code;
                if (ct->oom_killed)
                        set_first(&r->kill_reason, REASON_OOM);
                run_read_final_logs(r);
                return;
        }
        if (k >= 0 && r->wait_retries < 20) {
                r->wait_retries++;
                r->wait_done = false;
                (void) sd_event_add_time_relative(r->sup->event, &r->probe_timer, CLOCK_MONOTONIC,
                                                  100 * USEC_PER_MSEC, 0, on_probe_retry, r);
                return;
        }
        if (k < 0)
                iteration_error(r, "inspect", e);
        run_read_final_logs(r);
}

/* A pooled container's non-zero exit: when it ended before the iteration gave it its files,
 * it was dead when taken (killed or stopped behind aegisd's back) and the iteration takes
 * the cold path, as when it had vanished; otherwise the exit is the iteration's. */
static void on_pool_exit_probe(int k, const PodmanContainer *ct, const Error *e, void *userdata) {
        Run *r = userdata;

        if (k >= 0 && ct && ct->finished_usec > 0 && ct->finished_usec < r->pool_delivered_rt &&
            !r->kill_reason) {
                r->op = NULL;
                run_log(r, LOG_WARNING,
                        "pooled container %s had exited (status %" PRIi64
                        ") before it was taken; creating one",
                        strempty(r->container_id), ct->exit_code);
                run_stats_reset(r->stats);
                disarm(&r->iteration_timer);
                disarm(&r->flush_timer);
                r->exit_code = -1;
                run_pool_fallback(r);
                return;
        }
        on_exit_probe(k, ct, e, userdata);
}

static void on_wait(int k, int64_t exit_code, const Error *e, void *userdata) {
        Run *r = userdata;

        r->wait_op = NULL;
        r->wait_done = true;
        if (r->phase != PHASE_RUNNING && r->phase != PHASE_START)
                return;
        if (k < 0 && engine_outage_retry(r, k)) {
                r->wait_done = false;
                engine_retry_later(r, on_probe_retry);
                return;
        }
        r->engine_down_since = 0;
        if (k < 0) {
                iteration_error(r, "wait", e);
                disarm(&r->iteration_timer);
                run_read_final_logs(r);
                return;
        }
        r->exit_code = (int) exit_code;
        r->exit_seen_by = "wait";
        if (r->pooled && exit_code != 0 && !r->kill_reason && r->container_id && !r->op) {
                /* Did the member die (killed, stopped) before it was taken? inspect says when. */
                if (podman_container_inspect_async(r->sup->podman, r->container_id, on_pool_exit_probe, r,
                                                   &r->op) >= 0)
                        return;
                r->op = NULL;
        }
        if (exit_code < 0 && r->container_id && !r->op) {
                if (podman_container_inspect_async(r->sup->podman, r->container_id, on_exit_probe, r,
                                                   &r->op) >= 0)
                        return;
                r->op = NULL;
        }
        disarm(&r->iteration_timer);
        run_read_final_logs(r);
}

static void run_issue_wait(Run *r) {
        int k;

        /* Started (by us, ahead for a pool, or before a restart): no need to look for "created". */
        k = (r->started ? podman_container_wait_started_async : podman_container_wait_async)(
                r->sup->podman, r->container_id, (r->plan->timeout_secs + 300) * USEC_PER_SEC, on_wait, r,
                &r->wait_op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "cannot issue wait: %s", strerror(-k));
                r->wait_op = NULL;
                on_wait(k, -1, &e, r);
        }
}

/* How a Run streams its container's output while it runs (followed or attached): into its own
 * tails through on_log_data, for as long as the execution may last. */
static PodmanLogOptions run_stream_options(Run *r) {
        return (PodmanLogOptions){
                .max_bytes = 4096, /* we keep our own tail through on_chunk */
                .timeout_usec = (r->plan->timeout_secs + 300) * USEC_PER_SEC,
                .on_chunk = on_log_data,
                .chunk_userdata = r,
        };
}

/* Follow a started container: wait for its exit (condition not-running: Podman answers with
 * the recorded exit code even when it already exited, so starting first misses nothing;
 * waiting before start is racy on Podman 4.3, see podman.h) and stream its logs. */
static void run_follow(Run *r) {
        PodmanLogOptions lo = run_stream_options(r);
        int k;

        lo.follow = true;
        r->phase = PHASE_RUNNING;
        r->wait_retries = 0;
        if (run_stats_start(r->stats, r->container_id) < 0)
                run_log(r, LOG_WARNING, "cannot sample the container's stats: out of memory");
        /* A pooled container's output comes through the attach opened before its files. */
        k = r->attached ? 0
                        : podman_container_logs_async(r->sup->podman, r->container_id, &lo, on_logs_done, r,
                                                      &r->logs_op);
        if (k < 0) {
                r->logs_op = NULL;
                r->logs_done = true;
        }
        run_issue_wait(r);
        if (r->kill_reason && r->phase == PHASE_RUNNING) /* a timeout or cancel came while starting */
                run_kill(r, r->kill_reason);
        else
                run_exit_reported_soon(r); /* the attach may have brought it already */
}

/* The iteration's container runs (started now, or a pooled one that was started ahead and
 * has just been given its iteration's files): record it and follow it. */
static void run_container_running(Run *r) {
        int q;

        r->started = true;
        run_inbox_empty(r->inbox, r->container_name); /* its mounts hold the files from now on */
        q = store_container_update(r->sup->store, r->container_name, r->container_id, CONTAINER_RUNNING);
        if (q < 0)
                run_log(r, LOG_WARNING, "cannot record container %s running: %s", r->container_id,
                        strerror(-q));
        flush_output(r, ITERATION_RUNNING, NULL); /* the iteration shows its container from now on */
        run_emit(r, EVENT_CONTAINER_STARTED, NULL);
        run_follow(r);
}

static void on_started(int k, const Error *e, void *userdata) {
        Run *r = userdata;

        r->op = NULL;
        run_gate_release(r);
        run_count_op(r, "start", k);
        if (k < 0 && r->pooled && !r->kill_reason) {
                run_log(r, LOG_WARNING, "pooled container %s did not start: %s; creating one",
                        strempty(r->container_id), e ? e->message : strerror(-k));
                run_pool_fallback(r);
                return;
        }
        if (k < 0) {
                iteration_error(r, "start", e);
                r->wait_done = r->logs_done = true;
                run_collect(r);
                return;
        }
        run_container_running(r);
}

static void run_start(Run *r) {
        int k;

        run_op_begin(r);
        k = podman_container_start_async(r->sup->podman, r->container_id, on_started, r, &r->op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "%s", strerror(-k));
                r->op = NULL;
                on_started(k, &e, r);
        }
}

/* The engine attached to the created container (and prepared it for that: what start would
 * do first): it starts, its output streamed as written. */
static void on_created_attached(void *userdata) {
        Run *r = userdata;

        r->attached = true;
        run_start(r);
}

/* The attach ended. Once attached: the container ran and stopped (on_logs_done). Before: it
 * could not be attached to, and is started all the same, its output followed in its log;
 * what keeps it from running, start says. */
static void on_created_attach_done(int k, const PodmanLogs *logs, const Error *e, void *userdata) {
        Run *r = userdata;
        const char *why;

        if (r->attached) {
                on_logs_done(k, logs, e, userdata);
                return;
        }
        r->logs_op = NULL;
        why = k >= 0 ? "the engine ended the stream" : e ? e->message : strerror(-k);
        run_log(r, LOG_DEBUG, "cannot attach to container %s before its start: %s; following its log",
                strempty(r->container_id), why);
        run_start(r);
}

/* A created container is attached to before it starts: then the end of the stream says when
 * its command ended (run_check_ended), and its output arrives as it is written (a followed
 * log of Podman 4 polls its file every 250 ms). An attach to a container that has already
 * exited would prepare it to run again, so it can only come first. */
static void run_gated_start(Run *r) {
        PodmanLogOptions lo = run_stream_options(r);

        if (r->kill_reason) { /* timed out or cancelled while queued: never start it */
                run_gate_release(r);
                r->wait_done = r->logs_done = true;
                run_collect(r);
                return;
        }
        lo.attach = true;
        lo.on_attached = on_created_attached;
        r->attached = false;
        if (podman_container_logs_async(r->sup->podman, r->container_id, &lo, on_created_attach_done, r,
                                        &r->logs_op) < 0) {
                r->logs_op = NULL;
                run_start(r);
        }
}

static void run_arm_iteration(Run *r);

/* Attach to a container that exists: start it unless it ran, then follow it. */
static void run_attach(Run *r, bool needs_start) {
        run_arm_iteration(r);
        if (!needs_start) {
                r->started = true;
                run_follow(r);
                return;
        }
        r->phase = PHASE_START;
        run_gate(r, run_gated_start);
}

/* The iteration's timers, once its container exists. */
static void run_arm_iteration(Run *r) {
        r->wait_done = r->logs_done = r->started = false;
        arm_timer(r, &r->iteration_timer,
                  r->iteration_started_realtime + r->plan->iteration_timeout_secs * USEC_PER_SEC,
                  on_iteration_timeout);
        disarm(&r->flush_timer);
        (void) sd_event_add_time_relative(r->sup->event, &r->flush_timer, CLOCK_MONOTONIC, FLUSH_USEC, 0,
                                          on_flush, r);
}

/* The created container's own limits, as the engine set them: an engine that cannot enforce
 * one drops it (rootless Podman without delegated controllers, with only a line in its own
 * log). Not holding refuses the iteration, unless runtime.allow_unenforced_limits: then the
 * execution carries a limits_unenforced event naming them. An engine that cannot say refuses
 * too: what cannot be checked does not hold. */
static void on_created_inspected(int k, const PodmanContainer *ct, const Error *e, void *userdata) {
        Run *r = userdata;
        const Config *c = r->sup->opts.config;
        PodmanContainerSpec asked = { .memory_bytes = r->plan->memory_bytes,
                                      .pids_limit = r->plan->pids_limit,
                                      .nano_cpus = r->plan->nano_cpus };
        char limits[32];
        Error err = ERROR_INIT;

        r->op = NULL;
        run_count_op(r, "inspect", k);
        if (k < 0) {
                error_set(&err, k, "cannot check the limits of container %s: %s", strempty(r->container_id),
                          e && e->message[0] ? e->message : strerror(-k));
                iteration_error(r, "limits", &err);
                r->wait_done = r->logs_done = true;
                run_collect(r);
                return;
        }
        if (podman_container_limits_differ(&asked, ct, limits, sizeof limits) > 0) {
                if (c && c->runtime.allow_unenforced_limits) {
                        json_object *p = json_object_new_object();
                        run_log(r, LOG_WARNING,
                                "iteration %u: the engine did not apply these limits to container %s: %s; "
                                "running anyway (runtime.allow_unenforced_limits: true)",
                                r->iteration, strempty(r->container_id), limits);
                        if (p) {
                                json_object_object_add(p, "limits", json_object_new_string(limits));
                                json_object_object_add(
                                        p, "reason",
                                        json_object_new_string(
                                                "the engine did not apply them to the container"));
                        }
                        run_emit(r, EVENT_LIMITS_UNENFORCED, p);
                } else {
                        error_set(&err, -EOPNOTSUPP,
                                  "the engine did not apply these limits to container %s: %s (it cannot "
                                  "enforce them: see aegis doctor's engine-limits); set "
                                  "runtime.allow_unenforced_limits: true to run without them",
                                  strempty(r->container_id), limits);
                        iteration_error(r, "limits", &err);
                        r->wait_done = r->logs_done = true;
                        run_collect(r);
                        return;
                }
        }
        if (r->cancel_requested || r->kill_reason) {
                r->wait_done = r->logs_done = true;
                run_collect(r);
                return;
        }
        run_attach(r, true);
}

static void on_created(int k, const char *container_id, const Error *e, void *userdata) {
        Run *r = userdata;

        r->op = NULL;
        run_gate_release(r);
        run_count_op(r, "create", k);
        if (k < 0) {
                iteration_error(r, "create", e);
                r->wait_done = r->logs_done = true;
                run_collect(r);
                return;
        }
        run_container_created(r, container_id);
}

/* The iteration's container exists (created now, or taken from the warm pool and given its
 * files): record it, check its limits, start it. */
static void run_container_created(Run *r, const char *container_id) {
        int q;

        if (container_id != r->container_id) {
                free(r->container_id);
                r->container_id = strdup(container_id);
        }
        q = store_container_update(r->sup->store, r->container_name, container_id, CONTAINER_CREATED);
        if (q < 0)
                run_log(r, LOG_WARNING, "cannot record container id: %s", strerror(-q));
        run_emit(r, EVENT_CONTAINER_CREATED, NULL);
        if (r->cancel_requested || r->kill_reason) {
                r->wait_done = r->logs_done = true;
                run_collect(r);
                return;
        }
        if (r->pooled) {
                /* Started ahead (its limits checked when it was made): aegis-bootstrap exec's
                 * the command now that its files are there. */
                run_arm_iteration(r);
                run_container_running(r);
                return;
        }
        if (!r->plan->memory_bytes && !r->plan->pids_limit && !r->plan->nano_cpus) {
                run_attach(r, true);
                return;
        }
        run_op_begin(r);
        q = podman_container_inspect_async(r->sup->podman, r->container_id, on_created_inspected, r, &r->op);
        if (q < 0) {
                Error err = ERROR_INIT;
                error_set(&err, q, "cannot check the limits of container %s: %s", r->container_id,
                          strerror(-q));
                iteration_error(r, "limits", &err);
                r->wait_done = r->logs_done = true;
                run_collect(r);
        }
}

/* ---- the inner loop (plan->inner_loop): the conversation and aegis-bootstrap ---- */

#define BOOTSTRAP_IN_CONTAINER RUN_DIR_IN_CONTAINER "/bin/aegis-bootstrap"
#define GATEWAY_IN_CONTAINER RUN_DIR_IN_CONTAINER "/gateway"
#define PROMPT_IN_CONTAINER RUN_DIR_IN_CONTAINER "/prompt.txt"
#define RELAY_PORT "18089" /* bootstrap_path: the reference's client talks HTTP to the relay here */

static void on_dispatch_event(void *userdata, const char *type, json_object *payload) {
        Run *r = userdata;
        json_object *v;

        if (streq(type, "policy_violation") && json_object_object_get_ex(payload, "tool", &v))
                r->host.ops->count_policy_violation(r->host.userdata, json_object_get_string(v));
        run_emit(r, type, payload);
}

static void on_dispatch_log(void *userdata, int level, const char *message) {
        run_log(userdata, level, "%s", message);
}

static void on_dispatch_finished(void *userdata, bool ok, const char *text) {
        Run *r = userdata;
        _cleanup_free_ char *m = NULL;

        if (ok)
                return; /* the container prints it and exits; run_decide() judges it */
        m = asprintf_safe("inner loop: %s", strempty(text));
        run_log(r, LOG_NOTICE, "iteration %u: %s", r->iteration, strempty(m));
        set_first(&r->error_reason, m ? m : "inner loop failed");
}

/* The execution's security context; NULL when the configuration no longer has it (its calls
 * are then all denied: fail closed). */
static const ConfigSecurityContext *run_security_context(Run *r) {
        static const ConfigCapability every_tool = { .tool_pattern = (char *) "*" };
        static const ConfigSecurityContext builtin = { .name = (char *) CONFIG_SECURITY_DEFAULT_CONTEXT,
                                                       .capabilities = (ConfigCapability *) &every_tool,
                                                       .n_capabilities = 1 };

        if (!r->sup->opts.config)
                return &builtin;
        return config_security_context(r->sup->opts.config, r->plan->security_context);
}

static bool on_tool_offer(void *userdata, const char *tool) {
        const ConfigSecurityContext *x = run_security_context(userdata);

        return x && policy_offers(x, tool);
}

static int on_tool_check(void *userdata, const char *tool, json_object *args, char **ret_reason) {
        Run *r = userdata;
        const ConfigSecurityContext *x = run_security_context(r);

        if (!x) {
                *ret_reason = asprintf_safe("security context '%s' is not configured on this host",
                                            r->plan->security_context ?: "(default)");
                return 1;
        }
        return policy_check(x, tool, args, ret_reason);
}

/* max_concurrent: the calls of one tool under one context, across every execution, wait
 * their turn (tool-slots.h). The bound is read at each call, so a reload applies to the next. */
static int on_tool_admit(void *userdata, const char *tool, void (*admitted)(void *done_userdata),
                         void *done_userdata, void **ret_handle) {
        Run *r = userdata;
        const ConfigSecurityContext *x = run_security_context(r);
        uint64_t max = x ? policy_max_concurrent(x, tool) : 0;
        _cleanup_free_ char *key = NULL;
        ToolSlot *slot = NULL;
        int k;

        *ret_handle = NULL;
        if (max == 0)
                return 1;
        key = asprintf_safe("%s/%s", x->name, tool);
        if (!key)
                return -ENOMEM;
        k = tool_slots_acquire(r->sup->tool_slots, key, (unsigned) max /* config: 1..100000 */, admitted,
                               done_userdata, &slot);
        if (k < 0)
                return k;
        *ret_handle = slot;
        if (k == 0)
                run_log(r, LOG_INFO,
                        "%s waits: %" PRIu64
                        " call(s) of it already run under security context '%s' (max_concurrent)",
                        tool, max, x->name);
        return k;
}

static void on_tool_admit_release(void *handle) {
        tool_slot_release(handle);
}

/* web.fetch's gate for every request, redirect hops included (tools.h): the network_policy
 * (an IP literal only when its allowlist names that address: the egress proxy's rule, and
 * with an open policy none, so aegisd's own loopback services are not a URL away), then the
 * security context's domain_allowlist through policy_check() with the hop's URL. */
static int on_web_host_check(void *userdata, const char *url, const char *host, char **ret_reason) {
        Run *r = userdata;
        const ConfigSecurityContext *x = run_security_context(r);
        _cleanup_json_ json_object *args = NULL;
        bool address = host_matches("0.0.0.0/0", host) || host_matches("::/0", host);

        *ret_reason = NULL;
        if (!manifest_plan_host_allowed(r->plan, host) ||
            (address && manifest_plan_egress(r->plan) != MANIFEST_EGRESS_FILTERED)) {
                *ret_reason =
                        asprintf_safe("host '%s' is not allowed by the execution's network_policy%s", host,
                                      address ? " (an address must be listed in its allowlist)" : "");
                return 1;
        }
        if (!x) {
                *ret_reason = asprintf_safe("security context '%s' is not configured on this host",
                                            r->plan->security_context ?: "(default)");
                return 1;
        }
        args = json_object_new_object();
        if (!args || json_object_object_add(args, "url", json_object_new_string(url)) < 0)
                return -ENOMEM;
        return policy_check(x, "web.fetch", args, ret_reason);
}

/* ---- tool_validation: judges review each tool call before it runs ---- */

typedef struct ToolReview {
        Run *run;
        RunJudge *judge;
        char *tool;
        char *args_json; /* what the judges see */
        run_dispatch_verdict_fn done;
        void *done_userdata;
} ToolReview;

static void tool_review_free(ToolReview *t) {
        if (!t)
                return;
        run_judge_free(t->judge);
        free(t->tool);
        free(t->args_json);
        free(t);
}

static void on_review_event(void *userdata, const char *type, json_object *payload) {
        ToolReview *t = userdata;
        run_emit(t->run, type, payload);
}

static void on_review_log(void *userdata, int level, const char *message) {
        ToolReview *t = userdata;
        run_log(t->run, level, "iteration %u: tool_validation: %s", t->run->iteration, message);
}

static void on_tool_reviewed(int k, const char *message, void *userdata) {
        ToolReview *t = userdata;
        run_dispatch_verdict_fn done = t->done;
        void *done_userdata = t->done_userdata;
        _cleanup_free_ char *why =
                k < 0 ? asprintf_safe("the call could not be reviewed: %s", strempty(message))
                      : strdup_or_null(message);

        tool_review_free(t);
        done(k > 0, why, done_userdata);
}

static void on_tool_review_cancel(void *handle) {
        tool_review_free(handle);
}

/* RunDispatch's review hook: no review for a tool given with skip_judge, or without
 * spec.execution.tool_validation. */
static int on_tool_review(void *userdata, const char *tool, json_object *args, run_dispatch_verdict_fn done,
                          void *done_userdata, void **ret_handle) {
        Run *r = userdata;
        ToolReview *t;
        int k;

        *ret_handle = NULL;
        if (r->plan->n_tool_validators == 0 || strv_contains(r->plan->tools_skip_judge, tool))
                return 0;
        if (!r->sup->opts.model)
                return -EOPNOTSUPP;
        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        *t = (ToolReview){ .run = r, .done = done, .done_userdata = done_userdata };
        t->tool = strdup(tool);
        t->args_json = strdup(args ? json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN) : "{}");
        if (!t->tool || !t->args_json) {
                tool_review_free(t);
                return -ENOMEM;
        }
        k = run_judge_start(
                &(RunJudgeContext){
                        .loop = r->sup->event,
                        .plan = r->plan,
                        .validators = r->plan->tool_validators,
                        .n_validators = r->plan->n_tool_validators,
                        .output = t->args_json,
                        .tool = t->tool,
                        .model = r->sup->opts.model,
                        .event = on_review_event,
                        .log = on_review_log,
                        .done = on_tool_reviewed,
                        .userdata = t,
                },
                &t->judge);
        if (k < 0) {
                tool_review_free(t);
                return k;
        }
        *ret_handle = t;
        return 0;
}

static int run_dispatch_open(Run *r, const char *prompt, bool resume) {
        RunDispatchContext c;
        int k;

        r->dispatch = run_dispatch_free(r->dispatch);
        free(r->tool_volumes);
        r->tool_volumes = NULL;
        r->tool_env.n_volumes = 0;
        k = run_volumes_tool_volumes(r->volumes, &r->tool_volumes, &r->tool_env.n_volumes);
        if (k < 0)
                return k;
        r->tool_env.event = r->sup->event;
        r->tool_env.volumes = r->tool_volumes;
        r->tool_env.uid = r->plan->uid;
        r->tool_env.gid = r->plan->gid;
        /* web.fetch is offered when the container could reach a network itself. */
        r->tool_env.web_host_check =
                manifest_plan_egress(r->plan) == MANIFEST_EGRESS_NONE ? NULL : on_web_host_check;
        r->tool_env.web_userdata = r;
        /* Never this host's services or the cloud metadata service, unless the operator allows
         * them for hosts a policy names (security.allow_internal_egress). */
        r->tool_env.web_public_only = manifest_plan_egress(r->plan) == MANIFEST_EGRESS_OPEN ||
                                      !r->sup->opts.config ||
                                      !r->sup->opts.config->security.allow_internal_egress;
        /* web.search (tools.web_search): the operator's endpoint, offered with web.fetch. */
        if (r->sup->opts.config) {
                r->tool_env.search_endpoint = r->sup->opts.config->tools.web_search.endpoint;
                r->tool_env.search_max_results =
                        (unsigned) r->sup->opts.config->tools.web_search.max_results;
                r->tool_env.search_timeout_secs =
                        (unsigned) r->sup->opts.config->tools.web_search.timeout_secs;
                r->tool_env.search_key = r->sup->opts.web_search_key;
        }
        c = (RunDispatchContext){
                .execution_id = r->id,
                .iteration = r->iteration,
                .model_alias = r->plan->model_alias,
                .prompt = prompt,
                .tools = r->plan->tools,
                .llm_timeout_usec = r->plan->llm_timeout_secs * USEC_PER_SEC,
                .max_tool_rounds = r->sup->opts.max_tool_rounds,
                .model = r->sup->opts.model,
                .store = r->sup->store,
                .tool_env = &r->tool_env,
                .offer = on_tool_offer,
                .check = on_tool_check,
                .review = on_tool_review,
                .review_cancel = on_tool_review_cancel,
                .admit = on_tool_admit,
                .admit_release = on_tool_admit_release,
                .event = on_dispatch_event,
                .log = on_dispatch_log,
                .finished = on_dispatch_finished,
                .userdata = r,
        };

        if (!c.model)
                return -EOPNOTSUPP;
        return resume ? run_dispatch_resume(&c, &r->dispatch) : run_dispatch_new(&c, &r->dispatch);
}

/* The failed iterations before this one, for the prompt's "# Previous Attempts:" and
 * AEGIS_ITERATION_HISTORY. NULL on iteration 1. */
static json_object *iteration_history(Run *r) {
        StoreIteration *its = NULL;
        json_object *a;
        size_t n = 0;

        if (r->iteration <= 1 || store_iteration_list(r->sup->store, r->id, &its, &n) < 0)
                return NULL;
        a = json_object_new_array();
        for (size_t i = 0; a && i < n; i++) {
                json_object *o;
                if (its[i].number >= r->iteration || its[i].status != ITERATION_FAILED)
                        continue;
                o = json_object_new_object();
                json_object_object_add(o, "iteration", json_object_new_int64(its[i].number));
                json_object_object_add(o, "output", json_object_new_string(strempty(its[i].stdout_text)));
                json_object_object_add(o, "exit_code", json_object_new_int(its[i].exit_code));
                if (its[i].reason)
                        /* The judges' verdict is the reference's "Feedback:" of the attempt. */
                        json_object_object_add(o, its[i].judgement_json ? "feedback" : "reason",
                                               json_object_new_string(its[i].reason));
                json_object_array_add(a, o);
        }
        store_iteration_array_free(its, n);
        return a;
}

typedef struct InnerLoopSpec {
        char *prompt; /* the conversation's user message, history included */
        char *argv_prompt; /* bootstrap_path: argv[1] of the reference's client (no history) */
        char *history_env; /* AEGIS_ITERATION_HISTORY, NULL on iteration 1 */
        char *url; /* AEGIS_ORCHESTRATOR_URL */
} InnerLoopSpec;

static void inner_loop_spec_done(InnerLoopSpec *l) {
        free(l->prompt);
        free(l->argv_prompt);
        free(l->history_env);
        free(l->url);
}

/* Renders the prompt and opens the iteration's conversation (a new capability). */
static int inner_loop_prepare(Run *r, InnerLoopSpec *l, Error *e) {
        const PodmanVersion *v;
        json_object *history;
        int k;

        if (!r->sup->opts.bootstrap_binary)
                return error_set(e, -ENOENT,
                                 "the inner loop needs aegis-bootstrap, and runtime.bootstrap_binary could "
                                 "not be read when aegisd started");
        if (!r->sup->opts.model)
                return error_set(e, -EOPNOTSUPP,
                                 "the inner loop needs an LLM provider: configure llm.providers in "
                                 "aegis-config.yaml");
        history = iteration_history(r);
        k = prompt_build(r->plan->prompt_template, r->plan->task_instruction, r->input_json, history,
                         &l->prompt, e);
        if (k >= 0 && r->plan->bootstrap_path)
                k = prompt_build(r->plan->prompt_template, r->plan->task_instruction, r->input_json, NULL,
                                 &l->argv_prompt, e);
        if (k >= 0 && history && json_object_array_length(history) > 0)
                l->history_env = prompt_history_env(history);
        json_object_put(history);
        if (k < 0)
                return k;
        k = run_dispatch_open(r, l->prompt, false);
        if (k < 0)
                return error_set(e, k, "cannot open the conversation: %s", strerror(-k));
        /* The reference's client is told the name it expects; on Podman it names the container's
         * loopback, where the relay listens (host_names_loopback), so it works with no network.
         * aegis-bootstrap itself takes only the path and talks to the gateway's socket. */
        v = podman_client_version(r->sup->podman);
        l->url = asprintf_safe("http://%s:" RELAY_PORT "/d/%s",
                               r->plan->bootstrap_path && !(v && v->engine == PODMAN_ENGINE_DOCKER)
                                       ? "host.containers.internal"
                                       : "127.0.0.1",
                               run_dispatch_capability(r->dispatch));
        if (!l->url)
                return error_set(e, -ENOMEM, "out of memory");
        return 0;
}

static int inner_loop_env(Run *r, const InnerLoopSpec *l, char ***env) {
        char buf[32];
        struct {
                const char *name, *value;
        } vars[] = {
                { "AEGIS_ORCHESTRATOR_URL", l->url },
                { "AEGIS_DISPATCH_SOCKET", GATEWAY_IN_CONTAINER "/" GATEWAY_SOCKET },
                { "AEGIS_AGENT_ID", isempty(r->agent_id) ? r->plan->name : r->agent_id },
                { "AEGIS_MODEL_ALIAS", r->plan->model_alias },
                { "AEGIS_LLM_TIMEOUT_SECONDS", buf },
                { "AEGIS_PROMPT_FILE", PROMPT_IN_CONTAINER },
                { "AEGIS_ITERATION_HISTORY", l->history_env },
        };

        snprintf(buf, sizeof buf, "%" PRIu64, r->plan->llm_timeout_secs);
        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                _cleanup_free_ char *x = NULL;
                if (!vars[i].value)
                        continue;
                x = asprintf_safe("%s=%s", vars[i].name, vars[i].value);
                if (!x || strv_extend(env, x) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static char *env_entry(const char *name, const char *value) {
        return asprintf_safe("%s=%s", name, value);
}

static int build_env(Run *r, char ***ret) {
        _cleanup_strv_free_ char **env = NULL;
        char buf[32];
        int k = 0;

        for (size_t i = 0; i < r->plan->n_env; i++) {
                _cleanup_free_ char *x = env_entry(r->plan->env[i].name, r->plan->env[i].value);
                if (!x || strv_extend(&env, x) < 0)
                        return -ENOMEM;
        }
#define ADD(name, value)                                          \
        do {                                                      \
                _cleanup_free_ char *_x = env_entry(name, value); \
                if (!_x || (k = strv_extend(&env, _x)) < 0)       \
                        return -ENOMEM;                           \
        } while (0)
        ADD("AEGIS_EXECUTION_ID", r->id);
        snprintf(buf, sizeof buf, "%u", r->iteration);
        ADD("AEGIS_ITERATION", buf);
        snprintf(buf, sizeof buf, "%" PRIu64, r->plan->max_iterations);
        ADD("AEGIS_MAX_ITERATIONS", buf);
        ADD("AEGIS_INPUT_FILE", RUN_DIR_IN_CONTAINER "/input.json");
        if (strlen(r->input_json) <= INPUT_ENV_MAX)
                ADD("AEGIS_INPUT", r->input_json);
        if (manifest_plan_egress(r->plan) == MANIFEST_EGRESS_FILTERED) {
                /* The container's one way out (aegisd(8), EGRESS PROXY); both spellings,
                 * since tools read one or the other. */
                ADD("HTTP_PROXY", EGRESS_PROXY_URL);
                ADD("HTTPS_PROXY", EGRESS_PROXY_URL);
                ADD("http_proxy", EGRESS_PROXY_URL);
                ADD("https_proxy", EGRESS_PROXY_URL);
                ADD("NO_PROXY", "localhost,127.0.0.1");
                ADD("no_proxy", "localhost,127.0.0.1");
        }
        if (r->iteration > 1) {
                ADD("AEGIS_FEEDBACK_FILE", RUN_DIR_IN_CONTAINER "/feedback.json");
                snprintf(buf, sizeof buf, "%d", r->prev_exit_code);
                ADD("AEGIS_PREVIOUS_EXIT_CODE", buf);
                ADD("AEGIS_PREVIOUS_REASON", strempty(r->prev_reason));
        }
#undef ADD
        *ret = TAKE_PTR(env);
        return 0;
}

static void run_create_container(Run *r);

static void run_iteration_step_create(Run *r) {
        ExecutionStatus status = EXECUTION_RUNNING;
        Error e = ERROR_INIT;
        int k = 0;

        if (r->kill_reason) { /* timed out or cancelled while queued */
                run_gate_release(r);
                r->wait_done = r->logs_done = true;
                run_collect(r);
                return;
        }
        r->phase = PHASE_CREATE;
        free(r->container_name);
        r->container_name = NULL;
        free(r->container_id);
        r->container_id = NULL;
        r->pooled = r->attached = false;
        run_exit_report_reset(r);
        if (!r->pool_failed && run_pool_take(r->sup->pool, r->agent_id, r->manifest_json, r->image_id,
                                             &r->container_name, &r->container_id) > 0)
                r->pooled = true;
        else if (!r->holds_gate) {
                /* Came ungated for a warm take that missed after all: a create queues. */
                run_gate(r, run_iteration_step_create);
                return;
        } else
                k = podman_container_name(r->id, r->iteration, &r->container_name);
        if (k < 0) {
                run_gate_release(r);
                error_set(&e, -ENOMEM, "out of memory");
                iteration_error(r, "create", &e);
                r->wait_done = r->logs_done = true;
                r->phase = PHASE_DONE;
                run_collect(r);
                return;
        }
        /* The row first (invariant: nothing exists in Podman that the store does not list). */
        k = store_container_record(r->sup->store, r->container_name, r->id, r->iteration);
        if (k < 0 && k != -EEXIST) {
                error_set(&e, k, "cannot record the container in the store: %s",
                          store_last_error(r->sup->store));
                iteration_error(r, "create", &e);
                r->wait_done = r->logs_done = true;
                r->phase = PHASE_DONE; /* nothing to remove */
                run_collect(r);
                return;
        }
        if (!r->started_realtime) {
                k = store_execution_set_status(r->sup->store, r->id, status, NULL);
                if (k < 0)
                        run_log(r, LOG_WARNING, "cannot record running: %s (%s)", strerror(-k),
                                store_last_error(r->sup->store));
                r->started_realtime = now_rt();
                run_emit(r, EVENT_EXECUTION_STARTED, json_object_new_object());
        }
        /* nfs mode: the engine volumes (stale ones replaced) before the container. */
        run_volumes_prepare(r->volumes, &r->op, on_volumes_prepared, r);
}

static void on_volumes_prepared(int k, const char *message, void *userdata) {
        Run *r = userdata;

        if (k < 0) {
                run_log(r, LOG_ERR, "iteration %u: %s", r->iteration, strempty(message));
                set_first(&r->error_reason, message ? message : "volume: cannot create the engine volume");
        }
        run_create_container(r);
}

/* The container cannot be created: the iteration ends with e, nothing to remove. */
static void create_failed(Run *r, const Error *e) {
        iteration_error(r, "create", e);
        run_gate_release(r);
        r->wait_done = r->logs_done = true;
        run_collect(r);
}

/* Whether one of mounts is at /workspace (or above it). */
static bool run_mounts_workspace(const PodmanMount *mounts, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const char *rest = startswith(TOOL_WORKSPACE, mounts[i].target);
                if (streq(mounts[i].target, "/") || (rest && (*rest == '\0' || *rest == '/')))
                        return true;
        }
        return false;
}

/* The iteration's input.json and, from iteration 2 on, feedback.json: into files (room for
 * two), their number returned. */
static size_t iteration_files(Run *r, PodmanFile *files) {
        size_t n = 0;

        files[n++] = (PodmanFile){ .path = RUN_DIR_IN_CONTAINER "/input.json",
                                   .data = r->input_json,
                                   .size = strlen(r->input_json),
                                   .mode = 0644,
                                   .uid = r->plan->uid,
                                   .gid = r->plan->gid };
        if (r->iteration > 1 && r->feedback_json)
                files[n++] = (PodmanFile){ .path = RUN_DIR_IN_CONTAINER "/feedback.json",
                                           .data = r->feedback_json,
                                           .size = strlen(r->feedback_json),
                                           .mode = 0644,
                                           .uid = r->plan->uid,
                                           .gid = r->plan->gid };
        return n;
}

/* ---- the warm pool (run-pool.h): a container made before the iteration was known ---- */

/* No exit report asked (a cold container), none seen, the exit not seen yet. */
static void run_exit_report_reset(Run *r) {
        r->exit_nonce[0] = '\0';
        r->exit_seen_by = NULL;
        r->report_out = r->report_err = r->report_any = false;
        disarm(&r->report_event);
}

/* The pooled container cannot serve this iteration: discard it and create one, as if the
 * pool had been empty. Holds the gate or not: the create queues for it again (which forgets
 * its exit report: run_iteration_step_create()). */
static void run_pool_fallback(Run *r) {
        int q;

        podman_op_cancel(r->logs_op); /* its attach, or its followed log */
        r->logs_op = NULL;
        r->attached = false;
        strv_free(TAKE_PTR(r->pool_env));
        tail_reset(&r->out);
        tail_reset(&r->err);
        if (r->container_id) {
                run_pool_discard(r->sup->pool, r->container_id);
                q = store_container_update(r->sup->store, r->container_name, r->container_id,
                                           CONTAINER_REMOVED);
                if (q < 0)
                        run_log(r, LOG_WARNING, "cannot record container %s removed: %s", r->container_id,
                                strerror(-q));
        }
        free(r->container_id);
        r->container_id = NULL;
        r->pooled = false;
        r->pool_failed = true;
        r->started = false;
        run_pool_verify(r->sup->pool); /* were others lost too? */
        r->wait_done = r->logs_done = false;
        run_gate_release(r);
        run_gate(r, run_iteration_step_create);
}

static void on_pool_delivered(int k, const Error *e, void *userdata) {
        Run *r = userdata;

        r->op = NULL;
        run_count_op(r, "files", k);
        if (k < 0 && !r->kill_reason && !r->cancel_requested) {
                run_log(r, LOG_WARNING, "cannot give pooled container %s its files: %s; creating one",
                        strempty(r->container_id), e ? e->message : strerror(-k));
                run_pool_fallback(r);
                return;
        }
        run_gate_release(r);
        run_container_created(r, r->container_id);
}

/* What the cold path puts into the container's definition, the pooled one gets as files:
 * the environment (read by aegis-bootstrap --env-file before it runs the command), the
 * input and the feedback. */
static void run_pool_deliver(Run *r, char **env) {
        _cleanup_free_ char *env_file = NULL, *report = NULL;
        PodmanFile files[4];
        size_t n_files = 0, size = 0;
        char *p;
        int k;

        /* The nonce of the command's exit report (exit-report.h; none yet: the take just
         * reset it); without one, the engine says when it exited. */
        if (random_id(r->exit_nonce) >= 0)
                report = asprintf_safe(EXIT_REPORT_ENV "=%s", r->exit_nonce);
        if (!report)
                r->exit_nonce[0] = '\0';
        for (char **v = env; v && *v; v++)
                size += strlen(*v) + 1;
        if (report)
                size += strlen(report) + 1;
        env_file = malloc(size + 1);
        if (!env_file) {
                Error e = ERROR_INIT;
                error_set(&e, -ENOMEM, "out of memory");
                create_failed(r, &e);
                return;
        }
        p = env_file;
        for (char **v = env; v && *v; v++) {
                size_t n = strlen(*v) + 1;
                memcpy(p, *v, n); /* NUL-separated: values may hold newlines */
                p += n;
        }
        if (report)
                memcpy(p, report, strlen(report) + 1);
        /* In the archive's order: the ready marker last, once the others are complete. */
        n_files += iteration_files(r, files + n_files);
        files[n_files++] = (PodmanFile){ .path = RUN_POOL_ENV_FILE,
                                         .data = env_file,
                                         .size = size,
                                         .mode = 0600,
                                         .uid = r->plan->uid,
                                         .gid = r->plan->gid };
        files[n_files++] = (PodmanFile){ .path = RUN_POOL_READY_FILE,
                                         .data = "",
                                         .size = 0,
                                         .mode = 0644,
                                         .uid = r->plan->uid,
                                         .gid = r->plan->gid };
        r->pool_delivered_rt = now_rt();
        run_op_begin(r);
        k = podman_container_put_files_async(r->sup->podman, r->container_id, files, n_files,
                                             on_pool_delivered, r, &r->op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "%s", strerror(-k));
                r->op = NULL;
                on_pool_delivered(k, &e, r);
        }
}

/* A kill or cancel came while a pooled member was being taken (attached to, checked): it is
 * not given its files, and goes as a created container that never ran (removed). */
static void run_pool_abandon(Run *r) {
        strv_free(TAKE_PTR(r->pool_env));
        run_gate_release(r);
        run_container_created(r, r->container_id);
}

/* Is the member still the one that was started ahead? An attach re-initialises a container
 * that has exited (Docker's behaviour: it would wait for a start that never comes), so the
 * check comes after the attach: running now, the attach is to its live output. */
static void on_pool_member_inspected(int k, const PodmanContainer *ct, const Error *e, void *userdata) {
        Run *r = userdata;
        _cleanup_strv_free_ char **env = TAKE_PTR(r->pool_env);

        r->op = NULL;
        run_count_op(r, "inspect", k);
        if (r->kill_reason || r->cancel_requested) {
                run_pool_abandon(r);
                return;
        }
        if (k >= 0 && ct->running) {
                run_pool_deliver(r, env);
                return;
        }
        if (k >= 0) /* its exit status is gone with the re-initialisation */
                run_log(r, LOG_WARNING,
                        "pooled container %s is not running (stopped or killed behind aegisd's back); "
                        "creating one",
                        strempty(r->container_id));
        else
                run_log(r, LOG_WARNING, "pooled container %s cannot be inspected: %s; creating one",
                        strempty(r->container_id), e ? e->message : strerror(-k));
        run_pool_fallback(r);
}

static void on_pool_attached(void *userdata) {
        Run *r = userdata;
        Error e = ERROR_INIT;
        int k;

        r->attached = true;
        run_op_begin(r);
        k = podman_container_inspect_async(r->sup->podman, r->container_id, on_pool_member_inspected, r,
                                           &r->op);
        if (k < 0) {
                r->op = NULL;
                error_set(&e, k, "%s", strerror(-k));
                on_pool_member_inspected(k, NULL, &e, r);
        }
}

/* The attach ended. Before the engine attached, the member cannot serve (gone, exited); after,
 * the container stopped or the stream broke: the wait decides, as for a followed log. */
static void on_pool_attach_done(int k, const PodmanLogs *logs, const Error *e, void *userdata) {
        Run *r = userdata;
        const char *why;

        if (r->attached) {
                on_logs_done(k, logs, e, userdata);
                return;
        }
        r->logs_op = NULL;
        if (r->kill_reason || r->cancel_requested) {
                run_pool_abandon(r);
                return;
        }
        why = k >= 0 ? "the engine ended it before attaching" : e ? e->message : strerror(-k);
        run_log(r, LOG_WARNING, "pooled container %s cannot be attached to: %s; creating one",
                strempty(r->container_id), why);
        run_pool_fallback(r); /* forgets pool_env */
}

/* A pooled container waits for its files. Its output is attached to first, then it is given
 * them: the engine streams what the command writes as it writes it, and the exit report
 * arrives at once (a followed log of Podman 4 polls its file every 250 ms, which was most of
 * a warm launch). Without an attach, the followed log serves, as for a cold container. */
static void run_pool_attach(Run *r, char **env) {
        PodmanLogOptions lo = run_stream_options(r);
        _cleanup_strv_free_ char **l = env;

        assert(!r->pool_env && !r->logs_op);
        lo.attach = true;
        lo.on_attached = on_pool_attached;
        r->attached = false;
        if (podman_container_logs_async(r->sup->podman, r->container_id, &lo, on_pool_attach_done, r,
                                        &r->logs_op) < 0) {
                r->logs_op = NULL;
                run_pool_deliver(r, l);
                return;
        }
        r->pool_env = TAKE_PTR(l);
}

static void run_create_container(Run *r) {
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *user = NULL, *gateway_dir = NULL, *egress_host_dir = NULL;
        _cleanup_free_ PodmanMount *mounts = NULL, *egress_mounts = NULL, *all_mounts = NULL;
        const PodmanMount *inbox_mounts = NULL;
        _cleanup_free_ char **egress_cmd = NULL;
        char *const *cmd;
        _cleanup_(inner_loop_spec_done) InnerLoopSpec loop = {};
        char *loop_cmd[7] = {};
        const PodmanMount *vol_mounts;
        size_t n_vol_mounts = 0;
        bool keep_id = false;
        PodmanContainerSpec spec;
        PodmanFile files[5], own[2];
        size_t n_files = 0, n_own;
        Error e = ERROR_INIT;
        int k;

        if (!r->error_reason && !r->kill_reason && r->plan->inner_loop &&
            inner_loop_prepare(r, &loop, &e) < 0)
                iteration_error(r, "inner loop", &e);
        if (r->error_reason || r->kill_reason || build_env(r, &env) < 0 ||
            (r->plan->inner_loop && inner_loop_env(r, &loop, &env) < 0)) {
                if (!r->error_reason && !r->kill_reason) {
                        error_set(&e, -ENOMEM, "out of memory");
                        iteration_error(r, "create", &e);
                }
                run_gate_release(r);
                r->wait_done = r->logs_done = true;
                run_collect(r); /* removes what carries the container's name, if anything */
                return;
        }
        if (r->pooled) {
                run_pool_attach(r, TAKE_PTR(env));
                return;
        }
        vol_mounts = run_volumes_mounts(r->volumes, &n_vol_mounts);
        /* A rootless engine's agent shares a bind-mode volume with aegisd as its user
         * (volume-userns.h). */
        for (size_t i = 0; i < n_vol_mounts; i++)
                if (vol_mounts[i].type == PODMAN_MOUNT_BIND)
                        keep_id = r->sup->opts.volume_owner.mode == VOLUME_USERNS_KEEP_ID;
        if (r->plan->inner_loop) {
                /* aegis-bootstrap is the command; the gateway's directory (not the socket: a
                 * restarted aegisd makes a new one) is how it reaches us, with any network. */
                files[n_files++] = (PodmanFile){ .path = BOOTSTRAP_IN_CONTAINER,
                                                 .data = r->sup->opts.bootstrap_binary,
                                                 .size = r->sup->opts.bootstrap_binary_size,
                                                 .mode = 0755 };
                files[n_files++] = (PodmanFile){ .path = PROMPT_IN_CONTAINER,
                                                 .data = loop.prompt,
                                                 .size = strlen(loop.prompt),
                                                 .mode = 0644,
                                                 .uid = r->plan->uid,
                                                 .gid = r->plan->gid };
                if (!run_mounts_workspace(vol_mounts, n_vol_mounts))
                        /* No volume there: the fs tools and cmd.run's default cwd run in the
                         * container's own /workspace, the execution's to write in. */
                        files[n_files++] = (PodmanFile){ .path = TOOL_WORKSPACE,
                                                         .mode = S_IFDIR | 0755,
                                                         .uid = r->plan->uid,
                                                         .gid = r->plan->gid };
                gateway_dir = path_join(r->sup->state_dir, GATEWAY_DIR);
                mounts = calloc(n_vol_mounts + 1, sizeof *mounts);
                if (!gateway_dir || !mounts) {
                        error_set(&e, -ENOMEM, "out of memory");
                        create_failed(r, &e);
                        return;
                }
                if (n_vol_mounts > 0)
                        memcpy(mounts, vol_mounts, n_vol_mounts * sizeof *mounts);
                mounts[n_vol_mounts] = (PodmanMount){ .type = PODMAN_MOUNT_BIND,
                                                      .source = gateway_dir,
                                                      .target = GATEWAY_IN_CONTAINER,
                                                      .read_only = true };
                vol_mounts = mounts;
                n_vol_mounts++;
                loop_cmd[0] = (char *) BOOTSTRAP_IN_CONTAINER;
                if (r->plan->bootstrap_path) {
                        loop_cmd[1] = (char *) "--relay";
                        loop_cmd[2] = (char *) RELAY_PORT;
                        loop_cmd[3] = (char *) "--";
                        loop_cmd[4] = r->plan->bootstrap_path;
                        loop_cmd[5] = loop.argv_prompt;
                }
        }
        cmd = r->plan->inner_loop ? loop_cmd : r->plan->command;
        if (manifest_plan_egress(r->plan) == MANIFEST_EGRESS_FILTERED) {
                /* No network of its own: aegis-bootstrap --egress forwards 127.0.0.1:EGRESS_PORT
                 * to the proxy's socket in a mounted directory and runs the command. */
                size_t n = strv_length(cmd);

                k = run_egress_open(r);
                if (k < 0)
                        error_set(&e, k, "cannot start the egress proxy for the network_policy: %s",
                                  strerror(-k));
                else if (!r->sup->opts.bootstrap_binary || !cmd)
                        k = error_set(
                                &e, -ENOENT,
                                "an allowlist or denylist needs aegis-bootstrap and spec.runtime.command "
                                "(runtime.bootstrap_binary could not be read when aegisd started)");
                else {
                        egress_host_dir = egress_dir(r);
                        egress_mounts = calloc(n_vol_mounts + 1, sizeof *egress_mounts);
                        egress_cmd = calloc(n + 5, sizeof *egress_cmd);
                        if (!egress_host_dir || !egress_mounts || !egress_cmd)
                                k = error_set(&e, -ENOMEM, "out of memory");
                }
                if (k < 0) {
                        create_failed(r, &e);
                        return;
                }
                if (n_vol_mounts > 0)
                        memcpy(egress_mounts, vol_mounts, n_vol_mounts * sizeof *egress_mounts);
                egress_mounts[n_vol_mounts++] = (PodmanMount){ .type = PODMAN_MOUNT_BIND,
                                                               .source = egress_host_dir,
                                                               .target = EGRESS_IN_CONTAINER,
                                                               .read_only = true };
                vol_mounts = egress_mounts;
                if (!r->plan->inner_loop)
                        files[n_files++] = (PodmanFile){ .path = BOOTSTRAP_IN_CONTAINER,
                                                         .data = r->sup->opts.bootstrap_binary,
                                                         .size = r->sup->opts.bootstrap_binary_size,
                                                         .mode = 0755 };
                egress_cmd[0] = (char *) BOOTSTRAP_IN_CONTAINER;
                egress_cmd[1] = (char *) "--egress";
                egress_cmd[2] = (char *) EGRESS_PORT ":" EGRESS_IN_CONTAINER "/" EGRESS_SOCKET;
                egress_cmd[3] = (char *) "--";
                memcpy(egress_cmd + 4, cmd, n * sizeof *cmd);
                cmd = egress_cmd;
        }
        /* The iteration's own files: bind-mounted from its inbox; uploaded with the others when
         * the engine does not see aegisd's files, or the inbox cannot be written. */
        n_own = iteration_files(r, own);
        k = r->sup->inbox_unseen ? -EREMOTE
                                 : run_inbox_fill(r->inbox, r->container_name, own, n_own, &inbox_mounts);
        if (k >= 0)
                all_mounts = calloc(n_vol_mounts + n_own, sizeof *all_mounts);
        if (k >= 0 && all_mounts) {
                if (n_vol_mounts > 0)
                        memcpy(all_mounts, vol_mounts, n_vol_mounts * sizeof *all_mounts);
                memcpy(all_mounts + n_vol_mounts, inbox_mounts, n_own * sizeof *all_mounts);
                vol_mounts = all_mounts;
                n_vol_mounts += n_own;
        } else {
                if (k != -EREMOTE)
                        run_log(r, LOG_WARNING,
                                "cannot write the iteration's files into %s: %s; uploading them",
                                run_inbox_base(r->inbox), strerror(k < 0 ? -k : ENOMEM));
                run_inbox_empty(r->inbox, r->container_name);
                memcpy(files + n_files, own, n_own * sizeof *own);
                n_files += n_own;
        }
        user = asprintf_safe("%u:%u", r->plan->uid, r->plan->gid);
        spec = (PodmanContainerSpec){
                .execution_id = r->id,
                .iteration = r->iteration,
                .store_id = store_id(r->sup->store),
                .image = r->plan->image,
                .cmd = (char **) cmd,
                .env = env,
                .user = user,
                .workdir = r->plan->workdir,
                .nano_cpus = r->plan->nano_cpus,
                .memory_bytes = r->plan->memory_bytes,
                .pids_limit = r->plan->pids_limit,
                /* A filtered policy's container has no network of its own either: its
                 * one way out is the egress proxy's socket (run-egress.h). */
                .network_mode = podman_network_mode(
                        manifest_plan_egress(r->plan) == MANIFEST_EGRESS_OPEN ? "allow" : "none",
                        r->sup->network),
                .read_only_rootfs = r->plan->read_only_rootfs,
                .host_names_loopback = r->plan->inner_loop && r->plan->bootstrap_path,
                .keep_container_on_failure = r->plan->keep_container_on_failure,
                .files = files,
                .n_files = n_files,
                .userns = r->sup->opts.userns && !keep_id,
                .userns_base = r->sup->opts.userns_base,
                .userns_keep_id = keep_id,
                .keep_id_uid = r->plan->uid,
                .keep_id_gid = r->plan->gid,
        };
        spec.mounts = vol_mounts;
        spec.n_mounts = n_vol_mounts;
        run_op_begin(r);
        k = podman_container_create_async(r->sup->podman, &spec, on_created, r, &r->op);
        if (k < 0) {
                error_set(&e, k, "%s", strerror(-k));
                r->op = NULL;
                on_created(k, NULL, &e, r);
        }
}

static void write_feedback(Run *r) {
        json_object *fb;
        _cleanup_free_ char *out = NULL, *err = NULL;

        if (r->iteration <= 1)
                return;
        fb = json_object_new_object();
        out = output_tail(tail_str(&r->out), FEEDBACK_TAIL_MAX);
        err = output_tail(tail_str(&r->err), FEEDBACK_TAIL_MAX);
        json_object_object_add(fb, "iteration", json_object_new_int(r->iteration - 1));
        json_object_object_add(fb, "exit_code", json_object_new_int(r->prev_exit_code));
        json_object_object_add(fb, "reason", r->prev_reason ? json_object_new_string(r->prev_reason) : NULL);
        json_object_object_add(fb, "stdout_tail", json_object_new_string(strempty(out)));
        json_object_object_add(fb, "stderr_tail", json_object_new_string(strempty(err)));
        free(r->feedback_json);
        r->feedback_json = strdup(
                json_object_to_json_string_ext(fb, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(fb);
}

/* image_pull_progress: the image, layers done/total and, once the engine said sizes, bytes
 * done/total; status "pulling" while it goes on, then one final event (final: true) saying
 * how it ended. */
static void emit_pull_progress(Run *r, const char *status, bool final) {
        json_object *p = json_object_new_object();

        if (!p)
                return;
        json_object_object_add(p, "image", json_object_new_string(r->plan->image));
        json_object_object_add(p, "status", json_object_new_string(status));
        json_object_object_add(p, "layers_done", json_object_new_int64(r->pull.layers_done));
        json_object_object_add(p, "layers_total", json_object_new_int64(r->pull.layers_total));
        if (r->pull.bytes_total > 0) {
                json_object_object_add(p, "bytes_done", json_object_new_int64((int64_t) r->pull.bytes_done));
                json_object_object_add(p, "bytes_total",
                                       json_object_new_int64((int64_t) r->pull.bytes_total));
        }
        json_object_object_add(p, "final", json_object_new_boolean(final));
        r->pull.emitted_usec = now_usec(CLOCK_MONOTONIC);
        run_emit(r, EVENT_IMAGE_PULL_PROGRESS, p);
}

static void on_pull_progress(const PodmanPullProgress *p, void *userdata) {
        Run *r = userdata;

        if (!r->pulling) {
                run_log(r, LOG_INFO, "pulling image %s", r->plan->image);
                r->pull = (typeof(r->pull)){ 0 };
                r->pulling = true;
                emit_pull_progress(r, "pulling", false);
                return;
        }
        r->pull.bytes_done = p->bytes_done;
        r->pull.bytes_total = p->bytes_total;
        r->pull.layers_done = p->layers_done;
        r->pull.layers_total = p->layers_total;
        if (now_usec(CLOCK_MONOTONIC) - r->pull.emitted_usec >= PULL_EVENT_INTERVAL_USEC)
                emit_pull_progress(r, "pulling", false);
}

/* The pull (if one was asked for) ended: the final image_pull_progress. */
static void run_pull_end(Run *r, const char *status) {
        if (r->pulling)
                emit_pull_progress(r, status, true);
}

static void on_image(int k, const PodmanImage *image, const Error *e, void *userdata) {
        Run *r = userdata;

        r->op = NULL;
        run_count_op(r, "image", k);
        if (r->pulling && r->sup->m_image_pulls)
                (void) metric_add(r->sup->m_image_pulls, METRIC_LABELS(k >= 0 ? "ok" : "error"), 1);
        run_pull_end(r, k >= 0 ? "completed" : "failed");
        r->pulling = false;
        if (k < 0) {
                /* An image that cannot be had will not appear on retry: end the execution. */
                _cleanup_free_ char *m =
                        asprintf_safe("image %s: %s", r->plan->image, e ? e->message : strerror(-k));
                iteration_error(r, "image", e);
                r->phase = PHASE_DONE;
                flush_output(r, ITERATION_FAILED, m);
                if (r->sup->m_iterations)
                        (void) metric_add(r->sup->m_iterations, METRIC_LABELS("failed"), 1);
                run_emit(r, EVENT_ITERATION_FINISHED, ({
                                 json_object *p = json_object_new_object();
                                 json_object_object_add(p, "status", json_object_new_string("failed"));
                                 json_object_object_add(p, "reason", json_object_new_string(strempty(m)));
                                 p;
                         }));
                run_finish(r, EXECUTION_FAILED, m);
                return;
        }
        snprintf(r->image_id, sizeof r->image_id, "%s", image ? image->id : "");
        write_feedback(r);
        tail_reset(&r->out);
        tail_reset(&r->err);
        if (r->cancel_requested || r->kill_reason) {
                r->phase = PHASE_DONE;
                run_collect(r);
                return;
        }
        /* A warm take issues neither create nor start: it does not queue behind them. */
        if (!r->pool_failed && run_pool_ready(r->sup->pool, r->agent_id, r->manifest_json, r->image_id))
                run_iteration_step_create(r);
        else
                run_gate(r, run_iteration_step_create);
}

void run_next_iteration(Run *r) {
        int k;

        assert(r);
        if (r->cancel_requested) {
                run_finish(r, EXECUTION_CANCELLED, REASON_CANCELLED);
                return;
        }
        if (r->overall_timeout || overall_deadline_passed(r)) {
                run_finish(r, EXECUTION_FAILED, REASON_TIMEOUT);
                return;
        }
        if (!run_volumes_ready(r->volumes)) {
                _cleanup_free_ char *m = NULL;
                if (run_volumes_setup(r->volumes, &m) < 0) {
                        run_finish(r, EXECUTION_FAILED, m ? m : "cannot set up the execution's volumes");
                        return;
                }
        }
        if (r->iteration >= r->plan->max_iterations) {
                _cleanup_free_ char *m = asprintf_safe("all %u iterations failed; last: %s", r->iteration,
                                                       strempty(r->prev_reason));
                run_finish(r, EXECUTION_FAILED, m ? m : "iterations exhausted");
                return;
        }
        r->iteration++;
        r->phase = PHASE_IMAGE;
        r->pool_failed = false;
        r->exit_code = -1;
        r->wait_done = r->logs_done = r->started = false;
        free(r->kill_reason);
        free(r->error_reason);
        r->kill_reason = r->error_reason = NULL;
        free(r->container_id);
        r->container_id = NULL;
        r->dispatch = run_dispatch_free(r->dispatch);
        r->judge = run_judge_free(r->judge);
        free(r->judged_output);
        free(r->judgement_json);
        r->judged_output = r->judgement_json = NULL;
        r->iteration_started_realtime = now_rt();
        run_stats_reset(r->stats);
        k = store_iteration_begin(r->sup->store, r->id, r->iteration);
        if (k < 0 && k != -EEXIST) {
                _cleanup_free_ char *m = asprintf_safe("store: cannot begin iteration %u: %s", r->iteration,
                                                       store_last_error(r->sup->store));
                run_finish(r, EXECUTION_FAILED, m);
                return;
        }
        if (!r->overall_timer) {
                uint64_t start = r->started_realtime ? r->started_realtime : now_rt();
                arm_timer(r, &r->overall_timer, start + r->plan->timeout_secs * USEC_PER_SEC,
                          on_overall_timeout);
        }
        run_emit(r, EVENT_ITERATION_STARTED, ({
                         json_object *p = json_object_new_object();
                         json_object_object_add(p, "max_iterations",
                                                json_object_new_int64(r->plan->max_iterations));
                         p;
                 }));
        run_op_begin(r);
        r->pulling = false;
        k = podman_image_ensure_async(r->sup->podman, r->plan->image, r->plan->pull_policy,
                                      r->sup->opts.image_pull_timeout_usec, on_pull_progress, on_image, r,
                                      &r->op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "%s", strerror(-k));
                r->op = NULL;
                on_image(k, NULL, &e, r);
        }
}

/* ---- collecting: OOM check, result, removal ---- */

static void run_decide(Run *r);

/* What the exited container used: metrics, an event, and a warning when the engine read
 * only zeros (its cgroup controllers are not delegated: aegis doctor says how to fix it). */
static void run_record_usage(Run *r) {
        const RunStatsUsage *u = run_stats_usage(r->stats);
        _cleanup_free_ char *usage = NULL;
        bool oom = streq_ptr(r->kill_reason, REASON_OOM);

        run_stats_stop(r->stats);
        if (!r->started)
                return;
        if (oom && r->sup->m_iter_oom)
                (void) metric_add(r->sup->m_iter_oom, NULL, 1);
        if (u->cpu_known && r->sup->m_iter_cpu)
                (void) metric_observe(r->sup->m_iter_cpu, NULL, (double) u->cpu_usage_nsec / 1e9);
        if (u->memory_known && r->sup->m_iter_memory)
                (void) metric_observe(r->sup->m_iter_memory, NULL, (double) u->memory_peak_bytes);
        if (run_stats_usage_json(r->stats, oom, &usage) < 0 || !usage)
                return;
        if (run_stats_unavailable(r->stats)) {
                if (r->sup->m_iter_usage_unknown)
                        (void) metric_add(r->sup->m_iter_usage_unknown, NULL, 1);
                run_log(r, LOG_WARNING,
                        "the engine reported zero CPU time, memory and pids for container %s: its cgroup "
                        "controllers are not delegated, so what iterations use is unknown (run aegis "
                        "doctor)",
                        strempty(r->container_id));
        }
        run_emit(r, EVENT_ITERATION_USAGE, ({
                         json_object *p = json_tokener_parse(usage);
                         if (p && run_stats_unavailable(r->stats))
                                 json_object_object_add(
                                         p, "warning",
                                         json_object_new_string(
                                                 "the engine reported only zeros: cgroup controllers not "
                                                 "delegated (see aegis doctor)"));
                         p;
                 }));
}

/* The iteration's end as its exit report told it (on_exit_reported). */
static void run_collect_reported(Run *r) {
        podman_op_cancel(r->wait_op);
        r->wait_op = NULL;
        r->wait_done = r->logs_done = true;
        r->exit_code = r->reported_status;
        r->exit_seen_by = "report";
        run_log(r, LOG_DEBUG, "container %s reported exit status %d", strempty(r->container_id),
                r->exit_code);
        run_collect(r);
}

static void run_collect(Run *r) {
        if (r->phase == PHASE_COLLECT || r->phase == PHASE_REMOVE)
                return;
        run_gate_forget(r);
        disarm(&r->iteration_timer);
        disarm(&r->flush_timer);
        disarm(&r->probe_timer);
        disarm(&r->ended_timer);
        disarm(&r->report_event);
        podman_op_cancel(r->logs_op);
        r->logs_op = NULL;
        run_inbox_empty(r->inbox, r->container_name); /* never started, or re-attached */
        if (!r->container_id && r->phase != PHASE_CREATE) {
                /* Never got a container (image phase, or cancelled before create). */
                r->phase = PHASE_COLLECT;
                run_decide(r);
                return;
        }
        r->phase = PHASE_COLLECT;
        if (r->exit_seen_by && r->sup->m_exits_seen)
                (void) metric_add(r->sup->m_exits_seen, METRIC_LABELS(r->exit_seen_by), 1);
        if (r->container_id && r->started && !r->kill_reason && r->exit_code == 137 &&
            r->plan->memory_bytes > 0)
                /* SIGKILL that we did not send, under a memory limit: the kernel's OOM killer.
                 * (Podman's State.OOMKilled stays false with cgroups v1 + runc, so inspect
                 * cannot be relied on; when it does say so, on_exit_probe took it already.) */
                set_first(&r->kill_reason, REASON_OOM);
        run_record_usage(r);
        run_cleanup_container(r);
}

static bool iteration_failed_so_far(Run *r) {
        return r->kill_reason || r->error_reason ||
               !validate_exit_code_passes(r->plan->validators, r->plan->n_validators, r->exit_code);
}

static void run_gated_remove(Run *r);

static int on_remove_retry(sd_event_source *es, uint64_t usec, void *userdata) {
        Run *r = userdata;

        r->probe_timer = sd_event_source_disable_unref(r->probe_timer);
        run_gate_cleanup(r, run_gated_remove);
        return 0;
}

static void on_removed(int k, const Error *e, void *userdata) {
        Run *r = userdata;
        int q;

        r->op = NULL;
        run_gate_release(r);
        run_count_op(r, "remove", k == -ENOENT ? 0 : k);
        if (k < 0 && engine_outage_retry(r, k)) {
                engine_retry_later(r, on_remove_retry); /* the gate is free meanwhile */
                return;
        }
        if (k < 0 && k != -ENOENT)
                run_log(r, LOG_WARNING, "cannot remove container %s: %s (the reaper will retry)",
                        strempty(r->container_id ? r->container_id : r->container_name),
                        e ? e->message : "");
        else {
                q = store_container_update(r->sup->store, r->container_name, r->container_id,
                                           CONTAINER_REMOVED);
                if (q < 0)
                        run_log(r, LOG_WARNING, "cannot record container removed: %s", strerror(-q));
        }
        /* The container is gone: so go its engine volumes (nfs mode), unless another node
         * owns the execution now. */
        if (r->lost_claim)
                run_cleanup_done(r);
        else
                run_volumes_release(r->volumes, &r->op, on_volumes_released, r);
}

/* The removal (and the engine volumes' release) is over: what waited for it goes on. */
static void run_cleanup_done(Run *r) {
        void (*next)(Run * r) = r->after_cleanup;

        r->cleaning = false;
        r->after_cleanup = NULL;
        if (next)
                next(r);
}

/* Runs next(r) now, or once the container of the iteration just decided is removed. */
static void run_after_cleanup(Run *r, void (*next)(Run *r)) {
        if (r->cleaning) {
                r->after_cleanup = next;
                return;
        }
        next(r);
}

static void on_volumes_released(int k, const char *message, void *userdata) {
        run_cleanup_done(userdata);
}

static void run_gated_remove(Run *r) {
        const char *what = r->container_id ? r->container_id : r->container_name;
        int k;

        run_op_begin(r);
        k = podman_container_remove_async(r->sup->podman, what, on_removed, r, &r->op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "%s", strerror(-k));
                r->op = NULL;
                on_removed(k, &e, r);
        }
}

/* The guard: every path after the container row was written ends here. */
static void run_cleanup_container(Run *r) {
        const char *what = r->container_id ? r->container_id : r->container_name;

        r->phase = PHASE_REMOVE;
        podman_op_cancel(r->op);
        r->op = NULL;
        podman_op_cancel(r->wait_op);
        r->wait_op = NULL;
        if (!what || r->lost_claim) {
                run_decide(r);
                return;
        }
        if (r->plan->keep_container_on_failure && iteration_failed_so_far(r)) {
                run_log(r, LOG_NOTICE, "keeping failed container %s (keep_container_on_failure)", what);
                run_decide(r);
                return;
        }
        /* The removal goes on while the iteration is decided (run_after_cleanup()). */
        r->cleaning = true;
        if (r->sup->cleanup_delay_usec > 0) {
                disarm(&r->probe_timer);
                (void) sd_event_add_time_relative(r->sup->event, &r->probe_timer, CLOCK_MONOTONIC,
                                                  r->sup->cleanup_delay_usec, 0, on_remove_retry, r);
        } else
                run_gate_cleanup(r, run_gated_remove);
        run_decide(r);
}

static void run_conclude(Run *r, IterationStatus status, char *reason, char *final);
static void run_judging_begin(Run *r, const char *output);

static void run_decide(Run *r) {
        _cleanup_free_ char *reason = NULL, *final = NULL;
        IterationStatus status;
        int ok = 0;

        r->phase = PHASE_DONE;
        if (r->lost_claim) {
                r->host.ops->finished(r->host.userdata, r);
                return;
        }
        if (r->cancel_requested) {
                status = ITERATION_CANCELLED;
                reason = strdup(REASON_CANCELLED);
        } else if (r->kill_reason) {
                status = ITERATION_FAILED;
                reason = strdup(r->kill_reason);
        } else if (r->error_reason) {
                status = ITERATION_FAILED;
                reason = strdup(r->error_reason);
        } else if (r->plan->inner_loop && !(r->dispatch && run_dispatch_final(r->dispatch))) {
                status = ITERATION_FAILED;
                reason = asprintf_safe("inner loop: the container exited (code %d) without a final answer",
                                       r->exit_code);
        } else {
                /* The inner loop's output is the final content aegisd produced, not whatever the
                 * container printed. */
                const char *output =
                        r->plan->inner_loop ? run_dispatch_final(r->dispatch) : tail_str(&r->out);
                ok = validate_iteration(r->plan->validators, r->plan->n_validators, r->exit_code, output,
                                        tail_str(&r->err), &reason);
                if (ok < 0)
                        reason = strdup("out of memory while validating");
                if (ok > 0 && manifest_plan_has_judges(r->plan)) {
                        /* The container exited and the output passed the other validators:
                         * now the models judge it (run_judged() goes on from here). */
                        run_judging_begin(r, output);
                        return;
                }
                status = ok > 0 ? ITERATION_SUCCEEDED : ITERATION_FAILED;
                if (status == ITERATION_SUCCEEDED && r->plan->inner_loop)
                        final = strdup(output);
        }
        run_conclude(r, status, TAKE_PTR(reason), TAKE_PTR(final));
}

/* ---- judging (validators semantic, multi_judge) ---- */

static char *judgement_string(const char *state, json_object *extra_key_value_pairs[][2], size_t n) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int k = o ? json_add_string(o, "state", state) : -ENOMEM;

        for (size_t i = 0; k >= 0 && i < n; i++)
                k = json_add_obj(o, json_object_get_string(extra_key_value_pairs[i][0]),
                                 extra_key_value_pairs[i][1]);
        return k < 0 ? NULL : strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
}

static void on_judge_event(void *userdata, const char *type, json_object *payload) {
        run_emit(userdata, type, payload);
}

static void on_judge_log(void *userdata, int level, const char *message) {
        Run *r = userdata;
        run_log(r, level, "iteration %u: %s", r->iteration, message);
}

static void on_judged(int k, const char *message, void *userdata) {
        Run *r = userdata;
        IterationStatus status = k > 0 ? ITERATION_SUCCEEDED : ITERATION_FAILED;
        char *reason = NULL, *final = NULL;
        json_object *kv[1][2];

        r->awaits_judge_agents = false;
        kv[0][0] = json_object_new_string("validators");
        kv[0][1] = json_object_get(run_judge_records(r->judge));
        free(r->judgement_json);
        r->judgement_json = judgement_string("judged", kv, 1);
        json_object_put(kv[0][0]);
        if (k < 0)
                reason = asprintf_safe("judging failed: %s", strempty(message));
        else if (k == 0)
                reason = strdup(strempty(message));
        if (status == ITERATION_SUCCEEDED && r->plan->inner_loop)
                final = strdup(strempty(r->judged_output));
        run_conclude(r, status, reason, final);
}

/* Asks the judges about output; crash-safe: the iteration row says "judging" with the output
 * first, so an aegisd restarted meanwhile judges it again (run_reattach()). */
static void run_judging_begin(Run *r, const char *output) {
        json_object *kv[2][2];
        int k = -EOPNOTSUPP;

        if (output != r->judged_output) {
                free(r->judged_output);
                r->judged_output = strdup(strempty(output));
        }
        r->dispatch = run_dispatch_free(r->dispatch); /* the iteration is over: its capability is dead */
        r->phase = PHASE_JUDGE;
        kv[0][0] = json_object_new_string("exit_code");
        kv[0][1] = json_object_new_int(r->exit_code);
        kv[1][0] = json_object_new_string("output");
        kv[1][1] = json_object_new_string(strempty(r->judged_output));
        free(r->judgement_json);
        r->judgement_json = judgement_string("judging", kv, 2);
        json_object_put(kv[0][0]);
        json_object_put(kv[1][0]);
        if (!r->judged_output || !r->judgement_json) {
                run_conclude(r, ITERATION_FAILED, strdup("out of memory while judging"), NULL);
                return;
        }
        flush_output(r, ITERATION_RUNNING, NULL);
        run_emit(r, "judging_started", NULL);
        if (r->sup->opts.model || !manifest_plan_has_model_judges(r->plan))
                k = run_judge_start(
                        &(RunJudgeContext){
                                .loop = r->sup->event,
                                .plan = r->plan,
                                .validators = r->plan->validators,
                                .n_validators = r->plan->n_validators,
                                .input_json = r->input_json,
                                .output = r->judged_output,
                                .model = r->sup->opts.model,
                                .agents = &r->judge_agents,
                                .iteration = r->iteration,
                                .event = on_judge_event,
                                .log = on_judge_log,
                                .done = on_judged,
                                .userdata = r,
                        },
                        &r->judge);
        if (k < 0) {
                run_conclude(r, ITERATION_FAILED,
                             asprintf_safe("judging failed: %s",
                                           k == -EOPNOTSUPP ? "no LLM provider is configured (llm.providers)"
                                                            : strerror(-k)),
                             NULL);
                return;
        }
        if (manifest_plan_has_agent_judges(r->plan)) {
                /* No container now: make room for the judge executions (supervisor.c). */
                r->awaits_judge_agents = true;
                r->host.ops->kick(r->host.userdata);
        }
}

/* Cancelled or out of time while the judges think: the iteration ends without their verdict,
 * and the judge executions still running are cancelled. */
static void run_judging_interrupted(Run *r) {
        r->awaits_judge_agents = false;
        r->judge = run_judge_cancel(r->judge);
        run_conclude(r, r->cancel_requested ? ITERATION_CANCELLED : ITERATION_FAILED,
                     strdup(r->cancel_requested ? REASON_CANCELLED : strempty(r->kill_reason)), NULL);
}

/* Records the iteration's end (reason and final are taken) and goes on: the execution
 * completes, fails, or the next iteration starts. */
static void run_conclude_measured(Run *r, IterationStatus status, char *reason_taken, char *final_taken);

/* A volume left over its size_limit (or that could not be measured) fails the iteration,
 * whatever else it did, and the next iteration is told (AEGIS_PREVIOUS_REASON,
 * feedback.json). */
static void on_quota_checked(int k, char *quota_taken, void *userdata) {
        Run *r = userdata;
        IterationStatus status = r->concluding_status;
        char *reason = TAKE_PTR(r->concluding_reason), *final = TAKE_PTR(r->concluding_final);

        if (k != 0) {
                status = ITERATION_FAILED;
                free(reason);
                reason = quota_taken ? quota_taken
                                     : asprintf_safe(REASON_QUOTA_EXCEEDED
                                                     ": the volumes could not be measured (%s), so they are "
                                                     "not known to be within their size_limit",
                                                     strerror(k < 0 ? -k : EIO));
        }
        run_conclude_measured(r, status, reason, final);
}

static void run_conclude(Run *r, IterationStatus status, char *reason_taken, char *final_taken) {
        r->phase = PHASE_DONE;
        r->dispatch = run_dispatch_free(r->dispatch); /* the iteration is over: its capability is dead */
        if (status != ITERATION_CANCELLED && r->started) {
                r->concluding_status = status;
                r->concluding_reason = reason_taken;
                r->concluding_final = final_taken;
                run_volumes_check_quota(r->volumes, r->sup->event, on_quota_checked, r);
                return;
        }
        run_conclude_measured(r, status, reason_taken, final_taken);
}

static void run_conclude_measured(Run *r, IterationStatus status, char *reason_taken, char *final_taken) {
        _cleanup_free_ char *reason = reason_taken, *final = final_taken;
        json_object *p;

        flush_output(r, status, reason);
        if (r->sup->m_iterations)
                (void) metric_add(r->sup->m_iterations, METRIC_LABELS(iteration_status_to_string(status)),
                                  1);
        p = json_object_new_object();
        json_object_object_add(p, "status", json_object_new_string(iteration_status_to_string(status)));
        json_object_object_add(p, "exit_code", json_object_new_int(r->exit_code));
        if (reason)
                json_object_object_add(p, "reason", json_object_new_string(reason));
        run_emit(r, EVENT_ITERATION_FINISHED, p);

        r->prev_exit_code = r->exit_code;
        free(r->prev_reason);
        r->prev_reason = TAKE_PTR(reason);

        if (status == ITERATION_SUCCEEDED) {
                int k = store_execution_set_output(r->sup->store, r->id, final ? final : tail_str(&r->out));
                if (k < 0)
                        run_log(r, LOG_WARNING, "cannot record the output: %s", strerror(-k));
                run_finish(r, EXECUTION_COMPLETED, NULL);
                return;
        }
        if (status == ITERATION_CANCELLED) {
                run_finish(r, EXECUTION_CANCELLED, REASON_CANCELLED);
                return;
        }
        if (r->overall_timeout) {
                run_finish(r, EXECUTION_FAILED, REASON_TIMEOUT);
                return;
        }
        run_after_cleanup(r, run_next_iteration);
}

static void run_release(Run *r) {
        r->host.ops->finished(r->host.userdata, r);
}

static void run_finish(Run *r, ExecutionStatus status, const char *reason) {
        json_object *p;
        int k;

        r->phase = PHASE_DONE;
        disarm(&r->overall_timer);
        disarm(&r->iteration_timer);
        disarm(&r->flush_timer);
        k = store_execution_set_status(r->sup->store, r->id, status, reason);
        if (k < 0 && k != -EALREADY)
                run_log(r, LOG_ERR, "cannot record the end of the execution: %s (%s)", strerror(-k),
                        store_last_error(r->sup->store));
        if (r->sup->m_executions)
                (void) metric_add(r->sup->m_executions, METRIC_LABELS(execution_status_to_string(status)),
                                  1);
        if (r->sup->m_duration && r->started_realtime)
                (void) metric_observe(r->sup->m_duration, NULL,
                                      (double) (now_rt() - r->started_realtime) / 1e6);
        p = json_object_new_object();
        json_object_object_add(p, "status", json_object_new_string(execution_status_to_string(status)));
        if (reason)
                json_object_object_add(p, "reason", json_object_new_string(reason));
        run_emit(r, EVENT_EXECUTION_FINISHED, p);
        run_log(r, status == EXECUTION_COMPLETED ? LOG_INFO : LOG_NOTICE, "execution %s%s%s",
                execution_status_to_string(status), reason ? ": " : "", strempty(reason));
        r->finished = true;
        run_after_cleanup(r, run_release);
}

void run_cancel(Run *r) {
        assert(r);

        if (r->cancel_requested || r->finished)
                return;
        r->cancel_requested = true;
        run_emit(r, EVENT_CANCEL_REQUESTED, NULL);
        run_kill(r, REASON_CANCELLED);
}

void run_abandon(Run *r) {
        assert(r);

        r->lost_claim = true;
        r->judge = run_judge_free(r->judge);
        podman_op_cancel(r->op);
        podman_op_cancel(r->wait_op);
        podman_op_cancel(r->logs_op);
        r->op = r->wait_op = r->logs_op = NULL;
        r->host.ops->finished(r->host.userdata, r);
}

/* ---- re-attach after a restart ---- */

static void run_reattach_inspect(Run *r);

static int on_reattach_retry(sd_event_source *es, uint64_t usec, void *userdata) {
        Run *r = userdata;

        r->probe_timer = sd_event_source_disable_unref(r->probe_timer);
        run_reattach_inspect(r);
        return 0;
}

static void on_reattach_inspected(int k, const PodmanContainer *info, const Error *e, void *userdata) {
        Run *r = userdata;
        int q;

        r->op = NULL;
        if (k < 0 && engine_outage_retry(r, k)) {
                engine_retry_later(r, on_reattach_retry); /* restarted while Podman is down */
                return;
        }
        r->engine_down_since = 0;
        if (k == -ENOENT || (k >= 0 && !info)) {
                run_log(r, LOG_NOTICE, "container %s of iteration %u is gone: iteration failed",
                        r->container_name, r->iteration);
                q = store_container_update(r->sup->store, r->container_name, NULL, CONTAINER_REMOVED);
                (void) q;
                set_first(&r->error_reason, REASON_CONTAINER_LOST);
                r->phase = PHASE_COLLECT;
                free(r->container_id);
                r->container_id = NULL;
                run_decide(r);
                return;
        }
        if (k < 0) {
                iteration_error(r, "inspect", e);
                r->phase = PHASE_RUNNING;
                run_collect(r);
                return;
        }
        free(r->container_id);
        r->container_id = strdup(info->id);
        /* A warm pool's container: its exit report's nonce died with the old aegisd. */
        r->report_any = false;
        for (char **l = info->labels; l && *l; l++)
                if (startswith(*l, PODMAN_LABEL_POOL "="))
                        r->report_any = true;
        run_emit(r, EVENT_CONTAINER_REATTACHED, ({
                         json_object *p = json_object_new_object();
                         json_object_object_add(
                                 p, "state",
                                 json_object_new_string(podman_container_status_to_string(info->status)));
                         p;
                 }));
        run_log(r, LOG_INFO, "re-attached to container %s (%s)", info->id,
                podman_container_status_to_string(info->status));
        run_attach(r, info->status == PODMAN_STATUS_CREATED);
}

/* The iteration's container was gone and its judges were thinking when aegisd stopped: they
 * are asked again about the same output (the judgement_json "judging" record). */
static bool run_resume_judging(Run *r, const StoreIteration *it) {
        _cleanup_json_ json_object *j = it->judgement_json ? json_tokener_parse(it->judgement_json) : NULL;
        json_object *v;

        if (!j || !json_object_object_get_ex(j, "state", &v) ||
            !streq(strempty(json_object_get_string(v)), "judging") ||
            !json_object_object_get_ex(j, "output", &v))
                return false;
        free(r->judged_output);
        r->judged_output = strdup(strempty(json_object_get_string(v)));
        r->exit_code = json_object_object_get_ex(j, "exit_code", &v) ? json_object_get_int(v) : 0;
        r->started = true;
        free(r->container_id);
        r->container_id = strdup_or_null(it->container_id);
        tail_reset(&r->out);
        tail_reset(&r->err);
        (void) tail_append(&r->out, strempty(it->stdout_text), strlen(strempty(it->stdout_text)));
        (void) tail_append(&r->err, strempty(it->stderr_text), strlen(strempty(it->stderr_text)));
        arm_timer(r, &r->overall_timer,
                  (r->started_realtime ? r->started_realtime : now_rt()) +
                          r->plan->timeout_secs * USEC_PER_SEC,
                  on_overall_timeout);
        run_log(r, LOG_NOTICE, "iteration %u was being judged: asking the judges again", r->iteration);
        run_judging_begin(r, r->judged_output);
        return true;
}

void run_reattach(Run *r, const StoreExecution *x) {
        StoreContainer *cs = NULL;
        StoreIteration it = { 0 };
        size_t n = 0;
        int k;

        assert(r);
        assert(x);
        r->iteration = x->iteration;
        r->started_realtime = x->started_at;
        if (!run_volumes_ready(r->volumes)) {
                _cleanup_free_ char *m = NULL;
                if (run_volumes_setup(r->volumes, &m) < 0)
                        run_log(r, LOG_WARNING, "re-attach: %s", strempty(m)); /* retried next iteration */
        }
        if (r->iteration == 0) {
                run_next_iteration(r);
                return;
        }
        if (store_iteration_get(r->sup->store, r->id, r->iteration, &it) >= 0) {
                r->iteration_started_realtime = it.started_at;
                if (it.status != ITERATION_RUNNING) {
                        /* The iteration was decided before the crash: go on from there. */
                        r->prev_exit_code = it.exit_code;
                        r->prev_reason = strdup_or_null(it.reason);
                        store_iteration_done(&it);
                        if (it.status == ITERATION_SUCCEEDED) {
                                run_finish(r, EXECUTION_COMPLETED, NULL);
                                return;
                        }
                        arm_timer(r, &r->overall_timer,
                                  r->started_realtime + r->plan->timeout_secs * USEC_PER_SEC,
                                  on_overall_timeout);
                        run_next_iteration(r);
                        return;
                }
                if (run_resume_judging(r, &it)) {
                        store_iteration_done(&it);
                        return;
                }
                store_iteration_done(&it);
        } else
                r->iteration_started_realtime = now_rt();
        arm_timer(r, &r->overall_timer,
                  (r->started_realtime ? r->started_realtime : now_rt()) +
                          r->plan->timeout_secs * USEC_PER_SEC,
                  on_overall_timeout);

        k = store_container_list(r->sup->store, r->id, false, &cs, &n);
        if (k >= 0)
                for (size_t i = 0; i < n; i++)
                        if (cs[i].iteration == r->iteration) {
                                free(r->container_name);
                                r->container_name = strdup(cs[i].name);
                                r->container_id = strdup_or_null(cs[i].container_id);
                        }
        store_container_array_free(cs, n);
        if (!r->container_name) {
                /* Crashed between beginning the iteration and recording its container: the row
                 * is written before create, so no container ever ran. Run the iteration again
                 * (a crash must not use up an iteration), with the previous one's feedback. */
                run_log(r, LOG_NOTICE, "iteration %u had no container yet: running it again", r->iteration);
                r->iteration--;
                if (r->iteration > 0 && store_iteration_get(r->sup->store, r->id, r->iteration, &it) >= 0) {
                        r->prev_exit_code = it.exit_code;
                        free(r->prev_reason);
                        r->prev_reason = strdup_or_null(it.reason);
                        tail_reset(&r->out);
                        tail_reset(&r->err);
                        (void) tail_append(&r->out, strempty(it.stdout_text),
                                           strlen(strempty(it.stdout_text)));
                        (void) tail_append(&r->err, strempty(it.stderr_text),
                                           strlen(strempty(it.stderr_text)));
                        store_iteration_done(&it);
                }
                run_next_iteration(r);
                return;
        }
        if (r->plan->inner_loop) {
                /* The conversation goes on where the store left it; the bootstrap's retried
                 * request finds it under the same capability. */
                k = run_dispatch_open(r, NULL, true);
                if (k < 0) {
                        _cleanup_free_ char *m = asprintf_safe(
                                "inner loop: cannot resume the conversation of iteration %u: %s",
                                r->iteration, strerror(-k));
                        run_log(r, LOG_ERR, "%s", strempty(m));
                        set_first(&r->error_reason, m ? m : "inner loop: cannot resume");
                        set_first(&r->kill_reason, m ? m : "inner loop: cannot resume");
                }
        }
        k = run_egress_open(r);
        if (k < 0)
                run_log(r, LOG_ERR, "cannot start the egress proxy again: %s; the container has no way out",
                        strerror(-k));
        r->phase = PHASE_START;
        run_reattach_inspect(r);
}

static void run_reattach_inspect(Run *r) {
        int k;

        k = podman_container_inspect_async(r->sup->podman,
                                           r->container_id ? r->container_id : r->container_name,
                                           on_reattach_inspected, r, &r->op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "%s", strerror(-k));
                r->op = NULL;
                on_reattach_inspected(k, NULL, &e, r);
        }
}
