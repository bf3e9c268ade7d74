/* The in-process API of mod_sdesk.h: optional functions other modules call
 * with their own request. They go through the same code as the HTTP API
 * (sdesk_tickets_file, sdesk_suggest_find): same validation, user, tenant
 * rules, transaction and hooks; only the envelope differs (a struct or a
 * JSON text in, an sdesk_result_t out instead of a response). */
#include <string.h>
#include <apr_strings.h>
#include <apr_optional.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "mod_sdesk.h"
#include "sdesk_api.h"
#include "sdesk_http.h"
#include "sdesk_hooks.h"
#include "sdesk_inproc.h"
#include "sd_suggest_feed.h"

APLOG_USE_MODULE(sdesk);

/* A text as long as a request line can carry (what /suggest?q= accepts). */
#define MAX_FIND_TEXT 8190

/* Fill res with the problem the HTTP API would have sent; its status. */
static int failed(sdesk_result_t *res, sdesk_req_t *rq, apr_status_t rv)
{
    apr_pool_t *p = rq->r->pool;
    json_t *doc;
    int status;

    sdesk_req_prob_defaults(rq, rv);
    doc = sdesk_problem_doc(&status, rv, &rq->prob, p);
    res->status = status;
    res->problem_type = apr_pstrdup(p, json_string_value(json_object_get(doc, "type")));
    res->title = apr_pstrdup(p, json_string_value(json_object_get(doc, "title")));
    res->detail = rq->prob.detail;
    res->problem_json = sd_json_dump(doc, p);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, rq->r, SDLOGNO(00710)
                  "in-process call answered %d (%s)", status, res->problem_type);
    return status;
}

/* The context of a call, with its user resolved, as the handler makes it.
 * Filing from inside one of our hooks is refused: a hook that files
 * tickets would call itself for ever. */
static apr_status_t begin(sdesk_req_t **prq, request_rec *r, int filing, sdesk_result_t *res)
{
    sdesk_req_t *rq = sdesk_req_make(r);
    *prq = rq;
    memset(res, 0, sizeof(*res));
    if (!r->user)
        return sd_problem_set(&rq->prob, SD_EUNAUTH, SD_PT_UNAUTH,
                              "Sign in to use the support desk.");
    if (filing && sdesk_hooks_running(r))
        return sd_problem_set(&rq->prob, SD_ECONFLICT, SD_PT_CONFLICT,
                              "Tickets cannot be filed from inside a support desk hook.");
    return sdesk_req_user(rq);
}

/* A JSON body made from the caller's input; errors fill rq->prob. */
typedef apr_status_t body_fn(json_t **pj, sdesk_req_t *rq, const void *in, apr_size_t len);

/* File a ticket from in, as the HTTP API would. */
static int file_from(request_rec *r, sdesk_result_t *res, body_fn *make, const void *in,
                     apr_size_t len)
{
    sdesk_req_t *rq;
    sd_ticket_t *t;
    json_t *body = NULL;
    apr_status_t rv;

    if (!r || !res) return HTTP_INTERNAL_SERVER_ERROR;
    if (APR_SUCCESS != (rv = begin(&rq, r, 1, res))
        || APR_SUCCESS != (rv = make(&body, rq, in, len))
        || APR_SUCCESS != (rv = sdesk_tickets_file(&t, rq, body)))
        return failed(res, rq, rv);
    res->status = HTTP_CREATED;
    res->id = t->id;
    res->key = sd_ticket_key(t->id, r->pool);
    return res->status;
}

/* ---- sdesk_ticket_file_json ----------------------------------------------------------- */

static apr_status_t body_of_json(json_t **pj, sdesk_req_t *rq, const void *in, apr_size_t len)
{
    if (!in)
        return sd_problem_set(&rq->prob, SD_EMALFORMED, SD_PT_MALFORMED_JSON,
                              "No JSON text was given.");
    return sd_json_parse_object(pj, in, len, &rq->sc->desk->limits, &rq->prob, rq->r->pool);
}

int sdesk_ticket_file_json(request_rec *r, const char *json, apr_size_t len,
                           sdesk_result_t *res)
{
    return file_from(r, res, body_of_json, json, len);
}

/* ---- sdesk_ticket_file ------------------------------------------------------------------- */

typedef struct {
    json_t *obj;
    sd_problem_t *prob;
    const char *prefix;
} build_t;

/* Set a string member unless value is NULL; text that is not UTF-8 is a
 * field error (jansson will not hold it). */
static void put(build_t *b, const char *name, const char *value)
{
    json_t *s;
    if (!value) return;
    if (!(s = json_string(value))) {
        sd_problem_field(b->prob, apr_pstrcat(b->prob->pool, b->prefix, name, NULL),
                         "is not valid UTF-8");
        return;
    }
    json_object_set_new(b->obj, name, s);
}

