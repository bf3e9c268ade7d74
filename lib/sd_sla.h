/* SLA clocks: a business-hours calendar (weekly hours, holidays, a time zone
 * or fixed UTC offset), adding and measuring business time, and the targets
 * per tier and priority. Pure: no I/O, except sd_sla_zone_load, which reads
 * the system's time-zone database and must run single-threaded (config time).
 *
 * Times are Unix seconds (UTC). Wall-clock hours are interpreted in the
 * calendar's zone, DST included. */
#ifndef SD_SLA_H
#define SD_SLA_H

#include "sd.h"

#define SD_SLA_MAX_RANGES 4      /* opening ranges per weekday */

typedef struct {
    int n;                       /* transitions */
    apr_int64_t *at;             /* UTC second the offset starts */
    int *off;                    /* seconds east of UTC from then on */
} sd_sla_zone_t;

typedef struct {
    /* weekday 0 = Sunday .. 6 = Saturday; minutes after local midnight */
    int nranges[7];
    int range_start[7][SD_SLA_MAX_RANGES];
    int range_end[7][SD_SLA_MAX_RANGES];
    apr_array_header_t *holidays;   /* apr_int64_t local day numbers, sorted */
    const sd_sla_zone_t *zone;      /* NULL: fixed_offset */
    int fixed_offset;               /* seconds east of UTC */
    const char *zone_name;          /* for /meta: "UTC", "+03:00", "Europe/Moscow" */
} sd_calendar_t;

/* Mon-Fri 08:00-16:00, no holidays, UTC. */
void sd_sla_calendar_default(sd_calendar_t *cal, apr_pool_t *p);

/* "Mon-Fri 08:00-16:00", "Sat 09:00-12:00", "Mon,Wed 07:30-12:00 13:00-17:00".
 * Days: Mon Tue Wed Thu Fri Sat Sun, ranges and lists; times HH:MM, end after
 * start, 24:00 allowed as an end. The first call for a calendar replaces the
 * default week (pass replace=1), later calls add. APR_EINVAL with *why. */
apr_status_t sd_sla_parse_hours(sd_calendar_t *cal, const char *spec, int replace,
                                const char **why, apr_pool_t *p);
/* "YYYY-MM-DD" (a local date): add a holiday. */
apr_status_t sd_sla_add_holiday(sd_calendar_t *cal, const char *date, const char **why,
                                apr_pool_t *p);
/* "UTC", "+03:00", "-05:30", or a zone name of the system database
 * ("Europe/Berlin"). Named zones: offsets sampled for 1970..2100. */
apr_status_t sd_sla_set_zone(sd_calendar_t *cal, const char *name, const char **why,
                             apr_pool_t *p);

/* Seconds east of UTC in force at t. */
int sd_sla_offset(const sd_calendar_t *cal, apr_int64_t t);

/* The time `seconds` of business time after start (round_the_clock: plain
 * addition). A start outside hours begins at the next opening. */
apr_int64_t sd_sla_add(const sd_calendar_t *cal, apr_int64_t start, apr_int64_t seconds,
                       int round_the_clock);
/* Business seconds in [from, to) (0 if to <= from). */
apr_int64_t sd_sla_between(const sd_calendar_t *cal, apr_int64_t from, apr_int64_t to,
                           int round_the_clock);

/* "30m", "4h", "1h30m", "2d" (24 h days), "45s", "90" (minutes), "none" (0).
 * -1 when malformed. */
apr_int64_t sd_sla_parse_duration(const char *s);

/* Local day number (days since 1970-01-01) of y-m-d, and back. */
apr_int64_t sd_sla_days_from_civil(int y, int m, int d);
void sd_sla_civil_from_days(apr_int64_t days, int *y, int *m, int *d);

#endif /* SD_SLA_H */
