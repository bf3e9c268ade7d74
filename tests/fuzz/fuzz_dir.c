/* libFuzzer target for the directory's handling of untrusted text in
 * lib/sd_dir.c: sd_dir_escape_filter, through which every user name
 * (r->user, from Basic auth or a token), DN and tenant value passes before it
 * goes into an LDAP filter, and sd_dir_url_check (SdeskDirectoryURL).
 *
 * Input: the bytes up to the first NUL are a value; all of them (NUL cut)
 * are also tried as an LDAP URL.
 *
 * Checks: the escaped value holds none of the filter's special characters
 * ( ) * \ or NUL unescaped (RFC 4515: they appear only as \XX), unescapes to
 * exactly the input, and a filter made from it has balanced parentheses;
 * the URL check answers success or APR_EINVAL with a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sd_dir.h"
#include "sd_fuzz.h"

static apr_pool_t *root;

SD_FUZZ_INIT_ROOT(root)

static int hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *value, *esc, *why = NULL, *filter, *c;
    char *back, *o;
    int depth = 0;
    apr_status_t rv;

    apr_pool_create(&p, root);
    value = apr_pstrmemdup(p, (const char *)data, size);    /* to the first NUL */

    esc = sd_dir_escape_filter(value, p);
    CHECK(esc != NULL);
    back = o = apr_palloc(p, strlen(esc) + 1);
    for (c = esc; *c; ++c) {
        CHECK(*c != '(' && *c != ')' && *c != '*');
        if (*c == '\\') {
            int h = hex(c[1]), l = h >= 0 ? hex(c[2]) : -1;
            CHECK(h >= 0 && l >= 0);
            *o++ = (char)(h * 16 + l);
            c += 2;
        }
        else {
            *o++ = *c;
        }
    }
    *o = '\0';
    CHECK(!strcmp(back, value));
    filter = apr_pstrcat(p, "(&(objectClass=inetOrgPerson)(uid=", esc, "))", NULL);
    for (c = filter; *c; ++c) {
        if (*c == '(') depth++;
        if (*c == ')') CHECK(--depth >= 0);
    }
    CHECK(depth == 0);

    rv = sd_dir_url_check(value, &why, p);
    CHECK(rv == APR_SUCCESS || (rv == APR_EINVAL && why && *why));
    apr_pool_destroy(p);
    return 0;
}
