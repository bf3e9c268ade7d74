/* libFuzzer target for the SLA calendar and time parsing: lib/sd_sla.c
 * (SdeskBusinessHours, SdeskHoliday, SdeskTimeZone, the durations of
 * SdeskResponseTarget / SdeskResolutionTarget) and lib/sd_time.c (RFC 3339
 * parsing and printing), then the business-time arithmetic on the calendar
 * the input built.
 *
 * Input: lines. A line's first byte says what the rest is:
 *   'H' business hours ("Mon-Fri 08:00-16:00"), 'h' the same replacing the week
 *   'D' a holiday ("2026-12-25")
 *   'Z' a time zone ("Europe/Berlin", "+03:00", "UTC")
 *   'T' a duration ("1h30m", "90", "none")
 *   'R' an RFC 3339 time
 *   'A' a probe: "<start> <seconds>" as decimal numbers
 * Everything else is ignored. Time zones are sampled once per name and kept
 * (sampling 130 years takes a while; a rejected name costs one stat).
 *
 * Checks: parsers answer success or APR_EINVAL with a reason (durations -1
 * or >= 0), no sanitizer report; a time that parses prints and parses back;
 * on the calendar, for every probe: add() never goes back in time, is
 * monotonic in the amount, round the clock is plain addition, between() of
 * an interval is never more than its length, and between(start, add(start,
 * s)) == s whenever add() found business hours (did not fall back to wall
 * time). Days with no hours at all, holidays everywhere, DST gaps and
 * overlaps included. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "sd_sla.h"
#include "sd_time.h"
#include "sd_fuzz.h"

/* 1970-01-01 .. 2100-01-01: what a ticket's clock can see. */
#define T_MIN 0
#define T_MAX ((apr_int64_t)4102444800)
#define MAX_PROBES 8

static apr_pool_t *root;
static apr_pool_t *zpool;      /* the cache below; dropped when it holds MAX_ZONES */
static apr_hash_t *zones;      /* name -> sd_calendar_t holding the sampled zone */
#define MAX_ZONES 2000         /* "Europe//Berlin" and friends are all valid names */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    root = sd_fuzz_start();
    apr_pool_create(&zpool, root);
    zones = apr_hash_make(zpool);
    return 0;
}

static void set_zone(sd_calendar_t *cal, const char *name, apr_pool_t *p)
{
    const sd_calendar_t *cached = apr_hash_get(zones, name, APR_HASH_KEY_STRING);
    const char *why = NULL;
    sd_calendar_t tmp;
    apr_status_t rv;
    apr_pool_t *zp;

    if (cached) {
        cal->zone = cached->zone;
        cal->fixed_offset = cached->fixed_offset;
        cal->zone_name = cached->zone_name;
        return;
    }
    sd_sla_calendar_default(&tmp, p);
    /* A named zone goes to the cache with the pool of its sampling; anything
     * else (a refused name, an offset) leaves nothing behind in the cache. */
    apr_pool_create(&zp, zpool);
    rv = sd_sla_set_zone(&tmp, name, &why, zp);
    CHECK(rv == APR_SUCCESS || (rv == APR_EINVAL && why));
    if (rv != APR_SUCCESS || !tmp.zone) {
        why = why ? apr_pstrdup(p, why) : NULL;
        tmp.zone_name = tmp.zone_name ? apr_pstrdup(p, tmp.zone_name) : NULL;
        apr_pool_destroy(zp);
    }
    if (rv != APR_SUCCESS) return;
    if (tmp.zone) {
        int i;
        sd_calendar_t *keep = apr_pmemdup(zp, &tmp, sizeof(tmp));
        CHECK(tmp.zone->n >= 1);
        for (i = 0; i < tmp.zone->n; ++i) {
            CHECK(tmp.zone->off[i] > -86400 && tmp.zone->off[i] < 86400);
            CHECK(i == 0 || tmp.zone->at[i] > tmp.zone->at[i - 1]);
        }
        apr_hash_set(zones, apr_pstrdup(zp, name), APR_HASH_KEY_STRING, keep);
    }
    else {
        CHECK(tmp.fixed_offset >= -14 * 3600 - 59 * 60 && tmp.fixed_offset <= 14 * 3600 + 59 * 60);
    }
    cal->zone = tmp.zone;
    cal->fixed_offset = tmp.fixed_offset;
    cal->zone_name = tmp.zone_name;
}

