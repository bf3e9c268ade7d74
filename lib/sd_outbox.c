/* Outbox delivery. See sd_outbox.h. */
#include <string.h>
#include <apr_strings.h>

#include "sd_outbox.h"
#include "sd_desk.h"
#include "sd_json.h"
#include "sd_log.h"
#include "sd_private.h"
#include "sd_store_sql.h"

#define I64(v) sd_store_i64((v), p)

void sd_outbox_conf_default(sd_outbox_conf_t *c)
{
    memset(c, 0, sizeof(*c));
    c->retry_base = 60;
    c->retry_max = 3600;
    c->max_attempts = 10;
    c->lease = 300;
    c->max_age = 3 * 86400;
    c->batch = 100;
}

/* Who hears of an outbox kind, and with which text. */
enum { TO_NOBODY = 0, TO_REPORTER, TO_AGENTS };

static const struct {
    const char *kind;
    int to;
    int mail;                 /* sd_mail_kind_e */
} routes[] = {
    { "ticket.created",      TO_REPORTER, SD_MAIL_CREATED },
    { "ticket.status",       TO_REPORTER, SD_MAIL_STATUS },
    { "ticket.reopened",     TO_REPORTER, SD_MAIL_STATUS },
    { "ticket.reply",        TO_REPORTER, SD_MAIL_REPLY },
    { "ticket.urgent",       TO_AGENTS,   SD_MAIL_URGENT },
    { "ticket.sla_breached", TO_AGENTS,   SD_MAIL_BREACH },
};

typedef struct {
    const char *id, *tenant, *ticket_id, *event_id, *kind;
    int attempts;             /* after our claim */
    apr_int64_t created_at;
} row_t;

/* ---- row state: claim, done, retry (each its own short transaction) ---------- */

typedef struct {
    const char *label;
    int nargs;
    const char *args[6];
    int changed;
} write_t;

static apr_status_t write_txn(void *baton, sd_db_t *db, apr_pool_t *p)
{
    write_t *w = baton;
    return sd_store_exec(&w->changed, db, w->label, w->nargs, w->args, p);
}

static apr_status_t row_write(int *changed, sd_db_t *db, write_t *w, apr_pool_t *p)
{
    apr_status_t rv = sd_store_txn(db, write_txn, w, p);
    if (changed) *changed = w->changed;
    return rv;
}

/* Ours until now + lease, if nobody was first. */
static apr_status_t claim(int *won, sd_db_t *db, const sd_outbox_conf_t *c, const row_t *r,
                          apr_int64_t now, apr_pool_t *p)
{
    write_t w = { "sdesk_outbox_claim", 5,
                  { I64(now + c->lease), r->tenant, r->id, I64(r->attempts - 1), I64(now) }, 0 };
    return row_write(won, db, &w, p);
}

static apr_status_t finish(sd_db_t *db, const row_t *r, const char *note, apr_int64_t now,
                           apr_pool_t *p)
{
    write_t w = { "sdesk_outbox_done", 5,
                  { I64(now), note, r->tenant, r->id, I64(r->attempts) }, 0 };
    return row_write(NULL, db, &w, p);
}

static apr_status_t retry(sd_outbox_stats_t *st, sd_db_t *db, const sd_outbox_conf_t *c,
                          const row_t *r, const char *err, apr_int64_t now, apr_pool_t *p)
{
    apr_int64_t wait = c->retry_base;
    int i;
    write_t w = { "sdesk_outbox_retry", 5, { NULL, err, r->tenant, r->id, I64(r->attempts) }, 0 };

    for (i = 1; i < r->attempts && wait < c->retry_max; ++i) wait *= 2;
    if (wait > c->retry_max) wait = c->retry_max;
    w.args[0] = I64(now + wait);
    ++st->failed;
    if (r->attempts >= c->max_attempts) {
        ++st->gave_up;
        sd_log(SD_LOG_MARK, SD_LOG_ERR, 0, p, SDLOGNO(00130) "outbox %s (%s, ticket SD-%s, "
               "tenant %s): giving up after %d attempts: %s", r->id, r->kind, r->ticket_id,
               r->tenant, r->attempts, err);
    }
    else {
        sd_log(SD_LOG_MARK, SD_LOG_WARNING, 0, p, SDLOGNO(00131) "outbox %s (%s, ticket SD-%s): "
               "attempt %d failed, next in %" APR_INT64_T_FMT " s: %s", r->id, r->kind,
               r->ticket_id, r->attempts, wait, err);
    }
    return row_write(NULL, db, &w, p);
}

/* ---- composing ---------------------------------------------------------------------- */

