/* Shared scaffolding for the cmocka unit tests of lib/: a group setup makes
 * an APR pool, each test gets a subpool destroyed in teardown. */
#ifndef SD_TEST_H
#define SD_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <apr_general.h>
#include <apr_pools.h>

static apr_pool_t *sd_test_root;

static int sd_test_group_setup(void **state)
{
    (void)state;
    if (apr_initialize() != APR_SUCCESS) return -1;
    return apr_pool_create(&sd_test_root, NULL) == APR_SUCCESS ? 0 : -1;
}

static int sd_test_group_teardown(void **state)
{
    (void)state;
    apr_pool_destroy(sd_test_root);
    apr_terminate();
    return 0;
}

static int sd_test_setup(void **state)
{
    apr_pool_t *p;
    if (apr_pool_create(&p, sd_test_root) != APR_SUCCESS) return -1;
    *state = p;
    return 0;
}

static int sd_test_teardown(void **state)
{
    apr_pool_destroy((apr_pool_t *)*state);
    return 0;
}

#define SD_TEST(f) cmocka_unit_test_setup_teardown(f, sd_test_setup, sd_test_teardown)
#define SD_RUN(name, tests) \
    cmocka_run_group_tests_name(name, tests, sd_test_group_setup, sd_test_group_teardown)

#endif /* SD_TEST_H */
