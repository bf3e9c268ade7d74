/* The outbox: events waiting to be told, written in the same transaction as
 * the change (sd_desk), delivered here as mail, at least once.
 *
 * A row is claimed before it is sent (attempts + 1 and next_attempt_at moved
 * a lease ahead, in one versioned UPDATE that only one server or child can
 * win), marked delivered after the mailer succeeded, and otherwise retried
 * with exponential backoff. A server that dies between sending and marking
 * sends again after the lease: at least once, never twice after a recorded
 * success. Who gets what:
 *   ticket.created, ticket.status, ticket.reopened, ticket.reply (an agent's
 *   public comment): the reporter, with the ticket's cc;
 *   ticket.urgent (a new urgent or critical ticket), ticket.sla_breached:
 *   the agents of the ticket's tier in its tenant (from the directory).
 * Other kinds (assignment, tier, reporters' comments...) are marked
 * delivered without mail. The delivery job reads across tenants (it is the
 * server's job, like the SLA scan); every write names the row's tenant.
 * Never does: compose texts (sd_mail), run processes itself (the caller's
 * send function does, usually through sd_mail_run). */
#ifndef SD_OUTBOX_H
#define SD_OUTBOX_H

#include "sd.h"
#include "sd_store.h"
#include "sd_mail.h"

/* The agents (sd_user_t) of tier in tenant; SD_EUNAVAILABLE: ask later. */
typedef apr_status_t sd_outbox_agents_fn(apr_array_header_t **agents, void *baton,
                                         const char *tenant, int tier, apr_pool_t *p);
/* Hand one message to the mailer. APR_SUCCESS when it took it; else *err
 * (in p) says why, and the row is tried again later. */
typedef apr_status_t sd_outbox_send_fn(const char **err, void *baton, const char *msg,
                                       apr_size_t len, apr_pool_t *p);

typedef struct {
    const char *lang;              /* catalogue language; NULL: English */
    const char *link_base;         /* ticket page = link_base + "/tickets/" + id; NULL: none */
    const char *from;              /* From address, or NULL */
    const char *msgid_domain;      /* right side of Message-IDs; NULL: "sdesk.invalid" */
    sd_outbox_agents_fn *agents;
    void *agents_baton;
    sd_outbox_send_fn *send;
    void *send_baton;
    sd_mail_stop_fn *stop;         /* polled between rows; may be NULL */
    void *stop_baton;
    apr_int64_t retry_base;        /* seconds before the first retry; doubles each time */
    apr_int64_t retry_max;         /* the longest wait between two tries */
    int max_attempts;              /* then the row is given up (logged) */
    apr_int64_t lease;             /* seconds a claimed row is ours */
    apr_int64_t max_age;           /* older undelivered rows are dropped unsent; 0: never */
    int batch;                     /* rows looked at per run */
} sd_outbox_conf_t;

/* Defaults: retry after 60 s doubling up to 1 h, 10 attempts, lease 300 s,
 * rows older than 3 days dropped, 100 rows per run. */
void sd_outbox_conf_default(sd_outbox_conf_t *c);

typedef struct {
    int sent;                 /* handed to the mailer */
    int skipped;              /* nothing to send (kind without mail, no recipients) */
    int failed;               /* the mailer or the directory failed: retried later */
    int expired;              /* too old: dropped unsent */
    int gave_up;              /* failed for the last allowed time */
} sd_outbox_stats_t;

/* Deliver the rows due at now. Returns the database's status (a row the
 * mailer refused is not an error: it is retried); *st counts what happened. */
apr_status_t sd_outbox_deliver(sd_outbox_stats_t *st, sd_db_t *db, const sd_outbox_conf_t *c,
                               apr_int64_t now, apr_pool_t *p);

#endif /* SD_OUTBOX_H */
