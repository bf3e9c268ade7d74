/* The suggestion index's feed and the suggest action. See sd_suggest_feed.h. */
#include <string.h>
#include <apr_strings.h>

#include "sd_suggest_feed.h"
#include "sd_log.h"

#define I64(v) sd_store_i64((v), p)

static int ticket_active(const char *status)
{
    return status && (!strcmp(status, "new") || !strcmp(status, "open")
                      || !strcmp(status, "pending"));
}

/* One row of a feed: add an active document, remove the others. */
static void apply(sd_suggest_index_t *idx, int kind, const char **c, int active,
                  apr_pool_t *p)
{
    apr_int64_t id = sd_store_to_i64(c[0]);
    const char *body = c[3];
    if (kind == SD_SUGGEST_KNOWN_ISSUE && c[4] && *c[4])
        body = apr_pstrcat(p, c[3] ? c[3] : "", "\n", c[4], NULL);   /* symptoms + workaround */
    if (active) {
        if (sd_suggest_add(idx, kind, id, c[1] ? c[1] : "", c[2] ? c[2] : "", body, p)
            != APR_SUCCESS)
            sd_suggest_remove(idx, kind, id);
    }
    else {
        sd_suggest_remove(idx, kind, id);
    }
}

apr_status_t sd_suggest_feed_refresh(sd_suggest_feed_t *feed, sd_db_t *db, apr_int64_t now,
                                     apr_pool_t *p)
{
    const char *args[1] = { I64(feed->since - SD_SUGGEST_FEED_MARGIN) };
    sd_rows_t *ki, *tk;
    apr_pool_t *each;
    apr_status_t rv;
    int i;

    if (feed->loaded) {
        rv = sd_store_select(&ki, db, "sdesk_feed_ki_since", 1, args, p);
        if (rv == APR_SUCCESS) rv = sd_store_select(&tk, db, "sdesk_feed_tickets_since", 1, args, p);
    }
    else {
        rv = sd_store_select(&ki, db, "sdesk_feed_ki_all", 0, NULL, p);
        if (rv == APR_SUCCESS) rv = sd_store_select(&tk, db, "sdesk_feed_tickets_all", 0, NULL, p);
    }
    if (rv != APR_SUCCESS) return rv;
    apr_pool_create(&each, p);
    for (i = 0; i < ki->nrows; ++i) {
        apr_pool_clear(each);
        apply(feed->index, SD_SUGGEST_KNOWN_ISSUE, ki->cell[i],
              ki->cell[i][5] && strcmp(ki->cell[i][5], "resolved"), each);
    }
    for (i = 0; i < tk->nrows; ++i) {
        apr_pool_clear(each);
        apply(feed->index, SD_SUGGEST_TICKET, tk->cell[i], ticket_active(tk->cell[i][4]), each);
    }
    apr_pool_destroy(each);
    if (!feed->loaded) {
        sd_log(SD_LOG_MARK, SD_LOG_INFO, APR_SUCCESS, p,
               SDLOGNO(00120) "suggestion index loaded: %d known issues, %d open tickets",
               ki->nrows, tk->nrows);
    }
    feed->loaded = 1;
    feed->since = now;
    return APR_SUCCESS;
}

static double round3(double d)
{
    return (double)(long long)(d * 1000 + 0.5) / 1000;
}

/* Hydrate hits through a tenant-scoped statement of 5 ids (padded with 0). */
static apr_status_t hydrate(apr_array_header_t **out, sd_db_t *db, const char *label,
                            const char *tenant, const apr_array_header_t *hits, int kind,
                            apr_pool_t *p)
{
    const char *args[6];
    sd_rows_t *rows;
    apr_status_t rv;
    int i, j;

    *out = apr_array_make(p, 5, sizeof(sd_suggestion_t));
    if (!hits->nelts) return APR_SUCCESS;
    args[0] = tenant;
    for (i = 0; i < 5; ++i)
        args[i + 1] = i < hits->nelts ? I64(APR_ARRAY_IDX(hits, i, sd_suggest_hit_t).id) : "0";
    if (APR_SUCCESS != (rv = sd_store_select(&rows, db, label, 6, args, p))) return rv;
    for (i = 0; i < hits->nelts && i < 5; ++i) {       /* keep the ranking order */
        const sd_suggest_hit_t *h = &APR_ARRAY_IDX(hits, i, sd_suggest_hit_t);
        for (j = 0; j < rows->nrows; ++j) {
            const char **c = rows->cell[j];
            sd_suggestion_t *s;
            if (sd_store_to_i64(c[0]) != h->id) continue;
            s = apr_array_push(*out);
            memset(s, 0, sizeof(*s));
            s->id = h->id;
            s->score = round3(h->score);
            if (kind == SD_SUGGEST_KNOWN_ISSUE) {
                s->title = c[1];
                s->workaround = c[2] ? c[2] : "";
            }
            else {
                s->subject = c[1];
                s->status = c[2];
            }
        }
    }
    return APR_SUCCESS;
}

apr_status_t sd_suggest_feed_query(apr_array_header_t **known, apr_array_header_t **tickets,
                                   sd_suggest_feed_t *feed, sd_db_t *db, const sd_actor_t *who,
                                   const char *q, sd_problem_t *prob, apr_pool_t *p)
{
    sd_suggest_result_t *res;
    apr_status_t rv;

    *known = *tickets = NULL;
    /* a few spare hits: some may have been resolved since the last look */
    rv = sd_suggest_query(&res, feed->index, who->user->tenant, q, 5, 5, p);
    if (rv == SD_EMALFORMED)
        return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
                              "Query parameter 'q' is not valid UTF-8.");
    if (rv != APR_SUCCESS) return rv;
    rv = hydrate(known, db, "sdesk_suggest_ki", who->user->tenant, res->known_issues,
                 SD_SUGGEST_KNOWN_ISSUE, p);
    if (rv == APR_SUCCESS)
        rv = hydrate(tickets, db, "sdesk_suggest_tickets", who->user->tenant, res->tickets,
                     SD_SUGGEST_TICKET, p);
    return rv;
}
