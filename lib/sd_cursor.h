/* Opaque keyset-pagination cursors. A cursor carries the sort key and id of
 * the last item of a page, bound to the query that produced it (scope,
 * filters, order), with a checksum: a cursor that was altered, truncated, or
 * reused with other filters is rejected (400), never silently misread.
 * Tenant scoping does not depend on the cursor: queries always carry the
 * tenant, so a forged cursor can at worst page through one's own scope. */
#ifndef SD_CURSOR_H
#define SD_CURSOR_H

#include "sd.h"

typedef struct {
    apr_int64_t key;   /* sort value (a time in seconds, or the id again) */
    apr_int64_t id;    /* tie-breaker */
} sd_cursor_t;

/* base64url text, no padding, in p. binding: any text naming the query. */
const char *sd_cursor_encode(const sd_cursor_t *c, const char *binding, apr_pool_t *p);
/* APR_SUCCESS or SD_EMALFORMED (bad encoding, length, checksum or binding). */
apr_status_t sd_cursor_decode(sd_cursor_t *c, const char *text, const char *binding,
                              apr_pool_t *p);

#endif /* SD_CURSOR_H */
