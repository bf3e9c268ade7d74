/* Storage through apr_dbd: connection state, migrations, transactions,
 * statement cache, row reading and error mapping. See sd_store.h. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_atomic.h>
#include <apr_thread_proc.h>
#include <apr_buckets.h>
#include <apr_lib.h>
#include <unistd.h>

#include "sd_store.h"
#include "sd_log.h"

#define CONN_KEY       "sdesk-conn"
#define BUSY_ATTEMPTS  2        /* each already waits ~1.6 s in the driver */
#define START_ATTEMPTS 6        /* session settings and migrations at start-up */
#define PG_LOCK_KEY    "7351066901"    /* pg_advisory_xact_lock for migrations */

struct sd_conn_t {
    apr_pool_t *pool;          /* the connection's pool */
    apr_hash_t *stmts;         /* key -> apr_dbd_prepared_t * */
    int ready;                 /* session settings applied and checked */
    /* SQLite: our own handle on the same file, used instead of the pooled
     * one once that proved read-only (sqlite_reopen); closed with pool. */
    const apr_dbd_driver_t *driver;
    apr_dbd_t *own;
    apr_time_t reopen_after;   /* no new attempt before this time */
};

/* Once the schema was found current, this process does not look again. */
static volatile apr_uint32_t schema_current;

/* KiB of SQLite page cache per connection (0: SQLite's default). */
static int sqlite_cache_kib = SD_STORE_SQLITE_CACHE_DEFAULT;

void sd_store_set_sqlite_cache(int kib)
{
    sqlite_cache_kib = kib < 0 ? SD_STORE_SQLITE_CACHE_DEFAULT : kib;
}

const char *sd_store_i64(apr_int64_t v, apr_pool_t *p)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

apr_int64_t sd_store_to_i64(const char *s)
{
    char *end;
    apr_int64_t v;
    if (!s || !*s) return 0;
    v = apr_strtoi64(s, &end, 10);
    return (*end == '\0') ? v : 0;
}

/* The SQLite driver often reports a lock as a generic error (1) whose
 * message tells the truth. */
static int sqlite_locked(int err, const char *msg)
{
    return (err & 0xff) == 5 || (err & 0xff) == 6
           || (msg && (strstr(msg, "database is locked") || strstr(msg, "table is locked")));
}

/* Writes cannot be stored: the file or its directory is read-only, or the
 * disk is full. Reads may still work. */
static int sqlite_unwritable(int err, const char *msg)
{
    return (err & 0xff) == 8 || (err & 0xff) == 13
           || (msg && (strstr(msg, "readonly database") || strstr(msg, "database or disk is full")
                       || strstr(msg, "disk I/O error")));
}

static int is_busy(const sd_db_t *db, int err)
{
    return db->kind == SD_DB_SQLITE
           && sqlite_locked(err, apr_dbd_error(db->driver, db->handle, err));
}

/* Does a PostgreSQL error message say our statement itself is wrong (a bug
 * to log as an error) rather than that the server is unreachable, restarting
 * or overloaded (a 503 that clears by itself)? */
static int pg_statement_error(const char *msg)
{
    static const char *const bugs[] = {
        "syntax error", "violates", "invalid input", "does not exist", "out of range",
        "could not determine data type", "cannot be", "must appear", "permission denied",
        NULL
    };
    int i;
    if (!strstr(msg, "ERROR")) return 0;
    if (strstr(msg, "terminating connection") || strstr(msg, "statement timeout")
        || strstr(msg, "the database system is")) return 0;
    for (i = 0; bugs[i]; ++i)
        if (strstr(msg, bugs[i])) return 1;
    return 0;
}

