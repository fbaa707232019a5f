/* seed.c — fills a store with N finished executions for bench/api, through the store API
 * (the same path aegisd takes), and prints the id of one of them (the middle one).
 *
 *   bench-api-seed URL N */
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "util.h"

static int seed_one(Store *s, unsigned i, char ret_id[UUID_STRING_MAX]) {
        StoreExecution x = { .agent_name = (char *) "bench",
                             .input_json = (char *) "{\"n\":1}",
                             .manifest_json = (char *) "{\"spec\":{}}",
                             .max_iterations = 1 };
        char name[64];
        int r;

        r = store_execution_create(s, &x);
        if (r < 0)
                return r;
        (void) snprintf(name, sizeof name, "aegis-bench-%u", i);
        if ((r = store_execution_claim_id(s, x.id, "bench", 60 * USEC_PER_SEC)) < 0 ||
            (r = store_iteration_begin(s, x.id, 1)) < 0 ||
            (r = store_container_record(s, name, x.id, 1)) < 0 ||
            (r = store_execution_set_status(s, x.id, EXECUTION_RUNNING, NULL)) < 0 ||
            (r = store_container_update(s, name, NULL, CONTAINER_REMOVED)) < 0)
                return r;
        StoreIteration it = { .number = 1,
                              .status = ITERATION_SUCCEEDED,
                              .exit_code = 0,
                              .stdout_text = (char *) "hello from the bench\n" };
        memcpy(it.execution_id, x.id, sizeof it.execution_id);
        if ((r = store_iteration_update(s, &it)) < 0 ||
            (r = store_execution_set_output(s, x.id, "hello from the bench\n")) < 0 ||
            (r = store_execution_set_status(s, x.id, EXECUTION_COMPLETED, "succeeded")) < 0)
                return r;
        memcpy(ret_id, x.id, UUID_STRING_MAX);
        return 0;
}

int main(int argc, char **argv) {
        _cleanup_(store_closep) Store *s = NULL;
        char id[UUID_STRING_MAX] = "", middle[UUID_STRING_MAX] = "";
        Error e = ERROR_INIT;
        unsigned n;
        int r;

        if (argc != 3 || safe_atou(argv[2], &n) < 0 || n == 0) {
                fprintf(stderr, "usage: %s STORE-URL COUNT\n", argv[0]);
                return 2;
        }
        r = store_open(argv[1], &e, &s);
        if (r < 0) {
                fprintf(stderr, "store_open: %s\n", e.message);
                return 1;
        }
        for (unsigned i = 0; i < n; i++) {
                r = seed_one(s, i, id);
                if (r < 0) {
                        fprintf(stderr, "seeding execution %u: %s (%s)\n", i, strerror(-r),
                                store_last_error(s));
                        return 1;
                }
                if (i == n / 2)
                        memcpy(middle, id, sizeof middle);
        }
        puts(middle);
        return 0;
}
