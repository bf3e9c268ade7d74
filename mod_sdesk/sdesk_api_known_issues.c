/* /known-issues and /tickets/{id}/link. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"

#include "sdesk_api.h"
#include "sdesk_http.h"
#include "sd_kb.h"

static const char *ki_etag(sdesk_req_t *rq, const sd_kb_issue_t *ki)
{
    return apr_psprintf(rq->r->pool, "\"k%" APR_INT64_T_FMT "-v%d\"", ki->id, ki->version);
}

/* If-Match for a known issue: "k<id>-v<version>" */
static int ki_if_match(request_rec *r)
{
    return sd_desk_etag_parse(apr_table_get(r->headers_in, "If-Match"), 'k');
}

int sdesk_api_ki_list(sdesk_req_t *rq)
{
    apr_array_header_t *items;
    const char *next;
    json_t *j, *arr;
    apr_status_t rv = sdesk_req_db(rq);
    int i;

    if (rv == APR_SUCCESS)
        rv = sd_kb_list(&items, &next, rq->db, &rq->actor, rq->r->args, &rq->prob, rq->r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    arr = json_array();
    for (i = 0; i < items->nelts; ++i)
        json_array_append(arr, sd_kb_json(APR_ARRAY_IDX(items, i, sd_kb_issue_t *), rq->r->pool));
    j = sd_json_own(rq->r->pool, json_object());
    json_object_set_new(j, "items", arr);
    json_object_set_new(j, "next_cursor", next ? json_string(next) : json_null());
    return sdesk_json(rq->r, HTTP_OK, j, NULL);
}

int sdesk_api_ki_get(sdesk_req_t *rq)
{
    sd_kb_issue_t *ki;
    apr_status_t rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS) rv = sd_kb_get(&ki, rq->db, &rq->actor, rq->id, &rq->prob, rq->r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    return sdesk_json(rq->r, HTTP_OK, sd_kb_json(ki, rq->r->pool), ki_etag(rq, ki));
}

int sdesk_api_ki_create(sdesk_req_t *rq)
{
    request_rec *r = rq->r;
    sd_kb_input_t in;
    sd_kb_issue_t *ki;
    json_t *body;
    apr_status_t rv;

    if (!sd_actor_is_agent(&rq->actor)) {
        rq->prob.type = SD_PT_FORBIDDEN;
        rq->prob.detail = "Known issues are maintained by support agents.";
        return sdesk_req_fail(rq, SD_EFORBIDDEN);
    }
    rv = sdesk_read_json(&body, r, &rq->sc->desk->limits, &rq->prob);
    if (rv == APR_SUCCESS) rv = sd_kb_from_json(&in, body, 1, rq->sc->desk, &rq->prob, r->pool);
    if (rv == APR_SUCCESS) rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS) rv = sd_kb_create(&ki, rq->db, &rq->actor, &in, &rq->prob, r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    apr_table_setn(r->headers_out, "Location",
                   apr_psprintf(r->pool, "%s/api/v1/known-issues/%" APR_INT64_T_FMT, rq->base,
                                ki->id));
    return sdesk_json(r, HTTP_CREATED, sd_kb_json(ki, r->pool), ki_etag(rq, ki));
}

int sdesk_api_ki_patch(sdesk_req_t *rq)
{
    request_rec *r = rq->r;
    sd_kb_input_t in;
    sd_kb_issue_t *ki;
    json_t *body, *j;
    apr_status_t rv;
    int resolved = 0;

    if (!sd_actor_is_agent(&rq->actor)) {
        rq->prob.type = SD_PT_FORBIDDEN;
        rq->prob.detail = "Known issues are maintained by support agents.";
        return sdesk_req_fail(rq, SD_EFORBIDDEN);
    }
    rv = sdesk_read_json(&body, r, &rq->sc->desk->limits, &rq->prob);
    if (rv == APR_SUCCESS) rv = sd_kb_from_json(&in, body, 0, rq->sc->desk, &rq->prob, r->pool);
    if (rv == APR_SUCCESS) rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS)
        rv = sd_kb_patch(&ki, &resolved, rq->db, &rq->actor, rq->id, &in, ki_if_match(r),
                         &rq->prob, r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    j = sd_kb_json(ki, r->pool);
    json_object_set_new(j, "tickets_resolved", json_integer(resolved));
    return sdesk_json(r, HTTP_OK, j, ki_etag(rq, ki));
}

int sdesk_api_ticket_link(sdesk_req_t *rq)
{
    const sd_json_field_t fields[] = {
        { "known_issue_id", SD_JT_INT, SD_JF_REQUIRED | SD_JF_NULLABLE, 0 },
    };
    request_rec *r = rq->r;
    sd_ticket_t *t;
    json_t *body, *v;
    apr_int64_t ki = 0;
    apr_status_t rv;
    int agent = sd_actor_is_agent(&rq->actor);

    rv = sdesk_read_json(&body, r, &rq->sc->desk->limits, &rq->prob);
    if (rv == APR_SUCCESS && sd_json_check(body, fields, 1, "", &rq->prob) != APR_SUCCESS)
        rv = SD_EINVALID;
    if (rv == APR_SUCCESS && (v = json_object_get(body, "known_issue_id")) && json_is_integer(v)) {
        ki = (apr_int64_t)json_integer_value(v);
        if (ki <= 0) {
            sd_problem_field(&rq->prob, "known_issue_id", "must be a known issue id");
            rv = sd_problem_set(&rq->prob, SD_EINVALID, SD_PT_INVALID,
                                "One or more fields are invalid.");
        }
    }
    if (rv == APR_SUCCESS) rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS)
        rv = sd_desk_ticket_link(&t, rq->db, &rq->actor, rq->id, ki, &rq->prob, r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    return sdesk_json(r, HTTP_OK, sd_ticket_json(t, rq->sc->desk, agent, agent, rq->actor.now,
                                                 r->pool), NULL);
}
