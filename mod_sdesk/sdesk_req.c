/* Per-request context. See sdesk_req.h. */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include <apr_dbd.h>
#include "mod_dbd.h"

#include "sdesk_req.h"
#include "sdesk_http.h"
#include "sdesk_hooks.h"

APLOG_USE_MODULE(sdesk);

sdesk_dbd_acquire_fn *sdesk_dbd_acquire;
const sd_store_writelock_t *sdesk_writelock;

/* Another user (an assignee), through the same cached directory. */
static apr_status_t lookup_user(sd_user_t **pu, void *baton, const char *user, apr_pool_t *p)
{
    return sd_dir_lookup(pu, baton, user, p);
}

sdesk_req_t *sdesk_req_make(request_rec *r)
{
    sdesk_req_t *rq = apr_pcalloc(r->pool, sizeof(*rq));
    rq->r = r;
    rq->sc = sdesk_config_srv(r->server);
    sd_problem_init(&rq->prob, r->pool);
    return rq;
}

apr_status_t sdesk_req_user(sdesk_req_t *rq)
{
    apr_status_t rv;
    if (!rq->sc->dir) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, rq->r, SDLOGNO(00500)
                      "no directory for this server: set %s", SDESK_DIR_URL);
        return sd_problem_set(&rq->prob, SD_EUNAVAILABLE, SD_PT_DIR_DOWN,
                              "The user directory is not configured.");
    }
    rv = sd_dir_lookup(&rq->user, rq->sc->dir, rq->r->user, rq->r->pool);
    if (rv == SD_ENOUSER)
        return sd_problem_set(&rq->prob, rv, SD_PT_NO_USER,
                              "Your account is not in the directory this support desk uses "
                              "(or has no organisation). Please contact your IT service desk.");
    if (rv != APR_SUCCESS)
        return sd_problem_set(&rq->prob, SD_EUNAVAILABLE, SD_PT_DIR_DOWN,
                              "The user directory cannot be reached right now. "
                              "Please try again in a moment.");
    rq->actor.user = rq->user;
    rq->actor.lookup = lookup_user;
    rq->actor.lookup_baton = rq->sc->dir;
    rq->actor.conf = rq->sc->desk;
    rq->actor.now = (apr_int64_t)apr_time_sec(apr_time_now());
    return APR_SUCCESS;
}

apr_status_t sdesk_req_db(sdesk_req_t *rq)
{
    ap_dbd_t *dbd = sdesk_dbd_acquire ? sdesk_dbd_acquire(rq->r) : NULL;
    apr_status_t rv;
    if (!dbd) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, rq->r, SDLOGNO(00501)
                      "no database connection from mod_dbd");
        return sd_problem_set(&rq->prob, SD_EUNAVAILABLE, SD_PT_DB_DOWN,
                              "The support desk database is unavailable. "
                              "Please try again in a moment.");
    }
    rv = sd_store_open(&rq->db, dbd->driver, dbd->handle, dbd->pool, sdesk_writelock,
                       rq->r->pool);
    if (rv == SD_EBUSY)
        return sd_problem_set(&rq->prob, rv, SD_PT_DB_BUSY,
                              "The support desk database is busy. Please try again.");
    if (rv != APR_SUCCESS)
        return sd_problem_set(&rq->prob, SD_EUNAVAILABLE, SD_PT_DB_DOWN,
                              "The support desk database is unavailable. "
                              "Please try again in a moment.");
    /* other modules hear of what this request commits */
    sdesk_hooks_attach(rq->db, rq->r->server, rq->r, rq->r->pool);
    return APR_SUCCESS;
}

void sdesk_req_prob_defaults(sdesk_req_t *rq, apr_status_t rv)
{
    if (rv == SD_EBUSY && !rq->prob.type) {
        rq->prob.type = SD_PT_DB_BUSY;
        rq->prob.detail = "The support desk database is busy. Please try again.";
    }
    else if (rv == SD_EUNAVAILABLE && !rq->prob.type && rq->db && rq->db->unwritable) {
        rq->prob.type = SD_PT_DB_DOWN;
        rq->prob.detail = "The support desk database cannot store changes right now (it is "
                          "read-only or its disk is full); nothing was saved. Reading still "
                          "works. Please try again later.";
    }
    else if (rv == SD_EUNAVAILABLE && !rq->prob.type) {
        rq->prob.type = SD_PT_DB_DOWN;
        rq->prob.detail = "The support desk database is unavailable. Please try again in a moment.";
    }
    else if (sd_problem_http_status(rv) == HTTP_INTERNAL_SERVER_ERROR && !rq->prob.detail) {
        rq->prob.type = SD_PT_INTERNAL;
        rq->prob.detail = "Something went wrong on the server; it has been logged.";
    }
}

int sdesk_req_fail(sdesk_req_t *rq, apr_status_t rv)
{
    sdesk_req_prob_defaults(rq, rv);
    return sdesk_problem(rq->r, rv, &rq->prob, rq->sc->retry_after_s);
}
