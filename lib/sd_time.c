/* RFC 3339 at the JSON edge. Formatting goes through apr_time_exp_gmt.
 * Parsing computes the day number itself: apr_time_exp_gmt_get refuses
 * anything before 1970 (APR_EBADDATE) and its leap-year arithmetic assumes
 * years after 1900, while a strict parser should treat every valid date the
 * same. Both sides use the proleptic Gregorian calendar, so they agree. */
#include <string.h>

#include <apr_strings.h>

#include "sd_time.h"

#define SEC_PER_DAY 86400

/* Fractions beyond nanoseconds carry nothing we keep (apr_time_t has
 * microseconds); refusing them keeps the input bounded. */
#define MAX_FRAC_DIGITS 9

const char *sd_time_rfc3339(apr_time_t t, apr_pool_t *p)
{
    apr_time_exp_t tm;
    apr_time_t sec = t / APR_USEC_PER_SEC;

    /* Drop the sub-second part towards the past, as a clock does: half a
     * second before the epoch is 23:59:59 on the day before, not 00:00:00. */
    if (t % APR_USEC_PER_SEC < 0) sec--;
    if (apr_time_exp_gmt(&tm, sec * APR_USEC_PER_SEC) != APR_SUCCESS) return NULL;
    /* RFC 3339 has four-digit years only. */
    if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) return NULL;
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Exactly n ASCII digits (isdigit() would depend on the locale). */
static int digits(const char *s, int n, int *out)
{
    int i, v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return (m == 2 && is_leap(y)) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of a valid y-m-d (H. Hinnant, "chrono-Compatible
 * Low-Level Date Algorithms"): exact for every year, no table, no time_t. */
static apr_int64_t days_from_civil(int y, int m, int d)
{
    apr_int64_t era, yoe, doy, doe;
    if (m <= 2) y--;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

apr_status_t sd_time_parse(apr_time_t *t, const char *s)
{
    int year, mon, day, hour = 0, min = 0, sec = 0, oh = 0, om = 0, sign = 0, v, nd;
    apr_int64_t usec = 0, scale = 100000, secs;
    const char *c;

    if (!s) return SD_EMALFORMED;
    /* YYYY-MM-DD */
    if (!digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &mon) || s[7] != '-'
        || !digits(s + 8, 2, &day)) {
        return SD_EMALFORMED;
    }
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon)) return SD_EMALFORMED;
    c = s + 10;
    if (*c == '\0') goto done;    /* a date alone: midnight UTC */

    /* THH:MM:SS; RFC 3339 5.6 allows a lower-case t and z. */
    if ((*c != 'T' && *c != 't') || !digits(c + 1, 2, &hour) || c[3] != ':'
        || !digits(c + 4, 2, &min) || c[6] != ':' || !digits(c + 7, 2, &sec)) {
        return SD_EMALFORMED;
    }
    /* 24:00:00 and leap seconds (:60) are refused: apr_time_t has no
     * representation for the latter, and the former is another day's 00:00. */
    if (hour > 23 || min > 59 || sec > 59) return SD_EMALFORMED;
    c += 9;

    if (*c == '.') {
        for (c++, nd = 0; *c >= '0' && *c <= '9'; c++, nd++) {
            if (nd >= MAX_FRAC_DIGITS) return SD_EMALFORMED;
            usec += (*c - '0') * scale;   /* digits past microseconds add 0 */
            scale /= 10;
        }
        if (nd == 0) return SD_EMALFORMED;
    }

    if (*c == 'Z' || *c == 'z') {
        c++;
    }
    else if (*c == '+' || *c == '-') {
        sign = (*c == '+') ? 1 : -1;
        if (!digits(c + 1, 2, &oh) || c[3] != ':' || !digits(c + 4, 2, &om)) return SD_EMALFORMED;
        if (oh > 23 || om > 59) return SD_EMALFORMED;
        c += 6;
    }
    else {
        return SD_EMALFORMED;     /* a local time without an offset means nothing here */
    }
    if (*c != '\0') return SD_EMALFORMED;

done:
    secs = days_from_civil(year, mon, day) * SEC_PER_DAY + hour * 3600 + min * 60 + sec;
    /* 10:15+01:00 is 09:15Z: subtract the offset. */
    v = (oh * 60 + om) * 60;
    secs -= (apr_int64_t)sign * v;
    *t = secs * APR_USEC_PER_SEC + usec;
    return APR_SUCCESS;
}
