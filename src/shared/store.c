/* store.c — the execution store's one implementation of every operation, over either backend.
 *
 * Each operation is one SQL text valid on SQLite and PostgreSQL, with '?' placeholders and every
 * value bound (the only text ever spliced into SQL is constant fragments chosen here). The
 * guarded transitions are single conditional UPDATEs, so they hold against concurrent writers
 * without explicit locks; when an UPDATE changes nothing, a follow-up SELECT only explains why.
 * Text that comes from containers (stdout, stderr, output, event payloads) is made valid UTF-8
 * (PostgreSQL refuses anything else) and bounded before it is stored. */
#include <assert.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "redact.h"
#include "store-internal.h"
#include "store-schema.h"
#include "string-table.h"

/* ---- enum tables ---- */

static const char *const execution_status_table[_EXECUTION_STATUS_MAX] = {
        [EXECUTION_PENDING] = "pending",     [EXECUTION_RUNNING] = "running",
        [EXECUTION_COMPLETED] = "completed", [EXECUTION_FAILED] = "failed",
        [EXECUTION_CANCELLED] = "cancelled",
};
static const char *const iteration_status_table[_ITERATION_STATUS_MAX] = {
        [ITERATION_RUNNING] = "running",
        [ITERATION_SUCCEEDED] = "succeeded",
        [ITERATION_FAILED] = "failed",
        [ITERATION_CANCELLED] = "cancelled",
};
static const char *const container_state_table[_CONTAINER_STATE_MAX] = {
        [CONTAINER_CREATED] = "created",
        [CONTAINER_RUNNING] = "running",
        [CONTAINER_REMOVED] = "removed",
};
static const char *const volume_status_table[_VOLUME_STATUS_MAX] = {
        [VOLUME_ACTIVE] = "active",
        [VOLUME_DELETED] = "deleted",
};

DEFINE_STRING_TABLE_LOOKUP(execution_status, ExecutionStatus)
DEFINE_STRING_TABLE_LOOKUP(iteration_status, IterationStatus)
DEFINE_STRING_TABLE_LOOKUP(container_state, ContainerState)
DEFINE_STRING_TABLE_LOOKUP(volume_status, VolumeStatus)

bool execution_status_is_terminal(ExecutionStatus s) {
        return s == EXECUTION_COMPLETED || s == EXECUTION_FAILED || s == EXECUTION_CANCELLED;
}

/* ---- records ---- */

void store_agent_done(StoreAgent *a) {
        if (!a)
                return;
        free(a->name);
        free(a->version);
        free(a->manifest_json);
        free(a->tenant_id);
        *a = (StoreAgent){};
}

void store_execution_done(StoreExecution *x) {
        if (!x)
                return;
        free(x->agent_id);
        free(x->agent_name);
        free(x->tenant_id);
        free(x->reason);
        free(x->input_json);
        free(x->manifest_json);
        free(x->output);
        free(x->claimed_by);
        *x = (StoreExecution){};
}

void store_iteration_done(StoreIteration *it) {
        if (!it)
                return;
        free(it->reason);
        free(it->container_id);
        free(it->stdout_text);
        free(it->stderr_text);
        free(it->judgement_json);
        free(it->usage_json);
        *it = (StoreIteration){};
}

void store_container_done(StoreContainer *c) {
        if (!c)
                return;
        free(c->name);
        free(c->container_id);
        *c = (StoreContainer){};
}

void store_event_done(StoreEvent *ev) {
        if (!ev)
                return;
        free(ev->type);
        free(ev->payload_json);
        *ev = (StoreEvent){};
}

void store_volume_done(StoreVolume *v) {
        if (!v)
                return;
        free(v->tenant_id);
        free(v->name);
        free(v->owner_execution_id);
        *v = (StoreVolume){};
}

void store_reaper_run_done(StoreReaperRun *r) {
        if (!r)
                return;
        free(r->host);
        free(r->counts_json);
        *r = (StoreReaperRun){};
}

void store_reaper_backoff_done(StoreReaperBackoff *b) {
        if (!b)
                return;
        free(b->container_id);
        *b = (StoreReaperBackoff){};
}

#define DEFINE_ARRAY_FREE(type, name, done)    \
        void name(type *a, size_t n) {         \
                if (!a)                        \
                        return;                \
                for (size_t i = 0; i < n; i++) \
                        done(&a[i]);           \
                free(a);                       \
        }

DEFINE_ARRAY_FREE(StoreAgent, store_agent_array_free, store_agent_done)
DEFINE_ARRAY_FREE(StoreExecution, store_execution_array_free, store_execution_done)
DEFINE_ARRAY_FREE(StoreIteration, store_iteration_array_free, store_iteration_done)
DEFINE_ARRAY_FREE(StoreContainer, store_container_array_free, store_container_done)
DEFINE_ARRAY_FREE(StoreEvent, store_event_array_free, store_event_done)
DEFINE_ARRAY_FREE(StoreVolume, store_volume_array_free, store_volume_done)

void store_rows_done(StoreRows *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->nrows * r->ncols; i++)
                free(r->cells[i]);
        free(r->cells);
        *r = (StoreRows){};
}

/* ---- helpers ---- */

int store_set_error(Store *s, int code, const char *fmt, ...) {
        va_list ap;

        assert(s);
        assert(fmt);
        va_start(ap, fmt);
        (void) vsnprintf(s->last_error, sizeof s->last_error, fmt, ap);
        va_end(ap);
        return code;
}

const char *store_last_error(const Store *s) {
        return s ? s->last_error : "";
}

#define PARAMS(...) ((const StoreParam[]){ __VA_ARGS__ }), ELEMENTSOF(((const StoreParam[]){ __VA_ARGS__ }))

static int run(Store *s, const char *sql, const StoreParam *p, size_t n, StoreRows *rows,
               uint64_t *changes) {
        return s->ops->exec(s, sql, p, n, rows, changes);
}

/* A write transaction; inside a batch (store_batch_begin()), a savepoint of the batch's, so
 * the operation is still all or nothing and a failure leaves the batch's other writes. */
static int tx_begin(Store *s) {
        int r;

        if (s->batch_depth > 0) {
                assert(!s->in_savepoint);
                r = run(s, "SAVEPOINT store_tx", NULL, 0, NULL, NULL);
                if (r >= 0)
                        s->in_savepoint = true;
                return r;
        }
        r = run(s, s->ops->begin_sql, NULL, 0, NULL, NULL);
        if (r >= 0)
                s->in_transaction = true;
        return r;
}

static void tx_rollback(Store *s) {
        char saved[sizeof s->last_error];

        memcpy(saved, s->last_error, sizeof saved);
        if (s->in_savepoint) {
                (void) run(s, "ROLLBACK TO SAVEPOINT store_tx", NULL, 0, NULL, NULL);
                (void) run(s, "RELEASE SAVEPOINT store_tx", NULL, 0, NULL, NULL);
                s->in_savepoint = false;
        } else if (s->in_transaction) {
                (void) run(s, "ROLLBACK", NULL, 0, NULL, NULL);
                s->in_transaction = false;
        }
        memcpy(s->last_error, saved, sizeof saved);
}

static int tx_commit(Store *s) {
        int r;

        if (s->in_savepoint) {
                r = run(s, "RELEASE SAVEPOINT store_tx", NULL, 0, NULL, NULL);
                if (r < 0) {
                        tx_rollback(s);
                        return r;
                }
                s->in_savepoint = false;
                return 0;
        }
        r = run(s, "COMMIT", NULL, 0, NULL, NULL);
        if (r < 0) {
                tx_rollback(s);
                return r;
        }
        s->in_transaction = false;
        return 0;
}

int store_batch_begin(Store *s) {
        int r;

        assert(s);
        assert(!s->in_savepoint);
        if (s->batch_depth > 0) {
                s->batch_depth++;
                return 0;
        }
        if (s->in_transaction)
                return store_set_error(s, -EBUSY, "a transaction is already open");
        r = tx_begin(s);
        if (r < 0)
                return r;
        s->batch_depth = 1;
        return 0;
}

int store_batch_end(Store *s) {
        assert(s);
        assert(!s->in_savepoint);
        if (s->batch_depth == 0)
                return 0; /* its begin failed: nothing to commit */
        if (--s->batch_depth > 0)
                return 0;
        return tx_commit(s);
}

static uint64_t now(void) {
        return now_usec(CLOCK_REALTIME);
}

/* Takes ownership of a cell (leaves NULL behind). */
static char *take(StoreRows *r, size_t row, size_t col) {
        return TAKE_PTR(r->cells[row * r->ncols + col]);
}

static int cell_u64(const StoreRows *r, size_t row, size_t col, uint64_t *ret) {
        const char *t = store_rows_get(r, row, col);
        if (!t) {
                *ret = 0;
                return 0;
        }
        return safe_atou64(t, ret) < 0 ? -EIO : 0;
}

static int cell_i64(const StoreRows *r, size_t row, size_t col, int64_t *ret) {
        const char *t = store_rows_get(r, row, col);
        if (!t) {
                *ret = 0;
                return 0;
        }
        return safe_atoi64(t, ret) < 0 ? -EIO : 0;
}

static int cell_unsigned(const StoreRows *r, size_t row, size_t col, unsigned *ret) {
        uint64_t v;
        if (cell_u64(r, row, col, &v) < 0 || v > UINT32_MAX)
                return -EIO;
        *ret = (unsigned) v;
        return 0;
}

