/* run-pool.c — warm pools: for each deployed agent that asks for one (spec.runtime.warm_pool:
 * N, or runtime.warm_pool_default; never more than runtime.warm_pool_max), N containers
 * created and started ahead, waiting for an iteration, so that an iteration only delivers
 * its files to one.
 *
 * Design. One RunPool per daemon (the Supervisor's). It knows agents, not executions: each
 * pool is keyed by the agent's id and the canonical manifest it was made from; an execution
 * takes from it only when its own canonical manifest is the same text, so a redeployed or
 * changed agent never gets a container of its old definition. run_pool_sync() re-reads the
 * deployed agents (at start, and on every deploy, change and delete through the API) and
 * drains the pools whose agent is gone or changed.
 *
 * A pooled container is what the cold path would create for the agent — same image, user,
 * workdir, limits, network, read-only root, the manifest's environment — except what only
 * the iteration knows: its command is aegis-bootstrap --env-file /run/aegis/env --wait-for
 * /run/aegis/ready -- COMMAND, started as soon as it is made: it blocks (inotify), prints
 * nothing, until the Run places input.json, feedback.json, /run/aegis/env (every variable
 * the cold path would set, execution id, iteration, input and feedback included) and last
 * the ready marker through the engine's archive upload; then aegis-bootstrap sets them and
 * runs the command as its child, and reports its exit on the log stream (exit-report.h), so
 * the Run ends the iteration without waiting for the engine to notice the container's end.
 * The Run does not start it: it follows it (logs, wait) as one it started. A member that
 * exited before it was taken (killed, stopped) is found by the Run when the wait answers
 * at once (run.c, on_pool_exit_probe()) and the iteration goes cold. A member idle for
 * runtime.warm_pool_max_idle_secs is removed and replaced. Limits are checked once,
 * when the container is made (the cold path checks each one it creates): a pool whose
 * limits the engine dropped is discarded and not refilled, and the cold path says why.
 *
 * Not pooled (run_pool_size() 0), documented in aegis-manifest(5): the inner loop (its
 * prompt, gateway mount and capability are per iteration), a filtered network_policy (its
 * egress proxy's socket directory is per execution), spec.volumes (per-execution engine
 * volumes and mounts), a manifest without spec.runtime.command (the wrapper must know what
 * to exec), and every agent while runtime.bootstrap_binary is unreadable.
 *
 * What must stay true:
 *  - a container is used for exactly one iteration: take removes it from the pool, and
 *    whatever happens to it afterwards is the Run's (removed like a created one);
 *  - nothing of an iteration is in a member before it is taken: the member's logs, until
 *    then, are empty;
 *  - refills run in the background, one create at a time (the engine serialises creates on
 *    its storage lock: requests must not queue behind a refill), never more pooled
 *    containers than runtime.max_concurrent in all, nor for one tenant's agents together
 *    than its limits.max_concurrent_executions;
 *  - every pooled container carries aegis.pool=<agent> and aegis.pool_owner=<this process's
 *    token> (process-token.h): the reconciliation (aegisd's at start, aegis-reaper) removes
 *    those whose owner is gone, so a killed aegisd leaks none; a stopping one removes its own
 *    (run_pool_free);
 *  - a member is made from the image the agent's reference names at that moment, and is
 *    taken only by an iteration whose image check found that same image id: an image
 *    pulled or re-tagged since drains the pool (at the next refill, take or scheduled
 *    check, every runtime.warm_pool_image_check_secs, whichever comes first);
 *  - warm_pool 0 (the default) creates nothing and changes nothing on the cold path. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "log.h"
#include "process-token.h"
#include "run-pool.h"
#include "util.h"

#define REFILL_BACKOFF_USEC (30 * USEC_PER_SEC) /* after a create failed for an agent */
#define ENV_IN_CONTAINER_INPUT_FILE "/run/aegis/input.json"

typedef struct PoolMember {
        char *name, *id;
        uint64_t since; /* CLOCK_MONOTONIC µs: started, waiting since */
} PoolMember;

