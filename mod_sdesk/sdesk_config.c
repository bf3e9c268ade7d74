/* Directives: parse and check each value where it is read, so that
 * `apachectl configtest` names directive, value and (through httpd) line. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "sdesk_config.h"
#include "sd_query.h"

APLOG_USE_MODULE(sdesk);
extern module AP_MODULE_DECLARE_DATA sdesk_module;

#define UNSET (-1)

sdesk_srv_conf_t *sdesk_config_srv(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &sdesk_module);
}

sdesk_dir_conf_t *sdesk_config_dir(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &sdesk_module);
}

void *sdesk_config_create_srv(apr_pool_t *p, server_rec *s)
{
    sdesk_srv_conf_t *sc = apr_pcalloc(p, sizeof(*sc));
    (void)s;
    sc->cache_ttl = sc->neg_ttl = sc->cache_size = sc->timeout = UNSET;
    sc->entry_tier = sc->colleagues = sc->retry_after = UNSET;
    sc->max_body = sc->max_depth = sc->max_subject = sc->max_description = UNSET;
    sc->max_field = UNSET;
    sd_priority_matrix_unset(&sc->matrix);
    return sc;
}

#define PICK(f) out->f = (add->f != UNSET) ? add->f : base->f
#define PICKP(f) out->f = add->f ? add->f : base->f

void *sdesk_config_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    sdesk_srv_conf_t *base = basev, *add = addv, *out = apr_pcalloc(p, sizeof(*out));
    int t;
    PICKP(dir_url); PICKP(bind_dn); PICKP(bind_pw); PICKP(tenant_attr);
    PICKP(name_attr); PICKP(mail_attr);
    for (t = 0; t <= SD_TIER_MAX; ++t) PICKP(agent_groups[t]);
    PICKP(admin_groups);
    PICK(cache_ttl); PICK(neg_ttl); PICK(cache_size); PICK(timeout);
    PICK(entry_tier); PICK(colleagues); PICK(retry_after);
    PICK(max_body); PICK(max_depth); PICK(max_subject); PICK(max_description); PICK(max_field);
    sd_priority_matrix_merge(&out->matrix, &base->matrix, &add->matrix);
    PICKP(categories);
    return out;
}

void *sdesk_config_create_dir(apr_pool_t *p, char *dir)
{
    (void)dir;
    return apr_pcalloc(p, sizeof(sdesk_dir_conf_t));
}

void *sdesk_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    sdesk_dir_conf_t *base = basev, *add = addv, *out = apr_pcalloc(p, sizeof(*out));
    out->base = add->base ? add->base : base->base;
    return out;
}

void sdesk_config_resolve(sdesk_srv_conf_t *sc, apr_pool_t *p)
{
    sd_desk_conf_t *d = apr_pcalloc(p, sizeof(*d));
    sd_dir_conf_t *dc = apr_pcalloc(p, sizeof(*dc));
    int t;

    sd_desk_conf_default(d, p);
    if (sc->entry_tier != UNSET) d->entry_tier = sc->entry_tier;
    sd_priority_matrix_merge(&d->matrix, &d->matrix, &sc->matrix);
    if (sc->categories) d->categories = sc->categories;
    if (sc->colleagues != UNSET) d->colleagues_visible = sc->colleagues;
    if (sc->max_body != UNSET) d->limits.max_body = (apr_size_t)sc->max_body;
    if (sc->max_depth != UNSET) d->limits.max_depth = sc->max_depth;
    if (sc->max_subject != UNSET) d->limits.max_subject = sc->max_subject;
    if (sc->max_description != UNSET) d->limits.max_description = sc->max_description;
    if (sc->max_field != UNSET) d->limits.max_field = sc->max_field;
    sc->desk = d;

    dc->url = sc->dir_url;
    dc->bind_dn = sc->bind_dn;
    dc->bind_pw = sc->bind_pw;
    dc->tenant_attr = sc->tenant_attr;
    dc->name_attr = sc->name_attr;
    dc->mail_attr = sc->mail_attr;
    for (t = SD_TIER_MIN; t <= SD_TIER_MAX; ++t)
        dc->agent_groups[t] = sc->agent_groups[t] ? sc->agent_groups[t]
                                                  : apr_array_make(p, 1, sizeof(const char *));
    dc->admin_groups = sc->admin_groups ? sc->admin_groups
                                        : apr_array_make(p, 1, sizeof(const char *));
    dc->cache_ttl = apr_time_from_sec(sc->cache_ttl != UNSET ? sc->cache_ttl : 300);
    dc->negative_ttl = apr_time_from_sec(sc->neg_ttl != UNSET ? sc->neg_ttl : 60);
    dc->cache_max = sc->cache_size != UNSET ? sc->cache_size : 10000;
    dc->timeout = apr_time_from_sec(sc->timeout != UNSET ? sc->timeout : 2);
    sc->dirc = dc;
    sc->retry_after_s = sc->retry_after != UNSET ? sc->retry_after : 5;
}

/* ---- directive handlers ---------------------------------------------------- */

