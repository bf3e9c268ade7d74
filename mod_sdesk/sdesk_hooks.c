/* Hooks for other modules (mod_sdesk.h): registration, and the runner that
 * the store calls after a commit. Every implementation runs, whatever the
 * others return; a result other than OK or DECLINED is logged and ignored. */
#include <string.h>
#include <apr_strings.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "mod_sdesk.h"
#include "sdesk_hooks.h"
#include "sd_desk.h"
#include "sd_log.h"

APLOG_USE_MODULE(sdesk);

APR_HOOK_STRUCT(
    APR_HOOK_LINK(ticket_created)
    APR_HOOK_LINK(ticket_changed)
    APR_HOOK_LINK(ticket_escalated)
    APR_HOOK_LINK(sla_breached)
    APR_HOOK_LINK(known_issue_resolved)
)

APR_IMPLEMENT_EXTERNAL_HOOK_BASE(sdesk, SDESK, ticket_created)
APR_IMPLEMENT_EXTERNAL_HOOK_BASE(sdesk, SDESK, ticket_changed)
APR_IMPLEMENT_EXTERNAL_HOOK_BASE(sdesk, SDESK, ticket_escalated)
APR_IMPLEMENT_EXTERNAL_HOOK_BASE(sdesk, SDESK, sla_breached)
APR_IMPLEMENT_EXTERNAL_HOOK_BASE(sdesk, SDESK, known_issue_resolved)

/* Set in r->notes while our hooks run for r. */
#define NOTE_IN_HOOK "sdesk-in-hook"

typedef struct {
    server_rec *s;
    request_rec *r;
    apr_pool_t *hp;           /* the hooks' pool, cleared before each call */
} ctx_t;

static int has(const apr_array_header_t *a)
{
    return a && a->nelts > 0;
}

static void failed(const ctx_t *ctx, const char *hook, const char *module, int rc)
{
    if (ctx->r)
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, ctx->r, SDLOGNO(00700)
                      "hook %s of %s returned %d; ignored (the change stands)", hook,
                      module ? module : "a module", rc);
    else
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, ctx->s, SDLOGNO(00701)
                     "hook %s of %s returned %d; ignored (the change stands)", hook,
                     module ? module : "a module", rc);
}

/* Call every implementation of hook `name` with `call_args`. */
#define RUN_ALL(name, call_args) do { \
        apr_array_header_t *hooks_ = _hooks.link_##name; \
        int i_; \
        for (i_ = 0; hooks_ && i_ < hooks_->nelts; ++i_) { \
            const sdesk_LINK_##name##_t *h_ = &APR_ARRAY_IDX(hooks_, i_, sdesk_LINK_##name##_t); \
            int rc_; \
            apr_pool_clear(ctx->hp); \
            rc_ = h_->pFunc call_args; \
            if (rc_ != OK && rc_ != DECLINED) failed(ctx, #name, h_->szName, rc_); \
        } \
    } while (0)

static void ticket_info(sdesk_ticket_info_t *ti, const sd_ticket_t *t, apr_pool_t *p)
{
    memset(ti, 0, sizeof(*ti));
    ti->id = t->id;
    ti->key = sd_ticket_key(t->id, p);
    ti->tenant = t->tenant;
    ti->subject = t->subject;
    ti->category = t->category;
    ti->priority = t->priority >= 0 ? sd_priority_str(t->priority) : NULL;
    ti->status = t->status >= 0 ? sd_status_str(t->status) : NULL;
    ti->tier = t->tier;
    ti->reporter = t->reporter;
    ti->assignee = t->assignee;
    ti->service = t->service;
    ti->encounter_id = t->encounter_id;
    ti->device_id = t->device_id;
    ti->page_url = t->page_url;
    ti->known_issue_id = t->known_issue_id;
    ti->created_at = apr_time_from_sec(t->created_at);
    ti->updated_at = apr_time_from_sec(t->updated_at);
    ti->response_due_at = t->response_due_at ? apr_time_from_sec(t->response_due_at) : 0;
    ti->resolution_due_at = t->resolution_due_at ? apr_time_from_sec(t->resolution_due_at) : 0;
    ti->version = t->version;
}

static void run_change(ctx_t *ctx, const sd_change_t *c, apr_pool_t *p)
{
    sdesk_ticket_info_t ti;
    sdesk_event_info_t ev;

    if (!c->ticket) {
        sdesk_known_issue_info_t ki;
        if (strcmp(c->event.kind, SD_CHANGE_KI_RESOLVED)) return;
        memset(&ki, 0, sizeof(ki));
        ki.id = c->ki_id;
        ki.tenant = c->ki_tenant && *c->ki_tenant ? c->ki_tenant : NULL;
        ki.title = c->ki_title;
        ki.resolved_tickets = c->ki_resolved;
        ki.actor = c->event.actor;
        ki.at = apr_time_from_sec(c->event.at);
        RUN_ALL(known_issue_resolved, (ctx->s, ctx->r, &ki, ctx->hp));
        return;
    }
    ticket_info(&ti, c->ticket, p);
    if (!strcmp(c->event.kind, "created")) {
        RUN_ALL(ticket_created, (ctx->s, ctx->r, &ti, ctx->hp));
        return;
    }
    memset(&ev, 0, sizeof(ev));
    ev.id = c->event.id;
    ev.kind = c->event.kind;
    ev.field = c->event.field;
    ev.old_value = c->event.old_value;
    ev.new_value = c->event.new_value;
    ev.actor = c->event.actor;
    ev.at = apr_time_from_sec(c->event.at);
    RUN_ALL(ticket_changed, (ctx->s, ctx->r, &ti, &ev, ctx->hp));
    if (!strcmp(ev.kind, "escalated"))
        RUN_ALL(ticket_escalated, (ctx->s, ctx->r, &ti, &ev, ctx->hp));
    else if (!strcmp(ev.kind, "sla-breached"))
        RUN_ALL(sla_breached, (ctx->s, ctx->r, &ti, &ev, ctx->hp));
}

static void on_commit(void *baton, sd_db_t *db, const apr_array_header_t *notes, apr_pool_t *p)
{
    ctx_t *ctx = baton;
    int i;
    (void)db;
    if (apr_pool_create(&ctx->hp, p) != APR_SUCCESS) return;
    apr_pool_tag(ctx->hp, "sdesk_hooks");
    if (ctx->r) apr_table_setn(ctx->r->notes, NOTE_IN_HOOK, "1");
    for (i = 0; i < notes->nelts; ++i)
        run_change(ctx, APR_ARRAY_IDX(notes, i, const sd_change_t *), p);
    if (ctx->r) apr_table_unset(ctx->r->notes, NOTE_IN_HOOK);
    apr_pool_destroy(ctx->hp);
    ctx->hp = NULL;
}

void sdesk_hooks_attach(sd_db_t *db, server_rec *s, request_rec *r, apr_pool_t *p)
{
    ctx_t *ctx;
    if (!has(_hooks.link_ticket_created) && !has(_hooks.link_ticket_changed)
        && !has(_hooks.link_ticket_escalated) && !has(_hooks.link_sla_breached)
        && !has(_hooks.link_known_issue_resolved))
        return;
    ctx = apr_pcalloc(p, sizeof(*ctx));
    ctx->s = s;
    ctx->r = r;
    sd_store_on_commit(db, on_commit, ctx);
}

int sdesk_hooks_running(const request_rec *r)
{
    return r && apr_table_get(r->notes, NOTE_IN_HOOK) != NULL;
}
