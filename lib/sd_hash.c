/* SHA-256 through OpenSSL's EVP interface. See sd_hash.h. */
#include <openssl/evp.h>
#include <apr_strings.h>

#include "sd_hash.h"

const char *sd_hash_sha256_hex(const void *data, apr_size_t len, apr_pool_t *p)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;
    char *hex;
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL)) return NULL;
    static const char digits[] = "0123456789abcdef";
    hex = apr_palloc(p, (apr_size_t)n * 2 + 1);
    for (i = 0; i < n; ++i) {             /* on every GET (ETags): no printf */
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 0xf];
    }
    hex[2 * n] = '\0';
    return hex;
}
