/* /tickets/{id}/attachments: upload (multipart/form-data with a part named
 * "file", and optionally "comment"; or a raw body with ?filename=) and
 * download. The body is read through the input filters in bounded chunks;
 * the file's bytes are held once, in one buffer sized by Content-Length (or
 * grown while reading a chunked body), and sniffed as they arrive so a
 * hostile upload stops early. Nothing is stored unless every check passes. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "util_filter.h"
#include "http_request.h"

#include "sdesk_api.h"
#include "sdesk_http.h"
#include "sd_filename.h"
#include "sd_hash.h"
#include "sd_multipart.h"
#include "sd_query.h"
#include "sd_sniff.h"
#include "sd_time.h"

APLOG_USE_MODULE(sdesk);

#define READ_CHUNK (64 * 1024)
#define MULTIPART_OVERHEAD (64 * 1024)   /* headers, boundaries, a comment part */

typedef struct {
    sdesk_req_t *rq;
    char *buf;                /* the file's bytes */
    apr_size_t len, cap, max;
    sd_sniff_stream_t sniff;
    int in_file, in_comment, files;
    const char *filename;
    char *comment;
    apr_size_t comment_len, comment_max;
} upload_t;

static apr_status_t too_big(upload_t *u)
{
    u->rq->r->connection->keepalive = AP_CONN_CLOSE;
    return sd_problem_set(&u->rq->prob, SD_ETOOBIG, SD_PT_TOO_BIG,
                          "The file is larger than %" APR_INT64_T_FMT " bytes.",
                          u->rq->sc->desk->max_attachment);
}

static apr_status_t file_bytes(upload_t *u, const char *data, apr_size_t len)
{
    apr_status_t rv;
    if (u->len + len > u->max) return too_big(u);
    if (u->len + len > u->cap) {
        /* chunked body: grow (at most to the limit) */
        apr_size_t cap = u->cap ? u->cap * 2 : READ_CHUNK;
        char *nb;
        while (cap < u->len + len) cap *= 2;
        if (cap > u->max) cap = u->max;
        nb = apr_palloc(u->rq->r->pool, cap);
        if (u->len) memcpy(nb, u->buf, u->len);
        u->buf = nb;
        u->cap = cap;
    }
    memcpy(u->buf + u->len, data, len);
    u->len += len;
    rv = sd_sniff_stream_feed(&u->sniff, data, len);
    if (rv != APR_SUCCESS) {
        sd_sniff_t v;
        sd_sniff_stream_finish(&v, &u->sniff);
        return sd_problem_set(&u->rq->prob, SD_EMEDIATYPE, SD_PT_MEDIA_TYPE,
                              "This kind of file is not accepted (%s). Allowed: PNG, JPEG, "
                              "GIF, WebP, PDF and UTF-8 text.", v.reason ? v.reason : "unknown");
    }
    return APR_SUCCESS;
}

static apr_status_t part_begin(void *baton, const sd_multipart_part_t *part)
{
    upload_t *u = baton;
    if (part->is_file && part->name && !strcmp(part->name, "file")) {
        if (u->files++)
            return sd_problem_set(&u->rq->prob, SD_EMALFORMED, SD_PT_MALFORMED,
                                  "Send one file per request.");
        u->in_file = 1;
        u->filename = apr_pstrdup(u->rq->r->pool, part->filename ? part->filename : "");
        return APR_SUCCESS;
    }
    if (!part->is_file && part->name && !strcmp(part->name, "file"))
        return sd_problem_set(&u->rq->prob, SD_EMALFORMED, SD_PT_MALFORMED,
                              "The part 'file' must be a file (with a filename).");
    if (!part->is_file && part->name && !strcmp(part->name, "comment")) {
        u->in_comment = 1;
        return APR_SUCCESS;
    }
    return sd_problem_set(&u->rq->prob, SD_EMALFORMED, SD_PT_MALFORMED,
                          "Unexpected form part '%s': send 'file' and, optionally, 'comment'.",
                          part->name ? part->name : "");
}

static apr_status_t part_data(void *baton, const char *data, apr_size_t len)
{
    upload_t *u = baton;
    if (u->in_file) return file_bytes(u, data, len);
    if (u->in_comment) {
        if (u->comment_len + len > u->comment_max)
            return sd_problem_set(&u->rq->prob, SD_ETOOBIG, SD_PT_TOO_BIG,
                                  "The comment is too long.");
        memcpy(u->comment + u->comment_len, data, len);
        u->comment_len += len;
    }
    return APR_SUCCESS;
}

