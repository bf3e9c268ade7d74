/* Unit tests for lib/sd_desk.c against a real SQLite ":memory:" database:
 * create and get (fields, due times, events, tenant and colleague
 * visibility), the list query parser, and listing (scopes, filters, paging,
 * cursors, queue order).
 *
 * Migrations run once per process, so the database is opened once, in the
 * group setup; each test starts from empty tables. */
#include <stdio.h>
#include <string.h>

#include <apr_dbd.h>
#include <apr_strings.h>

#include "sd_test.h"
#include "sd_desk.h"
#include "sd_json.h"
#include "sd_log.h"

/* Monday 2026-11-23 09:00:00Z, inside business hours. */
#define NOW ((apr_int64_t)1795424400)
#define HOUR 3600

static apr_pool_t *conn_pool;
static const apr_dbd_driver_t *drv;
static apr_dbd_t *handle;
static sd_db_t *db;

/* uid, dn, name, email, tenant, roles, tiers */
static const sd_user_t alice = {
    "alice", "uid=alice,ou=people,o=north", "Alice Adams", "alice@north.example", "north",
    SD_ROLE_REPORTER, 0
};
static const sd_user_t bob = {
    "bob", "uid=bob,ou=people,o=north", "Bob Brown", "bob@north.example", "north",
    SD_ROLE_REPORTER, 0
};
static const sd_user_t carol = {
    "carol", "uid=carol,ou=people,o=north", "Carol Clark", "carol@north.example", "north",
    SD_ROLE_REPORTER | SD_ROLE_AGENT, 1 << 2
};
static const sd_user_t frank = {      /* tiers 2 and 4 */
    "frank", "uid=frank,ou=people,o=north", "Frank Fox", NULL, "north",
    SD_ROLE_REPORTER | SD_ROLE_AGENT, (1 << 2) | (1 << 4)
};
static const sd_user_t olga = {       /* admin, not an agent */
    "olga", "uid=olga,ou=people,o=north", "Olga Ode", NULL, "north",
    SD_ROLE_REPORTER | SD_ROLE_ADMIN, 0
};
static const sd_user_t dave = {
    "dave", "uid=dave,ou=people,o=south", "Dave Dunn", "dave@south.example", "south",
    SD_ROLE_REPORTER, 0
};
static const sd_user_t erin = {
    "erin", "uid=erin,ou=people,o=south", "Erin Eve", "erin@south.example", "south",
    SD_ROLE_REPORTER | SD_ROLE_AGENT, 1 << 2
};

static sd_desk_conf_t conf;            /* defaults, fresh for every test */

/* ---- setup ---------------------------------------------------------------------- */

static int group_setup(void **state)
{
    int rc = sd_test_group_setup(state);
    if (rc) return rc;
    sd_json_init();
    if (apr_pool_create(&conn_pool, sd_test_root) != APR_SUCCESS) return -1;
    if (apr_dbd_init(sd_test_root) != APR_SUCCESS) return -1;
    if (apr_dbd_get_driver(sd_test_root, "sqlite3", &drv) != APR_SUCCESS) {
        fprintf(stderr, "the apr_dbd sqlite3 driver is missing (libaprutil1-dbd-sqlite3)\n");
        return -1;
    }
    if (apr_dbd_open(drv, conn_pool, ":memory:", &handle) != APR_SUCCESS) return -1;
    if (sd_store_open(&db, drv, handle, conn_pool, NULL, sd_test_root) != APR_SUCCESS) return -1;
    /* The audit trail is append-only (test_sd_store checks that); these
     * tests empty every table between tests, so they lift that here. */
    return apr_dbd_query(drv, handle, &rc, "DROP TRIGGER ticket_events_no_delete") ? -1 : 0;
}

static int group_teardown(void **state)
{
    if (handle) apr_dbd_close(drv, handle);
    return sd_test_group_teardown(state);
}

static void raw_exec(const char *sql)
{
    int nrows = 0, err = apr_dbd_query(drv, handle, &nrows, sql);
    if (err) fail_msg("%s: %s", sql, apr_dbd_error(drv, handle, err));
}

/* Fixture tickets by label, for expected lists. */
static struct {
    const char *label;
    apr_int64_t id;
} fx[32];
static int nfx;

static int setup(void **state)
{
    int rc = sd_test_setup(state);
    if (rc) return rc;
    /* Every test starts from empty tables (DELETE keeps prepared statements
     * valid; a schema change would not). */
    raw_exec("DELETE FROM outbox");
    raw_exec("DELETE FROM ticket_events");
    raw_exec("DELETE FROM comments");
    raw_exec("DELETE FROM attachments");
    raw_exec("DELETE FROM ticket_tiers");
    raw_exec("DELETE FROM tickets");
    sd_desk_conf_default(&conf, (apr_pool_t *)*state);
    /* These tests check due = now + target: every clock round the clock
     * (the business-hours calendar has its own tests in test_sd_sla). */
    {
        int t, pr;
        for (t = SD_TIER_MIN; t <= SD_TIER_MAX; ++t) {
            conf.response_rtc[t] = 1;
            for (pr = 0; pr < SD_PRIO_COUNT; ++pr) conf.resolution_rtc[t][pr] = 1;
        }
    }
    nfx = 0;
    return 0;
}

#define DESK_TEST(f) cmocka_unit_test_setup_teardown(f, setup, sd_test_teardown)

/* ---- helpers -------------------------------------------------------------------- */

static sd_ticket_t *create_json(const sd_user_t *u, const sd_desk_conf_t *c, apr_int64_t now,
                                const char *json, apr_pool_t *p)
{
    sd_actor_t who = { u, c, now, NULL, NULL };
    sd_problem_t prob;
    sd_ticket_t in, *t = NULL;
    json_error_t err;
    json_t *body = sd_json_own(p, json_loads(json, JSON_REJECT_DUPLICATES, &err));
    apr_status_t rv;

    if (!body) fail_msg("test body: %s: %s", err.text, json);
    sd_problem_init(&prob, p);
    if (sd_ticket_from_json(&in, body, c, sd_actor_is_agent(&who), &prob, p) != APR_SUCCESS)
        fail_msg("test body invalid: %s", json);
    rv = sd_desk_ticket_create(&t, db, &who, &in, &prob, p);
    if (rv != APR_SUCCESS) fail_msg("create failed: %d %s", rv, prob.detail);
    assert_non_null(t);
    return t;
}

static void remember(const char *label, apr_int64_t id)
{
    assert_true(nfx < (int)(sizeof(fx) / sizeof(fx[0])));
    fx[nfx].label = label;
    fx[nfx].id = id;
    nfx++;
}

static apr_int64_t create(const char *label, const sd_user_t *u, const sd_desk_conf_t *c,
                          apr_int64_t now, const char *subject, const char *category,
                          const char *priority, apr_pool_t *p)
{
    sd_ticket_t *t = create_json(u, c, now, apr_psprintf(p,
        "{\"subject\": \"%s\", \"description\": \"About: %s\", \"category\": \"%s\","
        " \"priority\": \"%s\"}", subject, subject, category, priority), p);
    if (label) remember(label, t->id);
    return t->id;
}