static const char *srv_only(cmd_parms *cmd)
{
    return ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
}

static sdesk_srv_conf_t *srv(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &sdesk_module);
}

static const char *set_int(cmd_parms *cmd, const char *arg, int min, int max, int *out)
{
    apr_int64_t v;
    const char *err = srv_only(cmd);
    if (err) return err;
    if (!sd_query_int(&v, arg, min, max))
        return apr_psprintf(cmd->pool, "%s: '%s' is not a whole number in %d..%d",
                            cmd->cmd->name, arg, min, max);
    *out = (int)v;
    return NULL;
}

static const char *cmd_str(cmd_parms *cmd, void *dc, const char *arg)
{
    sdesk_srv_conf_t *sc = srv(cmd);
    const char *err = srv_only(cmd), **slot;
    (void)dc;
    if (err) return err;
    if (!*arg) return apr_psprintf(cmd->pool, "%s: the value must not be empty", cmd->cmd->name);
    slot = (const char **)((char *)sc + (apr_size_t)cmd->info);
    *slot = arg;
    return NULL;
}

static const char *cmd_url(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *why = NULL, *err = srv_only(cmd);
    (void)dc;
    if (err) return err;
    if (sd_dir_url_check(arg, &why, cmd->pool) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a usable LDAP URL: %s",
                            cmd->cmd->name, arg, why ? why : "malformed");
    srv(cmd)->dir_url = arg;
    return NULL;
}

static const char *cmd_attr(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *s;
    for (s = arg; *s; ++s) {
        if (!apr_isalnum(*s) && *s != '-' && *s != ';' && *s != '.')
            return apr_psprintf(cmd->pool, "%s: '%s' is not an LDAP attribute name",
                                cmd->cmd->name, arg);
    }
    return cmd_str(cmd, dc, arg);
}

static int dn_ok(const char *dn)
{
    return dn && *dn && strchr(dn, '=') && !strpbrk(dn, "\r\n");
}

static const char *cmd_agent_group(cmd_parms *cmd, void *dc, const char *tier, const char *dn)
{
    sdesk_srv_conf_t *sc = srv(cmd);
    int t;
    const char *err = set_int(cmd, tier, SD_TIER_MIN, SD_TIER_MAX, &t);
    (void)dc;
    if (err)
        return apr_psprintf(cmd->pool, "%s: tier '%s' is out of range, expected 1..4",
                            cmd->cmd->name, tier);
    if (!dn_ok(dn))
        return apr_psprintf(cmd->pool, "%s: '%s' is not a group DN", cmd->cmd->name, dn);
    if (!sc->agent_groups[t]) sc->agent_groups[t] = apr_array_make(cmd->pool, 2, sizeof(char *));
    APR_ARRAY_PUSH(sc->agent_groups[t], const char *) = dn;
    return NULL;
}

static const char *cmd_admin_group(cmd_parms *cmd, void *dc, const char *dn)
{
    sdesk_srv_conf_t *sc = srv(cmd);
    const char *err = srv_only(cmd);
    (void)dc;
    if (err) return err;
    if (!dn_ok(dn))
        return apr_psprintf(cmd->pool, "%s: '%s' is not a group DN", cmd->cmd->name, dn);
    if (!sc->admin_groups) sc->admin_groups = apr_array_make(cmd->pool, 2, sizeof(char *));
    APR_ARRAY_PUSH(sc->admin_groups, const char *) = dn;
    return NULL;
}

static const char *cmd_seconds(cmd_parms *cmd, void *dc, const char *arg)
{
    int *slot = (int *)((char *)srv(cmd) + (apr_size_t)cmd->info);
    (void)dc;
    return set_int(cmd, arg, 1, 86400 * 7, slot);
}

static const char *cmd_cache_size(cmd_parms *cmd, void *dc, const char *arg)
{
    (void)dc;
    return set_int(cmd, arg, 1, 10000000, &srv(cmd)->cache_size);
}

static const char *cmd_entry_tier(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_int64_t v;
    const char *err = srv_only(cmd);
    (void)dc;
    if (err) return err;
    if (!sd_query_int(&v, arg, SD_TIER_MIN, SD_TIER_MAX))
        return apr_psprintf(cmd->pool, "%s: '%s' is out of range, expected 1..4",
                            cmd->cmd->name, arg);
    srv(cmd)->entry_tier = (int)v;
    return NULL;
}

