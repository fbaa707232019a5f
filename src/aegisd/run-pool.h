/* run-pool.h — warm pools: containers created and started ahead for deployed agents, so
 * an iteration only gives one its files (issue 18). The daemon owns one RunPool (the
 * Supervisor); a Run borrows a container from it with run_pool_take() and from then on
 * owns it like one it created. See run-pool.c for the design and what must stay true. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "macros.h"
#include "manifest.h"
#include "metrics.h"
#include "podman.h"
#include "store.h"

typedef struct RunPool RunPool;

/* Where the per-iteration environment file and the wrapper live in a pooled container. */
#define RUN_POOL_ENV_FILE "/run/aegis/env"
#define RUN_POOL_BOOTSTRAP "/run/aegis/bin/aegis-bootstrap"
/* Uploaded last, after the env file: the started member's aegis-bootstrap waits for it. */
#define RUN_POOL_READY_FILE "/run/aegis/ready"

typedef struct RunPoolContext {
        sd_event *event; /* borrowed */
        PodmanClient *podman; /* borrowed */
        Store *store; /* borrowed: the deployed agents */
        uint64_t max_total; /* runtime.max_concurrent: pooled containers at once, all agents */
        const Config *config; /* borrowed, may be NULL: a tenant's limits.max_concurrent_executions
                               * bounds its agents' pooled containers together */
        uint64_t default_size; /* runtime.warm_pool_default */
        uint64_t max_size; /* runtime.warm_pool_max */
        uint64_t max_idle_usec; /* runtime.warm_pool_max_idle_secs; 0 = members wait forever */
        uint64_t image_check_usec; /* runtime.warm_pool_image_check_secs; 0 = only at refill and take */
        bool allow_unenforced_limits; /* runtime.allow_unenforced_limits */
        const char *network; /* runtime.network or NULL */
        bool userns;
        uint32_t userns_base;
        const void *bootstrap_binary; /* borrowed; NULL = no pools (the wrapper is needed) */
        size_t bootstrap_binary_size;
} RunPoolContext;

int run_pool_new(const RunPoolContext *c, RunPool **ret);
/* Removes every container the pool holds (synchronously: aegisd stops) and frees it. */
RunPool *run_pool_free(RunPool *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(RunPool *, run_pool_free);

int run_pool_register_metrics(RunPool *p, MetricsRegistry *reg);

/* The size a plan's pool gets (spec.runtime.warm_pool, else the default, capped), 0 when the
 * plan cannot be pooled (run-pool.c: inner loop, filtered egress, volumes, no command). */
uint64_t run_pool_size(const RunPool *p, const ManifestPlan *plan);

/* Re-reads the deployed agents: pools of agents gone or changed are drained, the others
 * refilled in the background. Called at start and whenever an agent is deployed, changed or
 * deleted. */
void run_pool_sync(RunPool *p);

/* Takes a ready container of agent_id's pool, if it was made from exactly manifest_json
 * (the execution's canonical manifest) and image_id (what the iteration's image check found;
 * another one drains the pool): 1 and its name and id, 0 (a miss, counted when the agent has
 * a pool) when there is none. The pool refills in the background. */
int run_pool_take(RunPool *p, const char *agent_id, const char *manifest_json, const char *image_id,
                  char **ret_name, char **ret_id);

/* Whether run_pool_take() with the same arguments would take a container (changes nothing). */
bool run_pool_ready(const RunPool *p, const char *agent_id, const char *manifest_json, const char *image_id);

/* A taken container could not be used (files not placed, start failed): removed in the
 * background; nothing calls back. */
void run_pool_discard(RunPool *p, const char *id);

/* A taken container was gone or did not start: forget every member the engine no longer lists (in the
 * background), so the pool refills instead of handing out more that are gone. */
void run_pool_verify(RunPool *p);
