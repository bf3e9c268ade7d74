/* The business-hours clock: due times written out for weekends, holidays,
 * targets over several days, tickets opened outside hours, pauses, tier and
 * priority changes, month and year boundaries, and a zone that changes to
 * daylight saving time. 2026-11-20 is a Friday. */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>

#include "sd_test.h"
#include "sd_sla.h"
#include "sd_ticket.h"
#include "sd_time.h"

static apr_int64_t at(const char *rfc3339)
{
    apr_time_t t;
    if (sd_time_parse(&t, rfc3339) != APR_SUCCESS) fail_msg("bad time in test: %s", rfc3339);
    return (apr_int64_t)apr_time_sec(t);
}

static const char *fmt(apr_int64_t t, apr_pool_t *p)
{
    return sd_time_rfc3339(sd_time_from_sec(t), p);
}

static void test_add_table(void **state)
{
    static const struct {
        const char *name, *start, *target, *want;
    } cases[] = {
        { "inside hours, same day",        "2026-11-18T09:00:00Z", "1h",  "2026-11-18T10:00:00Z" },
        { "ends exactly at closing",       "2026-11-18T15:00:00Z", "1h",  "2026-11-18T16:00:00Z" },
        { "crosses the night",             "2026-11-18T15:30:00Z", "1h",  "2026-11-19T08:30:00Z" },
        { "Friday afternoon to Monday",    "2026-11-20T15:30:00Z", "1h",  "2026-11-23T08:30:00Z" },
        { "opened Saturday",               "2026-11-21T11:00:00Z", "30m", "2026-11-23T08:30:00Z" },
        { "opened Sunday night",           "2026-11-22T23:59:00Z", "4h",  "2026-11-23T12:00:00Z" },
        { "opened before opening",         "2026-11-18T06:00:00Z", "1h",  "2026-11-18T09:00:00Z" },
        { "opened after closing",          "2026-11-18T17:00:00Z", "1h",  "2026-11-19T09:00:00Z" },
        { "16 h = two working days",       "2026-11-18T08:00:00Z", "16h", "2026-11-19T16:00:00Z" },
        { "40 h = a working week",         "2026-11-20T15:30:00Z", "40h", "2026-11-27T15:30:00Z" },
        { "80 h = two weeks",              "2026-11-16T08:00:00Z", "80h", "2026-11-27T16:00:00Z" },
        { "month boundary",                "2026-11-30T15:00:00Z", "2h",  "2026-12-01T09:00:00Z" },
        { "year boundary (Thu to Fri)",    "2026-12-31T15:00:00Z", "2h",  "2027-01-01T09:00:00Z" },
        { "leap day 2028",                 "2028-02-28T15:00:00Z", "2h",  "2028-02-29T09:00:00Z" },
    };
    apr_pool_t *p = *state;
    sd_calendar_t cal;
    apr_size_t i;

    sd_sla_calendar_default(&cal, p);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got = fmt(sd_sla_add(&cal, at(cases[i].start),
                                         sd_sla_parse_duration(cases[i].target), 0), p);
        if (strcmp(got, cases[i].want))
            fail_msg("%s: want %s, got %s", cases[i].name, cases[i].want, got);
    }
}

static void test_round_the_clock(void **state)
{
    apr_pool_t *p = *state;
    sd_calendar_t cal;
    sd_sla_calendar_default(&cal, p);
    assert_string_equal("2026-11-21T00:00:00Z",
                        fmt(sd_sla_add(&cal, at("2026-11-20T23:30:00Z"), 1800, 1), p));
    assert_int_equal(86400, sd_sla_between(&cal, at("2026-11-21T00:00:00Z"),
                                           at("2026-11-22T00:00:00Z"), 1));
}

static void test_holidays(void **state)
{
    apr_pool_t *p = *state;
    sd_calendar_t cal;
    const char *why = NULL;

    sd_sla_calendar_default(&cal, p);
    assert_int_equal(APR_SUCCESS, sd_sla_add_holiday(&cal, "2026-12-25", &why, p));
    assert_int_equal(APR_SUCCESS, sd_sla_add_holiday(&cal, "2026-12-24", &why, p));
    /* Wednesday 23rd 15:00 + 2 h: 1 h Wednesday, Thu 24 and Fri 25 off, Mon 28 */
    assert_string_equal("2026-12-28T09:00:00Z",
                        fmt(sd_sla_add(&cal, at("2026-12-23T15:00:00Z"), 7200, 0), p));
    /* a round-the-clock target ignores holidays */
    assert_string_equal("2026-12-23T17:00:00Z",
                        fmt(sd_sla_add(&cal, at("2026-12-23T15:00:00Z"), 7200, 1), p));
    assert_int_not_equal(APR_SUCCESS, sd_sla_add_holiday(&cal, "2026-02-29", &why, p));
    assert_non_null(why);
    assert_int_not_equal(APR_SUCCESS, sd_sla_add_holiday(&cal, "25.12.2026", &why, p));
}

