/* User actions on tickets. See sd_desk.h. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "sd_desk.h"
#include "sd_cursor.h"
#include "sd_query.h"
#include "sd_store_sql.h"
#include "sd_json.h"
#include "sd_log.h"
#include "sd_private.h"

#define I64(v) sd_store_i64((v), p)

static const char *opt_word(const char *(*str)(int), int v)
{
    return v >= 0 ? str(v) : NULL;
}

/* ---- rows -> structs ------------------------------------------------------- */

static int word(int (*from)(const char *), const char *s)
{
    return s ? from(s) : -1;
}

void sd_desk_ticket_from_row(sd_ticket_t *t, const char **c)
{
    memset(t, 0, sizeof(*t));
    t->id = sd_store_to_i64(c[0]);
    t->tenant = c[1];
    t->subject = c[2];
    t->description = c[3];
    t->category = c[4];
    t->urgency = word(sd_urgency_from_str, c[5]);
    t->impact = word(sd_impact_from_str, c[6]);
    t->priority = word(sd_priority_from_str, c[7]);
    t->status = word(sd_status_from_str, c[8]);
    t->tier = (int)sd_store_to_i64(c[9]);
    t->environment = word(sd_env_from_str, c[10]);
    t->service = c[11];
    t->encounter_id = c[12];
    t->device_id = c[13];
    t->device_model = c[14];
    t->device_os = c[15];
    t->device_app_version = c[16];
    t->has_device = c[13] || c[14] || c[15] || c[16];
    t->page_url = c[17];
    t->cc_json = c[18];
    t->context_json = c[19];
    t->reporter = c[20];
    t->reporter_name = c[21];
    t->reporter_email = c[22];
    t->assignee = c[23];
    t->known_issue_id = sd_store_to_i64(c[24]);
    t->created_at = sd_store_to_i64(c[25]);
    t->updated_at = sd_store_to_i64(c[26]);
    t->tier_started_at = sd_store_to_i64(c[27]);
    t->response_due_at = sd_store_to_i64(c[28]);
    t->resolution_due_at = sd_store_to_i64(c[29]);
    t->first_response_at = sd_store_to_i64(c[30]);
    t->resolved_at = sd_store_to_i64(c[31]);
    t->closed_at = sd_store_to_i64(c[32]);
    t->sla_breached = (int)sd_store_to_i64(c[33]);
    t->version = (int)sd_store_to_i64(c[34]);
    t->responded_at = sd_store_to_i64(c[35]);
    t->pending_since = sd_store_to_i64(c[36]);
    t->paused_seconds = sd_store_to_i64(c[37]);
}

void sd_desk_note(sd_db_t *db, const sd_ticket_t *t, const sd_event_t *ev, apr_pool_t *p)
{
    sd_change_t *c;
    if (!sd_store_noting(db)) return;
    c = apr_pcalloc(p, sizeof(*c));
    c->ticket = apr_pmemdup(p, t, sizeof(*t));
    c->event = *ev;
    sd_store_note(db, c);
}

/* May this user see this ticket at all? Reporters see their own, or their
 * colleagues' where the sysadmin allows it; agents and admins the tenant's. */
int sd_desk_may_see(const sd_actor_t *who, const sd_ticket_t *t)
{
    if (strcmp(t->tenant, who->user->tenant)) return 0;      /* belt and braces */
    if (sd_actor_is_agent(who) || who->conf->colleagues_visible) return 1;
    return !strcmp(t->reporter, who->user->user);
}

/* ---- create ------------------------------------------------------------------ */

typedef struct {
    const sd_actor_t *who;
    const sd_ticket_t *in;
    int tier;
    apr_int64_t response_due, resolution_due;
    apr_int64_t id;
} create_t;

