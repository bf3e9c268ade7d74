/* libFuzzer target for lib/sd_suggest.c. Arbitrary bytes go through folding,
 * tokenising and stemming as a whole; then, line by line, they drive a small
 * index: add a known issue or ticket, remove one, or query (the whole input
 * is also a query). Enough lines make shards compact.
 *
 * Checks: no crash or sanitizer report, no leak (each input gets its own
 * index and pool: APR's pools are mmap'd, which LeakSanitizer cannot see
 * into, so an index kept across inputs would look leaked), invalid UTF-8 is
 * SD_EMALFORMED and nothing else, stems never grow, results are sorted and
 * bounded, and never hold another tenant's document.
 *
 * Build and run from the project root:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *       $(apr-1-config --cflags --cppflags --includes) -Ilib \
 *       tests/fuzz/fuzz_suggest.c lib/sd_suggest.c -o build/fuzz_suggest \
 *       $(apr-1-config --link-ld --libs) -lutf8proc
 *   rm -rf build/fuzz-corpus && cp -r tests/fuzz/corpus/suggest build/fuzz-corpus
 *   build/fuzz_suggest -max_len=4096 -max_total_time=180 build/fuzz-corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "sd_suggest.h"
#include "sd_fuzz.h"

static apr_pool_t *root;

/* Tenant "a" owns ids below 1000, tenant "b" ids 1000..1999, global known
 * issues ids from 2000: a hit tells whose it is. */
static const struct {
    int kind;
    apr_int64_t id;
    const char *tenant, *title, *body;
} seed[] = {
    { SD_SUGGEST_KNOWN_ISSUE, 1,    "a", "Label printer offline", "Zebra printers show offline" },
    { SD_SUGGEST_KNOWN_ISSUE, 1001, "b", "Label printer offline", "printr not printing labels" },
    { SD_SUGGEST_KNOWN_ISSUE, 2001, "",  "VPN drops every hour", NULL },
    { SD_SUGGEST_KNOWN_ISSUE, 2,    "a", "Принтер не печатает этикетки", "Принтеры этикеток" },
    { SD_SUGGEST_TICKET,      3,    "a", "Printer not printing labels", "ward 3" },
    { SD_SUGGEST_TICKET,      1003, "b", "Принтер не печатает", "打印机坏了 café ﬁle" },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    root = sd_fuzz_start();
    return 0;
}

static void check_hits(const apr_array_header_t *a, int max, const char *tenant)
{
    int i;
    if (a->nelts > max) abort();
    for (i = 0; i < a->nelts; i++) {
        const sd_suggest_hit_t *h = &APR_ARRAY_IDX(a, i, sd_suggest_hit_t);
        if (!(h->score > 0.0)) abort();
        if (i && APR_ARRAY_IDX(a, i - 1, sd_suggest_hit_t).score < h->score) abort();
        if (h->id >= 2000) continue;                        /* global */
        if ((h->id >= 1000) != (tenant[0] == 'b')) abort(); /* another tenant's */
    }
}

static void query(sd_suggest_index_t *idx, const char *tenant, const char *q, int max,
                  apr_pool_t *p)
{
    sd_suggest_result_t *res;
    apr_status_t rv = sd_suggest_query(&res, idx, tenant, q, max, 5, p);
    if (rv == APR_SUCCESS) {
        check_hits(res->known_issues, max, tenant);
        check_hits(res->tickets, 5, tenant);
    }
    else if (rv != SD_EMALFORMED) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_array_header_t *toks;
    sd_suggest_index_t *idx;
    const char *folded, *tenant;
    char *text, *line, *next;
    apr_status_t rv, rv2;
    apr_int64_t id;
    size_t i;
    int k, op;

    if (apr_pool_create(&p, root) != APR_SUCCESS) abort();
    rv = sd_text_fold(&folded, (const char *)data, (apr_ssize_t)size, p);
    if (rv != APR_SUCCESS && rv != SD_EMALFORMED) abort();
    if ((rv == APR_SUCCESS) != (folded != NULL)) abort();
    rv2 = sd_text_tokens(&toks, (const char *)data, (apr_ssize_t)size, 0, p);
    if (rv2 != rv) abort();                 /* same input, same verdict */
    if (rv2 == APR_SUCCESS) {
        for (k = 0; k < toks->nelts; k++) {
            const char *t = APR_ARRAY_IDX(toks, k, const char *);
            const char *st = sd_text_stem(t, p);
            if (!*t || strlen(st) > strlen(t)) abort();
            if (sd_text_fold(&folded, t, -1, p) != APR_SUCCESS) abort();  /* valid UTF-8 out */
        }
    }

    if (sd_suggest_index_create(&idx, p) != APR_SUCCESS) abort();
    for (i = 0; i < sizeof(seed) / sizeof(seed[0]); i++) {
        if (sd_suggest_add(idx, seed[i].kind, seed[i].id, seed[i].tenant, seed[i].title,
                           seed[i].body, p) != APR_SUCCESS) {
            abort();
        }
    }
    /* As a C string (up to the first NUL), line by line. */
    text = apr_pstrmemdup(p, (const char *)data, size);
    query(idx, "a", text, 5, p);
    query(idx, "b", text, 3, p);
    for (line = text; line && *line; line = next) {
        if ((next = strchr(line, '\n'))) *next++ = '\0';
        if (strlen(line) < 2) continue;
        op = (unsigned char)line[0] % 5;
        tenant = line[0] & 8 ? "b" : "a";
        id = (unsigned char)line[1] + (tenant[0] == 'b' ? 1000 : 0);
        switch (op) {
        case 0: case 1:                      /* add: title, body after a tab */
        {
            char *body = strchr(line + 2, '\t');
            if (body) *body++ = '\0';
            rv = sd_suggest_add(idx, op, id, tenant, line + 2, body, p);
            if (rv != APR_SUCCESS && rv != SD_EMALFORMED) abort();
            break;
        }
        case 2: case 3:
            rv = sd_suggest_remove(idx, op - 2, id);
            if (rv != APR_SUCCESS && rv != SD_ENOTFOUND) abort();
            break;
        default:
            query(idx, tenant, line + 2, (unsigned char)line[1] % 7, p);
        }
    }
    /* Everything goes again: enough removals make shards compact. */
    for (id = 0; id < 2002; id = id == 255 ? 1000 : id == 1255 ? 2001 : id + 1) {
        sd_suggest_remove(idx, SD_SUGGEST_KNOWN_ISSUE, id);
        sd_suggest_remove(idx, SD_SUGGEST_TICKET, id);
    }
    query(idx, "a", "printer", 5, p);
    apr_pool_destroy(p);
    return 0;
}
