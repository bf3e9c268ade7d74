/* Unit tests for lib/sd_problem.c, and the error plumbing around it: status
 * names and limits (lib/sd.c) and the log sink (lib/sd_log.c). */
#include <string.h>

#include <apr_strings.h>

#include "sd_test.h"
#include "sd_problem.h"
#include "sd_log.h"

/* Every code of ours and what the client sees for it: API.md "General". */
static const struct {
    apr_status_t rv;
    const char *name;
    int http;
    const char *type;
    const char *title;
} codes[] = {
    { SD_ENOTFOUND,     "SD_ENOTFOUND",     404, SD_PT_NOT_FOUND,    "Not found" },
    { SD_EINVALID,      "SD_EINVALID",      422, SD_PT_INVALID,      "Invalid fields" },
    { SD_ECONFLICT,     "SD_ECONFLICT",     409, SD_PT_CONFLICT,     "Conflict" },
    { SD_EFORBIDDEN,    "SD_EFORBIDDEN",    403, SD_PT_FORBIDDEN,    "Forbidden" },
    { SD_ENOUSER,       "SD_ENOUSER",       403, SD_PT_NO_USER,      "Unknown user" },
    { SD_ETOOBIG,       "SD_ETOOBIG",       413, SD_PT_TOO_BIG,      "Content too large" },
    { SD_EUNAVAILABLE,  "SD_EUNAVAILABLE",  503, SD_PT_DB_DOWN,      "Service unavailable" },
    { SD_EBUSY,         "SD_EBUSY",         503, SD_PT_DB_BUSY,      "Service unavailable" },
    { SD_EMALFORMED,    "SD_EMALFORMED",    400, SD_PT_MALFORMED,    "Malformed request" },
    { SD_EPRECONDITION, "SD_EPRECONDITION", 412, SD_PT_PRECONDITION, "Precondition failed" },
    { SD_EMEDIATYPE,    "SD_EMEDIATYPE",    415, SD_PT_MEDIA_TYPE,   "Unsupported media type" },
    { SD_EINTERNAL,     "SD_EINTERNAL",     500, SD_PT_INTERNAL,     "Internal error" },
};

static void test_status_mapping(void **state)
{
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (codes[i].http != sd_problem_http_status(codes[i].rv)
            || strcmp(codes[i].type, sd_problem_default_type(codes[i].rv))
            || strcmp(codes[i].title, sd_problem_default_title(codes[i].rv))
            || strcmp(codes[i].name, sd_status_name(codes[i].rv))) {
            fail_msg("%s: %d %s '%s'", codes[i].name, sd_problem_http_status(codes[i].rv),
                     sd_problem_default_type(codes[i].rv), sd_problem_default_title(codes[i].rv));
        }
    }
}

static void test_other_codes_are_internal(void **state)
{
    static const apr_status_t others[] = {
        APR_ENOENT, APR_EGENERAL, APR_ENOMEM, APR_TIMEUP, APR_EOF,
        SD_ESTART, SD_EINTERNAL + 1, APR_OS_START_USERERR, 5 /* SQLITE_BUSY as apr_dbd gives it */
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        assert_int_equal(500, sd_problem_http_status(others[i]));
        assert_string_equal(SD_PT_INTERNAL, sd_problem_default_type(others[i]));
        assert_string_equal("Internal error", sd_problem_default_title(others[i]));
        assert_string_equal("apr", sd_status_name(others[i]));
    }
    assert_string_equal("APR_SUCCESS", sd_status_name(APR_SUCCESS));
}

static void test_init(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;

    memset(&prob, 0x5a, sizeof(prob));
    sd_problem_init(&prob, p);
    assert_ptr_equal(p, prob.pool);
    assert_null(prob.type);
    assert_null(prob.title);
    assert_null(prob.detail);
    assert_null(prob.errors);
    assert_false(sd_problem_has_errors(&prob));
    assert_false(sd_problem_has_errors(NULL));
}

static void test_set(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    char name[] = "SD-12";

    sd_problem_init(&prob, p);
    assert_int_equal(SD_ECONFLICT, sd_problem_set(&prob, SD_ECONFLICT, SD_PT_CONFLICT,
                                                  "Ticket %s is %s.", name, "closed"));
    name[0] = 'X';   /* the detail is a copy in the pool */
    assert_string_equal(SD_PT_CONFLICT, prob.type);
    assert_string_equal("Ticket SD-12 is closed.", prob.detail);
    assert_null(prob.title);
    assert_null(prob.errors);

    /* A later set replaces type and detail. */
    sd_problem_set(&prob, SD_EINVALID, SD_PT_INVALID, "%d%%", 50);
    assert_string_equal(SD_PT_INVALID, prob.type);
    assert_string_equal("50%", prob.detail);

    /* No detail, and no problem object at all. */
    assert_int_equal(SD_EBUSY, sd_problem_set(&prob, SD_EBUSY, SD_PT_DB_BUSY, NULL));
    assert_null(prob.detail);
    assert_int_equal(SD_ENOTFOUND, sd_problem_set(NULL, SD_ENOTFOUND, SD_PT_NOT_FOUND, "x"));
}