static void test_between(void **state)
{
    apr_pool_t *p = *state;
    sd_calendar_t cal;
    sd_sla_calendar_default(&cal, p);
    /* Friday 15:30 to Monday 09:00: 30 min Friday + 1 h Monday */
    assert_int_equal(5400, sd_sla_between(&cal, at("2026-11-20T15:30:00Z"),
                                          at("2026-11-23T09:00:00Z"), 0));
    assert_int_equal(0, sd_sla_between(&cal, at("2026-11-21T09:00:00Z"),
                                       at("2026-11-22T20:00:00Z"), 0));
    assert_int_equal(0, sd_sla_between(&cal, at("2026-11-23T10:00:00Z"),
                                       at("2026-11-23T09:00:00Z"), 0));
    /* add and between agree */
    assert_int_equal(7 * 3600, sd_sla_between(&cal, at("2026-11-20T12:00:00Z"),
        sd_sla_add(&cal, at("2026-11-20T12:00:00Z"), 7 * 3600, 0), 0));
}

static void test_hours_parsing(void **state)
{
    apr_pool_t *p = *state;
    sd_calendar_t cal;
    const char *why = NULL;

    sd_sla_calendar_default(&cal, p);
    assert_int_equal(APR_SUCCESS, sd_sla_parse_hours(&cal, "Mon-Fri 07:00-12:00 13:00-19:00",
                                                     1, &why, p));
    assert_int_equal(APR_SUCCESS, sd_sla_parse_hours(&cal, "Sat 09:00-12:00", 0, &why, p));
    assert_int_equal(2, cal.nranges[1]);
    assert_int_equal(1, cal.nranges[6]);
    assert_int_equal(0, cal.nranges[0]);
    /* Friday 18:30 + 1 h: 30 min Friday, 30 min Saturday morning */
    assert_string_equal("2026-11-21T09:30:00Z",
                        fmt(sd_sla_add(&cal, at("2026-11-20T18:30:00Z"), 3600, 0), p));
    /* lunch break: 11:30 + 1 h = 13:30 */
    assert_string_equal("2026-11-18T13:30:00Z",
                        fmt(sd_sla_add(&cal, at("2026-11-18T11:30:00Z"), 3600, 0), p));
    {
        static const char *const bad[] = {
            "Mon-Fri", "08:00-16:00", "Mon-Fri 16:00-08:00", "Mon-Fri 08:00-25:00",
            "Funday 08:00-16:00", "Mon-Fri 8-16", "Mon 08:00-12:00 11:00-13:00", ""
        };
        apr_size_t i;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            why = NULL;
            if (sd_sla_parse_hours(&cal, bad[i], 1, &why, p) == APR_SUCCESS)
                fail_msg("'%s' was accepted", bad[i]);
            assert_non_null(why);
        }
    }
    assert_int_equal(APR_SUCCESS, sd_sla_parse_hours(&cal, "Sat-Mon 00:00-24:00", 1, &why, p));
    assert_int_equal(1, cal.nranges[0]);
    assert_int_equal(1, cal.nranges[1]);
    assert_int_equal(0, cal.nranges[3]);
}

