/* Unit tests for lib/sd_suggest.c: folding, tokens, stems, and ranking over a
 * fixed corpus of known issues and tickets in English and Russian. */
#include <string.h>

#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "sd_test.h"
#include "sd_suggest.h"

/* Not API: the stop list, so its order and folding can be checked. */
const char *const *sd_suggest_stop_words_(apr_size_t *pn);

#define KI SD_SUGGEST_KNOWN_ISSUE
#define TK SD_SUGGEST_TICKET

/* ---- Folding ---- */

static const struct {
    const char *in, *out;
} folds[] = {
    { "Café",                 "cafe" },
    { "CAFÉ",                 "cafe" },
    { "Cafe\xCC\x81",         "cafe" },          /* e + combining acute */
    { "\xEF\xAC\x81le",       "file" },          /* U+FB01 ligature fi */
    { "ＡＢＣ１２",           "abc12" },         /* fullwidth */
    { "Straße",               "strasse" },
    { "naïve résumé",         "naive resume" },
    { "İstanbul",             "istanbul" },
    { "ПРИНТЕР",              "принтер" },
    { "Принтер Печатает",     "принтер печатает" },
    { "Ёлка",                 "елка" },          /* ё is е for matching */
    { "ещё всё",              "еще все" },
    { "Мой",                  "мои" },           /* й loses its breve too: both sides */
    { "soft\xC2\xADhyphen",   "softhyphen" },    /* U+00AD is default-ignorable */
    { "zero\xE2\x80\x8Bwidth", "zerowidth" },    /* U+200B */
    { "Ⅻ",                    "xii" },
    { "ΣΊΣΥΦΟΣ",              "σισυφοσ" },
    { "",                     "" },
};

static void test_fold_table(void **state)
{
    apr_pool_t *p = *state;
    const char *out;
    apr_size_t i;

    for (i = 0; i < sizeof(folds) / sizeof(folds[0]); i++) {
        assert_int_equal(APR_SUCCESS, sd_text_fold(&out, folds[i].in, -1, p));
        assert_string_equal(folds[i].out, out);
    }
}

static void test_fold_length_and_nul(void **state)
{
    apr_pool_t *p = *state;
    const char *out;

    assert_int_equal(APR_SUCCESS, sd_text_fold(&out, "AB\0CD", 5, p));
    assert_string_equal("ab cd", out);
    assert_int_equal(APR_SUCCESS, sd_text_fold(&out, "ABCD", 2, p));
    assert_string_equal("ab", out);
}

static void test_fold_invalid_utf8(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {
        "\xFF", "abc\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x80x",
    };
    const char *out = "x";
    apr_array_header_t *toks = (void *)1;
    apr_size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(SD_EMALFORMED, sd_text_fold(&out, bad[i], -1, p));
        assert_null(out);
        assert_int_equal(SD_EMALFORMED, sd_text_tokens(&toks, bad[i], -1, 0, p));
        assert_null(toks);
    }
}

/* ---- Stop words and stems ---- */

static void test_stop_words_sorted_and_folded(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t n, i;
    const char *const *w = sd_suggest_stop_words_(&n);
    const char *f;

    assert_true(n > 60);
    for (i = 0; i < n; i++) {
        if (i) assert_true(strcmp(w[i - 1], w[i]) < 0);
        assert_int_equal(APR_SUCCESS, sd_text_fold(&f, w[i], -1, p));
        assert_string_equal(w[i], f);
        assert_true(sd_text_is_stopword(w[i]));
    }
    assert_true(sd_text_is_stopword("not"));
    assert_true(sd_text_is_stopword("не"));
    assert_true(sd_text_is_stopword("на"));
    assert_false(sd_text_is_stopword("down"));
    assert_false(sd_text_is_stopword("printer"));
    assert_false(sd_text_is_stopword(NULL));
}

