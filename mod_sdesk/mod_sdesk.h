/* mod_sdesk public header: what other modules on the same server may use.
 *
 * Installed next to httpd's headers by `make install`. Two parts:
 *
 * 1. Optional functions (the in-process API): file a ticket for the user of
 *    the current request, and look up known issues for a text. They follow
 *    the HTTP API's rules exactly (API.md): the same validation and limits,
 *    the user resolved through the directory, the tenant and role rules,
 *    one transaction per ticket, the same hooks and outbox rows. Fetch them
 *    in an optional_fn_retrieve hook:
 *
 *        static APR_OPTIONAL_FN_TYPE(sdesk_ticket_file) *file_ticket;
 *        static void retrieve(void) {
 *            file_ticket = APR_RETRIEVE_OPTIONAL_FN(sdesk_ticket_file);
 *        }
 *
 *    A NULL pointer means mod_sdesk is not loaded. Unlike the HTTP API they
 *    make no same-origin check: the calling module answers for its own
 *    requests (a state-changing form should carry its own CSRF protection).
 *
 * 2. Hooks (events another module can implement, e.g. a notifier):
 *
 *        sdesk_hook_ticket_created(my_created, NULL, NULL, APR_HOOK_MIDDLE);
 *
 *    in the module's register_hooks. Every hook runs after the change has
 *    committed, in the process that made it, before the response is sent.
 *    Every implementation is called, whatever the others return: OK or
 *    DECLINED are normal, any other value is logged (warning) and ignored,
 *    so a hook can never undo or fail the change or the request that made
 *    it. The data is read-only and lives in p, which is cleared after the
 *    hook returns: copy what you keep. r is NULL for changes made by the
 *    background job (SLA breaches, automatic closing), s is then the main
 *    server. A hook should be quick: the request waits for it.
 *
 * Link against nothing: the hook registration functions are exported by
 * mod_sdesk.so, which must be loaded (LoadModule) before the module using
 * them; httpd loads modules with global symbols. */
#ifndef MOD_SDESK_H
#define MOD_SDESK_H

#include "httpd.h"
#include <apr_hooks.h>
#include <apr_optional.h>
#include <apr_tables.h>

#define MOD_SDESK_VERSION "0.1.0"

/* The handler name: <Location /sdesk> SetHandler sdesk </Location> */
#define SDESK_HANDLER "sdesk"

/* The widget filter: SdeskWidget On adds it (SetOutputFilter works too). */
#define SDESK_WIDGET_FILTER "SDESK_WIDGET"

#define SDESK_DECLARE(type) type
#define SDESK_DECLARE_NONSTD(type) type
#define SDESK_DECLARE_DATA

/* ---- data ------------------------------------------------------------------------- */

/* A ticket as hooks see it. Strings are NULL when absent. */
typedef struct sdesk_ticket_info {
    apr_int64_t id;
    const char *key;               /* "SD-42" */
    const char *tenant;
    const char *subject;
    const char *category;
    const char *priority;          /* critical, urgent, high, normal */
    const char *status;            /* new, open, pending, resolved, closed */
    int tier;                      /* 1..4 */
    const char *reporter;          /* user id */
    const char *assignee;          /* user id */
    const char *service;
    const char *encounter_id;
    const char *device_id;
    const char *page_url;
    apr_int64_t known_issue_id;    /* 0: none */
    apr_time_t created_at, updated_at;
    apr_time_t response_due_at, resolution_due_at;   /* 0: none */
    int version;                   /* the ETag's version */
} sdesk_ticket_info_t;

/* One entry of a ticket's audit trail. */
typedef struct sdesk_event_info {
    apr_int64_t id;
    const char *kind;              /* status, priority, category, assignee, tier, cc,
                                      description, comment, attachment, escalated, reopened,
                                      linked, unlinked, resolved-with-known-issue,
                                      sla-breached */
    const char *field;             /* e.g. "status"; comments: "public" or "internal";
                                      sla-breached: "response" or "resolution" */
    const char *old_value;
    const char *new_value;         /* comments: the comment's id; sla-breached: the
                                      missed due time (RFC 3339) */
    const char *actor;             /* user id, or "system" */
    apr_time_t at;
} sdesk_event_info_t;

typedef struct sdesk_known_issue_info {
    apr_int64_t id;
    const char *tenant;            /* NULL for a global issue */
    const char *title;
    int resolved_tickets;          /* active linked tickets it resolved */
    const char *actor;
    apr_time_t at;
} sdesk_known_issue_info_t;

/* ---- hooks --------------------------------------------------------------------------- */

