/* store-sqlite.c — the embedded backend: one SQLite file in the state directory.
 *
 * WAL journal (readers never block the writer) with synchronous=NORMAL: a committed row survives
 * any crash of the process (the case the write-before-side-effect rule is about: kill -9 of
 * aegisd); only a power cut may lose the last commits, and it also stops every container, which
 * the reaper then removes by label. FULL would cost an fsync per commit — about 5 ms each here,
 * 18 commits per execution — for no gain in that case. Foreign keys on (deleting an
 * execution cascades), a busy timeout so several processes (aegisd, aegis-reaper, aegis-nfsd)
 * can share the file. Write transactions start with BEGIN IMMEDIATE so they take the write
 * lock up front and wait for it, instead of failing on upgrade. The file is created 0600.
 *
 * Prepared statements are kept per connection, by SQL text (the store's statements are a small
 * fixed set plus a few filter combinations), and reset after each use: preparing costs more
 * than running a primary-key look-up (GET /v1/executions/{id} runs several per request). */
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "store-internal.h"
#include "store-schema.h"

#define SQLITE_BUSY_TIMEOUT_MS 10000
#define STMT_CACHE_SIZE 64

typedef struct CachedStmt {
        char *sql;
        sqlite3_stmt *st;
} CachedStmt;

typedef struct SqliteConn {
        sqlite3 *db;
        CachedStmt cache[STMT_CACHE_SIZE];
        unsigned n_cached, next_evict;
} SqliteConn;

static sqlite3 *db_of(Store *s) {
        return s->conn ? ((SqliteConn *) s->conn)->db : NULL;
}

/* A prepared statement for sql, from the cache or prepared now and cached (evicting round-robin
 * when full). The caller resets it after use (stmt_release). */
static int stmt_get(Store *s, const char *sql, sqlite3_stmt **ret) {
        SqliteConn *c = s->conn;
        CachedStmt *slot;
        sqlite3_stmt *st = NULL;
        char *copy;
        int rc;

        for (unsigned i = 0; i < c->n_cached; i++)
                if (streq(c->cache[i].sql, sql)) {
                        *ret = c->cache[i].st;
                        return SQLITE_OK;
                }
        rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return rc;
        copy = strdup(sql);
        if (!copy) {
                sqlite3_finalize(st);
                return SQLITE_NOMEM;
        }
        if (c->n_cached < STMT_CACHE_SIZE)
                slot = &c->cache[c->n_cached++];
        else {
                slot = &c->cache[c->next_evict];
                c->next_evict = (c->next_evict + 1) % STMT_CACHE_SIZE;
                sqlite3_finalize(slot->st);
                free(slot->sql);
        }
        *slot = (CachedStmt){ .sql = copy, .st = st };
        *ret = st;
        return SQLITE_OK;
}

static void stmt_release(sqlite3_stmt *st) {
        (void) sqlite3_reset(st);
        (void) sqlite3_clear_bindings(st);
}

static int sqlite_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_DONE:
        case SQLITE_ROW:
                return 0;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CONSTRAINT:
                switch (rc) {
                case SQLITE_CONSTRAINT_UNIQUE:
                case SQLITE_CONSTRAINT_PRIMARYKEY:
                        return -EEXIST;
                case SQLITE_CONSTRAINT_FOREIGNKEY:
                        return -ENOENT;
                default:
                        return -EINVAL;
                }
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
        case SQLITE_TOOBIG:
                return -EINVAL;
        default:
                return -EIO;
        }
}

static int fail(Store *s, int rc) {
        return store_set_error(s, sqlite_errno(rc), "sqlite: %s", sqlite3_errmsg(db_of(s)));
}

