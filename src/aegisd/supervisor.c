/* supervisor.c — the node side of the execution supervisor: claiming work from the store,
 * leases and heartbeats, re-attaching after a restart, events (store + listeners +
 * journal) and cancellation. One execution's loop is in run.c.
 *
 * Claims are leases in the store, so several aegisd processes (hosts) sharing one
 * PostgreSQL never run one execution twice: pending work is claimed with the store's
 * claim (FOR UPDATE SKIP LOCKED), running work whose owner stopped renewing its lease is
 * adopted by whoever sees it first. The node id is kept in the state directory, so a
 * restarted aegisd recognises its own executions at once and re-attaches to them. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "list.h"
#include "log.h"
#include "run-dispatch.h"
#include "supervisor-internal.h"
#include "util.h"

#define LEASE_DEFAULT_USEC (15 * USEC_PER_SEC)
#define POLL_DEFAULT_USEC (1 * USEC_PER_SEC)
#define RECONCILE_PAGE 200

static void run_list_remove(Supervisor *s, Run *r) {
        LIST_REMOVE(s->runs, r);
}

Run *supervisor_find_run(Supervisor *s, const char *id) {
        assert(s);
        assert(id);

        for (Run *r = s->runs; r; r = r->next)
                if (streq(r->id, id))
                        return r;
        return NULL;
}

RunDispatch *supervisor_find_dispatch(Supervisor *s, const char *capability) {
        RunDispatch *found = NULL;

        assert(s);
        assert(capability);
        for (Run *r = s->runs; r; r = r->next) /* every live one compared: no early exit */
                if (r->dispatch &&
                    gateway_capability_equal(run_dispatch_capability(r->dispatch), capability) && !found)
                        found = r->dispatch;
        return found;
}

static void notify_listeners(Supervisor *s, const char *execution_id, uint64_t seq) {
        SupervisorListener *l, *next;

        for (l = s->listeners; l; l = next) {
                next = l->next; /* a listener may unlisten itself */
                if (!l->execution_id || streq(l->execution_id, execution_id))
                        l->fn(execution_id, seq, l->userdata);
        }
}

int supervisor_emit(Supervisor *s, const char *execution_id, unsigned iteration, const char *container_id,
                    const char *type, json_object *payload) {
        char ts[TIMESTAMP_MAX];
        uint64_t seq = 0;
        int k;

        assert(s);
        assert(execution_id);
        assert(type);
        if (!payload)
                payload = json_object_new_object();
        if (!payload)
                return -ENOMEM;
        json_object_object_add(payload, "type", json_object_new_string(type));
        json_object_object_add(payload, "execution_id", json_object_new_string(execution_id));
        if (iteration > 0)
                json_object_object_add(payload, "iteration", json_object_new_int64(iteration));
        if (container_id)
                json_object_object_add(payload, "container_id", json_object_new_string(container_id));
        json_object_object_add(
                payload, "time",
                json_object_new_string(format_timestamp(ts, sizeof ts, now_usec(CLOCK_REALTIME))));
        k = store_event_append(s->store, execution_id, type,
                               json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN), &seq);
        json_object_put(payload);
        if (k < 0)
                return k;
        notify_listeners(s, execution_id, seq);
        return 0;
}

/* Takes r out of the gate's queue. */
static void gate_unlink(Supervisor *s, Run *r) {
        Run **p;

        for (p = &s->gate_head; *p; p = &(*p)->gate_next)
                if (*p == r) {
                        *p = r->gate_next;
                        break;
                }
        s->gate_tail = NULL;
        for (Run *q = s->gate_head; q; q = q->gate_next)
                s->gate_tail = q;
        r->gate_next = NULL;
        r->gate_queued = false;
        r->gate_fn = NULL;
}

static void gate_forget(void *userdata, Run *r) {
        Supervisor *s = userdata;

        assert(s);
        assert(r);
        if (r->gate_queued)
                gate_unlink(s, r);
}

