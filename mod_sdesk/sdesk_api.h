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

/* The per-child suggestion index (sdesk_api_suggest.c). */
apr_status_t sdesk_suggest_child_init(apr_pool_t *pchild);
apr_status_t sdesk_suggest_refresh(sd_db_t *db, apr_int64_t now, apr_pool_t *p);

#endif /* SDESK_API_H */
