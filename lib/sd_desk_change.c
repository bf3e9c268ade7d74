/* Changes to existing tickets: PATCH, comments, reopen, escalate, and the
 * background SLA scan. Every change goes through save(): one UPDATE with a
 * version check, one event per changed field, the tier stint kept right, an
 * outbox row where someone should hear of it. All inside one transaction. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>

#include "sd_desk.h"
#include "sd_kb.h"
#include "sd_json.h"
#include "sd_log.h"
#include "sd_private.h"
#include "sd_store_sql.h"
#include "sd_time.h"

#define I64(v) sd_store_i64((v), p)
#define OPT64(v) ((v) ? sd_store_i64((v), p) : NULL)

/* ---- PATCH input ------------------------------------------------------------ */

apr_status_t sd_desk_patch_from_json(sd_ticket_patch_t *pt, const json_t *body,
                                     const sd_desk_conf_t *c, sd_problem_t *prob,
                                     apr_pool_t *p)
{
    const sd_json_field_t fields[] = {
        { "status",      SD_JT_STRING, 0, 32 },
        { "priority",    SD_JT_STRING, 0, 32 },
        { "category",    SD_JT_STRING, 0, 64 },
        { "assignee",    SD_JT_STRING, SD_JF_NULLABLE, 256 },
        { "tier",        SD_JT_INT,    0, 0 },
        { "cc",          SD_JT_ARRAY,  0, c->limits.max_cc },
        { "description", SD_JT_TEXT,   0, c->limits.max_description },
    };
    const json_t *v;
    const char *s;
    json_t *out;
    apr_size_t i;

    memset(pt, 0, sizeof(*pt));
    sd_json_check(body, fields, sizeof(fields) / sizeof(fields[0]), "", prob);
    if ((s = sd_json_str(body, "status"))) {
        pt->has_status = 1;
        if ((pt->status = sd_status_from_str(s)) < 0)
            sd_problem_field(prob, "status", "is not one of the allowed values (see /meta)");
    }
    if ((s = sd_json_str(body, "priority"))) {
        pt->has_priority = 1;
        if ((pt->priority = sd_priority_from_str(s)) < 0)
            sd_problem_field(prob, "priority", "is not one of the allowed values (see /meta)");
    }
    if ((s = sd_json_str(body, "category"))) {
        pt->has_category = 1;
        pt->category = apr_pstrdup(p, s);
        if (!sd_desk_conf_has_category(c, s))
            sd_problem_field(prob, "category", "is not one of the configured categories");
    }
    if ((v = json_object_get(body, "assignee"))) {
        pt->has_assignee = 1;
        if (json_is_string(v) && sd_str_blank(json_string_value(v)))
            sd_problem_field(prob, "assignee", "must be a user id, or null to unassign");
        else if (json_is_string(v)) {
            /* surrounding blanks are typing, not part of a user id */
            const char *a = json_string_value(v), *e;
            while (*a == ' ' || *a == '\t') ++a;
            e = a + strlen(a);
            while (e > a && (e[-1] == ' ' || e[-1] == '\t')) --e;
            pt->assignee = apr_pstrmemdup(p, a, (apr_size_t)(e - a));
        }
    }
    if ((v = json_object_get(body, "tier")) && json_is_integer(v)) {
        pt->has_tier = 1;
        pt->tier = (int)json_integer_value(v);
        if (json_integer_value(v) < SD_TIER_MIN || json_integer_value(v) > SD_TIER_MAX)
            sd_problem_field(prob, "tier", "must be 1 to 4");
    }
    if ((v = json_object_get(body, "cc")) && json_is_array(v)) {
        const json_t *a;
        pt->has_cc = 1;
        out = sd_json_own(p, json_array());
        json_array_foreach(v, i, a) {
            if (!json_is_string(a) || !sd_ticket_email_ok(json_string_value(a)))
                sd_problem_field(prob, apr_psprintf(p, "cc[%lu]", (unsigned long)i),
                                 "is not an e-mail address");
            else
                json_array_append_new(out, json_string(json_string_value(a)));
        }
        pt->cc_json = sd_json_dump(out, p);
    }
    if ((s = sd_json_str(body, "description"))) {
        pt->has_description = 1;
        pt->description = apr_pstrdup(p, s);
        if (sd_str_blank(s)) sd_problem_field(prob, "description", "must not be blank");
    }
    if (sd_problem_has_errors(prob))
        return sd_problem_set(prob, SD_EINVALID, SD_PT_INVALID, "One or more fields are invalid.");
    return APR_SUCCESS;
}

int sd_desk_etag_parse(const char *if_match, char kind)
{
    const char *v;
    apr_int64_t n = 0;
    if (!if_match) return -1;
    while (*if_match == ' ' || *if_match == '\t') ++if_match;
    if (!strcmp(if_match, "*")) return -1;
    if (!strncmp(if_match, "W/", 2)) if_match += 2;
    /* ours: "<kind><id>-v<version>..." */
    v = strstr(if_match, "-v");
    if (if_match[0] != '"' || if_match[1] != kind || !v || v[2] == '0')
        return -2;                    /* never matches */
    /* Digits as written: atoi() wrapped "-v4294967297" round to version 1
     * (found by tests/fuzz/fuzz_query.c). */
    for (v += 2; *v >= '0' && *v <= '9'; ++v) {
        n = n * 10 + (*v - '0');
        if (n > 0x7fffffff) return -2;
    }
    return n > 0 ? (int)n : -2;
}

int sd_desk_etag_version(const char *if_match)
{
    return sd_desk_etag_parse(if_match, 't');
}

/* ---- the one writer ------------------------------------------------------------ */

typedef enum { STINT_KEEP = 0, STINT_NEW, STINT_END } stint_op_e;

typedef struct {
    const char *kind;         /* event kind */
    const char *field, *old_value, *new_value, *note;
    const char *notify;       /* outbox kind, or NULL */
} extra_event_t;

static apr_status_t add_event(apr_int64_t *pid, sd_db_t *db, const sd_ticket_t *t,
                              const char *actor, apr_int64_t now, const char *kind,
                              const char *field, const char *old_v, const char *new_v,
                              const char *note, apr_pool_t *p)
{
    const char *args[9] = { t->tenant, I64(t->id), I64(now), actor, kind, field, old_v, new_v,
                            note };
    sd_rows_t *rows;
    apr_status_t rv = sd_store_select(&rows, db, "sdesk_insert_event", 9, args, p);
    if (rv != APR_SUCCESS) return rv;
    if (rows->nrows != 1) return SD_EINTERNAL;
    *pid = sd_store_to_i64(rows->cell[0][0]);
    {
        sd_event_t ev = { *pid, now, actor, kind, field, old_v, new_v, note };
        sd_desk_note(db, t, &ev, p);
    }
    return APR_SUCCESS;
}

