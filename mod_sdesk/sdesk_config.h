/* Directives of mod_sdesk: server-wide settings (directory, support process,
 * limits) and per-location ones. create_* sets every field "unset"; merge
 * takes add over base per field; sdesk_config_resolve() applies defaults once
 * per server in post_config, so request code reads finished structs. */
#ifndef SDESK_CONFIG_H
#define SDESK_CONFIG_H

#include "httpd.h"
#include "http_config.h"
#include "sd_dir.h"
#include "sd_ticket.h"

/* Directive names, defined once. */
#define SDESK_DIR_URL        "SdeskDirectoryURL"
#define SDESK_DIR_BIND_DN    "SdeskDirectoryBindDN"
#define SDESK_DIR_BIND_PW    "SdeskDirectoryBindPassword"
#define SDESK_TENANT_ATTR    "SdeskTenantAttribute"
#define SDESK_NAME_ATTR      "SdeskNameAttribute"
#define SDESK_MAIL_ATTR      "SdeskMailAttribute"
#define SDESK_AGENT_GROUP    "SdeskAgentGroup"
#define SDESK_ADMIN_GROUP    "SdeskAdminGroup"
#define SDESK_DIR_TTL        "SdeskDirectoryCacheTTL"
#define SDESK_DIR_NEG_TTL    "SdeskDirectoryNegativeTTL"
#define SDESK_DIR_CACHE_SIZE "SdeskDirectoryCacheSize"
#define SDESK_DIR_TIMEOUT    "SdeskDirectoryTimeout"
#define SDESK_ENTRY_TIER     "SdeskEntryTier"
#define SDESK_PRIORITY_RULE  "SdeskPriorityRule"
#define SDESK_CATEGORIES     "SdeskCategories"
#define SDESK_COLLEAGUES     "SdeskColleaguesVisible"
#define SDESK_MAX_BODY       "SdeskMaxBody"
#define SDESK_MAX_DEPTH      "SdeskMaxDepth"
#define SDESK_MAX_SUBJECT    "SdeskMaxSubject"
#define SDESK_MAX_DESC       "SdeskMaxDescription"
#define SDESK_MAX_FIELD      "SdeskMaxField"
#define SDESK_RETRY_AFTER    "SdeskRetryAfter"
#define SDESK_BASE           "SdeskBase"
#define SDESK_HOURS          "SdeskBusinessHours"
#define SDESK_HOLIDAY        "SdeskHoliday"
#define SDESK_TIMEZONE       "SdeskTimeZone"
#define SDESK_RESPONSE       "SdeskResponseTarget"
#define SDESK_RESOLUTION     "SdeskResolutionTarget"
#define SDESK_AT_RISK        "SdeskAtRisk"
#define SDESK_AUTOCLOSE      "SdeskAutoCloseDays"
#define SDESK_SCAN_INTERVAL  "SdeskSLAScanInterval"
#define SDESK_SQLITE_CACHE   "SdeskSQLiteCacheSize"
#define SDESK_MAX_ATTACH     "SdeskMaxAttachment"
#define SDESK_MAX_ATTACHES   "SdeskMaxAttachments"
#define SDESK_MAX_ATTACH_SUM "SdeskMaxAttachmentsTotal"
#define SDESK_MAILER         "SdeskMailer"
#define SDESK_MAIL_FROM      "SdeskMailFrom"
#define SDESK_MAIL_INTERVAL  "SdeskMailInterval"
#define SDESK_PUBLIC_URL     "SdeskPublicURL"
#define SDESK_WIDGET         "SdeskWidget"
#define SDESK_WIDGET_BASE    "SdeskWidgetBase"

typedef struct {
    /* as configured; -1 / NULL = unset */
    const char *dir_url, *bind_dn, *bind_pw, *tenant_attr, *name_attr, *mail_attr;
    apr_array_header_t *agent_groups[SD_TIER_MAX + 1];
    apr_array_header_t *admin_groups;
    int cache_ttl, neg_ttl, cache_size, timeout;          /* seconds / entries */
    int entry_tier;
    sd_matrix_t matrix;                                   /* -1 cells unset */
    apr_array_header_t *categories;
    int colleagues;
    int max_body, max_depth, max_subject, max_description, max_field;
    int retry_after;
    /* SLA: -1 / NULL = unset */
    sd_calendar_t *hours;                 /* weekly hours only (SdeskBusinessHours) */
    apr_array_header_t *holidays;         /* apr_int64_t day numbers */
    sd_calendar_t *zone;                  /* zone fields only (SdeskTimeZone) */
    apr_int64_t response_target[SD_TIER_MAX + 1];
    int response_rtc[SD_TIER_MAX + 1];
    apr_int64_t resolution_target[SD_TIER_MAX + 1][SD_PRIO_COUNT];
    int resolution_rtc[SD_TIER_MAX + 1][SD_PRIO_COUNT];
    int at_risk, autoclose_days, scan_interval;
    int sqlite_cache;                     /* KiB per SQLite connection (main server) */
    int max_attachment, max_attachments, max_attachments_total;   /* bytes, files, MiB */
    /* notifications: NULL / -1 = unset */
    const char *mailer;                   /* SdeskMailer as written; NULL: no mail */
    const char **mailer_argv;             /* the same split into words */
    const char *mail_from, *public_url;
    int mail_interval;

    /* resolved in post_config (sdesk_config_resolve) */
    sd_desk_conf_t *desk;
    sd_dir_conf_t *dirc;
    int retry_after_s;
    int scan_interval_s;
    int mail_interval_s;
    sd_dir_t *dir;            /* per child, set in child_init */
} sdesk_srv_conf_t;

typedef struct {
    const char *base;         /* SdeskBase: the API's {base}; NULL: the <Location> */
    int widget;               /* SdeskWidget: 1 on, 0 off, -1 unset */
    const char *widget_base;  /* SdeskWidgetBase; NULL: the one desk location */
} sdesk_dir_conf_t;

extern const command_rec sdesk_cmds[];

void *sdesk_config_create_srv(apr_pool_t *p, server_rec *s);
void *sdesk_config_merge_srv(apr_pool_t *p, void *basev, void *addv);
void *sdesk_config_create_dir(apr_pool_t *p, char *dir);
void *sdesk_config_merge_dir(apr_pool_t *p, void *basev, void *addv);

/* Apply defaults and build the lib structs for server s. */
void sdesk_config_resolve(sdesk_srv_conf_t *sc, apr_pool_t *p);

sdesk_srv_conf_t *sdesk_config_srv(const server_rec *s);
sdesk_dir_conf_t *sdesk_config_dir(const request_rec *r);

#endif /* SDESK_CONFIG_H */
