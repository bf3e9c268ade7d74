/* Unit tests for lib/sd_mail.c (addresses, header text and RFC 2047 words,
 * mailboxes, whole messages, the catalogue, running the mailer) and
 * lib/sd_outbox.c (who gets what, claiming, retry with backoff, no second
 * send, giving up, dropping old rows) against a real SQLite ":memory:"
 * database, with a recording stand-in for the mailer. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_base64.h>
#include <apr_dbd.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "sd_test.h"
#include "sd_desk.h"
#include "sd_json.h"
#include "sd_log.h"
#include "sd_mail.h"
#include "sd_outbox.h"

/* Monday 2026-11-23 09:00:00Z */
#define NOW ((apr_int64_t)1795424400)

/* ---- addresses ---------------------------------------------------------------------- */

static void test_addr_ok(void **state)
{
    static const struct { const char *addr; int ok; } cases[] = {
        { "alice@north.example", 1 },
        { "a.b+c_d-e@mail.north-hospital.example", 1 },
        { "o'brien@x.example", 1 },
        { "x@localhost", 1 },
        { "", 0 },
        { "@x.example", 0 },
        { "alice@", 0 },
        { "alice", 0 },
        { "a@b@c.example", 0 },
        { "alice@north.example\r\nBcc: evil@evil.example", 0 },
        { "alice@north.example\n", 0 },
        { "alice@north.example, evil@evil.example", 0 },
        { "alice@north.example,evil@evil.example", 0 },
        { "alice@north.example;evil@evil.example", 0 },
        { "Alice <alice@north.example>", 0 },
        { "\"alice\"@north.example", 0 },
        { "alice@[127.0.0.1]", 0 },
        { "alice(comment)@north.example", 0 },
        { "-oQ/tmp@x.example", 0 },
        { ".alice@x.example", 0 },
        { "alice.@x.example", 0 },
        { "al..ice@x.example", 0 },
        { "alice@x..example", 0 },
        { "alice@.example", 0 },
        { "alice@example.", 0 },
        { "alice@exa_mple.org", 0 },
        { "al ice@x.example", 0 },
        { "alice@x.example\t", 0 },
        { "j\xc3\xb6rg@x.example", 0 },
        { "alice:x@x.example", 0 },
    };
    apr_size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (sd_mail_addr_ok(cases[i].addr) != cases[i].ok)
            fail_msg("sd_mail_addr_ok(\"%s\") != %d", cases[i].addr, cases[i].ok);
    }
    {
        char local[70], addr[100];
        memset(local, 'a', 64);
        local[64] = '\0';
        apr_snprintf(addr, sizeof(addr), "%s@x.example", local);
        assert_true(sd_mail_addr_ok(addr));
        apr_snprintf(addr, sizeof(addr), "a%s@x.example", local);
        assert_false(sd_mail_addr_ok(addr));
    }
    assert_false(sd_mail_addr_ok(NULL));
}

/* ---- header text -------------------------------------------------------------------- */

/* Decode a header value made of encoded words (and plain text) back to
 * UTF-8, checking every word's form and length on the way. */
static const char *decode_words(const char *v, apr_pool_t *p)
{
    const char *out = "", *s = v;
    while (*s) {
        const char *start = strstr(s, "=?UTF-8?B?"), *end;
        char buf[128];
        int n;
        if (!start) return apr_pstrcat(p, out, s, NULL);
        assert_true(start == s);               /* nothing between words but folding */
        end = strstr(start + 10, "?=");
        assert_non_null(end);
        assert_true(end + 2 - start <= 75);
        n = apr_base64_decode(buf, apr_pstrmemdup(p, start + 10, (apr_size_t)(end - start - 10)));
        buf[n] = '\0';
        out = apr_pstrcat(p, out, buf, NULL);
        s = end + 2;
        if (!strncmp(s, "\n ", 2)) s += 2;
        else assert_true(*s == '\0');
    }
    return out;
}

