/* test-reconcile.c — the reaper's pure decisions: which containers are orphans, grace,
 * keep_container_on_failure, the label guard, stale rows, and the backoff/quarantine
 * arithmetic (an unremovable container is simulated by feeding failures in). */
#include <check.h>
#include <json-c/json.h>

#include <unistd.h>

#include "process-token.h"
#include "reconcile.h"
#include "util.h"
#include "test-main.h"

#define MIN_USEC (60 * USEC_PER_SEC)
#define NOW (UINT64_C(1800000000) * USEC_PER_SEC)
#define GRACE (60 * USEC_PER_SEC)
#define OLD (NOW - 10 * MIN_USEC)

static const ReconcilePolicy policy = { .grace_usec = GRACE };

static ReconcileContainer ours(const char *id, const char *execution_id, bool running) {
        return (ReconcileContainer){
                .id = id,
                .name = id,
                .managed = true,
                .execution_id = execution_id,
                .running = running,
                .created_usec = OLD,
                .finished_usec = running ? 0 : OLD + USEC_PER_SEC,
        };
}

static const ReconcileExecution live = { .state = RECONCILE_EXECUTION_LIVE };
static const ReconcileExecution finished = { .state = RECONCILE_EXECUTION_FINISHED };

#define ck_assert_decision(d, act, why, is_lost)                                                          \
        do {                                                                                              \
                ReconcileDecision d_ = (d);                                                               \
                ck_assert_int_eq(d_.action, (act));                                                       \
                ck_assert_str_eq(reconcile_reason_to_string(d_.reason), reconcile_reason_to_string(why)); \
                ck_assert_int_eq(d_.execution_lost, (is_lost));                                           \
        } while (0)

START_TEST(test_reaper_reaps_container_of_unknown_execution) {
        ReconcileContainer c = ours("c1", "e-unknown", true);
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_UNKNOWN_EXECUTION, false);
        ReconcileExecution unknown = { .state = RECONCILE_EXECUTION_UNKNOWN };
        ck_assert_decision(reconcile_decide(&c, &unknown, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_UNKNOWN_EXECUTION, false);
}
END_TEST

START_TEST(test_reaper_reaps_container_without_execution_id) {
        ReconcileContainer c = ours("c1", NULL, true);
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_NO_EXECUTION_ID, false);
        c.execution_id = "";
        ck_assert_decision(reconcile_decide(&c, &live, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_NO_EXECUTION_ID, false);
}
END_TEST

START_TEST(test_reaper_keeps_pool_of_live_aegisd_and_reaps_a_dead_ones) {
        ReconcileContainer c = ours("p1", NULL, false);

        c.pool = true;
        c.pool_owner_alive = true;
        c.created_usec = OLD;
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_POOL_LIVE, false);
        c.running = true; /* taken by an execution of the live aegisd */
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_POOL_LIVE, false);
        c.pool_owner_alive = false;
        c.created_usec = NOW; /* no grace: nothing waits for a dead daemon's pool */
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_POOL_ORPHAN, false);
        c.store_id = "another";
        ck_assert_decision(reconcile_decide(&c, NULL, NULL,
                                            &(ReconcilePolicy){ .grace_usec = GRACE, .store_id = "this" },
                                            NOW),
                           RECONCILE_KEEP, RECONCILE_REASON_OTHER_STORE, false);
}
END_TEST

START_TEST(test_process_token_names_one_life) {
        char me[PROCESS_TOKEN_MAX], forged[PROCESS_TOKEN_MAX + 8];

        ck_assert_int_eq(process_token(0, me), 0);
        ck_assert(process_token_alive(me));
        snprintf(forged, sizeof forged, "%ld:1", (long) getpid()); /* same pid, another start */
        ck_assert(!process_token_alive(forged));
        ck_assert(!process_token_alive("2147483647:5"));
        ck_assert(!process_token_alive(""));
        ck_assert(!process_token_alive(":5"));
        ck_assert(!process_token_alive("12"));
        ck_assert(!process_token_alive(NULL));
}
END_TEST

