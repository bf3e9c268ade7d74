/* JSON at the edge: bounded parsing, strict field tables, pool ownership.
 * jansson's own rules apply inside each function (constructors give a new
 * reference, getters borrow); across the API every value is pool-owned. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <utf8proc.h>

#include "sd_json.h"

/* Field names we echo back for unknown members are the client's text: keep
 * the echo short, so a 60 KiB key does not come back in every error body. */
#define SD_JSON_ECHO_MAX 64

void sd_json_init(void)
{
    /* 0: jansson picks a random hash seed (/dev/urandom). Doing it once, early,
     * keeps the seeding out of the first request's threads. */
    json_object_seed(0);
}

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *sd_json_own(apr_pool_t *p, json_t *j)
{
    if (j) apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    return j;
}

/* ---- depth --------------------------------------------------------------- */

typedef struct {
    const json_t *v;
    size_t index;   /* arrays: next index */
    void *iter;     /* objects: next member */
} depth_frame_t;

/* Next container child of f's value, or NULL when done; scalars are skipped
 * since they add no depth. */
static const json_t *next_container(depth_frame_t *f)
{
    const json_t *c;
    if (json_is_array(f->v)) {
        while (f->index < json_array_size(f->v)) {
            c = json_array_get(f->v, f->index++);
            if (json_is_array(c) || json_is_object(c)) return c;
        }
        return NULL;
    }
    while (f->iter) {
        c = json_object_iter_value(f->iter);
        /* json_object_iter_next does not modify the object; its prototype
         * just is not const. */
        f->iter = json_object_iter_next((json_t *)f->v, f->iter);
        if (json_is_array(c) || json_is_object(c)) return c;
    }
    return NULL;
}

/* Depth of j, walked with an explicit stack so that a value built in code,
 * which jansson does not cap at 2048, cannot exhaust the C stack. Stops as
 * soon as the depth exceeds stop and returns stop + 1: a request at the limit
 * costs no more than 'stop' frames. On allocation failure returns INT_MAX, so
 * a caller checking a limit rejects rather than accepts. */
static int walk_depth(const json_t *j, int stop)
{
    depth_frame_t local[64];
    depth_frame_t *st = local, *grown;
    size_t cap = sizeof(local) / sizeof(local[0]), n = 0;
    const json_t *c;
    int max = 1;

    if (!json_is_array(j) && !json_is_object(j)) return 0;
    if (stop < 1) return 1;

    st[n].v = j;
    st[n].index = 0;
    st[n].iter = json_is_object(j) ? json_object_iter((json_t *)j) : NULL;
    n++;
    while (n > 0) {
        c = next_container(&st[n - 1]);
        if (!c) {
            n--;
            continue;
        }
        if ((int)n + 1 > max) {
            max = (int)n + 1;
            if (max > stop) break;
        }
        if (n == cap) {
            if (st == local) {
                grown = malloc(2 * cap * sizeof(*st));
                if (grown) memcpy(grown, local, sizeof(local));
            }
            else {
                grown = realloc(st, 2 * cap * sizeof(*st));
            }
            if (!grown) {
                max = INT_MAX;
                break;
            }
            st = grown;
            cap *= 2;
        }
        st[n].v = c;
        st[n].index = 0;
        st[n].iter = json_is_object(c) ? json_object_iter((json_t *)c) : NULL;
        n++;
    }
    if (st != local) free(st);
    return max;
}

int sd_json_depth(const json_t *j)
{
    return walk_depth(j, INT_MAX - 1);
}

/* ---- parsing ------------------------------------------------------------- */

/* jansson quotes up to 20 bytes of the input in its messages ("near '...'").
 * That text goes into a problem body (which must be valid UTF-8 for
 * json_string) and maybe a log line: keep printable ASCII only. */
static const char *clean_error_text(const char *s, apr_pool_t *p)
{
    char *t = apr_pstrdup(p, s);
    char *c;
    for (c = t; *c; c++) {
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) *c = '?';
    }
    return t;
}

