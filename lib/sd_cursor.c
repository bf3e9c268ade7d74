/* Keyset-pagination cursors.
 *
 * Layout (26 bytes, then base64url without padding: 35 characters):
 *   "v1" | key (8 bytes, big-endian) | id (8 bytes, big-endian) | check (8 bytes)
 * check = the first 8 bytes of SHA-1(domain | "v1" | key | id | binding).
 *
 * The check is a checksum, not a secret MAC: it catches altered, truncated
 * and misapplied cursors (another scope, filter or order), which is all the
 * header promises. A client that forges one can only page through data its
 * tenant-scoped query returns anyway. */
#include <string.h>

#include <apr_sha1.h>

#include "sd_cursor.h"

#define CURSOR_VERSION   "v1"
#define CURSOR_VLEN      2
#define CURSOR_CHECK_LEN 8
#define CURSOR_BODY_LEN  (CURSOR_VLEN + 8 + 8)
#define CURSOR_RAW_LEN   (CURSOR_BODY_LEN + CURSOR_CHECK_LEN)          /* 26 */
#define CURSOR_TEXT_LEN  ((CURSOR_RAW_LEN * 8 + 5) / 6)                /* 35 */

/* Separates our hashes from any other use of SHA-1 over similar bytes; the
 * NUL ends it, and the body has a fixed length, so binding text cannot be
 * shifted into the body. */
static const char cursor_domain[] = "mod_sdesk pagination cursor";

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void put_be64(unsigned char *b, apr_int64_t v)
{
    apr_uint64_t u = (apr_uint64_t)v;
    int i;
    for (i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
}

static apr_int64_t get_be64(const unsigned char *b)
{
    apr_uint64_t u = 0;
    int i;
    for (i = 0; i < 8; i++) u = (u << 8) | b[i];
    /* Back to signed without the implementation-defined conversion of an
     * out-of-range unsigned value. */
    if (u <= (apr_uint64_t)APR_INT64_MAX) return (apr_int64_t)u;
    return -(apr_int64_t)(~u) - 1;
}

static void checksum(unsigned char out[CURSOR_CHECK_LEN], const unsigned char *body,
                     const char *binding)
{
    apr_sha1_ctx_t ctx;
    unsigned char digest[APR_SHA1_DIGESTSIZE];
    apr_size_t left = strlen(binding);
    unsigned int chunk;

    apr_sha1_init(&ctx);
    apr_sha1_update_binary(&ctx, (const unsigned char *)cursor_domain, sizeof(cursor_domain));
    apr_sha1_update_binary(&ctx, body, CURSOR_BODY_LEN);
    /* apr_sha1_update takes an unsigned int length. */
    while (left > 0) {
        chunk = left > 0x10000000 ? 0x10000000 : (unsigned int)left;
        apr_sha1_update_binary(&ctx, (const unsigned char *)binding, chunk);
        binding += chunk;
        left -= chunk;
    }
    apr_sha1_final(digest, &ctx);
    memcpy(out, digest, CURSOR_CHECK_LEN);
}

static void encode_b64url(char *out, const unsigned char *in, apr_size_t len)
{
    apr_size_t i;
    apr_uint32_t v;
    for (i = 0; i + 3 <= len; i += 3) {
        v = ((apr_uint32_t)in[i] << 16) | ((apr_uint32_t)in[i + 1] << 8) | in[i + 2];
        *out++ = b64url[(v >> 18) & 63];
        *out++ = b64url[(v >> 12) & 63];
        *out++ = b64url[(v >> 6) & 63];
        *out++ = b64url[v & 63];
    }
    if (len - i == 1) {
        v = (apr_uint32_t)in[i] << 16;
        *out++ = b64url[(v >> 18) & 63];
        *out++ = b64url[(v >> 12) & 63];
    }
    else if (len - i == 2) {
        v = ((apr_uint32_t)in[i] << 16) | ((apr_uint32_t)in[i + 1] << 8);
        *out++ = b64url[(v >> 18) & 63];
        *out++ = b64url[(v >> 12) & 63];
        *out++ = b64url[(v >> 6) & 63];
    }
    *out = '\0';
}

static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* Decode exactly CURSOR_TEXT_LEN characters into CURSOR_RAW_LEN bytes.
 * Strict: any character outside the alphabet fails, and so do set bits in
 * the unused tail of the last character, so every cursor has exactly one
 * spelling (otherwise changing the last character could go unnoticed). */
static int decode_b64url(unsigned char *out, const char *in)
{
    apr_uint32_t acc = 0;
    int bits = 0, v, i;
    apr_size_t n = 0;

    for (i = 0; i < CURSOR_TEXT_LEN; i++) {
        if ((v = b64url_value(in[i])) < 0) return 0;
        acc = (acc << 6) | (apr_uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)((acc >> bits) & 0xff);
        }
        acc &= (1u << bits) - 1;   /* keep only the bits not yet emitted */
    }
    return n == CURSOR_RAW_LEN && acc == 0;
}

const char *sd_cursor_encode(const sd_cursor_t *c, const char *binding, apr_pool_t *p)
{
    unsigned char raw[CURSOR_RAW_LEN];
    char *text;

    memcpy(raw, CURSOR_VERSION, CURSOR_VLEN);
    put_be64(raw + CURSOR_VLEN, c->key);
    put_be64(raw + CURSOR_VLEN + 8, c->id);
    checksum(raw + CURSOR_BODY_LEN, raw, binding ? binding : "");
    text = apr_palloc(p, CURSOR_TEXT_LEN + 1);
    encode_b64url(text, raw, CURSOR_RAW_LEN);
    return text;
}

apr_status_t sd_cursor_decode(sd_cursor_t *c, const char *text, const char *binding,
                              apr_pool_t *p)
{
    unsigned char raw[CURSOR_RAW_LEN], check[CURSOR_CHECK_LEN], diff = 0;
    int i;

    (void)p;
    if (!text) return SD_EMALFORMED;
    /* Exact length, measured without walking a huge query parameter. */
    if (strnlen(text, CURSOR_TEXT_LEN + 1) != CURSOR_TEXT_LEN) return SD_EMALFORMED;
    if (!decode_b64url(raw, text)) return SD_EMALFORMED;
    if (memcmp(raw, CURSOR_VERSION, CURSOR_VLEN)) return SD_EMALFORMED;
    checksum(check, raw, binding ? binding : "");
    for (i = 0; i < CURSOR_CHECK_LEN; i++) diff |= check[i] ^ raw[CURSOR_BODY_LEN + i];
    if (diff) return SD_EMALFORMED;
    c->key = get_be64(raw + CURSOR_VLEN);
    c->id = get_be64(raw + CURSOR_VLEN + 8);
    return APR_SUCCESS;
}
