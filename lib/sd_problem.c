/* Problem details: lib/ fills an sd_problem_t, the glue renders it. The
 * mapping from our status codes to HTTP status, type and title lives here
 * once, so every endpoint answers the same code the same way. */
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>

#include "sd_problem.h"

typedef struct {
    apr_status_t rv;
    int http;
    const char *type;
    const char *title;
} code_map_t;

static const code_map_t code_map[] = {
    { SD_ENOTFOUND,     404, SD_PT_NOT_FOUND,    "Not found" },
    { SD_EINVALID,      422, SD_PT_INVALID,      "Invalid fields" },
    { SD_ECONFLICT,     409, SD_PT_CONFLICT,     "Conflict" },
    { SD_EFORBIDDEN,    403, SD_PT_FORBIDDEN,    "Forbidden" },
    { SD_ENOUSER,       403, SD_PT_NO_USER,      "Unknown user" },
    { SD_ETOOBIG,       413, SD_PT_TOO_BIG,      "Content too large" },
    { SD_EUNAVAILABLE,  503, SD_PT_DB_DOWN,      "Service unavailable" },
    { SD_EBUSY,         503, SD_PT_DB_BUSY,      "Service unavailable" },
    { SD_EMALFORMED,    400, SD_PT_MALFORMED,    "Malformed request" },
    { SD_EPRECONDITION, 412, SD_PT_PRECONDITION, "Precondition failed" },
    { SD_EMEDIATYPE,    415, SD_PT_MEDIA_TYPE,   "Unsupported media type" },
};

/* Anything we did not name, SD_EINTERNAL and raw APR/OS codes alike, is our
 * fault from the client's point of view. */
static const code_map_t code_internal = { SD_EINTERNAL, 500, SD_PT_INTERNAL, "Internal error" };

static const code_map_t *lookup(apr_status_t rv)
{
    apr_size_t i;
    for (i = 0; i < sizeof(code_map) / sizeof(code_map[0]); i++) {
        if (code_map[i].rv == rv) return &code_map[i];
    }
    return &code_internal;
}

void sd_problem_init(sd_problem_t *prob, apr_pool_t *p)
{
    memset(prob, 0, sizeof(*prob));
    prob->pool = p;
}

/* A NULL prob is allowed in the two setters so that internal callers that do
 * not care about the detail (a background job) need not make one. */
apr_status_t sd_problem_set(sd_problem_t *prob, apr_status_t rv, const char *type,
                            const char *fmt, ...)
{
    va_list ap;

    if (!prob) return rv;
    prob->type = type;
    if (fmt) {
        va_start(ap, fmt);
        prob->detail = apr_pvsprintf(prob->pool, fmt, ap);
        va_end(ap);
    }
    else {
        prob->detail = NULL;
    }
    return rv;
}

void sd_problem_field(sd_problem_t *prob, const char *field, const char *fmt, ...)
{
    va_list ap;
    sd_field_error_t *fe;

    if (!prob) return;
    /* Most problems carry no field errors: make the array on first use. */
    if (!prob->errors) {
        prob->errors = apr_array_make(prob->pool, 4, sizeof(sd_field_error_t));
    }
    fe = (sd_field_error_t *)apr_array_push(prob->errors);
    fe->field = apr_pstrdup(prob->pool, field ? field : "");
    va_start(ap, fmt);
    fe->message = apr_pvsprintf(prob->pool, fmt, ap);
    va_end(ap);
}

int sd_problem_has_errors(const sd_problem_t *prob)
{
    return prob && prob->errors && prob->errors->nelts > 0;
}

int sd_problem_http_status(apr_status_t rv)
{
    return lookup(rv)->http;
}

const char *sd_problem_default_type(apr_status_t rv)
{
    return lookup(rv)->type;
}

/* Titles of the types that share a code with others (RFC 9457: the title
 * belongs to the type). */
static const struct {
    const char *type, *title;
} type_titles[] = {
    { SD_PT_MALFORMED_JSON, "Malformed JSON" },
    { SD_PT_BAD_PARAM,      "Invalid parameter" },
    { SD_PT_BAD_CURSOR,     "Invalid cursor" },
    { SD_PT_CROSS_ORIGIN,   "Cross-origin request" },
    { SD_PT_NO_USER,        "Unknown user" },
    { SD_PT_DIR_DOWN,       "Directory unavailable" },
    { SD_PT_DB_DOWN,        "Database unavailable" },
    { SD_PT_DB_BUSY,        "Database busy" },
};

const char *sd_problem_type_title(const char *type)
{
    apr_size_t i;
    for (i = 0; type && i < sizeof(type_titles) / sizeof(type_titles[0]); i++) {
        if (!strcmp(type_titles[i].type, type)) return type_titles[i].title;
    }
    return NULL;
}

const char *sd_problem_default_title(apr_status_t rv)
{
    return lookup(rv)->title;
}