static int cell_id(const StoreRows *r, size_t row, size_t col, char ret[UUID_STRING_MAX]) {
        const char *t = store_rows_get(r, row, col);
        if (!t || strlen(t) >= UUID_STRING_MAX)
                return -EIO;
        memcpy(ret, t, strlen(t) + 1);
        return 0;
}

/* A caller-chosen id (validated) or, when empty, a new UUID. */
static int copy_id_in(char dst[UUID_STRING_MAX], const char *src) {
        size_t n;

        if (isempty(src))
                return random_uuid(dst);
        n = strnlen(src, UUID_STRING_MAX);
        if (n >= UUID_STRING_MAX || !id_is_valid(src))
                return -EINVAL;
        memcpy(dst, src, n + 1);
        return 0;
}

/* Valid UTF-8 copy of s: invalid bytes become U+FFFD. When max > 0, keeps only the last max
 * bytes, cut at a character boundary. */
static char *utf8_clean_tail(const char *s, size_t max) {
        size_t len = strlen(strempty(s));
        const unsigned char *p = (const unsigned char *) strempty(s), *end;

        if (max > 0 && len > max) {
                p += len - max;
                while ((*p & 0xC0) == 0x80)
                        p++;
        }
        end = (const unsigned char *) strempty(s) + len;

        char *out = malloc((size_t) (end - p) * 3 + 1), *o = out;
        if (!out)
                return NULL;
        while (p < end) {
                size_t n = utf8_char_len((const char *) p, (size_t) (end - p));
                bool ok = n > 0;
                if (ok) {
                        memcpy(o, p, n);
                        o += n;
                        p += n;
                } else {
                        memcpy(o, "\xEF\xBF\xBD", 3);
                        o += 3;
                        p++;
                }
        }
        *o = 0;
        if (max > 0 && (size_t) (o - out) > max) {
                /* Replacement characters made it longer: cut again, at a boundary. */
                char *q = o - max;
                while ((*(unsigned char *) q & 0xC0) == 0x80)
                        q++;
                memmove(out, q, (size_t) (o - q) + 1);
        }
        return out;
}

/* ---- open / close ---- */

char *store_url_redact(const char *url) {
        return redact_secrets(url);
}

char *store_default_url(const char *state_dir) {
        _cleanup_free_ char *p = path_join(state_dir, "aegis.db");
        return p ? asprintf_safe("sqlite://%s", p) : NULL;
}

unsigned store_schema_version_latest(void) {
        return (unsigned) store_sqlite_ops.n_migrations;
}

const char *store_id(const Store *s) {
        return s->id;
}

unsigned store_schema_version(const Store *s) {
        return s->schema_version;
}

unsigned store_schema_found(const Store *s) {
        return s->schema_found;
}

const char *store_url(const Store *s) {
        return s->url_redacted;
}

const char *store_backend(const Store *s) {
        return s->ops->name;
}

/* The store's identity, made with the schema version that brings its table (same transaction). */
static int create_identity(Store *s) {
        char id[UUID_STRING_MAX];
        int r = random_uuid(id);

        if (r < 0)
                return store_set_error(s, r, "cannot make the store's id: %s", strerror(-r));
        return run(s, "INSERT INTO store_identity (singleton, id, created_at) VALUES (1, ?, ?)",
                   PARAMS(P_TEXT(id), P_INT(now())), NULL, NULL);
}

static int load_identity(Store *s, Error *e) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        int r;

        if (s->schema_version < STORE_SCHEMA_VERSION_IDENTITY)
                return 0;
        r = run(s, "SELECT id FROM store_identity WHERE singleton = 1", NULL, 0, &rows, NULL);
        if (r >= 0 && (rows.nrows != 1 || cell_id(&rows, 0, 0, s->id) < 0 || isempty(s->id)))
                r = store_set_error(s, -EIO, "the store_identity table has no valid id");
        if (r < 0)
                return error_set_field(e, r, "database.url", "%s: cannot read the store's id: %s",
                                       s->url_redacted, s->last_error);
        return 0;
}

/* store_open_read_only(): what the database is at, changing nothing. */
static int read_schema_version(Store *s, Error *e) {
        const unsigned latest = (unsigned) s->ops->n_migrations;
        _cleanup_(store_rows_done) StoreRows rows = {};
        uint64_t v = 0;
        int r;

        r = run(s, s->ops->schema_table_exists_sql, NULL, 0, &rows, NULL);
        if (r >= 0 && (rows.nrows != 1 || cell_u64(&rows, 0, 0, &v) < 0))
                r = store_set_error(s, -EIO, "cannot tell whether the schema_version table exists");
        if (r >= 0 && v > 0) {
                store_rows_done(&rows);
                r = run(s, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, 0, &rows, NULL);
                if (r >= 0 && (rows.nrows != 1 || cell_u64(&rows, 0, 0, &v) < 0))
                        r = store_set_error(s, -EIO, "unreadable schema_version table");
        }
        if (r < 0)
                return error_set_field(e, r, "database.url", "%s: cannot read the schema version: %s",
                                       s->url_redacted, s->last_error);
        if (v > latest)
                return error_set_field(
                        e, -EPROTONOSUPPORT, "database.url",
                        "%s: the database schema is at version %" PRIu64
                        ", newer than this aegis knows (%u): upgrade aegis or use another database",
                        s->url_redacted, v, latest);
        s->schema_found = s->schema_version = (unsigned) v;
        return 0;
}