/* The next to pass the gate: the first that is not a cleanup, else the first. */
static Run *gate_next_in_line(Supervisor *s) {
        for (Run *q = s->gate_head; q; q = q->gate_next)
                if (!q->gate_cleanup)
                        return q;
        return s->gate_head;
}

/* Whether someone waits who passes before a newcomer: anyone before a cleanup, a non-cleanup
 * before the others. */
static bool gate_waits_before(Supervisor *s, bool cleanup) {
        Run *q = gate_next_in_line(s);

        return q && (cleanup || !q->gate_cleanup);
}

static int on_gate(sd_event_source *es, void *userdata) {
        Supervisor *s = userdata;

        while (s->gate_head && s->gate_busy < SUPERVISOR_GATE_MAX) {
                Run *r = gate_next_in_line(s);
                void (*fn)(Run *) = r->gate_fn;

                gate_unlink(s, r);
                r->holds_gate = true;
                s->gate_busy++;
                fn(r);
        }
        /* Either the queue is empty or the gate is full: a release turns this on again. */
        (void) sd_event_source_set_enabled(es, SD_EVENT_OFF);
        return 0;
}

static void gate_enqueue(Supervisor *s, Run *r, void (*fn)(Run *r), bool cleanup) {
        assert(s);
        assert(r);
        assert(fn);

        gate_forget(s, r);
        r->gate_cleanup = cleanup;
        if (s->gate_busy < SUPERVISOR_GATE_MAX && !gate_waits_before(s, cleanup)) {
                r->holds_gate = true;
                s->gate_busy++;
                fn(r);
                return;
        }
        r->gate_fn = fn;
        r->gate_queued = true;
        if (s->gate_tail)
                s->gate_tail->gate_next = r;
        else
                s->gate_head = r;
        s->gate_tail = r;
}

static void gate(void *userdata, Run *r, void (*fn)(Run *r)) {
        gate_enqueue(userdata, r, fn, false);
}

static void gate_cleanup(void *userdata, Run *r, void (*fn)(Run *r)) {
        gate_enqueue(userdata, r, fn, true);
}

static void gate_release(void *userdata, Run *r) {
        Supervisor *s = userdata;

        assert(s);
        assert(r);
        if (!r->holds_gate)
                return;
        r->holds_gate = false;
        s->gate_busy--;
        if (s->gate_head && s->gate_event)
                (void) sd_event_source_set_enabled(s->gate_event, SD_EVENT_ON);
}

static void run_finished(void *userdata, Run *r) {
        Supervisor *s = userdata;

        assert(s);
        assert(r);

        run_list_remove(s, r);
        s->n_runs--;
        run_free(r);
        supervisor_kick(s);
}

static void count_container_op(void *userdata, const char *op, int r) {
        Supervisor *s = userdata;

        assert(s);
        assert(op);

        if (s->m_container_ops)
                (void) metric_add(s->m_container_ops, METRIC_LABELS(op, r >= 0 ? "ok" : "error"), 1);
}

static void count_policy_violation(void *userdata, const char *tool) {
        Supervisor *s = userdata;

        assert(s);
        assert(tool);

        if (s->m_policy_violations)
                (void) metric_add(s->m_policy_violations, METRIC_LABELS(tool), 1);
}

static void observe_container_op(void *userdata, const char *op, uint64_t usec) {
        Supervisor *s = userdata;

        assert(s);
        assert(op);

        if (s->m_container_op_seconds)
                (void) metric_observe(s->m_container_op_seconds, METRIC_LABELS(op), (double) usec / 1e6);
}

/* ---- what a Run and its judge executions call on the node (RunHostOps) ---- */

static int run_host_emit(void *userdata, const char *execution_id, unsigned iteration,
                         const char *container_id, const char *type, json_object *payload) {
        return supervisor_emit(userdata, execution_id, iteration, container_id, type, payload);
}

static void run_host_kick(void *userdata) {
        supervisor_kick(userdata);
}

static int judge_emit(void *userdata, const char *execution_id, const char *type, json_object *payload) {
        return supervisor_emit(userdata, execution_id, 0, NULL, type, payload);
}

