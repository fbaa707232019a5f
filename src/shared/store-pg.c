/* store-pg.c — the PostgreSQL backend, through libpq, for production and several hosts.
 *
 * Statements use the '?' placeholders of store.c, rewritten here to $1…$n; every value is sent
 * as a parameter (integers typed int8, text left for the server to infer from the column). A
 * connection that broke between statements is re-established once before the next statement
 * (never inside a transaction, whose outcome the caller must learn). Migrations of several
 * hosts starting at once are serialized with a session advisory lock. libpq itself is loaded
 * on the first connect (pq-dlopen.h), so programs using SQLite never map it. */
#include <string.h>

#include "pq-dlopen.h"
#include "store-internal.h"
#include "store-schema.h"

#define PG_INT8OID 20
#define PG_MIGRATION_LOCK_KEY "7463201"
#define PG_CONNECT_TIMEOUT_SECS "10"
#define PG_MAX_PARAMS 64

static PGconn *conn_of(Store *s) {
        return s->conn;
}

static void notice_ignore(void *arg, const char *message) {
}

/* libpq messages span lines ("ERROR: …\nDETAIL: …\n"); ours are one line: "…; DETAIL: …". */
static void one_line(char *buf, size_t size) {
        char out[ERROR_MESSAGE_MAX];
        size_t o = 0;
        for (const char *p = buf; *p && o + 3 < sizeof out;) {
                if (*p == '\n' || *p == '\t') {
                        while (*p == '\n' || *p == '\t' || *p == ' ')
                                p++;
                        if (*p && o > 0) {
                                out[o++] = ';';
                                out[o++] = ' ';
                        }
                        continue;
                }
                out[o++] = *p++;
        }
        out[o] = 0;
        (void) snprintf(buf, size, "%s", out);
}

static int pg_fail(Store *s, int code, const char *what, const char *msg) {
        char buf[sizeof s->last_error];
        (void) snprintf(buf, sizeof buf, "%s", strempty(msg));
        one_line(buf, sizeof buf);
        return store_set_error(s, code, "postgresql: %s%s%s", strempty(what), what && *buf ? ": " : "", buf);
}

static int sqlstate_errno(const char *st) {
        if (!st)
                return -EIO;
        if (streq(st, "23505"))
                return -EEXIST;
        if (streq(st, "23503"))
                return -ENOENT;
        if (startswith(st, "23") || startswith(st, "22"))
                return -EINVAL;
        if (streq(st, "40001") || streq(st, "40P01") || streq(st, "55P03"))
                return -EBUSY;
        if (startswith(st, "08") || streq(st, "57P01") || streq(st, "57P02") || streq(st, "57P03"))
                return -ECONNRESET;
        if (streq(st, "53100"))
                return -ENOSPC;
        if (startswith(st, "42501") || startswith(st, "28"))
                return -EACCES;
        return -EIO;
}