static void add_addr(apr_array_header_t *list, const char *name, const char *addr)
{
    sd_mail_addr_t *a;
    int i;
    if (!sd_mail_addr_ok(addr)) return;
    for (i = 0; i < list->nelts; ++i)
        if (!strcasecmp(APR_ARRAY_IDX(list, i, sd_mail_addr_t).addr, addr)) return;
    a = apr_array_push(list);
    a->name = name;
    a->addr = addr;
}

/* The reporter and the ticket's cc (a stored JSON array of addresses). */
static void reporter_recipients(sd_mail_msg_t *m, const sd_ticket_t *t, apr_pool_t *p)
{
    json_t *cc = t->cc_json ? sd_json_own(p, json_loads(t->cc_json, 0, NULL)) : NULL;
    apr_array_header_t *all = apr_array_make(p, 4, sizeof(sd_mail_addr_t));
    apr_size_t i;
    json_t *v;

    add_addr(all, t->reporter_name, t->reporter_email);
    m->to = apr_array_make(p, 1, sizeof(sd_mail_addr_t));
    if (all->nelts) APR_ARRAY_PUSH(m->to, sd_mail_addr_t) = APR_ARRAY_IDX(all, 0, sd_mail_addr_t);
    if (json_is_array(cc)) {
        json_array_foreach(cc, i, v) {
            if (json_is_string(v)) add_addr(all, NULL, apr_pstrdup(p, json_string_value(v)));
        }
    }
    /* the copies: what the list holds past the reporter */
    m->cc = apr_array_make(p, all->nelts + 1, sizeof(sd_mail_addr_t));
    for (i = (apr_size_t)m->to->nelts; i < (apr_size_t)all->nelts; ++i)
        APR_ARRAY_PUSH(m->cc, sd_mail_addr_t) = APR_ARRAY_IDX(all, (int)i, sd_mail_addr_t);
}

static apr_status_t agent_recipients(const char **why, sd_mail_msg_t *m,
                                     const sd_outbox_conf_t *c, const sd_ticket_t *t,
                                     apr_pool_t *p)
{
    apr_array_header_t *agents = NULL;
    apr_status_t rv;
    int i;

    m->to = apr_array_make(p, 4, sizeof(sd_mail_addr_t));
    if (!c->agents) return APR_SUCCESS;
    rv = c->agents(&agents, c->agents_baton, t->tenant, t->tier, p);
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(p, "the directory cannot list the tier %d agents", t->tier);
        return SD_EUNAVAILABLE;
    }
    for (i = 0; agents && i < agents->nelts; ++i) {
        const sd_user_t *u = &APR_ARRAY_IDX(agents, i, sd_user_t);
        if (!strcmp(u->tenant, t->tenant)) add_addr(m->to, u->name, u->email);
    }
    return APR_SUCCESS;
}

/* The message of row r, or *msg NULL with *why when there is nothing to
 * send. SD_EUNAVAILABLE with *why: the directory failed, try again later.
 * Other errors are the database's. */
static apr_status_t compose(const char **msg, const char **why, sd_db_t *db,
                            const sd_outbox_conf_t *c, const row_t *r, apr_pool_t *p)
{
    sd_mail_msg_t m;
    sd_mail_vars_t v;
    sd_ticket_t t;
    sd_rows_t *rows;
    const char *args[3];
    apr_status_t rv;
    apr_size_t i;
    int route = -1, nrcpt = 0;

    *msg = NULL;
    *why = NULL;
    for (i = 0; i < sizeof(routes) / sizeof(routes[0]); ++i)
        if (!strcmp(routes[i].kind, r->kind)) route = (int)i;
    if (route < 0 || !r->ticket_id) return APR_SUCCESS;          /* no mail for this kind */
    args[0] = r->tenant;
    args[1] = r->ticket_id;
    if (APR_SUCCESS != (rv = sd_store_select(&rows, db, "sdesk_get_ticket", 2, args, p)))
        return rv;
    if (rows->nrows != 1 || rows->ncols != SD_SQL_TICKET_NCOLS) {
        *why = "the ticket is gone";
        return APR_SUCCESS;
    }
    sd_desk_ticket_from_row(&t, rows->cell[0]);

    memset(&v, 0, sizeof(v));
    v.key = sd_ticket_key(t.id, p);
    v.status = sd_status_str(t.status);
    v.priority = sd_priority_str(t.priority);
    v.tier = t.tier;
    v.link = c->link_base ? apr_psprintf(p, "%s/tickets/%" APR_INT64_T_FMT, c->link_base, t.id)
                          : NULL;
    if (r->event_id) {
        /* the status and the target as the event recorded them */
        args[2] = r->event_id;
        if (APR_SUCCESS != (rv = sd_store_select(&rows, db, "sdesk_get_event", 3, args, p)))
            return rv;
        if (rows->nrows == 1) {
            const char **e = (const char **)rows->cell[0];
            if (routes[route].mail == SD_MAIL_STATUS && e[6] && sd_status_from_str(e[6]) >= 0)
                v.status = e[6];
            if (routes[route].mail == SD_MAIL_BREACH && e[4]
                && (!strcmp(e[4], "response") || !strcmp(e[4], "resolution")))
                v.target = e[4];
        }
    }
    if (!v.target) v.target = "resolution";

    memset(&m, 0, sizeof(m));
    if (routes[route].to == TO_REPORTER) reporter_recipients(&m, &t, p);
    else if (APR_SUCCESS != (rv = agent_recipients(why, &m, c, &t, p))) return rv;
    sd_mail_text(&m.subject, &m.body, routes[route].mail, c->lang, &v, p);
    m.from = c->from;
    m.date = apr_time_from_sec(r->created_at);
    m.message_id = apr_psprintf(p, "sdesk.%s.%" APR_INT64_T_FMT "@%s", r->id, r->created_at,
                                c->msgid_domain ? c->msgid_domain : "sdesk.invalid");
    *msg = sd_mail_render(&nrcpt, &m, p);
    if (!nrcpt) {
        *msg = NULL;
        *why = routes[route].to == TO_REPORTER ? "no recipients: no address on the ticket"
             : apr_psprintf(p, "no recipients: no agent of tier %d has an address", t.tier);
    }
    return APR_SUCCESS;
}

