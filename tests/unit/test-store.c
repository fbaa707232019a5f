/* test-store.c — the store suite, run unchanged against both backends.
 *
 * Every test runs twice: once on SQLite in a fresh temporary directory, once on PostgreSQL in a
 * fresh database of the real server that tests/integration/test-store.sh starts (it passes
 * AEGIS_TEST_PG_PORT). Without that server the PostgreSQL half skips loudly, and fails in CI. */
#include <check.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "store-internal.h"
#include "store.h"
#include "util.h"
#include "test-main.h"

static char test_url[512];
static char test_dir[256];
static char pg_db[64];
static bool on_pg;

/* ---- fixtures ---- */

static void setup_sqlite(void) {
        char tmpl[] = "/tmp/aegis-store-test.XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(tmpl));
        snprintf(test_dir, sizeof test_dir, "%s", tmpl);
        snprintf(test_url, sizeof test_url, "sqlite://%s/aegis.db", test_dir);
        on_pg = false;
}

static void teardown_sqlite(void) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
        (void) !system(cmd);
}

static void pg_admin(const char *sql) {
        char conninfo[256];
        snprintf(conninfo, sizeof conninfo, "host=127.0.0.1 port=%s user=aegis dbname=postgres",
                 getenv("AEGIS_TEST_PG_PORT"));
        PGconn *c = PQconnectdb(conninfo);
        ck_assert_msg(PQstatus(c) == CONNECTION_OK, "admin connection: %s", PQerrorMessage(c));
        PGresult *res = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK,
                      "%s: %s", sql, PQerrorMessage(c));
        PQclear(res);
        PQfinish(c);
}

static void setup_pg(void) {
        char sql[128];
        snprintf(pg_db, sizeof pg_db, "t_%d", (int) getpid());
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", pg_db);
        pg_admin(sql);
        snprintf(test_url, sizeof test_url, "postgresql://aegis@127.0.0.1:%s/%s",
                 getenv("AEGIS_TEST_PG_PORT"), pg_db);
        on_pg = true;
}

static void teardown_pg(void) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_db);
        pg_admin(sql);
}

static Store *open_store(void) {
        Error e = ERROR_INIT;
        Store *s = NULL;
        int r = store_open(test_url, &e, &s);
        ck_assert_msg(r == 0, "store_open(%s): %d %s", test_url, r, e.message);
        return s;
}

/* A pending execution with recognisable fields; returns its id in ret. */
static void make_execution(Store *s, const char *tenant, char ret[UUID_STRING_MAX]) {
        StoreExecution x = {
                .agent_name = (char *) "hello",
                .tenant_id = (char *) tenant,
                .input_json = (char *) "{\"n\":1}",
                .manifest_json = (char *) "{\"kind\":\"Agent\"}",
                .max_iterations = 3,
        };
        ck_assert_int_eq(store_execution_create(s, &x), 0);
        memcpy(ret, x.id, UUID_STRING_MAX);
}

/* Pending → running the only allowed way: container row first. */
static void make_running(Store *s, char ret[UUID_STRING_MAX]) {
        char name[128];
        make_execution(s, NULL, ret);
        snprintf(name, sizeof name, "aegis-agent-%s", ret);
        ck_assert_int_eq(store_container_record(s, name, ret, 1), 0);
        ck_assert_int_eq(store_execution_set_status(s, ret, EXECUTION_RUNNING, NULL), 0);
}

/* ---- connection and migrations ---- */

static unsigned progress_calls, progress_last;
static void on_progress(unsigned version, unsigned target, void *userdata) {
        progress_calls++;
        progress_last = version;
        ck_assert_uint_eq(target, store_schema_version_latest());
        ck_assert_ptr_eq(userdata, &progress_calls);
}

START_TEST(test_open_applies_migrations_once_and_is_idempotent) {
        Error e = ERROR_INIT;
        Store *s = NULL;

        progress_calls = 0;
        ck_assert_int_eq(store_open_full(test_url, on_progress, &progress_calls, &e, &s), 0);
        ck_assert_uint_eq(progress_calls, store_schema_version_latest());
        ck_assert_uint_eq(progress_last, store_schema_version_latest());
        ck_assert_uint_eq(store_schema_version(s), store_schema_version_latest());
        ck_assert_str_eq(store_backend(s), on_pg ? "postgresql" : "sqlite");
        ck_assert_int_eq(store_ping(s, &e), 0);
        char id[UUID_STRING_MAX];
        make_execution(s, NULL, id);
        s = store_close(s);

        /* Second open: nothing to migrate, data intact. */
        progress_calls = 0;
        ck_assert_int_eq(store_open_full(test_url, on_progress, &progress_calls, &e, &s), 0);
        ck_assert_uint_eq(progress_calls, 0);
        ck_assert_uint_eq(store_schema_version(s), store_schema_version_latest());
        StoreExecution x = {};
        ck_assert_int_eq(store_execution_get(s, id, &x), 0);
        store_execution_done(&x);
        store_close(s);
}
END_TEST

/* store_schema_found(): what the database was at before this open. store_open_existing()
 * leaves a database without the schema without it (aegis-reaper on a store nobody created:
 * the next run must see it new again), and opens one with the schema as store_open() does. */
START_TEST(test_open_existing_leaves_a_new_database_without_a_schema) {
        Error e = ERROR_INIT;
        Store *s = NULL;
        char id[UUID_STRING_MAX];

        for (int i = 0; i < 2; i++) {
                ck_assert_int_eq(store_open_existing(test_url, &e, &s), 0);
                ck_assert_uint_eq(store_schema_found(s), 0);
                ck_assert_uint_eq(store_schema_version(s), 0);
                ck_assert_str_eq(store_url(s), test_url);
                s = store_close(s);
        }

        /* A daemon's open creates it, and says so once. */
        s = open_store();
        ck_assert_uint_eq(store_schema_found(s), 0);
        ck_assert_uint_eq(store_schema_version(s), store_schema_version_latest());
        make_execution(s, NULL, id);
        s = store_close(s);
        s = open_store();
        ck_assert_uint_eq(store_schema_found(s), store_schema_version_latest());
        s = store_close(s);

        ck_assert_int_eq(store_open_existing(test_url, &e, &s), 0);
        ck_assert_uint_eq(store_schema_found(s), store_schema_version_latest());
        ck_assert_uint_eq(store_schema_version(s), store_schema_version_latest());
        StoreExecution x = {};
        ck_assert_int_eq(store_execution_get(s, id, &x), 0);
        store_execution_done(&x);
        store_close(s);
}
END_TEST

/* store_open_read_only() (aegis doctor): creates no file and no schema, migrates nothing, and
 * refuses writes; a store aegisd made reads as it is. */
START_TEST(test_open_read_only_creates_and_writes_nothing) {
        Error e = ERROR_INIT;
        Store *s = NULL;
        char id[UUID_STRING_MAX];

        if (!on_pg) {
                ck_assert_int_eq(store_open_read_only(test_url, &e, &s), -ENOENT);
                ck_assert_str_eq(e.field, "database.url");
                ck_assert(store_url_names_missing_file(test_url));
                ck_assert_int_eq(store_open_existing(test_url, &e, &s), 0); /* an empty file */
                s = store_close(s);
        }
        for (int i = 0; i < 2; i++) {
                ck_assert_int_eq(store_open_read_only(test_url, &e, &s), 0);
                ck_assert_uint_eq(store_schema_found(s), 0);
                ck_assert_uint_eq(store_schema_version(s), 0);
                ck_assert_str_eq(store_id(s), "");
                s = store_close(s);
        }

        s = open_store();
        ck_assert_uint_eq(store_schema_found(s), 0); /* the read-only opens left no schema behind */
        make_execution(s, NULL, id);
        s = store_close(s);

        ck_assert_int_eq(store_open_read_only(test_url, &e, &s), 0);
        ck_assert_uint_eq(store_schema_version(s), store_schema_version_latest());
        ck_assert_str_ne(store_id(s), "");
        StoreExecution x = {};
        ck_assert_int_eq(store_execution_get(s, id, &x), 0);
        store_execution_done(&x);
        ck_assert_int_lt(store_execution_delete(s, id), 0);
        s = store_close(s);
        s = open_store();
        ck_assert_int_eq(store_execution_get(s, id, &x), 0);
        store_execution_done(&x);
        store_close(s);
}
END_TEST

START_TEST(test_open_extends_the_start_timeout_while_migrating) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        Error e = ERROR_INIT;
        Store *s = NULL;
        char buf[512];

        ck_assert_int_ge(fd, 0);
        snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/aegis-store-notify.%d", (int) getpid());
        (void) unlink(sa.sun_path);
        ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ck_assert_int_eq(setenv("NOTIFY_SOCKET", sa.sun_path, 1), 0);
        ck_assert_int_eq(store_open_full(test_url, store_progress_sd_notify, NULL, &e, &s), 0);
        unsetenv("NOTIFY_SOCKET");
        ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        (void) unlink(sa.sun_path);
        ck_assert_int_gt(n, 0);
        buf[n] = 0;
        ck_assert_msg(startswith(buf, "EXTEND_TIMEOUT_USEC=60000000\nSTATUS=Migrating the database schema "
                                      "to version 1 of"),
                      "got: %s", buf);
        store_close(s);
}
END_TEST