static int judge_cancel(void *userdata, const char *execution_id) {
        Error e = ERROR_INIT;

        return supervisor_cancel(userdata, execution_id, &e);
}

static int judge_listen(void *userdata, const char *execution_id, judge_execution_event_fn fn,
                        void *fn_userdata, void **ret_listener) {
        SupervisorListener *l;
        int k;

        k = supervisor_listen(userdata, execution_id, fn, fn_userdata, &l);
        if (k >= 0)
                *ret_listener = l;
        return k;
}

static void judge_unlisten(void *userdata, void *listener) {
        supervisor_unlisten(userdata, listener);
}

static const JudgeExecutionOps judge_execution_ops = {
        .emit = judge_emit,
        .kick = run_host_kick,
        .cancel = judge_cancel,
        .listen = judge_listen,
        .unlisten = judge_unlisten,
};

static const RunHostOps run_host_ops = {
        .emit = run_host_emit,
        .gate = gate,
        .gate_cleanup = gate_cleanup,
        .gate_release = gate_release,
        .gate_forget = gate_forget,
        .count_container_op = count_container_op,
        .observe_container_op = observe_container_op,
        .count_policy_violation = count_policy_violation,
        .kick = run_host_kick,
        .finished = run_finished,
        .judge_executions = &judge_execution_ops,
};

static int start_run(Supervisor *s, const StoreExecution *x, bool reattach) {
        Run *r;
        int k;

        if (supervisor_find_run(s, x->id))
                return 0; /* already ours and running here: never twice */
        k = run_new(s, &(RunHost){ .ops = &run_host_ops, .userdata = s }, x, &r);
        if (k < 0) {
                _cleanup_free_ char *m = asprintf_safe("cannot start: %s", strerror(-k));
                (void) store_execution_set_status(s->store, x->id, EXECUTION_FAILED,
                                                  k == -EINVAL ? "invalid stored manifest" : m);
                (void) supervisor_emit(s, x->id, 0, NULL, EVENT_EXECUTION_FINISHED, ({
                                               json_object *p = json_object_new_object();
                                               json_object_object_add(p, "status",
                                                                      json_object_new_string("failed"));
                                               p;
                                       }));
                return k;
        }
        LIST_PREPEND(s->runs, r);
        s->n_runs++;
        if (reattach)
                run_reattach(r, x);
        else
                run_next_iteration(r);
        return 0;
}

/* The runs that count against runtime.max_concurrent: all but those waiting, without a
 * container, for their judge agents' executions (which need slots of their own: counting
 * the waiting ones would deadlock a node whose every slot waits for a judge). */
static unsigned slots_used(const Supervisor *s) {
        unsigned n = s->n_runs;

        for (const Run *r = s->runs; r; r = r->next)
                if (r->awaits_judge_agents && n > 0)
                        n--;
        return n;
}

/* Adopts running (or claimed-pending) executions that are ours from before a restart, or
 * whose owner's lease expired. */
static void adopt_abandoned(Supervisor *s) {
        StoreExecutionFilter f = STORE_EXECUTION_FILTER_INIT;
        StoreExecution *xs = NULL;
        size_t n = 0;
        uint64_t now = now_usec(CLOCK_REALTIME);
        int k;

        f.status = EXECUTION_RUNNING;
        f.limit = RECONCILE_PAGE;
        f.summary = true;
        k = store_execution_list(s->store, &f, &xs, &n, NULL);
        if (k < 0) {
                log_warning("supervisor: cannot list running executions: %s (%s)", strerror(-k),
                            store_last_error(s->store));
                return;
        }
        for (size_t i = 0; i < n && slots_used(s) < s->opts.max_concurrent; i++) {
                StoreExecution full = { 0 };
                bool ours = streq(xs[i].claimed_by, s->node_id);

                if (supervisor_find_run(s, xs[i].id))
                        continue;
                if (!ours && xs[i].claimed_by && xs[i].lease_expires_at > now)
                        continue; /* alive elsewhere */
                k = store_execution_claim_id(s->store, xs[i].id, s->node_id, s->opts.lease_usec);
                if (k < 0)
                        continue; /* somebody else was faster, or it ended */
                if (store_execution_get(s->store, xs[i].id, &full) < 0)
                        continue;
                char field[64];
                snprintf(field, sizeof field, "EXECUTION_ID=%s", full.id);
                log_fields(LOG_NOTICE, LOG_FIELDS(field), "execution %s: re-attaching (left running by %s)",
                           full.id, ours ? "this node before a restart" : strempty(xs[i].claimed_by));
                (void) start_run(s, &full, true);
                store_execution_done(&full);
        }
        store_execution_array_free(xs, n);
}

