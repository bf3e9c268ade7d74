/* Unit tests for lib/sd_json.c: parse limits, field tables, UTF-8 helpers. */
#include <string.h>

#include <apr_strings.h>

#include "sd_test.h"
#include "sd_json.h"

/* ---- helpers ------------------------------------------------------------- */

static apr_status_t parse(json_t **pj, const char *buf, apr_size_t len, sd_problem_t *prob,
                          apr_pool_t *p)
{
    sd_limits_t lim;
    sd_limits_default(&lim);
    sd_problem_init(prob, p);
    return sd_json_parse_object(pj, buf, len, &lim, prob, p);
}

/* {"a":[[...]]} with the whole value nested `depth` levels deep. */
static const char *nested(int depth, apr_pool_t *p)
{
    int inner = depth - 1, i;
    char *s = apr_palloc(p, (apr_size_t)(2 * inner + 8));
    char *c = s;
    memcpy(c, "{\"a\":", 5);
    c += 5;
    for (i = 0; i < inner; i++) *c++ = '[';
    for (i = 0; i < inner; i++) *c++ = ']';
    *c++ = '}';
    *c = '\0';
    return s;
}

/* An object of exactly len bytes: {"a":"xxx...x"}. */
static char *sized_object(apr_size_t len, apr_pool_t *p)
{
    char *s = apr_palloc(p, len + 1);
    memset(s, 'x', len);
    memcpy(s, "{\"a\":\"", 6);
    s[len - 2] = '"';
    s[len - 1] = '}';
    s[len] = '\0';
    return s;
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

static int ascii_printable(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) return 0;
    }
    return 1;
}

/* ---- parsing ------------------------------------------------------------- */

static void test_parse_ok(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j = NULL;
    const char *in = "{\"subject\":\"Printer\",\"n\":1,\"device\":{\"os\":\"Linux\"}}";

    assert_int_equal(APR_SUCCESS, parse(&j, in, strlen(in), &prob, p));
    assert_non_null(j);
    assert_true(json_is_object(j));
    assert_string_equal("Printer", sd_json_str(j, "subject"));
    assert_null(prob.detail);
    assert_false(sd_problem_has_errors(&prob));
}

static void test_parse_size_limit(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j;
    char *buf;

    /* Exactly the limit parses. */
    buf = sized_object(SD_DEF_MAX_BODY, p);
    j = NULL;
    assert_int_equal(APR_SUCCESS, parse(&j, buf, SD_DEF_MAX_BODY, &prob, p));
    assert_non_null(j);
    assert_int_equal(SD_DEF_MAX_BODY - 8, (int)strlen(sd_json_str(j, "a")));

    /* One byte more is refused before parsing, even though it is valid JSON. */
    buf = sized_object(SD_DEF_MAX_BODY + 1, p);
    j = (json_t *)1;
    assert_int_equal(SD_ETOOBIG, parse(&j, buf, SD_DEF_MAX_BODY + 1, &prob, p));
    assert_null(j);
    assert_string_equal(SD_PT_TOO_BIG, prob.type);
    assert_non_null(prob.detail);
}

static void test_parse_size_custom_limit(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    sd_limits_t lim;
    json_t *j;

    sd_limits_default(&lim);
    lim.max_body = 2;
    sd_problem_init(&prob, p);
    assert_int_equal(APR_SUCCESS, sd_json_parse_object(&j, "{}", 2, &lim, &prob, p));
    /* Size comes first: three bytes of garbage are "too big", not "malformed". */
    assert_int_equal(SD_ETOOBIG, sd_json_parse_object(&j, "{x}", 3, &lim, &prob, p));
}

