/* The widget filter. It streams: data passes on as it comes, but for the
 * few bytes at the end of a bucket that might begin "</head" (or "</body",
 * or the script's own URL), which wait for the next bucket; so a tag split
 * across buckets is found, and the page is never held whole.
 *
 * Left alone: anything but text/html, responses with a Content-Encoding
 * (compressed before us: we cannot read them), subrequests, the desk's own
 * responses, pages that already name the script before </head>, and a
 * second instance of the filter on the same request. The tag goes before
 * the first </head>, else before the first </body>, else at the end. The
 * page's Content-Length goes (the length changes) and a strong ETag
 * becomes weak (the bytes are no longer the file's); other headers, a
 * Content-Security-Policy among them, stay as they are: the script is
 * served from the desk's own location, with no inline code. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_buckets.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_request.h"
#include "util_filter.h"

#include "mod_sdesk.h"
#include "sdesk_config.h"
#include "sdesk_widget.h"
#include "sd_log.h"

APLOG_USE_MODULE(sdesk);

#define SCRIPT_PATH "/ui/widget.js"
/* Set in r->notes by the first instance of the filter on a request. */
#define NOTE_SEEN "sdesk-widget"

/* The desk the widget points at when SdeskWidgetBase is not set: the one
 * location of SetHandler sdesk (check_config), or NULL. */
static const char *default_base;

/* ---- check_config ------------------------------------------------------------------ */

/* Is SdeskWidgetBase set in d's section or one around it? */
static int base_in_scope(const ap_directive_t *d)
{
    const ap_directive_t *scope = d->parent, *c;
    for (;;) {
        for (c = scope ? scope->first_child : ap_conftree; c; c = c->next)
            if (!strcasecmp(c->directive, SDESK_WIDGET_BASE)) return 1;
        if (!scope) return 0;
        scope = scope->parent;
    }
}

static int check_tree(const ap_directive_t *d, int nbases, apr_pool_t *p)
{
    int ok = 1;
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, SDESK_WIDGET) && d->args
            && !strcasecmp(ap_getword_conf(p, &(const char *){ d->args }), "on")
            && !base_in_scope(d) && nbases != 1) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, NULL, SDLOGNO(00730)
                         "%s On (line %d of %s) needs %s: %s", SDESK_WIDGET, d->line_num,
                         d->filename, SDESK_WIDGET_BASE,
                         nbases ? "there are several locations with SetHandler sdesk; "
                                  "name the one the widget uses"
                                : "there is no location with SetHandler sdesk to take "
                                  "as its default");
            ok = 0;
        }
        if (d->first_child && !check_tree(d->first_child, nbases, p)) ok = 0;
    }
    return ok;
}

int sdesk_widget_check(const apr_array_header_t *bases, apr_pool_t *ptemp)
{
    int i, j, n = 0;
    default_base = NULL;
    /* distinct locations: the same path in two virtual hosts is one desk URL */
    for (i = 0; bases && i < bases->nelts; ++i) {
        const char *b = APR_ARRAY_IDX(bases, i, const char *);
        for (j = 0; j < i && strcmp(b, APR_ARRAY_IDX(bases, j, const char *)); ++j)
            ;
        if (j == i) {
            ++n;
            default_base = b;
        }
    }
    if (n != 1) default_base = NULL;
    return check_tree(ap_conftree, n, ptemp);
}

/* ---- matching ------------------------------------------------------------------------ */

/* "</head" or "</body" and a character that ends the name: 7 matched. */
#define TAG_DONE 7

static int tag_step(int m, unsigned char c, const char *name)
{
    if (m == TAG_DONE - 1 && (c == '>' || c == '/' || apr_isspace(c))) return TAG_DONE;
    if ((m == 0 && c == '<') || (m == 1 && c == '/')
        || (m >= 2 && m < TAG_DONE - 1 && apr_tolower(c) == name[m - 2]))
        return m + 1;
    return c == '<' ? 1 : 0;        /* no '<' inside the tag: restart is exact */
}

typedef struct {
    const char *src;          /* the script's URL as a page would name it */
    apr_size_t src_len;
    int *fail;                /* KMP failure function of src */
    int mh, mb, ms;           /* matched: </head, </body, src */
    char *held;               /* bytes that may begin a match, not passed on yet */
    apr_size_t held_len;
    const char *tag;
    apr_size_t tag_len;
    int done;                 /* inserted, or found present: pass through */
    apr_bucket_brigade *out;
} wctx_t;

