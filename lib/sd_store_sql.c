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
    { "sdesk_get_ticket_for_update",
      "SELECT " SD_SQL_TICKET_COLS " FROM tickets WHERE tenant = %s AND id = %s",
      "SELECT " SD_SQL_TICKET_COLS " FROM tickets WHERE tenant = %s AND id = %s FOR UPDATE" },
    { "sdesk_update_ticket",
      "UPDATE tickets SET status = %s, priority = %s, category = %s, assignee = %s, tier = %s,"
      " cc = %s, description = %s, tier_started_at = %s, response_due_at = %s,"
      " resolution_due_at = %s, responded_at = %s, first_response_at = %s, resolved_at = %s,"
      " closed_at = %s, pending_since = %s, paused_seconds = %s, sla_breached = %s,"
      " known_issue_id = %s, updated_at = %s, version = version + 1"
      " WHERE tenant = %s AND id = %s AND version = %s", NULL },
    { "sdesk_insert_comment",
      "INSERT INTO comments (tenant, ticket_id, author, author_name, body, internal, created_at)"
      " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id", NULL },
    { "sdesk_insert_stint",
      "INSERT INTO ticket_tiers (tenant, ticket_id, tier, priority, category, started_at,"
      " response_due_at, resolution_due_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", NULL },
    { "sdesk_update_stint",
      "UPDATE ticket_tiers SET priority = %s, category = %s, response_due_at = %s,"
      " resolution_due_at = %s, responded_at = %s, breached = %s"
      " WHERE tenant = %s AND ticket_id = %s AND ended_at IS NULL", NULL },
    { "sdesk_end_stint",
      "UPDATE ticket_tiers SET ended_at = %s, outcome = %s"
      " WHERE tenant = %s AND ticket_id = %s AND ended_at IS NULL", NULL },
    /* The background scans look across tenants by nature; every write they
     * lead to names the ticket's tenant. */
    { "sdesk_scan_breaches",
      "SELECT " SD_SQL_TICKET_COLS " FROM tickets WHERE status IN ('new', 'open', 'pending')"
      " AND ((responded_at IS NULL AND response_due_at < CAST(%s AS BIGINT)"
      "       AND (sla_breached & 1) = 0)"
      "   OR (status <> 'pending' AND resolution_due_at < CAST(%s AS BIGINT)"
      "       AND (sla_breached & 2) = 0))"
      " ORDER BY id LIMIT 200", NULL },
    { "sdesk_scan_autoclose",
      "SELECT " SD_SQL_TICKET_COLS " FROM tickets WHERE status = 'resolved'"
      " AND resolved_at < CAST(%s AS BIGINT) ORDER BY id LIMIT 200", NULL },
    { "sdesk_report_stints",
      "SELECT tier, priority, category, started_at, response_due_at, resolution_due_at,"
      " responded_at, ended_at, outcome, breached FROM ticket_tiers"
      " WHERE tenant = %s AND started_at >= CAST(%s AS BIGINT)"
      " AND started_at < CAST(%s AS BIGINT)", NULL },
    /* known issues: the tenant's own and the global ones (tenant '') */
    { "sdesk_insert_ki",
      "INSERT INTO known_issues (tenant, title, symptoms, workaround, resolution, status,"
      " services, categories, created_by, created_at, updated_at, resolved_at)"
      " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id", NULL },
    { "sdesk_get_ki",
      "SELECT " SD_SQL_KI_COLS ", (SELECT COUNT(*) FROM tickets t WHERE t.known_issue_id = k.id"
      " AND t.tenant = %s) FROM known_issues k WHERE k.id = %s AND k.tenant IN (%s, '')", NULL },
    { "sdesk_get_ki_for_update",
      "SELECT " SD_SQL_KI_COLS " FROM known_issues k WHERE k.id = %s AND k.tenant IN (%s, '')",
      "SELECT " SD_SQL_KI_COLS " FROM known_issues k WHERE k.id = %s AND k.tenant IN (%s, '')"
      " FOR UPDATE" },
    { "sdesk_update_ki",
      "UPDATE known_issues SET title = %s, symptoms = %s, workaround = %s, resolution = %s,"
      " status = %s, services = %s, categories = %s, updated_at = %s, resolved_at = %s,"
      " version = version + 1 WHERE id = %s AND tenant = %s AND version = %s", NULL },
    /* every active ticket linked to an issue, whatever its tenant: a global
     * issue is resolved for all; each ticket is then written with its own */
    { "sdesk_linked_active_tickets",
      "SELECT " SD_SQL_TICKET_COLS " FROM tickets WHERE known_issue_id = %s"
      " AND status IN ('new', 'open', 'pending') ORDER BY id", NULL },
    /* attachments: the bytes are the last parameter (%pDb) */
    { "sdesk_insert_attachment",
      "INSERT INTO attachments (tenant, ticket_id, filename, media_type, size, sha256,"
      " created_by, created_at, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %pDb)"
      " RETURNING id", NULL },
    { "sdesk_insert_attachment_comment",
      "INSERT INTO attachments (tenant, ticket_id, comment_id, filename, media_type, size,"
      " sha256, created_by, created_at, data)"
      " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %pDb) RETURNING id", NULL },
    { "sdesk_attachment_stats",
      "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM attachments"
      " WHERE tenant = %s AND ticket_id = %s", NULL },
    { "sdesk_attachment_by_sha",
      "SELECT id, filename, media_type, size, created_at, sha256 FROM attachments"
      " WHERE tenant = %s AND ticket_id = %s AND sha256 = %s", NULL },
    { "sdesk_attachment_meta",
      "SELECT id, filename, media_type, size, created_at, sha256 FROM attachments"
      " WHERE tenant = %s AND ticket_id = %s AND id = %s", NULL },
    { "sdesk_attachment_data",
      "SELECT data FROM attachments WHERE tenant = %s AND ticket_id = %s AND id = %s", NULL },
    /* the attachment is the caller's (checked by tenant and ticket first) */
    { "sdesk_insert_chunk",
      "INSERT INTO attachment_chunks (attachment_id, seq, data) VALUES (%s, %s, %pDb)"
      " RETURNING seq", NULL },
    { "sdesk_chunk_count",
      "SELECT COUNT(*) FROM attachment_chunks WHERE attachment_id = %s", NULL },
    { "sdesk_chunk_data",
      "SELECT data FROM attachment_chunks WHERE attachment_id = %s AND seq = %s", NULL },
    /* the suggestion index's change feed: every tenant (the index answers
     * per tenant; hits are looked up again under the tenant) */
    { "sdesk_feed_ki_all",
      "SELECT id, tenant, title, symptoms, workaround, status, updated_at FROM known_issues"
      " WHERE status <> 'resolved' ORDER BY id", NULL },
    { "sdesk_feed_ki_since",
      "SELECT id, tenant, title, symptoms, workaround, status, updated_at FROM known_issues"
      " WHERE updated_at >= CAST(%s AS BIGINT) ORDER BY updated_at, id", NULL },
    { "sdesk_feed_tickets_all",
      "SELECT id, tenant, subject, description, status, updated_at FROM tickets"
      " WHERE status IN ('new', 'open', 'pending') ORDER BY id", NULL },
    { "sdesk_feed_tickets_since",
      "SELECT id, tenant, subject, description, status, updated_at FROM tickets"
      " WHERE updated_at >= CAST(%s AS BIGINT) ORDER BY updated_at, id", NULL },
    { "sdesk_suggest_ki",
      "SELECT id, title, workaround FROM known_issues WHERE tenant IN (%s, '')"
      " AND status <> 'resolved' AND id IN (%s, %s, %s, %s, %s)", NULL },
    { "sdesk_suggest_tickets",
      "SELECT id, subject, status FROM tickets WHERE tenant = %s"
      " AND status IN ('new', 'open', 'pending') AND id IN (%s, %s, %s, %s, %s)", NULL },
    /* the outbox: the delivery job reads across tenants (the server's job,
     * like the scans); every write names the row's tenant. A row is claimed
     * by moving attempts on from the value seen: one claimer wins. */
    { "sdesk_outbox_due",
      "SELECT id, tenant, ticket_id, event_id, kind, attempts, created_at FROM outbox"
      " WHERE delivered_at IS NULL AND next_attempt_at <= CAST(%s AS BIGINT)"
      " AND attempts < CAST(%s AS INTEGER) ORDER BY next_attempt_at, id LIMIT %s", NULL },
    { "sdesk_outbox_claim",
      "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = %s"
      " WHERE tenant = %s AND id = %s AND attempts = %s AND delivered_at IS NULL"
      " AND next_attempt_at <= CAST(%s AS BIGINT)", NULL },
    { "sdesk_outbox_done",
      "UPDATE outbox SET delivered_at = %s, last_error = %s"
      " WHERE tenant = %s AND id = %s AND attempts = %s AND delivered_at IS NULL", NULL },
    { "sdesk_outbox_retry",
      "UPDATE outbox SET next_attempt_at = %s, last_error = %s"
      " WHERE tenant = %s AND id = %s AND attempts = %s AND delivered_at IS NULL", NULL },
    { "sdesk_get_event",
      "SELECT id, at, actor, kind, field, old_value, new_value, note FROM ticket_events"
      " WHERE tenant = %s AND ticket_id = %s AND id = %s", NULL },
    { NULL, NULL, NULL }
};

