"""Issue 3, GET /reports/sla: who may read it, its parameters, and numbers
that add up. The database is shared by the whole session, so the exact checks
use tickets of a category only this file uses (qa-report, configured for the
test) and a time window that only this test's tier stints fall into."""

import csv
import datetime
import io
import time

import pytest

import sdesk_util
from sdesk_util import (
    assert_json, assert_problem, create_ticket, describe, dumps, marker, media_type,
    rfc3339, unchanged_db,
)

UTC = datetime.timezone.utc
COUNTERS = ["tickets", "responded_in_target", "responded_in_target_share",
            "resolved_or_escalated_in_target", "resolved_or_escalated_in_target_share",
            "breached", "median_response_minutes", "median_resolution_minutes"]
TP_KEYS = {"tier", "priority"} | set(COUNTERS)
CAT_KEYS = {"category"} | set(COUNTERS)
CSV_HEAD = ["group", "tier", "priority", "category"] + COUNTERS
CATEGORY = "qa-report"

REPORT_CONF = """
SdeskCategories clinical-workflow device training configuration access bug outage other %s
SdeskResponseTarget 1 2s 24x7
SdeskResolutionTarget 1 high 4h 24x7
SdeskResponseTarget 2 1h 24x7
SdeskResolutionTarget 2 high 8h 24x7
SdeskResolutionTarget 2 normal 40h 24x7
SdeskResponseTarget 3 1h 24x7
SdeskResolutionTarget 3 high 24h 24x7
SdeskSLAScanInterval 1
""" % CATEGORY


# ---- helpers ---------------------------------------------------------------------

# sessions: one per user per test, closed afterwards (sdesk_util.session)
client = sdesk_util.session
fresh_client = sdesk_util.fresh_client
turl = sdesk_util.turl


def report(desk, user, accept=None, **params):
    h = {"Accept": accept} if accept else {}
    return client(desk, user).get(desk.api("/reports/sla"), params=params, headers=h)


def report_json(desk, user, **params):
    r = report(desk, user, **params)
    rep = assert_json(r, 200)
    check_shape(rep)
    return rep


def report_csv(desk, user, **params):
    r = report(desk, user, accept="text/csv", **params)
    assert r.status_code == 200, describe(r)
    assert media_type(r) == "text/csv", describe(r)
    text = r.content.decode("utf-8")
    lines = text.splitlines()
    assert lines, describe(r)
    assert lines[0].startswith("group,tier,priority,category,tickets,responded_in_target,"), \
        lines[0]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == CSV_HEAD, rows[0]
    rows = [row for row in rows[1:] if row]
    for row in rows:
        assert len(row) == len(CSV_HEAD), row
        assert row[0], row
    return [dict(zip(CSV_HEAD, row)) for row in rows]


def check_shape(rep):
    assert set(rep) >= {"from", "to", "tenant", "by_tier_priority", "by_category"}, rep
    rfc3339(rep["from"])
    rfc3339(rep["to"])
    for row in rep["by_tier_priority"]:
        assert set(row) == TP_KEYS, row
        assert row["tier"] in (1, 2, 3, 4) and row["priority"] in (
            "critical", "urgent", "high", "normal"), row
        check_counters(row)
    keys = [(x["tier"], x["priority"]) for x in rep["by_tier_priority"]]
    assert len(keys) == len(set(keys)), keys
    for row in rep["by_category"]:
        assert set(row) == CAT_KEYS, row
        check_counters(row)
    cats = [x["category"] for x in rep["by_category"]]
    assert len(cats) == len(set(cats)), cats


def check_counters(row):
    n = row["tickets"]
    assert isinstance(n, int) and n >= 0, row
    for k in ("responded_in_target", "resolved_or_escalated_in_target", "breached"):
        assert isinstance(row[k], int) and 0 <= row[k] <= n, row
    for k, part in (("responded_in_target_share", "responded_in_target"),
                    ("resolved_or_escalated_in_target_share", "resolved_or_escalated_in_target")):
        if n == 0:
            assert row[k] is None or row[k] == 0, row
        else:
            assert isinstance(row[k], (int, float)) and 0 <= row[k] <= 1, row
            assert abs(row[k] - row[part] / n) < 0.0006, row
    for k in ("median_response_minutes", "median_resolution_minutes"):
        assert row[k] is None or (isinstance(row[k], (int, float)) and row[k] >= 0), row


