/* Unit tests for lib/sd_query.c: strict query strings, integers, UTF-8. */
#include <string.h>

#include <apr_strings.h>

#include "sd_test.h"
#include "sd_query.h"

static const char *const allowed[] = { "scope", "status", "limit", "q", "cursor", NULL };

static const char *repeat(const char *unit, int n, apr_pool_t *p)
{
    apr_size_t ul = strlen(unit);
    char *s = apr_palloc(p, ul * (apr_size_t)n + 1), *c = s;
    int i;
    for (i = 0; i < n; i++, c += ul) memcpy(c, unit, ul);
    *c = '\0';
    return s;
}

/* A non-NULL out-parameter value, to see that a failure resets it. */
static char sentinel_byte;
#define SENTINEL ((apr_table_t *)(void *)&sentinel_byte)

static int count_entries(const apr_table_t *t)
{
    return apr_table_elts(t)->nelts;
}

/* ---- sd_query_parse: accepted ----------------------------------------------- */

#define NV(...) { __VA_ARGS__, NULL }

static const struct {
    const char *qs;
    const char *nv[12];      /* name, value, name, value, ..., NULL */
} good[] = {
    { "", NV(NULL) },
    { "scope=mine", NV("scope", "mine") },
    { "scope=queue&status=active&limit=10",
      NV("scope", "queue", "status", "active", "limit", "10") },
    { "limit=5&scope=tenant", NV("limit", "5", "scope", "tenant") },
    /* '+' is a space, %2B a plus */
    { "q=printer+jam", NV("q", "printer jam") },
    { "q=a%2Bb", NV("q", "a+b") },
    { "q=%20lead+and+trail%20", NV("q", " lead and trail ") },
    /* upper and lower case hex */
    { "q=%41%62%3d", NV("q", "Ab=") },
    { "q=%c3%bc%C3%BC", NV("q", "\xc3\xbc\xc3\xbc") },
    { "q=%E2%82%AC", NV("q", "\xe2\x82\xac") },
    { "q=%F0%9F%96%A8", NV("q", "\xf0\x9f\x96\xa8") },
    /* raw UTF-8 passes too */
    { "q=\xd0\x96", NV("q", "\xd0\x96") },
    /* '=' after the first belongs to the value */
    { "q=a=b", NV("q", "a=b") },
    { "cursor=abc==", NV("cursor", "abc==") },
    /* empty values, with and without '=', mean "not given" (HTML forms,
     * API.md's own "?q=&limit=&cursor=") */
    { "q=", NV(NULL) },
    { "q", NV(NULL) },
    { "q&scope=mine", NV("scope", "mine") },
    { "q=&limit=&cursor=", NV(NULL) },
    { "q&q", NV(NULL) },
    /* names are decoded too */
    { "%71=x", NV("q", "x") },
    { "sc%6fpe=mine", NV("scope", "mine") },
    /* other reserved characters are data */
    { "q=a/b?c;d", NV("q", "a/b?c;d") },
    { "q=%26", NV("q", "&") },
};

static void test_parse_good(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    apr_table_t *t;
    apr_size_t i;
    int k, n;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        sd_problem_init(&prob, p);
        t = SENTINEL;
        if (sd_query_parse(&t, good[i].qs, allowed, &prob, p) != APR_SUCCESS)
            fail_msg("'%s' was refused: %s", good[i].qs, prob.detail);
        assert_non_null(t);
        for (n = 0; good[i].nv[n]; n += 2) {
            const char *v = apr_table_get(t, good[i].nv[n]);
            if (!v || strcmp(v, good[i].nv[n + 1]))
                fail_msg("'%s': %s is '%s', want '%s'", good[i].qs, good[i].nv[n],
                         v ? v : "(absent)", good[i].nv[n + 1]);
        }
        assert_int_equal(n / 2, count_entries(t));
        assert_null(prob.detail);
        for (k = 0; k < count_entries(t); k++) {
            /* No entry is anything but an allowed name. */
            const char *name = ((const apr_table_entry_t *)apr_table_elts(t)->elts)[k].key;
            const char *const *a;
            for (a = allowed; *a && strcmp(*a, name); a++)
                ;
            assert_non_null(*a);
        }
    }
}