/* A ticket was filed (HTTP API, in-process API). */
APR_DECLARE_EXTERNAL_HOOK(sdesk, SDESK, int, ticket_created,
                          (server_rec *s, request_rec *r, const sdesk_ticket_info_t *t,
                           apr_pool_t *p))
/* A ticket changed: once per audit event (a PATCH of status and priority is
 * two calls), t as it is after the whole change. Also called for the
 * events that have hooks of their own below. */
APR_DECLARE_EXTERNAL_HOOK(sdesk, SDESK, int, ticket_changed,
                          (server_rec *s, request_rec *r, const sdesk_ticket_info_t *t,
                           const sdesk_event_info_t *ev, apr_pool_t *p))
/* A ticket went to the next tier (ev: old and new tier). */
APR_DECLARE_EXTERNAL_HOOK(sdesk, SDESK, int, ticket_escalated,
                          (server_rec *s, request_rec *r, const sdesk_ticket_info_t *t,
                           const sdesk_event_info_t *ev, apr_pool_t *p))
/* A response or resolution target was missed (background job: r is NULL). */
APR_DECLARE_EXTERNAL_HOOK(sdesk, SDESK, int, sla_breached,
                          (server_rec *s, request_rec *r, const sdesk_ticket_info_t *t,
                           const sdesk_event_info_t *ev, apr_pool_t *p))
/* A known issue was resolved (its linked tickets' own changes come as
 * ticket_changed calls first). */
APR_DECLARE_EXTERNAL_HOOK(sdesk, SDESK, int, known_issue_resolved,
                          (server_rec *s, request_rec *r, const sdesk_known_issue_info_t *ki,
                           apr_pool_t *p))

/* ---- in-process API -------------------------------------------------------------------- */

/* A ticket to file. Fields as in POST {base}/api/v1/tickets; NULL = absent.
 * subject, description and category are required, and either priority or
 * urgency and impact. */
typedef struct sdesk_new_ticket {
    const char *subject;
    const char *description;
    const char *category;
    const char *urgency, *impact;
    const char *priority;
    const char *environment;
    const char *service;
    const char *encounter_id;
    const char *device_id, *device_model, *device_os, *device_app_version;
    const char *page_url;
    const apr_array_header_t *cc;   /* const char * e-mail addresses, or NULL */
    const apr_table_t *context;     /* string values, or NULL */
} sdesk_new_ticket_t;

/* What a call came to: the status the HTTP API would have answered, and
 * either the ticket or the problem (RFC 9457) it would have sent. */
typedef struct sdesk_result {
    int status;                    /* 201 filed, 200 found; 400, 401, 403, 409, 413, 422,
                                      500, 503 as API.md says */
    apr_int64_t id;                /* the ticket filed */
    const char *key;               /* "SD-42" */
    const char *problem_type;      /* "urn:mod-sdesk:problem:invalid-fields" */
    const char *title;
    const char *detail;
    const char *problem_json;      /* the whole problem document */
} sdesk_result_t;

/* File a ticket as r->user (401 without one). Everything is allocated in
 * r->pool. Returns res->status. Not callable from inside an sdesk hook
 * (409): a hook that files tickets could call itself for ever. */
int sdesk_ticket_file(request_rec *r, const sdesk_new_ticket_t *in, sdesk_result_t *res);
APR_DECLARE_OPTIONAL_FN(int, sdesk_ticket_file,
                        (request_rec *r, const sdesk_new_ticket_t *in, sdesk_result_t *res));

/* The same with a JSON object as the HTTP API takes it (json[0..len), UTF-8;
 * the API's size and depth limits apply; unknown members are a 422). */
int sdesk_ticket_file_json(request_rec *r, const char *json, apr_size_t len,
                           sdesk_result_t *res);
APR_DECLARE_OPTIONAL_FN(int, sdesk_ticket_file_json,
                        (request_rec *r, const char *json, apr_size_t len, sdesk_result_t *res));

/* A known issue that looks like the text. */
typedef struct sdesk_known_issue {
    apr_int64_t id;
    const char *title;
    const char *workaround;
    double score;                  /* higher is closer */
} sdesk_known_issue_t;

/* Active known issues of r->user's tenant and global ones that look like
 * text, best first, at most 5 (as GET {base}/api/v1/suggest's known_issues).
 * *found: sdesk_known_issue_t in r->pool (empty for a blank text). Returns
 * res->status: 200, or 401, 403, 503 with the problem. */
int sdesk_known_issues_find(request_rec *r, const char *text, apr_array_header_t **found,
                            sdesk_result_t *res);
APR_DECLARE_OPTIONAL_FN(int, sdesk_known_issues_find,
                        (request_rec *r, const char *text, apr_array_header_t **found,
                         sdesk_result_t *res));

#endif /* MOD_SDESK_H */