static void claim_pending(Supervisor *s) {
        while (s->running && slots_used(s) < s->opts.max_concurrent) {
                StoreExecution x = { 0 };
                int k = store_execution_claim(s->store, s->node_id, s->opts.lease_usec, &x);

                if (k < 0) {
                        log_warning("supervisor: cannot claim work: %s (%s)", strerror(-k),
                                    store_last_error(s->store));
                        return;
                }
                if (k == 0)
                        return;
                (void) start_run(s, &x, x.iteration > 0);
                store_execution_done(&x);
        }
}

static void supervisor_poll(Supervisor *s) {
        if (!s->running)
                return;
        adopt_abandoned(s);
        claim_pending(s);
}

static int on_poll(sd_event_source *es, uint64_t usec, void *userdata) {
        Supervisor *s = userdata;

        supervisor_poll(s);
        (void) sd_event_source_set_time_relative(es, s->opts.poll_usec);
        (void) sd_event_source_set_enabled(es, SD_EVENT_ONESHOT); /* timers fire once per arming */
        return 0;
}

static int on_kick(sd_event_source *es, void *userdata) {
        Supervisor *s = userdata;

        (void) sd_event_source_set_enabled(es, SD_EVENT_OFF);
        claim_pending(s);
        return 0;
}

void supervisor_kick(Supervisor *s) {
        assert(s);

        if (s->kick_event)
                (void) sd_event_source_set_enabled(s->kick_event, SD_EVENT_ONESHOT);
}

static int on_heartbeat(sd_event_source *es, uint64_t usec, void *userdata) {
        Supervisor *s = userdata;
        Run *r, *next;

        for (r = s->runs; r; r = next) {
                next = r->next;
                if (r->finished)
                        continue; /* ended in the store, only removing its container */
                int k = store_execution_heartbeat(s->store, r->id, s->node_id, s->opts.lease_usec);
                if (k == -ESTALE || k == -ENOENT) {
                        StoreExecution x = { 0 };

                        /* Cancelled by another node (terminal) or taken over: stop here. */
                        if (k == -ENOENT || (store_execution_get(s->store, r->id, &x) >= 0 &&
                                             x.status == EXECUTION_CANCELLED)) {
                                run_log(r, LOG_NOTICE, "cancelled elsewhere: killing its container");
                                run_cancel(r);
                        } else {
                                run_log(r, LOG_WARNING, "lost the claim to %s: leaving it",
                                        strempty(x.claimed_by));
                                run_abandon(r);
                        }
                        store_execution_done(&x);
                }
        }
        (void) sd_event_source_set_time_relative(es, s->opts.lease_usec / 3);
        (void) sd_event_source_set_enabled(es, SD_EVENT_ONESHOT); /* timers fire once per arming */
        return 0;
}

static int load_node_id(Supervisor *s) {
        _cleanup_free_ char *path = path_join(s->state_dir, "node-id"), *text = NULL;
        char id[ID128_STRING_MAX], host[64] = "";
        size_t n;
        int k;

        if (!path)
                return -ENOMEM;
        k = read_full_file(path, 256, &text, &n);
        if (k >= 0) {
                while (n > 0 && strchr("\r\n \t", text[n - 1]))
                        text[--n] = '\0';
                if (n > 0 && n < sizeof s->node_id) {
                        memcpy(s->node_id, text, n + 1);
                        return 0;
                }
        }
        (void) gethostname(host, sizeof host - 1);
        k = random_id(id);
        if (k < 0)
                return k;
        snprintf(s->node_id, sizeof s->node_id, "%.24s/%.16s", isempty(host) ? "node" : host, id);
        k = mkdir_p(s->state_dir, 0755);
        if (k >= 0)
                k = write_file_atomic(path, s->node_id, strlen(s->node_id), 0644);
        return k;
}