static int migrate(Store *s, StoreProgressFn progress, void *userdata, Error *e) {
        const unsigned latest = (unsigned) s->ops->n_migrations;
        int r;

        if (s->ops->migration_lock_sql) {
                r = run(s, s->ops->migration_lock_sql, NULL, 0, NULL, NULL);
                if (r < 0)
                        return error_set_field(e, r, "database.url",
                                               "%s: cannot lock the schema for migration: %s",
                                               s->url_redacted, s->last_error);
        }

        for (bool first = true;; first = false) {
                _cleanup_(store_rows_done) StoreRows rows = {};
                uint64_t v;

                r = tx_begin(s);
                if (r < 0)
                        break;
                r = s->ops->exec_script(s, "CREATE TABLE IF NOT EXISTS schema_version ("
                                           "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
                if (r >= 0)
                        r = run(s, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, 0, &rows,
                                NULL);
                if (r >= 0 && (rows.nrows != 1 || cell_u64(&rows, 0, 0, &v) < 0))
                        r = store_set_error(s, -EIO, "unreadable schema_version table");
                if (r < 0) {
                        tx_rollback(s);
                        break;
                }
                if (first)
                        s->schema_found = v <= latest ? (unsigned) v : latest;
                if (v == 0 && s->no_create) {
                        /* Undoes the schema_version table as well: nothing is left behind. */
                        tx_rollback(s);
                        s->schema_version = 0;
                        r = 0;
                        goto unlock;
                }
                if (v > latest) {
                        tx_rollback(s);
                        r = error_set_field(
                                e, -EPROTONOSUPPORT, "database.url",
                                "%s: the database schema is at version %" PRIu64
                                ", newer than this aegis knows (%u): upgrade aegis or use another database",
                                s->url_redacted, v, latest);
                        goto unlock;
                }
                if (v == latest) {
                        r = tx_commit(s);
                        s->schema_version = latest;
                        break;
                }
                if (progress)
                        progress((unsigned) v + 1, latest, userdata);
                r = s->ops->exec_script(s, s->ops->migrations[v]);
                if (r >= 0 && v + 1 == STORE_SCHEMA_VERSION_IDENTITY)
                        r = create_identity(s);
                if (r >= 0)
                        r = run(s, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                                PARAMS(P_INT(v + 1), P_INT(now())), NULL, NULL);
                if (r >= 0)
                        r = tx_commit(s);
                else
                        tx_rollback(s);
                if (r < 0) {
                        r = error_set_field(e, r, "database.url",
                                            "%s: migration to schema version %" PRIu64 " failed: %s",
                                            s->url_redacted, v + 1, s->last_error);
                        goto unlock;
                }
        }
        if (r < 0)
                r = error_set_field(e, r, "database.url", "%s: cannot read the schema version: %s",
                                    s->url_redacted, s->last_error);
unlock:
        if (s->ops->migration_unlock_sql)
                (void) run(s, s->ops->migration_unlock_sql, NULL, 0, NULL, NULL);
        return r;
}

#define STORE_MIGRATION_STEP_USEC (60 * USEC_PER_SEC)

void store_progress_sd_notify(unsigned version, unsigned target, void *userdata) {
        (void) sd_notifyf(false,
                          "EXTEND_TIMEOUT_USEC=%" PRIu64 "\n"
                          "STATUS=Migrating the database schema to version %u of %u",
                          STORE_MIGRATION_STEP_USEC, version, target);
}

bool store_url_names_missing_file(const char *url) {
        const char *p = startswith(strempty(url), "sqlite://");

        return p && !isempty(p) && access(p, F_OK) < 0 && errno == ENOENT;
}

typedef enum StoreOpenMode {
        STORE_OPEN_MIGRATE, /* create and migrate the schema */
        STORE_OPEN_EXISTING, /* migrate a schema that exists, create none */
        STORE_OPEN_READ_ONLY, /* write nothing at all */
} StoreOpenMode;

static int open_store(const char *url, StoreOpenMode mode, StoreProgressFn progress, void *userdata,
                      Error *e, Store **ret) {
        const StoreBackendOps *ops;
        const char *target, *p;
        int r;

        assert(ret);
        if (isempty(url))
                return error_set_field(e, -EINVAL, "database.url",
                                       "database.url is empty: use sqlite:///path/to/aegis.db or "
                                       "postgresql://user@host/db");
        if ((p = startswith(url, "sqlite://"))) {
                ops = &store_sqlite_ops;
                target = p;
                if (isempty(target))
                        return error_set_field(
                                e, -EINVAL, "database.url",
                                "database.url \"%s\" names no file: use sqlite:///path/to/aegis.db", url);
        } else if (startswith(url, "postgresql://") || startswith(url, "postgres://")) {
                ops = &store_pg_ops;
                target = url;
        } else {
                _cleanup_free_ char *red = store_url_redact(url);
                return error_set_field(
                        e, -EINVAL, "database.url",
                        "database.url \"%s\" has an unsupported scheme: use sqlite:///path/to/aegis.db "
                        "or postgresql://user@host/db",
                        strempty(red));
        }

        Store *s = calloc(1, sizeof *s);
        if (!s)
                return error_set(e, -ENOMEM, "out of memory");
        s->ops = ops;
        s->no_create = mode != STORE_OPEN_MIGRATE;
        s->read_only = mode == STORE_OPEN_READ_ONLY;
        s->url_redacted = store_url_redact(url);
        if (!s->url_redacted) {
                free(s);
                return error_set(e, -ENOMEM, "out of memory");
        }
        r = ops->connect(s, target, e);
        if (r >= 0)
                r = s->read_only ? read_schema_version(s, e) : migrate(s, progress, userdata, e);
        if (r >= 0)
                r = load_identity(s, e);
        if (r < 0) {
                store_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

int store_open_full(const char *url, StoreProgressFn progress, void *userdata, Error *e, Store **ret) {
        return open_store(url, STORE_OPEN_MIGRATE, progress, userdata, e, ret);
}

int store_open(const char *url, Error *e, Store **ret) {
        return open_store(url, STORE_OPEN_MIGRATE, NULL, NULL, e, ret);
}

int store_open_existing(const char *url, Error *e, Store **ret) {
        return open_store(url, STORE_OPEN_EXISTING, NULL, NULL, e, ret);
}

int store_open_read_only(const char *url, Error *e, Store **ret) {
        return open_store(url, STORE_OPEN_READ_ONLY, NULL, NULL, e, ret);
}

Store *store_close(Store *s) {
        if (!s)
                return NULL;
        tx_rollback(s);
        s->ops->disconnect(s);
        free(s->url_redacted);
        free(s);
        return NULL;
}

int store_ping(Store *s, Error *e) {
        int r;

        assert(s);
        r = s->ops->ping(s);
        if (r < 0)
                return error_set(e, r, "%s database %s is not answering: %s", s->ops->name, s->url_redacted,
                                 s->last_error);
        return 0;
}

/* ---- agents ---- */

#define AGENT_COLS "id, name, version, manifest_json, created_at, updated_at, tenant_id"

static int agent_from_row(StoreRows *rows, size_t i, StoreAgent *a) {
        *a = (StoreAgent){};
        if (cell_id(rows, i, 0, a->id) < 0 || cell_u64(rows, i, 4, &a->created_at) < 0 ||
            cell_u64(rows, i, 5, &a->updated_at) < 0)
                return -EIO;
        a->name = take(rows, i, 1);
        a->version = take(rows, i, 2);
        a->manifest_json = take(rows, i, 3);
        a->tenant_id = take(rows, i, 6);
        return 0;
}

int store_agent_put(Store *s, const char *tenant_id, const char *name, const char *version,
                    const char *manifest_json, char ret_id[UUID_STRING_MAX]) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        char id[UUID_STRING_MAX];
        uint64_t t = now();
        int r;

        assert(s);
        assert(tenant_id);
        if (isempty(tenant_id) || isempty(name) || isempty(version) || !manifest_json)
                return store_set_error(s, -EINVAL, "agent tenant, name, version and manifest are required");
        r = random_uuid(id);
        if (r < 0)
                return r;
        r = run(s,
                "INSERT INTO agents (" AGENT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (tenant_id, name, version) "
                "DO UPDATE SET manifest_json = excluded.manifest_json, updated_at = excluded.updated_at "
                "RETURNING id",
                PARAMS(P_TEXT(id), P_TEXT(name), P_TEXT(version), P_TEXT(manifest_json), P_INT(t), P_INT(t),
                       P_TEXT(tenant_id)),
                &rows, NULL);
        if (r < 0)
                return r;
        if (rows.nrows != 1 || cell_id(&rows, 0, 0, id) < 0)
                return store_set_error(s, -EIO, "agent upsert returned no id");
        if (ret_id)
                memcpy(ret_id, id, UUID_STRING_MAX);
        return 0;
}

int store_agent_get(Store *s, const char *tenant_id, const char *id_or_name, const char *version,
                    StoreAgent *ret) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        int r;

        assert(s);
        assert(ret);
        if (isempty(id_or_name))
                return -EINVAL;
        /* "? IS NULL" would leave PostgreSQL without a type for the parameter: "any tenant" is
         * the empty string, which no tenant is. */
        if (version)
                r = run(s,
                        "SELECT " AGENT_COLS " FROM agents WHERE name = ? AND version = ? "
                        "AND (? = '' OR tenant_id = ?)",
                        PARAMS(P_TEXT(id_or_name), P_TEXT(version), P_TEXT(strempty(tenant_id)),
                               P_TEXT(strempty(tenant_id))),
                        &rows, NULL);
        else
                r = run(s,
                        "SELECT " AGENT_COLS " FROM agents WHERE (id = ? OR name = ?) "
                        "AND (? = '' OR tenant_id = ?) "
                        "ORDER BY (id = ?) DESC, updated_at DESC, created_at DESC LIMIT 1",
                        PARAMS(P_TEXT(id_or_name), P_TEXT(id_or_name), P_TEXT(strempty(tenant_id)),
                               P_TEXT(strempty(tenant_id)), P_TEXT(id_or_name)),
                        &rows, NULL);
        if (r < 0)
                return r;
        if (rows.nrows == 0)
                return -ENOENT;
        return agent_from_row(&rows, 0, ret);
}

int store_agent_list(Store *s, const char *tenant_id, StoreAgent **ret, size_t *ret_n) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        int r;

        assert(s);
        assert(ret);
        assert(ret_n);
        r = run(s,
                "SELECT " AGENT_COLS " FROM agents WHERE (? = '' OR tenant_id = ?) "
                "ORDER BY updated_at DESC, name, version",
                PARAMS(P_TEXT(strempty(tenant_id)), P_TEXT(strempty(tenant_id))), &rows, NULL);
        if (r < 0)
                return r;
        StoreAgent *a = calloc(MAX(rows.nrows, 1u), sizeof *a);
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < rows.nrows; i++)
                if (agent_from_row(&rows, i, &a[i]) < 0) {
                        store_agent_array_free(a, rows.nrows);
                        return store_set_error(s, -EIO, "corrupt agents row");
                }
        *ret = a;
        *ret_n = rows.nrows;
        return 0;
}

int store_agent_set_manifest(Store *s, const char *id, const char *manifest_json) {
        uint64_t n = 0;
        int r;

        assert(s);
        assert(manifest_json);
        assert(id);
        r = run(s, "UPDATE agents SET manifest_json = ? WHERE id = ?",
                PARAMS(P_TEXT(manifest_json), P_TEXT(id)), NULL, &n);
        if (r < 0)
                return r;
        return n > 0 ? 0 : -ENOENT;
}

int store_agent_delete_versions(Store *s, const char *tenant_id, const char *name, const char *version,
                                uint64_t *ret_n) {
        uint64_t n = 0;
        int r;

        assert(s);
        assert(tenant_id);
        assert(name);
        if (version)
                r = run(s, "DELETE FROM agents WHERE tenant_id = ? AND name = ? AND version = ?",
                        PARAMS(P_TEXT(tenant_id), P_TEXT(name), P_TEXT(version)), NULL, &n);
        else
                r = run(s, "DELETE FROM agents WHERE tenant_id = ? AND name = ?",
                        PARAMS(P_TEXT(tenant_id), P_TEXT(name)), NULL, &n);
        if (r < 0)
                return r;
        if (ret_n)
                *ret_n = n;
        return n > 0 ? 0 : -ENOENT;
}

int store_agent_delete(Store *s, const char *id) {
        uint64_t n = 0;
        int r;

        assert(s);
        assert(id);
        r = run(s, "DELETE FROM agents WHERE id = ?", PARAMS(P_TEXT(id)), NULL, &n);
        if (r < 0)
                return r;
        return n > 0 ? 0 : -ENOENT;
}

/* ---- executions ---- */

#define EXEC_COLS_HEAD "id, agent_id, agent_name, tenant_id, status, reason, "
#define EXEC_COLS_BODY "input_json, manifest_json, output, "
#define EXEC_COLS_TAIL                                                                             \
        "max_iterations, iteration, created_at, started_at, finished_at, updated_at, claimed_by, " \
        "lease_expires_at, seq"
#define EXEC_COLS EXEC_COLS_HEAD EXEC_COLS_BODY EXEC_COLS_TAIL
#define EXEC_COLS_SUMMARY EXEC_COLS_HEAD "NULL, NULL, NULL, " EXEC_COLS_TAIL
#define EXEC_COL_SEQ 17