static void test_parse_depth_limit(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    sd_limits_t lim;
    json_t *j;
    const char *in;

    sd_limits_default(&lim);
    assert_int_equal(32, lim.max_depth);

    in = nested(lim.max_depth, p);
    assert_int_equal(APR_SUCCESS, parse(&j, in, strlen(in), &prob, p));
    assert_int_equal(32, sd_json_depth(j));

    in = nested(lim.max_depth + 1, p);
    j = (json_t *)1;
    assert_int_equal(SD_EMALFORMED, parse(&j, in, strlen(in), &prob, p));
    assert_null(j);
    assert_string_equal(SD_PT_MALFORMED_JSON, prob.type);
    assert_non_null(strstr(prob.detail, "deeper than 32"));

    /* Far deeper than ours but within jansson's cap: still our message. */
    in = nested(2000, p);
    assert_int_equal(SD_EMALFORMED, parse(&j, in, strlen(in), &prob, p));
    assert_non_null(strstr(prob.detail, "deeper than 32"));

    /* Deep inside an object member counts the same as inside an array. */
    in = "{\"a\":{\"b\":{\"c\":[{}]}}}";
    lim.max_depth = 4;
    assert_int_equal(SD_EMALFORMED, sd_json_parse_object(&j, in, strlen(in), &lim, &prob, p));
    lim.max_depth = 5;
    assert_int_equal(APR_SUCCESS, sd_json_parse_object(&j, in, strlen(in), &lim, &prob, p));
}

typedef struct {
    const char *name;
    const char *in;          /* NUL-terminated unless len is set */
    apr_size_t len;
    const char *detail_has;  /* substring of prob.detail */
} bad_json_t;

static void test_parse_malformed(void **state)
{
    static const bad_json_t cases[] = {
        { "duplicate key",       "{\"a\":1,\"a\":2}",            0, "duplicate" },
        { "nested duplicate",    "{\"o\":{\"k\":1,\"k\":1}}",   0, "duplicate" },
        { "invalid UTF-8",       "{\"a\":\"\xff\"}",            0, "line 1, column " },
        { "overlong UTF-8",      "{\"a\":\"\xc0\xaf\"}",        0, "line 1, column " },
        { "lone surrogate",      "{\"a\":\"\\ud800\"}",         0, "line 1, column " },
        { "UTF-8 surrogate",     "{\"a\":\"\xed\xa0\x80\"}",    0, "line 1, column " },
        { "escaped NUL",         "{\"a\":\"x\\u0000y\"}",       0, "line 1, column " },
        { "raw NUL in body",     "{\"a\":\"x\0\"}",             9, "line 1, column " },
        { "empty body",          "",                            0, "line " },
        { "white space only",    "  \n ",                       0, "line " },
        { "trailing garbage",    "{} x",                        0, "line 1, column " },
        { "two objects",         "{}{}",                        0, "line 1, column " },
        { "truncated",           "{\"a\":",                     0, "line 1, column " },
        { "single quotes",       "{'a':1}",                     0, "line 1, column " },
        { "trailing comma",      "{\"a\":1,}",                  0, "line 1, column " },
        { "raw control in str",  "{\"a\":\"x\x01\"}",           0, "line 1, column " },
        { "NaN",                 "{\"a\":NaN}",                 0, "line 1, column " },
        { "second line",         "{\n\"a\":}",                  0, "line 2, column " },
        { "array top level",     "[1,2]",                       0, "expected a JSON object" },
        { "string top level",    "\"s\"",                       0, "expected a JSON object" },
        { "number top level",    "42",                          0, "expected a JSON object" },
        { "null top level",      "null",                        0, "expected a JSON object" },
        { "true top level",      "true",                        0, "expected a JSON object" },
    };
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j;
    apr_size_t i, len;
    apr_status_t rv;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        len = cases[i].len ? cases[i].len : strlen(cases[i].in);
        j = (json_t *)1;
        rv = parse(&j, cases[i].in, len, &prob, p);
        /* The detail echoes input: it must stay safe for a JSON body and a log. */
        if (rv != SD_EMALFORMED || j != NULL || !prob.type
            || strcmp(prob.type, SD_PT_MALFORMED_JSON) || !prob.detail
            || !strstr(prob.detail, cases[i].detail_has) || !ascii_printable(prob.detail)) {
            fail_msg("case '%s': rv %d, type %s, detail '%s'", cases[i].name, rv,
                     prob.type ? prob.type : "(null)", prob.detail ? prob.detail : "(null)");
        }
    }
}

static void test_parse_detail_has_position(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j;
    const char *in = "{\"a\":1,\n \"b\": tru}";

    assert_int_equal(SD_EMALFORMED, parse(&j, in, strlen(in), &prob, p));
    assert_true(!strncmp(prob.detail, "line 2, column ", 15));
}

