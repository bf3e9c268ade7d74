/* Unit tests for lib/sd_multipart.c: valid bodies fed at every chunk size,
 * preamble and epilogue, quoted boundaries, boundary look-alikes inside file
 * data, filename forms, and a table of malformed bodies with their status
 * and message, each fed whole and byte by byte. */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "sd_test.h"
#include "sd_multipart.h"

#define CT "multipart/form-data; boundary=XyZ"

/* ---- a recording consumer --------------------------------------------------------- */

typedef struct {
    const char *name, *filename, *content_type;
    int is_file, index, ended;
    char *data;
    apr_size_t len;
} rec_part_t;

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *parts;   /* of rec_part_t */
    int events;
    int count_only;              /* data: count bytes, keep nothing */
    apr_status_t fail_begin, fail_data, fail_end;   /* return these, if set */
} rec_t;

static rec_part_t *cur(rec_t *r)
{
    assert_true(r->parts->nelts > 0);
    return &APR_ARRAY_IDX(r->parts, r->parts->nelts - 1, rec_part_t);
}

static apr_status_t on_begin(void *baton, const sd_multipart_part_t *part)
{
    rec_t *r = baton;
    rec_part_t *rp = apr_array_push(r->parts);
    r->events++;
    memset(rp, 0, sizeof(*rp));
    /* Copies: the parser's strings die with the part. */
    rp->name = apr_pstrdup(r->p, part->name);
    rp->filename = part->filename ? apr_pstrdup(r->p, part->filename) : NULL;
    rp->content_type = part->content_type ? apr_pstrdup(r->p, part->content_type) : NULL;
    rp->is_file = part->is_file;
    rp->index = part->index;
    rp->data = apr_pstrdup(r->p, "");
    return r->fail_begin;
}

static apr_status_t on_data(void *baton, const char *data, apr_size_t len)
{
    rec_t *r = baton;
    rec_part_t *rp = cur(r);
    char *n;
    r->events++;
    assert_true(len > 0);
    assert_false(rp->ended);
    if (r->count_only) {
        rp->len += len;
        return r->fail_data;
    }
    n = apr_palloc(r->p, rp->len + len + 1);
    memcpy(n, rp->data, rp->len);
    memcpy(n + rp->len, data, len);
    n[rp->len + len] = '\0';
    rp->data = n;
    rp->len += len;
    return r->fail_data;
}

static apr_status_t on_end(void *baton, const sd_multipart_part_t *part)
{
    rec_t *r = baton;
    rec_part_t *rp = cur(r);
    r->events++;
    assert_int_equal(rp->index, part->index);
    assert_string_equal(rp->name, part->name);
    rp->ended = 1;
    return r->fail_end;
}

static const sd_multipart_cbs_t cbs = { on_begin, on_data, on_end };

static rec_t *rec_make(apr_pool_t *p)
{
    rec_t *r = apr_pcalloc(p, sizeof(*r));
    r->p = p;
    r->parts = apr_array_make(p, 4, sizeof(rec_part_t));
    return r;
}

/* Feed body in chunks of size chunk (0: whole), then finish; the status of
 * the first failing call. *pmp gets the parser (NULL if create failed). */
static apr_status_t run(sd_multipart_t **pmp, rec_t *r, const char *ct, const char *body,
                        apr_size_t len, apr_size_t chunk, const sd_multipart_limits_t *lim,
                        sd_problem_t *prob, apr_pool_t *p)
{
    sd_multipart_t *mp = NULL;
    apr_status_t rv;
    apr_size_t off = 0, n;

    if (pmp) *pmp = NULL;
    rv = sd_multipart_create(&mp, ct, lim, &cbs, r, prob, p);
    if (rv != APR_SUCCESS) {
        assert_null(mp);
        return rv;
    }
    if (pmp) *pmp = mp;
    if (chunk == 0) chunk = len ? len : 1;
    while (off < len) {
        n = len - off < chunk ? len - off : chunk;
        /* A copy per chunk, so a parser reading past the chunk trips ASan. */
        char *c = apr_pmemdup(p, body + off, n);
        if (APR_SUCCESS != (rv = sd_multipart_feed(mp, c, n))) return rv;
        off += n;
    }
    return sd_multipart_finish(mp);
}

static rec_part_t *part_at(rec_t *r, int i)
{
    assert_true(i < r->parts->nelts);
    return &APR_ARRAY_IDX(r->parts, i, rec_part_t);
}

/* ---- valid bodies -------------------------------------------------------------------- */

/* Two text fields and one file whose data is full of near-delimiters: a CR
 * right before the real one, "--XyZ" not after CRLF, "\r\n--Xy" cut short,
 * "\r\r\n-", a NUL and high bytes. Every split of it must give the same. */
