/* Storage: everything that touches apr_dbd. The SQL itself sits in
 * sd_store_sql.c as label -> text, in apr_dbd's portable placeholders.
 *
 * A connection comes from outside (mod_dbd's ap_dbd_acquire in a request,
 * ap_dbd_open in the watchdog, apr_dbd_open in unit tests). Per connection we
 * keep a statement cache and a "settings applied" flag as userdata of the
 * connection's own pool, so they live and die with the connection.
 * Statements are prepared here, lazily, without labels: on PostgreSQL an
 * unlabelled statement creates no server-side state and so survives a
 * reconnect (PLATFORM-NOTES.md); on SQLite preparing is retried on BUSY.
 *
 * Never does: decide what a user may see (sd_desk does), log user data. */
#ifndef SD_STORE_H
#define SD_STORE_H

#include <apr_dbd.h>
#include "sd.h"

typedef enum { SD_DB_SQLITE = 1, SD_DB_PGSQL = 2 } sd_db_kind_e;

typedef struct sd_conn_t sd_conn_t;

/* Serialises writers of one server across its processes (SQLite only), so
 * they queue on a mutex instead of the driver's 100 ms BUSY sleeps.
 * Optional: NULL lock means none. */
typedef struct {
    apr_status_t (*lock)(void *baton);
    apr_status_t (*unlock)(void *baton);
    void *baton;
} sd_store_writelock_t;

typedef struct sd_db_t sd_db_t;

#define SD_DB_READONLY 1
#define SD_DB_FULL     2

/* Called after a transaction committed, with the notes its last attempt left
 * (sd_store_note; pointers into that attempt's pool, which lives on in the
 * caller's pool). Never called for a rolled-back transaction. */
typedef void sd_store_commit_cb(void *baton, sd_db_t *db, const apr_array_header_t *notes,
                                apr_pool_t *p);

struct sd_db_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    int kind;                 /* sd_db_kind_e */
    sd_conn_t *conn;
    int in_txn;
    const sd_store_writelock_t *wlock;
    int locked;
    int quiet;                /* errors are expected and retried: do not log */
    int committing;           /* COMMIT was sent: never retry the transaction */
    int stmts_reset;          /* the statement cache was dropped (schema change) */
    int unwritable;           /* SQLite said SD_DB_READONLY or SD_DB_FULL (or an I/O
                                 error): writes fail, reads may work */
    sd_store_commit_cb *on_commit;        /* NULL: no notes are kept */
    void *on_commit_baton;
    apr_array_header_t *notes;            /* const void *, of the running transaction */
};

/* One embedded migration (generated lib/sd_schema.c). */
typedef struct {
    const char *driver;       /* "sqlite3" or "pgsql" */
    int version;
    const char *name;
    const char *sql;          /* statements end with ';' at a line end */
} sd_migration_t;
extern const sd_migration_t sd_schema_migrations[];

/* Wrap a connection. On the first use of a connection: SQLite session
 * settings (journal_mode=WAL, synchronous=FULL, foreign_keys=ON, set and read
 * back); once per process: migrations (idempotent, under a lock in the
 * database so several children and servers may start at once).
 * conn_pool: the pool the connection lives in (ap_dbd_t's pool).
 * SD_EUNAVAILABLE when the database cannot be used, SD_EBUSY when locked. */
apr_status_t sd_store_open(sd_db_t **pdb, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                           apr_pool_t *conn_pool, const sd_store_writelock_t *wlock,
                           apr_pool_t *p);

/* SQLite page cache of each connection opened from now on, in KiB (the
 * process's setting, from SdeskSQLiteCacheSize; 0 keeps SQLite's default).
 * Every pooled connection has its own cache: a child's memory grows by up
 * to DBDMax x this as its connections warm up. */
void sd_store_set_sqlite_cache(int kib);
#define SD_STORE_SQLITE_CACHE_DEFAULT 1024

/* Highest schema version this build knows for the connection's driver. */
int sd_store_schema_latest(const sd_db_t *db);
/* Schema version recorded in the database, or -1. */
apr_status_t sd_store_schema_version(int *pversion, sd_db_t *db, apr_pool_t *p);

/* Run fn inside one transaction (BEGIN IMMEDIATE on SQLite). Commits when fn
 * returns APR_SUCCESS, rolls back otherwise. A BUSY/LOCKED database retries
 * the whole transaction a bounded number of times (fn must be safe to run
 * again: it gets a fresh subpool each attempt), then returns SD_EBUSY. */
typedef apr_status_t sd_store_txn_fn(void *baton, sd_db_t *db, apr_pool_t *p);
apr_status_t sd_store_txn(sd_db_t *db, sd_store_txn_fn *fn, void *baton, apr_pool_t *p);

/* After every transaction that commits on db, call cb with what it noted
 * (hooks must only ever see committed changes). NULL turns it off. */
void sd_store_on_commit(sd_db_t *db, sd_store_commit_cb *cb, void *baton);
/* Inside a transaction: keep note (allocated in the transaction's pool) for
 * the after-commit callback. 0 when nobody listens: the caller may then skip
 * building notes at all (sd_store_noting). */
int sd_store_noting(const sd_db_t *db);
void sd_store_note(sd_db_t *db, const void *note);

/* Rows read to the end; cells are NULL for SQL NULL. */
typedef struct {
    int nrows;
    int ncols;
    const char ***cell;       /* cell[row][col] */
} sd_rows_t;

/* Statements by label (sd_store_sql.c). args are text; NULL is SQL NULL. */
apr_status_t sd_store_exec(int *pnrows, sd_db_t *db, const char *label,
                           int nargs, const char *const *args, apr_pool_t *p);
apr_status_t sd_store_select(sd_rows_t **prows, sd_db_t *db, const char *label,
                             int nargs, const char *const *args, apr_pool_t *p);
/* A statement composed from fragments of sd_store_sql.c by the caller; key
 * names the composition and caches the prepared statement per connection.
 * sql must never contain request data: values go in args. */
apr_status_t sd_store_select_sql(sd_rows_t **prows, sd_db_t *db, const char *key,
                                 const char *sql, int nargs, const char *const *args,
                                 apr_pool_t *p);

/* A statement whose last placeholder is a blob (%pDb): text args first,
 * then the bytes. Rows come back like sd_store_select (for RETURNING). The
 * bytes are bound, not copied, by the statement. */
apr_status_t sd_store_select_blob_arg(sd_rows_t **prows, sd_db_t *db, const char *label,
                                      int nargs, const char *const *args,
                                      const char *data, apr_size_t len, apr_pool_t *p);
/* One blob column (col) of the first row, as contiguous bytes in p
 * (PostgreSQL's hex bytea decoded). SD_ENOTFOUND without a row. */
apr_status_t sd_store_get_blob(const char **data, apr_size_t *len, sd_db_t *db,
                               const char *label, int nargs, const char *const *args, int col,
                               apr_pool_t *p);

/* SQL text for a label and the connection's dialect, or NULL. */
const char *sd_store_sql(const char *label, int kind);

/* Helpers for values. */
const char *sd_store_i64(apr_int64_t v, apr_pool_t *p);
apr_int64_t sd_store_to_i64(const char *s);   /* 0 for NULL/garbage */

#endif /* SD_STORE_H */
