/* SQL fragments shared between sd_store_sql.c and the composers in sd_desk.c. */
#ifndef SD_STORE_SQL_H
#define SD_STORE_SQL_H

/* Column order of a ticket row (sd_desk.c maps it). */
#define SD_SQL_TICKET_COLS \
    "id, tenant, subject, description, category, urgency, impact, priority, status, tier," \
    " environment, service, encounter_id, device_id, device_model, device_os," \
    " device_app_version, page_url, cc, context, reporter, reporter_name, reporter_email," \
    " assignee, known_issue_id, created_at, updated_at, tier_started_at, response_due_at," \
    " resolution_due_at, first_response_at, resolved_at, closed_at, sla_breached, version," \
    " responded_at, pending_since, paused_seconds"
#define SD_SQL_TICKET_NCOLS 38
/* The same row shape for lists: the long text a summary never shows
 * (description, service, encounter, device, page URL, cc, context) stays in
 * the database. Under SQLite's driver mutex every column of every row is
 * copied, and lists are the most frequent request (make bench, issue 8). */
#define SD_SQL_TICKET_SUMMARY_COLS \
    "id, tenant, subject, NULL, category, urgency, impact, priority, status, tier," \
    " environment, NULL, NULL, NULL, NULL, NULL," \
    " NULL, NULL, NULL, NULL, reporter, reporter_name, reporter_email," \
    " assignee, known_issue_id, created_at, updated_at, tier_started_at, response_due_at," \
    " resolution_due_at, first_response_at, resolved_at, closed_at, sla_breached, version," \
    " responded_at, pending_since, paused_seconds"

#define SD_SQL_KI_COLS \
    "k.id, k.tenant, k.title, k.symptoms, k.workaround, k.resolution, k.status, k.services," \
    " k.categories, k.created_by, k.created_at, k.updated_at, k.resolved_at, k.version"
#define SD_SQL_KI_NCOLS 14

/* Queue order: resolution due time, tickets without one (tier 4) last. */
#define SD_SQL_DUE "COALESCE(resolution_due_at, 253402300799)"

typedef enum {
    SD_LF_REPORTER = 0, SD_LF_STATUS, SD_LF_ACTIVE, SD_LF_DONE, SD_LF_PRIORITY,
    SD_LF_CATEGORY, SD_LF_TIER, SD_LF_TIERS, SD_LF_ASSIGNEE, SD_LF_TEXT, SD_LF_AFTER_ID, SD_LF_AFTER_DUE,
    SD_LF_COUNT
} sd_list_frag_e;

/* The label of statement i (0, 1, ...), NULL past the last: lets a tool
 * list every statement (tools/sd_sqldump.c, the query-plan check of
 * `make bench-scale`). */
const char *sd_store_sql_label(int i);

extern const char *const sd_sql_list_head;
/* The fragment for the connection's dialect. */
const char *sd_sql_list_fragment(int f, int kind);
extern const char *const sd_sql_list_order_id;
extern const char *const sd_sql_list_order_due;

extern const char *const sd_sql_ki_list_head;
extern const char *const sd_sql_ki_list_status;
extern const char *const sd_sql_ki_list_after;
extern const char *const sd_sql_ki_list_order;
const char *sd_sql_ki_list_text(int kind);

#endif /* SD_STORE_SQL_H */