/* Map a driver error to our codes; logs what an operator must see. */
static apr_status_t db_error(sd_db_t *db, int err, const char *what, apr_pool_t *p)
{
    const char *msg = apr_dbd_error(db->driver, db->handle, err);
    if (!msg) msg = "";
    if (db->quiet) {
        /* a first attempt that is retried (a migration racing another
         * process, a PostgreSQL connection reset by a restart) */
        if (db->kind == SD_DB_PGSQL) return SD_EUNAVAILABLE;
        return (db->kind == SD_DB_SQLITE && (err & 0xff) != 8 && (err & 0xff) != 13
                && (err & 0xff) != 14 && (err & 0xff) != 26) ? SD_EBUSY
               : SD_EUNAVAILABLE;
    }
    if (db->kind == SD_DB_SQLITE) {
        if ((err & 0xff) == 17 || strstr(msg, "schema has changed")) {
            /* Another process changed the schema (a migration): the driver's
             * legacy statements must be prepared again. Retry like BUSY. */
            apr_hash_clear(db->conn->stmts);
            db->stmts_reset = 1;
            return SD_EBUSY;
        }
        if (sqlite_locked(err, msg)) return SD_EBUSY;
        /* The driver reports some of these as a generic error (1) whose
         * message tells the truth, as it does for locks: a read-only file
         * answered 500 until tests/integration/test_910_faults.py. */
        if (sqlite_unwritable(err, msg))
            db->unwritable = ((err & 0xff) == 8 || strstr(msg, "readonly database"))
                             ? SD_DB_READONLY : SD_DB_FULL;
        switch (sqlite_unwritable(err, msg) ? 8 : (err & 0xff)) {
        case 8: case 10: case 11: case 13: case 14: case 26:
            /* READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB */
            sd_log(SD_LOG_MARK, SD_LOG_ERR, APR_EGENERAL, p,
                   SDLOGNO(00001) "database unusable (%s, sqlite %d): %s", what, err, msg);
            return SD_EUNAVAILABLE;
        default:
            break;
        }
    }
    else if (!pg_statement_error(msg)
             || apr_dbd_check_conn(db->driver, p, db->handle) != APR_SUCCESS) {
        /* The server went away, restarted (the driver then resets the
         * connection and reports an empty message), timed out or is
         * shutting down: the next attempt may well succeed. */
        sd_log(SD_LOG_MARK, SD_LOG_WARNING, APR_EGENERAL, p,
               SDLOGNO(00002) "database unavailable (%s): %s", what, *msg ? msg : "no message");
        return SD_EUNAVAILABLE;
    }
    sd_log(SD_LOG_MARK, SD_LOG_ERR, APR_EGENERAL, p,
           SDLOGNO(00003) "statement failed (%s, code %d): %s", what, err, msg);
    return SD_EINTERNAL;
}

static void busy_pause(int attempt)
{
    /* 10-40 ms, growing, with jitter so writers of several children spread */
    apr_sleep((apr_interval_time_t)(10000 * (attempt + 1) + (rand() % 10000)));
}

/* A raw statement without parameters (session settings, DDL, BEGIN/COMMIT). */
static apr_status_t raw_exec(sd_db_t *db, const char *sql, apr_pool_t *p)
{
    int nrows = 0, err;
    err = apr_dbd_query(db->driver, db->handle, &nrows, sql);
    return err ? db_error(db, err, sql, p) : APR_SUCCESS;
}

static apr_status_t read_rows(sd_rows_t **prows, sd_db_t *db, apr_dbd_results_t *res,
                              apr_pool_t *p)
{
    apr_array_header_t *rows;
    apr_dbd_row_t *row = NULL;        /* a stale row pointer crashed pgsql */
    sd_rows_t *out = apr_pcalloc(p, sizeof(*out));
    int i;

    out->ncols = apr_dbd_num_cols(db->driver, res);
    rows = apr_array_make(p, 8, sizeof(const char **));
    while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
        const char **cells = apr_pcalloc(p, sizeof(char *) * (out->ncols ? out->ncols : 1));
        for (i = 0; i < out->ncols; ++i) {
            char *v = NULL;
            if (apr_dbd_datum_get(db->driver, row, i, APR_DBD_TYPE_STRING, &v) == APR_SUCCESS)
                /* pgsql values point into the PGresult, which the driver
                 * clears when the last row has been read: copy them. */
                cells[i] = !v ? "" : db->kind == SD_DB_PGSQL ? apr_pstrdup(p, v) : v;
            else
                cells[i] = NULL;       /* APR_ENOENT: SQL NULL */
        }
        APR_ARRAY_PUSH(rows, const char **) = cells;
    }
    out->nrows = rows->nelts;
    out->cell = (const char ***)rows->elts;
    *prows = out;
    return APR_SUCCESS;
}

static apr_status_t raw_select(sd_rows_t **prows, sd_db_t *db, const char *sql, apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    int err = apr_dbd_select(db->driver, p, db->handle, &res, sql, 1);
    if (err) return db_error(db, err, sql, p);
    return read_rows(prows, db, res, p);
}

/* ---- session settings ---------------------------------------------------- */

static apr_status_t pragma_check(sd_db_t *db, const char *set, const char *get,
                                 const char *want, const char *alt, apr_pool_t *p)
{
    sd_rows_t *rows;
    apr_status_t rv;
    int attempt;

    for (attempt = 0; ; ++attempt) {
        rv = set ? raw_exec(db, set, p) : APR_SUCCESS;
        if (rv == APR_SUCCESS) rv = raw_select(&rows, db, get, p);
        if (rv != SD_EBUSY || attempt + 1 >= START_ATTEMPTS) break;
        busy_pause(attempt);
    }
    if (rv != APR_SUCCESS) return rv;
    if (rows->nrows != 1 || !rows->cell[0][0]
        || (strcasecmp(rows->cell[0][0], want) && !(alt && !strcasecmp(rows->cell[0][0], alt)))) {
        sd_log(SD_LOG_MARK, SD_LOG_ERR, APR_EGENERAL, p,
               SDLOGNO(00004) "SQLite setting not in effect: %s gives '%s', expected '%s'",
               get, rows->nrows ? (rows->cell[0][0] ? rows->cell[0][0] : "NULL") : "nothing",
               want);
        return SD_EUNAVAILABLE;
    }
    return APR_SUCCESS;
}

