/* Query strings of API requests: strict parsing into a table. Every name
 * must be allowed, appear once, and decode (percent-encoding, '+') to valid
 * UTF-8 without control characters. An empty value ("q=") means the
 * parameter is not given. SD_EMALFORMED with a clear detail. */
#ifndef SD_QUERY_H
#define SD_QUERY_H

#include <apr_tables.h>
#include "sd.h"
#include "sd_problem.h"

#define SD_QUERY_MAX_LEN   4096   /* whole query string, bytes */
#define SD_QUERY_MAX_VALUE 1000   /* one decoded value, bytes */

/* allowed: NULL-terminated list of names. *pt holds decoded names/values. */
apr_status_t sd_query_parse(apr_table_t **pt, const char *qs, const char *const *allowed,
                            sd_problem_t *prob, apr_pool_t *p);

/* A decimal integer in [min, max]; anything else (sign, spaces, exponent,
 * empty, overflow) is rejected. */
int sd_query_int(apr_int64_t *v, const char *s, apr_int64_t min, apr_int64_t max);

/* 1 if s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
int sd_utf8_valid(const char *s, apr_size_t len);

#endif /* SD_QUERY_H */