static const char file_data[] =
    "\x89PNG\r\n\x1a\n\0\xff"
    "--XyZ at line start? no: no CRLF before it\r\n"
    "\r\n--Xy almost\r\n-\r\n--\r\r\n--X\r\n--XY (case differs)\r\n"
    "\r\r\n";
#define FILE_DATA_LEN (sizeof(file_data) - 1)

static const char *three_part_body(apr_size_t *len, apr_pool_t *p)
{
    const char *head =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"subject\"\r\n"
        "\r\n"
        "Printer jams\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"note\"\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "line 1\r\nline 2\r\n"
        "--XyZ\r\n"
        "content-disposition: FORM-DATA; NAME=file; filename=\"scan.png\"\r\n"
        "Content-Type: image/png\r\n"
        "\r\n";
    const char *tail = "\r\n--XyZ--\r\n";
    apr_size_t hl = strlen(head), tl = strlen(tail);
    char *b = apr_palloc(p, hl + FILE_DATA_LEN + tl);
    memcpy(b, head, hl);
    memcpy(b + hl, file_data, FILE_DATA_LEN);
    memcpy(b + hl + FILE_DATA_LEN, tail, tl);
    *len = hl + FILE_DATA_LEN + tl;
    return b;
}

static void check_three_parts(rec_t *r)
{
    rec_part_t *rp;
    assert_int_equal(3, r->parts->nelts);
    rp = part_at(r, 0);
    assert_string_equal("subject", rp->name);
    assert_null(rp->filename);
    assert_null(rp->content_type);
    assert_false(rp->is_file);
    assert_string_equal("Printer jams", rp->data);
    assert_true(rp->ended);
    rp = part_at(r, 1);
    assert_string_equal("note", rp->name);
    assert_string_equal("text/plain; charset=utf-8", rp->content_type);
    assert_string_equal("line 1\r\nline 2", rp->data);   /* the last CRLF is the delimiter's */
    assert_int_equal(1, rp->index);
    rp = part_at(r, 2);
    assert_string_equal("file", rp->name);
    assert_string_equal("scan.png", rp->filename);
    assert_string_equal("image/png", rp->content_type);
    assert_true(rp->is_file);
    assert_int_equal(FILE_DATA_LEN, rp->len);
    assert_memory_equal(file_data, rp->data, FILE_DATA_LEN);
    assert_true(rp->ended);
}

static void test_three_parts_every_chunk_size(void **state)
{
    apr_pool_t *p = *state, *sub;
    apr_size_t len, chunk;
    const char *body = three_part_body(&len, p);
    sd_multipart_t *mp;

    for (chunk = 1; chunk <= len; chunk++) {
        rec_t *r;
        apr_pool_create(&sub, p);
        r = rec_make(sub);
        assert_int_equal(APR_SUCCESS, run(&mp, r, CT, body, len, chunk, NULL, NULL, sub));
        check_three_parts(r);
        assert_int_equal(3, sd_multipart_parts(mp));
        assert_int_equal(1, sd_multipart_file_parts(mp));
        assert_null(sd_multipart_error(mp));
        apr_pool_destroy(sub);
    }
}

/* Irregular splits: a fixed pseudo-random sequence of chunk sizes 1..17. */
static void test_three_parts_random_splits(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t len, off, n;
    const char *body = three_part_body(&len, p);
    unsigned seed, round;

    for (round = 0; round < 200; round++) {
        sd_multipart_t *mp;
        rec_t *r = rec_make(p);
        seed = round * 2654435761u + 1;
        assert_int_equal(APR_SUCCESS, sd_multipart_create(&mp, CT, NULL, &cbs, r, NULL, p));
        for (off = 0; off < len; off += n) {
            seed = seed * 1103515245u + 12345u;
            n = 1 + (seed >> 16) % 17;
            if (n > len - off) n = len - off;
            assert_int_equal(APR_SUCCESS, sd_multipart_feed(mp, body + off, n));
        }
        assert_int_equal(APR_SUCCESS, sd_multipart_finish(mp));
        check_three_parts(r);
    }
}

/* Feeds of zero bytes are harmless. */
static void test_zero_length_feeds(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t len, i;
    const char *body = three_part_body(&len, p);
    sd_multipart_t *mp;
    rec_t *r = rec_make(p);

    assert_int_equal(APR_SUCCESS, sd_multipart_create(&mp, CT, NULL, &cbs, r, NULL, p));
    for (i = 0; i < len; i++) {
        assert_int_equal(APR_SUCCESS, sd_multipart_feed(mp, body + i, 0));
        assert_int_equal(APR_SUCCESS, sd_multipart_feed(mp, body + i, 1));
    }
    assert_int_equal(APR_SUCCESS, sd_multipart_finish(mp));
    check_three_parts(r);
}

