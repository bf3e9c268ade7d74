/* Business-hours calendar and SLA arithmetic. See sd_sla.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <apr_file_info.h>

#include "sd_sla.h"

#define DAY 86400
#define MAX_DAYS 3700            /* walk at most ten years for one due time */

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

/* Howard Hinnant's civil calendar algorithms (proleptic Gregorian). */
apr_int64_t sd_sla_days_from_civil(int y, int m, int d)
{
    apr_int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void sd_sla_civil_from_days(apr_int64_t z, int *py, int *pm, int *pd)
{
    apr_int64_t era, doe, yoe, y, doy, mp, d, m;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp + (mp < 10 ? 3 : -9);
    *py = (int)(y + (m <= 2));
    *pm = (int)m;
    *pd = (int)d;
}

static apr_int64_t floor_div(apr_int64_t a, apr_int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

void sd_sla_calendar_default(sd_calendar_t *cal, apr_pool_t *p)
{
    int wd;
    memset(cal, 0, sizeof(*cal));
    for (wd = 1; wd <= 5; ++wd) {
        cal->nranges[wd] = 1;
        cal->range_start[wd][0] = 8 * 60;
        cal->range_end[wd][0] = 16 * 60;
    }
    cal->holidays = apr_array_make(p, 4, sizeof(apr_int64_t));
    cal->zone_name = "UTC";
}

int sd_sla_offset(const sd_calendar_t *cal, apr_int64_t t)
{
    const sd_sla_zone_t *z = cal->zone;
    int lo = 0, hi;
    if (!z || z->n == 0) return cal->fixed_offset;
    if (t < z->at[0]) return z->off[0];
    hi = z->n - 1;
    while (lo < hi) {                       /* last transition <= t */
        int mid = (lo + hi + 1) / 2;
        if (z->at[mid] <= t) lo = mid;
        else hi = mid - 1;
    }
    return z->off[lo];
}

/* UTC second of a local wall-clock second (local = days*DAY + secs). In a
 * DST gap the time after the gap; in an overlap the first occurrence. */
static apr_int64_t utc_of_local(const sd_calendar_t *cal, apr_int64_t local)
{
    apr_int64_t u = local - sd_sla_offset(cal, local);
    u = local - sd_sla_offset(cal, u);
    return u;
}

static int is_holiday(const sd_calendar_t *cal, apr_int64_t day)
{
    const apr_int64_t *h = (const apr_int64_t *)cal->holidays->elts;
    int lo = 0, hi = cal->holidays->nelts - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (h[mid] == day) return 1;
        if (h[mid] < day) lo = mid + 1;
        else hi = mid - 1;
    }
    return 0;
}

static int weekday(apr_int64_t day)
{
    return (int)((floor_div(day, 7) * -7 + day + 4) % 7);   /* 1970-01-01 was a Thursday */
}

/* Walk business intervals from t on; with to > 0 sum the time up to `to`,
 * else stop once `want` seconds are consumed. */
static apr_int64_t walk(const sd_calendar_t *cal, apr_int64_t t, apr_int64_t want,
                        apr_int64_t to, apr_int64_t *sum)
{
    apr_int64_t day = floor_div(t + sd_sla_offset(cal, t), DAY), n;
    int i;
    *sum = 0;
    for (n = 0; n < MAX_DAYS; ++n, ++day) {
        int wd = weekday(day);
        if (cal->nranges[wd] == 0 || is_holiday(cal, day)) continue;
        for (i = 0; i < cal->nranges[wd]; ++i) {
            apr_int64_t a = utc_of_local(cal, day * DAY + cal->range_start[wd][i] * 60);
            apr_int64_t b = utc_of_local(cal, day * DAY + cal->range_end[wd][i] * 60);
            apr_int64_t s = a > t ? a : t, avail;
            if (b <= s) continue;
            if (to > 0) {
                if (s >= to) return 0;
                *sum += (b < to ? b : to) - s;
                continue;
            }
            avail = b - s;
            if (want <= avail) return s + want;
            want -= avail;
        }
    }
    return -1;                                /* no business hours at all */
}

apr_int64_t sd_sla_add(const sd_calendar_t *cal, apr_int64_t start, apr_int64_t seconds,
                       int round_the_clock)
{
    apr_int64_t sum, due;
    if (seconds <= 0) return start;
    if (round_the_clock) return start + seconds;
    due = walk(cal, start, seconds, 0, &sum);
    return due < 0 ? start + seconds : due;   /* an empty week: fall back to wall time */
}

apr_int64_t sd_sla_between(const sd_calendar_t *cal, apr_int64_t from, apr_int64_t to,
                           int round_the_clock)
{
    apr_int64_t sum = 0;
    if (to <= from) return 0;
    if (round_the_clock) return to - from;
    walk(cal, from, 0, to, &sum);
    return sum;
}

apr_int64_t sd_sla_parse_duration(const char *s)
{
    apr_int64_t total = 0, n;
    int any = 0;
    if (!s || !*s) return -1;
    if (!strcasecmp(s, "none")) return 0;
    while (*s) {
        if (!apr_isdigit(*s)) return -1;
        for (n = 0; apr_isdigit(*s); ++s) {
            n = n * 10 + (*s - '0');
            if (n > 100000000) return -1;
        }
        switch (*s) {
        case 'd': total += n * DAY; ++s; break;
        case 'h': total += n * 3600; ++s; break;
        case 'm': total += n * 60; ++s; break;
        case 's': total += n; ++s; break;       /* for tests and drills */
        case '\0':
            if (any) return -1;             /* "1h30" is ambiguous */
            total += n * 60;
            break;
        default: return -1;
        }
        any = 1;
    }
    return total;
}

static int parse_hhmm(const char *s, apr_size_t len, int *minutes)
{
    int h, m;
    if (len != 5 || !apr_isdigit(s[0]) || !apr_isdigit(s[1]) || s[2] != ':'
        || !apr_isdigit(s[3]) || !apr_isdigit(s[4]))
        return 0;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return 0;
    *minutes = h * 60 + m;
    return 1;
}

static int day_index(const char *s, apr_size_t len)
{
    int i;
    if (len != 3) return -1;
    for (i = 0; i < 7; ++i)
        if (!strncasecmp(s, day_names[i], 3)) return i;
    return -1;
}

/* "Mon-Fri" or "Mon,Wed,Sat-Sun" -> bit set of weekdays */
static int parse_days(const char *s, int *mask)
{
    *mask = 0;
    while (*s) {
        const char *e = s;
        int a, b;
        while (*e && *e != ',') ++e;
        if (e - s == 7 && s[3] == '-') {
            a = day_index(s, 3);
            b = day_index(s + 4, 3);
        }
        else {
            a = b = day_index(s, (apr_size_t)(e - s));
        }
        if (a < 0 || b < 0) return 0;
        /* Mon-Fri, and wrapping ranges such as Sat-Mon */
        for (;;) {
            *mask |= 1 << a;
            if (a == b) break;
            a = (a + 1) % 7;
        }
        s = *e ? e + 1 : e;
    }
    return *mask != 0;
}

apr_status_t sd_sla_parse_hours(sd_calendar_t *cal, const char *spec, int replace,
                                const char **why, apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, spec), *tok, *save = NULL;
    int mask = 0, ranges = 0, wd;
    int rs[SD_SLA_MAX_RANGES], re[SD_SLA_MAX_RANGES];

    for (tok = apr_strtok(copy, " \t", &save); tok; tok = apr_strtok(NULL, " \t", &save)) {
        const char *dash = strchr(tok, '-');
        if (!mask) {
            if (!parse_days(tok, &mask)) {
                *why = apr_psprintf(p, "'%s' is not a day or day range such as Mon-Fri", tok);
                return APR_EINVAL;
            }
            continue;
        }
        if (!dash || ranges >= SD_SLA_MAX_RANGES
            || !parse_hhmm(tok, (apr_size_t)(dash - tok), &rs[ranges])
            || !parse_hhmm(dash + 1, strlen(dash + 1), &re[ranges])
            || re[ranges] <= rs[ranges]
            || (ranges && rs[ranges] < re[ranges - 1])) {
            *why = apr_psprintf(p, "'%s' is not a time range such as 08:00-16:00 (at most "
                                "%d ascending ranges per line)", tok, SD_SLA_MAX_RANGES);
            return APR_EINVAL;
        }
        ++ranges;
    }
    if (!mask || !ranges) {
        *why = "expected days and at least one time range, e.g. 'Mon-Fri 08:00-16:00'";
        return APR_EINVAL;
    }
    if (replace) memset(cal->nranges, 0, sizeof(cal->nranges));
    for (wd = 0; wd < 7; ++wd) {
        int i;
        if (!(mask & (1 << wd))) continue;
        if (cal->nranges[wd] + ranges > SD_SLA_MAX_RANGES) {
            *why = apr_psprintf(p, "more than %d time ranges for %s", SD_SLA_MAX_RANGES,
                                day_names[wd]);
            return APR_EINVAL;
        }
        for (i = 0; i < ranges; ++i) {
            int n = cal->nranges[wd]++, j;
            cal->range_start[wd][n] = rs[i];
            cal->range_end[wd][n] = re[i];
            /* keep the day's ranges sorted and check they do not overlap */
            for (j = n; j > 0 && cal->range_start[wd][j] < cal->range_start[wd][j - 1]; --j) {
                int ts = cal->range_start[wd][j], te = cal->range_end[wd][j];
                cal->range_start[wd][j] = cal->range_start[wd][j - 1];
                cal->range_end[wd][j] = cal->range_end[wd][j - 1];
                cal->range_start[wd][j - 1] = ts;
                cal->range_end[wd][j - 1] = te;
            }
        }
        for (i = 1; i < cal->nranges[wd]; ++i) {
            if (cal->range_start[wd][i] < cal->range_end[wd][i - 1]) {
                *why = apr_psprintf(p, "time ranges overlap on %s", day_names[wd]);
                return APR_EINVAL;
            }
        }
    }
    return APR_SUCCESS;
}