/* What every connection (and every reconnection) starts with. */
static int session_setup(Store *s) {
        sym_PQsetNoticeProcessor(conn_of(s), notice_ignore, NULL);
        if (!s->read_only)
                return 0;
        PGresult *res = sym_PQexec(conn_of(s), "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
        int r = sym_PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -EIO;
        sym_PQclear(res);
        return r;
}

static int pg_connect(Store *s, const char *url, Error *e) {
        /* Later keywords win: the URL may set its own connect_timeout / application_name. */
        const char *const keys[] = { "connect_timeout", "application_name", "dbname", NULL };
        const char *const vals[] = { PG_CONNECT_TIMEOUT_SECS, program_invocation_short_name, url, NULL };
        int r = pq_dlopen(e);
        if (r < 0)
                return r;
        PGconn *c = sym_PQconnectdbParams(keys, vals, 1);

        if (!c)
                return error_set_field(e, -ENOMEM, "database.url", "out of memory connecting to PostgreSQL");
        if (sym_PQstatus(c) != CONNECTION_OK) {
                char msg[ERROR_MESSAGE_MAX];
                (void) snprintf(msg, sizeof msg, "%s", sym_PQerrorMessage(c));
                one_line(msg, sizeof msg);
                sym_PQfinish(c);
                return error_set_field(
                        e, -ECONNREFUSED, "database.url",
                        "cannot connect to PostgreSQL at %s: %s; check database.url / $DATABASE_URL "
                        "and that the server runs",
                        s->url_redacted, msg);
        }
        s->conn = c;
        if (session_setup(s) < 0)
                return error_set_field(e, -EIO, "database.url",
                                       "%s: cannot make the connection read-only: %s", s->url_redacted,
                                       sym_PQerrorMessage(c));
        return 0;
}

static void pg_disconnect(Store *s) {
        if (s->conn)
                sym_PQfinish(conn_of(s));
        s->conn = NULL;
}

static int ensure_connected(Store *s) {
        if (sym_PQstatus(conn_of(s)) == CONNECTION_OK)
                return 0;
        if (s->in_transaction)
                return pg_fail(s, -ECONNRESET, "connection lost inside a transaction", NULL);
        sym_PQreset(conn_of(s));
        if (sym_PQstatus(conn_of(s)) != CONNECTION_OK)
                return pg_fail(s, -ECONNRESET, "connection lost", sym_PQerrorMessage(conn_of(s)));
        if (session_setup(s) < 0)
                return pg_fail(s, -ECONNRESET, "cannot make the connection read-only",
                               sym_PQerrorMessage(conn_of(s)));
        return 0;
}

/* '?' → '$n'. store.c never puts '?' inside a literal. */
static char *rewrite_placeholders(const char *sql, size_t *ret_count) {
        size_t n = 0, len = strlen(sql);
        for (const char *p = sql; *p; p++)
                n += *p == '?';
        char *out = malloc(len + n * 4 + 1), *o = out;
        if (!out)
                return NULL;
        size_t k = 0;
        for (const char *p = sql; *p; p++) {
                if (*p == '?')
                        o += snprintf(o, 6, "$%zu", ++k);
                else
                        *o++ = *p;
        }
        *o = 0;
        *ret_count = n;
        return out;
}

static int result_errno(Store *s, PGresult *res) {
        const char *st = sym_PQresultErrorField(res, PG_DIAG_SQLSTATE);
        int r = sqlstate_errno(st);
        if (!st && sym_PQstatus(conn_of(s)) != CONNECTION_OK)
                r = -ECONNRESET;
        return pg_fail(s, r, NULL, sym_PQresultErrorMessage(res));
}

static int pg_exec(Store *s, const char *sql, const StoreParam *params, size_t n_params, StoreRows *ret_rows,
                   uint64_t *ret_changes) {
        const char *values[PG_MAX_PARAMS];
        unsigned types[PG_MAX_PARAMS];
        char ints[PG_MAX_PARAMS][24];
        StoreRows rows = {};
        size_t n_placeholders = 0;
        int r;

        if (n_params > PG_MAX_PARAMS)
                return store_set_error(s, -E2BIG, "postgresql: too many parameters");
        r = ensure_connected(s);
        if (r < 0)
                return r;
        _cleanup_free_ char *q = rewrite_placeholders(sql, &n_placeholders);
        if (!q)
                return -ENOMEM;
        if (n_placeholders != n_params)
                return store_set_error(s, -EINVAL, "postgresql: %zu parameters for a statement with %zu",
                                       n_params, n_placeholders);

        for (size_t i = 0; i < n_params; i++) {
                switch (params[i].type) {
                case STORE_PARAM_NULL:
                        values[i] = NULL;
                        types[i] = 0;
                        break;
                case STORE_PARAM_TEXT:
                        values[i] = params[i].text;
                        types[i] = 0;
                        break;
                case STORE_PARAM_INT:
                        snprintf(ints[i], sizeof ints[i], "%" PRId64, params[i].i);
                        values[i] = ints[i];
                        types[i] = PG_INT8OID;
                        break;
                default:
                        return store_set_error(s, -EINVAL, "postgresql: bad parameter type");
                }
        }

        PGresult *res = sym_PQexecParams(conn_of(s), q, (int) n_params, types, values, NULL, NULL, 0);
        if (!res)
                return pg_fail(s, sym_PQstatus(conn_of(s)) == CONNECTION_OK ? -ENOMEM : -ECONNRESET, NULL,
                               sym_PQerrorMessage(conn_of(s)));
        ExecStatusType st = sym_PQresultStatus(res);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
                r = result_errno(s, res);
                sym_PQclear(res);
                return r;
        }

        if (ret_rows && st == PGRES_TUPLES_OK) {
                rows.nrows = (size_t) sym_PQntuples(res);
                rows.ncols = (size_t) sym_PQnfields(res);
                if (rows.nrows * rows.ncols > 0) {
                        rows.cells = calloc(rows.nrows * rows.ncols, sizeof(char *));
                        if (!rows.cells) {
                                sym_PQclear(res);
                                return -ENOMEM;
                        }
                }
                for (size_t i = 0; i < rows.nrows; i++)
                        for (size_t c = 0; c < rows.ncols; c++) {
                                if (sym_PQgetisnull(res, (int) i, (int) c))
                                        continue;
                                rows.cells[i * rows.ncols + c] =
                                        strdup(sym_PQgetvalue(res, (int) i, (int) c));
                                if (!rows.cells[i * rows.ncols + c]) {
                                        sym_PQclear(res);
                                        store_rows_done(&rows);
                                        return -ENOMEM;
                                }
                        }
        }
        if (ret_changes) {
                uint64_t n = 0;
                const char *t = sym_PQcmdTuples(res);
                if (!isempty(t))
                        (void) safe_atou64(t, &n);
                *ret_changes = n;
        }
        sym_PQclear(res);
        if (ret_rows)
                *ret_rows = rows;
        return 0;
}