static const struct {
    const char *word, *stem;
} stems[] = {
    { "printers",   "printer" },
    { "printer",    "printer" },
    { "printing",   "print" },
    { "prints",     "print" },
    { "printed",    "print" },
    { "labels",     "label" },
    { "batteries",  "battery" },
    { "copied",     "copy" },
    { "stopped",    "stop" },
    { "running",    "run" },
    { "calling",    "call" },
    { "missing",    "miss" },
    { "crashes",    "crash" },
    { "issues",     "issu" },
    { "issue",      "issu" },
    { "updated",    "updat" },
    { "update",     "updat" },
    { "settings",   "set" },
    { "status",     "status" },           /* -us is no plural */
    { "access",     "access" },
    { "analysis",   "analysis" },
    { "string",     "string" },           /* no vowel before -ing */
    { "speed",      "speed" },
    { "free",       "free" },
    { "gas",        "gas" },              /* too short */
    { "принтеры",   "принтер" },
    { "принтера",   "принтер" },
    { "принтеров",  "принтер" },
    { "принтером",  "принтер" },
    { "принтерами", "принтер" },
    { "принтерах",  "принтер" },
    { "принтер",    "принтер" },
    { "этикетки",   "этикетк" },
    { "этикетка",   "этикетк" },
    { "печатает",   "печат" },
    { "печатают",   "печат" },
    { "сетевои",    "сетев" },            /* сетевой, folded */
    { "сетевого",   "сетев" },
    { "сети",       "сет" },
    { "сеть",       "сет" },
    { "сбои",       "сбо" },              /* stem keeps 3 letters */
    { "включается", "включ" },
    { "систем",     "систем" },           /* -ем left alone */
    { "режим",      "режим" },
    { "дом",        "дом" },
    { "win10",      "win10" },            /* digits: unchanged */
    { "straße",     "straße" },           /* not a-z only */
};

static void test_stem_table(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t i;

    for (i = 0; i < sizeof(stems) / sizeof(stems[0]); i++) {
        const char *s = sd_text_stem(stems[i].word, p);
        if (strcmp(stems[i].stem, s)) fail_msg("stem(%s) = %s, expected %s", stems[i].word, s,
                                               stems[i].stem);
    }
}

/* ---- Tokens ---- */

static void expect_tokens(apr_pool_t *p, const char *text, int max, const char *const *want)
{
    apr_array_header_t *toks;
    int i;

    assert_int_equal(APR_SUCCESS, sd_text_tokens(&toks, text, -1, max, p));
    for (i = 0; want[i]; i++) {
        if (i >= toks->nelts) fail_msg("'%s': only %d tokens, expected '%s'", text, i, want[i]);
        assert_string_equal(want[i], APR_ARRAY_IDX(toks, i, const char *));
    }
    if (toks->nelts != i) fail_msg("'%s': %d tokens, expected %d", text, toks->nelts, i);
}

static void test_tokens(void **state)
{
    apr_pool_t *p = *state;
    static const char *const t1[] = { "printer", "print", "label", NULL };
    static const char *const t2[] = { "wi", "fi", "down", "floor", NULL };
    static const char *const t3[] = { "принтер", "печат", "этикетк", NULL };
    static const char *const t4[] = { "error", "0x80070005", "1023", "e1023", NULL };
    static const char *const t5[] = { "打印", "印机", "机坏", "坏了", "hp", NULL };
    static const char *const t6[] = { "caf", "kiosk", NULL };
    static const char *const t7[] = { "printer", "print", NULL };
    static const char *const t8[] = { "abcdefghijklmnopqrstuvwxyzabcdef", "ok", NULL };
    static const char *const t9[] = { "printer", "печат", "40", NULL };
    static const char *const none[] = { NULL };

    expect_tokens(p, "Printer is NOT printing labels!", 0, t1);
    expect_tokens(p, "Wi-Fi down (floor 2)", 0, t2);
    expect_tokens(p, "Принтер не печатает этикетки", 0, t3);
    expect_tokens(p, "Error 0x80070005, E-1023... E1023", 0, t4);
    expect_tokens(p, "打印机坏了 HP", 0, t5);
    expect_tokens(p, "CAFÉ kiosk", 0, t6);
    expect_tokens(p, "Printer is NOT printing labels!", 2, t7);
    expect_tokens(p, "abcdefghijklmnopqrstuvwxyzabcdefghij OK", 0, t8);
    expect_tokens(p, "PRINTER\tпечатает\n40 %", 0, t9);
    expect_tokens(p, "", 0, none);
    expect_tokens(p, "   ...   ", 0, none);
    expect_tokens(p, "the is not и не в на a", 0, none);
}

