/* Content sniffing: allowed attachment types by magic bytes, and text by a
 * UTF-8 and control-character check over the whole file. See sd_sniff.h for
 * the decisions (polyglots, shebang, empty files). */
#include <string.h>

#include "sd_sniff.h"

typedef struct {
    const char *magic;
    apr_size_t len;
    apr_size_t offset;
    sd_sniff_kind_e kind;
    const char *what;      /* the reason, for refused signatures */
} signature_t;

/* Allowed signatures; WebP's second half is checked at offset 8. */
static const signature_t allowed[] = {
    { "\x89PNG\r\n\x1a\n", 8, 0, SD_SNIFF_PNG, NULL },
    { "\xff\xd8\xff", 3, 0, SD_SNIFF_JPEG, NULL },
    { "GIF87a", 6, 0, SD_SNIFF_GIF, NULL },
    { "GIF89a", 6, 0, SD_SNIFF_GIF, NULL },
    { "%PDF-", 5, 0, SD_SNIFF_PDF, NULL },
};

/* Refused signatures, named only so the problem detail can say what the file
 * is. Binary ones would also fail the text check; the text-based ones
 * (MZ stubs aside) are refused because other programs execute them. */
static const signature_t refused[] = {
    { "PK\x03\x04", 4, 0, SD_SNIFF_REJECT, "a ZIP archive (or an Office document)" },
    { "PK\x05\x06", 4, 0, SD_SNIFF_REJECT, "a ZIP archive" },
    { "PK\x07\x08", 4, 0, SD_SNIFF_REJECT, "a ZIP archive" },
    { "\x7f" "ELF", 4, 0, SD_SNIFF_REJECT, "an ELF executable" },
    { "MZ", 2, 0, SD_SNIFF_REJECT, "a Windows executable" },
    { "\x1f\x8b", 2, 0, SD_SNIFF_REJECT, "a gzip archive" },
    { "BZh", 3, 0, SD_SNIFF_REJECT, "a bzip2 archive" },
    { "\xfd" "7zXZ\x00", 6, 0, SD_SNIFF_REJECT, "an xz archive" },
    { "7z\xbc\xaf\x27\x1c", 6, 0, SD_SNIFF_REJECT, "a 7-Zip archive" },
    { "Rar!\x1a\x07", 6, 0, SD_SNIFF_REJECT, "a RAR archive" },
    { "\xca\xfe\xba\xbe", 4, 0, SD_SNIFF_REJECT, "a Java class or Mach-O executable" },
    { "\xcf\xfa\xed\xfe", 4, 0, SD_SNIFF_REJECT, "a Mach-O executable" },
    { "\xce\xfa\xed\xfe", 4, 0, SD_SNIFF_REJECT, "a Mach-O executable" },
    { "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8, 0, SD_SNIFF_REJECT, "an OLE (old Office) document" },
    { "%!", 2, 0, SD_SNIFF_REJECT, "a PostScript document" },
    { "{\\rtf", 5, 0, SD_SNIFF_REJECT, "an RTF document" },
    { "ustar", 5, 257, SD_SNIFF_REJECT, "a tar archive" },
};

/* Tags legacy sniffers took as HTML wherever they appeared near the top. */
static const char *const html_tags[] = {
    "<html", "<head", "<body", "<script", "<iframe", "<svg", "<!doctype", "<?xml",
    "<object", "<embed", "<meta", "<img", "<style", "<title", "<a href",
};

static int sig_match(const signature_t *sig, const unsigned char *b, apr_size_t len)
{
    return len >= sig->offset + sig->len && !memcmp(b + sig->offset, sig->magic, sig->len);
}

static apr_status_t verdict(sd_sniff_t *out, sd_sniff_kind_e kind, const char *reason)
{
    static const char *const types[] = {
        NULL, NULL, "image/png", "image/jpeg", "image/gif", "image/webp",
        "application/pdf", "text/plain; charset=utf-8"
    };
    out->kind = kind;
    out->media_type = types[kind];
    out->raster = kind >= SD_SNIFF_PNG && kind <= SD_SNIFF_WEBP;
    out->reason = reason;
    return out->media_type ? APR_SUCCESS : SD_EMEDIATYPE;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int contains_ci(const unsigned char *b, apr_size_t len, const char *needle)
{
    apr_size_t n = strlen(needle), i, j;
    for (i = 0; i + n <= len; i++) {
        for (j = 0; j < n && lower(b[i + j]) == needle[j]; j++) ;
        if (j == n) return 1;
    }
    return 0;
}

apr_status_t sd_sniff_head(sd_sniff_t *out, const void *head, apr_size_t len,
                           int is_complete)
{
    const unsigned char *b = head, *t;
    sd_sniff_text_t st;
    apr_size_t i, n;

    if (len == 0) return verdict(out, SD_SNIFF_EMPTY, "an empty file");
    for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        if (sig_match(&allowed[i], b, len)) return verdict(out, allowed[i].kind, NULL);
    }
    if (len >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) {
        return verdict(out, SD_SNIFF_WEBP, NULL);
    }
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (sig_match(&refused[i], b, len)) return verdict(out, SD_SNIFF_REJECT, refused[i].what);
    }

    /* Text: the markup and script checks first, for a telling reason. */
    t = b;
    n = len;
    if (n >= 3 && !memcmp(t, "\xef\xbb\xbf", 3)) {
        t += 3;
        n -= 3;
    }
    if (n >= 2 && t[0] == '#' && t[1] == '!') {
        return verdict(out, SD_SNIFF_REJECT, "a script (#!)");
    }
    while (n > 0 && (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n' || *t == '\f')) {
        t++;
        n--;
    }
    if (n > 0 && *t == '<') {
        return verdict(out, SD_SNIFF_REJECT, "an HTML, XML or SVG document");
    }
    for (i = 0; i < sizeof(html_tags) / sizeof(html_tags[0]); i++) {
        if (contains_ci(b, len, html_tags[i])) {
            return verdict(out, SD_SNIFF_REJECT, "text with HTML markup");
        }
    }
    sd_sniff_text_init(&st);
    if (APR_SUCCESS != sd_sniff_text_feed(&st, b, len)
        || (is_complete && APR_SUCCESS != sd_sniff_text_finish(&st))) {
        return verdict(out, SD_SNIFF_REJECT, "binary data, or text that is not UTF-8");
    }
    return verdict(out, SD_SNIFF_TEXT, NULL);
}

/* ---- UTF-8 text --------------------------------------------------------------------- */

void sd_sniff_text_init(sd_sniff_text_t *st)
{
    memset(st, 0, sizeof(*st));
}

apr_status_t sd_sniff_text_feed(sd_sniff_text_t *st, const void *buf, apr_size_t len)
{
    const unsigned char *b = buf, *end = b + len;

    if (st->bad) return SD_EMEDIATYPE;
    for (; b < end; b++) {
        unsigned c = *b;
        if (st->need == 0) {
            if (c < 0x80) {
                /* C0 controls mark binary data; TAB, LF, CR and FF are what
                 * text files actually contain. */
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') goto bad;
            }
            else if (c >= 0xc2 && c <= 0xdf) {
                st->need = 1;
                st->cp = c & 0x1f;
                st->min = 0x80;
            }
            else if (c >= 0xe0 && c <= 0xef) {
                st->need = 2;
                st->cp = c & 0x0f;
                st->min = 0x800;
            }
            else if (c >= 0xf0 && c <= 0xf4) {
                st->need = 3;
                st->cp = c & 0x07;
                st->min = 0x10000;
            }
            else {
                goto bad;   /* continuation without a lead, C0/C1 overlong leads, F5+ */
            }
        }
        else {
            if ((c & 0xc0) != 0x80) goto bad;
            st->cp = (st->cp << 6) | (c & 0x3f);
            if (--st->need == 0) {
                /* Overlong forms, UTF-16 surrogates and values past Unicode
                 * are how decoders have been tricked; none is text. */
                if (st->cp < st->min || (st->cp >= 0xd800 && st->cp <= 0xdfff)
                    || st->cp > 0x10ffff) {
                    goto bad;
                }
            }
        }
    }
    return APR_SUCCESS;
bad:
    st->bad = 1;
    return SD_EMEDIATYPE;
}

apr_status_t sd_sniff_text_finish(sd_sniff_text_t *st)
{
    if (st->need) st->bad = 1;
    return st->bad ? SD_EMEDIATYPE : APR_SUCCESS;
}

/* ---- streaming ---------------------------------------------------------------------- */

void sd_sniff_stream_init(sd_sniff_stream_t *s)
{
    memset(s, 0, sizeof(*s));
    sd_sniff_text_init(&s->text);
}

static void decide(sd_sniff_stream_t *s, int is_complete)
{
    s->decided = 1;
    s->rv = sd_sniff_head(&s->verdict, s->head, s->head_len, is_complete);
}

/* The text check runs over every chunk from the first byte, whatever the
 * head turns out to be: it costs little, and a text verdict then needs no
 * second pass over the head. */
static void text_check(sd_sniff_stream_t *s)
{
    if (s->rv == APR_SUCCESS && s->verdict.kind == SD_SNIFF_TEXT && s->text.bad) {
        s->rv = verdict(&s->verdict, SD_SNIFF_REJECT, "binary data, or text that is not UTF-8");
    }
}

apr_status_t sd_sniff_stream_feed(sd_sniff_stream_t *s, const void *buf, apr_size_t len)
{
    const unsigned char *b = buf;
    apr_size_t n;

    if (s->decided && s->rv != APR_SUCCESS) return s->rv;
    if (s->head_len < SD_SNIFF_HEAD) {
        n = SD_SNIFF_HEAD - s->head_len;
        if (n > len) n = len;
        memcpy(s->head + s->head_len, b, n);
        s->head_len += n;
    }
    s->total += len;
    if (!s->text.bad) sd_sniff_text_feed(&s->text, b, len);
    if (!s->decided && s->head_len == SD_SNIFF_HEAD) decide(s, 0);
    if (s->decided) {
        text_check(s);
        return s->rv;
    }
    return APR_SUCCESS;
}

apr_status_t sd_sniff_stream_finish(sd_sniff_t *out, sd_sniff_stream_t *s)
{
    if (!s->decided) decide(s, 1);
    if (s->rv == APR_SUCCESS && s->verdict.kind == SD_SNIFF_TEXT) {
        sd_sniff_text_finish(&s->text);
        text_check(s);
    }
    *out = s->verdict;
    return s->rv;
}
