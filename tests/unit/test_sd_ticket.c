/* Unit tests for lib/sd_ticket.c: validation of a new ticket from JSON (valid
 * and invalid bodies as tables), e-mail and URL checks, the SLA state at fixed
 * times, and the JSON representations. */
#include <string.h>

#include <apr_strings.h>

#include "sd_test.h"
#include "sd_json.h"
#include "sd_ticket.h"
#include "sd_test_matrix.h"

/* 2026-11-22T10:15:00Z, a Sunday. */
#define T0 ((apr_int64_t)1795342500)

/* ---- helpers ------------------------------------------------------------- */

/* Every body starts from this valid one; a case patches members over it and
 * drops others. */
#define BASE_BODY \
    "{\"subject\": \"Printer on ward 3 jams\"," \
    " \"description\": \"Every second page.\\nSince Monday.\"," \
    " \"category\": \"device\", \"priority\": \"high\"}"

static json_t *load(const char *text, apr_pool_t *p)
{
    json_error_t err;
    json_t *j = sd_json_own(p, json_loads(text, JSON_REJECT_DUPLICATES, &err));
    if (!j) fail_msg("test JSON does not parse (%s): %s", err.text, text);
    return j;
}

/* BASE_BODY with the members of patch set over it and the comma-separated
 * members of drop removed. Owned by p. */
static json_t *make_body(const char *patch, const char *drop, apr_pool_t *p)
{
    json_t *b = load(BASE_BODY, p);
    char *names, *name, *save = NULL;

    if (patch) json_object_update(b, load(patch, p));
    if (drop) {
        names = apr_pstrdup(p, drop);
        for (name = apr_strtok(names, ",", &save); name; name = apr_strtok(NULL, ",", &save))
            json_object_del(b, name);
    }
    return b;
}

static const char *repeat(const char *unit, int n, apr_pool_t *p)
{
    apr_size_t ul = strlen(unit);
    char *s = apr_palloc(p, ul * (apr_size_t)n + 1), *c = s;
    int i;
    for (i = 0; i < n; i++, c += ul) memcpy(c, unit, ul);
    *c = '\0';
    return s;
}

static const char *error_fields(const sd_problem_t *prob, apr_pool_t *p)
{
    const char *s = "";
    int i;
    for (i = 0; prob->errors && i < prob->errors->nelts; i++) {
        s = apr_pstrcat(p, s, i ? ", " : "",
                        APR_ARRAY_IDX(prob->errors, i, sd_field_error_t).field, NULL);
    }
    return s;
}

static int has_field(const sd_problem_t *prob, const char *field)
{
    int i;
    for (i = 0; prob->errors && i < prob->errors->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(prob->errors, i, sd_field_error_t).field, field)) return 1;
    }
    return 0;
}

static const char *message_of(const sd_problem_t *prob, const char *field)
{
    int i;
    for (i = 0; prob->errors && i < prob->errors->nelts; i++) {
        const sd_field_error_t *fe = &APR_ARRAY_IDX(prob->errors, i, sd_field_error_t);
        if (!strcmp(fe->field, field)) return fe->message;
    }
    return NULL;
}

/* The body must fail with exactly these field names: every expected one is
 * reported, and nothing else is. */
static void expect_invalid(const char *name, const json_t *body, int agent,
                           const char *const *fields, apr_pool_t *p)
{
    sd_desk_conf_t conf;
    sd_problem_t prob;
    sd_ticket_t t;
    apr_status_t rv;
    int i, n = 0;

    sd_desk_conf_default(&conf, p);
    sd_problem_init(&prob, p);
    rv = sd_ticket_from_json(&t, body, &conf, agent, &prob, p);
    if (rv != SD_EINVALID)
        fail_msg("%s: expected SD_EINVALID, got %d (errors: %s)", name, rv,
                 error_fields(&prob, p));
    assert_non_null(prob.type);
    assert_string_equal(SD_PT_INVALID, prob.type);
    for (; fields[n]; n++) {
        if (!has_field(&prob, fields[n]))
            fail_msg("%s: no error for '%s' (errors: %s)", name, fields[n],
                     error_fields(&prob, p));
    }
    assert_true(n > 0);
    for (i = 0; i < prob.errors->nelts; i++) {
        const char *got = APR_ARRAY_IDX(prob.errors, i, sd_field_error_t).field;
        int k, known = 0;
        for (k = 0; k < n; k++) known |= !strcmp(got, fields[k]);
        if (!known)
            fail_msg("%s: unexpected error for '%s' (errors: %s)", name, got,
                     error_fields(&prob, p));
    }
}

static void expect_valid(const char *name, sd_ticket_t *t, const json_t *body, int agent,
                         const sd_desk_conf_t *conf, apr_pool_t *p)
{
    sd_problem_t prob;
    apr_status_t rv;

    sd_problem_init(&prob, p);
    rv = sd_ticket_from_json(t, body, conf, agent, &prob, p);
    if (rv != APR_SUCCESS)
        fail_msg("%s: expected success, got %d (errors: %s)", name, rv, error_fields(&prob, p));
    assert_false(sd_problem_has_errors(&prob));
}

/* ---- valid bodies ------------------------------------------------------------ */


static void test_priority_from_matrix_every_cell(void **state)
{
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_ticket_t t;
    apr_size_t i;
    int agent;

    sd_desk_conf_default(&conf, p);
    assert_int_equal(SD_URG_COUNT * SD_IMPACT_COUNT, (int)(SD_TEST_NCELLS));
    for (i = 0; i < SD_TEST_NCELLS; i++) {
        for (agent = 0; agent <= 1; agent++) {
            const char *patch = apr_psprintf(p, "{\"urgency\": \"%s\", \"impact\": \"%s\"}",
                                             sd_test_matrix[i].urgency, sd_test_matrix[i].impact);
            const char *name = apr_psprintf(p, "%s x %s (%s)", sd_test_matrix[i].urgency,
                                            sd_test_matrix[i].impact, agent ? "agent" : "reporter");
            expect_valid(name, &t, make_body(patch, "priority", p), agent, &conf, p);
            if (t.priority < 0 || strcmp(sd_test_matrix[i].priority, sd_priority_str(t.priority)))
                fail_msg("%s: want %s, got %s", name, sd_test_matrix[i].priority,
                         t.priority < 0 ? "none" : sd_priority_str(t.priority));
            assert_string_equal(sd_test_matrix[i].urgency, sd_urgency_str(t.urgency));
            assert_string_equal(sd_test_matrix[i].impact, sd_impact_str(t.impact));
        }
    }
}

