/* Method + path -> operation. The table reads like API.md. */
#include <string.h>
#include <apr_strings.h>

#include "httpd.h"
#include "http_protocol.h"

#include "sdesk_api.h"
#include "sd_query.h"

static const sdesk_route_t routes[] = {
    { M_GET,  "/api/v1/me",           0, sdesk_api_me },
    { M_GET,  "/api/v1/meta",         0, sdesk_api_meta },
    { M_GET,  "/api/v1/tickets",      0, sdesk_api_tickets_list },
    { M_POST, "/api/v1/tickets",      1, sdesk_api_tickets_create },
    { M_GET,  "/api/v1/tickets/{id}", 0, sdesk_api_ticket_get },
    { M_PATCH, "/api/v1/tickets/{id}", 1, sdesk_api_ticket_patch },
    { M_POST, "/api/v1/tickets/{id}/comments", 1, sdesk_api_comment_add },
    { M_POST, "/api/v1/tickets/{id}/reopen", 1, sdesk_api_ticket_reopen },
    { M_POST, "/api/v1/tickets/{id}/escalate", 1, sdesk_api_ticket_escalate },
    { M_GET,  "/api/v1/reports/sla",  0, sdesk_api_report_sla },
    { M_POST, "/api/v1/tickets/{id}/link", 1, sdesk_api_ticket_link },
    { M_GET,  "/api/v1/known-issues", 0, sdesk_api_ki_list },
    { M_POST, "/api/v1/known-issues", 1, sdesk_api_ki_create },
    { M_GET,  "/api/v1/known-issues/{id}", 0, sdesk_api_ki_get },
    { M_PATCH, "/api/v1/known-issues/{id}", 1, sdesk_api_ki_patch },
    { M_GET,  "/api/v1/suggest",      0, sdesk_api_suggest },
    { M_POST, "/api/v1/tickets/{id}/attachments", 1, sdesk_api_attachment_upload },
    { M_GET,  "/api/v1/tickets/{id}/attachments/{id}", 0, sdesk_api_attachment_get },
    { 0, NULL, 0, NULL }
};

/* Segment-wise match; each "{id}" takes a canonical positive decimal int64
 * (ids[0], ids[1] in order). */
static int path_matches(const char *pattern, const char *path, apr_int64_t *ids)
{
    int n = 0;
    while (*pattern && *path) {
        if (!strncmp(pattern, "{id}", 4)) {
            const char *end = path;
            char digits[20];
            apr_size_t len;
            apr_int64_t v;
            while (*end && *end != '/') ++end;
            len = (apr_size_t)(end - path);
            if (len == 0 || len > 19 || path[0] == '0' || n >= 2) return 0;
            memcpy(digits, path, len);
            digits[len] = '\0';
            if (!sd_query_int(&v, digits, 1, APR_INT64_MAX)) {
                /* 19 digits may overflow int64: compare as text */
                if (len < 19 || strcmp(digits, "9223372036854775807") > 0) return 0;
                v = apr_strtoi64(digits, NULL, 10);
            }
            ids[n++] = v;
            pattern += 4;
            path = end;
            continue;
        }
        if (*pattern != *path) return 0;
        ++pattern;
        ++path;
    }
    return !*pattern && !*path;
}

const sdesk_route_t *sdesk_route_match(sdesk_req_t *rq, const char **allow)
{
    const sdesk_route_t *rt, *hit = NULL;
    int m = rq->r->method_number;
    const char *methods = "";
    apr_int64_t ids[2] = { 0, 0 };

    if (m == M_GET && rq->r->header_only) m = M_GET;       /* HEAD is GET */
    for (rt = routes; rt->pattern; ++rt) {
        if (!path_matches(rt->pattern, rq->path, ids)) continue;
        methods = apr_pstrcat(rq->r->pool, methods, *methods ? ", " : "",
                              rt->method == M_GET ? "GET, HEAD" : ap_method_name_of(rq->r->pool,
                                                                               rt->method),
                              NULL);
        if (rt->method == m && !hit) {
            hit = rt;
            rq->id = ids[0];
            rq->id2 = ids[1];
        }
    }
    *allow = methods;
    return hit;
}
