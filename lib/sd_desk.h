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

/* Who acts, under which configuration, at what time (Unix seconds). */
typedef struct {
    const sd_user_t *user;
    const sd_desk_conf_t *conf;
    apr_int64_t now;
} sd_actor_t;

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

/* A page of ticket summaries (sd_ticket_t *, without comments). *next is the
 * cursor of the next page or NULL. */
apr_status_t sd_desk_ticket_list(apr_array_header_t **items, const char **next, sd_db_t *db,
                                 const sd_actor_t *who, const sd_ticket_query_t *q,
                                 sd_problem_t *prob, apr_pool_t *p);

#endif /* SD_DESK_H */