int supervisor_new(sd_event *event, Store *store, PodmanClient *podman, const SupervisorOptions *o,
                   Supervisor **ret, Error *e) {
        _cleanup_(supervisor_freep) Supervisor *s = NULL;
        int k;

        assert(event);
        assert(store);
        assert(podman);
        assert(o);
        assert(ret);
        s = calloc(1, sizeof *s);
        if (!s)
                return error_set(e, -ENOMEM, "out of memory");
        s->event = sd_event_ref(event);
        s->store = store;
        s->podman = podman;
        s->opts = *o;
        if (s->opts.max_concurrent == 0)
                s->opts.max_concurrent = 50;
        if (s->opts.lease_usec == 0)
                s->opts.lease_usec = LEASE_DEFAULT_USEC;
        if (s->opts.poll_usec == 0)
                s->opts.poll_usec = POLL_DEFAULT_USEC;
        s->state_dir = strdup(o->state_dir);
        s->network = strdup_or_null(o->network);
        s->storage_root = o->storage_root ? strdup(o->storage_root) : path_join(o->state_dir, "storage");
        if (!s->state_dir || (o->network && !s->network) || !s->storage_root)
                return error_set(e, -ENOMEM, "out of memory");
        s->opts.storage_root = NULL; /* borrowed: use s->storage_root */
        {
                char why[PATH_MAX + ERROR_MESSAGE_MAX] = "";
                k = run_inbox_engine_sees(s->state_dir, podman, &s->engine_uid, why, sizeof why);
                if (k < 0)
                        return error_set(e, k, "cannot make %s/" RUN_INBOX_DIR ": %s", s->state_dir,
                                         strerror(-k));
                s->inbox_unseen = k == 0;
                if (s->inbox_unseen)
                        log_notice("iterations' own files are uploaded into their containers: %s", why);
                else
                        log_info("iterations' own files reach their containers as bind mounts from "
                                 "%s/" RUN_INBOX_DIR,
                                 s->state_dir);
        }
        s->opts.nfs_server_host = NULL;
        if (s->opts.nfs_port == 0)
                s->opts.nfs_port = 2049;
        if (o->nfs_server_host)
                s->nfs_host = strdup(o->nfs_server_host);
        else if (o->mount_mode == STORAGE_MOUNT_NFS) {
                char addr[PODMAN_ADDRESS_MAX];
                Error ge = ERROR_INIT;
                if (podman_host_gateway_address(addr, &ge) >= 0)
                        s->nfs_host = strdup(addr);
                else
                        log_warning("storage.nfs_server_host is not set and %s: executions with volumes "
                                    "will fail until it is set",
                                    ge.message);
        }
        {
                const char *d = getenv("AEGIS_TEST_CLEANUP_DELAY_MSEC");
                uint64_t ms = 0;
                if (d && safe_atou64(d, &ms) >= 0 && ms > 0) {
                        s->cleanup_delay_usec = ms * USEC_PER_MSEC;
                        log_warning(
                                "supervisor: containers are removed %" PRIu64
                                " ms after their iteration ends (AEGIS_TEST_CLEANUP_DELAY_MSEC, for tests)",
                                ms);
                }
        }
        k = load_node_id(s);
        if (k < 0)
                return error_set_field(e, k, "state_dir", "cannot keep the node id in %s: %s", s->state_dir,
                                       strerror(-k));
        k = sd_event_add_defer(event, &s->gate_event, on_gate, s);
        if (k >= 0)
                k = sd_event_source_set_enabled(s->gate_event, SD_EVENT_OFF);
        if (k >= 0)
                k = sd_event_add_defer(event, &s->kick_event, on_kick, s);
        if (k >= 0)
                k = sd_event_source_set_enabled(s->kick_event, SD_EVENT_OFF);
        if (k >= 0)
                k = tool_slots_new(event, &s->tool_slots);
        if (k >= 0) {
                const Config *c = s->opts.config;
                uint64_t idle = c ? c->runtime.warm_pool_max_idle_secs * USEC_PER_SEC : 0;
                k = run_pool_new(
                        &(RunPoolContext){
                                .event = event,
                                .podman = podman,
                                .store = store,
                                .max_total = s->opts.max_concurrent,
                                .config = c,
                                .default_size = c ? c->runtime.warm_pool_default : 0,
                                .max_size = c ? c->runtime.warm_pool_max : 0,
                                .max_idle_usec = idle,
                                .image_check_usec =
                                        c ? c->runtime.warm_pool_image_check_secs * USEC_PER_SEC : 0,
                                .allow_unenforced_limits = c && c->runtime.allow_unenforced_limits,
                                .network = s->network,
                                .userns = s->opts.userns,
                                .userns_base = s->opts.userns_base,
                                .bootstrap_binary = s->opts.bootstrap_binary,
                                .bootstrap_binary_size = s->opts.bootstrap_binary_size },
                        &s->pool);
        }
        if (k < 0)
                return error_set(e, k, "cannot set up the supervisor's events: %s", strerror(-k));
        *ret = TAKE_PTR(s);
        return 0;
}