static const struct {
    const char *name;
    const char *patch, *drop;
    int agent;
    int urgency, impact, priority, environment;
} good[] = {
    { "only priority", NULL, NULL, 0,
      -1, -1, SD_PRIO_HIGH, -1 },
    { "only priority, agent", "{\"priority\": \"critical\"}", NULL, 1,
      -1, -1, SD_PRIO_CRITICAL, -1 },
    { "priority agrees with the matrix",
      "{\"urgency\": \"job-stopped\", \"impact\": \"single\", \"priority\": \"high\"}", NULL, 0,
      SD_URG_JOB_STOPPED, SD_IMPACT_SINGLE, SD_PRIO_HIGH, -1 },
    { "reporter: the matrix wins over a lower priority",
      "{\"urgency\": \"patient-safety\", \"impact\": \"single\", \"priority\": \"normal\"}",
      NULL, 0, SD_URG_PATIENT_SAFETY, SD_IMPACT_SINGLE, SD_PRIO_CRITICAL, -1 },
    { "reporter: the matrix wins over a higher priority",
      "{\"urgency\": \"not-blocking\", \"impact\": \"all\", \"priority\": \"critical\"}",
      NULL, 0, SD_URG_NOT_BLOCKING, SD_IMPACT_ALL, SD_PRIO_NORMAL, -1 },
    { "agent: the stated priority wins",
      "{\"urgency\": \"patient-safety\", \"impact\": \"single\", \"priority\": \"normal\"}",
      NULL, 1, SD_URG_PATIENT_SAFETY, SD_IMPACT_SINGLE, SD_PRIO_NORMAL, -1 },
    { "agent: higher stated priority wins too",
      "{\"urgency\": \"not-blocking\", \"impact\": \"all\", \"priority\": \"urgent\"}",
      NULL, 1, SD_URG_NOT_BLOCKING, SD_IMPACT_ALL, SD_PRIO_URGENT, -1 },
    { "agent without priority gets the matrix",
      "{\"urgency\": \"function-affected\", \"impact\": \"all\"}", "priority", 1,
      SD_URG_FUNCTION_AFFECTED, SD_IMPACT_ALL, SD_PRIO_URGENT, -1 },
    { "null priority with urgency and impact",
      "{\"priority\": null, \"urgency\": \"job-stopped\", \"impact\": \"multiple\"}", NULL, 0,
      SD_URG_JOB_STOPPED, SD_IMPACT_MULTIPLE, SD_PRIO_URGENT, -1 },
    { "null urgency and impact with a priority",
      "{\"urgency\": null, \"impact\": null, \"priority\": \"normal\"}", NULL, 0,
      -1, -1, SD_PRIO_NORMAL, -1 },
    { "environment", "{\"environment\": \"training\"}", NULL, 0,
      -1, -1, SD_PRIO_HIGH, SD_ENV_TRAINING },
    { "null environment", "{\"environment\": null}", NULL, 0,
      -1, -1, SD_PRIO_HIGH, -1 },
};

static void test_valid_bodies(void **state)
{
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_ticket_t t;
    apr_size_t i;

    sd_desk_conf_default(&conf, p);
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        memset(&t, 0x5a, sizeof(t));
        expect_valid(good[i].name, &t, make_body(good[i].patch, good[i].drop, p), good[i].agent,
                     &conf, p);
        if (t.urgency != good[i].urgency || t.impact != good[i].impact
            || t.priority != good[i].priority || t.environment != good[i].environment)
            fail_msg("%s: got urgency %d impact %d priority %d environment %d", good[i].name,
                     t.urgency, t.impact, t.priority, t.environment);
        /* The server sets these, never the body. */
        assert_int_equal(-1, t.status);
        assert_int_equal(0, t.tier);
        assert_true(t.id == 0 && t.created_at == 0 && t.response_due_at == 0);
        assert_null(t.reporter);
        assert_null(t.tenant);
        assert_string_equal("Printer on ward 3 jams", t.subject);
        assert_string_equal("device", t.category);
    }
}

static void test_valid_fields_copied(void **state)
{
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_ticket_t t;
    json_t *b;

    sd_desk_conf_default(&conf, p);
    b = make_body("{\"subject\": \"Drucker st\\u00f6rt \\u2014 Station 3\","
                  " \"description\": \"line 1\\nline 2\\tindented\\r\\n\","
                  " \"category\": \"clinical-workflow\","
                  " \"service\": \"EPR\", \"encounter_id\": \"E-2026-0042\","
                  " \"device\": {\"id\": \"D-17\", \"model\": \"Zebra ZT410\", \"os\": null,"
                  "              \"app_version\": \"  \"},"
                  " \"page_url\": \"https://intranet.example/ward/3?tab=orders#top\"}",
                  NULL, p);
    expect_valid("all fields", &t, b, 0, &conf, p);
    assert_string_equal("Drucker st\xc3\xb6rt \xe2\x80\x94 Station 3", t.subject);
    assert_string_equal("line 1\nline 2\tindented\r\n", t.description);
    assert_string_equal("clinical-workflow", t.category);
    assert_string_equal("EPR", t.service);
    assert_string_equal("E-2026-0042", t.encounter_id);
    assert_int_equal(1, t.has_device);
    assert_string_equal("D-17", t.device_id);
    assert_string_equal("Zebra ZT410", t.device_model);
    assert_null(t.device_os);              /* null */
    assert_null(t.device_app_version);     /* blank is "none" */
    assert_string_equal("https://intranet.example/ward/3?tab=orders#top", t.page_url);
    assert_string_equal("[]", t.cc_json);
    assert_string_equal("{}", t.context_json);

    /* The copies belong to p, not to the body. */
    assert_ptr_not_equal(json_string_value(json_object_get(b, "subject")), t.subject);

    /* Optional members that are blank or null are "none"; a device with no
     * value is no device. */
    b = make_body("{\"service\": \" \\u00a0 \", \"encounter_id\": null, \"page_url\": null,"
                  " \"device\": {\"id\": \" \", \"model\": null}}", NULL, p);
    expect_valid("blank optionals", &t, b, 0, &conf, p);
    assert_null(t.service);
    assert_null(t.encounter_id);
    assert_null(t.page_url);
    assert_int_equal(0, t.has_device);
    assert_null(t.device_id);
    assert_null(t.device_model);

    b = make_body("{\"device\": {}}", NULL, p);
    expect_valid("empty device", &t, b, 0, &conf, p);
    assert_int_equal(0, t.has_device);
    b = make_body("{\"device\": null, \"cc\": null, \"context\": null}", NULL, p);
    expect_valid("null device", &t, b, 0, &conf, p);
    assert_int_equal(0, t.has_device);
    assert_string_equal("[]", t.cc_json);
    assert_string_equal("{}", t.context_json);
}

/* Subject limit: 200 characters, not bytes. Each Cyrillic letter is two bytes. */
static void test_subject_length_in_characters(void **state)
{
    static const char *const subject[] = { "subject", NULL };
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_ticket_t t;
    json_t *b;
    const char *s200 = repeat("\xd0\x96", 200, p);     /* U+0416 */
    const char *s201 = repeat("\xd0\x96", 201, p);

    sd_desk_conf_default(&conf, p);
    assert_int_equal(200, conf.limits.max_subject);
    assert_int_equal(400, (int)strlen(s200));

    b = make_body(NULL, NULL, p);
    json_object_set_new(b, "subject", json_string(s200));
    expect_valid("200 Cyrillic characters", &t, b, 0, &conf, p);
    assert_string_equal(s200, t.subject);

    json_object_set_new(b, "subject", json_string(s201));
    expect_invalid("201 Cyrillic characters", b, 0, subject, p);

    json_object_set_new(b, "subject", json_string(repeat("a", 200, p)));
    expect_valid("200 ASCII characters", &t, b, 0, &conf, p);
    json_object_set_new(b, "subject", json_string(repeat("a", 201, p)));
    expect_invalid("201 ASCII characters", b, 0, subject, p);

    /* Four-byte characters count once too. */
    json_object_set_new(b, "subject", json_string(repeat("\xf0\x9f\x96\xa8", 200, p)));
    expect_valid("200 emoji", &t, b, 0, &conf, p);
    json_object_set_new(b, "subject", json_string(repeat("\xf0\x9f\x96\xa8", 201, p)));
    expect_invalid("201 emoji", b, 0, subject, p);
}