static const char *cmd_priority_rule(cmd_parms *cmd, void *dc, const char *args)
{
    sdesk_srv_conf_t *sc = srv(cmd);
    const char *err = srv_only(cmd), *w[4];
    int n = 0, u, i, pr;
    (void)dc;
    if (err) return err;
    while (n < 4 && *(w[n] = ap_getword_conf(cmd->pool, &args))) ++n;
    if (n != 3)
        return apr_psprintf(cmd->pool, "%s takes three words: urgency impact priority "
                            "(e.g. 'job-stopped single high')", cmd->cmd->name);
    if ((u = sd_urgency_from_str(w[0])) < 0)
        return apr_psprintf(cmd->pool, "%s: urgency '%s' is not one of patient-safety, "
                            "job-stopped, function-affected, not-blocking", cmd->cmd->name, w[0]);
    if ((i = sd_impact_from_str(w[1])) < 0)
        return apr_psprintf(cmd->pool, "%s: impact '%s' is not one of single, multiple, all",
                            cmd->cmd->name, w[1]);
    if ((pr = sd_priority_from_str(w[2])) < 0)
        return apr_psprintf(cmd->pool, "%s: priority '%s' is not one of critical, urgent, "
                            "high, normal", cmd->cmd->name, w[2]);
    sc->matrix.cell[u][i] = (signed char)pr;
    return NULL;
}

static const char *cmd_categories(cmd_parms *cmd, void *dc, const char *arg)
{
    sdesk_srv_conf_t *sc = srv(cmd);
    const char *err = srv_only(cmd), *s;
    int i;
    (void)dc;
    if (err) return err;
    for (s = arg; *s; ++s) {
        if (!apr_islower(*s) && !apr_isdigit(*s) && *s != '-')
            return apr_psprintf(cmd->pool, "%s: '%s' is not a category word (lower-case "
                                "letters, digits and '-')", cmd->cmd->name, arg);
    }
    if (!*arg || strlen(arg) > 64)
        return apr_psprintf(cmd->pool, "%s: '%s' must be 1 to 64 characters",
                            cmd->cmd->name, arg);
    /* The directive replaces the defaults; several lines add up. */
    if (!sc->categories) sc->categories = apr_array_make(cmd->pool, 8, sizeof(char *));
    for (i = 0; i < sc->categories->nelts; ++i)
        if (!strcmp(APR_ARRAY_IDX(sc->categories, i, const char *), arg))
            return apr_psprintf(cmd->pool, "%s: '%s' is listed twice", cmd->cmd->name, arg);
    if (sc->categories->nelts >= SD_MAX_CATEGORIES)
        return apr_psprintf(cmd->pool, "%s: more than %d categories", cmd->cmd->name,
                            SD_MAX_CATEGORIES);
    APR_ARRAY_PUSH(sc->categories, const char *) = arg;
    return NULL;
}

static const char *cmd_colleagues(cmd_parms *cmd, void *dc, int on)
{
    const char *err = srv_only(cmd);
    (void)dc;
    if (err) return err;
    srv(cmd)->colleagues = on;
    return NULL;
}

static const char *cmd_limit(cmd_parms *cmd, void *dc, const char *arg)
{
    int *slot = (int *)((char *)srv(cmd) + (apr_size_t)cmd->info);
    int max = 1 << 30, min = 1;
    (void)dc;
    if (!strcmp(cmd->cmd->name, SDESK_MAX_BODY)) { min = 1024; max = 16 << 20; }
    else if (!strcmp(cmd->cmd->name, SDESK_MAX_DEPTH)) { min = 2; max = 256; }
    else if (!strcmp(cmd->cmd->name, SDESK_MAX_DESC)) { max = 1000000; }
    else { max = 10000; }
    return set_int(cmd, arg, min, max, slot);
}

static const char *cmd_base(cmd_parms *cmd, void *dcv, const char *arg)
{
    sdesk_dir_conf_t *dc = dcv;
    apr_size_t len = strlen(arg);
    if (arg[0] != '/' || strpbrk(arg, " ?#%"))
        return apr_psprintf(cmd->pool, "%s: '%s' is not a URL path starting with '/'",
                            cmd->cmd->name, arg);
    while (len > 1 && arg[len - 1] == '/') --len;
    dc->base = len == 1 ? "" : apr_pstrmemdup(cmd->pool, arg, len);
    return NULL;
}

#define OFF(f) (void *)APR_OFFSETOF(sdesk_srv_conf_t, f)

