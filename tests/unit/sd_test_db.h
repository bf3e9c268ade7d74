/* For the unit tests of the storage layer: read one value straight from a
 * database connection, bypassing lib/ (PRAGMAs, counts), to compare with
 * what lib/ set up. */
#ifndef SD_TEST_DB_H
#define SD_TEST_DB_H

#include <apr_dbd.h>
#include <apr_strings.h>

#include "sd_test.h"

/* The first column of sql's first row (NULL for SQL NULL), in p; fails the
 * test when the query fails or has no row. */
static const char *sd_test_value(const apr_dbd_driver_t *drv, apr_dbd_t *h, const char *sql,
                                 apr_pool_t *p)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v;
    int err = apr_dbd_select(drv, p, h, &res, sql, 1);
    if (err) fail_msg("%s: %s", sql, apr_dbd_error(drv, h, err));
    if (apr_dbd_get_row(drv, p, res, &row, -1) != 0) fail_msg("%s: no row", sql);
    v = apr_dbd_get_entry(drv, row, 0);
    v = v ? apr_pstrdup(p, v) : NULL;
    while (apr_dbd_get_row(drv, p, res, &row, -1) == 0)
        ;
    return v;
}

#endif /* SD_TEST_DB_H */