apr_status_t sd_sla_add_holiday(sd_calendar_t *cal, const char *date, const char **why,
                                apr_pool_t *p)
{
    int y, m, d, i, mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    apr_int64_t day, *h;
    (void)p;
    if (strlen(date) != 10 || date[4] != '-' || date[7] != '-') goto bad;
    for (i = 0; i < 10; ++i)
        if (i != 4 && i != 7 && !apr_isdigit(date[i])) goto bad;
    y = atoi(date);
    m = atoi(date + 5);
    d = atoi(date + 8);
    if (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) mdays[1] = 29;
    if (y < 1970 || y > 2999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) goto bad;
    day = sd_sla_days_from_civil(y, m, d);
    APR_ARRAY_PUSH(cal->holidays, apr_int64_t) = day;
    h = (apr_int64_t *)cal->holidays->elts;
    for (i = cal->holidays->nelts - 1; i > 0 && h[i] < h[i - 1]; --i) {
        apr_int64_t tmp = h[i];
        h[i] = h[i - 1];
        h[i - 1] = tmp;
    }
    return APR_SUCCESS;
bad:
    *why = apr_psprintf(p, "'%s' is not a date YYYY-MM-DD", date);
    return APR_EINVAL;
}

static int parse_offset(const char *s, int *off)
{
    int h, m;
    if (strlen(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':'
        || !apr_isdigit(s[1]) || !apr_isdigit(s[2]) || !apr_isdigit(s[4]) || !apr_isdigit(s[5]))
        return 0;
    h = (s[1] - '0') * 10 + (s[2] - '0');
    m = (s[4] - '0') * 10 + (s[5] - '0');
    if (h > 14 || m > 59) return 0;
    *off = (h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1);
    return 1;
}

static long gmtoff_at(time_t t)
{
    struct tm tm;
    if (!localtime_r(&t, &tm)) return 0;
    return tm.tm_gmtoff;
}

apr_status_t sd_sla_set_zone(sd_calendar_t *cal, const char *name, const char **why,
                             apr_pool_t *p)
{
    const char *s, *old_tz;
    char *saved = NULL;
    apr_finfo_t fi;
    apr_array_header_t *at, *off;
    sd_sla_zone_t *z;
    time_t t, end;
    long cur;

    if (!strcasecmp(name, "UTC") || !strcmp(name, "Z")) {
        cal->zone = NULL;
        cal->fixed_offset = 0;
        cal->zone_name = "UTC";
        return APR_SUCCESS;
    }
    if (name[0] == '+' || name[0] == '-') {
        if (!parse_offset(name, &cal->fixed_offset)) {
            *why = apr_psprintf(p, "'%s' is not an offset such as +03:00", name);
            return APR_EINVAL;
        }
        cal->zone = NULL;
        cal->zone_name = apr_pstrdup(p, name);
        return APR_SUCCESS;
    }
    for (s = name; *s; ++s) {
        if (!apr_isalnum(*s) && !strchr("/_-+", *s)) break;
    }
    if (*s || strstr(name, "..") || name[0] == '/'
        || apr_stat(&fi, apr_pstrcat(p, "/usr/share/zoneinfo/", name, NULL), APR_FINFO_TYPE, p)
               != APR_SUCCESS
        || fi.filetype != APR_REG) {
        *why = apr_psprintf(p, "'%s' is not UTC, an offset such as +03:00, or a zone of the "
                            "system database such as Europe/Berlin", name);
        return APR_EINVAL;
    }
    /* Sample the zone through the C library: once a day, bisecting each
     * change to the second. Runs at config time, single-threaded. */
    old_tz = getenv("TZ");
    if (old_tz) saved = apr_pstrdup(p, old_tz);
    setenv("TZ", name, 1);
    tzset();
    at = apr_array_make(p, 64, sizeof(apr_int64_t));
    off = apr_array_make(p, 64, sizeof(int));
    t = 0;
    end = (time_t)sd_sla_days_from_civil(2100, 1, 1) * DAY;
    cur = gmtoff_at(t);
    APR_ARRAY_PUSH(at, apr_int64_t) = 0;
    APR_ARRAY_PUSH(off, int) = (int)cur;
    for (; t < end; t += DAY) {
        long next = gmtoff_at(t + DAY);
        if (next != cur) {
            time_t lo = t, hi = t + DAY;      /* offset(lo) == cur, offset(hi) == next */
            while (hi - lo > 1) {
                time_t mid = lo + (hi - lo) / 2;
                if (gmtoff_at(mid) == cur) lo = mid;
                else hi = mid;
            }
            APR_ARRAY_PUSH(at, apr_int64_t) = (apr_int64_t)hi;
            APR_ARRAY_PUSH(off, int) = (int)next;
            cur = next;
        }
    }
    if (saved) setenv("TZ", saved, 1);
    else unsetenv("TZ");
    tzset();
    z = apr_pcalloc(p, sizeof(*z));
    z->n = at->nelts;
    z->at = (apr_int64_t *)at->elts;
    z->off = (int *)off->elts;
    cal->zone = z;
    cal->zone_name = apr_pstrdup(p, name);
    return APR_SUCCESS;
}
