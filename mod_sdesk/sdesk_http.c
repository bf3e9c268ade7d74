/* HTTP edge: see sdesk_http.h. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_log.h"
#include "http_request.h"

#include "sdesk_http.h"
#include "sd_hash.h"

APLOG_USE_MODULE(sdesk);

void sdesk_http_security_headers(request_rec *r)
{
    apr_table_t *h = r->headers_out;
    /* "private": never stored by shared caches; "no-cache": browsers revalidate
     * with the ETag, so patient-related data is never shown stale. */
    apr_table_setn(h, "Cache-Control", "private, no-cache");
    apr_table_setn(h, "X-Content-Type-Options", "nosniff");
    apr_table_setn(h, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    apr_table_setn(h, "Referrer-Policy", "same-origin");
    apr_table_setn(h, "X-Frame-Options", "DENY");
}

static int write_body(request_rec *r, const char *type, const char *body)
{
    apr_size_t len = strlen(body);
    ap_set_content_type(r, type);
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) ap_rwrite(body, (int)len, r);
    return OK;
}

json_t *sdesk_problem_doc(int *pstatus, apr_status_t rv, const sd_problem_t *prob,
                          apr_pool_t *p)
{
    int status = rv == SD_EUNAUTH ? HTTP_UNAUTHORIZED
               : rv == SD_ENOMETHOD ? HTTP_METHOD_NOT_ALLOWED : sd_problem_http_status(rv), i;
    const char *type = (prob && prob->type) ? prob->type : sd_problem_default_type(rv);
    const char *title = (prob && prob->title) ? prob->title
                      : sd_problem_type_title(type) ? sd_problem_type_title(type)
                      : rv == SD_EUNAUTH ? "Unauthenticated"
                      : rv == SD_ENOMETHOD ? "Method not allowed" : sd_problem_default_title(rv);
    json_t *j = sd_json_own(p, json_object());

    json_object_set_new(j, "type", json_string(apr_pstrcat(p, "urn:mod-sdesk:problem:",
                                                           type, NULL)));
    json_object_set_new(j, "title", json_string(title));
    json_object_set_new(j, "status", json_integer(status));
    if (prob && prob->detail) json_object_set_new(j, "detail", json_string(prob->detail));
    if (prob && sd_problem_has_errors(prob)) {
        json_t *errs = json_array();
        for (i = 0; i < prob->errors->nelts; ++i) {
            const sd_field_error_t *e = &APR_ARRAY_IDX(prob->errors, i, sd_field_error_t);
            json_array_append_new(errs, json_pack("{s:s, s:s}", "field", e->field,
                                                  "message", e->message));
        }
        json_object_set_new(j, "errors", errs);
    }
    *pstatus = status;
    return j;
}

int sdesk_problem(request_rec *r, apr_status_t rv, const sd_problem_t *prob, int retry_after)
{
    int status;
    json_t *j = sdesk_problem_doc(&status, rv, prob, r->pool);

    if (status == HTTP_SERVICE_UNAVAILABLE)
        apr_table_setn(r->headers_out, "Retry-After", apr_itoa(r->pool, retry_after));
    if (status == HTTP_REQUEST_ENTITY_TOO_LARGE || status >= 500)
        r->connection->keepalive = AP_CONN_CLOSE;
    r->status = status;
    apr_table_unset(r->headers_out, "ETag");
    return write_body(r, "application/problem+json", sd_json_dump(j, r->pool));
}

int sdesk_problem_simple(request_rec *r, apr_status_t rv, const char *type, const char *detail,
                         int retry_after)
{
    sd_problem_t prob;
    sd_problem_init(&prob, r->pool);
    prob.type = type;
    prob.detail = detail;
    return sdesk_problem(r, rv, &prob, retry_after);
}

/* 96 bits of the body's SHA-256. OpenSSL's SHA-256 (SHA extensions where
 * the CPU has them) rather than apr_sha1, which was ~7% of a list request's
 * CPU time (make bench, issue 8). */
static const char *body_etag(const char *body, apr_pool_t *p)
{
    const char *hex = sd_hash_sha256_hex(body, strlen(body), p);
    return hex ? apr_psprintf(p, "\"%.24s\"", hex) : NULL;
}

