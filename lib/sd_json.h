/* JSON at the edge: parse request bodies under size and depth limits, check
 * them against strict field tables, own jansson values through pools.
 *
 * Ownership: every json_t * this area returns is already bound to the pool
 * passed in (sd_json_own); callers never json_decref it. Never dump or deep
 * copy a value straight from a request (jansson 2.14 does not limit the depth
 * of those); validate into our own structs first. */
#ifndef SD_JSON_H
#define SD_JSON_H

#include <jansson.h>
#include "sd.h"
#include "sd_problem.h"

/* Call once per process before any other jansson call (json_object_seed). */
void sd_json_init(void);

/* Bind j's reference to p: json_decref runs when p is cleared. Returns j. */
json_t *sd_json_own(apr_pool_t *p, json_t *j);

/* Parse buf[0..len) as one JSON object.
 * SD_ETOOBIG      len > lim->max_body
 * SD_EMALFORMED   not JSON, invalid UTF-8, duplicate keys, \u0000, nesting
 *                 deeper than lim->max_depth, or the top level is not an object;
 *                 prob->detail says what and where (line/column).
 * On success *pj is owned by p. */
apr_status_t sd_json_parse_object(json_t **pj, const char *buf, apr_size_t len,
                                  const sd_limits_t *lim, sd_problem_t *prob, apr_pool_t *p);

/* Depth of a value: a scalar is 0, [] and {} are 1, [[1]] is 2. */
int sd_json_depth(const json_t *j);

typedef enum {
    SD_JT_STRING = 0,  /* a string */
    SD_JT_TEXT,        /* a string that may hold line breaks and tabs */
    SD_JT_BOOL,
    SD_JT_INT,
    SD_JT_OBJECT,
    SD_JT_ARRAY
} sd_json_type_e;

#define SD_JF_REQUIRED  0x01   /* must be present (and, for strings, not blank) */
#define SD_JF_NULLABLE  0x02   /* null is accepted and means "none" */

typedef struct {
    const char *name;
    int type;          /* SD_JT_* */
    int flags;         /* SD_JF_* */
    int max;           /* strings: characters (code points); arrays: items;
                          objects: members; 0: no limit */
} sd_json_field_t;

/* Check obj against the table: every member must be in the table (unknown
 * members are errors, never ignored), of its type; required ones present and
 * not blank; strings within max characters and free of control characters
 * (SD_JT_TEXT allows \t \n \r). Field errors go to prob with names prefixed
 * by `prefix` ("device." for a nested object; "" at top level).
 * Returns APR_SUCCESS or SD_EINVALID (all errors collected, not just the first). */
apr_status_t sd_json_check(const json_t *obj, const sd_json_field_t *table, apr_size_t n,
                           const char *prefix, sd_problem_t *prob);

/* prefix + key as a field name for a problem: a client's key longer than
 * 64 bytes is cut at a character boundary and ends in "...", so a huge key
 * does not come back in an error body. In p. */
const char *sd_json_echo_name(const char *prefix, const char *key, apr_pool_t *p);

/* A string member or NULL when absent or null. Borrowed from obj. */
const char *sd_json_str(const json_t *obj, const char *name);

/* Number of Unicode code points in valid UTF-8 s (jansson guarantees
 * validity for parsed strings). */
apr_size_t sd_utf8_chars(const char *s);
/* 1 if s holds a control character (C0, DEL, C1); with allow_space, \t \n \r
 * are allowed. */
int sd_utf8_has_control(const char *s, int allow_space);
/* 1 if s is empty or only white space. */
int sd_str_blank(const char *s);

/* Serialise j compactly into p (UTF-8, keys in insertion order). */
const char *sd_json_dump(const json_t *j, apr_pool_t *p);

#endif /* SD_JSON_H */