/* APR_SUCCESS when the setting already has the value (quietly; any failure
 * just means "set it"). */
static apr_status_t pragma_is(sd_db_t *db, const char *get, const char *want, apr_pool_t *p)
{
    sd_rows_t *rows;
    apr_status_t rv;
    int quiet = db->quiet;
    db->quiet = 1;
    rv = raw_select(&rows, db, get, p);
    db->quiet = quiet;
    if (rv != APR_SUCCESS) return rv;
    return (rows->nrows == 1 && rows->cell[0][0] && !strcasecmp(rows->cell[0][0], want))
           ? APR_SUCCESS : APR_EGENERAL;
}

static apr_status_t session_setup(sd_db_t *db, apr_pool_t *p)
{
    apr_status_t rv;
    if (db->kind != SD_DB_SQLITE) return APR_SUCCESS;
    /* busy_timeout stays 0: the driver's own BUSY loop already sleeps (100 ms
     * steps); we retry whole transactions instead, and the glue serialises
     * the server's own writers with a cross-process lock. */
    /* ":memory:" databases (unit tests) cannot use WAL and report "memory". */
    /* Each setting is read first and changed only when it differs: changing
     * one expires statements other modules may have prepared on a shared
     * connection (the driver uses the legacy sqlite3_prepare). */
    rv = APR_SUCCESS;
    if (pragma_is(db, "PRAGMA journal_mode", "wal", p) != APR_SUCCESS) {
        /* Two connections switching a new file to WAL at the same moment
         * can each keep the other from it until both give up (the driver
         * retries a busy step without resetting it, so neither lets go of
         * its shared lock): seen as both children of a fresh server failing
         * at start. The server's writers' lock makes it one at a time; the
         * second then finds WAL already set. */
        int locked = !db->locked && db->wlock && db->wlock->lock
                     && db->wlock->lock(db->wlock->baton) == APR_SUCCESS;
        if (pragma_is(db, "PRAGMA journal_mode", "wal", p) != APR_SUCCESS)
            rv = pragma_check(db, NULL, "PRAGMA journal_mode=WAL", "wal", "memory", p);
        if (locked) db->wlock->unlock(db->wlock->baton);
    }
    if (rv == APR_SUCCESS && pragma_is(db, "PRAGMA synchronous", "2", p) != APR_SUCCESS)
        rv = pragma_check(db, "PRAGMA synchronous=FULL", "PRAGMA synchronous", "2", NULL, p);
    if (rv == APR_SUCCESS && pragma_is(db, "PRAGMA foreign_keys", "1", p) != APR_SUCCESS)
        rv = pragma_check(db, "PRAGMA foreign_keys=ON", "PRAGMA foreign_keys", "1", NULL, p);
    if (rv == APR_SUCCESS && sqlite_cache_kib > 0) {
        /* a negative cache_size is KiB; the value never comes from a request */
        const char *want = apr_psprintf(p, "-%d", sqlite_cache_kib);
        if (pragma_is(db, "PRAGMA cache_size", want, p) != APR_SUCCESS)
            rv = pragma_check(db, apr_pstrcat(p, "PRAGMA cache_size=", want, NULL),
                              "PRAGMA cache_size", want, NULL, p);
    }
    return rv;
}

/* ---- migrations ---------------------------------------------------------- */

static const char *driver_name(const sd_db_t *db)
{
    return db->kind == SD_DB_SQLITE ? "sqlite3" : "pgsql";
}

int sd_store_schema_latest(const sd_db_t *db)
{
    const sd_migration_t *m;
    int latest = 0;
    for (m = sd_schema_migrations; m->driver; ++m)
        if (!strcmp(m->driver, driver_name(db)) && m->version > latest) latest = m->version;
    return latest;
}

static const char *schema_table_sql(const sd_db_t *db)
{
    return "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
           "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
    (void)db;
}

apr_status_t sd_store_schema_version(int *pversion, sd_db_t *db, apr_pool_t *p)
{
    sd_rows_t *rows;
    apr_status_t rv;
    *pversion = -1;
    rv = raw_select(&rows, db, "SELECT MAX(version) FROM schema_version", p);
    if (rv != APR_SUCCESS) return rv;
    if (rows->nrows == 1 && rows->cell[0][0]) *pversion = (int)sd_store_to_i64(rows->cell[0][0]);
    return APR_SUCCESS;
}