static apr_int64_t id_of(const char *label)
{
    int i;
    for (i = 0; i < nfx; i++) {
        if (!strcmp(fx[i].label, label)) return fx[i].id;
    }
    fail_msg("no fixture ticket '%s'", label);
    return 0;
}

/* "a3 a1" -> "12,10" */
static const char *ids_of_labels(const char *labels, apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, labels), *l, *save = NULL;
    const char *out = "";
    for (l = apr_strtok(copy, " ", &save); l; l = apr_strtok(NULL, " ", &save))
        out = apr_psprintf(p, "%s%s%" APR_INT64_T_FMT, out, *out ? "," : "", id_of(l));
    return out;
}

static const char *ids_of_items(const apr_array_header_t *items, apr_pool_t *p)
{
    const char *out = "";
    int i;
    for (i = 0; items && i < items->nelts; i++)
        out = apr_psprintf(p, "%s%s%" APR_INT64_T_FMT, out, i ? "," : "",
                           APR_ARRAY_IDX(items, i, sd_ticket_t *)->id);
    return out;
}

static apr_status_t list(apr_array_header_t **items, const char **next, const sd_user_t *u,
                         const sd_desk_conf_t *c, const char *qs, sd_problem_t *prob,
                         apr_pool_t *p)
{
    sd_actor_t who = { u, c, NOW, NULL, NULL };
    sd_ticket_query_t q;
    apr_status_t rv;

    sd_problem_init(prob, p);
    rv = sd_desk_ticket_query(&q, qs, c, prob, p);
    if (rv != APR_SUCCESS) fail_msg("query '%s' refused: %s", qs, prob->detail);
    return sd_desk_ticket_list(items, next, db, &who, &q, prob, p);
}

/* One page that must work; returns the ids as "12,10". */
static const char *list_ids(const sd_user_t *u, const sd_desk_conf_t *c, const char *qs,
                            const char **next, apr_pool_t *p)
{
    apr_array_header_t *items;
    sd_problem_t prob;
    const char *nx;
    apr_status_t rv = list(&items, &nx, u, c, qs, &prob, p);
    if (rv != APR_SUCCESS)
        fail_msg("%s '%s': %d %s", u->user, qs, rv, prob.detail ? prob.detail : "");
    if (next) *next = nx;
    return ids_of_items(items, p);
}

static void expect_list(const sd_user_t *u, const sd_desk_conf_t *c, const char *qs,
                        const char *labels, apr_pool_t *p)
{
    const char *next = "x";
    const char *got = list_ids(u, c, qs, &next, p), *want = ids_of_labels(labels, p);
    if (strcmp(want, got))
        fail_msg("%s '%s': want [%s] = %s, got %s", u->user, qs, labels, want, got);
    assert_null(next);
}

/* Every page of a listing, following the cursors; checks page sizes and
 * that only the last page has no cursor. */
static const char *all_pages(const sd_user_t *u, const sd_desk_conf_t *c, const char *qs,
                             int limit, int *npages, apr_pool_t *p)
{
    const char *next = NULL, *ids = "", *page;
    int n = 0;

    do {
        const char *q = apr_psprintf(p, "%s%slimit=%d%s%s", qs, *qs ? "&" : "", limit,
                                     next ? "&cursor=" : "", next ? next : "");
        apr_array_header_t *items;
        sd_problem_t prob;
        apr_status_t rv = list(&items, &next, u, c, q, &prob, p);
        if (rv != APR_SUCCESS) fail_msg("page %d of '%s': %d %s", n + 1, q, rv, prob.detail);
        assert_true(items->nelts <= limit);
        /* A page with a next cursor is full. */
        if (next) assert_int_equal(limit, items->nelts);
        page = ids_of_items(items, p);
        if (*page) ids = apr_pstrcat(p, ids, *ids ? "," : "", page, NULL);
        n++;
        assert_true(n < 100);
    } while (next);
    *npages = n;
    return ids;
}

static void set_column(apr_int64_t id, const char *assignment)
{
    char sql[256];
    apr_snprintf(sql, sizeof(sql), "UPDATE tickets SET %s WHERE id = %" APR_INT64_T_FMT,
                 assignment, id);
    raw_exec(sql);
}

/* ---- create and get ----------------------------------------------------------------- */

static void assert_same_ticket(const sd_ticket_t *a, const sd_ticket_t *b)
{
#define SAME_STR(f) do { \
        if ((a->f == NULL) != (b->f == NULL) || (a->f && strcmp(a->f, b->f))) \
            fail_msg(#f ": '%s' vs '%s'", a->f ? a->f : "NULL", b->f ? b->f : "NULL"); \
    } while (0)
#define SAME_NUM(f) do { \
        if (a->f != b->f) fail_msg(#f ": %" APR_INT64_T_FMT " vs %" APR_INT64_T_FMT, \
                                   (apr_int64_t)a->f, (apr_int64_t)b->f); \
    } while (0)
    SAME_NUM(id); SAME_STR(tenant); SAME_STR(subject); SAME_STR(description); SAME_STR(category);
    SAME_NUM(urgency); SAME_NUM(impact); SAME_NUM(priority); SAME_NUM(status); SAME_NUM(tier);
    SAME_NUM(environment); SAME_STR(service); SAME_STR(encounter_id); SAME_STR(page_url);
    SAME_NUM(has_device); SAME_STR(device_id); SAME_STR(device_model); SAME_STR(device_os);
    SAME_STR(device_app_version); SAME_STR(cc_json); SAME_STR(context_json);
    SAME_STR(reporter); SAME_STR(reporter_name); SAME_STR(reporter_email); SAME_STR(assignee);
    SAME_NUM(known_issue_id); SAME_NUM(created_at); SAME_NUM(updated_at);
    SAME_NUM(tier_started_at); SAME_NUM(response_due_at); SAME_NUM(resolution_due_at);
    SAME_NUM(first_response_at); SAME_NUM(resolved_at); SAME_NUM(closed_at);
    SAME_NUM(sla_breached); SAME_NUM(version);
#undef SAME_STR
#undef SAME_NUM
}

