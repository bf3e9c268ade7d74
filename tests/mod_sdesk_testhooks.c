/* mod_sdesk_testhooks: a companion module for the integration tests only
 * (tests/integration/test_700_hooks.py). It uses mod_sdesk.h as another
 * module would:
 *
 * - its handler (SetHandler sdesk-testhooks) calls the optional functions:
 *     POST {loc}/file           body: a JSON ticket -> sdesk_ticket_file_json
 *     POST {loc}/file-struct    query: subject=..&cc=..&ctx.key=.. -> sdesk_ticket_file
 *     GET  {loc}/known?q=text   -> sdesk_known_issues_find
 *   and answers 200 with {"status", "id", "key", "problem", "known_issues"};
 * - it implements every hook, appending one JSON line per call to the file
 *   named by TestHooksLog, with what the hook saw and, read through a
 *   connection of its own (so only committed data), the ticket's status and
 *   version in the database;
 * - TestHooksFail <hook>|all makes those hooks return 500 (after logging),
 *   to show a failing hook breaks nothing.
 *
 * Built by `make testhooks` (build/mod_sdesk_testhooks.so); loaded after
 * mod_sdesk by the test harness, never installed. */
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_dbd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_script.h"
#include "mod_dbd.h"

#include "mod_sdesk.h"

module AP_MODULE_DECLARE_DATA sdesk_testhooks_module;


typedef struct {
    const char *log;          /* TestHooksLog */
    const char *fail;         /* TestHooksFail: a hook name or "all" */
} th_conf_t;

static APR_OPTIONAL_FN_TYPE(sdesk_ticket_file) *file_ticket;
static APR_OPTIONAL_FN_TYPE(sdesk_ticket_file_json) *file_ticket_json;
static APR_OPTIONAL_FN_TYPE(sdesk_known_issues_find) *find_known;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

static th_conf_t *conf_of(server_rec *s)
{
    return ap_get_module_config(s->module_config, &sdesk_testhooks_module);
}

/* ---- JSON out ------------------------------------------------------------------ */

