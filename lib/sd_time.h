/* Time at the JSON edge: RFC 3339 in UTC with seconds ("2026-11-22T10:15:00Z").
 * Inside, times are apr_time_t (UTC); the database keeps Unix seconds. */
#ifndef SD_TIME_H
#define SD_TIME_H

#include "sd.h"

/* "YYYY-MM-DDTHH:MM:SSZ" in p; sub-second parts are dropped (towards the past).
 * NULL if the year falls outside 0000..9999 (RFC 3339 has four-digit years). */
const char *sd_time_rfc3339(apr_time_t t, apr_pool_t *p);
/* Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)" and "YYYY-MM-DD"
 * (midnight UTC). APR_SUCCESS or SD_EMALFORMED. */
apr_status_t sd_time_parse(apr_time_t *t, const char *s);
/* Unix seconds <-> apr_time_t. */
#define sd_time_from_sec(s) ((apr_time_t)(s) * APR_USEC_PER_SEC)
#define sd_time_sec(t)      ((apr_int64_t)apr_time_sec(t))

#endif /* SD_TIME_H */