static void test_header_text(void **state)
{
    apr_pool_t *p = *state;
    const char *h;

    assert_string_equal("[SD-42] Status: open", sd_mail_header_text("[SD-42] Status: open", p));
    /* line breaks and other controls: one space, never a new header */
    h = sd_mail_header_text("Printer\r\nBcc: evil@evil.example\t x\x01y\x7f", p);
    assert_string_equal("Printer Bcc: evil@evil.example x y", h);
    assert_null(strpbrk(h, "\r\n"));
    assert_string_equal("a b", sd_mail_header_text("  a \n\n b  ", p));
    assert_string_equal("", sd_mail_header_text(NULL, p));
    /* not ASCII: encoded words that decode to the cleaned text */
    h = sd_mail_header_text("Caf\xc3\xa9 \xd0\xbf\xd1\x80\xd0\xb8\xd0\xbd\xd1\x82\xd0\xb5\xd1\x80", p);
    assert_string_equal("=?UTF-8?B?", apr_pstrndup(p, h, 10));
    assert_string_equal("Caf\xc3\xa9 \xd0\xbf\xd1\x80\xd0\xb8\xd0\xbd\xd1\x82\xd0\xb5\xd1\x80",
                        decode_words(h, p));
    /* C1 controls and U+2028 are controls too; a lone byte becomes U+FFFD */
    h = sd_mail_header_text("a\xc2\x85" "b\xe2\x80\xa8" "c\xff", p);
    assert_string_equal("a b c\xef\xbf\xbd", decode_words(h, p));
    /* "=?" alone would read as an encoded word: encoded itself */
    h = sd_mail_header_text("=?UTF-8?B?ZXZpbA==?=", p);
    assert_string_equal("=?UTF-8?B?ZXZpbA==?=", decode_words(h, p));
    assert_string_not_equal("=?UTF-8?B?ZXZpbA==?=", h);
}

static void test_header_text_long_never_splits_characters(void **state)
{
    apr_pool_t *p = *state;
    const char *in = "", *h, *line;
    int i;
    for (i = 0; i < 60; i++) in = apr_pstrcat(p, in, "\xd0\xaf\xe2\x82\xac", NULL);   /* Я€ */
    h = sd_mail_header_text(in, p);
    for (line = h; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *nl = strchr(line, '\n');
        assert_true((nl ? nl - line : (long)strlen(line)) <= 76);
    }
    /* the cut (300 bytes) falls between characters; words decode whole */
    {
        const char *d = decode_words(h, p);
        assert_true(strlen(d) <= 300);
        assert_int_equal(0, strlen(d) % 5);
        assert_int_equal(0, strncmp(d, in, strlen(d)));
    }
}

static void test_mailbox(void **state)
{
    apr_pool_t *p = *state;
    sd_mail_addr_t a = { "Alice Archer", "alice@north.example" };
    const char *mb;

    assert_string_equal("\"Alice Archer\" <alice@north.example>", sd_mail_mailbox(&a, p));
    a.name = "O\"Brien \\ Co, Ltd";
    assert_string_equal("\"O\\\"Brien \\\\ Co, Ltd\" <alice@north.example>",
                        sd_mail_mailbox(&a, p));
    a.name = NULL;
    assert_string_equal("alice@north.example", sd_mail_mailbox(&a, p));
    a.name = "";
    assert_string_equal("alice@north.example", sd_mail_mailbox(&a, p));
    a.name = "Eve\r\nBcc: evil@evil.example";
    mb = sd_mail_mailbox(&a, p);
    assert_string_equal("\"Eve Bcc: evil@evil.example\" <alice@north.example>", mb);
    a.name = "J\xc3\xb6rg\r\nBcc: x@y";
    mb = sd_mail_mailbox(&a, p);
    assert_null(strpbrk(mb, "\r\n\""));
    assert_non_null(strstr(mb, "?= <alice@north.example>"));
    a.addr = "alice@north.example\r\nBcc: evil@evil.example";
    assert_null(sd_mail_mailbox(&a, p));
    assert_null(sd_mail_mailbox(NULL, p));
}

/* ---- messages --------------------------------------------------------------------- */

static apr_array_header_t *addr_list(apr_pool_t *p, int n, ...)
{
    apr_array_header_t *a = apr_array_make(p, n + 1, sizeof(sd_mail_addr_t));
    va_list ap;
    int i;
    va_start(ap, n);
    for (i = 0; i < n; i++) {
        sd_mail_addr_t *x = apr_array_push(a);
        x->name = va_arg(ap, const char *);
        x->addr = va_arg(ap, const char *);
    }
    va_end(ap);
    return a;
}

