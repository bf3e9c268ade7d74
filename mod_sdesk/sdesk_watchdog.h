/* Background jobs (mod_watchdog): the SLA scan. */
#ifndef SDESK_WATCHDOG_H
#define SDESK_WATCHDOG_H

#include "httpd.h"

/* Register the singleton SLA scan for the main server s (post_config, real
 * run only). The scan uses s's database and configuration. */
apr_status_t sdesk_watchdog_init(apr_pool_t *pconf, server_rec *s);

/* Per child: the lock that lets a child exit only between two scans. */
void sdesk_watchdog_child_init(apr_pool_t *pchild);

#endif /* SDESK_WATCHDOG_H */
