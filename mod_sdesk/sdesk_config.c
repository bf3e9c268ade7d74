/* Directives: parse and check each value where it is read, so that
 * `apachectl configtest` names directive, value and (through httpd) line. */
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_file_info.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "sdesk_config.h"
#include "sd_query.h"
#include "sd_mail.h"

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
    sc->at_risk = sc->autoclose_days = sc->scan_interval = UNSET;
    sc->sqlite_cache = UNSET;
    sc->max_attachment = sc->max_attachments = sc->max_attachments_total = UNSET;
    sc->mail_interval = UNSET;
    {
        int t, pr;
        for (t = 0; t <= SD_TIER_MAX; ++t) {
            sc->response_target[t] = UNSET;
            sc->response_rtc[t] = UNSET;
            for (pr = 0; pr < SD_PRIO_COUNT; ++pr) {
                sc->resolution_target[t][pr] = UNSET;
                sc->resolution_rtc[t][pr] = UNSET;
            }
        }
    }
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
    PICKP(hours); PICKP(holidays); PICKP(zone);
    PICK(at_risk); PICK(autoclose_days); PICK(scan_interval); PICK(sqlite_cache);
    PICK(max_attachment); PICK(max_attachments); PICK(max_attachments_total);
    PICKP(mailer); PICKP(mailer_argv); PICKP(mail_from); PICKP(public_url); PICK(mail_interval);
    for (t = 0; t <= SD_TIER_MAX; ++t) {
        int pr;
        PICK(response_target[t]);
        PICK(response_rtc[t]);
        for (pr = 0; pr < SD_PRIO_COUNT; ++pr) {
            PICK(resolution_target[t][pr]);
            PICK(resolution_rtc[t][pr]);
        }
    }
    return out;
}

void *sdesk_config_create_dir(apr_pool_t *p, char *dir)
{
    sdesk_dir_conf_t *dc = apr_pcalloc(p, sizeof(sdesk_dir_conf_t));
    (void)dir;
    dc->widget = UNSET;
    return dc;
}

void *sdesk_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    sdesk_dir_conf_t *base = basev, *add = addv, *out = apr_pcalloc(p, sizeof(*out));
    out->base = add->base ? add->base : base->base;
    out->widget = add->widget != UNSET ? add->widget : base->widget;
    out->widget_base = add->widget_base ? add->widget_base : base->widget_base;
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
    if (sc->hours) {
        memcpy(d->calendar.nranges, sc->hours->nranges, sizeof(d->calendar.nranges));
        memcpy(d->calendar.range_start, sc->hours->range_start, sizeof(d->calendar.range_start));
        memcpy(d->calendar.range_end, sc->hours->range_end, sizeof(d->calendar.range_end));
    }
    if (sc->holidays) d->calendar.holidays = sc->holidays;
    if (sc->zone) {
        d->calendar.zone = sc->zone->zone;
        d->calendar.fixed_offset = sc->zone->fixed_offset;
        d->calendar.zone_name = sc->zone->zone_name;
    }
    for (t = SD_TIER_MIN; t <= SD_TIER_MAX; ++t) {
        int pr;
        if (sc->response_target[t] != UNSET) d->response_target[t] = sc->response_target[t];
        if (sc->response_rtc[t] != UNSET) d->response_rtc[t] = sc->response_rtc[t];
        for (pr = 0; pr < SD_PRIO_COUNT; ++pr) {
            if (sc->resolution_target[t][pr] != UNSET)
                d->resolution_target[t][pr] = sc->resolution_target[t][pr];
            if (sc->resolution_rtc[t][pr] != UNSET)
                d->resolution_rtc[t][pr] = sc->resolution_rtc[t][pr];
        }
    }
    if (sc->at_risk != UNSET) d->at_risk_share = sc->at_risk / 100.0;
    if (sc->autoclose_days != UNSET) d->autoclose_days = sc->autoclose_days;
    if (sc->max_attachment != UNSET) d->max_attachment = sc->max_attachment;
    if (sc->max_attachments != UNSET) d->max_attachments = sc->max_attachments;
    if (sc->max_attachments_total != UNSET)
        d->max_attachments_total = (apr_int64_t)sc->max_attachments_total * 1024 * 1024;
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
    sc->scan_interval_s = sc->scan_interval != UNSET ? sc->scan_interval : 60;
    sc->mail_interval_s = sc->mail_interval != UNSET ? sc->mail_interval : 30;
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

/* ---- SLA ----------------------------------------------------------------------- */