static void test_create_and_get_round_trip(void **state)
{
    apr_pool_t *p = *state;
    sd_actor_t as_alice = { &alice, &conf, NOW + 5, NULL, NULL }, as_carol = { &carol, &conf, NOW + 5, NULL, NULL };
    sd_problem_t prob;
    sd_ticket_t *t, *got;
    const sd_event_t *e;
    sd_rows_t *rows;
    const char *args[1];
    int i;

    t = create_json(&alice, &conf, NOW,
        "{\"subject\": \"Drucker st\\u00f6rt auf Station 3\","
        " \"description\": \"Every second page.\\nSince Monday.\","
        " \"category\": \"device\", \"urgency\": \"job-stopped\", \"impact\": \"multiple\","
        " \"environment\": \"production\", \"service\": \"EPR\", \"encounter_id\": \"E-1\","
        " \"device\": {\"id\": \"D-17\", \"model\": \"ZT410\"},"
        " \"page_url\": \"https://intranet.example/ward/3\","
        " \"cc\": [\"bob@north.example\"], \"context\": {\"ward\": \"3B\", \"bed\": \"12\"}}", p);

    assert_true(t->id > 0);
    assert_string_equal("north", t->tenant);
    assert_string_equal("Drucker st\xc3\xb6rt auf Station 3", t->subject);
    assert_string_equal("Every second page.\nSince Monday.", t->description);
    assert_string_equal("device", t->category);
    assert_int_equal(SD_URG_JOB_STOPPED, t->urgency);
    assert_int_equal(SD_IMPACT_MULTIPLE, t->impact);
    assert_int_equal(SD_PRIO_URGENT, t->priority);
    assert_int_equal(SD_ST_NEW, t->status);
    assert_int_equal(2, t->tier);                     /* the default entry tier */
    assert_int_equal(SD_ENV_PRODUCTION, t->environment);
    assert_string_equal("EPR", t->service);
    assert_string_equal("E-1", t->encounter_id);
    assert_int_equal(1, t->has_device);
    assert_string_equal("D-17", t->device_id);
    assert_string_equal("ZT410", t->device_model);
    assert_null(t->device_os);
    assert_null(t->device_app_version);
    assert_string_equal("https://intranet.example/ward/3", t->page_url);
    assert_string_equal("[\"bob@north.example\"]", t->cc_json);
    assert_string_equal("{\"ward\":\"3B\",\"bed\":\"12\"}", t->context_json);
    assert_string_equal("alice", t->reporter);
    assert_string_equal("Alice Adams", t->reporter_name);
    assert_string_equal("alice@north.example", t->reporter_email);
    assert_null(t->assignee);
    assert_true(t->known_issue_id == 0);
    assert_true(t->created_at == NOW);
    assert_true(t->updated_at == NOW);
    assert_true(t->tier_started_at == NOW);
    assert_true(t->response_due_at == NOW + 1 * HOUR);     /* tier 2 response: 1 h */
    assert_true(t->resolution_due_at == NOW + 1 * HOUR);   /* tier 2 urgent: 1 h */
    assert_true(t->first_response_at == 0 && t->resolved_at == 0 && t->closed_at == 0);
    assert_int_equal(0, t->sla_breached);
    assert_int_equal(1, t->version);
    assert_non_null(t->comments);
    assert_int_equal(0, t->comments->nelts);
    assert_non_null(t->attachments);
    assert_int_equal(0, t->attachments->nelts);
    assert_null(t->events);                       /* the reporter sees no audit trail */

    /* The reporter gets it back as it was created. */
    sd_problem_init(&prob, p);
    assert_int_equal(APR_SUCCESS, sd_desk_ticket_get(&got, db, &as_alice, t->id, &prob, p));
    assert_same_ticket(t, got);
    assert_null(got->events);

    /* An agent of the tenant sees the same ticket, and its one event. */
    assert_int_equal(APR_SUCCESS, sd_desk_ticket_get(&got, db, &as_carol, t->id, &prob, p));
    assert_same_ticket(t, got);
    assert_non_null(got->events);
    assert_int_equal(1, got->events->nelts);
    e = &APR_ARRAY_IDX(got->events, 0, sd_event_t);
    assert_true(e->id > 0);
    assert_true(e->at == NOW);
    assert_string_equal("alice", e->actor);
    assert_string_equal("created", e->kind);
    assert_null(e->field);
    assert_null(e->old_value);
    assert_string_equal("new", e->new_value);
    assert_null(e->note);

    /* The outbox rows went in with it, naming ticket and event: one for the
     * reporter, and (the ticket is urgent) one for the tier's agents. */
    args[0] = sd_store_i64(t->id, p);
    assert_int_equal(APR_SUCCESS, sd_store_select_sql(&rows, db, "test_outbox_of",
                     "SELECT tenant, event_id, kind, payload, delivered_at FROM outbox"
                     " WHERE ticket_id = %s ORDER BY id", 1, args, p));
    assert_int_equal(2, rows->nrows);
    assert_string_equal("ticket.created", rows->cell[0][2]);
    assert_string_equal("ticket.urgent", rows->cell[1][2]);
    for (i = 0; i < 2; ++i) {
        assert_string_equal("north", rows->cell[i][0]);
        assert_true(sd_store_to_i64(rows->cell[i][1]) == e->id);
        assert_string_equal(apr_psprintf(p, "{\"ticket_id\":%" APR_INT64_T_FMT "}", t->id),
                            rows->cell[i][3]);
        assert_null(rows->cell[i][4]);
    }
}

/* ---- change notes for hooks (sd_store_on_commit) ---------------------------------- */

static struct {
    int calls;
    int n;
    const sd_change_t *last;
} noted;

static void on_commit(void *baton, sd_db_t *d, const apr_array_header_t *notes, apr_pool_t *p)
{
    (void)baton; (void)d; (void)p;
    noted.calls++;
    noted.n = notes->nelts;
    noted.last = APR_ARRAY_IDX(notes, notes->nelts - 1, const sd_change_t *);
}

/* Listeners hear of committed changes only, with the ticket as stored. */
static void test_commit_notes(void **state)
{
    apr_pool_t *p = *state;
    sd_actor_t agent = { &carol, &conf, NOW + 5, NULL, NULL };
    sd_ticket_patch_t pt;
    sd_problem_t prob;
    sd_ticket_t *t, *t2;

    memset(&noted, 0, sizeof(noted));
    sd_store_on_commit(db, on_commit, NULL);
    t = create_json(&alice, &conf, NOW, "{\"subject\": \"s\", \"description\": \"d\","
                    " \"category\": \"bug\", \"priority\": \"high\","
                    " \"encounter_id\": \"ENC-9\"}", p);
    assert_int_equal(1, noted.calls);
    assert_int_equal(1, noted.n);
    assert_string_equal("created", noted.last->event.kind);
    assert_true(noted.last->ticket->id == t->id);
    assert_string_equal("ENC-9", noted.last->ticket->encounter_id);
    assert_int_equal(t->version, noted.last->ticket->version);

    /* two fields, two notes, both with the ticket after the change */
    sd_problem_init(&prob, p);
    memset(&pt, 0, sizeof(pt));
    pt.has_status = pt.has_priority = 1;
    pt.status = SD_ST_OPEN;
    pt.priority = SD_PRIO_URGENT;
    assert_int_equal(APR_SUCCESS, sd_desk_ticket_patch(&t2, db, &agent, t->id, &pt, -1, &prob, p));
    assert_int_equal(2, noted.calls);
    assert_int_equal(2, noted.n);
    assert_string_equal("priority", noted.last->event.kind);
    assert_int_equal(SD_ST_OPEN, noted.last->ticket->status);
    assert_int_equal(t2->version, noted.last->ticket->version);

    /* refused: nothing committed, nobody told */
    pt.has_priority = 0;
    pt.status = SD_ST_CLOSED;
    assert_int_equal(SD_ECONFLICT, sd_desk_ticket_patch(&t2, db, &agent, t->id, &pt, -1, &prob,
                                                        p));
    assert_int_equal(2, noted.calls);
    sd_store_on_commit(db, NULL, NULL);
}

