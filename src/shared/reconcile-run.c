/* reconcile-run.c — one reconciliation pass: gather the facts (one label-filtered container
 * list, store look-ups), decide with reconcile_plan(), act (remove orphans concurrently,
 * stop → kill → remove; persist backoff; mark lost executions), and report.
 *
 * Invariants:
 *  - nothing is acted on unless every fact was gathered: a store or engine failure while
 *    gathering aborts the pass before any removal;
 *  - only containers listed with our label are ever removed, and each removal re-checks the
 *    label it was listed with (the list filter and the decision both require it);
 *  - the caller's event loop is never touched: engine calls run on a private client and loop. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "podman.h"
#include "reconcile-internal.h"
#include "reconcile.h"
#include "store.h"
#include "util.h"
#include "volume-mount.h"

#define FIELD_PODMAN "runtime.container_socket_path"
#define FIELD_STORE "database.url"

typedef struct Fact {
        char *execution_id;
        bool found;
        ReconcileExecution x;
        char *current_name, *current_id;
        unsigned iteration;
} Fact;

typedef enum Step {
        STEP_STOP,
        STEP_KILL,
        STEP_REMOVE,
} Step;

typedef struct Entry {
        ReconcileEngineContainer ec; /* owned */
        ReconcileContainer c; /* borrows from ec */
        ReconcileBackoff backoff;
        bool have_backoff;
        Fact *fact;
        ReconcileDecision decision;
        /* Removal state. */
        Step step;
        bool removing, done;
} Entry;

typedef struct Run {
        const ReconcileOptions *o;
        PodmanClient *podman;
        uint64_t now;
        Store *store;
        ReconcileEngine *engine;
        Entry *entries;
        size_t n_entries;
        Fact *facts;
        size_t n_facts;
        ReconcileReport *report;
        size_t next; /* next entry to start removing */
        size_t in_flight;
        int store_r; /* first store write failure while acting */
        Error store_e;
} Run;

static void fact_done(Fact *f) {
        free(f->execution_id);
        free(f->current_name);
        free(f->current_id);
}

static void run_done(Run *run) {
        for (size_t i = 0; i < run->n_entries; i++)
                reconcile_engine_container_done(&run->entries[i].ec);
        free(run->entries);
        for (size_t i = 0; i < run->n_facts; i++)
                fact_done(&run->facts[i]);
        free(run->facts);
}

static int store_fail(Error *e, Store *s, int r, const char *what) {
        const char *m = store_last_error(s);
        return error_set_field(e, r, FIELD_STORE, "the execution store failed while %s: %s", what,
                               !isempty(m) ? m : strerror(-r));
}

/* ---- gathering ---- */

static Fact *fact_for(Run *run, const char *execution_id) {
        for (size_t i = 0; i < run->n_facts; i++)
                if (streq(run->facts[i].execution_id, execution_id))
                        return &run->facts[i];
        return NULL;
}

static int load_fact(Run *run, Fact *f, Error *e) {
        StoreExecution x = { 0 };
        StoreContainer *rows = NULL;
        size_t n = 0;
        int r;

        r = store_execution_get(run->store, f->execution_id, &x);
        if (r == -ENOENT) {
                f->found = false;
                f->x.state = RECONCILE_EXECUTION_UNKNOWN;
                return 0;
        }
        if (r < 0)
                return store_fail(e, run->store, r, "looking up an execution");
        f->found = true;
        f->x.state = reconcile_execution_state_from_status(execution_status_to_string(x.status));
        f->iteration = x.iteration;
        /* Owned: a live lease of another aegisd, or a claim of the calling aegisd's previous
         * life, whose supervisor re-attaches to it and reads even a container that exited
         * while it was down. */
        f->x.owned = x.claimed_by && (x.lease_expires_at > run->now || streq(x.claimed_by, run->o->owner));
        store_execution_done(&x);

        if (f->x.state != RECONCILE_EXECUTION_LIVE)
                return 0;
        r = store_container_list(run->store, f->execution_id, false, &rows, &n);
        if (r < 0)
                return store_fail(e, run->store, r, "listing an execution's containers");
        if (n > 0) {
                /* Oldest first: the last row is the current iteration's container. */
                StoreContainer *cur = &rows[n - 1];
                f->current_name = TAKE_PTR(cur->name);
                f->current_id = TAKE_PTR(cur->container_id);
                f->x.current_container = f->current_name;
                f->x.current_container_id = f->current_id;
        }
        store_container_array_free(rows, n);
        return 0;
}

