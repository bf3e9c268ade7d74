/* Unit tests for lib/sd_store.c against a real SQLite ":memory:" database
 * through apr_dbd: migrations, the per-connection state, NULL parameters and
 * cells, transactions, unknown labels.
 *
 * Migrations run once per process (a static flag in sd_store.c), so this
 * executable opens ONE database, in the group setup, and every test shares it;
 * tests use their own rows (distinct outbox kinds) so their order does not
 * matter. The file database (WAL) is in test_sd_store_file.c. */
#include <stdio.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_strings.h>

#include "sd_test.h"
#include "sd_test_db.h"
#include "sd_log.h"
#include "sd_store.h"
#include "sd_store_sql.h"

#define T0 "1795342500"

/* ---- shared database and log recorder ----------------------------------------- */

static apr_pool_t *conn_pool;              /* the connection's pool (ap_dbd_t's) */
static const apr_dbd_driver_t *drv;
static apr_dbd_t *handle;
static sd_db_t *db;

#define NLOG 64
static struct {
    int n;
    int level[NLOG];
    char msg[NLOG][512];
} logs;
static int setup_migration_logs;           /* "applying schema migration" at open */

static void log_record(void *baton, const char *file, int line, int level, apr_status_t rv,
                       const char *msg)
{
    (void)baton; (void)file; (void)line; (void)rv;
    if (logs.n < NLOG) {
        logs.level[logs.n] = level;
        apr_cpystrn(logs.msg[logs.n], msg, sizeof(logs.msg[0]));
    }
    logs.n++;
}

static int log_all(void *baton, int level)
{
    (void)baton;
    return level <= SD_LOG_TRACE2;
}

/* Number of recorded messages containing text. */
static int logged(const char *text)
{
    int i, n = 0;
    for (i = 0; i < logs.n && i < NLOG; i++) n += strstr(logs.msg[i], text) != NULL;
    return n;
}

static const char *last_log(void)
{
    return logs.n ? logs.msg[(logs.n < NLOG ? logs.n : NLOG) - 1] : "(nothing logged)";
}

static int group_setup(void **state)
{
    int rc = sd_test_group_setup(state);
    if (rc) return rc;
    sd_log_set(log_record, log_all, NULL);
    if (apr_pool_create(&conn_pool, sd_test_root) != APR_SUCCESS) return -1;
    if (apr_dbd_init(sd_test_root) != APR_SUCCESS) return -1;
    if (apr_dbd_get_driver(sd_test_root, "sqlite3", &drv) != APR_SUCCESS) {
        fprintf(stderr, "the apr_dbd sqlite3 driver is missing (libaprutil1-dbd-sqlite3)\n");
        return -1;
    }
    if (apr_dbd_open(drv, conn_pool, ":memory:", &handle) != APR_SUCCESS) return -1;
    if (sd_store_open(&db, drv, handle, conn_pool, NULL, sd_test_root) != APR_SUCCESS) {
        fprintf(stderr, "sd_store_open failed: %s\n", logs.n ? logs.msg[0] : "");
        return -1;
    }
    setup_migration_logs = logged("SD00005: applying schema migration");
    return 0;
}

static int group_teardown(void **state)
{
    if (handle) apr_dbd_close(drv, handle);
    sd_log_set(NULL, NULL, NULL);
    return sd_test_group_teardown(state);
}

static int setup(void **state)
{
    memset(&logs, 0, sizeof(logs));
    return sd_test_setup(state);
}

/* ---- helpers -------------------------------------------------------------------- */

static const char *raw_value(const char *sql, apr_pool_t *p)
{
    return sd_test_value(drv, handle, sql, p);
}

static void raw_exec(const char *sql)
{
    int nrows = 0, err = apr_dbd_query(drv, handle, &nrows, sql);
    if (err) fail_msg("%s: %s", sql, apr_dbd_error(drv, handle, err));
}