static void test_preamble_and_epilogue(void **state)
{
    apr_pool_t *p = *state;
    const char *body =
        "This is a preamble, ignored; --XyZ is not at a line start.\r\n\r\n-\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
        "A\r\n"
        "--XyZ--\r\n"
        "This is the epilogue.\r\n--XyZ\r\nContent-Disposition: nonsense\r\n";
    apr_size_t len = strlen(body), chunk;

    for (chunk = 1; chunk <= len; chunk++) {
        rec_t *r = rec_make(p);
        assert_int_equal(APR_SUCCESS, run(NULL, r, CT, body, len, chunk, NULL, NULL, p));
        assert_int_equal(1, r->parts->nelts);
        assert_string_equal("a", part_at(r, 0)->name);
        assert_string_equal("A", part_at(r, 0)->data);
    }
}

/* The close delimiter at the very end, without CRLF or epilogue. */
static void test_no_crlf_after_close(void **state)
{
    apr_pool_t *p = *state;
    const char *body = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ--";
    rec_t *r = rec_make(p);
    assert_int_equal(APR_SUCCESS, run(NULL, r, CT, body, strlen(body), 0, NULL, NULL, p));
    assert_string_equal("A", part_at(r, 0)->data);
}

static void test_quoted_boundary(void **state)
{
    apr_pool_t *p = *state;
    /* Every bchar, a space inside, and other parameters around it. */
    const char *ct = "Multipart/Form-Data ; charset=utf-8;"
                     " BOUNDARY=\"a b'()+_,-./:=?Z\" ; x=y";
    const char *body =
        "--a b'()+_,-./:=?Z\r\n"
        "Content-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n\r\n"
        "--a b'()+_,-./:=?\r\n"
        "\r\n--a b'()+_,-./:=?Z--\r\n";
    apr_size_t len = strlen(body), chunk;

    for (chunk = 1; chunk <= len; chunk++) {
        rec_t *r = rec_make(p);
        assert_int_equal(APR_SUCCESS, run(NULL, r, ct, body, len, chunk, NULL, NULL, p));
        assert_int_equal(1, r->parts->nelts);
        assert_string_equal("--a b'()+_,-./:=?\r\n", part_at(r, 0)->data);
    }
}

/* Unquoted tspecials are taken as they come (real clients send them). */
static void test_unquoted_boundary_with_specials(void **state)
{
    apr_pool_t *p = *state;
    const char *ct = "multipart/form-data;boundary=----=_Part_0_1?x";
    const char *body = "------=_Part_0_1?x\r\nContent-Disposition: form-data; name=a\r\n\r\n"
                       "1\r\n------=_Part_0_1?x--\r\n";
    rec_t *r = rec_make(p);
    assert_int_equal(APR_SUCCESS, run(NULL, r, ct, body, strlen(body), 1, NULL, NULL, p));
    assert_string_equal("1", part_at(r, 0)->data);
}

static void test_transport_padding(void **state)
{
    apr_pool_t *p = *state;
    const char *body = "--XyZ \t \r\nContent-Disposition: form-data; name=a\r\n\r\n"
                       "A\r\n--XyZ\t\r\nContent-Disposition: form-data; name=b\r\n\r\n"
                       "B\r\n--XyZ--  \r\n";
    apr_size_t len = strlen(body), chunk;
    for (chunk = 1; chunk <= len; chunk++) {
        rec_t *r = rec_make(p);
        assert_int_equal(APR_SUCCESS, run(NULL, r, CT, body, len, chunk, NULL, NULL, p));
        assert_int_equal(2, r->parts->nelts);
        assert_string_equal("A", part_at(r, 0)->data);
        assert_string_equal("B", part_at(r, 1)->data);
    }
}

/* A 0-byte file is a part with no data callback at all. */
static void test_empty_file_part(void **state)
{
    apr_pool_t *p = *state;
    const char *body = "--XyZ\r\nContent-Disposition: form-data; name=file; filename=\"\"\r\n"
                       "Content-Type: application/octet-stream\r\n\r\n\r\n--XyZ--\r\n";
    rec_t *r = rec_make(p);
    assert_int_equal(APR_SUCCESS, run(NULL, r, CT, body, strlen(body), 1, NULL, NULL, p));
    assert_int_equal(1, r->parts->nelts);
    assert_true(part_at(r, 0)->is_file);
    assert_string_equal("", part_at(r, 0)->filename);
    assert_int_equal(0, part_at(r, 0)->len);
    assert_true(part_at(r, 0)->ended);
    assert_int_equal(2, r->events);   /* begin, end */
}

static void test_empty_form(void **state)
{
    apr_pool_t *p = *state;
    const char *body = "--XyZ--\r\n";
    rec_t *r = rec_make(p);
    assert_int_equal(APR_SUCCESS, run(NULL, r, CT, body, strlen(body), 1, NULL, NULL, p));
    assert_int_equal(0, r->parts->nelts);
}

typedef struct {
    const char *disposition;
    const char *filename;   /* expected; NULL: not a file part */
} fn_case_t;

