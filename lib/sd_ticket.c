/* Ticket model: validation from JSON and JSON representations. */
#include <string.h>
#include <apr_strings.h>

#include "sd_ticket.h"
#include "sd_json.h"
#include "sd_time.h"

static const char *const default_categories[] = {
    "clinical-workflow", "device", "training", "configuration",
    "access", "bug", "outage", "other"
};

void sd_desk_conf_default(sd_desk_conf_t *c, apr_pool_t *p)
{
    static const int hours_resp[SD_TIER_MAX + 1] = { 0, 1, 1, 1, 8 };
    /* minutes: critical, urgent, high, normal (DESIGN.md) */
    static const int min_res[SD_TIER_MAX + 1][SD_PRIO_COUNT] = {
        { 0, 0, 0, 0 },
        { 30, 60, 4 * 60, 16 * 60 },
        { 30, 60, 8 * 60, 40 * 60 },
        { 4 * 60, 8 * 60, 24 * 60, 80 * 60 },
        { 0, 0, 0, 0 },                      /* tier 4: set on acceptance */
    };
    apr_size_t i;
    int t, pr;

    memset(c, 0, sizeof(*c));
    sd_limits_default(&c->limits);
    sd_priority_matrix_default(&c->matrix);
    c->categories = apr_array_make(p, 8, sizeof(const char *));
    for (i = 0; i < sizeof(default_categories) / sizeof(default_categories[0]); ++i)
        APR_ARRAY_PUSH(c->categories, const char *) = default_categories[i];
    c->entry_tier = 2;
    for (t = SD_TIER_MIN; t <= SD_TIER_MAX; ++t) {
        c->response_target[t] = (apr_int64_t)hours_resp[t] * 3600;
        for (pr = 0; pr < SD_PRIO_COUNT; ++pr)
            c->resolution_target[t][pr] = (apr_int64_t)min_res[t][pr] * 60;
        /* A patient-safety ticket cannot wait for Monday morning. */
        c->resolution_rtc[t][SD_PRIO_CRITICAL] = 1;
    }
    c->at_risk_share = 0.75;
    sd_sla_calendar_default(&c->calendar, p);
    c->autoclose_days = 7;
    c->max_attachment = 10 * 1024 * 1024;
    c->max_attachments = 20;
    c->max_attachments_total = 100 * 1024 * 1024;
}

int sd_ticket_transition_ok(int from, int to)
{
    static const int ok[SD_ST_COUNT][SD_ST_COUNT] = {
        /*            new open pend res clo */
        /* new */    { 0,  1,   1,   1,  0 },
        /* open */   { 0,  0,   1,   1,  0 },
        /* pending */{ 0,  1,   0,   1,  0 },
        /* resolved*/{ 0,  0,   0,   0,  1 },
        /* closed */ { 0,  0,   0,   0,  0 },
    };
    if (from < 0 || from >= SD_ST_COUNT || to < 0 || to >= SD_ST_COUNT) return 0;
    return ok[from][to];
}

void sd_ticket_recompute_dues(sd_ticket_t *t, const sd_desk_conf_t *c)
{
    int tier = t->tier, pr = t->priority;
    apr_int64_t target;
    if (tier < SD_TIER_MIN || tier > SD_TIER_MAX || pr < 0 || pr >= SD_PRIO_COUNT) return;
    target = c->response_target[tier];
    t->response_due_at = target ? sd_sla_add(&c->calendar, t->tier_started_at, target,
                                             c->response_rtc[tier]) : 0;
    target = c->resolution_target[tier][pr];
    t->resolution_due_at = target ? sd_sla_add(&c->calendar, t->tier_started_at,
                                               target + t->paused_seconds,
                                               c->resolution_rtc[tier][pr]) : 0;
}

