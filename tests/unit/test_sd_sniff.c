/* Unit tests for lib/sd_sniff.c: tiny real headers of each allowed type,
 * hostile and foreign files (SVG with script, HTML, XML, archives,
 * executables, scripts, polyglots), text split across chunks, and the
 * streaming verdict. */
#include <string.h>

#include <apr_strings.h>

#include "sd_test.h"
#include "sd_sniff.h"

typedef struct {
    const char *what;
    const char *bytes;
    apr_size_t len;
    sd_sniff_kind_e kind;
    const char *media_type;  /* NULL: not allowed */
    int raster;
} sniff_case_t;

#define B(s) s, sizeof(s) - 1

/* A 1x1 PNG, a JFIF JPEG start, GIF89a and GIF87a screens, a lossy WebP
 * header and a PDF start, as tools write them. */
static const sniff_case_t cases[] = {
    { "PNG", B("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89"),
      SD_SNIFF_PNG, "image/png", 1 },
    { "JPEG/JFIF", B("\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0"), SD_SNIFF_JPEG,
      "image/jpeg", 1 },
    { "JPEG/Exif", B("\xff\xd8\xff\xe1\0\x18" "Exif\0\0"), SD_SNIFF_JPEG, "image/jpeg", 1 },
    { "GIF89a", B("GIF89a\x01\0\x01\0\x80\0\0\xff\xff\xff\0\0\0!\xf9\x04"), SD_SNIFF_GIF,
      "image/gif", 1 },
    { "GIF87a", B("GIF87a\x01\0\x01\0\0\0\0,"), SD_SNIFF_GIF, "image/gif", 1 },
    { "WebP", B("RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0"), SD_SNIFF_WEBP, "image/webp", 1 },
    { "PDF", B("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"),
      SD_SNIFF_PDF, "application/pdf", 0 },
    { "text", B("2026-11-22 10:15:00 ERROR printer ward 3: paper jam\n\tat line 2\r\n\f"),
      SD_SNIFF_TEXT, "text/plain; charset=utf-8", 0 },
    { "text with BOM", B("\xef\xbb\xbfhello"), SD_SNIFF_TEXT, "text/plain; charset=utf-8", 0 },
    { "UTF-8 text", B("\xd0\x9e\xd1\x82\xd1\x87\xd1\x91\xd1\x82 \xe2\x82\xac \xf0\x9f\x98\x80 "
                      "\xe4\xb8\xad\xe6\x96\x87"),
      SD_SNIFF_TEXT, "text/plain; charset=utf-8", 0 },
    { "text with a < inside", B("if a < b then\nx <= 3\n"), SD_SNIFF_TEXT,
      "text/plain; charset=utf-8", 0 },
    { "JSON is text", B("{\"a\": [1, 2]}\n"), SD_SNIFF_TEXT, "text/plain; charset=utf-8", 0 },
    { "DEL and C1 are text", B("a\x7f" "b\xc2\x85" "c"), SD_SNIFF_TEXT,
      "text/plain; charset=utf-8", 0 },
    { "only white space", B("  \n"), SD_SNIFF_TEXT, "text/plain; charset=utf-8", 0 },

    /* Polyglots: the signature decides (served with nosniff and sandbox). */
    { "PNG then HTML", B("\x89PNG\r\n\x1a\n<html><script>alert(1)</script>"), SD_SNIFF_PNG,
      "image/png", 1 },
    { "GIF then JS (GIFAR-style)", B("GIF89a=1;alert(document.domain)//"), SD_SNIFF_GIF,
      "image/gif", 1 },

    /* Markup and scripts. */
    { "SVG with script",
      B("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"),
      SD_SNIFF_REJECT, NULL, 0 },
    { "SVG after XML decl", B("<?xml version=\"1.0\"?>\n<svg onload=\"alert(1)\"/>"),
      SD_SNIFF_REJECT, NULL, 0 },
    { "HTML", B("<!DOCTYPE html><html><body>hi</body></html>"), SD_SNIFF_REJECT, NULL, 0 },
    { "HTML, BOM and blank lines first", B("\xef\xbb\xbf \r\n\t\n<HtMl>"), SD_SNIFF_REJECT, NULL,
      0 },
    { "bare script tag", B("<script>alert(1)</script>"), SD_SNIFF_REJECT, NULL, 0 },
    { "HTML comment", B("<!-- x -->"), SD_SNIFF_REJECT, NULL, 0 },
    { "XML", B("<?xml version=\"1.0\"?><a/>"), SD_SNIFF_REJECT, NULL, 0 },
    { "HTML after some text", B("Hello\n<ScRiPt>alert(1)</script>"), SD_SNIFF_REJECT, NULL, 0 },
    { "HTML tag later in head", B("log line 1\nlog line 2\n<iframe src=x>"), SD_SNIFF_REJECT,
      NULL, 0 },
    { "shebang", B("#!/bin/sh\nrm -rf /\n"), SD_SNIFF_REJECT, NULL, 0 },
    { "shebang after BOM", B("\xef\xbb\xbf#!/usr/bin/env python3\n"), SD_SNIFF_REJECT, NULL, 0 },
    { "PostScript", B("%!PS-Adobe-3.0\n"), SD_SNIFF_REJECT, NULL, 0 },
    { "RTF", B("{\\rtf1\\ansi hello}"), SD_SNIFF_REJECT, NULL, 0 },

    /* Archives and executables, renamed or not. */
    { "ZIP", B("PK\x03\x04\x14\0\0\0\x08\0"), SD_SNIFF_REJECT, NULL, 0 },
    { "empty ZIP", B("PK\x05\x06\0\0\0\0"), SD_SNIFF_REJECT, NULL, 0 },
    { "ELF", B("\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"), SD_SNIFF_REJECT, NULL, 0 },
    { "MZ", B("MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0"), SD_SNIFF_REJECT, NULL, 0 },
    { "gzip", B("\x1f\x8b\x08\0\0\0\0\0\0\x03"), SD_SNIFF_REJECT, NULL, 0 },
    { "bzip2", B("BZh91AY&SY"), SD_SNIFF_REJECT, NULL, 0 },
    { "7z", B("7z\xbc\xaf\x27\x1c\0\x04"), SD_SNIFF_REJECT, NULL, 0 },
    { "RAR", B("Rar!\x1a\x07\x01\0"), SD_SNIFF_REJECT, NULL, 0 },
    { "Mach-O", B("\xcf\xfa\xed\xfe\x07\0\0\x01"), SD_SNIFF_REJECT, NULL, 0 },
    { "OLE", B("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0"), SD_SNIFF_REJECT, NULL, 0 },

    /* Near misses. */
    { "PNG signature truncated", B("\x89PNG\r\n\x1a"), SD_SNIFF_REJECT, NULL, 0 },
    { "PNG signature altered", B("\x89PNG\r\n\x1a\r"), SD_SNIFF_REJECT, NULL, 0 },
    { "JPEG two bytes", B("\xff\xd8"), SD_SNIFF_REJECT, NULL, 0 },
    { "GIF88a", B("GIF88a\x01\0"), SD_SNIFF_REJECT, NULL, 0 },
    { "RIFF WAVE", B("RIFF\x24\0\0\0WAVEfmt "), SD_SNIFF_REJECT, NULL, 0 },
    { "RIFF short", B("RIFF\x24\0\0\0WEB"), SD_SNIFF_REJECT, NULL, 0 },
    { "PDF not at 0", B(" %PDF-1.4"), SD_SNIFF_TEXT, "text/plain; charset=utf-8", 0 },
    { "PDF without dash", B("%PDF"), SD_SNIFF_TEXT, "text/plain; charset=utf-8", 0 },

    /* Not text. */
    { "NUL", B("hello\0world"), SD_SNIFF_REJECT, NULL, 0 },
    { "ESC", B("\x1b[31mred\x1b[0m\n"), SD_SNIFF_REJECT, NULL, 0 },
    { "UTF-16LE", B("\xff\xfeh\0i\0"), SD_SNIFF_REJECT, NULL, 0 },
    { "Latin-1", B("caf\xe9\n"), SD_SNIFF_REJECT, NULL, 0 },
    { "overlong slash", B("a\xc0\xaf" "b"), SD_SNIFF_REJECT, NULL, 0 },
    { "overlong 3-byte", B("a\xe0\x80\xaf"), SD_SNIFF_REJECT, NULL, 0 },
    { "surrogate", B("a\xed\xa0\x80"), SD_SNIFF_REJECT, NULL, 0 },
    { "past U+10FFFF", B("a\xf4\x90\x80\x80"), SD_SNIFF_REJECT, NULL, 0 },
    { "F5 lead", B("a\xf5\x80\x80\x80"), SD_SNIFF_REJECT, NULL, 0 },
    { "lone continuation", B("a\x80"), SD_SNIFF_REJECT, NULL, 0 },
    { "truncated sequence at end", B("a\xe2\x82"), SD_SNIFF_REJECT, NULL, 0 },

    { "empty", "", 0, SD_SNIFF_EMPTY, NULL, 0 },
};