/* Names of the header lines (not continuations) of a message. */
static int header_count(const char *msg, const char *name)
{
    const char *line = msg;
    int n = 0;
    apr_size_t len = strlen(name);
    while (line && *line && *line != '\n') {
        if (!strncasecmp(line, name, len) && line[len] == ':') n++;
        line = strchr(line, '\n');
        if (line) line++;
    }
    return n;
}

static void test_render(void **state)
{
    apr_pool_t *p = *state;
    sd_mail_msg_t m;
    const char *msg, *body;
    int n;

    memset(&m, 0, sizeof(m));
    m.from = "desk@intranet.example";
    m.to = addr_list(p, 2, "Alice\r\nBcc: evil@evil.example", "alice@north.example",
                     "Bad", "bad@x.example\r\nBcc: evil@evil.example");
    m.cc = addr_list(p, 2, NULL, "bob@north.example", NULL, "carol@north.example, x@y.example");
    m.subject = "[SD-7] Status\r\nBcc: evil@evil.example";
    m.body = "Line one\r\nLine two";
    m.message_id = "sdesk.7.1795424400@intranet.example";
    m.date = apr_time_from_sec(NOW);
    msg = sd_mail_render(&n, &m, p);
    assert_int_equal(2, n);
    assert_int_equal(0, header_count(msg, "Bcc"));
    assert_int_equal(1, header_count(msg, "To"));
    assert_int_equal(1, header_count(msg, "Cc"));
    assert_int_equal(1, header_count(msg, "Subject"));
    assert_non_null(strstr(msg, "Date: Mon, 23 Nov 2026 09:00:00 +0000\n"));
    assert_non_null(strstr(msg, "From: desk@intranet.example\n"));
    assert_non_null(strstr(msg, "To: \"Alice Bcc: evil@evil.example\" <alice@north.example>\n"));
    assert_non_null(strstr(msg, "Cc: bob@north.example\n"));
    assert_non_null(strstr(msg, "Subject: [SD-7] Status Bcc: evil@evil.example\n"));
    assert_non_null(strstr(msg, "Message-ID: <sdesk.7.1795424400@intranet.example>\n"));
    assert_non_null(strstr(msg, "Content-Type: text/plain; charset=UTF-8\n"));
    assert_non_null(strstr(msg, "Auto-Submitted: auto-generated\n"));
    assert_null(strchr(msg, '\r'));
    body = strstr(msg, "\n\n");
    assert_non_null(body);
    assert_string_equal("\n\nLine one\nLine two\n", body);

    /* no usable To: the copies become the recipients; a bad From goes */
    m.to = addr_list(p, 1, NULL, "nobody");
    m.from = "a@b.example\nBcc: x@y.example";
    m.message_id = "<bad id>";
    msg = sd_mail_render(&n, &m, p);
    assert_int_equal(1, n);
    assert_non_null(strstr(msg, "To: bob@north.example\n"));
    assert_int_equal(0, header_count(msg, "Cc"));
    assert_int_equal(0, header_count(msg, "From"));
    assert_int_equal(0, header_count(msg, "Message-ID"));
    /* nobody at all */
    m.cc = NULL;
    msg = sd_mail_render(&n, &m, p);
    assert_int_equal(0, n);
}

static void test_catalogue(void **state)
{
    apr_pool_t *p = *state;
    sd_mail_vars_t v = { "SD-42", "resolved", "critical", 3, "response",
                         "https://intranet.example/sdesk/tickets/42" };
    const char *subject, *body;
    int k;

    for (k = 0; k < SD_MAIL_KIND_COUNT; k++) {
        sd_mail_text(&subject, &body, k, "en", &v, p);
        assert_non_null(strstr(subject, "[SD-42]"));
        assert_null(strchr(subject, '{'));
        assert_null(strchr(body, '{'));
        assert_non_null(strstr(body, "SD-42"));
        assert_non_null(strstr(body, "https://intranet.example/sdesk/tickets/42\n"));
        assert_null(strchr(subject, '\n'));
    }
    sd_mail_text(&subject, &body, SD_MAIL_STATUS, "en", &v, p);
    assert_string_equal("[SD-42] Status: resolved", subject);
    sd_mail_text(&subject, &body, SD_MAIL_URGENT, "en", &v, p);
    assert_string_equal("[SD-42] New critical ticket for tier 3", subject);
    sd_mail_text(&subject, &body, SD_MAIL_BREACH, "en", &v, p);
    assert_string_equal("[SD-42] SLA response target missed", subject);
    /* no link known: a sentence instead; an unknown language: English */
    v.link = NULL;
    sd_mail_text(&subject, &body, SD_MAIL_REPLY, "xx", &v, p);
    assert_string_equal("[SD-42] New answer from support", subject);
    assert_non_null(strstr(body, "Open the support desk to see the ticket."));
}