START_TEST(test_open_from_many_processes_at_once_migrates_once) {
        pid_t pids[4];
        for (size_t i = 0; i < ELEMENTSOF(pids); i++) {
                pids[i] = fork();
                ck_assert_int_ge(pids[i], 0);
                if (pids[i] == 0) {
                        Error e = ERROR_INIT;
                        Store *s = NULL;
                        int r = store_open(test_url, &e, &s);
                        if (r < 0)
                                fprintf(stderr, "child open: %s\n", e.message);
                        store_close(s);
                        _exit(r < 0 ? 1 : 0);
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(pids); i++) {
                int status;
                ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
                ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        Store *s = open_store();
        ck_assert_uint_eq(store_schema_version(s), store_schema_version_latest());
        store_close(s);
}
END_TEST

START_TEST(test_open_rejects_bad_urls_naming_the_field) {
        Error e = ERROR_INIT;
        Store *s = NULL;

        ck_assert_int_eq(store_open("", &e, &s), -EINVAL);
        ck_assert_str_eq(e.field, "database.url");
        ck_assert_int_eq(store_open("mysql://root:hunter2@db/aegis", &e, &s), -EINVAL);
        ck_assert_ptr_nonnull(strstr(e.message, "unsupported scheme"));
        ck_assert_ptr_null(strstr(e.message, "hunter2"));
        ck_assert_int_eq(store_open("sqlite://", &e, &s), -EINVAL);
        ck_assert_int_lt(store_open("sqlite:///nonexistent-dir/x/aegis.db", &e, &s), 0);
        ck_assert_ptr_nonnull(strstr(e.message, "/nonexistent-dir/x/aegis.db"));
        ck_assert_str_eq(e.field, "database.url");
        /* A server that is not there: refused quickly, password not shown. */
        ck_assert_int_eq(store_open("postgresql://aegis:hunter2@127.0.0.1:1/aegis", &e, &s), -ECONNREFUSED);
        ck_assert_ptr_null(strstr(e.message, "hunter2"));
        ck_assert_ptr_nonnull(strstr(e.message, "postgresql://aegis:***@127.0.0.1:1/aegis"));
        ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_url_redact_hides_passwords) {
        struct {
                const char *in, *out;
        } cases[] = {
                { "postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db" },
                { "postgres://u@h/db", "postgres://u@h/db" },
                { "postgresql://h/db?user=u&password=pw&sslmode=require",
                  "postgresql://h/db?user=u&password=***&sslmode=require" },
                { "postgresql://u:p@ss@h/db", "postgresql://u:***@h/db" },
                { "sqlite:///var/lib/aegis/aegis.db", "sqlite:///var/lib/aegis/aegis.db" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *r = store_url_redact(cases[i].in);
                ck_assert_str_eq(r, cases[i].out);
        }
        _cleanup_free_ char *d = store_default_url("/var/lib/aegis");
        ck_assert_str_eq(d, "sqlite:///var/lib/aegis/aegis.db");
}
END_TEST

START_TEST(test_enum_strings_round_trip) {
        for (int i = 0; i < _EXECUTION_STATUS_MAX; i++)
                ck_assert_int_eq(execution_status_from_string(execution_status_to_string(i)), i);
        ck_assert_int_eq(execution_status_from_string("bogus"), _EXECUTION_STATUS_INVALID);
        ck_assert_ptr_null(execution_status_to_string(_EXECUTION_STATUS_MAX));
        ck_assert(execution_status_is_terminal(EXECUTION_CANCELLED));
        ck_assert(!execution_status_is_terminal(EXECUTION_RUNNING));
        ck_assert_str_eq(volume_access_mode_to_string(VOLUME_READ_ONLY), "read-only");
        ck_assert_int_eq(volume_storage_class_from_string("persistent"), VOLUME_PERSISTENT);
        ck_assert_int_eq(container_state_from_string("removed"), CONTAINER_REMOVED);
        ck_assert_int_eq(iteration_status_from_string("succeeded"), ITERATION_SUCCEEDED);
}
END_TEST

/* A database left at schema version `version` by an older aegis, via the backend directly. */
static void make_old_database(unsigned version, bool with_row) {
        const StoreBackendOps *ops = on_pg ? &store_pg_ops : &store_sqlite_ops;
        Store raw = { .ops = ops };
        Error e = ERROR_INIT;
        char path[512];

        snprintf(path, sizeof path, "%s/aegis.db", test_dir);
        raw.url_redacted = (char *) test_url;
        ck_assert_int_eq(ops->connect(&raw, on_pg ? test_url : path, &e), 0);
        ck_assert_int_eq(ops->exec_script(&raw, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                                                "applied_at BIGINT NOT NULL)"),
                         0);
        for (unsigned v = 1; v <= version; v++) {
                if (v <= ops->n_migrations)
                        ck_assert_msg(ops->exec_script(&raw, ops->migrations[v - 1]) == 0, "%s",
                                      raw.last_error);
                ck_assert_int_eq(ops->exec(&raw, "INSERT INTO schema_version VALUES (?, 1)",
                                           (const StoreParam[]){ P_INT(v) }, 1, NULL, NULL),
                                 0);
        }
        if (with_row)
                ck_assert_msg(ops->exec_script(
                                      &raw, "INSERT INTO executions (id, tenant_id, status, max_iterations, "
                                            "created_at, updated_at) VALUES ('old-1', 'default', "
                                            "'completed', 1, 1, 1)") == 0,
                              "%s", raw.last_error);
        ops->disconnect(&raw);
}

START_TEST(test_open_upgrades_a_version_1_database_keeping_its_rows) {
        Error e = ERROR_INIT;
        Store *s = NULL;

        make_old_database(1, true);
        progress_calls = 0;
        ck_assert_int_eq(store_open_full(test_url, on_progress, &progress_calls, &e, &s), 0);
        ck_assert_uint_eq(progress_calls, store_schema_version_latest() - 1);
        ck_assert_uint_eq(store_schema_version(s), store_schema_version_latest());
        StoreExecution g = {};
        ck_assert_int_eq(store_execution_get(s, "old-1", &g), 0);
        ck_assert_int_eq(g.status, EXECUTION_COMPLETED);
        store_execution_done(&g);
        store_close(s);
}
END_TEST

static bool is_uuid(const char *s) {
        if (strlen(s) != UUID_STRING_MAX - 1)
                return false;
        for (size_t i = 0; s[i]; i++)
                if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-'
                                                            : !strchr("0123456789abcdef", s[i]))
                        return false;
        return true;
}

/* The store's identity: made with the schema, the same at every later open; a store upgraded
 * from version 2 (before identities) gets one; a store left without a schema has none. */
START_TEST(test_store_id_is_made_with_the_schema_and_kept) {
        Error e = ERROR_INIT;
        Store *s = NULL;
        char first[UUID_STRING_MAX];

        ck_assert_int_eq(store_open_existing(test_url, &e, &s), 0);
        ck_assert_str_eq(store_id(s), "");
        s = store_close(s);

        s = open_store();
        ck_assert_msg(is_uuid(store_id(s)), "not a UUID: \"%s\"", store_id(s));
        snprintf(first, sizeof first, "%s", store_id(s));
        s = store_close(s);
        s = open_store();
        ck_assert_str_eq(store_id(s), first);
        s = store_close(s);
        ck_assert_int_eq(store_open_existing(test_url, &e, &s), 0);
        ck_assert_str_eq(store_id(s), first);
        store_close(s);
}
END_TEST

START_TEST(test_store_id_is_given_to_a_version_2_database_on_upgrade) {
        Error e = ERROR_INIT;
        Store *s = NULL;
        char first[UUID_STRING_MAX];

        make_old_database(2, true);
        ck_assert_int_eq(store_open(test_url, &e, &s), 0);
        ck_assert_uint_eq(store_schema_found(s), 2);
        ck_assert_msg(is_uuid(store_id(s)), "not a UUID: \"%s\"", store_id(s));
        snprintf(first, sizeof first, "%s", store_id(s));
        StoreExecution g = {};
        ck_assert_int_eq(store_execution_get(s, "old-1", &g), 0);
        store_execution_done(&g);
        s = store_close(s);
        s = open_store();
        ck_assert_str_eq(store_id(s), first);
        store_close(s);
}
END_TEST

START_TEST(test_open_refuses_a_database_newer_than_this_build) {
        Error e = ERROR_INIT;
        Store *s = NULL;

        make_old_database(store_schema_version_latest() + 1, false);
        ck_assert_int_eq(store_open(test_url, &e, &s), -EPROTONOSUPPORT);
        ck_assert_ptr_nonnull(strstr(e.message, "newer than this aegis knows"));
        ck_assert_str_eq(e.field, "database.url");
        ck_assert_ptr_null(s);
}
END_TEST

/* ---- agents ---- */

START_TEST(test_agents_put_get_list_delete) {
        Store *s = open_store();
        char id1[UUID_STRING_MAX], id2[UUID_STRING_MAX], id1b[UUID_STRING_MAX];
        StoreAgent a = {};

        ck_assert_int_eq(store_agent_put(s, "default", "hello", "1.0", "{\"v\":1}", id1), 0);
        usleep(2000);
        ck_assert_int_eq(store_agent_put(s, "default", "hello", "2.0", "{\"v\":2}", id2), 0);
        ck_assert_str_ne(id1, id2);

        /* By name: the most recently deployed version. */
        ck_assert_int_eq(store_agent_get(s, NULL, "hello", NULL, &a), 0);
        ck_assert_str_eq(a.version, "2.0");
        ck_assert_str_eq(a.id, id2);
        store_agent_done(&a);
        ck_assert_int_eq(store_agent_get(s, NULL, "hello", "1.0", &a), 0);
        ck_assert_str_eq(a.manifest_json, "{\"v\":1}");
        store_agent_done(&a);
        ck_assert_int_eq(store_agent_get(s, NULL, id1, NULL, &a), 0);
        ck_assert_str_eq(a.version, "1.0");
        store_agent_done(&a);

        /* Redeploying a name+version replaces the manifest and keeps the id. */
        usleep(2000);
        ck_assert_int_eq(store_agent_put(s, "default", "hello", "1.0", "{\"v\":11}", id1b), 0);
        ck_assert_str_eq(id1, id1b);
        ck_assert_int_eq(store_agent_get(s, NULL, "hello", NULL, &a), 0);
        ck_assert_str_eq(a.manifest_json, "{\"v\":11}");
        ck_assert_uint_gt(a.updated_at, a.created_at);
        store_agent_done(&a);

        StoreAgent *list = NULL;
        size_t n = 0;
        ck_assert_int_eq(store_agent_list(s, NULL, &list, &n), 0);
        ck_assert_uint_eq(n, 2);
        store_agent_array_free(list, n);

        ck_assert_int_eq(store_agent_get(s, NULL, "nope", NULL, &a), -ENOENT);
        ck_assert_int_eq(store_agent_put(s, "default", "", "1", "{}", NULL), -EINVAL);
        ck_assert_int_eq(store_agent_put(s, "", "hello", "1", "{}", NULL), -EINVAL);
        ck_assert_int_eq(store_agent_delete(s, id2), 0);
        ck_assert_int_eq(store_agent_delete(s, id2), -ENOENT);
        ck_assert_int_eq(store_agent_get(s, NULL, id2, NULL, &a), -ENOENT);
        store_close(s);
}
END_TEST

/* Issue 19: agents are named per tenant. B deploying A's name makes B's own; a lookup for one
 * tenant never finds another's (by name or by id); a list shows the tenant's only. */
START_TEST(test_agents_are_named_per_tenant) {
        Store *s = open_store();
        char ida[UUID_STRING_MAX], idb[UUID_STRING_MAX], again[UUID_STRING_MAX];
        StoreAgent a = {};
        StoreAgent *list = NULL;
        size_t n = 0;

        ck_assert_int_eq(store_agent_put(s, "tenant-a", "summarizer", "1.0", "{\"who\":\"a\"}", ida), 0);
        ck_assert_int_eq(store_agent_put(s, "tenant-b", "summarizer", "1.0", "{\"who\":\"b\"}", idb), 0);
        ck_assert_str_ne(ida, idb);
        ck_assert_int_eq(store_agent_get(s, "tenant-a", "summarizer", "1.0", &a), 0);
        ck_assert_str_eq(a.manifest_json, "{\"who\":\"a\"}");
        ck_assert_str_eq(a.tenant_id, "tenant-a");
        ck_assert_str_eq(a.id, ida);
        store_agent_done(&a);
        ck_assert_int_eq(store_agent_get(s, "tenant-b", "summarizer", NULL, &a), 0);
        ck_assert_str_eq(a.manifest_json, "{\"who\":\"b\"}");
        store_agent_done(&a);

        /* Another tenant's id or name is not found, with or without a version. */
        ck_assert_int_eq(store_agent_get(s, "tenant-b", ida, NULL, &a), -ENOENT);
        ck_assert_int_eq(store_agent_get(s, "tenant-c", "summarizer", NULL, &a), -ENOENT);
        ck_assert_int_eq(store_agent_get(s, "tenant-c", "summarizer", "1.0", &a), -ENOENT);
        ck_assert_int_eq(store_agent_get(s, NULL, ida, NULL, &a), 0);
        store_agent_done(&a);

        /* Redeploying replaces the tenant's own only. */
        ck_assert_int_eq(store_agent_put(s, "tenant-b", "summarizer", "1.0", "{\"who\":\"b2\"}", again), 0);
        ck_assert_str_eq(again, idb);
        ck_assert_int_eq(store_agent_get(s, "tenant-a", "summarizer", "1.0", &a), 0);
        ck_assert_str_eq(a.manifest_json, "{\"who\":\"a\"}");
        store_agent_done(&a);

        ck_assert_int_eq(store_agent_list(s, "tenant-a", &list, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(list[0].id, ida);
        store_agent_array_free(list, n);
        ck_assert_int_eq(store_agent_list(s, "tenant-c", &list, &n), 0);
        ck_assert_uint_eq(n, 0);
        store_agent_array_free(list, n);
        ck_assert_int_eq(store_agent_list(s, NULL, &list, &n), 0);
        ck_assert_uint_eq(n, 2);
        store_agent_array_free(list, n);
        store_close(s);
}
END_TEST

/* A store from before version 6: each agent goes to the one tenant that ran it, else to
 * "default" (nobody ran it, or several tenants did); names and ids are kept. */
START_TEST(test_open_gives_old_agents_to_the_tenant_that_ran_them) {
        const StoreBackendOps *ops = on_pg ? &store_pg_ops : &store_sqlite_ops;
        Store raw = { .ops = ops };
        Error e = ERROR_INIT;
        StoreAgent a = {};
        Store *s = NULL;
        char path[512];

        make_old_database(5, false);
        snprintf(path, sizeof path, "%s/aegis.db", test_dir);
        raw.url_redacted = (char *) test_url;
        ck_assert_int_eq(ops->connect(&raw, on_pg ? test_url : path, &e), 0);
        ck_assert_msg(ops->exec_script(&raw,
                                       "INSERT INTO store_identity (singleton, id, created_at) VALUES "
                                       "(1, '00000000-0000-4000-8000-000000000006', 1);"
                                       "INSERT INTO agents (id, name, version, manifest_json, created_at, "
                                       "updated_at) VALUES ('ag-a', 'mine', '1', '{}', 1, 1), "
                                       "('ag-none', 'idle', '1', '{}', 1, 1), "
                                       "('ag-both', 'shared', '1', '{}', 1, 1);"
                                       "INSERT INTO executions (id, agent_id, tenant_id, status, "
                                       "max_iterations, created_at, updated_at) VALUES "
                                       "('x1', 'ag-a', 'tenant-a', 'completed', 1, 1, 1), "
                                       "('x2', 'ag-a', 'tenant-a', 'completed', 1, 1, 1), "
                                       "('x3', 'ag-both', 'tenant-a', 'completed', 1, 1, 1), "
                                       "('x4', 'ag-both', 'tenant-b', 'completed', 1, 1, 1)") == 0,
                      "%s", raw.last_error);
        ops->disconnect(&raw);

        ck_assert_int_eq(store_open(test_url, &e, &s), 0);
        ck_assert_uint_eq(store_schema_found(s), 5);
        ck_assert_int_eq(store_agent_get(s, NULL, "ag-a", NULL, &a), 0);
        ck_assert_str_eq(a.tenant_id, "tenant-a");
        ck_assert_str_eq(a.name, "mine");
        store_agent_done(&a);
        ck_assert_int_eq(store_agent_get(s, NULL, "ag-none", NULL, &a), 0);
        ck_assert_str_eq(a.tenant_id, "default");
        store_agent_done(&a);
        ck_assert_int_eq(store_agent_get(s, NULL, "ag-both", NULL, &a), 0);
        ck_assert_str_eq(a.tenant_id, "default");
        store_agent_done(&a);
        /* The new unique key: the same name and version for another tenant. */
        ck_assert_int_eq(store_agent_put(s, "tenant-b", "mine", "1", "{}", NULL), 0);
        ck_assert_int_eq(store_agent_get(s, "tenant-a", "mine", "1", &a), 0);
        ck_assert_str_eq(a.id, "ag-a");
        store_agent_done(&a);
        store_close(s);
}
END_TEST

/* ---- executions ---- */

START_TEST(test_execution_create_get_round_trips_every_field) {
        Store *s = open_store();
        char agent[UUID_STRING_MAX];
        ck_assert_int_eq(store_agent_put(s, "default", "hello", "1", "{}", agent), 0);

        StoreExecution x = {
                .agent_id = agent,
                .agent_name = (char *) "hello",
                .tenant_id = (char *) "acme",
                .input_json = (char *) "{\"q\":\"héllo ✓\"}",
                .manifest_json = (char *) "{\"spec\":{}}",
                .max_iterations = 7,
        };
        ck_assert_int_eq(store_execution_create(s, &x), 0);
        ck_assert_uint_eq(strlen(x.id), 36);
        ck_assert_int_eq(x.status, EXECUTION_PENDING);
        ck_assert_uint_gt(x.created_at, 0);

        StoreExecution g = {};
        ck_assert_int_eq(store_execution_get(s, x.id, &g), 0);
        ck_assert_str_eq(g.id, x.id);
        ck_assert_str_eq(g.agent_id, agent);
        ck_assert_str_eq(g.agent_name, "hello");
        ck_assert_str_eq(g.tenant_id, "acme");
        ck_assert_str_eq(g.input_json, "{\"q\":\"héllo ✓\"}");
        ck_assert_str_eq(g.manifest_json, "{\"spec\":{}}");
        ck_assert_ptr_null(g.output);
        ck_assert_ptr_null(g.reason);
        ck_assert_ptr_null(g.claimed_by);
        ck_assert_int_eq(g.status, EXECUTION_PENDING);
        ck_assert_uint_eq(g.max_iterations, 7);
        ck_assert_uint_eq(g.iteration, 0);
        ck_assert_uint_eq(g.created_at, x.created_at);
        ck_assert_uint_eq(g.started_at, 0);
        ck_assert_uint_eq(g.finished_at, 0);
        store_execution_done(&g);

        /* Tenant defaults to "default"; a caller-chosen id is kept; duplicates refused. */
        StoreExecution y = { .id = "my-id-1", .max_iterations = 1 };
        ck_assert_int_eq(store_execution_create(s, &y), 0);
        ck_assert_int_eq(store_execution_get(s, "my-id-1", &g), 0);
        ck_assert_str_eq(g.tenant_id, "default");
        store_execution_done(&g);
        StoreExecution z = { .id = "my-id-1", .max_iterations = 1 };
        ck_assert_int_eq(store_execution_create(s, &z), -EEXIST);
        StoreExecution bad = { .id = "../etc", .max_iterations = 1 };
        ck_assert_int_eq(store_execution_create(s, &bad), -EINVAL);

        ck_assert_int_eq(store_execution_get(s, "00000000-0000-0000-0000-000000000000", &g), -ENOENT);
        store_close(s);
}
END_TEST

START_TEST(test_execution_values_are_bound_not_spliced) {
        Store *s = open_store();
        const char *evil = "x'); DROP TABLE executions; --";
        StoreExecution x = { .agent_name = (char *) evil,
                             .tenant_id = (char *) "t'\"\\",
                             .input_json = (char *) evil };
        ck_assert_int_eq(store_execution_create(s, &x), 0);
        StoreExecution g = {};
        ck_assert_int_eq(store_execution_get(s, x.id, &g), 0);
        ck_assert_str_eq(g.agent_name, evil);
        ck_assert_str_eq(g.tenant_id, "t'\"\\");
        store_execution_done(&g);
        StoreAgent a = {};
        ck_assert_int_eq(store_agent_get(s, NULL, "' OR 1=1 --", NULL, &a), -ENOENT);
        store_close(s);
}
END_TEST

START_TEST(test_execution_transitions_are_guarded) {
        Store *s = open_store();
        char id[UUID_STRING_MAX], name[128];
        StoreExecution g = {};

        make_execution(s, NULL, id);
        /* Invariant 2: no running without a container row. */
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_RUNNING, NULL), -EPROTO);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_COMPLETED, "ok"), -EINVAL);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_PENDING, NULL), -EINVAL);
        ck_assert_int_eq(store_execution_get(s, id, &g), 0);
        ck_assert_int_eq(g.status, EXECUTION_PENDING);
        store_execution_done(&g);

        snprintf(name, sizeof name, "aegis-agent-%s", id);
        ck_assert_int_eq(store_container_record(s, name, id, 1), 0);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_RUNNING, "started"), 0);
        ck_assert_int_eq(store_execution_get(s, id, &g), 0);
        ck_assert_int_eq(g.status, EXECUTION_RUNNING);
        ck_assert_str_eq(g.reason, "started");
        uint64_t started = g.started_at;
        ck_assert_uint_gt(started, 0);
        store_execution_done(&g);
        /* running → running keeps started_at. */
        usleep(1000);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_RUNNING, NULL), 0);
        ck_assert_int_eq(store_execution_get(s, id, &g), 0);
        ck_assert_uint_eq(g.started_at, started);
        ck_assert_str_eq(g.reason, "started");
        store_execution_done(&g);

        ck_assert_int_eq(store_execution_claim_id(s, id, "host-a", 60 * USEC_PER_SEC), 0);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_COMPLETED, "validators passed"), 0);
        ck_assert_int_eq(store_execution_get(s, id, &g), 0);
        ck_assert_int_eq(g.status, EXECUTION_COMPLETED);
        ck_assert_str_eq(g.reason, "validators passed");
        ck_assert_uint_ge(g.finished_at, g.started_at);
        ck_assert_ptr_null(g.claimed_by);
        store_execution_done(&g);

        /* Invariant 1: never leave a terminal state. */
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_FAILED, "late"), -EALREADY);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_CANCELLED, NULL), -EALREADY);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_RUNNING, NULL), -EALREADY);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_COMPLETED, NULL), -EALREADY);
        ck_assert_int_eq(store_execution_claim_id(s, id, "host-a", 1), -EALREADY);
        ck_assert_int_eq(store_execution_get(s, id, &g), 0);
        ck_assert_int_eq(g.status, EXECUTION_COMPLETED);
        ck_assert_str_eq(g.reason, "validators passed");
        store_execution_done(&g);

        /* pending → cancelled and pending → failed are allowed. */
        make_execution(s, NULL, id);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_CANCELLED, "cancelled by user"), 0);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_FAILED, NULL), -EALREADY);
        make_execution(s, NULL, id);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_FAILED, "image_pull"), 0);

        ck_assert_int_eq(store_execution_set_status(s, "no-such-id", EXECUTION_FAILED, NULL), -ENOENT);
        ck_assert_int_eq(store_execution_set_status(s, "no-such-id", EXECUTION_RUNNING, NULL), -ENOENT);
        store_close(s);
}
END_TEST

