/* The urgency x impact matrix. Pure: the glue builds matrices from
 * SdeskPriorityRule directives with _unset and _merge, and looks priorities up
 * with sd_priority_of. */
#include <string.h>

#include "sd_priority.h"

/* DESIGN.md "Priority and SLA": the health-information-system default. */
static const signed char default_cells[SD_URG_COUNT][SD_IMPACT_COUNT] = {
    /*                         single            multiple          all */
    [SD_URG_PATIENT_SAFETY]    = { SD_PRIO_CRITICAL, SD_PRIO_CRITICAL, SD_PRIO_CRITICAL },
    [SD_URG_JOB_STOPPED]       = { SD_PRIO_HIGH,     SD_PRIO_URGENT,   SD_PRIO_URGENT },
    [SD_URG_FUNCTION_AFFECTED] = { SD_PRIO_HIGH,     SD_PRIO_HIGH,     SD_PRIO_URGENT },
    [SD_URG_NOT_BLOCKING]      = { SD_PRIO_NORMAL,   SD_PRIO_NORMAL,   SD_PRIO_NORMAL },
};

void sd_priority_matrix_default(sd_matrix_t *m)
{
    memcpy(m->cell, default_cells, sizeof(m->cell));
}

void sd_priority_matrix_unset(sd_matrix_t *m)
{
    int u, i;
    for (u = 0; u < SD_URG_COUNT; u++) {
        for (i = 0; i < SD_IMPACT_COUNT; i++) m->cell[u][i] = -1;
    }
}

void sd_priority_matrix_merge(sd_matrix_t *out, const sd_matrix_t *base, const sd_matrix_t *add)
{
    sd_matrix_t r;   /* out may be base or add (merge in place) */
    int u, i;
    for (u = 0; u < SD_URG_COUNT; u++) {
        for (i = 0; i < SD_IMPACT_COUNT; i++) {
            r.cell[u][i] = (add->cell[u][i] >= 0) ? add->cell[u][i] : base->cell[u][i];
        }
    }
    *out = r;
}

int sd_priority_of(const sd_matrix_t *m, int urgency, int impact)
{
    int v;
    if (urgency < 0 || urgency >= SD_URG_COUNT || impact < 0 || impact >= SD_IMPACT_COUNT) {
        return -1;
    }
    v = m ? m->cell[urgency][impact] : default_cells[urgency][impact];
    /* An unset cell, or garbage in one, is "no priority", never an index
     * past the vocabulary. */
    return (v >= 0 && v < SD_PRIO_COUNT) ? v : -1;
}