static apr_status_t create_txn(void *baton, sd_db_t *db, apr_pool_t *p)
{
    create_t *c = baton;
    const sd_ticket_t *in = c->in;
    const sd_user_t *u = c->who->user;
    const char *now = I64(c->who->now);
    sd_rows_t *rows;
    apr_status_t rv;
    apr_int64_t event_id;
    const char *args[27];

    args[0] = u->tenant;
    args[1] = in->subject;
    args[2] = in->description;
    args[3] = in->category;
    args[4] = opt_word(sd_urgency_str, in->urgency);
    args[5] = opt_word(sd_impact_str, in->impact);
    args[6] = sd_priority_str(in->priority);
    args[7] = sd_status_str(SD_ST_NEW);
    args[8] = I64(c->tier);
    args[9] = opt_word(sd_env_str, in->environment);
    args[10] = in->service;
    args[11] = in->encounter_id;
    args[12] = in->device_id;
    args[13] = in->device_model;
    args[14] = in->device_os;
    args[15] = in->device_app_version;
    args[16] = in->page_url;
    args[17] = in->cc_json ? in->cc_json : "[]";
    args[18] = in->context_json ? in->context_json : "{}";
    args[19] = u->user;
    args[20] = u->name ? u->name : u->user;
    args[21] = u->email;
    args[22] = now;
    args[23] = now;
    args[24] = now;
    args[25] = c->response_due ? I64(c->response_due) : NULL;
    args[26] = c->resolution_due ? I64(c->resolution_due) : NULL;
    rv = sd_store_select(&rows, db, "sdesk_insert_ticket", 27, args, p);
    if (rv != APR_SUCCESS) return rv;
    if (rows->nrows != 1 || !rows->cell[0][0]) return SD_EINTERNAL;
    c->id = sd_store_to_i64(rows->cell[0][0]);
    {
        const char *ev[9] = { u->tenant, I64(c->id), now, u->user, "created", NULL, NULL,
                              sd_status_str(SD_ST_NEW), NULL };
        rv = sd_store_select(&rows, db, "sdesk_insert_event", 9, ev, p);
        if (rv != APR_SUCCESS) return rv;
        if (rows->nrows != 1) return SD_EINTERNAL;
        event_id = sd_store_to_i64(rows->cell[0][0]);
    }
    {
        const char *ob[7] = { u->tenant, I64(c->id), I64(event_id), "ticket.created",
                              apr_psprintf(p, "{\"ticket_id\":%" APR_INT64_T_FMT "}", c->id),
                              now, now };
        rv = sd_store_exec(NULL, db, "sdesk_insert_outbox", 7, ob, p);
        /* the entry tier's agents hear of urgent and critical tickets at once */
        if (rv == APR_SUCCESS && (in->priority == SD_PRIO_CRITICAL
                                  || in->priority == SD_PRIO_URGENT)) {
            ob[3] = "ticket.urgent";
            rv = sd_store_exec(NULL, db, "sdesk_insert_outbox", 7, ob, p);
        }
    }
    if (rv == APR_SUCCESS && sd_store_noting(db)) {
        /* listeners get the ticket as stored */
        const char *gargs[2] = { u->tenant, I64(c->id) };
        sd_event_t ev = { event_id, c->who->now, u->user, "created", NULL, NULL,
                          sd_status_str(SD_ST_NEW), NULL };
        sd_ticket_t t;
        rv = sd_store_select(&rows, db, "sdesk_get_ticket", 2, gargs, p);
        if (rv == APR_SUCCESS && (rows->nrows != 1 || rows->ncols != SD_SQL_TICKET_NCOLS))
            rv = SD_EINTERNAL;
        if (rv != APR_SUCCESS) return rv;
        sd_desk_ticket_from_row(&t, rows->cell[0]);
        sd_desk_note(db, &t, &ev, p);
    }
    if (rv == APR_SUCCESS) {
        const char *st[8] = { u->tenant, I64(c->id), I64(c->tier), sd_priority_str(in->priority),
                              in->category, now, args[25], args[26] };
        rv = sd_store_exec(NULL, db, "sdesk_insert_stint", 8, st, p);
    }
    return rv;
}

apr_status_t sd_desk_ticket_create(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                                   const sd_ticket_t *in, sd_problem_t *prob, apr_pool_t *p)
{
    const sd_desk_conf_t *conf = who->conf;
    create_t c;
    apr_status_t rv;

    *pt = NULL;
    memset(&c, 0, sizeof(c));
    c.who = who;
    c.in = in;
    c.tier = conf->entry_tier;
    {
        sd_ticket_t clock;
        memset(&clock, 0, sizeof(clock));
        clock.tier = c.tier;
        clock.priority = in->priority;
        clock.tier_started_at = who->now;
        sd_ticket_recompute_dues(&clock, conf);
        c.response_due = clock.response_due_at;
        c.resolution_due = clock.resolution_due_at;
    }
    rv = sd_store_txn(db, create_txn, &c, p);
    if (rv != APR_SUCCESS) return rv;
    sd_log(SD_LOG_MARK, SD_LOG_INFO, APR_SUCCESS, p,
           SDLOGNO(00100) "ticket SD-%" APR_INT64_T_FMT " created by %s (tenant %s)",
           c.id, who->user->user, who->user->tenant);
    return sd_desk_ticket_get(pt, db, who, c.id, prob, p);
}

/* ---- get ------------------------------------------------------------------------ */

