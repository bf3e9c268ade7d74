/* Route table and the operations behind it (one file per resource). */
#ifndef SDESK_API_H
#define SDESK_API_H

#include "sdesk_req.h"

typedef int sdesk_run_fn(sdesk_req_t *rq);

typedef struct {
    int method;               /* M_GET (also HEAD), M_POST, M_PATCH ... */
    const char *pattern;      /* "/api/v1/tickets/{id}" */
    int writes;               /* state-changing: same-origin check */
    sdesk_run_fn *run;
} sdesk_route_t;

/* Find the route for rq->path and r->method_number; sets rq->id. NULL when
 * none: *allow then lists the methods the path has ("" if the path is
 * unknown). */
const sdesk_route_t *sdesk_route_match(sdesk_req_t *rq, const char **allow);

int sdesk_api_me(sdesk_req_t *rq);
int sdesk_api_meta(sdesk_req_t *rq);
int sdesk_api_tickets_list(sdesk_req_t *rq);
int sdesk_api_tickets_create(sdesk_req_t *rq);
int sdesk_api_ticket_get(sdesk_req_t *rq);
int sdesk_api_ticket_patch(sdesk_req_t *rq);
int sdesk_api_comment_add(sdesk_req_t *rq);
int sdesk_api_ticket_reopen(sdesk_req_t *rq);
int sdesk_api_ticket_escalate(sdesk_req_t *rq);
int sdesk_api_report_sla(sdesk_req_t *rq);
int sdesk_api_ticket_link(sdesk_req_t *rq);
int sdesk_api_ki_list(sdesk_req_t *rq);
int sdesk_api_ki_create(sdesk_req_t *rq);
int sdesk_api_ki_get(sdesk_req_t *rq);
int sdesk_api_ki_patch(sdesk_req_t *rq);
int sdesk_api_suggest(sdesk_req_t *rq);
int sdesk_api_attachment_upload(sdesk_req_t *rq);
int sdesk_api_attachment_get(sdesk_req_t *rq);

/* Shared by the HTTP API and the in-process API (sdesk_inproc.c): file a
 * ticket from a JSON body as rq's user (validation, database, one
 * transaction); the known issues and similar tickets that look like q
 * (nothing for a blank q). Errors come with rq->prob filled. */
apr_status_t sdesk_tickets_file(sd_ticket_t **pt, sdesk_req_t *rq, const json_t *body);
apr_status_t sdesk_suggest_find(apr_array_header_t **known, apr_array_header_t **tickets,
                                sdesk_req_t *rq, const char *q);

/* The per-child suggestion index (sdesk_api_suggest.c). */
apr_status_t sdesk_suggest_child_init(apr_pool_t *pchild);
apr_status_t sdesk_suggest_refresh(sd_db_t *db, apr_int64_t now, apr_pool_t *p);

#endif /* SDESK_API_H */
