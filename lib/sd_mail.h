/* Mail: notification messages and their delivery through a
 * sendmail-compatible program.
 *
 * Owns: the message catalogue (every text a mail may contain, per language:
 * English now), header encoding that no user-supplied value can break out of
 * (addresses checked, display names and subjects with CR/LF and other
 * controls removed and RFC 2047-encoded when not plain ASCII, every header
 * folded by us), and running the mailer with a timeout.
 * Never does: decide who hears of what or read the database (sd_outbox),
 * put ticket text into a message (a ticket's subject, description and
 * comments may carry patient context: mails carry the ticket key, status
 * words and a link, nothing a user typed). */
#ifndef SD_MAIL_H
#define SD_MAIL_H

#include "sd.h"

/* Is addr an address we put into a header: ASCII local@domain, no spaces,
 * controls, quotes, brackets, commas, semicolons or colons (nothing that
 * could start another address or header), domain of letters, digits,
 * hyphens and dots, RFC 5321 lengths, not starting with '-'? */
int sd_mail_addr_ok(const char *addr);

/* Header text from any UTF-8: controls (CR and LF among them) become
 * spaces, runs of white space one space; plain printable ASCII stays as it
 * is, anything else becomes RFC 2047 "B" encoded words (UTF-8, at most 75
 * characters each, never splitting a character), separated by folding
 * white space ("\n "). Invalid UTF-8 bytes become U+FFFD. In p. */
const char *sd_mail_header_text(const char *s, apr_pool_t *p);

typedef struct {
    const char *name;         /* display name, any UTF-8, or NULL */
    const char *addr;         /* checked with sd_mail_addr_ok before use */
} sd_mail_addr_t;

/* One mailbox for a header: addr, "Name" <addr> (quoted, escaped) or
 * =?UTF-8?B?...?= <addr>. NULL when addr is not acceptable. */
const char *sd_mail_mailbox(const sd_mail_addr_t *a, apr_pool_t *p);

typedef struct {
    const char *from;              /* an address, or NULL: the mailer's default */
    apr_array_header_t *to;        /* sd_mail_addr_t; unacceptable ones are left out */
    apr_array_header_t *cc;        /* sd_mail_addr_t, or NULL */
    const char *subject;           /* UTF-8 */
    const char *body;              /* UTF-8, lines end in \n */
    const char *message_id;        /* "id@domain", without <>; stable across retries */
    apr_time_t date;
} sd_mail_msg_t;

/* The message as the mailer reads it on stdin (headers, blank line, body;
 * \n line ends, UTF-8 body as 8bit text/plain). *nrcpt counts the accepted
 * To and Cc addresses; with none the message is not worth sending. */
const char *sd_mail_render(int *nrcpt, const sd_mail_msg_t *m, apr_pool_t *p);

/* ---- catalogue --------------------------------------------------------------------- */

/* What a notification is about. */
typedef enum {
    SD_MAIL_CREATED = 0,      /* to the reporter and cc: we have your ticket */
    SD_MAIL_STATUS,           /* to the reporter and cc: the status changed */
    SD_MAIL_REPLY,            /* to the reporter and cc: support answered (publicly) */
    SD_MAIL_URGENT,           /* to the tier's agents: a new urgent or critical ticket */
    SD_MAIL_BREACH,           /* to the tier's agents: a target was missed */
    SD_MAIL_KIND_COUNT
} sd_mail_kind_e;

/* The values a text may name: {key} {status} {priority} {tier} {target}
 * {link}. Only words of our own vocabulary and the link go in. */
typedef struct {
    const char *key;          /* "SD-42" */
    const char *status;
    const char *priority;
    int tier;
    const char *target;       /* "response" or "resolution" */
    const char *link;         /* absolute URL of the ticket page, or NULL */
} sd_mail_vars_t;

/* Subject and body of kind in lang ("en"; an unknown language falls back to
 * English), with the values filled in. In p. */
void sd_mail_text(const char **subject, const char **body, int kind, const char *lang,
                  const sd_mail_vars_t *v, apr_pool_t *p);

/* ---- delivery ------------------------------------------------------------------------ */

/* Asked while the mailer runs; non-zero: give up now (the child exits). */
typedef int sd_mail_stop_fn(void *baton);

/* Run argv[0] (an absolute path; argv NULL-terminated) with msg on its
 * stdin and a minimal environment (PATH only), its stdout discarded.
 * APR_SUCCESS when it exited with status 0 within timeout; otherwise
 * SD_EUNAVAILABLE and *err (in p) says why: the exit status or signal and
 * the start of what it wrote to stderr, a timeout (it is killed), or that
 * it could not be started. stop (may be NULL) is polled while waiting. */
apr_status_t sd_mail_run(const char **err, const char *const *argv, const char *msg,
                         apr_size_t len, apr_interval_time_t timeout, sd_mail_stop_fn *stop,
                         void *stop_baton, apr_pool_t *p);

#endif /* SD_MAIL_H */