static void test_parse_not_nul_terminated(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j;
    /* The glue's buffer is not a C string: only len bytes count. */
    char buf[8] = { '{', '}', 'x', 'x', 'x', 'x', 'x', 'x' };

    assert_int_equal(APR_SUCCESS, parse(&j, buf, 2, &prob, p));
    assert_int_equal(SD_EMALFORMED, parse(&j, buf, 3, &prob, p));
}

/* ---- depth --------------------------------------------------------------- */

static void test_depth_values(void **state)
{
    static const struct { const char *in; int depth; } cases[] = {
        { "1", 0 }, { "\"s\"", 0 }, { "null", 0 },
        { "[]", 1 }, { "{}", 1 }, { "[1,2,\"x\"]", 1 }, { "{\"a\":1}", 1 },
        { "[[1]]", 2 }, { "{\"a\":[]}", 2 }, { "[1,[2,[3]],[4]]", 3 },
        { "[[],[[[]]],[]]", 4 }, { "{\"a\":{},\"b\":{\"c\":{\"d\":[]}}}", 4 },
    };
    apr_pool_t *p = *state;
    json_error_t err;
    json_t *j;
    apr_size_t i;

    assert_int_equal(0, sd_json_depth(NULL));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        j = sd_json_own(p, json_loads(cases[i].in, JSON_DECODE_ANY, &err));
        assert_non_null(j);
        assert_int_equal(cases[i].depth, sd_json_depth(j));
    }
}

static void test_depth_built_in_code(void **state)
{
    apr_pool_t *p = *state;
    json_t *root, *cur, *next;
    int i;
    /* Deeper than jansson's parse cap, which values built in code do not
     * have: the walk must not depend on the C stack. (jansson's own decref
     * recurses, so stay at a depth it survives under ASan.) */
    const int deep = 5000;

    root = sd_json_own(p, json_array());
    json_array_append_new(root, json_integer(0));
    for (i = 1, cur = root; i < deep; i++, cur = next) {
        /* alternate arrays and objects, each with a scalar beside the child */
        next = (i % 2) ? json_object() : json_array();
        if (json_is_array(cur)) json_array_append_new(cur, next);
        else json_object_set_new(cur, "k", next);
        if (json_is_array(next)) json_array_append_new(next, json_integer(i));
        else json_object_set_new(next, "n", json_integer(i));
    }
    assert_int_equal(deep, sd_json_depth(root));
}

/* ---- field tables -------------------------------------------------------- */