static void test_head_table(void **state)
{
    apr_size_t i;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const sniff_case_t *c = &cases[i];
        sd_sniff_t s;
        apr_status_t rv = sd_sniff_head(&s, c->bytes, c->len, 1);

        if (s.kind != c->kind) fail_msg("%s: kind %d, expected %d", c->what, s.kind, c->kind);
        if (c->media_type) {
            if (rv != APR_SUCCESS) fail_msg("%s: rejected", c->what);
            assert_string_equal(c->media_type, s.media_type);
            assert_null(s.reason);
        }
        else {
            if (rv != SD_EMEDIATYPE) fail_msg("%s: allowed", c->what);
            assert_null(s.media_type);
            assert_non_null(s.reason);
        }
        if (s.raster != c->raster) fail_msg("%s: raster %d", c->what, s.raster);
    }
}

/* The same table through the streaming sniffer, fed byte by byte. */
static void test_stream_table_bytewise(void **state)
{
    apr_size_t i, j;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const sniff_case_t *c = &cases[i];
        sd_sniff_stream_t st;
        sd_sniff_t s;
        apr_status_t rv;

        sd_sniff_stream_init(&st);
        for (j = 0; j < c->len; j++) sd_sniff_stream_feed(&st, c->bytes + j, 1);
        rv = sd_sniff_stream_finish(&s, &st);
        if (s.kind != c->kind) fail_msg("%s: kind %d, expected %d", c->what, s.kind, c->kind);
        assert_int_equal(c->media_type ? APR_SUCCESS : SD_EMEDIATYPE, rv);
    }
}

