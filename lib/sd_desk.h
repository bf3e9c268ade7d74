/* One function per user action: check the role, validate, store, record the
 * event, queue the outbox row, commit. Tenant and visibility rules live here
 * (and in every WHERE of sd_store_sql.c): a ticket outside what the user may
 * see is SD_ENOTFOUND, never SD_EFORBIDDEN. */
#ifndef SD_DESK_H
#define SD_DESK_H

#include "sd.h"
#include "sd_dir.h"
#include "sd_store.h"
#include "sd_ticket.h"

/* Look up another user (an assignee) in the directory. */
typedef apr_status_t sd_user_lookup_fn(sd_user_t **pu, void *baton, const char *user,
                                       apr_pool_t *p);

/* Who acts, under which configuration, at what time (Unix seconds). */
typedef struct {
    const sd_user_t *user;
    const sd_desk_conf_t *conf;
    apr_int64_t now;
    sd_user_lookup_fn *lookup;        /* NULL: assignment is refused */
    void *lookup_baton;
} sd_actor_t;

/* A committed change, as a listener of sd_store_on_commit gets it: one per
 * audit event written, and one per known issue resolved. Read-only, in the
 * transaction's pool. */
typedef struct {
    const sd_ticket_t *ticket;   /* after the change; NULL for a known issue */
    sd_event_t event;            /* kind: "created", "status", "comment", "escalated",
                                    "sla-breached", ... or SD_CHANGE_KI_RESOLVED */
    apr_int64_t ki_id;           /* SD_CHANGE_KI_RESOLVED: the issue, */
    const char *ki_tenant;       /* its tenant ("" when global), */
    const char *ki_title;        /* its title */
    int ki_resolved;             /* and the active tickets it resolved */
} sd_change_t;

#define SD_CHANGE_KI_RESOLVED "known-issue-resolved"

#define sd_actor_is_agent(a) (((a)->user->roles & (SD_ROLE_AGENT | SD_ROLE_ADMIN)) != 0)

typedef enum { SD_SCOPE_MINE = 0, SD_SCOPE_TENANT, SD_SCOPE_QUEUE } sd_scope_e;

typedef struct {
    int scope;
    const char *status;       /* a status word, "active", "done", or NULL */
    const char *priority, *category, *assignee;
    int tier;                 /* 0: any */
    int limit;
    const char *cursor;
    const char *q;
} sd_ticket_query_t;

/* Parse GET /tickets' query string. SD_EMALFORMED (400) with detail. */
apr_status_t sd_desk_ticket_query(sd_ticket_query_t *q, const char *query_string,
                                  const sd_desk_conf_t *conf, sd_problem_t *prob, apr_pool_t *p);

/* Create a ticket from validated input (sd_ticket_from_json). On success *pt
 * is the stored ticket as sd_desk_ticket_get returns it. */
apr_status_t sd_desk_ticket_create(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                                   const sd_ticket_t *in, sd_problem_t *prob, apr_pool_t *p);

/* A ticket with comments, attachments and (for agents) events. */
apr_status_t sd_desk_ticket_get(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                                apr_int64_t id, sd_problem_t *prob, apr_pool_t *p);

/* A page of ticket summaries (sd_ticket_t *, without comments; description,
 * service, encounter_id, device, page_url, cc and context are NULL: a
 * summary never shows them). *next is the cursor of the next page or NULL. */
apr_status_t sd_desk_ticket_list(apr_array_header_t **items, const char **next, sd_db_t *db,
                                 const sd_actor_t *who, const sd_ticket_query_t *q,
                                 sd_problem_t *prob, apr_pool_t *p);

/* What a PATCH asks to change (sd_desk_patch_from_json). */
typedef struct {
    int has_status, has_priority, has_category, has_assignee, has_tier, has_cc,
        has_description;
    int status, priority, tier;
    const char *category, *assignee, *cc_json, *description;
} sd_ticket_patch_t;

/* Validate a PATCH body (types, vocabulary, lengths). Role rules are
 * checked by sd_desk_ticket_patch. SD_EINVALID with field errors. */
apr_status_t sd_desk_patch_from_json(sd_ticket_patch_t *pt, const json_t *body,
                                     const sd_desk_conf_t *conf, sd_problem_t *prob,
                                     apr_pool_t *p);