/* Run the statements of one migration file: a statement ends with ';' at the
 * end of a line; a CREATE TRIGGER ends at a line "END;". */
static apr_status_t run_script(sd_db_t *db, const char *script, apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, script), *line, *save = NULL;
    char *stmt = apr_palloc(p, strlen(script) + 2);
    apr_size_t used = 0;
    apr_status_t rv = APR_SUCCESS;
    int in_trigger = 0;

    for (line = apr_strtok(copy, "\n", &save); line; line = apr_strtok(NULL, "\n", &save)) {
        apr_size_t len = strlen(line);
        const char *t = line;
        while (*t == ' ') ++t;
        if (!strncmp(t, "--", 2) && used == 0) continue;
        if (used == 0 && !strncasecmp(t, "CREATE TRIGGER", 14)) in_trigger = 1;
        memcpy(stmt + used, line, len);
        used += len;
        stmt[used++] = '\n';
        while (len && (line[len - 1] == ' ' || line[len - 1] == '\r')) --len;
        if (len && line[len - 1] == ';' && (!in_trigger || !strncasecmp(t, "END;", 4))) {
            /* Cut after the ';': the SQLite driver runs what follows as one
             * more (empty) statement and fails with MISUSE. */
            used -= (apr_size_t)(strlen(line) - len) + 1;
            stmt[used] = '\0';
            if (APR_SUCCESS != (rv = raw_exec(db, stmt, p))) return rv;
            used = 0;
            in_trigger = 0;
        }
    }
    return rv;
}

static apr_status_t migrate_locked(sd_db_t *db, apr_pool_t *p)
{
    const sd_migration_t *m;
    sd_rows_t *rows;
    apr_status_t rv;
    int current;

    if (db->kind == SD_DB_PGSQL) {
        /* Serialises migrations of every server on this database. */
        rv = raw_select(&rows, db, "SELECT pg_advisory_xact_lock(" PG_LOCK_KEY ")", p);
        if (rv != APR_SUCCESS) return rv;
    }
    if (APR_SUCCESS != (rv = raw_exec(db, schema_table_sql(db), p))) return rv;
    if (APR_SUCCESS != (rv = sd_store_schema_version(&current, db, p))) return rv;
    for (m = sd_schema_migrations; m->driver; ++m) {
        const char *rec;
        if (strcmp(m->driver, driver_name(db)) || m->version <= current) continue;
        sd_log(SD_LOG_MARK, SD_LOG_INFO, APR_SUCCESS, p,
               SDLOGNO(00005) "applying schema migration %s", m->name);
        if (APR_SUCCESS != (rv = run_script(db, m->sql, p))) return rv;
        /* The version and name are ours (compiled in), never request data. */
        rec = apr_psprintf(p, "INSERT INTO schema_version (version, name, applied_at) "
                           "VALUES (%d, '%s', %" APR_INT64_T_FMT ")", m->version, m->name,
                           (apr_int64_t)apr_time_sec(apr_time_now()));
        if (APR_SUCCESS != (rv = raw_exec(db, rec, p))) return rv;
    }
    if (current > sd_store_schema_latest(db)) {
        sd_log(SD_LOG_MARK, SD_LOG_INFO, APR_SUCCESS, p,
               SDLOGNO(00006) "database schema %d is newer than this module's %d; "
               "continuing (migrations keep the previous release working)",
               current, sd_store_schema_latest(db));
    }
    return APR_SUCCESS;
}

/* Several children (and servers) start at once: the first takes the write
 * lock and migrates; the others wait, then find the schema current. Early
 * attempts fail quietly (a racing migration changes the schema under them)
 * and are retried; only the last one logs. */
