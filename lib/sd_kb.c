/* Known issues: validation, representation, create, get, list. Changes that
 * touch tickets (resolve cascade) sit in sd_desk_change.c. See sd_kb.h. */
#include <string.h>
#include <apr_strings.h>

#include "sd_kb.h"
#include "sd_cursor.h"
#include "sd_json.h"
#include "sd_query.h"
#include "sd_store_sql.h"
#include "sd_time.h"
#include "sd_log.h"
#include "sd_private.h"

#define I64(v) sd_store_i64((v), p)

static const char *const ki_status_words[SD_KI_COUNT] = { "active", "monitoring", "resolved" };

const char *sd_kb_status_str(int s)
{
    return (s >= 0 && s < SD_KI_COUNT) ? ki_status_words[s] : NULL;
}

int sd_kb_status_from_str(const char *s)
{
    int i;
    for (i = 0; s && i < SD_KI_COUNT; ++i)
        if (!strcmp(s, ki_status_words[i])) return i;
    return -1;
}

/* A JSON array of short strings, rebuilt from the validated values. */
static const char *string_list(const json_t *arr, const char *field, int check_category,
                               const sd_desk_conf_t *c, sd_problem_t *prob, apr_pool_t *p)
{
    json_t *out = sd_json_own(p, json_array());
    const json_t *v;
    apr_size_t i;
    json_array_foreach(arr, i, v) {
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        const char *f = apr_psprintf(p, "%s[%lu]", field, (unsigned long)i);
        if (!s || sd_str_blank(s) || sd_utf8_chars(s) > (apr_size_t)c->limits.max_field
            || sd_utf8_has_control(s, 0))
            sd_problem_field(prob, f, "must be a short line of text");
        else if (check_category && !sd_desk_conf_has_category(c, s))
            sd_problem_field(prob, f, "is not one of the configured categories");
        else
            json_array_append_new(out, json_string(s));
    }
    return sd_json_dump(out, p);
}

apr_status_t sd_kb_from_json(sd_kb_input_t *in, const json_t *body, int create,
                             const sd_desk_conf_t *c, sd_problem_t *prob, apr_pool_t *p)
{
    const sd_json_field_t fields[] = {
        { "title",      SD_JT_STRING, create ? SD_JF_REQUIRED : 0, c->limits.max_subject },
        { "symptoms",   SD_JT_TEXT,   0, c->limits.max_description },
        { "workaround", SD_JT_TEXT,   0, c->limits.max_description },
        { "resolution", SD_JT_TEXT,   SD_JF_NULLABLE, c->limits.max_description },
        { "status",     SD_JT_STRING, 0, 32 },
        { "services",   SD_JT_ARRAY,  0, 20 },
        { "categories", SD_JT_ARRAY,  0, SD_MAX_CATEGORIES },
        { "scope",      SD_JT_STRING, 0, 16 },     /* create only: checked below */
    };
    const json_t *v;
    const char *s;

    memset(in, 0, sizeof(*in));
    sd_json_check(body, fields, sizeof(fields) / sizeof(fields[0]), "", prob);
#define TEXT(name) if ((s = sd_json_str(body, #name))) { in->has_##name = 1; \
        in->name = apr_pstrdup(p, s); }
    TEXT(title);
    TEXT(symptoms);
    TEXT(workaround);
    TEXT(resolution);
#undef TEXT
    if (json_is_null(json_object_get(body, "resolution"))) in->has_resolution = 1;
    if (in->has_title && sd_str_blank(in->title))
        sd_problem_field(prob, "title", "must not be blank");
    if ((s = sd_json_str(body, "status"))) {
        in->has_status = 1;
        if ((in->status = sd_kb_status_from_str(s)) < 0)
            sd_problem_field(prob, "status", "is not one of active, monitoring, resolved");
    }
    if ((v = json_object_get(body, "services")) && json_is_array(v)) {
        in->has_services = 1;
        in->services_json = string_list(v, "services", 0, c, prob, p);
    }
    if ((v = json_object_get(body, "categories")) && json_is_array(v)) {
        in->has_categories = 1;
        in->categories_json = string_list(v, "categories", 1, c, prob, p);
    }
    if ((s = sd_json_str(body, "scope"))) {
        in->has_scope = 1;
        if (!create)
            sd_problem_field(prob, "scope", "cannot be changed; file a new known issue");
        else if (!strcmp(s, "global"))
            in->global = 1;
        else if (strcmp(s, "tenant"))
            sd_problem_field(prob, "scope", "is not one of tenant, global");
    }
    if (sd_problem_has_errors(prob))
        return sd_problem_set(prob, SD_EINVALID, SD_PT_INVALID, "One or more fields are invalid.");
    return APR_SUCCESS;
}