static int outbox_count(const char *kind, apr_pool_t *p)
{
    const char *args[1] = { kind };
    sd_rows_t *rows;
    assert_int_equal(APR_SUCCESS, sd_store_select_sql(&rows, db, "test_outbox_count",
                     "SELECT COUNT(*) FROM outbox WHERE kind = %s", 1, args, p));
    assert_int_equal(1, rows->nrows);
    return (int)sd_store_to_i64(rows->cell[0][0]);
}

static apr_status_t outbox_add(sd_db_t *d, const char *tenant, const char *kind, apr_pool_t *p)
{
    const char *args[7] = { tenant, NULL, NULL, kind, "{}", T0, T0 };
    int nrows = -1;
    apr_status_t rv = sd_store_exec(&nrows, d, "sdesk_insert_outbox", 7, args, p);
    if (rv == APR_SUCCESS) assert_int_equal(1, nrows);
    return rv;
}

/* ---- migrations and session settings ------------------------------------------------- */

static void test_migrations_applied(void **state)
{
    static const char *const tables[] = {
        "schema_version", "known_issues", "tickets", "ticket_events", "comments",
        "attachments", "outbox",
    };
    static const char *const indexes[] = {
        "tickets_tenant_id", "tickets_reporter", "tickets_queue", "ticket_events_ticket",
        "comments_ticket", "attachments_ticket", "outbox_due",
    };
    apr_pool_t *p = *state;
    const sd_migration_t *m;
    int version = -7, latest, nsqlite = 0, maxv = 0;
    apr_size_t i;

    for (m = sd_schema_migrations; m->driver; m++) {
        if (strcmp(m->driver, "sqlite3")) continue;
        nsqlite++;
        if (m->version > maxv) maxv = m->version;
    }
    assert_true(nsqlite >= 1);
    assert_int_equal(SD_DB_SQLITE, db->kind);
    latest = sd_store_schema_latest(db);
    assert_int_equal(maxv, latest);
    assert_int_equal(APR_SUCCESS, sd_store_schema_version(&version, db, p));
    assert_int_equal(latest, version);
    /* One row per migration, each applied once. */
    assert_string_equal(apr_itoa(p, nsqlite), raw_value("SELECT COUNT(*) FROM schema_version", p));
    assert_string_equal("001_initial",
                        raw_value("SELECT name FROM schema_version WHERE version = 1", p));
    assert_int_equal(nsqlite, setup_migration_logs);

    for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        const char *sql = apr_psprintf(p, "SELECT COUNT(*) FROM sqlite_master WHERE type = "
                                       "'table' AND name = '%s'", tables[i]);
        if (strcmp("1", raw_value(sql, p))) fail_msg("table %s is missing", tables[i]);
    }
    for (i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++) {
        const char *sql = apr_psprintf(p, "SELECT COUNT(*) FROM sqlite_master WHERE type = "
                                       "'index' AND name = '%s'", indexes[i]);
        if (strcmp("1", raw_value(sql, p))) fail_msg("index %s is missing", indexes[i]);
    }
    /* Empty, and every column the row mapping reads is there. */
    assert_string_equal("0", raw_value("SELECT COUNT(*) FROM tickets", p));
    assert_string_equal("0", raw_value("SELECT COUNT(*) FROM (SELECT " SD_SQL_TICKET_COLS
                                       " FROM tickets)", p));
}

static void test_session_settings_memory(void **state)
{
    apr_pool_t *p = *state;
    /* ":memory:" cannot do WAL and says so; the store accepts that. */
    assert_string_equal("memory", raw_value("PRAGMA journal_mode", p));
    assert_string_equal("2", raw_value("PRAGMA synchronous", p));
    assert_string_equal("1", raw_value("PRAGMA foreign_keys", p));
    /* busy_timeout stays 0 (PLATFORM-NOTES.md). */
    assert_string_equal("0", raw_value("PRAGMA busy_timeout", p));
}

