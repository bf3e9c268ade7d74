/* Background jobs (mod_watchdog): the SLA scan and mail delivery. */
#ifndef SDESK_WATCHDOG_H
#define SDESK_WATCHDOG_H

#include "httpd.h"

/* Register the singleton SLA scan, and mail delivery when SdeskMailer is
 * set, for the main server s (post_config, real run only). Both use s's
 * database and configuration; desk_base (a location of SetHandler sdesk,
 * or NULL) makes links in mail when SdeskPublicURL is not set. */
apr_status_t sdesk_watchdog_init(apr_pool_t *pconf, server_rec *s, const char *desk_base);

/* Per child: the lock that lets a child exit only between two scans. */
void sdesk_watchdog_child_init(apr_pool_t *pchild);

#endif /* SDESK_WATCHDOG_H */