/* ---- the mailer ------------------------------------------------------------------- */

static const char *tmpfile_path(apr_pool_t *p, const char *name)
{
    return apr_psprintf(p, "/tmp/sd_mail_test.%d.%s", (int)getpid(), name);
}

static int stop_now(void *baton)
{
    return *(int *)baton;
}

static void test_run_mailer(void **state)
{
    apr_pool_t *p = *state;
    const char *out = tmpfile_path(p, "out"), *err = NULL;
    const char *argv[] = { "/bin/sh", "-c", NULL, NULL };
    const char *msg = "To: a@b.example\n\nhello\n";
    apr_file_t *f;
    char buf[64];
    apr_size_t n = sizeof(buf) - 1;
    apr_time_t t0;
    int stop = 0;

    /* success: the message arrives on stdin, whole */
    argv[2] = apr_psprintf(p, "cat > %s", out);
    assert_int_equal(APR_SUCCESS, sd_mail_run(&err, argv, msg, strlen(msg),
                                              apr_time_from_sec(10), NULL, NULL, p));
    assert_null(err);
    assert_int_equal(APR_SUCCESS, apr_file_open(&f, out, APR_FOPEN_READ, 0, p));
    apr_file_read(f, buf, &n);
    buf[n] = '\0';
    apr_file_close(f);
    apr_file_remove(out, p);
    assert_string_equal(msg, buf);

    /* a failure exit: its status and what it said */
    argv[2] = "cat >/dev/null; printf 'queue full\\nsecond line\\n' >&2; exit 75";
    assert_int_equal(SD_EUNAVAILABLE, sd_mail_run(&err, argv, msg, strlen(msg),
                                                  apr_time_from_sec(10), NULL, NULL, p));
    assert_string_equal("exit status 75: queue full second line", err);

    /* it exits without reading: judged by its status */
    argv[2] = "exit 0";
    assert_int_equal(APR_SUCCESS, sd_mail_run(&err, argv, msg, strlen(msg),
                                              apr_time_from_sec(10), NULL, NULL, p));
    /* too slow: killed at the timeout */
    argv[2] = "sleep 30";
    t0 = apr_time_now();
    assert_int_equal(SD_EUNAVAILABLE, sd_mail_run(&err, argv, msg, strlen(msg),
                                                  apr_time_from_msec(300), NULL, NULL, p));
    assert_true(apr_time_now() - t0 < apr_time_from_sec(5));
    assert_non_null(strstr(err, "did not finish"));
    /* asked to stop */
    stop = 1;
    t0 = apr_time_now();
    assert_int_equal(SD_EUNAVAILABLE, sd_mail_run(&err, argv, msg, strlen(msg),
                                                  apr_time_from_sec(20), stop_now, &stop, p));
    assert_true(apr_time_now() - t0 < apr_time_from_sec(5));
    assert_non_null(strstr(err, "interrupted"));
    /* no such program; none at all */
    argv[0] = "/nonexistent/sendmail";
    assert_int_equal(SD_EUNAVAILABLE, sd_mail_run(&err, argv, msg, strlen(msg),
                                                  apr_time_from_sec(2), NULL, NULL, p));
    assert_non_null(strstr(err, "cannot run /nonexistent/sendmail"));
    assert_int_equal(SD_EUNAVAILABLE, sd_mail_run(&err, NULL, msg, strlen(msg),
                                                  apr_time_from_sec(2), NULL, NULL, p));
}

/* ---- the outbox against a database -------------------------------------------------- */

static apr_pool_t *conn_pool;
static const apr_dbd_driver_t *drv;
static apr_dbd_t *handle;
static sd_db_t *db;
static sd_desk_conf_t conf;

static const sd_user_t alice = {
    "alice", "uid=alice,o=north", "Alice Adams", "alice@north.example", "north",
    SD_ROLE_REPORTER, 0
};
static const sd_user_t carol = {
    "carol", "uid=carol,o=north", "Carol Clark", "carol@north.example", "north",
    SD_ROLE_REPORTER | SD_ROLE_AGENT, 1 << 2
};

