/* libFuzzer target for mail headers made from request and directory values
 * in lib/sd_mail.c: sd_mail_addr_ok (the cc addresses a ticket carries),
 * sd_mail_header_text and sd_mail_mailbox (display names and subjects, any
 * UTF-8 or not), and sd_mail_render of a whole message from them.
 *
 * Input: up to three fields separated by NUL bytes: a display name, an
 * address, a subject (missing ones are empty); the body is the whole input.
 *
 * Checks: header text is printable ASCII with folding only as "\n " (no CR,
 * no bare LF that could start a header); a mailbox is NULL exactly when the
 * address is refused; an accepted address is printable ASCII without
 * anything that starts another address or header; the rendered message's
 * header block has exactly the headers we write, each once, every other
 * line a continuation, then a blank line; the body has no CR and ends in a
 * line end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "sd_mail.h"
#include "sd_fuzz.h"

static apr_pool_t *root;

SD_FUZZ_INIT_ROOT(root)

/* Printable ASCII, folded only with "\n " (or "\n\t"). */
static void check_header_value(const char *s)
{
    for (; *s; ++s) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n') {
            CHECK(s[1] == ' ' || s[1] == '\t');
            continue;
        }
        CHECK(c >= 0x20 && c < 0x7f);
    }
}

static const char *field(const uint8_t **d, size_t *n, apr_pool_t *p)
{
    const uint8_t *z = memchr(*d, 0, *n);
    size_t len = z ? (size_t)(z - *d) : *n;
    const char *s = apr_pstrmemdup(p, (const char *)*d, len);
    *d += z ? len + 1 : len;
    *n -= z ? len + 1 : len;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const known[] = {
        "Date", "From", "To", "Cc", "Subject", "Message-ID", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "Auto-Submitted"
    };
    apr_pool_t *p;
    const uint8_t *d = data;
    size_t n = size, i;
    const char *name, *addr, *subject, *h, *mb, *msg, *c, *end;
    sd_mail_addr_t a, fixed;
    sd_mail_msg_t m;
    int ok, nrcpt, seen[sizeof(known) / sizeof(known[0])] = { 0 };

    apr_pool_create(&p, root);
    name = field(&d, &n, p);
    addr = field(&d, &n, p);
    subject = field(&d, &n, p);

    h = sd_mail_header_text(name, p);
    CHECK(h);
    check_header_value(h);
    h = sd_mail_header_text(subject, p);
    CHECK(h);
    check_header_value(h);

    ok = sd_mail_addr_ok(addr);
    if (ok) {
        for (c = addr; *c; ++c)
            CHECK(*c > 0x20 && *c < 0x7f && !strchr("<>(),;:\"\\[] ", *c));
    }
    a.name = *name ? name : NULL;
    a.addr = addr;
    mb = sd_mail_mailbox(&a, p);
    CHECK(!mb == !ok);
    if (mb) check_header_value(mb);

    memset(&m, 0, sizeof(m));
    m.to = apr_array_make(p, 2, sizeof(sd_mail_addr_t));
    APR_ARRAY_PUSH(m.to, sd_mail_addr_t) = a;
    fixed.name = name;
    fixed.addr = "reporter@north.example";
    m.cc = apr_array_make(p, 1, sizeof(sd_mail_addr_t));
    APR_ARRAY_PUSH(m.cc, sd_mail_addr_t) = fixed;
    m.from = addr;
    m.subject = subject;
    m.body = apr_pstrmemdup(p, (const char *)data, size);
    m.message_id = addr;
    m.date = (apr_time_t)1795424400 * APR_USEC_PER_SEC;
    msg = sd_mail_render(&nrcpt, &m, p);
    CHECK(msg && nrcpt == 1 + ok);
    end = strstr(msg, "\n\n");
    CHECK(end);
    for (c = msg; c <= end; c = strchr(c, '\n') + 1) {
        const char *colon;
        if (*c == ' ' || *c == '\t') continue;          /* a folded line */
        colon = strchr(c, ':');
        CHECK(colon && colon < strchr(c, '\n'));
        for (i = 0; i < sizeof(known) / sizeof(known[0]); ++i) {
            if ((size_t)(colon - c) == strlen(known[i]) && !strncmp(c, known[i], colon - c)) {
                CHECK(!seen[i]++);
                break;
            }
        }
        CHECK(i < sizeof(known) / sizeof(known[0]));
        if (c == end) break;
    }
    for (c = msg; c < end; ++c) {
        unsigned char u = (unsigned char)*c;
        CHECK(u == '\n' || (u >= 0x20 && u < 0x7f));
    }
    CHECK(!strchr(end, '\r'));
    CHECK(msg[strlen(msg) - 1] == '\n');
    apr_pool_destroy(p);
    return 0;
}
