/* libFuzzer target for lib/sd_cursor.c: the opaque paging cursors a client
 * sends back in ?cursor= (tampered, truncated, forged, or made for another
 * query or user).
 *
 * Input: byte 0 = n, the length of the binding (the query a cursor is bound
 * to) taken from the next n bytes; the rest, up to a NUL, is the cursor text.
 *
 * Checks: decoding answers success or SD_EMALFORMED; a cursor that decodes
 * encodes back to exactly the same text (one spelling per cursor), and does
 * not decode under another binding (the binding with one byte changed, or
 * with "|other-user" appended, as a user name is the binding's tail); any
 * key and id taken from the input encode to 35 base64url characters and
 * decode to the same values; any one character changed in that cursor makes
 * it invalid. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sd_cursor.h"
#include "sd_fuzz.h"

static apr_pool_t *root;

SD_FUZZ_INIT_ROOT(root)

static apr_int64_t take64(const uint8_t *d, size_t n)
{
    apr_uint64_t u = 0;
    size_t i;
    for (i = 0; i < 8; ++i) u = (u << 8) | (i < n ? d[i] : 0x5a);
    return (apr_int64_t)u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    apr_pool_t *p;
    const char *binding, *text, *again, *other;
    char *bad;
    sd_cursor_t c, d;
    size_t n, i;
    apr_status_t rv;

    if (size < 1) return 0;
    n = data[0];
    if (n > size - 1) n = size - 1;
    apr_pool_create(&p, root);
    binding = apr_pstrmemdup(p, (const char *)data + 1, n);     /* to a NUL, if any */
    text = apr_pstrmemdup(p, (const char *)data + 1 + n, size - 1 - n);

    rv = sd_cursor_decode(&c, text, binding, p);
    CHECK(rv == APR_SUCCESS || rv == SD_EMALFORMED);
    if (rv == APR_SUCCESS) {
        again = sd_cursor_encode(&c, binding, p);
        CHECK(!strcmp(again, text));
        other = apr_pstrcat(p, binding, "|other-user", NULL);
        CHECK(sd_cursor_decode(&d, text, other, p) == SD_EMALFORMED);
        if (*binding) {
            char *b2 = apr_pstrdup(p, binding);
            b2[0] = (char)(b2[0] == 'x' ? 'y' : 'x');
            CHECK(sd_cursor_decode(&d, text, b2, p) == SD_EMALFORMED);
        }
    }

    /* Round trip of values taken from the input; then tamper with it. */
    c.key = take64(data + 1 + n, size - 1 - n);
    c.id = take64(data + 1 + n + (size - 1 - n > 8 ? 8 : size - 1 - n),
                  size - 1 - n > 8 ? size - 9 - n : 0);
    text = sd_cursor_encode(&c, binding, p);
    CHECK(strlen(text) == 35 && strspn(text, alphabet) == 35);
    memset(&d, 0, sizeof(d));
    CHECK(sd_cursor_decode(&d, text, binding, p) == APR_SUCCESS);
    CHECK(d.key == c.key && d.id == c.id);
    bad = apr_pstrdup(p, text);
    i = (size_t)(c.key ^ c.id) % 35;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    CHECK(sd_cursor_decode(&d, bad, binding, p) == SD_EMALFORMED);
    CHECK(sd_cursor_decode(&d, apr_pstrndup(p, text, 34), binding, p) == SD_EMALFORMED);
    CHECK(sd_cursor_decode(&d, apr_pstrcat(p, text, "A", NULL), binding, p) == SD_EMALFORMED);
    apr_pool_destroy(p);
    return 0;
}
