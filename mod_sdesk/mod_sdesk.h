/* mod_sdesk public header: what other modules on the same server may use.
 *
 * Installed next to httpd's headers by `make install`. The in-process API
 * (optional functions to file a ticket or look up known issues) and the
 * event hooks (ticket created/changed/escalated, SLA breached, known issue
 * resolved) are declared here as they land; see the README. */
#ifndef MOD_SDESK_H
#define MOD_SDESK_H

#define MOD_SDESK_VERSION "0.1.0"

/* The handler name: <Location /sdesk> SetHandler sdesk </Location> */
#define SDESK_HANDLER "sdesk"

#endif /* MOD_SDESK_H */