void sd_kb_from_row(sd_kb_issue_t *ki, const char **c, int ncols)
{
    memset(ki, 0, sizeof(*ki));
    ki->id = sd_store_to_i64(c[0]);
    ki->tenant = c[1] ? c[1] : "";
    ki->title = c[2];
    ki->symptoms = c[3] ? c[3] : "";
    ki->workaround = c[4] ? c[4] : "";
    ki->resolution = c[5];
    ki->status = sd_kb_status_from_str(c[6]);
    ki->services_json = c[7];
    ki->categories_json = c[8];
    ki->created_by = c[9];
    ki->created_at = sd_store_to_i64(c[10]);
    ki->updated_at = sd_store_to_i64(c[11]);
    ki->resolved_at = sd_store_to_i64(c[12]);
    ki->version = (int)sd_store_to_i64(c[13]);
    if (ncols > SD_SQL_KI_NCOLS) ki->linked = sd_store_to_i64(c[SD_SQL_KI_NCOLS]);
}

static json_t *stored_array(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_array(j)) {
        if (j) json_decref(j);
        j = json_array();
    }
    return j;
}

static json_t *jtime(apr_int64_t sec, apr_pool_t *p)
{
    return sec ? json_string(sd_time_rfc3339(sd_time_from_sec(sec), p)) : json_null();
}

json_t *sd_kb_json(const sd_kb_issue_t *ki, apr_pool_t *p)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(ki->id));
    json_object_set_new(j, "title", json_string(ki->title ? ki->title : ""));
    json_object_set_new(j, "symptoms", json_string(ki->symptoms));
    json_object_set_new(j, "workaround", json_string(ki->workaround));
    json_object_set_new(j, "resolution", ki->resolution ? json_string(ki->resolution)
                                                        : json_null());
    json_object_set_new(j, "status", json_string(sd_kb_status_str(ki->status)
                                                 ? sd_kb_status_str(ki->status) : "active"));
    json_object_set_new(j, "scope", json_string(*ki->tenant ? "tenant" : "global"));
    json_object_set_new(j, "services", stored_array(ki->services_json));
    json_object_set_new(j, "categories", stored_array(ki->categories_json));
    json_object_set_new(j, "linked_tickets", json_integer(ki->linked));
    json_object_set_new(j, "created_at", jtime(ki->created_at, p));
    json_object_set_new(j, "updated_at", jtime(ki->updated_at, p));
    json_object_set_new(j, "resolved_at", jtime(ki->resolved_at, p));
    return sd_json_own(p, j);
}

apr_status_t sd_kb_get(sd_kb_issue_t **pki, sd_db_t *db, const sd_actor_t *who, apr_int64_t id,
                       sd_problem_t *prob, apr_pool_t *p)
{
    const char *args[3] = { who->user->tenant, I64(id), who->user->tenant };
    sd_rows_t *rows;
    sd_kb_issue_t *ki;
    apr_status_t rv = sd_store_select(&rows, db, "sdesk_get_ki", 3, args, p);
    *pki = NULL;
    if (rv != APR_SUCCESS) return rv;
    if (rows->nrows != 1)
        return sd_problem_set(prob, SD_ENOTFOUND, SD_PT_NOT_FOUND,
                              "There is no known issue %" APR_INT64_T_FMT " that you can see.", id);
    ki = apr_palloc(p, sizeof(*ki));
    sd_kb_from_row(ki, rows->cell[0], rows->ncols);
    *pki = ki;
    return APR_SUCCESS;
}

static apr_status_t may_maintain(const sd_actor_t *who, int global, sd_problem_t *prob)
{
    if (global && !(who->user->roles & SD_ROLE_ADMIN))
        return sd_problem_set(prob, SD_EFORBIDDEN, SD_PT_FORBIDDEN,
                              "Global known issues are maintained by administrators.");
    if (!sd_actor_is_agent(who))
        return sd_problem_set(prob, SD_EFORBIDDEN, SD_PT_FORBIDDEN,
                              "Known issues are maintained by support agents.");
    return APR_SUCCESS;
}

typedef struct {
    const sd_actor_t *who;
    const sd_kb_input_t *in;
    apr_int64_t id;
} create_t;

static apr_status_t create_txn(void *baton, sd_db_t *db, apr_pool_t *p)
{
    create_t *b = baton;
    const sd_kb_input_t *in = b->in;
    const char *now = I64(b->who->now);
    const char *args[12] = {
        in->global ? "" : b->who->user->tenant, in->title,
        in->symptoms ? in->symptoms : "", in->workaround ? in->workaround : "",
        in->resolution, sd_kb_status_str(in->has_status ? in->status : SD_KI_ACTIVE),
        in->services_json ? in->services_json : "[]",
        in->categories_json ? in->categories_json : "[]",
        b->who->user->user, now, now,
        (in->has_status && in->status == SD_KI_RESOLVED) ? now : NULL
    };
    sd_rows_t *rows;
    apr_status_t rv = sd_store_select(&rows, db, "sdesk_insert_ki", 12, args, p);
    if (rv != APR_SUCCESS) return rv;
    if (rows->nrows != 1) return SD_EINTERNAL;
    b->id = sd_store_to_i64(rows->cell[0][0]);
    return APR_SUCCESS;
}