/* A user without a display name or mail: the name falls back to the user. */
static void test_create_minimal_reporter(void **state)
{
    static const sd_user_t anon = { "zed", NULL, NULL, NULL, "north", SD_ROLE_REPORTER, 0 };
    apr_pool_t *p = *state;
    sd_ticket_t *t = create_json(&anon, &conf, NOW,
        "{\"subject\": \"s\", \"description\": \"d\", \"category\": \"other\","
        " \"priority\": \"normal\"}", p);
    assert_string_equal("zed", t->reporter);
    assert_string_equal("zed", t->reporter_name);
    assert_null(t->reporter_email);
    assert_int_equal(-1, t->urgency);
    assert_int_equal(-1, t->impact);
    assert_int_equal(-1, t->environment);
    assert_int_equal(0, t->has_device);
    assert_string_equal("[]", t->cc_json);
    assert_string_equal("{}", t->context_json);
}

/* Due times: now + the tier's targets (DESIGN.md "Priority and SLA"). */
static void test_due_times_by_entry_tier(void **state)
{
    static const struct {
        int entry_tier;
        const char *priority;
        apr_int64_t response, resolution;    /* seconds after now; 0: none */
    } cases[] = {
        { 1, "critical", 1 * HOUR, 30 * 60 },
        { 1, "urgent",   1 * HOUR, 1 * HOUR },
        { 1, "high",     1 * HOUR, 4 * HOUR },
        { 1, "normal",   1 * HOUR, 16 * HOUR },
        { 2, "critical", 1 * HOUR, 30 * 60 },
        { 2, "urgent",   1 * HOUR, 1 * HOUR },
        { 2, "high",     1 * HOUR, 8 * HOUR },
        { 2, "normal",   1 * HOUR, 40 * HOUR },
        { 3, "critical", 1 * HOUR, 4 * HOUR },
        { 3, "urgent",   1 * HOUR, 8 * HOUR },
        { 3, "high",     1 * HOUR, 24 * HOUR },
        { 3, "normal",   1 * HOUR, 80 * HOUR },
        { 4, "critical", 8 * HOUR, 0 },      /* set on acceptance */
        { 4, "normal",   8 * HOUR, 0 },
    };
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sd_desk_conf_t c = conf;
        apr_int64_t now = NOW + (apr_int64_t)i * 7;
        sd_actor_t who = { &carol, &c, now, NULL, NULL };
        sd_problem_t prob;
        sd_ticket_t *t, *got;

        c.entry_tier = cases[i].entry_tier;
        t = create_json(&alice, &c, now, apr_psprintf(p, "{\"subject\": \"s\", \"description\":"
                        " \"d\", \"category\": \"bug\", \"priority\": \"%s\"}",
                        cases[i].priority), p);
        sd_problem_init(&prob, p);
        assert_int_equal(APR_SUCCESS, sd_desk_ticket_get(&got, db, &who, t->id, &prob, p));
        if (got->tier != cases[i].entry_tier
            || got->response_due_at != now + cases[i].response
            || got->resolution_due_at != (cases[i].resolution ? now + cases[i].resolution : 0)
            || got->tier_started_at != now)
            fail_msg("tier %d %s: tier %d, response +%" APR_INT64_T_FMT ", resolution %"
                     APR_INT64_T_FMT, cases[i].entry_tier, cases[i].priority, got->tier,
                     got->response_due_at - now, got->resolution_due_at);
        assert_string_equal(cases[i].priority, sd_priority_str(got->priority));
    }
}

/* Who may get a ticket that alice (north) filed. Outside that: not found,
 * with the same answer as for an id that does not exist. */
static void test_get_visibility(void **state)
{
    static const struct {
        const sd_user_t *who;
        int colleagues_visible;
        apr_status_t want;
        int events;
    } cases[] = {
        { &alice, 0, APR_SUCCESS, 0 },
        { &alice, 1, APR_SUCCESS, 0 },
        { &carol, 0, APR_SUCCESS, 1 },        /* agent of the tenant */
        { &frank, 0, APR_SUCCESS, 1 },
        { &olga,  0, APR_SUCCESS, 1 },        /* admin */
        { &bob,   0, SD_ENOTFOUND, 0 },       /* a colleague */
        { &bob,   1, APR_SUCCESS, 0 },        /* ... where colleagues may see */
        { &dave,  0, SD_ENOTFOUND, 0 },       /* another tenant */
        { &dave,  1, SD_ENOTFOUND, 0 },
        { &erin,  0, SD_ENOTFOUND, 0 },       /* another tenant's agent */
        { &erin,  1, SD_ENOTFOUND, 0 },
    };
    apr_pool_t *p = *state;
    apr_int64_t id = create(NULL, &alice, &conf, NOW, "Printer jams", "device", "high", p);
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sd_desk_conf_t c = conf;
        sd_actor_t who = { cases[i].who, &c, NOW, NULL, NULL };
        sd_problem_t prob;
        sd_ticket_t *t = (sd_ticket_t *)&c;
        apr_status_t rv;

        c.colleagues_visible = cases[i].colleagues_visible;
        sd_problem_init(&prob, p);
        rv = sd_desk_ticket_get(&t, db, &who, id, &prob, p);
        if (rv != cases[i].want)
            fail_msg("%s (colleagues %d): %d, want %d", cases[i].who->user,
                     cases[i].colleagues_visible, rv, cases[i].want);
        if (rv == APR_SUCCESS) {
            assert_true(t->id == id);
            assert_string_equal("alice", t->reporter);
            assert_int_equal(cases[i].events, t->events != NULL);
            if (t->events) assert_int_equal(1, t->events->nelts);
        }
        else {
            assert_null(t);
            assert_string_equal(SD_PT_NOT_FOUND, prob.type);
            assert_string_equal(apr_psprintf(p, "There is no ticket %" APR_INT64_T_FMT
                                             " that you can see.", id), prob.detail);
        }
    }
}

static void test_get_missing_ids(void **state)
{
    static const apr_int64_t offsets[] = { 1, 1000 };
    apr_pool_t *p = *state;
    apr_int64_t id = create(NULL, &alice, &conf, NOW, "Printer jams", "device", "high", p);
    apr_int64_t ids[5];
    sd_actor_t who = { &carol, &conf, NOW, NULL, NULL };
    apr_size_t i;

    ids[0] = id + offsets[0];
    ids[1] = id + offsets[1];
    ids[2] = 0;
    ids[3] = -1;
    ids[4] = APR_INT64_MAX;
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        sd_problem_t prob;
        sd_ticket_t *t = (sd_ticket_t *)&who;
        sd_problem_init(&prob, p);
        assert_int_equal(SD_ENOTFOUND, sd_desk_ticket_get(&t, db, &who, ids[i], &prob, p));
        assert_null(t);
        assert_string_equal(SD_PT_NOT_FOUND, prob.type);
    }
}

/* ---- the list query ----------------------------------------------------------------- */

