/* mod_sdesk core: common types, status codes, limits and vocabulary.
 *
 * lib/ is plain C over APR, APR-util, jansson, libldap and utf8proc. It never
 * includes an httpd header: the glue in mod_sdesk/ turns HTTP into calls of
 * these functions, so every piece can be unit-tested and reused by a
 * command-line tool. */
#ifndef SD_H
#define SD_H

#include <apr.h>
#include <apr_errno.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#define SD_VERSION "0.1.0"

/* Our own status codes, above APR's user range, so "ticket not found" never
 * hides in a file's APR_ENOENT. The glue maps them to HTTP in one place. */
#define SD_ESTART        (APR_OS_START_USERERR + 9000)
#define SD_ENOTFOUND     (SD_ESTART + 1)   /* 404: absent or outside the tenant */
#define SD_EINVALID      (SD_ESTART + 2)   /* 422: valid syntax, invalid fields */
#define SD_ECONFLICT     (SD_ESTART + 3)   /* 409: state conflict */
#define SD_EFORBIDDEN    (SD_ESTART + 4)   /* 403: role does not allow it */
#define SD_ETOOBIG       (SD_ESTART + 5)   /* 413: over a size limit */
#define SD_EUNAVAILABLE  (SD_ESTART + 6)   /* 503: directory or database down */
#define SD_EMALFORMED    (SD_ESTART + 7)   /* 400: not parseable (JSON, query, cursor) */
#define SD_EBUSY         (SD_ESTART + 8)   /* 503: database busy after bounded retry */
#define SD_EPRECONDITION (SD_ESTART + 9)   /* 412: If-Match mismatch */
#define SD_EMEDIATYPE    (SD_ESTART + 10)  /* 415: unsupported media type */
#define SD_ENOUSER       (SD_ESTART + 11)  /* 403: user not in the directory */
#define SD_EINTERNAL     (SD_ESTART + 12)  /* 500: a bug or a broken database */
#define SD_EUNAUTH       (SD_ESTART + 13)  /* 401: no authenticated user */
#define SD_ENOMETHOD     (SD_ESTART + 14)  /* 405: path exists, method does not */

/* Vocabulary. Order matters: index values are stored nowhere (the database
 * keeps the words), but the priority matrix and SLA tables index by them. */
typedef enum {
    SD_URG_PATIENT_SAFETY = 0,
    SD_URG_JOB_STOPPED,
    SD_URG_FUNCTION_AFFECTED,
    SD_URG_NOT_BLOCKING,
    SD_URG_COUNT
} sd_urgency_e;

typedef enum {
    SD_IMPACT_SINGLE = 0,
    SD_IMPACT_MULTIPLE,
    SD_IMPACT_ALL,
    SD_IMPACT_COUNT
} sd_impact_e;

typedef enum {
    SD_PRIO_CRITICAL = 0,
    SD_PRIO_URGENT,
    SD_PRIO_HIGH,
    SD_PRIO_NORMAL,
    SD_PRIO_COUNT
} sd_priority_e;

typedef enum {
    SD_ST_NEW = 0,
    SD_ST_OPEN,
    SD_ST_PENDING,
    SD_ST_RESOLVED,
    SD_ST_CLOSED,
    SD_ST_COUNT
} sd_status_e;

typedef enum {
    SD_ENV_PRODUCTION = 0,
    SD_ENV_TEST,
    SD_ENV_TRAINING,
    SD_ENV_COUNT
} sd_env_e;

#define SD_TIER_MIN 1
#define SD_TIER_MAX 4

/* Role bits of a directory user. Every user found is a reporter. */
#define SD_ROLE_REPORTER 0x01
#define SD_ROLE_AGENT    0x02
#define SD_ROLE_ADMIN    0x04

/* Default limits (API.md "Limits"); the glue overrides them from directives. */
#define SD_DEF_MAX_BODY        (64 * 1024)
#define SD_DEF_MAX_DEPTH       32
#define SD_DEF_MAX_SUBJECT     200
#define SD_DEF_MAX_DESCRIPTION 20000
#define SD_DEF_MAX_FIELD       200      /* service, encounter id, device fields */
#define SD_DEF_MAX_URL         2048
#define SD_DEF_MAX_CC          20
#define SD_DEF_MAX_CONTEXT     20       /* keys in the context object */
#define SD_DEF_MAX_CONTEXT_VAL 1000
#define SD_DEF_PAGE_LIMIT      25
#define SD_MAX_PAGE_LIMIT      100
#define SD_MAX_CATEGORIES      64

/* Limits as the glue resolved them from configuration; read-only. */
typedef struct {
    apr_size_t max_body;
    int max_depth;
    int max_subject;        /* characters (code points), not bytes */
    int max_description;
    int max_field;
    int max_url;
    int max_cc;
    int max_context;
    int max_context_val;
} sd_limits_t;

/* Word <-> enum helpers; *_from_str return -1 for an unknown word. */
const char *sd_urgency_str(int u);
int sd_urgency_from_str(const char *s);
const char *sd_impact_str(int i);
int sd_impact_from_str(const char *s);
const char *sd_priority_str(int p);
int sd_priority_from_str(const char *s);
const char *sd_status_str(int s);
int sd_status_from_str(const char *s);
const char *sd_env_str(int e);
int sd_env_from_str(const char *s);

/* A short, stable name for one of our status codes (for logs). */
const char *sd_status_name(apr_status_t rv);

void sd_limits_default(sd_limits_t *l);

#endif /* SD_H */
