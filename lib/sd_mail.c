/* Notification mail: catalogue, safe headers, the mailer. See sd_mail.h. */
#include <string.h>
#include <signal.h>

#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_base64.h>
#include <apr_file_io.h>
#include <apr_thread_proc.h>

#include "sd_mail.h"
#include "sd_log.h"

/* ---- addresses ----------------------------------------------------------------------- */

int sd_mail_addr_ok(const char *addr)
{
    const char *at, *s;
    apr_size_t local, domain;
    int dot_ok = 0;

    if (!addr || !*addr || *addr == '-' || *addr == '.') return 0;
    if (!(at = strchr(addr, '@')) || strchr(at + 1, '@')) return 0;
    local = (apr_size_t)(at - addr);
    domain = strlen(at + 1);
    if (!local || local > 64 || !domain || domain > 255) return 0;
    for (s = addr; s < at; ++s) {
        /* dot-atom text (RFC 5322 atext and '.'), nothing that quotes,
         * comments, separates addresses or ends a header */
        if (!apr_isalnum(*s) && !strchr("!#$%&'*+/=?^_`{|}~.-", *s)) return 0;
    }
    if (at[-1] == '.' || strstr(addr, "..")) return 0;
    for (s = at + 1; *s; ++s) {
        if (*s == '.') {
            if (!dot_ok) return 0;      /* empty label */
            dot_ok = 0;
            continue;
        }
        if (!apr_isalnum(*s) && *s != '-') return 0;
        dot_ok = 1;
    }
    return dot_ok;
}

/* ---- header text --------------------------------------------------------------------- */

/* Longest cleaned header value kept, in bytes: a name or subject, not prose. */
#define MAX_HEADER_TEXT 300
/* Raw bytes per encoded word: 45 bytes are 60 base64 characters, and
 * "=?UTF-8?B?" + 60 + "?=" = 72 <= 75 (RFC 2047 section 2). */
#define WORD_BYTES 45

/* Length of the UTF-8 sequence at s (1..4), or 0 when it is not valid. */
static int utf8_len(const unsigned char *s)
{
    int n, i;
    unsigned int cp;
    if (s[0] < 0x80) return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) { n = 2; cp = s[0] & 0x1F; }
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) { n = 3; cp = s[0] & 0x0F; }
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) { n = 4; cp = s[0] & 0x07; }
    else return 0;
    for (i = 1; i < n; ++i) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && cp < 0x10000)
        || cp > 0x10FFFF)
        return 0;
    return n;
}

/* Controls out (C0, DEL, C1 and the line and paragraph separators), white
 * space folded to single spaces, invalid bytes replaced, trimmed, cut at a
 * character boundary. *ascii: nothing but printable ASCII is left. */
static char *clean_text(int *ascii, const char *in, apr_pool_t *p)
{
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    char *out = apr_palloc(p, strlen((const char *)s) * 3 + 1), *o = out;
    int space = 1;

    *ascii = 1;
    while (*s && o - out < MAX_HEADER_TEXT) {
        int n = utf8_len(s);
        int blank = 0;
        if (n == 0) {                           /* U+FFFD */
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            ++s;
            *ascii = 0;
            space = 0;
            continue;
        }
        if (n == 1) blank = *s < 0x20 || *s == 0x7F || *s == ' ';
        else if (n == 2 && s[0] == 0xC2 && s[1] < 0xA0) blank = 1;            /* C1 */
        else if (n == 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9))
            blank = 1;                                                       /* U+2028/9 */
        if (blank) {
            if (!space) *o++ = ' ';
            space = 1;
            s += n;
            continue;
        }
        if (n > 1) *ascii = 0;
        memcpy(o, s, (apr_size_t)n);
        o += n;
        s += n;
        space = 0;
    }
    while (o > out && o[-1] == ' ') --o;
    *o = '\0';
    /* "=?" would read as the start of an encoded word */
    if (strstr(out, "=?")) *ascii = 0;
    return out;
}

/* RFC 2047 "B" encoded words of s, separated by folding white space. */
static const char *encoded_words(const char *s, apr_pool_t *p)
{
    const char *out = "";
    apr_size_t len = strlen(s), off = 0;
    while (off < len) {
        apr_size_t n = 0;
        char b64[WORD_BYTES * 4 / 3 + 4];
        /* whole characters only: an encoded word must not split one */
        while (off + n < len) {
            int c = utf8_len((const unsigned char *)s + off + n);
            if (c <= 0) c = 1;
            if (n + (apr_size_t)c > WORD_BYTES) break;
            n += (apr_size_t)c;
        }
        apr_base64_encode(b64, s + off, (int)n);
        out = apr_pstrcat(p, out, *out ? "\n " : "", "=?UTF-8?B?", b64, "?=", NULL);
        off += n;
    }
    return out;
}

