/* Strict query-string parsing. See sd_query.h. */
#include <string.h>
#include <apr_strings.h>
#include <utf8proc.h>

#include "sd_query.h"
#include "sd_json.h"

int sd_utf8_valid(const char *s, apr_size_t len)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    utf8proc_int32_t cp;
    apr_size_t off = 0;
    while (off < len) {
        utf8proc_ssize_t n = utf8proc_iterate(u + off, (utf8proc_ssize_t)(len - off), &cp);
        if (n <= 0 || cp < 0) return 0;
        off += (apr_size_t)n;
    }
    return 1;
}

int sd_query_int(apr_int64_t *v, const char *s, apr_int64_t min, apr_int64_t max)
{
    apr_int64_t acc = 0;
    const char *c;
    if (!s || !*s || strlen(s) > 18) return 0;
    for (c = s; *c; ++c) {
        if (*c < '0' || *c > '9') return 0;
        acc = acc * 10 + (*c - '0');
    }
    if (acc < min || acc > max) return 0;
    *v = acc;
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode one component in place into a new string; NULL when malformed. */
static char *decode(const char *s, apr_size_t len, apr_pool_t *p)
{
    char *out = apr_palloc(p, len + 1), *o = out;
    apr_size_t i;
    for (i = 0; i < len; ++i) {
        if (s[i] == '+') *o++ = ' ';
        else if (s[i] == '%') {
            int h, l;
            if (i + 2 >= len) return NULL;
            h = hexval(s[i + 1]);
            l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return NULL;
            *o++ = (char)(h * 16 + l);
            i += 2;
        }
        else *o++ = s[i];
    }
    *o = '\0';
    if (!sd_utf8_valid(out, (apr_size_t)(o - out)) || memchr(out, '\0', (apr_size_t)(o - out))
        || sd_utf8_has_control(out, 0))
        return NULL;
    return out;
}

apr_status_t sd_query_parse(apr_table_t **pt, const char *qs, const char *const *allowed,
                            sd_problem_t *prob, apr_pool_t *p)
{
    apr_table_t *t = apr_table_make(p, 8);
    const char *s = qs, *amp, *eq;
    const char *const *a;

    *pt = NULL;
    if (!qs) qs = s = "";
    if (strlen(qs) > SD_QUERY_MAX_LEN)
        return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
                              "The query string is longer than %d bytes.", SD_QUERY_MAX_LEN);
    while (*s) {
        apr_size_t len;
        char *name, *value;
        amp = strchr(s, '&');
        len = amp ? (apr_size_t)(amp - s) : strlen(s);
        if (len == 0) return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
                                            "The query string has an empty parameter.");
        eq = memchr(s, '=', len);
        name = decode(s, eq ? (apr_size_t)(eq - s) : len, p);
        value = eq ? decode(eq + 1, len - (apr_size_t)(eq + 1 - s), p) : apr_pstrdup(p, "");
        if (!name || !value)
            return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
                                  "The query string is not valid percent-encoded UTF-8, or "
                                  "holds control characters.");
        for (a = allowed; *a && strcmp(*a, name); ++a)
            ;
        if (!*a)
            return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
                                  "Unknown query parameter '%s'.", name);
        if (!*value) {
            /* "q=&limit=" (an HTML form's empty fields, API.md's own
             * example): an empty value means the parameter is not given */
            s = amp ? amp + 1 : s + len;
            continue;
        }
        if (apr_table_get(t, name))
            return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
                                  "Query parameter '%s' is given more than once.", name);
        if (strlen(value) > SD_QUERY_MAX_VALUE)
            return sd_problem_set(prob, SD_EMALFORMED, SD_PT_BAD_PARAM,
                                  "Query parameter '%s' is longer than %d bytes.", name,
                                  SD_QUERY_MAX_VALUE);
        apr_table_setn(t, name, value);
        s = amp ? amp + 1 : s + len;
    }
    *pt = t;
    return APR_SUCCESS;
}
