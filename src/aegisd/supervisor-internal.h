/* supervisor-internal.h — what supervisor.c (the node: claims, leases, events, listeners)
 * and run.c (one execution's iteration loop) share. Not for other modules. */
#pragma once

#include <json-c/json.h>

#include "exit-report.h"
#include "judge-execution.h"
#include "manifest.h"
#include "metrics.h"
#include "run-inbox.h"
#include "run-pool.h"
#include "run-stats.h"
#include "run-volumes.h"
#include "supervisor.h"
#include "tool-slots.h"

typedef enum RunPhase {
        PHASE_NONE,
        PHASE_IMAGE, /* ensuring the image */
        PHASE_CREATE, /* container row written, create in flight */
        PHASE_START, /* wait issued, start in flight */
        PHASE_RUNNING, /* started: waiting for exit, logs streaming */
        PHASE_COLLECT, /* exited: inspecting / draining logs */
        PHASE_REMOVE, /* deciding the iteration (its container being removed meanwhile) */
        PHASE_JUDGE, /* output passed the other validators: models judge it */
        PHASE_DONE,
} RunPhase;

typedef struct Run Run;
typedef struct RunDispatch RunDispatch;
typedef struct RunJudge RunJudge;

/* What a Run calls on its owner: supervisor.c fills it in and gives it to run_new(), and a
 * Run reaches the Supervisor only through it, so run.c calls nothing in supervisor.c (no
 * circle: the Supervisor owns Runs, not the other way round). Each op gets userdata first. */
typedef struct RunHostOps {
        /* Appends an event of the run (supervisor_emit()): payload taken. */
        int (*emit)(void *userdata, const char *execution_id, unsigned iteration, const char *container_id,
                    const char *type, json_object *payload);
        /* The gate: runs fn(r) now when fewer than SUPERVISOR_GATE_MAX gated operations are in
         * flight, else when one is released. fn must lead to gate_release() exactly once;
         * gate_forget() leaves the queue (run ending or changing course while waiting). */
        void (*gate)(void *userdata, Run *r, void (*fn)(Run *r));
        /* The same for a cleanup (a container's removal): passes after every other waiting
         * operation, so that removals never hold up the launches an answer waits for. */
        void (*gate_cleanup)(void *userdata, Run *r, void (*fn)(Run *r));
        void (*gate_release)(void *userdata, Run *r);
        void (*gate_forget)(void *userdata, Run *r);
        /* Metrics (no-ops before supervisor_register_metrics): a step operation's result, its
         * latency (aegis_container_operation_duration_seconds{op}), a refused tool call. */
        void (*count_container_op)(void *userdata, const char *op, int k);
        void (*observe_container_op)(void *userdata, const char *op, uint64_t usec);
        void (*count_policy_violation)(void *userdata, const char *tool);
        /* Pending work may be claimable now: look at once. */
        void (*kick)(void *userdata);
        /* The run is over: the owner forgets and frees r (the last thing a Run does). */
        void (*finished)(void *userdata, Run *r);
        /* What the run's judge executions are given (judge-execution.h), same userdata. */
        const JudgeExecutionOps *judge_executions;
} RunHostOps;

typedef struct RunHost {
        const RunHostOps *ops;
        void *userdata;
} RunHost;