static const sd_json_field_t table[] = {
    { "subject",     SD_JT_STRING, SD_JF_REQUIRED,                  10 },
    { "description", SD_JT_TEXT,   SD_JF_REQUIRED,                  0 },
    { "urgent",      SD_JT_BOOL,   0,                               0 },
    { "tier",        SD_JT_INT,    0,                               0 },
    { "device",      SD_JT_OBJECT, SD_JF_NULLABLE,                  2 },
    { "cc",          SD_JT_ARRAY,  0,                               2 },
    { "assignee",    SD_JT_STRING, SD_JF_NULLABLE,                  0 },
    { "category",    SD_JT_STRING, SD_JF_REQUIRED | SD_JF_NULLABLE, 0 },
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

typedef struct {
    const char *name;
    const char *members;   /* spliced into an object that is otherwise valid */
    const char *field;     /* NULL: no error expected */
    const char *message;
} check_case_t;

static void test_check_messages(void **state)
{
    static const check_case_t cases[] = {
        { "all fine",              "",                                 NULL, NULL },
        { "subject 10 chars",      ",\"subject\":\"0123456789\"",      NULL, NULL },
        { "subject 10 Cyrillic",   ",\"subject\":\"\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96"
                                   "\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\"", NULL, NULL },
        { "subject 11 chars",      ",\"subject\":\"01234567890\"",     "subject",
          "is longer than 10 characters" },
        { "subject 11 Cyrillic",   ",\"subject\":\"\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96"
                                   "\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\"", "subject",
          "is longer than 10 characters" },
        { "subject empty",         ",\"subject\":\"\"",                "subject", "must not be blank" },
        { "subject spaces",        ",\"subject\":\" \\t \"",           "subject", "must not be blank" },
        { "subject nbsp",          ",\"subject\":\"\\u00a0\\u3000\"",  "subject", "must not be blank" },
        { "subject null",          ",\"subject\":null",                "subject", "is required" },
        { "subject number",        ",\"subject\":5",                   "subject", "must be a string" },
        { "subject array",         ",\"subject\":[\"a\"]",             "subject", "must be a string" },
        { "subject newline",       ",\"subject\":\"a\\nb\"",           "subject",
          "contains control characters" },
        { "subject tab",           ",\"subject\":\"a\\tb\"",           "subject",
          "contains control characters" },
        { "subject escape seq",    ",\"subject\":\"\\u001b[31m\"",     "subject",
          "contains control characters" },
        { "text allows space",     ",\"description\":\"a\\r\\nb\\tc\"", NULL, NULL },
        { "text C0",               ",\"description\":\"a\\u0001\"",    "description",
          "contains control characters" },
        { "text DEL",              ",\"description\":\"a\\u007f\"",    "description",
          "contains control characters" },
        { "text C1",               ",\"description\":\"a\\u0085\"",    "description",
          "contains control characters" },
        { "text C1 raw",           ",\"description\":\"a\xc2\x9b\"",   "description",
          "contains control characters" },
        { "text blank",            ",\"description\":\"\\n\\n\"",      "description",
          "must not be blank" },
        { "bool ok",               ",\"urgent\":false",                NULL, NULL },
        { "bool number",           ",\"urgent\":1",                    "urgent", "must be true or false" },
        { "bool string",           ",\"urgent\":\"true\"",             "urgent", "must be true or false" },
        { "bool null",             ",\"urgent\":null",                 "urgent", "must be true or false" },
        { "int ok",                ",\"tier\":-3",                     NULL, NULL },
        { "int string",            ",\"tier\":\"2\"",                  "tier", "must be an integer" },
        { "int real",              ",\"tier\":2.0",                    "tier", "must be an integer" },
        { "int null",              ",\"tier\":null",                   "tier", "must be an integer" },
        { "object ok",             ",\"device\":{\"a\":1,\"b\":2}",    NULL, NULL },
        { "object null nullable",  ",\"device\":null",                 NULL, NULL },
        { "object array",          ",\"device\":[]",                   "device", "must be an object" },
        { "object too many",       ",\"device\":{\"a\":1,\"b\":2,\"c\":3}", "device",
          "has more than 2 members" },
        { "array ok",              ",\"cc\":[1,2]",                    NULL, NULL },
        { "array object",          ",\"cc\":{}",                       "cc", "must be an array" },
        { "array null",            ",\"cc\":null",                     "cc", "must be an array" },
        { "array too many",        ",\"cc\":[1,2,3]",                  "cc", "has more than 2 items" },
        { "nullable string null",  ",\"assignee\":null",               NULL, NULL },
        { "nullable string",       ",\"assignee\":\"\"",               NULL, NULL },
        { "required nullable null", ",\"category\":null",              NULL, NULL },  /* there, none */
        { "unknown field",         ",\"bogus\":1",                     "bogus", "is not a known field" },
        { "unknown null field",    ",\"role\":null",                   "role", "is not a known field" },
        { "case matters",          ",\"Urgent\":true",                 "Urgent", "is not a known field" },
    };
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j;
    const char *in, *members;
    const sd_field_error_t *fe;
    apr_size_t i;
    apr_status_t rv;
    int ok;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* Later duplicates are refused by the parser, so put the case's
         * members first and fill in only what it does not set. */
        members = cases[i].members;
        in = apr_pstrcat(p, "{\"x_\":0", members,
                         strstr(members, "\"subject\"") ? "" : ",\"subject\":\"Printer\"",
                         strstr(members, "\"description\"") ? "" : ",\"description\":\"d\"",
                         strstr(members, "\"category\"") ? "" : ",\"category\":\"bug\"",
                         "}", NULL);
        assert_int_equal(APR_SUCCESS, parse(&j, in, strlen(in), &prob, p));
        json_object_del(j, "x_");
        rv = sd_json_check(j, table, NTABLE, "", &prob);
        fe = sd_problem_has_errors(&prob) ? &APR_ARRAY_IDX(prob.errors, 0, sd_field_error_t) : NULL;
        if (!cases[i].field) {
            ok = rv == APR_SUCCESS && !fe;
        }
        else {
            ok = rv == SD_EINVALID && fe && prob.errors->nelts == 1
                 && !strcmp(cases[i].field, fe->field) && !strcmp(cases[i].message, fe->message)
                 && !strcmp(SD_PT_INVALID, prob.type)
                 && !strcmp("One or more fields are invalid.", prob.detail);
        }
        if (!ok) {
            fail_msg("case '%s': rv %d, %d error(s), first '%s' '%s'", cases[i].name, rv,
                     fe ? prob.errors->nelts : 0, fe ? fe->field : "", fe ? fe->message : "");
        }
    }
}

