/* mod_sdesk: module record, hooks, start-up checks, the handler. */
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <apr_optional.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_main.h"
#include "ap_mpm.h"
#include <apr_dbd.h>
#include "mod_dbd.h"
#include "util_mutex.h"
#include <apr_global_mutex.h>

#include "mod_sdesk.h"
#include "sdesk_config.h"
#include "sdesk_http.h"
#include "sdesk_api.h"
#include "sdesk_watchdog.h"
#include "sdesk_inproc.h"
#include "sdesk_widget.h"
#include "sdesk_ui.h"
#include "sd_log.h"
#include "sd_json.h"
#include "sd_store.h"

/* ---- logging from lib/ ------------------------------------------------------ */

static void log_cb(void *baton, const char *file, int line, int level, apr_status_t rv,
                   const char *msg)
{
    (void)baton;
    /* our own codes mean nothing to apr_strerror: name them in the text */
    if (rv > SD_ESTART && rv < SD_ESTART + 100)
        ap_log_error_(file, line, APLOG_MODULE_INDEX, level, 0, ap_server_conf, "(%s) %s",
                      sd_status_name(rv), msg);
    else
        ap_log_error_(file, line, APLOG_MODULE_INDEX, level, rv, ap_server_conf, "%s", msg);
}

static int log_level_cb(void *baton, int level)
{
    (void)baton;
    return ap_server_conf ? APLOG_MODULE_IS_LEVEL(ap_server_conf, APLOG_MODULE_INDEX, level)
                          : level <= APLOG_WARNING;
}

/* Paths of the <Location>s that SetHandler sdesk, found in check_config;
 * read-only afterwards. */
static apr_array_header_t *sdesk_bases;

/* The longest configured location that is a path prefix of uri. */
static const char *base_of(const char *uri)
{
    const char *best = NULL;
    int i;
    for (i = 0; sdesk_bases && i < sdesk_bases->nelts; ++i) {
        const char *b = APR_ARRAY_IDX(sdesk_bases, i, const char *);
        apr_size_t n = strlen(b);
        if (!strncmp(uri, b, n) && (uri[n] == '/' || uri[n] == '\0')
            && (!best || n > strlen(best)))
            best = b;
    }
    return best;
}

/* ---- the writers' lock -------------------------------------------------------- */

/* SQLite lets one writer in at a time; without a lock of our own, writers of
 * different children collide and the driver sleeps 100 ms per retry. With
 * it they queue (microseconds). Only used on SQLite (sd_store decides). */
#define SDESK_WRITE_MUTEX "sdesk-write"
static apr_global_mutex_t *write_mutex;

static apr_status_t write_lock(void *baton)
{
    return apr_global_mutex_lock(baton);
}

static apr_status_t write_unlock(void *baton)
{
    return apr_global_mutex_unlock(baton);
}

static sd_store_writelock_t write_lock_ops = { write_lock, write_unlock, NULL };

static int sdesk_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    /* the Mutex directive may choose its mechanism: Mutex sysvsem sdesk-write */
    return ap_mutex_register(pconf, SDESK_WRITE_MUTEX, NULL, APR_LOCK_DEFAULT, 0)
           == APR_SUCCESS ? OK : !OK;
}

/* ---- start-up checks ---------------------------------------------------------- */

/* Walk httpd's parsed configuration for "SetHandler sdesk" and for DBDriver,
 * so that a location that would serve the desk without a directory or a
 * database fails configtest, naming what is missing and where. */
typedef struct {
    const ap_directive_t *vhost;   /* enclosing <VirtualHost>, or NULL */
} walk_ctx_t;

static const ap_directive_t *enclosing_vhost(const ap_directive_t *d)
{
    for (d = d->parent; d; d = d->parent)
        if (!strcasecmp(d->directive, "<VirtualHost")) return d;
    return NULL;
}

static int has_directive(const ap_directive_t *d, const char *name, const ap_directive_t *scope)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, name) && enclosing_vhost(d) == scope) return 1;
        if (d->first_child && has_directive(d->first_child, name, scope)) return 1;
    }
    return 0;
}