/* ---- Ranking over a fixed corpus ---- */

static const struct {
    int kind;
    apr_int64_t id;
    const char *tenant, *title, *body;
} corpus[] = {
    { KI, 1,  "acme", "Label printer offline",
      "Zebra label printers in ward 3 show offline and do not print labels." },
    { KI, 2,  "acme", "Email not syncing on mobile",
      "Outlook on phones stops syncing mail after a password change." },
    { KI, 3,  "",     "VPN connection drops every hour",
      "Remote users lose the VPN tunnel; reconnecting restores it." },
    { KI, 4,  "acme", "Принтер не печатает этикетки",
      "Принтеры этикеток в регистратуре не печатают после обновления драйвера." },
    { KI, 5,  "acme", "Не работает сканер штрихкодов",
      "Сканеры штрихкодов не считывают браслеты пациентов." },
    { KI, 6,  "",     "Password reset page shows an error",
      "The self-service reset page fails with error 500." },
    { KI, 7,  "beta", "Label printer offline in the lab",
      "Lab label printers offline, printr not printing labels." },
    { KI, 8,  "acme", "Laser printer prints blank pages",
      "The laser printer on floor 2 feeds paper but the pages come out blank." },
    { KI, 9,  "acme", "Ошибка входа в систему",
      "Пользователи не могут войти в систему после смены пароля." },
    { KI, 10, "acme", "Café kiosk screen frozen",
      "The touch screen of the café kiosk stops reacting." },
    { KI, 11, "acme", "Монитор мигает",
      "Мониторы в кабинетах мигают и гаснут." },
    { TK, 101, "acme", "Printer not printing labels in ward 3", "Since this morning." },
    { TK, 102, "acme", "Cannot print wristbands", "The wristband printer is slow." },
    { TK, 103, "acme", "Email stopped syncing on my phone", NULL },
    { TK, 104, "acme", "Принтер в регистратуре не печатает", "Срочно, очередь пациентов." },
    { TK, 105, "acme", "Монитор мигает в кабинете 12", NULL },
    { TK, 106, "acme", "Keyboard missing keys", "Keys F1 and F2 are gone." },
    { TK, 107, "acme", "Сетевой принтер недоступен", "Сеть работает, принтер нет." },
    { TK, 108, "acme", "Password expired", "Cannot log in after the password expired." },
    { TK, 201, "beta", "Printr not printing labels", "Label printer offline printing labels." },
    { TK, 202, "beta", "Принтер не печатает этикетки", NULL },
};

static sd_suggest_index_t *corpus_index(apr_pool_t *p)
{
    sd_suggest_index_t *idx;
    apr_size_t i;

    assert_int_equal(APR_SUCCESS, sd_suggest_index_create(&idx, p));
    for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
        assert_int_equal(APR_SUCCESS, sd_suggest_add(idx, corpus[i].kind, corpus[i].id,
                                                     corpus[i].tenant, corpus[i].title,
                                                     corpus[i].body, p));
    }
    return idx;
}

static sd_suggest_result_t *ask(sd_suggest_index_t *idx, const char *tenant, const char *q,
                                apr_pool_t *p)
{
    sd_suggest_result_t *res;
    assert_int_equal(APR_SUCCESS, sd_suggest_query(&res, idx, tenant, q, 5, 5, p));
    assert_non_null(res);
    return res;
}

static apr_int64_t hit(const apr_array_header_t *a, int i)
{
    return i < a->nelts ? APR_ARRAY_IDX(a, i, sd_suggest_hit_t).id : -1;
}

static int contains(const apr_array_header_t *a, apr_int64_t id)
{
    int i;
    for (i = 0; i < a->nelts; i++) {
        if (APR_ARRAY_IDX(a, i, sd_suggest_hit_t).id == id) return 1;
    }
    return 0;
}