static const char *jstr(const char *s, apr_pool_t *p)
{
    const unsigned char *c;
    char *out, *o;
    if (!s) return "null";
    out = o = apr_palloc(p, strlen(s) * 6 + 3);
    *o++ = '"';
    for (c = (const unsigned char *)s; *c; ++c) {
        if (*c == '"' || *c == '\\') {
            *o++ = '\\';
            *o++ = (char)*c;
        }
        else if (*c < 0x20) {
            o += apr_snprintf(o, 7, "\\u%04x", *c);
        }
        else {
            *o++ = (char)*c;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static const char *ticket_json(const sdesk_ticket_info_t *t, apr_pool_t *p)
{
    if (!t) return "null";
    return apr_psprintf(p, "{\"id\": %" APR_INT64_T_FMT ", \"key\": %s, \"tenant\": %s, "
                        "\"subject\": %s, \"category\": %s, \"priority\": %s, \"status\": %s, "
                        "\"tier\": %d, \"reporter\": %s, \"assignee\": %s, \"encounter_id\": %s, "
                        "\"page_url\": %s, \"known_issue_id\": %" APR_INT64_T_FMT ", "
                        "\"version\": %d, \"created_at\": %" APR_TIME_T_FMT "}",
                        t->id, jstr(t->key, p), jstr(t->tenant, p), jstr(t->subject, p),
                        jstr(t->category, p), jstr(t->priority, p), jstr(t->status, p), t->tier,
                        jstr(t->reporter, p), jstr(t->assignee, p), jstr(t->encounter_id, p),
                        jstr(t->page_url, p), t->known_issue_id, t->version,
                        apr_time_sec(t->created_at));
}

static const char *event_json(const sdesk_event_info_t *e, apr_pool_t *p)
{
    if (!e) return "null";
    return apr_psprintf(p, "{\"id\": %" APR_INT64_T_FMT ", \"kind\": %s, \"field\": %s, "
                        "\"old\": %s, \"new\": %s, \"actor\": %s}", e->id, jstr(e->kind, p),
                        jstr(e->field, p), jstr(e->old_value, p), jstr(e->new_value, p),
                        jstr(e->actor, p));
}

/* ---- what the database says, through a connection of our own ----------------- */

static const char *committed_json(server_rec *s, apr_int64_t id, apr_pool_t *p)
{
    ap_dbd_t *dbd;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *out = "null";

    if (!dbd_open || !dbd_close || !(dbd = dbd_open(p, s))) return "\"no connection\"";
    if (!apr_dbd_select(dbd->driver, p, dbd->handle, &res,
                        apr_psprintf(p, "SELECT status, version FROM tickets WHERE id = %"
                                     APR_INT64_T_FMT, id), 1)
        && !apr_dbd_get_row(dbd->driver, p, res, &row, 1)) {
        out = apr_psprintf(p, "{\"status\": %s, \"version\": %s}",
                           jstr(apr_dbd_get_entry(dbd->driver, row, 0), p),
                           apr_dbd_get_entry(dbd->driver, row, 1));
    }
    dbd_close(s, dbd);
    return out;
}

/* ---- hooks ------------------------------------------------------------------------ */

static int record(const char *hook, server_rec *s, request_rec *r, const sdesk_ticket_info_t *t,
                  const sdesk_event_info_t *ev, const sdesk_known_issue_info_t *ki,
                  apr_pool_t *p)
{
    th_conf_t *c = conf_of(s);
    apr_file_t *f;
    const char *line, *kij = "null";
    apr_size_t len;

    if (ki)
        kij = apr_psprintf(p, "{\"id\": %" APR_INT64_T_FMT ", \"tenant\": %s, \"title\": %s, "
                           "\"resolved_tickets\": %d, \"actor\": %s}", ki->id,
                           jstr(ki->tenant, p), jstr(ki->title, p), ki->resolved_tickets,
                           jstr(ki->actor, p));
    line = apr_psprintf(p, "{\"hook\": %s, \"pid\": %d, \"uri\": %s, \"user\": %s, "
                        "\"ticket\": %s, \"event\": %s, \"known_issue\": %s, "
                        "\"committed\": %s}\n", jstr(hook, p), (int)getpid(),
                        jstr(r ? r->uri : NULL, p), jstr(r ? r->user : NULL, p),
                        ticket_json(t, p), event_json(ev, p), kij,
                        t ? committed_json(s, t->id, p) : "null");
    if (c->log && apr_file_open(&f, c->log, APR_FOPEN_WRITE | APR_FOPEN_CREATE
                                | APR_FOPEN_APPEND, APR_FPROT_OS_DEFAULT, p) == APR_SUCCESS) {
        len = strlen(line);
        apr_file_write_full(f, line, len, NULL);     /* one write: lines never mix */
        apr_file_close(f);
    }
    if (c->fail && (!strcmp(c->fail, "all") || !strcmp(c->fail, hook)))
        return HTTP_INTERNAL_SERVER_ERROR;
    return OK;
}

static int th_created(server_rec *s, request_rec *r, const sdesk_ticket_info_t *t, apr_pool_t *p)
{
    return record("ticket_created", s, r, t, NULL, NULL, p);
}

static int th_changed(server_rec *s, request_rec *r, const sdesk_ticket_info_t *t,
                      const sdesk_event_info_t *ev, apr_pool_t *p)
{
    return record("ticket_changed", s, r, t, ev, NULL, p);
}

static int th_escalated(server_rec *s, request_rec *r, const sdesk_ticket_info_t *t,
                        const sdesk_event_info_t *ev, apr_pool_t *p)
{
    return record("ticket_escalated", s, r, t, ev, NULL, p);
}

static int th_breached(server_rec *s, request_rec *r, const sdesk_ticket_info_t *t,
                       const sdesk_event_info_t *ev, apr_pool_t *p)
{
    return record("sla_breached", s, r, t, ev, NULL, p);
}

static int th_ki_resolved(server_rec *s, request_rec *r, const sdesk_known_issue_info_t *ki,
                          apr_pool_t *p)
{
    return record("known_issue_resolved", s, r, NULL, NULL, ki, p);
}

/* ---- the handler --------------------------------------------------------------------- */

static const char *result_json(const sdesk_result_t *res, apr_pool_t *p)
{
    return apr_psprintf(p, "\"status\": %d, \"id\": %" APR_INT64_T_FMT ", \"key\": %s, "
                        "\"problem\": %s", res->status, res->id, jstr(res->key, p),
                        res->problem_json ? res->problem_json : "null");
}

static int answer(request_rec *r, const char *json)
{
    ap_set_content_type(r, "application/json");
    ap_rputs(json, r);
    ap_rputs("\n", r);
    return OK;
}

static apr_status_t read_body(const char **body, apr_size_t *len, request_rec *r)
{
    apr_off_t off;
    apr_size_t n;
    char *buf;
    apr_status_t rv;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);

    rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES, APR_BLOCK_READ, 1 << 20);
    *body = NULL;
    *len = 0;
    while (rv == APR_SUCCESS) {
        apr_bucket *last = APR_BRIGADE_LAST(bb);
        if (!APR_BRIGADE_EMPTY(bb) && APR_BUCKET_IS_EOS(last)) break;
        rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES, APR_BLOCK_READ, 1 << 20);
    }
    if (rv != APR_SUCCESS) return rv;
    apr_brigade_length(bb, 1, &off);
    n = (apr_size_t)off;
    buf = apr_palloc(r->pool, n + 1);
    apr_brigade_flatten(bb, buf, &n);
    buf[n] = '\0';
    *body = buf;
    *len = n;
    return APR_SUCCESS;
}