static void test_ticket_query_good(void **state)
{
    static const struct {
        const char *qs;
        int scope;
        const char *status, *priority, *category, *assignee;
        int tier, limit;
        const char *cursor, *q;
    } cases[] = {
        { "",                 SD_SCOPE_MINE,   NULL, NULL, NULL, NULL, 0, 25, NULL, NULL },
        { "scope=mine",       SD_SCOPE_MINE,   NULL, NULL, NULL, NULL, 0, 25, NULL, NULL },
        { "scope=tenant",     SD_SCOPE_TENANT, NULL, NULL, NULL, NULL, 0, 25, NULL, NULL },
        { "scope=queue",      SD_SCOPE_QUEUE,  NULL, NULL, NULL, NULL, 0, 25, NULL, NULL },
        { "status=new",       SD_SCOPE_MINE, "new", NULL, NULL, NULL, 0, 25, NULL, NULL },
        { "status=closed",    SD_SCOPE_MINE, "closed", NULL, NULL, NULL, 0, 25, NULL, NULL },
        { "status=active",    SD_SCOPE_MINE, "active", NULL, NULL, NULL, 0, 25, NULL, NULL },
        { "status=done",      SD_SCOPE_MINE, "done", NULL, NULL, NULL, 0, 25, NULL, NULL },
        { "priority=urgent",  SD_SCOPE_MINE, NULL, "urgent", NULL, NULL, 0, 25, NULL, NULL },
        { "category=outage",  SD_SCOPE_MINE, NULL, NULL, "outage", NULL, 0, 25, NULL, NULL },
        { "assignee=carol",   SD_SCOPE_MINE, NULL, NULL, NULL, "carol", 0, 25, NULL, NULL },
        { "tier=1",           SD_SCOPE_MINE, NULL, NULL, NULL, NULL, 1, 25, NULL, NULL },
        { "tier=4",           SD_SCOPE_MINE, NULL, NULL, NULL, NULL, 4, 25, NULL, NULL },
        { "limit=1",          SD_SCOPE_MINE, NULL, NULL, NULL, NULL, 0, 1, NULL, NULL },
        { "limit=100",        SD_SCOPE_MINE, NULL, NULL, NULL, NULL, 0, 100, NULL, NULL },
        { "q=printer+jam",    SD_SCOPE_MINE, NULL, NULL, NULL, NULL, 0, 25, NULL, "printer jam" },
        { "q=50%25",          SD_SCOPE_MINE, NULL, NULL, NULL, NULL, 0, 25, NULL, "50%" },
        { "cursor=opaque",    SD_SCOPE_MINE, NULL, NULL, NULL, NULL, 0, 25, "opaque", NULL },
        { "limit=3&tier=2&status=active&scope=queue&priority=high&category=device"
          "&assignee=bob&q=x&cursor=c",
          SD_SCOPE_QUEUE, "active", "high", "device", "bob", 2, 3, "c", "x" },
    };
    apr_pool_t *p = *state;
    apr_size_t i;

#define SAME(a, b) ((a) == NULL ? (b) == NULL : ((b) != NULL && !strcmp((a), (b))))
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sd_ticket_query_t q;
        sd_problem_t prob;
        sd_problem_init(&prob, p);
        memset(&q, 0x5a, sizeof(q));
        if (sd_desk_ticket_query(&q, cases[i].qs, &conf, &prob, p) != APR_SUCCESS)
            fail_msg("'%s' refused: %s", cases[i].qs, prob.detail);
        if (q.scope != cases[i].scope || !SAME(cases[i].status, q.status)
            || !SAME(cases[i].priority, q.priority) || !SAME(cases[i].category, q.category)
            || !SAME(cases[i].assignee, q.assignee) || q.tier != cases[i].tier
            || q.limit != cases[i].limit || !SAME(cases[i].cursor, q.cursor)
            || !SAME(cases[i].q, q.q))
            fail_msg("'%s' parsed wrong", cases[i].qs);
    }
#undef SAME
    {
        sd_ticket_query_t q;
        sd_problem_t prob;
        sd_problem_init(&prob, p);
        assert_int_equal(APR_SUCCESS, sd_desk_ticket_query(&q, NULL, &conf, &prob, p));
        assert_int_equal(SD_SCOPE_MINE, q.scope);
        assert_int_equal(SD_DEF_PAGE_LIMIT, q.limit);
    }
}

static void test_ticket_query_bad(void **state)
{
    static const struct {
        const char *qs;
        const char *type;
    } cases[] = {
        { "scope=all", SD_PT_BAD_PARAM },
        { "scope=Mine", SD_PT_BAD_PARAM },
        { "scope=mine&scope=queue", SD_PT_BAD_PARAM },
        { "status=activ", SD_PT_BAD_PARAM },
        { "status=New", SD_PT_BAD_PARAM },
        { "status=active,done", SD_PT_BAD_PARAM },
        { "status=new&status=open", SD_PT_BAD_PARAM },
        { "priority=low", SD_PT_BAD_PARAM },
        { "category=hardware", SD_PT_BAD_PARAM },
        { "tier=0", SD_PT_BAD_PARAM },
        { "tier=5", SD_PT_BAD_PARAM },
        { "tier=-1", SD_PT_BAD_PARAM },
        { "tier=2.0", SD_PT_BAD_PARAM },
        { "tier=two", SD_PT_BAD_PARAM },
        { "limit=0", SD_PT_BAD_PARAM },
        { "limit=101", SD_PT_BAD_PARAM },
        { "limit=-1", SD_PT_BAD_PARAM },
        { "limit=1e1", SD_PT_BAD_PARAM },
        { "limit=+5", SD_PT_BAD_PARAM },
        { "limit=%205", SD_PT_BAD_PARAM },
        { "limit=99999999999999999999", SD_PT_BAD_PARAM },
        { "limit=10&limit=20", SD_PT_BAD_PARAM },
        { "q=%00", SD_PT_BAD_PARAM },
        { "q=a%0ab", SD_PT_BAD_PARAM },
        { "status=%zz", SD_PT_BAD_PARAM },
        { "page=2", SD_PT_BAD_PARAM },
        { "sort=id", SD_PT_BAD_PARAM },
        { "tenant=south", SD_PT_BAD_PARAM },      /* never from the client */
    };
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sd_ticket_query_t q;
        sd_problem_t prob;
        sd_problem_init(&prob, p);
        if (sd_desk_ticket_query(&q, cases[i].qs, &conf, &prob, p) != SD_EMALFORMED)
            fail_msg("'%s' was not refused", cases[i].qs);
        if (!prob.type || strcmp(cases[i].type, prob.type))
            fail_msg("'%s': type %s", cases[i].qs, prob.type);
        assert_non_null(prob.detail);
    }
    /* The assignee: 256 bytes at most. */
    {
        sd_ticket_query_t q;
        sd_problem_t prob;
        char a[258];
        memset(a, 'a', sizeof(a) - 1);
        a[257] = '\0';
        sd_problem_init(&prob, p);
        assert_int_equal(APR_SUCCESS, sd_desk_ticket_query(&q, apr_pstrcat(p, "assignee=",
                         a + 1, NULL), &conf, &prob, p));
        assert_string_equal(a + 1, q.assignee);
        assert_int_equal(SD_EMALFORMED, sd_desk_ticket_query(&q, apr_pstrcat(p, "assignee=",
                         a, NULL), &conf, &prob, p));
        assert_string_equal(SD_PT_BAD_PARAM, prob.type);
    }
}

/* ---- listing ------------------------------------------------------------------------ */

/* Six tickets: three by alice, one each by bob and carol in north, one by
 * dave in south; then a few states changed behind the desk's back. */
