/* Similarity matching for "suggest": folding, tokens, stems, and an in-memory
 * BM25 index with trigram expansion of misspelt and half-typed words.
 *
 * Why it is built this way:
 * - Documents live in shards, one per (tenant, kind). A query touches only
 *   its tenant's shards plus the global known-issue shard, so another
 *   tenant's documents are never even looked at, and the cost of a query
 *   does not grow with the number of tenants.
 * - The vocabulary is shared by all shards (each term string is stored once)
 *   and carries the trigram index used for fuzzy expansion. A term found
 *   that way is used only if one of the query's shards has postings for it.
 * - A posting is 4 bytes: slot << 8 | weighted term frequency. Lists of one
 *   or two postings (most terms) sit inside the list header, not on the heap.
 * - Removal marks a slot dead (queries skip it); a shard is compacted when a
 *   quarter of its slots are dead, and unused vocabulary is collected when
 *   half of it is unused. So add and remove cost O(terms of the document),
 *   and memory follows the live documents. Document frequencies count dead
 *   slots until compaction, N counts them too, so IDF stays consistent.
 * - Queries score term-at-a-time into dense per-query arrays indexed by
 *   slot, with epoch stamps instead of clearing, rarest word first; once the
 *   words left cannot lift a new document into the top k, common words'
 *   long lists are probed only for the documents still in the race
 *   (MaxScore-style; same result as scoring everything). The arrays are kept
 *   for reuse, at most SD_SUGGEST_MAX_PARALLEL sets.
 * - Misspellings: a query word is expanded to vocabulary terms sharing
 *   character trigrams (Jaccard) or within edit distance 1 (2 from 8
 *   letters), at a lower weight; the word being typed also to terms it
 *   starts. A word already in TRUSTED_DF documents is taken as spelt right.
 * - Locking: one reader/writer lock; a writer takes a gate mutex while it
 *   waits, so a steady stream of queries cannot starve index updates.
 * - The module links no libm, hence the small logarithm below. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#if APR_HAS_THREADS
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_rwlock.h>
#endif
#include <utf8proc.h>

#include "sd_suggest.h"

/* ---- Text ------------------------------------------------------------------- */

#define FOLD_OPTS (UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD \
                   | UTF8PROC_IGNORE | UTF8PROC_STRIPMARK)

typedef utf8proc_int32_t cp_t;

static apr_status_t status_of_utf8proc(utf8proc_ssize_t rc)
{
    if (rc == UTF8PROC_ERROR_INVALIDUTF8) return SD_EMALFORMED;
    if (rc == UTF8PROC_ERROR_NOMEM) return APR_ENOMEM;
    if (rc == UTF8PROC_ERROR_OVERFLOW) return SD_ETOOBIG;
    return SD_EINTERNAL;
}

