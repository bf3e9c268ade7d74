/* libFuzzer target for the JSON request mapping: lib/sd_json.c (parse under
 * size and depth limits, field tables) and every body validator behind it:
 * sd_ticket_from_json (POST /tickets, as reporter and as agent),
 * sd_desk_patch_from_json (PATCH /tickets/{id}), sd_kb_from_json (POST and
 * PATCH /known-issues), and the one-field bodies of comments, reopen,
 * escalate and link (the glue's tables, repeated here).
 *
 * Input: byte 0 picks the limits (bit 0-1: depth 1, 2, 4 or 32; bit 2: tight
 * string limits; bit 3: a 200-byte body cap), the rest is the body.
 *
 * Checks: the parser answers only success, SD_ETOOBIG or SD_EMALFORMED; a
 * parsed value is an object within the depth limit; every problem detail,
 * field name and message is valid UTF-8 that json_string accepts (the glue
 * renders them as JSON) and field names stay short; a validator answers
 * only success or SD_EINVALID (with field errors), and what it accepted obeys
 * the limits: lengths in characters, no control characters, vocabulary
 * words, cc addresses, context strings, stored JSON that parses back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sd_desk.h"
#include "sd_json.h"
#include "sd_kb.h"
#include "sd_query.h"
#include "sd_ticket.h"
#include "sd_fuzz.h"

static apr_pool_t *root;
static sd_desk_conf_t conf_default, conf_tight;

/* Field names echo the client's keys: they must stay short. */
#define MAX_FIELD_NAME 160

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    root = sd_fuzz_start();
    sd_json_init();
    sd_desk_conf_default(&conf_default, root);
    sd_desk_conf_default(&conf_tight, root);
    conf_tight.limits.max_subject = 3;
    conf_tight.limits.max_description = 5;
    conf_tight.limits.max_field = 2;
    conf_tight.limits.max_url = 12;
    conf_tight.limits.max_cc = 1;
    conf_tight.limits.max_context = 1;
    conf_tight.limits.max_context_val = 2;
    return 0;
}

/* What the glue does with a problem: every string goes through json_string. */
static void check_problem(const sd_problem_t *prob, apr_status_t rv)
{
    int i;
    if (prob->detail) CHECK(sd_utf8_valid(prob->detail, strlen(prob->detail)));
    if (prob->detail) {
        json_t *s = json_string(prob->detail);
        CHECK(s);
        json_decref(s);
    }
    if (rv == SD_EINVALID) CHECK(sd_problem_has_errors(prob));
    for (i = 0; prob->errors && i < prob->errors->nelts; ++i) {
        const sd_field_error_t *e = &APR_ARRAY_IDX(prob->errors, i, sd_field_error_t);
        json_t *j;
        CHECK(e->field && e->message && *e->message);
        CHECK(strlen(e->field) <= MAX_FIELD_NAME);
        j = json_pack("{s:s, s:s}", "field", e->field, "message", e->message);
        CHECK(j);
        json_decref(j);
    }
}

/* A validated string: within max characters, no controls (text: \t\n\r ok). */
static void check_str(const char *s, int max, int text)
{
    if (!s) return;
    CHECK(sd_utf8_valid(s, strlen(s)));
    CHECK(max <= 0 || sd_utf8_chars(s) <= (apr_size_t)max);
    CHECK(!sd_utf8_has_control(s, text));
}

/* Stored JSON: an array of strings (each passing ok()), at most max items. */
static void check_array_json(const char *text, int max, int (*ok)(const char *))
{
    json_error_t err;
    json_t *a, *v;
    size_t i;
    if (!text) return;
    a = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    CHECK(json_is_array(a));
    CHECK(max <= 0 || json_array_size(a) <= (size_t)max);
    json_array_foreach(a, i, v) {
        CHECK(json_is_string(v));
        if (ok) CHECK(ok(json_string_value(v)));
    }
    json_decref(a);
}