static const char *cmd_hours(cmd_parms *cmd, void *dc, const char *raw)
{
    sdesk_srv_conf_t *sc = srv(cmd);
    const char *err = srv_only(cmd), *why = NULL, *w, *args = "";
    int first = !sc->hours;
    (void)dc;
    if (err) return err;
    /* quoted or not: "Mon-Fri 08:00-16:00" and Mon-Fri 08:00-16:00 alike */
    while (*(w = ap_getword_conf(cmd->pool, &raw)))
        args = *args ? apr_pstrcat(cmd->pool, args, " ", w, NULL) : w;
    if (first) {
        sc->hours = apr_pcalloc(cmd->pool, sizeof(*sc->hours));
        sd_sla_calendar_default(sc->hours, cmd->pool);
    }
    /* the first line of a server replaces the default week; more lines add */
    if (sd_sla_parse_hours(sc->hours, args, first, &why, cmd->pool) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: '%s': %s", cmd->cmd->name, args, why);
    return NULL;
}

static const char *cmd_holiday(cmd_parms *cmd, void *dc, const char *arg)
{
    sdesk_srv_conf_t *sc = srv(cmd);
    const char *err = srv_only(cmd), *why = NULL;
    sd_calendar_t tmp;
    (void)dc;
    if (err) return err;
    if (!sc->holidays) sc->holidays = apr_array_make(cmd->pool, 8, sizeof(apr_int64_t));
    memset(&tmp, 0, sizeof(tmp));
    tmp.holidays = sc->holidays;
    if (sd_sla_add_holiday(&tmp, arg, &why, cmd->pool) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, why);
    return NULL;
}

static const char *cmd_timezone(cmd_parms *cmd, void *dc, const char *arg)
{
    sdesk_srv_conf_t *sc = srv(cmd);
    const char *err = srv_only(cmd), *why = NULL;
    (void)dc;
    if (err) return err;
    sc->zone = apr_pcalloc(cmd->pool, sizeof(*sc->zone));
    sd_sla_calendar_default(sc->zone, cmd->pool);
    if (sd_sla_set_zone(sc->zone, arg, &why, cmd->pool) != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, why);
    return NULL;
}

/* "24x7" or "business" as an optional last word */
static int clock_word(const char *w, int *rtc)
{
    if (!w || !*w) return 1;
    if (!strcasecmp(w, "24x7")) { *rtc = 1; return 1; }
    if (!strcasecmp(w, "business")) { *rtc = 0; return 1; }
    return 0;
}

static const char *cmd_response(cmd_parms *cmd, void *dc, const char *tier, const char *dur,
                                const char *clock)
{
    sdesk_srv_conf_t *sc = srv(cmd);
    const char *err = srv_only(cmd);
    apr_int64_t t, secs = sd_sla_parse_duration(dur);
    int rtc = 0;
    (void)dc;
    if (err) return err;
    if (!sd_query_int(&t, tier, SD_TIER_MIN, SD_TIER_MAX))
        return apr_psprintf(cmd->pool, "%s: tier '%s' is out of range, expected 1..4",
                            cmd->cmd->name, tier);
    if (secs < 0)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a duration such as 30m, 4h, 1h30m, "
                            "2d or none", cmd->cmd->name, dur);
    if (!clock_word(clock, &rtc))
        return apr_psprintf(cmd->pool, "%s: '%s' is neither 24x7 nor business",
                            cmd->cmd->name, clock);
    sc->response_target[t] = secs;
    sc->response_rtc[t] = rtc;
    return NULL;
}

static const char *cmd_resolution(cmd_parms *cmd, void *dc, const char *args)
{
    sdesk_srv_conf_t *sc = srv(cmd);
    const char *err = srv_only(cmd), *w[5];
    apr_int64_t t, secs;
    int n = 0, pr, rtc = 0;
    (void)dc;
    if (err) return err;
    while (n < 5 && *(w[n] = ap_getword_conf(cmd->pool, &args))) ++n;
    if (n < 3 || n > 4)
        return apr_psprintf(cmd->pool, "%s takes: tier priority duration [24x7|business] "
                            "(e.g. '2 high 8h')", cmd->cmd->name);
    if (!sd_query_int(&t, w[0], SD_TIER_MIN, SD_TIER_MAX))
        return apr_psprintf(cmd->pool, "%s: tier '%s' is out of range, expected 1..4",
                            cmd->cmd->name, w[0]);
    if ((pr = sd_priority_from_str(w[1])) < 0)
        return apr_psprintf(cmd->pool, "%s: priority '%s' is not one of critical, urgent, "
                            "high, normal", cmd->cmd->name, w[1]);
    if ((secs = sd_sla_parse_duration(w[2])) < 0)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a duration such as 30m, 4h, 1h30m, "
                            "2d or none", cmd->cmd->name, w[2]);
    if (!clock_word(n == 4 ? w[3] : NULL, &rtc))
        return apr_psprintf(cmd->pool, "%s: '%s' is neither 24x7 nor business",
                            cmd->cmd->name, w[3]);
    sc->resolution_target[t][pr] = secs;
    sc->resolution_rtc[t][pr] = rtc;
    return NULL;
}

