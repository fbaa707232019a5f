/* reconcile.c — the pure orphan decisions and the backoff arithmetic (see reconcile.h).
 *
 * Nothing here does I/O: every fact comes in as an argument, "now" included, so each rule
 * is a unit test away from being proven. */
#include <assert.h>

#include "reconcile.h"
#include "util.h"

#define USEC_PER_MINUTE (60 * USEC_PER_SEC)

static const char *const action_table[_RECONCILE_ACTION_MAX] = {
        [RECONCILE_SKIP] = "skip",
        [RECONCILE_KEEP] = "keep",
        [RECONCILE_REAP] = "reap",
};

static const char *const reason_table[_RECONCILE_REASON_MAX] = {
        [RECONCILE_REASON_NOT_MANAGED] = "not_managed",
        [RECONCILE_REASON_OTHER_STORE] = "other_store",
        [RECONCILE_REASON_LIVE] = "live",
        [RECONCILE_REASON_OWNED] = "owned",
        [RECONCILE_REASON_KEEP_ON_FAILURE] = "keep_container_on_failure",
        [RECONCILE_REASON_GRACE] = "grace_period",
        [RECONCILE_REASON_BACKOFF] = "backoff",
        [RECONCILE_REASON_QUARANTINED] = "quarantined",
        [RECONCILE_REASON_NO_EXECUTION_ID] = "no_execution_id",
        [RECONCILE_REASON_UNKNOWN_EXECUTION] = "unknown_execution",
        [RECONCILE_REASON_EXECUTION_FINISHED] = "execution_finished",
        [RECONCILE_REASON_CONTAINER_EXITED] = "container_exited",
        [RECONCILE_REASON_STALE_ITERATION] = "stale_iteration",
        [RECONCILE_REASON_POOL_LIVE] = "pool_owner_alive",
        [RECONCILE_REASON_POOL_ORPHAN] = "pool_owner_gone",
};

const char *reconcile_action_to_string(ReconcileAction a) {
        return a >= 0 && a < _RECONCILE_ACTION_MAX ? action_table[a] : NULL;
}

const char *reconcile_reason_to_string(ReconcileReason r) {
        return r >= 0 && r < _RECONCILE_REASON_MAX ? reason_table[r] : NULL;
}

ReconcileExecutionState reconcile_execution_state_from_status(const char *status) {
        static const char *const finished[] = { "completed", "failed", "cancelled" };

        if (!status)
                return RECONCILE_EXECUTION_UNKNOWN;
        for (size_t i = 0; i < ELEMENTSOF(finished); i++)
                if (streq(status, finished[i]))
                        return RECONCILE_EXECUTION_FINISHED;
        return RECONCILE_EXECUTION_LIVE;
}

static bool within(uint64_t since_usec, uint64_t span_usec, uint64_t now_usec) {
        /* An unknown time (0) is old; a time in the future (clock skew) is recent. */
        if (since_usec == 0)
                return false;
        return since_usec > now_usec || now_usec - since_usec < span_usec;
}

static bool container_is(const ReconcileContainer *c, const char *ref) {
        return streq(c->id, ref) || streq(c->name, ref);
}

static bool is_current(const ReconcileContainer *c, const ReconcileExecution *e) {
        if (!e->current_container && !e->current_container_id)
                return true;
        return (e->current_container && container_is(c, e->current_container)) ||
               (e->current_container_id && container_is(c, e->current_container_id));
}

static ReconcileDecision decision(ReconcileAction action, ReconcileReason reason, bool lost) {
        return (ReconcileDecision){ .action = action, .reason = reason, .execution_lost = lost };
}

bool reconcile_other_store(const char *label_store_id, const char *store_id) {
        /* An empty label counts as a label: only an absent one is "made before store ids". */
        return label_store_id && !streq(label_store_id, strempty(store_id));
}