static void check_ticket(const sd_ticket_t *t, const sd_desk_conf_t *c, apr_pool_t *p)
{
    const sd_limits_t *l = &c->limits;
    json_t *ctx;
    const char *key;
    json_t *v;

    CHECK(t->subject && !sd_str_blank(t->subject));
    check_str(t->subject, l->max_subject, 0);
    CHECK(t->description && !sd_str_blank(t->description));
    check_str(t->description, l->max_description, 1);
    CHECK(sd_desk_conf_has_category(c, t->category));
    CHECK(t->priority >= 0 && t->priority < SD_PRIO_COUNT);
    CHECK((t->urgency < 0) == (t->impact < 0));
    CHECK(t->urgency < SD_URG_COUNT && t->impact < SD_IMPACT_COUNT);
    CHECK(t->environment >= -1 && t->environment < SD_ENV_COUNT);
    check_str(t->service, l->max_field, 0);
    check_str(t->encounter_id, l->max_field, 0);
    check_str(t->device_id, l->max_field, 0);
    check_str(t->device_model, l->max_field, 0);
    check_str(t->device_os, l->max_field, 0);
    check_str(t->device_app_version, l->max_field, 0);
    if (t->page_url) {
        CHECK(sd_ticket_url_ok(t->page_url));
        check_str(t->page_url, l->max_url, 0);
    }
    check_array_json(t->cc_json, l->max_cc, sd_ticket_email_ok);
    ctx = json_loads(t->context_json, JSON_REJECT_DUPLICATES, NULL);
    CHECK(json_is_object(ctx));
    CHECK(json_object_size(ctx) <= (size_t)l->max_context);
    json_object_foreach(ctx, key, v) {
        CHECK(json_is_string(v));
        CHECK(!sd_str_blank(key) && sd_utf8_chars(key) <= 64 && !sd_utf8_has_control(key, 0));
        check_str(json_string_value(v), l->max_context_val, 1);
    }
    json_decref(ctx);
    /* the representation of what was accepted renders */
    {
        sd_ticket_t full = *t;
        json_t *j;
        full.id = 1;
        full.tenant = "t";
        full.status = SD_ST_NEW;
        full.tier = c->entry_tier;
        full.reporter = "u";
        full.created_at = full.updated_at = full.tier_started_at = 1795424400;
        j = sd_ticket_json(&full, c, 1, 1, 1795424400, p);
        CHECK(j && sd_json_dump(j, p));
    }
}

static void run_ticket(const json_t *body, const sd_desk_conf_t *c, int agent, apr_pool_t *p)
{
    sd_problem_t prob;
    sd_ticket_t t;
    apr_status_t rv;

    sd_problem_init(&prob, p);
    rv = sd_ticket_from_json(&t, body, c, agent, &prob, p);
    CHECK(rv == APR_SUCCESS || rv == SD_EINVALID);
    check_problem(&prob, rv);
    if (rv == APR_SUCCESS) check_ticket(&t, c, p);
}

static void run_patch(const json_t *body, const sd_desk_conf_t *c, apr_pool_t *p)
{
    sd_problem_t prob;
    sd_ticket_patch_t pt;
    apr_status_t rv;

    sd_problem_init(&prob, p);
    rv = sd_desk_patch_from_json(&pt, body, c, &prob, p);
    CHECK(rv == APR_SUCCESS || rv == SD_EINVALID);
    check_problem(&prob, rv);
    if (rv != APR_SUCCESS) return;
    if (pt.has_status) CHECK(pt.status >= 0 && pt.status < SD_ST_COUNT);
    if (pt.has_priority) CHECK(pt.priority >= 0 && pt.priority < SD_PRIO_COUNT);
    if (pt.has_tier) CHECK(pt.tier >= SD_TIER_MIN && pt.tier <= SD_TIER_MAX);
    if (pt.has_category) CHECK(sd_desk_conf_has_category(c, pt.category));
    if (pt.has_assignee && pt.assignee) {
        CHECK(*pt.assignee);
        check_str(pt.assignee, 256, 0);
    }
    if (pt.has_cc) check_array_json(pt.cc_json, c->limits.max_cc, sd_ticket_email_ok);
    if (pt.has_description) {
        CHECK(!sd_str_blank(pt.description));
        check_str(pt.description, c->limits.max_description, 1);
    }
}

static int kb_short(const char *s)
{
    return !sd_str_blank(s) && !sd_utf8_has_control(s, 0);
}