static apr_status_t add_outbox(sd_db_t *db, const sd_ticket_t *t, apr_int64_t event_id,
                               const char *kind, apr_int64_t now, apr_pool_t *p)
{
    const char *args[7] = {
        t->tenant, I64(t->id), I64(event_id), kind,
        apr_psprintf(p, "{\"ticket_id\":%" APR_INT64_T_FMT ",\"event_id\":%" APR_INT64_T_FMT "}",
                     t->id, event_id),
        I64(now), I64(now)
    };
    return sd_store_exec(NULL, db, "sdesk_insert_outbox", 7, args, p);
}

static int str_differs(const char *a, const char *b)
{
    if (!a || !b) return a != b;
    return strcmp(a, b) != 0;
}

static apr_status_t stint_insert(sd_db_t *db, const sd_ticket_t *t, apr_pool_t *p)
{
    const char *args[8] = { t->tenant, I64(t->id), I64(t->tier), sd_priority_str(t->priority),
                            t->category, I64(t->tier_started_at), OPT64(t->response_due_at),
                            OPT64(t->resolution_due_at) };
    return sd_store_exec(NULL, db, "sdesk_insert_stint", 8, args, p);
}

static apr_status_t stint_end(sd_db_t *db, const sd_ticket_t *t, apr_int64_t now,
                              const char *outcome, apr_pool_t *p)
{
    const char *args[4] = { I64(now), outcome, t->tenant, I64(t->id) };
    return sd_store_exec(NULL, db, "sdesk_end_stint", 4, args, p);
}

/* Write t (changed from old) with its events, stint and outbox rows. */
static apr_status_t save(sd_db_t *db, const char *actor, apr_int64_t now, const sd_ticket_t *old,
                         sd_ticket_t *t, stint_op_e stint, const char *outcome,
                         const extra_event_t *extra, int nextra, apr_pool_t *p)
{
    const char *args[22];
    apr_status_t rv;
    apr_int64_t ev;
    int n, i, done_before, done_now;

    t->updated_at = now;
    args[0] = sd_status_str(t->status);
    args[1] = sd_priority_str(t->priority);
    args[2] = t->category;
    args[3] = t->assignee;
    args[4] = I64(t->tier);
    args[5] = t->cc_json ? t->cc_json : "[]";
    args[6] = t->description;
    args[7] = I64(t->tier_started_at);
    args[8] = OPT64(t->response_due_at);
    args[9] = OPT64(t->resolution_due_at);
    args[10] = OPT64(t->responded_at);
    args[11] = OPT64(t->first_response_at);
    args[12] = OPT64(t->resolved_at);
    args[13] = OPT64(t->closed_at);
    args[14] = OPT64(t->pending_since);
    args[15] = I64(t->paused_seconds);
    args[16] = I64(t->sla_breached);
    args[17] = OPT64(t->known_issue_id);
    args[18] = I64(now);
    args[19] = t->tenant;
    args[20] = I64(t->id);
    args[21] = I64(old->version);
    if (APR_SUCCESS != (rv = sd_store_exec(&n, db, "sdesk_update_ticket", 22, args, p)))
        return rv;
    if (n != 1) return SD_ECONFLICT;          /* changed under us: the caller retries */
    t->version = old->version + 1;

#define FIELD_EVENT(name, o, nw, notify) do { \
        if (APR_SUCCESS != (rv = add_event(&ev, db, t, actor, now, name, name, o, nw, NULL, p))) \
            return rv; \
        if ((notify) && APR_SUCCESS != (rv = add_outbox(db, t, ev, notify, now, p))) return rv; \
    } while (0)
    if (old->status != t->status)
        FIELD_EVENT("status", sd_status_str(old->status), sd_status_str(t->status),
                    "ticket.status");
    if (old->priority != t->priority)
        FIELD_EVENT("priority", sd_priority_str(old->priority), sd_priority_str(t->priority),
                    NULL);
    if (str_differs(old->category, t->category))
        FIELD_EVENT("category", old->category, t->category, NULL);
    if (str_differs(old->assignee, t->assignee))
        FIELD_EVENT("assignee", old->assignee, t->assignee, t->assignee ? "ticket.assigned" : NULL);
    if (old->tier != t->tier && stint != STINT_NEW)
        FIELD_EVENT("tier", I64(old->tier), I64(t->tier), "ticket.tier");
    if (str_differs(old->cc_json, t->cc_json))
        FIELD_EVENT("cc", old->cc_json, t->cc_json, NULL);
    if (str_differs(old->description, t->description))
        FIELD_EVENT("description", NULL, NULL, NULL);   /* the text itself stays out of the trail */
#undef FIELD_EVENT
    for (i = 0; i < nextra; ++i) {
        rv = add_event(&ev, db, t, actor, now, extra[i].kind, extra[i].field, extra[i].old_value,
                       extra[i].new_value, extra[i].note, p);
        if (rv == APR_SUCCESS && extra[i].notify)
            rv = add_outbox(db, t, ev, extra[i].notify, now, p);
        if (rv != APR_SUCCESS) return rv;
    }

    /* The stint: the ticket's stay in its tier, for the SLA report. */
    done_before = old->status == SD_ST_RESOLVED || old->status == SD_ST_CLOSED;
    done_now = t->status == SD_ST_RESOLVED || t->status == SD_ST_CLOSED;
    if (stint == STINT_NEW) {
        if (!done_before && APR_SUCCESS != (rv = stint_end(db, old, now, outcome, p))) return rv;
        return stint_insert(db, t, p);
    }
    if (stint == STINT_END || (done_now && !done_before))
        return stint_end(db, t, now, outcome ? outcome : "resolved", p);
    {
        const char *sargs[8] = { sd_priority_str(t->priority), t->category,
                                 OPT64(t->response_due_at), OPT64(t->resolution_due_at),
                                 OPT64(t->responded_at), I64(t->sla_breached), t->tenant,
                                 I64(t->id) };
        return sd_store_exec(NULL, db, "sdesk_update_stint", 8, sargs, p);
    }
}

/* Load for change inside the transaction (FOR UPDATE on PostgreSQL). */
static apr_status_t load(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who, apr_int64_t id,
                         int if_match, sd_problem_t *prob, apr_pool_t *p)
{
    const char *args[2] = { who->user->tenant, I64(id) };
    sd_rows_t *rows;
    sd_ticket_t *t;
    apr_status_t rv = sd_store_select(&rows, db, "sdesk_get_ticket_for_update", 2, args, p);
    *pt = NULL;
    if (rv != APR_SUCCESS) return rv;
    if (rows->nrows != 1 || rows->ncols != SD_SQL_TICKET_NCOLS) goto not_found;
    t = apr_palloc(p, sizeof(*t));
    sd_desk_ticket_from_row(t, rows->cell[0]);
    if (!sd_desk_may_see(who, t)) goto not_found;
    if (if_match != -1 && if_match != t->version)
        return sd_problem_set(prob, SD_EPRECONDITION, SD_PT_PRECONDITION,
                              "The ticket has changed since you loaded it (If-Match). "
                              "Reload it and try again.");
    *pt = t;
    return APR_SUCCESS;
not_found:
    return sd_problem_set(prob, SD_ENOTFOUND, SD_PT_NOT_FOUND,
                          "There is no ticket %" APR_INT64_T_FMT " that you can see.", id);
}

