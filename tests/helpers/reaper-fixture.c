/* reaper-fixture — writes and reads the store rows the reaper tests need, through the
 * store API (so the rows are exactly what aegisd would write):
 *
 *   reaper-fixture URL execution ID pending|running|completed|failed|cancelled [CONTAINER_NAME]
 *       an execution in that status; running/completed go through a container row named
 *       CONTAINER_NAME (iteration 1), as the store's invariant 2 requires
 *   reaper-fixture URL container-id NAME PODMAN_ID     record Podman's id for a container row
 *   reaper-fixture URL claim ID OWNER LEASE_SECS       claim an execution (a live supervisor)
 *   reaper-fixture URL status ID                       prints "STATUS REASON"
 *   reaper-fixture URL backoff CONTAINER_ID            prints "FAILURES QUARANTINED" or "none"
 *   reaper-fixture URL backoff-set CONTAINER_ID FAILURES NEXT_ATTEMPT_IN_SECS
 *       writes a backoff record (quarantined from 5 failures on), as earlier runs would have
 *   reaper-fixture URL volume TENANT ephemeral|persistent EXPIRES_IN_SECS [OWNER_EXECUTION]
 *       a volume row (EXPIRES_IN_SECS may be negative: already expired; 0: never); prints its id
 *   reaper-fixture URL volume-status ID                prints "active", "deleted" or "gone"
 *   reaper-fixture URL schema                          prints "found N now M" (the schema
 *       version before and after this open: creates a daemon's store where there was none) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store.h"
#include "util.h"

static int die(const char *what, Store *s, int r) {
        fprintf(stderr, "reaper-fixture: %s: %s (%s)\n", what, strerror(-r), s ? store_last_error(s) : "");
        return 1;
}

int main(int argc, char **argv) {
        _cleanup_(store_closep) Store *s = NULL;
        Error e = ERROR_INIT;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: reaper-fixture URL COMMAND ARGS...\n");
                return 2;
        }
        r = store_open(argv[1], &e, &s);
        if (r < 0) {
                fprintf(stderr, "reaper-fixture: %s\n", e.message);
                return 1;
        }
        const char *cmd = argv[2];

        if (streq(cmd, "execution") && argc >= 5) {
                StoreExecution x = { 0 };
                ExecutionStatus to = execution_status_from_string(argv[4]);
                if (to == _EXECUTION_STATUS_INVALID || strlen(argv[3]) >= sizeof x.id)
                        return die("bad status or id", s, -EINVAL);
                snprintf(x.id, sizeof x.id, "%s", argv[3]);
                x.agent_name = (char *) "fixture";
                x.input_json = (char *) "{}";
                x.manifest_json = (char *) "{}";
                x.max_iterations = 1;
                r = store_execution_create(s, &x);
                x.agent_name = x.input_json = x.manifest_json = NULL;
                store_execution_done(&x);
                if (r < 0)
                        return die("create execution", s, r);
                if (to == EXECUTION_PENDING)
                        return 0;
                if (to == EXECUTION_RUNNING || to == EXECUTION_COMPLETED) {
                        const char *name = argc >= 6 ? argv[5] : "fixture-container";
                        r = store_container_record(s, name, argv[3], 1);
                        if (r < 0)
                                return die("record container", s, r);
                        r = store_execution_set_status(s, argv[3], EXECUTION_RUNNING, NULL);
                        if (r < 0)
                                return die("set running", s, r);
                        r = store_iteration_begin(s, argv[3], 1);
                        if (r < 0)
                                return die("begin iteration", s, r);
                        if (to == EXECUTION_RUNNING)
                                return 0;
                }
                r = store_execution_set_status(s, argv[3], to, to == EXECUTION_COMPLETED ? NULL : "fixture");
                return r < 0 ? die("set status", s, r) : 0;
        }
        if (streq(cmd, "container-id") && argc >= 5) {
                r = store_container_update(s, argv[3], argv[4], CONTAINER_RUNNING);
                return r < 0 ? die("update container", s, r) : 0;
        }
        if (streq(cmd, "claim") && argc >= 6) {
                uint64_t secs;
                if (safe_atou64(argv[5], &secs) < 0)
                        return die("lease", s, -EINVAL);
                r = store_execution_claim_id(s, argv[3], argv[4], secs * USEC_PER_SEC);
                return r < 0 ? die("claim", s, r) : 0;
        }
        if (streq(cmd, "status") && argc >= 4) {
                StoreExecution x = { 0 };
                r = store_execution_get(s, argv[3], &x);
                if (r < 0)
                        return die("get execution", s, r);
                printf("%s %s\n", execution_status_to_string(x.status), x.reason ? x.reason : "-");
                store_execution_done(&x);
                return 0;
        }
        if (streq(cmd, "schema")) {
                /* Opening created the schema when there was none: a daemon's store. */
                printf("found %u now %u\n", store_schema_found(s), store_schema_version(s));
                return 0;
        }
        if (streq(cmd, "backoff") && argc >= 4) {
                StoreReaperBackoff b = { 0 };
                r = store_reaper_backoff_get(s, argv[3], &b);
                if (r == -ENOENT) {
                        puts("none");
                        return 0;
                }
                if (r < 0)
                        return die("get backoff", s, r);
                printf("%u %s\n", b.failures, b.quarantined ? "quarantined" : "-");
                store_reaper_backoff_done(&b);
                return 0;
        }
        if (streq(cmd, "backoff-set") && argc >= 6) {
                StoreReaperBackoff b = { .container_id = argv[3] };
                int64_t in;
                if (safe_atou(argv[4], &b.failures) < 0 || safe_atoi64(argv[5], &in) < 0)
                        return die("failures / next attempt", s, -EINVAL);
                b.next_attempt_at =
                        (uint64_t) ((int64_t) now_usec(CLOCK_REALTIME) + in * (int64_t) USEC_PER_SEC);
                b.quarantined = b.failures >= 5;
                b.updated_at = now_usec(CLOCK_REALTIME);
                r = store_reaper_backoff_put(s, &b);
                return r < 0 ? die("put backoff", s, r) : 0;
        }
        if (streq(cmd, "volume") && argc >= 6) {
                StoreVolume v = { 0 };
                int64_t in;
                if (safe_atoi64(argv[5], &in) < 0)
                        return die("expiry", s, -EINVAL);
                v.tenant_id = argv[3];
                v.name = (char *) "fixture";
                v.storage_class = volume_storage_class_from_string(argv[4]);
                v.access_mode = VOLUME_READ_WRITE;
                v.uid = v.gid = 1000;
                v.owner_execution_id = argc >= 7 ? argv[6] : NULL;
                v.expires_at = in == 0 ? 0
                                       : (uint64_t) ((int64_t) now_usec(CLOCK_REALTIME) +
                                                     in * (int64_t) USEC_PER_SEC);
                r = store_volume_create(s, &v);
                if (r < 0)
                        return die("create volume", s, r);
                puts(v.id);
                return 0;
        }
        if (streq(cmd, "volume-status") && argc >= 4) {
                StoreVolume v = { 0 };
                r = store_volume_get(s, NULL, argv[3], &v);
                if (r == -ENOENT) {
                        puts("gone");
                        return 0;
                }
                if (r < 0)
                        return die("get volume", s, r);
                puts(volume_status_to_string(v.status));
                store_volume_done(&v);
                return 0;
        }
        fprintf(stderr, "reaper-fixture: unknown command or missing arguments: %s\n", cmd);
        return 2;
}