static void test_parse_null_is_empty(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    apr_table_t *t = NULL;

    sd_problem_init(&prob, p);
    assert_int_equal(APR_SUCCESS, sd_query_parse(&t, NULL, allowed, &prob, p));
    assert_non_null(t);
    assert_int_equal(0, count_entries(t));
}

/* ---- sd_query_parse: refused -------------------------------------------------- */

static const struct {
    const char *qs;
    const char *detail;      /* a substring of the detail */
} bad[] = {
    /* names */
    { "foo=1", "Unknown query parameter 'foo'" },
    { "scope=mine&foo=1", "'foo'" },
    { "Scope=mine", "'Scope'" },                   /* names are case-sensitive */
    { "SCOPE=mine", "'SCOPE'" },
    { "=mine", "Unknown query parameter ''" },
    { "scope%00=mine", "percent-encoded" },
    /* duplicates, also when spelled differently */
    { "scope=mine&scope=queue", "'scope' is given more than once" },
    { "scope=mine&scope=mine", "more than once" },
    { "limit=1&q=x&limit=2", "'limit' is given more than once" },
    { "scope=mine&%73cope=queue", "'scope' is given more than once" },
    /* empty parameters */
    { "q=1&&limit=2", "empty parameter" },
    { "scope=mine&&limit=2", "empty parameter" },
    { "&scope=mine", "empty parameter" },
    { "&", "empty parameter" },
    /* bad escapes */
    { "q=%zz", "percent-encoded" },
    { "q=%4", "percent-encoded" },
    { "q=%", "percent-encoded" },
    { "q=%4g", "percent-encoded" },
    { "q=%%41", "percent-encoded" },
    { "q=a%2", "percent-encoded" },
    { "q=%+4", "percent-encoded" },
    /* invalid UTF-8, raw or encoded */
    { "q=%ff", "UTF-8" },
    { "q=%fe%ff", "UTF-8" },
    { "q=%c3", "UTF-8" },                          /* truncated */
    { "q=%c3%28", "UTF-8" },                       /* bad continuation */
    { "q=%80", "UTF-8" },                          /* lone continuation */
    { "q=%c0%af", "UTF-8" },                       /* overlong '/' */
    { "q=%e0%80%af", "UTF-8" },                    /* overlong '/' */
    { "q=%ed%a0%80", "UTF-8" },                    /* surrogate */
    { "q=%f4%90%80%80", "UTF-8" },                 /* above U+10FFFF */
    { "q=\xff", "UTF-8" },
    { "q=\xc3", "UTF-8" },
    /* NUL and control characters */
    { "q=%00", "UTF-8" },
    { "q=a%00b", "UTF-8" },
    { "q=%c0%80", "UTF-8" },                       /* overlong NUL */
    { "q=%01", "UTF-8" },
    { "q=a%0ab", "UTF-8" },
    { "q=a%0d%0aSet-Cookie:+x", "UTF-8" },
    { "q=%09", "UTF-8" },
    { "q=%1b[31m", "UTF-8" },
    { "q=%7f", "UTF-8" },
    { "q=%c2%85", "UTF-8" },                       /* NEL, C1 */
    { "q=%c2%9b", "UTF-8" },                       /* CSI, C1 */
    { "q=a\tb", "UTF-8" },                         /* raw control */
    /* a bad value is refused even for an unknown name */
    { "foo=%zz", "percent-encoded" },
};

static void test_parse_bad(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    apr_table_t *t;
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sd_problem_init(&prob, p);
        t = SENTINEL;
        if (sd_query_parse(&t, bad[i].qs, allowed, &prob, p) != SD_EMALFORMED)
            fail_msg("'%s' was not refused", bad[i].qs);
        assert_null(t);
        assert_non_null(prob.type);
        assert_string_equal(SD_PT_BAD_PARAM, prob.type);
        if (!prob.detail || !strstr(prob.detail, bad[i].detail))
            fail_msg("'%s': detail '%s' lacks '%s'", bad[i].qs, prob.detail, bad[i].detail);
    }
}