/* The other limits of the default configuration, at and over the edge. */
static void test_limits_at_the_edge(void **state)
{
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_ticket_t t;
    json_t *b, *cc, *ctx;
    int i;

    sd_desk_conf_default(&conf, p);

    /* description: 20000 characters */
    b = make_body(NULL, NULL, p);
    json_object_set_new(b, "description", json_string(repeat("\xc3\xa9", 20000, p)));
    expect_valid("description 20000", &t, b, 0, &conf, p);
    json_object_set_new(b, "description", json_string(repeat("\xc3\xa9", 20001, p)));
    {
        static const char *const f[] = { "description", NULL };
        expect_invalid("description 20001", b, 0, f, p);
    }

    /* service, encounter_id, device.*: 200 characters */
    b = make_body(NULL, NULL, p);
    json_object_set_new(b, "service", json_string(repeat("s", 200, p)));
    json_object_set_new(b, "encounter_id", json_string(repeat("e", 200, p)));
    json_object_set_new(b, "device", json_pack("{s:s}", "model", repeat("m", 200, p)));
    expect_valid("fields at 200", &t, b, 0, &conf, p);
    json_object_set_new(b, "service", json_string(repeat("s", 201, p)));
    json_object_set_new(b, "encounter_id", json_string(repeat("e", 201, p)));
    json_object_set_new(b, "device", json_pack("{s:s}", "model", repeat("m", 201, p)));
    {
        static const char *const f[] = { "service", "encounter_id", "device.model", NULL };
        expect_invalid("fields at 201", b, 0, f, p);
    }

    /* page_url: 2048 characters */
    b = make_body(NULL, NULL, p);
    json_object_set_new(b, "page_url",
                        json_string(apr_pstrcat(p, "https://h/", repeat("a", 2038, p), NULL)));
    expect_valid("url 2048", &t, b, 0, &conf, p);
    assert_int_equal(2048, (int)strlen(t.page_url));
    json_object_set_new(b, "page_url",
                        json_string(apr_pstrcat(p, "https://h/", repeat("a", 2039, p), NULL)));
    {
        static const char *const f[] = { "page_url", NULL };
        expect_invalid("url 2049", b, 0, f, p);
    }

    /* cc: 20 addresses */
    b = make_body(NULL, NULL, p);
    cc = json_array();
    for (i = 0; i < 20; i++)
        json_array_append_new(cc, json_string(apr_psprintf(p, "user%d@north.example", i)));
    json_object_set_new(b, "cc", cc);
    expect_valid("20 cc", &t, b, 0, &conf, p);
    assert_non_null(strstr(t.cc_json, "\"user19@north.example\"]"));
    json_array_append_new(cc, json_string("user20@north.example"));
    {
        static const char *const f[] = { "cc", NULL };
        expect_invalid("21 cc", b, 0, f, p);
        assert_int_equal(21, (int)json_array_size(cc));
    }

    /* context: 20 members, values of 1000 characters */
    b = make_body(NULL, NULL, p);
    ctx = json_object();
    for (i = 0; i < 20; i++)
        json_object_set_new(ctx, apr_psprintf(p, "k%d", i), json_string(repeat("v", 1000, p)));
    json_object_set_new(b, "context", ctx);
    expect_valid("20 context members of 1000", &t, b, 0, &conf, p);
    json_object_set_new(ctx, "k20", json_string("v"));
    {
        static const char *const f[] = { "context", NULL };
        expect_invalid("21 context members", b, 0, f, p);
    }
    json_object_del(ctx, "k20");
    json_object_set_new(ctx, "k0", json_string(repeat("v", 1001, p)));
    {
        static const char *const f[] = { "context.k0", NULL };
        expect_invalid("context value 1001", b, 0, f, p);
    }
    /* Keys: 1 to 64 characters. */
    json_object_set_new(ctx, "k0", json_string("v"));
    json_object_del(ctx, "k19");
    json_object_set_new(ctx, repeat("\xd0\x96", 64, p), json_string("v"));
    expect_valid("context key of 64", &t, b, 0, &conf, p);
    json_object_del(ctx, repeat("\xd0\x96", 64, p));
    json_object_set_new(ctx, repeat("\xd0\x96", 65, p), json_string("v"));
    {
        /* the client's key comes back cut to 64 bytes (sd_json_echo_name) */
        const char *f[] = { apr_pstrcat(p, "context.", repeat("\xd0\x96", 32, p), "...", NULL),
                            NULL };
        expect_invalid("context key of 65", b, 0, f, p);
    }
}

/* ---- invalid bodies ------------------------------------------------------------ */

#define F(...) { __VA_ARGS__, NULL }