static server_rec *server_of(server_rec *main_s, const ap_directive_t *vh)
{
    server_rec *s;
    if (!vh) return main_s;
    for (s = main_s->next; s; s = s->next)
        if (s->defn_name && vh->filename && !strcmp(s->defn_name, vh->filename)
            && s->defn_line_number == (unsigned)vh->line_num)
            return s;
    return main_s;
}

/* The path of the <Location> a SetHandler sits in: the API's {base}. */
static void note_base(const ap_directive_t *d, apr_pool_t *pconf)
{
    const ap_directive_t *sec = d->parent;
    char *arg, *end;
    apr_size_t len;
    if (!sec || strcasecmp(sec->directive, "<Location") || !sec->args) return;
    arg = apr_pstrdup(pconf, sec->args);
    if ((end = strrchr(arg, '>'))) *end = '\0';
    arg = ap_getword_conf(pconf, &(const char *){ arg });
    len = strlen(arg);
    while (len > 1 && arg[len - 1] == '/') arg[--len] = '\0';
    if (!*arg || !strcmp(arg, "/")) arg = "";
    APR_ARRAY_PUSH(sdesk_bases, const char *) = arg;
}

static int check_handlers(const ap_directive_t *d, server_rec *main_s, apr_pool_t *p)
{
    int ok = 1;
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "SetHandler") && d->args
            && !strcasecmp(ap_getword_conf(p, &(const char *){ d->args }), SDESK_HANDLER)) {
            const ap_directive_t *vh = enclosing_vhost(d);
            note_base(d, sdesk_bases->pool);
            sdesk_srv_conf_t *sc = sdesk_config_srv(server_of(main_s, vh));
            if (!sc->dir_url) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, NULL, SDLOGNO(00510)
                             "SetHandler sdesk (line %d of %s) needs %s in its server: "
                             "the desk resolves users, tenants and roles through it",
                             d->line_num, d->filename, SDESK_DIR_URL);
                ok = 0;
            }
            if (!has_directive(ap_conftree, "DBDriver", NULL)
                && !(vh && has_directive(ap_conftree, "DBDriver", vh))) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, 0, NULL, SDLOGNO(00511)
                             "SetHandler sdesk (line %d of %s) needs a database: set DBDriver "
                             "and DBDParams (mod_dbd) for its server", d->line_num, d->filename);
                ok = 0;
            }
        }
        if (d->first_child && !check_handlers(d->first_child, main_s, p)) ok = 0;
    }
    return ok;
}

static int sdesk_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                              server_rec *s)
{
    (void)plog;
    sdesk_bases = apr_array_make(pconf, 4, sizeof(const char *));
    if (!APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, SDLOGNO(00512)
                     "mod_sdesk needs mod_dbd: LoadModule dbd_module (a2enmod dbd)");
        return !OK;
    }
    if (!check_handlers(ap_conftree, s, ptemp)) return !OK;
    return sdesk_widget_check(sdesk_bases, ptemp) ? OK : !OK;
}

static int sdesk_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                             server_rec *s)
{
    server_rec *vs;
    const char *err;
    (void)plog;
    (void)ptemp;
    sd_json_init();
    if ((err = sdesk_ui_init(pconf))) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, SDLOGNO(00600) "mod_sdesk: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    sd_log_set(log_cb, log_level_cb, NULL);
    for (vs = s; vs; vs = vs->next) sdesk_config_resolve(sdesk_config_srv(vs), pconf);
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) return OK;
    if (ap_global_mutex_create(&write_mutex, NULL, SDESK_WRITE_MUTEX, NULL, s, pconf, 0)
        != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    /* The scan runs where the desk is served; a server without it needs none. */
    if (sdesk_bases && sdesk_bases->nelts
        && sdesk_watchdog_init(pconf, s, APR_ARRAY_IDX(sdesk_bases, 0, const char *))
           != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, SDLOGNO(00513) "mod_sdesk %s ready",
                 MOD_SDESK_VERSION);
    return OK;
}

static void sdesk_optional_fn_retrieve(void)
{
    sdesk_dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
}