const char *sd_mail_header_text(const char *s, apr_pool_t *p)
{
    int ascii;
    char *c = clean_text(&ascii, s, p);
    return ascii ? c : encoded_words(c, p);
}

const char *sd_mail_mailbox(const sd_mail_addr_t *a, apr_pool_t *p)
{
    int ascii;
    char *name, *q, *o;
    if (!a || !sd_mail_addr_ok(a->addr)) return NULL;
    name = clean_text(&ascii, a->name, p);
    if (!*name) return a->addr;
    if (!ascii) return apr_pstrcat(p, encoded_words(name, p), " <", a->addr, ">", NULL);
    /* a quoted string: backslash before '"' and '\' */
    q = o = apr_palloc(p, strlen(name) * 2 + 1);
    for (; *name; ++name) {
        if (*name == '"' || *name == '\\') *o++ = '\\';
        *o++ = *name;
    }
    *o = '\0';
    return apr_pstrcat(p, "\"", q, "\" <", a->addr, ">", NULL);
}

/* ---- the message ---------------------------------------------------------------------- */

static const char *rfc5322_date(apr_time_t t, apr_pool_t *p)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                          "Aug", "Sep", "Oct", "Nov", "Dec" };
    apr_time_exp_t e;
    apr_time_exp_gmt(&e, t);
    return apr_psprintf(p, "%s, %02d %s %d %02d:%02d:%02d +0000", days[e.tm_wday], e.tm_mday,
                        months[e.tm_mon], e.tm_year + 1900, e.tm_hour, e.tm_min, e.tm_sec);
}

/* The acceptable mailboxes of list, folded one per line. */
static const char *mailbox_list(int *n, const apr_array_header_t *list, apr_pool_t *p)
{
    const char *out = "";
    int i;
    for (i = 0; list && i < list->nelts; ++i) {
        const char *mb = sd_mail_mailbox(&APR_ARRAY_IDX(list, i, sd_mail_addr_t), p);
        if (!mb) continue;
        out = apr_pstrcat(p, out, *out ? ",\n " : "", mb, NULL);
        ++*n;
    }
    return out;
}

static int msgid_ok(const char *id)
{
    const char *s;
    if (!id || !*id || !strchr(id, '@') || strlen(id) > 200) return 0;
    for (s = id; *s; ++s)
        if (!apr_isalnum(*s) && !strchr(".-_@+", *s)) return 0;
    return 1;
}

const char *sd_mail_render(int *nrcpt, const sd_mail_msg_t *m, apr_pool_t *p)
{
    int nto = 0, ncc = 0;
    const char *to = mailbox_list(&nto, m->to, p);
    const char *cc = mailbox_list(&ncc, m->cc, p);
    const char *h;
    char *body, *o;
    const char *s;

    if (!nto && ncc) {           /* no usable To: the copies become the recipients */
        to = cc;
        nto = ncc;
        cc = "";
        ncc = 0;
    }
    *nrcpt = nto + ncc;
    h = apr_pstrcat(p, "Date: ", rfc5322_date(m->date, p), "\n", NULL);
    if (m->from && sd_mail_addr_ok(m->from)) h = apr_pstrcat(p, h, "From: ", m->from, "\n", NULL);
    h = apr_pstrcat(p, h, "To: ", nto ? to : "undisclosed-recipients:;", "\n", NULL);
    if (ncc) h = apr_pstrcat(p, h, "Cc: ", cc, "\n", NULL);
    h = apr_pstrcat(p, h, "Subject: ", sd_mail_header_text(m->subject, p), "\n", NULL);
    if (msgid_ok(m->message_id)) h = apr_pstrcat(p, h, "Message-ID: <", m->message_id, ">\n", NULL);
    h = apr_pstrcat(p, h, "MIME-Version: 1.0\n"
                    "Content-Type: text/plain; charset=UTF-8\n"
                    "Content-Transfer-Encoding: 8bit\n"
                    "Auto-Submitted: auto-generated\n"
                    "\n", NULL);
    /* the body: \n line ends, no CR, ending in a line end */
    s = m->body ? m->body : "";
    body = o = apr_palloc(p, strlen(s) + 2);
    for (; *s; ++s)
        if (*s != '\r') *o++ = *s;
    if (o == body || o[-1] != '\n') *o++ = '\n';
    *o = '\0';
    return apr_pstrcat(p, h, body, NULL);
}

/* ---- catalogue ------------------------------------------------------------------------- */

/* Every text of a notification mail, per language: translations add a row.
 * Texts name only the ticket key, vocabulary words and the link: never what a
 * user typed (patient context), never an internal comment. */
