/* Streaming multipart/form-data parser (RFC 7578, RFC 2046 section 5.1).
 *
 * The body is a push-driven state machine. Part data is scanned for the
 * delimiter "CRLF--boundary" and handed to the data callback straight from
 * the caller's buffer; the only bytes held back between two feeds are a
 * partial delimiter match, and those are known to equal a prefix of the
 * delimiter, so they are re-emitted from the delimiter itself, never copied.
 *
 * Why a plain restart on mismatch finds every delimiter: the delimiter
 * begins with CR and boundary characters (RFC 2046 bchars) never include CR
 * or LF, so CR occurs only at position 0. A failed partial match therefore
 * cannot hide the start of another match, except at the byte that failed,
 * which is examined again.
 *
 * The first boundary may open the body without a CRLF before it; the parser
 * starts as if a CRLF had just been seen ("virtual CRLF"), so one matcher
 * serves the preamble and the data. */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "sd_multipart.h"

#define DEF_MAX_HEADER_BYTES (8 * 1024)
#define DEF_MAX_PARTS        16
#define DEF_MAX_FILE_PARTS   1
#define DEF_MAX_PREAMBLE     (4 * 1024)
#define DEF_MAX_EPILOGUE     (4 * 1024)

/* Part numbers in messages count from 1, for people; this is the number of
 * the part whose headers are being read. */
#define PARTNO(mp) ((mp)->parts + 1)

typedef enum {
    ST_PREAMBLE,     /* before the first boundary: discarded */
    ST_AFTER_DELIM,  /* "--boundary" matched: '-', padding or CR next */
    ST_DASH2,        /* one '-' of a close delimiter seen */
    ST_PADDING,      /* transport padding after a boundary */
    ST_LF,           /* CR after a boundary seen, LF expected */
    ST_HEADERS,      /* inside a part's header block */
    ST_DATA,         /* inside a part's data */
    ST_EPILOGUE,     /* after the close delimiter: discarded */
    ST_ERROR
} state_e;

struct sd_multipart_t {
    apr_pool_t *pool;
    apr_pool_t *part_pool;         /* the current part's strings; cleared per part */
    sd_multipart_limits_t lim;
    sd_multipart_cbs_t cbs;
    void *baton;
    sd_problem_t *prob;

    char delim[4 + SD_MULTIPART_BOUNDARY_MAX + 1];   /* "\r\n--" boundary */
    apr_size_t dlen;
    apr_size_t match;              /* delimiter bytes matched and held back */
    int virtual_crlf;              /* match includes the virtual CRLF */

    state_e state;
    apr_status_t rv;
    const char *err;

    apr_size_t skipped;            /* preamble or epilogue bytes so far */
    apr_size_t padding;            /* transport padding bytes on this line */

    char *line;                    /* current header line, max_header_bytes + 1 */
    apr_size_t line_len;
    apr_size_t header_bytes;       /* this part's header block so far */
    int cr;                        /* the last header byte was CR */
    int have_cd, have_ct;

    int parts, file_parts;
    sd_multipart_part_t part;
};

void sd_multipart_limits_default(sd_multipart_limits_t *l)
{
    l->max_header_bytes = DEF_MAX_HEADER_BYTES;
    l->max_parts = DEF_MAX_PARTS;
    l->max_file_parts = DEF_MAX_FILE_PARTS;
    l->max_preamble = DEF_MAX_PREAMBLE;
    l->max_epilogue = DEF_MAX_EPILOGUE;
}

/* ---- errors ---------------------------------------------------------------- */

static apr_status_t fail(sd_multipart_t *mp, apr_status_t rv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static apr_status_t fail(sd_multipart_t *mp, apr_status_t rv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mp->err = apr_pvsprintf(mp->pool, fmt, ap);
    va_end(ap);
    mp->state = ST_ERROR;
    mp->rv = rv;
    sd_problem_set(mp->prob, rv, rv == SD_ETOOBIG ? SD_PT_TOO_BIG : SD_PT_MALFORMED,
                   "%s", mp->err);
    return rv;
}

/* A callback said no: stop, and leave the explaining to it. */
static apr_status_t stop(sd_multipart_t *mp, apr_status_t rv)
{
    mp->state = ST_ERROR;
    mp->rv = rv;
    mp->err = NULL;
    return rv;
}

/* ---- header syntax ----------------------------------------------------------- */

static int is_tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return s;
}