/* If-Match: the ticket version a client saw, or -1 for none / "*"; -2 for
 * anything that is not one of our ticket ETags (never matches). */
int sd_desk_etag_version(const char *if_match);
/* The same for any of our ETags "<kind><id>-v<version>...", W/ allowed:
 * kind 't' tickets, 'k' known issues. */
int sd_desk_etag_parse(const char *if_match, char kind);

/* Agents: status (legal transitions, else SD_ECONFLICT), priority, category,
 * assignee (an agent of the ticket's tenant and tier, or NULL), tier.
 * Reporters: cc and description, only while the ticket is new.
 * if_match >= 0 and not the current version: SD_EPRECONDITION. */
apr_status_t sd_desk_ticket_patch(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                                  apr_int64_t id, const sd_ticket_patch_t *in, int if_match,
                                  sd_problem_t *prob, apr_pool_t *p);

/* Add a comment; internal ones are for agents. A first public agent comment
 * records the response; a reporter's comment on a pending ticket reopens it.
 * *pt is the ticket row as committed (its comments, attachments and events
 * are not loaded); *pc the comment as stored. */
apr_status_t sd_desk_comment_add(sd_ticket_t **pt, sd_comment_t **pc, sd_db_t *db,
                                 const sd_actor_t *who, apr_int64_t id, const char *body,
                                 int internal, sd_problem_t *prob, apr_pool_t *p);

/* Resolved or closed -> open, with a reason (also kept as a public comment);
 * the tier's clock starts afresh. */
apr_status_t sd_desk_ticket_reopen(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                                   apr_int64_t id, const char *reason, int if_match,
                                   sd_problem_t *prob, apr_pool_t *p);

/* Agents: to the next tier (at most 4), with a note (also kept as an internal
 * comment); the clock restarts with that tier's targets. */
apr_status_t sd_desk_ticket_escalate(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                                     apr_int64_t id, const char *note, int if_match,
                                     sd_problem_t *prob, apr_pool_t *p);

/* Link a ticket to a known issue its tenant can see (ki_id 0: unlink, agents
 * only). Agents, or the reporter picking "this is my problem". At most one
 * issue per ticket (SD_ECONFLICT when linked to another); a resolved issue
 * is SD_ECONFLICT. */
apr_status_t sd_desk_ticket_link(sd_ticket_t **pt, sd_db_t *db, const sd_actor_t *who,
                                 apr_int64_t ticket_id, apr_int64_t ki_id, sd_problem_t *prob,
                                 apr_pool_t *p);

/* Store a file (already sniffed, named safely, hashed) on a ticket the user
 * may act on; with comment, also a public comment the file belongs to. The
 * same bytes on the same ticket are stored once (*existed = 1, the stored
 * one returned). Limits from conf: SD_ETOOBIG. */
apr_status_t sd_desk_attachment_add(sd_attachment_meta_t **pa, int *existed, sd_db_t *db,
                                    const sd_actor_t *who, apr_int64_t ticket_id,
                                    const char *filename, const char *media_type,
                                    const char *data, apr_size_t len, const char *sha256,
                                    const char *comment, sd_problem_t *prob, apr_pool_t *p);
/* An attachment of a ticket the user can see; with data, its bytes too. */
apr_status_t sd_desk_attachment_get(sd_attachment_meta_t **pa, const char **data,
                                    apr_size_t *len, sd_db_t *db, const sd_actor_t *who,
                                    apr_int64_t ticket_id, apr_int64_t aid, sd_problem_t *prob,
                                    apr_pool_t *p);

/* Background work, idempotent and safe on several servers at once: record
 * SLA breaches (event + outbox, once each) and close tickets resolved longer
 * than conf->autoclose_days ago. Counts what this call did. */
apr_status_t sd_desk_sla_scan(int *breaches, int *closed, sd_db_t *db,
                              const sd_desk_conf_t *conf, apr_int64_t now, apr_pool_t *p);

/* The SLA report of a tenant for tiers started in [from, to): JSON owned by
 * p, and the same as CSV text. */
apr_status_t sd_desk_sla_report(json_t **pj, const char **csv, sd_db_t *db,
                                const sd_actor_t *who, apr_int64_t from, apr_int64_t to,
                                sd_problem_t *prob, apr_pool_t *p);

#endif /* SD_DESK_H */