static int src_step(const wctx_t *w, int m, char c)
{
    while (m > 0 && w->src[m] != c) m = w->fail[m - 1];
    return w->src[m] == c ? m + 1 : 0;
}

static int *kmp_fail(const char *s, apr_size_t n, apr_pool_t *p)
{
    int *f = apr_pcalloc(p, sizeof(int) * (n + 1));
    apr_size_t i;
    int k = 0;
    for (i = 1; i < n; ++i) {
        while (k > 0 && s[i] != s[k]) k = f[k - 1];
        if (s[i] == s[k]) ++k;
        f[i] = k;
    }
    return f;
}

static const char *attr_escape(const char *s, apr_pool_t *p)
{
    return ap_escape_html2(p, s, 1);      /* & < > " and ' */
}

/* ---- the filter ---------------------------------------------------------------------- */

static void emit_copy(wctx_t *w, const char *data, apr_size_t len, apr_bucket_alloc_t *ba)
{
    if (len) APR_BRIGADE_INSERT_TAIL(w->out, apr_bucket_heap_create(data, len, NULL, ba));
}

/* Is this a response the widget belongs in? Also the first instance wins. */
static int applies(ap_filter_t *f, const char **base)
{
    request_rec *r = f->r;
    sdesk_dir_conf_t *dc = sdesk_config_dir(r);
    const char *ct = r->content_type, *ce;

    *base = dc && dc->widget_base ? dc->widget_base : default_base;
    if (r->main || apr_table_get(r->notes, NOTE_SEEN)) return 0;
    apr_table_setn(r->notes, NOTE_SEEN, "1");
    if (r->handler && !strcmp(r->handler, SDESK_HANDLER)) return 0;
    if (!ct || strncasecmp(ct, "text/html", 9) || (ct[9] && ct[9] != ';' && ct[9] != ' '))
        return 0;
    ce = apr_table_get(r->headers_out, "Content-Encoding");
    if (!ce) ce = r->content_encoding;
    if (ce && strcasecmp(ce, "identity")) return 0;
    if (*base == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, SDLOGNO(00731)
                      "widget: no desk location known; page left alone");
        return 0;
    }
    return 1;
}

static wctx_t *ctx_make(request_rec *r, const char *base)
{
    wctx_t *w = apr_pcalloc(r->pool, sizeof(*w));
    const char *etag = apr_table_get(r->headers_out, "ETag");

    w->src = apr_pstrcat(r->pool, base, SCRIPT_PATH, NULL);
    w->src_len = strlen(w->src);
    w->fail = kmp_fail(w->src, w->src_len, r->pool);
    w->held = apr_palloc(r->pool, w->src_len + TAG_DONE + 1);
    w->tag = apr_pstrcat(r->pool, "<script type=\"module\" src=\"", attr_escape(w->src, r->pool),
                         "\"></script>", NULL);
    w->tag_len = strlen(w->tag);
    w->out = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_table_unset(r->headers_out, "Content-Length");
    if (etag && strncmp(etag, "W/", 2))
        apr_table_setn(r->headers_out, "ETag", apr_pstrcat(r->pool, "W/", etag, NULL));
    return w;
}

/* The longest partial match: bytes at the end that must wait. */
static apr_size_t pending(const wctx_t *w)
{
    apr_size_t n = (apr_size_t)(w->mh > w->mb ? w->mh : w->mb);
    return (apr_size_t)w->ms > n ? (apr_size_t)w->ms : n;
}

/* Move b from its brigade to the end of w->out. */
static void move_out(wctx_t *w, apr_bucket *b)
{
    APR_BUCKET_REMOVE(b);
    APR_BRIGADE_INSERT_TAIL(w->out, b);
}

/* Scan one data bucket b (already read: data, len), moving what is decided
 * to w->out; b leaves its brigade. */
