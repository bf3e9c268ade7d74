/* Similarity matching for "suggest" (API.md): known issues and open tickets
 * that look like what the user is typing.
 *
 * Owns text folding (utf8proc: NFKC, case fold, accents stripped), tokenising,
 * light stemming for English and Russian, and an in-memory index ranked by
 * BM25 with the title weighted above the body; misspelt and half-typed words
 * are expanded to close vocabulary terms by character trigrams and edit
 * distance, weighted below exact matches.
 *
 * Never stores anything, never reads the database, never knows about HTTP.
 * The caller decides what goes in (active known issues, open tickets), keeps
 * it fresh with sd_suggest_add/sd_suggest_remove, and looks the returned ids
 * up itself (in the tenant, again) to render them.
 *
 * Threads: an index may be used by many threads at once. It carries its own
 * reader/writer lock (writers are not starved by a stream of queries); the
 * caller needs no lock of its own. */
#ifndef SD_SUGGEST_H
#define SD_SUGGEST_H

#include "sd.h"

/* ---- Text -------------------------------------------------------------------
 * Folding is the same for documents and queries, so anything lossy here (ё→е,
 * й→и, ß→ss, marks in any script dropped) only ever makes more things match. */

/* Longest token kept, in code points; longer runs are cut (hashes, base64). */
#define SD_TEXT_MAX_TOKEN_CP 32

/* NFKC, full case folding, default-ignorable code points removed (soft hyphen,
 * zero-width joiners) and combining marks stripped: "Café" → "cafe",
 * "ﬁle" → "file", "ПРИНТЕР" → "принтер", "Ёлка" → "елка". len < 0 means
 * NUL-terminated. *pfolded is NUL-terminated UTF-8 in p; a NUL code point in
 * the input comes out as a space. SD_EMALFORMED if text is not valid UTF-8
 * (*pfolded stays NULL). */
apr_status_t sd_text_fold(const char **pfolded, const char *text, apr_ssize_t len,
                          apr_pool_t *p);

/* The search terms of text, in order, duplicates kept: folded, split where a
 * code point is not a letter or digit (Unicode general category L* or N*),
 * 1-code-point tokens and stop words dropped, stemmed (sd_text_stem). Runs of
 * Han or Kana, which are written without spaces, become overlapping pairs of
 * characters (a lone one is kept). At most max_tokens terms (0: no limit).
 * *ptokens is an array of const char * in p. SD_EMALFORMED on invalid UTF-8. */
apr_status_t sd_text_tokens(apr_array_header_t **ptokens, const char *text, apr_ssize_t len,
                            int max_tokens, apr_pool_t *p);

/* 1 if the folded word is on the stop list (a few dozen common English and
 * Russian function words, stored folded: "the", "not", "is", "и", "не", "в"). */
int sd_text_is_stopword(const char *folded);

/* The stem of one folded word, in p. Deliberately light; only ever shortens:
 * - a-z words: "ies"→"y", a plural "s" (not after s, u or i), then "ing" or
 *   "ed" (when a vowel stays before it; a doubled final consonant other than
 *   l, s, z is undoubled), then a final "e" (not "ee"):
 *   printers→printer, printing→print, stopped→stop, issues→issu, update→updat.
 * - Russian words (а-я only): a reflexive "ся"/"сь", then the longest ending
 *   of a short list of noun and adjective case endings and present-tense
 *   "-ает/-яет/-ают/-яют", only if 3 letters stay: принтеры→принтер,
 *   принтеров→принтер, этикетки→этикетк, печатает→печат. Endings that are
 *   also common word ends (-ем, -им, -ам, -ет, -ит, past tense -л) are left
 *   alone; trigram matching covers what this misses.
 * - anything else (digits, other scripts) is returned unchanged. */
const char *sd_text_stem(const char *folded, apr_pool_t *p);

/* ---- Index ------------------------------------------------------------------ */

typedef struct sd_suggest_index_t sd_suggest_index_t;

typedef enum {
    SD_SUGGEST_KNOWN_ISSUE = 0,
    SD_SUGGEST_TICKET,
    SD_SUGGEST_KIND_COUNT
} sd_suggest_kind_e;

