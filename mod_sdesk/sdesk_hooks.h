/* The hooks of mod_sdesk.h: their registration (exported), and running them
 * after a transaction committed (sd_store_on_commit), with every result
 * logged and ignored. */
#ifndef SDESK_HOOKS_H
#define SDESK_HOOKS_H

#include "httpd.h"
#include "sd_store.h"

/* Run the hooks for what commits on db from now on; r may be NULL (the
 * background job). Does nothing when no module implements any hook, so
 * the desk builds no change notes it would throw away. */
void sdesk_hooks_attach(sd_db_t *db, server_rec *s, request_rec *r, apr_pool_t *p);

/* Is r inside a hook of ours right now? (The in-process API refuses to
 * file tickets from there.) */
int sdesk_hooks_running(const request_rec *r);

#endif /* SDESK_HOOKS_H */
