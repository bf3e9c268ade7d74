/* Background work through mod_watchdog, each a singleton per httpd instance
 * (not per child): the SLA scan (breaches, tickets to close) and, with
 * SdeskMailer, mail delivery from the outbox. Both are safe on several
 * servers at once: each change is made by whichever commits first, each
 * outbox row is claimed before it is sent. */
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>
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
#include "sdesk_hooks.h"
#include "sd_desk.h"
#include "sd_log.h"
#include "sd_outbox.h"

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

/* ---- the frame of a job: a connection, and a child that waits for us ---------- */

typedef struct job_t job_t;
typedef apr_status_t job_fn(job_t *job);

struct job_t {
    server_rec *s;
    sdesk_srv_conf_t *sc;
    apr_pool_t *p;
    sd_db_t *db;
    const char *name;         /* for the logs */
};

static int stop_asked(void *baton)
{
    (void)baton;
    return apr_atomic_read32(&stopping) != 0;
}

/* Run fn with a database connection of s, unless the child is exiting.
 * Errors are logged here; a failed run is tried again next time. */
static apr_status_t run_job(int state, server_rec *s, apr_pool_t *pool, const char *name,
                            job_fn *fn)
{
    job_t job;
    ap_dbd_t *dbd;
    apr_status_t rv;

    if (state != AP_WATCHDOG_STATE_RUNNING || !dbd_open || !dbd_close) return APR_SUCCESS;
    apr_atomic_inc32(&running);
    if (apr_atomic_read32(&stopping)) {
        apr_atomic_dec32(&running);
        return APR_SUCCESS;
    }
    job.s = s;
    job.sc = sdesk_config_srv(s);
    job.name = name;
    apr_pool_create(&job.p, pool);
    dbd = dbd_open(job.p, s);
    if (!dbd) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, SDLOGNO(00520)
                     "%s: no database connection, next time", name);
        goto leave;
    }
    rv = sd_store_open(&job.db, dbd->driver, dbd->handle, dbd->pool, sdesk_writelock, job.p);
    if (rv == APR_SUCCESS) {
        /* other modules hear of what the job commits (r is NULL for them) */
        sdesk_hooks_attach(job.db, s, NULL, job.p);
        rv = fn(&job);
    }
    if (rv != APR_SUCCESS && rv != SD_EBUSY && rv != SD_EUNAVAILABLE) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, SDLOGNO(00521) "%s failed", name);
    }
    dbd_close(s, dbd);
leave:
    apr_pool_destroy(job.p);
    apr_atomic_dec32(&running);
    return APR_SUCCESS;
}

/* ---- the SLA scan ------------------------------------------------------------------ */

static apr_status_t sla_job(job_t *job)
{
    int breaches = 0, closed = 0;
    return sd_desk_sla_scan(&breaches, &closed, job->db, job->sc->desk,
                            (apr_int64_t)apr_time_sec(apr_time_now()), job->p);
}

static apr_status_t sla_scan(int state, void *data, apr_pool_t *pool)
{
    return run_job(state, data, pool, "SLA scan", sla_job);
}

/* ---- mail delivery ---------------------------------------------------------------- */

/* Seconds the mailer may take for one message. */
#define MAILER_TIMEOUT 20

/* Fixed at start-up (pconf), read-only afterwards. */
static sd_outbox_conf_t mail_conf;

typedef struct {
    server_rec *s;
    apr_hash_t *agents;       /* "tier|tenant" -> apr_array_header_t *, for one run */
} mail_run_t;

static apr_status_t tier_agents(apr_array_header_t **agents, void *baton, const char *tenant,
                                int tier, apr_pool_t *p)
{
    mail_run_t *run = baton;
    sdesk_srv_conf_t *sc = sdesk_config_srv(run->s);
    const char *key = apr_psprintf(apr_hash_pool_get(run->agents), "%d|%s", tier, tenant);
    apr_status_t rv;

    if ((*agents = apr_hash_get(run->agents, key, APR_HASH_KEY_STRING))) return APR_SUCCESS;
    if (!sc->dir) return SD_EUNAVAILABLE;       /* the child is not ready yet */
    rv = sd_dir_tier_agents(agents, sc->dir, tenant, tier, apr_hash_pool_get(run->agents));
    if (rv == APR_SUCCESS) apr_hash_set(run->agents, key, APR_HASH_KEY_STRING, *agents);
    (void)p;
    return rv;
}