static void test_filename_forms(void **state)
{
    apr_pool_t *p = *state;
    static const fn_case_t cases[] = {
        { "form-data; name=file; filename=\"a.png\"", "a.png" },
        { "form-data; name=file; filename=a.png", "a.png" },
        { "form-data;name=\"file\";filename=\"a b.png\"", "a b.png" },
        { "form-data; name = \"file\" ; filename = \"x.png\" ;", "x.png" },
        /* A Windows path: backslashes that escape nothing are kept. */
        { "form-data; name=file; filename=\"C:\\x\\y.png\"", "C:\\x\\y.png" },
        { "form-data; name=file; filename=\"q\\\"uote\\\\.png\"", "q\"uote\\.png" },
        { "form-data; name=file; filename=\"../../etc/passwd\"", "../../etc/passwd" },
        /* Raw UTF-8, as browsers send it. */
        { "form-data; name=file; filename=\"\xd0\xbe\xd1\x82\xd1\x87\xd0\xb5\xd1\x82.pdf\"",
          "\xd0\xbe\xd1\x82\xd1\x87\xd0\xb5\xd1\x82.pdf" },
        /* RFC 8187 filename* wins, in either order. */
        { "form-data; name=file; filename=\"fallback.pdf\"; "
          "filename*=UTF-8''%D0%BE%D1%82%D1%87%D0%B5%D1%82.pdf",
          "\xd0\xbe\xd1\x82\xd1\x87\xd0\xb5\xd1\x82.pdf" },
        { "form-data; name=file; filename*=utf-8'ru'%d0%be.txt; filename=x", "\xd0\xbe.txt" },
        { "form-data; name=\"field\"; size=12", NULL },
        { "form-data; name=\"field;still\"", NULL },
    };
    apr_size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rec_t *r = rec_make(p);
        const char *body = apr_pstrcat(p, "--XyZ\r\nContent-Disposition: ",
                                       cases[i].disposition, "\r\n\r\nD\r\n--XyZ--", NULL);
        apr_status_t rv = run(NULL, r, CT, body, strlen(body), 0, NULL, NULL, p);
        if (rv != APR_SUCCESS) fail_msg("case %d: %d", (int)i, rv);
        assert_int_equal(1, r->parts->nelts);
        if (cases[i].filename) {
            assert_true(part_at(r, 0)->is_file);
            assert_string_equal(cases[i].filename, part_at(r, 0)->filename);
        }
        else {
            assert_false(part_at(r, 0)->is_file);
            assert_null(part_at(r, 0)->filename);
        }
    }
}

static void test_name_with_semicolon(void **state)
{
    apr_pool_t *p = *state;
    const char *body = "--XyZ\r\nContent-Disposition: form-data; name=\"a;b\"\r\n"
                       "X-Other: whatever; filename=\"no\"\r\n\r\nD\r\n--XyZ--";
    rec_t *r = rec_make(p);
    assert_int_equal(APR_SUCCESS, run(NULL, r, CT, body, strlen(body), 1, NULL, NULL, p));
    assert_string_equal("a;b", part_at(r, 0)->name);
    assert_false(part_at(r, 0)->is_file);
}

/* Data is streamed, not collected: 1 MiB with a CR in every chunk (a
 * delimiter candidate held back across feeds) arrives whole. (Pool growth
 * cannot be measured outside APR pool-debug builds; the fuzzer's RSS limit
 * watches that.) */
static void test_large_file_streams(void **state)
{
    apr_pool_t *p = *state, *pp;
    sd_multipart_t *mp;
    rec_t *r = rec_make(p);
    const char *head = "--XyZ\r\nContent-Disposition: form-data; name=file; filename=big\r\n\r\n";
    char chunk[4096];
    int i;

    memset(chunk, 'x', sizeof(chunk));
    chunk[100] = '\r';
    chunk[4095] = '\r';
    r->count_only = 1;
    apr_pool_create(&pp, p);
    assert_int_equal(APR_SUCCESS, sd_multipart_create(&mp, CT, NULL, &cbs, r, NULL, pp));
    assert_int_equal(APR_SUCCESS, sd_multipart_feed(mp, head, strlen(head)));
    for (i = 0; i < 256; i++) {
        assert_int_equal(APR_SUCCESS, sd_multipart_feed(mp, chunk, sizeof(chunk)));
    }
    assert_int_equal(APR_SUCCESS, sd_multipart_feed(mp, "\r\n--XyZ--", 9));
    assert_int_equal(APR_SUCCESS, sd_multipart_finish(mp));
    assert_int_equal(256 * sizeof(chunk), part_at(r, 0)->len);
    apr_pool_destroy(pp);
}

/* ---- callbacks that say no ------------------------------------------------------------- */

