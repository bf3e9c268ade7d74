/* What every libFuzzer target here shares: the entry points, a property
 * check that aborts (so libFuzzer keeps the input), and APR's start. */
#ifndef SD_FUZZ_H
#define SD_FUZZ_H

#include <stdint.h>
#include <stdlib.h>

#include <apr_general.h>
#include <apr_pools.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* APR initialised and a root pool for the whole run, or abort. */
static inline apr_pool_t *sd_fuzz_start(void)
{
    apr_pool_t *p = NULL;
    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&p, NULL) != APR_SUCCESS) abort();
    return p;
}

/* The whole LLVMFuzzerInitialize of a target that needs only a root pool. */
#define SD_FUZZ_INIT_ROOT(root)                                 \
    int LLVMFuzzerInitialize(int *argc, char ***argv)           \
    {                                                           \
        (void)argc;                                             \
        (void)argv;                                             \
        (root) = sd_fuzz_start();                               \
        return 0;                                               \
    }

#endif