/* The page's ids first (the tenant's and the global issues are two index
 * ranges, so the ids are sorted: only ids, from the covering index), then
 * the rows and their linked-ticket counts for that page only. Sorting whole
 * rows with the count computed for every match made the list O(issues). */
const char *const sd_sql_ki_list_head =
    "SELECT " SD_SQL_KI_COLS ", (SELECT COUNT(*) FROM tickets t WHERE t.known_issue_id = k.id"
    " AND t.tenant = %s) FROM known_issues k WHERE k.id IN (SELECT k.id FROM known_issues k"
    " WHERE k.tenant IN (%s, '')";
const char *const sd_sql_ki_list_status = " AND k.status = %s";
const char *const sd_sql_ki_list_after = " AND k.id < %s";
const char *const sd_sql_ki_list_order = " ORDER BY k.id DESC LIMIT %s) ORDER BY k.id DESC";

const char *sd_sql_ki_list_text(int kind)
{
    return kind == SD_DB_PGSQL ? " AND k.search @@ plainto_tsquery('simple', %s)"
        : " AND k.id IN (SELECT rowid FROM known_issues_fts WHERE known_issues_fts MATCH %s)";
}

const char *sd_store_sql_label(int i)
{
    int n = (int)(sizeof(stmts) / sizeof(stmts[0])) - 1;
    return (i >= 0 && i < n) ? stmts[i].label : NULL;
}

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
    "SELECT " SD_SQL_TICKET_SUMMARY_COLS " FROM tickets WHERE tenant = %s";