static apr_status_t migrate(sd_db_t *db, apr_pool_t *p)
{
    sd_rows_t *rows;
    apr_status_t rv = APR_SUCCESS;
    int attempt, v;
    const int attempts = START_ATTEMPTS;

    for (attempt = 0; attempt < attempts; ++attempt) {
        if (attempt) busy_pause(attempt);
        db->quiet = (attempt + 1 < attempts);
        rv = raw_select(&rows, db, db->kind == SD_DB_SQLITE
                        ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                          " AND name = 'schema_version'"
                        : "SELECT COUNT(*) FROM pg_tables WHERE tablename = 'schema_version'"
                          " AND schemaname = current_schema()", p);
        if (rv != APR_SUCCESS) continue;
        if (rows->nrows == 1 && sd_store_to_i64(rows->cell[0][0]) > 0
            && sd_store_schema_version(&v, db, p) == APR_SUCCESS
            && v >= sd_store_schema_latest(db))
            break;
        rv = raw_exec(db, db->kind == SD_DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN", p);
        if (rv != APR_SUCCESS) continue;
        rv = migrate_locked(db, p);
        if (rv == APR_SUCCESS) rv = raw_exec(db, "COMMIT", p);
        if (rv != APR_SUCCESS) {
            db->quiet = 1;
            raw_exec(db, "ROLLBACK", p);
            continue;
        }
        break;
    }
    db->quiet = 0;
    if (rv != APR_SUCCESS) {
        sd_log(SD_LOG_MARK, rv == SD_EUNAVAILABLE ? SD_LOG_WARNING : SD_LOG_ERR, rv, p,
               SDLOGNO(00007) "schema migration failed");
    }
    return rv;
}

/* ---- open ------------------------------------------------------------------ */

apr_status_t sd_store_open(sd_db_t **pdb, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                           apr_pool_t *conn_pool, const sd_store_writelock_t *wlock,
                           apr_pool_t *p)
{
    sd_db_t *db;
    sd_conn_t *conn = NULL;
    const char *name = apr_dbd_name(driver);
    apr_status_t rv = APR_SUCCESS;

    *pdb = NULL;
    db = apr_pcalloc(p, sizeof(*db));
    db->driver = driver;
    db->handle = handle;
    db->wlock = wlock;
    if (!strcmp(name, "sqlite3")) db->kind = SD_DB_SQLITE;
    else if (!strcmp(name, "pgsql")) db->kind = SD_DB_PGSQL;
    else {
        sd_log(SD_LOG_MARK, SD_LOG_ERR, APR_ENOTIMPL, p,
               SDLOGNO(00008) "DBDriver %s is not supported (use sqlite3 or pgsql)", name);
        return SD_EUNAVAILABLE;
    }

    apr_pool_userdata_get((void **)&conn, CONN_KEY, conn_pool);
    if (!conn) {
        conn = apr_pcalloc(conn_pool, sizeof(*conn));
        conn->pool = conn_pool;
        conn->stmts = apr_hash_make(conn_pool);
        apr_pool_userdata_setn(conn, CONN_KEY, NULL, conn_pool);
    }
    db->conn = conn;
    if (conn->own) db->handle = conn->own;      /* the pooled handle was read-only */
    if (!conn->ready) {
        if (APR_SUCCESS != (rv = session_setup(db, p))) goto leave;
        conn->ready = 1;
    }
    if (!apr_atomic_read32(&schema_current)) {
        if (APR_SUCCESS != (rv = migrate(db, p))) goto leave;
        apr_atomic_set32(&schema_current, 1);
    }
leave:
    if (rv == APR_SUCCESS) *pdb = db;
    return rv;
}

/* ---- transactions -------------------------------------------------------- */

/* A pooled PostgreSQL connection that lived through a server restart fails
 * once; the driver then resets it. Is it usable again? */
static int reconnected(sd_db_t *db, apr_pool_t *p)
{
    return db->kind == SD_DB_PGSQL && apr_dbd_check_conn(db->driver, p, db->handle) == APR_SUCCESS;
}

static apr_status_t txn_begin(sd_db_t *db, apr_pool_t *p)
{
    apr_status_t rv;
    if (db->kind == SD_DB_SQLITE && db->wlock && db->wlock->lock) {
        if (APR_SUCCESS != (rv = db->wlock->lock(db->wlock->baton))) return SD_EUNAVAILABLE;
        db->locked = 1;
    }
    rv = raw_exec(db, db->kind == SD_DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN", p);
    if (rv == APR_SUCCESS) db->in_txn = 1;
    return rv;
}

/* After a failed statement or COMMIT. SQLite may have rolled back already
 * (a full disk, an I/O error) and then says "no transaction is active": the
 * failure that matters was reported, so this one is quiet. */
static void rollback(sd_db_t *db, apr_pool_t *p)
{
    int quiet = db->quiet;
    db->quiet = 1;
    raw_exec(db, "ROLLBACK", p);
    db->quiet = quiet;
}

static apr_status_t txn_end(sd_db_t *db, apr_status_t rv, apr_pool_t *p)
{
    if (db->in_txn) {
        if (rv == APR_SUCCESS) {
            db->committing = 1;
            rv = raw_exec(db, "COMMIT", p);
            if (rv != APR_SUCCESS) rollback(db, p);
        }
        else {
            rollback(db, p);
        }
        db->in_txn = 0;
    }
    if (db->locked) {
        db->wlock->unlock(db->wlock->baton);
        db->locked = 0;
    }
    return rv;
}

static apr_status_t own_close(void *data)
{
    sd_conn_t *conn = data;
    if (conn->own) apr_dbd_close(conn->driver, conn->own);
    conn->own = NULL;
    return APR_SUCCESS;
}

/* SQLite opens a file it may not write read-only, and the connection stays
 * read-only: a pooled connection opened while the file (or its -wal) was not
 * writable refused every write until httpd restarted, even after the
 * permissions were fixed (tests/integration/test_910_faults.py). mod_dbd
 * cannot be told to drop it (the driver's check_conn looks at the handle
 * only), so once the file is writable again we open it ourselves and use
 * that handle for this pooled connection from then on. At most one attempt
 * a second per connection. 1 when db->handle is a fresh, set-up handle. */
static int sqlite_reopen(sd_db_t *db, apr_pool_t *p)
{
    sd_conn_t *conn = db->conn;
    apr_time_t now = apr_time_now();
    const char *file = NULL, *err = NULL;
    apr_dbd_t *h = NULL;
    sd_rows_t *rows;
    int i, quiet = db->quiet;

    if (db->kind != SD_DB_SQLITE || !conn || now < conn->reopen_after) return 0;
    conn->reopen_after = now + apr_time_from_sec(1);
    db->quiet = 1;
    if (raw_select(&rows, db, "PRAGMA database_list", p) == APR_SUCCESS) {
        for (i = 0; i < rows->nrows && rows->ncols >= 3; ++i)
            if (rows->cell[i][1] && !strcmp(rows->cell[i][1], "main")) file = rows->cell[i][2];
    }
    db->quiet = quiet;
    /* still not writable (or a memory database): nothing to gain yet */
    if (!file || !*file || access(file, W_OK) != 0) return 0;
    if (apr_dbd_open_ex(db->driver, conn->pool, file, &h, &err) != APR_SUCCESS || !h) {
        sd_log(SD_LOG_MARK, SD_LOG_WARNING, APR_EGENERAL, p, SDLOGNO(00850)
               "could not open the database again after it was read-only: %s",
               err ? err : "no reason given");
        return 0;
    }
    if (conn->own) apr_pool_cleanup_run(conn->pool, conn, own_close);
    conn->driver = db->driver;
    conn->own = h;
    apr_pool_cleanup_register(conn->pool, conn, own_close, apr_pool_cleanup_null);
    db->handle = h;
    apr_hash_clear(conn->stmts);          /* statements of the old handle */
    conn->ready = 0;
    if (session_setup(db, p) != APR_SUCCESS) return 0;
    conn->ready = 1;
    sd_log(SD_LOG_MARK, SD_LOG_NOTICE, APR_SUCCESS, p, SDLOGNO(00851)
           "database connection was read-only; opened the database again for writing");
    return 1;
}

apr_status_t sd_store_txn(sd_db_t *db, sd_store_txn_fn *fn, void *baton, apr_pool_t *p)
{
    apr_array_header_t *notes;
    apr_pool_t *attempt_pool;
    apr_status_t rv;
    int attempt, reopened = 0;

    apr_pool_create(&attempt_pool, p);
    for (attempt = 0; ; ++attempt) {
        apr_pool_clear(attempt_pool);
        db->committing = 0;
        db->notes = db->on_commit ? apr_array_make(attempt_pool, 4, sizeof(const void *)) : NULL;
        /* PostgreSQL: the first attempt may meet a connection that died with
         * a server restart; it fails quietly and is run again. */
        db->quiet = (db->kind == SD_DB_PGSQL && attempt == 0);
        rv = txn_begin(db, attempt_pool);
        if (rv == APR_SUCCESS) rv = fn(baton, db, attempt_pool);
        rv = txn_end(db, rv, attempt_pool);
        if (db->quiet && rv == SD_EUNAVAILABLE) {
            db->quiet = 0;
            if (!db->committing && reconnected(db, p)) {
                sd_log(SD_LOG_MARK, SD_LOG_INFO, APR_SUCCESS, p, SDLOGNO(00012)
                       "transaction failed on a reset connection; trying again");
                continue;     /* nothing was committed: the reset connection may do */
            }
            sd_log(SD_LOG_MARK, SD_LOG_WARNING, rv, p, SDLOGNO(00013)
                   "database unavailable during a transaction%s",
                   db->committing ? " (at COMMIT: the outcome is unknown)" : "");
            break;
        }
        db->quiet = 0;
        if (rv == SD_EUNAVAILABLE && db->unwritable == SD_DB_READONLY && !reopened
            && sqlite_reopen(db, p)) {
            reopened = 1;
            db->unwritable = 0;
            continue;         /* a read-only connection refused it: nothing was written */
        }
        if (rv != SD_EBUSY || attempt + 1 >= BUSY_ATTEMPTS) break;
        busy_pause(attempt);
    }
    if (rv == SD_EBUSY) {
        sd_log(SD_LOG_MARK, SD_LOG_WARNING, rv, p,
               SDLOGNO(00009) "database still busy after %d attempts", BUSY_ATTEMPTS);
    }
    /* attempt_pool is a subpool of p: results allocated by fn stay valid.
     * The notes are taken off db first: a listener may run transactions of
     * its own on the same connection. */
    notes = db->notes;
    db->notes = NULL;
    if (rv == APR_SUCCESS && notes && notes->nelts && db->on_commit)
        db->on_commit(db->on_commit_baton, db, notes, p);
    return rv;
}

void sd_store_on_commit(sd_db_t *db, sd_store_commit_cb *cb, void *baton)
{
    db->on_commit = cb;
    db->on_commit_baton = baton;
}

int sd_store_noting(const sd_db_t *db)
{
    return db->in_txn && db->notes != NULL;
}

void sd_store_note(sd_db_t *db, const void *note)
{
    if (sd_store_noting(db)) APR_ARRAY_PUSH(db->notes, const void *) = note;
}

/* ---- statements ---------------------------------------------------------- */

static apr_status_t prepared(apr_dbd_prepared_t **pst, sd_db_t *db, const char *key,
                             const char *sql, apr_pool_t *p)
{
    apr_dbd_prepared_t *st = apr_hash_get(db->conn->stmts, key, APR_HASH_KEY_STRING);
    int attempt, err;

    if (!st) {
        for (attempt = 0; ; ++attempt) {
            st = NULL;
            err = apr_dbd_prepare(db->driver, db->conn->pool, db->handle, sql, NULL, &st);
            if (!err) break;
            if (!is_busy(db, err) || attempt + 1 >= BUSY_ATTEMPTS)
                return db_error(db, err, key, p);
            busy_pause(attempt);
        }
        apr_hash_set(db->conn->stmts, apr_pstrdup(db->conn->pool, key), APR_HASH_KEY_STRING, st);
    }
    *pst = st;
    return APR_SUCCESS;
}

/* Outside a transaction, a PostgreSQL statement that failed because its
 * pooled connection died (a server restart) is worth one more try on the
 * reset connection. The first failure is logged at info only if it recovers. */
static int first_failure_recovers(sd_db_t *db, int err, const char *key, apr_pool_t *p)
{
    int quiet = db->quiet, ok;
    if (db->kind == SD_DB_SQLITE) {
        /* another process changed the schema: prepare again, once */
        db->stmts_reset = 0;
        db->quiet = 1;
        db_error(db, err, key, p);
        db->quiet = quiet;
        return db->stmts_reset;
    }
    if (db->in_txn) return 0;
    db->quiet = 1;
    ok = db_error(db, err, key, p) == SD_EUNAVAILABLE && reconnected(db, p);
    db->quiet = quiet;
    if (ok) {
        sd_log(SD_LOG_MARK, SD_LOG_INFO, APR_SUCCESS, p,
               SDLOGNO(00011) "database connection was reset (%s); trying again", key);
    }
    return ok;
}

static apr_status_t exec_sql(int *pnrows, sd_db_t *db, const char *key, const char *sql,
                             int nargs, const char *const *args, apr_pool_t *p)
{
    apr_dbd_prepared_t *st;
    apr_status_t rv;
    int nrows = 0, err;

    if (APR_SUCCESS != (rv = prepared(&st, db, key, sql, p))) return rv;
    err = apr_dbd_pquery(db->driver, p, db->handle, &nrows, st, nargs, (const char **)args);
    if (err && first_failure_recovers(db, err, key, p)) {
        if (APR_SUCCESS != (rv = prepared(&st, db, key, sql, p))) return rv;
        err = apr_dbd_pquery(db->driver, p, db->handle, &nrows, st, nargs, (const char **)args);
    }
    if (err) return db_error(db, err, key, p);
    if (pnrows) *pnrows = nrows;
    return APR_SUCCESS;
}

apr_status_t sd_store_select_sql(sd_rows_t **prows, sd_db_t *db, const char *key,
                                 const char *sql, int nargs, const char *const *args,
                                 apr_pool_t *p)
{
    apr_dbd_prepared_t *st;
    apr_dbd_results_t *res = NULL;
    apr_status_t rv;
    int err;

    *prows = NULL;
    if (APR_SUCCESS != (rv = prepared(&st, db, key, sql, p))) return rv;
    err = apr_dbd_pselect(db->driver, p, db->handle, &res, st, 1, nargs, (const char **)args);
    if (err && first_failure_recovers(db, err, key, p)) {
        if (APR_SUCCESS != (rv = prepared(&st, db, key, sql, p))) return rv;
        res = NULL;
        err = apr_dbd_pselect(db->driver, p, db->handle, &res, st, 1, nargs, (const char **)args);
    }
    if (err) return db_error(db, err, key, p);
    return read_rows(prows, db, res, p);
}

static const char *label_sql(sd_db_t *db, const char *label, apr_pool_t *p)
{
    const char *sql = sd_store_sql(label, db->kind);
    if (!sql) {
        sd_log(SD_LOG_MARK, SD_LOG_ERR, APR_EGENERAL, p,
               SDLOGNO(00010) "no SQL for statement %s", label);
    }
    return sql;
}

apr_status_t sd_store_exec(int *pnrows, sd_db_t *db, const char *label,
                           int nargs, const char *const *args, apr_pool_t *p)
{
    const char *sql = label_sql(db, label, p);
    return sql ? exec_sql(pnrows, db, label, sql, nargs, args, p) : SD_EINTERNAL;
}

apr_status_t sd_store_select(sd_rows_t **prows, sd_db_t *db, const char *label,
                             int nargs, const char *const *args, apr_pool_t *p)
{
    const char *sql = label_sql(db, label, p);
    *prows = NULL;
    return sql ? sd_store_select_sql(prows, db, label, sql, nargs, args, p) : SD_EINTERNAL;
}

/* ---- blobs ------------------------------------------------------------------- */

apr_status_t sd_store_select_blob_arg(sd_rows_t **prows, sd_db_t *db, const char *label,
                                      int nargs, const char *const *args,
                                      const char *data, apr_size_t len, apr_pool_t *p)
{
    const char *sql = label_sql(db, label, p);
    apr_dbd_prepared_t *st;
    apr_dbd_results_t *res = NULL;
    const void **values;
    apr_size_t *size;
    apr_status_t rv;
    int i, err;

    *prows = NULL;
    if (!sql) return SD_EINTERNAL;
    if (APR_SUCCESS != (rv = prepared(&st, db, label, sql, p))) return rv;
    /* %s takes one value; %pDb takes four: data, &size, table, column */
    values = apr_pcalloc(p, sizeof(void *) * (size_t)(nargs + 4));
    for (i = 0; i < nargs; ++i) values[i] = args[i];
    size = apr_palloc(p, sizeof(*size));
    *size = len;
    values[nargs] = data ? data : "";
    values[nargs + 1] = size;
    values[nargs + 2] = "attachments";      /* table and column: informational */
    values[nargs + 3] = "data";
    err = apr_dbd_pbselect(db->driver, p, db->handle, &res, st, 1, values);
    if (err) return db_error(db, err, label, p);
    return read_rows(prows, db, res, p);
}

static int hexval(int c)
{
    return apr_isdigit(c) ? c - '0' : (apr_tolower(c) - 'a' + 10);
}

apr_status_t sd_store_get_blob(const char **data, apr_size_t *len, sd_db_t *db,
                               const char *label, int nargs, const char *const *args, int col,
                               apr_pool_t *p)
{
    const char *sql = label_sql(db, label, p);
    apr_dbd_prepared_t *st;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_bucket_alloc_t *ba;
    apr_bucket_brigade *bb;
    apr_status_t rv;
    apr_off_t blen = 0;
    char *buf;
    int err, found = 0;

    *data = NULL;
    *len = 0;
    if (!sql) return SD_EINTERNAL;
    if (APR_SUCCESS != (rv = prepared(&st, db, label, sql, p))) return rv;
    err = apr_dbd_pselect(db->driver, p, db->handle, &res, st, 1, nargs, (const char **)args);
    if (err) return db_error(db, err, label, p);
    ba = apr_bucket_alloc_create(p);
    bb = apr_brigade_create(p, ba);
    while (apr_dbd_get_row(db->driver, p, res, &row, -1) == 0) {
        if (found++) continue;                  /* read to the end, keep the first */
        if (apr_dbd_datum_get(db->driver, row, col, APR_DBD_TYPE_BLOB, bb) != APR_SUCCESS)
            continue;
        apr_brigade_length(bb, 1, &blen);
        buf = apr_palloc(p, (apr_size_t)blen + 1);
        *len = (apr_size_t)blen;
        if (apr_brigade_flatten(bb, buf, len) != APR_SUCCESS) return SD_EINTERNAL;
        buf[*len] = '\0';
        *data = buf;
        apr_brigade_cleanup(bb);
    }
    if (!found) return SD_ENOTFOUND;
    if (!*data) { *data = ""; *len = 0; }
    if (db->kind == SD_DB_PGSQL && *len >= 2 && (*data)[0] == '\\' && (*data)[1] == 'x') {
        /* bytea in hex: decode in place (the result is half the size) */
        char *out = (char *)*data;
        apr_size_t i, n = (*len - 2) / 2;
        for (i = 0; i < n; ++i)
            out[i] = (char)(hexval((*data)[2 + 2 * i]) * 16 + hexval((*data)[3 + 2 * i]));
        *len = n;
    }
    return APR_SUCCESS;
}