def same_numbers(json_row, csv_row):
    for k in COUNTERS:
        j, c = json_row[k], csv_row[k]
        if j is None:
            assert c == "", (k, json_row, csv_row)
        elif isinstance(j, int) and not isinstance(j, bool):
            assert c == str(j), (k, json_row, csv_row)
        else:
            assert abs(float(c) - j) < 0.0005, (k, json_row, csv_row)


def round1(minutes):
    """The report's one-decimal rounding (half up)."""
    return int(minutes * 10 + 0.5) / 10


def median(values):
    v = sorted(values)
    if not v:
        return None
    n = len(v)
    m = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    return round1(m)


def share(part, whole):
    return int(part * 1000 / whole + 0.5) / 1000


def expected_row(stints):
    """Counters of a group of stints: dicts with responded/done flags, minutes."""
    n = len(stints)
    resp = sum(1 for s in stints if s["responded_in_target"])
    done = sum(1 for s in stints if s["done_in_target"])
    return {
        "tickets": n,
        "responded_in_target": resp,
        "responded_in_target_share": share(resp, n),
        "resolved_or_escalated_in_target": done,
        "resolved_or_escalated_in_target_share": share(done, n),
        "breached": sum(1 for s in stints if s["breached"]),
        "median_response_minutes": median([s["response_min"] for s in stints
                                           if s["response_min"] is not None]),
        "median_resolution_minutes": median([s["resolution_min"] for s in stints
                                             if s["resolution_min"] is not None]),
    }


def assert_row(got, want):
    for k in COUNTERS:
        if isinstance(want[k], float) or isinstance(got[k], float):
            assert got[k] is not None and want[k] is not None and \
                abs(got[k] - want[k]) < 1e-9, (k, got, want)
        else:
            assert got[k] == want[k], (k, got, want)


def patched(desk, s, tid, body):
    r = s.patch(desk.api("/tickets/%d" % tid), data=dumps(body),
                headers={"Content-Type": "application/json"})
    return assert_json(r, 200)


def post(desk, s, tid, sub, body):
    return s.post(desk.api("/tickets/%d%s" % (tid, sub)), data=dumps(body),
                  headers={"Content-Type": "application/json"})


def agent_view(desk, tid):
    return assert_json(client(desk, "tom").get(desk.api("/tickets/%d" % tid)), 200)


def ev_at(t, kind, **match):
    evs = [e for e in t["events"] if e["kind"] == kind
           and all(str(e.get(k)) == str(v) for k, v in match.items())]
    assert len(evs) == 1, (kind, match, t["events"])
    return rfc3339(evs[0]["at"])


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def minutes(a, b):
    return (b - a).total_seconds() / 60.0


def wait_for(pred, timeout, what, interval=0.25):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---- the numbers -----------------------------------------------------------------

