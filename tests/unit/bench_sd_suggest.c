/* Benchmark of lib/sd_suggest.c on a synthetic corpus: one tenant with 5,000
 * known issues and 100,000 tickets (plus global issues and a second tenant),
 * English and Russian, Zipf-distributed words. Reports build time, memory,
 * and query latency alone and with 16 threads at once. Not run by `make unit`.
 *
 * Build and run from the project root:
 *   gcc -std=c99 -D_GNU_SOURCE -O2 -g $(apr-1-config --cflags --cppflags --includes) \
 *       -Ilib tests/unit/bench_sd_suggest.c lib/sd_suggest.c -o build/bench_sd_suggest \
 *       $(apr-1-config --link-ld --libs) -lutf8proc -lpthread
 *   build/bench_sd_suggest [tickets] [known_issues] [queries] [threads]
 * threads 0 skips the concurrent runs (for a profiler).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "sd_suggest.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;                  /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static unsigned rndn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* Real words first (they get the Zipf head), then made-up ones. */
static const char *const en_words[] = {
    "printer", "label", "email", "password", "network", "error", "screen", "login",
    "slow", "crash", "update", "server", "scanner", "badge", "phone", "monitor",
    "keyboard", "mouse", "wifi", "vpn", "outlook", "teams", "citrix", "order",
    "results", "patient", "ward", "lab", "pharmacy", "report", "printing", "offline",
    "frozen", "blank", "pages", "access", "denied", "timeout", "sync", "connection",
    "install", "license", "expired", "reset", "locked", "account", "missing", "wrong",
    "cannot", "open", "save", "file", "folder", "drive", "backup", "battery", "charger",
    "cable", "dock", "laptop", "desktop", "tablet", "camera", "audio", "video",
};
static const char *const ru_words[] = {
    "принтер", "этикетки", "печатает", "ошибка", "сеть", "пароль", "вход", "система",
    "сканер", "монитор", "клавиатура", "почта", "медленно", "зависает", "обновление",
    "сервер", "доступ", "пациент", "отделение", "лаборатория", "аптека", "отчет",
    "браслет", "штрихкод", "телефон", "звонок", "камера", "ноутбук", "зарядка",
    "работает", "недоступен", "подключение", "учетная", "запись", "заблокирована",
};
static const char *const en_syl[] = {
    "ka", "ro", "ne", "ti", "pla", "ster", "on", "ex", "mar", "li", "ver", "qu", "dis",
    "tor", "gen", "al", "sy", "can", "tri", "bo", "lu", "ment", "ing", "pre", "cor",
};
static const char *const ru_syl[] = {
    "ка", "ро", "не", "ти", "пла", "стер", "он", "ма", "ли", "вер", "дис", "тор", "ген",
    "ал", "сы", "кан", "три", "бо", "лу", "мент", "пре", "кор", "ость", "ние", "ать",
};

#define NVOCAB_EN 16000
#define NVOCAB_RU 8000

static char *vocab_en[NVOCAB_EN], *vocab_ru[NVOCAB_RU];
static double cum_en[NVOCAB_EN], cum_ru[NVOCAB_RU];

static char *make_word(const char *const *syl, unsigned nsyl, apr_pool_t *p)
{
    unsigned k = 2 + rndn(3), i;
    char *w = "";
    for (i = 0; i < k; i++) w = apr_pstrcat(p, w, syl[rndn(nsyl)], NULL);
    return w;
}

static void make_vocab(char **v, double *cum, unsigned n, const char *const *real, unsigned nreal,
                       const char *const *syl, unsigned nsyl, apr_pool_t *p)
{
    unsigned i;
    double s = 0.0;
    for (i = 0; i < n; i++) {
        v[i] = i < nreal ? (char *)real[i] : make_word(syl, nsyl, p);
        /* Zipf-Mandelbrot, s = 1, q = 10: the most common content word is
         * about 1% of the words, as in real text once stop words are gone
         * (plain Zipf would put "printer" into nearly every ticket). */
        s += 1.0 / (i + 11.0);
        cum[i] = s;
    }
    for (i = 0; i < n; i++) cum[i] /= s;
}

static const char *zipf(char **v, const double *cum, unsigned n)
{
    double u = (double)(rnd() >> 11) / 9007199254740992.0;
    unsigned lo = 0, hi = n - 1, mid;
    while (lo < hi) {
        mid = (lo + hi) / 2;
        if (cum[mid] < u) lo = mid + 1;
        else hi = mid;
    }
    return v[lo];
}