static void test_callback_stops_parser(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t len;
    const char *body = three_part_body(&len, p);
    sd_multipart_t *mp;
    sd_problem_t prob;
    rec_t *r = rec_make(p);
    int events;

    sd_problem_init(&prob, p);
    r->fail_data = SD_ETOOBIG;
    assert_int_equal(SD_ETOOBIG, run(&mp, r, CT, body, len, 3, NULL, &prob, p));
    assert_null(sd_multipart_error(mp));
    assert_null(prob.detail);   /* the callback's business */
    events = r->events;
    assert_int_equal(SD_ETOOBIG, sd_multipart_feed(mp, body, len));
    assert_int_equal(SD_ETOOBIG, sd_multipart_finish(mp));
    assert_int_equal(events, r->events);

    r = rec_make(p);
    r->fail_begin = SD_EMEDIATYPE;
    assert_int_equal(SD_EMEDIATYPE, run(&mp, r, CT, body, len, 0, NULL, NULL, p));
    assert_int_equal(1, r->events);

    r = rec_make(p);
    r->fail_end = APR_EGENERAL;
    assert_int_equal(APR_EGENERAL, run(&mp, r, CT, body, len, 1, NULL, NULL, p));
    assert_int_equal(1, r->parts->nelts);
}

/* ---- errors -------------------------------------------------------------------------------- */

typedef struct {
    const char *what;
    const char *ct;        /* NULL: CT */
    const char *body;
    apr_status_t rv;
    const char *message;   /* a substring of the detail */
} err_case_t;

#define PART_A "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n"
#define FILE_PART(n) "--XyZ\r\nContent-Disposition: form-data; name=f" n "; filename=f" n "\r\n\r\nF\r\n"