static void assert_best_first(const apr_array_header_t *a)
{
    int i;
    for (i = 0; i < a->nelts; i++) {
        assert_true(APR_ARRAY_IDX(a, i, sd_suggest_hit_t).score > 0);
        if (i) {
            assert_true(APR_ARRAY_IDX(a, i - 1, sd_suggest_hit_t).score
                        >= APR_ARRAY_IDX(a, i, sd_suggest_hit_t).score);
        }
    }
}

/* Expected first known issue and first ticket of tenant acme (0: either,
 * -1: none). */
static const struct {
    const char *q;
    apr_int64_t ki, tk;
} firsts[] = {
    { "printr not printing labels",        1,  101 },
    { "labels printer",                    1,  101 },
    { "label printer offline",             1,  101 },
    { "LABEL PRINTER OFFLINE ",            1,  101 },
    { "lable printer",                     1,  101 },      /* swapped letters */
    { "label prin",                        1,  101 },      /* still typing */
    { "blank pages",                       8,  -1 },
    { "printer prints blank page",         8,  101 },
    { "email syncing phone",               2,  103 },
    { "emial not synching",                2,  103 },      /* two misspellings */
    { "vpn drops",                         3,  -1 },       /* global issue */
    { "password reset error",              6,  108 },
    { "cafe kiosk",                        10, -1 },
    { "CAFÉ KIOSK",                        10, -1 },
    { "принтер не печатает этикетки",      4,  104 },
    { "ПРИНТЕР НЕ ПЕЧАТАЕТ ЭТИКЕТКИ",      4,  104 },
    { "этикетки принтер",                  4,  0 },        /* word order */
    { "принтеры этикеток",                 4,  0 },        /* plural, genitive */
    { "притнер",                           4,  107 },      /* swapped letters */
    { "не рабоатет сканер",                5,  -1 },       /* misspelt verb */
    { "сканер штрихкодв",                  5,  -1 },       /* missing letter */
    { "ошибка входа",                      9,  -1 },
    { "мониторы мигают",                   11, 105 },
    { "сетевой принтер",                   4,  107 },
};

static void test_rank_first(void **state)
{
    apr_pool_t *p = *state;
    sd_suggest_index_t *idx = corpus_index(p);
    sd_suggest_result_t *res;
    apr_size_t i;

    for (i = 0; i < sizeof(firsts) / sizeof(firsts[0]); i++) {
        res = ask(idx, "acme", firsts[i].q, p);
        assert_best_first(res->known_issues);
        assert_best_first(res->tickets);
        if (hit(res->known_issues, 0) != firsts[i].ki) {
            fail_msg("'%s': first known issue %" APR_INT64_T_FMT ", expected %" APR_INT64_T_FMT,
                     firsts[i].q, hit(res->known_issues, 0), firsts[i].ki);
        }
        if (firsts[i].tk > 0 && hit(res->tickets, 0) != firsts[i].tk) {
            fail_msg("'%s': first ticket %" APR_INT64_T_FMT ", expected %" APR_INT64_T_FMT,
                     firsts[i].q, hit(res->tickets, 0), firsts[i].tk);
        }
        if (firsts[i].tk < 0 && res->tickets->nelts) {
            fail_msg("'%s': unexpected ticket %" APR_INT64_T_FMT, firsts[i].q,
                     hit(res->tickets, 0));
        }
    }
}

static void test_rank_full_order(void **state)
{
    apr_pool_t *p = *state;
    sd_suggest_index_t *idx = corpus_index(p);
    sd_suggest_result_t *res = ask(idx, "acme", "printr not printing labels", p);

    /* Known issues: the label printer, then the other printer; nothing else
     * shares a word. Tickets: labels and printing, then printing alone. */
    assert_int_equal(2, res->known_issues->nelts);
    assert_int_equal(1, hit(res->known_issues, 0));
    assert_int_equal(8, hit(res->known_issues, 1));
    assert_int_equal(2, res->tickets->nelts);
    assert_int_equal(101, hit(res->tickets, 0));
    assert_int_equal(102, hit(res->tickets, 1));

    res = ask(idx, "acme", "принтер не печатает этикетки", p);
    assert_int_equal(4, hit(res->known_issues, 0));
    assert_int_equal(1, res->known_issues->nelts);
    assert_int_equal(2, res->tickets->nelts);
    assert_int_equal(104, hit(res->tickets, 0));
    assert_int_equal(107, hit(res->tickets, 1));
}