/* the stand-in mailer and directory */
#define NSENT 16
static struct {
    int n;
    char msg[NSENT][4096];
    int fail;                 /* refuse the next so many */
    int agents_fail;
    int reenter;              /* deliver again from inside send */
} mailer;

static struct { int n; char msg[8][512]; } logs;

static void log_record(void *baton, const char *file, int line, int level, apr_status_t rv,
                       const char *msg)
{
    (void)baton; (void)file; (void)line; (void)rv;
    if (level <= SD_LOG_WARNING && logs.n < 8) apr_cpystrn(logs.msg[logs.n++], msg, 512);
}

static int log_all(void *baton, int level)
{
    (void)baton;
    return level <= SD_LOG_WARNING;
}

static sd_outbox_conf_t oconf;

static apr_status_t fake_send(const char **err, void *baton, const char *msg, apr_size_t len,
                              apr_pool_t *p)
{
    (void)baton;
    if (mailer.reenter) {
        sd_outbox_stats_t st;
        mailer.reenter = 0;
        /* another server looks now: the row in flight is not due for it */
        assert_int_equal(APR_SUCCESS, sd_outbox_deliver(&st, db, &oconf, NOW + 5, p));
        assert_int_equal(0, st.sent + st.failed + st.skipped);
    }
    if (mailer.fail > 0) {
        mailer.fail--;
        *err = "exit status 75: try later";
        return SD_EUNAVAILABLE;
    }
    assert_true(mailer.n < NSENT);
    assert_true(len < sizeof(mailer.msg[0]));
    memcpy(mailer.msg[mailer.n++], msg, len + 1);
    return APR_SUCCESS;
}

static apr_status_t fake_agents(apr_array_header_t **agents, void *baton, const char *tenant,
                                int tier, apr_pool_t *p)
{
    static const sd_user_t list[] = {
        { "tom", NULL, "Tom Tier", "tom@north.example", "north", SD_ROLE_AGENT, 1 << 2 },
        { "nomail", NULL, "No Mail", NULL, "north", SD_ROLE_AGENT, 1 << 2 },
        { "sam", NULL, "Sam South", "sam@south.example", "south", SD_ROLE_AGENT, 1 << 2 },
    };
    apr_size_t i;
    (void)baton;
    assert_int_equal(2, tier);
    assert_string_equal("north", tenant);
    if (mailer.agents_fail) return SD_EUNAVAILABLE;
    *agents = apr_array_make(p, 3, sizeof(sd_user_t));
    for (i = 0; i < 3; i++) APR_ARRAY_PUSH(*agents, sd_user_t) = list[i];
    return APR_SUCCESS;
}

static int group_setup(void **state)
{
    int rc = sd_test_group_setup(state);
    if (rc) return rc;
    sd_json_init();
    sd_log_set(log_record, log_all, NULL);
    if (apr_pool_create(&conn_pool, sd_test_root) != APR_SUCCESS) return -1;
    if (apr_dbd_init(sd_test_root) != APR_SUCCESS) return -1;
    if (apr_dbd_get_driver(sd_test_root, "sqlite3", &drv) != APR_SUCCESS) return -1;
    if (apr_dbd_open(drv, conn_pool, ":memory:", &handle) != APR_SUCCESS) return -1;
    if (sd_store_open(&db, drv, handle, conn_pool, NULL, sd_test_root) != APR_SUCCESS) return -1;
    return apr_dbd_query(drv, handle, &rc, "DROP TRIGGER ticket_events_no_delete") ? -1 : 0;
}

static int group_teardown(void **state)
{
    if (handle) apr_dbd_close(drv, handle);
    sd_log_set(NULL, NULL, NULL);
    return sd_test_group_teardown(state);
}

static void raw_exec(const char *sql)
{
    int nrows = 0, err = apr_dbd_query(drv, handle, &nrows, sql);
    if (err) fail_msg("%s: %s", sql, apr_dbd_error(drv, handle, err));
}