static void test_second_open_is_cheap(void **state)
{
    apr_pool_t *p = *state, *other;
    sd_db_t *db2 = NULL, *db3 = NULL;
    apr_dbd_t *h2 = NULL;
    int version = -1;

    /* Same connection: the state is found, nothing is set up or migrated
     * again. A setting changed behind the store's back shows it. */
    raw_exec("PRAGMA synchronous=OFF");
    assert_int_equal(APR_SUCCESS, sd_store_open(&db2, drv, handle, conn_pool, NULL, p));
    assert_non_null(db2);
    assert_ptr_equal(db->conn, db2->conn);
    assert_int_equal(SD_DB_SQLITE, db2->kind);
    assert_int_equal(0, db2->in_txn);
    assert_string_equal("0", raw_value("PRAGMA synchronous", p));
    /* Nothing worth an operator's attention happened (no migration). */
    {
        int i, loud = 0;
        for (i = 0; i < logs.n && i < NLOG; i++) loud += logs.level[i] <= SD_LOG_INFO;
        assert_int_equal(0, loud);
    }
    /* ... and it works. */
    assert_int_equal(APR_SUCCESS, sd_store_schema_version(&version, db2, p));
    assert_int_equal(sd_store_schema_latest(db2), version);
    assert_int_equal(APR_SUCCESS, outbox_add(db2, "north", "test.second-open", p));
    assert_int_equal(1, outbox_count("test.second-open", p));

    /* A connection the store has not seen gets the settings. (Another
     * handle: on this driver a PRAGMA foreign_keys on a connection breaks
     * every statement already prepared on it, see the report.) */
    assert_int_equal(APR_SUCCESS, apr_pool_create(&other, p));
    assert_int_equal(APR_SUCCESS, apr_dbd_open(drv, other, ":memory:", &h2));
    assert_string_equal("0", sd_test_value(drv, h2, "PRAGMA foreign_keys", p));
    assert_int_equal(APR_SUCCESS, sd_store_open(&db3, drv, h2, other, NULL, p));
    assert_ptr_not_equal(db->conn, db3->conn);
    assert_string_equal("2", sd_test_value(drv, h2, "PRAGMA synchronous", p));
    assert_string_equal("1", sd_test_value(drv, h2, "PRAGMA foreign_keys", p));
    assert_string_equal("memory", sd_test_value(drv, h2, "PRAGMA journal_mode", p));
    /* Migrations ran once per process: not again. */
    assert_int_equal(0, logged("SD00005"));
    apr_dbd_close(drv, h2);
    apr_pool_destroy(other);
    /* Put the shared connection back as the store set it. */
    raw_exec("PRAGMA synchronous=FULL");
}

/* ---- statements: NULL in, NULL out --------------------------------------------------- */