static const err_case_t err_cases[] = {
    /* Content-Type */
    { "no boundary", "multipart/form-data", "", SD_EMALFORMED, "no boundary" },
    { "no boundary, other param", "multipart/form-data; charset=utf-8", "", SD_EMALFORMED,
      "no boundary" },
    { "empty boundary", "multipart/form-data; boundary=\"\"", "", SD_EMALFORMED, "1 to 70" },
    { "empty unquoted boundary", "multipart/form-data; boundary=", "", SD_EMALFORMED,
      "malformed" },
    { "71-char boundary",
      "multipart/form-data; boundary="
      "12345678901234567890123456789012345678901234567890123456789012345678901",
      "", SD_EMALFORMED, "1 to 70" },
    { "boundary with a bad char", "multipart/form-data; boundary=ab<cd", "", SD_EMALFORMED,
      "1 to 70" },
    { "boundary ending in space", "multipart/form-data; boundary=\"ab \"", "", SD_EMALFORMED,
      "1 to 70" },
    { "boundary twice", "multipart/form-data; boundary=a; boundary=b", "", SD_EMALFORMED,
      "more than one boundary" },
    { "unterminated quote", "multipart/form-data; boundary=\"abc", "", SD_EMALFORMED,
      "malformed" },
    { "not form-data", "multipart/mixed; boundary=XyZ", "", SD_EMEDIATYPE, "multipart/form-data" },
    { "no type", "", "", SD_EMEDIATYPE, "multipart/form-data" },
    { "missing semicolon", "multipart/form-data boundary=XyZ", "", SD_EMALFORMED, "malformed" },
    /* framing */
    { "empty body", NULL, "", SD_EMALFORMED, "does not contain the boundary" },
    { "no boundary in body", NULL, "hello world\r\n", SD_EMALFORMED,
      "does not contain the boundary" },
    { "unterminated data", NULL, PART_A, SD_EMALFORMED, "closing boundary is missing" },
    { "unterminated data, partial delimiter", NULL, PART_A "--Xy", SD_EMALFORMED,
      "closing boundary is missing" },
    { "ends in headers", NULL, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n",
      SD_EMALFORMED, "inside the headers of part 1" },
    { "ends after boundary line", NULL, PART_A "--XyZ", SD_EMALFORMED, "without the closing" },
    { "ends after boundary CRLF", NULL, PART_A "--XyZ\r\n", SD_EMALFORMED, "inside the headers" },
    { "ends after one close dash", NULL, PART_A "--XyZ-", SD_EMALFORMED, "without the closing" },
    { "junk after boundary", NULL, "--XyZjunk\r\n", SD_EMALFORMED, "followed by other text" },
    { "junk after padding", NULL, "--XyZ  x\r\n", SD_EMALFORMED, "followed by other text" },
    { "single dash close", NULL, PART_A "--XyZ-x", SD_EMALFORMED, "followed by other text" },
    { "boundary line with bare LF", NULL, "--XyZ\nContent-Disposition: form-data; name=a\r\n\r\n",
      SD_EMALFORMED, "followed by other text" },
    { "boundary line CR junk", NULL, "--XyZ\rX", SD_EMALFORMED, "does not end in CRLF" },
    { "boundary prefixing a data line", NULL, PART_A "--XyZA\r\n--XyZ--", SD_EMALFORMED,
      "followed by other text" },
    /* headers */
    { "no headers", NULL, "--XyZ\r\n\r\nA\r\n--XyZ--", SD_EMALFORMED,
      "no Content-Disposition" },
    { "no Content-Disposition", NULL, "--XyZ\r\nContent-Type: text/plain\r\n\r\nA\r\n--XyZ--",
      SD_EMALFORMED, "no Content-Disposition" },
    { "attachment disposition", NULL,
      "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nA\r\n--XyZ--", SD_EMALFORMED,
      "not form-data" },
    { "empty disposition", NULL, "--XyZ\r\nContent-Disposition:\r\n\r\nA\r\n--XyZ--",
      SD_EMALFORMED, "not form-data" },
    { "no name", NULL,
      "--XyZ\r\nContent-Disposition: form-data; filename=a.png\r\n\r\nA\r\n--XyZ--",
      SD_EMALFORMED, "part 1 has no name" },
    { "empty name", NULL, "--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nA\r\n--XyZ--",
      SD_EMALFORMED, "has no name" },
    { "name twice", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nA\r\n--XyZ--",
      SD_EMALFORMED, "repeats the parameter 'name'" },
    { "filename twice", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name=a; filename=x; FileName=y\r\n\r\nA\r\n"
      "--XyZ--", SD_EMALFORMED, "repeats the parameter 'filename'" },
    { "two Content-Disposition", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name=a\r\n"
      "Content-Disposition: form-data; name=file; filename=x\r\n\r\nA\r\n--XyZ--",
      SD_EMALFORMED, "more than one Content-Disposition" },
    { "two Content-Type", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Type: a/b\r\n"
      "Content-Type: c/d\r\n\r\nA\r\n--XyZ--", SD_EMALFORMED, "more than one Content-Type" },
    { "unterminated quoted name", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nA\r\n--XyZ--", SD_EMALFORMED,
      "Content-Disposition is malformed" },
    { "param without value", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name\r\n\r\nA\r\n--XyZ--", SD_EMALFORMED,
      "Content-Disposition is malformed" },
    { "filename* not UTF-8", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name=f; filename*=iso-8859-1''%e9.txt\r\n\r\n"
      "A\r\n--XyZ--", SD_EMALFORMED, "filename*" },
    { "filename* with NUL", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name=f; filename*=UTF-8''a%00.png\r\n\r\n"
      "A\r\n--XyZ--", SD_EMALFORMED, "filename*" },
    { "filename* bad escape", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name=f; filename*=UTF-8''a%4\r\n\r\n"
      "A\r\n--XyZ--", SD_EMALFORMED, "filename*" },
    { "filename* no quotes", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name=f; filename*=a.txt\r\n\r\nA\r\n--XyZ--",
      SD_EMALFORMED, "filename*" },
    { "bare LF in headers", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name=a\n\nA\r\n--XyZ--", SD_EMALFORMED,
      "LF without CR" },
    { "bare CR in headers", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name=a\rX\r\n\r\nA\r\n--XyZ--", SD_EMALFORMED,
      "CR without LF" },
    { "folded header", NULL,
      "--XyZ\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nA\r\n--XyZ--", SD_EMALFORMED,
      "folded" },
    { "header without colon", NULL, "--XyZ\r\nContent-Disposition form-data\r\n\r\nA\r\n--XyZ--",
      SD_EMALFORMED, "malformed header line" },
    { "space before colon", NULL,
      "--XyZ\r\nContent-Disposition : form-data; name=a\r\n\r\nA\r\n--XyZ--", SD_EMALFORMED,
      "malformed header line" },
    { "ESC in headers", NULL,
      "--XyZ\r\nContent-Disposition: form-data; name=a\x1b[0m\r\n\r\nA\r\n--XyZ--",
      SD_EMALFORMED, "control character" },
    /* counts */
    { "two file parts", NULL, FILE_PART("1") FILE_PART("2") "--XyZ--", SD_EMALFORMED,
      "more than 1 file part" },
    { "two file parts, one with empty filename", NULL,
      FILE_PART("1") "--XyZ\r\nContent-Disposition: form-data; name=g; filename=\"\"\r\n\r\n"
      "\r\n--XyZ--", SD_EMALFORMED, "more than 1 file part" },
    { "too many parts", NULL, PART_A PART_A PART_A PART_A PART_A "--XyZ--", SD_ETOOBIG,
      "more than 4 parts" },
};

/* Limits for the table: small, so the long cases stay short. */
static void table_limits(sd_multipart_limits_t *l)
{
    sd_multipart_limits_default(l);
    l->max_parts = 4;
}

