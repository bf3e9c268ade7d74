/* The SLA report: per tier and priority, and per category, over the tier
 * stints that started in a period. A stint is "responded in target" when
 * the tier answered by its response due time, "resolved or escalated in
 * target" when it ended that way by its resolution due time (or had none). */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>

#include "sd_desk.h"
#include "sd_json.h"
#include "sd_time.h"

typedef struct {
    int tickets, responded_in_target, done_in_target, breached;
    apr_array_header_t *response_min, *resolution_min;    /* doubles */
} group_t;

static group_t *group_get(apr_hash_t *h, const char *key, apr_pool_t *p)
{
    group_t *g = apr_hash_get(h, key, APR_HASH_KEY_STRING);
    if (!g) {
        g = apr_pcalloc(p, sizeof(*g));
        g->response_min = apr_array_make(p, 16, sizeof(double));
        g->resolution_min = apr_array_make(p, 16, sizeof(double));
        apr_hash_set(h, apr_pstrdup(p, key), APR_HASH_KEY_STRING, g);
    }
    return g;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static json_t *median(apr_array_header_t *a)
{
    double *v = (double *)a->elts, m;
    if (!a->nelts) return json_null();
    qsort(v, (size_t)a->nelts, sizeof(double), cmp_double);
    m = (a->nelts % 2) ? v[a->nelts / 2] : (v[a->nelts / 2 - 1] + v[a->nelts / 2]) / 2;
    return json_real((double)(long long)(m * 10 + 0.5) / 10);   /* one decimal */
}

static void add(group_t *g, const char **c)
{
    apr_int64_t started = sd_store_to_i64(c[3]), resp_due = sd_store_to_i64(c[4]),
                res_due = sd_store_to_i64(c[5]), responded = sd_store_to_i64(c[6]),
                ended = sd_store_to_i64(c[7]);
    const char *outcome = c[8];
    int ended_ok = outcome && (!strcmp(outcome, "resolved") || !strcmp(outcome, "escalated"));
    double minutes;

    g->tickets++;
    if (responded && (!resp_due || responded <= resp_due)) g->responded_in_target++;
    if (ended_ok && (!res_due || ended <= res_due)) g->done_in_target++;
    if (sd_store_to_i64(c[9])) g->breached++;
    if (responded) {
        minutes = (double)(responded - started) / 60.0;
        APR_ARRAY_PUSH(g->response_min, double) = minutes;
    }
    if (ended_ok) {
        minutes = (double)(ended - started) / 60.0;
        APR_ARRAY_PUSH(g->resolution_min, double) = minutes;
    }
}

static json_t *share(int part, int whole)
{
    return whole ? json_real((double)(long long)((double)part * 1000 / whole + 0.5) / 1000)
                 : json_null();
}

static json_t *group_json(group_t *g, json_t *j)
{
    json_object_set_new(j, "tickets", json_integer(g->tickets));
    json_object_set_new(j, "responded_in_target", json_integer(g->responded_in_target));
    json_object_set_new(j, "responded_in_target_share", share(g->responded_in_target, g->tickets));
    json_object_set_new(j, "resolved_or_escalated_in_target", json_integer(g->done_in_target));
    json_object_set_new(j, "resolved_or_escalated_in_target_share",
                        share(g->done_in_target, g->tickets));
    json_object_set_new(j, "breached", json_integer(g->breached));
    json_object_set_new(j, "median_response_minutes", median(g->response_min));
    json_object_set_new(j, "median_resolution_minutes", median(g->resolution_min));
    return j;
}

static const char *csv_num(json_t *v, apr_pool_t *p)
{
    if (json_is_integer(v)) return apr_psprintf(p, "%" APR_INT64_T_FMT,
                                                (apr_int64_t)json_integer_value(v));
    if (json_is_real(v)) {
        char *t = apr_psprintf(p, "%.3f", json_real_value(v)), *e = t + strlen(t) - 1;
        while (*e == '0') *e-- = '\0';            /* 0.500 -> 0.5, 2.000 -> 2 */
        if (*e == '.') *e = '\0';
        return t;
    }
    return "";
}

static const char *csv_line(const char *group, const char *tier, const char *prio,
                            const char *cat, json_t *j, apr_pool_t *p)
{
    static const char *const cols[] = {
        "tickets", "responded_in_target", "responded_in_target_share",
        "resolved_or_escalated_in_target", "resolved_or_escalated_in_target_share",
        "breached", "median_response_minutes", "median_resolution_minutes", NULL
    };
    const char *line = apr_pstrcat(p, group, ",", tier, ",", prio, ",", cat, NULL);
    int i;
    for (i = 0; cols[i]; ++i)
        line = apr_pstrcat(p, line, ",", csv_num(json_object_get(j, cols[i]), p), NULL);
    return apr_pstrcat(p, line, "\r\n", NULL);
}

apr_status_t sd_desk_sla_report(json_t **pj, const char **pcsv, sd_db_t *db,
                                const sd_actor_t *who, apr_int64_t from, apr_int64_t to,
                                sd_problem_t *prob, apr_pool_t *p)
{
    const char *args[3] = { who->user->tenant, sd_store_i64(from, p), sd_store_i64(to, p) };
    apr_hash_t *by_tp = apr_hash_make(p), *by_cat = apr_hash_make(p);
    json_t *j, *arr;
    const char *csv;
    sd_rows_t *rows;
    apr_status_t rv;
    int i, t, pr;

    *pj = NULL;
    *pcsv = NULL;
    if (!sd_actor_is_agent(who))
        return sd_problem_set(prob, SD_EFORBIDDEN, SD_PT_FORBIDDEN,
                              "The SLA report is for support agents and administrators.");
    if (to <= from)
        return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
                              "'to' must be after 'from'.");
    if (APR_SUCCESS != (rv = sd_store_select(&rows, db, "sdesk_report_stints", 3, args, p)))
        return rv;
    for (i = 0; i < rows->nrows; ++i) {
        const char **c = rows->cell[i];
        add(group_get(by_tp, apr_pstrcat(p, c[0], "|", c[1], NULL), p), c);
        add(group_get(by_cat, c[2], p), c);
    }
    j = sd_json_own(p, json_object());
    json_object_set_new(j, "from", json_string(sd_time_rfc3339(sd_time_from_sec(from), p)));
    json_object_set_new(j, "to", json_string(sd_time_rfc3339(sd_time_from_sec(to), p)));
    json_object_set_new(j, "tenant", json_string(who->user->tenant));
    csv = "group,tier,priority,category,tickets,responded_in_target,responded_in_target_share,"
          "resolved_or_escalated_in_target,resolved_or_escalated_in_target_share,breached,"
          "median_response_minutes,median_resolution_minutes\r\n";
    arr = json_array();
    for (t = SD_TIER_MIN; t <= SD_TIER_MAX; ++t) {
        for (pr = 0; pr < SD_PRIO_COUNT; ++pr) {
            group_t *g = apr_hash_get(by_tp, apr_psprintf(p, "%d|%s", t, sd_priority_str(pr)),
                                      APR_HASH_KEY_STRING);
            json_t *row;
            if (!g) continue;
            row = group_json(g, json_pack("{s:i, s:s}", "tier", t, "priority",
                                          sd_priority_str(pr)));
            csv = apr_pstrcat(p, csv, csv_line("tier", apr_itoa(p, t), sd_priority_str(pr), "",
                                               row, p), NULL);
            json_array_append_new(arr, row);
        }
    }
    json_object_set_new(j, "by_tier_priority", arr);
    arr = json_array();
    for (i = 0; i < who->conf->categories->nelts; ++i) {
        const char *cat = APR_ARRAY_IDX(who->conf->categories, i, const char *);
        group_t *g = apr_hash_get(by_cat, cat, APR_HASH_KEY_STRING);
        json_t *row;
        if (!g) continue;
        row = group_json(g, json_pack("{s:s}", "category", cat));
        csv = apr_pstrcat(p, csv, csv_line("category", "", "", cat, row, p), NULL);
        json_array_append_new(arr, row);
    }
    json_object_set_new(j, "by_category", arr);
    *pj = j;
    *pcsv = csv;
    return APR_SUCCESS;
}