static void assert_same(const apr_array_header_t *a, const apr_array_header_t *b)
{
    int i;
    assert_int_equal(a->nelts, b->nelts);
    for (i = 0; i < a->nelts; i++) {
        assert_int_equal(hit(a, i), hit(b, i));
        assert_true(APR_ARRAY_IDX(a, i, sd_suggest_hit_t).score
                    == APR_ARRAY_IDX(b, i, sd_suggest_hit_t).score);
    }
}

/* Case, plural and word order give the very same answer, scores included. */
static void test_rank_invariants(void **state)
{
    apr_pool_t *p = *state;
    sd_suggest_index_t *idx = corpus_index(p);
    static const char *const groups[][4] = {
        { "printer ",  "PRINTERS ",  "Printers ", "printer." },
        { "label printer ", "printer label ", "LABELS PRINTERS ", "printers, labels " },
        { "Принтер ", "принтеры ", "ПРИНТЕРА ", "принтером " },
        { "принтер этикетки ", "этикетки принтер ", "Этикетка, принтеры ", "этикетки принтера " },
    };
    sd_suggest_result_t *r0, *r;
    apr_size_t g;
    int i;

    for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        r0 = ask(idx, "acme", groups[g][0], p);
        assert_true(r0->known_issues->nelts > 0);
        for (i = 1; i < 4; i++) {
            r = ask(idx, "acme", groups[g][i], p);
            assert_same(r0->known_issues, r->known_issues);
            assert_same(r0->tickets, r->tickets);
        }
    }
    r = ask(idx, "acme", "printer ", p);
    assert_true(contains(r->known_issues, 1));
    assert_true(contains(r->known_issues, 8));
    r = ask(idx, "acme", "Принтер", p);
    assert_int_equal(4, hit(r->known_issues, 0));
}

static void test_tenant_isolation(void **state)
{
    apr_pool_t *p = *state;
    sd_suggest_index_t *idx = corpus_index(p);
    static const char *const qs[] = {
        "printr not printing labels", "Label printer offline in the lab",
        "принтер не печатает этикетки", "lab", "printr", "label prin",
    };
    sd_suggest_result_t *res;
    apr_size_t i;

    for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        res = ask(idx, "acme", qs[i], p);
        assert_false(contains(res->known_issues, 7));      /* beta's, even if best */
        assert_false(contains(res->tickets, 201));
        assert_false(contains(res->tickets, 202));
        res = ask(idx, "beta", qs[i], p);
        assert_false(contains(res->known_issues, 1));
        assert_false(contains(res->known_issues, 4));
        assert_false(contains(res->tickets, 101));
        assert_false(contains(res->tickets, 104));
    }
    res = ask(idx, "beta", "printr not printing labels", p);
    assert_int_equal(7, hit(res->known_issues, 0));
    assert_int_equal(201, hit(res->tickets, 0));
    res = ask(idx, "beta", "принтер не печатает этикетки", p);
    assert_int_equal(202, hit(res->tickets, 0));
    assert_int_equal(0, res->known_issues->nelts);

    /* Global known issues for everyone, known tenant or not. */
    res = ask(idx, "acme", "vpn connection drops", p);
    assert_int_equal(3, hit(res->known_issues, 0));
    res = ask(idx, "beta", "vpn connection drops", p);
    assert_int_equal(3, hit(res->known_issues, 0));
    res = ask(idx, "gamma", "vpn connection drops", p);
    assert_int_equal(3, hit(res->known_issues, 0));
    assert_int_equal(0, res->tickets->nelts);
    res = ask(idx, "gamma", "label printer offline", p);
    assert_int_equal(0, res->known_issues->nelts);
    assert_int_equal(0, res->tickets->nelts);
    /* Tenant "" sees global issues only. */
    res = ask(idx, "", "label printer offline password", p);
    assert_int_equal(1, res->known_issues->nelts);
    assert_int_equal(6, hit(res->known_issues, 0));
    /* A misspelling is not expanded to a word only another tenant uses. */
    res = ask(idx, "gamma", "printr", p);
    assert_int_equal(0, res->known_issues->nelts);
}