/* Colleagues may read each other's tickets where the sysadmin allows it, but
 * only the reporter (or an agent) acts on one. */
static apr_status_t may_act(const sd_actor_t *who, const sd_ticket_t *t, sd_problem_t *prob)
{
    if (sd_actor_is_agent(who) || !strcmp(t->reporter, who->user->user)) return APR_SUCCESS;
    return sd_problem_set(prob, SD_EFORBIDDEN, SD_PT_FORBIDDEN,
                          "Only the reporter or a support agent can change this ticket.");
}

static sd_ticket_t *copy(const sd_ticket_t *t, apr_pool_t *p)
{
    sd_ticket_t *c = apr_palloc(p, sizeof(*c));
    *c = *t;
    return c;
}

/* After the transaction, the ticket as the caller may see it. */
static apr_status_t reload(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                           apr_int64_t id, sd_problem_t *prob, apr_pool_t *p)
{
    return sd_desk_ticket_get(pt, db, who, id, prob, p);
}

/* ---- PATCH ------------------------------------------------------------------------ */

typedef struct {
    const sd_actor_t *who;
    apr_int64_t id;
    int if_match;
    const sd_ticket_patch_t *in;
    const sd_user_t *assignee;
    sd_problem_t *prob;
} patch_t;

static apr_status_t patch_txn(void *baton, sd_db_t *db, apr_pool_t *p)
{
    patch_t *b = baton;
    const sd_ticket_patch_t *in = b->in;
    const sd_desk_conf_t *c = b->who->conf;
    apr_int64_t now = b->who->now;
    sd_ticket_t *old, *t;
    stint_op_e stint = STINT_KEEP;
    apr_status_t rv;

    if (APR_SUCCESS != (rv = load(&old, db, b->who, b->id, b->if_match, b->prob, p))) return rv;
    if (APR_SUCCESS != (rv = may_act(b->who, old, b->prob))) return rv;
    t = copy(old, p);
    if (!sd_actor_is_agent(b->who)) {
        if (old->status != SD_ST_NEW)
            return sd_problem_set(b->prob, SD_ECONFLICT, SD_PT_CONFLICT,
                                  "The ticket is being worked on; add a comment instead.");
        if (in->has_cc) t->cc_json = in->cc_json;
        if (in->has_description) t->description = in->description;
        return save(db, b->who->user->user, now, old, t, STINT_KEEP, NULL, NULL, 0, p);
    }
    if (in->has_status && in->status != old->status) {
        if (!sd_ticket_transition_ok(old->status, in->status))
            return sd_problem_set(b->prob, SD_ECONFLICT, SD_PT_CONFLICT,
                                  "A ticket cannot go from %s to %s%s.",
                                  sd_status_str(old->status), sd_status_str(in->status),
                                  (old->status >= SD_ST_RESOLVED && in->status < SD_ST_RESOLVED)
                                  ? " by an edit; reopen it with a reason" : "");
        sd_ticket_set_status(t, in->status, c, now);
    }
    if (in->has_priority) t->priority = in->priority;
    if (in->has_category) t->category = in->category;
    if (in->has_cc) t->cc_json = in->cc_json;
    if (in->has_description) t->description = in->description;
    if (in->has_tier && in->tier != old->tier) {
        t->tier = in->tier;
        t->assignee = NULL;                    /* the new tier's agents take it from here */
        sd_ticket_restart_clock(t, c, now);
        stint = STINT_NEW;
    }
    else if (t->priority != old->priority) {
        sd_ticket_recompute_dues(t, c);
    }
    if (in->has_assignee) {
        t->assignee = in->assignee;
        if (b->assignee && !(b->assignee->tiers & (1 << t->tier))) {
            sd_problem_field(b->prob, "assignee", "is not an agent of tier %d", t->tier);
            return sd_problem_set(b->prob, SD_EINVALID, SD_PT_INVALID,
                                  "The assignee must be an agent of the ticket's tier.");
        }
    }
    if (stint == STINT_NEW) {
        extra_event_t moved = { "tier", "tier", I64(old->tier), I64(t->tier), NULL, "ticket.tier" };
        return save(db, b->who->user->user, now, old, t, STINT_NEW, "moved", &moved, 1, p);
    }
    /* a PATCH that changes nothing keeps the version: no 412 for others */
    if (t->status == old->status && t->priority == old->priority
        && !str_differs(t->category, old->category) && !str_differs(t->assignee, old->assignee)
        && !str_differs(t->cc_json, old->cc_json)
        && !str_differs(t->description, old->description))
        return APR_SUCCESS;
    return save(db, b->who->user->user, now, old, t, STINT_KEEP, NULL, NULL, 0, p);
}

apr_status_t sd_desk_ticket_patch(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                                  apr_int64_t id, const sd_ticket_patch_t *in, int if_match,
                                  sd_problem_t *prob, apr_pool_t *p)
{
    patch_t b = { who, id, if_match, in, NULL, prob };
    sd_ticket_patch_t canon;
    apr_status_t rv;
    sd_user_t *a = NULL;

    *pt = NULL;
    if (!sd_actor_is_agent(who)) {
        if (in->has_status || in->has_priority || in->has_category || in->has_assignee
            || in->has_tier)
            return sd_problem_set(prob, SD_EFORBIDDEN, SD_PT_FORBIDDEN,
                                  "Only support agents change status, priority, category, "
                                  "assignee or tier; you may edit cc and description while "
                                  "the ticket is new.");
    }
    else if (in->has_assignee && in->assignee) {
        /* Looked up before the transaction: no directory call under a lock. */
        if (!who->lookup)
            return sd_problem_set(prob, SD_EUNAVAILABLE, SD_PT_DIR_DOWN,
                                  "The directory is not available for assignment.");
        rv = who->lookup(&a, who->lookup_baton, in->assignee, p);
        if (rv == SD_ENOUSER || (rv == APR_SUCCESS && (strcmp(a->tenant, who->user->tenant)
                                                       || !(a->roles & SD_ROLE_AGENT)))) {
            sd_problem_field(prob, "assignee", "is not a support agent of your organisation");
            return sd_problem_set(prob, SD_EINVALID, SD_PT_INVALID,
                                  "The assignee must be an agent of the ticket's tenant and tier.");
        }
        if (rv != APR_SUCCESS)
            return sd_problem_set(prob, SD_EUNAVAILABLE, SD_PT_DIR_DOWN,
                                  "The user directory cannot be reached right now.");
        b.assignee = a;
        canon = *in;                    /* store the directory's spelling */
        canon.assignee = a->user;
        b.in = &canon;
    }
    rv = sd_store_txn(db, patch_txn, &b, p);
    if (rv != APR_SUCCESS) return rv;
    return reload(pt, db, who, id, prob, p);
}

/* ---- comments ---------------------------------------------------------------------- */