typedef struct PoolAgent PoolAgent;
struct PoolAgent {
        PoolAgent *next;
        char *agent_id;
        char *tenant_id;
        char *canonical; /* the manifest the members were made from */
        ManifestPlan *plan;
        uint64_t want;
        PoolMember *ready;
        size_t n_ready;
        unsigned creating;
        char image_id[80]; /* the image its members were made from ("" = none yet) */
        uint64_t backoff_until; /* CLOCK_MONOTONIC µs; 0 = none */
        bool refused; /* the engine dropped its limits: not refilled until it changes */
        RunPool *pool;
        PodmanOp *image_op; /* the scheduled image check (on_image_checked) */
        bool seen; /* run_pool_sync() */
};

/* One create in flight: outlives nothing but the pool (freed and cancelled with it). */
typedef struct PoolCreate PoolCreate;
struct PoolCreate {
        PoolCreate *next;
        RunPool *pool;
        char *agent_id, *canonical;
        char member[UUID_STRING_MAX];
        char *id;
        PodmanOp *op;
        uint64_t started;
};

struct RunPool {
        RunPoolContext c;
        char owner[PROCESS_TOKEN_MAX];
        char *network;
        PoolAgent *agents;
        PoolCreate *creates;
        size_t n_ready_total;
        unsigned n_creating;
        sd_event_source *refill_event, *backoff_timer, *idle_timer, *image_timer;
        PodmanOp *verify_op; /* run_pool_verify() */
        Metric *m_size, *m_takes, *m_refill;
};

static void member_done(PoolMember *m) {
        free(m->name);
        free(m->id);
}

static void on_discarded(int k, const Error *e, void *userdata) {
        /* Gone or not: a leftover carries its owner's token, the reconciliation takes it. */
}

void run_pool_discard(RunPool *p, const char *id) {
        assert(p);
        assert(id);
        (void) podman_container_remove_async(p->c.podman, id, on_discarded, NULL, NULL);
}

static void update_size(RunPool *p) {
        if (p->m_size)
                (void) metric_set(p->m_size, NULL, (double) p->n_ready_total);
}

/* Removes agent a's ready members (in the background). */
static void agent_drain(RunPool *p, PoolAgent *a) {
        for (size_t i = 0; i < a->n_ready; i++) {
                run_pool_discard(p, a->ready[i].id);
                member_done(&a->ready[i]);
        }
        p->n_ready_total -= a->n_ready;
        a->n_ready = 0;
        update_size(p);
}

static void agent_free(PoolAgent *a) {
        if (!a)
                return;
        podman_op_cancel(a->image_op);
        for (size_t i = 0; i < a->n_ready; i++)
                member_done(&a->ready[i]);
        free(a->ready);
        free(a->agent_id);
        free(a->tenant_id);
        free(a->canonical);
        manifest_plan_free(a->plan);
        free(a);
}

static PoolAgent *agent_find(RunPool *p, const char *agent_id) {
        for (PoolAgent *a = p->agents; a; a = a->next)
                if (streq(a->agent_id, agent_id))
                        return a;
        return NULL;
}

static void create_free(PoolCreate *x) {
        if (!x)
                return;
        podman_op_cancel(x->op);
        free(x->agent_id);
        free(x->canonical);
        free(x->id);
        free(x);
}

static void create_unlink(RunPool *p, PoolCreate *x) {
        for (PoolCreate **q = &p->creates; *q; q = &(*q)->next)
                if (*q == x) {
                        *q = x->next;
                        break;
                }
}

uint64_t run_pool_size(const RunPool *p, const ManifestPlan *plan) {
        uint64_t n;

        assert(p);
        assert(plan);
        if (!p->c.bootstrap_binary || plan->inner_loop || !plan->command || plan->n_volumes > 0 ||
            manifest_plan_egress(plan) == MANIFEST_EGRESS_FILTERED)
                return 0;
        n = plan->warm_pool >= 0 ? (uint64_t) plan->warm_pool : p->c.default_size;
        return MIN(n, p->c.max_size);
}

int run_pool_new(const RunPoolContext *c, RunPool **ret) {
        RunPool *p;
        int k;

        assert(c);
        assert(c->event);
        assert(c->podman);
        assert(c->store);
        assert(ret);
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->c = *c;
        p->network = strdup_or_null(c->network);
        p->c.network = NULL;
        k = process_token(0, p->owner);
        if (k < 0 || (c->network && !p->network)) {
                free(p->network);
                free(p);
                return k < 0 ? k : -ENOMEM;
        }
        *ret = p;
        return 0;
}