static void test_remove_and_replace(void **state)
{
    apr_pool_t *p = *state;
    sd_suggest_index_t *idx = corpus_index(p);
    sd_suggest_result_t *res;
    sd_suggest_stats_t st;

    assert_int_equal(APR_SUCCESS, sd_suggest_remove(idx, KI, 1));
    assert_int_equal(SD_ENOTFOUND, sd_suggest_remove(idx, KI, 1));
    assert_int_equal(SD_ENOTFOUND, sd_suggest_remove(idx, TK, 1));  /* kinds apart */
    res = ask(idx, "acme", "printr not printing labels", p);
    assert_false(contains(res->known_issues, 1));
    assert_int_equal(8, hit(res->known_issues, 0));
    assert_int_equal(101, hit(res->tickets, 0));

    /* Same id, other kind: independent. */
    assert_int_equal(APR_SUCCESS, sd_suggest_remove(idx, TK, 101));
    res = ask(idx, "acme", "printr not printing labels", p);
    assert_false(contains(res->tickets, 101));

    /* Replacing: the new text counts, the old one no longer. */
    assert_int_equal(APR_SUCCESS, sd_suggest_add(idx, KI, 8, "acme", "Scanner offline", NULL, p));
    res = ask(idx, "acme", "blank laser", p);
    assert_int_equal(0, res->known_issues->nelts);
    res = ask(idx, "acme", "scanner offline", p);
    assert_int_equal(8, hit(res->known_issues, 0));
    /* Unchanged re-add is a no-op; moving tenants moves it. */
    assert_int_equal(APR_SUCCESS, sd_suggest_add(idx, KI, 8, "acme", "Scanner offline", NULL, p));
    assert_int_equal(APR_SUCCESS, sd_suggest_add(idx, KI, 8, "beta", "Scanner offline", NULL, p));
    res = ask(idx, "acme", "scanner offline", p);
    assert_false(contains(res->known_issues, 8));
    res = ask(idx, "beta", "scanner offline", p);
    assert_int_equal(8, hit(res->known_issues, 0));

    sd_suggest_stats(&st, idx);
    assert_int_equal(sizeof(corpus) / sizeof(corpus[0]) - 2, st.docs);
    assert_int_equal(3, st.tenants);
    assert_true(st.bytes > 0);

    /* Invalid text leaves the existing document alone. */
    assert_int_equal(SD_EMALFORMED, sd_suggest_add(idx, KI, 8, "beta", "bad \xFF", NULL, p));
    res = ask(idx, "beta", "scanner offline", p);
    assert_int_equal(8, hit(res->known_issues, 0));
}