static void check_error(const err_case_t *c, apr_size_t body_len, const sd_multipart_limits_t *lim,
                        apr_pool_t *p)
{
    apr_size_t chunks[] = { 0, 1, 2, 7 };
    apr_size_t k;

    for (k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
        sd_multipart_t *mp;
        sd_problem_t prob;
        rec_t *r = rec_make(p);
        apr_status_t rv;

        sd_problem_init(&prob, p);
        rv = run(&mp, r, c->ct ? c->ct : CT, c->body, body_len, chunks[k], lim, &prob, p);
        if (rv != c->rv) {
            fail_msg("%s (chunk %d): status %d, expected %d (%s)", c->what, (int)chunks[k], rv,
                     c->rv, prob.detail ? prob.detail : "-");
        }
        if (!prob.detail || !strstr(prob.detail, c->message)) {
            fail_msg("%s (chunk %d): detail '%s' lacks '%s'", c->what, (int)chunks[k],
                     prob.detail ? prob.detail : "(null)", c->message);
        }
        assert_non_null(prob.type);
        if (mp) {
            assert_string_equal(prob.detail, sd_multipart_error(mp));
            /* Stuck after an error. */
            assert_int_equal(c->rv, sd_multipart_feed(mp, "--XyZ--", 7));
            assert_int_equal(c->rv, sd_multipart_finish(mp));
        }
        /* Every part that began before the error and ended was whole. */
    }
}

static void test_error_table(void **state)
{
    apr_pool_t *p = *state;
    sd_multipart_limits_t lim;
    apr_size_t i;

    table_limits(&lim);
    for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        check_error(&err_cases[i], strlen(err_cases[i].body), &lim, p);
    }
}

/* A NUL in a header would cut every C string after it short. */
static void test_nul_in_headers(void **state)
{
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=a\0b\r\n\r\n"
                               "A\r\n--XyZ--";
    static const err_case_t c = { "NUL in headers", NULL, body, SD_EMALFORMED,
                                  "control character" };
    check_error(&c, sizeof(body) - 1, NULL, *state);
}

static void test_problem_types(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    sd_multipart_limits_t lim;
    rec_t *r = rec_make(p);
    const char *body = PART_A PART_A "--XyZ--";

    sd_multipart_limits_default(&lim);
    lim.max_parts = 1;
    sd_problem_init(&prob, p);
    assert_int_equal(SD_ETOOBIG, run(NULL, r, CT, body, strlen(body), 0, &lim, &prob, p));
    assert_string_equal(SD_PT_TOO_BIG, prob.type);
    assert_int_equal(1, r->parts->nelts);
    assert_true(part_at(r, 0)->ended);

    sd_problem_init(&prob, p);
    assert_int_equal(SD_EMALFORMED, run(NULL, rec_make(p), CT, "x", 1, 0, NULL, &prob, p));
    assert_string_equal(SD_PT_MALFORMED, prob.type);

    sd_problem_init(&prob, p);
    assert_int_equal(SD_EMEDIATYPE, run(NULL, rec_make(p), "application/json", "", 0, 0, NULL,
                                        &prob, p));
    assert_string_equal(SD_PT_MEDIA_TYPE, prob.type);

    /* A NULL problem is fine. */
    assert_int_equal(SD_EMALFORMED, run(NULL, rec_make(p), "multipart/form-data", "", 0, 0,
                                        NULL, NULL, p));
    assert_int_equal(SD_EMEDIATYPE, run(NULL, rec_make(p), NULL, "", 0, 0, NULL, NULL, p));
}

/* The header limit counts the whole block, CRLFs included: exactly at the
 * limit passes, one byte more fails, at any split. */
static void test_header_limit_exact(void **state)
{
    apr_pool_t *p = *state;
    sd_multipart_limits_t lim;
    const char *hdr = "Content-Disposition: form-data; name=a\r\nX-Pad: 123\r\n\r\n";
    apr_size_t hl = strlen(hdr), chunk;
    const char *body = apr_pstrcat(p, "--XyZ\r\n", hdr, "A\r\n--XyZ--", NULL);

    sd_multipart_limits_default(&lim);
    for (chunk = 1; chunk < 8; chunk++) {
        sd_problem_t prob;
        lim.max_header_bytes = hl;
        assert_int_equal(APR_SUCCESS,
                         run(NULL, rec_make(p), CT, body, strlen(body), chunk, &lim, NULL, p));
        lim.max_header_bytes = hl - 1;
        sd_problem_init(&prob, p);
        assert_int_equal(SD_EMALFORMED,
                         run(NULL, rec_make(p), CT, body, strlen(body), chunk, &lim, &prob, p));
        assert_non_null(strstr(prob.detail, "headers longer than"));
    }
}

static void test_header_limit_default(void **state)
{
    apr_pool_t *p = *state;
    sd_problem_t prob;
    char *pad = apr_palloc(p, 9000);
    const char *body;

    memset(pad, 'x', 8999);
    pad[8999] = '\0';
    body = apr_pstrcat(p, "--XyZ\r\nContent-Disposition: form-data; name=a\r\nX-Pad: ", pad,
                       "\r\n\r\nA\r\n--XyZ--", NULL);
    sd_problem_init(&prob, p);
    assert_int_equal(SD_EMALFORMED,
                     run(NULL, rec_make(p), CT, body, strlen(body), 0, NULL, &prob, p));
    assert_non_null(strstr(prob.detail, "8192"));
}