static int execution_from_row(StoreRows *rows, size_t i, StoreExecution *x) {
        *x = (StoreExecution){};
        if (cell_id(rows, i, 0, x->id) < 0)
                return -EIO;
        x->status = execution_status_from_string(store_rows_get(rows, i, 4));
        if (x->status < 0 || cell_unsigned(rows, i, 9, &x->max_iterations) < 0 ||
            cell_unsigned(rows, i, 10, &x->iteration) < 0 || cell_u64(rows, i, 11, &x->created_at) < 0 ||
            cell_u64(rows, i, 12, &x->started_at) < 0 || cell_u64(rows, i, 13, &x->finished_at) < 0 ||
            cell_u64(rows, i, 14, &x->updated_at) < 0 || cell_u64(rows, i, 16, &x->lease_expires_at) < 0)
                return -EIO;
        x->agent_id = take(rows, i, 1);
        x->agent_name = take(rows, i, 2);
        x->tenant_id = take(rows, i, 3);
        x->reason = take(rows, i, 5);
        x->input_json = take(rows, i, 6);
        x->manifest_json = take(rows, i, 7);
        x->output = take(rows, i, 8);
        x->claimed_by = take(rows, i, 15);
        return 0;
}

static int one_execution(Store *s, StoreRows *rows, StoreExecution *ret) {
        if (rows->nrows == 0)
                return -ENOENT;
        if (execution_from_row(rows, 0, ret) < 0) {
                store_execution_done(ret);
                return store_set_error(s, -EIO, "corrupt executions row");
        }
        return 0;
}

int store_execution_create(Store *s, StoreExecution *x) {
        char id[UUID_STRING_MAX] = "";
        uint64_t t = now();
        int r;

        assert(s);
        assert(x);
        r = copy_id_in(id, x->id);
        if (r < 0)
                return store_set_error(s, r, "invalid execution id");
        r = run(s,
                "INSERT INTO executions (id, agent_id, agent_name, tenant_id, status, input_json, "
                "manifest_json, max_iterations, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                PARAMS(P_TEXT(id), P_TEXT(x->agent_id), P_TEXT(x->agent_name),
                       P_TEXT(isempty(x->tenant_id) ? "default" : x->tenant_id), P_TEXT(x->input_json),
                       P_TEXT(x->manifest_json), P_INT(x->max_iterations), P_INT(t), P_INT(t)),
                NULL, NULL);
        if (r < 0)
                return r;
        memcpy(x->id, id, sizeof id);
        x->status = EXECUTION_PENDING;
        x->created_at = x->updated_at = t;
        return 0;
}

int store_execution_get(Store *s, const char *id, StoreExecution *ret) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        int r;

        assert(s);
        assert(id);
        assert(ret);
        r = run(s, "SELECT " EXEC_COLS " FROM executions WHERE id = ?", PARAMS(P_TEXT(id)), &rows, NULL);
        if (r < 0)
                return r;
        return one_execution(s, &rows, ret);
}

int store_execution_list(Store *s, const StoreExecutionFilter *f, StoreExecution **ret, size_t *ret_n,
                         char **ret_next_cursor) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        StoreParam p[8];
        size_t np = 0, limit;
        char sql[1024];
        uint64_t cursor = 0;
        int r;

        assert(s);
        assert(f);
        assert(ret);
        assert(ret_n);
        limit = f->limit ?: STORE_LIST_DEFAULT;
        if (limit > STORE_LIST_MAX)
                return store_set_error(s, -EINVAL, "limit %zu is larger than %d", limit, STORE_LIST_MAX);
        if (f->cursor && (safe_atou64(f->cursor, &cursor) < 0 || cursor == 0 || cursor > INT64_MAX))
                return store_set_error(s, -EINVAL, "malformed cursor \"%s\"", f->cursor);
        if (f->offset > INT64_MAX)
                return store_set_error(s, -EINVAL, "offset %" PRIu64 " is too large", f->offset);
        if ((int) f->status >= _EXECUTION_STATUS_MAX)
                return store_set_error(s, -EINVAL, "bad status filter");

        (void) snprintf(sql, sizeof sql,
                        "SELECT %s FROM executions WHERE 1 = 1%s%s%s%s%s ORDER BY seq DESC LIMIT ? OFFSET ?",
                        f->summary ? EXEC_COLS_SUMMARY : EXEC_COLS, f->status >= 0 ? " AND status = ?" : "",
                        f->tenant_id ? " AND tenant_id = ?" : "", f->claimed_by ? " AND claimed_by = ?" : "",
                        f->agent_id ? " AND agent_id = ?" : "", f->cursor ? " AND seq < ?" : "");
        if (f->status >= 0)
                p[np++] = P_TEXT(execution_status_to_string(f->status));
        if (f->tenant_id)
                p[np++] = P_TEXT(f->tenant_id);
        if (f->claimed_by)
                p[np++] = P_TEXT(f->claimed_by);
        if (f->agent_id)
                p[np++] = P_TEXT(f->agent_id);
        if (f->cursor)
                p[np++] = P_INT(cursor);
        p[np++] = P_INT(limit + 1);
        p[np++] = P_INT(f->offset);

        r = run(s, sql, p, np, &rows, NULL);
        if (r < 0)
                return r;

        size_t n = MIN(rows.nrows, limit);
        _cleanup_free_ char *next = NULL;
        if (rows.nrows > limit) {
                uint64_t seq;
                if (cell_u64(&rows, n - 1, EXEC_COL_SEQ, &seq) < 0)
                        return store_set_error(s, -EIO, "corrupt executions row");
                next = asprintf_safe("%" PRIu64, seq);
                if (!next)
                        return -ENOMEM;
        }
        StoreExecution *a = calloc(MAX(n, 1u), sizeof *a);
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (execution_from_row(&rows, i, &a[i]) < 0) {
                        store_execution_array_free(a, n);
                        return store_set_error(s, -EIO, "corrupt executions row");
                }
        *ret = a;
        *ret_n = n;
        if (ret_next_cursor)
                *ret_next_cursor = TAKE_PTR(next);
        return 0;
}

int store_execution_claim(Store *s, const char *owner, uint64_t lease_usec, StoreExecution *ret) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        char sql[1024];
        uint64_t t = now();
        int r;

        assert(s);
        assert(ret);
        if (isempty(owner) || lease_usec == 0)
                return store_set_error(s, -EINVAL, "claim needs an owner and a lease");
        (void) snprintf(sql, sizeof sql,
                        "UPDATE executions SET claimed_by = ?, lease_expires_at = ?, updated_at = ? "
                        "WHERE seq = (SELECT seq FROM executions WHERE status = 'pending' "
                        "AND (claimed_by IS NULL OR lease_expires_at < ?) ORDER BY seq LIMIT 1%s) "
                        "RETURNING " EXEC_COLS,
                        s->ops->skip_locked);
        r = run(s, sql, PARAMS(P_TEXT(owner), P_INT(t + lease_usec), P_INT(t), P_INT(t)), &rows, NULL);
        if (r < 0)
                return r;
        if (rows.nrows == 0)
                return 0;
        r = one_execution(s, &rows, ret);
        return r < 0 ? r : 1;
}

/* Why did a guarded UPDATE of an execution change nothing? */
static int execution_status_now(Store *s, const char *id, ExecutionStatus *ret) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        int r = run(s, "SELECT status FROM executions WHERE id = ?", PARAMS(P_TEXT(id)), &rows, NULL);
        if (r < 0)
                return r;
        if (rows.nrows == 0)
                return -ENOENT;
        *ret = execution_status_from_string(store_rows_get(&rows, 0, 0));
        return *ret < 0 ? -EIO : 0;
}

int store_execution_claim_id(Store *s, const char *id, const char *owner, uint64_t lease_usec) {
        ExecutionStatus st;
        uint64_t t = now(), n = 0;
        int r;

        assert(s);
        assert(id);
        if (isempty(owner) || lease_usec == 0)
                return store_set_error(s, -EINVAL, "claim needs an owner and a lease");
        r = run(s,
                "UPDATE executions SET claimed_by = ?, lease_expires_at = ?, updated_at = ? "
                "WHERE id = ? AND status IN ('pending', 'running') "
                "AND (claimed_by IS NULL OR claimed_by = ? OR lease_expires_at < ?)",
                PARAMS(P_TEXT(owner), P_INT(t + lease_usec), P_INT(t), P_TEXT(id), P_TEXT(owner), P_INT(t)),
                NULL, &n);
        if (r < 0 || n > 0)
                return r;
        r = execution_status_now(s, id, &st);
        if (r < 0)
                return r;
        return execution_status_is_terminal(st) ? -EALREADY : -EBUSY;
}

int store_execution_heartbeat(Store *s, const char *id, const char *owner, uint64_t lease_usec) {
        uint64_t t = now(), n = 0;
        int r;

        assert(s);
        assert(id);
        assert(owner);
        r = run(s,
                "UPDATE executions SET lease_expires_at = ?, updated_at = ? "
                "WHERE id = ? AND claimed_by = ? AND status IN ('pending', 'running')",
                PARAMS(P_INT(t + lease_usec), P_INT(t), P_TEXT(id), P_TEXT(owner)), NULL, &n);
        if (r < 0 || n > 0)
                return r;
        ExecutionStatus st;
        r = execution_status_now(s, id, &st);
        return r < 0 ? r : -ESTALE;
}

