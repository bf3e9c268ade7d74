/* Logging from lib/ through one process-wide sink. The glue installs its sink
 * in post_config/child_init, before any request runs, and tests install a
 * recorder in their setup: the globals below are written only then, so they
 * need no lock. */
#include <stdarg.h>
#include <stdio.h>

#include <apr_strings.h>

#include "sd_log.h"

static const char *const level_names[] = {
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
    "trace1", "trace2"
};

/* Without a sink installed (a command-line tool, a test that installs
 * nothing) only what an operator must see gets through. */
static void default_sink(void *baton, const char *file, int line, int level,
                         apr_status_t rv, const char *msg)
{
    const char *lname = (level >= 0 && level <= SD_LOG_TRACE2) ? level_names[level] : "?";
    (void)baton;
    if (rv != APR_SUCCESS) {
        char err[256];
        apr_strerror(rv, err, sizeof(err));
        fprintf(stderr, "[sdesk:%s] %s:%d: %s (%d) %s\n", lname, file, line, err, rv, msg);
    }
    else {
        fprintf(stderr, "[sdesk:%s] %s:%d: %s\n", lname, file, line, msg);
    }
}

static int default_level(void *baton, int level)
{
    (void)baton;
    return level <= SD_LOG_WARNING;
}

static sd_log_cb *log_cb = default_sink;
static sd_log_level_cb *log_level_cb = default_level;
static void *log_baton;

void sd_log_set(sd_log_cb *cb, sd_log_level_cb *level_cb, void *baton)
{
    log_cb = cb ? cb : default_sink;
    log_level_cb = level_cb ? level_cb : default_level;
    log_baton = cb ? baton : NULL;
}

int sd_log_is_level(int level)
{
    return log_level_cb(log_baton, level);
}

void sd_log(const char *file, int line, int level, apr_status_t rv, apr_pool_t *p,
            const char *fmt, ...)
{
    va_list ap;
    const char *msg;
    char buf[2048];

    /* Check first: formatting a debug message nobody reads costs a pool
     * allocation per call on busy paths. */
    if (!sd_log_is_level(level)) return;

    va_start(ap, fmt);
    if (p) {
        msg = apr_pvsprintf(p, fmt, ap);
    }
    else {
        /* Without a pool (start-up, a cleanup) a truncated line beats none. */
        apr_vsnprintf(buf, sizeof(buf), fmt, ap);
        msg = buf;
    }
    va_end(ap);
    log_cb(log_baton, file, line, level, rv, msg);
}