static int ctx_item(void *baton, const char *key, const char *value)
{
    apr_table_t *ctx = baton;
    if (!strncmp(key, "ctx.", 4)) apr_table_set(ctx, key + 4, value);
    return 1;
}

static int cc_item(void *baton, const char *key, const char *value)
{
    if (!strcmp(key, "cc")) APR_ARRAY_PUSH((apr_array_header_t *)baton, const char *) = value;
    return 1;
}

/* The query as a table: every pair kept (cc repeats), '+' read as a space. */
static apr_table_t *query(request_rec *r)
{
    apr_table_t *q = apr_table_make(r->pool, 8);
    char *args = apr_pstrdup(r->pool, r->args ? r->args : ""), *pair, *save = NULL;
    for (pair = apr_strtok(args, "&", &save); pair; pair = apr_strtok(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        char *val = eq ? eq + 1 : "";
        if (eq) *eq = '\0';
        if (ap_unescape_urlencoded(pair) || ap_unescape_urlencoded(val)) continue;
        apr_table_addn(q, pair, val);
    }
    return q;
}

static int file_struct(request_rec *r)
{
    apr_table_t *q = query(r);
    sdesk_new_ticket_t in;
    sdesk_result_t res;

    memset(&in, 0, sizeof(in));
    in.subject = apr_table_get(q, "subject");
    in.description = apr_table_get(q, "description");
    in.category = apr_table_get(q, "category");
    in.urgency = apr_table_get(q, "urgency");
    in.impact = apr_table_get(q, "impact");
    in.priority = apr_table_get(q, "priority");
    in.encounter_id = apr_table_get(q, "encounter_id");
    in.device_id = apr_table_get(q, "device_id");
    in.device_model = apr_table_get(q, "device_model");
    in.page_url = apr_table_get(q, "page_url");
    if (apr_table_get(q, "cc")) {
        apr_array_header_t *cc = apr_array_make(r->pool, 2, sizeof(const char *));
        apr_table_do(cc_item, cc, q, NULL);
        in.cc = cc;
    }
    {
        apr_table_t *ctx = apr_table_make(r->pool, 4);
        apr_table_do(ctx_item, ctx, q, NULL);
        if (!apr_is_empty_table(ctx)) in.context = ctx;
    }
    file_ticket(r, &in, &res);
    return answer(r, apr_pstrcat(r->pool, "{", result_json(&res, r->pool), "}", NULL));
}

static int th_handler(request_rec *r)
{
    const char *sub, *body;
    apr_size_t len;
    sdesk_result_t res;

    if (!r->handler || strcmp(r->handler, "sdesk-testhooks")) return DECLINED;
    if (!file_ticket || !file_ticket_json || !find_known) return HTTP_SERVICE_UNAVAILABLE;
    sub = strrchr(r->uri, '/');
    sub = sub ? sub + 1 : "";
    if (!strcmp(sub, "file") && r->method_number == M_POST) {
        if (read_body(&body, &len, r) != APR_SUCCESS) return HTTP_BAD_REQUEST;
        file_ticket_json(r, body, len, &res);
        return answer(r, apr_pstrcat(r->pool, "{", result_json(&res, r->pool), "}", NULL));
    }
    if (!strcmp(sub, "file-struct") && r->method_number == M_POST) return file_struct(r);
    if (!strcmp(sub, "known") && r->method_number == M_GET) {
        apr_table_t *q;
        apr_array_header_t *found = NULL;
        const char *items = "";
        int i;
        q = query(r);
        find_known(r, apr_table_get(q, "q"), &found, &res);
        for (i = 0; found && i < found->nelts; ++i) {
            const sdesk_known_issue_t *k = &APR_ARRAY_IDX(found, i, sdesk_known_issue_t);
            items = apr_psprintf(r->pool, "%s%s{\"id\": %" APR_INT64_T_FMT ", \"title\": %s, "
                                 "\"workaround\": %s, \"score\": %f}", items, i ? ", " : "",
                                 k->id, jstr(k->title, r->pool), jstr(k->workaround, r->pool),
                                 k->score);
        }
        return answer(r, apr_psprintf(r->pool, "{%s, \"known_issues\": %s%s%s}",
                                      result_json(&res, r->pool), found ? "[" : "null", items,
                                      found ? "]" : ""));
    }
    return HTTP_NOT_FOUND;
}

/* ---- configuration and registration --------------------------------------------------- */

static void *create_srv(apr_pool_t *p, server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(th_conf_t));
}