START_TEST(test_execution_list_paginates_newest_first_with_stable_cursor) {
        Store *s = open_store();
        char ids[25][UUID_STRING_MAX];
        for (size_t i = 0; i < 25; i++)
                make_execution(s, i % 5 == 0 ? "acme" : NULL, ids[i]);

        StoreExecutionFilter f = STORE_EXECUTION_FILTER_INIT;
        f.limit = 10;
        size_t seen = 0;
        _cleanup_free_ char *cursor = NULL;
        for (int page = 0; page < 3; page++) {
                StoreExecution *list = NULL;
                size_t n = 0;
                char *next = NULL;
                f.cursor = cursor;
                ck_assert_int_eq(store_execution_list(s, &f, &list, &n, &next), 0);
                ck_assert_uint_eq(n, page < 2 ? 10 : 5);
                for (size_t i = 0; i < n; i++, seen++)
                        ck_assert_str_eq(list[i].id, ids[24 - seen]);
                ck_assert_ptr_nonnull(list[0].input_json);
                store_execution_array_free(list, n);
                if (page == 0) {
                        /* Rows added while paging do not disturb the walk. */
                        char extra[UUID_STRING_MAX];
                        make_execution(s, NULL, extra);
                }
                free(cursor);
                cursor = next;
                if (page < 2)
                        ck_assert_ptr_nonnull(cursor);
                else
                        ck_assert_ptr_null(cursor);
        }
        ck_assert_uint_eq(seen, 25);

        /* Filters. */
        StoreExecution *list = NULL;
        size_t n = 0;
        f = STORE_EXECUTION_FILTER_INIT;
        f.tenant_id = "acme";
        f.summary = true;
        ck_assert_int_eq(store_execution_list(s, &f, &list, &n, NULL), 0);
        ck_assert_uint_eq(n, 5);
        ck_assert_str_eq(list[0].id, ids[20]);
        ck_assert_ptr_null(list[0].input_json);
        ck_assert_ptr_null(list[0].manifest_json);
        ck_assert_str_eq(list[0].agent_name, "hello");
        store_execution_array_free(list, n);

        ck_assert_int_eq(store_execution_set_status(s, ids[3], EXECUTION_CANCELLED, NULL), 0);
        f = STORE_EXECUTION_FILTER_INIT;
        f.status = EXECUTION_CANCELLED;
        ck_assert_int_eq(store_execution_list(s, &f, &list, &n, NULL), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(list[0].id, ids[3]);
        store_execution_array_free(list, n);

        f = STORE_EXECUTION_FILTER_INIT;
        f.cursor = "not-a-cursor";
        ck_assert_int_eq(store_execution_list(s, &f, &list, &n, NULL), -EINVAL);
        f.cursor = "0";
        ck_assert_int_eq(store_execution_list(s, &f, &list, &n, NULL), -EINVAL);
        f.cursor = NULL;
        f.limit = STORE_LIST_MAX + 1;
        ck_assert_int_eq(store_execution_list(s, &f, &list, &n, NULL), -EINVAL);
        store_close(s);
}
END_TEST

START_TEST(test_execution_claim_lease_and_heartbeat) {
        Store *s = open_store();
        char a[UUID_STRING_MAX], b[UUID_STRING_MAX];
        StoreExecution c = {};

        make_execution(s, NULL, a);
        make_execution(s, NULL, b);

        /* Oldest first, one owner each. */
        ck_assert_int_eq(store_execution_claim(s, "host-a", 60 * USEC_PER_SEC, &c), 1);
        ck_assert_str_eq(c.id, a);
        ck_assert_str_eq(c.claimed_by, "host-a");
        ck_assert_uint_gt(c.lease_expires_at, now_usec(CLOCK_REALTIME));
        store_execution_done(&c);
        ck_assert_int_eq(store_execution_claim(s, "host-b", 60 * USEC_PER_SEC, &c), 1);
        ck_assert_str_eq(c.id, b);
        store_execution_done(&c);
        ck_assert_int_eq(store_execution_claim(s, "host-c", 60 * USEC_PER_SEC, &c), 0);

        ck_assert_int_eq(store_execution_heartbeat(s, a, "host-a", 60 * USEC_PER_SEC), 0);
        ck_assert_int_eq(store_execution_heartbeat(s, a, "host-b", 60 * USEC_PER_SEC), -ESTALE);
        ck_assert_int_eq(store_execution_heartbeat(s, "nope", "host-b", 60 * USEC_PER_SEC), -ENOENT);
        ck_assert_int_eq(store_execution_claim_id(s, a, "host-b", 60 * USEC_PER_SEC), -EBUSY);
        ck_assert_int_eq(store_execution_claim_id(s, a, "host-a", 60 * USEC_PER_SEC), 0);
        ck_assert_int_eq(store_execution_claim_id(s, "nope", "host-a", 60 * USEC_PER_SEC), -ENOENT);

        /* A lease that runs out can be taken over; the old owner then learns it lost it. */
        ck_assert_int_eq(store_execution_claim_id(s, b, "host-b", 1), 0);
        usleep(5000);
        ck_assert_int_eq(store_execution_claim(s, "host-c", 60 * USEC_PER_SEC, &c), 1);
        ck_assert_str_eq(c.id, b);
        ck_assert_str_eq(c.claimed_by, "host-c");
        store_execution_done(&c);
        ck_assert_int_eq(store_execution_heartbeat(s, b, "host-b", 60 * USEC_PER_SEC), -ESTALE);

        /* The owner filter finds what one host holds (for reconciliation). */
        StoreExecutionFilter f = STORE_EXECUTION_FILTER_INIT;
        StoreExecution *list = NULL;
        size_t n = 0;
        f.claimed_by = "host-c";
        ck_assert_int_eq(store_execution_list(s, &f, &list, &n, NULL), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(list[0].id, b);
        store_execution_array_free(list, n);

        ck_assert_int_eq(store_execution_claim(s, "", 1, &c), -EINVAL);
        store_close(s);
}
END_TEST

START_TEST(test_execution_output_delete_and_prune) {
        Store *s = open_store();
        char id[UUID_STRING_MAX], pend[UUID_STRING_MAX];
        StoreExecution g = {};

        make_running(s, id);
        ck_assert_int_eq(store_iteration_begin(s, id, 1), 0);
        ck_assert_int_eq(store_event_append(s, id, "status", "{}", NULL), 0);
        ck_assert_int_eq(store_execution_set_output(s, id, "hello world\n"), 0);
        ck_assert_int_eq(store_execution_get(s, id, &g), 0);
        ck_assert_str_eq(g.output, "hello world\n");
        store_execution_done(&g);
        ck_assert_int_eq(store_execution_set_output(s, "nope", "x"), -ENOENT);

        ck_assert_int_eq(store_execution_delete(s, id), -EBUSY);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_COMPLETED, NULL), 0);
        ck_assert_int_eq(store_execution_delete(s, id), 0);
        ck_assert_int_eq(store_execution_get(s, id, &g), -ENOENT);
        ck_assert_int_eq(store_execution_delete(s, id), -ENOENT);
        /* Its iterations, containers and events went with it. */
        StoreIteration *its = NULL;
        StoreContainer *cs = NULL;
        StoreEvent *evs = NULL;
        size_t n = 9;
        ck_assert_int_eq(store_iteration_list(s, id, &its, &n), 0);
        ck_assert_uint_eq(n, 0);
        store_iteration_array_free(its, n);
        ck_assert_int_eq(store_container_list(s, id, false, &cs, &n), 0);
        ck_assert_uint_eq(n, 0);
        store_container_array_free(cs, n);
        ck_assert_int_eq(store_event_list(s, id, 0, 0, &evs, &n), 0);
        ck_assert_uint_eq(n, 0);
        store_event_array_free(evs, n);

        /* Prune: finished before the cut-off only. */
        char old[UUID_STRING_MAX];
        make_execution(s, NULL, old);
        ck_assert_int_eq(store_execution_set_status(s, old, EXECUTION_FAILED, NULL), 0);
        make_execution(s, NULL, pend);
        uint64_t cut = now_usec(CLOCK_REALTIME) + 1, pruned = 0;
        usleep(2000);
        make_execution(s, NULL, id);
        ck_assert_int_eq(store_execution_set_status(s, id, EXECUTION_CANCELLED, NULL), 0);
        ck_assert_int_eq(store_execution_prune(s, cut, &pruned), 0);
        ck_assert_uint_eq(pruned, 1);
        ck_assert_int_eq(store_execution_get(s, old, &g), -ENOENT);
        ck_assert_int_eq(store_execution_get(s, pend, &g), 0);
        store_execution_done(&g);
        ck_assert_int_eq(store_execution_get(s, id, &g), 0);
        store_execution_done(&g);
        store_close(s);
}
END_TEST