/* A store that had no AEGIS schema when it was opened (a new database: a wrong path, the
 * state directory of another systemd version, a typo in DATABASE_URL) knows none of the
 * executions the engine's aegis containers and engine volumes belong to: all of them would
 * look orphaned, including running ones. Refuse to act then; with nothing labelled there is
 * nothing to act on either way (a fresh install), and the pass goes on. -EMEDIUMTYPE. */
static int refuse_new_store(Run *run, Error *e) {
        PodmanVolume *vs = NULL;
        size_t n_containers = 0, n_volumes = 0;
        int r;

        if (store_schema_found(run->store) > 0)
                return 0;
        for (size_t i = 0; i < run->n_entries; i++)
                n_containers += run->entries[i].c.managed;
        r = podman_volume_list(run->podman, VOLUME_ENGINE_PREFIX, &vs, &n_volumes, e);
        if (r < 0) {
                if (e && isempty(e->field))
                        snprintf(e->field, sizeof e->field, "%s", FIELD_PODMAN);
                return r;
        }
        podman_volume_list_free(vs, n_volumes);
        if (n_containers == 0 && n_volumes == 0)
                return 0;
        return error_set_field(
                e, -EMEDIUMTYPE, FIELD_STORE,
                "Refusing to reap: the execution store %s had no AEGIS schema before this run, so it "
                "is not the store of the daemon that created the %zu aegis container(s) and %zu aegis "
                "engine volume(s) Podman has; nothing was removed. Point this program at the daemon's "
                "database with --config FILE or DATABASE_URL (see aegis-reaper(8)).",
                store_url(run->store), n_containers, n_volumes);
}

