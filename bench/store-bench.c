/* store-bench.c — figures for the execution store: what one execution costs in store calls.
 *
 * Usage: store-bench URL [N]. Runs N whole execution lifecycles as the supervisor writes them
 * (create, claim, record container, running, iteration begin + update, 10 events, output,
 * completed, container removed), then lists every page of executions and reads every event
 * history, and prints per-operation and per-lifecycle wall times. Not a test: prints figures. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "util.h"

static double ms_since(uint64_t t0) {
        return (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1000.0;
}

static int die(Store *s, const char *what, int r) {
        fprintf(stderr, "store-bench: %s: %s (%s)\n", what, strerror(-r), s ? store_last_error(s) : "");
        return 1;
}

int main(int argc, char **argv) {
        Error e = ERROR_INIT;
        Store *s = NULL;
        unsigned n = 1000;
        int r;

        if (argc < 2 || (argc > 2 && safe_atou(argv[2], &n) < 0) || n == 0) {
                fprintf(stderr, "usage: store-bench URL [N]\n");
                return 2;
        }
        uint64_t t0 = now_usec(CLOCK_MONOTONIC);
        r = store_open(argv[1], &e, &s);
        if (r < 0) {
                fprintf(stderr, "store-bench: %s\n", e.message);
                return 1;
        }
        double open_ms = ms_since(t0);

        char(*ids)[UUID_STRING_MAX] = calloc(n, UUID_STRING_MAX);
        if (!ids)
                return die(s, "calloc", -ENOMEM);

        t0 = now_usec(CLOCK_MONOTONIC);
        for (unsigned i = 0; i < n; i++) {
                StoreExecution x = { .agent_name = (char *) "bench",
                                     .input_json = (char *) "{\"n\":1}",
                                     .manifest_json = (char *) "{\"kind\":\"Agent\"}",
                                     .max_iterations = 1 };
                if ((r = store_execution_create(s, &x)) < 0)
                        return die(s, "create", r);
                memcpy(ids[i], x.id, UUID_STRING_MAX);
        }
        double create_ms = ms_since(t0);

        t0 = now_usec(CLOCK_MONOTONIC);
        for (unsigned i = 0; i < n; i++) {
                StoreExecution c = {};
                if ((r = store_execution_claim(s, "bench", 60 * USEC_PER_SEC, &c)) <= 0)
                        return die(s, "claim", r ?: -ENOENT);
                store_execution_done(&c);
        }
        double claim_ms = ms_since(t0);

        t0 = now_usec(CLOCK_MONOTONIC);
        for (unsigned i = 0; i < n; i++) {
                char name[64];
                snprintf(name, sizeof name, "aegis-agent-%s", ids[i]);
                if ((r = store_container_record(s, name, ids[i], 1)) < 0)
                        return die(s, "container_record", r);
                if ((r = store_execution_set_status(s, ids[i], EXECUTION_RUNNING, NULL)) < 0)
                        return die(s, "running", r);
                if ((r = store_iteration_begin(s, ids[i], 1)) < 0)
                        return die(s, "iteration_begin", r);
                if ((r = store_container_update(s, name, ids[i], CONTAINER_RUNNING)) < 0)
                        return die(s, "container_update", r);
                for (int k = 0; k < 10; k++)
                        if ((r = store_event_append(s, ids[i], "log", "{\"line\":\"hello\"}", NULL)) < 0)
                                return die(s, "event_append", r);
                StoreIteration it = { .number = 1,
                                      .status = ITERATION_SUCCEEDED,
                                      .exit_code = 0,
                                      .stdout_text = (char *) "hello\n" };
                memcpy(it.execution_id, ids[i], UUID_STRING_MAX);
                if ((r = store_iteration_update(s, &it)) < 0)
                        return die(s, "iteration_update", r);
                if ((r = store_execution_set_output(s, ids[i], "hello\n")) < 0)
                        return die(s, "set_output", r);
                if ((r = store_execution_set_status(s, ids[i], EXECUTION_COMPLETED, "ok")) < 0)
                        return die(s, "completed", r);
                if ((r = store_container_update(s, name, NULL, CONTAINER_REMOVED)) < 0)
                        return die(s, "container_removed", r);
        }
        double run_ms = ms_since(t0);

        t0 = now_usec(CLOCK_MONOTONIC);
        size_t pages = 0, rows = 0;
        _cleanup_free_ char *cursor = NULL;
        do {
                StoreExecutionFilter f = STORE_EXECUTION_FILTER_INIT;
                StoreExecution *list = NULL;
                size_t k = 0;
                char *next = NULL;
                f.limit = 100;
                f.cursor = cursor;
                f.summary = true;
                if ((r = store_execution_list(s, &f, &list, &k, &next)) < 0)
                        return die(s, "list", r);
                store_execution_array_free(list, k);
                free(cursor);
                cursor = next;
                pages++;
                rows += k;
        } while (cursor);
        double list_ms = ms_since(t0);

        t0 = now_usec(CLOCK_MONOTONIC);
        for (unsigned i = 0; i < n; i++) {
                StoreEvent *evs = NULL;
                size_t k = 0;
                if ((r = store_event_list(s, ids[i], 0, 0, &evs, &k)) < 0)
                        return die(s, "event_list", r);
                store_event_array_free(evs, k);
        }
        double events_ms = ms_since(t0);

        printf("store-bench %s (%s), %u executions\n", store_backend(s), argv[1], n);
        printf("  open+migrate          %8.2f ms\n", open_ms);
        printf("  create                %8.3f ms/op\n", create_ms / n);
        printf("  claim (SKIP LOCKED)   %8.3f ms/op\n", claim_ms / n);
        printf("  lifecycle (18 writes) %8.3f ms/execution  (%.0f executions/s)\n", run_ms / n,
               n / (run_ms / 1000.0));
        printf("  list %zu rows in %zu pages  %8.2f ms\n", rows, pages, list_ms);
        printf("  event history (10)    %8.3f ms/execution\n", events_ms / n);
        free(ids);
        store_close(s);
        return 0;
}
