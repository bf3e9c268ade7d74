/* Known issues: what support already knows is broken, with its workaround.
 * A tenant sees its own and the global ones (tenant ""); agents maintain
 * their tenant's, administrators the global ones. Resolving an issue
 * resolves every active ticket linked to it (sd_desk_change.c). */
#ifndef SD_KB_H
#define SD_KB_H

#include <jansson.h>
#include "sd.h"
#include "sd_problem.h"
#include "sd_desk.h"

typedef enum { SD_KI_ACTIVE = 0, SD_KI_MONITORING, SD_KI_RESOLVED, SD_KI_COUNT } sd_ki_status_e;

const char *sd_kb_status_str(int s);
int sd_kb_status_from_str(const char *s);

typedef struct {
    apr_int64_t id;
    const char *tenant;           /* "" for global */
    const char *title, *symptoms, *workaround, *resolution;
    int status;
    const char *services_json, *categories_json;   /* JSON arrays of strings */
    const char *created_by;
    apr_int64_t created_at, updated_at, resolved_at;
    int version;
    apr_int64_t linked;           /* linked tickets of the viewer's tenant */
} sd_kb_issue_t;

/* What a POST or PATCH sets; has_* for PATCH. */
typedef struct {
    int has_title, has_symptoms, has_workaround, has_resolution, has_status, has_services,
        has_categories, has_scope;
    const char *title, *symptoms, *workaround, *resolution, *services_json, *categories_json;
    int status;
    int global;                   /* scope "global" */
} sd_kb_input_t;

/* Validate a body; create: title required, scope allowed; patch: no scope. */
apr_status_t sd_kb_from_json(sd_kb_input_t *in, const json_t *body, int create,
                             const sd_desk_conf_t *conf, sd_problem_t *prob, apr_pool_t *p);

json_t *sd_kb_json(const sd_kb_issue_t *ki, apr_pool_t *p);

apr_status_t sd_kb_create(sd_kb_issue_t **pki, sd_db_t *db, const sd_actor_t *who,
                          const sd_kb_input_t *in, sd_problem_t *prob, apr_pool_t *p);
apr_status_t sd_kb_get(sd_kb_issue_t **pki, sd_db_t *db, const sd_actor_t *who, apr_int64_t id,
                       sd_problem_t *prob, apr_pool_t *p);
/* ?status=&q=&limit=&cursor= -> items (sd_kb_issue_t *), next cursor. */
apr_status_t sd_kb_list(apr_array_header_t **items, const char **next, sd_db_t *db,
                        const sd_actor_t *who, const char *query_string, sd_problem_t *prob,
                        apr_pool_t *p);
/* Change an issue; to "resolved" resolves its active linked tickets (count
 * in *resolved), each with a comment and events, in the same transaction. */
apr_status_t sd_kb_patch(sd_kb_issue_t **pki, int *resolved, sd_db_t *db, const sd_actor_t *who,
                         apr_int64_t id, const sd_kb_input_t *in, int if_match,
                         sd_problem_t *prob, apr_pool_t *p);

/* Map a row of SD_SQL_KI_COLS (+ linked count when present). */
void sd_kb_from_row(sd_kb_issue_t *ki, const char **cells, int ncols);

#endif /* SD_KB_H */