static void scope_fixture(apr_pool_t *p)
{
    create("a1", &alice, &conf, NOW,       "Printer jams on ward 3", "device", "high", p);
    create("a2", &alice, &conf, NOW + 60,  "Login 50% slower", "access", "normal", p);
    create("a3", &alice, &conf, NOW + 120, "Crash in under_score module", "bug", "critical", p);
    remember("b1", create_json(&bob, &conf, NOW + 180, "{\"subject\": \"Scanner offline\","
             " \"description\": \"Nothing scans since the update\", \"category\": \"device\","
             " \"urgency\": \"job-stopped\", \"impact\": \"all\"}", p)->id);
    create("c1", &carol, &conf, NOW + 240, "Training room beamer flickers", "training",
           "normal", p);
    create("d1", &dave, &conf, NOW + 300,  "Printer jams in the south", "device", "high", p);
    set_column(id_of("a1"), "status = 'open'");
    set_column(id_of("a2"), "status = 'resolved'");
    set_column(id_of("b1"), "status = 'closed'");
    set_column(id_of("a3"), "assignee = 'carol'");
    set_column(id_of("c1"), "tier = 3");
}

static void test_list_scopes(void **state)
{
    apr_pool_t *p = *state;
    sd_desk_conf_t open_conf = conf;

    scope_fixture(p);
    open_conf.colleagues_visible = 1;

    /* mine: what I reported, newest first, whoever I am */
    expect_list(&alice, &conf, "", "a3 a2 a1", p);
    expect_list(&alice, &conf, "scope=mine", "a3 a2 a1", p);
    expect_list(&bob, &conf, "", "b1", p);
    expect_list(&carol, &conf, "scope=mine", "c1", p);
    expect_list(&dave, &conf, "", "d1", p);
    expect_list(&erin, &conf, "", "", p);
    /* tenant: agents (and admins) see all of their tenant, never another's */
    expect_list(&carol, &conf, "scope=tenant", "c1 b1 a3 a2 a1", p);
    expect_list(&olga, &conf, "scope=tenant", "c1 b1 a3 a2 a1", p);
    expect_list(&erin, &conf, "scope=tenant", "d1", p);
    /* reporters only where colleagues may see each other's tickets */
    expect_list(&alice, &open_conf, "scope=tenant", "c1 b1 a3 a2 a1", p);
    expect_list(&dave, &open_conf, "scope=tenant", "d1", p);
    /* queue: active tickets at my tiers, by resolution due time */
    expect_list(&carol, &conf, "scope=queue", "a3 a1", p);
    expect_list(&erin, &conf, "scope=queue", "d1", p);
}

static void test_list_forbidden(void **state)
{
    static const struct {
        const sd_user_t *who;
        int colleagues_visible;
        const char *qs;
    } cases[] = {
        { &alice, 0, "scope=tenant" },
        { &bob,   0, "scope=tenant&status=active" },
        { &dave,  0, "scope=tenant" },
        { &alice, 0, "scope=queue" },
        { &alice, 1, "scope=queue" },            /* colleagues, yes; the queue, no */
        { &olga,  0, "scope=queue" },            /* an admin is no agent */
    };
    apr_pool_t *p = *state;
    apr_size_t i;

    scope_fixture(p);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sd_desk_conf_t c = conf;
        apr_array_header_t *items = (apr_array_header_t *)&c;
        const char *next = "x";
        sd_problem_t prob;
        c.colleagues_visible = cases[i].colleagues_visible;
        if (list(&items, &next, cases[i].who, &c, cases[i].qs, &prob, p) != SD_EFORBIDDEN)
            fail_msg("%s '%s' was not forbidden", cases[i].who->user, cases[i].qs);
        assert_null(items);
        assert_null(next);
        assert_string_equal(SD_PT_FORBIDDEN, prob.type);
    }
}

static void test_list_filters(void **state)
{
    static const struct {
        const sd_user_t *who;
        const char *qs;
        const char *labels;
    } cases[] = {
        { &carol, "scope=tenant&status=new", "c1 a3" },
        { &carol, "scope=tenant&status=open", "a1" },
        { &carol, "scope=tenant&status=pending", "" },
        { &carol, "scope=tenant&status=resolved", "a2" },
        { &carol, "scope=tenant&status=closed", "b1" },
        { &carol, "scope=tenant&status=active", "c1 a3 a1" },
        { &carol, "scope=tenant&status=done", "b1 a2" },
        { &carol, "scope=tenant&priority=normal", "c1 a2" },
        { &carol, "scope=tenant&priority=critical", "a3" },
        { &carol, "scope=tenant&priority=urgent", "b1" },      /* from the matrix */
        { &carol, "scope=tenant&category=device", "b1 a1" },
        { &carol, "scope=tenant&category=outage", "" },
        { &carol, "scope=tenant&tier=2", "b1 a3 a2 a1" },
        { &carol, "scope=tenant&tier=3", "c1" },
        { &carol, "scope=tenant&tier=4", "" },
        { &carol, "scope=tenant&assignee=carol", "a3" },
        { &carol, "scope=tenant&assignee=bob", "" },
        /* text: full-text words of subject or description; punctuation separates
         * words and is never query syntax */
        { &carol, "scope=tenant&q=Printer", "a1" },
        { &carol, "scope=tenant&q=ward+3", "a1" },
        { &carol, "scope=tenant&q=scans+since", "b1" },          /* description only */
        { &carol, "scope=tenant&q=50%25", "a2" },
        { &carol, "scope=tenant&q=%25", "" },
        { &carol, "scope=tenant&q=_", "" },
        { &carol, "scope=tenant&q=under_score", "a3" },
        { &carol, "scope=tenant&q=under%25score", "a3" },
        { &carol, "scope=tenant&q=%5C", "" },
        { &carol, "scope=tenant&q=%22printer%22+*+%28", "a1" },  /* no FTS syntax */
        { &carol, "scope=tenant&q=no+such+words", "" },
        /* combined */
        { &carol, "scope=tenant&status=active&category=device", "a1" },
        { &carol, "scope=tenant&status=done&priority=urgent", "b1" },
        { &carol, "scope=tenant&status=active&tier=2&assignee=carol", "a3" },
        /* filters within mine and queue */
        { &alice, "status=done", "a2" },
        { &alice, "category=device", "a1" },
        { &alice, "scope=mine&q=Crash", "a3" },
        { &bob,   "category=bug", "" },
        { &carol, "scope=queue&priority=high", "a1" },
        { &carol, "scope=queue&status=done", "" },
        { &carol, "scope=queue&tier=3", "" },              /* not one of my tiers */
        /* another tenant's words find nothing of ours */
        { &erin,  "scope=tenant&q=Printer", "d1" },
        { &erin,  "scope=tenant&category=bug", "" },
    };
    apr_pool_t *p = *state;
    apr_size_t i;

    scope_fixture(p);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_list(cases[i].who, &conf, cases[i].qs, cases[i].labels, p);
}

static void test_list_summary_fields(void **state)
{
    apr_pool_t *p = *state;
    apr_array_header_t *items;
    const sd_ticket_t *t;
    const char *next;
    sd_problem_t prob;

    scope_fixture(p);
    assert_int_equal(APR_SUCCESS, list(&items, &next, &carol, &conf, "scope=tenant&q=Printer",
                                       &prob, p));
    assert_int_equal(1, items->nelts);
    t = APR_ARRAY_IDX(items, 0, sd_ticket_t *);
    assert_true(t->id == id_of("a1"));
    assert_string_equal("north", t->tenant);
    assert_string_equal("Printer jams on ward 3", t->subject);
    assert_int_equal(SD_ST_OPEN, t->status);
    assert_int_equal(SD_PRIO_HIGH, t->priority);
    assert_string_equal("alice", t->reporter);
    assert_true(t->resolution_due_at == NOW + 8 * HOUR);
    /* Lists carry no comments, attachments or events. */
    assert_null(t->comments);
    assert_null(t->attachments);
    assert_null(t->events);
}