/* ---- one row ---------------------------------------------------------------------------- */

static apr_status_t deliver_one(sd_outbox_stats_t *st, sd_db_t *db, const sd_outbox_conf_t *c,
                                row_t *r, apr_int64_t now, apr_pool_t *p)
{
    const char *msg, *why, *err = NULL;
    apr_status_t rv;
    int won = 0;

    if (APR_SUCCESS != (rv = claim(&won, db, c, r, now, p)) || !won) return rv;
    if (c->max_age > 0 && r->created_at < now - c->max_age) {
        ++st->expired;
        return finish(db, r, "expired: not delivered in time, dropped", now, p);
    }
    rv = compose(&msg, &why, db, c, r, p);
    if (rv == SD_EUNAVAILABLE && why) return retry(st, db, c, r, why, now, p);
    if (rv != APR_SUCCESS) return rv;          /* the database: the lease runs out, retried */
    if (!msg) {
        ++st->skipped;
        return finish(db, r, why, now, p);
    }
    rv = c->send(&err, c->send_baton, msg, strlen(msg), p);
    if (rv != APR_SUCCESS) return retry(st, db, c, r, err ? err : "the mailer failed", now, p);
    ++st->sent;
    sd_log(SD_LOG_MARK, SD_LOG_DEBUG, 0, p, SDLOGNO(00132) "outbox %s (%s, ticket SD-%s, "
           "tenant %s) mailed, attempt %d", r->id, r->kind, r->ticket_id, r->tenant,
           r->attempts);
    return finish(db, r, NULL, now, p);
}

apr_status_t sd_outbox_deliver(sd_outbox_stats_t *st, sd_db_t *db, const sd_outbox_conf_t *c,
                               apr_int64_t now, apr_pool_t *p)
{
    const char *args[3] = { I64(now), I64(c->max_attempts), I64(c->batch) };
    apr_pool_t *each;
    sd_rows_t *rows;
    apr_status_t rv;
    int i;

    memset(st, 0, sizeof(*st));
    if (APR_SUCCESS != (rv = sd_store_select(&rows, db, "sdesk_outbox_due", 3, args, p)))
        return rv;
    apr_pool_create(&each, p);
    for (i = 0; i < rows->nrows && rv == APR_SUCCESS; ++i) {
        const char **cell = rows->cell[i];
        row_t r;
        if (c->stop && c->stop(c->stop_baton)) break;
        apr_pool_clear(each);
        r.id = cell[0];
        r.tenant = cell[1];
        r.ticket_id = cell[2];
        r.event_id = cell[3];
        r.kind = cell[4];
        r.attempts = (int)sd_store_to_i64(cell[5]) + 1;
        r.created_at = sd_store_to_i64(cell[6]);
        rv = deliver_one(st, db, c, &r, now, each);
    }
    apr_pool_destroy(each);
    if (st->sent || st->failed || st->expired) {
        sd_log(SD_LOG_MARK, SD_LOG_INFO, 0, p, SDLOGNO(00133) "outbox: %d mail(s) sent, %d "
               "failed (retried later), %d without mail, %d dropped as too old", st->sent,
               st->failed, st->skipped, st->expired);
    }
    return rv;
}