static const char *const list_frag[SD_LF_COUNT] = {
    [SD_LF_REPORTER]     = " AND reporter = %s",
    [SD_LF_STATUS]       = " AND status = %s",
    [SD_LF_ACTIVE]       = " AND status IN ('new', 'open', 'pending')",
    [SD_LF_DONE]         = " AND status IN ('resolved', 'closed')",
    [SD_LF_PRIORITY]     = " AND priority = %s",
    [SD_LF_CATEGORY]     = " AND category = %s",
    [SD_LF_TIER]         = " AND tier = %s",
    [SD_LF_TIERS]        = " AND tier IN (%s, %s, %s, %s)",
    [SD_LF_ASSIGNEE]     = " AND assignee = %s",
    /* the parameter is an FTS5 query of quoted phrases built by sd_desk */
    [SD_LF_TEXT]         = " AND id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH %s)",
    [SD_LF_AFTER_ID]     = " AND id < %s",
    /* The expression has no type affinity in SQLite: cast the text
     * parameter, or integers never compare equal to it. */
    [SD_LF_AFTER_DUE]    = " AND (" SD_SQL_DUE " > CAST(%s AS BIGINT) OR (" SD_SQL_DUE
                           " = CAST(%s AS BIGINT) AND id > %s))",
};
const char *sd_sql_list_fragment(int f, int kind)
{
    if (f == SD_LF_TEXT && kind == SD_DB_PGSQL)
        return " AND search @@ plainto_tsquery('simple', %s)";
    return (f >= 0 && f < SD_LF_COUNT) ? list_frag[f] : "";
}

const char *const sd_sql_list_order_id = " ORDER BY id DESC LIMIT %s";
const char *const sd_sql_list_order_due = " ORDER BY " SD_SQL_DUE ", id LIMIT %s";