static const char *cmd_sla_int(cmd_parms *cmd, void *dc, const char *arg)
{
    int *slot = (int *)((char *)srv(cmd) + (apr_size_t)cmd->info);
    (void)dc;
    if (!strcmp(cmd->cmd->name, SDESK_MAX_ATTACH)) return set_int(cmd, arg, 1, 1 << 30, slot);
    if (!strcmp(cmd->cmd->name, SDESK_MAX_ATTACHES)) return set_int(cmd, arg, 1, 1000, slot);
    if (!strcmp(cmd->cmd->name, SDESK_MAX_ATTACH_SUM)) return set_int(cmd, arg, 1, 100000, slot);
    if (!strcmp(cmd->cmd->name, SDESK_AT_RISK)) return set_int(cmd, arg, 1, 99, slot);
    if (!strcmp(cmd->cmd->name, SDESK_AUTOCLOSE)) return set_int(cmd, arg, 0, 3650, slot);
    return set_int(cmd, arg, 1, 3600, slot);
}

/* SQLite's page cache is per process and connection, not per virtual host. */
static const char *cmd_sqlite_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dc;
    if (err) return err;
    return set_int(cmd, arg, 0, 1048576, &srv(cmd)->sqlite_cache);
}

/* ---- notifications and the widget ------------------------------------------------- */

/* Mail is the main server's job (its database, like the SLA scan): these
 * directives are not taken where they would be ignored. */
static const char *global_only(cmd_parms *cmd)
{
    return ap_check_cmd_context(cmd, GLOBAL_ONLY);
}

/* The mailer runs without a shell: an absolute path to an executable file,
 * then its arguments (quotes group words, as in the config file). */
