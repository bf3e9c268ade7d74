/* libFuzzer target for what a request's query string and body reach in the
 * database: lib/sd_desk.c and lib/sd_kb.c against a real SQLite ":memory:"
 * database with the module's schema (apr_dbd's sqlite3 driver, as in the
 * unit tests). Search text becomes FTS5 queries, filters become SQL
 * parameters, cursors become keyset conditions, bodies become rows.
 *
 * Input: byte 0 picks the user (bits 0-1: alice, a north reporter; tom, a
 * north agent of tier 2; dave, a south reporter; ada, a north admin) and
 * the mode (bits 2-3): 0 GET /tickets with the rest as query string, 1 GET
 * /known-issues with it, 2 POST /tickets with the rest as JSON body (the
 * ticket is read back and deleted again), 3 both lists with the same
 * query string.
 *
 * Checks: no statement ever fails (lib/ logs an error and answers 500 or
 * 503 for that: the log callback aborts at level error, and only success,
 * SD_EMALFORMED, SD_EFORBIDDEN or SD_EINVALID are accepted); every listed
 * ticket is of the user's tenant (and the user's own for reporters), every
 * known issue the tenant's or global; a next cursor gives a next page with
 * other items; a ticket created from any accepted body reads back with
 * every text byte for byte. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sd_desk.h"
#include "sd_json.h"
#include "sd_kb.h"
#include "sd_log.h"
#include "sd_fuzz.h"

/* Monday 2026-11-23 09:00:00Z */
#define NOW ((apr_int64_t)1795424400)

static apr_pool_t *root, *conn_pool, *seedp;   /* seedp: Initialize's, destroyed after */
static const apr_dbd_driver_t *drv;
static apr_dbd_t *handle;
static sd_db_t *db;
static sd_desk_conf_t conf;

static const sd_user_t users[4] = {
    { "alice", "uid=alice,ou=people,o=north", "Alice Archer", "alice@north.example", "north",
      SD_ROLE_REPORTER, 0 },
    { "tom", "uid=tom,ou=people,o=north", "Tom Tier", "tom@north.example", "north",
      SD_ROLE_REPORTER | SD_ROLE_AGENT, 1 << 2 },
    { "dave", "uid=dave,ou=people,o=south", "Dave Dunn", NULL, "south",
      SD_ROLE_REPORTER, 0 },
    { "ada", "uid=ada,ou=people,o=north", "Ada Admin", NULL, "north",
      SD_ROLE_REPORTER | SD_ROLE_ADMIN, 0 },
};

static void log_cb(void *baton, const char *file, int line, int level, apr_status_t rv,
                   const char *msg)
{
    (void)baton;
    if (level <= SD_LOG_ERR) {
        fprintf(stderr, "lib/ logged an error at %s:%d (rv %d): %s\n", file, line, rv, msg);
        abort();
    }
}

static int log_level_cb(void *baton, int level)
{
    (void)baton;
    return level <= SD_LOG_WARNING;
}

static void raw_exec(const char *sql)
{
    int nrows = 0, err = apr_dbd_query(drv, handle, &nrows, sql);
    if (err) {
        fprintf(stderr, "%s: %s\n", sql, apr_dbd_error(drv, handle, err));
        abort();
    }
}

static void seed_ticket(const sd_user_t *u, const char *json)
{
    sd_actor_t who = { u, &conf, NOW, NULL, NULL };
    sd_problem_t prob;
    sd_ticket_t in, *t;
    json_t *body = sd_json_own(seedp, json_loads(json, 0, NULL));
    sd_problem_init(&prob, seedp);
    CHECK(body && sd_ticket_from_json(&in, body, &conf, sd_actor_is_agent(&who), &prob, seedp)
                  == APR_SUCCESS);
    CHECK(sd_desk_ticket_create(&t, db, &who, &in, &prob, seedp) == APR_SUCCESS);
}

static void seed_ki(const sd_user_t *u, const char *json)
{
    sd_actor_t who = { u, &conf, NOW, NULL, NULL };
    sd_problem_t prob;
    sd_kb_input_t in;
    sd_kb_issue_t *ki;
    json_t *body = sd_json_own(seedp, json_loads(json, 0, NULL));
    sd_problem_init(&prob, seedp);
    CHECK(body && sd_kb_from_json(&in, body, 1, &conf, &prob, seedp) == APR_SUCCESS);
    CHECK(sd_kb_create(&ki, db, &who, &in, &prob, seedp) == APR_SUCCESS);
}