apr_status_t sd_kb_create(sd_kb_issue_t **pki, sd_db_t *db, const sd_actor_t *who,
                          const sd_kb_input_t *in, sd_problem_t *prob, apr_pool_t *p)
{
    create_t b = { who, in, 0 };
    apr_status_t rv;
    *pki = NULL;
    if (APR_SUCCESS != (rv = may_maintain(who, in->global, prob))) return rv;
    if (APR_SUCCESS != (rv = sd_store_txn(db, create_txn, &b, p))) return rv;
    sd_log(SD_LOG_MARK, SD_LOG_INFO, APR_SUCCESS, p,
           SDLOGNO(00110) "known issue %" APR_INT64_T_FMT " created by %s (%s)", b.id,
           who->user->user, in->global ? "global" : who->user->tenant);
    return sd_kb_get(pki, db, who, b.id, prob, p);
}

static const char *const list_params[] = { "status", "q", "limit", "cursor", NULL };

apr_status_t sd_kb_list(apr_array_header_t **items, const char **next, sd_db_t *db,
                        const sd_actor_t *who, const char *qs, sd_problem_t *prob,
                        apr_pool_t *p)
{
    const char *args[8], *sql = sd_sql_ki_list_head, *v, *bind;
    char key[16];
    int nargs = 0, klen = 0, limit = SD_DEF_PAGE_LIMIT, i;
    apr_table_t *t;
    apr_int64_t n;
    sd_cursor_t cur;
    sd_rows_t *rows;
    apr_array_header_t *out;
    apr_status_t rv;

    *items = NULL;
    *next = NULL;
    if (APR_SUCCESS != (rv = sd_query_parse(&t, qs, list_params, prob, p))) return rv;
    key[klen++] = 'K';
    args[nargs++] = who->user->tenant;
    args[nargs++] = who->user->tenant;
    if ((v = apr_table_get(t, "status"))) {
        if (sd_kb_status_from_str(v) < 0)
            return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
                                  "Query parameter 'status' has an unacceptable value '%s'.", v);
        sql = apr_pstrcat(p, sql, sd_sql_ki_list_status, NULL);
        key[klen++] = 's';
        args[nargs++] = v;
    }
    if ((v = apr_table_get(t, "limit")) && !sd_query_int(&n, v, 1, SD_MAX_PAGE_LIMIT))
        return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
                              "Query parameter 'limit' has an unacceptable value '%s'.", v);
    if (v) limit = (int)n;
    bind = apr_psprintf(p, "ki|%s|%s|%s", apr_table_get(t, "status") ? apr_table_get(t, "status")
                        : "", apr_table_get(t, "q") ? apr_table_get(t, "q") : "",
                        who->user->tenant);
    if ((v = apr_table_get(t, "q")) && !sd_str_blank(v)) {
        const char *text = sd_desk_text_query(v, db->kind, p);
        if (!text) {
            *items = apr_array_make(p, 1, sizeof(sd_kb_issue_t *));
            return APR_SUCCESS;
        }
        sql = apr_pstrcat(p, sql, sd_sql_ki_list_text(db->kind), NULL);
        key[klen++] = 'q';
        args[nargs++] = text;
    }
    if ((v = apr_table_get(t, "cursor"))) {
        if (sd_cursor_decode(&cur, v, bind, p) != APR_SUCCESS)
            return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_CURSOR,
                                  "The cursor is not valid for this query.");
        sql = apr_pstrcat(p, sql, sd_sql_ki_list_after, NULL);
        key[klen++] = 'c';
        args[nargs++] = I64(cur.id);
    }
    sql = apr_pstrcat(p, sql, sd_sql_ki_list_order, NULL);
    key[klen] = '\0';
    args[nargs++] = I64(limit + 1);
    rv = sd_store_select_sql(&rows, db, key, sql, nargs, args, p);
    if (rv != APR_SUCCESS) return rv;
    out = apr_array_make(p, limit + 1, sizeof(sd_kb_issue_t *));
    for (i = 0; i < rows->nrows && i < limit; ++i) {
        sd_kb_issue_t *ki = apr_palloc(p, sizeof(*ki));
        sd_kb_from_row(ki, rows->cell[i], rows->ncols);
        APR_ARRAY_PUSH(out, sd_kb_issue_t *) = ki;
    }
    if (rows->nrows > limit && out->nelts) {
        cur.id = cur.key = APR_ARRAY_IDX(out, out->nelts - 1, sd_kb_issue_t *)->id;
        *next = sd_cursor_encode(&cur, bind, p);
    }
    *items = out;
    return APR_SUCCESS;
}