/* The allowed list decides: a name allowed in one call is unknown in another. */
static void test_parse_allowed_list(void **state)
{
    static const char *const only_q[] = { "q", NULL };
    static const char *const none[] = { NULL };
    apr_pool_t *p = *state;
    sd_problem_t prob;
    apr_table_t *t;

    sd_problem_init(&prob, p);
    assert_int_equal(APR_SUCCESS, sd_query_parse(&t, "q=x", only_q, &prob, p));
    assert_int_equal(SD_EMALFORMED, sd_query_parse(&t, "q=x&scope=mine", only_q, &prob, p));
    assert_non_null(strstr(prob.detail, "'scope'"));
    assert_int_equal(APR_SUCCESS, sd_query_parse(&t, "", none, &prob, p));
    assert_int_equal(SD_EMALFORMED, sd_query_parse(&t, "q=x", none, &prob, p));
    /* An empty parameter between two allowed ones. */
    {
        static const char *const ab[] = { "a", "b", NULL };
        assert_int_equal(APR_SUCCESS, sd_query_parse(&t, "a=1&b=2", ab, &prob, p));
        assert_string_equal("2", apr_table_get(t, "b"));
        assert_int_equal(SD_EMALFORMED, sd_query_parse(&t, "a=1&&b=2", ab, &prob, p));
        assert_non_null(strstr(prob.detail, "empty parameter"));
    }
    /* A prefix of an allowed name is not that name. */
    assert_int_equal(SD_EMALFORMED, sd_query_parse(&t, "sco=mine", allowed, &prob, p));
    assert_int_equal(SD_EMALFORMED, sd_query_parse(&t, "scopes=mine", allowed, &prob, p));
}

/* SD_QUERY_MAX_LEN for the whole string (encoded), SD_QUERY_MAX_VALUE for
 * one decoded value. */
static void test_parse_lengths(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    apr_table_t *t;
    const char *qs;

    assert_int_equal(4096, SD_QUERY_MAX_LEN);
    assert_int_equal(1000, SD_QUERY_MAX_VALUE);

    /* A value of 1000 bytes, 1000 encoded as 3000. */
    sd_problem_init(&prob, p);
    qs = apr_pstrcat(p, "q=", repeat("a", 1000, p), NULL);
    assert_int_equal(APR_SUCCESS, sd_query_parse(&t, qs, allowed, &prob, p));
    assert_int_equal(1000, (int)strlen(apr_table_get(t, "q")));
    qs = apr_pstrcat(p, "q=", repeat("a", 1001, p), NULL);
    assert_int_equal(SD_EMALFORMED, sd_query_parse(&t, qs, allowed, &prob, p));
    assert_non_null(strstr(prob.detail, "'q' is longer than 1000 bytes"));
    qs = apr_pstrcat(p, "q=", repeat("%41", 1000, p), NULL);
    assert_int_equal(APR_SUCCESS, sd_query_parse(&t, qs, allowed, &prob, p));
    assert_string_equal(repeat("A", 1000, p), apr_table_get(t, "q"));
    /* Bytes, not characters: 500 two-byte letters are 1000, 501 are 1002. */
    qs = apr_pstrcat(p, "q=", repeat("%D0%96", 500, p), NULL);
    assert_int_equal(APR_SUCCESS, sd_query_parse(&t, qs, allowed, &prob, p));
    qs = apr_pstrcat(p, "q=", repeat("%D0%96", 501, p), NULL);
    assert_int_equal(SD_EMALFORMED, sd_query_parse(&t, qs, allowed, &prob, p));

    /* The whole string: exactly 4096 bytes is fine, 4097 is not. */
    qs = apr_pstrcat(p, "q=", repeat("%41", 1000, p), "&cursor=", repeat("%42", 362, p), NULL);
    assert_int_equal(4096, (int)strlen(qs));
    assert_int_equal(APR_SUCCESS, sd_query_parse(&t, qs, allowed, &prob, p));
    assert_int_equal(362, (int)strlen(apr_table_get(t, "cursor")));
    qs = apr_pstrcat(p, qs, "B", NULL);
    assert_int_equal(4097, (int)strlen(qs));
    t = SENTINEL;
    assert_int_equal(SD_EMALFORMED, sd_query_parse(&t, qs, allowed, &prob, p));
    assert_null(t);
    assert_non_null(strstr(prob.detail, "longer than 4096 bytes"));
    /* The length is checked before anything else is looked at. */
    qs = apr_pstrcat(p, "foo=", repeat("x", 5000, p), NULL);
    assert_int_equal(SD_EMALFORMED, sd_query_parse(&t, qs, allowed, &prob, p));
    assert_non_null(strstr(prob.detail, "longer than 4096 bytes"));
}