static void check_time(const char *s, apr_pool_t *p)
{
    apr_time_t t, back;
    const char *out;
    if (sd_time_parse(&t, s) != APR_SUCCESS) return;
    out = sd_time_rfc3339(t, p);
    if (!out) return;
    CHECK(sd_time_parse(&back, out) == APR_SUCCESS);
    CHECK(back <= t && t - back < APR_USEC_PER_SEC);
}

static apr_int64_t clamp(apr_int64_t v, apr_int64_t lo, apr_int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void probe(const sd_calendar_t *cal, apr_int64_t start, apr_int64_t secs)
{
    apr_int64_t due, due2, b, rtc;

    start = clamp(start, T_MIN, T_MAX);
    secs = clamp(secs, 0, 400 * 3600);      /* the longest default target is 80 h */
    rtc = sd_sla_add(cal, start, secs, 1);
    CHECK(rtc == start + secs);
    CHECK(sd_sla_between(cal, start, rtc, 1) == secs);
    due = sd_sla_add(cal, start, secs, 0);
    CHECK(due >= start);
    b = sd_sla_between(cal, start, due, 0);
    CHECK(b >= 0 && b <= due - start);
    if (secs > 0 && due != start + secs) CHECK(b == secs);
    due2 = sd_sla_add(cal, start, secs + 60, 0);
    CHECK(due2 >= due);
    CHECK(sd_sla_between(cal, due, start, 0) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    sd_calendar_t cal;
    const char *why;
    char *text, *line, *save = NULL;
    int replace = 1, probes = 0;
    apr_int64_t starts[MAX_PROBES], amounts[MAX_PROBES];
    int i;

    if (apr_hash_count(zones) >= MAX_ZONES) {   /* only between inputs */
        apr_pool_clear(zpool);
        zones = apr_hash_make(zpool);
    }
    apr_pool_create(&p, root);
    sd_sla_calendar_default(&cal, p);
    text = apr_pstrmemdup(p, (const char *)data, size);
    for (line = apr_strtok(text, "\n", &save); line; line = apr_strtok(NULL, "\n", &save)) {
        const char *arg = line + 1;
        apr_status_t rv;
        why = NULL;
        switch (line[0]) {
        case 'h':
            replace = 1;
            /* fall through */
        case 'H': {
            /* a refused line fails the configuration: what it did to the
             * calendar before it was refused does not count */
            sd_calendar_t before = cal;
            rv = sd_sla_parse_hours(&cal, arg, replace, &why, p);
            CHECK(rv == APR_SUCCESS || (rv == APR_EINVAL && why));
            if (rv == APR_SUCCESS) replace = 0;
            else cal = before;
            break;
        }
        case 'D':
            rv = sd_sla_add_holiday(&cal, arg, &why, p);
            CHECK(rv == APR_SUCCESS || (rv == APR_EINVAL && why));
            break;
        case 'Z':
            set_zone(&cal, arg, p);
            break;
        case 'T': {
            apr_int64_t d = sd_sla_parse_duration(arg);
            CHECK(d >= -1);
            break;
        }
        case 'R':
            check_time(arg, p);
            break;
        case 'A':
            if (probes < MAX_PROBES) {
                char *end;
                starts[probes] = (apr_int64_t)apr_strtoi64(arg, &end, 10);
                amounts[probes] = (apr_int64_t)apr_strtoi64(end, NULL, 10);
                probes++;
            }
            break;
        default:
            break;
        }
    }
    /* The calendar as built: ranges sorted, inside the day, not overlapping. */
    for (i = 0; i < 7; ++i) {
        int j;
        CHECK(cal.nranges[i] >= 0 && cal.nranges[i] <= SD_SLA_MAX_RANGES);
        for (j = 0; j < cal.nranges[i]; ++j) {
            CHECK(cal.range_start[i][j] >= 0 && cal.range_end[i][j] <= 24 * 60);
            CHECK(cal.range_start[i][j] < cal.range_end[i][j]);
            CHECK(j == 0 || cal.range_start[i][j] >= cal.range_end[i][j - 1]);
        }
    }
    if (!probes) {
        starts[probes] = 1795424400;    /* a Monday 09:00Z */
        amounts[probes++] = 8 * 3600;
    }
    for (i = 0; i < probes; ++i) probe(&cal, starts[i], amounts[i]);
    apr_pool_destroy(p);
    return 0;
}
