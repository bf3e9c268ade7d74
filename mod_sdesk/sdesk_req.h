/* Per-request context: configuration, user from the directory, database
 * handle (acquired late: after the body is read and validated). */
#ifndef SDESK_REQ_H
#define SDESK_REQ_H

#include "httpd.h"
#include <apr_dbd.h>
#include "mod_dbd.h"
#include "sdesk_config.h"
#include "sd_desk.h"
#include "sd_log.h"

typedef struct {
    request_rec *r;
    sdesk_srv_conf_t *sc;
    const char *base;         /* {base} of this location */
    const char *path;         /* r->uri after {base} */
    apr_int64_t id;           /* first {id} of the route, 0 if none */
    apr_int64_t id2;          /* second {id} (an attachment), 0 if none */
    sd_user_t *user;
    sd_actor_t actor;
    sd_problem_t prob;
    sd_db_t *db;
} sdesk_req_t;

/* A context for r (in r->pool): configuration and an empty problem. */
sdesk_req_t *sdesk_req_make(request_rec *r);
/* Resolve the user through the directory and make them the actor (at the
 * time of the call, under the server's desk configuration).
 * SD_ENOUSER / SD_EUNAVAILABLE. */
apr_status_t sdesk_req_user(sdesk_req_t *rq);
/* Acquire a connection from mod_dbd and wrap it, with the hooks of other
 * modules attached to its commits. SD_EUNAVAILABLE / SD_EBUSY. */
apr_status_t sdesk_req_db(sdesk_req_t *rq);

/* Give rq->prob the type and detail rv calls for where the code that
 * failed left them unset (busy, unavailable, internal error). */
void sdesk_req_prob_defaults(sdesk_req_t *rq, apr_status_t rv);
/* Render rv with rq->prob and return OK. */
int sdesk_req_fail(sdesk_req_t *rq, apr_status_t rv);

/* Set by mod_sdesk.c from the optional function mod_dbd provides. */
typedef ap_dbd_t *(sdesk_dbd_acquire_fn)(request_rec *r);
extern sdesk_dbd_acquire_fn *sdesk_dbd_acquire;
extern const sd_store_writelock_t *sdesk_writelock;

#endif /* SDESK_REQ_H */