static apr_status_t load_children(sd_ticket_t *t, sd_db_t *db, const sd_actor_t *who,
                                  apr_pool_t *p)
{
    const char *args[2] = { t->tenant, I64(t->id) };
    sd_rows_t *rows;
    apr_status_t rv;
    int i, agent = sd_actor_is_agent(who);

    rv = sd_store_select(&rows, db, agent ? "sdesk_list_comments" : "sdesk_list_public_comments",
                         2, args, p);
    if (rv != APR_SUCCESS) return rv;
    t->comments = apr_array_make(p, rows->nrows + 1, sizeof(sd_comment_t));
    for (i = 0; i < rows->nrows; ++i) {
        const char **c = rows->cell[i];
        sd_comment_t *cm = apr_array_push(t->comments);
        cm->id = sd_store_to_i64(c[0]);
        cm->author = c[1];
        cm->author_name = c[2];
        cm->body = c[3];
        cm->internal = sd_store_to_i64(c[4]) != 0;
        cm->created_at = sd_store_to_i64(c[5]);
    }
    rv = sd_store_select(&rows, db, "sdesk_list_attachments", 2, args, p);
    if (rv != APR_SUCCESS) return rv;
    t->attachments = apr_array_make(p, rows->nrows + 1, sizeof(sd_attachment_meta_t));
    for (i = 0; i < rows->nrows; ++i) {
        const char **c = rows->cell[i];
        sd_attachment_meta_t *a = apr_array_push(t->attachments);
        a->id = sd_store_to_i64(c[0]);
        a->filename = c[1];
        a->media_type = c[2];
        a->size = sd_store_to_i64(c[3]);
        a->created_at = sd_store_to_i64(c[4]);
    }
    if (t->known_issue_id) {
        const char *kargs[3] = { t->tenant, I64(t->known_issue_id), t->tenant };
        rv = sd_store_select(&rows, db, "sdesk_get_ki", 3, kargs, p);
        if (rv != APR_SUCCESS) return rv;
        if (rows->nrows == 1) {
            t->ki_title = rows->cell[0][2];
            t->ki_workaround = rows->cell[0][4];
            t->ki_status = rows->cell[0][6];
        }
    }
    if (!agent) return APR_SUCCESS;
    rv = sd_store_select(&rows, db, "sdesk_list_events", 2, args, p);
    if (rv != APR_SUCCESS) return rv;
    t->events = apr_array_make(p, rows->nrows + 1, sizeof(sd_event_t));
    for (i = 0; i < rows->nrows; ++i) {
        const char **c = rows->cell[i];
        sd_event_t *e = apr_array_push(t->events);
        e->id = sd_store_to_i64(c[0]);
        e->at = sd_store_to_i64(c[1]);
        e->actor = c[2];
        e->kind = c[3];
        e->field = c[4];
        e->old_value = c[5];
        e->new_value = c[6];
        e->note = c[7];
    }
    return APR_SUCCESS;
}

apr_status_t sd_desk_ticket_get(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                                apr_int64_t id, sd_problem_t *prob, apr_pool_t *p)
{
    const char *args[2] = { who->user->tenant, I64(id) };
    sd_ticket_t *t;
    sd_rows_t *rows;
    apr_status_t rv;

    *pt = NULL;
    rv = sd_store_select(&rows, db, "sdesk_get_ticket", 2, args, p);
    if (rv != APR_SUCCESS) return rv;
    if (rows->nrows != 1 || rows->ncols != SD_SQL_TICKET_NCOLS) goto not_found;
    t = apr_palloc(p, sizeof(*t));
    sd_desk_ticket_from_row(t, rows->cell[0]);
    if (!sd_desk_may_see(who, t)) goto not_found;
    if (APR_SUCCESS != (rv = load_children(t, db, who, p))) return rv;
    *pt = t;
    return APR_SUCCESS;
not_found:
    return sd_problem_set(prob, SD_ENOTFOUND, SD_PT_NOT_FOUND,
                          "There is no ticket %" APR_INT64_T_FMT " that you can see.", id);
}

/* ---- list -------------------------------------------------------------------------- */

static const char *const list_params[] = {
    "scope", "status", "priority", "category", "tier", "assignee", "q", "limit", "cursor", NULL
};

static apr_status_t bad_param(sd_problem_t *prob, const char *name, const char *value)
{
    return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
                          "Query parameter '%s' has an unacceptable value '%s'.", name, value);
}