/* Paging: every ticket exactly once, in the one-page order, and the cursor
 * chain ends with NULL. */
static void test_list_paging(void **state)
{
    static const struct {
        const sd_user_t *who;
        const char *qs;
        int limit, pages;
    } cases[] = {
        { &alice, "",             2, 3 },
        { &alice, "",             1, 5 },
        { &alice, "",             4, 2 },
        { &alice, "",             5, 1 },    /* exactly full: no next page */
        { &alice, "",             6, 1 },
        { &alice, "status=active", 2, 2 },   /* 4 active: 2 + 2 */
        { &carol, "scope=tenant", 2, 4 },    /* 8 tickets */
        { &carol, "scope=tenant", 3, 3 },
        { &carol, "scope=queue",  2, 3 },    /* 6 active at tier 2, by due time */
        { &carol, "scope=queue",  4, 2 },
        { &frank, "scope=queue",  2, 4 },    /* tiers 2 and 4: 7 */
    };
    apr_pool_t *p = *state;
    sd_desk_conf_t tier4 = conf;
    const char *all;
    apr_size_t i;
    int k;

    /* alice: five tickets, some sharing a due time (same priority, same
     * second) so the queue pages through ties. */
    create("p1", &alice, &conf, NOW,      "one",   "bug", "high", p);
    create("p2", &alice, &conf, NOW,      "two",   "bug", "high", p);
    create("p3", &alice, &conf, NOW,      "three", "bug", "high", p);
    create("p4", &alice, &conf, NOW + 60, "four",  "bug", "critical", p);
    create("p5", &alice, &conf, NOW + 90, "five",  "bug", "urgent", p);
    create("q1", &bob, &conf, NOW + 30,   "bob's", "bug", "normal", p);
    tier4.entry_tier = 4;                 /* no resolution due time: last */
    create("q2", &bob, &tier4, NOW + 10,  "tier 4", "bug", "critical", p);
    set_column(id_of("p5"), "status = 'pending'");
    set_column(id_of("p4"), "status = 'resolved'");
    create("q3", &bob, &conf, NOW + 20,   "bob's other", "bug", "high", p);

    /* The one-page answers the pages must add up to. */
    assert_string_equal(ids_of_labels("p5 p4 p3 p2 p1", p), list_ids(&alice, &conf, "", NULL, p));
    assert_string_equal(ids_of_labels("q3 q2 q1 p5 p4 p3 p2 p1", p),
                        list_ids(&carol, &conf, "scope=tenant", NULL, p));
    /* Queue: due time, then id. p1-p3 and q3 share NOW + 8 h except q3 is
     * later (+20 s); p5 (urgent, +90 s + 1 h) first, q1 (normal) last. */
    assert_string_equal(ids_of_labels("p5 p1 p2 p3 q3 q1", p),
                        list_ids(&carol, &conf, "scope=queue", NULL, p));
    assert_string_equal(ids_of_labels("p5 p1 p2 p3 q3 q1 q2", p),
                        list_ids(&frank, &conf, "scope=queue", NULL, p));

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *one = list_ids(cases[i].who, &conf, apr_pstrcat(p, cases[i].qs,
                                   *cases[i].qs ? "&" : "", "limit=100", NULL), NULL, p);
        int npages = 0;
        const char *paged = all_pages(cases[i].who, &conf, cases[i].qs, cases[i].limit,
                                      &npages, p);
        if (strcmp(one, paged))
            fail_msg("%s '%s' limit %d: pages give %s, one page %s", cases[i].who->user,
                     cases[i].qs, cases[i].limit, paged, one);
        if (npages != cases[i].pages)
            fail_msg("%s '%s' limit %d: %d pages, want %d", cases[i].who->user, cases[i].qs,
                     cases[i].limit, npages, cases[i].pages);
    }
    /* No id twice (the strings above are equal, and the one-page list has
     * no duplicates). */
    all = apr_pstrcat(p, ",", list_ids(&carol, &conf, "scope=tenant&limit=100", NULL, p), ",",
                      NULL);
    for (k = 0; k < nfx; k++) {
        const char *needle = apr_psprintf(p, ",%" APR_INT64_T_FMT ",", fx[k].id);
        const char *first = strstr(all, needle);
        assert_non_null(first);
        assert_null(strstr(first + 1, needle));
    }
}

static void test_list_cursor_misuse(void **state)
{
    apr_pool_t *p = *state;
    const char *mine_cursor, *tenant_cursor, *queue_cursor, *next;
    char *tampered;
    sd_problem_t prob;
    apr_array_header_t *items;
    apr_size_t i;

    scope_fixture(p);
    create("a4", &alice, &conf, NOW + 400, "Fourth", "bug", "high", p);

    assert_string_equal(ids_of_labels("a4 a3", p),
                        list_ids(&alice, &conf, "limit=2", &mine_cursor, p));
    assert_non_null(mine_cursor);
    assert_string_equal(ids_of_labels("a4 c1", p),
                        list_ids(&carol, &conf, "scope=tenant&limit=2", &tenant_cursor, p));
    assert_non_null(tenant_cursor);
    assert_string_equal(ids_of_labels("a3", p),
                        list_ids(&carol, &conf, "scope=queue&limit=1", &queue_cursor, p));
    assert_non_null(queue_cursor);

    /* Used as given: the next page. A different limit is fine (not bound). */
    assert_string_equal(ids_of_labels("a2 a1", p), list_ids(&alice, &conf,
                        apr_pstrcat(p, "limit=2&cursor=", mine_cursor, NULL), &next, p));
    assert_null(next);
    assert_string_equal(ids_of_labels("a2", p), list_ids(&alice, &conf,
                        apr_pstrcat(p, "limit=1&cursor=", mine_cursor, NULL), &next, p));
    assert_non_null(next);
    assert_string_equal(ids_of_labels("a1 a4", p), list_ids(&carol, &conf,
                        apr_pstrcat(p, "scope=queue&cursor=", queue_cursor, NULL), &next, p));

    /* Reused with another filter, scope, user or tenant: refused. */
    {
        static const struct {
            int which;                 /* 0 mine, 1 tenant, 2 queue */
            const sd_user_t *who;
            const char *qs;
        } misuse[] = {
            { 0, &alice, "status=new" },
            { 0, &alice, "scope=mine&category=bug" },
            { 0, &alice, "q=Printer" },
            { 0, &alice, "scope=mine&priority=high" },
            { 0, &bob,   "" },                       /* another user */
            { 0, &dave,  "" },                       /* another tenant */
            { 1, &carol, "scope=tenant&status=active" },
            { 1, &carol, "scope=tenant&tier=2" },
            { 1, &carol, "scope=tenant&assignee=carol" },
            { 1, &carol, "scope=queue" },
            { 1, &carol, "" },
            { 1, &frank, "scope=tenant" },           /* another agent */
            { 1, &erin,  "scope=tenant" },           /* another tenant's agent */
            { 2, &carol, "scope=tenant" },
            { 2, &carol, "scope=queue&priority=high" },
            { 2, &frank, "scope=queue" },
        };
        const char *cursors[3];
        cursors[0] = mine_cursor;
        cursors[1] = tenant_cursor;
        cursors[2] = queue_cursor;
        for (i = 0; i < sizeof(misuse) / sizeof(misuse[0]); i++) {
            const char *qs = apr_pstrcat(p, misuse[i].qs, *misuse[i].qs ? "&" : "", "cursor=",
                                         cursors[misuse[i].which], NULL);
            items = (apr_array_header_t *)&prob;
            next = "x";
            if (list(&items, &next, misuse[i].who, &conf, qs, &prob, p) != SD_EMALFORMED)
                fail_msg("%s '%s' was accepted", misuse[i].who->user, qs);
            assert_string_equal(SD_PT_BAD_CURSOR, prob.type);
            assert_null(items);
            assert_null(next);
        }
    }

    /* Not a cursor at all, or altered. */
    tampered = apr_pstrdup(p, mine_cursor);
    tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
    {
        const char *bad[4];
        bad[0] = "abc";
        bad[1] = tampered;
        bad[2] = apr_pstrndup(p, mine_cursor, strlen(mine_cursor) - 1);
        bad[3] = apr_pstrcat(p, mine_cursor, "A", NULL);
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            assert_int_equal(SD_EMALFORMED, list(&items, &next, &alice, &conf,
                             apr_pstrcat(p, "cursor=", bad[i], NULL), &prob, p));
            assert_string_equal(SD_PT_BAD_CURSOR, prob.type);
        }
    }
}