static void test_null_args_and_cells(void **state)
{
    apr_pool_t *p = *state;
    const char *subject = "O'Brien's \"printer\" \xc3\xbc; DROP TABLE tickets; --";
    const char *ins[27] = {
        "north", subject, "desc", "device",
        NULL, NULL,                         /* urgency, impact */
        "high", "new", "2",
        NULL,                               /* environment */
        "",                                 /* service: empty, not NULL */
        NULL, NULL, NULL, NULL, NULL,       /* encounter, device_* */
        NULL,                               /* page_url */
        "[]", "{}", "alice", "Alice Adams",
        NULL,                               /* reporter_email */
        T0, T0, T0,
        NULL,                               /* response_due_at */
        "1795371300",                       /* resolution_due_at */
    };
    /* Columns of SD_SQL_TICKET_COLS; -1: expect SQL NULL. */
    static const struct {
        int col;
        const char *want;
    } cells[] = {
        { 1, "north" }, { 3, "desc" }, { 4, "device" }, { 5, NULL }, { 6, NULL },
        { 7, "high" }, { 8, "new" }, { 9, "2" }, { 10, NULL }, { 11, "" }, { 12, NULL },
        { 13, NULL }, { 14, NULL }, { 15, NULL }, { 16, NULL }, { 17, NULL }, { 18, "[]" },
        { 19, "{}" }, { 20, "alice" }, { 21, "Alice Adams" }, { 22, NULL }, { 23, NULL },
        { 24, NULL }, { 25, T0 }, { 26, T0 }, { 27, T0 }, { 28, NULL },
        { 29, "1795371300" }, { 30, NULL }, { 31, NULL }, { 32, NULL }, { 33, "0" },
        { 34, "1" },
    };
    const char *get[2];
    sd_rows_t *rows = NULL;
    const char *id;
    apr_size_t i;

    assert_int_equal(APR_SUCCESS, sd_store_select(&rows, db, "sdesk_insert_ticket", 27, ins, p));
    assert_int_equal(1, rows->nrows);
    assert_int_equal(1, rows->ncols);
    id = rows->cell[0][0];
    assert_non_null(id);
    assert_true(sd_store_to_i64(id) > 0);

    get[0] = "north";
    get[1] = id;
    assert_int_equal(APR_SUCCESS, sd_store_select(&rows, db, "sdesk_get_ticket", 2, get, p));
    assert_int_equal(1, rows->nrows);
    assert_int_equal(SD_SQL_TICKET_NCOLS, rows->ncols);
    assert_string_equal(id, rows->cell[0][0]);
    /* Parameters, never pasted: the text comes back byte for byte. */
    assert_string_equal(subject, rows->cell[0][2]);
    for (i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
        const char *got = rows->cell[0][cells[i].col];
        if (cells[i].want ? (!got || strcmp(got, cells[i].want)) : got != NULL)
            fail_msg("column %d: want %s, got %s", cells[i].col,
                     cells[i].want ? cells[i].want : "NULL", got ? got : "NULL");
    }

    /* The tenant is part of the key: another tenant finds nothing, and so
     * does a NULL tenant (NULL = NULL is not true). */
    get[0] = "south";
    assert_int_equal(APR_SUCCESS, sd_store_select(&rows, db, "sdesk_get_ticket", 2, get, p));
    assert_int_equal(0, rows->nrows);
    assert_int_equal(SD_SQL_TICKET_NCOLS, rows->ncols);
    get[0] = NULL;
    assert_int_equal(APR_SUCCESS, sd_store_select(&rows, db, "sdesk_get_ticket", 2, get, p));
    assert_int_equal(0, rows->nrows);
}

static void test_exec_null_args(void **state)
{
    apr_pool_t *p = *state;
    const char *kind[1] = { "test.exec-null" };
    sd_rows_t *rows;

    if (outbox_add(db, "north", "test.exec-null", p) != APR_SUCCESS) fail_msg("%s", last_log());
    assert_int_equal(APR_SUCCESS, sd_store_select_sql(&rows, db, "test_outbox_nulls",
                     "SELECT ticket_id, event_id, kind, payload, delivered_at, last_error"
                     " FROM outbox WHERE kind = %s", 1, kind, p));
    assert_int_equal(1, rows->nrows);
    assert_int_equal(6, rows->ncols);
    assert_null(rows->cell[0][0]);
    assert_null(rows->cell[0][1]);
    assert_string_equal("test.exec-null", rows->cell[0][2]);
    assert_string_equal("{}", rows->cell[0][3]);
    assert_null(rows->cell[0][4]);
    assert_null(rows->cell[0][5]);

    /* pnrows may be NULL. */
    {
        const char *args[7] = { "north", NULL, NULL, "test.exec-null", "{}", T0, T0 };
        assert_int_equal(APR_SUCCESS,
                         sd_store_exec(NULL, db, "sdesk_insert_outbox", 7, args, p));
    }
    assert_int_equal(2, outbox_count("test.exec-null", p));

    /* A NOT NULL column refuses a NULL parameter: a statement error. */
    {
        const char *args[7] = { NULL, NULL, NULL, "test.exec-null", "{}", T0, T0 };
        int nrows = 77;
        assert_int_equal(SD_EINTERNAL,
                         sd_store_exec(&nrows, db, "sdesk_insert_outbox", 7, args, p));
        assert_int_equal(77, nrows);
        assert_int_equal(1, logged("SD00003"));
    }
    assert_int_equal(2, outbox_count("test.exec-null", p));
}