/* Folded code points of text, in p. */
static apr_status_t fold_cps(cp_t **pcps, apr_size_t *pn, const char *text, apr_ssize_t len,
                             apr_pool_t *p)
{
    utf8proc_ssize_t n, cap;
    cp_t *buf;

    *pcps = NULL;
    *pn = 0;
    if (len < 0) len = (apr_ssize_t)strlen(text);
    if ((apr_size_t)len > (apr_size_t)(APR_SIZE_MAX / 64)) return SD_ETOOBIG;
    /* Most text does not grow; the few code points that decompose into many
     * (U+FDFA gives 18) make us ask again with the size utf8proc reports. */
    cap = (utf8proc_ssize_t)len + 16;
    buf = apr_palloc(p, (apr_size_t)cap * sizeof(*buf));
    n = utf8proc_decompose((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, buf, cap,
                           FOLD_OPTS);
    if (n > cap) {
        cap = n;
        buf = apr_palloc(p, (apr_size_t)cap * sizeof(*buf));
        n = utf8proc_decompose((const utf8proc_uint8_t *)text, (utf8proc_ssize_t)len, buf, cap,
                               FOLD_OPTS);
    }
    if (n < 0) return status_of_utf8proc(n);
    n = utf8proc_normalize_utf32(buf, n, FOLD_OPTS);
    if (n < 0) return status_of_utf8proc(n);
    *pcps = buf;
    *pn = (apr_size_t)n;
    return APR_SUCCESS;
}

/* UTF-8 of cps[0..n) into out (room for 4 * n + 1), NUL-terminated; bytes written. */
static apr_size_t encode(char *out, const cp_t *cps, apr_size_t n)
{
    apr_size_t i, k = 0;
    for (i = 0; i < n; i++) {
        k += (apr_size_t)utf8proc_encode_char(cps[i], (utf8proc_uint8_t *)out + k);
    }
    out[k] = '\0';
    return k;
}

apr_status_t sd_text_fold(const char **pfolded, const char *text, apr_ssize_t len,
                          apr_pool_t *p)
{
    cp_t *cps;
    apr_size_t n, i;
    char *out;
    apr_status_t rv;

    *pfolded = NULL;
    if (!text) return SD_EINVALID;
    if (APR_SUCCESS != (rv = fold_cps(&cps, &n, text, len, p))) return rv;
    for (i = 0; i < n; i++) {
        if (cps[i] == 0) cps[i] = ' ';   /* a C string cannot carry it */
    }
    out = apr_palloc(p, 4 * n + 1);
    encode(out, cps, n);
    *pfolded = out;
    return APR_SUCCESS;
}

static int is_word_cp(cp_t c)
{
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

static int is_digit_cp(cp_t c)
{
    utf8proc_category_t cat = utf8proc_category(c);
    return cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL
        || cat == UTF8PROC_CATEGORY_NO;
}

/* Scripts written without spaces between words; a run of them is cut into
 * overlapping pairs (the usual CJK bigram approach) instead of one token. */
static int is_cjk_cp(cp_t c)
{
    return (c >= 0x3040 && c <= 0x30FF)      /* Hiragana, Katakana */
        || (c >= 0x3400 && c <= 0x4DBF)      /* CJK Extension A */
        || (c >= 0x4E00 && c <= 0x9FFF)      /* CJK Unified Ideographs */
        || (c >= 0xF900 && c <= 0xFAFF)      /* CJK Compatibility Ideographs */
        || (c >= 0x20000 && c <= 0x3FFFF);   /* Extensions B and later */
}

/* Folded, sorted by strcmp (bsearch); a unit test checks both. Words that
 * carry meaning in a ticket ("down", "off", "out", "up") are not here. */
static const char *const stop_words[] = {
    "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "being", "but", "by", "can", "could", "did", "do", "does", "for",
    "from", "had", "has", "have", "he", "her", "his", "how", "if", "in", "into",
    "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "she",
    "so", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "to", "too", "very", "was", "we", "were", "what", "when",
    "where", "which", "while", "who", "why", "will", "with", "would", "you", "your",
    "без", "бы", "был", "была", "были", "было", "быть", "в", "вам", "вас", "во",
    "вот", "все", "всего", "вы", "где", "да", "даже", "для", "до", "его", "ее",
    "ему", "если", "есть", "еще", "же", "за", "здесь", "и", "из", "или", "им", "их",
    "к", "как", "когда", "кто", "ли", "мне", "мои", "мы", "на", "над", "нам", "нас",
    "не", "него", "нее", "нет", "ни", "но", "ну", "о", "об", "он", "она", "они",
    "оно", "от", "по", "под", "при", "с", "со", "так", "также", "там", "те", "тем",
    "то", "того", "тоже", "только", "ты", "у", "уже", "чем", "что", "чтобы", "эта",
    "эти", "это", "этот", "я",
};
#define NSTOP (sizeof(stop_words) / sizeof(stop_words[0]))

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define STOP_MAX_BYTES 12         /* "только"; longer words need no lookup */

int sd_text_is_stopword(const char *folded)
{
    return folded && strnlen(folded, STOP_MAX_BYTES + 1) <= STOP_MAX_BYTES
           && bsearch(&folded, stop_words, NSTOP, sizeof(stop_words[0]), cmp_str) != NULL;
}

/* Exposed to the unit test through a prototype there, so the table's order
 * and folding are checked without making it API. */
const char *const *sd_suggest_stop_words_(apr_size_t *pn);
const char *const *sd_suggest_stop_words_(apr_size_t *pn)
{
    *pn = NSTOP;
    return stop_words;
}

static int ends_n(const char *w, apr_size_t n, const char *suf, apr_size_t k)
{
    return n >= k && !memcmp(w + n - k, suf, k);
}

#define ends(w, n, lit) ends_n((w), (n), (lit), sizeof(lit) - 1)

static int is_vowel_en(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

static int has_vowel_en(const char *w, apr_size_t n)
{
    apr_size_t i;
    for (i = 0; i < n; i++) {
        if (is_vowel_en(w[i])) return 1;
    }
    return 0;
}

/* "stopp" → "stop", "runn" → "run"; "ll", "ss", "zz" stay (call, miss, buzz). */
static apr_size_t undouble(const char *w, apr_size_t n)
{
    if (n >= 4 && w[n - 1] == w[n - 2] && !is_vowel_en(w[n - 1])
        && w[n - 1] != 'l' && w[n - 1] != 's' && w[n - 1] != 'z') {
        return n - 1;
    }
    return n;
}

static apr_size_t stem_en(char *w, apr_size_t n)
{
    if (n >= 5 && ends(w, n, "ies")) {
        n -= 2;
        w[n - 1] = 'y';
    }
    else if (n >= 4 && w[n - 1] == 's' && w[n - 2] != 's' && w[n - 2] != 'u'
             && w[n - 2] != 'i') {
        n -= 1;
    }
    if (n >= 6 && ends(w, n, "ing") && has_vowel_en(w, n - 3)) {
        n = undouble(w, n - 3);
    }
    else if (n >= 5 && ends(w, n, "ied")) {
        n -= 2;
        w[n - 1] = 'y';
    }
    else if (n >= 5 && ends(w, n, "ed") && !ends(w, n, "eed") && has_vowel_en(w, n - 2)) {
        n = undouble(w, n - 2);
    }
    if (n >= 4 && w[n - 1] == 'e' && w[n - 2] != 'e') n -= 1;
    return n;
}

/* Folded endings (й is folded to и), longest first so the longest one that
 * leaves a stem of 3 letters wins. Left out on purpose because they are also
 * common word ends: -ем (систем), -им (режим), -ам, -ет (пакет), -ит, -ат,
 * past tense -л/-ла/-ли (канал, школа). */
#define E(lit) { lit, sizeof(lit) - 1 }
static const struct {
    const char *s;
    apr_size_t len;
} ru_endings[] = {
    E("ами"), E("ями"), E("ого"), E("его"), E("ому"), E("ему"), E("ыми"), E("ими"),
    E("ает"), E("яет"), E("ают"), E("яют"), E("ах"), E("ях"), E("ов"), E("ев"), E("ом"),
    E("ым"), E("ых"), E("их"), E("ую"), E("юю"), E("ая"), E("яя"), E("ое"), E("ее"),
    E("ые"), E("ие"), E("ыи"), E("ии"), E("ои"), E("еи"), E("ью"), E("ия"), E("ию"), E("ы"),
    E("и"), E("а"), E("я"), E("у"), E("ю"), E("е"), E("о"), E("ь"),
};
#undef E
#define NRU_ENDINGS (sizeof(ru_endings) / sizeof(ru_endings[0]))

/* Every code point of a Russian word is 2 bytes: letters а..я are U+0430..U+044F. */
static apr_size_t stem_ru(char *w, apr_size_t n)
{
    apr_size_t i, k;

    if (n >= 12 && (ends(w, n, "ся") || ends(w, n, "сь"))) n -= 4;
    for (i = 0; i < NRU_ENDINGS; i++) {
        k = ru_endings[i].len;
        if (n >= k + 6 && ends_n(w, n, ru_endings[i].s, k)) return n - k;
    }
    return n;
}

static int all_az(const char *w, apr_size_t n)
{
    apr_size_t i;
    for (i = 0; i < n; i++) {
        if (w[i] < 'a' || w[i] > 'z') return 0;
    }
    return 1;
}

static int all_ru(const char *w, apr_size_t n)
{
    apr_size_t i;
    const unsigned char *u = (const unsigned char *)w;
    if (n % 2) return 0;
    for (i = 0; i < n; i += 2) {
        if (!((u[i] == 0xD0 && u[i + 1] >= 0xB0 && u[i + 1] <= 0xBF)
              || (u[i] == 0xD1 && u[i + 1] >= 0x80 && u[i + 1] <= 0x8F))) {
            return 0;
        }
    }
    return 1;
}

/* In place; returns the new length (never longer). */
static apr_size_t stem_word(char *w, apr_size_t n)
{
    if (all_az(w, n)) n = stem_en(w, n);
    else if (all_ru(w, n)) n = stem_ru(w, n);
    w[n] = '\0';
    return n;
}

const char *sd_text_stem(const char *folded, apr_pool_t *p)
{
    char *w;
    if (!folded) return NULL;
    w = apr_pstrdup(p, folded);
    stem_word(w, strlen(w));
    return w;
}

/* One search term of a text. */
typedef struct {
    const char *stem;       /* what is indexed and matched exactly */
    const char *raw;        /* folded word before stemming */
    int ncp;                /* code points of raw */
    int at_end;             /* the text ends right after it (still being typed?) */
} tok_t;

static void emit(apr_array_header_t *toks, const cp_t *cps, apr_size_t n, int stem,
                 int at_end, apr_pool_t *p)
{
    tok_t *t;
    char *raw = apr_palloc(p, 4 * n + 1);
    char *st;
    apr_size_t len = encode(raw, cps, n);

    if (stem && sd_text_is_stopword(raw)) return;
    st = apr_pstrmemdup(p, raw, len);
    if (stem) stem_word(st, len);
    t = apr_array_push(toks);
    t->stem = st;
    t->raw = raw;
    t->ncp = (int)n;
    t->at_end = at_end;
}

static apr_status_t tokenize(apr_array_header_t **ptoks, const char *text, apr_ssize_t len,
                             int max, apr_pool_t *p)
{
    apr_array_header_t *toks;
    cp_t *cps;
    apr_size_t n, i, j, k;
    apr_status_t rv;
    int cjk;

    *ptoks = NULL;
    if (APR_SUCCESS != (rv = fold_cps(&cps, &n, text, len, p))) return rv;
    toks = apr_array_make(p, 16, sizeof(tok_t));
    for (i = 0; i < n && (max <= 0 || toks->nelts < max); i = j) {
        if (!is_word_cp(cps[i])) {
            j = i + 1;
            continue;
        }
        cjk = is_cjk_cp(cps[i]);
        for (j = i + 1; j < n && is_word_cp(cps[j]) && is_cjk_cp(cps[j]) == cjk; j++)
            ;
        if (cjk) {
            if (j - i == 1) emit(toks, cps + i, 1, 0, j == n, p);
            for (k = i; k + 1 < j && (max <= 0 || toks->nelts < max); k++) {
                emit(toks, cps + k, 2, 0, k + 2 == n, p);
            }
        }
        else if (j - i >= 2) {
            emit(toks, cps + i, j - i > SD_TEXT_MAX_TOKEN_CP ? SD_TEXT_MAX_TOKEN_CP : j - i, 1,
                 j == n, p);
        }
    }
    *ptoks = toks;
    return APR_SUCCESS;
}

apr_status_t sd_text_tokens(apr_array_header_t **ptokens, const char *text, apr_ssize_t len,
                            int max_tokens, apr_pool_t *p)
{
    apr_array_header_t *toks, *out;
    apr_status_t rv;
    int i;

    *ptokens = NULL;
    if (!text) return SD_EINVALID;
    if (APR_SUCCESS != (rv = tokenize(&toks, text, len, max_tokens, p))) return rv;
    out = apr_array_make(p, toks->nelts ? toks->nelts : 1, sizeof(const char *));
    for (i = 0; i < toks->nelts; i++) {
        APR_ARRAY_PUSH(out, const char *) = APR_ARRAY_IDX(toks, i, tok_t).stem;
    }
    *ptokens = out;
    return APR_SUCCESS;
}

/* ---- Small helpers ------------------------------------------------------------ */

/* ln(x) for x >= 1: x = m * 2^e with m in [1, 2), ln m = 2 atanh((m-1)/(m+1));
 * |(m-1)/(m+1)| <= 1/3, so ten terms give ~1e-10. */
static double ln_ge1(double x)
{
    double s, s2, t, sum = 0.0;
    int e = 0, k;
    while (x >= 2.0) {
        x *= 0.5;
        e++;
    }
    s = (x - 1.0) / (x + 1.0);
    s2 = s * s;
    t = s;
    for (k = 1; k < 21; k += 2) {
        sum += t / k;
        t *= s2;
    }
    return 2.0 * sum + e * 0.69314718055994530942;
}

static uint32_t hash_str(const char *s, apr_size_t n)
{
    uint32_t h = 2166136261u;                 /* FNV-1a */
    apr_size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;               /* splitmix64 finaliser */
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Grows *pv to hold need elements (doubling); 0 or -1 (no memory, unchanged). */
static int grow(void **pv, uint32_t *pcap, uint32_t need, apr_size_t elem)
{
    uint64_t cap = *pcap ? *pcap : 8;
    void *v;
    if (need <= *pcap) return 0;
    while (cap < need) cap *= 2;
    if (cap > UINT32_MAX) cap = UINT32_MAX;
    v = realloc(*pv, (apr_size_t)cap * elem);
    if (!v) return -1;
    *pv = v;
    *pcap = (uint32_t)cap;
    return 0;
}

/* Decodes a term into at most max code points. Terms and query words come
 * from encode() above, so the UTF-8 is known to be valid and short. */
static int decode(cp_t *out, int max, const char *s, apr_size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0;
    int k = 0;
    while (i < n && k < max) {
        if (u[i] < 0x80) {
            out[k++] = u[i];
            i += 1;
        }
        else if (u[i] < 0xE0 && i + 1 < n) {
            out[k++] = (cp_t)(u[i] & 0x1F) << 6 | (u[i + 1] & 0x3F);
            i += 2;
        }
        else if (u[i] < 0xF0 && i + 2 < n) {
            out[k++] = (cp_t)(u[i] & 0x0F) << 12 | (cp_t)(u[i + 1] & 0x3F) << 6 | (u[i + 2] & 0x3F);
            i += 3;
        }
        else if (i + 3 < n) {
            out[k++] = (cp_t)(u[i] & 0x07) << 18 | (cp_t)(u[i + 1] & 0x3F) << 12
                       | (cp_t)(u[i + 2] & 0x3F) << 6 | (u[i + 3] & 0x3F);
            i += 4;
        }
        else {
            break;
        }
    }
    return k;
}

#define MAX_TRI (SD_TEXT_MAX_TOKEN_CP + 1)

static uint64_t tri_key(cp_t a, cp_t b, cp_t c)
{
    return ((uint64_t)a << 42) | ((uint64_t)b << 21) | (uint64_t)c;
}

/* Distinct padded trigrams ("  w", " wo", ..., "d ") of n code points, sorted. */
static int trigrams(uint64_t *out, const cp_t *cps, int n)
{
    int i, j, m = 0, u;
    uint64_t t;
    for (i = -2; i + 2 <= n; i++) {
        out[m++] = tri_key(i < 0 ? 0 : cps[i], i + 1 < 0 ? 0 : cps[i + 1],
                           i + 2 < n ? cps[i + 2] : 0);
    }
    for (i = 1; i < m; i++) {                  /* insertion sort: m <= 33 */
        t = out[i];
        for (j = i; j > 0 && out[j - 1] > t; j--) out[j] = out[j - 1];
        out[j] = t;
    }
    for (i = 0, u = 0; i < m; i++) {
        if (!u || out[u - 1] != out[i]) out[u++] = out[i];
    }
    return u;
}

/* Optimal string alignment distance (edits and adjacent swaps) if it is at
 * most k, else k + 1. Only the diagonal band |i - j| <= k is computed, and it
 * stops as soon as a whole row exceeds k: most candidates fail fast. */
static int osa_within(const cp_t *a, int n, const cp_t *b, int m, int k)
{
    enum { BIG = 1000 };
    int r0[MAX_TRI + 1], r1[MAX_TRI + 1], r2[MAX_TRI + 1];
    int *pp = r0, *prev = r1, *cur = r2, *tmp;
    int i, j, lo, hi, v, rowmin;

    if (n - m > k || m - n > k) return k + 1;
    for (j = 0; j <= m; j++) {
        r0[j] = BIG;
        r2[j] = BIG;
        r1[j] = j <= k ? j : BIG;
    }
    for (i = 1; i <= n; i++) {
        lo = i - k > 1 ? i - k : 1;
        hi = i + k < m ? i + k : m;
        if (lo == 1) cur[0] = i;
        else cur[lo - 1] = BIG;
        if (hi < m) cur[hi + 1] = BIG;
        rowmin = lo == 1 ? i : BIG;
        for (j = lo; j <= hi; j++) {
            v = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < v) v = prev[j] + 1;
            if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v) {
                v = pp[j - 2] + 1;
            }
            cur[j] = v;
            if (v < rowmin) rowmin = v;
        }
        if (rowmin > k) return k + 1;
        tmp = pp;
        pp = prev;
        prev = cur;
        cur = tmp;
    }
    return prev[m] <= k ? prev[m] : k + 1;
}

/* ---- Index structures ----------------------------------------------------------- */

#define NONE       UINT32_MAX
#define MAX_SLOTS  (1u << 24)          /* a posting keeps 24 bits of slot */
#define TITLE_W    3                   /* a title occurrence counts as three */
#define BM25_K1    1.2
#define BM25_B     0.75
#define W_FUZZY    0.7                 /* times similarity, for a misspelling */
#define W_PREFIX   0.8                 /* times similarity, for a half-typed word */
#define MIN_JACC   0.4
#define TRUSTED_DF 10                  /* a word in this many documents is no misspelling */
#define MAX_FUZZY  3                   /* expansions per query word */
#define MAX_FUZZY_OPEN 5               /* ... for the word being typed */

typedef struct {
    char *s;                /* NULL: free id */
    uint32_t hash;
    uint16_t len;           /* bytes */
    uint8_t ncp;            /* code points */
    uint8_t ntri;           /* trigrams in the trigram index; 0: not fuzzy-matched */
    uint32_t refs;          /* shards with a postings list for it; 0: unused */
    uint32_t fid;           /* dense number among fuzzy-matched terms, or NONE */
} term_t;

typedef struct {
    uint64_t key;           /* 0: empty */
    uint32_t n, cap;
    uint32_t *ids;          /* fids: terms with this trigram */
} tri_t;

typedef struct {
    uint32_t term;          /* term id + 1; 0: empty */
    uint32_t n;
    uint32_t cap;           /* <= 2: postings inline */
    union {
        uint32_t *p;
        uint32_t in[2];
    } u;
} plist_t;

typedef struct {
    char *tenant;
    int kind;
    uint32_t no;            /* in idx->shards */
    plist_t *map;           /* term -> postings, open addressing */
    uint32_t mask, used;
    apr_int64_t *ids;       /* per slot */
    uint64_t *fp;           /* fingerprint of the text, to skip unchanged re-adds */
    uint16_t *dl;           /* weighted length */
    uint8_t *live;
    uint32_t nslots, cslots, nlive;
    uint64_t sumdl;         /* over live slots */
} shard_t;

typedef struct {
    shard_t *s[SD_SUGGEST_KIND_COUNT];
} tenant_t;

typedef struct {
    apr_int64_t id;
    uint32_t shard;         /* NONE: empty */
    uint32_t slot;
} docref_t;

typedef struct scratch_t scratch_t;
struct scratch_t {
    scratch_t *next;
    float *acc, *best;
    uint32_t *stamp, *touched;
    uint32_t dcap, depoch;
    uint32_t *vstamp;       /* per fid: epoch << 8 | shared trigrams */
    uint32_t vcap, vepoch;
    uint32_t *cand;         /* fids sharing a trigram with the query word */
};

struct sd_suggest_index_t {
    apr_pool_t *pool;
#if APR_HAS_THREADS
    apr_thread_rwlock_t *rw;
    apr_thread_mutex_t *gate;     /* a writer holds it while waiting, so readers queue */
    apr_thread_mutex_t *spare_mx;
#endif
    term_t *terms;
    uint32_t nterms, cterms, nunused;
    uint32_t *free_ids;
    uint32_t nfree, cfree;
    uint32_t *vhash;              /* term id + 1 */
    uint32_t vmask, vused;
    /* Terms with digits are never fuzzy-matched; numbering the others
     * densely keeps the per-query counters small. */
    uint32_t *fterm;              /* fid -> term id */
    uint32_t nf, cf;
    uint32_t *ffree;
    uint32_t nffree, cffree;
    tri_t *tri;
    uint32_t tmask, tused;
    shard_t **shards;
    uint32_t nshards, cshards;
    apr_hash_t *tenants;
    docref_t *docs;
    uint32_t dmask, dused;
    apr_size_t npostings;
    scratch_t *spare;
    uint32_t nscratch;
#if APR_HAS_THREADS
    apr_thread_cond_t *spare_cv;
#endif
};

static void rd_lock(sd_suggest_index_t *idx)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(idx->gate);
    apr_thread_rwlock_rdlock(idx->rw);
    apr_thread_mutex_unlock(idx->gate);
#else
    (void)idx;
#endif
}

static void wr_lock(sd_suggest_index_t *idx)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(idx->gate);
    apr_thread_rwlock_wrlock(idx->rw);
    apr_thread_mutex_unlock(idx->gate);
#else
    (void)idx;
#endif
}