static int resolution_rtc(const sd_ticket_t *t, const sd_desk_conf_t *c)
{
    if (t->tier < SD_TIER_MIN || t->tier > SD_TIER_MAX || t->priority < 0) return 0;
    return c->resolution_rtc[t->tier][t->priority];
}

void sd_ticket_set_status(sd_ticket_t *t, int status, const sd_desk_conf_t *c, apr_int64_t now)
{
    if (t->status == status) return;
    if (t->status == SD_ST_PENDING && t->pending_since) {
        /* waiting on the reporter is not the desk's time */
        t->paused_seconds += sd_sla_between(&c->calendar, t->pending_since, now,
                                            resolution_rtc(t, c));
        t->pending_since = 0;
        sd_ticket_recompute_dues(t, c);
    }
    if (status == SD_ST_PENDING) t->pending_since = now;
    if (status == SD_ST_RESOLVED) t->resolved_at = now;
    if (status == SD_ST_CLOSED) {
        t->closed_at = now;
        if (!t->resolved_at) t->resolved_at = now;
    }
    if (status == SD_ST_OPEN || status == SD_ST_NEW || status == SD_ST_PENDING) {
        t->resolved_at = 0;
        t->closed_at = 0;
    }
    t->status = status;
}

void sd_ticket_restart_clock(sd_ticket_t *t, const sd_desk_conf_t *c, apr_int64_t now)
{
    t->tier_started_at = now;
    t->responded_at = 0;
    t->paused_seconds = 0;
    t->sla_breached = 0;
    if (t->status == SD_ST_PENDING) t->pending_since = now;
    sd_ticket_recompute_dues(t, c);
}

int sd_desk_conf_has_category(const sd_desk_conf_t *c, const char *cat)
{
    int i;
    for (i = 0; cat && i < c->categories->nelts; ++i)
        if (!strcmp(APR_ARRAY_IDX(c->categories, i, const char *), cat)) return 1;
    return 0;
}

const char *sd_ticket_key(apr_int64_t id, apr_pool_t *p)
{
    return apr_psprintf(p, "SD-%" APR_INT64_T_FMT, id);
}

int sd_ticket_email_ok(const char *a)
{
    const char *at, *s;
    apr_size_t len;
    if (!a || !(len = strlen(a)) || len > 254) return 0;
    at = strchr(a, '@');
    if (!at || at == a || strchr(at + 1, '@') || (apr_size_t)(at - a) > 64) return 0;
    if (!at[1] || !strchr(at + 1, '.') || at[1] == '.' || a[len - 1] == '.') return 0;
    for (s = a; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c == 0x7f || strchr("<>(),;:\\\"[]", c)) return 0;
    }
    return 1;
}

int sd_ticket_url_ok(const char *url)
{
    const char *s, *host;
    if (!url) return 0;
    if (!strncasecmp(url, "https://", 8)) host = url + 8;
    else if (!strncasecmp(url, "http://", 7)) host = url + 7;
    else return 0;
    if (!*host || *host == '/') return 0;
    for (s = url; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c == 0x7f) return 0;
    }
    return 1;
}

/* An enum field: absent/null -> -1 without error; unknown word -> error. */
static int enum_field(const json_t *body, const char *name, int (*from)(const char *),
                      sd_problem_t *prob)
{
    const char *s = sd_json_str(body, name);
    int v;
    if (!s) return -1;
    v = from(s);
    if (v < 0) sd_problem_field(prob, name, "is not one of the allowed values (see /meta)");
    return v;
}

static int given(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return v && !json_is_null(v);
}

static const char *opt_str(const json_t *obj, const char *name, apr_pool_t *p)
{
    const char *s = sd_json_str(obj, name);
    return (s && !sd_str_blank(s)) ? apr_pstrdup(p, s) : NULL;
}

