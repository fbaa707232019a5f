/* store-internal.h — what store.c needs from a backend (store-sqlite.c, store-pg.c).
 *
 * store.c holds every query (one SQL text for both backends, '?' placeholders, values always
 * bound) and the row ↔ record mapping; a backend only connects, runs one statement with bound
 * parameters into a materialized table of nullable strings, runs a migration script, and maps
 * its errors to negative errno. Not part of the public interface. */
#pragma once

#include <stdarg.h>

#include "store.h"

typedef enum StoreParamType {
        STORE_PARAM_NULL,
        STORE_PARAM_TEXT,
        STORE_PARAM_INT,
} StoreParamType;

typedef struct StoreParam {
        StoreParamType type;
        const char *text;
        int64_t i;
} StoreParam;

static inline StoreParam store_param_text(const char *s) {
        return (StoreParam){ .type = s ? STORE_PARAM_TEXT : STORE_PARAM_NULL, .text = s };
}
#define P_TEXT(s) store_param_text(s)
#define P_INT(v) ((StoreParam){ .type = STORE_PARAM_INT, .i = (int64_t) (v) })

/* A result: nrows × ncols cells, each a malloc'd string or NULL for SQL NULL. */
typedef struct StoreRows {
        size_t nrows, ncols;
        char **cells;
} StoreRows;

void store_rows_done(StoreRows *r);
static inline const char *store_rows_get(const StoreRows *r, size_t row, size_t col) {
        return r->cells[row * r->ncols + col];
}

typedef struct StoreBackendOps {
        const char *name;
        /* target: the path (sqlite) or the whole URL (postgresql). */
        int (*connect)(Store *s, const char *target, Error *e);
        void (*disconnect)(Store *s);
        int (*ping)(Store *s);
        /* One statement; ret_rows and ret_changes may be NULL. */
        int (*exec)(Store *s, const char *sql, const StoreParam *params, size_t n_params,
                    StoreRows *ret_rows, uint64_t *ret_changes);
        /* Several statements without parameters (migrations). */
        int (*exec_script)(Store *s, const char *sql);
        const char *begin_sql; /* a write transaction */
        const char *migration_lock_sql; /* NULL when begin_sql already serializes */
        const char *migration_unlock_sql;
        const char *skip_locked; /* appended to the claim's inner SELECT */
        /* One row, one column: 1 when the schema_version table exists, else 0. */
        const char *schema_table_exists_sql;
        const char *const *migrations; /* migrations[i] brings the schema to version i+1 */
        size_t n_migrations;
} StoreBackendOps;

struct Store {
        const StoreBackendOps *ops;
        void *conn;
        char *url_redacted;
        unsigned schema_version;
        unsigned schema_found; /* the version before migrating; 0 = no schema */
        char id[UUID_STRING_MAX]; /* store_identity.id; "" while the schema is absent */
        bool no_create; /* store_open_existing(): do not create a missing schema */
        bool read_only; /* store_open_read_only(): never write, create or migrate */
        bool in_transaction;
        unsigned batch_depth; /* store_batch_begin() calls not ended yet */
        bool in_savepoint; /* a tx_begin() inside a batch: a savepoint of its transaction */
        char last_error[512];
};

extern const StoreBackendOps store_sqlite_ops;
extern const StoreBackendOps store_pg_ops;

/* Records the database's message for store_last_error(); returns code. */
int store_set_error(Store *s, int code, const char *fmt, ...) _printf_(3, 4);
