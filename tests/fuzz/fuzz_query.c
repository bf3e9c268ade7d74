/* libFuzzer target for query strings and the small request headers lib/
 * parses: lib/sd_query.c (sd_query_parse, sd_query_int, sd_utf8_valid) under
 * the parameter lists of every endpoint, sd_desk_ticket_query (GET /tickets),
 * sd_time_parse of the report's from/to (and sd_time_rfc3339 back), and
 * sd_desk_etag_version (If-Match).
 *
 * Input: byte 0 picks the endpoint's parameter list (modulo 5), the rest up
 * to the first NUL is the query string (the whole rest is also an If-Match
 * value).
 *
 * Checks: parsing answers success or SD_EMALFORMED with a detail that is
 * valid UTF-8; on success every name is allowed and given once, every value
 * is non-empty, at most SD_QUERY_MAX_VALUE bytes, valid UTF-8 without
 * control characters; the ticket query's fields are in range; a parsed time
 * prints as RFC 3339 and parses back to the same second; sd_query_int
 * agrees with strtoll on plain digits; an If-Match version is only ever a
 * number that appears in the header as written. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sd_desk.h"
#include "sd_json.h"
#include "sd_query.h"
#include "sd_time.h"
#include "sd_fuzz.h"

static apr_pool_t *root;
static sd_desk_conf_t conf;

/* The lists of lib/sd_desk.c, lib/sd_kb.c and the glue (suggest, report,
 * attachments). */
static const char *const tickets[] = {
    "scope", "status", "priority", "category", "tier", "assignee", "q", "limit", "cursor", NULL
};
static const char *const kis[] = { "status", "q", "limit", "cursor", NULL };
static const char *const suggest[] = { "q", NULL };
static const char *const report[] = { "from", "to", NULL };
static const char *const attach[] = { "filename", NULL };
static const char *const *const lists[5] = { tickets, kis, suggest, report, attach };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    root = sd_fuzz_start();
    sd_json_init();
    sd_desk_conf_default(&conf, root);
    return 0;
}

static int allowed(const char *const *list, const char *name)
{
    for (; *list; ++list)
        if (!strcmp(*list, name)) return 1;
    return 0;
}

typedef struct {
    const char *const *list;
    int n;
    int bad;
} walk_t;

static int check_entry(void *baton, const char *key, const char *value)
{
    walk_t *w = baton;
    size_t len = strlen(value);
    w->n++;
    if (!allowed(w->list, key)) w->bad = 1;
    if (!len || len > SD_QUERY_MAX_VALUE) w->bad = 1;
    if (!sd_utf8_valid(value, len) || sd_utf8_has_control(value, 0)) w->bad = 1;
    return 1;
}

static void check_time(const char *v, apr_pool_t *p)
{
    apr_time_t t, back;
    const char *s;
    if (!v || sd_time_parse(&t, v) != APR_SUCCESS) return;
    s = sd_time_rfc3339(t, p);
    if (!s) return;                /* outside 0000..9999 after the offset */
    CHECK(strlen(s) == 20);
    CHECK(sd_time_parse(&back, s) == APR_SUCCESS);
    /* the printed form drops sub-seconds towards the past */
    CHECK(back <= t && t - back < APR_USEC_PER_SEC);
}

static void check_int(const char *s)
{
    apr_int64_t v;
    char *end;
    long long ref;
    int ok = sd_query_int(&v, s, 0, APR_INT64_MAX);
    if (!ok) return;
    errno = 0;
    ref = strtoll(s, &end, 10);
    CHECK(!errno && !*end && ref == v && v >= 0);
}

/* A version from If-Match must be a number the header holds as written:
 * "-v<version>" followed by something that is not a digit. */
static void check_etag(const char *h, apr_pool_t *p)
{
    int v = sd_desk_etag_version(h);
    const char *needle, *at;
    CHECK(v == -1 || v == -2 || v > 0);
    if (v <= 0) return;
    needle = apr_psprintf(p, "-v%d", v);
    for (at = strstr(h, needle); at; at = strstr(at + 1, needle)) {
        char next = at[strlen(needle)];
        if (next < '0' || next > '9') return;
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *const *list;
    apr_pool_t *p;
    apr_table_t *t;
    sd_problem_t prob;
    sd_ticket_query_t q;
    const char *qs;
    apr_status_t rv;
    walk_t w;

    if (size < 1) return 0;
    list = lists[data[0] % 5];
    apr_pool_create(&p, root);
    qs = apr_pstrmemdup(p, (const char *)data + 1, size - 1);

    sd_problem_init(&prob, p);
    rv = sd_query_parse(&t, qs, list, &prob, p);
    CHECK(rv == APR_SUCCESS || rv == SD_EMALFORMED);
    if (rv != APR_SUCCESS) {
        CHECK(!t && prob.type && prob.detail);
        CHECK(sd_utf8_valid(prob.detail, strlen(prob.detail)));
    }
    else {
        w.list = list;
        w.n = 0;
        w.bad = 0;
        apr_table_do(check_entry, &w, t, NULL);
        CHECK(!w.bad);
        CHECK(apr_table_elts(t)->nelts == w.n);
        {
            /* each name once */
            const apr_array_header_t *a = apr_table_elts(t);
            const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
            int i, j;
            for (i = 0; i < a->nelts; ++i)
                for (j = i + 1; j < a->nelts; ++j) CHECK(strcmp(e[i].key, e[j].key));
        }
        if (list == report) {
            check_time(apr_table_get(t, "from"), p);
            check_time(apr_table_get(t, "to"), p);
        }
        if (list == tickets || list == kis) check_int(apr_table_get(t, "limit"));
    }

    if (list == tickets) {
        sd_problem_init(&prob, p);
        rv = sd_desk_ticket_query(&q, qs, &conf, &prob, p);
        CHECK(rv == APR_SUCCESS || rv == SD_EMALFORMED);
        if (rv == APR_SUCCESS) {
            CHECK(q.scope >= SD_SCOPE_MINE && q.scope <= SD_SCOPE_QUEUE);
            CHECK(q.limit >= 1 && q.limit <= SD_MAX_PAGE_LIMIT);
            CHECK(q.tier >= 0 && q.tier <= SD_TIER_MAX);
            CHECK(!q.status || sd_status_from_str(q.status) >= 0 || !strcmp(q.status, "active")
                  || !strcmp(q.status, "done"));
            CHECK(!q.priority || sd_priority_from_str(q.priority) >= 0);
            CHECK(!q.category || sd_desk_conf_has_category(&conf, q.category));
            CHECK(!q.assignee || (*q.assignee && strlen(q.assignee) <= 256));
            CHECK(!q.cursor || *q.cursor);
            CHECK(!q.q || !sd_str_blank(q.q));
        }
        else {
            CHECK(sd_utf8_valid(prob.detail, strlen(prob.detail)));
        }
    }

    /* The time parser straight on the bytes, too (a report's from/to after
     * decoding may be anything). */
    check_time(qs, p);
    check_etag(qs, p);
    apr_pool_destroy(p);
    return 0;
}
