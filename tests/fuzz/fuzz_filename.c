/* libFuzzer target for lib/sd_filename.c (and sd_sniff_head on the same
 * bytes, which costs nothing).
 *
 * The input up to its first NUL is a raw file name. Checked invariants of
 * sd_filename_safe: 1..SD_FILENAME_MAX bytes of valid UTF-8, no path
 * separator, no control, bidi or Windows-special character, no dot or space
 * at either end, not "." or "..", and idempotent. Of sd_filename_disposition:
 * printable ASCII only, exactly two quotes, and filename* present exactly
 * when the fallback had to change something. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sd_filename.h"
#include "sd_sniff.h"
#include "sd_fuzz.h"

static apr_pool_t *root;

/* Decode one code point of valid UTF-8 (abort if it is not). */
static uint32_t decode(const unsigned char **ps)
{
    const unsigned char *s = *ps;
    uint32_t cp;
    int n, i;

    if (s[0] < 0x80) { *ps = s + 1; return s[0]; }
    n = (s[0] & 0xe0) == 0xc0 ? 1 : (s[0] & 0xf0) == 0xe0 ? 2 : (s[0] & 0xf8) == 0xf0 ? 3 : -1;
    CHECK(n > 0);
    cp = s[0] & (0x3f >> n);
    for (i = 1; i <= n; i++) {
        CHECK((s[i] & 0xc0) == 0x80);
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    CHECK(cp >= (n == 1 ? 0x80u : n == 2 ? 0x800u : 0x10000u));
    CHECK(cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
    *ps = s + n + 1;
    return cp;
}

static void check_safe(const char *safe)
{
    const unsigned char *s = (const unsigned char *)safe;
    apr_size_t len = strlen(safe);
    uint32_t cp;

    CHECK(len >= 1 && len <= SD_FILENAME_MAX);
    CHECK(strcmp(safe, ".") && strcmp(safe, ".."));
    CHECK(safe[0] != '.' && safe[0] != ' ');
    CHECK(safe[len - 1] != '.' && safe[len - 1] != ' ');
    while (*s) {
        cp = decode(&s);
        CHECK(cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f));
        CHECK(!(cp < 0x80 && strchr("/\\<>:\"|?*", (int)cp)));
        CHECK(!(cp >= 0x202a && cp <= 0x202e) && !(cp >= 0x2066 && cp <= 0x2069));
        CHECK(cp != 0x200e && cp != 0x200f && cp != 0x061c && cp != 0xfeff);
    }
}

static void check_disposition(const char *v, const char *disposition, const char *safe)
{
    const char *c;
    int quotes = 0, plain = 1;

    for (c = safe; *c; c++) {
        if ((unsigned char)*c >= 0x80 || *c == '%') plain = 0;
    }
    CHECK(plain == !strstr(v, "filename*="));

    CHECK(!strncmp(v, disposition, strlen(disposition)));
    for (c = v; *c; c++) {
        CHECK(*c >= 0x20 && *c < 0x7f);
        if (*c == '"') quotes++;
    }
    CHECK(quotes == 2);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    root = sd_fuzz_start();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *raw, *safe, *again, *v;
    sd_sniff_t sn;

    apr_pool_create(&p, root);
    raw = apr_pstrmemdup(p, (const char *)data, size);   /* stops at a NUL, if any */

    CHECK(APR_SUCCESS == sd_filename_safe(&safe, raw, p));
    check_safe(safe);
    CHECK(APR_SUCCESS == sd_filename_safe(&again, safe, p));
    CHECK(!strcmp(safe, again));

    CHECK(APR_SUCCESS == sd_filename_disposition(&v, "attachment", safe, p));
    check_disposition(v, "attachment", safe);
    CHECK(APR_SUCCESS == sd_filename_disposition(&v, "inline", raw, p));
    check_disposition(v, "inline", safe);

    /* Any bytes make a verdict, and an allowed one has a media type. */
    if (APR_SUCCESS == sd_sniff_head(&sn, data, size < SD_SNIFF_HEAD ? size : SD_SNIFF_HEAD,
                                     size <= SD_SNIFF_HEAD)) {
        CHECK(sn.media_type && !sn.reason);
    }
    else {
        CHECK(!sn.media_type && sn.reason);
    }
    apr_pool_destroy(p);
    return 0;
}
