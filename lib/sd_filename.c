/* Attachment file names: cleaning and Content-Disposition (RFC 6266 with
 * RFC 8187 filename*). See sd_filename.h for the rules and their order. */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "sd_filename.h"

#define BAD_CP       0xffffffffu   /* an invalid byte, from next_cp */
#define MAX_EXT      16            /* bytes of extension kept when cutting, dot included */

/* The code point at s (len bytes left) and its length in *n. Anything that
 * is not well-formed UTF-8 yields BAD_CP for one byte, so decoding resumes
 * at the next byte, which may start a valid sequence. */
static apr_uint32_t next_cp(const unsigned char *s, apr_size_t len, apr_size_t *n)
{
    apr_uint32_t cp, min;
    apr_size_t need, i;
    unsigned c = s[0];

    *n = 1;
    if (c < 0x80) return c;
    if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0x0f; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 0x07; min = 0x10000; }
    else return BAD_CP;
    if (need >= len) return BAD_CP;
    for (i = 1; i <= need; i++) {
        if ((s[i] & 0xc0) != 0x80) return BAD_CP;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return BAD_CP;
    *n = need + 1;
    return cp;
}

static int is_dropped(apr_uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)           /* C0, DEL, C1 */
           || cp == 0x061c || cp == 0x200e || cp == 0x200f   /* bidi marks */
           || (cp >= 0x202a && cp <= 0x202e)                 /* embeddings, overrides */
           || (cp >= 0x2066 && cp <= 0x2069)                 /* isolates */
           || cp == 0xfeff;                                  /* BOM / zero-width no-break */
}

static int is_replaced(apr_uint32_t cp)
{
    return (cp > 0 && cp < 0x80 && strchr("<>:\"|?*", (int)cp))
           || cp == 0x2044 || cp == 0x2215 || cp == 0xff0f || cp == 0xff3c;
}

/* Windows opens these as devices whatever the extension or trailing space:
 * "con.txt" or "NUL .png" saved by a user is a trap. */
static int is_device_name(const char *s)
{
    static const char *const names[] = { "con", "prn", "aux", "nul" };
    apr_size_t n = strcspn(s, "."), i;

    while (n > 0 && s[n - 1] == ' ') n--;
    if (n == 3) {
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (!strncasecmp(s, names[i], 3)) return 1;
        }
    }
    if (n == 4 && (!strncasecmp(s, "com", 3) || !strncasecmp(s, "lpt", 3))
        && s[3] >= '1' && s[3] <= '9') {
        return 1;
    }
    return 0;
}

/* The length of the longest UTF-8 prefix of s (valid UTF-8) that fits max. */
static apr_size_t utf8_cut(const char *s, apr_size_t len, apr_size_t max)
{
    if (len <= max) return len;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80) max--;
    return max;
}

static void trim_end(char *s, apr_size_t *len)
{
    while (*len > 0 && (s[*len - 1] == '.' || s[*len - 1] == ' ')) s[--*len] = '\0';
}

/* Cut r (olen bytes, trimmed at both ends) to SD_FILENAME_MAX bytes. */
static void cut(char *r, apr_size_t *olen)
{
    const char *d;
    apr_size_t dot, ext, n;

    if (*olen <= SD_FILENAME_MAX) return;
    /* Keep a short extension: the name is mostly there to be opened by the
     * right program after download. */
    d = strrchr(r, '.');
    dot = d ? (apr_size_t)(d - r) : 0;
    ext = dot > 0 ? *olen - dot : 0;
    if (ext > 1 && ext <= MAX_EXT) {
        n = utf8_cut(r, dot, SD_FILENAME_MAX - ext);
        memmove(r + n, r + dot, ext + 1);
        *olen = n + ext;
    }
    else {
        *olen = utf8_cut(r, *olen, SD_FILENAME_MAX);
        r[*olen] = '\0';
        trim_end(r, olen);
    }
}

apr_status_t sd_filename_safe(const char **out, const char *raw, apr_pool_t *p)
{
    const unsigned char *s;
    apr_size_t len, i, n, olen = 0, start;
    apr_uint32_t cp;
    char *o, *r;

    if (!raw) raw = "";
    /* Path separators are ASCII and cannot sit inside a valid UTF-8
     * sequence, so cutting on bytes agrees with cutting on characters. */
    for (s = (const unsigned char *)raw, i = 0, start = 0; s[i]; i++) {
        if (s[i] == '/' || s[i] == '\\') start = i + 1;
    }
    s += start;
    len = strlen((const char *)s);

    /* Each code point gives at most its own bytes, '_' one; one more for a
     * device-name prefix and the NUL. */
    o = apr_palloc(p, len + 2);
    for (i = 0; i < len; i += n) {
        cp = next_cp(s + i, len - i, &n);
        if (cp == BAD_CP || is_replaced(cp)) o[olen++] = '_';
        else if (!is_dropped(cp)) {
            memcpy(o + olen, s + i, n);
            olen += n;
        }
    }
    o[olen] = '\0';

    trim_end(o, &olen);
    for (i = 0; i < olen && (o[i] == '.' || o[i] == ' '); i++) ;
    r = o + i;
    olen -= i;
    if (olen == 0) {
        *out = SD_FILENAME_FALLBACK;
        return APR_SUCCESS;
    }
    cut(r, &olen);
    /* After the cut: cutting can leave a device name ("com1" and 300
     * spaces, then "1"). The prefix may push the name one byte over the
     * limit; the second cut keeps the prefix, which no device name has. */
    if (is_device_name(r)) {
        memmove(r + 1, r, olen + 1);
        r[0] = '_';
        olen++;
        cut(r, &olen);
    }
    *out = r;
    return APR_SUCCESS;
}

/* RFC 8187 attr-char: what filename* may carry unencoded. */
static int is_attr_char(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || (c && strchr("!#$&+-.^_`|~", (int)c));
}

apr_status_t sd_filename_disposition(const char **value, const char *disposition,
                                     const char *name, apr_pool_t *p)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s;
    apr_size_t len, i, n, fl = 0, el = 0;
    apr_uint32_t cp;
    char *fb, *ext;
    int changed = 0;

    *value = NULL;
    if (!disposition || (strcmp(disposition, "attachment") && strcmp(disposition, "inline"))) {
        return APR_EINVAL;
    }
    /* Idempotent on safe names; makes any other input safe. */
    sd_filename_safe(&name, name, p);
    s = (const unsigned char *)name;
    len = strlen(name);

    fb = apr_palloc(p, len + 1);
    for (i = 0; i < len; i += n) {
        cp = next_cp(s + i, len - i, &n);
        if (cp >= 0x20 && cp < 0x7f && cp != '"' && cp != '\\' && cp != '%') {
            fb[fl++] = (char)cp;
        }
        else {
            fb[fl++] = '_';
            changed = 1;
        }
    }
    fb[fl] = '\0';
    if (!changed) {
        *value = apr_pstrcat(p, disposition, "; filename=\"", fb, "\"", NULL);
        return APR_SUCCESS;
    }
    ext = apr_palloc(p, len * 3 + 1);
    for (i = 0; i < len; i++) {
        if (is_attr_char(s[i])) {
            ext[el++] = (char)s[i];
        }
        else {
            ext[el++] = '%';
            ext[el++] = hex[s[i] >> 4];
            ext[el++] = hex[s[i] & 0x0f];
        }
    }
    ext[el] = '\0';
    *value = apr_pstrcat(p, disposition, "; filename=\"", fb, "\"; filename*=UTF-8''", ext,
                         NULL);
    return APR_SUCCESS;
}
