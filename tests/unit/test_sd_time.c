/* Unit tests for lib/sd_time.c: RFC 3339 formatting and strict parsing. */
#include <string.h>

#include <apr_strings.h>

#include "sd_test.h"
#include "sd_time.h"

#define USEC APR_USEC_PER_SEC

/* Expected values computed independently (Python's datetime). */
static const struct {
    apr_int64_t sec;
    const char *text;
} canon[] = {
    { 0,                "1970-01-01T00:00:00Z" },
    { 1795342500,       "2026-11-22T10:15:00Z" },
    { 1709164800,       "2024-02-29T00:00:00Z" },
    { 951825600,        "2000-02-29T12:00:00Z" },
    { 2147483648LL,     "2038-01-19T03:14:08Z" },
    { 4107542400LL,     "2100-03-01T00:00:00Z" },
    { -1,               "1969-12-31T23:59:59Z" },
    { -2203891200LL,    "1900-03-01T00:00:00Z" },
    { -62135596800LL,   "0001-01-01T00:00:00Z" },
    { -62167219200LL,   "0000-01-01T00:00:00Z" },
    { 253402300799LL,   "9999-12-31T23:59:59Z" },
};
#define NCANON (sizeof(canon) / sizeof(canon[0]))

static void test_format(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < NCANON; i++) {
        assert_string_equal(canon[i].text, sd_time_rfc3339(sd_time_from_sec(canon[i].sec), p));
    }
}

static void test_format_drops_subseconds(void **state)
{
    apr_pool_t *p = *state;

    assert_string_equal("2026-11-22T10:15:00Z",
                        sd_time_rfc3339(sd_time_from_sec(1795342500) + 999999, p));
    /* Towards the past, also before the epoch. */
    assert_string_equal("1969-12-31T23:59:59Z", sd_time_rfc3339(-1, p));
    assert_string_equal("1969-12-31T23:59:59Z", sd_time_rfc3339(-USEC, p));
    assert_string_equal("1969-12-31T23:59:58Z", sd_time_rfc3339(-USEC - 1, p));
}

static void test_format_out_of_range(void **state)
{
    apr_pool_t *p = *state;

    assert_null(sd_time_rfc3339(sd_time_from_sec(253402300800LL), p));   /* 10000-01-01 */
    assert_null(sd_time_rfc3339(sd_time_from_sec(-62167219201LL), p));   /* year -1 */
}

static void test_parse_canonical(void **state)
{
    apr_time_t t;
    apr_size_t i;

    (void)state;
    for (i = 0; i < NCANON; i++) {
        t = -12345;
        if (sd_time_parse(&t, canon[i].text) != APR_SUCCESS || t != sd_time_from_sec(canon[i].sec)) {
            fail_msg("%s: got %" APR_INT64_T_FMT, canon[i].text, (apr_int64_t)t);
        }
    }
}

typedef struct {
    const char *text;
    apr_int64_t sec;
    apr_int64_t usec;
} good_t;

static void test_parse_variants(void **state)
{
    static const good_t cases[] = {
        { "2026-11-22T10:15:00Z",             1795342500, 0 },
        { "2026-11-22",                       1795305600, 0 },
        { "2026-11-22T10:15:00.5Z",           1795342500, 500000 },
        { "2026-11-22T10:15:00.000001Z",      1795342500, 1 },
        { "2026-11-22T10:15:00.123456789Z",   1795342500, 123456 },
        { "2026-11-22T10:15:00.0Z",           1795342500, 0 },
        { "2026-11-22T11:15:00+01:00",        1795342500, 0 },
        { "2026-11-22T05:15:00-05:00",        1795342500, 0 },
        { "2026-11-22T15:45:00+05:30",        1795342500, 0 },
        { "2026-11-23T09:14:00+22:59",        1795342500, 0 },
        { "2026-11-22T10:15:00+00:00",        1795342500, 0 },
        { "2026-11-22T10:15:00-00:00",        1795342500, 0 },
        { "2026-11-22T10:15:00.25+01:00",     1795338900, 250000 },
        { "2026-11-22t10:15:00z",             1795342500, 0 },
        /* An offset can carry the time across midnight, a month, a year. */
        { "2027-01-01T00:30:00+01:00",        1798759800, 0 },
        { "2026-12-31T23:30:00-01:00",        1798763400, 0 },
        { "1970-01-01T00:00:00+00:01",        -60, 0 },
        { "2024-02-29",                       1709164800, 0 },
        { "2000-02-29",                       951782400, 0 },
        { "1969-12-31T23:59:59.999999Z",      -1, 999999 },
    };
    apr_time_t t;
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t = -12345;
        if (sd_time_parse(&t, cases[i].text) != APR_SUCCESS
            || t != sd_time_from_sec(cases[i].sec) + cases[i].usec) {
            fail_msg("%s: got %" APR_INT64_T_FMT, cases[i].text, (apr_int64_t)t);
        }
    }
}

