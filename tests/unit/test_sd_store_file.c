/* Unit tests for lib/sd_store.c against a SQLite database file in a fresh
 * temporary directory: the session settings a real server gets (WAL,
 * synchronous=FULL, foreign keys), per connection, and two connections
 * sharing the file. Its own executable, because migrations run once per
 * process (test_sd_store.c has the ":memory:" database). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_dbd.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "sd_test.h"
#include "sd_test_db.h"
#include "sd_log.h"
#include "sd_store.h"

static const apr_dbd_driver_t *drv;
static char dir[] = "/tmp/sdesk-store-XXXXXX";
static const char *path;

static int quiet_level(void *baton, int level)
{
    (void)baton;
    return level <= SD_LOG_WARNING;
}

static void quiet(void *baton, const char *file, int line, int level, apr_status_t rv,
                  const char *msg)
{
    (void)baton; (void)file; (void)line; (void)level; (void)rv; (void)msg;
}

static int group_setup(void **state)
{
    int rc = sd_test_group_setup(state);
    if (rc) return rc;
    /* Busy waits below are expected; keep their warnings out of the output. */
    sd_log_set(quiet, quiet_level, NULL);
    if (!mkdtemp(dir)) return -1;
    path = apr_pstrcat(sd_test_root, dir, "/desk.db", NULL);
    if (apr_dbd_init(sd_test_root) != APR_SUCCESS) return -1;
    if (apr_dbd_get_driver(sd_test_root, "sqlite3", &drv) != APR_SUCCESS) {
        fprintf(stderr, "the apr_dbd sqlite3 driver is missing (libaprutil1-dbd-sqlite3)\n");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    apr_size_t i;
    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
        unlink(apr_pstrcat(sd_test_root, path, suffixes[i], NULL));
    rmdir(dir);
    sd_log_set(NULL, NULL, NULL);
    return sd_test_group_teardown(state);
}

/* A connection with its own pool, as mod_dbd gives each one. */
typedef struct {
    apr_pool_t *pool;
    apr_dbd_t *handle;
    sd_db_t *db;
} conn_t;

static apr_status_t conn_close(void *data)
{
    conn_t *c = data;
    if (c->handle) apr_dbd_close(drv, c->handle);
    c->handle = NULL;
    return APR_SUCCESS;
}

static conn_t *open_conn_with(const sd_store_writelock_t *wlock, apr_pool_t *p)
{
    conn_t *c = apr_pcalloc(p, sizeof(*c));
    apr_status_t rv;
    assert_int_equal(APR_SUCCESS, apr_pool_create(&c->pool, p));
    assert_int_equal(APR_SUCCESS, apr_dbd_open(drv, c->pool, path, &c->handle));
    apr_pool_cleanup_register(c->pool, c, conn_close, apr_pool_cleanup_null);
    rv = sd_store_open(&c->db, drv, c->handle, c->pool, wlock, p);
    if (rv != APR_SUCCESS) fail_msg("sd_store_open(%s): %d", path, rv);
    return c;
}

static conn_t *open_conn(apr_pool_t *p)
{
    return open_conn_with(NULL, p);
}

/* A writers' lock that counts (the module's is a global mutex). */
typedef struct {
    int locks, unlocks, held;
} counted_t;

static apr_status_t counted_lock(void *baton)
{
    counted_t *c = baton;
    assert_int_equal(0, c->held);
    ++c->locks;
    c->held = 1;
    return APR_SUCCESS;
}

static apr_status_t counted_unlock(void *baton)
{
    counted_t *c = baton;
    assert_int_equal(1, c->held);
    ++c->unlocks;
    c->held = 0;
    return APR_SUCCESS;
}

static void check_settings(apr_dbd_t *h, apr_pool_t *p)
{
    assert_string_equal("wal", sd_test_value(drv, h, "PRAGMA journal_mode", p));
    assert_string_equal("2", sd_test_value(drv, h, "PRAGMA synchronous", p));
    assert_string_equal("1", sd_test_value(drv, h, "PRAGMA foreign_keys", p));
    assert_string_equal("0", sd_test_value(drv, h, "PRAGMA busy_timeout", p));
}