static const struct {
    const char *name;
    const char *patch, *drop;
    const char *fields[14];
} bad[] = {
    /* unknown members */
    { "unknown field", "{\"foo\": 1}", NULL, F("foo") },
    { "server field", "{\"status\": \"closed\"}", NULL, F("status") },
    { "server fields", "{\"id\": 7, \"tenant\": \"south\", \"reporter\": \"x\"}", NULL,
      F("id", "tenant", "reporter") },
    /* required members */
    { "empty body", "{}", "subject,description,category,priority",
      F("subject", "description", "category", "priority") },
    { "missing subject", NULL, "subject", F("subject") },
    { "null subject", "{\"subject\": null}", NULL, F("subject") },
    { "empty subject", "{\"subject\": \"\"}", NULL, F("subject") },
    { "blank subject", "{\"subject\": \" \\t\\u00a0\\u2003 \"}", NULL, F("subject") },
    { "missing description", NULL, "description", F("description") },
    { "blank description", "{\"description\": \"\\n\\n\"}", NULL, F("description") },
    { "missing category", NULL, "category", F("category") },
    { "neither priority nor urgency x impact", NULL, "priority", F("priority") },
    /* control characters */
    { "BEL in subject", "{\"subject\": \"ding\\u0007\"}", NULL, F("subject") },
    { "line break in subject", "{\"subject\": \"two\\nlines\"}", NULL, F("subject") },
    { "tab in subject", "{\"subject\": \"a\\tb\"}", NULL, F("subject") },
    { "ESC in service", "{\"service\": \"\\u001b[31mred\"}", NULL, F("service") },
    { "DEL in encounter id", "{\"encounter_id\": \"E\\u007f1\"}", NULL, F("encounter_id") },
    { "C1 in description", "{\"description\": \"a\\u0085b\"}", NULL, F("description") },
    { "control in device model", "{\"device\": {\"model\": \"M\\u0001\"}}", NULL,
      F("device.model") },
    { "control in context value", "{\"context\": {\"k\": \"a\\u0002\"}}", NULL, F("context.k") },
    { "control in context key", "{\"context\": {\"k\\u0003\": \"v\"}}", NULL,
      F("context.k\x03") },
    /* words outside the vocabulary */
    { "unknown category", "{\"category\": \"hardware\"}", NULL, F("category") },
    { "category in another case", "{\"category\": \"Device\"}", NULL, F("category") },
    { "unknown priority", "{\"priority\": \"low\"}", NULL, F("priority") },
    { "priority in another case", "{\"priority\": \"HIGH\"}", NULL, F("priority") },
    { "unknown urgency", "{\"urgency\": \"panic\", \"impact\": \"single\"}", NULL,
      F("urgency") },
    { "unknown impact", "{\"urgency\": \"job-stopped\", \"impact\": \"some\"}", NULL,
      F("impact") },
    { "unknown environment", "{\"environment\": \"prod\"}", NULL, F("environment") },
    /* urgency and impact go together */
    { "urgency without impact", "{\"urgency\": \"job-stopped\"}", "priority", F("impact") },
    { "impact without urgency", "{\"impact\": \"all\"}", "priority", F("urgency") },
    { "urgency without impact, with priority", "{\"urgency\": \"job-stopped\"}", NULL,
      F("impact") },
    { "impact with null urgency", "{\"impact\": \"all\", \"urgency\": null}", NULL,
      F("urgency") },
    /* wrong types */
    { "number subject", "{\"subject\": 5}", NULL, F("subject") },
    { "array description", "{\"description\": [\"x\"]}", NULL, F("description") },
    { "boolean category", "{\"category\": true}", NULL, F("category") },
    { "number priority", "{\"priority\": 1}", NULL, F("priority") },
    { "number urgency", "{\"urgency\": 1, \"impact\": \"single\"}", "priority", F("urgency") },
    { "object environment", "{\"environment\": {}}", NULL, F("environment") },
    { "string device", "{\"device\": \"D-17\"}", NULL, F("device") },
    { "number device id", "{\"device\": {\"id\": 17}}", NULL, F("device.id") },
    { "string cc", "{\"cc\": \"a@north.example\"}", NULL, F("cc") },
    { "array context", "{\"context\": [\"a\"]}", NULL, F("context") },
    { "number page url", "{\"page_url\": 80}", NULL, F("page_url") },
    /* nested members */
    { "device unknown key", "{\"device\": {\"id\": \"D\", \"x\": \"y\"}}", NULL, F("device.x") },
    { "device five members",
      "{\"device\": {\"id\": \"a\", \"model\": \"b\", \"os\": \"c\", \"app_version\": \"d\","
      " \"x\": \"e\"}}", NULL, F("device", "device.x") },
    { "cc bad address", "{\"cc\": [\"not an address\"]}", NULL, F("cc[0]") },
    { "cc second bad", "{\"cc\": [\"a@north.example\", \"b@\", \"c@north.example\"]}", NULL,
      F("cc[1]") },
    { "cc not strings", "{\"cc\": [1, null, [\"a@north.example\"]]}", NULL,
      F("cc[0]", "cc[1]", "cc[2]") },
    { "context number value", "{\"context\": {\"k\": 1}}", NULL, F("context.k") },
    { "context null value", "{\"context\": {\"k\": null}}", NULL, F("context.k") },
    { "context object value", "{\"context\": {\"k\": {\"n\": \"v\"}}}", NULL, F("context.k") },
    { "context empty key", "{\"context\": {\"\": \"v\"}}", NULL, F("context.") },
    { "context blank key", "{\"context\": {\"  \": \"v\"}}", NULL, F("context.  ") },
    { "context two bad", "{\"context\": {\"a\": \"ok\", \"b\": 2, \"c\": false}}", NULL,
      F("context.b", "context.c") },
    /* page_url */
    { "javascript url", "{\"page_url\": \"javascript:alert(1)\"}", NULL, F("page_url") },
    { "JavaScript url", "{\"page_url\": \"JaVaScRiPt:alert(1)\"}", NULL, F("page_url") },
    { "data url", "{\"page_url\": \"data:text/html,<b>x</b>\"}", NULL, F("page_url") },
    { "relative url", "{\"page_url\": \"/ward/3\"}", NULL, F("page_url") },
    { "ftp url", "{\"page_url\": \"ftp://files.example/x\"}", NULL, F("page_url") },
    { "url with a space", "{\"page_url\": \"https://h/a b\"}", NULL, F("page_url") },
    /* everything at once, in one pass */
    { "blank subject + bad category + unknown field",
      "{\"subject\": \"   \", \"category\": \"hardware\", \"foo\": 1}", NULL,
      F("subject", "category", "foo") },
    { "one of each",
      "{\"description\": 5, \"category\": \"x\", \"priority\": \"p\", \"urgency\": \"u\","
      " \"environment\": \"e\", \"device\": {\"x\": \"1\"}, \"cc\": [\"bad\"],"
      " \"context\": {\"k\": 1}, \"page_url\": \"javascript:x\", \"bar\": true}", "subject",
      F("subject", "description", "category", "priority", "urgency", "impact", "environment",
        "device.x", "cc[0]", "context.k", "page_url", "bar") },
};

static void test_invalid_bodies(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t i;
    int agent;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (agent = 0; agent <= 1; agent++) {
            expect_invalid(bad[i].name, make_body(bad[i].patch, bad[i].drop, p), agent,
                           bad[i].fields, p);
        }
    }
}

/* A few messages, so a client can show them next to the field. */
static void test_invalid_messages(void **state)
{
    static const struct {
        const char *patch, *drop, *field, *message;
    } cases[] = {
        { "{\"foo\": 1}", NULL, "foo", "is not a known field" },
        { NULL, "subject", "subject", "is required" },
        { "{\"subject\": \" \"}", NULL, "subject", "must not be blank" },
        { "{\"subject\": 5}", NULL, "subject", "must be a string" },
        { "{\"subject\": \"a\\u0007\"}", NULL, "subject", "contains control characters" },
        { "{\"category\": \"hardware\"}", NULL, "category",
          "is not one of the configured categories (see /meta)" },
        { "{\"priority\": \"low\"}", NULL, "priority",
          "is not one of the allowed values (see /meta)" },
        { "{\"urgency\": \"job-stopped\"}", NULL, "impact", "is required together with urgency" },
        { "{\"impact\": \"all\"}", NULL, "urgency", "is required together with impact" },
        { NULL, "priority", "priority", "is required unless urgency and impact are given" },
        { "{\"cc\": [\"x\"]}", NULL, "cc[0]", "is not an e-mail address" },
        { "{\"context\": {\"k\": 1}}", NULL, "context.k", "must be a string" },
        { "{\"page_url\": \"javascript:x\"}", NULL, "page_url",
          "must be an absolute http or https URL" },
    };
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_problem_t prob;
    sd_ticket_t t;
    apr_size_t i;

    sd_desk_conf_default(&conf, p);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sd_problem_init(&prob, p);
        assert_int_equal(SD_EINVALID, sd_ticket_from_json(&t, make_body(cases[i].patch,
                         cases[i].drop, p), &conf, 0, &prob, p));
        if (!message_of(&prob, cases[i].field)
            || strcmp(cases[i].message, message_of(&prob, cases[i].field)))
            fail_msg("%s: want '%s', got '%s'", cases[i].field, cases[i].message,
                     message_of(&prob, cases[i].field));
    }
}

