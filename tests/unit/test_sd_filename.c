/* Unit tests for lib/sd_filename.c: a table of raw names and their safe
 * form (paths, control and bidi characters, Windows specials, dots, empty
 * and long names, invalid UTF-8), idempotence, and Content-Disposition with
 * the ASCII fallback and RFC 8187 filename*. */
#include <string.h>

#include <apr_strings.h>

#include "sd_test.h"
#include "sd_filename.h"

typedef struct {
    const char *raw;
    const char *safe;
} safe_case_t;

static const safe_case_t safe_cases[] = {
    { "report.pdf", "report.pdf" },
    { "../../etc/passwd", "passwd" },
    { "..\\..\\windows\\win.ini", "win.ini" },
    { "C:\\x\\y.png", "y.png" },
    { "/abs/path/", "attachment" },
    { "dir/..", "attachment" },
    { "", "attachment" },
    { ".", "attachment" },
    { "..", "attachment" },
    { "...", "attachment" },
    { " . . ", "attachment" },
    { ".htaccess", "htaccess" },
    { "name. ", "name" },
    { "  spaced name.txt  ", "spaced name.txt" },
    { "a\tb\nc\rd\x01" "e\x7f" "f.txt", "abcdef.txt" },
    { "x\xc2\x80y\xc2\x9f.txt", "xy.txt" },                      /* C1 */
    { "evil\xe2\x80\xaegnp.exe", "evilgnp.exe" },                 /* U+202E RLO */
    { "a\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad" "b", "ab" },
    { "a\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9" "b", "ab" },   /* isolates */
    { "a\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c" "b", "ab" },            /* LRM, RLM, ALM */
    { "\xef\xbb\xbf" "bom.txt", "bom.txt" },
    { "a<b>c:d\"e|f?g*h.txt", "a_b_c_d_e_f_g_h.txt" },
    { "a\xe2\x88\x95" "b\xef\xbc\x8f" "c\xe2\x81\x84" "d\xef\xbc\xbc" "e", "a_b_c_d_e" },
    { "\xd0\xbe\xd1\x82\xd1\x87\xd0\xb5\xd1\x82.pdf", "\xd0\xbe\xd1\x82\xd1\x87\xd0\xb5\xd1\x82.pdf" },
    { "caf\xe9.txt", "caf_.txt" },                                /* Latin-1 */
    { "a\xc0\xaf" "b", "a__b" },                                  /* overlong '/' */
    { "a\xed\xa0\x80" "b", "a___b" },                             /* surrogate */
    { "a\xe2\x82", "a__" },                                       /* truncated */
    { "CON", "_CON" },
    { "con.txt", "_con.txt" },
    { "Nul .png", "_Nul .png" },
    { "lpt9.log", "_lpt9.log" },
    { "COM0.txt", "COM0.txt" },
    { "console.txt", "console.txt" },
    { "\x01\x02/", "attachment" },
    { "\xe2\x80\xae", "attachment" },
    { "file\x01/passwd", "passwd" },
};

static void test_safe_table(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(safe_cases) / sizeof(safe_cases[0]); i++) {
        const char *out = NULL, *again = NULL;
        assert_int_equal(APR_SUCCESS, sd_filename_safe(&out, safe_cases[i].raw, p));
        if (strcmp(out, safe_cases[i].safe)) {
            fail_msg("case %d: '%s' -> '%s', expected '%s'", (int)i, safe_cases[i].raw, out,
                     safe_cases[i].safe);
        }
        sd_filename_safe(&again, out, p);
        assert_string_equal(out, again);
    }
}

static void test_safe_null(void **state)
{
    const char *out;
    sd_filename_safe(&out, NULL, *state);
    assert_string_equal(SD_FILENAME_FALLBACK, out);
}

static char *repeat(const char *unit, int n, apr_pool_t *p)
{
    apr_size_t ul = strlen(unit);
    char *s = apr_palloc(p, ul * (apr_size_t)n + 1);
    int i;
    for (i = 0; i < n; i++) memcpy(s + ul * (apr_size_t)i, unit, ul);
    s[ul * (apr_size_t)n] = '\0';
    return s;
}

static int valid_utf8(const char *s)
{
    const unsigned char *b = (const unsigned char *)s;
    while (*b) {
        int n = *b < 0x80 ? 0 : (*b & 0xe0) == 0xc0 ? 1 : (*b & 0xf0) == 0xe0 ? 2
              : (*b & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0) return 0;
        for (b++; n > 0; n--, b++) {
            if ((*b & 0xc0) != 0x80) return 0;
        }
    }
    return 1;
}