static void test_preamble_epilogue_limits(void **state)
{
    apr_pool_t *p = *state;
    sd_multipart_limits_t lim;
    sd_problem_t prob;
    const char *pre = "0123456789\r\n";           /* 12 bytes of preamble */
    const char *body = apr_pstrcat(p, pre, PART_A "--XyZ--\r\n0123456789", NULL);
    apr_size_t chunk;

    sd_multipart_limits_default(&lim);
    for (chunk = 0; chunk < 5; chunk++) {
        /* The preamble is the 10 bytes before "\r\n--XyZ". */
        lim.max_preamble = 10;
        lim.max_epilogue = 12;   /* "\r\n0123456789" */
        assert_int_equal(APR_SUCCESS,
                         run(NULL, rec_make(p), CT, body, strlen(body), chunk, &lim, NULL, p));
        lim.max_preamble = 9;
        sd_problem_init(&prob, p);
        assert_int_equal(SD_EMALFORMED,
                         run(NULL, rec_make(p), CT, body, strlen(body), chunk, &lim, &prob, p));
        assert_non_null(strstr(prob.detail, "no boundary in the first 9 bytes"));
        lim.max_preamble = 10;
        lim.max_epilogue = 11;
        sd_problem_init(&prob, p);
        assert_int_equal(SD_EMALFORMED,
                         run(NULL, rec_make(p), CT, body, strlen(body), chunk, &lim, &prob, p));
        assert_non_null(strstr(prob.detail, "after the closing boundary"));
    }
    /* No preamble allowed at all still accepts a body that opens with the
     * boundary. */
    lim.max_preamble = 0;
    lim.max_epilogue = 0;
    body = PART_A "--XyZ--";
    for (chunk = 0; chunk < 4; chunk++) {
        assert_int_equal(APR_SUCCESS,
                         run(NULL, rec_make(p), CT, body, strlen(body), chunk, &lim, NULL, p));
    }
}

/* More file parts can be allowed; text fields never count as files. */
static void test_file_part_limit(void **state)
{
    apr_pool_t *p = *state;
    sd_multipart_limits_t lim;
    sd_multipart_t *mp;
    rec_t *r = rec_make(p);
    const char *body = FILE_PART("1") PART_A FILE_PART("2") "--XyZ--";

    sd_multipart_limits_default(&lim);
    lim.max_file_parts = 2;
    assert_int_equal(APR_SUCCESS, run(&mp, r, CT, body, strlen(body), 1, &lim, NULL, p));
    assert_int_equal(3, sd_multipart_parts(mp));
    assert_int_equal(2, sd_multipart_file_parts(mp));
    assert_string_equal("f2", part_at(r, 2)->filename);
}

/* The counters report parts that began: a rejected part is not counted, and
 * the part before it was whole. */
static void test_counts_after_rejection(void **state)
{
    apr_pool_t *p = *state;
    sd_multipart_t *mp;
    rec_t *r = rec_make(p);
    const char *body = PART_A FILE_PART("1") FILE_PART("2") "--XyZ--";

    assert_int_equal(SD_EMALFORMED, run(&mp, r, CT, body, strlen(body), 1, NULL, NULL, p));
    assert_int_equal(2, sd_multipart_parts(mp));
    assert_int_equal(1, sd_multipart_file_parts(mp));
    assert_int_equal(2, r->parts->nelts);
    assert_true(part_at(r, 1)->ended);
    assert_string_equal("F", part_at(r, 1)->data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_three_parts_every_chunk_size),
        SD_TEST(test_three_parts_random_splits),
        SD_TEST(test_zero_length_feeds),
        SD_TEST(test_preamble_and_epilogue),
        SD_TEST(test_no_crlf_after_close),
        SD_TEST(test_quoted_boundary),
        SD_TEST(test_unquoted_boundary_with_specials),
        SD_TEST(test_transport_padding),
        SD_TEST(test_empty_file_part),
        SD_TEST(test_empty_form),
        SD_TEST(test_filename_forms),
        SD_TEST(test_name_with_semicolon),
        SD_TEST(test_large_file_streams),
        SD_TEST(test_callback_stops_parser),
        SD_TEST(test_error_table),
        SD_TEST(test_nul_in_headers),
        SD_TEST(test_problem_types),
        SD_TEST(test_header_limit_exact),
        SD_TEST(test_header_limit_default),
        SD_TEST(test_preamble_epilogue_limits),
        SD_TEST(test_file_part_limit),
        SD_TEST(test_counts_after_rejection),
    };
    return SD_RUN("sd_multipart", tests);
}