static void test_check_required_absent(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j = sd_json_own(p, json_object());
    const sd_field_error_t *e;

    sd_problem_init(&prob, p);
    assert_int_equal(SD_EINVALID, sd_json_check(j, table, NTABLE, "", &prob));
    assert_int_equal(3, prob.errors->nelts);
    e = (const sd_field_error_t *)prob.errors->elts;
    assert_string_equal("subject", e[0].field);
    assert_string_equal("is required", e[0].message);
    assert_string_equal("description", e[1].field);
    assert_string_equal("is required", e[1].message);
    assert_string_equal("category", e[2].field);
    assert_string_equal("is required", e[2].message);
}

static void test_check_collects_all_in_order(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j;
    const char *in = "{\"zzz\":1,\"cc\":5,\"subject\":5,\"aaa\":2,\"urgent\":0,\"category\":\"x\"}";
    static const struct { const char *field, *message; } want[] = {
        { "subject",     "must be a string" },
        { "description", "is required" },
        { "urgent",      "must be true or false" },
        { "cc",          "must be an array" },
        { "zzz",         "is not a known field" },
        { "aaa",         "is not a known field" },
    };
    const sd_field_error_t *e;
    apr_size_t i;

    assert_int_equal(APR_SUCCESS, parse(&j, in, strlen(in), &prob, p));
    assert_int_equal(SD_EINVALID, sd_json_check(j, table, NTABLE, "", &prob));
    assert_int_equal((int)(sizeof(want) / sizeof(want[0])), prob.errors->nelts);
    e = (const sd_field_error_t *)prob.errors->elts;
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_string_equal(want[i].field, e[i].field);
        assert_string_equal(want[i].message, e[i].message);
    }
}

static void test_check_prefix_and_nesting(void **state)
{
    static const sd_json_field_t device[] = {
        { "id",    SD_JT_STRING, 0, 5 },
        { "model", SD_JT_STRING, SD_JF_REQUIRED, 0 },
    };
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j;
    const char *in = "{\"subject\":\"s\",\"description\":\"d\",\"category\":\"c\","
                     "\"device\":{\"id\":\"123456\",\"imei\":\"1\"}}";
    const sd_field_error_t *e;

    assert_int_equal(APR_SUCCESS, parse(&j, in, strlen(in), &prob, p));
    assert_int_equal(APR_SUCCESS, sd_json_check(j, table, NTABLE, "", &prob));
    assert_int_equal(SD_EINVALID, sd_json_check(json_object_get(j, "device"), device, 2,
                                                "device.", &prob));
    assert_int_equal(3, prob.errors->nelts);
    e = (const sd_field_error_t *)prob.errors->elts;
    assert_string_equal("device.id", e[0].field);
    assert_string_equal("is longer than 5 characters", e[0].message);
    assert_string_equal("device.model", e[1].field);
    assert_string_equal("is required", e[1].message);
    assert_string_equal("device.imei", e[2].field);
    assert_string_equal("is not a known field", e[2].message);

    /* Errors add up across calls: a table of "subject" alone makes the
     * other three members unknown. */
    assert_int_equal(SD_EINVALID, sd_json_check(j, table, 1, "", &prob));
    assert_int_equal(3 + 3, prob.errors->nelts);
}

static void test_check_not_an_object(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j = sd_json_own(p, json_array());
    const sd_field_error_t *e;

    sd_problem_init(&prob, p);
    assert_int_equal(SD_EINVALID, sd_json_check(j, table, NTABLE, "device.", &prob));
    e = (const sd_field_error_t *)prob.errors->elts;
    assert_int_equal(1, prob.errors->nelts);
    assert_string_equal("device", e[0].field);
    assert_string_equal("must be an object", e[0].message);
    assert_int_equal(SD_EINVALID, sd_json_check(NULL, table, NTABLE, NULL, &prob));
}

