/* The ticket model: fields, validation of a new ticket from JSON, the JSON
 * representations (full and summary), and the allowed status transitions.
 * Pure: no I/O. */
#ifndef SD_TICKET_H
#define SD_TICKET_H

#include <jansson.h>
#include "sd.h"
#include "sd_problem.h"
#include "sd_priority.h"
#include "sd_sla.h"

/* What the desk is configured with (read-only after start-up). */
typedef struct {
    sd_limits_t limits;
    sd_matrix_t matrix;
    apr_array_header_t *categories;    /* const char * */
    int entry_tier;
    int colleagues_visible;            /* reporters may use scope=tenant */
    /* SLA targets in seconds per tier (1..4) and priority; 0 = none.
     * *_rtc: the target runs round the clock instead of business hours. */
    apr_int64_t response_target[SD_TIER_MAX + 1];
    int response_rtc[SD_TIER_MAX + 1];
    apr_int64_t resolution_target[SD_TIER_MAX + 1][SD_PRIO_COUNT];
    int resolution_rtc[SD_TIER_MAX + 1][SD_PRIO_COUNT];
    double at_risk_share;              /* share of a target used that is "at-risk" */
    sd_calendar_t calendar;            /* business hours, holidays, zone */
    apr_int64_t max_attachment;        /* bytes per file */
    int max_attachments;               /* files per ticket */
    apr_int64_t max_attachments_total; /* bytes per ticket */
    int autoclose_days;                /* resolved -> closed after this many days; 0 never */
} sd_desk_conf_t;

void sd_desk_conf_default(sd_desk_conf_t *c, apr_pool_t *p);
int sd_desk_conf_has_category(const sd_desk_conf_t *c, const char *cat);

typedef struct {
    apr_int64_t id;
    apr_int64_t at;
    const char *actor, *kind, *field, *old_value, *new_value, *note;
} sd_event_t;

typedef struct {
    apr_int64_t id;
    const char *author, *author_name, *body;
    int internal;
    apr_int64_t created_at;
} sd_comment_t;

typedef struct {
    apr_int64_t id;
    const char *filename, *media_type;
    apr_int64_t size, created_at;
    const char *sha256;           /* hex; loaded for downloads */
} sd_attachment_meta_t;

/* Times are Unix seconds (UTC); 0 means "not set". Enum fields are -1 when
 * absent. */
typedef struct {
    apr_int64_t id;
    const char *tenant;
    const char *subject, *description, *category;
    int urgency, impact, priority, status, tier, environment;
    const char *service, *encounter_id, *page_url;
    int has_device;
    const char *device_id, *device_model, *device_os, *device_app_version;
    const char *cc_json;          /* stored JSON array of strings */
    const char *context_json;     /* stored JSON object of strings */
    const char *reporter, *reporter_name, *reporter_email;
    const char *assignee;
    apr_int64_t known_issue_id;
    const char *ki_title, *ki_status, *ki_workaround;   /* full view, when linked */
    apr_int64_t created_at, updated_at, tier_started_at;
    apr_int64_t response_due_at, resolution_due_at;
    apr_int64_t first_response_at, resolved_at, closed_at;
    apr_int64_t responded_at;     /* first public agent answer in the current tier */
    apr_int64_t pending_since;    /* waiting on the reporter since (clock paused) */
    apr_int64_t paused_seconds;   /* business seconds paused in the current tier */
    int sla_breached;             /* SD_SLA_BREACH_* bits */
    int version;
    /* Loaded for the full view only (NULL otherwise). */
    apr_array_header_t *comments;     /* sd_comment_t */
    apr_array_header_t *attachments;  /* sd_attachment_meta_t */
    apr_array_header_t *events;       /* sd_event_t; agents only */
} sd_ticket_t;

/* Validate a POST body into t (fields that the client may set). is_agent
 * decides who wins when priority and urgency x impact disagree.
 * SD_EINVALID with field errors in prob. */
apr_status_t sd_ticket_from_json(sd_ticket_t *t, const json_t *body, const sd_desk_conf_t *conf,
                                 int is_agent, sd_problem_t *prob, apr_pool_t *p);

#define SD_SLA_BREACH_RESPONSE   0x01
#define SD_SLA_BREACH_RESOLUTION 0x02

/* May an agent move a ticket from status `from` to `to` by PATCH? (Reopening
 * resolved/closed tickets goes through sd_desk_ticket_reopen.) */
int sd_ticket_transition_ok(int from, int to);

/* Set the status at `now`, keeping the clock right: entering pending pauses
 * the resolution clock, leaving it adds the business time paused and moves
 * the due time; resolved/closed stamp their times. */
void sd_ticket_set_status(sd_ticket_t *t, int status, const sd_desk_conf_t *conf,
                          apr_int64_t now);
/* Start the clock of the current tier afresh at `now` (new tier, reopen). */
void sd_ticket_restart_clock(sd_ticket_t *t, const sd_desk_conf_t *conf, apr_int64_t now);
/* Recompute both due times from the tier's start, priority and pauses. */
void sd_ticket_recompute_dues(sd_ticket_t *t, const sd_desk_conf_t *conf);

/* "SD-<id>" */
const char *sd_ticket_key(apr_int64_t id, apr_pool_t *p);

/* SLA state word at time now: "ok", "at-risk", "breached". */
const char *sd_ticket_sla(const sd_ticket_t *t, const sd_desk_conf_t *conf, apr_int64_t now);

/* Representations, owned by p. Full: every field, comments (internal ones
 * only when with_internal), attachments, and events when with_events. */
json_t *sd_ticket_json(const sd_ticket_t *t, const sd_desk_conf_t *conf, int with_internal,
                       int with_events, apr_int64_t now, apr_pool_t *p);
json_t *sd_ticket_summary_json(const sd_ticket_t *t, const sd_desk_conf_t *conf,
                               apr_int64_t now, apr_pool_t *p);

/* Is the e-mail address plausible (no spaces, controls, brackets, commas;
 * one @; local and domain parts within RFC 5321 lengths)? */
int sd_ticket_email_ok(const char *addr);
/* Absolute http(s) URL without spaces or control characters? */
int sd_ticket_url_ok(const char *url);

#endif /* SD_TICKET_H */
