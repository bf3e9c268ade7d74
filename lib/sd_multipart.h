/* A streaming multipart/form-data parser (RFC 7578 over RFC 2046).
 *
 * It owns the syntax of a multipart body: the boundary parameter, preamble,
 * delimiter lines, part headers (Content-Disposition: form-data with name and
 * filename, Content-Type) and epilogue. It never reads a request itself and
 * never stores part data: the caller pushes the body in chunks of any size
 * (one byte at a time works) and gets the data of each part streamed to a
 * callback, so a file is never held in memory by the parser. What the parser
 * keeps is bounded by the boundary length and the header limit.
 *
 * It does not decide what a part means (which field is the file, size limits
 * on data, content type): that is the callbacks' business. The declared
 * Content-Type of a part is passed on for information only.
 *
 * Syntax decisions (strict where leniency lets two parsers disagree about
 * where a part ends, the root of request-smuggling style tricks):
 * - Line ends are CRLF everywhere. A bare LF or a bare CR in a part's header
 *   block is malformed (no browser or HTTP library sends one), and a
 *   delimiter is only ever "CRLF--boundary": a bare LF before "--boundary"
 *   is part data, as it must be for binary files.
 * - After "--boundary" only transport padding (spaces, tabs) and CRLF, or
 *   "--" (the close delimiter), may follow; anything else is malformed
 *   (RFC 2046: the boundary must not prefix any line of the data).
 * - Folded (obs-fold) header lines, NUL or other control characters (but
 *   HT) in headers, duplicate Content-Disposition headers and duplicate
 *   parameters are malformed.
 * - In quoted parameter values a backslash escapes only '"' and '\';
 *   elsewhere it is kept, so a Windows path sent by an old browser
 *   (filename="C:\x\y.png") reaches the caller intact.
 * - filename*=UTF-8''percent-encoded (RFC 5987/8187) is understood and wins
 *   over filename=; other charsets and a decoded NUL are malformed.
 * - A part with a filename parameter (even an empty one, which browsers send
 *   for an empty file input) is a file part.
 * - The preamble and the epilogue are ignored, each up to a limit.
 * - A body with the close delimiter and no parts is accepted (an empty
 *   form); the caller finds no field it wants.
 * - Whatever follows the close delimiter, even on the same line, is
 *   epilogue. */
#ifndef SD_MULTIPART_H
#define SD_MULTIPART_H

#include "sd.h"
#include "sd_problem.h"

#define SD_MULTIPART_BOUNDARY_MAX 70   /* RFC 2046 */

/* The parser allocates one line buffer of max_header_bytes + 1 at create
 * time and nothing that grows with the body. */
typedef struct {
    apr_size_t max_header_bytes;  /* one part's header block, CRLFs included; 8 KiB */
    int max_parts;                /* parts in the body; 16 */
    int max_file_parts;           /* parts with a filename; 1 */
    apr_size_t max_preamble;      /* ignored bytes before the first boundary; 4 KiB */
    apr_size_t max_epilogue;      /* ignored bytes after the close delimiter; 4 KiB */
} sd_multipart_limits_t;

/* What a part declared. Strings live until the part's end callback returns
 * (they are in a pool the parser clears for the next part): copy what you
 * keep. */
typedef struct {
    int index;                 /* 0-based position in the body */
    const char *name;          /* form field name; never NULL or empty */
    const char *filename;      /* NULL unless a file part; raw as sent (filename*
                                  decoded to UTF-8), so pass it through
                                  sd_filename_safe before any use */
    const char *content_type;  /* as declared, NULL if absent; not trusted */
    int is_file;               /* 1 when a filename parameter was present */
} sd_multipart_part_t;

/* Callbacks; any may be NULL. A callback that returns anything but
 * APR_SUCCESS stops the parser: feed/finish return that status unchanged and
 * the parser leaves prob alone (the callback knows what went wrong). */
typedef apr_status_t sd_multipart_begin_cb(void *baton, const sd_multipart_part_t *part);
/* A chunk of the current part's data, len > 0. Not NUL-terminated; valid
 * only during the call (it points into the caller's buffer or the parser's
 * own). */
typedef apr_status_t sd_multipart_data_cb(void *baton, const char *data, apr_size_t len);
/* The current part's data is complete (its closing delimiter was seen). */
typedef apr_status_t sd_multipart_end_cb(void *baton, const sd_multipart_part_t *part);

typedef struct {
    sd_multipart_begin_cb *begin;
    sd_multipart_data_cb *data;
    sd_multipart_end_cb *end;
} sd_multipart_cbs_t;

typedef struct sd_multipart_t sd_multipart_t;

void sd_multipart_limits_default(sd_multipart_limits_t *l);

/* A parser for a body sent with Content-Type content_type (the header value
 * as received, e.g. "multipart/form-data; boundary=----x"). limits NULL:
 * defaults; copied. prob may be NULL; when given, every parser error (here
 * and in feed/finish) sets its type and detail. The parser lives in p.
 * Returns SD_EMEDIATYPE if content_type is not multipart/form-data, and
 * SD_EMALFORMED for a missing, duplicate or invalid boundary parameter. */
apr_status_t sd_multipart_create(sd_multipart_t **pmp, const char *content_type,
                                 const sd_multipart_limits_t *limits,
                                 const sd_multipart_cbs_t *cbs, void *baton,
                                 sd_problem_t *prob, apr_pool_t *p);

/* Push the next len bytes of the body. Returns APR_SUCCESS, SD_EMALFORMED
 * (syntax, header block over the limit, a part without a name or without
 * Content-Disposition: form-data, more file parts than allowed, preamble or
 * epilogue over its limit), SD_ETOOBIG (more parts than allowed) or what a
 * callback returned. After an error the parser is stuck: later calls return
 * the same status and call nothing. */
apr_status_t sd_multipart_feed(sd_multipart_t *mp, const char *buf, apr_size_t len);

/* The body ended. APR_SUCCESS only if the close delimiter was seen;
 * SD_EMALFORMED for a body cut short (no boundary at all, inside headers or
 * data). Calls no callback. */
apr_status_t sd_multipart_finish(sd_multipart_t *mp);

/* The detail of the parser's own last error, NULL if none (also NULL when a
 * callback stopped it). Lives in the parser's pool. */
const char *sd_multipart_error(const sd_multipart_t *mp);

/* Parts begun so far and file parts among them. */
int sd_multipart_parts(const sd_multipart_t *mp);
int sd_multipart_file_parts(const sd_multipart_t *mp);

#endif /* SD_MULTIPART_H */