struct Run {
        Supervisor *sup; /* what the run reads (store, engine, options, metrics); no calls */
        RunHost host;
        Run *prev, *next;
        char id[UUID_STRING_MAX];
        ManifestPlan *plan;
        char *input_json;
        char *agent_id; /* the registered agent's id, "" for an ad hoc manifest */
        char *manifest_json; /* the execution's canonical manifest (a warm pool's key) */
        /* The current iteration's container came from the warm pool (run-pool.h); its use
         * failed this iteration, so it goes the cold way. */
        bool pooled, pool_failed;
        uint64_t pool_delivered_rt; /* CLOCK_REALTIME: a pooled container was given its files */
        /* attached: the iteration's output comes through an attach (logs_op) the engine has
         * opened: a pooled container's, before it is given its files (pool_env, held until
         * then); a created one's, before it starts. report_confirming: both streams brought
         * a pooled command's exit report, the final read of the logs is under way. */
        bool attached, report_confirming;
        char **pool_env;
        /* A pooled iteration's exit report (exit-report.h): the nonce it was given ("" = none),
         * whether its stdout and stderr ended with the report yet, and the status reported.
         * report_any: a pooled container re-attached after a restart (its nonce is lost):
         * any report is taken off its output. */
        char exit_nonce[EXIT_REPORT_NONCE_LEN + 1];
        bool report_out, report_err, report_any;
        int reported_status;
        /* How the current iteration's end was seen (aegis_iteration_exits_seen_total's by):
         * "report", "attach" or "wait"; NULL until it was. */
        const char *exit_seen_by;
        sd_event_source *report_event;
        char image_id[80]; /* what the current iteration's image check found ("" = unknown) */
        char *feedback_json; /* /run/aegis/feedback.json of the current iteration (from 2 on) */
        unsigned iteration; /* current, 1-based */
        RunPhase phase;
        uint64_t started_realtime; /* when the execution started running */
        uint64_t iteration_started_realtime;

        char *container_name;
        char *container_id;
        PodmanOp *op; /* the one in-flight step (image, create, start, kill, inspect, remove) */
        PodmanOp *wait_op;
        PodmanOp *logs_op;
        bool wait_done, logs_done, started;
        int exit_code; /* -1 unknown */
        Tail out, err;
        uint64_t flushed_size; /* output bytes already written to the store */

        /* Why the current iteration ends other than by its own exit, first one wins. */
        char *kill_reason; /* REASON_TIMEOUT / REASON_CANCELLED / "error: …" */
        bool overall_timeout;
        bool cancel_requested;
        bool lost_claim; /* another node owns it now: touch nothing */
        char *error_reason; /* an infrastructure error ended the iteration */

        /* The answer does not wait for cleanup: the iteration is decided (and the execution
         * recorded as ended) once the container exited and its output was read, while the
         * container is removed (r->op) and its engine volumes released. What comes after
         * (the next iteration, or freeing the Run) waits in after_cleanup. finished: the
         * execution's end is recorded, the Run lives on only to clean up. */
        bool cleaning, finished;
        void (*after_cleanup)(Run *r);

        /* The gate (RunHostOps.gate). */
        void (*gate_fn)(Run *r);
        Run *gate_next;
        bool gate_queued, holds_gate, gate_cleanup;

        /* Feedback of the previous iteration. */
        int prev_exit_code;
        char *prev_reason;
        /* The iteration's end while its volumes are measured (run_conclude). */
        IterationStatus concluding_status;
        char *concluding_reason, *concluding_final;

        sd_event_source *iteration_timer;
        sd_event_source *overall_timer;
        sd_event_source *flush_timer;
        sd_event_source *probe_timer;
        unsigned wait_retries;
        /* A created container's attach ended: inspect is asked, every ENDED_CHECK_USEC, whether
         * it exited (run_check_ended). */
        sd_event_source *ended_timer;
        unsigned ended_checks;

        RunVolumes *volumes; /* spec.volumes[] (run-volumes.h) */
        RunStats *stats; /* what the current iteration's container used (run-stats.h) */
        RunInbox *inbox; /* the current iteration's own files (run-inbox.h) */

        /* Podman unreachable (service stopped or restarting): since when (CLOCK_MONOTONIC µs,
         * 0 = it answers), and whether a kill must be sent again once it is back. */
        uint64_t engine_down_since;
        bool kill_pending;
        uint64_t op_started; /* CLOCK_MONOTONIC µs when the step operation r->op was issued */
        bool pulling; /* the image step asked the engine to pull (aegis_image_pulls_total) */
        /* The pull's last progress sums, and when an image_pull_progress event last went out
         * (events at most PULL_EVENT_INTERVAL_USEC apart, the final one always: run.c). */
        struct {
                uint64_t bytes_done, bytes_total;
                unsigned layers_done, layers_total;
                uint64_t emitted_usec;
        } pull;

        /* The inner loop of the current iteration (plan->inner_loop): its conversation, freed
         * (capability dead) when the iteration ends. */
        RunDispatch *dispatch;
        ToolEnv tool_env; /* what its host tools use (tools.h) */
        ToolVolume *tool_volumes; /* tool_env.volumes */