/* A string built in code may carry a NUL the parser would have refused. */
static void test_nul_inside_string_built_in_code(void **state)
{
    static const char *const f[] = { "description", NULL };
    apr_pool_t *p = *state;
    json_t *b = make_body(NULL, NULL, p);

    json_object_set_new(b, "description", json_stringn("visible\0hidden", 14));
    expect_invalid("NUL in description", b, 0, f, p);
}

/* A configured category list is what counts, not the default words. */
static void test_configured_categories(void **state)
{
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_problem_t prob;
    sd_ticket_t t;

    sd_desk_conf_default(&conf, p);
    assert_int_equal(8, conf.categories->nelts);
    assert_true(sd_desk_conf_has_category(&conf, "outage"));
    assert_false(sd_desk_conf_has_category(&conf, "radiology"));
    assert_false(sd_desk_conf_has_category(&conf, NULL));
    APR_ARRAY_PUSH(conf.categories, const char *) = "radiology";
    sd_problem_init(&prob, p);
    assert_int_equal(APR_SUCCESS, sd_ticket_from_json(&t, make_body("{\"category\": "
                     "\"radiology\"}", NULL, p), &conf, 0, &prob, p));
    assert_string_equal("radiology", t.category);
}

/* ---- cc and context are rebuilt, not copied --------------------------------------- */

static void test_cc_and_context_rebuilt(void **state)
{
    static const struct {
        const char *patch;
        const char *cc_json, *context_json;
    } cases[] = {
        { "{}", "[]", "{}" },
        { "{\"cc\": [], \"context\": {}}", "[]", "{}" },
        { "{\"cc\": [ \"a@north.example\" ,\n \"B.Smith+desk@North.Example\" ]}",
          "[\"a@north.example\",\"B.Smith+desk@North.Example\"]", "{}" },
        { "{\"context\": { \"ward\" : \"3B\", \"encounter\": \"E-1\" }}",
          "[]", "{\"ward\":\"3B\",\"encounter\":\"E-1\"}" },
        /* Text that needs escaping comes back escaped, and only once. */
        { "{\"context\": {\"quote\": \"say \\\"hi\\\"\", \"path\": \"C:\\\\tmp\","
          " \"lines\": \"a\\nb\"}}",
          "[]", "{\"quote\":\"say \\\"hi\\\"\",\"path\":\"C:\\\\tmp\",\"lines\":\"a\\nb\"}" },
        /* Non-ASCII stays UTF-8, and "\u00fc" in the request is just "ü". */
        { "{\"context\": {\"\\u00fc\": \"\\u00e9t\\u00e9\", \"k\": \"\xe2\x82\xac\"}}",
          "[]", "{\"\xc3\xbc\":\"\xc3\xa9t\xc3\xa9\",\"k\":\"\xe2\x82\xac\"}" },
        /* The HTML-ish text is data, kept as it is. */
        { "{\"context\": {\"k\": \"</script><b>\"}}", "[]", "{\"k\":\"</script><b>\"}" },
    };
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_ticket_t t;
    apr_size_t i;

    sd_desk_conf_default(&conf, p);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        expect_valid(cases[i].patch, &t, make_body(cases[i].patch, NULL, p), 0, &conf, p);
        assert_string_equal(cases[i].cc_json, t.cc_json);
        assert_string_equal(cases[i].context_json, t.context_json);
    }
}

/* ---- e-mail and URL checks -------------------------------------------------------- */

static void test_email_ok(void **state)
{
    static const struct {
        const char *addr;
        int ok;
    } cases[] = {
        { "a@b.co", 1 },
        { "jane.doe@north-hospital.example", 1 },
        { "first.last+desk@sub.domain.example", 1 },
        { "O'Brien@north.example", 1 },
        { "user_1-x@north.example", 1 },
        { "\xc3\xbcser@north.example", 1 },          /* UTF-8 local part (RFC 6531) */
        { "", 0 },
        { "a", 0 },
        { "north.example", 0 },
        { "@north.example", 0 },
        { "a@", 0 },
        { "a@north", 0 },                             /* no dot in the domain */
        { "a@.north.example", 0 },
        { "a@north.example.", 0 },
        { "a@@north.example", 0 },
        { "a@b@north.example", 0 },
        { "a b@north.example", 0 },
        { " a@north.example", 0 },
        { "a@north.example ", 0 },
        { "a\t@north.example", 0 },
        { "a@north.example\n", 0 },
        { "a@north.example\r\nBcc: x@y.example", 0 },
        { "a\x7f@north.example", 0 },
        { "<a@north.example>", 0 },
        { "Jane <a@north.example>", 0 },
        { "a,b@north.example", 0 },
        { "a;b@north.example", 0 },
        { "a:b@north.example", 0 },
        { "\"a\"@north.example", 0 },
        { "a\\b@north.example", 0 },
        { "a(comment)@north.example", 0 },
        { "a@[192.0.2.1]", 0 },
    };
    apr_pool_t *p = *state;
    const char *local64 = repeat("l", 64, p), *local65 = repeat("l", 65, p);
    /* 64 + 1 + 189 = 254 */
    const char *domain189 = apr_pstrcat(p, repeat("d", 185, p), ".org", NULL);
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (sd_ticket_email_ok(cases[i].addr) != cases[i].ok)
            fail_msg("'%s': want %d", cases[i].addr, cases[i].ok);
    }
    assert_false(sd_ticket_email_ok(NULL));
    /* RFC 5321: local part 64 octets, the whole path 254. */
    assert_true(sd_ticket_email_ok(apr_pstrcat(p, local64, "@north.example", NULL)));
    assert_false(sd_ticket_email_ok(apr_pstrcat(p, local65, "@north.example", NULL)));
    assert_int_equal(254, (int)strlen(apr_pstrcat(p, local64, "@", domain189, NULL)));
    assert_true(sd_ticket_email_ok(apr_pstrcat(p, local64, "@", domain189, NULL)));
    assert_false(sd_ticket_email_ok(apr_pstrcat(p, local64, "@d", domain189, NULL)));
}

