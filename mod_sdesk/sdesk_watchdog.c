/* Background work through mod_watchdog: one singleton callback per httpd
 * instance (not per child) scans for SLA breaches and tickets to close.
 * Idempotent: several servers on one PostgreSQL may scan at the same time;
 * each change is made by whichever commits first. */
#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_dbd.h>
#include <apr_atomic.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "mod_dbd.h"
#include "mod_watchdog.h"

#include "sdesk_watchdog.h"
#include "sdesk_config.h"
#include "sdesk_req.h"
#include "sd_desk.h"
#include "sd_log.h"

APLOG_USE_MODULE(sdesk);

static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

/* When a child exits, its pool's subpools (mod_dbd's connections among
 * them) are destroyed before mod_watchdog joins its thread in a plain
 * cleanup: a scan still running then would use freed connections. A
 * pre-cleanup stops new scans and waits (bounded) for the running one.
 * Plain atomics: nothing here may be freed while the thread still runs. */
static volatile apr_uint32_t stopping, running;

static apr_status_t stop_scans(void *data)
{
    int i;
    (void)data;
    apr_atomic_set32(&stopping, 1);
    for (i = 0; i < 1000 && apr_atomic_read32(&running); ++i)
        apr_sleep(apr_time_from_msec(10));
    return APR_SUCCESS;
}

void sdesk_watchdog_child_init(apr_pool_t *pchild)
{
    apr_atomic_set32(&stopping, 0);
    apr_pool_pre_cleanup_register(pchild, NULL, stop_scans);
}

static apr_status_t sla_scan(int state, void *data, apr_pool_t *pool)
{
    server_rec *s = data;
    sdesk_srv_conf_t *sc = sdesk_config_srv(s);
    apr_pool_t *p;
    ap_dbd_t *dbd;
    sd_db_t *db;
    apr_status_t rv;
    int breaches = 0, closed = 0;

    if (state != AP_WATCHDOG_STATE_RUNNING || !dbd_open || !dbd_close) return APR_SUCCESS;
    apr_atomic_inc32(&running);
    if (apr_atomic_read32(&stopping)) {
        apr_atomic_dec32(&running);
        return APR_SUCCESS;
    }
    apr_pool_create(&p, pool);
    dbd = dbd_open(p, s);
    if (!dbd) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, SDLOGNO(00520)
                     "SLA scan: no database connection, next time");
        goto leave;
    }
    rv = sd_store_open(&db, dbd->driver, dbd->handle, dbd->pool, sdesk_writelock, p);
    if (rv == APR_SUCCESS)
        rv = sd_desk_sla_scan(&breaches, &closed, db, sc->desk,
                              (apr_int64_t)apr_time_sec(apr_time_now()), p);
    if (rv != APR_SUCCESS && rv != SD_EBUSY && rv != SD_EUNAVAILABLE) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, SDLOGNO(00521) "SLA scan failed");
    }
    dbd_close(s, dbd);
leave:
    apr_pool_destroy(p);
    apr_atomic_dec32(&running);
    return APR_SUCCESS;          /* a failed scan is tried again at the next interval */
}

apr_status_t sdesk_watchdog_init(apr_pool_t *pconf, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_cb;
    sdesk_srv_conf_t *sc = sdesk_config_srv(s);
    ap_watchdog_t *wd;
    apr_status_t rv;

    get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    register_cb = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!get_instance || !register_cb) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, SDLOGNO(00522)
                     "mod_sdesk needs mod_watchdog for its SLA scan (built into Debian's "
                     "apache2; elsewhere LoadModule watchdog_module)");
        return APR_ENOTIMPL;
    }
    /* child process (parent=0), one of them at a time (singleton=1) */
    rv = get_instance(&wd, "sdesk-sla", 0, 1, pconf);
    if (rv == APR_SUCCESS)
        rv = register_cb(wd, apr_time_from_sec(sc->scan_interval_s), s, sla_scan);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, SDLOGNO(00523)
                     "cannot register the SLA scan with mod_watchdog");
    }
    return rv;
}