static void test_zones(void **state)
{
    apr_pool_t *p = *state;
    sd_calendar_t cal;
    const char *why = NULL;

    sd_sla_calendar_default(&cal, p);
    assert_int_equal(APR_SUCCESS, sd_sla_set_zone(&cal, "+03:00", &why, p));
    /* 08:00-16:00 Moscow time is 05:00-13:00 UTC */
    assert_string_equal("2026-11-18T06:00:00Z",
                        fmt(sd_sla_add(&cal, at("2026-11-18T02:00:00Z"), 3600, 0), p));
    assert_int_equal(APR_SUCCESS, sd_sla_set_zone(&cal, "Europe/Berlin", &why, p));
    assert_int_equal(3600, sd_sla_offset(&cal, at("2026-03-29T00:59:59Z")));
    assert_int_equal(7200, sd_sla_offset(&cal, at("2026-03-29T01:00:00Z")));
    /* Friday 27 March 15:00 CET + 2 h: 1 h Friday, 1 h Monday 30 March, now CEST */
    assert_string_equal("2026-03-30T07:00:00Z",
                        fmt(sd_sla_add(&cal, at("2026-03-27T14:00:00Z"), 7200, 0), p));
    /* and back in October */
    assert_string_equal("2026-10-26T08:00:00Z",
                        fmt(sd_sla_add(&cal, at("2026-10-23T13:00:00Z"), 7200, 0), p));
    assert_int_not_equal(APR_SUCCESS, sd_sla_set_zone(&cal, "Mars/Olympus", &why, p));
    assert_int_not_equal(APR_SUCCESS, sd_sla_set_zone(&cal, "../../etc/passwd", &why, p));
    assert_int_not_equal(APR_SUCCESS, sd_sla_set_zone(&cal, "+25:00", &why, p));
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(1800, sd_sla_parse_duration("30m"));
    assert_int_equal(5400, sd_sla_parse_duration("1h30m"));
    assert_int_equal(5400, sd_sla_parse_duration("90"));
    assert_int_equal(172800, sd_sla_parse_duration("2d"));
    assert_int_equal(45, sd_sla_parse_duration("45s"));
    assert_int_equal(0, sd_sla_parse_duration("none"));
    assert_int_equal(-1, sd_sla_parse_duration("1h30"));
    assert_int_equal(-1, sd_sla_parse_duration(""));
    assert_int_equal(-1, sd_sla_parse_duration("-1h"));
    assert_int_equal(-1, sd_sla_parse_duration("1w"));
}

/* The ticket's clock: pause while pending, tier and priority changes. */
static void test_ticket_clock(void **state)
{
    apr_pool_t *p = *state;
    sd_desk_conf_t c;
    sd_ticket_t t;

    sd_desk_conf_default(&c, p);
    memset(&t, 0, sizeof(t));
    t.tier = 2;
    t.priority = SD_PRIO_HIGH;                       /* tier 2 high: 8 business hours */
    t.status = SD_ST_NEW;
    sd_ticket_restart_clock(&t, &c, at("2026-11-18T09:00:00Z"));
    assert_string_equal("2026-11-18T10:00:00Z", fmt(t.response_due_at, p));
    assert_string_equal("2026-11-19T09:00:00Z", fmt(t.resolution_due_at, p));

    /* pending from Wednesday 12:00 to Thursday 10:00: 6 business hours paused */
    sd_ticket_set_status(&t, SD_ST_OPEN, &c, at("2026-11-18T09:30:00Z"));
    sd_ticket_set_status(&t, SD_ST_PENDING, &c, at("2026-11-18T12:00:00Z"));
    assert_int_equal(at("2026-11-18T12:00:00Z"), t.pending_since);
    sd_ticket_set_status(&t, SD_ST_OPEN, &c, at("2026-11-19T10:00:00Z"));
    assert_int_equal(6 * 3600, t.paused_seconds);
    assert_int_equal(0, t.pending_since);
    assert_string_equal("2026-11-19T15:00:00Z", fmt(t.resolution_due_at, p));

    /* priority up to urgent (tier 2: 1 h from the tier's start, plus the
     * 6 h paused: 7 business hours from Wednesday 09:00) */
    t.priority = SD_PRIO_URGENT;
    sd_ticket_recompute_dues(&t, &c);
    assert_string_equal("2026-11-18T16:00:00Z", fmt(t.resolution_due_at, p));

    /* escalation to tier 3 on Friday 15:00: the clock restarts, pauses forgotten */
    t.tier = 3;
    t.priority = SD_PRIO_HIGH;                       /* tier 3 high: 24 business hours */
    sd_ticket_restart_clock(&t, &c, at("2026-11-20T15:00:00Z"));
    assert_int_equal(0, t.paused_seconds);
    assert_string_equal("2026-11-20T16:00:00Z", fmt(t.response_due_at, p));
    assert_string_equal("2026-11-25T15:00:00Z", fmt(t.resolution_due_at, p));

    /* critical runs round the clock by default */
    t.priority = SD_PRIO_CRITICAL;                   /* tier 3 critical: 4 h */
    sd_ticket_recompute_dues(&t, &c);
    assert_string_equal("2026-11-20T19:00:00Z", fmt(t.resolution_due_at, p));

    /* tier 4: resolution "set on acceptance" */
    t.tier = 4;
    sd_ticket_restart_clock(&t, &c, at("2026-11-20T15:00:00Z"));
    assert_int_equal(0, t.resolution_due_at);
    assert_string_equal("2026-11-23T15:00:00Z", fmt(t.response_due_at, p));

    /* resolving stamps the time; closing keeps it */
    sd_ticket_set_status(&t, SD_ST_RESOLVED, &c, at("2026-11-24T10:00:00Z"));
    assert_int_equal(at("2026-11-24T10:00:00Z"), t.resolved_at);
    sd_ticket_set_status(&t, SD_ST_CLOSED, &c, at("2026-12-01T10:00:00Z"));
    assert_int_equal(at("2026-11-24T10:00:00Z"), t.resolved_at);
    assert_int_equal(at("2026-12-01T10:00:00Z"), t.closed_at);
}

