/* Prints every SQL statement of lib/sd_store_sql.c for one dialect, one per
 * line as "name<TAB>sql", for the query-plan check of `make bench-scale`
 * (tools/bench.py plans): the labelled statements, then the shapes the
 * ticket and known-issue lists are composed of (the fragments in the order
 * sd_desk_ticket_list and sd_kb_list add them).
 *
 *   build/sd_sqldump sqlite|pgsql
 */
#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "sd_store.h"
#include "sd_store_sql.h"

static void put(const char *name, const char *sql)
{
    const char *c;
    printf("%s\t", name);
    for (c = sql; *c; ++c) putchar(*c == '\n' || *c == '\t' ? ' ' : *c);
    putchar('\n');
}

static void list(apr_pool_t *p, int kind, const char *name, const int *frags, int due)
{
    const char *sql = sd_sql_list_head;
    for (; *frags >= 0; ++frags)
        sql = apr_pstrcat(p, sql, sd_sql_list_fragment(*frags, kind), NULL);
    put(name, apr_pstrcat(p, sql, due ? sd_sql_list_order_due : sd_sql_list_order_id, NULL));
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    int kind, i;
    const char *l;

    if (argc != 2 || (strcmp(argv[1], "sqlite") && strcmp(argv[1], "pgsql"))) {
        fprintf(stderr, "usage: %s sqlite|pgsql\n", argv[0]);
        return 2;
    }
    kind = strcmp(argv[1], "pgsql") ? SD_DB_SQLITE : SD_DB_PGSQL;
    apr_initialize();
    apr_pool_create(&p, NULL);
    for (i = 0; (l = sd_store_sql_label(i)); ++i) put(l, sd_store_sql(l, kind));
    {
        static const int mine[] = { SD_LF_REPORTER, -1 };
        static const int mine_active[] = { SD_LF_REPORTER, SD_LF_ACTIVE, -1 };
        static const int mine_done_next[] = { SD_LF_REPORTER, SD_LF_DONE, SD_LF_AFTER_ID, -1 };
        static const int mine_next[] = { SD_LF_REPORTER, SD_LF_AFTER_ID, -1 };
        static const int tenant[] = { -1 };
        static const int tenant_next[] = { SD_LF_AFTER_ID, -1 };
        static const int tenant_status[] = { SD_LF_STATUS, -1 };
        static const int tenant_active[] = { SD_LF_ACTIVE, -1 };
        static const int tenant_prio[] = { SD_LF_PRIORITY, -1 };
        static const int tenant_cat[] = { SD_LF_CATEGORY, -1 };
        static const int tenant_tier[] = { SD_LF_TIER, -1 };
        static const int tenant_assignee[] = { SD_LF_ASSIGNEE, -1 };
        static const int tenant_assignee_active[] = { SD_LF_ACTIVE, SD_LF_ASSIGNEE, -1 };
        static const int tenant_text[] = { SD_LF_TEXT, -1 };
        static const int mine_text[] = { SD_LF_REPORTER, SD_LF_TEXT, -1 };
        static const int queue[] = { SD_LF_ACTIVE, SD_LF_TIERS, -1 };
        static const int queue_next[] = { SD_LF_ACTIVE, SD_LF_TIERS, SD_LF_AFTER_DUE, -1 };
        static const int queue_prio[] = { SD_LF_ACTIVE, SD_LF_TIERS, SD_LF_PRIORITY, -1 };
        static const int queue_status[] = { SD_LF_ACTIVE, SD_LF_TIERS, SD_LF_STATUS, -1 };
        list(p, kind, "list:mine", mine, 0);
        list(p, kind, "list:mine,next", mine_next, 0);
        list(p, kind, "list:mine,active", mine_active, 0);
        list(p, kind, "list:mine,done,next", mine_done_next, 0);
        list(p, kind, "list:mine,q", mine_text, 0);
        list(p, kind, "list:tenant", tenant, 0);
        list(p, kind, "list:tenant,next", tenant_next, 0);
        list(p, kind, "list:tenant,status", tenant_status, 0);
        list(p, kind, "list:tenant,active", tenant_active, 0);
        list(p, kind, "list:tenant,priority", tenant_prio, 0);
        list(p, kind, "list:tenant,category", tenant_cat, 0);
        list(p, kind, "list:tenant,tier", tenant_tier, 0);
        list(p, kind, "list:tenant,assignee", tenant_assignee, 0);
        list(p, kind, "list:tenant,active,assignee", tenant_assignee_active, 0);
        list(p, kind, "list:tenant,q", tenant_text, 0);
        list(p, kind, "list:queue", queue, 1);
        list(p, kind, "list:queue,next", queue_next, 1);
        list(p, kind, "list:queue,priority", queue_prio, 1);
        list(p, kind, "list:queue,status", queue_status, 1);
    }
    put("ki-list", apr_pstrcat(p, sd_sql_ki_list_head, sd_sql_ki_list_order, NULL));
    put("ki-list:status", apr_pstrcat(p, sd_sql_ki_list_head, sd_sql_ki_list_status,
                                      sd_sql_ki_list_order, NULL));
    put("ki-list:status,next", apr_pstrcat(p, sd_sql_ki_list_head, sd_sql_ki_list_status,
                                           sd_sql_ki_list_after, sd_sql_ki_list_order, NULL));
    put("ki-list:q", apr_pstrcat(p, sd_sql_ki_list_head, sd_sql_ki_list_text(kind),
                                 sd_sql_ki_list_order, NULL));
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