static void test_fields(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    const sd_field_error_t *e;
    int i;

    sd_problem_init(&prob, p);
    sd_problem_field(&prob, "subject", "is required");
    assert_non_null(prob.errors);
    assert_true(sd_problem_has_errors(&prob));
    sd_problem_field(&prob, "device.model", "is longer than %d characters", 200);
    sd_problem_field(&prob, NULL, "must be an object");
    for (i = 0; i < 20; i++) sd_problem_field(&prob, "cc", "item %d", i);

    assert_int_equal(23, prob.errors->nelts);
    e = (const sd_field_error_t *)prob.errors->elts;
    assert_string_equal("subject", e[0].field);
    assert_string_equal("is required", e[0].message);
    assert_string_equal("device.model", e[1].field);
    assert_string_equal("is longer than 200 characters", e[1].message);
    assert_string_equal("", e[2].field);
    assert_string_equal("item 19", e[22].message);
    /* Field errors do not set type or detail: sd_problem_set does. */
    assert_null(prob.type);
    assert_null(prob.detail);

    sd_problem_field(NULL, "x", "ignored");
}

static void test_limits_default(void **state)
{
    sd_limits_t l;

    (void)state;
    memset(&l, 0x5a, sizeof(l));
    sd_limits_default(&l);
    assert_int_equal(64 * 1024, (int)l.max_body);
    assert_int_equal(32, l.max_depth);
    assert_int_equal(200, l.max_subject);
    assert_int_equal(20000, l.max_description);
    assert_int_equal(SD_DEF_MAX_FIELD, l.max_field);
    assert_int_equal(SD_DEF_MAX_URL, l.max_url);
    assert_int_equal(SD_DEF_MAX_CC, l.max_cc);
    assert_int_equal(SD_DEF_MAX_CONTEXT, l.max_context);
    assert_int_equal(SD_DEF_MAX_CONTEXT_VAL, l.max_context_val);
}

/* ---- logging -------------------------------------------------------------- */

typedef struct {
    apr_pool_t *pool;
    int threshold;
    int calls;
    int level;
    apr_status_t rv;
    const char *file;
    int line;
    const char *msg;
} recorder_t;

static void record(void *baton, const char *file, int line, int level, apr_status_t rv,
                   const char *msg)
{
    recorder_t *r = baton;
    r->calls++;
    r->file = file;
    r->line = line;
    r->level = level;
    r->rv = rv;
    r->msg = apr_pstrdup(r->pool, msg);   /* msg may live on the caller's stack */
}

static int record_level(void *baton, int level)
{
    return level <= ((recorder_t *)baton)->threshold;
}

static void test_log_sink(void **state)
{
    apr_pool_t *p = *state;
    recorder_t r;
    int line;

    memset(&r, 0, sizeof(r));
    r.pool = p;
    r.threshold = SD_LOG_INFO;
    sd_log_set(record, record_level, &r);

    assert_true(sd_log_is_level(SD_LOG_ERR));
    assert_true(sd_log_is_level(SD_LOG_INFO));
    assert_false(sd_log_is_level(SD_LOG_DEBUG));

    line = __LINE__ + 1;
    sd_log(SD_LOG_MARK, SD_LOG_WARNING, APR_ENOENT, p, SDLOGNO(00001) "store %s: %d", "x", 5);
    assert_int_equal(1, r.calls);
    assert_int_equal(SD_LOG_WARNING, r.level);
    assert_int_equal(APR_ENOENT, r.rv);
    assert_string_equal(__FILE__, r.file);
    assert_int_equal(line, r.line);
    assert_string_equal("SD00001: store x: 5", r.msg);

    /* Below the threshold the sink is not called. */
    sd_log(SD_LOG_MARK, SD_LOG_DEBUG, APR_SUCCESS, p, "hidden %s", "x");
    assert_int_equal(1, r.calls);

    /* Without a pool the message is formatted on the stack, long ones cut. */
    sd_log(SD_LOG_MARK, SD_LOG_ERR, APR_SUCCESS, NULL, "no pool %d", 7);
    assert_int_equal(2, r.calls);
    assert_string_equal("no pool 7", r.msg);
    sd_log(SD_LOG_MARK, SD_LOG_ERR, APR_SUCCESS, NULL, "%s",
           apr_psprintf(p, "%5000s", "x"));
    assert_int_equal(3, r.calls);
    assert_true(strlen(r.msg) > 1000 && strlen(r.msg) < 5000);

    /* NULL restores the default: warnings and worse, to stderr. */
    sd_log_set(NULL, NULL, NULL);
    assert_true(sd_log_is_level(SD_LOG_WARNING));
    assert_false(sd_log_is_level(SD_LOG_NOTICE));
    sd_log(SD_LOG_MARK, SD_LOG_INFO, APR_SUCCESS, p, "not shown");
    assert_int_equal(3, r.calls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_status_mapping),
        SD_TEST(test_other_codes_are_internal),
        SD_TEST(test_init),
        SD_TEST(test_set),
        SD_TEST(test_fields),
        SD_TEST(test_limits_default),
        SD_TEST(test_log_sink),
    };
    return SD_RUN("sd_problem", tests);
}