/* Bring the schema up to date as soon as a child starts (not in the parent:
 * it runs as root and would create an SQLite file the children cannot
 * write). A database that is down now is retried on the first request. */
static void migrate_at_start(apr_pool_t *pchild, server_rec *s)
{
    ap_dbd_t *(*dbd_open)(apr_pool_t *, server_rec *) = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    void (*dbd_close)(server_rec *, ap_dbd_t *) = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    apr_pool_t *p;
    server_rec *vs;

    if (!dbd_open || !dbd_close || !sdesk_bases || !sdesk_bases->nelts) return;
    apr_pool_create(&p, pchild);
    for (vs = s; vs; vs = vs->next) {
        sd_db_t *db;
        ap_dbd_t *dbd = dbd_open(p, vs);
        apr_status_t rv;
        if (!dbd) continue;
        rv = sd_store_open(&db, dbd->driver, dbd->handle, dbd->pool, sdesk_writelock, p);
        /* load the suggestion index now rather than on a user's keystroke */
        if (rv == APR_SUCCESS && vs == s)
            sdesk_suggest_refresh(db, (apr_int64_t)apr_time_sec(apr_time_now()), p);
        dbd_close(vs, dbd);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, vs, SDLOGNO(00516)
                         "database not ready at child start; will retry on first use");
        }
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
}

/* One directory client per distinct directory configuration per child, so
 * virtual hosts that inherit the main server's settings share its cache. */
static void sdesk_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_hash_t *seen = apr_hash_make(pchild);
    server_rec *vs;

    srand((unsigned)getpid() ^ (unsigned)apr_time_now());
    sd_store_set_sqlite_cache(sdesk_config_srv(s)->sqlite_cache);   /* UNSET: default */
    if (write_mutex) {
        const char *file = apr_global_mutex_lockfile(write_mutex);
        if (apr_global_mutex_child_init(&write_mutex, file, pchild) == APR_SUCCESS) {
            write_lock_ops.baton = write_mutex;
            sdesk_writelock = &write_lock_ops;
        }
        else {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, SDLOGNO(00518)
                         "cannot attach the writers' lock; SQLite writers may collide");
        }
    }
    for (vs = s; vs; vs = vs->next) {
        sdesk_srv_conf_t *sc = sdesk_config_srv(vs);
        const sd_dir_conf_t *dc = sc->dirc;
        const char *key;
        sd_dir_t *dir;
        apr_status_t rv;
        if (!dc || !dc->url) continue;
        key = apr_pstrcat(pchild, dc->url, "|", dc->bind_dn ? dc->bind_dn : "", "|",
                          dc->tenant_attr ? dc->tenant_attr : "", "|",
                          apr_psprintf(pchild, "%pp|%pp|%pp|%pp|%pp|%" APR_TIME_T_FMT "|%"
                                       APR_TIME_T_FMT "|%d",
                                       (void *)dc->agent_groups[1], (void *)dc->agent_groups[2],
                                       (void *)dc->agent_groups[3], (void *)dc->agent_groups[4],
                                       (void *)dc->admin_groups, dc->timeout, dc->cache_ttl,
                                       dc->cache_max), NULL);
        dir = apr_hash_get(seen, key, APR_HASH_KEY_STRING);
        if (!dir) {
            rv = sd_dir_create(&dir, dc, pchild);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_ERR, rv, vs, SDLOGNO(00514)
                             "cannot create the directory client for %s", dc->url);
                continue;
            }
            apr_hash_set(seen, key, APR_HASH_KEY_STRING, dir);
        }
        sc->dir = dir;
    }
    sdesk_watchdog_child_init(pchild);
    if (sdesk_suggest_child_init(pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, SDLOGNO(00517)
                     "cannot create the suggestion index; /suggest will answer 503");
    }
    migrate_at_start(pchild, s);
}

/* ---- the handler ---------------------------------------------------------------- */

