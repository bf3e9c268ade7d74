/* Internals shared between files of lib/ (like jansson's jsonp_ layer).
 * Not an API: nothing outside lib/ includes this. */
#ifndef SD_PRIVATE_H
#define SD_PRIVATE_H

#include "sd_desk.h"

/* Map a row of SD_SQL_TICKET_COLS. Strings point into the row. */
void sd_desk_ticket_from_row(sd_ticket_t *t, const char **cells);
/* Tenant and role visibility of one ticket. */
int sd_desk_may_see(const sd_actor_t *who, const sd_ticket_t *t);

/* Keep ev on ticket t (copied) as a change note of the running transaction,
 * when anyone listens (sd_store_on_commit). */
void sd_desk_note(sd_db_t *db, const sd_ticket_t *t, const sd_event_t *ev, apr_pool_t *p);

/* A search text as a full-text query of the dialect, or NULL without words. */
const char *sd_desk_text_query(const char *q, int kind, apr_pool_t *p);

#endif /* SD_PRIVATE_H */
