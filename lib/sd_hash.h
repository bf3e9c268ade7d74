/* Content hashes (OpenSSL's libcrypto): SHA-256 for attachment identity and
 * strong ETags. */
#ifndef SD_HASH_H
#define SD_HASH_H

#include "sd.h"

/* Lower-case hex SHA-256 of data[0..len), in p. */
const char *sd_hash_sha256_hex(const void *data, apr_size_t len, apr_pool_t *p);

#endif /* SD_HASH_H */