def test_report_counts_tier_stints(desk):
    with desk.httpd_conf(REPORT_CONF):
        a, tom = client(desk, "alice"), client(desk, "tom")
        # a window that starts after everything earlier in the session
        start = datetime.datetime.now(UTC).replace(microsecond=0) + datetime.timedelta(seconds=1)
        time.sleep(max(0.0, (start - datetime.datetime.now(UTC)).total_seconds()) + 0.05)

        def new(urgency="job-stopped", impact="single"):
            return create_ticket(desk, a, category=CATEGORY, urgency=urgency, impact=impact,
                                 subject="SLA report %s" % marker())

        # 1: answered and resolved at tier 2
        t1 = new()
        assert assert_json(post(desk, tom, t1["id"], "/comments",
                                {"body": "On it %s" % marker()}), 201)
        patched(desk, tom, t1["id"], {"status": "resolved"})
        # 2: escalated from 2 to 3 without an answer
        t2 = new()
        assert_json(post(desk, tom, t2["id"], "/escalate", {"note": "up %s" % marker()}), 200)
        # 3: normal priority, nothing happens
        t3 = new("not-blocking", "single")
        assert t3["priority"] == "normal"
        # 4: moved to tier 1 (2 s response target there) and left to breach
        t4 = new()
        patched(desk, tom, t4["id"], {"tier": 1})
        wait_for(lambda: [e for e in agent_view(desk, t4["id"])["events"]
                          if e["kind"] == "sla-breached"], 30, "the tier-1 breach")
        end = datetime.datetime.now(UTC).replace(microsecond=0) + datetime.timedelta(seconds=2)

        v1, v2, v4 = (agent_view(desk, t["id"]) for t in (t1, t2, t4))
        c1, c2, c4 = (rfc3339(t["created_at"]) for t in (t1, t2, t4))
        assert all(start <= rfc3339(t["created_at"]) < end for t in (t1, t2, t3, t4))
        f1 = rfc3339(v1["first_response_at"])
        r1 = ev_at(v1, "status", new="resolved")
        e2 = ev_at(v2, "escalated")
        e4 = ev_at(v4, "tier")
        nothing = {"responded_in_target": False, "done_in_target": False, "breached": False,
                   "response_min": None, "resolution_min": None}
        stints = {
            "t1@2": dict(nothing, tier=2, priority="high", responded_in_target=True,
                         done_in_target=True, response_min=minutes(c1, f1),
                         resolution_min=minutes(c1, r1)),
            "t2@2": dict(nothing, tier=2, priority="high", done_in_target=True,
                         resolution_min=minutes(c2, e2)),
            "t2@3": dict(nothing, tier=3, priority="high"),
            "t3@2": dict(nothing, tier=2, priority="normal"),
            "t4@2": dict(nothing, tier=2, priority="high"),         # moved: not in target
            "t4@1": dict(nothing, tier=1, priority="high", breached=True),
        }
        assert e4 >= c4
        want_cat = expected_row(list(stints.values()))
        want_tp = {}
        for s in stints.values():
            want_tp.setdefault((s["tier"], s["priority"]), []).append(s)
        want_tp = {k: expected_row(v) for k, v in want_tp.items()}

        rep = report_json(desk, "tom", **{"from": iso(start), "to": iso(end)})
        assert rep["tenant"] == "north-hospital"
        assert rfc3339(rep["from"]) == start and rfc3339(rep["to"]) == end
        cats = {x["category"]: x for x in rep["by_category"]}
        assert CATEGORY in cats, rep["by_category"]
        assert_row(cats[CATEGORY], want_cat)
        assert all(x["tickets"] == 0 for c, x in cats.items() if c != CATEGORY), cats
        got_tp = {(x["tier"], x["priority"]): x for x in rep["by_tier_priority"]
                  if x["tickets"]}
        assert sorted(got_tp) == sorted(want_tp), rep["by_tier_priority"]
        for k, want in want_tp.items():
            assert_row(got_tp[k], want)

        # the CSV has the same numbers
        rows = report_csv(desk, "tom", **{"from": iso(start), "to": iso(end)})
        cat_rows = {r["category"]: r for r in rows if r["category"]}
        tp_rows = {(int(r["tier"]), r["priority"]): r for r in rows if not r["category"]}
        assert set(cat_rows) == set(cats), rows
        assert set(tp_rows) == {(x["tier"], x["priority"]) for x in rep["by_tier_priority"]}
        for c, row in cats.items():
            same_numbers(row, cat_rows[c])
        for x in rep["by_tier_priority"]:
            same_numbers(x, tp_rows[(x["tier"], x["priority"])])

        # by dates: a wider window, the same row for the category only we use
        day = start.date()
        wide = report_json(desk, "ada", **{"from": day.isoformat(),
                                           "to": (day + datetime.timedelta(days=2)).isoformat()})
        wcats = {x["category"]: x for x in wide["by_category"]}
        assert_row(wcats[CATEGORY], want_cat)

        # another tenant's agent sees none of it
        south = report_json(desk, "sam", **{"from": iso(start), "to": iso(end)})
        assert south["tenant"] == "south-clinic"
        assert all(x["tickets"] == 0 for x in south["by_category"] + south["by_tier_priority"])
        assert all(x["category"] != CATEGORY or x["tickets"] == 0
                   for x in report_json(desk, "sam", **{"from": day.isoformat()})["by_category"])
        for t in (t2, t3, t4):
            patched(desk, tom, t["id"], {"status": "resolved"})


# ---- access and parameters -------------------------------------------------------