static void test_bad_input(void **state)
{
    apr_pool_t *p = *state;
    sd_suggest_index_t *idx = corpus_index(p);
    sd_suggest_result_t *res = (void *)1;
    static const char *const blank[] = { "", "   ", "\t\n", "?!.,;", "the is not", "и не в на", "a" };
    apr_size_t i;

    assert_int_equal(SD_EMALFORMED, sd_suggest_query(&res, idx, "acme", "printer \xC3", 5, 5, p));
    assert_null(res);
    assert_int_equal(SD_EMALFORMED, sd_suggest_query(&res, idx, "acme", "\xED\xA0\x80", 5, 5, p));
    assert_int_equal(SD_EINVALID, sd_suggest_query(&res, idx, "acme", "printer", -1, 5, p));
    assert_int_equal(SD_EINVALID, sd_suggest_query(&res, idx, "acme", "printer", 5,
                                                   SD_SUGGEST_MAX_HITS + 1, p));
    assert_int_equal(SD_EINVALID, sd_suggest_query(&res, idx, NULL, "printer", 5, 5, p));
    assert_int_equal(SD_EINVALID, sd_suggest_query(&res, idx, "acme", NULL, 5, 5, p));
    assert_int_equal(SD_EINVALID, sd_suggest_add(idx, 2, 1, "acme", "x", NULL, p));
    assert_int_equal(SD_EINVALID, sd_suggest_add(idx, KI, 1, NULL, "x", NULL, p));
    assert_int_equal(SD_EMALFORMED, sd_suggest_add(idx, KI, 99, "acme", "ok", "\xFF", p));

    for (i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
        res = ask(idx, "acme", blank[i], p);
        assert_int_equal(0, res->known_issues->nelts);
        assert_int_equal(0, res->tickets->nelts);
    }
    assert_int_equal(APR_SUCCESS, sd_suggest_query(&res, idx, "acme", "printer", 0, 1, p));
    assert_int_equal(0, res->known_issues->nelts);
    assert_int_equal(1, res->tickets->nelts);
    /* Controls, huge words and many words are harmless. */
    res = ask(idx, "acme", "\x01printer\x7f\x1b[0m labels", p);
    assert_int_equal(1, hit(res->known_issues, 0));
    {
        char *big = apr_palloc(p, 100001);
        memset(big, 'x', 100000);
        big[100000] = '\0';
        res = ask(idx, "acme", big, p);
        assert_int_equal(0, res->known_issues->nelts);
        for (i = 0; i < 100000; i++) big[i] = i % 7 == 6 ? ' ' : "printer"[i % 7];
        res = ask(idx, "acme", big, p);
        assert_true(res->known_issues->nelts > 0);
    }
}

/* Many removals: shards compact, unused vocabulary is collected, results stay right. */
static void test_compaction(void **state)
{
    apr_pool_t *p = *state;
    sd_suggest_index_t *idx;
    sd_suggest_result_t *res;
    sd_suggest_stats_t st, st0;
    apr_int64_t i;

    assert_int_equal(APR_SUCCESS, sd_suggest_index_create(&idx, p));
    sd_suggest_stats(&st0, idx);
    for (i = 1; i <= 3000; i++) {
        const char *t = apr_psprintf(p, "Ticket about zq%" APR_INT64_T_FMT "x widget", i);
        assert_int_equal(APR_SUCCESS, sd_suggest_add(idx, TK, i, i % 2 ? "acme" : "beta", t,
                                                     "some body text", p));
    }
    sd_suggest_stats(&st, idx);
    assert_int_equal(3000, st.docs);
    assert_true(st.terms >= 3000);
    for (i = 1; i <= 3000; i++) {
        if (i % 100) assert_int_equal(APR_SUCCESS, sd_suggest_remove(idx, TK, i));
    }
    sd_suggest_stats(&st, idx);
    assert_int_equal(30, st.docs);
    assert_true(st.dead < 100);              /* compacted */
    assert_true(st.terms < 100);             /* unused terms collected */
    res = ask(idx, "acme", "zq1500x", p);
    assert_int_equal(0, res->tickets->nelts);
    res = ask(idx, "beta", "zq1501x", p);
    assert_int_equal(0, res->tickets->nelts);
    res = ask(idx, "beta", "zq1502x", p);
    assert_int_equal(0, res->tickets->nelts);
    res = ask(idx, "acme", "zq1300x", p);
    assert_int_equal(0, res->tickets->nelts);  /* odd: acme; 1300 is beta's */
    res = ask(idx, "beta", "zq1300x", p);
    assert_int_equal(1300, hit(res->tickets, 0));
    res = ask(idx, "beta", "widget", p);
    assert_int_equal(5, res->tickets->nelts);
    res = ask(idx, "acme", "widget", p);
    assert_int_equal(0, res->tickets->nelts);  /* every kept id is even */
    /* Ids and terms are reused after collection. */
    for (i = 1; i <= 3000; i++) {
        const char *t = apr_psprintf(p, "Other zz%" APR_INT64_T_FMT "y gadget", i);
        if (i % 100) assert_int_equal(APR_SUCCESS, sd_suggest_add(idx, TK, i, "acme", t, NULL, p));
    }
    res = ask(idx, "acme", "zz1501y", p);
    assert_int_equal(1501, hit(res->tickets, 0));
    res = ask(idx, "beta", "zq2700x", p);
    assert_int_equal(2700, hit(res->tickets, 0));
}