apr_status_t sd_json_parse_object(json_t **pj, const char *buf, apr_size_t len,
                                  const sd_limits_t *lim, sd_problem_t *prob, apr_pool_t *p)
{
    sd_limits_t defaults;
    json_error_t err;
    json_t *j = NULL;
    apr_status_t rv = APR_SUCCESS;
    int depth;

    *pj = NULL;
    if (!lim) {
        sd_limits_default(&defaults);
        lim = &defaults;
    }
    /* Size before anything else: the glue reads under the same cap, but a
     * caller with a bigger buffer must not get it parsed. */
    if (len > lim->max_body) {
        rv = sd_problem_set(prob, SD_ETOOBIG, SD_PT_TOO_BIG,
                            "The body is larger than %" APR_SIZE_T_FMT " bytes.", lim->max_body);
        goto leave;
    }
    if (!buf) {
        rv = sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED_JSON, "The body is empty.");
        goto leave;
    }
    /* Never JSON_ALLOW_NUL: a NUL inside a string would cut it short in C.
     * JSON_DECODE_ANY so that a scalar top level gets the same clear
     * "expected a JSON object" as an array, not a lexer message. */
    j = sd_json_own(p, json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err));
    if (!j) {
        rv = sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED_JSON, "line %d, column %d: %s",
                            err.line, err.column, clean_error_text(err.text, p));
        goto leave;
    }
    depth = walk_depth(j, lim->max_depth);
    if (depth > lim->max_depth) {
        rv = sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED_JSON,
                            "nesting is deeper than %d levels", lim->max_depth);
        goto leave;
    }
    if (!json_is_object(j)) {
        rv = sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED_JSON, "expected a JSON object");
        goto leave;
    }
leave:
    /* On failure j, if any, is already bound to p and goes with it. */
    if (APR_SUCCESS == rv) *pj = j;
    return rv;
}

/* ---- field tables -------------------------------------------------------- */

static const char *type_message(int type)
{
    switch (type) {
    case SD_JT_STRING:
    case SD_JT_TEXT:   return "must be a string";
    case SD_JT_BOOL:   return "must be true or false";
    case SD_JT_INT:    return "must be an integer";
    case SD_JT_OBJECT: return "must be an object";
    case SD_JT_ARRAY:  return "must be an array";
    default:           return "has an unsupported type";  /* a bad table: our bug */
    }
}

static int type_matches(int type, const json_t *v)
{
    switch (type) {
    case SD_JT_STRING:
    case SD_JT_TEXT:   return json_is_string(v);
    case SD_JT_BOOL:   return json_is_boolean(v);
    case SD_JT_INT:    return json_is_integer(v);
    case SD_JT_OBJECT: return json_is_object(v);
    case SD_JT_ARRAY:  return json_is_array(v);
    default:           return 0;
    }
}

/* Check one present member against its table entry; NULL when it is fine,
 * else the message (with %d for the limit where the message has one). */
static const char *check_value(const sd_json_field_t *f, const json_t *v)
{
    const char *s;

    if (json_is_null(v)) {
        /* Required and nullable: must be there, may be null ({"x": null}
         * as an explicit "none"). Required alone: null is as missing as
         * an absent member. */
        if (f->flags & SD_JF_NULLABLE) return NULL;
        if (f->flags & SD_JF_REQUIRED) return "is required";
        return type_message(f->type);
    }
    if (!type_matches(f->type, v)) return type_message(f->type);

    switch (f->type) {
    case SD_JT_STRING:
    case SD_JT_TEXT:
        s = json_string_value(v);
        if ((f->flags & SD_JF_REQUIRED) && sd_str_blank(s)) return "must not be blank";
        if (f->max > 0 && sd_utf8_chars(s) > (apr_size_t)f->max) {
            return "is longer than %d characters";
        }
        /* A value built with json_stringn may hold a NUL that the parser
         * would have refused: NUL is a C0 control too. */
        if (strlen(s) != json_string_length(v)
            || sd_utf8_has_control(s, f->type == SD_JT_TEXT)) {
            return "contains control characters";
        }
        return NULL;
    case SD_JT_ARRAY:
        if (f->max > 0 && json_array_size(v) > (size_t)f->max) return "has more than %d items";
        return NULL;
    case SD_JT_OBJECT:
        if (f->max > 0 && json_object_size(v) > (size_t)f->max) return "has more than %d members";
        return NULL;
    default:
        return NULL;
    }
}

/* The client's key, cut at a code point boundary if long (see
 * SD_JSON_ECHO_MAX). Parsed keys are valid UTF-8, so backing up over
 * continuation bytes finds a boundary. */
const char *sd_json_echo_name(const char *prefix, const char *key, apr_pool_t *p)
{
    apr_size_t len = strlen(key);
    if (len > SD_JSON_ECHO_MAX) {
        len = SD_JSON_ECHO_MAX;
        while (len > 0 && ((unsigned char)key[len] & 0xC0) == 0x80) len--;
        return apr_pstrcat(p, prefix, apr_pstrndup(p, key, len), "...", NULL);
    }
    return apr_pstrcat(p, prefix, key, NULL);
}

static int in_table(const sd_json_field_t *table, apr_size_t n, const char *key)
{
    apr_size_t i;
    for (i = 0; i < n; i++) {
        if (!strcmp(table[i].name, key)) return 1;
    }
    return 0;
}