/* The outbox kind of a public comment: an agent's reply is mailed to the
 * reporter; the reporter's own words are not mailed back to them. */
static const char *comment_notify(const sd_actor_t *who)
{
    return sd_actor_is_agent(who) ? "ticket.reply" : "ticket.comment";
}

typedef struct {
    const sd_actor_t *who;
    apr_int64_t id;
    const char *body;
    int internal;
    apr_int64_t comment_id;
    sd_problem_t *prob;
    sd_ticket_t *saved;          /* the ticket as committed */
} comment_t;

static apr_status_t comment_txn(void *baton, sd_db_t *db, apr_pool_t *p)
{
    comment_t *b = baton;
    const sd_user_t *u = b->who->user;
    apr_int64_t now = b->who->now;
    sd_ticket_t *old, *t;
    sd_rows_t *rows;
    apr_status_t rv;
    int agent = sd_actor_is_agent(b->who);
    extra_event_t ev = { "comment", b->internal ? "internal" : "public", NULL, NULL, NULL,
                         b->internal ? NULL : comment_notify(b->who) };

    b->saved = NULL;                 /* a retried attempt's pool was cleared */
    if (APR_SUCCESS != (rv = load(&old, db, b->who, b->id, -1, b->prob, p))) return rv;
    if (APR_SUCCESS != (rv = may_act(b->who, old, b->prob))) return rv;
    if (old->status == SD_ST_CLOSED)
        return sd_problem_set(b->prob, SD_ECONFLICT, SD_PT_CONFLICT,
                              "The ticket is closed; reopen it with a reason to continue.");
    {
        const char *args[7] = { u->tenant, I64(old->id), u->user, u->name ? u->name : u->user,
                                b->body, b->internal ? "1" : "0", I64(now) };
        rv = sd_store_select(&rows, db, "sdesk_insert_comment", 7, args, p);
        if (rv != APR_SUCCESS) return rv;
        if (rows->nrows != 1) return SD_EINTERNAL;
        b->comment_id = sd_store_to_i64(rows->cell[0][0]);
    }
    t = copy(old, p);
    if (agent && !b->internal) {
        if (!t->first_response_at) t->first_response_at = now;
        if (!t->responded_at) t->responded_at = now;
    }
    else if (!agent && old->status == SD_ST_PENDING) {
        sd_ticket_set_status(t, SD_ST_OPEN, b->who->conf, now);   /* the reporter answered */
    }
    ev.new_value = I64(b->comment_id);
    rv = save(db, u->user, now, old, t, STINT_KEEP, NULL, &ev, 1, p);
    if (rv == APR_SUCCESS) b->saved = t;
    return rv;
}

apr_status_t sd_desk_comment_add(sd_ticket_t **pt, sd_comment_t **pc, sd_db_t *db,
                                 const sd_actor_t *who, apr_int64_t id, const char *body,
                                 int internal, sd_problem_t *prob, apr_pool_t *p)
{
    comment_t b = { who, id, body, internal, 0, prob, NULL };
    sd_comment_t *c;
    apr_status_t rv;

    *pt = NULL;
    *pc = NULL;
    if (internal && !sd_actor_is_agent(who))
        return sd_problem_set(prob, SD_EFORBIDDEN, SD_PT_FORBIDDEN,
                              "Internal comments are for support agents.");
    rv = sd_store_txn(db, comment_txn, &b, p);
    if (rv != APR_SUCCESS) return rv;
    if (!b.saved || !b.comment_id) return SD_EINTERNAL;
    /* The ticket as committed and the comment as written: reading the whole
     * ticket back (every comment and event) made each comment cost O(the
     * ticket's history), and a busy ticket's requests ever larger (issue 8). */
    c = apr_pcalloc(p, sizeof(*c));
    c->id = b.comment_id;
    c->author = who->user->user;
    c->author_name = who->user->name ? who->user->name : who->user->user;
    c->body = body;
    c->internal = internal ? 1 : 0;
    c->created_at = who->now;
    *pt = b.saved;
    *pc = c;
    return APR_SUCCESS;
}

/* ---- reopen and escalate ---------------------------------------------------------- */

typedef struct {
    const sd_actor_t *who;
    apr_int64_t id;
    int if_match;
    const char *text;
    sd_problem_t *prob;
} action_t;

static apr_status_t insert_comment(sd_db_t *db, const sd_actor_t *who, const sd_ticket_t *t,
                                   const char *body, int internal, apr_pool_t *p)
{
    const sd_user_t *u = who->user;
    const char *args[7] = { u->tenant, I64(t->id), u->user, u->name ? u->name : u->user, body,
                            internal ? "1" : "0", I64(who->now) };
    sd_rows_t *rows;
    return sd_store_select(&rows, db, "sdesk_insert_comment", 7, args, p);
}

static apr_status_t reopen_txn(void *baton, sd_db_t *db, apr_pool_t *p)
{
    action_t *b = baton;
    sd_ticket_t *old, *t;
    apr_status_t rv;
    extra_event_t ev = { "reopened", "status", NULL, "open", b->text, "ticket.reopened" };

    if (APR_SUCCESS != (rv = load(&old, db, b->who, b->id, b->if_match, b->prob, p))) return rv;
    if (APR_SUCCESS != (rv = may_act(b->who, old, b->prob))) return rv;
    if (old->status != SD_ST_RESOLVED && old->status != SD_ST_CLOSED)
        return sd_problem_set(b->prob, SD_ECONFLICT, SD_PT_CONFLICT,
                              "Only a resolved or closed ticket can be reopened; this one is %s.",
                              sd_status_str(old->status));
    t = copy(old, p);
    ev.old_value = sd_status_str(old->status);
    t->status = SD_ST_OPEN;          /* directly: no "status" field event, "reopened" says it */
    t->resolved_at = 0;
    t->closed_at = 0;
    sd_ticket_restart_clock(t, b->who->conf, b->who->now);
    if (APR_SUCCESS != (rv = insert_comment(db, b->who, t, b->text, 0, p))) return rv;
    {
        /* save() records status changes as "status" events: mark the old
         * status equal so only "reopened" is written, then write the new. */
        sd_ticket_t *o2 = copy(old, p);
        o2->status = SD_ST_OPEN;
        rv = save(db, b->who->user->user, b->who->now, o2, t, STINT_NEW, "resolved", &ev, 1, p);
    }
    return rv;
}

apr_status_t sd_desk_ticket_reopen(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                                   apr_int64_t id, const char *reason, int if_match,
                                   sd_problem_t *prob, apr_pool_t *p)
{
    action_t b = { who, id, if_match, reason, prob };
    apr_status_t rv;
    *pt = NULL;
    rv = sd_store_txn(db, reopen_txn, &b, p);
    return rv == APR_SUCCESS ? reload(pt, db, who, id, prob, p) : rv;
}