static void scan_bucket(wctx_t *w, apr_bucket *b, const char *data, apr_size_t len,
                        apr_bucket_alloc_t *ba)
{
    apr_size_t i, h = w->held_len, keep;

    for (i = 0; i < len; ++i) {
        unsigned char c = (unsigned char)data[i];
        w->mh = tag_step(w->mh, c, "head");
        w->mb = tag_step(w->mb, c, "body");
        w->ms = src_step(w, w->ms, (char)c);
        if ((apr_size_t)w->ms == w->src_len) {      /* the page has it already */
            w->done = 1;
            emit_copy(w, w->held, h, ba);
            move_out(w, b);
            w->held_len = 0;
            return;
        }
        if (w->mh == TAG_DONE || w->mb == TAG_DONE) {
            /* the tag's '<' sits TAG_DONE - 1 bytes before c, in held or in b */
            apr_size_t at = h + i + 1 - TAG_DONE;
            w->done = 1;
            if (at < h) {
                emit_copy(w, w->held, at, ba);
                emit_copy(w, w->tag, w->tag_len, ba);
                emit_copy(w, w->held + at, h - at, ba);
            }
            else {
                emit_copy(w, w->held, h, ba);
                if (at > h) {
                    apr_bucket *rest;
                    apr_bucket_split(b, at - h);
                    rest = APR_BUCKET_NEXT(b);
                    move_out(w, b);
                    b = rest;
                }
                emit_copy(w, w->tag, w->tag_len, ba);
            }
            move_out(w, b);
            w->held_len = 0;
            return;
        }
    }
    /* undecided: pass on all but the bytes that may begin a match */
    keep = pending(w);
    if (keep <= len) {
        emit_copy(w, w->held, h, ba);
        memcpy(w->held, data + len - keep, keep);     /* before b goes */
        w->held_len = keep;
        if (keep == len) {
            apr_bucket_delete(b);
        }
        else if (keep) {
            apr_bucket *tail;
            apr_bucket_split(b, len - keep);
            tail = APR_BUCKET_NEXT(b);
            move_out(w, b);
            apr_bucket_delete(tail);
        }
        else {
            move_out(w, b);
        }
    }
    else {
        apr_size_t from_held = keep - len;
        emit_copy(w, w->held, h - from_held, ba);
        memmove(w->held, w->held + h - from_held, from_held);
        memcpy(w->held + from_held, data, len);
        w->held_len = keep;
        apr_bucket_delete(b);
    }
}

static apr_status_t widget_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
    wctx_t *w = f->ctx;
    apr_status_t rv = APR_SUCCESS;

    if (!w) {
        const char *base;
        if (!applies(f, &base)) {
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, bb);
        }
        f->ctx = w = ctx_make(r, base);
    }
    while (!APR_BRIGADE_EMPTY(bb)) {
        apr_bucket *b = APR_BRIGADE_FIRST(bb);
        const char *data;
        apr_size_t len;

        if (w->done) {
            APR_BRIGADE_CONCAT(w->out, bb);
            break;
        }
        if (APR_BUCKET_IS_EOS(b)) {
            /* neither </head> nor </body>: at the end */
            emit_copy(w, w->held, w->held_len, ba);
            w->held_len = 0;
            if (!r->header_only) emit_copy(w, w->tag, w->tag_len, ba);
            w->done = 1;
            continue;
        }
        if (APR_BUCKET_IS_METADATA(b)) {
            APR_BUCKET_REMOVE(b);
            APR_BRIGADE_INSERT_TAIL(w->out, b);
            continue;
        }
        rv = apr_bucket_read(b, &data, &len, APR_BLOCK_READ);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, SDLOGNO(00732)
                          "widget: cannot read the response");
            return rv;
        }
        scan_bucket(w, b, data, len, ba);
    }
    rv = ap_pass_brigade(f->next, w->out);
    apr_brigade_cleanup(w->out);
    return rv;
}

static void widget_insert(request_rec *r)
{
    sdesk_dir_conf_t *dc = sdesk_config_dir(r);
    if (dc && dc->widget == 1 && !r->main)
        ap_add_output_filter(SDESK_WIDGET_FILTER, NULL, r, r->connection);
}

void sdesk_widget_register(void)
{
    ap_register_output_filter(SDESK_WIDGET_FILTER, widget_filter, NULL, AP_FTYPE_RESOURCE);
    ap_hook_insert_filter(widget_insert, NULL, NULL, APR_HOOK_MIDDLE);
}