RunPool *run_pool_free(RunPool *p) {
        if (!p)
                return NULL;
        while (p->creates) {
                PoolCreate *x = p->creates;
                p->creates = x->next;
                create_free(x); /* a container made meanwhile is the reconciliation's */
        }
        while (p->agents) {
                PoolAgent *a = p->agents;
                p->agents = a->next;
                for (size_t i = 0; i < a->n_ready; i++)
                        (void) podman_container_remove(p->c.podman, a->ready[i].id, NULL);
                agent_free(a);
        }
        podman_op_cancel(p->verify_op);
        p->refill_event = sd_event_source_disable_unref(p->refill_event);
        p->backoff_timer = sd_event_source_disable_unref(p->backoff_timer);
        p->idle_timer = sd_event_source_disable_unref(p->idle_timer);
        p->image_timer = sd_event_source_disable_unref(p->image_timer);
        free(p->network);
        free(p);
        return NULL;
}

int run_pool_register_metrics(RunPool *p, MetricsRegistry *reg) {
        static const char *const result_labels[] = { "result", NULL };
        static const double buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
        int k;

        k = metrics_register(reg, METRIC_GAUGE, "aegis_pool_containers",
                             "Warm pools' containers started and waiting for an iteration, all agents.",
                             NULL, NULL, 0, &p->m_size);
        if (k >= 0)
                k = metrics_register(reg, METRIC_COUNTER, "aegis_pool_takes_total",
                                     "Iterations of agents with a warm pool, by result: hit (took a pooled "
                                     "container), miss (created one).",
                                     result_labels, NULL, 0, &p->m_takes);
        if (k >= 0)
                k = metrics_register(
                        reg, METRIC_HISTOGRAM, "aegis_pool_refill_seconds",
                        "Time to make one pooled container ready (create, files, limits check, start).",
                        NULL, buckets, ELEMENTSOF(buckets), &p->m_refill);
        return k;
}

/* ---- refilling ---- */

static void schedule_refill(RunPool *p);
static void schedule_idle(RunPool *p);
static void schedule_image_check(RunPool *p);

static void create_failed(RunPool *p, PoolCreate *x, const char *what, const Error *e) {
        PoolAgent *a = agent_find(p, x->agent_id);

        log_warning("warm pool of agent %s: cannot %s a container: %s (retrying in %u s; executions "
                    "create their own meanwhile)",
                    x->agent_id, what, e && e->message[0] ? e->message : "failed",
                    (unsigned) (REFILL_BACKOFF_USEC / USEC_PER_SEC));
        if (a)
                a->backoff_until = now_usec(CLOCK_MONOTONIC) + REFILL_BACKOFF_USEC;
}

/* x is done (ready, failed or unwanted): forget it and look for more to do. */
static void create_end(RunPool *p, PoolCreate *x) {
        PoolAgent *a = agent_find(p, x->agent_id);

        if (a && a->creating > 0)
                a->creating--;
        p->n_creating--;
        create_unlink(p, x);
        create_free(x);
        schedule_refill(p);
}

/* A step (what) on member x answered k: its agent when the member is still wanted, else NULL
 * and the member is discarded and x ended. */
static PoolAgent *member_step_done(RunPool *p, PoolCreate *x, int k, const char *what, const Error *e) {
        PoolAgent *a = agent_find(p, x->agent_id);

        x->op = NULL;
        if (k < 0)
                create_failed(p, x, what, e);
        else if (!a || !streq(a->canonical, x->canonical) || a->n_ready >= a->want)
                k = -ESTALE; /* changed or shrunk meanwhile */
        if (k < 0) {
                run_pool_discard(p, x->id);
                create_end(p, x);
                return NULL;
        }
        return a;
}