static void test_check_long_unknown_key_is_clipped(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j;
    /* 100 two-byte characters: the echo is cut on a character boundary. */
    const char *key = repeat("\xd0\x96", 100, p);
    const char *in = apr_pstrcat(p, "{\"", key, "\":1}", NULL);
    const sd_field_error_t *e;
    json_t *s;

    assert_int_equal(APR_SUCCESS, parse(&j, in, strlen(in), &prob, p));
    assert_int_equal(SD_EINVALID, sd_json_check(j, table, 0, "", &prob));
    e = (const sd_field_error_t *)prob.errors->elts;
    assert_true(strlen(e[0].field) <= 64 + 3);
    assert_true(!strncmp(e[0].field, key, strlen(e[0].field) - 3));
    assert_string_equal("...", e[0].field + strlen(e[0].field) - 3);
    /* Still valid UTF-8: the glue can put it into a JSON body. */
    s = json_string(e[0].field);
    assert_non_null(s);
    json_decref(s);
}

static void test_check_string_with_nul_built_in_code(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j = sd_json_own(p, json_object());

    json_object_set_new(j, "subject", json_stringn("ab\0cd", 5));
    json_object_set_new(j, "description", json_string("d"));
    json_object_set_new(j, "category", json_string("c"));
    sd_problem_init(&prob, p);
    assert_int_equal(SD_EINVALID, sd_json_check(j, table, NTABLE, "", &prob));
    assert_string_equal("contains control characters",
                        APR_ARRAY_IDX(prob.errors, 0, sd_field_error_t).message);
}

/* ---- UTF-8 helpers ------------------------------------------------------- */

static void test_utf8_chars(void **state)
{
    apr_pool_t *p = *state;
    const char *cyr = repeat("\xd0\x96", 200, p);           /* Ж x 200 */
    sd_problem_t prob;
    json_t *j;
    static const sd_json_field_t subject[] = { { "s", SD_JT_STRING, SD_JF_REQUIRED, 200 } };
    const char *in;

    assert_int_equal(400, (int)strlen(cyr));
    assert_int_equal(200, (int)sd_utf8_chars(cyr));
    assert_int_equal(0, (int)sd_utf8_chars(""));
    assert_int_equal(0, (int)sd_utf8_chars(NULL));
    assert_int_equal(5, (int)sd_utf8_chars("hello"));
    assert_int_equal(3, (int)sd_utf8_chars("a\xe2\x82\xac" "\xf0\x9f\x98\x80"));  /* a € 😀 */

    /* 200 Cyrillic characters pass a 200-character limit; 201 do not. */
    in = apr_pstrcat(p, "{\"s\":\"", cyr, "\"}", NULL);
    assert_int_equal(APR_SUCCESS, parse(&j, in, strlen(in), &prob, p));
    assert_int_equal(APR_SUCCESS, sd_json_check(j, subject, 1, "", &prob));
    in = apr_pstrcat(p, "{\"s\":\"", cyr, "\xd0\x96\"}", NULL);
    assert_int_equal(APR_SUCCESS, parse(&j, in, strlen(in), &prob, p));
    assert_int_equal(SD_EINVALID, sd_json_check(j, subject, 1, "", &prob));
    assert_string_equal("is longer than 200 characters",
                        APR_ARRAY_IDX(prob.errors, 0, sd_field_error_t).message);
}

static void test_utf8_has_control(void **state)
{
    static const struct { const char *s; int allow_space; int want; } cases[] = {
        { "", 0, 0 },                   { "plain text", 0, 0 },
        { "tab\there", 0, 1 },          { "tab\there", 1, 0 },
        { "line\nbreak", 0, 1 },        { "line\r\nbreak", 1, 0 },
        { "bell\a", 1, 1 },             { "esc\x1b[0m", 1, 1 },
        { "del\x7f", 1, 1 },            { "C1 \xc2\x80", 1, 1 },
        { "C1 \xc2\x9f", 1, 1 },        { "NEL \xc2\x85", 1, 1 },
        { "nbsp \xc2\xa0", 0, 0 },      { "line sep \xe2\x80\xa8", 0, 0 },
        { "Cyrillic \xd0\x96", 0, 0 },  { "emoji \xf0\x9f\x98\x80", 0, 0 },
        { "vt\v", 1, 1 },               { "ff\f", 1, 1 },
        { "bad byte \xff", 1, 1 },      { "truncated \xd0", 1, 1 },
    };
    apr_size_t i;

    (void)state;
    assert_int_equal(0, sd_utf8_has_control(NULL, 0));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].want != sd_utf8_has_control(cases[i].s, cases[i].allow_space)) {
            fail_msg("case %d: want %d", (int)i, cases[i].want);
        }
    }
}