static void test_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "", "2026", "2026-11", "2026-11-2", "26-11-22", "2026-1-22", "20261122",
        "2026/11/22", "+2026-11-22", "-001-01-01", " 2026-11-22", "2026-11-22 ",
        "2026-11-22\n", "\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x96-11-22",
        /* dates that do not exist */
        "2026-02-29", "1900-02-29", "2100-02-29", "2026-02-30", "2026-04-31", "2026-06-31",
        "2026-09-31", "2026-11-31", "2026-01-32", "2026-00-10", "2026-13-01", "2026-11-00",
        "2026-02-29T00:00:00Z",
        /* times that do not exist */
        "2026-11-22T24:00:00Z", "2026-11-22T23:60:00Z", "2026-11-22T23:59:60Z",
        "2026-11-22T99:00:00Z", "2026-11-22T-1:00:00Z",
        /* shape */
        "2026-11-22T10:15:00", "2026-11-22T10:15Z", "2026-11-22T10:15:0Z", "2026-11-22T1:15:00Z",
        "2026-11-22 10:15:00Z", "2026-11-22_10:15:00Z", "2026-11-22T", "2026-11-22TZ",
        "2026-11-22T10:15:00.Z", "2026-11-22T10:15:00.1234567890Z", "2026-11-22T10:15:00,5Z",
        "2026-11-22T10:15:00ZZ", "2026-11-22T10:15:00Zjunk", "2026-11-22T10:15:00UTC",
        "2026-11-22T10:15:00GMT", "2026-11-22T10:15:00.5",
        /* offsets */
        "2026-11-22T10:15:00+0100", "2026-11-22T10:15:00+01", "2026-11-22T10:15:00+1:00",
        "2026-11-22T10:15:00+24:00", "2026-11-22T10:15:00+01:60", "2026-11-22T10:15:00+01:00Z",
        "2026-11-22T10:15:00 +01:00", "2026-11-22T10:15:00+01:00:00",
        "2026-11-22T10:15:00Z+01:00",
    };
    apr_time_t t;
    apr_size_t i;

    (void)state;
    t = 777;
    assert_int_equal(SD_EMALFORMED, sd_time_parse(&t, NULL));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (sd_time_parse(&t, bad[i]) != SD_EMALFORMED) fail_msg("accepted '%s'", bad[i]);
        assert_true(t == 777);   /* untouched on failure */
    }
}

/* format(parse(x)) and parse(format(t)) over a wide sweep of seconds, across
 * leap years, centuries and the epoch. */
static void test_round_trips(void **state)
{
    apr_pool_t *p = *state;
    apr_int64_t sec;
    apr_time_t t;
    const char *s;
    int n = 0;

    for (sec = -62167219200LL; sec <= 253402300799LL; sec += 86399LL * 97 + 3607, n++) {
        s = sd_time_rfc3339(sd_time_from_sec(sec), p);
        assert_non_null(s);
        assert_int_equal(20, (int)strlen(s));
        if (sd_time_parse(&t, s) != APR_SUCCESS || t != sd_time_from_sec(sec)) {
            fail_msg("%" APR_INT64_T_FMT " -> %s did not come back", sec, s);
        }
        assert_string_equal(s, sd_time_rfc3339(t, p));
    }
    assert_true(n > 30000);
}

/* Our day arithmetic against APR's for every day from 1970 to 2200. */
static void test_parse_agrees_with_apr(void **state)
{
    apr_pool_t *p = *state;
    apr_time_exp_t tm;
    apr_time_t want, got;
    const char *s;
    int y, m, d;
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    for (y = 1970; y <= 2200; y++) {
        for (m = 1; m <= 12; m++) {
            int last = dim[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
            for (d = 1; d <= last; d++) {
                memset(&tm, 0, sizeof(tm));
                tm.tm_year = y - 1900;
                tm.tm_mon = m - 1;
                tm.tm_mday = d;
                tm.tm_hour = 13;
                tm.tm_min = 7;
                tm.tm_sec = 9;
                assert_int_equal(APR_SUCCESS, apr_time_exp_gmt_get(&want, &tm));
                s = apr_psprintf(p, "%04d-%02d-%02dT13:07:09Z", y, m, d);
                assert_int_equal(APR_SUCCESS, sd_time_parse(&got, s));
                if (got != want) fail_msg("%s", s);
            }
            if (m == 2) {
                s = apr_psprintf(p, "%04d-02-%02d", y, last + 1);
                assert_int_equal(SD_EMALFORMED, sd_time_parse(&got, s));
            }
        }
    }
}

static void test_seconds_macros(void **state)
{
    (void)state;
    assert_true(sd_time_from_sec(1795342500) == (apr_time_t)1795342500 * USEC);
    assert_true(sd_time_sec(sd_time_from_sec(1795342500) + 999999) == 1795342500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_format),
        SD_TEST(test_format_drops_subseconds),
        SD_TEST(test_format_out_of_range),
        SD_TEST(test_parse_canonical),
        SD_TEST(test_parse_variants),
        SD_TEST(test_parse_rejects),
        SD_TEST(test_round_trips),
        SD_TEST(test_parse_agrees_with_apr),
        SD_TEST(test_seconds_macros),
    };
    return SD_RUN("sd_time", tests);
}