ReconcileDecision reconcile_decide(const ReconcileContainer *c, const ReconcileExecution *execution,
                                   const ReconcileBackoff *backoff, const ReconcilePolicy *policy,
                                   uint64_t now_usec) {
        ReconcileReason reason;
        bool lost = false;

        assert(c);
        assert(policy);

        if (!c->managed)
                return decision(RECONCILE_SKIP, RECONCILE_REASON_NOT_MANAGED, false);
        if (reconcile_other_store(c->store_id, policy->store_id))
                return decision(RECONCILE_KEEP, RECONCILE_REASON_OTHER_STORE, false);
        if (c->pool)
                return c->pool_owner_alive ? decision(RECONCILE_KEEP, RECONCILE_REASON_POOL_LIVE, false)
                                           : decision(RECONCILE_REAP, RECONCILE_REASON_POOL_ORPHAN, false);
        if (within(c->created_usec, policy->grace_usec, now_usec))
                return decision(RECONCILE_KEEP, RECONCILE_REASON_GRACE, false);

        if (isempty(c->execution_id))
                reason = RECONCILE_REASON_NO_EXECUTION_ID;
        else if (!execution || execution->state == RECONCILE_EXECUTION_UNKNOWN)
                reason = RECONCILE_REASON_UNKNOWN_EXECUTION;
        else if (execution->state == RECONCILE_EXECUTION_FINISHED)
                reason = RECONCILE_REASON_EXECUTION_FINISHED;
        else if (!is_current(c, execution))
                reason = RECONCILE_REASON_STALE_ITERATION;
        else if (c->running)
                return decision(RECONCILE_KEEP, RECONCILE_REASON_LIVE, false);
        else if (execution->owned)
                return decision(RECONCILE_KEEP, RECONCILE_REASON_OWNED, false);
        else {
                reason = RECONCILE_REASON_CONTAINER_EXITED;
                lost = true;
        }

        /* A container that just exited may still be having its logs read and its exit code
         * recorded by its supervisor. */
        if (!c->running && within(c->finished_usec, policy->grace_usec, now_usec))
                return decision(RECONCILE_KEEP, RECONCILE_REASON_GRACE, false);

        if (c->keep_on_failure)
                return decision(RECONCILE_KEEP, RECONCILE_REASON_KEEP_ON_FAILURE, lost);

        if (backoff && backoff->failures > 0 && now_usec < backoff->next_attempt_usec)
                return decision(RECONCILE_KEEP,
                                backoff->quarantined ? RECONCILE_REASON_QUARANTINED
                                                     : RECONCILE_REASON_BACKOFF,
                                lost);

        return decision(RECONCILE_REAP, reason, lost);
}

void reconcile_plan(ReconcileItem *items, size_t n_items, const ReconcilePolicy *policy, uint64_t now_usec) {
        assert(items || n_items == 0);

        for (size_t i = 0; i < n_items; i++)
                items[i].decision = reconcile_decide(&items[i].container, items[i].execution,
                                                     items[i].backoff, policy, now_usec);

        /* Quadratic, but n is the number of our containers on one host. */
        for (size_t i = 0; i < n_items; i++) {
                if (!items[i].decision.execution_lost)
                        continue;
                for (size_t j = 0; j < n_items; j++) {
                        const ReconcileDecision *d = &items[j].decision;

                        if (j == i ||
                            !streq(items[j].container.execution_id, items[i].container.execution_id))
                                continue;
                        if (d->action == RECONCILE_KEEP &&
                            (d->reason == RECONCILE_REASON_LIVE || d->reason == RECONCILE_REASON_GRACE ||
                             d->reason == RECONCILE_REASON_OWNED)) {
                                items[i].decision.execution_lost = false;
                                break;
                        }
                }
        }
}

bool reconcile_execution_vanished(const char *current_container, uint64_t recorded_usec,
                                  const ReconcileContainer *containers, size_t n_containers,
                                  const ReconcilePolicy *policy, uint64_t now_usec) {
        assert(policy);
        assert(containers || n_containers == 0);

        if (isempty(current_container))
                return false;
        if (within(recorded_usec, policy->grace_usec, now_usec))
                return false;
        for (size_t i = 0; i < n_containers; i++)
                if (container_is(&containers[i], current_container))
                        return false;
        return true;
}

uint64_t reconcile_backoff_delay_usec(unsigned failures) {
        static const unsigned minutes[] = { 5, 10, 20, 40, 60 };

        if (failures == 0)
                return 0;
        return minutes[MIN(failures, ELEMENTSOF(minutes)) - 1] * USEC_PER_MINUTE;
}

void reconcile_backoff_failed(const ReconcileBackoff *old, uint64_t now_usec, ReconcileBackoff *ret,
                              bool *ret_newly_quarantined) {
        ReconcileBackoff b = old ? *old : (ReconcileBackoff){ 0 };
        bool was = b.quarantined;

        assert(ret);

        if (b.failures < UINT32_MAX)
                b.failures++;
        b.next_attempt_usec = now_usec + reconcile_backoff_delay_usec(b.failures);
        b.quarantined = b.failures >= RECONCILE_QUARANTINE_FAILURES;
        *ret = b;
        if (ret_newly_quarantined)
                *ret_newly_quarantined = b.quarantined && !was;
}