/* Readers while a writer adds, replaces and removes: no error, no other
 * tenant's document, ever (ASan watches the memory; TSan was run by hand). */
typedef struct {
    sd_suggest_index_t *idx;
    apr_pool_t *pool;
    volatile apr_uint32_t *stop;
    int runs, bad;
} reader_t;

static void *APR_THREAD_FUNC reader(apr_thread_t *th, void *data)
{
    reader_t *r = data;
    static const char *const qs[] = { "widget gadget", "printr labels", "widg", "гаджет" };
    sd_suggest_result_t *res;
    int i;

    while (!apr_atomic_read32(r->stop)) {
        if (sd_suggest_query(&res, r->idx, "acme", qs[r->runs % 4], 5, 5, r->pool)
            != APR_SUCCESS) {
            r->bad++;
        }
        else {
            for (i = 0; i < res->tickets->nelts; i++) {
                if (APR_ARRAY_IDX(res->tickets, i, sd_suggest_hit_t).id >= 100000) r->bad++;
            }
        }
        apr_pool_clear(r->pool);
        r->runs++;
    }
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void test_threads(void **state)
{
    apr_pool_t *p = *state, *tmp;
    sd_suggest_index_t *idx;
    apr_thread_t *th[4];
    reader_t rd[4];
    volatile apr_uint32_t stop = 0;
    apr_status_t trv;
    apr_int64_t i;
    int t;

    assert_int_equal(APR_SUCCESS, sd_suggest_index_create(&idx, p));
    assert_int_equal(APR_SUCCESS, apr_pool_create(&tmp, p));
    for (t = 0; t < 4; t++) {
        rd[t].idx = idx;
        rd[t].stop = &stop;
        rd[t].runs = rd[t].bad = 0;
        assert_int_equal(APR_SUCCESS, apr_pool_create(&rd[t].pool, p));
        assert_int_equal(APR_SUCCESS, apr_thread_create(&th[t], NULL, reader, &rd[t], p));
    }
    for (i = 0; i < 3000; i++) {
        const char *title = apr_psprintf(tmp, "widget %d gadget гаджеты printer w%d",
                                         (int)(i % 17), (int)i);
        assert_int_equal(APR_SUCCESS, sd_suggest_add(idx, TK, i % 2 ? i : 100000 + i,
                                                     i % 2 ? "acme" : "beta", title, NULL, tmp));
        if (i % 3 == 0) sd_suggest_remove(idx, TK, i / 2);
        if (i % 5 == 0) {
            assert_int_equal(APR_SUCCESS, sd_suggest_add(idx, TK, i / 3 | 1, "acme", "labels",
                                                         title, tmp));
        }
        apr_pool_clear(tmp);
    }
    apr_atomic_set32(&stop, 1);
    for (t = 0; t < 4; t++) {
        assert_int_equal(APR_SUCCESS, apr_thread_join(&trv, th[t]));
        assert_int_equal(0, rd[t].bad);
        assert_true(rd[t].runs > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_fold_table),
        SD_TEST(test_fold_length_and_nul),
        SD_TEST(test_fold_invalid_utf8),
        SD_TEST(test_stop_words_sorted_and_folded),
        SD_TEST(test_stem_table),
        SD_TEST(test_tokens),
        SD_TEST(test_rank_first),
        SD_TEST(test_rank_full_order),
        SD_TEST(test_rank_invariants),
        SD_TEST(test_tenant_isolation),
        SD_TEST(test_remove_and_replace),
        SD_TEST(test_bad_input),
        SD_TEST(test_compaction),
        SD_TEST(test_threads),
    };
    return SD_RUN("sd_suggest", tests);
}
