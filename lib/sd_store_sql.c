/* All SQL of mod_sdesk, label -> text, in apr_dbd's portable placeholders
 * (%s, never ? or $1). Where the dialects differ a statement has a pgsql
 * override. Values always travel as parameters; fragments for composed
 * statements (ticket lists) hold no request data. */
#include <string.h>
#include "sd_store.h"
#include "sd_store_sql.h"

typedef struct {
    const char *label;
    const char *sql;          /* both dialects */
    const char *pgsql;        /* PostgreSQL override, or NULL */
} stmt_t;

static const stmt_t stmts[] = {
    { "sdesk_insert_ticket",
      "INSERT INTO tickets (tenant, subject, description, category, urgency, impact, priority,"
      " status, tier, environment, service, encounter_id, device_id, device_model, device_os,"
      " device_app_version, page_url, cc, context, reporter, reporter_name, reporter_email,"
      " created_at, updated_at, tier_started_at, response_due_at, resolution_due_at)"
      " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
      " %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id", NULL },
    { "sdesk_insert_event",
      "INSERT INTO ticket_events (tenant, ticket_id, at, actor, kind, field, old_value,"
      " new_value, note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id", NULL },
    { "sdesk_insert_outbox",
      "INSERT INTO outbox (tenant, ticket_id, event_id, kind, payload, created_at,"
      " next_attempt_at) VALUES (%s, %s, %s, %s, %s, %s, %s)", NULL },
    { "sdesk_get_ticket",
      "SELECT " SD_SQL_TICKET_COLS " FROM tickets WHERE tenant = %s AND id = %s", NULL },
    { "sdesk_list_comments",
      "SELECT id, author, author_name, body, internal, created_at FROM comments"
      " WHERE tenant = %s AND ticket_id = %s ORDER BY id", NULL },
    { "sdesk_list_public_comments",
      "SELECT id, author, author_name, body, internal, created_at FROM comments"
      " WHERE tenant = %s AND ticket_id = %s AND internal = 0 ORDER BY id", NULL },
    { "sdesk_list_attachments",
      "SELECT id, filename, media_type, size, created_at FROM attachments"
      " WHERE tenant = %s AND ticket_id = %s ORDER BY id", NULL },
    { "sdesk_list_events",
      "SELECT id, at, actor, kind, field, old_value, new_value, note FROM ticket_events"
      " WHERE tenant = %s AND ticket_id = %s ORDER BY id", NULL },
    { NULL, NULL, NULL }
};

const char *sd_store_sql(const char *label, int kind)
{
    const stmt_t *s;
    for (s = stmts; s->label; ++s) {
        if (!strcmp(s->label, label))
            return (kind == SD_DB_PGSQL && s->pgsql) ? s->pgsql : s->sql;
    }
    return NULL;
}

/* Fragments of the ticket list (sd_desk composes them, caching each shape). */
const char *const sd_sql_list_head =
    "SELECT " SD_SQL_TICKET_COLS " FROM tickets WHERE tenant = %s";
const char *const sd_sql_list_frag[SD_LF_COUNT] = {
    [SD_LF_REPORTER]     = " AND reporter = %s",
    [SD_LF_STATUS]       = " AND status = %s",
    [SD_LF_ACTIVE]       = " AND status IN ('new', 'open', 'pending')",
    [SD_LF_DONE]         = " AND status IN ('resolved', 'closed')",
    [SD_LF_PRIORITY]     = " AND priority = %s",
    [SD_LF_CATEGORY]     = " AND category = %s",
    [SD_LF_TIER]         = " AND tier = %s",
    [SD_LF_TIERS]        = " AND tier IN (%s, %s, %s, %s)",
    [SD_LF_ASSIGNEE]     = " AND assignee = %s",
    [SD_LF_TEXT]         = " AND (subject LIKE %s ESCAPE '\\' OR description LIKE %s ESCAPE '\\')",
    [SD_LF_AFTER_ID]     = " AND id < %s",
    /* The expression has no type affinity in SQLite: cast the text
     * parameter, or integers never compare equal to it. */
    [SD_LF_AFTER_DUE]    = " AND (" SD_SQL_DUE " > CAST(%s AS BIGINT) OR (" SD_SQL_DUE
                           " = CAST(%s AS BIGINT) AND id > %s))",
};
const char *const sd_sql_list_order_id = " ORDER BY id DESC LIMIT %s";
const char *const sd_sql_list_order_due = " ORDER BY " SD_SQL_DUE ", id LIMIT %s";