static int pg_exec_script(Store *s, const char *sql) {
        int r = ensure_connected(s);
        if (r < 0)
                return r;
        PGresult *res = sym_PQexec(conn_of(s), sql);
        if (!res)
                return pg_fail(s, -ENOMEM, NULL, sym_PQerrorMessage(conn_of(s)));
        ExecStatusType st = sym_PQresultStatus(res);
        r = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : result_errno(s, res);
        sym_PQclear(res);
        return r;
}

/* A ping may retry once on a fresh connection (it changes nothing), so /health/ready recovers on
 * its first call after the server restarted. */
static int pg_ping(Store *s) {
        int r = pg_exec(s, "SELECT 1", NULL, 0, NULL, NULL);
        if (r == -ECONNRESET && !s->in_transaction)
                r = pg_exec(s, "SELECT 1", NULL, 0, NULL, NULL);
        return r;
}

static const char pg_v1[] = STORE_SCHEMA_V1("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");

static const char pg_v2[] = STORE_SCHEMA_V2;

static const char pg_v3[] = STORE_SCHEMA_V3;

static const char pg_v4[] = STORE_SCHEMA_V4;

static const char pg_v5[] = STORE_SCHEMA_V5;

static const char pg_v6[] = STORE_SCHEMA_V6;

static const char pg_v7[] = STORE_SCHEMA_V7;

static const char pg_v8[] = STORE_SCHEMA_V8;

static const char pg_v9[] = STORE_SCHEMA_V9;

static const char *const pg_migrations[] = {
        pg_v1, pg_v2, pg_v3, pg_v4, pg_v5, pg_v6, pg_v7, pg_v8, pg_v9,
};

const StoreBackendOps store_pg_ops = {
        .name = "postgresql",
        .connect = pg_connect,
        .disconnect = pg_disconnect,
        .ping = pg_ping,
        .exec = pg_exec,
        .exec_script = pg_exec_script,
        .begin_sql = "BEGIN",
        .migration_lock_sql = "SELECT pg_advisory_lock(" PG_MIGRATION_LOCK_KEY ")",
        .migration_unlock_sql = "SELECT pg_advisory_unlock(" PG_MIGRATION_LOCK_KEY ")",
        .skip_locked = " FOR UPDATE SKIP LOCKED",
        .schema_table_exists_sql = "SELECT count(*) FROM pg_catalog.pg_class "
                                   "WHERE oid = to_regclass('schema_version')",
        .migrations = pg_migrations,
        .n_migrations = ELEMENTSOF(pg_migrations),
};