static apr_status_t escalate_txn(void *baton, sd_db_t *db, apr_pool_t *p)
{
    action_t *b = baton;
    sd_ticket_t *old, *t;
    apr_status_t rv;
    extra_event_t ev = { "escalated", "tier", NULL, NULL, b->text, "ticket.escalated" };

    if (APR_SUCCESS != (rv = load(&old, db, b->who, b->id, b->if_match, b->prob, p))) return rv;
    if (old->status == SD_ST_RESOLVED || old->status == SD_ST_CLOSED)
        return sd_problem_set(b->prob, SD_ECONFLICT, SD_PT_CONFLICT,
                              "A %s ticket is not escalated; reopen it first.",
                              sd_status_str(old->status));
    if (old->tier >= SD_TIER_MAX)
        return sd_problem_set(b->prob, SD_ECONFLICT, SD_PT_CONFLICT,
                              "The ticket is already at tier %d, the last one.", SD_TIER_MAX);
    t = copy(old, p);
    t->tier = old->tier + 1;
    t->assignee = NULL;
    sd_ticket_restart_clock(t, b->who->conf, b->who->now);
    ev.old_value = I64(old->tier);
    ev.new_value = I64(t->tier);
    if (APR_SUCCESS != (rv = insert_comment(db, b->who, t, b->text, 1, p))) return rv;
    return save(db, b->who->user->user, b->who->now, old, t, STINT_NEW, "escalated", &ev, 1, p);
}

apr_status_t sd_desk_ticket_escalate(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                                     apr_int64_t id, const char *note, int if_match,
                                     sd_problem_t *prob, apr_pool_t *p)
{
    action_t b = { who, id, if_match, note, prob };
    apr_status_t rv;
    *pt = NULL;
    if (!sd_actor_is_agent(who))
        return sd_problem_set(prob, SD_EFORBIDDEN, SD_PT_FORBIDDEN,
                              "Escalation is for support agents.");
    rv = sd_store_txn(db, escalate_txn, &b, p);
    return rv == APR_SUCCESS ? reload(pt, db, who, id, prob, p) : rv;
}

/* ---- background scan ---------------------------------------------------------------- */

typedef struct {
    const sd_desk_conf_t *conf;
    const sd_ticket_t *row;      /* as scanned; re-read under the lock */
    apr_int64_t now;
    int did;
} scan_t;

static apr_status_t breach_txn(void *baton, sd_db_t *db, apr_pool_t *p)
{
    scan_t *b = baton;
    sd_user_t sys = { "system", NULL, "system", NULL, b->row->tenant, SD_ROLE_ADMIN, 0 };
    sd_actor_t who = { &sys, b->conf, b->now, NULL, NULL };
    sd_ticket_t *old, *t;
    extra_event_t ev[2];
    sd_problem_t prob;
    apr_status_t rv;
    int n = 0;

    sd_problem_init(&prob, p);
    b->did = 0;
    if (APR_SUCCESS != (rv = load(&old, db, &who, b->row->id, -1, &prob, p)))
        return rv == SD_ENOTFOUND ? APR_SUCCESS : rv;
    t = copy(old, p);
    if (!t->responded_at && t->response_due_at && t->response_due_at < b->now
        && !(t->sla_breached & SD_SLA_BREACH_RESPONSE) && t->status < SD_ST_RESOLVED) {
        extra_event_t e = { "sla-breached", "response", NULL, NULL, NULL, "ticket.sla_breached" };
        e.new_value = sd_time_rfc3339(sd_time_from_sec(t->response_due_at), p);
        ev[n++] = e;
        t->sla_breached |= SD_SLA_BREACH_RESPONSE;
    }
    if (t->resolution_due_at && t->resolution_due_at < b->now && t->status != SD_ST_PENDING
        && !(t->sla_breached & SD_SLA_BREACH_RESOLUTION) && t->status < SD_ST_RESOLVED) {
        extra_event_t e = { "sla-breached", "resolution", NULL, NULL, NULL, "ticket.sla_breached" };
        e.new_value = sd_time_rfc3339(sd_time_from_sec(t->resolution_due_at), p);
        ev[n++] = e;
        t->sla_breached |= SD_SLA_BREACH_RESOLUTION;
    }
    if (!n) return APR_SUCCESS;               /* another server was first */
    b->did = n;
    return save(db, "system", b->now, old, t, STINT_KEEP, NULL, ev, n, p);
}

static apr_status_t close_txn(void *baton, sd_db_t *db, apr_pool_t *p)
{
    scan_t *b = baton;
    sd_user_t sys = { "system", NULL, "system", NULL, b->row->tenant, SD_ROLE_ADMIN, 0 };
    sd_actor_t who = { &sys, b->conf, b->now, NULL, NULL };
    sd_ticket_t *old, *t;
    sd_problem_t prob;
    apr_status_t rv;

    sd_problem_init(&prob, p);
    b->did = 0;
    if (APR_SUCCESS != (rv = load(&old, db, &who, b->row->id, -1, &prob, p)))
        return rv == SD_ENOTFOUND ? APR_SUCCESS : rv;
    if (old->status != SD_ST_RESOLVED) return APR_SUCCESS;
    t = copy(old, p);
    sd_ticket_set_status(t, SD_ST_CLOSED, b->conf, b->now);
    b->did = 1;
    return save(db, "system", b->now, old, t, STINT_KEEP, NULL, NULL, 0, p);
}

static apr_status_t scan(int *count, sd_db_t *db, const char *label, int nargs,
                         const char **args, sd_store_txn_fn *fn, const sd_desk_conf_t *conf,
                         apr_int64_t now, apr_pool_t *p)
{
    sd_rows_t *rows;
    apr_pool_t *each;
    apr_status_t rv;
    int i;

    *count = 0;
    if (APR_SUCCESS != (rv = sd_store_select(&rows, db, label, nargs, args, p))) return rv;
    apr_pool_create(&each, p);
    for (i = 0; i < rows->nrows && rv == APR_SUCCESS; ++i) {
        sd_ticket_t t;
        scan_t b;
        apr_pool_clear(each);
        sd_desk_ticket_from_row(&t, rows->cell[i]);
        b.conf = conf;
        b.row = &t;
        b.now = now;
        b.did = 0;
        rv = sd_store_txn(db, fn, &b, each);
        if (rv == SD_ECONFLICT) rv = APR_SUCCESS;     /* another server changed it first */
        if (rv == APR_SUCCESS && b.did) ++*count;
    }
    apr_pool_destroy(each);
    return rv;
}

apr_status_t sd_desk_sla_scan(int *breaches, int *closed, sd_db_t *db,
                              const sd_desk_conf_t *conf, apr_int64_t now, apr_pool_t *p)
{
    const char *args[2] = { I64(now), I64(now) };
    apr_status_t rv;

    *breaches = *closed = 0;
    rv = scan(breaches, db, "sdesk_scan_breaches", 2, args, breach_txn, conf, now, p);
    if (rv == APR_SUCCESS && conf->autoclose_days > 0) {
        const char *cargs[1] = { I64(now - (apr_int64_t)conf->autoclose_days * 86400) };
        rv = scan(closed, db, "sdesk_scan_autoclose", 1, cargs, close_txn, conf, now, p);
    }
    if (*breaches || *closed) {
        sd_log(SD_LOG_MARK, SD_LOG_INFO, APR_SUCCESS, p,
               SDLOGNO(00101) "SLA scan: %d breach(es) recorded, %d ticket(s) closed",
               *breaches, *closed);
    }
    return rv;
}