/* The member runs: aegis-bootstrap waits, silently, for its iteration's files (--wait-for). */
static void on_member_started(int k, const Error *e, void *userdata) {
        PoolCreate *x = userdata;
        RunPool *p = x->pool;
        PoolAgent *a = member_step_done(p, x, k, "start", e);
        PoolMember *m;

        if (!a)
                return;
        m = reallocarray(a->ready, a->n_ready + 1, sizeof *a->ready);
        if (!m) {
                run_pool_discard(p, x->id);
                create_end(p, x);
                return;
        }
        a->ready = m;
        a->ready[a->n_ready] = (PoolMember){ .name = asprintf_safe(PODMAN_POOL_NAME_PREFIX "%s", x->member),
                                             .id = TAKE_PTR(x->id),
                                             .since = now_usec(CLOCK_MONOTONIC) };
        if (!a->ready[a->n_ready].name) {
                run_pool_discard(p, a->ready[a->n_ready].id);
                member_done(&a->ready[a->n_ready]);
                create_end(p, x);
                return;
        }
        a->n_ready++;
        p->n_ready_total++;
        update_size(p);
        schedule_idle(p);
        schedule_image_check(p);
        if (p->m_refill)
                (void) metric_observe(p->m_refill, NULL,
                                      (double) (now_usec(CLOCK_MONOTONIC) - x->started) / 1e6);
        create_end(p, x);
}

static void on_member_inspected(int k, const PodmanContainer *ct, const Error *e, void *userdata) {
        PoolCreate *x = userdata;
        RunPool *p = x->pool;
        PoolAgent *a = member_step_done(p, x, k, "inspect", e);
        char limits[32];

        if (!a)
                return;
        if (!p->c.allow_unenforced_limits &&
            podman_container_limits_differ(&(PodmanContainerSpec){ .memory_bytes = a->plan->memory_bytes,
                                                                   .pids_limit = a->plan->pids_limit,
                                                                   .nano_cpus = a->plan->nano_cpus },
                                           ct, limits, sizeof limits) > 0) {
                log_warning("warm pool of agent %s: the engine did not apply these limits: %s; the pool is "
                            "not refilled (its executions create their own and say why)",
                            x->agent_id, limits);
                a->refused = true;
                run_pool_discard(p, x->id);
                create_end(p, x);
                return;
        }
        if (podman_container_start_async(p->c.podman, x->id, on_member_started, x, &x->op) < 0) {
                x->op = NULL;
                run_pool_discard(p, x->id);
                create_end(p, x);
        }
}

static void on_member_created(int k, const char *id, const Error *e, void *userdata) {
        PoolCreate *x = userdata;
        RunPool *p = x->pool;

        x->op = NULL;
        if (k < 0) {
                create_failed(p, x, "create", e);
                create_end(p, x);
                return;
        }
        x->id = strdup(id);
        if (!x->id) {
                run_pool_discard(p, id);
                create_end(p, x);
                return;
        }
        if (podman_container_inspect_async(p->c.podman, x->id, on_member_inspected, x, &x->op) < 0) {
                x->op = NULL;
                run_pool_discard(p, x->id);
                create_end(p, x);
        }
}

static int member_create(RunPool *p, PoolAgent *a, PoolCreate *x);

/* The agent's reference names image_id now: when its members were made from another image
 * (pulled or re-tagged since), they are drained, saying so, and image_id is what new ones
 * are made from. True when members were drained. */
static bool agent_image_is(RunPool *p, PoolAgent *a, const char *image_id) {
        size_t n = a->n_ready;

        if (streq(a->image_id, image_id))
                return false;
        if (n > 0)
                log_info("warm pool of agent %s: image %s is now %s, draining %zu container(s)", a->agent_id,
                         a->plan ? a->plan->image : "", image_id, n);
        agent_drain(p, a);
        snprintf(a->image_id, sizeof a->image_id, "%s", image_id);
        return n > 0;
}

/* The image a member is made from: when it is not the one the agent's members were made
 * from, the image changed (pulled or re-tagged): those are drained first. */
static void on_member_image(int k, const PodmanImage *image, const Error *e, void *userdata) {
        PoolCreate *x = userdata;
        RunPool *p = x->pool;
        PoolAgent *a = agent_find(p, x->agent_id);

        x->op = NULL;
        if (k < 0 || !a || !streq(a->canonical, x->canonical)) {
                if (k < 0)
                        create_failed(p, x, "find the image of", e);
                create_end(p, x);
                return;
        }
        (void) agent_image_is(p, a, image->id);
        if (member_create(p, a, x) < 0) {
                x->op = NULL;
                create_end(p, x);
        }
}