typedef struct {
    const char *lang;
    const char *subject[SD_MAIL_KIND_COUNT];
    const char *body[SD_MAIL_KIND_COUNT];
    const char *no_link;      /* {link} when no URL of the ticket page is known */
    const char *footer;
} catalogue_t;

static const catalogue_t catalogues[] = {
    { "en",
      { [SD_MAIL_CREATED] = "[{key}] Your support ticket was received",
        [SD_MAIL_STATUS]  = "[{key}] Status: {status}",
        [SD_MAIL_REPLY]   = "[{key}] New answer from support",
        [SD_MAIL_URGENT]  = "[{key}] New {priority} ticket for tier {tier}",
        [SD_MAIL_BREACH]  = "[{key}] SLA {target} target missed" },
      { [SD_MAIL_CREATED] = "We have received your support ticket {key} (priority {priority}).\n"
                            "You can follow it and add to it on its page:\n\n{link}\n",
        [SD_MAIL_STATUS]  = "The status of your support ticket {key} is now: {status}.\n\n"
                            "{link}\n",
        [SD_MAIL_REPLY]   = "Support has answered on your ticket {key}.\n"
                            "Please read the answer and reply on the ticket's page, not to "
                            "this mail:\n\n{link}\n",
        [SD_MAIL_URGENT]  = "A new {priority} ticket, {key}, is waiting in the tier {tier} "
                            "queue.\n\n{link}\n",
        [SD_MAIL_BREACH]  = "Ticket {key} (priority {priority}, tier {tier}) has missed its "
                            "{target} target.\n\n{link}\n" },
      "Open the support desk to see the ticket.",
      "\n-- \nThis message was sent automatically by the support desk. It does not "
      "repeat the\nticket's text; open the ticket to read it.\n" },
};

static const catalogue_t *catalogue(const char *lang)
{
    apr_size_t i;
    for (i = 0; lang && i < sizeof(catalogues) / sizeof(catalogues[0]); ++i)
        if (!strcasecmp(catalogues[i].lang, lang)) return &catalogues[i];
    return &catalogues[0];
}

static const char *fill(const char *tmpl, const catalogue_t *c, const sd_mail_vars_t *v,
                        apr_pool_t *p)
{
    const char *out = "", *s = tmpl, *open, *close;
    while ((open = strchr(s, '{')) && (close = strchr(open, '}'))) {
        apr_size_t n = (apr_size_t)(close - open - 1);
        const char *val = NULL;
        if (n == 3 && !strncmp(open + 1, "key", n)) val = v->key;
        else if (n == 6 && !strncmp(open + 1, "status", n)) val = v->status;
        else if (n == 8 && !strncmp(open + 1, "priority", n)) val = v->priority;
        else if (n == 4 && !strncmp(open + 1, "tier", n)) val = apr_itoa(p, v->tier);
        else if (n == 6 && !strncmp(open + 1, "target", n)) val = v->target;
        else if (n == 4 && !strncmp(open + 1, "link", n)) val = v->link ? v->link : c->no_link;
        out = apr_pstrcat(p, out, apr_pstrmemdup(p, s, (apr_size_t)(open - s)),
                          val ? val : "", NULL);
        s = close + 1;
    }
    return apr_pstrcat(p, out, s, NULL);
}

void sd_mail_text(const char **subject, const char **body, int kind, const char *lang,
                  const sd_mail_vars_t *v, apr_pool_t *p)
{
    const catalogue_t *c = catalogue(lang);
    if (kind < 0 || kind >= SD_MAIL_KIND_COUNT) kind = SD_MAIL_STATUS;
    *subject = fill(c->subject[kind], c, v, p);
    *body = apr_pstrcat(p, fill(c->body[kind], c, v, p), c->footer, NULL);
}

/* ---- the mailer ------------------------------------------------------------------------- */

/* Bytes of the mailer's stderr kept for the error message. */
#define ERR_KEEP 240
/* Poll step while waiting for the mailer. */
#define STEP apr_time_from_msec(20)

static const char *why_failed(int code, apr_exit_why_e why, const char *errtext, apr_pool_t *p)
{
    int ascii;
    const char *what = APR_PROC_CHECK_SIGNALED(why)
                       ? apr_psprintf(p, "killed by signal %d", code)
                       : apr_psprintf(p, "exit status %d", code);
    errtext = clean_text(&ascii, errtext, p);
    return *errtext ? apr_pstrcat(p, what, ": ", errtext, NULL) : what;
}

/* Feed msg, keep the head of stderr, both within deadline (and while
 * nobody asks us to stop). */