/* At exit: the database's memory is SQLite's (malloc), reachable only
 * through APR's pools, which LeakSanitizer cannot see into; close it before
 * the leak check runs (atexit handlers run in reverse order, the check last). */
static void close_db(void)
{
    if (handle) apr_dbd_close(drv, handle);
    handle = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const subjects[] = {
        "Label printer on ward 3 prints blank pages", "Принтер не печатает этикетки",
        "VPN drops every hour", "Café terminal: login \"fails\" (error 0x80)",
        "printer printer printer", "O'Brien's PACS viewer* crashes -- again; DROP TABLE",
    };
    int i, j;
    (void)argc;
    (void)argv;
    root = sd_fuzz_start();
    sd_json_init();
    sd_log_set(log_cb, log_level_cb, NULL);
    apr_pool_create(&conn_pool, root);
    if (apr_dbd_init(root) != APR_SUCCESS
        || apr_dbd_get_driver(root, "sqlite3", &drv) != APR_SUCCESS
        || apr_dbd_open(drv, conn_pool, ":memory:", &handle) != APR_SUCCESS
        || sd_store_open(&db, drv, handle, conn_pool, NULL, root) != APR_SUCCESS) {
        fprintf(stderr, "fuzz_desk: no SQLite database (libaprutil1-dbd-sqlite3?)\n");
        abort();
    }
    atexit(close_db);
    /* mode 2 deletes the tickets it creates */
    raw_exec("DROP TRIGGER ticket_events_no_delete");
    sd_desk_conf_default(&conf, root);
    /* jansson values bound to a pool are freed with it: LeakSanitizer cannot
     * see into APR's mmap'd pools, so they must not outlive Initialize. */
    apr_pool_create(&seedp, root);
    /* Enough tickets per user for a few pages at limit=2. */
    for (i = 0; i < 4; ++i) {
        for (j = 0; j < 6; ++j) {
            seed_ticket(&users[i], apr_psprintf(seedp,
                "{\"subject\": \"%s %d\", \"description\": \"by %s: %s\", \"category\": \"%s\","
                " \"priority\": \"%s\"}", j == 3 ? "Cafe terminal login fails" : subjects[j],
                i, users[i].user, j == 5 ? "it\\u0027s broken" : "details follow",
                j % 2 ? "device" : "access", j % 3 ? "high" : "normal"));
        }
    }
    seed_ki(&users[1], "{\"title\": \"Label printer offline\", \"symptoms\": \"blank labels\","
                       " \"workaround\": \"power cycle\", \"services\": [\"printing\"]}");
    seed_ki(&users[3], "{\"title\": \"VPN drops\", \"scope\": \"global\", \"status\": \"monitoring\"}");
    seed_ki(&users[3], "{\"title\": \"Принтер\", \"symptoms\": \"не печатает\"}");
    {
        sd_user_t sam = users[1];
        sam.user = "sam";
        sam.tenant = "south";
        seed_ki(&sam, "{\"title\": \"South printer offline\", \"symptoms\": \"printer\"}");
    }
    apr_pool_destroy(seedp);
    return 0;
}

static void check_tickets(const apr_array_header_t *items, const sd_user_t *u)
{
    int i;
    for (i = 0; i < items->nelts; ++i) {
        const sd_ticket_t *t = APR_ARRAY_IDX(items, i, const sd_ticket_t *);
        CHECK(!strcmp(t->tenant, u->tenant));
        if (!(u->roles & (SD_ROLE_AGENT | SD_ROLE_ADMIN))) CHECK(!strcmp(t->reporter, u->user));
    }
}

static int in_items(const apr_array_header_t *items, apr_int64_t id)
{
    int i;
    for (i = 0; i < items->nelts; ++i)
        if (APR_ARRAY_IDX(items, i, const sd_ticket_t *)->id == id) return 1;
    return 0;
}