START_TEST(test_reaper_reaps_container_of_finished_execution) {
        ReconcileContainer running = ours("c1", "e1", true), exited = ours("c2", "e1", false);
        ck_assert_decision(reconcile_decide(&running, &finished, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_EXECUTION_FINISHED, false);
        ck_assert_decision(reconcile_decide(&exited, &finished, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_EXECUTION_FINISHED, false);
}
END_TEST

START_TEST(test_reaper_keeps_running_container_of_live_execution) {
        ReconcileContainer c = ours("c1", "e1", true);
        ck_assert_decision(reconcile_decide(&c, &live, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_LIVE, false);
        ReconcileExecution current = { .state = RECONCILE_EXECUTION_LIVE, .current_container = "c1" };
        ck_assert_decision(reconcile_decide(&c, &current, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_LIVE, false);
        /* The store may have recorded the name rather than the id. */
        c.name = "aegis-agent-1";
        current.current_container = "aegis-agent-1";
        ck_assert_decision(reconcile_decide(&c, &current, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_LIVE, false);
}
END_TEST

START_TEST(test_reaper_reaps_exited_container_of_live_execution_and_marks_it_lost) {
        ReconcileContainer c = ours("c1", "e1", false);
        ck_assert_decision(reconcile_decide(&c, &live, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_CONTAINER_EXITED, true);
        /* Created but never started, long ago: its supervisor is gone. */
        c.finished_usec = 0;
        ck_assert_decision(reconcile_decide(&c, &live, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_CONTAINER_EXITED, true);
}
END_TEST

START_TEST(test_reaper_leaves_exited_container_to_its_live_owner) {
        ReconcileExecution e = { .state = RECONCILE_EXECUTION_LIVE,
                                 .current_container = "c1",
                                 .owned = true };
        ReconcileContainer c = ours("c1", "e1", false), old = ours("c0", "e1", false);
        ck_assert_decision(reconcile_decide(&c, &e, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_OWNED, false);
        /* An earlier iteration's leftover is garbage even while the owner lives. */
        ck_assert_decision(reconcile_decide(&old, &e, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_STALE_ITERATION, false);
}
END_TEST

START_TEST(test_reaper_matches_current_container_by_name_or_id) {
        ReconcileExecution e = { .state = RECONCILE_EXECUTION_LIVE,
                                 .current_container = "aegis-agent-x",
                                 .current_container_id = "abc123" };
        ReconcileContainer c = ours("abc123", "e1", true);
        c.name = "other-name";
        ck_assert_decision(reconcile_decide(&c, &e, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_LIVE, false);
        c.id = "zzz";
        c.name = "aegis-agent-x";
        ck_assert_decision(reconcile_decide(&c, &e, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_LIVE, false);
        c.name = "aegis-agent-y";
        ck_assert_decision(reconcile_decide(&c, &e, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_STALE_ITERATION, false);
}
END_TEST

START_TEST(test_reaper_reaps_earlier_iteration_without_failing_execution) {
        ReconcileExecution e = { .state = RECONCILE_EXECUTION_LIVE, .current_container = "c2" };
        ReconcileContainer old_running = ours("c1", "e1", true), old_exited = ours("c0", "e1", false);
        ck_assert_decision(reconcile_decide(&old_running, &e, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_STALE_ITERATION, false);
        ck_assert_decision(reconcile_decide(&old_exited, &e, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_STALE_ITERATION, false);
}
END_TEST

START_TEST(test_reaper_skips_keep_on_failure) {
        ReconcileContainer c = ours("c1", "e1", false);
        c.keep_on_failure = true;
        ck_assert_decision(reconcile_decide(&c, &finished, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_KEEP_ON_FAILURE, false);
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_KEEP_ON_FAILURE, false);
        /* Kept, but a live row whose container died unobserved is still fixed. */
        ck_assert_decision(reconcile_decide(&c, &live, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_KEEP_ON_FAILURE, true);
        /* A live, running one stays "live". */
        c.running = true;
        ck_assert_decision(reconcile_decide(&c, &live, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_LIVE, false);
}
END_TEST

START_TEST(test_reaper_keeps_containers_within_grace) {
        ReconcileContainer c = ours("c1", "e-unknown", false);
        c.created_usec = NOW - GRACE + USEC_PER_SEC;
        c.finished_usec = 0;
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_GRACE, false);
        /* Exactly grace old: no longer protected. */
        c.created_usec = NOW - GRACE;
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_UNKNOWN_EXECUTION, false);
        /* Clock skew: a creation time in the future is recent. */
        c.created_usec = NOW + MIN_USEC;
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_GRACE, false);
        /* Old, but exited a moment ago: its supervisor may still be reading its logs. */
        c = ours("c2", "e1", false);
        c.finished_usec = NOW - USEC_PER_SEC;
        ck_assert_decision(reconcile_decide(&c, &live, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_GRACE, false);
        ck_assert_decision(reconcile_decide(&c, &finished, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_GRACE, false);
        /* No grace at all: everything orphaned goes. */
        ReconcilePolicy none = { .grace_usec = 0 };
        ck_assert_decision(reconcile_decide(&c, &finished, NULL, &none, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_EXECUTION_FINISHED, false);
}
END_TEST

START_TEST(test_reaper_never_touches_unlabelled_containers) {
        ReconcileContainer c = ours("c1", "e1", false);
        c.managed = false;
        /* Whatever the store says about it. */
        ck_assert_decision(reconcile_decide(&c, &finished, NULL, &policy, NOW), RECONCILE_SKIP,
                           RECONCILE_REASON_NOT_MANAGED, false);
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &policy, NOW), RECONCILE_SKIP,
                           RECONCILE_REASON_NOT_MANAGED, false);
        ck_assert_decision(reconcile_decide(&c, &live, NULL, &policy, NOW), RECONCILE_SKIP,
                           RECONCILE_REASON_NOT_MANAGED, false);
}
END_TEST

/* aegis.store: a container labelled with another store's id is that store's daemon's, whatever
 * this store says (here: nothing, as for a live execution of the other daemon); one labelled
 * with this store's id, or without the label (made before store ids), is decided as before. */
START_TEST(test_reaper_keeps_containers_of_another_store) {
        const ReconcilePolicy mine = { .grace_usec = GRACE, .store_id = "store-b" };
        ReconcileContainer c = ours("c1", "e-of-a", true);

        c.store_id = "store-a";
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &mine, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_OTHER_STORE, false);
        c.running = false;
        ck_assert_decision(reconcile_decide(&c, &finished, NULL, &mine, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_OTHER_STORE, false);
        ck_assert_decision(reconcile_decide(&c, &live, NULL, &mine, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_OTHER_STORE, false);
        /* An empty label is a label, not its absence. */
        c.store_id = "";
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &mine, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_OTHER_STORE, false);
        /* Labelled, but the pass's store has no id: not provably ours either. */
        c.store_id = "store-a";
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_OTHER_STORE, false);

        /* Ours: the orphan rules apply. */
        c.store_id = "store-b";
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &mine, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_UNKNOWN_EXECUTION, false);
        /* No label: as before store ids. */
        c.store_id = NULL;
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &mine, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_UNKNOWN_EXECUTION, false);

        /* The not-ours guard still comes first. */
        c.managed = false;
        c.store_id = "store-a";
        ck_assert_decision(reconcile_decide(&c, NULL, NULL, &mine, NOW), RECONCILE_SKIP,
                           RECONCILE_REASON_NOT_MANAGED, false);

        ck_assert(reconcile_other_store("store-a", "store-b"));
        ck_assert(!reconcile_other_store("store-b", "store-b"));
        ck_assert(!reconcile_other_store(NULL, "store-b"));
        ck_assert(reconcile_other_store("store-a", NULL));
        ck_assert_str_eq(reconcile_reason_to_string(RECONCILE_REASON_OTHER_STORE), "other_store");
}
END_TEST

/* reconcile_plan(): another store's container does not make its execution (unknown here) lost,
 * and does not keep this store's own orphans of the same execution id. */
START_TEST(test_reaper_plan_keeps_another_stores_container_beside_an_orphan) {
        const ReconcilePolicy mine = { .grace_usec = GRACE, .store_id = "store-b" };
        ReconcileItem items[2] = {
                { .container = ours("a1", "e1", true) },
                { .container = ours("b1", "e1", true) },
        };

        items[0].container.store_id = "store-a";
        items[1].container.store_id = "store-b";
        reconcile_plan(items, ELEMENTSOF(items), &mine, NOW);
        ck_assert_decision(items[0].decision, RECONCILE_KEEP, RECONCILE_REASON_OTHER_STORE, false);
        ck_assert_decision(items[1].decision, RECONCILE_REAP, RECONCILE_REASON_UNKNOWN_EXECUTION, false);
}
END_TEST

START_TEST(test_reaper_unknown_status_counts_as_live) {
        ck_assert_int_eq(reconcile_execution_state_from_status(NULL), RECONCILE_EXECUTION_UNKNOWN);
        ck_assert_int_eq(reconcile_execution_state_from_status("pending"), RECONCILE_EXECUTION_LIVE);
        ck_assert_int_eq(reconcile_execution_state_from_status("running"), RECONCILE_EXECUTION_LIVE);
        ck_assert_int_eq(reconcile_execution_state_from_status("completed"), RECONCILE_EXECUTION_FINISHED);
        ck_assert_int_eq(reconcile_execution_state_from_status("failed"), RECONCILE_EXECUTION_FINISHED);
        ck_assert_int_eq(reconcile_execution_state_from_status("cancelled"), RECONCILE_EXECUTION_FINISHED);
        ck_assert_int_eq(reconcile_execution_state_from_status("paused-by-admin"), RECONCILE_EXECUTION_LIVE);
}
END_TEST

START_TEST(test_reaper_backoff_schedule) {
        ck_assert_uint_eq(reconcile_backoff_delay_usec(0), 0);
        ck_assert_uint_eq(reconcile_backoff_delay_usec(1), 5 * MIN_USEC);
        ck_assert_uint_eq(reconcile_backoff_delay_usec(2), 10 * MIN_USEC);
        ck_assert_uint_eq(reconcile_backoff_delay_usec(3), 20 * MIN_USEC);
        ck_assert_uint_eq(reconcile_backoff_delay_usec(4), 40 * MIN_USEC);
        ck_assert_uint_eq(reconcile_backoff_delay_usec(5), 60 * MIN_USEC);
        ck_assert_uint_eq(reconcile_backoff_delay_usec(50), 60 * MIN_USEC);
}
END_TEST

/* An unremovable container: every attempt fails. Walk it through five reaper cycles and
 * check that it is left alone between retries and quarantined, reported once. */
START_TEST(test_reaper_backs_off_and_quarantines_unremovable_container) {
        static const unsigned expect_minutes[] = { 5, 10, 20, 40, 60, 60, 60 };
        ReconcileContainer c = ours("wedged", "e-gone", true);
        ReconcileBackoff b = { 0 };
        uint64_t now = NOW;
        unsigned reports = 0;

        for (size_t i = 0; i < ELEMENTSOF(expect_minutes); i++) {
                bool newly = false;
                ReconcileBackoff next;

                ck_assert_decision(reconcile_decide(&c, NULL, &b, &policy, now), RECONCILE_REAP,
                                   RECONCILE_REASON_UNKNOWN_EXECUTION, false);
                reconcile_backoff_failed(&b, now, &next, &newly);
                ck_assert_uint_eq(next.failures, i + 1);
                ck_assert_uint_eq(next.next_attempt_usec, now + expect_minutes[i] * MIN_USEC);
                ck_assert_int_eq(next.quarantined, i + 1 >= RECONCILE_QUARANTINE_FAILURES);
                reports += newly;
                b = next;

                /* Timer runs every 5 minutes in between: nothing is attempted. */
                for (uint64_t t = now + 5 * MIN_USEC; t < b.next_attempt_usec; t += 5 * MIN_USEC)
                        ck_assert_decision(reconcile_decide(&c, NULL, &b, &policy, t), RECONCILE_KEEP,
                                           b.quarantined ? RECONCILE_REASON_QUARANTINED
                                                         : RECONCILE_REASON_BACKOFF,
                                           false);
                now = b.next_attempt_usec;
        }
        ck_assert_uint_eq(reports, 1);
}
END_TEST

START_TEST(test_reaper_backoff_from_nothing) {
        ReconcileBackoff b;
        bool newly = true;
        reconcile_backoff_failed(NULL, NOW, &b, &newly);
        ck_assert_uint_eq(b.failures, 1);
        ck_assert_uint_eq(b.next_attempt_usec, NOW + 5 * MIN_USEC);
        ck_assert(!b.quarantined);
        ck_assert(!newly);
}
END_TEST

START_TEST(test_reaper_backoff_does_not_protect_live_containers) {
        /* A backoff row left behind does not turn a live container into a reap. */
        ReconcileBackoff b = { .failures = 3, .next_attempt_usec = NOW - 1 };
        ReconcileContainer c = ours("c1", "e1", true);
        ck_assert_decision(reconcile_decide(&c, &live, &b, &policy, NOW), RECONCILE_KEEP,
                           RECONCILE_REASON_LIVE, false);
        /* Due: it is tried again. */
        ck_assert_decision(reconcile_decide(&c, &finished, &b, &policy, NOW), RECONCILE_REAP,
                           RECONCILE_REASON_EXECUTION_FINISHED, false);
}
END_TEST

START_TEST(test_reaper_plan_does_not_fail_execution_with_a_live_container) {
        ReconcileExecution e = { .state = RECONCILE_EXECUTION_LIVE };
        ReconcileItem items[] = {
                { .container = ours("old", "e1", false), .execution = &e },
                { .container = ours("new", "e1", true), .execution = &e },
                { .container = ours("lone", "e2", false), .execution = &e },
                { .container = ours("fresh", "e3", false), .execution = &e },
                { .container = ours("dead", "e3", false), .execution = &e },
        };
        items[3].container.created_usec = NOW - USEC_PER_SEC;

        reconcile_plan(items, ELEMENTSOF(items), &policy, NOW);
        ck_assert_decision(items[0].decision, RECONCILE_REAP, RECONCILE_REASON_CONTAINER_EXITED, false);
        ck_assert_decision(items[1].decision, RECONCILE_KEEP, RECONCILE_REASON_LIVE, false);
        ck_assert_decision(items[2].decision, RECONCILE_REAP, RECONCILE_REASON_CONTAINER_EXITED, true);
        ck_assert_decision(items[3].decision, RECONCILE_KEEP, RECONCILE_REASON_GRACE, false);
        ck_assert_decision(items[4].decision, RECONCILE_REAP, RECONCILE_REASON_CONTAINER_EXITED, false);
}
END_TEST

START_TEST(test_reaper_detects_vanished_container) {
        ReconcileContainer list[] = { ours("c1", "e1", true), ours("c2", "e2", true) };
        list[1].name = "aegis-agent-2";

        ck_assert(reconcile_execution_vanished("c9", OLD, list, ELEMENTSOF(list), &policy, NOW));
        ck_assert(reconcile_execution_vanished("c9", OLD, NULL, 0, &policy, NOW));
        ck_assert(!reconcile_execution_vanished("c1", OLD, list, ELEMENTSOF(list), &policy, NOW));
        ck_assert(!reconcile_execution_vanished("aegis-agent-2", OLD, list, ELEMENTSOF(list), &policy, NOW));
        /* Recorded a moment ago: the create call may still be in flight. */
        ck_assert(!reconcile_execution_vanished("c9", NOW - USEC_PER_SEC, list, ELEMENTSOF(list), &policy,
                                                NOW));
        /* Nothing recorded: nothing to say. */
        ck_assert(!reconcile_execution_vanished(NULL, OLD, list, ELEMENTSOF(list), &policy, NOW));
        ck_assert(!reconcile_execution_vanished("", OLD, list, ELEMENTSOF(list), &policy, NOW));
}
END_TEST

START_TEST(test_reaper_strings) {
        ck_assert_str_eq(reconcile_action_to_string(RECONCILE_REAP), "reap");
        ck_assert_str_eq(reconcile_reason_to_string(RECONCILE_REASON_KEEP_ON_FAILURE),
                         "keep_container_on_failure");
        ck_assert_ptr_null(reconcile_reason_to_string(_RECONCILE_REASON_MAX));
        for (int r = 0; r < _RECONCILE_REASON_MAX; r++)
                ck_assert_ptr_nonnull(reconcile_reason_to_string(r));
}
END_TEST

START_TEST(test_reaper_report_json_has_summary_and_decisions) {
        ReconcileReport *r = calloc(1, sizeof(*r));
        ck_assert_ptr_nonnull(r);
        r->dry_run = true;
        r->grace_usec = GRACE;
        r->started_usec = NOW;
        r->reaped = 1;
        r->kept = 1;
        r->n_containers = 2;
        r->containers = calloc(2, sizeof(ReconcileContainerReport));
        r->containers[0] = (ReconcileContainerReport){
                .id = strdup("abc"),
                .name = strdup("aegis-agent-1"),
                .execution_id = strdup("e1"),
                .state = strdup("exited"),
                .decision = { RECONCILE_REAP, RECONCILE_REASON_CONTAINER_EXITED, true },
                .result = RECONCILE_RESULT_WOULD_REMOVE,
        };
        r->containers[1] = (ReconcileContainerReport){
                .id = strdup("def"),
                .decision = { RECONCILE_KEEP, RECONCILE_REASON_QUARANTINED, false },
                .result = RECONCILE_RESULT_KEPT,
                .backoff = { .failures = 5, .next_attempt_usec = NOW + 60 * MIN_USEC, .quarantined = true },
        };
        r->n_executions = 1;
        r->executions = calloc(1, sizeof(ReconcileExecutionReport));
        r->executions[0] =
                (ReconcileExecutionReport){ .id = strdup("e1"), .result = RECONCILE_RESULT_WOULD_MARK };

        json_object *j = reconcile_report_to_json(r);
        ck_assert_ptr_nonnull(j);
        const char *s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
        ck_assert_ptr_nonnull(strstr(s, "\"dry_run\":true"));
        ck_assert_ptr_nonnull(strstr(s, "\"grace_secs\":60"));
        ck_assert_ptr_nonnull(strstr(s, "\"summary\":{\"reaped\":1,\"kept\":1,\"quarantined\":0"));
        ck_assert_ptr_nonnull(strstr(s, "\"engine_volumes_removed\":0,\"other_store\":0}"));
        ck_assert_ptr_nonnull(strstr(s, "\"reason\":\"container_exited\",\"result\":\"would_remove\""));
        ck_assert_ptr_nonnull(strstr(s, "\"failures\":5"));
        ck_assert_ptr_nonnull(strstr(s, "\"quarantined\":true"));
        ck_assert_ptr_nonnull(strstr(s, "\"reason\":\"container_lost\""));
        ck_assert_ptr_nonnull(strstr(s, "\"name\":null"));
        json_object_put(j);

        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        ck_assert_int_eq(reconcile_report_print(r, f), 0);
        fclose(f);
        ck_assert_ptr_nonnull(strstr(text, "would_remove (container_exited) execution-lost"));
        ck_assert_ptr_nonnull(strstr(text, "failures=5"));
        ck_assert_ptr_nonnull(strstr(text, "dry run: reaped=1 kept=1"));
        free(text);
        reconcile_report_free(r);
}
END_TEST

int main(void) {
        Suite *s = suite_create("reconcile");
        TCase *tc = tcase_create("decisions");
        tcase_add_test(tc, test_reaper_keeps_containers_of_another_store);
        tcase_add_test(tc, test_reaper_plan_keeps_another_stores_container_beside_an_orphan);
        tcase_add_test(tc, test_reaper_reaps_container_of_unknown_execution);
        tcase_add_test(tc, test_reaper_reaps_container_without_execution_id);
        tcase_add_test(tc, test_reaper_reaps_container_of_finished_execution);
        tcase_add_test(tc, test_reaper_keeps_pool_of_live_aegisd_and_reaps_a_dead_ones);
        tcase_add_test(tc, test_process_token_names_one_life);
        tcase_add_test(tc, test_reaper_keeps_running_container_of_live_execution);
        tcase_add_test(tc, test_reaper_reaps_exited_container_of_live_execution_and_marks_it_lost);
        tcase_add_test(tc, test_reaper_reaps_earlier_iteration_without_failing_execution);
        tcase_add_test(tc, test_reaper_leaves_exited_container_to_its_live_owner);
        tcase_add_test(tc, test_reaper_matches_current_container_by_name_or_id);
        tcase_add_test(tc, test_reaper_skips_keep_on_failure);
        tcase_add_test(tc, test_reaper_keeps_containers_within_grace);
        tcase_add_test(tc, test_reaper_never_touches_unlabelled_containers);
        tcase_add_test(tc, test_reaper_unknown_status_counts_as_live);
        tcase_add_test(tc, test_reaper_plan_does_not_fail_execution_with_a_live_container);
        tcase_add_test(tc, test_reaper_detects_vanished_container);
        tcase_add_test(tc, test_reaper_strings);
        tcase_add_test(tc, test_reaper_report_json_has_summary_and_decisions);
        suite_add_tcase(s, tc);
        TCase *tb = tcase_create("backoff");
        tcase_add_test(tb, test_reaper_backoff_schedule);
        tcase_add_test(tb, test_reaper_backs_off_and_quarantines_unremovable_container);
        tcase_add_test(tb, test_reaper_backoff_from_nothing);
        tcase_add_test(tb, test_reaper_backoff_does_not_protect_live_containers);
        suite_add_tcase(s, tb);
        return run_suite(s);
}