static void rw_unlock(sd_suggest_index_t *idx)
{
#if APR_HAS_THREADS
    apr_thread_rwlock_unlock(idx->rw);
#else
    (void)idx;
#endif
}

/* ---- Vocabulary ---- */

static uint32_t vocab_find(sd_suggest_index_t *idx, const char *s, apr_size_t n, uint32_t h)
{
    uint32_t i, id;
    if (!idx->vhash) return NONE;
    for (i = h & idx->vmask; idx->vhash[i]; i = (i + 1) & idx->vmask) {
        id = idx->vhash[i] - 1;
        if (idx->terms[id].hash == h && idx->terms[id].len == n && !memcmp(idx->terms[id].s, s, n)) {
            return id;
        }
    }
    return NONE;
}

/* Fills table v (size a power of two, zeroed) with every term in use. */
static void vhash_fill(sd_suggest_index_t *idx, uint32_t *v, uint32_t size)
{
    uint32_t id, i;
    free(idx->vhash);
    idx->vhash = v;
    idx->vmask = size - 1;
    idx->vused = 0;
    for (id = 0; id < idx->nterms; id++) {
        if (!idx->terms[id].s) continue;
        for (i = idx->terms[id].hash & idx->vmask; v[i]; i = (i + 1) & idx->vmask)
            ;
        v[i] = id + 1;
        idx->vused++;
    }
}

static tri_t *tri_find(sd_suggest_index_t *idx, uint64_t key)
{
    uint32_t i;
    if (!idx->tri) return NULL;
    for (i = (uint32_t)mix64(key) & idx->tmask; idx->tri[i].key; i = (i + 1) & idx->tmask) {
        if (idx->tri[i].key == key) return &idx->tri[i];
    }
    return NULL;
}

static tri_t *tri_get(sd_suggest_index_t *idx, uint64_t key)
{
    tri_t *t = tri_find(idx, key), *old;
    uint32_t i, j, oldsize;

    if (t) return t;
    if (!idx->tri || (idx->tused + 1) * 4 > (idx->tmask + 1) * 3) {
        oldsize = idx->tri ? idx->tmask + 1 : 0;
        old = idx->tri;
        t = calloc(oldsize ? oldsize * 2 : 1024, sizeof(*t));
        if (!t) return NULL;
        idx->tri = t;
        idx->tmask = (oldsize ? oldsize * 2 : 1024) - 1;
        for (j = 0; j < oldsize; j++) {
            if (!old[j].key) continue;
            for (i = (uint32_t)mix64(old[j].key) & idx->tmask; t[i].key; i = (i + 1) & idx->tmask)
                ;
            t[i] = old[j];
        }
        free(old);
    }
    for (i = (uint32_t)mix64(key) & idx->tmask; idx->tri[i].key; i = (i + 1) & idx->tmask)
        ;
    idx->tri[i].key = key;
    idx->tused++;
    return &idx->tri[i];
}

/* Words with digits (error codes, versions, ids) must match exactly: "404"
 * is not a misspelling of "405". Short words have too few trigrams. */