static void test_url_ok(void **state)
{
    static const struct {
        const char *url;
        int ok;
    } cases[] = {
        { "https://intranet.example/", 1 },
        { "http://intranet.example", 1 },
        { "https://intranet.example:8443/ward/3?tab=orders&x=%20#top", 1 },
        { "HTTPS://INTRANET.EXAMPLE/", 1 },
        { "Http://h", 1 },
        { "https://[2001:db8::1]/", 1 },
        { "", 0 },
        { "javascript:alert(1)", 0 },
        { "JAVASCRIPT:alert(1)", 0 },
        { " javascript:alert(1)", 0 },
        { "javascript://h/%0aalert(1)", 0 },
        { "data:text/html;base64,PHNjcmlwdD4=", 0 },
        { "vbscript:msgbox", 0 },
        { "file:///etc/passwd", 0 },
        { "ftp://h/x", 0 },
        { "mailto:a@north.example", 0 },
        { "//intranet.example/ward", 0 },
        { "/ward/3", 0 },
        { "ward/3", 0 },
        { "https://", 0 },
        { "https:///ward", 0 },
        { "https:/h", 0 },
        { "https:h", 0 },
        { "httpx://h", 0 },
        { " https://h/", 0 },
        { "https://h/ ", 0 },
        { "https://h/a b", 0 },
        { "https://h/\t", 0 },
        { "https://h/\r\nSet-Cookie: x", 0 },
        { "https://h/\x7f", 0 },
        { "https://h/\x01", 0 },
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (sd_ticket_url_ok(cases[i].url) != cases[i].ok)
            fail_msg("'%s': want %d", cases[i].url, cases[i].ok);
    }
    assert_false(sd_ticket_url_ok(NULL));
}

/* ---- SLA state at fixed times ----------------------------------------------------- */

/* The SLA tests here reason in wall-clock time; the business-hours calendar
 * has its own tests (test_sd_sla). */
static void round_the_clock(sd_desk_conf_t *c)
{
    int t, pr;
    for (t = SD_TIER_MIN; t <= SD_TIER_MAX; ++t) {
        c->response_rtc[t] = 1;
        for (pr = 0; pr < SD_PRIO_COUNT; ++pr) c->resolution_rtc[t][pr] = 1;
    }
}

static void test_sla_at_fixed_times(void **state)
{
    /* A tier-2 "high" ticket created at T0: response due in 1 h (at risk from
     * 45 min), resolution due in 8 h (at risk from 6 h). Offsets in seconds. */
    static const struct {
        const char *name;
        int status;
        apr_int64_t first_response;    /* offset, or -1 for none */
        apr_int64_t tier_started;      /* offset, or -1 for "not set" */
        int breached_flag;
        apr_int64_t now;               /* offset */
        const char *want;
    } cases[] = {
        { "just created",                 SD_ST_NEW,  -1, 0, 0, 0, "ok" },
        { "before 75% of response",       SD_ST_NEW,  -1, 0, 0, 2699, "ok" },
        { "at 75% of response",           SD_ST_NEW,  -1, 0, 0, 2700, "at-risk" },
        { "at the response due time",     SD_ST_NEW,  -1, 0, 0, 3600, "at-risk" },
        { "past the response due time",   SD_ST_NEW,  -1, 0, 0, 3601, "breached" },
        { "responded: response no longer counts", SD_ST_OPEN, 600, 0, 0, 3601, "ok" },
        { "responded, before 75% of resolution",  SD_ST_OPEN, 600, 0, 0, 21599, "ok" },
        { "responded, at 75% of resolution",      SD_ST_OPEN, 600, 0, 0, 21600, "at-risk" },
        { "responded, at the resolution due time", SD_ST_OPEN, 600, 0, 0, 28800, "at-risk" },
        { "responded, past resolution",           SD_ST_OPEN, 600, 0, 0, 28801, "breached" },
        /* waiting on the reporter pauses the resolution clock */
        { "pending, past resolution",          SD_ST_PENDING, 600, 0, 0, 28801, "ok" },
        { "tier start unset: from created_at",    SD_ST_OPEN, 600, -1, 0, 21600, "at-risk" },
        { "flag set by the watchdog",             SD_ST_OPEN, 600, 0, 1, 60, "breached" },
        { "resolved in time, looked at later", SD_ST_RESOLVED, 600, 0, 0, 28801, "ok" },
        { "resolved, in the at-risk window",   SD_ST_RESOLVED, 600, 0, 0, 21600, "ok" },
        { "closed, long after",                SD_ST_CLOSED,   600, 0, 0, 864000, "ok" },
        { "resolved after a breach",           SD_ST_RESOLVED, 600, 0, 1, 864000, "breached" },
    };
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_ticket_t t;
    apr_size_t i;

    sd_desk_conf_default(&conf, p);
    round_the_clock(&conf);
    assert_true(conf.at_risk_share == 0.75);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&t, 0, sizeof(t));
        t.status = cases[i].status;
        t.tier = 2;
        t.priority = SD_PRIO_HIGH;
        t.created_at = T0;
        t.tier_started_at = cases[i].tier_started < 0 ? 0 : T0 + cases[i].tier_started;
        t.response_due_at = T0 + 3600;
        t.resolution_due_at = T0 + 8 * 3600;
        t.first_response_at = cases[i].first_response < 0 ? 0 : T0 + cases[i].first_response;
        t.responded_at = t.first_response_at;
        t.sla_breached = cases[i].breached_flag;
        if (strcmp(cases[i].want, sd_ticket_sla(&t, &conf, T0 + cases[i].now)))
            fail_msg("%s: want %s, got %s", cases[i].name, cases[i].want,
                     sd_ticket_sla(&t, &conf, T0 + cases[i].now));
    }
}

/* The clock restarts in a new tier: the share is measured from the tier start. */
static void test_sla_measured_from_tier_start(void **state)
{
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_ticket_t t;
    const apr_int64_t start = T0 + 86400;     /* escalated a day later */

    sd_desk_conf_default(&conf, p);
    round_the_clock(&conf);
    memset(&t, 0, sizeof(t));
    t.status = SD_ST_OPEN;
    t.tier = 2;                 /* high: 8 h, measured from the tier's start */
    t.priority = SD_PRIO_HIGH;
    t.created_at = T0;
    t.tier_started_at = start;
    t.first_response_at = T0 + 60;
    t.responded_at = start + 60;
    t.response_due_at = T0 + 3600;
    t.resolution_due_at = start + 8 * 3600;
    assert_string_equal("ok", sd_ticket_sla(&t, &conf, start));
    assert_string_equal("ok", sd_ticket_sla(&t, &conf, start + 6 * 3600 - 1));
    assert_string_equal("at-risk", sd_ticket_sla(&t, &conf, start + 6 * 3600));
    assert_string_equal("breached", sd_ticket_sla(&t, &conf, start + 8 * 3600 + 1));

    /* No targets at all (tier 4 until accepted): never at risk or breached. */
    t.tier = 4;
    t.response_due_at = t.resolution_due_at = 0;
    t.first_response_at = t.responded_at = 0;
    assert_string_equal("ok", sd_ticket_sla(&t, &conf, start + 365 * 86400));

    /* A configured share counts. */
    conf.at_risk_share = 0.5;
    t.tier = 2;
    t.first_response_at = T0 + 60;
    t.responded_at = start + 60;
    t.resolution_due_at = start + 8 * 3600;
    assert_string_equal("ok", sd_ticket_sla(&t, &conf, start + 4 * 3600 - 1));
    assert_string_equal("at-risk", sd_ticket_sla(&t, &conf, start + 4 * 3600));
}

/* ---- JSON representations ----------------------------------------------------------- */