/* ---- known issues: link and resolve ------------------------------------------ */

typedef struct {
    const sd_actor_t *who;
    apr_int64_t ticket_id, ki_id;       /* ki_id 0: unlink */
    sd_problem_t *prob;
} link_t;

static apr_status_t link_txn(void *baton, sd_db_t *db, apr_pool_t *p)
{
    link_t *b = baton;
    sd_ticket_t *old, *t;
    sd_rows_t *rows;
    apr_status_t rv;
    extra_event_t ev = { "linked", "known_issue", NULL, NULL, NULL, NULL };

    if (APR_SUCCESS != (rv = load(&old, db, b->who, b->ticket_id, -1, b->prob, p))) return rv;
    if (APR_SUCCESS != (rv = may_act(b->who, old, b->prob))) return rv;
    if (old->known_issue_id == b->ki_id) return APR_SUCCESS;        /* already so */
    if (b->ki_id) {
        const char *args[2] = { I64(b->ki_id), old->tenant };
        sd_kb_issue_t ki;
        rv = sd_store_select(&rows, db, "sdesk_get_ki_for_update", 2, args, p);
        if (rv != APR_SUCCESS) return rv;
        if (rows->nrows != 1) {
            sd_problem_field(b->prob, "known_issue_id", "is not a known issue you can see");
            return sd_problem_set(b->prob, SD_EINVALID, SD_PT_INVALID,
                                  "There is no known issue %" APR_INT64_T_FMT " for this ticket.",
                                  b->ki_id);
        }
        sd_kb_from_row(&ki, rows->cell[0], rows->ncols);
        if (ki.status == SD_KI_RESOLVED)
            return sd_problem_set(b->prob, SD_ECONFLICT, SD_PT_CONFLICT,
                                  "That known issue is resolved; if the problem is back, "
                                  "file the ticket on its own.");
        if (old->known_issue_id)
            return sd_problem_set(b->prob, SD_ECONFLICT, SD_PT_CONFLICT,
                                  "The ticket is linked to known issue %" APR_INT64_T_FMT
                                  " already; unlink it first.", old->known_issue_id);
        if (!sd_actor_is_agent(b->who) && old->status == SD_ST_CLOSED)
            return sd_problem_set(b->prob, SD_ECONFLICT, SD_PT_CONFLICT,
                                  "The ticket is closed.");
    }
    else if (!sd_actor_is_agent(b->who)) {
        return sd_problem_set(b->prob, SD_EFORBIDDEN, SD_PT_FORBIDDEN,
                              "Only support agents unlink a ticket from a known issue.");
    }
    t = copy(old, p);
    t->known_issue_id = b->ki_id;
    ev.old_value = old->known_issue_id ? I64(old->known_issue_id) : NULL;
    ev.new_value = b->ki_id ? I64(b->ki_id) : NULL;
    if (!b->ki_id) ev.kind = "unlinked";
    return save(db, b->who->user->user, b->who->now, old, t, STINT_KEEP, NULL, &ev, 1, p);
}

apr_status_t sd_desk_ticket_link(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                                 apr_int64_t ticket_id, apr_int64_t ki_id, sd_problem_t *prob,
                                 apr_pool_t *p)
{
    link_t b = { who, ticket_id, ki_id, prob };
    apr_status_t rv;
    *pt = NULL;
    rv = sd_store_txn(db, link_txn, &b, p);
    return rv == APR_SUCCESS ? reload(pt, db, who, ticket_id, prob, p) : rv;
}

typedef struct {
    const sd_actor_t *who;
    apr_int64_t id;
    int if_match;
    const sd_kb_input_t *in;
    int resolved;
    sd_problem_t *prob;
} kb_patch_t;

/* Resolve every active ticket linked to ki, each written under its own
 * tenant, with the resolution as a public comment. */
static apr_status_t resolve_linked(int *count, sd_db_t *db, const sd_actor_t *who,
                                   const sd_kb_issue_t *ki, apr_pool_t *p)
{
    const char *args[1] = { I64(ki->id) };
    const char *text = ki->resolution && *ki->resolution ? ki->resolution
                     : apr_psprintf(p, "Resolved with known issue %" APR_INT64_T_FMT ": %s",
                                    ki->id, ki->title);
    sd_rows_t *rows;
    apr_status_t rv;
    int i;

    *count = 0;
    if (APR_SUCCESS != (rv = sd_store_select(&rows, db, "sdesk_linked_active_tickets", 1, args, p)))
        return rv;
    for (i = 0; i < rows->nrows; ++i) {
        sd_ticket_t old, *t;
        extra_event_t ev = { "resolved-with-known-issue", "known_issue", NULL, NULL, NULL, NULL };
        const char *cargs[7];
        sd_rows_t *crows;
        sd_desk_ticket_from_row(&old, rows->cell[i]);
        cargs[0] = old.tenant;
        cargs[1] = I64(old.id);
        cargs[2] = who->user->user;
        cargs[3] = who->user->name ? who->user->name : who->user->user;
        cargs[4] = text;
        cargs[5] = "0";
        cargs[6] = I64(who->now);
        if (APR_SUCCESS != (rv = sd_store_select(&crows, db, "sdesk_insert_comment", 7, cargs, p)))
            return rv;
        t = copy(&old, p);
        sd_ticket_set_status(t, SD_ST_RESOLVED, who->conf, who->now);
        ev.new_value = I64(ki->id);
        rv = save(db, who->user->user, who->now, &old, t, STINT_KEEP, NULL, &ev, 1, p);
        if (rv != APR_SUCCESS) return rv;
        ++*count;
    }
    return APR_SUCCESS;
}