static int setup(void **state)
{
    int rc = sd_test_setup(state);
    if (rc) return rc;
    raw_exec("DELETE FROM outbox");
    raw_exec("DELETE FROM ticket_events");
    raw_exec("DELETE FROM comments");
    raw_exec("DELETE FROM ticket_tiers");
    raw_exec("DELETE FROM tickets");
    sd_desk_conf_default(&conf, (apr_pool_t *)*state);
    memset(&mailer, 0, sizeof(mailer));
    memset(&logs, 0, sizeof(logs));
    sd_outbox_conf_default(&oconf);
    oconf.link_base = "https://intranet.example/sdesk";
    oconf.from = "desk@intranet.example";
    oconf.msgid_domain = "intranet.example";
    oconf.agents = fake_agents;
    oconf.send = fake_send;
    oconf.retry_base = 10;
    oconf.retry_max = 60;
    oconf.max_attempts = 4;
    return 0;
}

#define OUTBOX_TEST(f) cmocka_unit_test_setup_teardown(f, setup, sd_test_teardown)

static sd_ticket_t *file_ticket(const char *json, apr_pool_t *p)
{
    sd_actor_t who = { &alice, &conf, NOW, NULL, NULL };
    sd_problem_t prob;
    sd_ticket_t in, *t = NULL;
    json_t *body = sd_json_own(p, json_loads(json, JSON_REJECT_DUPLICATES, NULL));
    sd_problem_init(&prob, p);
    assert_non_null(body);
    assert_int_equal(APR_SUCCESS, sd_ticket_from_json(&in, body, &conf, 0, &prob, p));
    assert_int_equal(APR_SUCCESS, sd_desk_ticket_create(&t, db, &who, &in, &prob, p));
    return t;
}

static const char *value(const char *sql, apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v;
    if (apr_dbd_select(drv, p, handle, &res, sql, 1)) fail_msg("%s", sql);
    if (apr_dbd_get_row(drv, p, res, &row, 1)) return NULL;
    v = apr_dbd_get_entry(drv, row, 0);
    return v ? apr_pstrdup(p, v) : "NULL";
}

static void deliver(sd_outbox_stats_t *st, apr_int64_t now, apr_pool_t *p)
{
    assert_int_equal(APR_SUCCESS, sd_outbox_deliver(st, db, &oconf, now, p));
}

/* A high ticket of alice's: one outbox row (ticket.created). */
#define PLAIN_TICKET "{\"subject\": \"s\", \"description\": \"d\", \"category\": \"bug\"," \
                     " \"priority\": \"high\"}"

/* The one outbox row's next attempt is due at `when`. */
static void assert_next_at(apr_int64_t when, apr_pool_t *p)
{
    assert_string_equal(apr_psprintf(p, "%" APR_INT64_T_FMT, when),
                        value("SELECT next_attempt_at FROM outbox", p));
}

static int logged(const char *text)
{
    int i, n = 0;
    for (i = 0; i < logs.n; i++) n += strstr(logs.msg[i], text) != NULL;
    return n;
}

static void test_created_to_reporter_and_cc_once(void **state)
{
    apr_pool_t *p = *state;
    sd_outbox_stats_t st;
    sd_ticket_t *t = file_ticket("{\"subject\": \"Patient Smith's dose is wrong\","
                                 " \"description\": \"Bed 4, Mr Smith\", \"category\": \"bug\","
                                 " \"priority\": \"high\", \"encounter_id\": \"ENC-SECRET\","
                                 " \"cc\": [\"bob@north.example\", \"ALICE@north.example\"]}", p);
    const char *m;

    deliver(&st, NOW, p);
    assert_int_equal(1, st.sent);
    assert_int_equal(1, mailer.n);
    m = mailer.msg[0];
    assert_non_null(strstr(m, "To: \"Alice Adams\" <alice@north.example>\n"));
    assert_non_null(strstr(m, "Cc: bob@north.example\n"));      /* the reporter once */
    assert_non_null(strstr(m, "From: desk@intranet.example\n"));
    assert_non_null(strstr(m, apr_psprintf(p, "Subject: [SD-%" APR_INT64_T_FMT "] Your support "
                                           "ticket was received\n", t->id)));
    assert_non_null(strstr(m, apr_psprintf(p, "https://intranet.example/sdesk/tickets/%"
                                           APR_INT64_T_FMT "\n", t->id)));
    assert_non_null(strstr(m, apr_psprintf(p, "Message-ID: <sdesk.%s.%" APR_INT64_T_FMT
                                           "@intranet.example>",
                                           value("SELECT id FROM outbox", p), NOW)));
    assert_null(strstr(m, "Smith"));
    assert_null(strstr(m, "ENC-SECRET"));
    assert_string_equal("1", value("SELECT attempts FROM outbox", p));
    assert_string_equal(apr_psprintf(p, "%" APR_INT64_T_FMT, NOW),
                        value("SELECT delivered_at FROM outbox", p));
    assert_string_equal("NULL", value("SELECT last_error FROM outbox", p));
    /* later runs: nothing more */
    deliver(&st, NOW + 1, p);
    deliver(&st, NOW + 100000, p);
    assert_int_equal(0, st.sent);
    assert_int_equal(1, mailer.n);
}