static int sdesk_handler(request_rec *r)
{
    const sdesk_route_t *rt;
    const char *allow;
    sdesk_dir_conf_t *dc;
    sdesk_req_t *rq;
    apr_size_t blen;
    apr_status_t rv;
    int ui;

    if (!r->handler || strcmp(r->handler, SDESK_HANDLER)) return DECLINED;
    rq = apr_pcalloc(r->pool, sizeof(*rq));
    rq->r = r;
    rq->sc = sdesk_config_srv(r->server);
    sd_problem_init(&rq->prob, r->pool);
    dc = sdesk_config_dir(r);
    /* SdeskBase wins; else the <Location> that set the handler. */
    rq->base = (dc && dc->base) ? dc->base : base_of(r->uri);
    sdesk_http_security_headers(r);

    if (!rq->base) rq->base = "";
    blen = strlen(rq->base);
    if (strncmp(r->uri, rq->base, blen) || (r->uri[blen] && r->uri[blen] != '/')) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, SDLOGNO(00515)
                      "request %s is outside the location %s", r->uri, rq->base);
        return sdesk_problem_simple(r, SD_ENOTFOUND, SD_PT_NOT_FOUND, "No such resource.", 0);
    }
    rq->path = r->uri + blen;
    /* The pages and their files carry no data: served to whoever httpd let
     * in (the page itself asks the API, which needs a user). */
    if (DECLINED != (ui = sdesk_ui_handle(r, rq->base, rq->path))) return ui;
    if (!r->user)
        return sdesk_problem_simple(r, SD_EUNAUTH, SD_PT_UNAUTH,
                                    "Sign in to use the support desk.", 0);
    rt = sdesk_route_match(rq, &allow);
    if (!rt) {
        if (!*allow)
            return sdesk_problem_simple(r, SD_ENOTFOUND, SD_PT_NOT_FOUND, "No such resource.", 0);
        apr_table_setn(r->headers_out, "Allow", apr_pstrcat(r->pool, allow, ", OPTIONS", NULL));
        if (r->method_number == M_OPTIONS) {
            r->status = HTTP_NO_CONTENT;
            return OK;
        }
        return sdesk_problem_simple(r, SD_ENOMETHOD, SD_PT_NO_METHOD,
                                    apr_psprintf(r->pool, "%s is not allowed here; use %s.",
                                                 r->method, allow), 0);
    }
    if (rt->writes && APR_SUCCESS != (rv = sdesk_same_origin(r, &rq->prob)))
        return sdesk_req_fail(rq, rv);
    if (APR_SUCCESS != (rv = sdesk_req_user(rq))) return sdesk_req_fail(rq, rv);
    rq->actor.conf = rq->sc->desk;
    rq->actor.now = (apr_int64_t)apr_time_sec(apr_time_now());
    return rt->run(rq);
}

/* A request for the sdesk handler maps to no file: after translate_name
 * (the <Location> config is merged then) note it, and skip the directory
 * walk in map_to_storage, as mod_proxy does for its URLs. That walk stats
 * every segment of the path under DocumentRoot on every API request. */
static int sdesk_translate_name(request_rec *r)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    const char *err = NULL, *h;
    if (d && d->expr_handler) {
        h = ap_expr_str_exec(r, d->expr_handler, &err);
        if (!err && h && !strcasecmp(h, "sdesk")) apr_table_setn(r->notes, "sdesk-virtual", "1");
    }
    return DECLINED;
}

static int sdesk_map_to_storage(request_rec *r)
{
    return apr_table_get(r->notes, "sdesk-virtual") ? OK : DECLINED;
}

static void sdesk_register_hooks(apr_pool_t *p)
{
    static const char *const after_dbd[] = { "mod_dbd.c", NULL };
    (void)p;
    ap_hook_pre_config(sdesk_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(sdesk_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(sdesk_post_config, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(sdesk_optional_fn_retrieve, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(sdesk_child_init, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(sdesk_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(sdesk_translate_name, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_map_to_storage(sdesk_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    sdesk_inproc_register();
    sdesk_widget_register();
}

AP_DECLARE_MODULE(sdesk) = {
    STANDARD20_MODULE_STUFF,
    sdesk_config_create_dir,
    sdesk_config_merge_dir,
    sdesk_config_create_srv,
    sdesk_config_merge_srv,
    sdesk_cmds,
    sdesk_register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