static int sqlite_connect(Store *s, const char *path, Error *e) {
        sqlite3 *db = NULL;
        int rc, r;

        if (s->read_only && access(path, F_OK) < 0)
                return error_set_field(e, negative_errno(), "database.url",
                                       "cannot open SQLite database %s: %m", path);
        if (!s->read_only && strcmp(path, ":memory:") != 0) {
                /* Create it 0600 ourselves: SQLite would honour only the umask. */
                _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
                if (fd < 0)
                        return error_set_field(
                                e, negative_errno(), "database.url",
                                "cannot open SQLite database %s: %m; the directory must exist and be "
                                "writable by this user",
                                path);
        }

        rc = sqlite3_open_v2(
                path, &db,
                (s->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                        SQLITE_OPEN_NOMUTEX,
                NULL);
        if (rc != SQLITE_OK) {
                r = error_set_field(e, sqlite_errno(rc) ?: -EIO, "database.url",
                                    "cannot open SQLite database %s: %s", path,
                                    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
                sqlite3_close(db);
                return r;
        }
        s->conn = calloc(1, sizeof(SqliteConn));
        if (!s->conn) {
                sqlite3_close(db);
                return error_set(e, -ENOMEM, "out of memory");
        }
        ((SqliteConn *) s->conn)->db = db;
        sqlite3_extended_result_codes(db, 1);
        sqlite3_busy_timeout(db, SQLITE_BUSY_TIMEOUT_MS);

        static const char *const pragmas[] = {
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=NORMAL",
                "PRAGMA foreign_keys=ON",
        };
        /* Read-only: the journal mode is the writer's to choose; foreign keys matter to writes. */
        for (size_t i = 0; !s->read_only && i < ELEMENTSOF(pragmas); i++) {
                /* Switching to WAL takes the database's exclusive lock, and SQLite answers BUSY at
                 * once, without its busy handler, while another process opening the same new
                 * database is switching it too: retry for as long as the busy timeout. */
                uint64_t deadline = now_usec(CLOCK_MONOTONIC) + SQLITE_BUSY_TIMEOUT_MS * USEC_PER_MSEC;
                while ((rc = sqlite3_exec(db, pragmas[i], NULL, NULL, NULL)) != SQLITE_OK &&
                       (rc & 0xff) == SQLITE_BUSY && now_usec(CLOCK_MONOTONIC) < deadline)
                        sqlite3_sleep(10);
                if (rc != SQLITE_OK)
                        return error_set_field(e, sqlite_errno(rc) ?: -EIO, "database.url", "%s: %s: %s",
                                               path, pragmas[i], sqlite3_errmsg(db));
        }
        return 0;
}

static void sqlite_disconnect(Store *s) {
        SqliteConn *c = s->conn;

        if (!c)
                return;
        for (unsigned i = 0; i < c->n_cached; i++) {
                sqlite3_finalize(c->cache[i].st);
                free(c->cache[i].sql);
        }
        sqlite3_close_v2(c->db);
        free(c);
        s->conn = NULL;
}

static int bind_params(Store *s, sqlite3_stmt *st, const StoreParam *params, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int rc;
                switch (params[i].type) {
                case STORE_PARAM_NULL:
                        rc = sqlite3_bind_null(st, (int) i + 1);
                        break;
                case STORE_PARAM_TEXT:
                        rc = sqlite3_bind_text(st, (int) i + 1, params[i].text, -1, SQLITE_STATIC);
                        break;
                case STORE_PARAM_INT:
                        rc = sqlite3_bind_int64(st, (int) i + 1, params[i].i);
                        break;
                default:
                        return store_set_error(s, -EINVAL, "sqlite: bad parameter type");
                }
                if (rc != SQLITE_OK)
                        return fail(s, rc);
        }
        return 0;
}

static int sqlite_exec(Store *s, const char *sql, const StoreParam *params, size_t n_params,
                       StoreRows *ret_rows, uint64_t *ret_changes) {
        sqlite3_stmt *st = NULL;
        StoreRows rows = {};
        size_t cap = 0;
        int rc, r;

        rc = stmt_get(s, sql, &st);
        if (rc != SQLITE_OK)
                return fail(s, rc);
        if ((size_t) sqlite3_bind_parameter_count(st) != n_params)
                return store_set_error(s, -EINVAL, "sqlite: %zu parameters for a statement with %d",
                                       n_params, sqlite3_bind_parameter_count(st));
        r = bind_params(s, st, params, n_params);
        if (r < 0)
                goto finish;

        rows.ncols = (size_t) sqlite3_column_count(st);
        for (;;) {
                rc = sqlite3_step(st);
                if (rc == SQLITE_DONE)
                        break;
                if (rc != SQLITE_ROW) {
                        r = fail(s, rc);
                        goto finish;
                }
                if (!ret_rows || rows.ncols == 0)
                        continue;
                if ((rows.nrows + 1) * rows.ncols > cap) {
                        size_t ncap = MAX(cap * 2, rows.ncols * 8);
                        char **n = realloc(rows.cells, ncap * sizeof(char *));
                        if (!n) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        rows.cells = n;
                        cap = ncap;
                }
                for (size_t c = 0; c < rows.ncols; c++) {
                        char **cell = &rows.cells[rows.nrows * rows.ncols + c];
                        const unsigned char *t = sqlite3_column_text(st, (int) c);
                        if (!t) {
                                *cell = NULL;
                                if (sqlite3_column_type(st, (int) c) != SQLITE_NULL) {
                                        /* Fill the row so store_rows_done() sees no garbage. */
                                        for (size_t k = c + 1; k < rows.ncols; k++)
                                                rows.cells[rows.nrows * rows.ncols + k] = NULL;
                                        rows.nrows++;
                                        r = -ENOMEM;
                                        goto finish;
                                }
                                continue;
                        }
                        *cell = strdup((const char *) t);
                        if (!*cell) {
                                for (size_t k = c + 1; k < rows.ncols; k++)
                                        rows.cells[rows.nrows * rows.ncols + k] = NULL;
                                rows.nrows++;
                                r = -ENOMEM;
                                goto finish;
                        }
                }
                rows.nrows++;
        }
        r = 0;
        if (ret_changes)
                *ret_changes = (uint64_t) sqlite3_changes64(db_of(s));
        if (ret_rows) {
                *ret_rows = rows;
                rows = (StoreRows){};
        }
finish:
        stmt_release(st);
        store_rows_done(&rows);
        return r;
}

static int sqlite_exec_script(Store *s, const char *sql) {
        int rc = sqlite3_exec(db_of(s), sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : fail(s, rc);
}

static int sqlite_ping(Store *s) {
        return sqlite_exec(s, "SELECT 1", NULL, 0, NULL, NULL);
}

static const char sqlite_v1[] = STORE_SCHEMA_V1("INTEGER PRIMARY KEY AUTOINCREMENT");

static const char sqlite_v2[] = STORE_SCHEMA_V2;

static const char sqlite_v3[] = STORE_SCHEMA_V3;

static const char sqlite_v4[] = STORE_SCHEMA_V4;

static const char sqlite_v5[] = STORE_SCHEMA_V5;

static const char sqlite_v6[] = STORE_SCHEMA_V6;

static const char sqlite_v7[] = STORE_SCHEMA_V7;

static const char sqlite_v8[] = STORE_SCHEMA_V8;

static const char sqlite_v9[] = STORE_SCHEMA_V9;

static const char *const sqlite_migrations[] = {
        sqlite_v1, sqlite_v2, sqlite_v3, sqlite_v4, sqlite_v5, sqlite_v6, sqlite_v7, sqlite_v8, sqlite_v9,
};

const StoreBackendOps store_sqlite_ops = {
        .name = "sqlite",
        .connect = sqlite_connect,
        .disconnect = sqlite_disconnect,
        .ping = sqlite_ping,
        .exec = sqlite_exec,
        .exec_script = sqlite_exec_script,
        .begin_sql = "BEGIN IMMEDIATE",
        .skip_locked = "",
        .schema_table_exists_sql = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
                                   "'schema_version'",
        .migrations = sqlite_migrations,
        .n_migrations = ELEMENTSOF(sqlite_migrations),
};