apr_status_t sd_desk_ticket_query(sd_ticket_query_t *q, const char *qs,
                                  const sd_desk_conf_t *conf, sd_problem_t *prob, apr_pool_t *p)
{
    apr_table_t *t;
    apr_status_t rv;
    apr_int64_t n;
    const char *v;

    memset(q, 0, sizeof(*q));
    q->limit = SD_DEF_PAGE_LIMIT;
    if (APR_SUCCESS != (rv = sd_query_parse(&t, qs, list_params, prob, p))) return rv;
    if ((v = apr_table_get(t, "scope"))) {
        if (!strcmp(v, "mine")) q->scope = SD_SCOPE_MINE;
        else if (!strcmp(v, "tenant")) q->scope = SD_SCOPE_TENANT;
        else if (!strcmp(v, "queue")) q->scope = SD_SCOPE_QUEUE;
        else return bad_param(prob, "scope", v);
    }
    if ((v = apr_table_get(t, "status"))) {
        if (sd_status_from_str(v) < 0 && strcmp(v, "active") && strcmp(v, "done"))
            return bad_param(prob, "status", v);
        q->status = v;
    }
    if ((v = apr_table_get(t, "priority"))) {
        if (sd_priority_from_str(v) < 0) return bad_param(prob, "priority", v);
        q->priority = v;
    }
    if ((v = apr_table_get(t, "category"))) {
        if (!sd_desk_conf_has_category(conf, v)) return bad_param(prob, "category", v);
        q->category = v;
    }
    if ((v = apr_table_get(t, "tier"))) {
        if (!sd_query_int(&n, v, SD_TIER_MIN, SD_TIER_MAX)) return bad_param(prob, "tier", v);
        q->tier = (int)n;
    }
    if ((v = apr_table_get(t, "assignee"))) {
        if (!*v || strlen(v) > 256) return bad_param(prob, "assignee", v);
        q->assignee = v;
    }
    if ((v = apr_table_get(t, "limit"))) {
        if (!sd_query_int(&n, v, 1, SD_MAX_PAGE_LIMIT)) return bad_param(prob, "limit", v);
        q->limit = (int)n;
    }
    if ((v = apr_table_get(t, "q")) && !sd_str_blank(v)) q->q = v;
    if ((v = apr_table_get(t, "cursor"))) {
        if (!*v) return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_CURSOR,
                                       "The cursor is empty.");
        q->cursor = v;
    }
    return APR_SUCCESS;
}

/* What a cursor is bound to: the whole query but the cursor and limit. */
static const char *binding(const sd_actor_t *who, const sd_ticket_query_t *q, apr_pool_t *p)
{
    return apr_psprintf(p, "%d|%s|%s|%s|%s|%d|%s|%s|%s", q->scope, q->status ? q->status : "",
                        q->priority ? q->priority : "", q->category ? q->category : "",
                        q->assignee ? q->assignee : "", q->tier, q->q ? q->q : "",
                        who->user->tenant, who->user->user);
}

/* The search text as a query of the dialect, or NULL when it holds no word.
 * SQLite FTS5: every word a quoted phrase, so no user text is ever FTS
 * syntax; ASCII punctuation separates words as the unicode61 tokenizer does
 * (other characters are left to the tokenizer inside the phrase).
 * PostgreSQL: plainto_tsquery takes plain text as it is. */
const char *sd_desk_text_query(const char *q, int kind, apr_pool_t *p)
{
    char *out, *o;
    const unsigned char *s;
    int in_word = 0, words = 0;
    out = o = apr_palloc(p, strlen(q) * 3 + 3);
    for (s = (const unsigned char *)q; *s; ++s) {
        int wordy = *s >= 0x80 || apr_isalnum(*s);
        if (!wordy) {
            if (in_word) { *o++ = '"'; *o++ = ' '; in_word = 0; }
            continue;
        }
        if (!in_word) { *o++ = '"'; in_word = 1; ++words; }
        *o++ = (char)*s;
    }
    if (in_word) *o++ = '"';
    *o = '\0';
    if (!words) return NULL;
    return kind == SD_DB_PGSQL ? q : out;
}