/* ---- sd_query_int -------------------------------------------------------------------- */

static void test_query_int(void **state)
{
    static const struct {
        const char *s;
        apr_int64_t min, max;
        int ok;
        apr_int64_t want;
    } cases[] = {
        { "0", 0, 10, 1, 0 },
        { "7", 0, 10, 1, 7 },
        { "10", 0, 10, 1, 10 },
        { "007", 0, 10, 1, 7 },
        { "1", 1, 4, 1, 1 },
        { "4", 1, 4, 1, 4 },
        { "0", 1, 4, 0, 0 },                    /* below min */
        { "5", 1, 4, 0, 0 },                    /* above max */
        { "100", 1, 100, 1, 100 },
        { "101", 1, 100, 0, 0 },
        { "-1", -10, 10, 0, 0 },                /* no sign, even when in range */
        { "+1", 0, 10, 0, 0 },
        { "-0", -10, 10, 0, 0 },
        { "1e3", 0, 100000, 0, 0 },
        { "1.0", 0, 10, 0, 0 },
        { "0x10", 0, 100, 0, 0 },
        { " 1", 0, 10, 0, 0 },
        { "1 ", 0, 10, 0, 0 },
        { "1\n", 0, 10, 0, 0 },
        { "", 0, 10, 0, 0 },
        { "abc", 0, 10, 0, 0 },
        { "12a", 0, 100, 0, 0 },
        { "\xd9\xa3", 0, 10, 0, 0 },            /* ARABIC-INDIC DIGIT THREE */
        /* 18 digits are fine, 19 and more never (so no overflow) */
        { "999999999999999999", 0, APR_INT64_MAX, 1, 999999999999999999LL },
        { "000000000000000001", 0, 10, 1, 1 },
        { "1000000000000000000", 0, APR_INT64_MAX, 0, 0 },
        { "9223372036854775807", 0, APR_INT64_MAX, 0, 0 },
        { "9223372036854775808", 0, APR_INT64_MAX, 0, 0 },
        { "18446744073709551617", 0, APR_INT64_MAX, 0, 0 },
        { "99999999999999999999999999", 0, APR_INT64_MAX, 0, 0 },
    };
    apr_int64_t v;
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = -4242;
        if (sd_query_int(&v, cases[i].s, cases[i].min, cases[i].max) != cases[i].ok)
            fail_msg("'%s' in [%" APR_INT64_T_FMT ", %" APR_INT64_T_FMT "]: want %d",
                     cases[i].s, cases[i].min, cases[i].max, cases[i].ok);
        /* The value is written on success only. */
        if (cases[i].ok ? v != cases[i].want : v != -4242)
            fail_msg("'%s': value %" APR_INT64_T_FMT, cases[i].s, v);
    }
    v = -4242;
    assert_false(sd_query_int(&v, NULL, 0, 10));
    assert_true(v == -4242);
}

/* ---- sd_utf8_valid ------------------------------------------------------------------- */