static void test_transitions(void **state)
{
    static const struct { int from, to, ok; } cases[] = {
        { SD_ST_NEW, SD_ST_OPEN, 1 }, { SD_ST_NEW, SD_ST_PENDING, 1 },
        { SD_ST_NEW, SD_ST_RESOLVED, 1 }, { SD_ST_NEW, SD_ST_CLOSED, 0 },
        { SD_ST_OPEN, SD_ST_NEW, 0 }, { SD_ST_OPEN, SD_ST_PENDING, 1 },
        { SD_ST_OPEN, SD_ST_RESOLVED, 1 }, { SD_ST_OPEN, SD_ST_CLOSED, 0 },
        { SD_ST_PENDING, SD_ST_OPEN, 1 }, { SD_ST_PENDING, SD_ST_RESOLVED, 1 },
        { SD_ST_PENDING, SD_ST_NEW, 0 }, { SD_ST_RESOLVED, SD_ST_CLOSED, 1 },
        { SD_ST_RESOLVED, SD_ST_OPEN, 0 }, { SD_ST_CLOSED, SD_ST_OPEN, 0 },
        { SD_ST_CLOSED, SD_ST_RESOLVED, 0 }, { -1, SD_ST_OPEN, 0 }, { SD_ST_NEW, 9, 0 },
    };
    apr_size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (sd_ticket_transition_ok(cases[i].from, cases[i].to) != cases[i].ok)
            fail_msg("%d -> %d: want %d", cases[i].from, cases[i].to, cases[i].ok);
    }
}

/* at-risk is a share of the target in its own (business) time */
static void test_at_risk_in_business_time(void **state)
{
    apr_pool_t *p = *state;
    sd_desk_conf_t c;
    sd_ticket_t t;

    sd_desk_conf_default(&c, p);
    memset(&t, 0, sizeof(t));
    t.tier = 2;
    t.priority = SD_PRIO_NORMAL;                     /* 40 business hours */
    t.status = SD_ST_OPEN;
    sd_ticket_restart_clock(&t, &c, at("2026-11-20T08:00:00Z"));
    t.responded_at = at("2026-11-20T08:10:00Z");
    /* 30 business hours = 75 %: Friday 8 h, Mon-Wed 24 h -> Wed 14:00 is 30 h */
    assert_string_equal("ok", sd_ticket_sla(&t, &c, at("2026-11-25T13:59:00Z")));
    assert_string_equal("at-risk", sd_ticket_sla(&t, &c, at("2026-11-25T14:00:00Z")));
    assert_string_equal("2026-11-26T16:00:00Z", fmt(t.resolution_due_at, p));
    assert_string_equal("breached", sd_ticket_sla(&t, &c, at("2026-11-26T16:00:01Z")));
    /* a weekend in the middle is not counted */
    assert_string_equal("ok", sd_ticket_sla(&t, &c, at("2026-11-22T23:00:00Z")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SD_TEST(test_add_table),
        SD_TEST(test_round_the_clock),
        SD_TEST(test_holidays),
        SD_TEST(test_between),
        SD_TEST(test_hours_parsing),
        SD_TEST(test_zones),
        SD_TEST(test_durations),
        SD_TEST(test_ticket_clock),
        SD_TEST(test_transitions),
        SD_TEST(test_at_risk_in_business_time),
    };
    return SD_RUN("sd_sla", tests);
}