/* The queue: resolution due time first (tickets without one last), then
 * id; only active tickets at the agent's tiers. */
static void test_queue_order(void **state)
{
    apr_pool_t *p = *state;
    sd_desk_conf_t t3 = conf, t4 = conf, t1 = conf;

    t1.entry_tier = 1;
    t3.entry_tier = 3;
    t4.entry_tier = 4;
    create("normal",    &alice, &conf, NOW,          "n", "bug", "normal", p);   /* +40 h */
    create("critical",  &alice, &conf, NOW + 600,    "c", "bug", "critical", p); /* +30 m */
    create("high",      &bob,   &conf, NOW,          "h", "bug", "high", p);     /* +8 h */
    create("urgent",    &bob,   &conf, NOW,          "u", "bug", "urgent", p);   /* +1 h */
    create("critical0", &alice, &conf, NOW,          "c0", "bug", "critical", p);
    create("urgent2",   &alice, &conf, NOW,          "u2", "bug", "urgent", p);  /* tie */
    create("tier1",     &alice, &t1,   NOW,          "t1", "bug", "critical", p);
    create("tier3",     &alice, &t3,   NOW,          "t3", "bug", "critical", p);
    create("tier4",     &alice, &t4,   NOW - 3600,   "t4", "bug", "critical", p);
    create("resolved",  &alice, &conf, NOW - 7200,   "r", "bug", "critical", p);
    create("pending",   &alice, &conf, NOW + 30,     "pe", "bug", "high", p);
    create("southern",  &dave,  &conf, NOW - 9000,   "s", "bug", "critical", p);
    set_column(id_of("resolved"), "status = 'resolved'");
    set_column(id_of("pending"), "status = 'pending'");

    expect_list(&carol, &conf, "scope=queue",
                "critical0 critical urgent urgent2 high pending normal", p);
    /* tier 4 has no due time: after everything else */
    expect_list(&frank, &conf, "scope=queue",
                "critical0 critical urgent urgent2 high pending normal tier4", p);
    expect_list(&carol, &conf, "scope=queue&status=new",
                "critical0 critical urgent urgent2 high normal", p);
    expect_list(&carol, &conf, "scope=queue&status=pending", "pending", p);
    expect_list(&erin, &conf, "scope=queue", "southern", p);
    {
        int npages;
        assert_string_equal(ids_of_labels("critical0 critical urgent urgent2 high pending "
                                          "normal tier4", p),
                            all_pages(&frank, &conf, "scope=queue", 3, &npages, p));
        assert_int_equal(3, npages);
    }
}


/* Empty and blank values mean "not given": HTML forms send empty fields. */
static void test_ticket_query_empty_is_absent(void **state)
{
    static const char *const qs[] = { "q=", "q=+++", "q=%e2%80%83", "cursor=", "cursor",
                                      "q=&limit=&cursor=&status=" };
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        sd_ticket_query_t q;
        sd_problem_t prob;
        sd_problem_init(&prob, p);
        if (sd_desk_ticket_query(&q, qs[i], &conf, &prob, p) != APR_SUCCESS)
            fail_msg("'%s' was refused: %s", qs[i], prob.detail);
        assert_null(q.q);
        assert_null(q.cursor);
        assert_null(q.status);
        assert_int_equal(SD_DEF_PAGE_LIMIT, q.limit);
    }
}

/* If-Match versions are read as written; one that overflows an int never
 * matches (atoi wrapped 4294967297 round to 1: tests/fuzz/fuzz_query.c). */
static void test_etag_version(void **state)
{
    (void)state;
    assert_int_equal(-1, sd_desk_etag_version(NULL));
    assert_int_equal(-1, sd_desk_etag_version("*"));
    assert_int_equal(3, sd_desk_etag_version("\"t5-v3-a\""));
    assert_int_equal(7, sd_desk_etag_version(" W/\"t12-v7-r\""));
    assert_int_equal(2147483647, sd_desk_etag_version("\"t1-v2147483647-a\""));
    assert_int_equal(-2, sd_desk_etag_version("\"t1-v2147483648-a\""));
    assert_int_equal(-2, sd_desk_etag_version("\"t5-v4294967297-a\""));
    assert_int_equal(-2, sd_desk_etag_version("\"t5-v0-a\""));
    assert_int_equal(-2, sd_desk_etag_version("\"t5-v03-a\""));
    assert_int_equal(-2, sd_desk_etag_version("\"t5-v-3-a\""));
    assert_int_equal(-2, sd_desk_etag_version("\"k5-v3\""));
    assert_int_equal(-2, sd_desk_etag_version("t5-v3"));
    assert_int_equal(3, sd_desk_etag_parse("\"k5-v3\"", 'k'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etag_version),
        DESK_TEST(test_create_and_get_round_trip),
        DESK_TEST(test_create_minimal_reporter),
        DESK_TEST(test_commit_notes),
        DESK_TEST(test_due_times_by_entry_tier),
        DESK_TEST(test_get_visibility),
        DESK_TEST(test_get_missing_ids),
        DESK_TEST(test_ticket_query_good),
        DESK_TEST(test_ticket_query_bad),
        DESK_TEST(test_ticket_query_empty_is_absent),
        DESK_TEST(test_list_scopes),
        DESK_TEST(test_list_forbidden),
        DESK_TEST(test_list_filters),
        DESK_TEST(test_list_summary_fields),
        DESK_TEST(test_list_paging),
        DESK_TEST(test_list_cursor_misuse),
        DESK_TEST(test_queue_order),
    };
    return cmocka_run_group_tests_name("sd_desk", tests, group_setup, group_teardown);
}
