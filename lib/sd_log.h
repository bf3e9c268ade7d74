/* Logging from lib/ through a callback the glue installs (mod_md's md_log
 * split). lib/ returns user-caused errors; it logs only what an operator must
 * know (a broken database, a directory outage). Never log descriptions,
 * comments, attachment bytes, bind passwords or patient context.
 *
 * Tags: SDLOGNO(n) gives "SDnnnnn: ". One tag per call site, never reused.
 * lib/ uses 00001-00499, mod_sdesk/ 00500-00999; blocks per area, e.g.
 * sd_outbox 00130-00139, hooks / in-process API / mail job / widget
 * 00700-00739 (grep for the highest in a block before adding).
 * `make check-lognos` fails on duplicates. */
#ifndef SD_LOG_H
#define SD_LOG_H

#include <apr_errno.h>
#include <apr_pools.h>

#define SDLOGNO(n) "SD" #n ": "
#define SD_LOG_MARK __FILE__, __LINE__

/* Same numbers as httpd's APLOG_* levels. */
typedef enum {
    SD_LOG_EMERG = 0, SD_LOG_ALERT, SD_LOG_CRIT, SD_LOG_ERR, SD_LOG_WARNING,
    SD_LOG_NOTICE, SD_LOG_INFO, SD_LOG_DEBUG, SD_LOG_TRACE1, SD_LOG_TRACE2
} sd_log_level_e;

typedef void sd_log_cb(void *baton, const char *file, int line, int level,
                       apr_status_t rv, const char *msg);
typedef int sd_log_level_cb(void *baton, int level);

/* Install the sink; NULL restores the default (stderr, warnings and worse). */
void sd_log_set(sd_log_cb *cb, sd_log_level_cb *level_cb, void *baton);
int sd_log_is_level(int level);
void sd_log(const char *file, int line, int level, apr_status_t rv, apr_pool_t *p,
            const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif /* SD_LOG_H */