int store_execution_set_status(Store *s, const char *id, ExecutionStatus to, const char *reason) {
        ExecutionStatus st;
        uint64_t t = now(), n = 0;
        int r;

        assert(s);
        assert(id);
        switch (to) {
        case EXECUTION_RUNNING:
                r = run(s,
                        "UPDATE executions SET status = 'running', reason = COALESCE(?, reason), "
                        "updated_at = ?, started_at = CASE WHEN started_at = 0 THEN ? ELSE started_at END "
                        "WHERE id = ? AND status IN ('pending', 'running') "
                        "AND EXISTS (SELECT 1 FROM containers c WHERE c.execution_id = executions.id)",
                        PARAMS(P_TEXT(reason), P_INT(t), P_INT(t), P_TEXT(id)), NULL, &n);
                break;
        case EXECUTION_COMPLETED:
        case EXECUTION_FAILED:
        case EXECUTION_CANCELLED:
                r = run(s,
                        to == EXECUTION_COMPLETED
                                ? "UPDATE executions SET status = ?, reason = COALESCE(?, reason), "
                                  "updated_at = ?, finished_at = ?, claimed_by = NULL, lease_expires_at = 0 "
                                  "WHERE id = ? AND status = 'running'"
                                : "UPDATE executions SET status = ?, reason = COALESCE(?, reason), "
                                  "updated_at = ?, finished_at = ?, claimed_by = NULL, lease_expires_at = 0 "
                                  "WHERE id = ? AND status IN ('pending', 'running')",
                        PARAMS(P_TEXT(execution_status_to_string(to)), P_TEXT(reason), P_INT(t), P_INT(t),
                               P_TEXT(id)),
                        NULL, &n);
                break;
        default:
                return store_set_error(s, -EINVAL, "an execution cannot be set to status %d", (int) to);
        }
        if (r < 0 || n > 0)
                return r;

        r = execution_status_now(s, id, &st);
        if (r < 0)
                return r;
        if (execution_status_is_terminal(st))
                return store_set_error(s, -EALREADY, "execution %s is already %s", id,
                                       execution_status_to_string(st));
        if (to == EXECUTION_RUNNING)
                return store_set_error(s, -EPROTO,
                                       "execution %s cannot be running: no container is recorded for it "
                                       "(store_container_record() must come first)",
                                       id);
        return store_set_error(s, -EINVAL, "execution %s cannot go from %s to %s", id,
                               execution_status_to_string(st), execution_status_to_string(to));
}

int store_execution_set_output(Store *s, const char *id, const char *output) {
        _cleanup_free_ char *clean = output ? utf8_clean_tail(output, STORE_OUTPUT_MAX) : NULL;
        uint64_t n = 0;
        int r;

        assert(s);
        assert(id);
        if (output && !clean)
                return -ENOMEM;
        r = run(s, "UPDATE executions SET output = ?, updated_at = ? WHERE id = ?",
                PARAMS(P_TEXT(clean), P_INT(now()), P_TEXT(id)), NULL, &n);
        if (r < 0)
                return r;
        return n > 0 ? 0 : -ENOENT;
}

#define TERMINAL_SQL "('completed', 'failed', 'cancelled')"

int store_execution_delete(Store *s, const char *id) {
        uint64_t n = 0;
        int r;

        assert(s);
        assert(id);
        r = run(s, "DELETE FROM executions WHERE id = ? AND status IN " TERMINAL_SQL, PARAMS(P_TEXT(id)),
                NULL, &n);
        if (r < 0 || n > 0)
                return r;
        ExecutionStatus st;
        r = execution_status_now(s, id, &st);
        return r < 0 ? r
                     : store_set_error(s, -EBUSY, "execution %s is still %s", id,
                                       execution_status_to_string(st));
}

int store_execution_prune(Store *s, uint64_t before_usec, uint64_t *ret_n) {
        uint64_t n = 0;
        int r;

        assert(s);
        r = run(s, "DELETE FROM executions WHERE status IN " TERMINAL_SQL " AND finished_at < ?",
                PARAMS(P_INT(before_usec)), NULL, &n);
        if (r < 0)
                return r;
        if (ret_n)
                *ret_n = n;
        return 0;
}

/* ---- iterations ---- */

#define ITER_COLS                                                                                   \
        "execution_id, number, status, exit_code, reason, container_id, stdout_text, stderr_text, " \
        "started_at, finished_at, judgement_json, usage_json"

static int iteration_from_row(StoreRows *rows, size_t i, StoreIteration *it) {
        int64_t code;

        *it = (StoreIteration){};
        it->status = iteration_status_from_string(store_rows_get(rows, i, 2));
        if (cell_id(rows, i, 0, it->execution_id) < 0 || cell_unsigned(rows, i, 1, &it->number) < 0 ||
            it->status < 0 || cell_i64(rows, i, 3, &code) < 0 || code < INT32_MIN || code > INT32_MAX ||
            cell_u64(rows, i, 8, &it->started_at) < 0 || cell_u64(rows, i, 9, &it->finished_at) < 0)
                return -EIO;
        it->exit_code = (int) code;
        it->reason = take(rows, i, 4);
        it->container_id = take(rows, i, 5);
        it->stdout_text = take(rows, i, 6);
        it->stderr_text = take(rows, i, 7);
        it->judgement_json = take(rows, i, 10);
        it->usage_json = take(rows, i, 11);
        return 0;
}

int store_iteration_begin(Store *s, const char *execution_id, unsigned number) {
        uint64_t t = now(), n = 0;
        int r;

        assert(s);
        assert(execution_id);
        if (number == 0)
                return store_set_error(s, -EINVAL, "iteration numbers start at 1");
        r = tx_begin(s);
        if (r < 0)
                return r;
        r = run(s, "UPDATE executions SET iteration = ?, updated_at = ? WHERE id = ?",
                PARAMS(P_INT(number), P_INT(t), P_TEXT(execution_id)), NULL, &n);
        if (r >= 0 && n == 0)
                r = -ENOENT;
        if (r >= 0)
                r = run(s,
                        "INSERT INTO iterations (execution_id, number, status, started_at) "
                        "VALUES (?, ?, 'running', ?)",
                        PARAMS(P_TEXT(execution_id), P_INT(number), P_INT(t)), NULL, NULL);
        if (r < 0) {
                tx_rollback(s);
                return r;
        }
        return tx_commit(s);
}

int store_iteration_update(Store *s, const StoreIteration *it) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        const char *status;
        uint64_t fin, n = 0;
        int r;

        assert(s);
        assert(it);
        out = it->stdout_text ? utf8_clean_tail(it->stdout_text, STORE_OUTPUT_MAX) : NULL;
        err = it->stderr_text ? utf8_clean_tail(it->stderr_text, STORE_OUTPUT_MAX) : NULL;
        status = iteration_status_to_string(it->status);
        fin = it->finished_at;
        if (!status)
                return store_set_error(s, -EINVAL, "bad iteration status");
        if ((it->stdout_text && !out) || (it->stderr_text && !err))
                return -ENOMEM;
        if (fin == 0 && it->status != ITERATION_RUNNING)
                fin = now();
        r = run(s,
                "UPDATE iterations SET status = ?, exit_code = ?, reason = ?, container_id = ?, "
                "stdout_text = ?, stderr_text = ?, finished_at = ?, judgement_json = ?, usage_json = ? "
                "WHERE execution_id = ? AND number = ?",
                PARAMS(P_TEXT(status), P_INT(it->exit_code), P_TEXT(it->reason), P_TEXT(it->container_id),
                       P_TEXT(out), P_TEXT(err), P_INT(fin), P_TEXT(it->judgement_json),
                       P_TEXT(it->usage_json), P_TEXT(it->execution_id), P_INT(it->number)),
                NULL, &n);
        if (r < 0)
                return r;
        return n > 0 ? 0 : -ENOENT;
}

int store_iteration_get(Store *s, const char *execution_id, unsigned number, StoreIteration *ret) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        int r;

        assert(s);
        assert(execution_id);
        assert(ret);
        r = run(s, "SELECT " ITER_COLS " FROM iterations WHERE execution_id = ? AND number = ?",
                PARAMS(P_TEXT(execution_id), P_INT(number)), &rows, NULL);
        if (r < 0)
                return r;
        if (rows.nrows == 0)
                return -ENOENT;
        if (iteration_from_row(&rows, 0, ret) < 0) {
                store_iteration_done(ret);
                return store_set_error(s, -EIO, "corrupt iterations row");
        }
        return 0;
}

int store_iteration_list(Store *s, const char *execution_id, StoreIteration **ret, size_t *ret_n) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        int r;

        assert(s);
        assert(execution_id);
        assert(ret);
        assert(ret_n);
        r = run(s, "SELECT " ITER_COLS " FROM iterations WHERE execution_id = ? ORDER BY number",
                PARAMS(P_TEXT(execution_id)), &rows, NULL);
        if (r < 0)
                return r;
        StoreIteration *a = calloc(MAX(rows.nrows, 1u), sizeof *a);
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < rows.nrows; i++)
                if (iteration_from_row(&rows, i, &a[i]) < 0) {
                        store_iteration_array_free(a, rows.nrows);
                        return store_set_error(s, -EIO, "corrupt iterations row");
                }
        *ret = a;
        *ret_n = rows.nrows;
        return 0;
}

/* ---- containers ---- */

#define CONT_COLS "name, container_id, execution_id, iteration, state, created_at, updated_at"

