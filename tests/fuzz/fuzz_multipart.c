/* libFuzzer target for lib/sd_multipart.c (and, on the parts it finds,
 * lib/sd_sniff.c and lib/sd_filename.c).
 *
 * Input layout, so seeds stay readable:
 *   byte 0      how to split the body: bits 0-5 a chunk size 1..64, bit 6 sizes
 *               varying per chunk (a PRNG seeded by byte 0), bit 7 tight limits
 *   bytes 1..   the Content-Type header value, up to the first '\n' (at most
 *               200 bytes; no '\n' at all: the whole rest is the body under a
 *               fixed boundary "XyZ")
 *   the rest    the body
 *
 * Each input is parsed twice: in one feed and in the chunks byte 0 asks for.
 * Both runs must agree on the status, the parts and a digest of each part's
 * data; any difference is a bug in the split handling and aborts. Other
 * invariants: data only between begin and end, end only after begin, no
 * callback after an error, parts and file parts within the limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sd_filename.h"
#include "sd_multipart.h"
#include "sd_sniff.h"
#include "sd_fuzz.h"

#define MAX_RECORD 32

typedef struct {
    uint64_t digest;     /* FNV-1a over the part's data */
    apr_size_t len;
    int is_file;
    int ended;
    unsigned name_hash;
    sd_sniff_stream_t sniff;
} part_rec_t;

typedef struct {
    apr_pool_t *p;
    part_rec_t parts[MAX_RECORD];
    int n;
    int in_part;
    int stopped;          /* an error was returned: nothing may follow */
    int cb_error;         /* ... and it was ours, from a callback */
    apr_size_t budget;    /* bytes after which the data callback says "too big" */
    apr_size_t total;
} rec_t;

static apr_pool_t *root;

static unsigned str_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static apr_status_t on_begin(void *baton, const sd_multipart_part_t *part)
{
    rec_t *r = baton;
    part_rec_t *pr;
    const char *safe, *disp;

    CHECK(!r->stopped && !r->in_part);
    CHECK(part->name && *part->name);
    CHECK(part->is_file == (part->filename != NULL));
    CHECK(part->index == r->n);
    r->in_part = 1;
    if (r->n < MAX_RECORD) {
        pr = &r->parts[r->n];
        memset(pr, 0, sizeof(*pr));
        pr->digest = 14695981039346656037ull;
        pr->is_file = part->is_file;
        pr->name_hash = str_hash(part->name);
        sd_sniff_stream_init(&pr->sniff);
    }
    if (part->filename) {
        CHECK(APR_SUCCESS == sd_filename_safe(&safe, part->filename, r->p));
        CHECK(*safe && strlen(safe) <= SD_FILENAME_MAX);
        CHECK(!strchr(safe, '/') && !strchr(safe, '\\'));
        CHECK(APR_SUCCESS == sd_filename_disposition(&disp, "attachment", safe, r->p));
        CHECK(!strchr(disp, '\r') && !strchr(disp, '\n'));
    }
    r->n++;
    return APR_SUCCESS;
}

static apr_status_t on_data(void *baton, const char *data, apr_size_t len)
{
    rec_t *r = baton;
    part_rec_t *pr;
    apr_size_t i;

    CHECK(!r->stopped && r->in_part && len > 0);
    /* Touch every byte: ASan checks the pointer is inside live memory. */
    if (r->n <= MAX_RECORD) {
        pr = &r->parts[r->n - 1];
        for (i = 0; i < len; i++) pr->digest = (pr->digest ^ (unsigned char)data[i]) * 1099511628211ull;
        pr->len += len;
        sd_sniff_stream_feed(&pr->sniff, data, len);
    }
    r->total += len;
    if (r->total > r->budget) {
        r->stopped = r->cb_error = 1;
        return SD_ETOOBIG;
    }
    return APR_SUCCESS;
}

static apr_status_t on_end(void *baton, const sd_multipart_part_t *part)
{
    rec_t *r = baton;
    CHECK(!r->stopped && r->in_part);
    CHECK(part->index == r->n - 1);
    r->in_part = 0;
    if (r->n <= MAX_RECORD) r->parts[r->n - 1].ended = 1;
    return APR_SUCCESS;
}

static const sd_multipart_cbs_t cbs = { on_begin, on_data, on_end };