/* Runs first: it creates the file and migrates it (once per process). */
static void test_file_settings_and_schema(void **state)
{
    apr_pool_t *p = *state;
    apr_finfo_t fi;
    conn_t *c;
    int version = -1;

    counted_t n = { 0, 0, 0 };
    sd_store_writelock_t wl = { counted_lock, counted_unlock, &n };

    /* A brand-new file: nothing there yet. */
    assert_true(APR_STATUS_IS_ENOENT(apr_stat(&fi, path, APR_FINFO_TYPE, p)));
    c = open_conn_with(&wl, p);
    check_settings(c->handle, p);
    /* Switching to WAL took the writers' lock (two children doing it at
     * once on a new file used to lock each other out), and let it go. */
    assert_int_equal(1, n.locks);
    assert_int_equal(1, n.unlocks);
    assert_int_equal(APR_SUCCESS, sd_store_schema_version(&version, c->db, p));
    assert_true(version >= 1);
    assert_int_equal(sd_store_schema_latest(c->db), version);
    assert_string_equal("1", sd_test_value(drv, c->handle, "SELECT COUNT(*) FROM sqlite_master"
                                           " WHERE type = 'table' AND name = 'tickets'", p));
    /* WAL for real: the log file is next to the database. */
    assert_int_equal(APR_SUCCESS, apr_stat(&fi, apr_pstrcat(p, path, "-wal", NULL),
                                           APR_FINFO_TYPE, p));
    /* A file already in WAL: a new connection does not wait for the lock. */
    apr_pool_destroy(open_conn_with(&wl, p)->pool);
    assert_int_equal(1, n.locks);
    apr_pool_destroy(c->pool);
}

/* synchronous and foreign_keys belong to a connection, not to the file:
 * every new connection must get them. */
static void test_every_connection_gets_settings(void **state)
{
    apr_pool_t *p = *state;
    conn_t *a, *b;
    apr_dbd_t *plain;
    apr_pool_t *pp;

    /* Without the store a connection has SQLite's defaults: foreign keys
     * off (WAL stays, as it is kept in the file; Debian's SQLite already
     * defaults to synchronous=FULL, so that one cannot be told apart). */
    assert_int_equal(APR_SUCCESS, apr_pool_create(&pp, p));
    assert_int_equal(APR_SUCCESS, apr_dbd_open(drv, pp, path, &plain));
    assert_string_equal("wal", sd_test_value(drv, plain, "PRAGMA journal_mode", p));
    assert_string_equal("0", sd_test_value(drv, plain, "PRAGMA foreign_keys", p));
    apr_dbd_close(drv, plain);
    apr_pool_destroy(pp);

    a = open_conn(p);
    b = open_conn(p);
    assert_ptr_not_equal(a->db->conn, b->db->conn);
    check_settings(a->handle, p);
    check_settings(b->handle, p);
    apr_pool_destroy(a->pool);
    apr_pool_destroy(b->pool);
}

typedef struct {
    const char *kind;
    sd_db_t *other;            /* looks from another connection while in the transaction */
    const char *seen_outside;
    apr_status_t result;
} txn_t;

static const char *count_kind(sd_db_t *d, const char *kind, apr_pool_t *p)
{
    const char *args[1] = { kind };
    sd_rows_t *rows;
    assert_int_equal(APR_SUCCESS, sd_store_select_sql(&rows, d, "test_count",
                     "SELECT COUNT(*) FROM outbox WHERE kind = %s", 1, args, p));
    return rows->cell[0][0];
}

static apr_status_t txn_fn(void *baton, sd_db_t *d, apr_pool_t *p)
{
    txn_t *t = baton;
    const char *args[7] = { "north", NULL, NULL, t->kind, "{}", "1795342500", "1795342500" };
    apr_status_t rv = sd_store_exec(NULL, d, "sdesk_insert_outbox", 7, args, p);
    if (rv != APR_SUCCESS) return rv;
    /* Readers are not blocked by a writer in WAL mode and do not see
     * uncommitted rows. */
    t->seen_outside = count_kind(t->other, t->kind, p);
    return t->result;
}

static void test_commit_visible_to_other_connection(void **state)
{
    apr_pool_t *p = *state;
    conn_t *a = open_conn(p), *b = open_conn(p);
    txn_t t = { "file.commit", NULL, NULL, APR_SUCCESS };

    t.other = b->db;
    assert_int_equal(APR_SUCCESS, sd_store_txn(a->db, txn_fn, &t, p));
    assert_string_equal("0", t.seen_outside);
    assert_string_equal("1", count_kind(b->db, "file.commit", p));

    t.kind = "file.rollback";
    t.result = SD_ECONFLICT;
    assert_int_equal(SD_ECONFLICT, sd_store_txn(a->db, txn_fn, &t, p));
    assert_string_equal("0", t.seen_outside);
    assert_string_equal("0", count_kind(b->db, "file.rollback", p));
    assert_string_equal("0", count_kind(a->db, "file.rollback", p));

    /* The file survives its connections. */
    apr_pool_destroy(a->pool);
    apr_pool_destroy(b->pool);
    a = open_conn(p);
    assert_string_equal("1", count_kind(a->db, "file.commit", p));
    apr_pool_destroy(a->pool);
}