static void test_retry_with_backoff_then_give_up(void **state)
{
    apr_pool_t *p = *state;
    sd_outbox_stats_t st;

    file_ticket(PLAIN_TICKET, p);
    mailer.fail = 100;
    deliver(&st, NOW, p);
    assert_int_equal(1, st.failed);
    assert_string_equal("1", value("SELECT attempts FROM outbox", p));
    assert_string_equal("exit status 75: try later", value("SELECT last_error FROM outbox", p));
    assert_next_at(NOW + 10, p);
    deliver(&st, NOW + 9, p);                  /* not due yet */
    assert_int_equal(0, st.failed);
    deliver(&st, NOW + 10, p);                 /* 2nd: next in 20 s */
    assert_next_at(NOW + 30, p);
    deliver(&st, NOW + 30, p);                 /* 3rd: 40 s */
    assert_next_at(NOW + 70, p);
    assert_int_equal(0, logged("giving up"));
    deliver(&st, NOW + 70, p);                 /* 4th and last */
    assert_int_equal(1, st.gave_up);
    assert_int_equal(1, logged("SD00130"));
    assert_int_equal(1, logged("giving up after 4 attempts"));
    deliver(&st, NOW + 100000, p);
    assert_int_equal(0, st.failed + st.sent);
    assert_int_equal(0, mailer.n);
    assert_string_equal("NULL", value("SELECT delivered_at FROM outbox", p));
}

static void test_retry_succeeds_once(void **state)
{
    apr_pool_t *p = *state;
    sd_outbox_stats_t st;

    file_ticket(PLAIN_TICKET, p);
    mailer.fail = 1;
    deliver(&st, NOW, p);
    assert_int_equal(0, mailer.n);
    deliver(&st, NOW + 10, p);
    assert_int_equal(1, st.sent);
    assert_int_equal(1, mailer.n);
    assert_string_equal("2", value("SELECT attempts FROM outbox", p));
    assert_string_equal("NULL", value("SELECT last_error FROM outbox", p));
    deliver(&st, NOW + 1000, p);
    assert_int_equal(1, mailer.n);
}

static void test_row_in_flight_is_not_taken_twice(void **state)
{
    apr_pool_t *p = *state;
    sd_outbox_stats_t st;

    file_ticket(PLAIN_TICKET, p);
    mailer.reenter = 1;
    deliver(&st, NOW, p);
    assert_int_equal(1, st.sent);
    assert_int_equal(1, mailer.n);
    /* a server that died after claiming: after the lease the row is sent */
    raw_exec("UPDATE outbox SET delivered_at = NULL, attempts = 1, next_attempt_at = 1795424700");
    deliver(&st, NOW + 299, p);
    assert_int_equal(0, st.sent);
    deliver(&st, NOW + 300, p);
    assert_int_equal(1, st.sent);
}

static void test_urgent_to_tier_agents_with_address(void **state)
{
    apr_pool_t *p = *state;
    sd_outbox_stats_t st;
    sd_ticket_t *t = file_ticket("{\"subject\": \"s\", \"description\": \"d\","
                                 " \"category\": \"bug\", \"urgency\": \"patient-safety\","
                                 " \"impact\": \"single\"}", p);
    const char *urgent = NULL;
    int i;

    assert_string_equal("2", value("SELECT COUNT(*) FROM outbox", p));
    mailer.agents_fail = 1;
    deliver(&st, NOW, p);
    assert_int_equal(1, st.sent);          /* the reporter's */
    assert_int_equal(1, st.failed);        /* the agents': directory down */
    assert_non_null(strstr(value("SELECT last_error FROM outbox WHERE kind = 'ticket.urgent'",
                                 p), "tier 2 agents"));
    mailer.agents_fail = 0;
    deliver(&st, NOW + 10, p);
    assert_int_equal(1, st.sent);
    for (i = 0; i < mailer.n; i++)
        if (strstr(mailer.msg[i], "New critical ticket")) urgent = mailer.msg[i];
    assert_non_null(urgent);
    assert_non_null(strstr(urgent, "To: \"Tom Tier\" <tom@north.example>\n"));
    assert_null(strstr(urgent, "sam@south.example"));
    assert_null(strstr(urgent, "Cc:"));
    assert_non_null(strstr(urgent, apr_psprintf(p, "[SD-%" APR_INT64_T_FMT "] New critical "
                                                "ticket for tier 2", t->id)));
}

