/* Content sniffing for attachments: what a file is, decided from its bytes,
 * never from the declared type or the filename.
 *
 * Allowed: PNG, JPEG, GIF, WebP (raster images, the only types a download
 * may show inline), PDF and plain UTF-8 text (logs, notes). Everything else
 * is not allowed (the glue answers 415): SVG, HTML, XML, scripts,
 * executables, archives, and binary files too short to carry a whole
 * signature (a truncated PNG signature is not PNG).
 *
 * Decisions:
 * - Signatures are checked at offset 0 only: PNG's full 8 bytes, JPEG
 *   FF D8 FF, GIF87a/GIF89a, RIFF....WEBP, %PDF-.
 * - Polyglots: a file that starts with an image or PDF signature is that
 *   type, whatever else it contains later (HTML in a PNG comment chunk, a ZIP
 *   appended to a JPEG). That is safe because downloads are served with the
 *   sniffed type, X-Content-Type-Options: nosniff and
 *   Content-Security-Policy: sandbox, and only raster images inline; the
 *   bytes are never interpreted by us. Only text is inspected further,
 *   because text is what a browser would be tempted to render as markup.
 * - Text is valid UTF-8 (no overlongs, surrogates or values over U+10FFFF)
 *   in the whole file, an optional BOM, no NUL and no C0 control but TAB,
 *   LF, CR and FF (so ESC, as in coloured terminal logs, makes a file
 *   binary: it also keeps terminal escape sequences away from an agent who
 *   cats a download). C1 code points and DEL are allowed.
 * - Text that looks like markup is not text: after an optional BOM and
 *   white space it starts with '<' (HTML, SVG, XML, <script>), or its first
 *   SD_SNIFF_HEAD bytes contain an HTML-sniffing tag anywhere ("<html",
 *   "<head", "<body", "<script", "<iframe", "<svg", "<!doctype", "<?xml",
 *   "<object", "<embed", "<meta", "<img", "<style", "<title", "<a href",
 *   case-insensitive), which is what legacy browser sniffers looked for;
 *   belt and braces next to nosniff. A log quoting such a tag near its top
 *   is refused with it; we accept that.
 * - Text-based formats that other programs execute or render are refused
 *   by their signature: PostScript ("%!"), RTF ("{\rtf"); so is anything
 *   starting with "MZ" (a DOS/Windows executable, even a truncated one
 *   that would pass as text).
 * - A file that starts with "#!" is a script, not text, and is rejected:
 *   "renamed executables" include shell and Python scripts.
 * - An empty (0-byte) file has no type and is not allowed (kind
 *   SD_SNIFF_EMPTY, so the glue can say why).
 * - UTF-16/32 text contains NULs and is rejected; so are legacy 8-bit
 *   encodings (invalid UTF-8). */
#ifndef SD_SNIFF_H
#define SD_SNIFF_H

#include "sd.h"

/* How many leading bytes sd_sniff_head wants (fewer only for shorter files). */
#define SD_SNIFF_HEAD 512

typedef enum {
    SD_SNIFF_REJECT = 0,   /* not an allowed type */
    SD_SNIFF_EMPTY,        /* 0 bytes: not allowed either */
    SD_SNIFF_PNG,
    SD_SNIFF_JPEG,
    SD_SNIFF_GIF,
    SD_SNIFF_WEBP,
    SD_SNIFF_PDF,
    SD_SNIFF_TEXT
} sd_sniff_kind_e;

typedef struct {
    sd_sniff_kind_e kind;
    const char *media_type;  /* "image/png", ... "text/plain; charset=utf-8";
                                NULL when not allowed. Static storage. */
    int raster;              /* 1: a raster image, may be served inline */
    const char *reason;      /* when not allowed: why, for a problem detail
                                ("an HTML, XML or SVG document", "a ZIP archive",
                                "an empty file"...); static storage */
} sd_sniff_t;

/* Classify a file from its first min(size, SD_SNIFF_HEAD) bytes. out is
 * always filled (it is a verdict, not a result): APR_SUCCESS for an allowed
 * type, SD_EMEDIATYPE otherwise. For SD_SNIFF_TEXT the verdict holds only
 * for the head; the caller must still check the whole file with the UTF-8
 * validator below (or use sd_sniff_stream_*). is_complete: head is the
 * whole file (lets a UTF-8 sequence cut by the SD_SNIFF_HEAD boundary pass
 * only when more bytes follow). */
apr_status_t sd_sniff_head(sd_sniff_t *out, const void *head, apr_size_t len,
                           int is_complete);

/* ---- incremental text validation ------------------------------------------------ */

/* State across chunks: a multi-byte sequence may be split anywhere. */
typedef struct {
    apr_uint32_t cp;      /* code point being decoded */
    apr_uint32_t min;     /* smallest code point the sequence may encode */
    int need;             /* continuation bytes still expected */
    int bad;              /* sticky: not acceptable text */
} sd_sniff_text_t;

void sd_sniff_text_init(sd_sniff_text_t *st);
/* APR_SUCCESS while everything fed is acceptable text (valid UTF-8, no
 * disallowed control), SD_EMEDIATYPE from the first bad byte on (sticky). */
apr_status_t sd_sniff_text_feed(sd_sniff_text_t *st, const void *buf, apr_size_t len);
/* End of file: SD_EMEDIATYPE if it was bad or ends inside a sequence. */
apr_status_t sd_sniff_text_finish(sd_sniff_text_t *st);

/* ---- streaming convenience ------------------------------------------------------- */

/* Feed the file as it streams by; it keeps the first SD_SNIFF_HEAD bytes,
 * decides as soon as it can, and validates text to the end. The struct is
 * self-contained (no pool); about 600 bytes. */
typedef struct {
    unsigned char head[SD_SNIFF_HEAD];
    apr_size_t head_len;
    apr_uint64_t total;
    int decided;             /* head verdict made */
    apr_status_t rv;         /* sticky verdict so far */
    sd_sniff_t verdict;
    sd_sniff_text_t text;
} sd_sniff_stream_t;

void sd_sniff_stream_init(sd_sniff_stream_t *s);
/* APR_SUCCESS while the file may still be allowed; SD_EMEDIATYPE as soon as
 * it cannot be (sticky), so the caller can stop reading a hostile upload. */
apr_status_t sd_sniff_stream_feed(sd_sniff_stream_t *s, const void *buf, apr_size_t len);
/* The final verdict into *out (always filled, as with sd_sniff_head):
 * APR_SUCCESS for an allowed type, SD_EMEDIATYPE otherwise. */
apr_status_t sd_sniff_stream_finish(sd_sniff_t *out, sd_sniff_stream_t *s);

#endif /* SD_SNIFF_H */