static void test_utf8_valid(void **state)
{
    static const struct {
        const char *s;
        apr_size_t len;
        int ok;
    } cases[] = {
        { "", 0, 1 },
        { "plain ascii", 11, 1 },
        { "a\0b", 3, 1 },                        /* NUL is valid UTF-8 */
        { "\x7f", 1, 1 },
        { "\xc2\x80", 2, 1 },                    /* U+0080, smallest two-byte */
        { "\xc3\xbc", 2, 1 },
        { "\xdf\xbf", 2, 1 },                    /* U+07FF */
        { "\xe0\xa0\x80", 3, 1 },                /* U+0800, smallest three-byte */
        { "\xe2\x82\xac", 3, 1 },
        { "\xed\x9f\xbf", 3, 1 },                /* U+D7FF, before the surrogates */
        { "\xee\x80\x80", 3, 1 },                /* U+E000, after them */
        { "\xef\xbf\xbd", 3, 1 },                /* U+FFFD */
        { "\xef\xbb\xbf", 3, 1 },                /* BOM, valid as a character */
        { "\xf0\x90\x80\x80", 4, 1 },            /* U+10000, smallest four-byte */
        { "\xf0\x9f\x96\xa8", 4, 1 },
        { "\xf4\x8f\xbf\xbf", 4, 1 },            /* U+10FFFF, the last */
        /* overlong forms */
        { "\xc0\x80", 2, 0 },
        { "\xc0\xaf", 2, 0 },
        { "\xc1\xbf", 2, 0 },
        { "\xe0\x80\x80", 3, 0 },
        { "\xe0\x80\xaf", 3, 0 },
        { "\xe0\x9f\xbf", 3, 0 },                /* U+07FF in three bytes */
        { "\xf0\x80\x80\x80", 4, 0 },
        { "\xf0\x8f\xbf\xbf", 4, 0 },            /* U+FFFF in four bytes */
        { "\xf8\x88\x80\x80\x80", 5, 0 },        /* five-byte form */
        { "\xfc\x84\x80\x80\x80\x80", 6, 0 },    /* six-byte form */
        /* surrogates, alone and as a CESU-8 pair */
        { "\xed\xa0\x80", 3, 0 },                /* U+D800 */
        { "\xed\xad\xbf", 3, 0 },                /* U+DB7F */
        { "\xed\xb0\x80", 3, 0 },                /* U+DC00 */
        { "\xed\xbf\xbf", 3, 0 },                /* U+DFFF */
        { "\xed\xa0\xbd\xed\xb2\xa9", 6, 0 },
        /* beyond U+10FFFF */
        { "\xf4\x90\x80\x80", 4, 0 },
        { "\xf5\x80\x80\x80", 4, 0 },
        { "\xf7\xbf\xbf\xbf", 4, 0 },
        /* bytes that never appear */
        { "\xfe", 1, 0 },
        { "\xff", 1, 0 },
        { "a\xff", 2, 0 },
        /* lone continuation bytes */
        { "\x80", 1, 0 },
        { "\xbf", 1, 0 },
        { "a\x80z", 3, 0 },
        /* truncated sequences, at the end and in the middle */
        { "\xc3", 1, 0 },
        { "\xe2\x82", 2, 0 },
        { "\xf0\x9f\x96", 3, 0 },
        { "\xe2\x82" "a", 3, 0 },
        { "\xf0\x9f" "ab", 4, 0 },
        { "\xc3" "a", 2, 0 },
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (sd_utf8_valid(cases[i].s, cases[i].len) != cases[i].ok)
            fail_msg("case %d: want %d", (int)i, cases[i].ok);
    }
    /* len is what counts, not the NUL: a valid string cut inside a
     * character is invalid, and bytes past len are not looked at. */
    assert_false(sd_utf8_valid("\xc3\xbc", 1));
    assert_false(sd_utf8_valid("x\xe2\x82\xac", 3));
    assert_true(sd_utf8_valid("ab\xff", 2));
    assert_true(sd_utf8_valid("\xe2\x82\xac\xc3", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_parse_good),
        SD_TEST(test_parse_null_is_empty),
        SD_TEST(test_parse_bad),
        SD_TEST(test_parse_allowed_list),
        SD_TEST(test_parse_lengths),
        SD_TEST(test_query_int),
        SD_TEST(test_utf8_valid),
    };
    return SD_RUN("sd_query", tests);
}