/* The media or disposition type at the head of a header value: a run of
 * token characters and '/'; lowercased into p. NULL if there is none. */
static const char *parse_type(const char **ps, apr_pool_t *p)
{
    const char *s = skip_ows(*ps), *b = s;
    char *t, *c;
    while (is_tchar((unsigned char)*s) || *s == '/') s++;
    if (s == b) return NULL;
    t = apr_pstrmemdup(p, b, (apr_size_t)(s - b));
    for (c = t; *c; c++) *c = (char)apr_tolower(*c);
    *ps = s;
    return t;
}

/* The next `; attr=value` of a header value. Returns 1 with attr
 * (lowercased) and value (unquoted) in p, 0 at the end, -1 if malformed.
 * Unquoted values are taken leniently (any visible byte but ';' and '"')
 * because real boundaries use characters such as '=' and '?' unquoted. */
static int next_param(const char **ps, const char **pattr, const char **pval, apr_pool_t *p)
{
    const char *s = skip_ows(*ps), *b;
    char *attr, *val, *c;
    apr_size_t o = 0;

    if (!*s) return 0;
    if (*s != ';') return -1;
    s = skip_ows(s + 1);
    if (!*s) {
        *ps = s;   /* a trailing ';' is harmless */
        return 0;
    }
    for (b = s; is_tchar((unsigned char)*s); s++) ;
    if (s == b) return -1;
    attr = apr_pstrmemdup(p, b, (apr_size_t)(s - b));
    for (c = attr; *c; c++) *c = (char)apr_tolower(*c);
    s = skip_ows(s);
    if (*s != '=') return -1;
    s = skip_ows(s + 1);
    if (*s == '"') {
        /* Size the value first: allocating the rest of the line for each of
         * hundreds of parameters would turn an 8 KiB header into megabytes. */
        for (b = ++s; *b && *b != '"'; b++) {
            if (*b == '\\' && (b[1] == '"' || b[1] == '\\')) b++;
        }
        val = apr_palloc(p, (apr_size_t)(b - s) + 1);
        while (*s && *s != '"') {
            /* Only \" and \\ are escapes: browsers do not escape backslashes
             * in Windows paths, and "C:\x\y.png" must survive. */
            if (*s == '\\' && (s[1] == '"' || s[1] == '\\')) s++;
            val[o++] = *s++;
        }
        if (*s != '"') return -1;
        s++;
        val[o] = '\0';
    }
    else {
        for (b = s; (unsigned char)*s > ' ' && *s != 0x7f && *s != ';' && *s != '"'; s++) ;
        if (s == b) return -1;
        val = apr_pstrmemdup(p, b, (apr_size_t)(s - b));
    }
    *ps = s;
    *pattr = attr;
    *pval = val;
    return 1;
}

/* RFC 2046: 1-70 of bchars, not ending in a space. */
static int boundary_valid(const char *b)
{
    apr_size_t n = strlen(b), i;
    if (n < 1 || n > SD_MULTIPART_BOUNDARY_MAX || b[n - 1] == ' ') return 0;
    for (i = 0; i < n; i++) {
        int c = (unsigned char)b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || strchr("'()+_,-./:=? ", c))) {
            return 0;
        }
    }
    return 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* filename*=UTF-8'lang'percent-encoded (RFC 8187). NULL if malformed, not
 * UTF-8, or it decodes to a NUL (which would cut the C string short and hide
 * what follows from every later check). */