/* The cold path's container for a, less what only an iteration knows (run.c,
 * run_create_container(); this file's head comment). */
static int member_create(RunPool *p, PoolAgent *a, PoolCreate *x) {
        const ManifestPlan *plan = a->plan;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char **cmd = NULL;
        _cleanup_free_ char *user = NULL;
        size_t n = strv_length(plan->command);
        char buf[32];
        PodmanFile file = { .path = RUN_POOL_BOOTSTRAP,
                            .data = p->c.bootstrap_binary,
                            .size = p->c.bootstrap_binary_size,
                            .mode = 0755 };

        for (size_t i = 0; i < plan->n_env; i++) {
                _cleanup_free_ char *v = asprintf_safe("%s=%s", plan->env[i].name, plan->env[i].value);
                if (!v || strv_extend(&env, v) < 0)
                        return -ENOMEM;
        }
        snprintf(buf, sizeof buf, "AEGIS_MAX_ITERATIONS=%" PRIu64, plan->max_iterations);
        if (strv_extend(&env, buf) < 0 ||
            strv_extend(&env, "AEGIS_INPUT_FILE=" ENV_IN_CONTAINER_INPUT_FILE) < 0)
                return -ENOMEM;
        cmd = calloc(n + 7, sizeof *cmd);
        user = asprintf_safe("%u:%u", plan->uid, plan->gid);
        if (!cmd || !user)
                return -ENOMEM;
        cmd[0] = (char *) RUN_POOL_BOOTSTRAP;
        cmd[1] = (char *) "--env-file";
        cmd[2] = (char *) RUN_POOL_ENV_FILE;
        cmd[3] = (char *) "--wait-for";
        cmd[4] = (char *) RUN_POOL_READY_FILE;
        cmd[5] = (char *) "--";
        memcpy(cmd + 6, plan->command, n * sizeof *cmd);
        return podman_container_create_async(
                p->c.podman,
                &(PodmanContainerSpec){
                        .execution_id = x->member,
                        .iteration = 1,
                        .store_id = store_id(p->c.store),
                        .image = plan->image,
                        .cmd = cmd,
                        .env = env,
                        .user = user,
                        .workdir = plan->workdir,
                        .nano_cpus = plan->nano_cpus,
                        .memory_bytes = plan->memory_bytes,
                        .pids_limit = plan->pids_limit,
                        .network_mode = podman_network_mode(
                                manifest_plan_egress(plan) == MANIFEST_EGRESS_OPEN ? "allow" : "none",
                                p->network),
                        .read_only_rootfs = plan->read_only_rootfs,
                        .keep_container_on_failure = plan->keep_container_on_failure,
                        .files = &file,
                        .n_files = 1,
                        .userns = p->c.userns,
                        .userns_base = p->c.userns_base,
                        .pool_agent_id = a->agent_id,
                        .pool_owner = p->owner,
                },
                on_member_created, x, &x->op);
}

/* Whether a's tenant may have one more pooled container: its agents' pools together stay
 * within its limits.max_concurrent_executions (what it could run at once anyway). */
static bool tenant_has_room(RunPool *p, const PoolAgent *a) {
        ConfigLimits l;
        uint64_t n = 0;

        if (!p->c.config)
                return true;
        config_limits_for_tenant(p->c.config, strempty(a->tenant_id), &l, NULL);
        for (PoolAgent *b = p->agents; b; b = b->next)
                if (streq_ptr(b->tenant_id, a->tenant_id))
                        n += b->n_ready + b->creating;
        return l.max_concurrent_executions == 0 || n < l.max_concurrent_executions;
}