static apr_status_t send_mail(const char **err, void *baton, const char *msg, apr_size_t len,
                              apr_pool_t *p)
{
    sdesk_srv_conf_t *sc = baton;
    return sd_mail_run(err, (const char *const *)sc->mailer_argv, msg, len,
                       apr_time_from_sec(MAILER_TIMEOUT), stop_asked, NULL, p);
}

static apr_status_t mail_job(job_t *job)
{
    sd_outbox_conf_t c = mail_conf;
    sd_outbox_stats_t st;
    mail_run_t run;

    run.s = job->s;
    run.agents = apr_hash_make(job->p);
    c.agents_baton = &run;
    c.send_baton = job->sc;
    return sd_outbox_deliver(&st, job->db, &c, (apr_int64_t)apr_time_sec(apr_time_now()),
                             job->p);
}

static apr_status_t mail_delivery(int state, void *data, apr_pool_t *pool)
{
    return run_job(state, data, pool, "mail delivery", mail_job);
}

/* Links in mail: SdeskPublicURL, else this server's name and the desk's
 * location (plain http unless ServerName says https://). */
static const char *link_base(server_rec *s, const char *desk_base, apr_pool_t *p)
{
    sdesk_srv_conf_t *sc = sdesk_config_srv(s);
    const char *scheme;
    if (sc->public_url) return sc->public_url;
    if (!s->server_hostname || !desk_base) return NULL;
    scheme = s->server_scheme ? s->server_scheme : "http";
    if (!s->port || (s->port == 80 && !strcmp(scheme, "http"))
        || (s->port == 443 && !strcmp(scheme, "https")))
        return apr_psprintf(p, "%s://%s%s", scheme, s->server_hostname, desk_base);
    return apr_psprintf(p, "%s://%s:%u%s", scheme, s->server_hostname, (unsigned)s->port,
                        desk_base);
}

static void mail_conf_init(server_rec *s, const char *desk_base, apr_pool_t *pconf)
{
    sdesk_srv_conf_t *sc = sdesk_config_srv(s);
    sd_outbox_conf_default(&mail_conf);
    mail_conf.lang = "en";
    mail_conf.link_base = link_base(s, desk_base, pconf);
    mail_conf.from = sc->mail_from;
    /* Message-IDs in the sender's domain, else this server's name */
    mail_conf.msgid_domain = sc->mail_from ? strchr(sc->mail_from, '@') + 1
                                           : s->server_hostname;
    mail_conf.agents = tier_agents;
    mail_conf.send = send_mail;
    mail_conf.stop = stop_asked;
    /* the first retry at the next run but one, then doubling up to an hour */
    mail_conf.retry_base = sc->mail_interval_s;
    /* a claimed row is ours for longer than the mailer may take */
    mail_conf.lease = MAILER_TIMEOUT * 3 + sc->mail_interval_s;
}

/* ---- registration ----------------------------------------------------------------- */

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_cb;

/* A watchdog of its own for cb: in a child process (parent=0), one child
 * at a time (singleton=1). */
static apr_status_t register_job(const char *name, int interval_s, server_rec *s,
                                 ap_watchdog_callback_fn_t *cb, apr_pool_t *pconf)
{
    ap_watchdog_t *wd;
    apr_status_t rv = get_instance(&wd, name, 0, 1, pconf);
    if (rv == APR_SUCCESS) rv = register_cb(wd, apr_time_from_sec(interval_s), s, cb);
    return rv;
}

apr_status_t sdesk_watchdog_init(apr_pool_t *pconf, server_rec *s, const char *desk_base)
{
    sdesk_srv_conf_t *sc = sdesk_config_srv(s);
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
    rv = register_job("sdesk-sla", sc->scan_interval_s, s, sla_scan, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, SDLOGNO(00523)
                     "cannot register the SLA scan with mod_watchdog");
        return rv;
    }
    if (!sc->mailer) return APR_SUCCESS;
    /* a watchdog of its own: a slow mailer never delays the SLA scan */
    mail_conf_init(s, desk_base, pconf);
    rv = register_job("sdesk-mail", sc->mail_interval_s, s, mail_delivery, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, SDLOGNO(00720)
                     "cannot register the mail delivery with mod_watchdog");
        return rv;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, SDLOGNO(00721)
                 "mail delivery every %d s through %s; links to %s", sc->mail_interval_s,
                 sc->mailer, mail_conf.link_base ? mail_conf.link_base : "(none)");
    return APR_SUCCESS;
}
