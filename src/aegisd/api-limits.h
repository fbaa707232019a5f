/* api-limits.h — the ceilings and tenant quotas a submission must pass (api-limits.c). */
#pragma once

#include "executions.h"
#include "manifest.h"

/* 0 when plan is within the caller's tenant's ceilings; otherwise answers r with 400 naming
 * the field and the ceiling and returns 1. */
int api_check_ceilings(Executions *x, HttpRequest *r, const ManifestPlan *plan);
/* 0 when the caller's tenant may start one more execution; otherwise answers r (429 with
 * Retry-After at the quota, 503/500 when the store cannot tell) and returns 1. */
int api_check_tenant_quota(Executions *x, HttpRequest *r);
/* The tenant's unfinished (pending or running) executions, counted up to stop_at: the count
 * limits.max_concurrent_executions bounds (judge executions are counted against it too). */
int limits_count_unfinished(Store *store, const char *tenant, uint64_t stop_at, uint64_t *ret);