/* ---- iterations ---- */

START_TEST(test_iterations_begin_update_list_and_bound_output) {
        Store *s = open_store();
        char id[UUID_STRING_MAX];
        StoreExecution g = {};
        StoreIteration it = {};

        make_running(s, id);
        ck_assert_int_eq(store_iteration_begin(s, id, 1), 0);
        ck_assert_int_eq(store_iteration_begin(s, id, 1), -EEXIST);
        ck_assert_int_eq(store_iteration_begin(s, id, 0), -EINVAL);
        ck_assert_int_eq(store_iteration_begin(s, "nope", 1), -ENOENT);
        ck_assert_int_eq(store_execution_get(s, id, &g), 0);
        ck_assert_uint_eq(g.iteration, 1);
        store_execution_done(&g);

        ck_assert_int_eq(store_iteration_get(s, id, 1, &it), 0);
        ck_assert_int_eq(it.status, ITERATION_RUNNING);
        ck_assert_int_eq(it.exit_code, -1);
        ck_assert_uint_gt(it.started_at, 0);
        ck_assert_uint_eq(it.finished_at, 0);
        store_iteration_done(&it);

        /* Huge stdout keeps its tail; invalid UTF-8 becomes U+FFFD. */
        size_t big = STORE_OUTPUT_MAX + 1000;
        _cleanup_free_ char *out = malloc(big + 1);
        memset(out, 'a', big);
        memcpy(out + big - 4, "END\n", 4);
        out[big] = 0;
        StoreIteration u = {
                .number = 1,
                .status = ITERATION_FAILED,
                .exit_code = 3,
                .reason = (char *) "exit_code",
                .container_id = (char *) "c0ffee",
                .stdout_text = out,
                .stderr_text = (char *) "bad \xff\xfe byte \xe2\x9c\x93",
        };
        memcpy(u.execution_id, id, sizeof u.execution_id);
        ck_assert_int_eq(store_iteration_update(s, &u), 0);
        ck_assert_int_eq(store_iteration_begin(s, id, 2), 0);
        u.number = 2;
        u.status = ITERATION_SUCCEEDED;
        u.exit_code = 0;
        u.reason = NULL;
        u.stdout_text = (char *) "ok";
        u.stderr_text = NULL;
        u.judgement_json = (char *) "{\"state\":\"judged\",\"validators\":[]}";
        u.usage_json = (char *) "{\"cpu_seconds\":1.5,\"oom_killed\":false}";
        ck_assert_int_eq(store_iteration_update(s, &u), 0);
        u.number = 9;
        ck_assert_int_eq(store_iteration_update(s, &u), -ENOENT);

        StoreIteration *list = NULL;
        size_t n = 0;
        ck_assert_int_eq(store_iteration_list(s, id, &list, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(list[0].number, 1);
        ck_assert_int_eq(list[0].status, ITERATION_FAILED);
        ck_assert_int_eq(list[0].exit_code, 3);
        ck_assert_str_eq(list[0].reason, "exit_code");
        ck_assert_str_eq(list[0].container_id, "c0ffee");
        ck_assert_uint_eq(strlen(list[0].stdout_text), STORE_OUTPUT_MAX);
        ck_assert(endswith(list[0].stdout_text, "aaaEND\n"));
        ck_assert_str_eq(list[0].stderr_text, "bad \xef\xbf\xbd\xef\xbf\xbd byte \xe2\x9c\x93");
        ck_assert_uint_ge(list[0].finished_at, list[0].started_at);
        ck_assert_uint_eq(list[1].number, 2);
        ck_assert_int_eq(list[1].status, ITERATION_SUCCEEDED);
        ck_assert_int_eq(list[1].exit_code, 0);
        ck_assert_ptr_null(list[1].reason);
        ck_assert_ptr_null(list[1].stderr_text);
        ck_assert_ptr_null(list[0].judgement_json);
        ck_assert_str_eq(list[1].judgement_json, "{\"state\":\"judged\",\"validators\":[]}");
        ck_assert_ptr_null(list[0].usage_json);
        ck_assert_str_eq(list[1].usage_json, "{\"cpu_seconds\":1.5,\"oom_killed\":false}");
        store_iteration_array_free(list, n);

        ck_assert_int_eq(store_execution_get(s, id, &g), 0);
        ck_assert_uint_eq(g.iteration, 2);
        store_execution_done(&g);
        store_close(s);
}
END_TEST

/* ---- containers ---- */

START_TEST(test_containers_record_update_list) {
        Store *s = open_store();
        char id[UUID_STRING_MAX];
        StoreContainer c = {};

        make_execution(s, NULL, id);
        ck_assert_int_eq(store_container_record(s, "aegis-agent-1", id, 1), 0);
        ck_assert_int_eq(store_container_record(s, "aegis-agent-1", id, 1), -EEXIST);
        ck_assert_int_eq(store_container_record(s, "aegis-agent-x", "no-such-execution", 1), -ENOENT);
        ck_assert_int_eq(store_container_get(s, "aegis-agent-1", &c), 0);
        ck_assert_int_eq(c.state, CONTAINER_CREATED);
        ck_assert_ptr_null(c.container_id);
        ck_assert_str_eq(c.execution_id, id);
        ck_assert_uint_eq(c.iteration, 1);
        store_container_done(&c);

        ck_assert_int_eq(store_container_update(s, "aegis-agent-1", "abc123", CONTAINER_RUNNING), 0);
        ck_assert_int_eq(store_container_get(s, "abc123", &c), 0);
        ck_assert_str_eq(c.name, "aegis-agent-1");
        ck_assert_int_eq(c.state, CONTAINER_RUNNING);
        store_container_done(&c);

        ck_assert_int_eq(store_container_record(s, "aegis-agent-2", id, 2), 0);
        StoreContainer *list = NULL;
        size_t n = 0;
        ck_assert_int_eq(store_container_list(s, id, true, &list, &n), 0);
        ck_assert_uint_eq(n, 2);
        store_container_array_free(list, n);

        /* Removed stays removed; the id may be used to address it. */
        ck_assert_int_eq(store_container_update(s, "abc123", NULL, CONTAINER_REMOVED), 0);
        ck_assert_int_eq(store_container_update(s, "abc123", NULL, CONTAINER_RUNNING), -EALREADY);
        ck_assert_int_eq(store_container_update(s, "abc123", NULL, CONTAINER_REMOVED), 0);
        ck_assert_int_eq(store_container_update(s, "nope", NULL, CONTAINER_RUNNING), -ENOENT);
        ck_assert_int_eq(store_container_list(s, id, true, &list, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(list[0].name, "aegis-agent-2");
        store_container_array_free(list, n);
        ck_assert_int_eq(store_container_list(s, NULL, false, &list, &n), 0);
        ck_assert_uint_eq(n, 2);
        store_container_array_free(list, n);
        store_close(s);
}
END_TEST

/* ---- events ---- */

START_TEST(test_events_are_ordered_per_execution) {
        Store *s = open_store();
        char a[UUID_STRING_MAX], b[UUID_STRING_MAX];
        uint64_t seq = 0;

        make_execution(s, NULL, a);
        make_execution(s, NULL, b);
        for (unsigned i = 1; i <= 30; i++) {
                char payload[64];
                snprintf(payload, sizeof payload, "{\"i\":%u}", i);
                ck_assert_int_eq(store_event_append(s, a, "log", payload, &seq), 0);
                ck_assert_uint_eq(seq, i);
                if (i % 10 == 0) {
                        ck_assert_int_eq(store_event_append(s, b, "status", NULL, &seq), 0);
                        ck_assert_uint_eq(seq, i / 10);
                }
        }
        ck_assert_int_eq(store_event_append(s, "nope", "log", "{}", &seq), -ENOENT);
        ck_assert_int_eq(store_event_append(s, a, "", "{}", &seq), -EINVAL);

        StoreEvent *list = NULL;
        size_t n = 0;
        ck_assert_int_eq(store_event_list(s, a, 10, 0, &list, &n), 0);
        ck_assert_uint_eq(n, 20);
        for (size_t i = 0; i < n; i++) {
                char payload[64];
                snprintf(payload, sizeof payload, "{\"i\":%zu}", i + 11);
                ck_assert_uint_eq(list[i].seq, i + 11);
                ck_assert_str_eq(list[i].payload_json, payload);
                ck_assert_str_eq(list[i].type, "log");
                ck_assert_str_eq(list[i].execution_id, a);
                if (i > 0)
                        ck_assert_uint_ge(list[i].timestamp, list[i - 1].timestamp);
        }
        store_event_array_free(list, n);
        ck_assert_int_eq(store_event_list(s, a, 0, 5, &list, &n), 0);
        ck_assert_uint_eq(n, 5);
        ck_assert_uint_eq(list[4].seq, 5);
        store_event_array_free(list, n);
        ck_assert_int_eq(store_event_list(s, b, 0, 0, &list, &n), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_ptr_null(list[0].payload_json);
        store_event_array_free(list, n);
        ck_assert_int_eq(store_event_list(s, a, 30, 0, &list, &n), 0);
        ck_assert_uint_eq(n, 0);
        store_event_array_free(list, n);
        store_close(s);
}
END_TEST

/* A batch is one transaction: nothing is seen before its outermost end, everything after;
 * a write that fails inside it leaves the others (and the event sequence gapless). */
START_TEST(test_batch_commits_its_writes_at_its_outermost_end) {
        Store *s = open_store(), *other = open_store();
        char a[UUID_STRING_MAX];
        StoreEvent *list = NULL;
        uint64_t seq = 0;
        char *got = NULL;
        size_t n = 0;

        make_execution(s, NULL, a);
        ck_assert_int_eq(store_batch_end(s), 0); /* none open: nothing to do */
        ck_assert_int_eq(store_batch_begin(s), 0);
        ck_assert_int_eq(store_batch_begin(s), 0);
        ck_assert_int_eq(store_event_append(s, a, "log", "{\"i\":1}", &seq), 0);
        ck_assert_uint_eq(seq, 1);
        ck_assert_int_eq(store_event_append(s, "nope", "log", "{}", &seq), -ENOENT);
        ck_assert_int_eq(store_conversation_put(s, a, 1, "{\"round\":1}"), 0);
        ck_assert_int_eq(store_event_append(s, a, "log", "{\"i\":2}", &seq), 0);
        ck_assert_uint_eq(seq, 2);
        ck_assert_int_eq(store_batch_end(s), 0); /* the inner end commits nothing */
        ck_assert_int_eq(store_event_list(other, a, 0, 0, &list, &n), 0);
        ck_assert_uint_eq(n, 0);
        store_event_array_free(list, n);
        ck_assert_int_eq(store_conversation_get(other, a, 1, &got), -ENOENT);

        ck_assert_int_eq(store_batch_end(s), 0);
        ck_assert_int_eq(store_event_list(other, a, 0, 0, &list, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(list[0].seq, 1);
        ck_assert_uint_eq(list[1].seq, 2);
        ck_assert_str_eq(list[1].payload_json, "{\"i\":2}");
        store_event_array_free(list, n);
        ck_assert_int_eq(store_conversation_get(other, a, 1, &got), 0);
        ck_assert_str_eq(got, "{\"round\":1}");
        free(got);
        /* Outside a batch, writes commit on their own again. */
        ck_assert_int_eq(store_event_append(s, a, "log", "{}", &seq), 0);
        ck_assert_uint_eq(seq, 3);
        ck_assert_int_eq(store_event_list(other, a, 2, 0, &list, &n), 0);
        ck_assert_uint_eq(n, 1);
        store_event_array_free(list, n);
        store_close(other);
        store_close(s);
}
END_TEST

/* ---- volumes ---- */

START_TEST(test_volumes_crud_tenant_lookup_and_expiry) {
        Store *s = open_store();
        char exec[UUID_STRING_MAX];
        StoreVolume g = {};
        uint64_t t = now_usec(CLOCK_REALTIME);

        make_execution(s, "acme", exec);
        StoreVolume v = {
                .tenant_id = (char *) "acme",
                .name = (char *) "workspace",
                .storage_class = VOLUME_EPHEMERAL,
                .access_mode = VOLUME_READ_WRITE,
                .size_limit = UINT64_C(1) << 30,
                .uid = 1000,
                .gid = 1001,
                .owner_execution_id = exec,
                .expires_at = t - 1000,
        };
        ck_assert_int_eq(store_volume_create(s, &v), 0);
        ck_assert_uint_eq(strlen(v.id), 36);
        StoreVolume p = {
                .tenant_id = (char *) "acme",
                .name = (char *) "data",
                .storage_class = VOLUME_PERSISTENT,
                .access_mode = VOLUME_READ_ONLY,
                .uid = 1000,
                .gid = 1000,
        };
        ck_assert_int_eq(store_volume_create(s, &p), 0);
        StoreVolume o = {
                .tenant_id = (char *) "other",
                .name = (char *) "workspace",
                .storage_class = VOLUME_EPHEMERAL,
                .access_mode = VOLUME_READ_WRITE,
                .expires_at = t + 3600 * USEC_PER_SEC,
        };
        ck_assert_int_eq(store_volume_create(s, &o), 0);

        ck_assert_int_eq(store_volume_get(s, "acme", v.id, &g), 0);
        ck_assert_str_eq(g.tenant_id, "acme");
        ck_assert_str_eq(g.name, "workspace");
        ck_assert_int_eq(g.storage_class, VOLUME_EPHEMERAL);
        ck_assert_int_eq(g.access_mode, VOLUME_READ_WRITE);
        ck_assert_uint_eq(g.size_limit, UINT64_C(1) << 30);
        ck_assert_uint_eq(g.uid, 1000);
        ck_assert_uint_eq(g.gid, 1001);
        ck_assert_str_eq(g.owner_execution_id, exec);
        ck_assert_int_eq(g.status, VOLUME_ACTIVE);
        ck_assert_uint_eq(g.expires_at, t - 1000);
        store_volume_done(&g);
        /* Another tenant cannot see it; NULL tenant = internal lookup (the gateway checks it). */
        ck_assert_int_eq(store_volume_get(s, "other", v.id, &g), -ENOENT);
        ck_assert_int_eq(store_volume_get(s, NULL, v.id, &g), 0);
        store_volume_done(&g);
        ck_assert_int_eq(store_volume_get(s, NULL, "nope", &g), -ENOENT);

        StoreVolume *list = NULL;
        size_t n = 0;
        StoreVolumeFilter f = STORE_VOLUME_FILTER_INIT;
        f.tenant_id = "acme";
        ck_assert_int_eq(store_volume_list(s, &f, &list, &n), 0);
        ck_assert_uint_eq(n, 2);
        store_volume_array_free(list, n);
        f = STORE_VOLUME_FILTER_INIT;
        f.owner_execution_id = exec;
        ck_assert_int_eq(store_volume_list(s, &f, &list, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(list[0].id, v.id);
        store_volume_array_free(list, n);
        /* Expired: only those with an expiry in the past, never "no expiry". */
        f = STORE_VOLUME_FILTER_INIT;
        f.status = VOLUME_ACTIVE;
        f.expired_before = t;
        ck_assert_int_eq(store_volume_list(s, &f, &list, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(list[0].id, v.id);
        store_volume_array_free(list, n);

        ck_assert_int_eq(store_volume_set_status(s, v.id, VOLUME_DELETED), 0);
        ck_assert_int_eq(store_volume_set_status(s, v.id, VOLUME_DELETED), -EALREADY);
        ck_assert_int_eq(store_volume_set_status(s, v.id, VOLUME_ACTIVE), -EALREADY);
        ck_assert_int_eq(store_volume_set_status(s, p.id, VOLUME_ACTIVE), 0);
        ck_assert_int_eq(store_volume_set_status(s, "nope", VOLUME_DELETED), -ENOENT);
        ck_assert_int_eq(store_volume_get(s, "acme", v.id, &g), 0);
        ck_assert_int_eq(g.status, VOLUME_DELETED);
        ck_assert_uint_gt(g.deleted_at, 0);
        store_volume_done(&g);
        f = STORE_VOLUME_FILTER_INIT;
        f.status = VOLUME_ACTIVE;
        ck_assert_int_eq(store_volume_list(s, &f, &list, &n), 0);
        ck_assert_uint_eq(n, 2);
        store_volume_array_free(list, n);

        ck_assert_int_eq(store_volume_purge(s, v.id), 0);
        ck_assert_int_eq(store_volume_purge(s, v.id), -ENOENT);
        ck_assert_int_eq(store_volume_get(s, NULL, v.id, &g), -ENOENT);

        StoreVolume bad = { .tenant_id = (char *) "acme", .name = (char *) "x", .storage_class = 7 };
        ck_assert_int_eq(store_volume_create(s, &bad), -EINVAL);
        StoreVolume dup = p;
        ck_assert_int_eq(store_volume_create(s, &dup), -EEXIST);
        store_close(s);
}
END_TEST

START_TEST(test_volume_users_count_owners_and_attachments_until_they_finish) {
        Store *s = open_store();
        char a[UUID_STRING_MAX], b[UUID_STRING_MAX];
        uint64_t n = 99;

        make_execution(s, "acme", a);
        make_execution(s, "acme", b);
        StoreVolume v = {
                .tenant_id = (char *) "acme",
                .name = (char *) "workspace",
                .storage_class = VOLUME_PERSISTENT,
                .access_mode = VOLUME_READ_WRITE,
                .owner_execution_id = a,
        };
        ck_assert_int_eq(store_volume_create(s, &v), 0);
        ck_assert_int_eq(store_volume_users(s, v.id, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(store_volume_attach(s, v.id, b), 0);
        ck_assert_int_eq(store_volume_attach(s, v.id, b), 0);
        ck_assert_int_eq(store_volume_attach(s, v.id, a), 0);
        ck_assert_int_eq(store_volume_users(s, v.id, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(store_execution_set_status(s, a, EXECUTION_CANCELLED, NULL), 0);
        ck_assert_int_eq(store_volume_users(s, v.id, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(store_execution_set_status(s, b, EXECUTION_FAILED, NULL), 0);
        ck_assert_int_eq(store_volume_users(s, v.id, &n), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(store_volume_users(s, "nope", &n), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(store_volume_attach(s, "nope", b), -ENOENT);
        ck_assert_int_eq(store_volume_attach(s, v.id, "nope"), -ENOENT);
        /* Purging the volume drops its attachments; deleting the execution too. */
        ck_assert_int_eq(store_execution_delete(s, b), 0);
        ck_assert_int_eq(store_volume_purge(s, v.id), 0);
        store_close(s);
}
END_TEST

/* ---- reaper backoff ---- */

START_TEST(test_reaper_backoff_get_put_delete) {
        Store *s = open_store();
        StoreReaperBackoff b = {};

        ck_assert_int_eq(store_reaper_backoff_get(s, "c1", &b), -ENOENT);
        StoreReaperBackoff p = { .container_id = (char *) "c1", .failures = 1, .next_attempt_at = 12345 };
        ck_assert_int_eq(store_reaper_backoff_put(s, &p), 0);
        ck_assert_int_eq(store_reaper_backoff_get(s, "c1", &b), 0);
        ck_assert_str_eq(b.container_id, "c1");
        ck_assert_uint_eq(b.failures, 1);
        ck_assert_uint_eq(b.next_attempt_at, 12345);
        ck_assert(!b.quarantined);
        ck_assert_uint_gt(b.updated_at, 0);
        store_reaper_backoff_done(&b);

        p.failures = 5;
        p.quarantined = true;
        p.next_attempt_at = 99999;
        ck_assert_int_eq(store_reaper_backoff_put(s, &p), 0);
        ck_assert_int_eq(store_reaper_backoff_get(s, "c1", &b), 0);
        ck_assert_uint_eq(b.failures, 5);
        ck_assert(b.quarantined);
        ck_assert_uint_eq(b.next_attempt_at, 99999);
        store_reaper_backoff_done(&b);

        ck_assert_int_eq(store_reaper_backoff_delete(s, "c1"), 0);
        ck_assert_int_eq(store_reaper_backoff_delete(s, "c1"), -ENOENT);
        StoreReaperBackoff bad = {};
        ck_assert_int_eq(store_reaper_backoff_put(s, &bad), -EINVAL);
        store_close(s);
}
END_TEST

/* ---- reaper runs ---- */

START_TEST(test_reaper_run_keeps_one_row_per_host_and_the_last_success) {
        Store *s = open_store();
        StoreReaperRun g = {};

        ck_assert_int_eq(store_reaper_run_get(s, "h1", &g), -ENOENT);
        StoreReaperRun p = { .host = (char *) "h1",
                             .started_at = 100,
                             .finished_at = 200,
                             .ok = true,
                             .counts_json = (char *) "{\"containers\":{\"removed\":1}}" };
        ck_assert_int_eq(store_reaper_run_put(s, &p), 0);
        ck_assert_int_eq(store_reaper_run_get(s, "h1", &g), 0);
        ck_assert_str_eq(g.host, "h1");
        ck_assert_uint_eq(g.started_at, 100);
        ck_assert_uint_eq(g.finished_at, 200);
        ck_assert(g.ok);
        ck_assert_uint_eq(g.last_success_at, 200);
        ck_assert_str_eq(g.counts_json, "{\"containers\":{\"removed\":1}}");
        store_reaper_run_done(&g);

        /* A failed run replaces the row but keeps the last success; other hosts are separate. */
        p = (StoreReaperRun){ .host = (char *) "h1",
                              .started_at = 300,
                              .finished_at = 400,
                              .ok = false,
                              .last_success_at = 999 };
        ck_assert_int_eq(store_reaper_run_put(s, &p), 0);
        p = (StoreReaperRun){ .host = (char *) "h2", .started_at = 10, .finished_at = 20, .ok = false };
        ck_assert_int_eq(store_reaper_run_put(s, &p), 0);
        ck_assert_int_eq(store_reaper_run_get(s, "h1", &g), 0);
        ck_assert_uint_eq(g.started_at, 300);
        ck_assert_uint_eq(g.finished_at, 400);
        ck_assert(!g.ok);
        ck_assert_uint_eq(g.last_success_at, 200);
        ck_assert_str_eq(g.counts_json, "{}");
        store_reaper_run_done(&g);
        ck_assert_int_eq(store_reaper_run_get(s, "h2", &g), 0);
        ck_assert_uint_eq(g.last_success_at, 0);
        store_reaper_run_done(&g);

        StoreReaperRun bad = {};
        ck_assert_int_eq(store_reaper_run_put(s, &bad), -EINVAL);
        store_close(s);
}
END_TEST

/* ---- inner-loop conversations ---- */

START_TEST(test_conversation_messages_are_rows_spliced_in_order) {
        Store *s = open_store();
        char a[UUID_STRING_MAX];
        const char *first[] = { "{\"role\":\"user\",\"content\":\"q\"}", "{\"role\":\"assistant\"}" };
        const char *then[] = { "{\"role\":\"tool\",\"content\":\"it's\"}" };
        const char *big[] = { NULL };
        _cleanup_free_ unsigned *its = NULL;
        _cleanup_strv_free_ char **states = NULL;
        _cleanup_free_ char *huge = NULL;
        char *got = NULL;
        size_t n = 0;

        make_execution(s, NULL, a);
        ck_assert_int_eq(store_conversation_put(s, a, 1, "{\"version\":2}"), 0);
        ck_assert_int_eq(store_conversation_add_messages(s, a, 1, 0, first, 2), 0);
        /* A turn appends its own messages only; the state row is replaced on its own. */
        ck_assert_int_eq(store_conversation_add_messages(s, a, 1, 2, then, 1), 0);
        ck_assert_int_eq(store_conversation_put(s, a, 1, "{\"version\":2,\"rounds\":1}"), 0);
        ck_assert_int_eq(store_conversation_get(s, a, 1, &got), 0);
        ck_assert_str_eq(got,
                         "{\"version\":2,\"rounds\":1,\"messages\":[{\"role\":\"user\",\"content\":\"q\"},"
                         "{\"role\":\"assistant\"},{\"role\":\"tool\",\"content\":\"it's\"}]}");
        free(got);
        /* A message recorded again under its number replaces the old one (a retried save). */
        ck_assert_int_eq(store_conversation_add_messages(s, a, 1, 1, then, 1), 0);
        ck_assert_int_eq(store_conversation_get(s, a, 1, &got), 0);
        ck_assert_ptr_null(strstr(got, "assistant"));
        free(got);

        /* Iteration 2 has a state and no messages; iteration 3's messages have no state yet. */
        ck_assert_int_eq(store_conversation_put(s, a, 2, "{}"), 0);
        ck_assert_int_eq(store_conversation_add_messages(s, a, 3, 0, first, 1), 0);
        ck_assert_int_eq(store_conversation_put(s, a, 4, "{\"v\":4}"), 0);
        ck_assert_int_eq(store_conversation_add_messages(s, a, 4, 0, then, 1), 0);
        ck_assert_int_eq(store_conversation_list(s, a, &its, &states, &n), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_uint_eq(its[1], 2);
        ck_assert_str_eq(states[1], "{}");
        ck_assert_uint_eq(its[2], 4);
        ck_assert_str_eq(states[2], "{\"v\":4,\"messages\":[{\"role\":\"tool\",\"content\":\"it's\"}]}");
        ck_assert_ptr_nonnull(strstr(states[0], "\"messages\":[{\"role\":\"user\""));

        ck_assert_int_eq(store_conversation_add_messages(s, "no-such-execution", 1, 0, first, 1), -ENOENT);
        ck_assert_int_eq(store_conversation_add_messages(s, a, 0, 0, first, 1), -EINVAL);
        ck_assert_int_eq(store_conversation_add_messages(s, a, 1, 0, big, 1), -EINVAL);
        huge = malloc(STORE_CONVERSATION_MAX + 2);
        ck_assert_ptr_nonnull(huge);
        memset(huge, 'x', STORE_CONVERSATION_MAX + 1);
        huge[STORE_CONVERSATION_MAX + 1] = '\0';
        big[0] = huge;
        ck_assert_int_eq(store_conversation_add_messages(s, a, 1, 5, big, 1), -E2BIG);

        /* Deleting the execution deletes its messages. */
        ck_assert_int_eq(store_execution_set_status(s, a, EXECUTION_CANCELLED, NULL), 0);
        ck_assert_int_eq(store_execution_delete(s, a), 0);
        ck_assert_int_eq(store_conversation_add_messages(s, a, 1, 9, first, 1), -ENOENT);
        store_close(s);
}
END_TEST

START_TEST(test_conversation_put_replaces_get_lists_and_cascades) {
        Store *s = open_store();
        char a[UUID_STRING_MAX], b[UUID_STRING_MAX];
        _cleanup_free_ unsigned *its = NULL;
        _cleanup_strv_free_ char **states = NULL;
        char *got = NULL;
        size_t n = 7;

        make_execution(s, NULL, a);
        make_execution(s, NULL, b);
        ck_assert_int_eq(store_conversation_get(s, a, 1, &got), -ENOENT);
        ck_assert_int_eq(store_conversation_put(s, a, 1, "{\"round\":0}"), 0);
        /* Every turn replaces the iteration's row; values are bound, never spliced. */
        ck_assert_int_eq(store_conversation_put(s, a, 1, "{\"round\":1,\"q\":\"it's\"}"), 0);
        ck_assert_int_eq(store_conversation_put(s, a, 2, "{\"round\":2}"), 0);
        ck_assert_int_eq(store_conversation_put(s, b, 1, "{\"other\":true}"), 0);
        ck_assert_int_eq(store_conversation_get(s, a, 1, &got), 0);
        ck_assert_str_eq(got, "{\"round\":1,\"q\":\"it's\"}");
        free(got);
        ck_assert_int_eq(store_conversation_list(s, a, &its, &states, &n), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(its[0], 1);
        ck_assert_uint_eq(its[1], 2);
        ck_assert_str_eq(states[1], "{\"round\":2}");

        ck_assert_int_eq(store_conversation_put(s, "no-such-execution", 1, "{}"), -ENOENT);
        ck_assert_int_eq(store_conversation_put(s, a, 0, "{}"), -EINVAL);
        ck_assert_int_eq(store_conversation_put(s, a, 1, NULL), -EINVAL);

        /* Deleting the execution deletes its conversations. */
        ck_assert_int_eq(store_execution_set_status(s, a, EXECUTION_CANCELLED, NULL), 0);
        ck_assert_int_eq(store_execution_delete(s, a), 0);
        ck_assert_int_eq(store_conversation_get(s, a, 2, &got), -ENOENT);
        ck_assert_int_eq(store_conversation_get(s, b, 1, &got), 0);
        free(got);
        store_close(s);
}
END_TEST

/* ---- several processes at once (the multi-host case) ---- */

#define CLAIM_EXECUTIONS 100
#define CLAIM_WORKERS 4

START_TEST(test_concurrent_claims_never_hand_out_the_same_execution) {
        Store *s = open_store();
        char ids[CLAIM_EXECUTIONS][UUID_STRING_MAX];
        int fds[2];

        for (size_t i = 0; i < CLAIM_EXECUTIONS; i++)
                make_execution(s, NULL, ids[i]);
        s = store_close(s);

        ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
        pid_t pids[CLAIM_WORKERS];
        for (size_t w = 0; w < CLAIM_WORKERS; w++) {
                pids[w] = fork();
                ck_assert_int_ge(pids[w], 0);
                if (pids[w] == 0) {
                        char owner[32];
                        Error e = ERROR_INIT;
                        Store *cs = NULL;
                        int r;
                        close(fds[0]);
                        snprintf(owner, sizeof owner, "host-%zu", w);
                        if (store_open(test_url, &e, &cs) < 0)
                                _exit(2);
                        for (;;) {
                                StoreExecution c = {};
                                r = store_execution_claim(cs, owner, 60 * USEC_PER_SEC, &c);
                                if (r == 0)
                                        break;
                                if (r < 0) {
                                        fprintf(stderr, "claim: %d %s\n", r, store_last_error(cs));
                                        _exit(3);
                                }
                                char line[UUID_STRING_MAX + 1];
                                memcpy(line, c.id, UUID_STRING_MAX);
                                line[UUID_STRING_MAX - 1] = '\n';
                                /* Short lines to a pipe are written atomically. */
                                if (write(fds[1], line, UUID_STRING_MAX) != UUID_STRING_MAX)
                                        _exit(4);
                                store_execution_done(&c);
                        }
                        store_close(cs);
                        _exit(0);
                }
        }
        close(fds[1]);

        _cleanup_fclose_ FILE *f = fdopen(fds[0], "r");
        char line[128];
        size_t n = 0;
        static char got[CLAIM_EXECUTIONS * 2][UUID_STRING_MAX];
        while (fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = 0;
                ck_assert_uint_lt(n, ELEMENTSOF(got));
                memcpy(got[n++], line, UUID_STRING_MAX);
        }
        for (size_t w = 0; w < CLAIM_WORKERS; w++) {
                int status;
                ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
                ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %zu failed", w);
        }
        /* Every execution claimed exactly once. */
        ck_assert_uint_eq(n, CLAIM_EXECUTIONS);
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        ck_assert_str_ne(got[i], got[j]);
        for (size_t i = 0; i < CLAIM_EXECUTIONS; i++) {
                bool found = false;
                for (size_t j = 0; j < n && !found; j++)
                        found = streq(ids[i], got[j]);
                ck_assert_msg(found, "execution %s never claimed", ids[i]);
        }

        s = open_store();
        StoreExecution c = {};
        ck_assert_int_eq(store_execution_claim(s, "late", 60 * USEC_PER_SEC, &c), 0);
        store_close(s);
}
END_TEST

START_TEST(test_concurrent_event_appends_stay_gapless) {
        Store *s = open_store();
        char id[UUID_STRING_MAX];
        make_execution(s, NULL, id);
        s = store_close(s);

        pid_t pids[3];
        for (size_t w = 0; w < ELEMENTSOF(pids); w++) {
                pids[w] = fork();
                ck_assert_int_ge(pids[w], 0);
                if (pids[w] == 0) {
                        Error e = ERROR_INIT;
                        Store *cs = NULL;
                        if (store_open(test_url, &e, &cs) < 0)
                                _exit(2);
                        for (int i = 0; i < 40; i++) {
                                int r;
                                /* PostgreSQL may report a serialization conflict: retry as callers do. */
                                while ((r = store_event_append(cs, id, "log", "{}", NULL)) == -EBUSY)
                                        ;
                                if (r < 0) {
                                        fprintf(stderr, "append: %d %s\n", r, store_last_error(cs));
                                        _exit(3);
                                }
                        }
                        store_close(cs);
                        _exit(0);
                }
        }
        for (size_t w = 0; w < ELEMENTSOF(pids); w++) {
                int status;
                ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
                ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %zu failed", w);
        }
        s = open_store();
        StoreEvent *list = NULL;
        size_t n = 0;
        ck_assert_int_eq(store_event_list(s, id, 0, 0, &list, &n), 0);
        ck_assert_uint_eq(n, 120);
        for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(list[i].seq, i + 1);
        store_event_array_free(list, n);
        store_close(s);
}
END_TEST

/* ---- PostgreSQL only ---- */

START_TEST(test_pg_ping_recovers_after_the_connection_is_killed) {
        Store *s = open_store();
        Error e = ERROR_INIT;
        char sql[256], id[UUID_STRING_MAX];

        make_execution(s, NULL, id);
        snprintf(sql, sizeof sql,
                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' AND pid <> "
                 "pg_backend_pid()",
                 pg_db);
        pg_admin(sql);
        usleep(100 * 1000);
        ck_assert_msg(store_ping(s, &e) == 0, "ping after the backend was killed: %s", e.message);
        StoreExecution g = {};
        ck_assert_int_eq(store_execution_get(s, id, &g), 0);
        store_execution_done(&g);
        store_close(s);
}
END_TEST

/* ---- suite ---- */

static TCase *backend_tcase(const char *name, void (*setup)(void), void (*teardown)(void)) {
        const TTest *const tests[] = {
                test_open_applies_migrations_once_and_is_idempotent,
                test_open_from_many_processes_at_once_migrates_once,
                test_open_extends_the_start_timeout_while_migrating,
                test_open_upgrades_a_version_1_database_keeping_its_rows,
                test_open_refuses_a_database_newer_than_this_build,
                test_agents_put_get_list_delete,
                test_agents_are_named_per_tenant,
                test_open_gives_old_agents_to_the_tenant_that_ran_them,
                test_execution_create_get_round_trips_every_field,
                test_execution_values_are_bound_not_spliced,
                test_execution_transitions_are_guarded,
                test_execution_list_paginates_newest_first_with_stable_cursor,
                test_execution_claim_lease_and_heartbeat,
                test_execution_output_delete_and_prune,
                test_iterations_begin_update_list_and_bound_output,
                test_containers_record_update_list,
                test_events_are_ordered_per_execution,
                test_batch_commits_its_writes_at_its_outermost_end,
                test_volumes_crud_tenant_lookup_and_expiry,
                test_volume_users_count_owners_and_attachments_until_they_finish,
                test_reaper_backoff_get_put_delete,
                test_open_existing_leaves_a_new_database_without_a_schema,
                test_open_read_only_creates_and_writes_nothing,
                test_reaper_run_keeps_one_row_per_host_and_the_last_success,
                test_conversation_put_replaces_get_lists_and_cascades,
                test_conversation_messages_are_rows_spliced_in_order,
                test_store_id_is_made_with_the_schema_and_kept,
                test_store_id_is_given_to_a_version_2_database_on_upgrade,
                test_concurrent_claims_never_hand_out_the_same_execution,
                test_concurrent_event_appends_stay_gapless,
        };
        TCase *tc = tcase_create(name);
        tcase_set_timeout(tc, 120);
        tcase_add_checked_fixture(tc, setup, teardown);
        for (size_t i = 0; i < ELEMENTSOF(tests); i++)
                tcase_add_test(tc, tests[i]);
        return tc;
}

int main(void) {
        Suite *s = suite_create("store");
        TCase *tc = tcase_create("common");
        tcase_add_test(tc, test_open_rejects_bad_urls_naming_the_field);
        tcase_add_test(tc, test_url_redact_hides_passwords);
        tcase_add_test(tc, test_enum_strings_round_trip);
        suite_add_tcase(s, tc);

        suite_add_tcase(s, backend_tcase("sqlite", setup_sqlite, teardown_sqlite));
        if (getenv("AEGIS_TEST_PG_PORT")) {
                tc = backend_tcase("postgresql", setup_pg, teardown_pg);
                tcase_add_test(tc, test_pg_ping_recovers_after_the_connection_is_killed);
                suite_add_tcase(s, tc);
        } else if (streq(getenv("CI"), "true")) {
                fprintf(stderr, "FAIL: AEGIS_TEST_PG_PORT is not set: run tests/integration/test-store.sh, "
                                "which starts PostgreSQL\n");
                return 1;
        } else
                fprintf(stderr, "SKIP: postgresql half of the store suite: AEGIS_TEST_PG_PORT is not set "
                                "(tests/integration/test-store.sh starts a server)\n");
        return run_suite(s);
}