apr_status_t sd_ticket_from_json(sd_ticket_t *t, const json_t *body, const sd_desk_conf_t *c,
                                 int is_agent, sd_problem_t *prob, apr_pool_t *p)
{
    const sd_limits_t *l = &c->limits;
    const sd_json_field_t fields[] = {
        { "subject",      SD_JT_STRING, SD_JF_REQUIRED, l->max_subject },
        { "description",  SD_JT_TEXT,   SD_JF_REQUIRED, l->max_description },
        { "category",     SD_JT_STRING, SD_JF_REQUIRED, 64 },
        { "priority",     SD_JT_STRING, SD_JF_NULLABLE, 32 },
        { "urgency",      SD_JT_STRING, SD_JF_NULLABLE, 32 },
        { "impact",       SD_JT_STRING, SD_JF_NULLABLE, 32 },
        { "environment",  SD_JT_STRING, SD_JF_NULLABLE, 32 },
        { "service",      SD_JT_STRING, SD_JF_NULLABLE, l->max_field },
        { "encounter_id", SD_JT_STRING, SD_JF_NULLABLE, l->max_field },
        { "device",       SD_JT_OBJECT, SD_JF_NULLABLE, 4 },
        { "page_url",     SD_JT_STRING, SD_JF_NULLABLE, l->max_url },
        { "cc",           SD_JT_ARRAY,  SD_JF_NULLABLE, l->max_cc },
        { "context",      SD_JT_OBJECT, SD_JF_NULLABLE, l->max_context },
    };
    const sd_json_field_t device_fields[] = {
        { "id",          SD_JT_STRING, SD_JF_NULLABLE, l->max_field },
        { "model",       SD_JT_STRING, SD_JF_NULLABLE, l->max_field },
        { "os",          SD_JT_STRING, SD_JF_NULLABLE, l->max_field },
        { "app_version", SD_JT_STRING, SD_JF_NULLABLE, l->max_field },
    };
    const json_t *dev, *cc, *ctx, *v;
    json_t *out;
    const char *key, *s;
    apr_size_t i;
    int matrix_prio;

    memset(t, 0, sizeof(*t));
    t->urgency = t->impact = t->priority = t->environment = t->status = -1;
    /* Type and size errors first; the checks below look at a member only
     * when it has the right type, so every error is reported at once. */
    sd_json_check(body, fields, sizeof(fields) / sizeof(fields[0]), "", prob);

    dev = json_object_get(body, "device");
    if (json_is_object(dev))
        sd_json_check(dev, device_fields, sizeof(device_fields) / sizeof(device_fields[0]),
                      "device.", prob);
    cc = json_object_get(body, "cc");
    if (json_is_array(cc)) {
        json_array_foreach(cc, i, v) {
            if (!json_is_string(v) || !sd_ticket_email_ok(json_string_value(v)))
                sd_problem_field(prob, apr_psprintf(p, "cc[%lu]", (unsigned long)i),
                                 "is not an e-mail address");
        }
    }
    ctx = json_object_get(body, "context");
    if (json_is_object(ctx)) {
        json_object_foreach((json_t *)ctx, key, v) {
            const char *f = sd_json_echo_name("context.", key, p);
            if (sd_utf8_chars(key) > 64 || sd_utf8_has_control(key, 0) || sd_str_blank(key))
                sd_problem_field(prob, f, "is not an acceptable key (1-64 characters)");
            else if (!json_is_string(v))
                sd_problem_field(prob, f, "must be a string");
            else if (sd_utf8_chars(json_string_value(v)) > (apr_size_t)l->max_context_val)
                sd_problem_field(prob, f, "is longer than %d characters", l->max_context_val);
            else if (sd_utf8_has_control(json_string_value(v), 1))
                sd_problem_field(prob, f, "contains control characters");
        }
    }
    s = sd_json_str(body, "page_url");
    if (s && !sd_ticket_url_ok(s))
        sd_problem_field(prob, "page_url", "must be an absolute http or https URL");
    s = sd_json_str(body, "category");
    if (s && !sd_desk_conf_has_category(c, s))
        sd_problem_field(prob, "category", "is not one of the configured categories (see /meta)");

    t->priority = enum_field(body, "priority", sd_priority_from_str, prob);
    t->urgency = enum_field(body, "urgency", sd_urgency_from_str, prob);
    t->impact = enum_field(body, "impact", sd_impact_from_str, prob);
    t->environment = enum_field(body, "environment", sd_env_from_str, prob);
    /* "given" means present and not null, whatever its type: a wrong type
     * was reported above and must not also count as missing. */
    if (given(body, "urgency") != given(body, "impact")) {
        sd_problem_field(prob, given(body, "urgency") ? "impact" : "urgency",
                         "is required together with %s",
                         given(body, "urgency") ? "urgency" : "impact");
    }
    else if (!given(body, "urgency") && !given(body, "priority")) {
        sd_problem_field(prob, "priority", "is required unless urgency and impact are given");
    }
    if (sd_problem_has_errors(prob))
        return sd_problem_set(prob, SD_EINVALID, SD_PT_INVALID, "One or more fields are invalid.");

    if (t->urgency >= 0 && t->impact >= 0) {
        matrix_prio = sd_priority_of(&c->matrix, t->urgency, t->impact);
        /* Reporters get the matrix; an agent's explicit choice stands. */
        if (t->priority < 0 || !is_agent) t->priority = matrix_prio;
    }
    t->subject = apr_pstrdup(p, sd_json_str(body, "subject"));
    t->description = apr_pstrdup(p, sd_json_str(body, "description"));
    t->category = apr_pstrdup(p, sd_json_str(body, "category"));
    t->service = opt_str(body, "service", p);
    t->encounter_id = opt_str(body, "encounter_id", p);
    t->page_url = opt_str(body, "page_url", p);
    if (json_is_object(dev)) {
        t->device_id = opt_str(dev, "id", p);
        t->device_model = opt_str(dev, "model", p);
        t->device_os = opt_str(dev, "os", p);
        t->device_app_version = opt_str(dev, "app_version", p);
        t->has_device = t->device_id || t->device_model || t->device_os || t->device_app_version;
    }
    /* Rebuild cc and context from the validated strings: never dump a value
     * straight from the request. */
    out = sd_json_own(p, json_array());
    if (json_is_array(cc))
        json_array_foreach(cc, i, v) json_array_append_new(out, json_string(json_string_value(v)));
    t->cc_json = sd_json_dump(out, p);
    out = sd_json_own(p, json_object());
    if (json_is_object(ctx))
        json_object_foreach((json_t *)ctx, key, v)
            json_object_set_new(out, key, json_string(json_string_value(v)));
    t->context_json = sd_json_dump(out, p);
    return APR_SUCCESS;
}

