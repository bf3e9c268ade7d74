/* The web pages. Every page is the same small shell (web/index.html) with
 * the desk's base, the language and a few catalogue strings filled in; the
 * JavaScript modules under {base}/ui/ build the page from the JSON API.
 * Files are embedded in the module (tools/embed-web.sh), so an install is
 * one .so and a page can never come from a stale directory. */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_hash.h>
#include <jansson.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"

#include "sdesk_ui.h"
#include "sdesk_http.h"
#include "sd_log.h"

APLOG_USE_MODULE(sdesk);

#define SHELL_PATH "index.html"
#define CATALOGUE_DIR "ui/i18n/"
#define DEFAULT_LANG "en"

/* The pages' strict policy: scripts and styles only from this server,
 * images also from blob: (previews of pasted screenshots), no plugins,
 * no framing, forms and fetches only to this origin. */
#define PAGE_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
                 "img-src 'self' blob:; connect-src 'self'; form-action 'self'; " \
                 "base-uri 'none'; frame-ancestors 'none'"

/* lang -> parsed catalogue (json_t *); built in post_config, read-only after. */
static apr_hash_t *catalogues;
static const sdesk_asset_t *shell;

static apr_status_t free_json(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

const char *sdesk_ui_init(apr_pool_t *pconf)
{
    const sdesk_asset_t *a;
    apr_size_t dl = strlen(CATALOGUE_DIR);

    catalogues = apr_hash_make(pconf);
    shell = NULL;
    for (a = sdesk_assets; a->path; ++a) {
        apr_size_t n = strlen(a->path);
        json_error_t err;
        json_t *j;
        if (!strcmp(a->path, SHELL_PATH)) shell = a;
        if (strncmp(a->path, CATALOGUE_DIR, dl) || n < dl + 6
            || strcmp(a->path + n - 5, ".json"))
            continue;
        j = json_loadb((const char *)a->data, a->len, JSON_REJECT_DUPLICATES, &err);
        if (!j || !json_is_object(j)) {
            if (j) json_decref(j);
            return apr_psprintf(pconf, "message catalogue %s: %s (line %d)", a->path,
                                err.text, err.line);
        }
        apr_pool_cleanup_register(pconf, j, free_json, apr_pool_cleanup_null);
        apr_hash_set(catalogues, apr_pstrndup(pconf, a->path + dl, n - dl - 5),
                     APR_HASH_KEY_STRING, j);
    }
    if (!shell) return "the page shell (web/" SHELL_PATH ") is not embedded";
    if (!apr_hash_get(catalogues, DEFAULT_LANG, APR_HASH_KEY_STRING))
        return "the " DEFAULT_LANG " message catalogue is not embedded";
    return NULL;
}

/* The first language of Accept-Language we have a catalogue for (by primary
 * subtag, q=0 excluded), else the default. */
static const char *pick_lang(request_rec *r)
{
    const char *al = apr_table_get(r->headers_in, "Accept-Language");
    char *list, *tok, *last;
    const char *best = DEFAULT_LANG;
    double best_q = -1;

    if (!al) return best;
    list = apr_pstrdup(r->pool, al);
    for (tok = apr_strtok(list, ",", &last); tok; tok = apr_strtok(NULL, ",", &last)) {
        char *semi = strchr(tok, ';'), *dash;
        double q = 1.0;
        if (semi) {
            const char *qs = strstr(semi, "q=");
            *semi = '\0';
            if (qs) q = atof(qs + 2);
        }
        while (*tok == ' ' || *tok == '\t') ++tok;
        apr_collapse_spaces(tok, tok);
        if ((dash = strchr(tok, '-'))) *dash = '\0';
        ap_str_tolower(tok);
        if (q > 0 && q > best_q && apr_hash_get(catalogues, tok, APR_HASH_KEY_STRING)) {
            best = tok;
            best_q = q;
        }
    }
    return best;
}

static const char *message(json_t *cat, const char *key, apr_pool_t *p)
{
    const char *s = json_string_value(json_object_get(cat, key));
    if (!s) s = json_string_value(json_object_get(
                  apr_hash_get(catalogues, DEFAULT_LANG, APR_HASH_KEY_STRING), key));
    return s ? s : key;
}

/* Fill {{base}}, {{lang}} and {{t:key}} in the shell, HTML-escaped. */
static const char *render_shell(request_rec *r, const char *base)
{
    const char *lang = pick_lang(r);
    json_t *cat = apr_hash_get(catalogues, lang, APR_HASH_KEY_STRING);
    const char *in = (const char *)shell->data, *end = in + shell->len;
    struct iovec parts[64];
    int n = 0;

    while (in < end && n < 62) {
        const char *open = strstr(in, "{{"), *close;
        const char *val;
        if (!open || !(close = strstr(open, "}}"))) break;
        parts[n].iov_base = (void *)in;
        parts[n++].iov_len = (apr_size_t)(open - in);
        open += 2;
        if (!strncmp(open, "base}}", 6)) val = base;
        else if (!strncmp(open, "lang}}", 6)) val = lang;
        else if (!strncmp(open, "t:", 2))
            val = message(cat, apr_pstrndup(r->pool, open + 2, (apr_size_t)(close - open - 2)),
                          r->pool);
        else val = "";
        val = ap_escape_html2(r->pool, val, 1);
        parts[n].iov_base = (void *)val;
        parts[n++].iov_len = strlen(val);
        in = close + 2;
    }
    parts[n].iov_base = (void *)in;
    parts[n++].iov_len = (apr_size_t)(end - in);
    return apr_pstrcatv(r->pool, parts, n, NULL);
}

/* Paths that are pages (the JavaScript router knows the same list). */
static int is_page(const char *path)
{
    static const char *const pages[] = { "", "/", "/new", "/queue", "/known-issues",
                                         "/reports", NULL };
    const char *const *p;
    for (p = pages; *p; ++p)
        if (!strcmp(path, *p)) return 1;
    if (!strncmp(path, "/tickets/", 9)) {
        const char *d = path + 9;
        apr_size_t len = strspn(d, "0123456789");
        return len > 0 && len <= 18 && d[0] != '0' && d[len] == '\0';
    }
    return 0;
}

static const sdesk_asset_t *find_asset(const char *path)
{
    const sdesk_asset_t *a;
    if (strncmp(path, "/ui/", 4)) return NULL;
    for (a = sdesk_assets; a->path; ++a)
        if (!strcmp(a->path, path + 1)) return a;
    return NULL;
}

static int send_bytes(request_rec *r, const char *type, const void *data, apr_size_t len)
{
    ap_set_content_type(r, type);
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) ap_rwrite(data, (int)len, r);
    return OK;
}