static void test_long_names(void **state)
{
    apr_pool_t *p = *state;
    const char *out, *raw_again;
    char *raw;

    /* 500 ASCII bytes, extension kept. */
    raw = apr_pstrcat(p, repeat("a", 496, p), ".png", NULL);
    sd_filename_safe(&out, raw, p);
    assert_int_equal(SD_FILENAME_MAX, strlen(out));
    assert_string_equal(".png", out + strlen(out) - 4);

    /* 500 bytes without extension. */
    sd_filename_safe(&out, repeat("b", 500, p), p);
    assert_string_equal(repeat("b", SD_FILENAME_MAX, p), out);

    /* Cyrillic, 2 bytes a character: never cut inside one. */
    raw = apr_pstrcat(p, "x", repeat("\xd0\xb6", 250, p), ".pdf", NULL);
    sd_filename_safe(&out, raw, p);
    assert_true(strlen(out) <= SD_FILENAME_MAX);
    assert_true(strlen(out) >= SD_FILENAME_MAX - 1);
    assert_true(valid_utf8(out));
    assert_string_equal(".pdf", out + strlen(out) - 4);

    /* 4-byte characters, no extension: cut on a boundary. */
    raw = apr_pstrcat(p, "y", repeat("\xf0\x9f\x98\x80", 100, p), NULL);
    sd_filename_safe(&out, raw, p);
    assert_true(strlen(out) <= SD_FILENAME_MAX && strlen(out) > SD_FILENAME_MAX - 4);
    assert_true(valid_utf8(out));

    /* A long "extension" is not one: plain cut. */
    raw = apr_pstrcat(p, "z.", repeat("e", 300, p), NULL);
    sd_filename_safe(&out, raw, p);
    assert_int_equal(SD_FILENAME_MAX, strlen(out));
    assert_string_equal("z.", apr_pstrndup(p, out, 2));

    /* A cut that ends in dots or spaces is trimmed again. */
    raw = apr_pstrcat(p, repeat("c", 198, p), "  ", repeat("d", 100, p), NULL);
    sd_filename_safe(&out, raw, p);
    assert_string_equal(repeat("c", 198, p), out);

    /* A cut that leaves a Windows device name still gets the prefix, and
     * stays within the limit (found by fuzz_filename). */
    raw = apr_pstrcat(p, "com1", repeat(" ", 300, p), "1", NULL);
    sd_filename_safe(&out, raw, p);
    assert_string_equal("_com1", out);
    raw = apr_pstrcat(p, "con", repeat(" ", 300, p), "x.png", NULL);
    sd_filename_safe(&out, raw, p);
    assert_string_equal(apr_pstrcat(p, "_con", repeat(" ", 192, p), ".png", NULL), out);
    sd_filename_safe(&raw_again, out, p);
    assert_string_equal(out, raw_again);

    /* Exactly the limit is left alone. */
    raw = repeat("e", SD_FILENAME_MAX, p);
    sd_filename_safe(&out, raw, p);
    assert_string_equal(raw, out);
}

typedef struct {
    const char *disposition;
    const char *name;
    const char *value;
} disp_case_t;

static const disp_case_t disp_cases[] = {
    { "attachment", "report.pdf", "attachment; filename=\"report.pdf\"" },
    { "inline", "scan 1.png", "inline; filename=\"scan 1.png\"" },
    { "attachment", "\xd0\x9e\xd1\x82\xd1\x87\xd1\x91\xd1\x82.pdf",
      "attachment; filename=\"_____.pdf\"; "
      "filename*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82.pdf" },
    { "attachment", "100%.txt",
      "attachment; filename=\"100_.txt\"; filename*=UTF-8''100%25.txt" },
    { "attachment", "a\\b", "attachment; filename=\"b\"" },     /* made safe first */
    { "attachment", "say \"hi\".txt",
      "attachment; filename=\"say _hi_.txt\"" },                /* '"' already '_' */
    { "attachment", "a b'c(d)e;f,g=h.txt",
      "attachment; filename=\"a b'c(d)e;f,g=h.txt\"" },
    { "attachment", "x\r\nSet-Cookie: a=b",
      "attachment; filename=\"xSet-Cookie_ a=b\"" },
    { "attachment", "", "attachment; filename=\"attachment\"" },
    { "attachment", "\xe2\x82\xac 5 & more.txt",
      "attachment; filename=\"_ 5 & more.txt\"; filename*=UTF-8''%E2%82%AC%205%20&%20more.txt" },
};

static void test_disposition_table(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(disp_cases) / sizeof(disp_cases[0]); i++) {
        const char *v = NULL;
        assert_int_equal(APR_SUCCESS,
                         sd_filename_disposition(&v, disp_cases[i].disposition, disp_cases[i].name,
                                                 p));
        if (strcmp(v, disp_cases[i].value)) {
            fail_msg("case %d: '%s', expected '%s'", (int)i, v, disp_cases[i].value);
        }
    }
}

static void test_disposition_bad_type(void **state)
{
    const char *v = "x";
    assert_int_equal(APR_EINVAL, sd_filename_disposition(&v, "form-data", "a", *state));
    assert_null(v);
    assert_int_equal(APR_EINVAL, sd_filename_disposition(&v, NULL, "a", *state));
    assert_int_equal(APR_EINVAL, sd_filename_disposition(&v, "Attachment", "a", *state));
}

/* Whatever the input, the header value is printable ASCII without CR/LF
 * and with exactly two quotes around the fallback. */
static void test_disposition_always_clean(void **state)
{
    apr_pool_t *p = *state;
    char raw[64];
    unsigned seed = 7;
    int round, i;

    for (round = 0; round < 2000; round++) {
        const char *v, *c;
        int quotes = 0;
        for (i = 0; i < 63; i++) {
            seed = seed * 1103515245u + 12345u;
            raw[i] = (char)(1 + (seed >> 16) % 255);
        }
        raw[(seed >> 8) % 64] = '\0';
        raw[63] = '\0';
        assert_int_equal(APR_SUCCESS, sd_filename_disposition(&v, "attachment", raw, p));
        for (c = v; *c; c++) {
            assert_true(*c >= 0x20 && *c < 0x7f);
            if (*c == '"') quotes++;
        }
        assert_int_equal(2, quotes);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_safe_table),
        SD_TEST(test_safe_null),
        SD_TEST(test_long_names),
        SD_TEST(test_disposition_table),
        SD_TEST(test_disposition_bad_type),
        SD_TEST(test_disposition_always_clean),
    };
    return SD_RUN("sd_filename", tests);
}