static int term_trigrams(uint64_t *out, const char *s, apr_size_t n)
{
    cp_t cps[SD_TEXT_MAX_TOKEN_CP];
    int k = decode(cps, SD_TEXT_MAX_TOKEN_CP, s, n), i;
    if (k < 3) return 0;
    for (i = 0; i < k; i++) {
        if (is_digit_cp(cps[i])) return 0;
    }
    return trigrams(out, cps, k);
}

/* Id of term s, created (with its trigrams) if new; NONE if out of memory. */
static uint32_t vocab_intern(sd_suggest_index_t *idx, const char *s, apr_size_t n, uint32_t h)
{
    uint64_t tris[MAX_TRI];
    cp_t cps[SD_TEXT_MAX_TOKEN_CP];
    uint32_t id = vocab_find(idx, s, n, h), i;
    term_t *t;
    tri_t *tr;
    int nt, k;

    if (id != NONE) return id;
    if (!idx->vhash || (idx->vused + 1) * 4 > (idx->vmask + 1) * 3) {
        uint32_t size = idx->vhash ? (idx->vmask + 1) * 2 : 1024, *v = calloc(size, sizeof(*v));
        if (!v) return NONE;
        vhash_fill(idx, v, size);
    }
    if (idx->nfree) {
        id = idx->free_ids[--idx->nfree];
    }
    else {
        if (idx->nterms == NONE - 1) return NONE;
        if (grow((void **)&idx->terms, &idx->cterms, idx->nterms + 1, sizeof(term_t))) return NONE;
        id = idx->nterms++;
    }
    t = &idx->terms[id];
    memset(t, 0, sizeof(*t));
    if (!(t->s = malloc(n + 1))) {
        if (id + 1 == idx->nterms) idx->nterms--;
        else idx->free_ids[idx->nfree++] = id;   /* room: it was just taken from there */
        return NONE;
    }
    memcpy(t->s, s, n);
    t->s[n] = '\0';
    t->hash = h;
    t->len = (uint16_t)n;
    t->ncp = (uint8_t)decode(cps, SD_TEXT_MAX_TOKEN_CP, s, n);
    t->fid = NONE;
    nt = term_trigrams(tris, s, n);
    if (nt) {
        if (idx->nffree) {
            t->fid = idx->ffree[--idx->nffree];
        }
        else if (!grow((void **)&idx->fterm, &idx->cf, idx->nf + 1, sizeof(uint32_t))) {
            t->fid = idx->nf++;
        }
        else {
            nt = 0;                       /* no memory: exact matches only */
        }
    }
    for (k = 0; k < nt; k++) {
        tr = tri_get(idx, tris[k]);
        if (!tr || grow((void **)&tr->ids, &tr->cap, tr->n + 1, sizeof(uint32_t))) break;
        tr->ids[tr->n++] = t->fid;
    }
    if (k < nt) {
        /* Partly indexed: take it out again so Jaccard counts stay true. */
        while (k-- > 0) {
            tr = tri_find(idx, tris[k]);
            if (tr && tr->n && tr->ids[tr->n - 1] == t->fid) tr->n--;
        }
        nt = 0;
    }
    if (nt) {
        idx->fterm[t->fid] = id;
    }
    else if (t->fid != NONE) {
        if (t->fid + 1 == idx->nf) idx->nf--;
        else idx->ffree[idx->nffree++] = t->fid;  /* room: it was just taken from there */
        t->fid = NONE;
    }
    t->ntri = (uint8_t)nt;
    for (i = t->hash & idx->vmask; idx->vhash[i]; i = (i + 1) & idx->vmask)
        ;
    idx->vhash[i] = id + 1;
    idx->vused++;
    idx->nunused++;                       /* refs is 0 until a shard takes it */
    return id;
}

static void term_ref(sd_suggest_index_t *idx, uint32_t id)
{
    if (idx->terms[id].refs++ == 0) idx->nunused--;
}

static void term_unref(sd_suggest_index_t *idx, uint32_t id)
{
    if (--idx->terms[id].refs == 0) idx->nunused++;
}

/* Drops unused terms: out of the trigram lists and the hash, ids reused.
 * Allocates first, so on failure nothing has changed (it is tried again). */
static void vocab_collect(sd_suggest_index_t *idx)
{
    uint32_t i, j, k, size, live = idx->nterms - idx->nfree - idx->nunused, *v, nfz = 0;
    term_t *t;

    for (i = 0; i < idx->nterms; i++) {
        if (idx->terms[i].s && !idx->terms[i].refs && idx->terms[i].fid != NONE) nfz++;
    }
    for (size = 1024; size * 3 < live * 4 + 4; size *= 2)
        ;
    if (grow((void **)&idx->free_ids, &idx->cfree, idx->nfree + idx->nunused, sizeof(uint32_t))
        || grow((void **)&idx->ffree, &idx->cffree, idx->nffree + nfz, sizeof(uint32_t))
        || !(v = calloc(size, sizeof(*v)))) {
        return;
    }
    for (i = 0; idx->tri && i <= idx->tmask; i++) {
        tri_t *tr = &idx->tri[i];
        for (j = 0, k = 0; j < tr->n; j++) {
            if (idx->terms[idx->fterm[tr->ids[j]]].refs) tr->ids[k++] = tr->ids[j];
        }
        tr->n = k;
    }
    for (i = 0; i < idx->nterms; i++) {
        t = &idx->terms[i];
        if (t->s && !t->refs) {
            free(t->s);
            t->s = NULL;
            idx->free_ids[idx->nfree++] = i;
            if (t->fid != NONE) idx->ffree[idx->nffree++] = t->fid;
            t->fid = NONE;
        }
    }
    idx->nunused = 0;
    vhash_fill(idx, v, size);
}

/* ---- Shards ---- */

static uint32_t *pl_data(plist_t *pl)
{
    return pl->cap <= 2 ? pl->u.in : pl->u.p;
}

static int pl_push(plist_t *pl, uint32_t v)
{
    uint32_t *d, ncap;
    if (pl->n < 2) {
        pl->u.in[pl->n++] = v;
        pl->cap = 2;
        return 0;
    }
    if (pl->n == pl->cap) {
        ncap = pl->cap + pl->cap / 2 + 2;
        if (pl->cap <= 2) {
            if (!(d = malloc(ncap * sizeof(*d)))) return -1;
            d[0] = pl->u.in[0];
            d[1] = pl->u.in[1];
        }
        else if (!(d = realloc(pl->u.p, ncap * sizeof(*d)))) {
            return -1;
        }
        pl->u.p = d;
        pl->cap = ncap;
    }
    pl->u.p[pl->n++] = v;
    return 0;
}

static void pl_free(plist_t *pl)
{
    if (pl->cap > 2) free(pl->u.p);
    pl->cap = 0;
    pl->n = 0;
}

static plist_t *shard_find(const shard_t *s, uint32_t term)
{
    uint32_t i;
    if (!s || !s->map) return NULL;
    for (i = (uint32_t)mix64(term) & s->mask; s->map[i].term; i = (i + 1) & s->mask) {
        if (s->map[i].term == term + 1) return &s->map[i];
    }
    return NULL;
}

static int shard_map_resize(shard_t *s, uint32_t size)
{
    plist_t *m = calloc(size, sizeof(*m)), *old = s->map;
    uint32_t i, j, oldsize = old ? s->mask + 1 : 0;
    if (!m) return -1;
    for (j = 0; j < oldsize; j++) {
        if (!old[j].term) continue;
        for (i = (uint32_t)mix64(old[j].term - 1) & (size - 1); m[i].term; i = (i + 1) & (size - 1))
            ;
        m[i] = old[j];
    }
    free(old);
    s->map = m;
    s->mask = size - 1;
    return 0;
}

static plist_t *shard_get(sd_suggest_index_t *idx, shard_t *s, uint32_t term)
{
    plist_t *pl = shard_find(s, term);
    uint32_t i;
    if (pl) return pl;
    if (!s->map || (s->used + 1) * 4 > (s->mask + 1) * 3) {
        if (shard_map_resize(s, s->map ? (s->mask + 1) * 2 : 64)) return NULL;
    }
    for (i = (uint32_t)mix64(term) & s->mask; s->map[i].term; i = (i + 1) & s->mask)
        ;
    s->map[i].term = term + 1;
    s->used++;
    term_ref(idx, term);
    return &s->map[i];
}

static shard_t *shard_of(sd_suggest_index_t *idx, const char *tenant, int kind, int create)
{
    tenant_t *tn = apr_hash_get(idx->tenants, tenant, APR_HASH_KEY_STRING);
    shard_t *s;
    char *key;

    if (tn && tn->s[kind]) return tn->s[kind];
    if (!create) return NULL;
    if (grow((void **)&idx->shards, &idx->cshards, idx->nshards + 1, sizeof(shard_t *))) {
        return NULL;
    }
    if (!(s = calloc(1, sizeof(*s)))) return NULL;
    if (!(s->tenant = strdup(tenant))) {
        free(s);
        return NULL;
    }
    if (!tn) {
        /* Tenants are few and live as long as the index: pool memory is fine. */
        tn = apr_pcalloc(idx->pool, sizeof(*tn));
        key = apr_pstrdup(idx->pool, tenant);
        apr_hash_set(idx->tenants, key, APR_HASH_KEY_STRING, tn);
    }
    s->kind = kind;
    s->no = idx->nshards;
    idx->shards[idx->nshards++] = s;
    tn->s[kind] = s;
    return s;
}

/* ---- Documents ---- */

static uint32_t doc_hash(int kind, apr_int64_t id)
{
    return (uint32_t)mix64(((uint64_t)id << 1) ^ (uint64_t)kind);
}