static const char *cmd_mailer(cmd_parms *cmd, void *dc, const char *arg)
{
    sdesk_srv_conf_t *sc = srv(cmd);
    const char *err = global_only(cmd);
    apr_finfo_t fi;
    char **argv = NULL;
    (void)dc;
    if (err) return err;
    if (apr_tokenize_to_argv(arg, &argv, cmd->pool) != APR_SUCCESS || !argv || !argv[0]
        || !*argv[0])
        return apr_psprintf(cmd->pool, "%s: '%s' names no program; expected e.g. "
                            "\"/usr/sbin/sendmail -t -i\"", cmd->cmd->name, arg);
    if (argv[0][0] != '/')
        return apr_psprintf(cmd->pool, "%s: '%s': the program must be given as an absolute "
                            "path (it is run without a shell or PATH), e.g. "
                            "\"/usr/sbin/sendmail -t -i\"", cmd->cmd->name, arg);
    if (apr_stat(&fi, argv[0], APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS
        || fi.filetype != APR_REG || access(argv[0], X_OK) != 0)
        return apr_psprintf(cmd->pool, "%s: '%s': %s is not an executable file",
                            cmd->cmd->name, arg, argv[0]);
    sc->mailer = arg;
    sc->mailer_argv = (const char **)argv;
    return NULL;
}

static const char *cmd_mail_from(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = global_only(cmd);
    (void)dc;
    if (err) return err;
    if (!sd_mail_addr_ok(arg))
        return apr_psprintf(cmd->pool, "%s: '%s' is not a plain mail address "
                            "(local@domain, no name or brackets)", cmd->cmd->name, arg);
    srv(cmd)->mail_from = arg;
    return NULL;
}

static const char *cmd_public_url(cmd_parms *cmd, void *dc, const char *arg)
{
    apr_size_t len = strlen(arg);
    const char *err = global_only(cmd);
    (void)dc;
    if (err) return err;
    if (!sd_ticket_url_ok(arg) || strpbrk(arg, "?#\"<>") || len > 1000)
        return apr_psprintf(cmd->pool, "%s: '%s' is not an absolute http(s) URL without "
                            "query or fragment, e.g. https://intranet.example/sdesk",
                            cmd->cmd->name, arg);
    while (len > 0 && arg[len - 1] == '/') --len;
    srv(cmd)->public_url = apr_pstrmemdup(cmd->pool, arg, len);
    return NULL;
}

static const char *cmd_mail_interval(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = global_only(cmd);
    (void)dc;
    return err ? err : set_int(cmd, arg, 1, 3600, &srv(cmd)->mail_interval);
}

static const char *cmd_widget(cmd_parms *cmd, void *dcv, int on)
{
    ((sdesk_dir_conf_t *)dcv)->widget = on;
    (void)cmd;
    return NULL;
}

static const char *cmd_widget_base(cmd_parms *cmd, void *dcv, const char *arg)
{
    sdesk_dir_conf_t *dc = dcv;
    apr_size_t len = strlen(arg);
    const char *s;
    for (s = arg; *s; ++s) {
        if (*s <= ' ' || *s >= 0x7f || strchr("?#%\"'<>\\&", *s)) break;
    }
    if (arg[0] != '/' || *s || len > 200)
        return apr_psprintf(cmd->pool, "%s: '%s' is not a URL path starting with '/' (the "
                            "desk's location, e.g. /sdesk)", cmd->cmd->name, arg);
    while (len > 1 && arg[len - 1] == '/') --len;
    dc->widget_base = len == 1 ? "" : apr_pstrmemdup(cmd->pool, arg, len);
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
    AP_INIT_RAW_ARGS(SDESK_HOURS, cmd_hours, NULL, RSRC_CONF,
        "Business hours: days and ranges, e.g. 'Mon-Fri 08:00-16:00' (repeatable)"),
    AP_INIT_ITERATE(SDESK_HOLIDAY, cmd_holiday, NULL, RSRC_CONF,
        "Holidays (YYYY-MM-DD) on which the business-hours clock stands still"),
    AP_INIT_TAKE1(SDESK_TIMEZONE, cmd_timezone, NULL, RSRC_CONF,
        "Zone of the business hours: UTC, an offset such as +03:00, or e.g. Europe/Berlin"),
    AP_INIT_TAKE23(SDESK_RESPONSE, cmd_response, NULL, RSRC_CONF,
        "Response target of a tier: tier duration [24x7|business]"),
    AP_INIT_RAW_ARGS(SDESK_RESOLUTION, cmd_resolution, NULL, RSRC_CONF,
        "Resolution-or-escalation target: tier priority duration [24x7|business]"),
    AP_INIT_TAKE1(SDESK_AT_RISK, cmd_sla_int, OFF(at_risk), RSRC_CONF,
        "Percent of a target used at which a ticket is at-risk (default 75)"),
    AP_INIT_TAKE1(SDESK_AUTOCLOSE, cmd_sla_int, OFF(autoclose_days), RSRC_CONF,
        "Days after which resolved tickets close by themselves; 0 never (default 7)"),
    AP_INIT_TAKE1(SDESK_SCAN_INTERVAL, cmd_sla_int, OFF(scan_interval), RSRC_CONF,
        "Seconds between two SLA scans of the background job (default 60)"),
    AP_INIT_TAKE1(SDESK_SQLITE_CACHE, cmd_sqlite_cache, NULL, RSRC_CONF,
        "SQLite page cache per pooled connection in KiB; 0 = SQLite's default (default 1024)"),
    AP_INIT_TAKE1(SDESK_MAX_ATTACH, cmd_sla_int, OFF(max_attachment), RSRC_CONF,
        "Largest attachment in bytes (default 10485760)"),
    AP_INIT_TAKE1(SDESK_MAX_ATTACHES, cmd_sla_int, OFF(max_attachments), RSRC_CONF,
        "Most attachments per ticket (default 20)"),
    AP_INIT_TAKE1(SDESK_MAX_ATTACH_SUM, cmd_sla_int, OFF(max_attachments_total), RSRC_CONF,
        "Most attachment MiB per ticket (default 100)"),
    AP_INIT_TAKE1(SDESK_MAILER, cmd_mailer, NULL, RSRC_CONF,
        "Program that sends mail, reading recipients from the headers, e.g. "
        "\"/usr/sbin/sendmail -t -i\" (default: no mail)"),
    AP_INIT_TAKE1(SDESK_MAIL_FROM, cmd_mail_from, NULL, RSRC_CONF,
        "From address of notification mail (default: the mailer's)"),
    AP_INIT_TAKE1(SDESK_MAIL_INTERVAL, cmd_mail_interval, NULL, RSRC_CONF,
        "Seconds between two runs of the mail delivery job (default 30)"),
    AP_INIT_TAKE1(SDESK_PUBLIC_URL, cmd_public_url, NULL, RSRC_CONF,
        "Absolute URL of the desk for links in mail, e.g. https://intranet.example/sdesk"),
    AP_INIT_FLAG(SDESK_WIDGET, cmd_widget, NULL, RSRC_CONF | ACCESS_CONF,
        "On: add the 'Report a problem' script to HTML pages here (default Off)"),
    AP_INIT_TAKE1(SDESK_WIDGET_BASE, cmd_widget_base, NULL, RSRC_CONF | ACCESS_CONF,
        "Location of the desk the widget uses (default: the one SetHandler sdesk location)"),
    AP_INIT_TAKE1(SDESK_BASE, cmd_base, NULL, ACCESS_CONF,
        "URL path the desk is served under, where it is not the <Location> of "
        "SetHandler sdesk (e.g. in a <LocationMatch>)"),
    { NULL }
};
