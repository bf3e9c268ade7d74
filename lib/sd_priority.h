/* The urgency x impact priority matrix (DESIGN.md "Priority and SLA").
 * Pure: no I/O. The default is the health-information-system matrix; the
 * glue overrides cells from SdeskPriorityRule directives. */
#ifndef SD_PRIORITY_H
#define SD_PRIORITY_H

#include "sd.h"

typedef struct {
    signed char cell[SD_URG_COUNT][SD_IMPACT_COUNT];  /* sd_priority_e, or -1 unset */
} sd_matrix_t;

void sd_priority_matrix_default(sd_matrix_t *m);
/* Every cell -1 (unset), for configuration that only overrides some cells. */
void sd_priority_matrix_unset(sd_matrix_t *m);
/* Cells of add that are set win over base. */
void sd_priority_matrix_merge(sd_matrix_t *out, const sd_matrix_t *base, const sd_matrix_t *add);
/* Priority for urgency x impact; -1 for out-of-range input. */
int sd_priority_of(const sd_matrix_t *m, int urgency, int impact);

#endif /* SD_PRIORITY_H */