static char *sentence(int ru, unsigned nwords, apr_pool_t *p)
{
    char *s = "";
    unsigned i;
    for (i = 0; i < nwords; i++) {
        const char *w = ru ? zipf(vocab_ru, cum_ru, NVOCAB_RU) : zipf(vocab_en, cum_en, NVOCAB_EN);
        s = apr_pstrcat(p, s, i ? " " : "", w, NULL);
        if (!ru && rndn(6) == 0) s = apr_pstrcat(p, s, " the", NULL);
        if (ru && rndn(6) == 0) s = apr_pstrcat(p, s, " не", NULL);
    }
    return s;
}

/* A query as typed: a few words of a subject, maybe a typo, maybe cut short. */
static char *make_query(int ru, apr_pool_t *p)
{
    char *q = sentence(ru, 2 + rndn(4), p);
    apr_size_t n = strlen(q);
    if (rndn(3) == 0 && n > 6) {              /* swap two ASCII letters */
        apr_size_t i = 1 + rndn((unsigned)(n - 3));
        if (q[i] > ' ' && q[i + 1] > ' ' && !(q[i] & 0x80) && !(q[i + 1] & 0x80)) {
            char c = q[i];
            q[i] = q[i + 1];
            q[i + 1] = c;
        }
    }
    if (rndn(2) == 0) {                       /* still typing: cut the last word */
        char *sp = strrchr(q, ' ');
        if (sp && strlen(sp) > 4) {
            apr_size_t cut = strlen(sp) - 2;
            while (cut > 0 && ((unsigned char)sp[cut] & 0xC0) == 0x80) cut--;
            sp[cut] = '\0';
        }
    }
    return q;
}

static int cmp_time(const void *a, const void *b)
{
    apr_interval_time_t x = *(const apr_interval_time_t *)a, y = *(const apr_interval_time_t *)b;
    return x < y ? -1 : x > y;
}

static long rss_kb(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return rss * 4;
}

typedef struct {
    sd_suggest_index_t *idx;
    char **queries;
    int nq, from, step;
    apr_interval_time_t *lat;
} job_t;

