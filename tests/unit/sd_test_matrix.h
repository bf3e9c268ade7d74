/* DESIGN.md "Priority and SLA", cell by cell, in words: the table a reader
 * compares with the design page (test_sd_priority.c, test_sd_ticket.c). */
#ifndef SD_TEST_MATRIX_H
#define SD_TEST_MATRIX_H

static const struct {
    const char *urgency, *impact, *priority;
} sd_test_matrix[] = {
    { "patient-safety",    "single",   "critical" },
    { "patient-safety",    "multiple", "critical" },
    { "patient-safety",    "all",      "critical" },
    { "job-stopped",       "single",   "high" },
    { "job-stopped",       "multiple", "urgent" },
    { "job-stopped",       "all",      "urgent" },
    { "function-affected", "single",   "high" },
    { "function-affected", "multiple", "high" },
    { "function-affected", "all",      "urgent" },
    { "not-blocking",      "single",   "normal" },
    { "not-blocking",      "multiple", "normal" },
    { "not-blocking",      "all",      "normal" },
};
#define SD_TEST_NCELLS (sizeof(sd_test_matrix) / sizeof(sd_test_matrix[0]))

#endif /* SD_TEST_MATRIX_H */
