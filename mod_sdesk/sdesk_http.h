/* HTTP edge of the API: security headers, problem+json and JSON responses,
 * ETags and conditional GET, request bodies under a hard cap, the
 * same-origin check for state changes. */
#ifndef SDESK_HTTP_H
#define SDESK_HTTP_H

#include "httpd.h"
#include <jansson.h>
#include "sd_problem.h"
#include "sd_json.h"

/* Cache-Control, nosniff, CSP, Referrer-Policy on every module response. */
void sdesk_http_security_headers(request_rec *r);

/* The problem document (RFC 9457) for rv and prob, owned by p; *status is
 * its HTTP status. */
json_t *sdesk_problem_doc(int *status, apr_status_t rv, const sd_problem_t *prob, apr_pool_t *p);

/* Render a problem and return OK (r->status carries the code). For 503 a
 * Retry-After is set; for 405 the caller sets Allow first. */
int sdesk_problem(request_rec *r, apr_status_t rv, const sd_problem_t *prob, int retry_after);
/* Shorthand for a problem without field errors. */
int sdesk_problem_simple(request_rec *r, apr_status_t rv, const char *type, const char *detail,
                         int retry_after);

/* Send j with status. etag: quoted strong ETag, or NULL to derive one from
 * the body for GET. A GET whose If-None-Match matches gets 304. Returns OK. */
int sdesk_json(request_rec *r, int status, const json_t *j, const char *etag);

/* Does If-None-Match name etag (or "*")? */
int sdesk_none_match_hits(request_rec *r, const char *etag);

/* Read a JSON object body: Content-Type application/json (charset utf-8 if
 * given) or SD_EMEDIATYPE; over lim->max_body SD_ETOOBIG (connection closed);
 * else parsed with sd_json_parse_object. */
apr_status_t sdesk_read_json(json_t **pj, request_rec *r, const sd_limits_t *lim,
                             sd_problem_t *prob);

/* SD_EFORBIDDEN when Origin / Sec-Fetch-Site show another origin. */
apr_status_t sdesk_same_origin(request_rec *r, sd_problem_t *prob);

#endif /* SDESK_HTTP_H */