/* One parse, in a single feed (whole) or in the chunks mode asks for. */
static apr_status_t parse(rec_t *r, const char *ct, const char *body, apr_size_t len,
                          int whole, unsigned mode, const sd_multipart_limits_t *lim,
                          apr_pool_t *p)
{
    sd_multipart_t *mp;
    sd_problem_t prob;
    apr_status_t rv;
    apr_size_t off = 0, n;
    unsigned seed = mode * 2654435761u + 1;
    int varying = (mode & 0x40) != 0;

    memset(r, 0, sizeof(*r));
    r->p = p;
    r->budget = (mode & 0x80) ? 4096 : (apr_size_t)-1;
    sd_problem_init(&prob, p);
    rv = sd_multipart_create(&mp, ct, lim, &cbs, r, &prob, p);
    if (rv != APR_SUCCESS) {
        CHECK(mp == NULL && prob.detail);
        return rv;
    }
    while (off < len) {
        if (whole) {
            n = len;
        }
        else if (varying) {
            seed = seed * 1103515245u + 12345u;
            n = 1 + (seed >> 16) % 64;
        }
        else {
            n = (mode & 0x3f) + 1;
        }
        if (n > len - off) n = len - off;
        rv = sd_multipart_feed(mp, body + off, n);
        if (rv != APR_SUCCESS) break;
        off += n;
    }
    if (rv == APR_SUCCESS) rv = sd_multipart_finish(mp);
    if (rv != APR_SUCCESS) {
        r->stopped = 1;
        /* Parser errors explain themselves; callback errors leave it alone. */
        if (r->cb_error) {
            CHECK(sd_multipart_error(mp) == NULL && prob.detail == NULL);
        }
        else {
            CHECK(sd_multipart_error(mp) && prob.detail && prob.type);
            CHECK(!strcmp(sd_multipart_error(mp), prob.detail));
        }
        CHECK(sd_multipart_feed(mp, "x", 1) == rv);
        CHECK(sd_multipart_finish(mp) == rv);
    }
    else {
        CHECK(!r->in_part);
    }
    CHECK(sd_multipart_parts(mp) <= lim->max_parts);
    CHECK(sd_multipart_file_parts(mp) <= lim->max_file_parts);
    return rv;
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
    static rec_t a, b;
    apr_pool_t *p;
    sd_multipart_limits_t lim;
    const char *ct = "multipart/form-data; boundary=XyZ", *body, *nl;
    apr_size_t len;
    unsigned mode;
    apr_status_t rva, rvb;
    int i;

    if (size < 1) return 0;
    mode = data[0];
    body = (const char *)data + 1;
    len = size - 1;
    apr_pool_create(&p, root);
    nl = memchr(body, '\n', len < 201 ? len : 201);
    if (nl) {
        ct = apr_pstrmemdup(p, body, (apr_size_t)(nl - body));
        len -= (apr_size_t)(nl - body) + 1;
        body = nl + 1;
    }
    /* A copy of exactly len bytes, so reading past the body trips ASan. */
    if (len) {
        body = apr_pmemdup(p, body, len);
    }
    else {
        body = apr_palloc(p, 1);
    }

    sd_multipart_limits_default(&lim);
    if (mode & 0x80) {
        lim.max_header_bytes = 64;
        lim.max_parts = 3;
        lim.max_preamble = 16;
        lim.max_epilogue = 16;
    }

    rva = parse(&a, ct, body, len, 1, mode, &lim, p);
    rvb = parse(&b, ct, body, len, 0, mode, &lim, p);
    /* Both runs agree on everything. When the data budget stops them, they
     * stop in the same part, but the last data chunk may differ in size. */
    CHECK(rva == rvb);
    CHECK(a.n == b.n);
    CHECK(a.cb_error == b.cb_error);
    for (i = 0; i < a.n && i < MAX_RECORD; i++) {
        sd_sniff_t sa, sb;
        int last_cut = a.cb_error && i == a.n - 1;
        CHECK(a.parts[i].digest == b.parts[i].digest || last_cut);
        CHECK(a.parts[i].len == b.parts[i].len || last_cut);
        CHECK(a.parts[i].is_file == b.parts[i].is_file);
        CHECK(a.parts[i].name_hash == b.parts[i].name_hash);
        CHECK(a.parts[i].ended == b.parts[i].ended);
        if (!last_cut) {
            /* The sniffer must not depend on the split either. */
            CHECK(sd_sniff_stream_finish(&sa, &a.parts[i].sniff)
                  == sd_sniff_stream_finish(&sb, &b.parts[i].sniff));
            CHECK(sa.kind == sb.kind);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