/* Share of a target used by `now`, in the target's own time (business or
 * round the clock), pauses excluded. */
static double share_used(const sd_desk_conf_t *c, apr_int64_t start, apr_int64_t now,
                         apr_int64_t paused, apr_int64_t target, int rtc)
{
    apr_int64_t used;
    if (target <= 0) return 0;
    used = sd_sla_between(&c->calendar, start, now, rtc) - paused;
    return used <= 0 ? 0 : (double)used / (double)target;
}

const char *sd_ticket_sla(const sd_ticket_t *t, const sd_desk_conf_t *c, apr_int64_t now)
{
    int done = (t->status == SD_ST_RESOLVED || t->status == SD_ST_CLOSED);
    int at_risk = 0, tier = t->tier, pr = t->priority;
    apr_int64_t start = t->tier_started_at ? t->tier_started_at : t->created_at;

    if (t->sla_breached) return "breached";
    /* A resolved or closed ticket's SLA is final: judge it when it was done. */
    if (done && (t->resolved_at || t->closed_at)) now = t->resolved_at ? t->resolved_at : t->closed_at;
    if (tier < SD_TIER_MIN || tier > SD_TIER_MAX || pr < 0 || pr >= SD_PRIO_COUNT) return "ok";
    if (!t->responded_at && t->response_due_at) {
        if (now > t->response_due_at) return "breached";
        if (!done && share_used(c, start, now, 0, c->response_target[tier],
                                c->response_rtc[tier]) >= c->at_risk_share)
            at_risk = 1;
    }
    /* Pending: the resolution clock is paused, it can neither run late nor
     * come close to it. */
    if (!done && t->status != SD_ST_PENDING && t->resolution_due_at) {
        if (now > t->resolution_due_at) return "breached";
        if (share_used(c, start, now, t->paused_seconds, c->resolution_target[tier][pr],
                       c->resolution_rtc[tier][pr]) >= c->at_risk_share)
            at_risk = 1;
    }
    return at_risk ? "at-risk" : "ok";
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *jtime(apr_int64_t sec, apr_pool_t *p)
{
    return sec ? json_string(sd_time_rfc3339(sd_time_from_sec(sec), p)) : json_null();
}

static json_t *jenum(const char *(*str)(int), int v)
{
    return v >= 0 ? jstr(str(v)) : json_null();
}

static json_t *reporter_json(const sd_ticket_t *t)
{
    return json_pack("{s:s, s:s, s:o}", "user", t->reporter, "name",
                     t->reporter_name ? t->reporter_name : t->reporter,
                     "email", jstr(t->reporter_email));
}

/* Stored JSON text (ours, written by sd_ticket_from_json), or a fallback. */
static json_t *stored_json(const char *text, int want_array)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    if (!j || (want_array ? !json_is_array(j) : !json_is_object(j))) {
        if (j) json_decref(j);
        j = want_array ? json_array() : json_object();
    }
    return j;
}