static int container_from_row(StoreRows *rows, size_t i, StoreContainer *c) {
        *c = (StoreContainer){};
        c->state = container_state_from_string(store_rows_get(rows, i, 4));
        if (cell_id(rows, i, 2, c->execution_id) < 0 || cell_unsigned(rows, i, 3, &c->iteration) < 0 ||
            c->state < 0 || cell_u64(rows, i, 5, &c->created_at) < 0 ||
            cell_u64(rows, i, 6, &c->updated_at) < 0)
                return -EIO;
        c->name = take(rows, i, 0);
        c->container_id = take(rows, i, 1);
        return 0;
}

int store_container_record(Store *s, const char *name, const char *execution_id, unsigned iteration) {
        uint64_t t = now();

        assert(s);
        if (isempty(name) || isempty(execution_id))
                return store_set_error(s, -EINVAL, "a container record needs a name and an execution");
        return run(s,
                   "INSERT INTO containers (name, execution_id, iteration, state, created_at, updated_at) "
                   "VALUES (?, ?, ?, 'created', ?, ?)",
                   PARAMS(P_TEXT(name), P_TEXT(execution_id), P_INT(iteration), P_INT(t), P_INT(t)), NULL,
                   NULL);
}

int store_container_update(Store *s, const char *name_or_id, const char *container_id,
                           ContainerState state) {
        const char *st = container_state_to_string(state);
        uint64_t n = 0;
        int r;

        assert(s);
        if (!st || isempty(name_or_id))
                return store_set_error(s, -EINVAL, "bad container update");
        /* A removed container stays removed. */
        r = run(s,
                state == CONTAINER_REMOVED
                        ? "UPDATE containers SET state = ?, container_id = COALESCE(?, container_id), "
                          "updated_at = ? "
                          "WHERE name = ? OR container_id = ?"
                        : "UPDATE containers SET state = ?, container_id = COALESCE(?, container_id), "
                          "updated_at = ? "
                          "WHERE (name = ? OR container_id = ?) AND state <> 'removed'",
                PARAMS(P_TEXT(st), P_TEXT(container_id), P_INT(now()), P_TEXT(name_or_id),
                       P_TEXT(name_or_id)),
                NULL, &n);
        if (r < 0 || n > 0)
                return r;
        StoreContainer c = {};
        r = store_container_get(s, name_or_id, &c);
        store_container_done(&c);
        return r < 0 ? r : store_set_error(s, -EALREADY, "container %s was already removed", name_or_id);
}

int store_container_get(Store *s, const char *name_or_id, StoreContainer *ret) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        int r;

        assert(s);
        assert(name_or_id);
        assert(ret);
        r = run(s, "SELECT " CONT_COLS " FROM containers WHERE name = ? OR container_id = ? LIMIT 1",
                PARAMS(P_TEXT(name_or_id), P_TEXT(name_or_id)), &rows, NULL);
        if (r < 0)
                return r;
        if (rows.nrows == 0)
                return -ENOENT;
        if (container_from_row(&rows, 0, ret) < 0) {
                store_container_done(ret);
                return store_set_error(s, -EIO, "corrupt containers row");
        }
        return 0;
}

int store_container_list(Store *s, const char *execution_id, bool live_only, StoreContainer **ret,
                         size_t *ret_n) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        char sql[512];
        int r;

        assert(s);
        assert(ret);
        assert(ret_n);
        (void) snprintf(sql, sizeof sql,
                        "SELECT " CONT_COLS " FROM containers WHERE 1 = 1%s%s ORDER BY created_at, name",
                        execution_id ? " AND execution_id = ?" : "",
                        live_only ? " AND state <> 'removed'" : "");
        if (execution_id)
                r = run(s, sql, PARAMS(P_TEXT(execution_id)), &rows, NULL);
        else
                r = run(s, sql, NULL, 0, &rows, NULL);
        if (r < 0)
                return r;
        StoreContainer *a = calloc(MAX(rows.nrows, 1u), sizeof *a);
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < rows.nrows; i++)
                if (container_from_row(&rows, i, &a[i]) < 0) {
                        store_container_array_free(a, rows.nrows);
                        return store_set_error(s, -EIO, "corrupt containers row");
                }
        *ret = a;
        *ret_n = rows.nrows;
        return 0;
}

/* ---- events ---- */

int store_event_append(Store *s, const char *execution_id, const char *type, const char *payload_json,
                       uint64_t *ret_seq) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        _cleanup_free_ char *payload = NULL;
        uint64_t seq = 0;
        int r;

        assert(s);
        assert(execution_id);
        if (isempty(type))
                return store_set_error(s, -EINVAL, "an event needs a type");
        if (payload_json) {
                if (strlen(payload_json) > STORE_OUTPUT_MAX)
                        return store_set_error(s, -E2BIG, "event payload larger than %d bytes",
                                               STORE_OUTPUT_MAX);
                payload = utf8_clean_tail(payload_json, 0);
                if (!payload)
                        return -ENOMEM;
        }
        r = tx_begin(s);
        if (r < 0)
                return r;
        r = run(s,
                "UPDATE executions SET last_event_seq = last_event_seq + 1 "
                "WHERE id = ? "
                "RETURNING last_event_seq",
                PARAMS(P_TEXT(execution_id)), &rows, NULL);
        if (r >= 0 && rows.nrows == 0)
                r = -ENOENT;
        if (r >= 0 && cell_u64(&rows, 0, 0, &seq) < 0)
                r = store_set_error(s, -EIO, "corrupt event sequence");
        if (r >= 0)
                r = run(s,
                        "INSERT INTO events (execution_id, seq, type, payload_json, timestamp) "
                        "VALUES (?, ?, ?, ?, ?)",
                        PARAMS(P_TEXT(execution_id), P_INT(seq), P_TEXT(type), P_TEXT(payload),
                               P_INT(now())),
                        NULL, NULL);
        if (r < 0) {
                tx_rollback(s);
                return r;
        }
        r = tx_commit(s);
        if (r < 0)
                return r;
        if (ret_seq)
                *ret_seq = seq;
        return 0;
}

int store_event_list(Store *s, const char *execution_id, uint64_t after_seq, size_t limit, StoreEvent **ret,
                     size_t *ret_n) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        int r;

        assert(s);
        assert(execution_id);
        assert(ret);
        assert(ret_n);
        if (after_seq > INT64_MAX)
                return -EINVAL;
        if (limit > 0)
                r = run(s,
                        "SELECT execution_id, seq, type, payload_json, timestamp FROM events "
                        "WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                        PARAMS(P_TEXT(execution_id), P_INT(after_seq),
                               P_INT(MIN(limit, (size_t) INT64_MAX))),
                        &rows, NULL);
        else
                r = run(s,
                        "SELECT execution_id, seq, type, payload_json, timestamp FROM events "
                        "WHERE execution_id = ? AND seq > ? ORDER BY seq",
                        PARAMS(P_TEXT(execution_id), P_INT(after_seq)), &rows, NULL);
        if (r < 0)
                return r;
        StoreEvent *a = calloc(MAX(rows.nrows, 1u), sizeof *a);
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < rows.nrows; i++) {
                if (cell_id(&rows, i, 0, a[i].execution_id) < 0 || cell_u64(&rows, i, 1, &a[i].seq) < 0 ||
                    cell_u64(&rows, i, 4, &a[i].timestamp) < 0) {
                        store_event_array_free(a, rows.nrows);
                        return store_set_error(s, -EIO, "corrupt events row");
                }
                a[i].type = take(&rows, i, 2);
                a[i].payload_json = take(&rows, i, 3);
        }
        *ret = a;
        *ret_n = rows.nrows;
        return 0;
}

/* ---- volumes ---- */

#define VOL_COLS                                                                                      \
        "id, tenant_id, name, storage_class, access_mode, size_limit, uid, gid, owner_execution_id, " \
        "status, "                                                                                    \
        "expires_at, created_at, deleted_at"

static int volume_from_row(StoreRows *rows, size_t i, StoreVolume *v) {
        uint64_t uid, gid;

        *v = (StoreVolume){};
        v->storage_class = volume_storage_class_from_string(store_rows_get(rows, i, 3));
        v->access_mode = volume_access_mode_from_string(store_rows_get(rows, i, 4));
        v->status = volume_status_from_string(store_rows_get(rows, i, 9));
        if (cell_id(rows, i, 0, v->id) < 0 || v->storage_class < 0 || v->access_mode < 0 || v->status < 0 ||
            cell_u64(rows, i, 5, &v->size_limit) < 0 || cell_u64(rows, i, 6, &uid) < 0 ||
            cell_u64(rows, i, 7, &gid) < 0 || uid > UINT32_MAX || gid > UINT32_MAX ||
            cell_u64(rows, i, 10, &v->expires_at) < 0 || cell_u64(rows, i, 11, &v->created_at) < 0 ||
            cell_u64(rows, i, 12, &v->deleted_at) < 0)
                return -EIO;
        v->uid = (uint32_t) uid;
        v->gid = (uint32_t) gid;
        v->tenant_id = take(rows, i, 1);
        v->name = take(rows, i, 2);
        v->owner_execution_id = take(rows, i, 8);
        return 0;
}