static docref_t *doc_find(sd_suggest_index_t *idx, int kind, apr_int64_t id)
{
    uint32_t i;
    if (!idx->docs) return NULL;
    for (i = doc_hash(kind, id) & idx->dmask; idx->docs[i].shard != NONE; i = (i + 1) & idx->dmask) {
        if (idx->docs[i].id == id && idx->shards[idx->docs[i].shard]->kind == kind) {
            return &idx->docs[i];
        }
    }
    return NULL;
}

static int docs_resize(sd_suggest_index_t *idx, uint32_t size)
{
    docref_t *d = malloc(size * sizeof(*d)), *old = idx->docs;
    uint32_t i, j, oldsize = old ? idx->dmask + 1 : 0;
    if (!d) return -1;
    for (i = 0; i < size; i++) d[i].shard = NONE;
    for (j = 0; j < oldsize; j++) {
        if (old[j].shard == NONE) continue;
        for (i = doc_hash(idx->shards[old[j].shard]->kind, old[j].id) & (size - 1);
             d[i].shard != NONE; i = (i + 1) & (size - 1))
            ;
        d[i] = old[j];
    }
    free(old);
    idx->docs = d;
    idx->dmask = size - 1;
    return 0;
}

static docref_t *doc_insert(sd_suggest_index_t *idx, int kind, apr_int64_t id)
{
    uint32_t i;
    if (!idx->docs || (idx->dused + 1) * 3 > (idx->dmask + 1) * 2) {
        if (docs_resize(idx, idx->docs ? (idx->dmask + 1) * 2 : 1024)) return NULL;
    }
    for (i = doc_hash(kind, id) & idx->dmask; idx->docs[i].shard != NONE; i = (i + 1) & idx->dmask)
        ;
    idx->docs[i].id = id;
    idx->dused++;
    return &idx->docs[i];
}

/* Linear probing without tombstones: shift later entries back into the gap. */
static void doc_erase(sd_suggest_index_t *idx, docref_t *d)
{
    uint32_t i = (uint32_t)(d - idx->docs), j = i, home;
    for (;;) {
        j = (j + 1) & idx->dmask;
        if (idx->docs[j].shard == NONE) break;
        home = doc_hash(idx->shards[idx->docs[j].shard]->kind, idx->docs[j].id) & idx->dmask;
        /* Move j into i unless its home lies cyclically in (i, j]. */
        if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
            idx->docs[i] = idx->docs[j];
            i = j;
        }
    }
    idx->docs[i].shard = NONE;
    idx->dused--;
}

static void doc_kill(shard_t *s, uint32_t slot)
{
    if (s->live[slot]) {
        s->live[slot] = 0;
        s->nlive--;
        s->sumdl -= s->dl[slot];
    }
}

/* Renumbers the live slots of s densely, drops dead postings and lists left
 * empty. Allocates first, so on failure nothing has changed. */
static int shard_compact(sd_suggest_index_t *idx, shard_t *s)
{
    uint32_t *remap, *d, i, j, k, n, size;
    plist_t *m, *pl;
    docref_t *ref;

    for (size = 64; size * 3 < s->used * 4 + 4; size *= 2)
        ;
    remap = malloc((s->nslots ? s->nslots : 1) * sizeof(*remap));
    m = calloc(size, sizeof(*m));
    if (!remap || !m) {
        free(remap);
        free(m);
        return -1;
    }
    for (i = 0, k = 0; i < s->nslots; i++) {
        if (s->live[i]) {
            s->ids[k] = s->ids[i];
            s->fp[k] = s->fp[i];
            s->dl[k] = s->dl[i];
            s->live[k] = 1;
            remap[i] = k++;
        }
        else {
            remap[i] = NONE;
        }
    }
    s->nslots = k;
    for (j = 0; s->map && j <= s->mask; j++) {
        pl = &s->map[j];
        if (!pl->term) continue;
        d = pl_data(pl);
        for (i = 0, n = 0; i < pl->n; i++) {
            if (remap[d[i] >> 8] != NONE) d[n++] = remap[d[i] >> 8] << 8 | (d[i] & 0xFF);
        }
        idx->npostings -= pl->n - n;
        pl->n = n;
        if (!n) {
            term_unref(idx, pl->term - 1);
            pl_free(pl);
            continue;
        }
        if (pl->cap > 2 && n <= 2) {          /* back inline */
            uint32_t a = d[0], b = n > 1 ? d[1] : 0;
            free(pl->u.p);
            pl->u.in[0] = a;
            pl->u.in[1] = b;
            pl->cap = 2;
        }
        else if (pl->cap > 2 * n + 8) {
            uint32_t *nd = realloc(pl->u.p, (n + n / 4 + 2) * sizeof(*nd));
            if (nd) {
                pl->u.p = nd;
                pl->cap = n + n / 4 + 2;
            }
        }
        for (i = (uint32_t)mix64(pl->term - 1) & (size - 1); m[i].term; i = (i + 1) & (size - 1))
            ;
        m[i] = *pl;
    }
    free(s->map);
    s->map = m;
    s->mask = size - 1;
    for (s->used = 0, j = 0; j < size; j++) {
        if (m[j].term) s->used++;
    }
    for (i = 0; i < s->nslots; i++) {
        if ((ref = doc_find(idx, s->kind, s->ids[i]))) ref->slot = i;
    }
    free(remap);
    return 0;
}

static void maybe_compact(sd_suggest_index_t *idx, shard_t *s)
{
    uint32_t dead = s->nslots - s->nlive;
    if (dead >= 64 && dead * 4 >= s->nslots) shard_compact(idx, s);
    if (idx->nunused >= 1024 && idx->nunused * 2 >= idx->nterms - idx->nfree) {
        vocab_collect(idx);
    }
}

static int shard_slots(shard_t *s, uint32_t need)
{
    uint32_t cap = s->cslots, c;
    if (need <= cap) return 0;
    cap = cap ? cap + cap / 2 : 16;
    if (cap < need) cap = need;
    c = s->cslots;
    if (grow((void **)&s->ids, &c, cap, sizeof(*s->ids))) return -1;
    c = s->cslots;
    if (grow((void **)&s->fp, &c, cap, sizeof(*s->fp))) return -1;
    c = s->cslots;
    if (grow((void **)&s->dl, &c, cap, sizeof(*s->dl))) return -1;
    c = s->cslots;
    if (grow((void **)&s->live, &c, cap, sizeof(*s->live))) return -1;
    s->cslots = c;
    return 0;
}

/* ---- Adding and removing ---- */

typedef struct {
    const char *s;
    apr_size_t len;
    uint32_t hash;
    uint32_t tf;
} dterm_t;

static int cmp_dterm(const void *a, const void *b)
{
    return strcmp(((const dterm_t *)a)->s, ((const dterm_t *)b)->s);
}

static uint64_t fp_add(uint64_t h, const char *s)
{
    for (; s && *s; s++) {                 /* FNV-1a 64 */
        h ^= (unsigned char)*s;
        h *= 0x100000001B3ull;
    }
    h ^= 0xFF;                             /* separator no UTF-8 text contains */
    return h * 0x100000001B3ull;
}

apr_status_t sd_suggest_add(sd_suggest_index_t *idx, int kind, apr_int64_t id,
                            const char *tenant, const char *title, const char *body,
                            apr_pool_t *p)
{
    apr_array_header_t *tt, *bt;
    dterm_t *dt;
    docref_t *ref;
    shard_t *s, *os = NULL;
    plist_t *pl;
    uint64_t fp, dl;
    uint32_t slot, tid;
    apr_status_t rv = APR_SUCCESS;
    int i, n, nd;

    if (!idx || kind < 0 || kind >= SD_SUGGEST_KIND_COUNT || !tenant || !title) return SD_EINVALID;
    if (APR_SUCCESS != (rv = tokenize(&tt, title, -1, SD_SUGGEST_MAX_TITLE_TERMS, p))) return rv;
    if (APR_SUCCESS != (rv = tokenize(&bt, body ? body : "", -1, SD_SUGGEST_MAX_BODY_TERMS, p))) {
        return rv;
    }
    n = tt->nelts + bt->nelts;
    dt = apr_palloc(p, sizeof(*dt) * (n ? n : 1));
    for (i = 0; i < n; i++) {
        const tok_t *t = i < tt->nelts ? &APR_ARRAY_IDX(tt, i, tok_t)
                                       : &APR_ARRAY_IDX(bt, i - tt->nelts, tok_t);
        dt[i].s = t->stem;
        dt[i].tf = i < tt->nelts ? TITLE_W : 1;
    }
    qsort(dt, (apr_size_t)n, sizeof(*dt), cmp_dterm);
    for (i = 0, nd = 0; i < n; i++) {
        if (nd && !strcmp(dt[nd - 1].s, dt[i].s)) {
            dt[nd - 1].tf += dt[i].tf;
            continue;
        }
        dt[nd] = dt[i];
        dt[nd].len = strlen(dt[nd].s);
        dt[nd].hash = hash_str(dt[nd].s, dt[nd].len);
        nd++;
    }
    dl = (uint64_t)TITLE_W * (uint64_t)tt->nelts + (uint64_t)bt->nelts;
    fp = fp_add(fp_add(fp_add(0xCBF29CE484222325ull, tenant), title), body);

    wr_lock(idx);
    if (!(s = shard_of(idx, tenant, kind, 1))) {
        rv = APR_ENOMEM;
        goto leave;
    }
    if ((ref = doc_find(idx, kind, id))) {
        os = idx->shards[ref->shard];
        if (os == s && s->live[ref->slot] && s->fp[ref->slot] == fp) goto leave;   /* unchanged */
        doc_kill(os, ref->slot);
        doc_erase(idx, ref);
    }
    if (s->nslots >= MAX_SLOTS && (shard_compact(idx, s) || s->nslots >= MAX_SLOTS)) {
        rv = SD_ETOOBIG;
        goto leave;
    }
    if (shard_slots(s, s->nslots + 1)) {
        rv = APR_ENOMEM;
        goto leave;
    }
    slot = s->nslots++;
    s->ids[slot] = id;
    s->fp[slot] = fp;
    s->dl[slot] = (uint16_t)(dl > UINT16_MAX ? UINT16_MAX : dl);
    s->live[slot] = 0;                    /* until every posting is in */
    for (i = 0; i < nd; i++) {
        tid = vocab_intern(idx, dt[i].s, dt[i].len, dt[i].hash);
        if (tid == NONE || !(pl = shard_get(idx, s, tid))
            || pl_push(pl, slot << 8 | (dt[i].tf > 255 ? 255 : dt[i].tf))) {
            rv = APR_ENOMEM;              /* the slot stays dead; compaction cleans up */
            goto leave;
        }
        idx->npostings++;
    }
    if (!(ref = doc_insert(idx, kind, id))) {
        rv = APR_ENOMEM;
        goto leave;
    }
    ref->shard = s->no;
    ref->slot = slot;
    s->live[slot] = 1;
    s->nlive++;
    s->sumdl += s->dl[slot];
leave:
    if (os && os != s) maybe_compact(idx, os);
    if (s) maybe_compact(idx, s);
    rw_unlock(idx);
    return rv;
}