const command_rec sdesk_cmds[] = {
    AP_INIT_TAKE1(SDESK_DIR_URL, cmd_url, NULL, RSRC_CONF,
        "LDAP URL of the directory, as AuthLDAPURL: ldap://host:port/base?attr?scope?filter"),
    AP_INIT_TAKE1(SDESK_DIR_BIND_DN, cmd_str, OFF(bind_dn), RSRC_CONF,
        "DN to bind to the directory with (default: anonymous)"),
    AP_INIT_TAKE1(SDESK_DIR_BIND_PW, cmd_str, OFF(bind_pw), RSRC_CONF,
        "Password for " SDESK_DIR_BIND_DN),
    AP_INIT_TAKE1(SDESK_TENANT_ATTR, cmd_attr, OFF(tenant_attr), RSRC_CONF,
        "Attribute holding the user's tenant (default: the o= of the user's DN)"),
    AP_INIT_TAKE1(SDESK_NAME_ATTR, cmd_attr, OFF(name_attr), RSRC_CONF,
        "Attribute holding the display name (default displayName, then cn)"),
    AP_INIT_TAKE1(SDESK_MAIL_ATTR, cmd_attr, OFF(mail_attr), RSRC_CONF,
        "Attribute holding the mail address (default mail)"),
    AP_INIT_TAKE2(SDESK_AGENT_GROUP, cmd_agent_group, NULL, RSRC_CONF,
        "Tier (1-4) and DN of a group whose members are agents of that tier"),
    AP_INIT_TAKE1(SDESK_ADMIN_GROUP, cmd_admin_group, NULL, RSRC_CONF,
        "DN of a group whose members are administrators"),
    AP_INIT_TAKE1(SDESK_DIR_TTL, cmd_seconds, OFF(cache_ttl), RSRC_CONF,
        "Seconds a directory answer is cached per child (default 300)"),
    AP_INIT_TAKE1(SDESK_DIR_NEG_TTL, cmd_seconds, OFF(neg_ttl), RSRC_CONF,
        "Seconds 'no such user' is cached per child (default 60)"),
    AP_INIT_TAKE1(SDESK_DIR_CACHE_SIZE, cmd_cache_size, NULL, RSRC_CONF,
        "Directory cache entries per child (default 10000)"),
    AP_INIT_TAKE1(SDESK_DIR_TIMEOUT, cmd_seconds, OFF(timeout), RSRC_CONF,
        "Network and operation timeout of directory requests, seconds (default 2)"),
    AP_INIT_TAKE1(SDESK_ENTRY_TIER, cmd_entry_tier, NULL, RSRC_CONF,
        "Tier new tickets start at, 1-4 (default 2)"),
    AP_INIT_RAW_ARGS(SDESK_PRIORITY_RULE, cmd_priority_rule, NULL, RSRC_CONF,
        "One cell of the priority matrix: urgency impact priority"),
    AP_INIT_ITERATE(SDESK_CATEGORIES, cmd_categories, NULL, RSRC_CONF,
        "Ticket categories offered (replaces the default list)"),
    AP_INIT_FLAG(SDESK_COLLEAGUES, cmd_colleagues, NULL, RSRC_CONF,
        "On: reporters may list their colleagues' tickets (default Off)"),
    AP_INIT_TAKE1(SDESK_MAX_BODY, cmd_limit, OFF(max_body), RSRC_CONF,
        "Largest JSON request body in bytes (default 65536)"),
    AP_INIT_TAKE1(SDESK_MAX_DEPTH, cmd_limit, OFF(max_depth), RSRC_CONF,
        "Deepest JSON nesting accepted (default 32)"),
    AP_INIT_TAKE1(SDESK_MAX_SUBJECT, cmd_limit, OFF(max_subject), RSRC_CONF,
        "Longest subject in characters (default 200)"),
    AP_INIT_TAKE1(SDESK_MAX_DESC, cmd_limit, OFF(max_description), RSRC_CONF,
        "Longest description in characters (default 20000)"),
    AP_INIT_TAKE1(SDESK_MAX_FIELD, cmd_limit, OFF(max_field), RSRC_CONF,
        "Longest short text field (service, encounter id, device) in characters (default 200)"),
    AP_INIT_TAKE1(SDESK_RETRY_AFTER, cmd_seconds, OFF(retry_after), RSRC_CONF,
        "Seconds given in Retry-After when the directory or database is unavailable (default 5)"),
    AP_INIT_TAKE1(SDESK_BASE, cmd_base, NULL, ACCESS_CONF,
        "URL path the desk is served under, where it is not the <Location> of "
        "SetHandler sdesk (e.g. in a <LocationMatch>)"),
    { NULL }
};