static void *merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    th_conf_t *base = basev, *add = addv, *out = apr_pcalloc(p, sizeof(*out));
    out->log = add->log ? add->log : base->log;
    out->fail = add->fail ? add->fail : base->fail;
    return out;
}

static const char *set_log(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    conf_of(cmd->server)->log = arg;
    return NULL;
}

static const char *set_fail(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    conf_of(cmd->server)->fail = arg;
    return NULL;
}

static const command_rec th_cmds[] = {
    AP_INIT_TAKE1("TestHooksLog", set_log, NULL, RSRC_CONF, "file the hooks append to"),
    AP_INIT_TAKE1("TestHooksFail", set_fail, NULL, RSRC_CONF,
                  "a hook name (or all) that returns 500"),
    { NULL }
};

static void th_retrieve(void)
{
    file_ticket = APR_RETRIEVE_OPTIONAL_FN(sdesk_ticket_file);
    file_ticket_json = APR_RETRIEVE_OPTIONAL_FN(sdesk_ticket_file_json);
    find_known = APR_RETRIEVE_OPTIONAL_FN(sdesk_known_issues_find);
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
}

static void th_register(apr_pool_t *p)
{
    (void)p;
    ap_hook_optional_fn_retrieve(th_retrieve, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(th_handler, NULL, NULL, APR_HOOK_MIDDLE);
    sdesk_hook_ticket_created(th_created, NULL, NULL, APR_HOOK_MIDDLE);
    sdesk_hook_ticket_changed(th_changed, NULL, NULL, APR_HOOK_MIDDLE);
    sdesk_hook_ticket_escalated(th_escalated, NULL, NULL, APR_HOOK_MIDDLE);
    sdesk_hook_sla_breached(th_breached, NULL, NULL, APR_HOOK_MIDDLE);
    sdesk_hook_known_issue_resolved(th_ki_resolved, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(sdesk_testhooks) = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    create_srv,
    merge_srv,
    th_cmds,
    th_register
};