int store_volume_create(Store *s, StoreVolume *v) {
        char id[UUID_STRING_MAX] = "";
        const char *sc, *am;
        uint64_t t = now();
        int r;

        assert(s);
        assert(v);
        sc = volume_storage_class_to_string(v->storage_class);
        am = volume_access_mode_to_string(v->access_mode);
        if (isempty(v->tenant_id) || isempty(v->name) || !sc || !am)
                return store_set_error(
                        s, -EINVAL, "a volume needs a tenant, a name, a storage class and an access mode");
        if (v->size_limit > INT64_MAX || v->expires_at > INT64_MAX)
                return store_set_error(s, -EINVAL, "volume size limit or expiry out of range");
        r = copy_id_in(id, v->id);
        if (r < 0)
                return store_set_error(s, r, "invalid volume id");
        r = run(s,
                "INSERT INTO volumes (id, tenant_id, name, storage_class, access_mode, size_limit, "
                "uid, gid, owner_execution_id, status, expires_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
                PARAMS(P_TEXT(id), P_TEXT(v->tenant_id), P_TEXT(v->name), P_TEXT(sc), P_TEXT(am),
                       P_INT(v->size_limit), P_INT(v->uid), P_INT(v->gid), P_TEXT(v->owner_execution_id),
                       P_INT(v->expires_at), P_INT(t)),
                NULL, NULL);
        if (r < 0)
                return r;
        memcpy(v->id, id, sizeof id);
        v->status = VOLUME_ACTIVE;
        v->created_at = t;
        v->deleted_at = 0;
        return 0;
}

int store_volume_get(Store *s, const char *tenant_id, const char *id, StoreVolume *ret) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        int r;

        assert(s);
        assert(id);
        assert(ret);
        if (tenant_id)
                r = run(s, "SELECT " VOL_COLS " FROM volumes WHERE id = ? AND tenant_id = ?",
                        PARAMS(P_TEXT(id), P_TEXT(tenant_id)), &rows, NULL);
        else
                r = run(s, "SELECT " VOL_COLS " FROM volumes WHERE id = ?", PARAMS(P_TEXT(id)), &rows, NULL);
        if (r < 0)
                return r;
        if (rows.nrows == 0)
                return -ENOENT;
        if (volume_from_row(&rows, 0, ret) < 0) {
                store_volume_done(ret);
                return store_set_error(s, -EIO, "corrupt volumes row");
        }
        return 0;
}

int store_volume_list(Store *s, const StoreVolumeFilter *f, StoreVolume **ret, size_t *ret_n) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        StoreParam p[4];
        size_t np = 0;
        char sql[1024];
        int r;

        assert(s);
        assert(f);
        assert(ret);
        assert(ret_n);
        if ((int) f->status >= _VOLUME_STATUS_MAX || f->expired_before > INT64_MAX)
                return store_set_error(s, -EINVAL, "bad volume filter");
        (void) snprintf(sql, sizeof sql,
                        "SELECT " VOL_COLS " FROM volumes WHERE 1 = 1%s%s%s%s ORDER BY created_at, id",
                        f->tenant_id ? " AND tenant_id = ?" : "",
                        f->owner_execution_id ? " AND owner_execution_id = ?" : "",
                        f->status >= 0 ? " AND status = ?" : "",
                        f->expired_before ? " AND expires_at > 0 AND expires_at <= ?" : "");
        if (f->tenant_id)
                p[np++] = P_TEXT(f->tenant_id);
        if (f->owner_execution_id)
                p[np++] = P_TEXT(f->owner_execution_id);
        if (f->status >= 0)
                p[np++] = P_TEXT(volume_status_to_string(f->status));
        if (f->expired_before)
                p[np++] = P_INT(f->expired_before);
        r = run(s, sql, p, np, &rows, NULL);
        if (r < 0)
                return r;
        StoreVolume *a = calloc(MAX(rows.nrows, 1u), sizeof *a);
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < rows.nrows; i++)
                if (volume_from_row(&rows, i, &a[i]) < 0) {
                        store_volume_array_free(a, rows.nrows);
                        return store_set_error(s, -EIO, "corrupt volumes row");
                }
        *ret = a;
        *ret_n = rows.nrows;
        return 0;
}

int store_volume_set_status(Store *s, const char *id, VolumeStatus status) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        uint64_t n = 0;
        int r;

        assert(s);
        assert(id);
        if (status == VOLUME_DELETED) {
                r = run(s,
                        "UPDATE volumes SET status = 'deleted', deleted_at = ? "
                        "WHERE id = ? AND status = 'active'",
                        PARAMS(P_INT(now()), P_TEXT(id)), NULL, &n);
                if (r < 0 || n > 0)
                        return r;
        } else if (status != VOLUME_ACTIVE)
                return store_set_error(s, -EINVAL, "bad volume status");

        r = run(s, "SELECT status FROM volumes WHERE id = ?", PARAMS(P_TEXT(id)), &rows, NULL);
        if (r < 0)
                return r;
        if (rows.nrows == 0)
                return -ENOENT;
        if (streq(store_rows_get(&rows, 0, 0), "active") && status == VOLUME_ACTIVE)
                return 0;
        return store_set_error(s, -EALREADY, "volume %s is deleted", id);
}

int store_volume_set_name(Store *s, const char *id, const char *name) {
        uint64_t n = 0;
        int r;

        assert(s);
        assert(name);
        assert(id);
        r = run(s, "UPDATE volumes SET name = ? WHERE id = ? AND status = 'active'",
                PARAMS(P_TEXT(name), P_TEXT(id)), NULL, &n);
        if (r < 0)
                return r;
        return n > 0 ? 0 : -ENOENT;
}

int store_volume_purge(Store *s, const char *id) {
        uint64_t n = 0;
        int r;

        assert(s);
        assert(id);
        r = run(s, "DELETE FROM volumes WHERE id = ?", PARAMS(P_TEXT(id)), NULL, &n);
        if (r < 0)
                return r;
        return n > 0 ? 0 : -ENOENT;
}

int store_volume_attach(Store *s, const char *volume_id, const char *execution_id) {
        assert(s);
        assert(volume_id);
        assert(execution_id);

        return run(s,
                   "INSERT INTO volume_attachments (volume_id, execution_id, created_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (volume_id, execution_id) DO NOTHING",
                   PARAMS(P_TEXT(volume_id), P_TEXT(execution_id), P_INT(now())), NULL, NULL);
}

int store_volume_users(Store *s, const char *volume_id, uint64_t *ret_n) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        uint64_t n;
        int r;

        assert(s);
        assert(volume_id);
        assert(ret_n);
        r = run(s,
                "SELECT COUNT(*) FROM executions x WHERE x.status IN ('pending', 'running') AND ("
                "x.id IN (SELECT owner_execution_id FROM volumes WHERE id = ?) OR "
                "x.id IN (SELECT execution_id FROM volume_attachments WHERE volume_id = ?))",
                PARAMS(P_TEXT(volume_id), P_TEXT(volume_id)), &rows, NULL);
        if (r < 0)
                return r;
        if (rows.nrows != 1 || cell_u64(&rows, 0, 0, &n) < 0)
                return store_set_error(s, -EIO, "unreadable volume user count");
        *ret_n = n;
        return 0;
}

/* ---- reaper backoff ---- */

int store_reaper_backoff_get(Store *s, const char *container_id, StoreReaperBackoff *ret) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        StoreReaperBackoff b = {};
        uint64_t q;
        int r;

        assert(s);
        assert(container_id);
        assert(ret);
        r = run(s,
                "SELECT container_id, failures, next_attempt_at, quarantined, updated_at "
                "FROM reaper_backoff "
                "WHERE container_id = ?",
                PARAMS(P_TEXT(container_id)), &rows, NULL);
        if (r < 0)
                return r;
        if (rows.nrows == 0)
                return -ENOENT;
        if (cell_unsigned(&rows, 0, 1, &b.failures) < 0 || cell_u64(&rows, 0, 2, &b.next_attempt_at) < 0 ||
            cell_u64(&rows, 0, 3, &q) < 0 || cell_u64(&rows, 0, 4, &b.updated_at) < 0)
                return store_set_error(s, -EIO, "corrupt reaper_backoff row");
        b.quarantined = q != 0;
        b.container_id = take(&rows, 0, 0);
        *ret = b;
        return 0;
}

int store_reaper_backoff_put(Store *s, const StoreReaperBackoff *b) {
        assert(s);
        assert(b);

        if (isempty(b->container_id) || b->next_attempt_at > INT64_MAX)
                return store_set_error(s, -EINVAL, "bad reaper backoff record");
        return run(s,
                   "INSERT INTO reaper_backoff "
                   "(container_id, failures, next_attempt_at, quarantined, updated_at) "
                   "VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (container_id) "
                   "DO UPDATE SET failures = excluded.failures, next_attempt_at = excluded.next_attempt_at, "
                   "quarantined = excluded.quarantined, updated_at = excluded.updated_at",
                   PARAMS(P_TEXT(b->container_id), P_INT(b->failures), P_INT(b->next_attempt_at),
                          P_INT(b->quarantined ? 1 : 0), P_INT(now())),
                   NULL, NULL);
}

int store_reaper_backoff_delete(Store *s, const char *container_id) {
        uint64_t n = 0;
        int r;

        assert(s);
        assert(container_id);
        r = run(s, "DELETE FROM reaper_backoff WHERE container_id = ?", PARAMS(P_TEXT(container_id)), NULL,
                &n);
        if (r < 0)
                return r;
        return n > 0 ? 0 : -ENOENT;
}