static bool start_one(RunPool *p) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        PoolCreate *x;
        PoolAgent *a;
        int k;

        if (p->n_creating > 0 || p->n_ready_total + p->n_creating >= p->c.max_total)
                return false;
        for (a = p->agents; a; a = a->next)
                if (!a->refused && a->n_ready + a->creating < a->want && a->backoff_until <= now &&
                    tenant_has_room(p, a))
                        break;
        if (!a)
                return false;
        x = calloc(1, sizeof *x);
        if (!x)
                return false;
        x->pool = p;
        x->agent_id = strdup(a->agent_id);
        x->canonical = strdup(a->canonical);
        x->started = now;
        k = x->agent_id && x->canonical ? random_uuid(x->member) : -ENOMEM;
        if (k >= 0)
                k = podman_image_inspect_async(p->c.podman, a->plan->image, on_member_image, x, &x->op);
        if (k < 0) {
                Error e = ERROR_INIT;
                error_set(&e, k, "%s", strerror(-k));
                x->op = NULL;
                create_failed(p, x, "create", &e);
                create_free(x);
                return false;
        }
        x->next = p->creates;
        p->creates = x;
        a->creating++;
        p->n_creating++;
        return true;
}

static int on_backoff(sd_event_source *es, uint64_t usec, void *userdata) {
        RunPool *p = userdata;

        p->backoff_timer = sd_event_source_disable_unref(p->backoff_timer);
        schedule_refill(p);
        return 0;
}

static int on_refill(sd_event_source *es, uint64_t usec, void *userdata) {
        RunPool *p = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC), next = 0;

        (void) sd_event_source_set_enabled(es, SD_EVENT_OFF);
        (void) start_one(p);
        /* An agent waiting out a failure: look again when its wait ends. */
        for (PoolAgent *a = p->agents; a; a = a->next)
                if (!a->refused && a->n_ready + a->creating < a->want && a->backoff_until > now &&
                    (!next || a->backoff_until < next))
                        next = a->backoff_until;
        if (next && !p->backoff_timer)
                (void) sd_event_add_time(p->c.event, &p->backoff_timer, CLOCK_MONOTONIC, next, USEC_PER_SEC,
                                         on_backoff, p);
        return 0;
}

static void schedule_refill(RunPool *p) {
        if (!p->refill_event && sd_event_add_time_relative(p->c.event, &p->refill_event, CLOCK_MONOTONIC, 0,
                                                           0, on_refill, p) < 0)
                return;
        (void) sd_event_source_set_time_relative(p->refill_event, 0);
        (void) sd_event_source_set_enabled(p->refill_event, SD_EVENT_ONESHOT);
}

/* ---- members that waited too long ---- */

/* Removes every member that has waited runtime.warm_pool_max_idle_secs (they are replaced)
 * and looks again when the next one will have. */
static int on_idle(sd_event_source *es, uint64_t usec, void *userdata) {
        RunPool *p = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        size_t dropped = 0;

        p->idle_timer = sd_event_source_disable_unref(p->idle_timer);
        for (PoolAgent *a = p->agents; a; a = a->next)
                for (size_t i = 0; i < a->n_ready;) {
                        if (a->ready[i].since + p->c.max_idle_usec > now) {
                                i++;
                                continue;
                        }
                        run_pool_discard(p, a->ready[i].id);
                        member_done(&a->ready[i]);
                        memmove(a->ready + i, a->ready + i + 1, (a->n_ready - i - 1) * sizeof *a->ready);
                        a->n_ready--;
                        p->n_ready_total--;
                        dropped++;
                }
        if (dropped > 0) {
                log_info("warm pools: replacing %zu container(s) idle for %" PRIu64 " s", dropped,
                         p->c.max_idle_usec / USEC_PER_SEC);
                update_size(p);
                schedule_refill(p);
        }
        schedule_idle(p);
        return 0;
}

static void schedule_idle(RunPool *p) {
        uint64_t oldest = 0;

        if (p->idle_timer || p->c.max_idle_usec == 0)
                return;
        for (PoolAgent *a = p->agents; a; a = a->next)
                if (a->n_ready > 0 && (!oldest || a->ready[0].since < oldest))
                        oldest = a->ready[0].since; /* ready[] is oldest first */
        if (oldest)
                (void) sd_event_add_time(p->c.event, &p->idle_timer, CLOCK_MONOTONIC,
                                         oldest + p->c.max_idle_usec, USEC_PER_SEC, on_idle, p);
}

/* ---- images changed under the agents' references ---- */

/* The image an agent's reference names now: another one than its members were made from
 * (pulled or re-tagged since) drains them, and the refill makes new ones from it. A check
 * that fails changes nothing: the next refill and take look as well. */