apr_status_t sd_suggest_remove(sd_suggest_index_t *idx, int kind, apr_int64_t id)
{
    docref_t *ref;
    shard_t *s;

    if (!idx || kind < 0 || kind >= SD_SUGGEST_KIND_COUNT) return SD_EINVALID;
    wr_lock(idx);
    if (!(ref = doc_find(idx, kind, id))) {
        rw_unlock(idx);
        return SD_ENOTFOUND;
    }
    s = idx->shards[ref->shard];
    doc_kill(s, ref->slot);
    doc_erase(idx, ref);
    maybe_compact(idx, s);
    rw_unlock(idx);
    return APR_SUCCESS;
}

/* ---- Query scratch ---- */

static void scratch_free(scratch_t *sc)
{
    free(sc->acc);
    free(sc->best);
    free(sc->stamp);
    free(sc->touched);
    free(sc->vstamp);
    free(sc->cand);
    free(sc);
}

/* At most SD_SUGGEST_MAX_PARALLEL queries run at once; more wait here. Queries
 * are CPU-bound, so more would not finish sooner, and each set of arrays is
 * sized by the documents (see the header). Taken before the read lock, so a
 * waiting query never holds a writer up. */
static scratch_t *scratch_get(sd_suggest_index_t *idx)
{
    scratch_t *sc;
#if APR_HAS_THREADS
    apr_thread_mutex_lock(idx->spare_mx);
    while (!idx->spare && idx->nscratch >= SD_SUGGEST_MAX_PARALLEL) {
        apr_thread_cond_wait(idx->spare_cv, idx->spare_mx);
    }
#endif
    if ((sc = idx->spare)) {
        idx->spare = sc->next;
    }
    else if ((sc = calloc(1, sizeof(*sc)))) {
        idx->nscratch++;
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(idx->spare_mx);
#endif
    return sc;
}

static void scratch_put(sd_suggest_index_t *idx, scratch_t *sc)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(idx->spare_mx);
#endif
    sc->next = idx->spare;
    idx->spare = sc;
#if APR_HAS_THREADS
    apr_thread_cond_signal(idx->spare_cv);
    apr_thread_mutex_unlock(idx->spare_mx);
#endif
}

/* Fresh arrays instead of realloc: zeroed stamps are "not this query". */
static int scratch_docs(scratch_t *sc, uint32_t n)
{
    uint32_t cap = n + n / 4 + 1024;
    float *acc, *best;
    uint32_t *stamp, *touched;
    if (n <= sc->dcap) return 0;
    acc = malloc(cap * sizeof(*acc));
    best = malloc(cap * sizeof(*best));
    touched = malloc(cap * sizeof(*touched));
    stamp = calloc(cap, sizeof(*stamp));
    if (!acc || !best || !touched || !stamp) {
        free(acc);
        free(best);
        free(touched);
        free(stamp);
        return -1;
    }
    free(sc->acc);
    free(sc->best);
    free(sc->touched);
    free(sc->stamp);
    sc->acc = acc;
    sc->best = best;
    sc->touched = touched;
    sc->stamp = stamp;
    sc->dcap = cap;
    sc->depoch = 0;
    return 0;
}

static int scratch_vocab(scratch_t *sc, uint32_t n)
{
    uint32_t cap = n + n / 4 + 1024, *vs, *cand;
    if (n <= sc->vcap) return 0;
    vs = calloc(cap, sizeof(*vs));
    cand = malloc(cap * sizeof(*cand));
    if (!vs || !cand) {
        free(vs);
        free(cand);
        return -1;
    }
    free(sc->vstamp);
    free(sc->cand);
    sc->vstamp = vs;
    sc->cand = cand;
    sc->vcap = cap;
    sc->vepoch = 0;
    return 0;
}

/* ---- Query ---- */

#define NVIS 3                  /* tenant's known issues, global ones, tenant's tickets */

typedef struct {
    const char *stem, *raw;
    apr_size_t slen, rlen;
    int open;                   /* last word, still being typed */
    int ncp;                    /* of the fuzzy source: raw if open, else stem */
    cp_t cps[SD_TEXT_MAX_TOKEN_CP];
    uint64_t tri[MAX_TRI];
    int ntri;
} qterm_t;

typedef struct {
    uint32_t term;
    double w;
    plist_t *pl[NVIS];
} exp_t;

#define MAX_EXP (2 + MAX_FUZZY_OPEN)

static int visible(shard_t *const *vis, uint32_t term, plist_t **pl)
{
    int i, any = 0;
    for (i = 0; i < NVIS; i++) {
        pl[i] = shard_find(vis[i], term);
        if (pl[i] && pl[i]->n) any = 1;
    }
    return any;
}

static int add_exact(sd_suggest_index_t *idx, shard_t *const *vis, exp_t *out, int n,
                     const char *s, apr_size_t len)
{
    uint32_t id = vocab_find(idx, s, len, hash_str(s, len));
    if (id == NONE || (n && out[0].term == id)) return n;
    if (visible(vis, id, out[n].pl)) {
        out[n].term = id;
        out[n].w = 1.0;
        n++;
    }
    return n;
}

/* The vocabulary terms query word q stands for: itself (weight 1) and up to
 * MAX_FUZZY close terms (misspellings: trigram Jaccard >= MIN_JACC, or edit
 * distance 1, 2 from 8 letters; the word being typed: longer words it starts),
 * only terms the query's shards hold. A word that TRUSTED_DF documents of
 * those shards contain is taken as spelt right: its neighbours would be other
 * real words (print: paint, point), noise that also costs time. */