Supervisor *supervisor_free(Supervisor *s) {
        if (!s)
                return NULL;
        supervisor_stop(s);
        while (s->runs) {
                Run *r = s->runs;
                run_list_remove(s, r);
                run_free(r);
        }
        while (s->listeners) {
                SupervisorListener *l = s->listeners;
                s->listeners = l->next;
                free(l->execution_id);
                free(l);
        }
        s->kick_event = sd_event_source_disable_unref(s->kick_event);
        s->gate_event = sd_event_source_disable_unref(s->gate_event);
        s->tool_slots = tool_slots_free(s->tool_slots);
        s->pool = run_pool_free(s->pool); /* removes the pooled containers */
        sd_event_unref(s->event);
        free(s->state_dir);
        free(s->network);
        free(s->storage_root);
        free(s->nfs_host);
        free(s);
        return NULL;
}

int supervisor_start(Supervisor *s) {
        int k;

        assert(s);
        s->running = true;
        log_info("supervisor: node %s, up to %" PRIu64 " executions at once", s->node_id,
                 s->opts.max_concurrent);
        supervisor_poll(s); /* re-attach to our own leftovers first, then claim */
        run_pool_sync(s->pool);
        k = sd_event_add_time_relative(s->event, &s->poll_timer, CLOCK_MONOTONIC, s->opts.poll_usec,
                                       USEC_PER_MSEC * 50, on_poll, s);
        if (k >= 0)
                k = sd_event_add_time_relative(s->event, &s->heartbeat_timer, CLOCK_MONOTONIC,
                                               s->opts.lease_usec / 3, USEC_PER_MSEC * 100, on_heartbeat, s);
        return k;
}

void supervisor_stop(Supervisor *s) {
        assert(s);

        s->running = false;
        s->poll_timer = sd_event_source_disable_unref(s->poll_timer);
        s->heartbeat_timer = sd_event_source_disable_unref(s->heartbeat_timer);
}

void supervisor_agents_changed(Supervisor *s) {
        if (s->running)
                run_pool_sync(s->pool);
}

const char *supervisor_node_id(const Supervisor *s) {
        assert(s);

        return s->node_id;
}

unsigned supervisor_active(const Supervisor *s) {
        assert(s);

        return s->n_runs;
}