static apr_status_t talk(char *errbuf, apr_size_t *errlen, apr_proc_t *proc, const char *msg,
                         apr_size_t len, apr_time_t deadline, sd_mail_stop_fn *stop,
                         void *stop_baton)
{
    apr_status_t rv = APR_SUCCESS;
    apr_interval_time_t left = deadline - apr_time_now();
    char buf[512];

    if (left <= 0) return APR_TIMEUP;
    apr_file_pipe_timeout_set(proc->in, left);
    if (len) rv = apr_file_write_full(proc->in, msg, len, NULL);
    apr_file_close(proc->in);
    /* a mailer that exits without reading is judged by its exit status */
    if (APR_STATUS_IS_EPIPE(rv)) rv = APR_SUCCESS;
    while (rv == APR_SUCCESS) {
        apr_size_t n = sizeof(buf);
        left = deadline - apr_time_now();
        if (left <= 0) return APR_TIMEUP;
        apr_file_pipe_timeout_set(proc->err, left < 5 * STEP ? left : 5 * STEP);
        rv = apr_file_read(proc->err, buf, &n);
        if (APR_STATUS_IS_TIMEUP(rv)) {
            rv = (stop && stop(stop_baton)) ? APR_EINTR : APR_SUCCESS;
            continue;
        }
        if (rv == APR_SUCCESS && *errlen < ERR_KEEP) {
            apr_size_t keep = n < ERR_KEEP - *errlen ? n : ERR_KEEP - *errlen;
            memcpy(errbuf + *errlen, buf, keep);
            *errlen += keep;
        }
    }
    return APR_STATUS_IS_EOF(rv) ? APR_SUCCESS : rv;
}

apr_status_t sd_mail_run(const char **err, const char *const *argv, const char *msg,
                         apr_size_t len, apr_interval_time_t timeout, sd_mail_stop_fn *stop,
                         void *stop_baton, apr_pool_t *p)
{
    static const char *const env[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL
    };
    apr_time_t deadline = apr_time_now() + timeout;
    apr_procattr_t *attr;
    apr_file_t *devnull = NULL;
    apr_proc_t proc;
    apr_exit_why_e why = APR_PROC_EXIT;
    char errbuf[ERR_KEEP + 1];
    apr_size_t errlen = 0;
    apr_status_t rv;
    int code = 0, done = 0;

    *err = NULL;
    if (!argv || !argv[0]) {
        *err = "no mailer configured";
        return SD_EUNAVAILABLE;
    }
    if (APR_SUCCESS != (rv = apr_procattr_create(&attr, p))
        || APR_SUCCESS != (rv = apr_procattr_io_set(attr, APR_CHILD_BLOCK, APR_NO_PIPE,
                                                    APR_CHILD_BLOCK))
        || APR_SUCCESS != (rv = apr_file_open(&devnull, "/dev/null", APR_FOPEN_WRITE,
                                              APR_FPROT_OS_DEFAULT, p))
        || APR_SUCCESS != (rv = apr_procattr_child_out_set(attr, devnull, NULL))
        || APR_SUCCESS != (rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM))
        || APR_SUCCESS != (rv = apr_procattr_error_check_set(attr, 1))) {
        *err = apr_psprintf(p, "cannot prepare to run %s: %pm", argv[0], &rv);
        return SD_EUNAVAILABLE;
    }
    rv = apr_proc_create(&proc, argv[0], argv, env, attr, p);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot run %s: %pm", argv[0], &rv);
        return SD_EUNAVAILABLE;
    }
    apr_file_close(devnull);
    rv = talk(errbuf, &errlen, &proc, msg, len, deadline, stop, stop_baton);
    errbuf[errlen] = '\0';
    while (rv == APR_SUCCESS) {
        apr_status_t wr = apr_proc_wait(&proc, &code, &why, APR_NOWAIT);
        if (APR_STATUS_IS_CHILD_DONE(wr)) {
            done = 1;
            break;
        }
        if (!APR_STATUS_IS_CHILD_NOTDONE(wr)) rv = wr;
        else if (apr_time_now() >= deadline) rv = APR_TIMEUP;
        else if (stop && stop(stop_baton)) rv = APR_EINTR;
        else apr_sleep(STEP);
    }
    if (!done) {
        /* too slow, or we must go: no half-delivered state is left behind,
         * the row is tried again later */
        apr_proc_kill(&proc, SIGKILL);
        apr_proc_wait(&proc, &code, &why, APR_WAIT);
        *err = APR_STATUS_IS_TIMEUP(rv)
               ? apr_psprintf(p, "%s did not finish within %" APR_TIME_T_FMT " s; killed",
                              argv[0], apr_time_sec(timeout))
               : apr_psprintf(p, "%s interrupted: %pm", argv[0], &rv);
        return SD_EUNAVAILABLE;
    }
    if (APR_PROC_CHECK_EXIT(why) && code == 0) return APR_SUCCESS;
    *err = why_failed(code, why, errbuf, p);
    return SD_EUNAVAILABLE;
}