static int gather(Run *run, Error *e) {
        ReconcileEngineContainer *list = NULL;
        size_t n = 0;
        int r;

        r = reconcile_engine_list(run->engine, &list, &n, e);
        if (r < 0)
                return r;
        run->entries = calloc(n ? n : 1, sizeof(Entry));
        run->facts = calloc(n ? n : 1, sizeof(Fact));
        if (!run->entries || !run->facts) {
                for (size_t i = 0; i < n; i++)
                        reconcile_engine_container_done(&list[i]);
                free(list);
                return error_set(e, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                Entry *en = &run->entries[run->n_entries++];
                en->ec = list[i];
                en->c = (ReconcileContainer){
                        .id = en->ec.id,
                        .name = en->ec.name,
                        .managed = en->ec.managed,
                        .execution_id = en->ec.execution_id,
                        .store_id = en->ec.store_id,
                        .keep_on_failure = en->ec.keep_on_failure,
                        .running = en->ec.running,
                        .created_usec = en->ec.created_usec,
                        .finished_usec = en->ec.finished_usec,
                        .pool = en->ec.pool,
                        .pool_owner_alive = en->ec.pool_owner_alive,
                };
        }
        free(list);

        r = refuse_new_store(run, e);
        if (r < 0)
                return r;
        if (store_schema_version(run->store) == 0)
                return 0; /* store_open_existing() left it without a schema: nothing to look up */

        for (size_t i = 0; i < run->n_entries; i++) {
                Entry *en = &run->entries[i];
                StoreReaperBackoff b = { 0 };

                if (!en->c.managed || reconcile_other_store(en->c.store_id, store_id(run->store)))
                        continue; /* not ours, or another store's: nothing to look up */
                if (!isempty(en->c.execution_id)) {
                        en->fact = fact_for(run, en->c.execution_id);
                        if (!en->fact) {
                                Fact *f = &run->facts[run->n_facts];
                                if (!(f->execution_id = strdup(en->c.execution_id)))
                                        return error_set(e, -ENOMEM, "out of memory");
                                run->n_facts++;
                                r = load_fact(run, f, e);
                                if (r < 0)
                                        return r;
                                en->fact = f;
                        }
                }
                r = store_reaper_backoff_get(run->store, en->c.id, &b);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return store_fail(e, run->store, r, "reading the reaper's backoff records");
                en->have_backoff = true;
                en->backoff = (ReconcileBackoff){ .failures = b.failures,
                                                  .next_attempt_usec = b.next_attempt_at,
                                                  .quarantined = b.quarantined };
                store_reaper_backoff_done(&b);
        }
        return 0;
}

static int plan(Run *run) {
        _cleanup_free_ ReconcileItem *items =
                calloc(run->n_entries ? run->n_entries : 1, sizeof(ReconcileItem));
        ReconcilePolicy policy = { .grace_usec = run->o->grace_usec, .store_id = store_id(run->store) };

        if (!items)
                return -ENOMEM;
        for (size_t i = 0; i < run->n_entries; i++) {
                Entry *en = &run->entries[i];
                items[i] = (ReconcileItem){
                        .container = en->c,
                        .execution = en->fact && en->fact->found ? &en->fact->x : NULL,
                        .backoff = en->have_backoff ? &en->backoff : NULL,
                };
        }
        reconcile_plan(items, run->n_entries, &policy, run->now);
        for (size_t i = 0; i < run->n_entries; i++)
                run->entries[i].decision = items[i].decision;
        return 0;
}

/* ---- the report ---- */

static int report_containers(Run *run) {
        ReconcileReport *rep = run->report;

        rep->containers = calloc(run->n_entries ? run->n_entries : 1, sizeof(ReconcileContainerReport));
        if (!rep->containers)
                return -ENOMEM;
        for (size_t i = 0; i < run->n_entries; i++) {
                Entry *en = &run->entries[i];
                ReconcileContainerReport *c = &rep->containers[rep->n_containers++];

                c->id = strdup_or_null(en->ec.id);
                c->name = strdup_or_null(en->ec.name);
                c->execution_id = strdup_or_null(en->ec.execution_id);
                c->state = strdup_or_null(en->ec.state);
                if ((en->ec.id && !c->id) || (en->ec.name && !c->name) ||
                    (en->ec.execution_id && !c->execution_id) || (en->ec.state && !c->state))
                        return -ENOMEM;
                c->decision = en->decision;
                c->backoff = en->have_backoff ? en->backoff : (ReconcileBackoff){ 0 };
                switch (en->decision.action) {
                case RECONCILE_SKIP:
                        c->result = RECONCILE_RESULT_SKIPPED;
                        rep->skipped++;
                        break;
                case RECONCILE_KEEP:
                        c->result = RECONCILE_RESULT_KEPT;
                        rep->kept++;
                        rep->other_store += en->decision.reason == RECONCILE_REASON_OTHER_STORE;
                        break;
                default:
                        c->result =
                                run->o->dry_run ? RECONCILE_RESULT_WOULD_REMOVE : RECONCILE_RESULT_FAILED;
                        if (run->o->dry_run)
                                rep->reaped++;
                        break;
                }
        }
        return 0;
}

static int report_execution(Run *run, const char *id, const char *container, ReconcileResult result,
                            const char *error) {
        ReconcileReport *rep = run->report;
        ReconcileExecutionReport *x;

        for (size_t i = 0; i < rep->n_executions; i++)
                if (streq(rep->executions[i].id, id))
                        return 0;
        x = reallocarray(rep->executions, rep->n_executions + 1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        rep->executions = x;
        x = &rep->executions[rep->n_executions];
        *x = (ReconcileExecutionReport){ .id = strdup(id),
                                         .container = strdup_or_null(container),
                                         .result = result,
                                         .error = strdup_or_null(error) };
        if (!x->id)
                return -ENOMEM;
        rep->n_executions++;
        if (result != RECONCILE_RESULT_FAILED)
                rep->lost++;
        return 0;
}

/* ---- acting: removal with escalation, several at a time ---- */

static void store_write_failed(Run *run, int r, const char *what) {
        if (run->store_r < 0)
                return;
        run->store_r = store_fail(&run->store_e, run->store, r, what);
}

static void removal_finished(Run *run, Entry *en, int r, const Error *err) {
        ReconcileContainerReport *c = &run->report->containers[en - run->entries];

        en->done = true;
        if (r >= 0 || r == -ENOENT) {
                /* Gone (also when it vanished on its own before we got to it). */
                c->result = RECONCILE_RESULT_REMOVED;
                c->backoff = (ReconcileBackoff){ 0 };
                run->report->reaped++;
                if (en->have_backoff) {
                        r = store_reaper_backoff_delete(run->store, en->c.id);
                        if (r < 0 && r != -ENOENT)
                                store_write_failed(run, r, "clearing a backoff record");
                }
                r = store_container_update(run->store, en->c.id, NULL, CONTAINER_REMOVED);
                if (r == -ENOENT && en->c.name)
                        r = store_container_update(run->store, en->c.name, en->c.id, CONTAINER_REMOVED);
                if (r < 0 && r != -ENOENT)
                        store_write_failed(run, r, "recording a container as removed");
                return;
        }

        ReconcileBackoff next;
        bool newly = false;
        StoreReaperBackoff b;

        reconcile_backoff_failed(en->have_backoff ? &en->backoff : NULL, run->now, &next, &newly);
        c->result = RECONCILE_RESULT_FAILED;
        c->backoff = next;
        c->newly_quarantined = newly;
        free(c->error);
        c->error = strdup((err && err->code < 0 && err->message[0]) ? err->message : strerror(-r));
        run->report->failed++;
        b = (StoreReaperBackoff){ .container_id = (char *) en->c.id,
                                  .failures = next.failures,
                                  .next_attempt_at = next.next_attempt_usec,
                                  .quarantined = next.quarantined,
                                  .updated_at = run->now };
        r = store_reaper_backoff_put(run->store, &b);
        if (r < 0)
                store_write_failed(run, r, "recording a failed removal");
}

static void start_next(Run *run);

static void step_done(int r, const Error *err, void *userdata) {
        Entry *en = userdata;
        Run *run = en->ec.run;

        switch (en->step) {
        case STEP_STOP:
                if (r == -ENOENT)
                        break;
                /* A stop that failed or timed out escalates to SIGKILL; either way, remove. */
                en->step = r < 0 ? STEP_KILL : STEP_REMOVE;
                r = en->step == STEP_KILL
                            ? reconcile_engine_kill_async(run->engine, en->c.id, step_done, en)
                            : reconcile_engine_remove_async(run->engine, en->c.id, step_done, en);
                if (r >= 0)
                        return;
                break;
        case STEP_KILL:
                if (r == -ENOENT)
                        break;
                /* Kill may fail because it stopped meanwhile: remove (force) decides. */
                en->step = STEP_REMOVE;
                r = reconcile_engine_remove_async(run->engine, en->c.id, step_done, en);
                if (r >= 0)
                        return;
                break;
        case STEP_REMOVE:
                break;
        }
        removal_finished(run, en, r, err);
        run->in_flight--;
        start_next(run);
}

static void start_next(Run *run) {
        unsigned parallel = run->o->parallel ? run->o->parallel : RECONCILE_PARALLEL_DEFAULT;

        while (run->in_flight < parallel && run->next < run->n_entries) {
                Entry *en = &run->entries[run->next++];
                int r;

                if (en->decision.action != RECONCILE_REAP || !en->c.managed)
                        continue;
                en->ec.run = run;
                en->removing = true;
                if (en->c.running) {
                        en->step = STEP_STOP;
                        r = reconcile_engine_stop_async(run->engine, en->c.id, run->o->stop_timeout_secs,
                                                        step_done, en);
                } else {
                        en->step = STEP_REMOVE;
                        r = reconcile_engine_remove_async(run->engine, en->c.id, step_done, en);
                }
                if (r < 0) {
                        Error err = ERROR_INIT;
                        error_set(&err, r, "cannot start the removal: %s", strerror(-r));
                        removal_finished(run, en, r, &err);
                        continue;
                }
                run->in_flight++;
        }
}

static int remove_orphans(Run *run, Error *e) {
        start_next(run);
        return reconcile_engine_run_until_idle(run->engine, &run->in_flight, e);
}

/* ---- executions whose container is lost ---- */

static int mark_lost(Run *run, const char *execution_id, unsigned iteration, const char *container) {
        char payload[256];
        int r;

        if (run->o->dry_run || !run->o->fix_rows)
                return report_execution(run, execution_id, container, RECONCILE_RESULT_WOULD_MARK, NULL);

        r = store_execution_set_status(run->store, execution_id, EXECUTION_FAILED,
                                       RECONCILE_REASON_CONTAINER_LOST);
        if (r == -EALREADY || r == -ENOENT)
                return 0; /* it ended (or went) on its own meanwhile */
        if (r < 0) {
                store_write_failed(run, r, "marking an execution failed");
                return report_execution(run, execution_id, container, RECONCILE_RESULT_FAILED,
                                        run->store_e.message);
        }
        /* The iteration that was running ends with it; and the event stream says why. */
        if (iteration > 0) {
                StoreIteration it = { 0 };
                if (store_iteration_get(run->store, execution_id, iteration, &it) >= 0) {
                        if (it.status == ITERATION_RUNNING) {
                                it.status = ITERATION_FAILED;
                                free(it.reason);
                                it.reason = strdup(RECONCILE_REASON_CONTAINER_LOST);
                                it.finished_at = 0;
                                (void) store_iteration_update(run->store, &it);
                        }
                        store_iteration_done(&it);
                }
        }
        snprintf(payload, sizeof payload, "{\"status\":\"failed\",\"reason\":\"%s\"}",
                 RECONCILE_REASON_CONTAINER_LOST);
        (void) store_event_append(run->store, execution_id, "status", payload, NULL);
        return report_execution(run, execution_id, container, RECONCILE_RESULT_MARKED, NULL);
}

static bool listed(Run *run, const char *ref) {
        if (isempty(ref))
                return false;
        for (size_t i = 0; i < run->n_entries; i++)
                if (streq(run->entries[i].c.id, ref) || streq(run->entries[i].c.name, ref))
                        return true;
        return false;
}

/* Running executions whose recorded container does not exist at all. */
static int find_vanished(Run *run, Error *e) {
        StoreExecutionFilter f = STORE_EXECUTION_FILTER_INIT;
        _cleanup_free_ char *cursor = NULL;
        ReconcilePolicy policy = { .grace_usec = run->o->grace_usec };

        f.status = EXECUTION_RUNNING;
        f.summary = true;
        f.limit = STORE_LIST_MAX;
        for (;;) {
                StoreExecution *xs = NULL;
                size_t n = 0;
                char *next = NULL;
                int r;

                f.cursor = cursor;
                r = store_execution_list(run->store, &f, &xs, &n, &next);
                if (r < 0)
                        return store_fail(e, run->store, r, "listing running executions");
                for (size_t i = 0; i < n && r >= 0; i++) {
                        StoreExecution *x = &xs[i];
                        StoreContainer *rows = NULL;
                        size_t nr = 0;

                        if (x->claimed_by && x->lease_expires_at > run->now &&
                            !streq(x->claimed_by, run->o->owner))
                                continue; /* its supervisor is alive */
                        r = store_container_list(run->store, x->id, false, &rows, &nr);
                        if (r < 0) {
                                r = store_fail(e, run->store, r, "listing an execution's containers");
                                break;
                        }
                        if (nr > 0) {
                                StoreContainer *cur = &rows[nr - 1];
                                uint64_t since = MAX(cur->created_at, cur->updated_at);
                                bool present = listed(run, cur->name) || listed(run, cur->container_id);

                                if (!present && reconcile_execution_vanished(cur->name, since, NULL, 0,
                                                                             &policy, run->now)) {
                                        r = mark_lost(run, x->id, x->iteration,
                                                      cur->container_id ? cur->container_id : cur->name);
                                        if (r >= 0 && !run->o->dry_run) {
                                                (void) store_container_update(run->store, cur->name, NULL,
                                                                              CONTAINER_REMOVED);
                                        }
                                        if (r < 0)
                                                r = error_set(e, r, "out of memory");
                                }
                        }
                        store_container_array_free(rows, nr);
                }
                store_execution_array_free(xs, n);
                free(cursor);
                cursor = next;
                if (r < 0)
                        return r;
                if (!cursor)
                        return 0;
        }
}

static int fix_lost_rows(Run *run, Error *e) {
        for (size_t i = 0; i < run->n_entries; i++) {
                Entry *en = &run->entries[i];
                int r;

                if (!en->decision.execution_lost)
                        continue;
                r = mark_lost(run, en->c.execution_id, en->fact ? en->fact->iteration : 0, en->c.id);
                if (r < 0)
                        return error_set(e, r, "out of memory");
        }
        return find_vanished(run, e);
}

/* ---- the pass ---- */

void reconcile_options_from_config(const Config *config, ReconcileOptions *ret) {
        *ret = RECONCILE_OPTIONS_INIT;
        ret->grace_usec = config->reaper.grace_secs * USEC_PER_SEC;
        ret->stop_timeout_secs = config->runtime.stop_timeout_secs;
        ret->storage_root = config->storage.root;
}

int reconcile_run(PodmanClient *podman, Store *store, const ReconcileOptions *o, ReconcileReport **ret,
                  Error *e) {
        _cleanup_(reconcile_report_freep) ReconcileReport *rep = NULL;
        _cleanup_(reconcile_engine_freep) ReconcileEngine *engine = NULL;
        Run run = { .o = o, .podman = podman, .store = store };
        uint64_t t0 = now_usec(CLOCK_MONOTONIC);
        bool acted = false;
        int r;

        if (!podman || !store || !o || !ret)
                return error_set(e, -EINVAL, "reconcile_run: missing argument");

        rep = calloc(1, sizeof(*rep));
        if (!rep)
                return error_set(e, -ENOMEM, "out of memory");
        rep->dry_run = o->dry_run;
        rep->grace_usec = o->grace_usec;
        rep->started_usec = now_usec(CLOCK_REALTIME);
        run.now = o->now_usec ? o->now_usec : rep->started_usec;
        run.report = rep;

        r = reconcile_engine_new(podman_client_socket_path(podman), &engine, e);
        if (r < 0)
                return r;
        run.engine = engine;

        r = gather(&run, e);
        if (r >= 0 && store_schema_version(store) == 0) {
                /* No schema, and nothing labelled (else gather() refused): nothing to do. */
                run_done(&run);
                rep->duration_usec = now_usec(CLOCK_MONOTONIC) - t0;
                *ret = TAKE_PTR(rep);
                return 0;
        }
        if (r >= 0)
                r = plan(&run) < 0 ? error_set(e, -ENOMEM, "out of memory") : 0;
        if (r >= 0)
                r = report_containers(&run) < 0 ? error_set(e, -ENOMEM, "out of memory") : 0;
        if (r >= 0 && !o->dry_run) {
                acted = true;
                r = remove_orphans(&run, e);
        }
        if (r >= 0)
                r = fix_lost_rows(&run, e);
        if (r >= 0 && o->storage_root)
                r = reconcile_expire_volumes(store, o->storage_root, o->dry_run, run.now, rep, e);
        /* After the containers and expired volumes: what they held is free now. */
        if (r >= 0)
                r = reconcile_engine_volumes(podman, store, o, run.now, rep, e);
        if (r >= 0 && run.store_r < 0) {
                r = run.store_r;
                if (e)
                        *e = run.store_e;
        }
        for (size_t i = 0; i < rep->n_containers; i++)
                if (rep->containers[i].backoff.quarantined)
                        rep->quarantined++;
        run_done(&run);
        rep->duration_usec = now_usec(CLOCK_MONOTONIC) - t0;
        if (r < 0 && !acted)
                return r;
        *ret = TAKE_PTR(rep);
        return r < 0 ? r : 0;
}