apr_status_t sd_json_check(const json_t *obj, const sd_json_field_t *table, apr_size_t n,
                           const char *prefix, sd_problem_t *prob)
{
    apr_pool_t *p = prob->pool;
    const sd_json_field_t *f;
    const json_t *v;
    const char *msg, *key;
    void *iter;
    apr_size_t i, len;
    int nerr = 0;

    if (!prefix) prefix = "";
    if (!json_is_object(obj)) {
        /* The caller should have checked the member's type in its parent's
         * table; name the member itself ("device.", less the dot). */
        len = strlen(prefix);
        if (len > 0 && prefix[len - 1] == '.') len--;
        sd_problem_field(prob, apr_pstrndup(p, prefix, len), "must be an object");
        nerr++;
        goto leave;
    }
    /* Table order first, so errors read like the form; at most one message
     * per field, the most basic one. */
    for (i = 0; i < n; i++) {
        f = &table[i];
        v = json_object_get(obj, f->name);
        if (!v) {
            msg = (f->flags & SD_JF_REQUIRED) ? "is required" : NULL;
        }
        else {
            msg = check_value(f, v);
        }
        if (msg) {
            /* Only the limit messages carry a %d; the others ignore it. */
            sd_problem_field(prob, apr_pstrcat(p, prefix, f->name, NULL), msg, f->max);
            nerr++;
        }
    }
    /* Then members we do not know: rejected, never ignored (no silent mass
     * assignment), in the order the client sent them. */
    for (iter = json_object_iter((json_t *)obj); iter;
         iter = json_object_iter_next((json_t *)obj, iter)) {
        key = json_object_iter_key(iter);
        if (!in_table(table, n, key)) {
            sd_problem_field(prob, sd_json_echo_name(prefix, key, p), "is not a known field");
            nerr++;
        }
    }
leave:
    if (nerr > 0) {
        return sd_problem_set(prob, SD_EINVALID, SD_PT_INVALID, "One or more fields are invalid.");
    }
    return APR_SUCCESS;
}

const char *sd_json_str(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- UTF-8 --------------------------------------------------------------- */

apr_size_t sd_utf8_chars(const char *s)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left, step;
    utf8proc_int32_t cp;
    apr_size_t n = 0;

    if (!s) return 0;
    left = (utf8proc_ssize_t)strlen(s);
    while (left > 0) {
        step = utf8proc_iterate(u, left, &cp);
        /* Not valid UTF-8 (only possible for text that did not come through
         * jansson): count the byte as one character rather than stop. */
        if (step <= 0) step = 1;
        u += step;
        left -= step;
        n++;
    }
    return n;
}

int sd_utf8_has_control(const char *s, int allow_space)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left, step;
    utf8proc_int32_t cp;

    if (!s) return 0;
    left = (utf8proc_ssize_t)strlen(s);
    while (left > 0) {
        step = utf8proc_iterate(u, left, &cp);
        /* Bytes that are not UTF-8 are treated like control characters:
         * the caller wants to know the text is unsafe to store and show. */
        if (step <= 0) return 1;
        /* Cc is exactly C0 (U+0000-001F), DEL and C1 (U+0080-009F). */
        if (utf8proc_category(cp) == UTF8PROC_CATEGORY_CC) {
            if (!(allow_space && (cp == '\t' || cp == '\n' || cp == '\r'))) return 1;
        }
        u += step;
        left -= step;
    }
    return 0;
}

int sd_str_blank(const char *s)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left, step;
    utf8proc_int32_t cp;
    utf8proc_category_t cat;

    if (!s) return 1;
    left = (utf8proc_ssize_t)strlen(s);
    while (left > 0) {
        step = utf8proc_iterate(u, left, &cp);
        if (step <= 0) return 0;
        /* Unicode white space, so a subject of no-break spaces is blank too. */
        cat = utf8proc_category(cp);
        if (!(cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x85
              || cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL
              || cat == UTF8PROC_CATEGORY_ZP)) {
            return 0;
        }
        u += step;
        left -= step;
    }
    return 1;
}

/* ---- output -------------------------------------------------------------- */

const char *sd_json_dump(const json_t *j, apr_pool_t *p)
{
    json_malloc_t jmalloc;
    json_free_t jfree;
    const char *out;
    char *s;

    if (!j) return NULL;
    /* Insertion order is jansson's default since 2.8 (JSON_PRESERVE_ORDER is
     * a no-op); JSON_ENCODE_ANY so a scalar dumps too. */
    /* 12 significant digits: 10.665, not 10.664999999999999 */
    s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12));
    if (!s) return NULL;
    out = apr_pstrdup(p, s);
    /* Free with jansson's allocator, which the process may have replaced. */
    json_get_alloc_funcs(&jmalloc, &jfree);
    jfree(s);
    return out;
}