static apr_status_t kb_patch_txn(void *baton, sd_db_t *db, apr_pool_t *p)
{
    kb_patch_t *b = baton;
    const sd_kb_input_t *in = b->in;
    const char *args[2] = { I64(b->id), b->who->user->tenant };
    sd_kb_issue_t ki;
    sd_rows_t *rows;
    apr_status_t rv;
    int n, was;

    b->resolved = 0;
    if (APR_SUCCESS != (rv = sd_store_select(&rows, db, "sdesk_get_ki_for_update", 2, args, p)))
        return rv;
    if (rows->nrows != 1)
        return sd_problem_set(b->prob, SD_ENOTFOUND, SD_PT_NOT_FOUND,
                              "There is no known issue %" APR_INT64_T_FMT " that you can see.",
                              b->id);
    sd_kb_from_row(&ki, rows->cell[0], rows->ncols);
    if (!*ki.tenant && !(b->who->user->roles & SD_ROLE_ADMIN))
        return sd_problem_set(b->prob, SD_EFORBIDDEN, SD_PT_FORBIDDEN,
                              "Global known issues are maintained by administrators.");
    if (b->if_match != -1 && b->if_match != ki.version)
        return sd_problem_set(b->prob, SD_EPRECONDITION, SD_PT_PRECONDITION,
                              "The known issue has changed since you loaded it (If-Match).");
    was = ki.status;
    if (in->has_title) ki.title = in->title;
    if (in->has_symptoms) ki.symptoms = in->symptoms;
    if (in->has_workaround) ki.workaround = in->workaround;
    if (in->has_resolution) ki.resolution = in->resolution;
    if (in->has_services) ki.services_json = in->services_json;
    if (in->has_categories) ki.categories_json = in->categories_json;
    if (in->has_status) ki.status = in->status;
    if (ki.status == SD_KI_RESOLVED && was != SD_KI_RESOLVED) ki.resolved_at = b->who->now;
    if (ki.status != SD_KI_RESOLVED) ki.resolved_at = 0;
    {
        const char *u[12] = { ki.title, ki.symptoms, ki.workaround, ki.resolution,
                              sd_kb_status_str(ki.status), ki.services_json, ki.categories_json,
                              I64(b->who->now), ki.resolved_at ? I64(ki.resolved_at) : NULL,
                              I64(ki.id), ki.tenant, I64(ki.version) };
        if (APR_SUCCESS != (rv = sd_store_exec(&n, db, "sdesk_update_ki", 12, u, p))) return rv;
        if (n != 1) return SD_ECONFLICT;
    }
    if (ki.status == SD_KI_RESOLVED && was != SD_KI_RESOLVED) {
        rv = resolve_linked(&b->resolved, db, b->who, &ki, p);
        if (rv == APR_SUCCESS && sd_store_noting(db)) {
            sd_change_t *c = apr_pcalloc(p, sizeof(*c));
            c->event.at = b->who->now;
            c->event.actor = b->who->user->user;
            c->event.kind = SD_CHANGE_KI_RESOLVED;
            c->event.field = "status";
            c->event.old_value = sd_kb_status_str(was);
            c->event.new_value = sd_kb_status_str(SD_KI_RESOLVED);
            c->ki_id = ki.id;
            c->ki_tenant = ki.tenant;
            c->ki_title = ki.title;
            c->ki_resolved = b->resolved;
            sd_store_note(db, c);
        }
        return rv;
    }
    return APR_SUCCESS;
}

apr_status_t sd_kb_patch(sd_kb_issue_t **pki, int *resolved, sd_db_t *db, const sd_actor_t *who,
                         apr_int64_t id, const sd_kb_input_t *in, int if_match,
                         sd_problem_t *prob, apr_pool_t *p)
{
    kb_patch_t b = { who, id, if_match, in, 0, prob };
    apr_status_t rv;
    *pki = NULL;
    *resolved = 0;
    if (!sd_actor_is_agent(who))
        return sd_problem_set(prob, SD_EFORBIDDEN, SD_PT_FORBIDDEN,
                              "Known issues are maintained by support agents.");
    rv = sd_store_txn(db, kb_patch_txn, &b, p);
    if (rv != APR_SUCCESS) return rv;
    *resolved = b.resolved;
    if (b.resolved) {
        sd_log(SD_LOG_MARK, SD_LOG_INFO, APR_SUCCESS, p,
               SDLOGNO(00111) "known issue %" APR_INT64_T_FMT " resolved by %s: %d linked "
               "ticket(s) resolved", id, who->user->user, b.resolved);
    }
    return sd_kb_get(pki, db, who, id, prob, p);
}

/* ---- attachments ------------------------------------------------------------- */

/* Bytes per stored chunk: small enough that the database driver's own copy
 * of one row stays a fraction of the file. */
#define SD_ATTACH_CHUNK (256 * 1024)

typedef struct {
    const sd_actor_t *who;
    apr_int64_t ticket_id;
    const char *filename, *media_type, *data, *sha256, *comment;
    apr_size_t len;
    sd_attachment_meta_t *meta;
    int existed;
    sd_problem_t *prob;
} attach_t;

static void meta_from_row(sd_attachment_meta_t *a, const char **c)
{
    a->id = sd_store_to_i64(c[0]);
    a->filename = c[1];
    a->media_type = c[2];
    a->size = sd_store_to_i64(c[3]);
    a->created_at = sd_store_to_i64(c[4]);
    a->sha256 = c[5];
}