        /* The egress proxy of a filtered network_policy (egress.h): lives as long as the Run. */
        struct EgressProxy *egress;
        /* Judging the current iteration (validators semantic, multi_judge; run-judge.h):
         * what is judged, and the iteration's judgement_json as last written. */
        RunJudge *judge;
        char *judged_output;
        char *judgement_json;
        /* Judge agents (judge_agent) judge in executions of their own, of this tenant: what
         * the RunJudge lends them. While they run this Run holds no container and does not
         * count against runtime.max_concurrent, so they can always be claimed. */
        char *tenant_id;
        JudgeExecutionContext judge_agents;
        bool awaits_judge_agents;
};

struct SupervisorListener {
        SupervisorListener *prev, *next;
        char *execution_id;
        supervisor_listener_fn fn;
        void *userdata;
};

struct Supervisor {
        sd_event *event;
        Store *store;
        PodmanClient *podman;
        SupervisorOptions opts;
        char *state_dir;
        /* The engine does not see aegisd's inbox directory (run-inbox.h): iterations' files
         * go by upload. engine_uid: the user of the engine's process, when it does. */
        bool inbox_unseen;
        uid_t engine_uid;
        char *network;
        char *storage_root; /* storage.root */
        char *nfs_host; /* addr= of NFS mounts: storage.nfs_server_host or the host's address */
        char node_id[64];
        Run *runs;
        unsigned n_runs;
        SupervisorListener *listeners;
        sd_event_source *poll_timer;
        sd_event_source *heartbeat_timer;
        sd_event_source *kick_event;
        bool running;
        /* Podman serialises creates, starts and removals on its storage lock: with 50 at
         * once, the last would wait past any sane per-call bound. Only this many are in
         * flight; the rest queue here, in order. */
        unsigned gate_busy;
        /* Tests only ($AEGIS_TEST_CLEANUP_DELAY_MSEC): how long a decided iteration's container
         * stays before its removal begins, so a crash in between can be provoked. */
        uint64_t cleanup_delay_usec;
        Run *gate_head, *gate_tail;
        sd_event_source *gate_event;
        ToolSlots *tool_slots; /* the security contexts' max_concurrent, across every run */
        RunPool *pool; /* warm pools of deployed agents (run-pool.h) */
        struct Metric *m_executions, *m_active, *m_duration, *m_iterations, *m_container_ops;
        struct Metric *m_container_op_seconds, *m_image_pulls;
        struct Metric *m_policy_violations; /* aegis_policy_violations_total{tool} */
        struct Metric *m_egress; /* aegis_egress_connections_total{result} */
        /* What iterations used (run-stats.h): CPU seconds, peak memory, OOM kills, and
         * iterations whose readings were all zero (no cgroup delegation). */
        struct Metric *m_iter_cpu, *m_iter_memory, *m_iter_oom, *m_iter_usage_unknown;
        struct Metric *m_exits_seen; /* aegis_iteration_exits_seen_total{by} */
};

#define SUPERVISOR_GATE_MAX 3

/* run.c */
/* s: what the run reads (store, engine, options, metrics), borrowed; host: how it calls its
 * owner (copied). */
int run_new(Supervisor *s, const RunHost *host, const StoreExecution *x, Run **ret);
void run_free(Run *r);
/* Starts the next iteration (or the first). */
void run_next_iteration(Run *r);
/* Re-attaches to the current iteration after a restart or take-over. */
void run_reattach(Run *r, const StoreExecution *x);
/* Kills the current container at once and ends the execution with status/reason. */
void run_cancel(Run *r);
/* Another node owns the execution now: stop every operation, touch nothing. */
void run_abandon(Run *r);
/* Journal + store event for a run, with EXECUTION_ID/ITERATION/CONTAINER_ID. */
void run_emit(Run *r, const char *type, json_object *payload);
void run_log(Run *r, int level, const char *fmt, ...) _printf_(3, 4);
/* Stamps the start of r's step operation; run_count_op() counts it with result k and, when
 * stamped, observes its latency. */
void run_op_begin(Run *r);
void run_count_op(Run *r, const char *op, int k);

/* supervisor.c */
Run *supervisor_find_run(Supervisor *s, const char *id);