int supervisor_cancel(Supervisor *s, const char *id, Error *e) {
        StoreExecution x = { 0 };
        Run *r;
        int k;

        assert(s);
        assert(id);
        r = supervisor_find_run(s, id);
        if (r && !r->finished) {
                run_cancel(r);
                return 0;
        }
        k = store_execution_get(s->store, id, &x);
        if (k == -ENOENT)
                return error_set(e, -ENOENT, "no execution %s", id);
        if (k < 0)
                return error_set(e, k, "cannot read execution %s: %s", id, store_last_error(s->store));
        if (execution_status_is_terminal(x.status)) {
                k = error_set(e, -EALREADY, "execution %s already %s", id,
                              execution_status_to_string(x.status));
                store_execution_done(&x);
                return k;
        }
        store_execution_done(&x);
        /* Pending, or running on another node: end it in the store; the owner (if any)
         * notices at its next heartbeat and kills the container. */
        k = store_execution_set_status(s->store, id, EXECUTION_CANCELLED, REASON_CANCELLED);
        if (k == -EALREADY)
                return error_set(e, -EALREADY, "execution %s already ended", id);
        if (k < 0)
                return error_set(e, k, "cannot cancel execution %s: %s", id, store_last_error(s->store));
        (void) supervisor_emit(
                s, id, 0, NULL, EVENT_EXECUTION_FINISHED, ({
                        json_object *p = json_object_new_object();
                        json_object_object_add(p, "status", json_object_new_string("cancelled"));
                        json_object_object_add(p, "reason", json_object_new_string(REASON_CANCELLED));
                        p;
                }));
        return 0;
}

int supervisor_listen(Supervisor *s, const char *execution_id, supervisor_listener_fn fn, void *userdata,
                      SupervisorListener **ret) {
        SupervisorListener *l = calloc(1, sizeof *l);

        assert(s);
        assert(fn);
        assert(ret);
        if (!l)
                return -ENOMEM;
        l->execution_id = strdup_or_null(execution_id);
        if (execution_id && !l->execution_id) {
                free(l);
                return -ENOMEM;
        }
        l->fn = fn;
        l->userdata = userdata;
        LIST_PREPEND(s->listeners, l);
        *ret = l;
        return 0;
}

void supervisor_unlisten(Supervisor *s, SupervisorListener *l) {
        if (!l)
                return;
        assert(s);
        LIST_REMOVE(s->listeners, l);
        free(l->execution_id);
        free(l);
}

const char *supervisor_live_output(Supervisor *s, const char *id, unsigned *ret_iteration, size_t *ret_len) {
        Run *r;

        assert(s);
        assert(id);
        assert(ret_iteration);
        assert(ret_len);
        r = supervisor_find_run(s, id);
        if (!r) {
                *ret_iteration = 0;
                *ret_len = 0;
                return "";
        }
        *ret_iteration = r->iteration;
        *ret_len = r->out.size;
        return tail_str(&r->out);
}

/* What iterations used (run-stats.h), observed as each container exits. */
static int supervisor_register_usage_metrics(Supervisor *s, MetricsRegistry *reg) {
        static const char *const by_labels[] = { "by", NULL };
        static const double cpu_buckets[] = { 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600 };
        static const double mem_buckets[] = { 1 << 20,         16 << 20,        64 << 20,
                                              256 << 20,       512 << 20,       1 << 30,
                                              2.0 * (1 << 30), 4.0 * (1 << 30), 8.0 * (1 << 30),
                                              16.0 * (1 << 30) };
        int k;

        k = metrics_register(reg, METRIC_HISTOGRAM, "aegis_iteration_cpu_seconds",
                             "CPU time an iteration's container used, as the engine last read it.", NULL,
                             cpu_buckets, ELEMENTSOF(cpu_buckets), &s->m_iter_cpu);
        if (k >= 0)
                k = metrics_register(reg, METRIC_HISTOGRAM, "aegis_iteration_memory_peak_bytes",
                                     "Highest memory use (page cache excluded) read from an iteration's "
                                     "container.",
                                     NULL, mem_buckets, ELEMENTSOF(mem_buckets), &s->m_iter_memory);
        if (k >= 0)
                k = metrics_register(reg, METRIC_COUNTER, "aegis_iteration_oom_kills_total",
                                     "Iterations whose container the kernel killed at its memory limit.",
                                     NULL, NULL, 0, &s->m_iter_oom);
        if (k >= 0)
                k = metrics_register(reg, METRIC_COUNTER, "aegis_iteration_usage_unknown_total",
                                     "Iterations whose stats read only zeros: the engine's cgroup "
                                     "controllers are not delegated.",
                                     NULL, NULL, 0, &s->m_iter_usage_unknown);
        if (k >= 0)
                k = metrics_register(reg, METRIC_COUNTER, "aegis_iteration_exits_seen_total",
                                     "Iterations whose container's exit aegisd saw, by how: report (a "
                                     "warm container's aegis-bootstrap told it), attach (the attach "
                                     "ended and inspect had the status), wait (the engine's wait "
                                     "answered).",
                                     by_labels, NULL, 0, &s->m_exits_seen);
        return k;
}