json_t *sd_ticket_summary_json(const sd_ticket_t *t, const sd_desk_conf_t *c,
                               apr_int64_t now, apr_pool_t *p)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(t->id));
    json_object_set_new(j, "key", json_string(sd_ticket_key(t->id, p)));
    json_object_set_new(j, "subject", jstr(t->subject));
    json_object_set_new(j, "category", jstr(t->category));
    json_object_set_new(j, "priority", jenum(sd_priority_str, t->priority));
    json_object_set_new(j, "status", jenum(sd_status_str, t->status));
    json_object_set_new(j, "tier", json_integer(t->tier));
    json_object_set_new(j, "reporter", reporter_json(t));
    json_object_set_new(j, "assignee", jstr(t->assignee));
    json_object_set_new(j, "created_at", jtime(t->created_at, p));
    json_object_set_new(j, "updated_at", jtime(t->updated_at, p));
    json_object_set_new(j, "resolution_due_at", jtime(t->resolution_due_at, p));
    json_object_set_new(j, "sla", json_string(sd_ticket_sla(t, c, now)));
    return sd_json_own(p, j);
}

json_t *sd_ticket_json(const sd_ticket_t *t, const sd_desk_conf_t *c, int with_internal,
                       int with_events, apr_int64_t now, apr_pool_t *p)
{
    json_t *j = json_object(), *arr;
    int i;

    json_object_set_new(j, "id", json_integer(t->id));
    json_object_set_new(j, "key", json_string(sd_ticket_key(t->id, p)));
    json_object_set_new(j, "tenant", jstr(t->tenant));
    json_object_set_new(j, "subject", jstr(t->subject));
    json_object_set_new(j, "description", jstr(t->description));
    json_object_set_new(j, "category", jstr(t->category));
    json_object_set_new(j, "urgency", jenum(sd_urgency_str, t->urgency));
    json_object_set_new(j, "impact", jenum(sd_impact_str, t->impact));
    json_object_set_new(j, "priority", jenum(sd_priority_str, t->priority));
    json_object_set_new(j, "status", jenum(sd_status_str, t->status));
    json_object_set_new(j, "tier", json_integer(t->tier));
    json_object_set_new(j, "environment", jenum(sd_env_str, t->environment));
    json_object_set_new(j, "service", jstr(t->service));
    json_object_set_new(j, "encounter_id", jstr(t->encounter_id));
    json_object_set_new(j, "device", t->has_device
        ? json_pack("{s:o, s:o, s:o, s:o}", "id", jstr(t->device_id),
                    "model", jstr(t->device_model), "os", jstr(t->device_os),
                    "app_version", jstr(t->device_app_version))
        : json_null());
    json_object_set_new(j, "page_url", jstr(t->page_url));
    json_object_set_new(j, "cc", stored_json(t->cc_json, 1));
    json_object_set_new(j, "context", stored_json(t->context_json, 0));
    json_object_set_new(j, "reporter", reporter_json(t));
    json_object_set_new(j, "assignee", jstr(t->assignee));
    if (t->known_issue_id && t->ki_title)
        json_object_set_new(j, "known_issue", json_pack("{s:I, s:s, s:s, s:s}",
            "id", (json_int_t)t->known_issue_id, "title", t->ki_title,
            "status", t->ki_status ? t->ki_status : "active",
            "workaround", t->ki_workaround ? t->ki_workaround : ""));
    else
        json_object_set_new(j, "known_issue", t->known_issue_id
                            ? json_pack("{s:I}", "id", (json_int_t)t->known_issue_id)
                            : json_null());
    json_object_set_new(j, "created_at", jtime(t->created_at, p));
    json_object_set_new(j, "updated_at", jtime(t->updated_at, p));
    json_object_set_new(j, "response_due_at", jtime(t->response_due_at, p));
    json_object_set_new(j, "resolution_due_at", jtime(t->resolution_due_at, p));
    json_object_set_new(j, "first_response_at", jtime(t->first_response_at, p));
    json_object_set_new(j, "resolved_at", jtime(t->resolved_at, p));
    json_object_set_new(j, "closed_at", jtime(t->closed_at, p));
    json_object_set_new(j, "sla", json_string(sd_ticket_sla(t, c, now)));

    arr = json_array();
    for (i = 0; t->comments && i < t->comments->nelts; ++i) {
        const sd_comment_t *cm = &APR_ARRAY_IDX(t->comments, i, sd_comment_t);
        if (cm->internal && !with_internal) continue;
        json_array_append_new(arr, json_pack("{s:I, s:{s:s, s:s}, s:s, s:b, s:o}",
            "id", (json_int_t)cm->id, "author", "user", cm->author, "name", cm->author_name,
            "body", cm->body, "internal", cm->internal, "created_at", jtime(cm->created_at, p)));
    }
    json_object_set_new(j, "comments", arr);
    arr = json_array();
    for (i = 0; t->attachments && i < t->attachments->nelts; ++i) {
        const sd_attachment_meta_t *a = &APR_ARRAY_IDX(t->attachments, i, sd_attachment_meta_t);
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:I, s:o}",
            "id", (json_int_t)a->id, "filename", a->filename, "media_type", a->media_type,
            "size", (json_int_t)a->size, "created_at", jtime(a->created_at, p)));
    }
    json_object_set_new(j, "attachments", arr);
    if (with_events) {
        arr = json_array();
        for (i = 0; t->events && i < t->events->nelts; ++i) {
            const sd_event_t *e = &APR_ARRAY_IDX(t->events, i, sd_event_t);
            json_array_append_new(arr, json_pack("{s:I, s:o, s:s, s:s, s:o, s:o, s:o, s:o}",
                "id", (json_int_t)e->id, "at", jtime(e->at, p), "actor", e->actor,
                "kind", e->kind, "field", jstr(e->field), "old", jstr(e->old_value),
                "new", jstr(e->new_value), "note", jstr(e->note)));
        }
        json_object_set_new(j, "events", arr);
    }
    return sd_json_own(p, j);
}