int sdesk_ui_handle(request_rec *r, const char *base, const char *path)
{
    const sdesk_asset_t *a = NULL;
    int page = is_page(path);

    if (!page && !(a = find_asset(path))) {
        if (strncmp(path, "/ui/", 4)) return DECLINED;
        return sdesk_problem_simple(r, SD_ENOTFOUND, SD_PT_NOT_FOUND, "No such file.", 0);
    }
    if (r->method_number != M_GET) {
        apr_table_setn(r->headers_out, "Allow", "GET, HEAD, OPTIONS");
        if (r->method_number == M_OPTIONS) {
            r->status = HTTP_NO_CONTENT;
            return OK;
        }
        return sdesk_problem_simple(r, SD_ENOMETHOD, SD_PT_NO_METHOD,
                                    apr_psprintf(r->pool, "%s is not allowed here; use GET.",
                                                 r->method), 0);
    }
    if (page) {
        const char *html;
        if (!shell) return sdesk_problem_simple(r, SD_EINTERNAL, SD_PT_INTERNAL,
                                                "The pages are not loaded.", 0);
        html = render_shell(r, base);
        apr_table_setn(r->headers_out, "Content-Security-Policy", PAGE_CSP);
        apr_table_setn(r->headers_out, "Vary", "Accept-Language");
        return send_bytes(r, shell->type, html, strlen(html));
    }
    /* Static files: revalidated with their ETag, so an upgrade shows at once. */
    apr_table_setn(r->headers_out, "Cache-Control", "no-cache");
    apr_table_setn(r->headers_out, "ETag", a->etag);
    if (sdesk_none_match_hits(r, a->etag)) {
        r->status = HTTP_NOT_MODIFIED;
        return OK;
    }
    return send_bytes(r, a->type, a->data, a->len);
}