static void on_image_checked(int k, const PodmanImage *image, const Error *e, void *userdata) {
        PoolAgent *a = userdata;
        RunPool *p = a->pool;

        a->image_op = NULL;
        if (k < 0) {
                log_debug("warm pool of agent %s: cannot inspect image %s: %s", a->agent_id,
                          a->plan ? a->plan->image : "", e ? e->message : strerror(-k));
                return;
        }
        if (agent_image_is(p, a, image->id))
                schedule_refill(p);
}

static int on_image_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        RunPool *p = userdata;

        p->image_timer = sd_event_source_disable_unref(p->image_timer);
        for (PoolAgent *a = p->agents; a; a = a->next)
                if (a->n_ready > 0 && a->plan && !a->image_op &&
                    podman_image_inspect_async(p->c.podman, a->plan->image, on_image_checked, a,
                                               &a->image_op) < 0)
                        a->image_op = NULL;
        schedule_image_check(p);
        return 0;
}

/* Every runtime.warm_pool_image_check_secs while a pool has members. */
static void schedule_image_check(RunPool *p) {
        if (p->image_timer || p->c.image_check_usec == 0 || p->n_ready_total == 0)
                return;
        (void) sd_event_add_time_relative(p->c.event, &p->image_timer, CLOCK_MONOTONIC,
                                          p->c.image_check_usec, USEC_PER_SEC / 10, on_image_timer, p);
}

/* ---- members that vanished ---- */

/* Whether id is listed and still runs (a member that exited waiting is of no use). */
static bool listed_running(const PodmanContainer *cts, size_t n, const char *id) {
        for (size_t i = 0; i < n; i++)
                if (streq(cts[i].id, id))
                        return cts[i].status == PODMAN_STATUS_RUNNING;
        return false;
}

static void on_verified(int k, const PodmanContainer *cts, size_t n, const Error *e, void *userdata) {
        RunPool *p = userdata;
        size_t dropped = 0;

        p->verify_op = NULL;
        if (k < 0)
                return;
        for (PoolAgent *a = p->agents; a; a = a->next)
                for (size_t i = 0; i < a->n_ready;) {
                        if (listed_running(cts, n, a->ready[i].id)) {
                                i++;
                                continue;
                        }
                        run_pool_discard(p, a->ready[i].id); /* if it is still there */
                        member_done(&a->ready[i]);
                        memmove(a->ready + i, a->ready + i + 1, (a->n_ready - i - 1) * sizeof *a->ready);
                        a->n_ready--; /* oldest first still */
                        p->n_ready_total--;
                        dropped++;
                }
        if (dropped > 0) {
                log_warning(
                        "warm pools: %zu pooled container(s) were removed or stopped behind aegisd's back; "
                        "refilling",
                        dropped);
                update_size(p);
                schedule_refill(p);
        }
}

void run_pool_verify(RunPool *p) {
        _cleanup_free_ char *owner = NULL;
        char *filters[2] = {};

        assert(p);
        if (p->verify_op)
                return;
        owner = asprintf_safe(PODMAN_LABEL_POOL_OWNER "=%s", p->owner);
        if (!owner)
                return;
        filters[0] = owner;
        if (podman_container_list_async(p->c.podman, filters, on_verified, p, &p->verify_op) < 0)
                p->verify_op = NULL;
}

/* ---- the agents ---- */

