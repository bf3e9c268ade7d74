/* GET /me and GET /meta. */
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"

#include "sdesk_api.h"
#include "sdesk_http.h"

int sdesk_api_me(sdesk_req_t *rq)
{
    const sd_user_t *u = rq->user;
    json_t *j = sd_json_own(rq->r->pool, json_object()), *roles = json_array(),
           *tiers = json_array();
    int t;

    json_object_set_new(j, "user", json_string(u->user));
    json_object_set_new(j, "name", json_string(u->name ? u->name : u->user));
    json_object_set_new(j, "email", u->email ? json_string(u->email) : json_null());
    json_object_set_new(j, "tenant", json_string(u->tenant));
    json_array_append_new(roles, json_string("reporter"));
    if (u->roles & SD_ROLE_AGENT) json_array_append_new(roles, json_string("agent"));
    if (u->roles & SD_ROLE_ADMIN) json_array_append_new(roles, json_string("admin"));
    for (t = SD_TIER_MIN; t <= SD_TIER_MAX; ++t)
        if (u->tiers & (1 << t)) json_array_append_new(tiers, json_integer(t));
    json_object_set_new(j, "roles", roles);
    json_object_set_new(j, "tiers", tiers);
    return sdesk_json(rq->r, HTTP_OK, j, NULL);
}

static json_t *words(const char *(*str)(int), int n)
{
    json_t *a = json_array();
    int i;
    for (i = 0; i < n; ++i) json_array_append_new(a, json_string(str(i)));
    return a;
}

int sdesk_api_meta(sdesk_req_t *rq)
{
    const sd_desk_conf_t *c = rq->sc->desk;
    json_t *j = sd_json_own(rq->r->pool, json_object()), *a, *m, *sla;
    int i, u, t;

    a = json_array();
    for (i = 0; i < c->categories->nelts; ++i)
        json_array_append_new(a, json_string(APR_ARRAY_IDX(c->categories, i, const char *)));
    json_object_set_new(j, "categories", a);
    json_object_set_new(j, "urgencies", words(sd_urgency_str, SD_URG_COUNT));
    json_object_set_new(j, "impacts", words(sd_impact_str, SD_IMPACT_COUNT));
    json_object_set_new(j, "priorities", words(sd_priority_str, SD_PRIO_COUNT));
    json_object_set_new(j, "statuses", words(sd_status_str, SD_ST_COUNT));
    json_object_set_new(j, "environments", words(sd_env_str, SD_ENV_COUNT));
    json_object_set_new(j, "tiers", json_pack("[i,i,i,i]", 1, 2, 3, 4));
    json_object_set_new(j, "roles", json_pack("[s,s,s]", "reporter", "agent", "admin"));
    json_object_set_new(j, "entry_tier", json_integer(c->entry_tier));
    m = json_object();
    for (u = 0; u < SD_URG_COUNT; ++u) {
        json_t *row = json_object();
        for (i = 0; i < SD_IMPACT_COUNT; ++i)
            json_object_set_new(row, sd_impact_str(i),
                                json_string(sd_priority_str(sd_priority_of(&c->matrix, u, i))));
        json_object_set_new(m, sd_urgency_str(u), row);
    }
    json_object_set_new(j, "priority_matrix", m);
    sla = json_array();
    for (t = SD_TIER_MIN; t <= SD_TIER_MAX; ++t) {
        json_t *res = json_object(), *rtc = json_object();
        for (i = 0; i < SD_PRIO_COUNT; ++i) {
            json_object_set_new(res, sd_priority_str(i), c->resolution_target[t][i]
                                ? json_integer(c->resolution_target[t][i] / 60) : json_null());
            json_object_set_new(rtc, sd_priority_str(i), json_boolean(c->resolution_rtc[t][i]));
        }
        json_array_append_new(sla, json_pack("{s:i, s:o, s:b, s:o, s:o}", "tier", t,
            "response_minutes", c->response_target[t]
                ? json_integer(c->response_target[t] / 60) : json_null(),
            "response_round_the_clock", c->response_rtc[t],
            "resolution_minutes", res, "resolution_round_the_clock", rtc));
    }
    json_object_set_new(j, "sla", sla);
    {
        static const char *const days[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
        json_t *week = json_object();
        int d, k;
        for (d = 0; d < 7; ++d) {
            json_t *ranges = json_array();
            for (k = 0; k < c->calendar.nranges[d]; ++k)
                json_array_append_new(ranges, json_string(apr_psprintf(rq->r->pool,
                    "%02d:%02d-%02d:%02d", c->calendar.range_start[d][k] / 60,
                    c->calendar.range_start[d][k] % 60, c->calendar.range_end[d][k] / 60,
                    c->calendar.range_end[d][k] % 60)));
            json_object_set_new(week, days[d], ranges);
        }
        json_t *hol = json_array();
        for (k = 0; k < c->calendar.holidays->nelts; ++k) {
            int y, m, dd;
            sd_sla_civil_from_days(APR_ARRAY_IDX(c->calendar.holidays, k, apr_int64_t),
                                   &y, &m, &dd);
            json_array_append_new(hol, json_string(apr_psprintf(rq->r->pool, "%04d-%02d-%02d",
                                                                y, m, dd)));
        }
        json_object_set_new(j, "business_hours", json_pack("{s:o, s:s, s:o, s:f}",
            "week", week, "time_zone", c->calendar.zone_name ? c->calendar.zone_name : "UTC",
            "holidays", hol, "at_risk_share", c->at_risk_share));
    }
    json_object_set_new(j, "limits", json_pack("{s:I, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:I, s:i}",
        "max_body", (json_int_t)c->limits.max_body, "max_depth", c->limits.max_depth,
        "max_subject", c->limits.max_subject, "max_description", c->limits.max_description,
        "max_field", c->limits.max_field, "max_cc", c->limits.max_cc,
        "max_context", c->limits.max_context, "default_page_limit", SD_DEF_PAGE_LIMIT,
        "max_page_limit", SD_MAX_PAGE_LIMIT,
        "max_attachment", (json_int_t)c->max_attachment, "max_attachments", c->max_attachments));
    return sdesk_json(rq->r, HTTP_OK, j, NULL);
}