static sd_ticket_t *sample_ticket(apr_pool_t *p)
{
    sd_ticket_t *t = apr_pcalloc(p, sizeof(*t));
    sd_comment_t *c;
    sd_attachment_meta_t *a;
    sd_event_t *e;

    t->id = 42;
    t->tenant = "north";
    t->subject = "Printer on ward 3 jams";
    t->description = "Every second page.";
    t->category = "device";
    t->urgency = SD_URG_JOB_STOPPED;
    t->impact = SD_IMPACT_SINGLE;
    t->priority = SD_PRIO_HIGH;
    t->status = SD_ST_OPEN;
    t->tier = 2;
    t->environment = -1;
    t->cc_json = "[\"b@north.example\"]";
    t->context_json = "{\"ward\":\"3B\"}";
    t->reporter = "alice";
    t->reporter_name = "Alice Adams";
    t->reporter_email = "alice@north.example";
    t->assignee = "carol";
    t->created_at = T0;
    t->updated_at = T0 + 60;
    t->tier_started_at = T0;
    t->response_due_at = T0 + 3600;
    t->resolution_due_at = T0 + 8 * 3600;
    t->first_response_at = T0 + 600;
    t->responded_at = t->first_response_at;
    t->version = 3;

    t->comments = apr_array_make(p, 2, sizeof(sd_comment_t));
    c = apr_array_push(t->comments);
    c->id = 1; c->author = "carol"; c->author_name = "Carol Clark";
    c->body = "Please try the other tray."; c->internal = 0; c->created_at = T0 + 600;
    c = apr_array_push(t->comments);
    c->id = 2; c->author = "carol"; c->author_name = "Carol Clark";
    c->body = "INTERNAL: firmware known bad"; c->internal = 1; c->created_at = T0 + 660;

    t->attachments = apr_array_make(p, 1, sizeof(sd_attachment_meta_t));
    a = apr_array_push(t->attachments);
    a->id = 5; a->filename = "screen.png"; a->media_type = "image/png";
    a->size = 1234; a->created_at = T0 + 120;

    t->events = apr_array_make(p, 2, sizeof(sd_event_t));
    e = apr_array_push(t->events);
    memset(e, 0, sizeof(*e));
    e->id = 7; e->at = T0; e->actor = "alice"; e->kind = "created"; e->new_value = "new";
    e = apr_array_push(t->events);
    memset(e, 0, sizeof(*e));
    e->id = 8; e->at = T0 + 600; e->actor = "carol"; e->kind = "status";
    e->field = "status"; e->old_value = "new"; e->new_value = "open";
    e->note = "EVENT NOTE";
    return t;
}

static const char *jstring(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);
    if (!json_is_string(v)) fail_msg("'%s' is not a string", key);
    return json_string_value(v);
}

static void assert_is_null_member(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);
    if (!v || !json_is_null(v)) fail_msg("'%s' is not null", key);
}

/* "YYYY-MM-DDTHH:MM:SSZ", exactly. */
static int rfc3339_shape(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    apr_size_t i;
    if (strlen(s) != sizeof(shape) - 1) return 0;
    for (i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return 0;
    }
    return 1;
}

static void test_json_full_views(void **state)
{
    static const struct {
        int with_internal, with_events;
        int ncomments;
    } views[] = {
        { 0, 0, 1 },     /* reporter */
        { 1, 1, 2 },     /* agent */
        { 1, 0, 2 },
        { 0, 1, 1 },
    };
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_ticket_t *t = sample_ticket(p);
    apr_size_t i;

    sd_desk_conf_default(&conf, p);
    for (i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
        json_t *j = sd_ticket_json(t, &conf, views[i].with_internal, views[i].with_events,
                                   T0 + 700, p);
        const json_t *comments, *events, *c0;
        const char *dump;

        assert_non_null(j);
        dump = sd_json_dump(j, p);
        comments = json_object_get(j, "comments");
        assert_true(json_is_array(comments));
        assert_int_equal(views[i].ncomments, (int)json_array_size(comments));
        c0 = json_array_get(comments, 0);
        assert_int_equal(1, (int)json_integer_value(json_object_get(c0, "id")));
        assert_string_equal("Please try the other tray.", jstring(c0, "body"));
        assert_true(json_is_false(json_object_get(c0, "internal")));
        assert_string_equal("carol", jstring(json_object_get(c0, "author"), "user"));
        assert_string_equal("Carol Clark", jstring(json_object_get(c0, "author"), "name"));
        assert_string_equal("2026-11-22T10:25:00Z", jstring(c0, "created_at"));
        if (views[i].with_internal) {
            const json_t *c1 = json_array_get(comments, 1);
            assert_string_equal("INTERNAL: firmware known bad", jstring(c1, "body"));
            assert_true(json_is_true(json_object_get(c1, "internal")));
        }
        else {
            /* Not hidden somewhere else either. */
            assert_null(strstr(dump, "INTERNAL"));
        }
        events = json_object_get(j, "events");
        if (views[i].with_events) {
            const json_t *e0, *e1;
            assert_true(json_is_array(events));
            assert_int_equal(2, (int)json_array_size(events));
            e0 = json_array_get(events, 0);
            e1 = json_array_get(events, 1);
            assert_int_equal(7, (int)json_integer_value(json_object_get(e0, "id")));
            assert_string_equal("2026-11-22T10:15:00Z", jstring(e0, "at"));
            assert_string_equal("alice", jstring(e0, "actor"));
            assert_string_equal("created", jstring(e0, "kind"));
            assert_is_null_member(e0, "field");
            assert_is_null_member(e0, "old");
            assert_string_equal("new", jstring(e0, "new"));
            assert_is_null_member(e0, "note");
            assert_string_equal("status", jstring(e1, "field"));
            assert_string_equal("new", jstring(e1, "old"));
            assert_string_equal("open", jstring(e1, "new"));
            assert_string_equal("EVENT NOTE", jstring(e1, "note"));
            assert_string_equal("2026-11-22T10:25:00Z", jstring(e1, "at"));
        }
        else {
            assert_null(events);
            assert_null(strstr(dump, "\"events\""));
            assert_null(strstr(dump, "EVENT NOTE"));
        }
    }
}