static int agent_update(RunPool *p, const StoreAgent *sa) {
        _cleanup_(manifest_plan_freep) ManifestPlan *plan = NULL;
        _cleanup_free_ char *canonical = NULL;
        Error e = ERROR_INIT;
        PoolAgent *a;
        uint64_t want;
        int k;

        if (!sa->manifest_json)
                return 0;
        k = manifest_parse(sa->manifest_json, strlen(sa->manifest_json), "stored manifest", &plan, &e);
        if (k < 0)
                return 0; /* its executions say why */
        want = run_pool_size(p, plan);
        a = agent_find(p, sa->id);
        if (want == 0 && !a)
                return 0;
        canonical = manifest_plan_to_json_string(plan);
        if (!canonical)
                return -ENOMEM;
        if (a && !streq(a->canonical, canonical)) {
                log_info("warm pool of agent %s: its manifest changed, draining %zu container(s)", sa->id,
                         a->n_ready);
                agent_drain(p, a);
                free(a->canonical);
                a->canonical = NULL;
                manifest_plan_free(a->plan);
                a->plan = NULL;
                a->refused = false;
                a->backoff_until = 0;
        }
        if (!a) {
                a = calloc(1, sizeof *a);
                if (!a || !(a->agent_id = strdup(sa->id)) ||
                    !(a->tenant_id = strdup(isempty(sa->tenant_id) ? "default" : sa->tenant_id))) {
                        if (a)
                                free(a->agent_id);
                        free(a);
                        return -ENOMEM;
                }
                a->pool = p;
                a->next = p->agents;
                p->agents = a;
        }
        if (!a->canonical) {
                a->canonical = TAKE_PTR(canonical);
                a->plan = TAKE_PTR(plan);
        }
        a->want = want;
        a->seen = true;
        while (a->n_ready > a->want) {
                a->n_ready--;
                p->n_ready_total--;
                run_pool_discard(p, a->ready[a->n_ready].id);
                member_done(&a->ready[a->n_ready]);
        }
        update_size(p);
        return 0;
}

void run_pool_sync(RunPool *p) {
        StoreAgent *list = NULL;
        size_t n = 0;
        int k;

        assert(p);
        if (!p->c.bootstrap_binary || (p->c.default_size == 0 && p->c.max_size == 0))
                return;
        k = store_agent_list(p->c.store, NULL, &list, &n);
        if (k < 0) {
                log_warning("warm pools: cannot list the deployed agents: %s (%s)", strerror(-k),
                            store_last_error(p->c.store));
                return;
        }
        for (PoolAgent *a = p->agents; a; a = a->next)
                a->seen = false;
        for (size_t i = 0; i < n; i++)
                if (agent_update(p, &list[i]) < 0)
                        log_warning("warm pool of agent %s: out of memory", list[i].id);
        store_agent_array_free(list, n);
        for (PoolAgent **q = &p->agents; *q;) {
                PoolAgent *a = *q;
                if (a->seen) {
                        q = &a->next;
                        continue;
                }
                if (a->n_ready > 0)
                        log_info("warm pool of agent %s: the agent is gone, draining %zu container(s)",
                                 a->agent_id, a->n_ready);
                agent_drain(p, a);
                *q = a->next;
                agent_free(a);
        }
        schedule_refill(p);
}

bool run_pool_ready(const RunPool *p, const char *agent_id, const char *manifest_json,
                    const char *image_id) {
        const PoolAgent *a;

        assert(p);
        a = isempty(agent_id) ? NULL : agent_find((RunPool *) p, agent_id);
        return a && a->want > 0 && a->n_ready > 0 && streq_ptr(a->canonical, manifest_json) &&
               (isempty(image_id) || streq(a->image_id, image_id));
}

int run_pool_take(RunPool *p, const char *agent_id, const char *manifest_json, const char *image_id,
                  char **ret_name, char **ret_id) {
        PoolAgent *a;
        PoolMember m;

        assert(p);
        assert(ret_name);
        assert(ret_id);
        a = isempty(agent_id) ? NULL : agent_find(p, agent_id);
        if (!a || a->want == 0)
                return 0;
        if (a->n_ready > 0 && !isempty(image_id) && !streq(a->image_id, image_id)) {
                log_info("warm pool of agent %s: image %s is now %s, draining %zu container(s)", a->agent_id,
                         a->plan->image, image_id, a->n_ready);
                agent_drain(p, a);
                a->image_id[0] = '\0';
        }
        if (a->n_ready == 0 || !streq(a->canonical, manifest_json)) {
                if (p->m_takes)
                        (void) metric_add(p->m_takes, METRIC_LABELS("miss"), 1);
                schedule_refill(p);
                return 0;
        }
        m = a->ready[0]; /* the oldest first */
        memmove(a->ready, a->ready + 1, --a->n_ready * sizeof *a->ready);
        p->n_ready_total--;
        update_size(p);
        if (p->m_takes)
                (void) metric_add(p->m_takes, METRIC_LABELS("hit"), 1);
        schedule_refill(p);
        *ret_name = m.name;
        *ret_id = m.id;
        return 1;
}