static apr_status_t part_end(void *baton, const sd_multipart_part_t *part)
{
    upload_t *u = baton;
    (void)part;
    u->in_file = u->in_comment = 0;
    return APR_SUCCESS;
}

/* Feed the whole request body to fn in chunks of at most READ_CHUNK. */
static apr_status_t read_body(request_rec *r, apr_status_t (*fn)(void *, const char *, apr_size_t),
                              void *baton, sd_problem_t *prob)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_status_t rv;
    int seen_eos = 0;

    do {
        apr_bucket *b;
        rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES, APR_BLOCK_READ, READ_CHUNK);
        if (rv != APR_SUCCESS)
            return sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED,
                                  "The request body could not be read.");
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t len;
            if (APR_BUCKET_IS_EOS(b)) { seen_eos = 1; break; }
            if (APR_BUCKET_IS_METADATA(b)) continue;
            if (apr_bucket_read(b, &data, &len, APR_BLOCK_READ) != APR_SUCCESS)
                return sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED,
                                      "The request body could not be read.");
            if (len && APR_SUCCESS != (rv = fn(baton, data, len))) return rv;
        }
        apr_brigade_cleanup(bb);
    } while (!seen_eos);
    return APR_SUCCESS;
}

static apr_status_t feed_multipart(void *baton, const char *data, apr_size_t len)
{
    return sd_multipart_feed(baton, data, len);
}

static apr_status_t feed_raw(void *baton, const char *data, apr_size_t len)
{
    return file_bytes(baton, data, len);
}

static json_t *meta_json(const sd_attachment_meta_t *a, apr_pool_t *p)
{
    return sd_json_own(p, json_pack("{s:I, s:s, s:s, s:I, s:s, s:s}", "id", (json_int_t)a->id,
        "filename", a->filename, "media_type", a->media_type, "size", (json_int_t)a->size,
        "sha256", a->sha256 ? a->sha256 : "",
        "created_at", sd_time_rfc3339(sd_time_from_sec(a->created_at), p)));
}

int sdesk_api_attachment_upload(sdesk_req_t *rq)
{
    static const char *const params[] = { "filename", NULL };
    request_rec *r = rq->r;
    const sd_desk_conf_t *c = rq->sc->desk;
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    const char *name, *sha, *comment = NULL;
    apr_table_t *args;
    sd_attachment_meta_t *meta;
    sd_sniff_t verdict;
    upload_t u;
    apr_status_t rv;
    apr_off_t clen = -1;
    int multipart = ct && !strncasecmp(ct, "multipart/", 10), existed = 0;

    memset(&u, 0, sizeof(u));
    u.rq = rq;
    u.max = (apr_size_t)c->max_attachment;
    sd_sniff_stream_init(&u.sniff);
    rv = sd_query_parse(&args, r->args, params, &rq->prob, r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    if (multipart && apr_table_get(args, "filename"))
        return sdesk_req_fail(rq, sd_problem_set(&rq->prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
            "'filename' is for raw uploads; a form names the file in its part."));
    if (cl && (apr_strtoff(&clen, cl, NULL, 10) != APR_SUCCESS || clen < 0))
        return sdesk_req_fail(rq, sd_problem_set(&rq->prob, SD_EMALFORMED, SD_PT_MALFORMED,
                                                 "The Content-Length header is not a number."));
    /* Refuse what cannot fit before reading a byte of it. */
    if (clen > c->max_attachment + (multipart ? MULTIPART_OVERHEAD : 0))
        return sdesk_req_fail(rq, too_big(&u));
    if (clen >= 0) {
        u.cap = (apr_size_t)(clen < c->max_attachment ? clen : c->max_attachment);
        u.buf = apr_palloc(r->pool, u.cap ? u.cap : 1);
    }
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK)
        return sdesk_req_fail(rq, sd_problem_set(&rq->prob, SD_EMALFORMED, SD_PT_MALFORMED,
                                                 "The request body could not be read."));
    if (multipart) {
        sd_multipart_limits_t lim;
        sd_multipart_cbs_t cbs = { part_begin, part_data, part_end };
        sd_multipart_t *mp;
        sd_multipart_limits_default(&lim);
        u.comment_max = (apr_size_t)c->limits.max_description * 4;
        u.comment = apr_palloc(r->pool, u.comment_max + 1);
        rv = sd_multipart_create(&mp, ct, &lim, &cbs, &u, &rq->prob, r->pool);
        if (rv == APR_SUCCESS) rv = read_body(r, feed_multipart, mp, &rq->prob);
        if (rv == APR_SUCCESS) rv = sd_multipart_finish(mp);
        if (rv == APR_SUCCESS && !u.files)
            rv = sd_problem_set(&rq->prob, SD_EMALFORMED, SD_PT_MALFORMED,
                                "The form has no part named 'file'.");
        if (rv == APR_SUCCESS && u.comment_len) {
            u.comment[u.comment_len] = '\0';
            if (!sd_utf8_valid(u.comment, u.comment_len) || sd_utf8_has_control(u.comment, 1)
                || sd_utf8_chars(u.comment) > (apr_size_t)c->limits.max_description) {
                sd_problem_field(&rq->prob, "comment", "must be UTF-8 text of at most %d "
                                 "characters", c->limits.max_description);
                rv = sd_problem_set(&rq->prob, SD_EINVALID, SD_PT_INVALID,
                                    "One or more fields are invalid.");
            }
            else if (!sd_str_blank(u.comment)) {
                comment = u.comment;
            }
        }
        name = u.filename;
    }
    else {
        rv = read_body(r, feed_raw, &u, &rq->prob);
        name = apr_table_get(args, "filename");
    }
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    /* The bytes decide the type; the declared one is ignored. */
    if (sd_sniff_stream_finish(&verdict, &u.sniff) != APR_SUCCESS)
        return sdesk_req_fail(rq, sd_problem_set(&rq->prob, SD_EMEDIATYPE, SD_PT_MEDIA_TYPE,
            "This kind of file is not accepted (%s). Allowed: PNG, JPEG, GIF, WebP, PDF and "
            "UTF-8 text.", verdict.reason ? verdict.reason : "unknown"));
    sd_filename_safe(&name, name ? name : "", r->pool);
    sha = sd_hash_sha256_hex(u.buf ? u.buf : "", u.len, r->pool);
    rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS)
        rv = sd_desk_attachment_add(&meta, &existed, rq->db, &rq->actor, rq->id, name,
                                    verdict.media_type, u.buf ? u.buf : "", u.len, sha, comment,
                                    &rq->prob, r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    apr_table_setn(r->headers_out, "Location",
                   apr_psprintf(r->pool, "%s/api/v1/tickets/%" APR_INT64_T_FMT "/attachments/%"
                                APR_INT64_T_FMT, rq->base, rq->id, meta->id));
    return sdesk_json(r, existed ? HTTP_OK : HTTP_CREATED, meta_json(meta, r->pool), NULL);
}

