/* Keeps a suggestion index (sd_suggest) fresh from the database: a full load
 * of active known issues and open tickets once, then every change since the
 * last look (rows whose updated_at moved), from any child or server. And the
 * suggest action itself: query, then look the hits up again under the
 * user's tenant, so a stale index can never show what the user may not see. */
#ifndef SD_SUGGEST_FEED_H
#define SD_SUGGEST_FEED_H

#include "sd_desk.h"
#include "sd_suggest.h"

typedef struct {
    sd_suggest_index_t *index;
    int loaded;
    apr_int64_t since;          /* last look, Unix seconds */
    apr_int64_t docs_loaded;
} sd_suggest_feed_t;

/* Overlap of consecutive looks, for clock skew between servers and rows
 * committed late in the same second. */
#define SD_SUGGEST_FEED_MARGIN 3

/* Bring the index up to date at `now` (caller serialises refreshes). */
apr_status_t sd_suggest_feed_refresh(sd_suggest_feed_t *feed, sd_db_t *db, apr_int64_t now,
                                     apr_pool_t *p);

typedef struct {
    apr_int64_t id;
    const char *title, *workaround, *subject, *status;
    double score;
} sd_suggestion_t;

/* Query the index for who's tenant and hydrate the hits (known issues and
 * similar open tickets, best first, at most 5 each). */
apr_status_t sd_suggest_feed_query(apr_array_header_t **known, apr_array_header_t **tickets,
                                   sd_suggest_feed_t *feed, sd_db_t *db, const sd_actor_t *who,
                                   const char *q, sd_problem_t *prob, apr_pool_t *p);

#endif /* SD_SUGGEST_FEED_H */
