/* Unit tests for lib/sd_priority.c and the vocabulary helpers of lib/sd.c. */
#include <string.h>

#include "sd_test.h"
#include "sd_priority.h"
#include "sd_test_matrix.h"

static void test_default_matrix_every_cell(void **state)
{
    sd_matrix_t m;
    apr_size_t i;
    int u, im, want;

    (void)state;
    assert_int_equal(SD_URG_COUNT * SD_IMPACT_COUNT, (int)SD_TEST_NCELLS);
    sd_priority_matrix_default(&m);
    for (i = 0; i < SD_TEST_NCELLS; i++) {
        u = sd_urgency_from_str(sd_test_matrix[i].urgency);
        im = sd_impact_from_str(sd_test_matrix[i].impact);
        want = sd_priority_from_str(sd_test_matrix[i].priority);
        assert_true(u >= 0 && im >= 0 && want >= 0);
        if (want != sd_priority_of(&m, u, im)) {
            fail_msg("%s x %s: want %s, got %s", sd_test_matrix[i].urgency,
                     sd_test_matrix[i].impact, sd_test_matrix[i].priority,
                     sd_priority_str(sd_priority_of(&m, u, im)));
        }
        /* A NULL matrix is the default one. */
        assert_int_equal(want, sd_priority_of(NULL, u, im));
    }
}

static void test_patient_safety_is_always_critical(void **state)
{
    sd_matrix_t m;
    int i;

    (void)state;
    sd_priority_matrix_default(&m);
    for (i = 0; i < SD_IMPACT_COUNT; i++) {
        assert_int_equal(SD_PRIO_CRITICAL, sd_priority_of(&m, SD_URG_PATIENT_SAFETY, i));
    }
}

static void test_out_of_range(void **state)
{
    static const struct { int u, i; } cases[] = {
        { -1, 0 }, { 0, -1 }, { SD_URG_COUNT, 0 }, { 0, SD_IMPACT_COUNT },
        { SD_URG_COUNT, SD_IMPACT_COUNT }, { -1, -1 }, { 1000, 1 }, { 1, -1000 },
    };
    sd_matrix_t m;
    apr_size_t k;

    (void)state;
    sd_priority_matrix_default(&m);
    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        assert_int_equal(-1, sd_priority_of(&m, cases[k].u, cases[k].i));
    }
}

static void test_unset_and_garbage_cells(void **state)
{
    sd_matrix_t m;
    int u, i;

    (void)state;
    sd_priority_matrix_unset(&m);
    for (u = 0; u < SD_URG_COUNT; u++) {
        for (i = 0; i < SD_IMPACT_COUNT; i++) {
            assert_int_equal(-1, m.cell[u][i]);
            assert_int_equal(-1, sd_priority_of(&m, u, i));
        }
    }
    m.cell[1][1] = SD_PRIO_COUNT;   /* never an index past the vocabulary */
    assert_int_equal(-1, sd_priority_of(&m, 1, 1));
}

static void test_merge(void **state)
{
    sd_matrix_t base, add, out, want;

    (void)state;
    sd_priority_matrix_default(&base);
    sd_priority_matrix_unset(&add);
    add.cell[SD_URG_NOT_BLOCKING][SD_IMPACT_ALL] = SD_PRIO_HIGH;
    add.cell[SD_URG_JOB_STOPPED][SD_IMPACT_SINGLE] = SD_PRIO_URGENT;

    sd_priority_matrix_merge(&out, &base, &add);
    want = base;
    want.cell[SD_URG_NOT_BLOCKING][SD_IMPACT_ALL] = SD_PRIO_HIGH;
    want.cell[SD_URG_JOB_STOPPED][SD_IMPACT_SINGLE] = SD_PRIO_URGENT;
    assert_memory_equal(&want, &out, sizeof(want));

    /* An all-unset add changes nothing; an unset base takes add's cells. */
    sd_priority_matrix_unset(&add);
    sd_priority_matrix_merge(&out, &base, &add);
    assert_memory_equal(&base, &out, sizeof(base));
    sd_priority_matrix_merge(&out, &add, &base);
    assert_memory_equal(&base, &out, sizeof(base));

    /* In place, as a merge_server_config does it (out == base, out == add). */
    add.cell[SD_URG_FUNCTION_AFFECTED][SD_IMPACT_MULTIPLE] = SD_PRIO_URGENT;
    out = base;
    sd_priority_matrix_merge(&out, &out, &add);
    assert_int_equal(SD_PRIO_URGENT,
                     sd_priority_of(&out, SD_URG_FUNCTION_AFFECTED, SD_IMPACT_MULTIPLE));
    assert_int_equal(SD_PRIO_HIGH, sd_priority_of(&out, SD_URG_FUNCTION_AFFECTED, SD_IMPACT_SINGLE));
    out = add;
    sd_priority_matrix_merge(&out, &base, &out);
    assert_int_equal(SD_PRIO_URGENT,
                     sd_priority_of(&out, SD_URG_FUNCTION_AFFECTED, SD_IMPACT_MULTIPLE));
    assert_int_equal(SD_PRIO_HIGH, sd_priority_of(&out, SD_URG_FUNCTION_AFFECTED, SD_IMPACT_SINGLE));
}

/* ---- vocabulary (lib/sd.c) ----------------------------------------------- */

typedef struct {
    const char *name;
    const char *(*to_str)(int);
    int (*from_str)(const char *);
    int count;
    const char *words[6];
} vocab_t;

static void test_vocabulary_words(void **state)
{
    static const vocab_t vocabs[] = {
        { "urgency", sd_urgency_str, sd_urgency_from_str, SD_URG_COUNT,
          { "patient-safety", "job-stopped", "function-affected", "not-blocking" } },
        { "impact", sd_impact_str, sd_impact_from_str, SD_IMPACT_COUNT,
          { "single", "multiple", "all" } },
        { "priority", sd_priority_str, sd_priority_from_str, SD_PRIO_COUNT,
          { "critical", "urgent", "high", "normal" } },
        { "status", sd_status_str, sd_status_from_str, SD_ST_COUNT,
          { "new", "open", "pending", "resolved", "closed" } },
        { "environment", sd_env_str, sd_env_from_str, SD_ENV_COUNT,
          { "production", "test", "training" } },
    };
    static const char *const unknown[] = {
        "", " ", "Critical", "NEW", "new ", " new", "patient_safety", "unknown", "1", "0",
    };
    const vocab_t *v;
    apr_size_t k, w;
    int i;

    (void)state;
    for (k = 0; k < sizeof(vocabs) / sizeof(vocabs[0]); k++) {
        v = &vocabs[k];
        for (i = 0; i < v->count; i++) {
            if (!v->to_str(i) || strcmp(v->words[i], v->to_str(i))) {
                fail_msg("%s %d: want '%s'", v->name, i, v->words[i]);
            }
            assert_int_equal(i, v->from_str(v->words[i]));
        }
        assert_null(v->words[v->count]);          /* the table above is complete */
        assert_null(v->to_str(-1));
        assert_null(v->to_str(v->count));
        assert_null(v->to_str(1 << 20));
        assert_int_equal(-1, v->from_str(NULL));
        for (w = 0; w < sizeof(unknown) / sizeof(unknown[0]); w++) {
            assert_int_equal(-1, v->from_str(unknown[w]));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_default_matrix_every_cell),
        SD_TEST(test_patient_safety_is_always_critical),
        SD_TEST(test_out_of_range),
        SD_TEST(test_unset_and_garbage_cells),
        SD_TEST(test_merge),
        SD_TEST(test_vocabulary_words),
    };
    return SD_RUN("sd_priority", tests);
}