static const char *decode_ext_value(const char *v, apr_pool_t *p)
{
    const char *q1 = strchr(v, '\''), *q2, *s;
    char *out, *o;
    int hi, lo;

    if (!q1 || (apr_size_t)(q1 - v) != 5 || strncasecmp(v, "utf-8", 5)) return NULL;
    if (!(q2 = strchr(q1 + 1, '\''))) return NULL;
    out = o = apr_palloc(p, strlen(q2) + 1);
    for (s = q2 + 1; *s; s++) {
        if (*s == '%') {
            if ((hi = hexval((unsigned char)s[1])) < 0 || (lo = hexval((unsigned char)s[2])) < 0) {
                return NULL;
            }
            if (!(*o++ = (char)(hi * 16 + lo))) return NULL;
            s += 2;
        }
        else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

/* Content-Disposition of a part: form-data; name=...; filename=...;
 * filename*=... Other parameters are ignored, known ones may not repeat. */
static apr_status_t parse_disposition(sd_multipart_t *mp, const char *v)
{
    apr_pool_t *p = mp->part_pool;
    const char *type, *attr, *val, *fn = NULL, *fnx = NULL, *name = NULL;
    int r, idx = PARTNO(mp);

    if (!(type = parse_type(&v, p)) || strcmp(type, "form-data")) {
        return fail(mp, SD_EMALFORMED, "part %d: Content-Disposition is not form-data", idx);
    }
    while ((r = next_param(&v, &attr, &val, p)) > 0) {
        const char **slot = !strcmp(attr, "name")        ? &name
                            : !strcmp(attr, "filename")  ? &fn
                            : !strcmp(attr, "filename*") ? &fnx
                                                         : NULL;
        if (!slot) continue;
        if (*slot) {
            return fail(mp, SD_EMALFORMED,
                        "part %d: Content-Disposition repeats the parameter '%s'", idx, attr);
        }
        *slot = val;
    }
    if (r < 0) {
        return fail(mp, SD_EMALFORMED, "part %d: Content-Disposition is malformed", idx);
    }
    if (fnx) {
        const char *dec = decode_ext_value(fnx, p);
        if (!dec) {
            return fail(mp, SD_EMALFORMED,
                        "part %d: filename* is not UTF-8''percent-encoded text", idx);
        }
        fn = dec;
    }
    mp->part.name = name;
    mp->part.filename = fn;
    mp->part.is_file = fn != NULL;
    return APR_SUCCESS;
}

/* One complete header line (without its CRLF, NUL-terminated in place). */
static apr_status_t header_line(sd_multipart_t *mp, char *line)
{
    char *s = line, *v, *e;
    int idx = PARTNO(mp);

    /* obs-fold (RFC 9112 5.2) is deprecated and nobody sends it in
     * form-data; accepting it would only add a second way to read a header. */
    if (*s == ' ' || *s == '\t') {
        return fail(mp, SD_EMALFORMED, "part %d: folded header lines are not accepted", idx);
    }
    while (is_tchar((unsigned char)*s)) s++;
    if (s == line || *s != ':') {
        return fail(mp, SD_EMALFORMED, "part %d: malformed header line", idx);
    }
    *s = '\0';
    for (v = s + 1; *v == ' ' || *v == '\t'; v++) ;
    e = v + strlen(v);
    while (e > v && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';

    if (!strcasecmp(line, "Content-Disposition")) {
        if (mp->have_cd) {
            return fail(mp, SD_EMALFORMED, "part %d: more than one Content-Disposition", idx);
        }
        mp->have_cd = 1;
        return parse_disposition(mp, v);
    }
    if (!strcasecmp(line, "Content-Type")) {
        if (mp->have_ct) {
            return fail(mp, SD_EMALFORMED, "part %d: more than one Content-Type", idx);
        }
        mp->have_ct = 1;
        mp->part.content_type = apr_pstrdup(mp->part_pool, v);
    }
    return APR_SUCCESS;
}

/* The empty line ended the header block: the part begins. */
static apr_status_t headers_done(sd_multipart_t *mp)
{
    apr_status_t rv;
    int idx = PARTNO(mp);

    if (!mp->have_cd) {
        return fail(mp, SD_EMALFORMED, "part %d has no Content-Disposition: form-data header",
                    idx);
    }
    if (!mp->part.name || !*mp->part.name) {
        return fail(mp, SD_EMALFORMED, "part %d has no name", idx);
    }
    if (mp->part.is_file) {
        if (mp->file_parts >= mp->lim.max_file_parts) {
            return fail(mp, SD_EMALFORMED, "more than %d file part%s", mp->lim.max_file_parts,
                        mp->lim.max_file_parts == 1 ? "" : "s");
        }
        mp->file_parts++;
    }
    mp->part.index = mp->parts++;
    mp->state = ST_DATA;
    mp->match = 0;
    if (mp->cbs.begin && APR_SUCCESS != (rv = mp->cbs.begin(mp->baton, &mp->part))) {
        return stop(mp, rv);
    }
    return APR_SUCCESS;
}

static void headers_start(sd_multipart_t *mp)
{
    apr_pool_clear(mp->part_pool);
    memset(&mp->part, 0, sizeof(mp->part));
    mp->line_len = 0;
    mp->header_bytes = 0;
    mp->cr = 0;
    mp->have_cd = mp->have_ct = 0;
    mp->state = ST_HEADERS;
}

/* Header bytes, one at a time: blocks are small and this keeps CR/LF
 * handling exact across chunk splits. Returns bytes consumed. */
static apr_size_t feed_headers(sd_multipart_t *mp, const char *buf, apr_size_t len)
{
    apr_size_t i;
    for (i = 0; i < len && mp->state == ST_HEADERS; i++) {
        int c = (unsigned char)buf[i];
        if (++mp->header_bytes > mp->lim.max_header_bytes) {
            fail(mp, SD_EMALFORMED, "part %d: headers longer than %" APR_SIZE_T_FMT " bytes",
                 PARTNO(mp), mp->lim.max_header_bytes);
            return i + 1;
        }
        if (mp->cr) {
            mp->cr = 0;
            if (c != '\n') {
                fail(mp, SD_EMALFORMED, "part %d: CR without LF in the headers", PARTNO(mp));
                return i + 1;
            }
            if (mp->line_len == 0) {
                headers_done(mp);
                return i + 1;
            }
            mp->line[mp->line_len] = '\0';
            mp->line_len = 0;
            if (APR_SUCCESS != header_line(mp, mp->line)) return i + 1;
        }
        else if (c == '\r') {
            mp->cr = 1;
        }
        else if (c == '\n') {
            fail(mp, SD_EMALFORMED, "part %d: header line ends in LF without CR", PARTNO(mp));
            return i + 1;
        }
        else if ((c < ' ' && c != '\t') || c == 0x7f) {
            fail(mp, SD_EMALFORMED, "part %d: control character in the headers", PARTNO(mp));
            return i + 1;
        }
        else {
            /* header_bytes bounds line_len below the buffer's size. */
            mp->line[mp->line_len++] = (char)c;
        }
    }
    return i;
}

/* ---- data and preamble ---------------------------------------------------------- */

/* Bytes that are certainly not part of a delimiter. */
static apr_status_t emit(sd_multipart_t *mp, const char *data, apr_size_t len)
{
    apr_status_t rv;

    if (len == 0) return APR_SUCCESS;
    if (mp->state == ST_PREAMBLE) {
        if (mp->virtual_crlf) {
            /* The first re-emission is the virtual CRLF (at most the
             * delimiter's first bytes, so len >= 2 here): not body bytes. */
            mp->virtual_crlf = 0;
            len -= 2;
        }
        mp->skipped += len;
        if (mp->skipped > mp->lim.max_preamble) {
            return fail(mp, SD_EMALFORMED,
                        "no boundary in the first %" APR_SIZE_T_FMT " bytes of the body",
                        mp->lim.max_preamble);
        }
        return APR_SUCCESS;
    }
    if (mp->cbs.data && APR_SUCCESS != (rv = mp->cbs.data(mp->baton, data, len))) {
        return stop(mp, rv);
    }
    return APR_SUCCESS;
}

static void delimiter_found(sd_multipart_t *mp)
{
    apr_status_t rv;

    mp->virtual_crlf = 0;
    if (mp->state == ST_DATA) {
        if (mp->cbs.end && APR_SUCCESS != (rv = mp->cbs.end(mp->baton, &mp->part))) {
            stop(mp, rv);
            return;
        }
    }
    mp->padding = 0;
    mp->state = ST_AFTER_DELIM;
}

/* Scan preamble or part data for the delimiter. Returns bytes consumed;
 * stops right after a complete delimiter (the state has changed then). */
static apr_size_t scan(sd_multipart_t *mp, const char *buf, apr_size_t len)
{
    apr_size_t i = 0, start = 0, m;
    const char *cr;

    while (i < len) {
        if (mp->match == 0) {
            if (!(cr = memchr(buf + i, '\r', len - i))) {
                i = len;
                break;
            }
            i = (apr_size_t)(cr - buf);
            if (APR_SUCCESS != emit(mp, buf + start, i - start)) return i;
            mp->match = 1;
            start = ++i;
        }
        else if (buf[i] == mp->delim[mp->match]) {
            start = ++i;
            if (++mp->match == mp->dlen) {
                mp->match = 0;
                delimiter_found(mp);
                return i;
            }
        }
        else {
            /* The held-back bytes were a delimiter prefix: give them back
             * from the delimiter and look at this byte afresh. */
            m = mp->match;
            mp->match = 0;
            start = i;
            if (APR_SUCCESS != emit(mp, mp->delim, m)) return i;
        }
    }
    emit(mp, buf + start, i - start);
    return i;
}

/* ---- the state machine ------------------------------------------------------------ */

static apr_size_t feed_delim_line(sd_multipart_t *mp, int c)
{
    switch (mp->state) {
    case ST_AFTER_DELIM:
        if (c == '-') {
            mp->state = ST_DASH2;
        }
        else if (c == ' ' || c == '\t') {
            mp->padding = 1;
            mp->state = ST_PADDING;
        }
        else if (c == '\r') {
            mp->state = ST_LF;
        }
        else {
            /* RFC 2046: the boundary may not prefix any line of the data. */
            fail(mp, SD_EMALFORMED, "boundary followed by other text");
        }
        break;
    case ST_DASH2:
        if (c == '-') {
            mp->skipped = 0;
            mp->state = ST_EPILOGUE;
        }
        else {
            fail(mp, SD_EMALFORMED, "boundary followed by other text");
        }
        break;
    case ST_PADDING:
        if (c == ' ' || c == '\t') {
            if (++mp->padding > mp->lim.max_header_bytes) {
                fail(mp, SD_EMALFORMED, "too much padding after a boundary");
            }
        }
        else if (c == '\r') {
            mp->state = ST_LF;
        }
        else {
            fail(mp, SD_EMALFORMED, "boundary followed by other text");
        }
        break;
    case ST_LF:
        if (c != '\n') {
            fail(mp, SD_EMALFORMED, "boundary line does not end in CRLF");
        }
        else if (mp->parts >= mp->lim.max_parts) {
            fail(mp, SD_ETOOBIG, "more than %d parts", mp->lim.max_parts);
        }
        else {
            headers_start(mp);
        }
        break;
    default:
        break;
    }
    return 1;
}

apr_status_t sd_multipart_feed(sd_multipart_t *mp, const char *buf, apr_size_t len)
{
    apr_size_t i = 0;

    while (i < len && mp->state != ST_ERROR) {
        switch (mp->state) {
        case ST_PREAMBLE:
        case ST_DATA:
            i += scan(mp, buf + i, len - i);
            break;
        case ST_HEADERS:
            i += feed_headers(mp, buf + i, len - i);
            break;
        case ST_EPILOGUE:
            /* RFC 2046 says ignore it; the limit keeps a client from making
             * us read (and discard) an unbounded tail. */
            mp->skipped += len - i;
            i = len;
            if (mp->skipped > mp->lim.max_epilogue) {
                fail(mp, SD_EMALFORMED,
                     "more than %" APR_SIZE_T_FMT " bytes after the closing boundary",
                     mp->lim.max_epilogue);
            }
            break;
        default:
            i += feed_delim_line(mp, (unsigned char)buf[i]);
            break;
        }
    }
    return mp->state == ST_ERROR ? mp->rv : APR_SUCCESS;
}

apr_status_t sd_multipart_finish(sd_multipart_t *mp)
{
    switch (mp->state) {
    case ST_EPILOGUE:
        return APR_SUCCESS;
    case ST_ERROR:
        return mp->rv;
    case ST_PREAMBLE:
        return fail(mp, SD_EMALFORMED, "the body does not contain the boundary");
    case ST_HEADERS:
        return fail(mp, SD_EMALFORMED, "the body ends inside the headers of part %d",
                    PARTNO(mp));
    case ST_DATA:
        return fail(mp, SD_EMALFORMED,
                    "the body ends inside part %d: the closing boundary is missing",
                    mp->parts);
    default:
        return fail(mp, SD_EMALFORMED, "the body ends without the closing boundary");
    }
}

apr_status_t sd_multipart_create(sd_multipart_t **pmp, const char *content_type,
                                 const sd_multipart_limits_t *limits,
                                 const sd_multipart_cbs_t *cbs, void *baton,
                                 sd_problem_t *prob, apr_pool_t *p)
{
    sd_multipart_t *mp;
    const char *s = content_type ? content_type : "", *type, *attr, *val, *boundary = NULL;
    apr_pool_t *scratch;
    apr_status_t rv = APR_SUCCESS;
    int r;

    *pmp = NULL;
    apr_pool_create(&scratch, p);
    if (!(type = parse_type(&s, scratch)) || strcmp(type, "multipart/form-data")) {
        rv = sd_problem_set(prob, SD_EMEDIATYPE, SD_PT_MEDIA_TYPE,
                            "expected multipart/form-data");
        goto leave;
    }
    while ((r = next_param(&s, &attr, &val, scratch)) > 0) {
        if (strcmp(attr, "boundary")) continue;
        if (boundary) {
            rv = sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED,
                                "Content-Type has more than one boundary parameter");
            goto leave;
        }
        boundary = val;
    }
    if (r < 0) {
        rv = sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED,
                            "Content-Type parameters are malformed");
        goto leave;
    }
    if (!boundary) {
        rv = sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED,
                            "Content-Type has no boundary parameter");
        goto leave;
    }
    if (!boundary_valid(boundary)) {
        rv = sd_problem_set(prob, SD_EMALFORMED, SD_PT_MALFORMED,
                            "the boundary must be 1 to 70 letters, digits or '()+_,-./:=? "
                            "characters, not ending in a space");
        goto leave;
    }

    mp = apr_pcalloc(p, sizeof(*mp));
    mp->pool = p;
    apr_pool_create(&mp->part_pool, p);
    if (limits) mp->lim = *limits;
    else sd_multipart_limits_default(&mp->lim);
    if (cbs) mp->cbs = *cbs;
    mp->baton = baton;
    mp->prob = prob;
    mp->dlen = 4 + strlen(boundary);
    memcpy(mp->delim, "\r\n--", 4);
    memcpy(mp->delim + 4, boundary, strlen(boundary));
    mp->line = apr_palloc(p, mp->lim.max_header_bytes + 1);
    mp->state = ST_PREAMBLE;
    mp->match = 2;
    mp->virtual_crlf = 1;
    *pmp = mp;
leave:
    apr_pool_destroy(scratch);
    return rv;
}

const char *sd_multipart_error(const sd_multipart_t *mp)
{
    return mp->state == ST_ERROR ? mp->err : NULL;
}

int sd_multipart_parts(const sd_multipart_t *mp)
{
    return mp->parts;
}

int sd_multipart_file_parts(const sd_multipart_t *mp)
{
    return mp->file_parts;
}