#define SD_SUGGEST_DEF_HITS        5
#define SD_SUGGEST_MAX_HITS        100
#define SD_SUGGEST_MAX_QUERY_TERMS 16    /* further query words are ignored */
#define SD_SUGGEST_MAX_TITLE_TERMS 64    /* title/subject terms indexed */
#define SD_SUGGEST_MAX_BODY_TERMS  300   /* symptoms/description terms indexed */
/* Queries that run at once per index; more wait for one to finish (they are
 * CPU-bound: more at once would not finish sooner). Each of these keeps its
 * working arrays for the next query: about 20 bytes per document of the
 * largest tenant and 10 per distinct misspellable word (no digits) of the
 * index. */
#define SD_SUGGEST_MAX_PARALLEL    4

typedef struct {
    apr_int64_t id;
    double score;           /* > 0; comparable only within one result list */
} sd_suggest_hit_t;

typedef struct {
    apr_array_header_t *known_issues;   /* sd_suggest_hit_t, best first */
    apr_array_header_t *tickets;        /* sd_suggest_hit_t, best first */
} sd_suggest_result_t;

typedef struct {
    apr_size_t docs;        /* live documents, all tenants and kinds */
    apr_size_t dead;        /* removed, awaiting compaction */
    apr_size_t terms;       /* vocabulary terms in use */
    apr_size_t postings;    /* (term, document) pairs, dead ones included */
    apr_size_t tenants;
    apr_size_t bytes;       /* heap held by the index and idle query scratch
                             * (what was asked of malloc, without its overhead) */
} sd_suggest_stats_t;

/* An empty index. Its memory is malloc'd (it grows and shrinks with every
 * document) and released by a cleanup on p; p must outlive every user, and
 * the index must not be used once p is cleared. */
apr_status_t sd_suggest_index_create(sd_suggest_index_t **pidx, apr_pool_t *p);

/* Adds or replaces document (kind, id); kinds have separate id spaces.
 * tenant is the tenant key; "" makes a known issue global (seen by every
 * tenant; a ticket of tenant "" is seen only by queries for tenant "").
 * title is weighted above body (an occurrence counts three times); both are
 * NUL-terminated UTF-8, body may be NULL. Only the first
 * SD_SUGGEST_MAX_TITLE_TERMS / SD_SUGGEST_MAX_BODY_TERMS terms count. Adding
 * the same tenant and text again is a cheap no-op, so a feed may re-add
 * whatever changed. p holds scratch only; nothing in it is kept.
 * SD_EMALFORMED if a text is not valid UTF-8 (an existing document of that id
 * is then left as it was), SD_EINVALID for a bad kind or NULL tenant/title,
 * SD_ETOOBIG past 16 million documents of one tenant and kind, APR_ENOMEM
 * (the document is then absent). */
apr_status_t sd_suggest_add(sd_suggest_index_t *idx, int kind, apr_int64_t id,
                            const char *tenant, const char *title, const char *body,
                            apr_pool_t *p);

/* Removes document (kind, id): APR_SUCCESS, or SD_ENOTFOUND if absent. */
apr_status_t sd_suggest_remove(sd_suggest_index_t *idx, int kind, apr_int64_t id);

/* The best max_known known issues (tenant's own and global ones) and the best
 * max_tickets tickets (tenant's own only) for query q, in p, by BM25 (k1 1.2,
 * b 0.75) over the query's distinct terms (at most
 * SD_SUGGEST_MAX_QUERY_TERMS). Never a document of another tenant. A query
 * without search terms gives empty lists. A query word that is not in at
 * least 10 of the tenant's documents may also match up to 3 close terms
 * (trigram Jaccard >= 0.4, or 1 edit, 2 from 8 letters) at 0.7 times their
 * similarity; when q does not end in a space or punctuation its last word is
 * taken as still being typed and may also match up to 5 longer words it
 * starts (weight 0.4 to 0.8). Each word counts once per document, through
 * its best-scoring variant. max_* in 0..SD_SUGGEST_MAX_HITS, else
 * SD_EINVALID; SD_EMALFORMED if q is not valid UTF-8. Typically 0.1 ms for a
 * tenant of 105,000 documents (tests/unit/bench_sd_suggest.c). */
apr_status_t sd_suggest_query(sd_suggest_result_t **pres, sd_suggest_index_t *idx,
                              const char *tenant, const char *q,
                              int max_known, int max_tickets, apr_pool_t *p);

/* Counters and memory use, for the status page and the benchmark. */
void sd_suggest_stats(sd_suggest_stats_t *st, sd_suggest_index_t *idx);

#endif /* SD_SUGGEST_H */