static void run_kb(const json_t *body, const sd_desk_conf_t *c, int create, apr_pool_t *p)
{
    sd_problem_t prob;
    sd_kb_input_t in;
    apr_status_t rv;

    sd_problem_init(&prob, p);
    rv = sd_kb_from_json(&in, body, create, c, &prob, p);
    CHECK(rv == APR_SUCCESS || rv == SD_EINVALID);
    check_problem(&prob, rv);
    if (rv != APR_SUCCESS) return;
    if (create) CHECK(in.has_title);
    if (in.has_title) {
        CHECK(!sd_str_blank(in.title));
        check_str(in.title, c->limits.max_subject, 0);
    }
    if (in.has_symptoms) check_str(in.symptoms, c->limits.max_description, 1);
    if (in.has_workaround) check_str(in.workaround, c->limits.max_description, 1);
    if (in.has_resolution) check_str(in.resolution, c->limits.max_description, 1);
    if (in.has_status) CHECK(in.status >= 0 && in.status < SD_KI_COUNT);
    if (in.has_services) check_array_json(in.services_json, 20, kb_short);
    if (in.has_categories) check_array_json(in.categories_json, SD_MAX_CATEGORIES, kb_short);
    if (!create) CHECK(!in.has_scope);
}

/* The glue's one-field bodies (sdesk_api_tickets.c read_text, link). */
static void run_small(const json_t *body, const sd_desk_conf_t *c, apr_pool_t *p)
{
    static const char *const names[] = { "body", "reason", "note" };
    const sd_json_field_t link[] = {
        { "known_issue_id", SD_JT_INT, SD_JF_REQUIRED | SD_JF_NULLABLE, 0 },
    };
    sd_problem_t prob;
    apr_status_t rv;
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        const sd_json_field_t fields[] = {
            { names[i], SD_JT_TEXT, SD_JF_REQUIRED, c->limits.max_description },
            { "internal", SD_JT_BOOL, 0, 0 },
        };
        sd_problem_init(&prob, p);
        rv = sd_json_check(body, fields, i == 0 ? 2 : 1, "", &prob);
        CHECK(rv == APR_SUCCESS || rv == SD_EINVALID);
        check_problem(&prob, rv);
        if (rv == APR_SUCCESS) {
            const char *s = sd_json_str(body, names[i]);
            CHECK(s && !sd_str_blank(s));
            check_str(s, c->limits.max_description, 1);
        }
    }
    sd_problem_init(&prob, p);
    rv = sd_json_check(body, link, 1, "", &prob);
    CHECK(rv == APR_SUCCESS || rv == SD_EINVALID);
    check_problem(&prob, rv);
    if (rv == APR_SUCCESS) {
        const json_t *v = json_object_get(body, "known_issue_id");
        CHECK(v && (json_is_null(v) || json_is_integer(v)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int depths[4] = { 1, 2, 4, 32 };
    const sd_desk_conf_t *c;
    sd_limits_t lim;
    sd_problem_t prob;
    apr_pool_t *p;
    json_t *body;
    apr_status_t rv;
    unsigned mode;

    if (size < 1) return 0;
    mode = data[0];
    data++;
    size--;
    c = (mode & 4) ? &conf_tight : &conf_default;
    lim = c->limits;
    lim.max_depth = depths[mode & 3];
    if (mode & 8) lim.max_body = 200;

    apr_pool_create(&p, root);
    sd_problem_init(&prob, p);
    rv = sd_json_parse_object(&body, (const char *)data, size, &lim, &prob, p);
    CHECK(rv == APR_SUCCESS || rv == SD_ETOOBIG || rv == SD_EMALFORMED);
    check_problem(&prob, rv);
    if (rv == SD_ETOOBIG) CHECK(size > lim.max_body);
    if (rv == APR_SUCCESS) {
        CHECK(json_is_object(body) && !prob.type);
        CHECK(sd_json_depth(body) <= lim.max_depth);
        CHECK(size <= lim.max_body);
        run_ticket(body, c, 0, p);
        run_ticket(body, c, 1, p);
        run_patch(body, c, p);
        run_kb(body, c, 1, p);
        run_kb(body, c, 0, p);
        run_small(body, c, p);
    }
    apr_pool_destroy(p);
    return 0;
}