static void test_select_sql_values(void **state)
{
    static const struct {
        const char *a, *b;
    } cases[] = {
        { NULL, NULL }, { "", NULL }, { NULL, "" }, { "x", "y" }, { "\xc3\xa9t\xc3\xa9", "'" },
    };
    apr_pool_t *p = *state;
    sd_rows_t *rows;
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *args[3] = { cases[i].a, cases[i].b, cases[i].a };
        assert_int_equal(APR_SUCCESS, sd_store_select_sql(&rows, db, "test_echo3",
                         "SELECT %s, %s, %s IS NULL", 3, args, p));
        assert_int_equal(1, rows->nrows);
        assert_int_equal(3, rows->ncols);
        if (cases[i].a) assert_string_equal(cases[i].a, rows->cell[0][0]);
        else assert_null(rows->cell[0][0]);
        if (cases[i].b) assert_string_equal(cases[i].b, rows->cell[0][1]);
        else assert_null(rows->cell[0][1]);
        assert_string_equal(cases[i].a ? "0" : "1", rows->cell[0][2]);
    }
    /* No rows: nrows 0, columns known. */
    assert_int_equal(APR_SUCCESS, sd_store_select_sql(&rows, db, "test_none",
                     "SELECT id, kind FROM outbox WHERE 0", 0, NULL, p));
    assert_int_equal(0, rows->nrows);
    assert_int_equal(2, rows->ncols);
}

/* ---- transactions ------------------------------------------------------------------- */

typedef struct {
    const char *kind;
    apr_status_t result;       /* what fn returns after its insert */
    const char *tenant;        /* NULL makes the insert itself fail */
    int calls;
    int saw_txn;
    const char *made;          /* allocated in fn's pool */
} txn_baton_t;

static apr_status_t txn_fn(void *baton, sd_db_t *d, apr_pool_t *p)
{
    txn_baton_t *b = baton;
    apr_status_t rv;
    b->calls++;
    b->saw_txn = d->in_txn;
    b->made = apr_pstrcat(p, "made in ", b->kind, NULL);
    rv = outbox_add(d, b->tenant, b->kind, p);
    if (b->tenant && rv != APR_SUCCESS) fail_msg("%s: %d, %s", b->kind, rv, last_log());
    if (rv != APR_SUCCESS) return rv;
    /* A second statement after the first: all or nothing. */
    rv = outbox_add(d, b->tenant, b->kind, p);
    return rv != APR_SUCCESS ? rv : b->result;
}

static void test_txn_commit_and_rollback(void **state)
{
    static const struct {
        const char *kind;
        const char *tenant;
        apr_status_t result, want;
        int rows_after;
    } cases[] = {
        { "test.txn-commit", "north", APR_SUCCESS, APR_SUCCESS, 2 },
        { "test.txn-conflict", "north", SD_ECONFLICT, SD_ECONFLICT, 0 },
        { "test.txn-invalid", "north", SD_EINVALID, SD_EINVALID, 0 },
        { "test.txn-apr-error", "north", APR_EGENERAL, APR_EGENERAL, 0 },
        { "test.txn-stmt-fails", NULL, APR_SUCCESS, SD_EINTERNAL, 0 },
    };
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        txn_baton_t b;
        apr_status_t rv;
        memset(&b, 0, sizeof(b));
        b.kind = cases[i].kind;
        b.tenant = cases[i].tenant;
        b.result = cases[i].result;
        rv = sd_store_txn(db, txn_fn, &b, p);
        if (rv != cases[i].want) fail_msg("%s: rv %d, want %d", b.kind, rv, cases[i].want);
        assert_int_equal(1, b.calls);          /* no retry for anything but BUSY */
        assert_int_equal(1, b.saw_txn);
        assert_int_equal(0, db->in_txn);
        assert_int_equal(cases[i].rows_after, outbox_count(b.kind, p));
        /* What fn allocated outlives the call (a subpool of p). */
        assert_string_equal(apr_pstrcat(p, "made in ", b.kind, NULL), b.made);
    }
    /* After the rollbacks the connection is fine and outside a transaction:
     * a plain statement commits on its own. */
    assert_int_equal(APR_SUCCESS, outbox_add(db, "north", "test.txn-after", p));
    assert_int_equal(1, outbox_count("test.txn-after", p));
    raw_exec("BEGIN IMMEDIATE");               /* would fail inside a transaction */
    raw_exec("ROLLBACK");
}