static void test_reasons(void **state)
{
    sd_sniff_t s;
    (void)state;

    sd_sniff_head(&s, "", 0, 1);
    assert_string_equal("an empty file", s.reason);
    sd_sniff_head(&s, "PK\x03\x04", 4, 1);
    assert_non_null(strstr(s.reason, "ZIP"));
    sd_sniff_head(&s, "MZ\x90", 3, 1);
    assert_non_null(strstr(s.reason, "Windows executable"));
    sd_sniff_head(&s, "<svg/>", 6, 1);
    assert_non_null(strstr(s.reason, "SVG"));
    sd_sniff_head(&s, "#!/bin/sh", 9, 1);
    assert_non_null(strstr(s.reason, "script"));
    sd_sniff_head(&s, "\0\1", 2, 1);
    assert_non_null(strstr(s.reason, "binary"));
}

/* A 512-byte head that ends inside a character is fine when more follows,
 * and the validator then finishes the character. */
static void test_head_cut_in_character(void **state)
{
    char buf[SD_SNIFF_HEAD + 2];
    sd_sniff_t s;
    (void)state;

    memset(buf, 'a', sizeof(buf));
    memcpy(buf + SD_SNIFF_HEAD - 1, "\xe2\x82\xac", 3);   /* the euro sign straddles */
    assert_int_equal(APR_SUCCESS, sd_sniff_head(&s, buf, SD_SNIFF_HEAD, 0));
    assert_int_equal(SD_SNIFF_TEXT, s.kind);
    assert_int_equal(SD_EMEDIATYPE, sd_sniff_head(&s, buf, SD_SNIFF_HEAD, 1));
}

/* Text split at every position, including inside 2-, 3- and 4-byte
 * sequences; and bad text split the same way. */
static void test_text_every_split(void **state)
{
    static const char good[] = "Ko\xc5\xa1" "ice \xe2\x82\xac 5 \xf0\x9f\x98\x80\r\n\tok";
    static const char bad[] = "Ko\xc5\xa1" "ice \xe2\x82\xac 5 \xf0\x9f\x98\r\n";  /* cut emoji */
    apr_size_t i, j;
    (void)state;

    for (i = 0; i <= sizeof(good) - 1; i++) {
        for (j = i; j <= sizeof(good) - 1; j++) {
            sd_sniff_text_t t;
            sd_sniff_text_init(&t);
            assert_int_equal(APR_SUCCESS, sd_sniff_text_feed(&t, good, i));
            assert_int_equal(APR_SUCCESS, sd_sniff_text_feed(&t, good + i, j - i));
            assert_int_equal(APR_SUCCESS, sd_sniff_text_feed(&t, good + j, sizeof(good) - 1 - j));
            assert_int_equal(APR_SUCCESS, sd_sniff_text_finish(&t));
        }
    }
    for (i = 0; i <= sizeof(bad) - 1; i++) {
        sd_sniff_text_t t;
        sd_sniff_text_init(&t);
        sd_sniff_text_feed(&t, bad, i);
        sd_sniff_text_feed(&t, bad + i, sizeof(bad) - 1 - i);
        assert_int_equal(SD_EMEDIATYPE, sd_sniff_text_finish(&t));
    }
}