static void test_status_reply_and_silent_kinds(void **state)
{
    apr_pool_t *p = *state;
    sd_actor_t agent = { &carol, &conf, NOW + 60, NULL, NULL };
    sd_actor_t reporter = { &alice, &conf, NOW + 60, NULL, NULL };
    sd_outbox_stats_t st;
    sd_ticket_patch_t pt;
    sd_problem_t prob;
    sd_ticket_t *t = file_ticket("{\"subject\": \"s\", \"description\": \"d\","
                                 " \"category\": \"bug\", \"priority\": \"high\"}", p), *t2;
    sd_comment_t *c;
    int i, status = 0, reply = 0;

    sd_problem_init(&prob, p);
    deliver(&st, NOW, p);
    memset(&pt, 0, sizeof(pt));
    pt.has_status = 1;
    pt.status = SD_ST_PENDING;
    assert_int_equal(APR_SUCCESS, sd_desk_ticket_patch(&t2, db, &agent, t->id, &pt, -1, &prob, p));
    assert_int_equal(APR_SUCCESS, sd_desk_comment_add(&t2, &c, db, &agent, t->id,
                                                      "secret internal", 1, &prob, p));
    assert_int_equal(APR_SUCCESS, sd_desk_comment_add(&t2, &c, db, &agent, t->id,
                                                      "secret public", 0, &prob, p));
    /* the reporter answers: a comment (no mail) and back to open (a status mail) */
    assert_int_equal(APR_SUCCESS, sd_desk_comment_add(&t2, &c, db, &reporter, t->id,
                                                      "secret mine", 0, &prob, p));
    deliver(&st, NOW + 60, p);
    assert_int_equal(3, st.sent);          /* pending, the reply, open */
    assert_int_equal(1, st.skipped);       /* the reporter's own comment */
    for (i = 1; i < mailer.n; i++) {
        assert_null(strstr(mailer.msg[i], "secret"));
        if (strstr(mailer.msg[i], "] Status: pending\n") || strstr(mailer.msg[i], "] Status: open\n"))
            status++;
        if (strstr(mailer.msg[i], "] New answer from support\n")) reply++;
    }
    assert_int_equal(2, status);
    assert_int_equal(1, reply);
    assert_string_equal("0", value("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL", p));
}

static void test_old_rows_dropped_unsent(void **state)
{
    apr_pool_t *p = *state;
    sd_outbox_stats_t st;

    file_ticket(PLAIN_TICKET, p);
    deliver(&st, NOW + 3 * 86400 + 1, p);
    assert_int_equal(1, st.expired);
    assert_int_equal(0, mailer.n);
    assert_non_null(strstr(value("SELECT last_error FROM outbox", p), "expired"));
    assert_string_equal("1", value("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NOT NULL",
                                   p));
}

int main(void)
{
    /* as in httpd: a mailer that exits early must not kill us with SIGPIPE */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        SD_TEST(test_addr_ok),
        SD_TEST(test_header_text),
        SD_TEST(test_header_text_long_never_splits_characters),
        SD_TEST(test_mailbox),
        SD_TEST(test_render),
        SD_TEST(test_catalogue),
        SD_TEST(test_run_mailer),
        OUTBOX_TEST(test_created_to_reporter_and_cc_once),
        OUTBOX_TEST(test_retry_with_backoff_then_give_up),
        OUTBOX_TEST(test_retry_succeeds_once),
        OUTBOX_TEST(test_row_in_flight_is_not_taken_twice),
        OUTBOX_TEST(test_urgent_to_tier_agents_with_address),
        OUTBOX_TEST(test_status_reply_and_silent_kinds),
        OUTBOX_TEST(test_old_rows_dropped_unsent),
    };
    return cmocka_run_group_tests_name("sd_mail", tests, group_setup, group_teardown);
}