int supervisor_register_metrics(Supervisor *s, MetricsRegistry *reg) {
        static const char *const
                status_labels[] = { "status", NULL },
                *const result_labels[] = { "result", NULL }, *const op_labels[] = { "op", "result", NULL },
                *const op_only_labels[] = { "op", NULL }, *const tool_labels[] = { "tool", NULL };
        static const double op_buckets[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120 };
        static const double buckets[] = { 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600 };
        int k;

        assert(s);
        assert(reg);
        k = metrics_register(reg, METRIC_COUNTER, "aegis_executions_total",
                             "Executions finished, by status.", status_labels, NULL, 0, &s->m_executions);
        if (k >= 0)
                k = metrics_register(reg, METRIC_GAUGE, "aegis_execution_active",
                                     "Executions running on this node now.", NULL, NULL, 0, &s->m_active);
        if (k >= 0)
                k = metrics_register(reg, METRIC_HISTOGRAM, "aegis_execution_duration_seconds",
                                     "Wall time of finished executions, from start to end.", NULL, buckets,
                                     ELEMENTSOF(buckets), &s->m_duration);
        if (k >= 0)
                k = metrics_register(reg, METRIC_COUNTER, "aegis_iterations_total",
                                     "Iterations finished, by result.", result_labels, NULL, 0,
                                     &s->m_iterations);
        if (k >= 0)
                k = metrics_register(reg, METRIC_COUNTER, "aegis_container_operations_total",
                                     "Podman operations on agent containers, by operation and result.",
                                     op_labels, NULL, 0, &s->m_container_ops);
        if (k >= 0)
                k = metrics_register(reg, METRIC_HISTOGRAM, "aegis_container_operation_duration_seconds",
                                     "Latency of Podman operations on agent containers, by operation.",
                                     op_only_labels, op_buckets, ELEMENTSOF(op_buckets),
                                     &s->m_container_op_seconds);
        if (k >= 0)
                k = metrics_register(reg, METRIC_COUNTER, "aegis_image_pulls_total",
                                     "Image pulls the engine was asked for, by result.", result_labels, NULL,
                                     0, &s->m_image_pulls);
        if (k >= 0)
                k = metrics_register(reg, METRIC_COUNTER, "aegis_egress_connections_total",
                                     "Connections to the egress proxies of filtered network policies, by "
                                     "result: allowed, refused (by the policy or as malformed), failed "
                                     "(lookup or connect).",
                                     result_labels, NULL, 0, &s->m_egress);
        if (k >= 0)
                k = metrics_register(reg, METRIC_COUNTER, "aegis_policy_violations_total",
                                     "Tool calls the security context denied, by tool.", tool_labels, NULL,
                                     0, &s->m_policy_violations);
        if (k >= 0)
                k = supervisor_register_usage_metrics(s, reg);
        if (k >= 0)
                k = run_pool_register_metrics(s->pool, reg);
        return k;
}

void supervisor_update_metrics(Supervisor *s) {
        assert(s);

        if (s->m_active)
                (void) metric_set(s->m_active, NULL, s->n_runs);
}