static void *APR_THREAD_FUNC worker(apr_thread_t *th, void *data)
{
    job_t *j = data;
    apr_pool_t *p;
    sd_suggest_result_t *res;
    int i;

    apr_pool_create(&p, NULL);
    for (i = j->from; i < j->nq; i += j->step) {
        apr_time_t t0 = apr_time_now();
        if (sd_suggest_query(&res, j->idx, "acme", j->queries[i], 5, 5, p) != APR_SUCCESS) abort();
        j->lat[i] = apr_time_now() - t0;
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void report(const char *what, apr_interval_time_t *lat, int n, apr_interval_time_t wall)
{
    qsort(lat, (apr_size_t)n, sizeof(*lat), cmp_time);
    printf("%-34s p50 %6.3f ms  p90 %6.3f ms  p99 %6.3f ms  max %6.3f ms  (%d queries, %.0f/s)\n",
           what, lat[n / 2] / 1000.0, lat[n * 9 / 10] / 1000.0, lat[n * 99 / 100] / 1000.0,
           lat[n - 1] / 1000.0, n, n / (wall / 1e6));
}

int main(int argc, char **argv)
{
    int ntickets = argc > 1 ? atoi(argv[1]) : 100000;
    int nki = argc > 2 ? atoi(argv[2]) : 5000;
    int nq = argc > 3 ? atoi(argv[3]) : 20000;
    int nthreads = argc > 4 ? atoi(argv[4]) : 16, i, t;
    apr_pool_t *p, *tmp;
    sd_suggest_index_t *idx;
    sd_suggest_stats_t st;
    sd_suggest_result_t *res;
    apr_time_t t0, t1;
    apr_interval_time_t *lat, wall;
    char **queries;
    long rss0, rss1;
    apr_thread_t *th[16];
    job_t jobs[16];
    apr_status_t trv;
    apr_int64_t id = 1;
    apr_interval_time_t in_add = 0;

    apr_initialize();
    apr_pool_create(&p, NULL);
    apr_pool_create(&tmp, p);
    make_vocab(vocab_en, cum_en, NVOCAB_EN, en_words, sizeof(en_words) / sizeof(en_words[0]),
               en_syl, sizeof(en_syl) / sizeof(en_syl[0]), p);
    make_vocab(vocab_ru, cum_ru, NVOCAB_RU, ru_words, sizeof(ru_words) / sizeof(ru_words[0]),
               ru_syl, sizeof(ru_syl) / sizeof(ru_syl[0]), p);

    rss0 = rss_kb();
    sd_suggest_index_create(&idx, p);
    t0 = apr_time_now();
    for (i = 0; i < nki + 300 + ntickets + 20000; i++, id++) {
        int kind = i < nki + 300 ? SD_SUGGEST_KNOWN_ISSUE : SD_SUGGEST_TICKET;
        const char *tenant = i < nki ? "acme" : i < nki + 300 ? ""
                           : i < nki + 300 + ntickets ? "acme" : "beta";
        int ru = rndn(4) == 0;
        char *title = sentence(ru, 3 + rndn(6), tmp);
        char *body = sentence(ru, kind == SD_SUGGEST_KNOWN_ISSUE ? 20 + rndn(30) : 10 + rndn(40),
                              tmp);
        body = apr_psprintf(tmp, "%s INC%07d host-%x", body, (int)id, (unsigned)rndn(50000));
        t1 = apr_time_now();
        if (sd_suggest_add(idx, kind, id, tenant, title, body, tmp) != APR_SUCCESS) abort();
        in_add += apr_time_now() - t1;
        apr_pool_clear(tmp);
    }
    wall = apr_time_now() - t0;
    rss1 = rss_kb();
    sd_suggest_stats(&st, idx);
    printf("corpus: tenant acme %d known issues + %d tickets, 300 global issues, beta 20000 "
           "tickets\n", nki, ntickets);
    printf("build: %.2f s, of which sd_suggest_add %.2f s (%.1f us per document)\n", wall / 1e6,
           in_add / 1e6, (double)in_add / (double)st.docs);
    printf("index: %zu docs, %zu terms, %zu postings, %zu bytes = %.0f bytes/doc "
           "(RSS grew %ld kB = %.0f bytes/doc)\n", st.docs, st.terms, st.postings, st.bytes,
           (double)st.bytes / st.docs, rss1 - rss0, (rss1 - rss0) * 1024.0 / st.docs);

    queries = apr_palloc(p, sizeof(char *) * (apr_size_t)nq);
    for (i = 0; i < nq; i++) queries[i] = make_query(rndn(4) == 0, p);
    lat = apr_palloc(p, sizeof(*lat) * (apr_size_t)nq);

    /* Warm-up, then one thread. */
    for (i = 0; i < 200 && i < nq; i++) sd_suggest_query(&res, idx, "acme", queries[i], 5, 5, tmp);
    apr_pool_clear(tmp);
    t0 = apr_time_now();
    for (i = 0; i < nq; i++) {
        apr_time_t q0 = apr_time_now();
        if (sd_suggest_query(&res, idx, "acme", queries[i], 5, 5, tmp) != APR_SUCCESS) abort();
        lat[i] = apr_time_now() - q0;
        apr_pool_clear(tmp);
    }
    report("1 thread:", lat, nq, apr_time_now() - t0);

    if (nthreads < 1 || nthreads > 16) goto done;
    /* 16 threads at once (on however many cores there are). */
    t0 = apr_time_now();
    for (t = 0; t < nthreads; t++) {
        jobs[t].idx = idx;
        jobs[t].queries = queries;
        jobs[t].nq = nq;
        jobs[t].from = t;
        jobs[t].step = nthreads;
        jobs[t].lat = lat;
        apr_thread_create(&th[t], NULL, worker, &jobs[t], p);
    }
    for (t = 0; t < nthreads; t++) apr_thread_join(&trv, th[t]);
    report(apr_psprintf(tmp, "%d threads (latency incl. waiting):", nthreads), lat, nq, apr_time_now() - t0);

    /* Writers while readers run: ticket updates must not stall. */
    t0 = apr_time_now();
    for (t = 0; t < nthreads; t++) apr_thread_create(&th[t], NULL, worker, &jobs[t], p);
    {
        apr_interval_time_t wl[2000];
        for (i = 0; i < 2000; i++) {
            apr_time_t a0 = apr_time_now();
            char *title = sentence(0, 5, tmp);
            sd_suggest_add(idx, SD_SUGGEST_TICKET, nki + 300 + 1 + rndn((unsigned)ntickets), "acme",
                           title, "updated text", tmp);
            wl[i] = apr_time_now() - a0;
            apr_pool_clear(tmp);
            apr_sleep(500);
        }
        for (t = 0; t < nthreads; t++) apr_thread_join(&trv, th[t]);
        wall = apr_time_now() - t0;
        report(apr_psprintf(tmp, "%d threads + 2000 updates:", nthreads), lat, nq, wall);
        report("  the updates (add incl. lock wait):", wl, 2000, wall);
    }
    sd_suggest_stats(&st, idx);
    printf("after updates: %zu docs, %zu dead slots, %zu bytes (%.0f bytes/doc)\n", st.docs,
           st.dead, st.bytes, (double)st.bytes / st.docs);
done:
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
