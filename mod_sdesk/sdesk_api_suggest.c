/* GET /suggest?q= : known issues and similar open tickets while typing.
 * One index per child, loaded at child start and refreshed from the
 * database's change feed at most once a second, so what any child or server
 * writes shows up within a second or two. */
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"

#include "sdesk_api.h"
#include "sdesk_http.h"
#include "sd_query.h"
#include "sd_suggest_feed.h"

APLOG_USE_MODULE(sdesk);

static sd_suggest_feed_t feed;
static apr_thread_mutex_t *feed_mutex;

apr_status_t sdesk_suggest_child_init(apr_pool_t *pchild)
{
    apr_status_t rv = sd_suggest_index_create(&feed.index, pchild);
    if (rv == APR_SUCCESS)
        rv = apr_thread_mutex_create(&feed_mutex, APR_THREAD_MUTEX_DEFAULT, pchild);
    return rv;
}

apr_status_t sdesk_suggest_refresh(sd_db_t *db, apr_int64_t now, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    if (!feed.index || !feed_mutex) return SD_EUNAVAILABLE;
    if (feed.loaded && now <= feed.since) return APR_SUCCESS;
    /* one thread refreshes; the others answer from the index as it is */
    if (apr_thread_mutex_trylock(feed_mutex) != APR_SUCCESS) {
        if (feed.loaded) return APR_SUCCESS;
        apr_thread_mutex_lock(feed_mutex);
    }
    if (!feed.loaded || now > feed.since) rv = sd_suggest_feed_refresh(&feed, db, now, p);
    apr_thread_mutex_unlock(feed_mutex);
    return rv;
}

apr_status_t sdesk_suggest_find(apr_array_header_t **known, apr_array_header_t **tickets,
                                sdesk_req_t *rq, const char *q)
{
    apr_status_t rv;
    *known = *tickets = NULL;
    if (!q || sd_str_blank(q)) return APR_SUCCESS;
    rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS) rv = sdesk_suggest_refresh(rq->db, rq->actor.now, rq->r->pool);
    if (rv == APR_SUCCESS)
        rv = sd_suggest_feed_query(known, tickets, &feed, rq->db, &rq->actor, q, &rq->prob,
                                   rq->r->pool);
    return rv;
}

int sdesk_api_suggest(sdesk_req_t *rq)
{
    static const char *const params[] = { "q", NULL };
    request_rec *r = rq->r;
    apr_array_header_t *known = NULL, *tickets = NULL;
    apr_table_t *args;
    json_t *j, *a;
    apr_status_t rv;
    int i;

    rv = sd_query_parse(&args, r->args, params, &rq->prob, r->pool);
    if (rv == APR_SUCCESS) rv = sdesk_suggest_find(&known, &tickets, rq, apr_table_get(args, "q"));
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    j = sd_json_own(r->pool, json_object());
    a = json_array();
    for (i = 0; known && i < known->nelts; ++i) {
        const sd_suggestion_t *s = &APR_ARRAY_IDX(known, i, sd_suggestion_t);
        json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:f}", "id", (json_int_t)s->id,
                                           "title", s->title, "workaround", s->workaround,
                                           "score", s->score));
    }
    json_object_set_new(j, "known_issues", a);
    a = json_array();
    for (i = 0; tickets && i < tickets->nelts; ++i) {
        const sd_suggestion_t *s = &APR_ARRAY_IDX(tickets, i, sd_suggestion_t);
        json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:s, s:f}", "id", (json_int_t)s->id,
                                           "key", sd_ticket_key(s->id, r->pool),
                                           "subject", s->subject, "status", s->status,
                                           "score", s->score));
    }
    json_object_set_new(j, "similar_tickets", a);
    return sdesk_json(r, HTTP_OK, j, NULL);
}
