/* api-limits.c — the operator's ceilings and the tenants' quotas at submission
 * (aegis-config.yaml(5), LIMITS).
 *
 * A submission is checked before anything is created: a manifest that asks for more CPU,
 * memory, pids or time than its tenant's limits allow is 400 naming the field and the
 * ceiling; a tenant that already has limits.max_concurrent_executions unfinished executions
 * (pending or running) gets 429 with Retry-After. Invariant: both refusals happen before the
 * execution row exists, so a refused submission leaves no row, container or volume.
 *
 * The count is read from the store, so it holds across restarts and for every node sharing
 * a PostgreSQL store; two nodes racing at the very edge may each admit one more. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>

#include "api-limits.h"
#include "api-store-error.h"
#include "manifest.h"
#include "util.h"

/* Which limits apply to the caller, and where an operator changes them. */
static const char *limits_origin(const Config *config, HttpRequest *r, ConfigLimits *ret) {
        const char *where;

        config_limits_for_tenant(config, http_request_tenant(r), ret, &where);
        return where ? "limits.tenants" : "limits";
}

static int refuse(Refusals *f, const char *field, const char *section, const char *key, const char *tenant,
                  const char *asked, const char *ceiling) {
        return refusals_add(f, 400, field,
                            "%s: %s is above the ceiling of %s for tenant %s (%s.%s in "
                            "aegis-config.yaml): ask for at most %s, or have the operator raise it",
                            field, asked, ceiling, tenant, section, key, ceiling);
}

int api_check_ceilings(const Config *config, Refusals *f, const ManifestPlan *p) {
        const char *tenant, *section;
        ConfigLimits l;
        char asked[64], ceiling[64];
        int k;

        assert(config);
        assert(f);
        assert(p);
        tenant = http_request_tenant(f->request);
        section = limits_origin(config, f->request, &l);
        if (p->nano_cpus > l.max_nano_cpus) {
                (void) snprintf(asked, sizeof asked, "%.3f CPUs", (double) p->nano_cpus / 1e9);
                (void) snprintf(ceiling, sizeof ceiling, "%.3f CPUs", (double) l.max_nano_cpus / 1e9);
                k = refuse(f, "spec.resources.cpu_quota", section, "max_cpus", tenant, asked, ceiling);
                if (k != 0)
                        return k;
        }
        if (p->memory_bytes > l.max_memory_bytes) {
                (void) snprintf(asked, sizeof asked, "%" PRIu64 " bytes", p->memory_bytes);
                (void) snprintf(ceiling, sizeof ceiling, "%" PRIu64 " bytes", l.max_memory_bytes);
                k = refuse(f, "spec.resources.memory_bytes", section, "max_memory_bytes", tenant, asked,
                           ceiling);
                if (k != 0)
                        return k;
        }
        if (p->pids_limit > l.max_pids) {
                (void) snprintf(asked, sizeof asked, "%" PRIu64 " pids", p->pids_limit);
                (void) snprintf(ceiling, sizeof ceiling, "%" PRIu64 " pids", l.max_pids);
                k = refuse(f, "spec.resources.pids_limit", section, "max_pids", tenant, asked, ceiling);
                if (k != 0)
                        return k;
        }
        if (p->timeout_secs > l.max_timeout_secs) {
                (void) snprintf(asked, sizeof asked, "%" PRIu64 " s", p->timeout_secs);
                (void) snprintf(ceiling, sizeof ceiling, "%" PRIu64 " s", l.max_timeout_secs);
                k = refuse(f, "spec.resources.timeout_secs", section, "max_timeout_secs", tenant, asked,
                           ceiling);
                if (k != 0)
                        return k;
        }
        return 0;
}

int limits_count_unfinished(Store *store, const char *tenant, uint64_t stop_at, uint64_t *ret) {
        static const ExecutionStatus unfinished[] = { EXECUTION_PENDING, EXECUTION_RUNNING };
        uint64_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(unfinished) && n < stop_at; i++) {
                _cleanup_free_ char *cursor = NULL;

                do {
                        StoreExecutionFilter f = STORE_EXECUTION_FILTER_INIT;
                        StoreExecution *list = NULL;
                        char *next = NULL;
                        size_t got = 0;
                        int k;

                        f.status = unfinished[i];
                        f.tenant_id = tenant;
                        f.limit = STORE_LIST_MAX;
                        f.cursor = cursor;
                        f.summary = true;
                        k = store_execution_list(store, &f, &list, &got, &next);
                        if (k < 0)
                                return k;
                        store_execution_array_free(list, got);
                        n += got;
                        free(cursor);
                        cursor = next;
                } while (cursor && n < stop_at);
        }
        *ret = n;
        return 0;
}

int api_check_tenant_quota(const Config *config, Store *store, Refusals *f) {
        const char *tenant, *section;
        ConfigLimits l;
        uint64_t n;
        int k;

        assert(config);
        assert(store);
        assert(f);
        tenant = http_request_tenant(f->request);
        section = limits_origin(config, f->request, &l);
        k = limits_count_unfinished(store, tenant, l.max_concurrent_executions, &n);
        if (k < 0) {
                (void) api_respond_store_error(f->request, store, k, "executions", NULL);
                f->answered = true;
                return 1;
        }
        if (n < l.max_concurrent_executions)
                return 0;
        if (!f->collect)
                (void) http_request_add_header(f->request, "Retry-After", "5");
        return refusals_add(f, 429, NULL,
                            "tenant %s already has %" PRIu64 " unfinished executions, its quota "
                            "(%s.max_concurrent_executions in aegis-config.yaml): retry when one "
                            "has finished, or cancel one",
                            tenant, n, section);
}