@pytest.mark.parametrize("user", ["alice", "bob", "carol", "dan"])
def test_reporters_get_403(desk, user):
    with unchanged_db(desk):
        r = report(desk, user)
    assert_problem(r, 403, "forbidden")
    r = report(desk, user, accept="text/csv")
    assert_problem(r, 403, "forbidden")


@pytest.mark.parametrize("user", ["nina", "tom", "tess", "ada", "sam"])
def test_agents_and_admins_get_it(desk, user):
    rep = report_json(desk, user)
    tenant = "south-clinic" if user == "sam" else "north-hospital"
    assert rep["tenant"] == tenant
    assert rfc3339(rep["from"]) < rfc3339(rep["to"])


def test_date_parameters(desk):
    rep = report_json(desk, "tom", **{"from": "2026-01-01", "to": "2026-02-01"})
    assert rep["from"] == "2026-01-01T00:00:00Z" and rep["to"] == "2026-02-01T00:00:00Z"
    rep = report_json(desk, "tom", **{"from": "2026-01-01T10:00:00Z",
                                      "to": "2026-01-01T12:30:00+02:00"})
    assert rfc3339(rep["from"]) == datetime.datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert rfc3339(rep["to"]) == datetime.datetime(2026, 1, 1, 10, 30, tzinfo=UTC)


def test_far_past_window_is_empty(desk):
    rep = report_json(desk, "tom", **{"from": "2001-01-01", "to": "2001-02-01"})
    assert all(x["tickets"] == 0 for x in rep["by_tier_priority"] + rep["by_category"])


@pytest.mark.parametrize("params", [
    {"from": "2026-13-01"}, {"from": "2026-02-30"}, {"from": "yesterday"},
    {"from": "2026-1-1"}, {"from": "2026-01-01T25:00:00Z"}, {"from": "2026-01-01T10:00"},
    {"to": "abc"}, {"to": "1700000000"}, {"to": "2026-01-01 10:00:00"},
    {"from": "2026-01-02", "to": "2026-01-01"},
    {"from": "2026-01-01", "to": "2026-01-01"},
    {"from": "2026-01-01T10:00:00Z", "to": "2026-01-01T11:00:00+02:00"},
    {"foo": "1"}, {"tier": "2"}, {"category": "device"}, {"tenant": "south-clinic"},
    {"format": "csv"},
], ids=lambda p: "&".join("%s=%s" % kv for kv in p.items()))
def test_bad_parameters_are_400(desk, params):
    for accept in (None, "text/csv"):
        r = report(desk, "tom", accept=accept, **params)
        assert_problem(r, 400, "invalid-parameter")


@pytest.mark.parametrize("query", ["from=2026-01-01&from=2026-01-02",
                                   "to=2026-02-01&to=2026-03-01"])
def test_repeated_parameter_is_400(desk, query):
    r = client(desk, "tom").get(desk.api("/reports/sla") + "?" + query)
    assert_problem(r, 400, "invalid-parameter")


def test_reporter_403_before_parameter_checks(desk):
    r = report(desk, "alice", foo="1")
    assert_problem(r, 403, "forbidden")


def test_csv_and_json_agree_on_default_window(desk):
    rep = report_json(desk, "tom")
    rows = report_csv(desk, "tom")
    cat_rows = {r["category"]: r for r in rows if r["category"]}
    tp_rows = {(int(r["tier"]), r["priority"]): r for r in rows if not r["category"]}
    assert set(cat_rows) == {x["category"] for x in rep["by_category"]}
    assert set(tp_rows) == {(x["tier"], x["priority"]) for x in rep["by_tier_priority"]}
    for x in rep["by_category"]:
        same_numbers(x, cat_rows[x["category"]])
    for x in rep["by_tier_priority"]:
        same_numbers(x, tp_rows[(x["tier"], x["priority"])])


def test_json_unless_csv_is_asked_for(desk):
    for accept in ("application/json", "*/*", "application/*"):
        r = report(desk, "tom", accept=accept)
        assert_json(r, 200)
    r = report(desk, "tom", accept="text/csv;q=1.0, application/json;q=0.5")
    assert media_type(r) == "text/csv", describe(r)


def test_report_is_read_only(desk):
    r = client(desk, "tom").post(desk.api("/reports/sla"), data=b"{}",
                                 headers={"Content-Type": "application/json"})
    assert_problem(r, 405, "method-not-allowed")
    assert "GET" in r.headers["Allow"]