typedef struct {
    int locks, unlocks;
    apr_status_t lock_rv;
    int held;                  /* lock held while fn ran */
} wlock_state_t;

static apr_status_t wl_lock(void *baton)
{
    wlock_state_t *s = baton;
    s->locks++;
    return s->lock_rv;
}

static apr_status_t wl_unlock(void *baton)
{
    wlock_state_t *s = baton;
    s->unlocks++;
    return APR_SUCCESS;
}

static wlock_state_t *wl_current;

static apr_status_t txn_check_lock(void *baton, sd_db_t *d, apr_pool_t *p)
{
    txn_baton_t *b = baton;
    wl_current->held = wl_current->locks - wl_current->unlocks;
    (void)d; (void)p;
    b->calls++;
    return b->result;
}

static void test_txn_write_lock(void **state)
{
    static const struct {
        apr_status_t lock_rv, result, want;
        int calls, locks, unlocks, held;
    } cases[] = {
        { APR_SUCCESS, APR_SUCCESS, APR_SUCCESS, 1, 1, 1, 1 },
        { APR_SUCCESS, SD_ECONFLICT, SD_ECONFLICT, 1, 1, 1, 1 },
        /* The lock cannot be had: unavailable, fn never runs, no unlock. */
        { APR_EGENERAL, APR_SUCCESS, SD_EUNAVAILABLE, 0, 1, 0, 0 },
    };
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wlock_state_t s;
        sd_store_writelock_t wl = { wl_lock, wl_unlock, NULL };
        txn_baton_t b;
        sd_db_t *d = NULL;

        memset(&s, 0, sizeof(s));
        memset(&b, 0, sizeof(b));
        s.lock_rv = cases[i].lock_rv;
        wl.baton = &s;
        wl_current = &s;
        b.result = cases[i].result;
        assert_int_equal(APR_SUCCESS, sd_store_open(&d, drv, handle, conn_pool, &wl, p));
        assert_int_equal(cases[i].want, sd_store_txn(d, txn_check_lock, &b, p));
        assert_int_equal(cases[i].calls, b.calls);
        assert_int_equal(cases[i].locks, s.locks);
        assert_int_equal(cases[i].unlocks, s.unlocks);
        assert_int_equal(cases[i].held, s.held);
        assert_int_equal(0, d->locked);
        assert_int_equal(0, d->in_txn);
    }
}

/* ---- labels ------------------------------------------------------------------------- */

static void test_unknown_label(void **state)
{
    apr_pool_t *p = *state;
    sd_rows_t *rows = (sd_rows_t *)(void *)&rows;
    int nrows = 55;

    assert_null(sd_store_sql("sdesk_no_such_statement", SD_DB_SQLITE));
    assert_null(sd_store_sql("sdesk_no_such_statement", SD_DB_PGSQL));
    assert_null(sd_store_sql("", SD_DB_SQLITE));
    assert_int_equal(SD_EINTERNAL,
                     sd_store_exec(&nrows, db, "sdesk_no_such_statement", 0, NULL, p));
    assert_int_equal(55, nrows);
    assert_int_equal(SD_EINTERNAL,
                     sd_store_select(&rows, db, "sdesk_no_such_statement", 0, NULL, p));
    assert_null(rows);
    /* Logged for the operator, with the label, once per call. */
    assert_int_equal(2, logged("SD00010: no SQL for statement sdesk_no_such_statement"));
    assert_int_equal(SD_LOG_ERR, logs.level[0]);

    /* Known labels have text in portable placeholders (never ? or $1). */
    {
        static const char *const known[] = {
            "sdesk_insert_ticket", "sdesk_insert_event", "sdesk_insert_outbox",
            "sdesk_get_ticket", "sdesk_list_comments", "sdesk_list_public_comments",
            "sdesk_list_attachments", "sdesk_list_events",
        };
        apr_size_t i;
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            const char *sql = sd_store_sql(known[i], SD_DB_SQLITE);
            if (!sql) fail_msg("%s has no SQL", known[i]);
            assert_null(strchr(sql, '?'));
            assert_null(strchr(sql, '$'));
            assert_non_null(strstr(sql, "tenant"));
            assert_non_null(sd_store_sql(known[i], SD_DB_PGSQL));
        }
    }
}

