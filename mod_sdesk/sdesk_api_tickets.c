/* /tickets: create, list, get. */
#include <string.h>
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_log.h"

#include "sdesk_api.h"
#include "sdesk_http.h"
#include "sd_query.h"
#include "sd_time.h"

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

apr_status_t sdesk_tickets_file(sd_ticket_t **pt, sdesk_req_t *rq, const json_t *body)
{
    sd_ticket_t in;
    apr_status_t rv;

    *pt = NULL;
    /* validated before a database connection is taken */
    rv = sd_ticket_from_json(&in, body, rq->sc->desk, sd_actor_is_agent(&rq->actor), &rq->prob,
                             rq->r->pool);
    if (rv == APR_SUCCESS) rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS)
        rv = sd_desk_ticket_create(pt, rq->db, &rq->actor, &in, &rq->prob, rq->r->pool);
    return rv;
}

int sdesk_api_tickets_create(sdesk_req_t *rq)
{
    request_rec *r = rq->r;
    sd_ticket_t *t;
    json_t *body;
    apr_status_t rv;

    rv = sdesk_read_json(&body, r, &rq->sc->desk->limits, &rq->prob);
    if (rv == APR_SUCCESS) rv = sdesk_tickets_file(&t, rq, body);
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

int sdesk_api_ticket_patch(sdesk_req_t *rq)
{
    request_rec *r = rq->r;
    sd_ticket_patch_t in;
    sd_ticket_t *t;
    json_t *body;
    apr_status_t rv;
    int if_match = sd_desk_etag_version(apr_table_get(r->headers_in, "If-Match"));

    rv = sdesk_read_json(&body, r, &rq->sc->desk->limits, &rq->prob);
    if (rv == APR_SUCCESS) rv = sd_desk_patch_from_json(&in, body, rq->sc->desk, &rq->prob, r->pool);
    if (rv == APR_SUCCESS) rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS)
        rv = sd_desk_ticket_patch(&t, rq->db, &rq->actor, rq->id, &in, if_match, &rq->prob,
                                  r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    return sdesk_json(r, HTTP_OK, full_json(rq, t), ticket_etag(rq, t));
}

/* A body of one required text field (and, for comments, "internal"). */
static apr_status_t read_text(const char **text, int *internal, sdesk_req_t *rq,
                              const char *name)
{
    const sd_json_field_t fields[] = {
        { name, SD_JT_TEXT, SD_JF_REQUIRED, rq->sc->desk->limits.max_description },
        { "internal", SD_JT_BOOL, 0, 0 },
    };
    json_t *body;
    apr_status_t rv = sdesk_read_json(&body, rq->r, &rq->sc->desk->limits, &rq->prob);
    if (rv != APR_SUCCESS) return rv;
    if (sd_json_check(body, fields, internal ? 2 : 1, "", &rq->prob) != APR_SUCCESS)
        return SD_EINVALID;
    *text = apr_pstrdup(rq->r->pool, sd_json_str(body, name));
    if (internal) *internal = json_is_true(json_object_get(body, "internal"));
    return APR_SUCCESS;
}

int sdesk_api_comment_add(sdesk_req_t *rq)
{
    request_rec *r = rq->r;
    const char *text;
    sd_ticket_t *t;
    sd_comment_t *c;
    int internal = 0;
    apr_status_t rv = read_text(&text, &internal, rq, "body");
    json_t *j;

    if (rv == APR_SUCCESS) rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS)
        rv = sd_desk_comment_add(&t, &c, rq->db, &rq->actor, rq->id, text, internal, &rq->prob,
                                 r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    j = sd_json_own(r->pool, json_pack("{s:I, s:I, s:{s:s, s:s}, s:s, s:b, s:s}",
        "id", (json_int_t)c->id, "ticket_id", (json_int_t)t->id,
        "author", "user", c->author, "name", c->author_name, "body", c->body,
        "internal", c->internal,
        "created_at", sd_time_rfc3339(sd_time_from_sec(c->created_at), r->pool)));
    return sdesk_json(r, HTTP_CREATED, j, ticket_etag(rq, t));
}

int sdesk_api_ticket_reopen(sdesk_req_t *rq)
{
    const char *text;
    sd_ticket_t *t;
    apr_status_t rv = read_text(&text, NULL, rq, "reason");
    int if_match = sd_desk_etag_version(apr_table_get(rq->r->headers_in, "If-Match"));

    if (rv == APR_SUCCESS) rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS)
        rv = sd_desk_ticket_reopen(&t, rq->db, &rq->actor, rq->id, text, if_match, &rq->prob,
                                   rq->r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    return sdesk_json(rq->r, HTTP_OK, full_json(rq, t), ticket_etag(rq, t));
}

int sdesk_api_ticket_escalate(sdesk_req_t *rq)
{
    const char *text;
    sd_ticket_t *t;
    apr_status_t rv;
    int if_match = sd_desk_etag_version(apr_table_get(rq->r->headers_in, "If-Match"));

    /* the role first: a reporter learns nothing from validation errors */
    if (!sd_actor_is_agent(&rq->actor)) {
        rq->prob.type = SD_PT_FORBIDDEN;
        rq->prob.detail = "Escalation is for support agents.";
        return sdesk_req_fail(rq, SD_EFORBIDDEN);
    }
    rv = read_text(&text, NULL, rq, "note");
    if (rv == APR_SUCCESS) rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS)
        rv = sd_desk_ticket_escalate(&t, rq->db, &rq->actor, rq->id, text, if_match, &rq->prob,
                                     rq->r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    return sdesk_json(rq->r, HTTP_OK, full_json(rq, t), ticket_etag(rq, t));
}

static int wants_csv(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    return accept && ap_strcasestr(accept, "text/csv") != NULL;
}

int sdesk_api_report_sla(sdesk_req_t *rq)
{
    static const char *const params[] = { "from", "to", NULL };
    request_rec *r = rq->r;
    apr_table_t *args;
    apr_time_t from, to;
    const char *v, *csv;
    json_t *j;
    apr_status_t rv;

    if (!sd_actor_is_agent(&rq->actor)) {
        rq->prob.type = SD_PT_FORBIDDEN;
        rq->prob.detail = "The SLA report is for support agents and administrators.";
        return sdesk_req_fail(rq, SD_EFORBIDDEN);
    }
    rv = sd_query_parse(&args, r->args, params, &rq->prob, r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    to = apr_time_now();
    if ((v = apr_table_get(args, "to")) && sd_time_parse(&to, v) != APR_SUCCESS)
        return sdesk_req_fail(rq, sd_problem_set(&rq->prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
            "'to' is not a date (YYYY-MM-DD) or time (RFC 3339)."));
    from = to - apr_time_from_sec(30 * 86400);
    if ((v = apr_table_get(args, "from")) && sd_time_parse(&from, v) != APR_SUCCESS)
        return sdesk_req_fail(rq, sd_problem_set(&rq->prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
            "'from' is not a date (YYYY-MM-DD) or time (RFC 3339)."));
    rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS)
        rv = sd_desk_sla_report(&j, &csv, rq->db, &rq->actor, apr_time_sec(from),
                                apr_time_sec(to), &rq->prob, r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    apr_table_mergen(r->headers_out, "Vary", "Accept");
    if (wants_csv(r)) {
        ap_set_content_type(r, "text/csv; charset=utf-8");
        apr_table_setn(r->headers_out, "Content-Disposition",
                       "attachment; filename=\"sla-report.csv\"");
        ap_set_content_length(r, (apr_off_t)strlen(csv));
        if (!r->header_only) ap_rputs(csv, r);
        return OK;
    }
    return sdesk_json(r, HTTP_OK, j, NULL);
}