/* A file that is only cut short inside its last character. */
static void test_text_truncated_at_end(void **state)
{
    sd_sniff_text_t t;
    (void)state;
    sd_sniff_text_init(&t);
    assert_int_equal(APR_SUCCESS, sd_sniff_text_feed(&t, "ab\xf0\x9f", 4));
    assert_int_equal(SD_EMEDIATYPE, sd_sniff_text_finish(&t));
    /* Sticky. */
    assert_int_equal(SD_EMEDIATYPE, sd_sniff_text_feed(&t, "c", 1));
}

/* A long log whose bad byte comes after the head: streaming catches it, the
 * head alone cannot. */
static void test_stream_bad_byte_late(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t n = 100000, i;
    char *buf = apr_palloc(p, n);
    sd_sniff_stream_t st;
    sd_sniff_t s;

    for (i = 0; i < n; i++) buf[i] = (i % 80 == 79) ? '\n' : 'x';
    sd_sniff_stream_init(&st);
    assert_int_equal(APR_SUCCESS, sd_sniff_stream_feed(&st, buf, n));
    assert_int_equal(APR_SUCCESS, sd_sniff_stream_finish(&s, &st));
    assert_int_equal(SD_SNIFF_TEXT, s.kind);

    buf[70000] = '\0';
    assert_int_equal(APR_SUCCESS, sd_sniff_head(&s, buf, SD_SNIFF_HEAD, 0));
    sd_sniff_stream_init(&st);
    assert_int_equal(APR_SUCCESS, sd_sniff_stream_feed(&st, buf, 65536));
    assert_int_equal(SD_EMEDIATYPE, sd_sniff_stream_feed(&st, buf + 65536, n - 65536));
    assert_int_equal(SD_EMEDIATYPE, sd_sniff_stream_feed(&st, "x", 1));   /* sticky */
    assert_int_equal(SD_EMEDIATYPE, sd_sniff_stream_finish(&s, &st));
    assert_int_equal(SD_SNIFF_REJECT, s.kind);
    assert_null(s.media_type);
}

/* A binary type is decided from the head; later bytes (not UTF-8) do not
 * matter, and a rejected head stops the stream at once. */
static void test_stream_decides_early(void **state)
{
    static const unsigned char png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    unsigned char junk[1000];
    sd_sniff_stream_t st;
    sd_sniff_t s;
    (void)state;

    memset(junk, 0xff, sizeof(junk));
    sd_sniff_stream_init(&st);
    assert_int_equal(APR_SUCCESS, sd_sniff_stream_feed(&st, png, sizeof(png)));
    assert_int_equal(APR_SUCCESS, sd_sniff_stream_feed(&st, junk, sizeof(junk)));
    assert_int_equal(APR_SUCCESS, sd_sniff_stream_feed(&st, junk, sizeof(junk)));
    assert_int_equal(APR_SUCCESS, sd_sniff_stream_finish(&s, &st));
    assert_int_equal(SD_SNIFF_PNG, s.kind);
    assert_true(s.raster);

    sd_sniff_stream_init(&st);
    memcpy(junk, "PK\x03\x04", 4);
    assert_int_equal(SD_EMEDIATYPE, sd_sniff_stream_feed(&st, junk, sizeof(junk)));
    assert_int_equal(SD_EMEDIATYPE, sd_sniff_stream_finish(&s, &st));
    assert_non_null(strstr(s.reason, "ZIP"));
}

/* A 0-byte upload: nothing fed at all. */
static void test_stream_empty(void **state)
{
    sd_sniff_stream_t st;
    sd_sniff_t s;
    (void)state;
    sd_sniff_stream_init(&st);
    assert_int_equal(SD_EMEDIATYPE, sd_sniff_stream_finish(&s, &st));
    assert_int_equal(SD_SNIFF_EMPTY, s.kind);
}

/* Markup is looked for in the head only: a tag deep in a long log is fine. */
static void test_markup_beyond_head_is_text(void **state)
{
    apr_pool_t *p = *state;
    char *buf = apr_palloc(p, 2048);
    sd_sniff_stream_t st;
    sd_sniff_t s;

    memset(buf, 'x', 2048);
    memcpy(buf + 1000, "<script>", 8);
    sd_sniff_stream_init(&st);
    sd_sniff_stream_feed(&st, buf, 2048);
    assert_int_equal(APR_SUCCESS, sd_sniff_stream_finish(&s, &st));
    assert_int_equal(SD_SNIFF_TEXT, s.kind);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_head_table),
        SD_TEST(test_stream_table_bytewise),
        SD_TEST(test_reasons),
        SD_TEST(test_head_cut_in_character),
        SD_TEST(test_text_every_split),
        SD_TEST(test_text_truncated_at_end),
        SD_TEST(test_stream_bad_byte_late),
        SD_TEST(test_stream_decides_early),
        SD_TEST(test_stream_empty),
        SD_TEST(test_markup_beyond_head_is_text),
    };
    return SD_RUN("sd_sniff", tests);
}