/* A second writer while the first holds the write lock: SD_EBUSY after a
 * bounded retry, never a hang and never another code. */
typedef struct {
    sd_db_t *second;
    apr_status_t second_rv;
    int second_calls;
} busy_t;

static apr_status_t second_fn(void *baton, sd_db_t *d, apr_pool_t *p)
{
    busy_t *b = baton;
    (void)d; (void)p;
    b->second_calls++;
    return APR_SUCCESS;
}

static apr_status_t first_fn(void *baton, sd_db_t *d, apr_pool_t *p)
{
    busy_t *b = baton;
    (void)d;
    b->second_rv = sd_store_txn(b->second, second_fn, b, p);
    return APR_SUCCESS;
}

static void test_second_writer_gets_busy(void **state)
{
    apr_pool_t *p = *state;
    conn_t *a = open_conn(p), *b = open_conn(p);
    busy_t bt = { NULL, APR_SUCCESS, 0 };
    apr_time_t start;

    bt.second = b->db;
    start = apr_time_now();
    assert_int_equal(APR_SUCCESS, sd_store_txn(a->db, first_fn, &bt, p));
    assert_int_equal(SD_EBUSY, bt.second_rv);
    assert_int_equal(0, bt.second_calls);      /* BEGIN IMMEDIATE never got the lock */
    assert_int_equal(0, b->db->in_txn);
    /* Bounded: the driver's own 1.6 s per attempt, a few attempts. */
    assert_true(apr_time_now() - start < apr_time_from_sec(15));
    /* Once the first has committed, the second connection writes. */
    assert_int_equal(APR_SUCCESS, sd_store_txn(b->db, second_fn, &bt, p));
    assert_int_equal(1, bt.second_calls);
    apr_pool_destroy(a->pool);
    apr_pool_destroy(b->pool);
}

/* A pooled connection that SQLite opened read-only (the file was not
 * writable when it was opened; "mode=ro" does the same here, as root may
 * write any file): its writes fail as SD_EUNAVAILABLE marked SD_DB_READONLY,
 * never 500, and once the file is writable the store opens it again itself
 * and the same pooled connection writes (test_910_faults.py end to end). */
static void test_read_only_connection_recovers(void **state)
{
    apr_pool_t *p = *state, *cp;
    txn_t t = { "file.readonly", NULL, NULL, APR_SUCCESS };
    conn_t *b = open_conn(p);
    apr_dbd_t *ro;
    sd_db_t *db, *again;

    t.other = b->db;
    assert_int_equal(APR_SUCCESS, apr_pool_create(&cp, p));
    assert_int_equal(APR_SUCCESS, apr_dbd_open(drv, cp, apr_pstrcat(p, "file:", path,
                                                                    "?mode=ro", NULL), &ro));
    assert_int_equal(APR_SUCCESS, sd_store_open(&db, drv, ro, cp, NULL, p));
    /* a write that the read-only handle refuses is retried on a new handle */
    assert_int_equal(APR_SUCCESS, sd_store_txn(db, txn_fn, &t, p));
    assert_ptr_not_equal(ro, db->handle);
    assert_int_equal(0, db->unwritable);
    assert_string_equal("1", count_kind(b->db, "file.readonly", p));
    check_settings(db->handle, p);
    /* the next request on the same pooled connection uses the new handle */
    assert_int_equal(APR_SUCCESS, sd_store_open(&again, drv, ro, cp, NULL, p));
    assert_ptr_equal(db->handle, again->handle);
    t.kind = "file.readonly2";
    assert_int_equal(APR_SUCCESS, sd_store_txn(again, txn_fn, &t, p));
    assert_string_equal("1", count_kind(b->db, "file.readonly2", p));
    apr_dbd_close(drv, ro);
    apr_pool_destroy(cp);              /* closes the store's own handle too */
    apr_pool_destroy(b->pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_file_settings_and_schema),
        SD_TEST(test_every_connection_gets_settings),
        SD_TEST(test_commit_visible_to_other_connection),
        SD_TEST(test_second_writer_gets_busy),
        SD_TEST(test_read_only_connection_recovers),
    };
    return cmocka_run_group_tests_name("sd_store_file", tests, group_setup, group_teardown);
}