static void test_json_fields(void **state)
{
    static const struct {
        const char *key, *value;     /* NULL value: JSON null */
    } strings[] = {
        { "key", "SD-42" },
        { "tenant", "north" },
        { "subject", "Printer on ward 3 jams" },
        { "description", "Every second page." },
        { "category", "device" },
        { "urgency", "job-stopped" },
        { "impact", "single" },
        { "priority", "high" },
        { "status", "open" },
        { "environment", NULL },
        { "service", NULL },
        { "encounter_id", NULL },
        { "device", NULL },
        { "page_url", NULL },
        { "assignee", "carol" },
        { "known_issue", NULL },
        { "created_at", "2026-11-22T10:15:00Z" },
        { "updated_at", "2026-11-22T10:16:00Z" },
        { "response_due_at", "2026-11-22T11:15:00Z" },
        { "resolution_due_at", "2026-11-22T18:15:00Z" },
        { "first_response_at", "2026-11-22T10:25:00Z" },
        { "resolved_at", NULL },
        { "closed_at", NULL },
        { "sla", "ok" },
    };
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_ticket_t *t = sample_ticket(p);
    json_t *j, *att, *rep;
    const char *key;
    json_t *v;
    apr_size_t i;

    sd_desk_conf_default(&conf, p);
    round_the_clock(&conf);
    j = sd_ticket_json(t, &conf, 0, 0, T0 + 700, p);
    assert_int_equal(42, (int)json_integer_value(json_object_get(j, "id")));
    assert_int_equal(2, (int)json_integer_value(json_object_get(j, "tier")));
    for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        if (strings[i].value) {
            const json_t *m = json_object_get(j, strings[i].key);
            if (!json_is_string(m) || strcmp(strings[i].value, json_string_value(m)))
                fail_msg("'%s': want '%s'", strings[i].key, strings[i].value);
        }
        else {
            assert_is_null_member(j, strings[i].key);
        }
    }
    /* Every time member is null or in RFC 3339 UTC with seconds. */
    json_object_foreach(j, key, v) {
        apr_size_t kl = strlen(key);
        if (kl > 3 && !strcmp(key + kl - 3, "_at") && !json_is_null(v)) {
            if (!json_is_string(v) || !rfc3339_shape(json_string_value(v)))
                fail_msg("'%s' is not YYYY-MM-DDTHH:MM:SSZ", key);
        }
    }
    rep = json_object_get(j, "reporter");
    assert_string_equal("alice", jstring(rep, "user"));
    assert_string_equal("Alice Adams", jstring(rep, "name"));
    assert_string_equal("alice@north.example", jstring(rep, "email"));
    assert_string_equal("[\"b@north.example\"]", sd_json_dump(json_object_get(j, "cc"), p));
    assert_string_equal("{\"ward\":\"3B\"}", sd_json_dump(json_object_get(j, "context"), p));
    att = json_array_get(json_object_get(j, "attachments"), 0);
    assert_int_equal(1, (int)json_array_size(json_object_get(j, "attachments")));
    assert_int_equal(5, (int)json_integer_value(json_object_get(att, "id")));
    assert_string_equal("screen.png", jstring(att, "filename"));
    assert_string_equal("image/png", jstring(att, "media_type"));
    assert_int_equal(1234, (int)json_integer_value(json_object_get(att, "size")));
    assert_string_equal("2026-11-22T10:17:00Z", jstring(att, "created_at"));

    /* A device, a known issue, a resolution, and the SLA at another time. */
    t->has_device = 1;
    t->device_model = "Zebra ZT410";
    t->known_issue_id = 9;
    t->status = SD_ST_RESOLVED;
    t->resolved_at = T0 + 7200;
    t->environment = SD_ENV_PRODUCTION;
    j = sd_ticket_json(t, &conf, 0, 0, T0 + 30 * 3600, p);
    assert_string_equal("{\"id\":null,\"model\":\"Zebra ZT410\",\"os\":null,\"app_version\":null}",
                        sd_json_dump(json_object_get(j, "device"), p));
    assert_string_equal("{\"id\":9}", sd_json_dump(json_object_get(j, "known_issue"), p));
    assert_string_equal("2026-11-22T12:15:00Z", jstring(j, "resolved_at"));
    assert_string_equal("resolved", jstring(j, "status"));
    assert_string_equal("production", jstring(j, "environment"));
    assert_string_equal("ok", jstring(j, "sla"));
    t->status = SD_ST_OPEN;
    j = sd_ticket_json(t, &conf, 0, 0, T0 + 8 * 3600 + 1, p);
    assert_string_equal("breached", jstring(j, "sla"));
    j = sd_ticket_json(t, &conf, 0, 0, T0 + 6 * 3600, p);
    assert_string_equal("at-risk", jstring(j, "sla"));
}

/* Stored cc/context text that is missing or not what it should be gives an
 * empty list or object, never a crash or the wrong type. */
static void test_json_stored_text_fallbacks(void **state)
{
    static const struct {
        const char *cc, *context, *want_cc, *want_context;
    } cases[] = {
        { NULL, NULL, "[]", "{}" },
        { "", "", "[]", "{}" },
        { "not json", "{", "[]", "{}" },
        { "{\"a\":1}", "[1]", "[]", "{}" },
        { "\"x\"", "3", "[]", "{}" },
        { "[\"x@y.example\"]", "{\"k\":\"v\"}", "[\"x@y.example\"]", "{\"k\":\"v\"}" },
    };
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_ticket_t *t = sample_ticket(p);
    apr_size_t i;

    sd_desk_conf_default(&conf, p);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *j;
        t->cc_json = cases[i].cc;
        t->context_json = cases[i].context;
        j = sd_ticket_json(t, &conf, 0, 0, T0, p);
        assert_string_equal(cases[i].want_cc, sd_json_dump(json_object_get(j, "cc"), p));
        assert_string_equal(cases[i].want_context,
                            sd_json_dump(json_object_get(j, "context"), p));
    }
}

static void test_summary_json(void **state)
{
    static const char *const keys[] = {
        "id", "key", "subject", "category", "priority", "status", "tier", "reporter",
        "assignee", "created_at", "updated_at", "resolution_due_at", "sla",
    };
    apr_pool_t *p = *state;
    sd_desk_conf_t conf;
    sd_ticket_t *t = sample_ticket(p);
    json_t *j;
    apr_size_t i;

    sd_desk_conf_default(&conf, p);
    round_the_clock(&conf);
    j = sd_ticket_summary_json(t, &conf, T0 + 21600, p);
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!json_object_get(j, keys[i])) fail_msg("summary lacks '%s'", keys[i]);
    }
    assert_int_equal(sizeof(keys) / sizeof(keys[0]), json_object_size(j));
    assert_string_equal("SD-42", jstring(j, "key"));
    assert_string_equal("2026-11-22T18:15:00Z", jstring(j, "resolution_due_at"));
    assert_string_equal("at-risk", jstring(j, "sla"));
    /* No description, comments or events in a list. */
    assert_null(json_object_get(j, "description"));
    assert_null(json_object_get(j, "comments"));
    assert_null(json_object_get(j, "events"));
}

static void test_ticket_key(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal("SD-1", sd_ticket_key(1, p));
    assert_string_equal("SD-42", sd_ticket_key(42, p));
    assert_string_equal("SD-9223372036854775807", sd_ticket_key(APR_INT64_MAX, p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_priority_from_matrix_every_cell),
        SD_TEST(test_valid_bodies),
        SD_TEST(test_valid_fields_copied),
        SD_TEST(test_subject_length_in_characters),
        SD_TEST(test_limits_at_the_edge),
        SD_TEST(test_invalid_bodies),
        SD_TEST(test_invalid_messages),
        SD_TEST(test_nul_inside_string_built_in_code),
        SD_TEST(test_configured_categories),
        SD_TEST(test_cc_and_context_rebuilt),
        SD_TEST(test_email_ok),
        SD_TEST(test_url_ok),
        SD_TEST(test_sla_at_fixed_times),
        SD_TEST(test_sla_measured_from_tier_start),
        SD_TEST(test_json_full_views),
        SD_TEST(test_json_fields),
        SD_TEST(test_json_stored_text_fallbacks),
        SD_TEST(test_summary_json),
        SD_TEST(test_ticket_key),
    };
    sd_json_init();
    return SD_RUN("sd_ticket", tests);
}