static int expand(sd_suggest_index_t *idx, scratch_t *sc, const qterm_t *q,
                  shard_t *const *vis, exp_t *out)
{
    cp_t tc[SD_TEXT_MAX_TOKEN_CP];
    const term_t *t;
    const tri_t *tr;
    exp_t e;
    uint32_t i, j, id, nc = 0, c, nexact, df;
    int n = 0, k, dmax, d, tn, maxf = q->open ? MAX_FUZZY_OPEN : MAX_FUZZY, fuzzy = 1;
    double sim, w, jac;

    n = add_exact(idx, vis, out, n, q->stem, q->slen);
    if (n) {
        for (df = 0, k = 0; k < NVIS; k++) df += out[0].pl[k] ? out[0].pl[k]->n : 0;
        if (df >= TRUSTED_DF) fuzzy = 0;
    }
    if (q->open && strcmp(q->raw, q->stem)) n = add_exact(idx, vis, out, n, q->raw, q->rlen);
    nexact = (uint32_t)n;
    if (q->ncp < 4) fuzzy = 0;
    if (!q->ntri || (!fuzzy && !(q->open && q->ncp >= 3))) return n;
    if (scratch_vocab(sc, idx->nf)) return n;
    if (++sc->vepoch >= (1u << 24)) {
        memset(sc->vstamp, 0, sc->vcap * sizeof(*sc->vstamp));
        sc->vepoch = 1;
    }
    for (k = 0; k < q->ntri; k++) {
        if (!(tr = tri_find(idx, q->tri[k]))) continue;
        for (j = 0; j < tr->n; j++) {
            id = tr->ids[j];              /* a fid */
            if (sc->vstamp[id] >> 8 != sc->vepoch) {
                sc->vstamp[id] = sc->vepoch << 8 | 1;
                sc->cand[nc++] = id;
            }
            else {
                sc->vstamp[id]++;
            }
        }
    }
    dmax = q->ncp >= 8 ? 2 : 1;
    for (i = 0; i < nc; i++) {
        c = sc->vstamp[sc->cand[i]] & 0xFF;
        id = idx->fterm[sc->cand[i]];
        t = &idx->terms[id];
        if (!t->refs || (nexact > 0 && out[0].term == id) || (nexact > 1 && out[1].term == id)) {
            continue;
        }
        w = 0.0;
        if (fuzzy) {
            sim = 0.0;
            jac = (double)c / (double)(q->ntri + t->ntri - c);
            if (jac >= MIN_JACC) sim = jac;
            /* Edit distance only where it can matter: close in length, enough
             * shared trigrams (one edit spoils at most 4), and able to make
             * the list of the best expansions. */
            if (abs((int)t->ncp - q->ncp) <= dmax && (int)c + 4 * dmax >= q->ntri
                && !(n - (int)nexact == maxf
                     && W_FUZZY * (1.0 - 1.0 / (t->ncp > q->ncp ? t->ncp : q->ncp)) <= out[n - 1].w
                     && W_FUZZY * sim <= out[n - 1].w)) {
                tn = decode(tc, SD_TEXT_MAX_TOKEN_CP, t->s, t->len);
                d = osa_within(q->cps, q->ncp, tc, tn, dmax);
                if (d <= dmax && 1.0 - (double)d / (tn > q->ncp ? tn : q->ncp) > sim) {
                    sim = 1.0 - (double)d / (tn > q->ncp ? tn : q->ncp);
                }
            }
            w = W_FUZZY * sim;
        }
        if (q->open && t->ncp > q->ncp && (int)c + 1 >= q->ntri && t->len > q->rlen
            && !memcmp(t->s, q->raw, q->rlen)) {
            sim = W_PREFIX * (0.5 + 0.5 * (double)q->ncp / t->ncp);
            if (sim > w) w = sim;
        }
        if (w <= 0.0) continue;
        /* Keep the best maxf, sorted; check visibility only for a contender. */
        if (n - (int)nexact == maxf && w <= out[n - 1].w) continue;
        if (!visible(vis, id, e.pl)) continue;
        k = n - (int)nexact == maxf ? n - 1 : n;
        e.term = id;
        e.w = w;
        out[k] = e;
        if (k == n) n++;
        for (; k > (int)nexact && out[k - 1].w < out[k].w; k--) {
            exp_t tmp = out[k];
            out[k] = out[k - 1];
            out[k - 1] = tmp;
        }
    }
    return n;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The k-th best accumulated score among list[0..n), 0 if fewer. */
static double kth_best(const float *acc, const uint32_t *list, uint32_t n, int k)
{
    float top[SD_SUGGEST_MAX_HITS];
    uint32_t i;
    int m = 0, j;
    for (i = 0; i < n; i++) {
        float v = acc[list[i]];
        if (m == k && v <= top[k - 1]) continue;
        j = m < k ? m++ : k - 1;
        for (; j > 0 && top[j - 1] < v; j--) top[j] = top[j - 1];
        top[j] = v;
    }
    return m == k ? top[k - 1] : 0.0;
}

/* First index in d[lo..n) whose slot is >= slot. */
static uint32_t seek_slot(const uint32_t *d, uint32_t lo, uint32_t n, uint32_t slot)
{
    uint32_t hi = n, mid;
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (d[mid] >> 8 < slot) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* BM25 over shards vis[which[0..nw)], term at a time; the top k into out.
 *
 * Query words go rarest first (by the most they can add to a score). Once
 * what the remaining words can add together is less than the current k-th
 * best score, no document not seen yet can make the top k: from then on only
 * the documents that still can are scored, by looking them up in the long
 * lists of common words instead of walking those lists (MaxScore-style
 * pruning; the result is the same as scoring everything).
 *
 * A word with several variants (misspelling, prefix) adds to a document only
 * its best-scoring variant: stamp[x] records the word that touched x last and
 * best[x] what that word added. */
static apr_status_t score(scratch_t *sc, shard_t *const *vis, const int *which, int nw,
                          exp_t (*exps)[MAX_EXP], const int *nexp, int nq, int k,
                          apr_array_header_t *out)
{
    uint32_t N = 0, nlive = 0, off[NVIS] = {0}, df, x, tag, nt = 0, i, j, slot, tf, *d, pos;
    uint32_t *list = sc->touched, lo, hi;
    uint64_t sumdl = 0;
    double avgdl, A, B, wi, c, R = 0.0, theta, u;
    double idf[SD_SUGGEST_MAX_QUERY_TERMS][MAX_EXP], ub[SD_SUGGEST_MAX_QUERY_TERMS];
    uint64_t left = 0, post[SD_SUGGEST_MAX_QUERY_TERMS];
    int order[SD_SUGGEST_MAX_QUERY_TERMS], open_mode = 1;
    float top_s[SD_SUGGEST_MAX_HITS];
    apr_int64_t top_id[SD_SUGGEST_MAX_HITS];
    const shard_t *s;
    const exp_t *e;
    plist_t *pl;
    sd_suggest_hit_t *h;
    int wv, qi, oi, ei, ntop = 0, m;

    for (wv = 0; wv < nw; wv++) {
        if (!(s = vis[which[wv]])) continue;
        off[which[wv]] = N;
        N += s->nslots;
        nlive += s->nlive;
        sumdl += s->sumdl;
    }
    if (!nlive || !k) return APR_SUCCESS;
    if (scratch_docs(sc, N)) return APR_ENOMEM;
    list = sc->touched;
    if (++sc->depoch >= (1u << 27)) {
        memset(sc->stamp, 0, sc->dcap * sizeof(*sc->stamp));
        sc->depoch = 1;
    }
    avgdl = (double)sumdl / nlive;
    if (avgdl < 1.0) avgdl = 1.0;
    A = BM25_K1 * (1.0 - BM25_B);
    B = BM25_K1 * BM25_B / avgdl;

    /* N and df both count dead slots (until compaction): N >= df. */
    for (qi = 0; qi < nq; qi++) {
        ub[qi] = 0.0;
        post[qi] = 0;
        for (ei = 0; ei < nexp[qi]; ei++) {
            e = &exps[qi][ei];
            for (df = 0, wv = 0; wv < nw; wv++) {
                if (e->pl[which[wv]]) df += e->pl[which[wv]]->n;
            }
            post[qi] += df;
            idf[qi][ei] = df ? ln_ge1(1.0 + ((double)N - df + 0.5) / (df + 0.5)) : 0.0;
            u = e->w * idf[qi][ei] * (BM25_K1 + 1.0);     /* tf part < k1 + 1 */
            if (u > ub[qi]) ub[qi] = u;
        }
        R += ub[qi];
        left += post[qi];
        for (m = qi; m > 0 && ub[order[m - 1]] < ub[qi]; m--) order[m] = order[m - 1];
        order[m] = qi;
    }

    for (oi = 0; oi < nq; oi++) {
        qi = order[oi];
        if (ub[qi] <= 0.0) break;
        R -= ub[qi];
        if (oi + 1 == nq || ub[order[oi + 1]] <= 0.0 || R < 0.0) R = 0.0;   /* no rounding below 0 */
        left -= post[qi];
        tag = sc->depoch << 5 | (uint32_t)qi;
        for (ei = 0; ei < nexp[qi]; ei++) {
            if (idf[qi][ei] <= 0.0) continue;
            e = &exps[qi][ei];
            wi = e->w * idf[qi][ei] * (BM25_K1 + 1.0);
            for (wv = 0; wv < nw; wv++) {
                if (!(pl = e->pl[which[wv]])) continue;
                s = vis[which[wv]];
                d = pl_data(pl);
                if (!open_mode && (uint64_t)nt * 16 < pl->n) {
                    /* Few candidates, long list: look each one up. */
                    lo = off[which[wv]];
                    hi = lo + s->nslots;
                    for (pos = 0, j = 0; j < nt && pos < pl->n; j++) {
                        x = list[j];
                        if (x < lo || x >= hi) continue;
                        slot = x - lo;
                        pos = seek_slot(d, pos, pl->n, slot);
                        if (pos == pl->n || d[pos] >> 8 != slot) continue;
                        tf = d[pos] & 0xFF;
                        c = wi * tf / (tf + A + B * s->dl[slot]);
                        if (sc->stamp[x] != tag) {
                            sc->stamp[x] = tag;
                            sc->acc[x] += (float)c;
                            sc->best[x] = (float)c;
                        }
                        else if ((float)c > sc->best[x]) {
                            sc->acc[x] += (float)c - sc->best[x];
                            sc->best[x] = (float)c;
                        }
                    }
                    continue;
                }
                for (i = 0; i < pl->n; i++) {
                    slot = d[i] >> 8;
                    if (!s->live[slot]) continue;
                    x = off[which[wv]] + slot;
                    if (sc->stamp[x] >> 5 != sc->depoch && !open_mode) continue;
                    tf = d[i] & 0xFF;
                    c = wi * tf / (tf + A + B * s->dl[slot]);
                    if (sc->stamp[x] >> 5 != sc->depoch) {
                        sc->stamp[x] = tag;
                        sc->acc[x] = sc->best[x] = (float)c;
                        list[nt++] = x;
                    }
                    else if (sc->stamp[x] != tag) {   /* first hit of this query word */
                        sc->stamp[x] = tag;
                        sc->acc[x] += (float)c;
                        sc->best[x] = (float)c;
                    }
                    else if ((float)c > sc->best[x]) { /* a better variant of the same word */
                        sc->acc[x] += (float)c - sc->best[x];
                        sc->best[x] = (float)c;
                    }
                }
            }
        }
        if (R <= 0.0 || nt < (uint32_t)k) continue;   /* last word: nothing to prune for */
        theta = kth_best(sc->acc, list, nt, k);
        if (open_mode && R >= theta) continue;
        /* Keep only the documents that can still reach the k-th best, in
         * slot order for the lookups; unless they are too many for lookups
         * to beat walking what is left. */
        for (i = 0, j = 0; i < nt; i++) {
            if (sc->acc[list[i]] + R >= theta) j++;
        }
        if (open_mode && (uint64_t)j * 16 >= left) continue;
        for (i = 0, j = 0; i < nt; i++) {
            if (sc->acc[list[i]] + R >= theta) list[j++] = list[i];
        }
        if (open_mode) {
            open_mode = 0;
            qsort(list, j, sizeof(*list), cmp_u32);
        }
        nt = j;
    }

    for (i = 0; i < nt; i++) {
        float sv = sc->acc[list[i]];
        apr_int64_t id = 0;
        x = list[i];
        for (wv = 0; wv < nw; wv++) {
            s = vis[which[wv]];
            if (s && x >= off[which[wv]] && x < off[which[wv]] + s->nslots) {
                id = s->ids[x - off[which[wv]]];
                break;
            }
        }
        if (ntop == k && (sv < top_s[k - 1] || (sv == top_s[k - 1] && id <= top_id[k - 1]))) {
            continue;
        }
        m = ntop < k ? ntop++ : k - 1;
        for (; m > 0 && (top_s[m - 1] < sv || (top_s[m - 1] == sv && top_id[m - 1] < id)); m--) {
            top_s[m] = top_s[m - 1];
            top_id[m] = top_id[m - 1];
        }
        top_s[m] = sv;
        top_id[m] = id;
    }
    for (m = 0; m < ntop; m++) {
        h = apr_array_push(out);
        h->id = top_id[m];
        h->score = top_s[m];
    }
    return APR_SUCCESS;
}

static void qterm_prepare(qterm_t *q)
{
    const char *src = q->open ? q->raw : q->stem;
    apr_size_t n = q->open ? q->rlen : q->slen;
    int i;
    q->ncp = decode(q->cps, SD_TEXT_MAX_TOKEN_CP, src, n);
    q->ntri = term_trigrams(q->tri, src, n);
    for (i = 0; i < q->ncp; i++) {
        if (is_digit_cp(q->cps[i])) q->ntri = 0;
    }
}

apr_status_t sd_suggest_query(sd_suggest_result_t **pres, sd_suggest_index_t *idx,
                              const char *tenant, const char *q,
                              int max_known, int max_tickets, apr_pool_t *p)
{
    static const int ki_shards[] = {0, 1}, tk_shards[] = {2};
    sd_suggest_result_t *res;
    apr_array_header_t *toks;
    qterm_t *qt;
    exp_t (*exps)[MAX_EXP];
    int nexp[SD_SUGGEST_MAX_QUERY_TERMS];
    shard_t *vis[NVIS];
    scratch_t *sc;
    apr_status_t rv;
    int i, j, nq = 0;

    *pres = NULL;
    if (!idx || !tenant || !q || max_known < 0 || max_known > SD_SUGGEST_MAX_HITS
        || max_tickets < 0 || max_tickets > SD_SUGGEST_MAX_HITS) {
        return SD_EINVALID;
    }
    if (APR_SUCCESS != (rv = tokenize(&toks, q, -1, 4 * SD_SUGGEST_MAX_QUERY_TERMS, p))) {
        return rv;
    }
    res = apr_pcalloc(p, sizeof(*res));
    res->known_issues = apr_array_make(p, max_known ? max_known : 1, sizeof(sd_suggest_hit_t));
    res->tickets = apr_array_make(p, max_tickets ? max_tickets : 1, sizeof(sd_suggest_hit_t));
    qt = apr_pcalloc(p, SD_SUGGEST_MAX_QUERY_TERMS * sizeof(*qt));
    for (i = 0; i < toks->nelts; i++) {
        const tok_t *t = &APR_ARRAY_IDX(toks, i, tok_t);
        int open = t->at_end && i == toks->nelts - 1;
        for (j = 0; j < nq && strcmp(qt[j].stem, t->stem); j++)
            ;
        if (j == nq) {
            if (nq == SD_SUGGEST_MAX_QUERY_TERMS) continue;
            nq++;
        }
        else if (!open) {
            continue;
        }
        qt[j].stem = t->stem;
        qt[j].slen = strlen(t->stem);
        qt[j].raw = t->raw;
        qt[j].rlen = strlen(t->raw);
        qt[j].open = open;
    }
    if (!nq || (!max_known && !max_tickets)) goto done;
    for (i = 0; i < nq; i++) qterm_prepare(&qt[i]);
    exps = apr_palloc(p, (apr_size_t)nq * sizeof(*exps));

    if (!(sc = scratch_get(idx))) return APR_ENOMEM;
    rd_lock(idx);
    vis[0] = shard_of(idx, tenant, SD_SUGGEST_KNOWN_ISSUE, 0);
    vis[1] = *tenant ? shard_of(idx, "", SD_SUGGEST_KNOWN_ISSUE, 0) : NULL;
    vis[2] = shard_of(idx, tenant, SD_SUGGEST_TICKET, 0);
    for (i = 0; i < nq; i++) nexp[i] = expand(idx, sc, &qt[i], vis, exps[i]);
    rv = score(sc, vis, ki_shards, 2, exps, nexp, nq, max_known, res->known_issues);
    if (APR_SUCCESS == rv) {
        rv = score(sc, vis, tk_shards, 1, exps, nexp, nq, max_tickets, res->tickets);
    }
    rw_unlock(idx);
    scratch_put(idx, sc);
    if (APR_SUCCESS != rv) return rv;
done:
    *pres = res;
    return APR_SUCCESS;
}

/* ---- Life cycle and statistics ---- */

static apr_size_t scratch_bytes(const scratch_t *sc)
{
    return sizeof(*sc) + (apr_size_t)sc->dcap * 16 + (apr_size_t)sc->vcap * 8;
}

void sd_suggest_stats(sd_suggest_stats_t *st, sd_suggest_index_t *idx)
{
    apr_size_t b = sizeof(*idx);
    const scratch_t *sc;
    uint32_t i, j;

    memset(st, 0, sizeof(*st));
    rd_lock(idx);
    for (i = 0; i < idx->nterms; i++) {
        if (idx->terms[i].s) {
            b += idx->terms[i].len + 1u;
            if (idx->terms[i].refs) st->terms++;
        }
    }
    b += (apr_size_t)idx->cterms * sizeof(term_t) + (apr_size_t)idx->cfree * 4;
    b += ((apr_size_t)idx->cf + idx->cffree) * 4;
    b += idx->vhash ? ((apr_size_t)idx->vmask + 1) * 4 : 0;
    for (i = 0; idx->tri && i <= idx->tmask; i++) {
        b += sizeof(tri_t) + (apr_size_t)idx->tri[i].cap * 4;
    }
    for (i = 0; i < idx->nshards; i++) {
        const shard_t *s = idx->shards[i];
        b += sizeof(*s) + strlen(s->tenant) + 1;
        b += (apr_size_t)s->cslots * (sizeof(*s->ids) + sizeof(*s->fp) + sizeof(*s->dl) + 1);
        for (j = 0; s->map && j <= s->mask; j++) {
            b += sizeof(plist_t);
            if (s->map[j].cap > 2) b += (apr_size_t)s->map[j].cap * 4;
        }
        st->docs += s->nlive;
        st->dead += s->nslots - s->nlive;
    }
    b += (apr_size_t)idx->cshards * sizeof(shard_t *);
    b += idx->docs ? ((apr_size_t)idx->dmask + 1) * sizeof(docref_t) : 0;
#if APR_HAS_THREADS
    apr_thread_mutex_lock(idx->spare_mx);
#endif
    for (sc = idx->spare; sc; sc = sc->next) b += scratch_bytes(sc);
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(idx->spare_mx);
#endif
    st->postings = idx->npostings;
    st->tenants = (apr_size_t)apr_hash_count(idx->tenants);
    st->bytes = b;
    rw_unlock(idx);
}

static apr_status_t index_cleanup(void *data)
{
    sd_suggest_index_t *idx = data;
    scratch_t *sc;
    uint32_t i, j;

    for (i = 0; i < idx->nterms; i++) free(idx->terms[i].s);
    free(idx->terms);
    free(idx->free_ids);
    free(idx->fterm);
    free(idx->ffree);
    free(idx->vhash);
    for (i = 0; idx->tri && i <= idx->tmask; i++) free(idx->tri[i].ids);
    free(idx->tri);
    for (i = 0; i < idx->nshards; i++) {
        shard_t *s = idx->shards[i];
        for (j = 0; s->map && j <= s->mask; j++) {
            if (s->map[j].term) pl_free(&s->map[j]);
        }
        free(s->map);
        free(s->ids);
        free(s->fp);
        free(s->dl);
        free(s->live);
        free(s->tenant);
        free(s);
    }
    free(idx->shards);
    free(idx->docs);
    while ((sc = idx->spare)) {
        idx->spare = sc->next;
        scratch_free(sc);
    }
    memset(idx, 0, sizeof(*idx));
    return APR_SUCCESS;
}

apr_status_t sd_suggest_index_create(sd_suggest_index_t **pidx, apr_pool_t *p)
{
    sd_suggest_index_t *idx;
    apr_status_t rv = APR_SUCCESS;

    *pidx = NULL;
    idx = apr_pcalloc(p, sizeof(*idx));
    idx->pool = p;
    idx->tenants = apr_hash_make(p);
#if APR_HAS_THREADS
    if (APR_SUCCESS != (rv = apr_thread_rwlock_create(&idx->rw, p))) return rv;
    if (APR_SUCCESS != (rv = apr_thread_mutex_create(&idx->gate, APR_THREAD_MUTEX_DEFAULT, p))) {
        return rv;
    }
    if (APR_SUCCESS != (rv = apr_thread_mutex_create(&idx->spare_mx, APR_THREAD_MUTEX_DEFAULT, p))
        || APR_SUCCESS != (rv = apr_thread_cond_create(&idx->spare_cv, p))) {
        return rv;
    }
#endif
    /* Registered after the locks, so it runs before their cleanups. */
    apr_pool_cleanup_register(p, idx, index_cleanup, apr_pool_cleanup_null);
    *pidx = idx;
    return rv;
}
