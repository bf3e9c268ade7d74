/* Unit tests for lib/sd_cursor.c: round trips, and every alteration refused. */
#include <string.h>

#include <apr_base64.h>
#include <apr_sha1.h>
#include <apr_strings.h>

#include "sd_test.h"
#include "sd_cursor.h"

#define BINDING "tickets|scope=mine|status=active|order=updated_desc"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const sd_cursor_t samples[] = {
    { 0, 0 },
    { 1, 2 },
    { 1795342500, 42 },
    { -1, -1 },
    { APR_INT64_MAX, APR_INT64_MIN },
    { APR_INT64_MIN, APR_INT64_MAX },
    { 0x0102030405060708LL, 0x7f7f7f7f7f7f7f7fLL },
};
#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

static void test_round_trip(void **state)
{
    apr_pool_t *p = *state;
    sd_cursor_t c;
    const char *text;
    apr_size_t i;

    for (i = 0; i < NSAMPLES; i++) {
        text = sd_cursor_encode(&samples[i], BINDING, p);
        assert_non_null(text);
        /* URL-safe as it stands: no padding, no + or /. */
        assert_int_equal(strlen(text), strspn(text, alphabet));
        assert_true(strlen(text) <= 200);
        /* Deterministic: the same page gives the same link. */
        assert_string_equal(text, sd_cursor_encode(&samples[i], BINDING, p));
        memset(&c, 0x5a, sizeof(c));
        assert_int_equal(APR_SUCCESS, sd_cursor_decode(&c, text, BINDING, p));
        assert_true(c.key == samples[i].key);
        assert_true(c.id == samples[i].id);
    }
}

static void test_distinct_values_distinct_text(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t i, k;

    for (i = 0; i < NSAMPLES; i++) {
        for (k = i + 1; k < NSAMPLES; k++) {
            assert_string_not_equal(sd_cursor_encode(&samples[i], BINDING, p),
                                    sd_cursor_encode(&samples[k], BINDING, p));
        }
    }
}

static void test_binding(void **state)
{
    static const char *const others[] = {
        "", "tickets|scope=mine|status=active|order=updated_des",
        BINDING "x", "tickets|scope=tenant|status=active|order=updated_desc",
        "TICKETS|scope=mine|status=active|order=updated_desc",
    };
    apr_pool_t *p = *state;
    sd_cursor_t c = { 1795342500, 42 }, out;
    const char *text = sd_cursor_encode(&c, BINDING, p);
    apr_size_t i;

    for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        assert_int_equal(SD_EMALFORMED, sd_cursor_decode(&out, text, others[i], p));
    }
    assert_int_equal(SD_EMALFORMED, sd_cursor_decode(&out, text, NULL, p));
    /* NULL binding is the empty binding, consistently on both sides. */
    text = sd_cursor_encode(&c, NULL, p);
    assert_int_equal(APR_SUCCESS, sd_cursor_decode(&out, text, "", p));
    assert_int_equal(APR_SUCCESS, sd_cursor_decode(&out, text, NULL, p));
    assert_int_equal(SD_EMALFORMED, sd_cursor_decode(&out, text, BINDING, p));
}

/* Every character position, replaced by every other character of the
 * alphabet (and a few outside it), must be refused, as must every
 * truncation. */
static void test_tamper_every_byte(void **state)
{
    static const char outside[] = "=+/. %~!*\x80\xff";
    apr_pool_t *p = *state;
    const sd_cursor_t c = { 1795342500, 42 };
    sd_cursor_t out;
    const char *text = sd_cursor_encode(&c, BINDING, p);
    apr_size_t len = strlen(text), i, k;
    char *t = apr_pstrdup(p, text);
    int rejected = 0;

    for (i = 0; i < len; i++) {
        for (k = 0; alphabet[k]; k++) {
            if (alphabet[k] == text[i]) continue;
            t[i] = alphabet[k];
            memset(&out, 0x5a, sizeof(out));
            if (sd_cursor_decode(&out, t, BINDING, p) != SD_EMALFORMED) {
                fail_msg("position %d changed to '%c' was accepted", (int)i, alphabet[k]);
            }
            /* Nothing is written on failure. */
            assert_true(out.key == 0x5a5a5a5a5a5a5a5aLL && out.id == 0x5a5a5a5a5a5a5a5aLL);
            rejected++;
        }
        for (k = 0; outside[k]; k++) {
            t[i] = outside[k];
            assert_int_equal(SD_EMALFORMED, sd_cursor_decode(&out, t, BINDING, p));
        }
        t[i] = text[i];
        /* Truncated here. */
        assert_int_equal(SD_EMALFORMED,
                         sd_cursor_decode(&out, apr_pstrndup(p, text, i), BINDING, p));
    }
    assert_int_equal((int)(len * 63), rejected);
    assert_int_equal(APR_SUCCESS, sd_cursor_decode(&out, t, BINDING, p));
}