int store_reaper_run_put(Store *s, const StoreReaperRun *rr) {
        assert(s);
        assert(rr);

        if (isempty(rr->host) || rr->started_at > INT64_MAX || rr->finished_at > INT64_MAX)
                return store_set_error(s, -EINVAL, "bad reaper run record");
        return run(
                s,
                "INSERT INTO reaper_runs (host, started_at, finished_at, ok, last_success_at, counts_json) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (host) "
                "DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at, "
                "ok = excluded.ok, "
                "last_success_at = "
                "CASE WHEN excluded.ok = 1 THEN excluded.finished_at ELSE reaper_runs.last_success_at END, "
                "counts_json = excluded.counts_json",
                PARAMS(P_TEXT(rr->host), P_INT(rr->started_at), P_INT(rr->finished_at),
                       P_INT(rr->ok ? 1 : 0), P_INT(rr->ok ? rr->finished_at : 0),
                       P_TEXT(rr->counts_json ? rr->counts_json : "{}")),
                NULL, NULL);
}

int store_reaper_run_get(Store *s, const char *host, StoreReaperRun *ret) {
        _cleanup_(store_rows_done) StoreRows rows = {};
        StoreReaperRun x = {};
        uint64_t ok;
        int r;

        assert(s);
        assert(host);
        assert(ret);
        r = run(s,
                "SELECT host, started_at, finished_at, ok, last_success_at, counts_json FROM reaper_runs "
                "WHERE host = ?",
                PARAMS(P_TEXT(host)), &rows, NULL);
        if (r < 0)
                return r;
        if (rows.nrows == 0)
                return -ENOENT;
        if (cell_u64(&rows, 0, 1, &x.started_at) < 0 || cell_u64(&rows, 0, 2, &x.finished_at) < 0 ||
            cell_u64(&rows, 0, 3, &ok) < 0 || cell_u64(&rows, 0, 4, &x.last_success_at) < 0 ||
            !store_rows_get(&rows, 0, 5))
                return store_set_error(s, -EIO, "corrupt reaper_runs row");
        x.ok = ok != 0;
        x.host = take(&rows, 0, 0);
        x.counts_json = take(&rows, 0, 5);
        if (!x.host || !x.counts_json) {
                store_reaper_run_done(&x);
                return -ENOMEM;
        }
        *ret = x;
        return 0;
}

/* ---- inner-loop conversations ---- */

int store_conversation_put(Store *s, const char *execution_id, unsigned iteration, const char *state_json) {
        assert(s);

        if (isempty(execution_id) || iteration == 0 || !state_json)
                return store_set_error(s, -EINVAL, "bad conversation record");
        if (strlen(state_json) > STORE_CONVERSATION_MAX)
                return store_set_error(s, -E2BIG, "conversation of %s iteration %u is over %u bytes",
                                       execution_id, iteration, STORE_CONVERSATION_MAX);
        return run(s,
                   "INSERT INTO dispatch_conversations (execution_id, iteration, state_json, updated_at) "
                   "VALUES (?, ?, ?, ?) "
                   "ON CONFLICT (execution_id, iteration) "
                   "DO UPDATE SET state_json = excluded.state_json, updated_at = excluded.updated_at",
                   PARAMS(P_TEXT(execution_id), P_INT(iteration), P_TEXT(state_json), P_INT(now())), NULL,
                   NULL);
}

int store_conversation_add_messages(Store *s, const char *execution_id, unsigned iteration, size_t first,
                                    const char *const *messages, size_t n) {
        int r;

        assert(s);
        if (isempty(execution_id) || iteration == 0 || (n > 0 && !messages))
                return store_set_error(s, -EINVAL, "bad conversation messages");
        for (size_t i = 0; i < n; i++) {
                if (!messages[i])
                        return store_set_error(s, -EINVAL, "bad conversation messages");
                if (strlen(messages[i]) > STORE_CONVERSATION_MAX)
                        return store_set_error(s, -E2BIG, "message %zu of %s iteration %u is over %u bytes",
                                               first + i, execution_id, iteration, STORE_CONVERSATION_MAX);
        }
        if (n == 0)
                return 0;
        r = tx_begin(s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = run(s,
                        "INSERT INTO dispatch_messages (execution_id, iteration, seq, message_json) "
                        "VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (execution_id, iteration, seq) "
                        "DO UPDATE SET message_json = excluded.message_json",
                        PARAMS(P_TEXT(execution_id), P_INT(iteration), P_INT(first + i),
                               P_TEXT(messages[i])),
                        NULL, NULL);
                if (r < 0) {
                        tx_rollback(s);
                        return r;
                }
        }
        return tx_commit(s);
}

/* *state (a JSON object's text) with ,"messages":[…] added before its closing brace: the cells
 * of column col in rows [from, to). Nothing changes when the range is empty. */
static int splice_messages(char **state, const StoreRows *rows, size_t from, size_t to, size_t col) {
        static const char key[] = "\"messages\":[";
        size_t len = strlen(*state), need = len + sizeof key + 3;
        char *text, *p;

        if (from == to)
                return 0;
        if (len < 2 || (*state)[0] != '{' || (*state)[len - 1] != '}')
                return -EIO;
        for (size_t i = from; i < to; i++) {
                const char *m = store_rows_get(rows, i, col);
                if (!m)
                        return -EIO;
                need += strlen(m) + 1;
        }
        text = malloc(need);
        if (!text)
                return -ENOMEM;
        p = mempcpy(text, *state, len - 1);
        if (len > 2)
                *p++ = ',';
        p = stpcpy(p, key);
        for (size_t i = from; i < to; i++) {
                if (i > from)
                        *p++ = ',';
                p = stpcpy(p, store_rows_get(rows, i, col));
        }
        (void) stpcpy(p, "]}");
        free(*state);
        *state = text;
        return 0;
}

int store_conversation_get(Store *s, const char *execution_id, unsigned iteration, char **ret_state_json) {
        _cleanup_(store_rows_done) StoreRows rows = {}, msgs = {};
        _cleanup_free_ char *state = NULL;
        int r;

        assert(s);
        assert(ret_state_json);
        assert(execution_id);
        r = run(s, "SELECT state_json FROM dispatch_conversations WHERE execution_id = ? AND iteration = ?",
                PARAMS(P_TEXT(execution_id), P_INT(iteration)), &rows, NULL);
        if (r < 0)
                return r;
        if (rows.nrows == 0)
                return -ENOENT;
        if (!store_rows_get(&rows, 0, 0))
                return store_set_error(s, -EIO, "corrupt dispatch_conversations row");
        state = take(&rows, 0, 0);
        if (!state)
                return -ENOMEM;
        r = run(s,
                "SELECT message_json FROM dispatch_messages WHERE execution_id = ? AND iteration = ? "
                "ORDER BY seq",
                PARAMS(P_TEXT(execution_id), P_INT(iteration)), &msgs, NULL);
        if (r < 0)
                return r;
        r = splice_messages(&state, &msgs, 0, msgs.nrows, 0);
        if (r == -EIO)
                return store_set_error(s, r, "corrupt conversation of %s iteration %u", execution_id,
                                       iteration);
        if (r < 0)
                return r;
        *ret_state_json = TAKE_PTR(state);
        return 0;
}

int store_conversation_list(Store *s, const char *execution_id, unsigned **ret_iterations,
                            char ***ret_states, size_t *ret_n) {
        _cleanup_(store_rows_done) StoreRows rows = {}, msgs = {};
        _cleanup_free_ unsigned *its = NULL;
        _cleanup_strv_free_ char **states = NULL;
        size_t j = 0;
        int r;

        assert(s);
        assert(execution_id);
        assert(ret_iterations);
        assert(ret_states);
        assert(ret_n);
        r = run(s,
                "SELECT iteration, state_json FROM dispatch_conversations WHERE execution_id = ? "
                "ORDER BY iteration",
                PARAMS(P_TEXT(execution_id)), &rows, NULL);
        if (r < 0)
                return r;
        r = run(s,
                "SELECT iteration, message_json FROM dispatch_messages WHERE execution_id = ? "
                "ORDER BY iteration, seq",
                PARAMS(P_TEXT(execution_id)), &msgs, NULL);
        if (r < 0)
                return r;
        its = calloc(rows.nrows + 1, sizeof *its);
        states = calloc(rows.nrows + 1, sizeof *states);
        if (!its || !states)
                return -ENOMEM;
        for (size_t i = 0; i < rows.nrows; i++) {
                size_t from;
                unsigned it;

                if (cell_unsigned(&rows, i, 0, &its[i]) < 0 || !store_rows_get(&rows, i, 1))
                        return store_set_error(s, -EIO, "corrupt dispatch_conversations row");
                states[i] = take(&rows, i, 1);
                if (!states[i])
                        return -ENOMEM;
                /* both are in iteration order: skip messages of iterations with no state row */
                for (from = SIZE_MAX; j < msgs.nrows; j++) {
                        if (cell_unsigned(&msgs, j, 0, &it) < 0)
                                return store_set_error(s, -EIO, "corrupt dispatch_messages row");
                        if (it > its[i])
                                break;
                        if (it == its[i] && from == SIZE_MAX)
                                from = j;
                }
                r = from == SIZE_MAX ? 0 : splice_messages(&states[i], &msgs, from, j, 1);
                if (r == -EIO)
                        return store_set_error(s, r, "corrupt conversation of %s iteration %u", execution_id,
                                               its[i]);
                if (r < 0)
                        return r;
        }
        *ret_n = rows.nrows;
        *ret_iterations = TAKE_PTR(its);
        *ret_states = TAKE_PTR(states);
        return 0;
}