/* Does If-None-Match name etag (or "*")? Weak comparison, as RFC 9110 says. */
int sdesk_none_match_hits(request_rec *r, const char *etag)
{
    const char *inm = apr_table_get(r->headers_in, "If-None-Match"), *s;
    char *list, *tok, *save = NULL;
    if (!inm) return 0;
    list = apr_pstrdup(r->pool, inm);
    for (tok = apr_strtok(list, ",", &save); tok; tok = apr_strtok(NULL, ",", &save)) {
        while (apr_isspace(*tok)) ++tok;
        s = tok + strlen(tok);
        while (s > tok && apr_isspace(s[-1])) --s;
        tok[s - tok] = '\0';
        if (!strcmp(tok, "*")) return 1;
        if (!strncmp(tok, "W/", 2)) tok += 2;
        if (!strcmp(tok, etag)) return 1;
    }
    return 0;
}

int sdesk_json(request_rec *r, int status, const json_t *j, const char *etag)
{
    const char *body = sd_json_dump(j, r->pool);
    if (!etag && r->method_number == M_GET && status == HTTP_OK) etag = body_etag(body, r->pool);
    if (etag) apr_table_setn(r->headers_out, "ETag", etag);
    if (etag && r->method_number == M_GET && status == HTTP_OK && sdesk_none_match_hits(r, etag)) {
        r->status = HTTP_NOT_MODIFIED;
        return OK;
    }
    r->status = status;
    return write_body(r, "application/json", body);
}

/* "application/json" with optional parameters; charset, if given, utf-8. */
static int json_media_type(const char *ct, apr_pool_t *p)
{
    char *v, *param, *save = NULL;
    const char *s;
    if (!ct) return 0;
    v = apr_pstrdup(p, ct);
    param = apr_strtok(v, ";", &save);
    if (!param) return 0;
    while (apr_isspace(*param)) ++param;
    s = param + strlen(param);
    while (s > param && apr_isspace(s[-1])) --s;
    if ((apr_size_t)(s - param) != 16 || strncasecmp(param, "application/json", 16)) return 0;
    while ((param = apr_strtok(NULL, ";", &save))) {
        while (apr_isspace(*param)) ++param;
        if (!strncasecmp(param, "charset=", 8)) {
            const char *cs = param + 8;
            if (*cs == '"') ++cs;
            if (strncasecmp(cs, "utf-8", 5) || (cs[5] && cs[5] != '"' && !apr_isspace(cs[5])))
                return 0;
        }
    }
    return 1;
}

apr_status_t sdesk_read_json(json_t **pj, request_rec *r, const sd_limits_t *lim,
                             sd_problem_t *prob)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_size_t cap = lim->max_body, used = 0;
    char *buf;
    apr_status_t rv;
    long n;

    *pj = NULL;
    if (!json_media_type(apr_table_get(r->headers_in, "Content-Type"), r->pool))
        return sd_problem_set(prob, SD_EMEDIATYPE, SD_PT_MEDIA_TYPE,
                              "Send the request body as application/json (UTF-8).");
    if (cl) {
        apr_off_t len;
        if (apr_strtoff(&len, cl, NULL, 10) != APR_SUCCESS || len < 0)
            return sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED,
                                  "The Content-Length header is not a number.");
        if ((apr_uint64_t)len > cap) goto too_big;
    }
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK)
        return sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED,
                              "The request body could not be read.");
    buf = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        for (;;) {
            n = ap_get_client_block(r, buf + used, cap + 1 - used);
            if (n < 0)
                return sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED,
                                      "The request body could not be read.");
            if (n == 0) break;
            used += (apr_size_t)n;
            if (used > cap) goto too_big;
        }
    }
    buf[used] = '\0';
    rv = sd_json_parse_object(pj, buf, used, lim, prob, r->pool);
    return rv;
too_big:
    r->connection->keepalive = AP_CONN_CLOSE;
    return sd_problem_set(prob, SD_ETOOBIG, SD_PT_TOO_BIG,
                          "The request body is larger than %lu bytes.", (unsigned long)cap);
}

apr_status_t sdesk_same_origin(request_rec *r, sd_problem_t *prob)
{
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *host = apr_table_get(r->headers_in, "Host");

    if (site && strcasecmp(site, "same-origin") && strcasecmp(site, "none"))
        goto cross;
    if (origin) {
        const char *own;
        if (!host) goto cross;
        own = apr_pstrcat(r->pool, ap_http_scheme(r), "://", host, NULL);
        if (strcasecmp(origin, own)) goto cross;
    }
    return APR_SUCCESS;
cross:
    return sd_problem_set(prob, SD_EFORBIDDEN, SD_PT_CROSS_ORIGIN,
                          "Changes must come from a page of this site (same origin).");
}
