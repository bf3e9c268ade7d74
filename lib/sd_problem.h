/* Problem details (RFC 9457) as lib/ fills them and the glue renders them as
 * application/problem+json. lib/ chooses type, title and detail; the glue
 * chooses the HTTP status from the apr_status_t (sd_problem_http_status). */
#ifndef SD_PROBLEM_H
#define SD_PROBLEM_H

#include "sd.h"

/* Problem types, listed once. Rendered as "urn:mod-sdesk:problem:<slug>". */
#define SD_PT_MALFORMED      "malformed-request"      /* 400 */
#define SD_PT_MALFORMED_JSON "malformed-json"         /* 400 */
#define SD_PT_BAD_PARAM      "invalid-parameter"      /* 400 */
#define SD_PT_BAD_CURSOR     "invalid-cursor"         /* 400 */
#define SD_PT_UNAUTH         "unauthenticated"        /* 401 */
#define SD_PT_FORBIDDEN      "forbidden"              /* 403 */
#define SD_PT_CROSS_ORIGIN   "cross-origin"           /* 403 */
#define SD_PT_NO_USER        "unknown-user"           /* 403 */
#define SD_PT_NOT_FOUND      "not-found"              /* 404 */
#define SD_PT_NO_METHOD      "method-not-allowed"     /* 405 */
#define SD_PT_CONFLICT       "conflict"               /* 409 */
#define SD_PT_PRECONDITION   "precondition-failed"    /* 412 */
#define SD_PT_TOO_BIG        "too-large"              /* 413 */
#define SD_PT_MEDIA_TYPE     "unsupported-media-type" /* 415 */
#define SD_PT_INVALID        "invalid-fields"         /* 422 */
#define SD_PT_DIR_DOWN       "directory-unavailable"  /* 503 */
#define SD_PT_DB_DOWN        "database-unavailable"   /* 503 */
#define SD_PT_DB_BUSY        "database-busy"          /* 503 */
#define SD_PT_INTERNAL       "internal-error"         /* 500 */

typedef struct {
    const char *field;    /* JSON field path, e.g. "device.model" */
    const char *message;  /* "is required" */
} sd_field_error_t;

typedef struct {
    apr_pool_t *pool;
    const char *type;          /* slug from the list above; NULL: from status */
    const char *title;         /* NULL: from status */
    const char *detail;
    apr_array_header_t *errors;  /* of sd_field_error_t */
} sd_problem_t;

void sd_problem_init(sd_problem_t *prob, apr_pool_t *p);

/* Set type and detail (printf) and return rv, so callers can write
 * `return sd_problem_set(prob, SD_EINVALID, SD_PT_INVALID, "...")`. */
apr_status_t sd_problem_set(sd_problem_t *prob, apr_status_t rv, const char *type,
                            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Add one field error (printf message). */
void sd_problem_field(sd_problem_t *prob, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int sd_problem_has_errors(const sd_problem_t *prob);

/* HTTP status for one of our codes (and 500 for anything else). */
int sd_problem_http_status(apr_status_t rv);
/* Default slug and title for a code. */
const char *sd_problem_default_type(apr_status_t rv);
const char *sd_problem_default_title(apr_status_t rv);
/* The title of a type that shares its code with others, or NULL. */
const char *sd_problem_type_title(const char *type);

#endif /* SD_PROBLEM_H */
