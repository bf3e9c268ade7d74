/* /tickets: create, list, get. */
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_log.h"

#include "sdesk_api.h"
#include "sdesk_http.h"

APLOG_USE_MODULE(sdesk);

/* Strong ETag of a ticket as one user sees it: version plus the view, since
 * agents see internal comments and events that reporters do not. */
static const char *ticket_etag(sdesk_req_t *rq, const sd_ticket_t *t)
{
    return apr_psprintf(rq->r->pool, "\"t%" APR_INT64_T_FMT "-v%d-%s\"", t->id, t->version,
                        sd_actor_is_agent(&rq->actor) ? "a" : "r");
}

static json_t *full_json(sdesk_req_t *rq, const sd_ticket_t *t)
{
    int agent = sd_actor_is_agent(&rq->actor);
    return sd_ticket_json(t, rq->sc->desk, agent, agent, rq->actor.now, rq->r->pool);
}

int sdesk_api_tickets_create(sdesk_req_t *rq)
{
    request_rec *r = rq->r;
    sd_ticket_t in, *t;
    json_t *body;
    apr_status_t rv;

    /* Body read and validated before a database connection is taken. */
    rv = sdesk_read_json(&body, r, &rq->sc->desk->limits, &rq->prob);
    if (rv == APR_SUCCESS)
        rv = sd_ticket_from_json(&in, body, rq->sc->desk, sd_actor_is_agent(&rq->actor),
                                 &rq->prob, r->pool);
    if (rv == APR_SUCCESS) rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS) rv = sd_desk_ticket_create(&t, rq->db, &rq->actor, &in, &rq->prob,
                                                      r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    apr_table_setn(r->headers_out, "Location",
                   apr_psprintf(r->pool, "%s/api/v1/tickets/%" APR_INT64_T_FMT, rq->base, t->id));
    return sdesk_json(r, HTTP_CREATED, full_json(rq, t), ticket_etag(rq, t));
}

int sdesk_api_ticket_get(sdesk_req_t *rq)
{
    sd_ticket_t *t;
    apr_status_t rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS)
        rv = sd_desk_ticket_get(&t, rq->db, &rq->actor, rq->id, &rq->prob, rq->r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    return sdesk_json(rq->r, HTTP_OK, full_json(rq, t), ticket_etag(rq, t));
}

int sdesk_api_tickets_list(sdesk_req_t *rq)
{
    request_rec *r = rq->r;
    sd_ticket_query_t q;
    apr_array_header_t *items;
    const char *next;
    json_t *j, *arr;
    apr_status_t rv;
    int i;

    rv = sd_desk_ticket_query(&q, r->args, rq->sc->desk, &rq->prob, r->pool);
    if (rv == APR_SUCCESS) rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS)
        rv = sd_desk_ticket_list(&items, &next, rq->db, &rq->actor, &q, &rq->prob, r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    arr = json_array();
    for (i = 0; i < items->nelts; ++i)
        json_array_append(arr, sd_ticket_summary_json(APR_ARRAY_IDX(items, i, sd_ticket_t *),
                                                      rq->sc->desk, rq->actor.now, r->pool));
    j = sd_json_own(r->pool, json_object());
    json_object_set_new(j, "items", arr);
    json_object_set_new(j, "next_cursor", next ? json_string(next) : json_null());
    return sdesk_json(r, HTTP_OK, j, NULL);
}