/* Build a cursor by hand with the layout documented in sd_cursor.c, so that
 * a correct checksum over a wrong version isolates the version check. */
static const char *forge(const char *version, apr_int64_t key, apr_int64_t id,
                         const char *binding, apr_pool_t *p)
{
    static const char domain[] = "mod_sdesk pagination cursor";
    unsigned char raw[26], digest[APR_SHA1_DIGESTSIZE];
    apr_uint64_t k = (apr_uint64_t)key, d = (apr_uint64_t)id;
    apr_sha1_ctx_t ctx;
    char *b64, *c;
    int i;

    memcpy(raw, version, 2);
    for (i = 0; i < 8; i++) {
        raw[2 + i] = (unsigned char)(k >> (56 - 8 * i));
        raw[10 + i] = (unsigned char)(d >> (56 - 8 * i));
    }
    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, (const unsigned char *)domain, sizeof(domain));
    apr_sha1_update_binary(&ctx, raw, 18);
    apr_sha1_update_binary(&ctx, (const unsigned char *)binding, (unsigned int)strlen(binding));
    apr_sha1_final(digest, &ctx);
    memcpy(raw + 18, digest, 8);
    b64 = apr_palloc(p, (apr_size_t)apr_base64_encode_len(26));
    apr_base64_encode_binary(b64, raw, 26);
    for (c = b64; *c; c++) {
        if (*c == '+') *c = '-';
        else if (*c == '/') *c = '_';
        else if (*c == '=') *c = '\0';
    }
    return b64;
}

static void test_version(void **state)
{
    apr_pool_t *p = *state;
    const sd_cursor_t c = { 1795342500, 42 };
    sd_cursor_t out;

    /* The hand-made v1 is the real thing... */
    assert_string_equal(sd_cursor_encode(&c, BINDING, p), forge("v1", c.key, c.id, BINDING, p));
    /* ...and any other version with a valid checksum is refused. */
    assert_int_equal(SD_EMALFORMED, sd_cursor_decode(&out, forge("v2", 1, 2, BINDING, p),
                                                     BINDING, p));
    assert_int_equal(SD_EMALFORMED, sd_cursor_decode(&out, forge("V1", 1, 2, BINDING, p),
                                                     BINDING, p));
    assert_int_equal(SD_EMALFORMED, sd_cursor_decode(&out, forge("\0\0", 1, 2, BINDING, p),
                                                     BINDING, p));
}

static void test_garbage(void **state)
{
    apr_pool_t *p = *state;
    const sd_cursor_t c = { 7, 8 };
    const char *text = sd_cursor_encode(&c, BINDING, p);
    sd_cursor_t out;
    char *huge;
    const char *cases[12];
    apr_size_t i, n = 0;

    cases[n++] = "";
    cases[n++] = "abc";
    cases[n++] = "null";
    cases[n++] = apr_pstrcat(p, text, "=", NULL);
    cases[n++] = apr_pstrcat(p, text, "A", NULL);
    cases[n++] = apr_pstrcat(p, text, text, NULL);
    cases[n++] = apr_pstrcat(p, " ", text, NULL);
    cases[n++] = apr_pstrcat(p, text, "\n", NULL);
    cases[n++] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";   /* right length, all zero */
    cases[n++] = "___________________________________";   /* right length, all ones */
    huge = apr_palloc(p, 1 << 20);
    memset(huge, 'A', (1 << 20) - 1);
    huge[(1 << 20) - 1] = '\0';
    cases[n++] = huge;

    assert_int_equal(SD_EMALFORMED, sd_cursor_decode(&out, NULL, BINDING, p));
    for (i = 0; i < n; i++) {
        if (sd_cursor_decode(&out, cases[i], BINDING, p) != SD_EMALFORMED) {
            fail_msg("case %d accepted", (int)i);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_round_trip),
        SD_TEST(test_distinct_values_distinct_text),
        SD_TEST(test_binding),
        SD_TEST(test_tamper_every_byte),
        SD_TEST(test_version),
        SD_TEST(test_garbage),
    };
    return SD_RUN("sd_cursor", tests);
}