int sdesk_api_attachment_get(sdesk_req_t *rq)
{
    request_rec *r = rq->r;
    sd_attachment_meta_t *a;
    const char *data, *disp, *etag;
    apr_size_t len = 0;
    apr_status_t rv;
    int raster;

    rv = sdesk_req_db(rq);
    if (rv == APR_SUCCESS)
        rv = sd_desk_attachment_get(&a, &data, &len, rq->db, &rq->actor, rq->id, rq->id2,
                                    &rq->prob, r->pool);
    if (rv != APR_SUCCESS) return sdesk_req_fail(rq, rv);
    raster = !strcmp(a->media_type, "image/png") || !strcmp(a->media_type, "image/jpeg")
             || !strcmp(a->media_type, "image/gif") || !strcmp(a->media_type, "image/webp");
    if (sd_filename_disposition(&disp, raster ? "inline" : "attachment", a->filename, r->pool)
        != APR_SUCCESS)
        disp = "attachment";
    etag = apr_psprintf(r->pool, "\"%s\"", a->sha256 ? a->sha256 : "");
    apr_table_setn(r->headers_out, "ETag", etag);
    apr_table_setn(r->headers_out, "Content-Disposition", disp);
    /* whatever the bytes are, a browser runs nothing from them */
    apr_table_setn(r->headers_out, "Content-Security-Policy", "sandbox; default-src 'none'");
    apr_table_setn(r->headers_out, "Accept-Ranges", "bytes");
    ap_update_mtime(r, apr_time_from_sec(a->created_at));
    ap_set_last_modified(r);
    if (sdesk_none_match_hits(r, etag)) {
        r->status = HTTP_NOT_MODIFIED;
        return OK;
    }
    ap_set_content_type(r, a->media_type);
    ap_set_content_length(r, (apr_off_t)len);
    /* One brigade ending in EOS: httpd's byterange filter then serves Range
     * requests (large PDFs) itself, If-Range with our strong ETag included. */
    {
        apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
        apr_bucket_brigade *bb = apr_brigade_create(r->pool, ba);
        if (!r->header_only && len)
            APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(data, len, r->pool, ba));
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(ba));
        return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS ? OK : AP_FILTER_ERROR;
    }
}