apr_status_t sd_desk_ticket_list(apr_array_header_t **items, const char **next, sd_db_t *db,
                                 const sd_actor_t *who, const sd_ticket_query_t *q,
                                 sd_problem_t *prob, apr_pool_t *p)
{
    const sd_user_t *u = who->user;
    const char *args[16], *bind = binding(who, q, p);
    char key[64];
    int nargs = 0, klen = 0, i, by_due = (q->scope == SD_SCOPE_QUEUE);
    const char *sql = sd_sql_list_head;
    sd_cursor_t cur;
    sd_rows_t *rows;
    apr_array_header_t *out;
    apr_status_t rv;

    *items = NULL;
    *next = NULL;
    if (q->scope == SD_SCOPE_TENANT && !sd_actor_is_agent(who) && !who->conf->colleagues_visible)
        return sd_problem_set(prob, SD_EFORBIDDEN, SD_PT_FORBIDDEN,
                              "Listing the tenant's tickets is for support agents.");
    if (q->scope == SD_SCOPE_QUEUE && !(u->roles & SD_ROLE_AGENT))
        return sd_problem_set(prob, SD_EFORBIDDEN, SD_PT_FORBIDDEN,
                              "The queue is for support agents.");
    if (q->cursor && sd_cursor_decode(&cur, q->cursor, bind, p) != APR_SUCCESS)
        return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_CURSOR,
                              "The cursor is not valid for this query.");

#define FRAG(f) do { sql = apr_pstrcat(p, sql, sd_sql_list_fragment(f, db->kind), NULL); \
                     key[klen++] = (char)('a' + (f)); } while (0)
    key[klen++] = 'L';
    args[nargs++] = u->tenant;
    if (q->scope == SD_SCOPE_MINE) {
        FRAG(SD_LF_REPORTER);
        args[nargs++] = u->user;
    }
    else if (q->scope == SD_SCOPE_QUEUE) {
        int t, seen = 0;
        const char *first = NULL;
        FRAG(SD_LF_ACTIVE);
        FRAG(SD_LF_TIERS);
        for (t = SD_TIER_MIN; t <= SD_TIER_MAX; ++t) {
            if (u->tiers & (1 << t)) {
                args[nargs++] = I64(t);
                if (!first) first = args[nargs - 1];
                ++seen;
            }
        }
        for (; seen < 4; ++seen) args[nargs++] = first;   /* repeat: same set */
    }
    if (q->status) {
        if (!strcmp(q->status, "active")) FRAG(SD_LF_ACTIVE);
        else if (!strcmp(q->status, "done")) FRAG(SD_LF_DONE);
        else { FRAG(SD_LF_STATUS); args[nargs++] = q->status; }
    }
    if (q->priority) { FRAG(SD_LF_PRIORITY); args[nargs++] = q->priority; }
    if (q->category) { FRAG(SD_LF_CATEGORY); args[nargs++] = q->category; }
    if (q->tier) { FRAG(SD_LF_TIER); args[nargs++] = I64(q->tier); }
    if (q->assignee) { FRAG(SD_LF_ASSIGNEE); args[nargs++] = q->assignee; }
    if (q->q) {
        const char *text = sd_desk_text_query(q->q, db->kind, p);
        if (!text) {                   /* only punctuation: nothing can match */
            *items = apr_array_make(p, 1, sizeof(sd_ticket_t *));
            return APR_SUCCESS;
        }
        FRAG(SD_LF_TEXT);
        args[nargs++] = text;
    }
    if (q->cursor) {
        if (by_due) {
            FRAG(SD_LF_AFTER_DUE);
            args[nargs++] = I64(cur.key);
            args[nargs++] = I64(cur.key);
            args[nargs++] = I64(cur.id);
        }
        else {
            FRAG(SD_LF_AFTER_ID);
            args[nargs++] = I64(cur.id);
        }
    }
#undef FRAG
    sql = apr_pstrcat(p, sql, by_due ? sd_sql_list_order_due : sd_sql_list_order_id, NULL);
    key[klen++] = by_due ? 'D' : 'I';
    key[klen] = '\0';
    args[nargs++] = I64(q->limit + 1);    /* one more: is there a next page? */

    rv = sd_store_select_sql(&rows, db, key, sql, nargs, args, p);
    if (rv != APR_SUCCESS) return rv;
    out = apr_array_make(p, q->limit + 1, sizeof(sd_ticket_t *));
    for (i = 0; i < rows->nrows && i < q->limit; ++i) {
        sd_ticket_t *t = apr_palloc(p, sizeof(*t));
        sd_desk_ticket_from_row(t, rows->cell[i]);
        APR_ARRAY_PUSH(out, sd_ticket_t *) = t;
    }
    if (rows->nrows > q->limit && out->nelts) {
        const sd_ticket_t *last = APR_ARRAY_IDX(out, out->nelts - 1, sd_ticket_t *);
        cur.id = last->id;
        cur.key = by_due ? (last->resolution_due_at ? last->resolution_due_at : 253402300799LL)
                         : last->id;
        *next = sd_cursor_encode(&cur, bind, p);
    }
    *items = out;
    return APR_SUCCESS;
}
