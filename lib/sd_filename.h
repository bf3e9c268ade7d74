/* Attachment file names: from what a client sent to a name that is safe to
 * store, list and send back, and the Content-Disposition header value for a
 * download (RFC 6266, RFC 8187).
 *
 * It never decides the type of a file (sd_sniff does, from the bytes) and
 * never touches the file system: a stored attachment is found by its id,
 * the name is only shown and offered to the browser. */
#ifndef SD_FILENAME_H
#define SD_FILENAME_H

#include "sd.h"

#define SD_FILENAME_MAX      200            /* bytes, after cleaning */
#define SD_FILENAME_FALLBACK "attachment"   /* when nothing usable is left */

/* A safe name from raw (any bytes, NUL-terminated; NULL is taken as ""), in
 * p. Steps, in order:
 * - invalid UTF-8 bytes (overlongs, surrogates, truncated sequences) become
 *   '_', one per byte;
 * - everything up to the last '/' or '\' is dropped (a path, from a browser
 *   that sends one or from an attacker: "../../etc/passwd" -> "passwd");
 * - control characters (C0, DEL, C1) and invisible bidirectional controls
 *   (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and U+FEFF are
 *   dropped, so "evil\u202Egnp.exe" cannot pose as "evilexe.png";
 * - characters Windows refuses (< > : " | ? *) and look-alike slashes
 *   (U+2044, U+2215, U+FF0F, U+FF3C) become '_';
 * - dots and spaces are trimmed at both ends (no hidden ".htaccess", no
 *   Windows-invalid trailing dot);
 * - Windows device names (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any
 *   extension) get a '_' prefix;
 * - longer than SD_FILENAME_MAX bytes: cut on a UTF-8 character boundary,
 *   keeping a short extension (up to 16 bytes after the last dot);
 * - nothing left, ".", "..": SD_FILENAME_FALLBACK.
 * The result is valid UTF-8, 1..SD_FILENAME_MAX bytes, and sd_filename_safe
 * of it is itself. Always APR_SUCCESS; the status is for the STYLE. */
apr_status_t sd_filename_safe(const char **out, const char *raw, apr_pool_t *p);

/* The Content-Disposition value for a download, in p:
 *   attachment; filename="report.pdf"
 *   attachment; filename="____.pdf"; filename*=UTF-8''%D0%BE%D1%82%D1%87.pdf
 * disposition is "attachment" or "inline" (else APR_EINVAL). name should
 * come from sd_filename_safe; anything else is still made harmless. The
 * quoted filename= is an ASCII fallback: non-ASCII characters, controls,
 * '"', '\' and '%' (which some browsers percent-decode) become '_'. When
 * that changed anything, filename*= carries the exact name, percent-encoded
 * UTF-8, which current browsers prefer. */
apr_status_t sd_filename_disposition(const char **value, const char *disposition,
                                     const char *name, apr_pool_t *p);

#endif /* SD_FILENAME_H */