static void list_tickets(sd_actor_t *who, const char *qs, apr_pool_t *p)
{
    sd_ticket_query_t q;
    sd_problem_t prob;
    apr_array_header_t *items, *more;
    const char *next, *next2;
    apr_status_t rv;
    int i;

    sd_problem_init(&prob, p);
    rv = sd_desk_ticket_query(&q, qs, &conf, &prob, p);
    CHECK(rv == APR_SUCCESS || rv == SD_EMALFORMED);
    if (rv != APR_SUCCESS) return;
    rv = sd_desk_ticket_list(&items, &next, db, who, &q, &prob, p);
    CHECK(rv == APR_SUCCESS || rv == SD_EMALFORMED || rv == SD_EFORBIDDEN);
    if (rv != APR_SUCCESS) return;
    CHECK(items->nelts <= q.limit);
    check_tickets(items, who->user);
    if (!next) return;
    CHECK(items->nelts == q.limit);
    q.cursor = next;
    rv = sd_desk_ticket_list(&more, &next2, db, who, &q, &prob, p);
    CHECK(rv == APR_SUCCESS);
    check_tickets(more, who->user);
    for (i = 0; i < more->nelts; ++i)
        CHECK(!in_items(items, APR_ARRAY_IDX(more, i, const sd_ticket_t *)->id));
}

static void list_kis(sd_actor_t *who, const char *qs, apr_pool_t *p)
{
    sd_problem_t prob;
    apr_array_header_t *items;
    const char *next;
    apr_status_t rv;
    int i;

    sd_problem_init(&prob, p);
    rv = sd_kb_list(&items, &next, db, who, qs, &prob, p);
    CHECK(rv == APR_SUCCESS || rv == SD_EMALFORMED);
    if (rv != APR_SUCCESS) return;
    for (i = 0; i < items->nelts; ++i) {
        const sd_kb_issue_t *ki = APR_ARRAY_IDX(items, i, const sd_kb_issue_t *);
        CHECK(!*ki->tenant || !strcmp(ki->tenant, who->user->tenant));
        CHECK(sd_kb_json(ki, p) != NULL);
    }
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static void create(sd_actor_t *who, const uint8_t *data, size_t size, apr_pool_t *p)
{
    sd_problem_t prob;
    sd_ticket_t in, *t, *back;
    json_t *body;
    apr_status_t rv;

    sd_problem_init(&prob, p);
    if (sd_json_parse_object(&body, (const char *)data, size, &conf.limits, &prob, p)
        != APR_SUCCESS)
        return;
    if (sd_ticket_from_json(&in, body, &conf, sd_actor_is_agent(who), &prob, p) != APR_SUCCESS)
        return;
    rv = sd_desk_ticket_create(&t, db, who, &in, &prob, p);
    CHECK(rv == APR_SUCCESS);
    rv = sd_desk_ticket_get(&back, db, who, t->id, &prob, p);
    CHECK(rv == APR_SUCCESS);
    CHECK(!strcmp(back->tenant, who->user->tenant) && !strcmp(back->reporter, who->user->user));
    CHECK(same(back->subject, in.subject) && same(back->description, in.description));
    CHECK(same(back->category, in.category) && back->priority == in.priority);
    CHECK(same(back->service, in.service) && same(back->encounter_id, in.encounter_id));
    CHECK(same(back->page_url, in.page_url) && same(back->device_id, in.device_id));
    CHECK(same(back->device_model, in.device_model) && same(back->device_os, in.device_os));
    CHECK(same(back->device_app_version, in.device_app_version));
    CHECK(same(back->cc_json, in.cc_json) && same(back->context_json, in.context_json));
    CHECK(sd_json_dump(sd_ticket_json(back, &conf, 1, 1, NOW, p), p) != NULL);
    raw_exec(apr_psprintf(p, "DELETE FROM outbox WHERE ticket_id = %" APR_INT64_T_FMT, t->id));
    raw_exec(apr_psprintf(p, "DELETE FROM ticket_events WHERE ticket_id = %" APR_INT64_T_FMT,
                          t->id));
    raw_exec(apr_psprintf(p, "DELETE FROM ticket_tiers WHERE ticket_id = %" APR_INT64_T_FMT,
                          t->id));
    raw_exec(apr_psprintf(p, "DELETE FROM tickets WHERE id = %" APR_INT64_T_FMT, t->id));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    sd_actor_t who;
    const char *qs;
    int mode;

    if (size < 1) return 0;
    who.user = &users[data[0] & 3];
    who.conf = &conf;
    who.now = NOW;
    who.lookup = NULL;
    who.lookup_baton = NULL;
    mode = (data[0] >> 2) & 3;
    apr_pool_create(&p, root);
    qs = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    switch (mode) {
    case 0: list_tickets(&who, qs, p); break;
    case 1: list_kis(&who, qs, p); break;
    case 2: create(&who, data + 1, size - 1, p); break;
    default:
        list_tickets(&who, qs, p);
        list_kis(&who, qs, p);
        break;
    }
    apr_pool_destroy(p);
    return 0;
}