static apr_status_t attach_txn(void *baton, sd_db_t *db, apr_pool_t *p)
{
    attach_t *b = baton;
    const sd_desk_conf_t *c = b->who->conf;
    const sd_user_t *u = b->who->user;
    sd_ticket_t *old, *t;
    sd_rows_t *rows;
    apr_status_t rv;
    apr_int64_t comment_id = 0;
    extra_event_t ev = { "attachment", "attachments", NULL, NULL, NULL, NULL };

    b->existed = 0;
    if (APR_SUCCESS != (rv = load(&old, db, b->who, b->ticket_id, -1, b->prob, p))) return rv;
    if (APR_SUCCESS != (rv = may_act(b->who, old, b->prob))) return rv;
    if (old->status == SD_ST_CLOSED)
        return sd_problem_set(b->prob, SD_ECONFLICT, SD_PT_CONFLICT,
                              "The ticket is closed; reopen it with a reason to add files.");
    if (b->comment) {
        /* the comment counts even when the bytes are there already */
        const char *cargs[7] = { u->tenant, I64(old->id), u->user, u->name ? u->name : u->user,
                                 b->comment, "0", I64(b->who->now) };
        if (APR_SUCCESS != (rv = sd_store_select(&rows, db, "sdesk_insert_comment", 7, cargs, p)))
            return rv;
        comment_id = rows->nrows ? sd_store_to_i64(rows->cell[0][0]) : 0;
    }
    {
        const char *args[3] = { old->tenant, I64(old->id), b->sha256 };
        rv = sd_store_select(&rows, db, "sdesk_attachment_by_sha", 3, args, p);
        if (rv != APR_SUCCESS) return rv;
        if (rows->nrows == 1) {                /* the same bytes are stored once */
            b->meta = apr_pcalloc(p, sizeof(*b->meta));
            meta_from_row(b->meta, rows->cell[0]);
            b->existed = 1;
            if (!comment_id) return APR_SUCCESS;
            t = copy(old, p);
            ev.kind = "comment";
            ev.field = "public";
            ev.new_value = I64(comment_id);
            ev.notify = comment_notify(b->who);
            return save(db, u->user, b->who->now, old, t, STINT_KEEP, NULL, &ev, 1, p);
        }
        rv = sd_store_select(&rows, db, "sdesk_attachment_stats", 2, args, p);
        if (rv != APR_SUCCESS) return rv;
        if (rows->nrows == 1 && sd_store_to_i64(rows->cell[0][0]) >= c->max_attachments)
            return sd_problem_set(b->prob, SD_ETOOBIG, SD_PT_TOO_BIG,
                                  "The ticket has %d attachments already, the most allowed.",
                                  c->max_attachments);
        if (rows->nrows == 1
            && sd_store_to_i64(rows->cell[0][1]) + (apr_int64_t)b->len > c->max_attachments_total)
            return sd_problem_set(b->prob, SD_ETOOBIG, SD_PT_TOO_BIG,
                                  "The ticket's attachments would exceed %" APR_INT64_T_FMT
                                  " bytes in all.", c->max_attachments_total);
    }
    {
        const char *args[9];
        int n = 0;
        args[n++] = old->tenant;
        args[n++] = I64(old->id);
        if (comment_id) args[n++] = I64(comment_id);
        args[n++] = b->filename;
        args[n++] = b->media_type;
        args[n++] = sd_store_i64((apr_int64_t)b->len, p);
        args[n++] = b->sha256;
        args[n++] = u->user;
        args[n++] = I64(b->who->now);
        /* the row holds no bytes itself: they go in chunks below */
        rv = sd_store_select_blob_arg(&rows, db, comment_id ? "sdesk_insert_attachment_comment"
                                                           : "sdesk_insert_attachment",
                                      n, args, "", 0, p);
        if (rv != APR_SUCCESS) return rv;
        if (rows->nrows != 1) return SD_EINTERNAL;
        {
            apr_int64_t aid = sd_store_to_i64(rows->cell[0][0]);
            apr_size_t off;
            int seq = 0;
            apr_pool_t *each;
            apr_pool_create(&each, p);
            for (off = 0; off < b->len && rv == APR_SUCCESS; off += SD_ATTACH_CHUNK, ++seq) {
                const char *cargs[2];
                sd_rows_t *crows;
                apr_size_t n2 = b->len - off < SD_ATTACH_CHUNK ? b->len - off : SD_ATTACH_CHUNK;
                apr_pool_clear(each);
                cargs[0] = sd_store_i64(aid, each);
                cargs[1] = sd_store_i64(seq, each);
                rv = sd_store_select_blob_arg(&crows, db, "sdesk_insert_chunk", 2, cargs,
                                              b->data + off, n2, each);
            }
            apr_pool_destroy(each);
            if (rv != APR_SUCCESS) return rv;
        }
        b->meta = apr_pcalloc(p, sizeof(*b->meta));
        b->meta->id = sd_store_to_i64(rows->cell[0][0]);
        b->meta->filename = b->filename;
        b->meta->media_type = b->media_type;
        b->meta->size = (apr_int64_t)b->len;
        b->meta->created_at = b->who->now;
        b->meta->sha256 = b->sha256;
    }
    t = copy(old, p);
    ev.new_value = I64(b->meta->id);
    ev.note = b->filename;
    return save(db, u->user, b->who->now, old, t, STINT_KEEP, NULL, &ev, 1, p);
}

apr_status_t sd_desk_attachment_add(sd_attachment_meta_t **pa, int *existed, sd_db_t *db,
                                    const sd_actor_t *who, apr_int64_t ticket_id,
                                    const char *filename, const char *media_type,
                                    const char *data, apr_size_t len, const char *sha256,
                                    const char *comment, sd_problem_t *prob, apr_pool_t *p)
{
    attach_t b;
    apr_status_t rv;
    memset(&b, 0, sizeof(b));
    b.who = who;
    b.ticket_id = ticket_id;
    b.filename = filename;
    b.media_type = media_type;
    b.data = data;
    b.len = len;
    b.sha256 = sha256;
    b.comment = comment;
    b.prob = prob;
    *pa = NULL;
    *existed = 0;
    if ((apr_int64_t)len > who->conf->max_attachment)
        return sd_problem_set(prob, SD_ETOOBIG, SD_PT_TOO_BIG,
                              "The file is larger than %" APR_INT64_T_FMT " bytes.",
                              who->conf->max_attachment);
    rv = sd_store_txn(db, attach_txn, &b, p);
    if (rv != APR_SUCCESS) return rv;
    *pa = b.meta;
    *existed = b.existed;
    return APR_SUCCESS;
}

apr_status_t sd_desk_attachment_get(sd_attachment_meta_t **pa, const char **data,
                                    apr_size_t *len, sd_db_t *db, const sd_actor_t *who,
                                    apr_int64_t ticket_id, apr_int64_t aid, sd_problem_t *prob,
                                    apr_pool_t *p)
{
    sd_ticket_t *t;
    sd_rows_t *rows;
    sd_attachment_meta_t *a;
    const char *args[3];
    apr_status_t rv;

    *pa = NULL;
    if (data) *data = NULL;
    /* the ticket first: visibility rules are the ticket's */
    rv = sd_desk_ticket_get(&t, db, who, ticket_id, prob, p);
    if (rv != APR_SUCCESS) return rv;
    args[0] = t->tenant;
    args[1] = I64(t->id);
    args[2] = I64(aid);
    if (APR_SUCCESS != (rv = sd_store_select(&rows, db, "sdesk_attachment_meta", 3, args, p)))
        return rv;
    if (rows->nrows != 1)
        return sd_problem_set(prob, SD_ENOTFOUND, SD_PT_NOT_FOUND,
                              "There is no attachment %" APR_INT64_T_FMT " on this ticket.", aid);
    a = apr_pcalloc(p, sizeof(*a));
    meta_from_row(a, rows->cell[0]);
    if (data) {
        /* chunks (schema 4 on); a file stored before that is in the row */
        const char *cargs[2] = { I64(a->id), NULL };
        apr_int64_t nchunks, i, off = 0;
        if (APR_SUCCESS != (rv = sd_store_select(&rows, db, "sdesk_chunk_count", 1, cargs, p)))
            return rv;
        nchunks = rows->nrows ? sd_store_to_i64(rows->cell[0][0]) : 0;
        if (!nchunks) {
            rv = sd_store_get_blob(data, len, db, "sdesk_attachment_data", 3, args, 0, p);
        }
        else {
            char *buf = apr_palloc(p, (apr_size_t)a->size + 1);
            for (i = 0; i < nchunks && rv == APR_SUCCESS; ++i) {
                const char *chunk;
                apr_size_t clen;
                cargs[1] = I64(i);
                rv = sd_store_get_blob(&chunk, &clen, db, "sdesk_chunk_data", 2, cargs, 0, p);
                if (rv == APR_SUCCESS && off + (apr_int64_t)clen > a->size) rv = SD_EINTERNAL;
                if (rv == APR_SUCCESS) memcpy(buf + off, chunk, clen);
                off += (apr_int64_t)clen;
            }
            *data = buf;
            *len = (apr_size_t)off;
        }
        if (rv == SD_ENOTFOUND)
            return sd_problem_set(prob, SD_ENOTFOUND, SD_PT_NOT_FOUND, "The attachment is gone.");
        if (rv != APR_SUCCESS) return rv;
    }
    *pa = a;
    return APR_SUCCESS;
}