static void test_str_blank(void **state)
{
    static const struct { const char *s; int want; } cases[] = {
        { "", 1 },            { " ", 1 },               { " \t\r\n\v\f", 1 },
        { "\xc2\xa0", 1 },    { "\xe3\x80\x80", 1 },    { "\xe2\x80\xa8", 1 },
        { "a", 0 },           { "  a  ", 0 },           { "\xe2\x80\x8b", 0 },  /* ZWSP is not space */
        { "\xff", 0 },        { "-", 0 },
    };
    apr_size_t i;

    (void)state;
    assert_int_equal(1, sd_str_blank(NULL));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(cases[i].want, sd_str_blank(cases[i].s));
    }
}

/* ---- access, ownership, output ------------------------------------------- */

static void test_json_str(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    json_t *j;
    const char *in = "{\"s\":\"v\",\"n\":null,\"i\":1,\"e\":\"\"}";

    assert_int_equal(APR_SUCCESS, parse(&j, in, strlen(in), &prob, p));
    assert_string_equal("v", sd_json_str(j, "s"));
    assert_string_equal("", sd_json_str(j, "e"));
    assert_null(sd_json_str(j, "n"));
    assert_null(sd_json_str(j, "i"));
    assert_null(sd_json_str(j, "absent"));
    assert_null(sd_json_str(NULL, "s"));
}

static void test_own_releases_with_pool(void **state)
{
    apr_pool_t *p = *state, *sub;
    json_t *j = json_object();

    assert_null(sd_json_own(p, NULL));
    json_incref(j);                       /* keep one reference to watch it */
    apr_pool_create(&sub, p);
    assert_ptr_equal(j, sd_json_own(sub, j));
    assert_int_equal(2, (int)j->refcount);
    apr_pool_destroy(sub);
    assert_int_equal(1, (int)j->refcount);
    json_decref(j);
}

static void test_dump(void **state)
{
    apr_pool_t *p = *state;
    json_t *j = sd_json_own(p, json_object());

    json_object_set_new(j, "zeta", json_integer(1));
    json_object_set_new(j, "alpha", json_string("\xc3\xa9\n"));
    json_object_set_new(j, "list", json_pack("[b,n]", 1));
    assert_string_equal("{\"zeta\":1,\"alpha\":\"\xc3\xa9\\n\",\"list\":[true,null]}",
                        sd_json_dump(j, p));
    assert_string_equal("42", sd_json_dump(sd_json_own(p, json_integer(42)), p));
    assert_null(sd_json_dump(NULL, p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_parse_ok),
        SD_TEST(test_parse_size_limit),
        SD_TEST(test_parse_size_custom_limit),
        SD_TEST(test_parse_depth_limit),
        SD_TEST(test_parse_malformed),
        SD_TEST(test_parse_detail_has_position),
        SD_TEST(test_parse_not_nul_terminated),
        SD_TEST(test_depth_values),
        SD_TEST(test_depth_built_in_code),
        SD_TEST(test_check_messages),
        SD_TEST(test_check_required_absent),
        SD_TEST(test_check_collects_all_in_order),
        SD_TEST(test_check_prefix_and_nesting),
        SD_TEST(test_check_not_an_object),
        SD_TEST(test_check_long_unknown_key_is_clipped),
        SD_TEST(test_check_string_with_nul_built_in_code),
        SD_TEST(test_utf8_chars),
        SD_TEST(test_utf8_has_control),
        SD_TEST(test_str_blank),
        SD_TEST(test_json_str),
        SD_TEST(test_own_releases_with_pool),
        SD_TEST(test_dump),
    };
    sd_json_init();
    return SD_RUN("sd_json", tests);
}