static int put_context(void *baton, const char *key, const char *value)
{
    build_t *b = baton;
    put(b, key, value);
    return 1;
}

/* The struct as the JSON body the HTTP API would get, so one validation
 * serves both. */
static apr_status_t body_of_struct(json_t **pj, sdesk_req_t *rq, const void *vin,
                                   apr_size_t len)
{
    const sdesk_new_ticket_t *in = vin;
    sd_problem_t *prob = &rq->prob;
    apr_pool_t *p = rq->r->pool;
    build_t b = { sd_json_own(p, json_object()), prob, "" };

    (void)len;
    if (!in) return sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED, "No ticket was given.");
    put(&b, "subject", in->subject);
    put(&b, "description", in->description);
    put(&b, "category", in->category);
    put(&b, "urgency", in->urgency);
    put(&b, "impact", in->impact);
    put(&b, "priority", in->priority);
    put(&b, "environment", in->environment);
    put(&b, "service", in->service);
    put(&b, "encounter_id", in->encounter_id);
    put(&b, "page_url", in->page_url);
    if (in->device_id || in->device_model || in->device_os || in->device_app_version) {
        build_t d = { json_object(), prob, "device." };
        json_object_set_new(b.obj, "device", d.obj);
        put(&d, "id", in->device_id);
        put(&d, "model", in->device_model);
        put(&d, "os", in->device_os);
        put(&d, "app_version", in->device_app_version);
    }
    if (in->cc) {
        json_t *cc = json_array();
        int i;
        json_object_set_new(b.obj, "cc", cc);
        for (i = 0; i < in->cc->nelts; ++i) {
            const char *a = APR_ARRAY_IDX(in->cc, i, const char *);
            json_t *s = a ? json_string(a) : NULL;
            if (s) json_array_append_new(cc, s);
            else sd_problem_field(prob, apr_psprintf(p, "cc[%d]", i), "is not an e-mail address");
        }
    }
    if (in->context) {
        build_t c = { json_object(), prob, "context." };
        json_object_set_new(b.obj, "context", c.obj);
        apr_table_do(put_context, &c, in->context, NULL);
    }
    if (sd_problem_has_errors(prob))
        return sd_problem_set(prob, SD_EINVALID, SD_PT_INVALID, "One or more fields are invalid.");
    *pj = b.obj;
    return APR_SUCCESS;
}

int sdesk_ticket_file(request_rec *r, const sdesk_new_ticket_t *in, sdesk_result_t *res)
{
    return file_from(r, res, body_of_struct, in, 0);
}

/* ---- sdesk_known_issues_find ---------------------------------------------------------------- */

int sdesk_known_issues_find(request_rec *r, const char *text, apr_array_header_t **found,
                            sdesk_result_t *res)
{
    apr_array_header_t *known = NULL, *tickets = NULL, *out;
    sdesk_req_t *rq;
    apr_status_t rv;
    int i;

    if (!r || !res || !found) return HTTP_INTERNAL_SERVER_ERROR;
    *found = NULL;
    if (APR_SUCCESS != (rv = begin(&rq, r, 0, res))) return failed(res, rq, rv);
    if (text && strlen(text) > MAX_FIND_TEXT)
        return failed(res, rq, sd_problem_set(&rq->prob, SD_ETOOBIG, SD_PT_TOO_BIG,
                                              "The text is longer than %d bytes.",
                                              MAX_FIND_TEXT));
    if (text && !sd_json_own(r->pool, json_string(text)))
        return failed(res, rq, sd_problem_set(&rq->prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
                                              "The text is not valid UTF-8."));
    rv = sdesk_suggest_find(&known, &tickets, rq, text);
    if (rv != APR_SUCCESS) return failed(res, rq, rv);
    out = apr_array_make(r->pool, known ? known->nelts + 1 : 1, sizeof(sdesk_known_issue_t));
    for (i = 0; known && i < known->nelts; ++i) {
        const sd_suggestion_t *s = &APR_ARRAY_IDX(known, i, sd_suggestion_t);
        sdesk_known_issue_t *k = apr_array_push(out);
        k->id = s->id;
        k->title = s->title;
        k->workaround = s->workaround;
        k->score = s->score;
    }
    *found = out;
    res->status = HTTP_OK;
    return res->status;
}

void sdesk_inproc_register(void)
{
    APR_REGISTER_OPTIONAL_FN(sdesk_ticket_file);
    APR_REGISTER_OPTIONAL_FN(sdesk_ticket_file_json);
    APR_REGISTER_OPTIONAL_FN(sdesk_known_issues_find);
}
