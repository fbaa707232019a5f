/* api-limits.h — the ceilings and tenant quotas a submission must pass (api-limits.c). */
#pragma once

#include "api-refusals.h"
#include "config.h"
#include "manifest.h"
#include "store.h"

/* 0 when plan is within the caller's tenant's ceilings; otherwise a refusal (400 naming the
 * field and the ceiling) for each one passed, in f: 1 when f answered (stop), 0 in a dry run. */
int api_check_ceilings(const Config *config, Refusals *f, const ManifestPlan *plan);
/* 0 when the caller's tenant may start one more execution; otherwise a refusal in f (429,
 * with Retry-After in a real submission) or, when the store cannot tell, the store's error
 * answered at once (503/500) and 1. */
int api_check_tenant_quota(const Config *config, Store *store, Refusals *f);
/* The tenant's unfinished (pending or running) executions, counted up to stop_at: the count
 * limits.max_concurrent_executions bounds (judge executions are counted against it too). */
int limits_count_unfinished(Store *store, const char *tenant, uint64_t stop_at, uint64_t *ret);