static void test_bad_sql_is_internal(void **state)
{
    apr_pool_t *p = *state;
    sd_rows_t *rows = (sd_rows_t *)(void *)&rows;

    assert_int_equal(SD_EINTERNAL, sd_store_select_sql(&rows, db, "test_bad_sql",
                     "SELEC nothing FROM nowhere", 0, NULL, p));
    assert_null(rows);
    assert_int_equal(1, logged("SD00003"));
    /* Not cached: the same key with good SQL works afterwards. */
    assert_int_equal(APR_SUCCESS, sd_store_select_sql(&rows, db, "test_bad_sql",
                     "SELECT 1", 0, NULL, p));
    assert_string_equal("1", rows->cell[0][0]);
}

/* A foreign key to a missing row is refused (foreign_keys=ON is in effect). */
static void test_foreign_keys_enforced(void **state)
{
    apr_pool_t *p = *state;
    const char *ev[9] = { "north", "999999", T0, "alice", "created", NULL, NULL, "new", NULL };
    sd_rows_t *rows;

    assert_int_equal(SD_EINTERNAL, sd_store_select(&rows, db, "sdesk_insert_event", 9, ev, p));
    assert_string_equal("0", raw_value("SELECT COUNT(*) FROM ticket_events"
                                       " WHERE ticket_id = 999999", p));
}

/* ---- value helpers ---------------------------------------------------------------------- */

static void test_i64_helpers(void **state)
{
    static const struct {
        const char *s;
        apr_int64_t want;
    } cases[] = {
        { "0", 0 }, { "1", 1 }, { "-5", -5 }, { "1795342500", 1795342500LL },
        { "9223372036854775807", APR_INT64_MAX }, { "-9223372036854775808", APR_INT64_MIN },
        { "", 0 }, { "12x", 0 }, { "x12", 0 }, { "1.5", 0 }, { " ", 0 },
    };
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (sd_store_to_i64(cases[i].s) != cases[i].want)
            fail_msg("'%s' gives %" APR_INT64_T_FMT, cases[i].s, sd_store_to_i64(cases[i].s));
    }
    assert_true(sd_store_to_i64(NULL) == 0);
    assert_string_equal("0", sd_store_i64(0, p));
    assert_string_equal("-42", sd_store_i64(-42, p));
    assert_string_equal("9223372036854775807", sd_store_i64(APR_INT64_MAX, p));
    assert_string_equal("-9223372036854775808", sd_store_i64(APR_INT64_MIN, p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_applied, setup, sd_test_teardown),
        cmocka_unit_test_setup_teardown(test_session_settings_memory, setup, sd_test_teardown),
        cmocka_unit_test_setup_teardown(test_second_open_is_cheap, setup, sd_test_teardown),
        cmocka_unit_test_setup_teardown(test_null_args_and_cells, setup, sd_test_teardown),
        cmocka_unit_test_setup_teardown(test_exec_null_args, setup, sd_test_teardown),
        cmocka_unit_test_setup_teardown(test_select_sql_values, setup, sd_test_teardown),
        cmocka_unit_test_setup_teardown(test_txn_commit_and_rollback, setup, sd_test_teardown),
        cmocka_unit_test_setup_teardown(test_txn_write_lock, setup, sd_test_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_label, setup, sd_test_teardown),
        cmocka_unit_test_setup_teardown(test_bad_sql_is_internal, setup, sd_test_teardown),
        cmocka_unit_test_setup_teardown(test_foreign_keys_enforced, setup, sd_test_teardown),
        cmocka_unit_test_setup_teardown(test_i64_helpers, setup, sd_test_teardown),
    };
    return cmocka_run_group_tests_name("sd_store", tests, group_setup, group_teardown);
}
