"""Issue 3, ticket lifecycle: PATCH /tickets/{id} (agents and reporters,
status transitions, assignee, tier, ETag/If-Match, the audit trail), POST
/tickets/{id}/reopen, full-text search with q=, and bad input, other tenants
and other reporters for both endpoints. Every rejected request must leave the
database and the ticket unchanged."""

import concurrent.futures
import datetime
import re

import pytest

import sdesk_util
from sdesk_util import (
    assert_json, assert_problem, create_ticket, describe, dumps, field_errors, list_ids,
    marker, rfc3339, unchanged_db,
)

ETAG_RE = re.compile(r'^"t(\d+)-v(\d+)-([ar])"$')
EVENT_KEYS = {"id", "at", "actor", "kind", "field", "old", "new", "note"}

# Round-the-clock targets, so that due times are computable at any hour.
CONF_24X7 = """
SdeskResponseTarget 1 30m 24x7
SdeskResolutionTarget 1 high 4h 24x7
SdeskResponseTarget 2 1h 24x7
SdeskResolutionTarget 2 high 8h 24x7
SdeskResolutionTarget 2 normal 40h 24x7
SdeskResponseTarget 3 2h 24x7
SdeskResolutionTarget 3 high 24h 24x7
"""


# ---- helpers ---------------------------------------------------------------------

# sessions: one per user per test, closed afterwards (sdesk_util.session)
client = sdesk_util.session
fresh_client = sdesk_util.fresh_client
turl = sdesk_util.turl


def patch(desk, s, tid, body=None, data=None, ctype="application/json", headers=None):
    h = {}
    if ctype is not None:
        h["Content-Type"] = ctype
    h.update(headers or {})
    return s.patch(turl(desk, tid), data=dumps(body) if data is None else data, headers=h)


post = sdesk_util.ticket_post
events = sdesk_util.ticket_events
snapshot = sdesk_util.ticket_snapshot
unchanged = sdesk_util.ticket_unchanged
ticket_in = sdesk_util.ticket_in


def patched(desk, s, tid, body, headers=None):
    """PATCH that must succeed: returns (ticket, ETag)."""
    r = patch(desk, s, tid, body, headers=headers)
    t = assert_json(r, 200)
    assert t["id"] == tid, describe(r)
    return t, r.headers.get("ETag")


def get(desk, s, tid):
    r = s.get(turl(desk, tid))
    return assert_json(r, 200), r.headers.get("ETag")


def agent_view(desk, tid):
    return get(desk, client(desk, "tom"), tid)[0]


def etag_version(etag, tid=None, view=None):
    m = ETAG_RE.match(etag or "")
    assert m, "ETag %r is not \"t<id>-v<version>-a|r\"" % (etag,)
    if tid is not None:
        assert int(m.group(1)) == tid, etag
    if view is not None:
        assert m.group(3) == view, etag
    return int(m.group(2))


# ---- PATCH by agents -------------------------------------------------------------

def test_agent_patch_fields_writes_events(desk):
    t = create_ticket(desk, client(desk, "alice"), category="device")
    tom = client(desk, "tom")
    _, etag0 = get(desk, tom, t["id"])
    v0 = etag_version(etag0, t["id"], "a")
    r = patch(desk, tom, t["id"], {"status": "open", "priority": "urgent", "category": "bug"})
    got = assert_json(r, 200)
    assert got["status"] == "open" and got["priority"] == "urgent" and got["category"] == "bug"
    assert got["subject"] == t["subject"] and got["description"] == t["description"]
    etag = r.headers.get("ETag")
    assert etag_version(etag, t["id"], "a") > v0
    assert etag != etag0
    # the response is what a GET shows now, with the same ETag
    now, now_etag = get(desk, tom, t["id"])
    assert now_etag == etag
    got.pop("sla")
    now.pop("sla")
    assert now == got
    evs = now["events"]
    by_kind = {e["kind"]: e for e in evs}
    for kind, old, new in (("status", "new", "open"), ("priority", "high", "urgent"),
                           ("category", "device", "bug")):
        assert kind in by_kind, evs
        e = by_kind[kind]
        assert (e["field"], e["old"], e["new"], e["actor"]) == (kind, old, new, "tom"), e
    assert rfc3339(by_kind["status"]["at"]) >= rfc3339(t["created_at"])


def test_events_shape_and_created_event(desk):
    t = create_ticket(desk, client(desk, "alice"))
    patched(desk, client(desk, "tom"), t["id"], {"status": "open"})
    evs = events(desk, t["id"])
    assert [e["kind"] for e in evs][:1] == ["created"], evs
    assert evs[0]["actor"] == "alice"
    ids = [e["id"] for e in evs]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for e in evs:
        assert set(e) == EVENT_KEYS, e
        assert isinstance(e["id"], int)
        rfc3339(e["at"])
        assert isinstance(e["actor"], str) and e["actor"]
        for k in ("field", "old", "new", "note"):
            assert e[k] is None or isinstance(e[k], str), e


def test_reporter_never_gets_events(desk):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    patched(desk, client(desk, "tom"), t["id"], {"status": "open", "priority": "normal"})
    got, etag = get(desk, a, t["id"])
    assert "events" not in got
    etag_version(etag, t["id"], "r")


def test_admin_counts_as_agent(desk):
    t = create_ticket(desk, client(desk, "alice"))
    ada = client(desk, "ada")
    got, etag = patched(desk, ada, t["id"], {"status": "open", "priority": "normal"})
    assert got["status"] == "open" and got["priority"] == "normal"
    assert isinstance(got.get("events"), list)
    etag_version(etag, t["id"], "a")
    e = [e for e in events(desk, t["id"], "status")]
    assert e and e[-1]["actor"] == "ada"


@pytest.mark.parametrize("user", ["nina", "tess"])
def test_agents_of_other_tiers_may_edit(desk, user):
    t = create_ticket(desk, client(desk, "alice"))
    got, _ = patched(desk, client(desk, user), t["id"], {"status": "pending"})
    assert got["status"] == "pending"


def test_agent_edits_cc_and_description(desk):
    t = ticket_in(desk, "open")
    desc = "Rewritten by the desk %s" % marker()
    got, _ = patched(desk, client(desk, "tom"), t["id"],
                     {"cc": ["ward3b@north-hospital.example"], "description": desc})
    assert got["cc"] == ["ward3b@north-hospital.example"]
    assert got["description"] == desc
    kinds = [e["kind"] for e in events(desk, t["id"])]
    assert "cc" in kinds and "description" in kinds


# ---- status transitions ----------------------------------------------------------

LEGAL = [("new", "open"), ("new", "pending"), ("new", "resolved"),
         ("open", "pending"), ("open", "resolved"),
         ("pending", "open"), ("pending", "resolved"),
         ("resolved", "closed")]
ILLEGAL = [("new", "closed"),
           ("open", "new"), ("open", "closed"),
           ("pending", "new"), ("pending", "closed"),
           ("resolved", "new"), ("resolved", "open"), ("resolved", "pending"),
           ("closed", "new"), ("closed", "open"), ("closed", "pending"), ("closed", "resolved")]


@pytest.mark.parametrize("frm,to", LEGAL, ids=["%s-%s" % c for c in LEGAL])
def test_legal_transition(desk, frm, to):
    t = ticket_in(desk, frm)
    n = len(events(desk, t["id"], "status"))
    got, _ = patched(desk, client(desk, "tom"), t["id"], {"status": to})
    assert got["status"] == to
    st = events(desk, t["id"], "status")
    assert len(st) == n + 1, st
    assert (st[-1]["field"], st[-1]["old"], st[-1]["new"], st[-1]["actor"]) == \
        ("status", frm, to, "tom"), st[-1]


@pytest.mark.parametrize("frm,to", ILLEGAL, ids=["%s-%s" % c for c in ILLEGAL])
def test_illegal_transition_is_409(desk, frm, to):
    t = ticket_in(desk, frm)
    with unchanged(desk, t["id"]):
        r = patch(desk, client(desk, "tom"), t["id"], {"status": to})
    assert_problem(r, 409, "conflict")


def test_illegal_transition_changes_no_other_field(desk):
    # one request, one outcome: the valid priority does not sneak through
    t = ticket_in(desk, "resolved")
    with unchanged(desk, t["id"]):
        r = patch(desk, client(desk, "tom"), t["id"], {"status": "open", "priority": "normal"})
    assert_problem(r, 409, "conflict")


def test_full_walk(desk):
    t = create_ticket(desk, client(desk, "alice"))
    tom = client(desk, "tom")
    seen = []
    for st in ("open", "pending", "open", "resolved", "closed"):
        got, etag = patched(desk, tom, t["id"], {"status": st})
        assert got["status"] == st
        seen.append(etag_version(etag, t["id"], "a"))
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    st = [(e["old"], e["new"]) for e in events(desk, t["id"], "status")]
    assert st == [("new", "open"), ("open", "pending"), ("pending", "open"),
                  ("open", "resolved"), ("resolved", "closed")]
    for to in ("open", "resolved", "pending", "new"):
        with unchanged(desk, t["id"]):
            r = patch(desk, tom, t["id"], {"status": to})
        assert_problem(r, 409, "conflict")


# ---- ETag and If-Match -----------------------------------------------------------

def test_if_match_current_etag(desk):
    t = create_ticket(desk, client(desk, "alice"))
    tom = client(desk, "tom")
    _, etag = get(desk, tom, t["id"])
    got, etag2 = patched(desk, tom, t["id"], {"status": "open"}, headers={"If-Match": etag})
    assert got["status"] == "open"
    assert etag_version(etag2, t["id"], "a") == etag_version(etag) + 1


def test_if_match_stale_etag_is_412(desk):
    t = create_ticket(desk, client(desk, "alice"))
    tom = client(desk, "tom")
    _, old = get(desk, tom, t["id"])
    patched(desk, tom, t["id"], {"priority": "normal"})
    with unchanged(desk, t["id"]):
        r = patch(desk, tom, t["id"], {"status": "open"}, headers={"If-Match": old})
    assert_problem(r, 412, "precondition-failed")
    assert agent_view(desk, t["id"])["status"] == "new"


def test_if_match_reporter_view_tag_of_old_version_is_412(desk):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    _, old = get(desk, a, t["id"])
    patched(desk, a, t["id"], {"description": "first edit %s" % marker()})
    with unchanged(desk, t["id"]):
        r = patch(desk, a, t["id"], {"description": "second edit"}, headers={"If-Match": old})
    assert_problem(r, 412, "precondition-failed")


def test_if_match_foreign_tag_is_412(desk):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = patch(desk, client(desk, "tom"), t["id"], {"status": "open"},
                  headers={"If-Match": '"not-a-tag-of-ours"'})
    assert_problem(r, 412, "precondition-failed")


def test_if_match_race_has_one_winner(desk):
    # eight agents PATCH the same version at once: one wins, the rest get 412
    t = create_ticket(desk, client(desk, "alice"))
    _, etag = get(desk, client(desk, "tom"), t["id"])
    before = desk.db_counts()
    bodies = [{"priority": p} for p in ("critical", "urgent", "normal")] * 2 + \
        [{"status": "open"}, {"status": "pending"}]

    sessions = [fresh_client(desk, "tom") for _ in bodies]

    def one(i):
        return patch(desk, sessions[i], t["id"], bodies[i], headers={"If-Match": etag})

    with concurrent.futures.ThreadPoolExecutor(len(bodies)) as ex:
        rs = list(ex.map(one, range(len(bodies))))
    ok = [r for r in rs if r.status_code == 200]
    assert len(ok) == 1, [describe(r) for r in rs]
    for r in rs:
        if r.status_code != 200:
            assert_problem(r, 412, "precondition-failed")
    after = desk.db_counts()
    assert after["ticket_events"] == before["ticket_events"] + 1, (before, after)
    _, now = get(desk, client(desk, "tom"), t["id"])
    assert etag_version(now) == etag_version(etag) + 1


def test_no_if_match_is_accepted(desk):
    t = create_ticket(desk, client(desk, "alice"))
    r = patch(desk, client(desk, "tom"), t["id"], {"status": "open"})
    assert "If-Match" not in r.request.headers
    assert assert_json(r, 200)["status"] == "open"


def test_reporter_patch_etag_is_reporter_view(desk):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    got, etag = patched(desk, a, t["id"], {"cc": ["x@north-hospital.example"]})
    etag_version(etag, t["id"], "r")
    assert "events" not in got
    assert get(desk, a, t["id"])[1] == etag


# ---- PATCH by reporters ----------------------------------------------------------

def test_reporter_edits_cc_and_description_while_new(desk):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    desc = "Label printer on ward 3B: also the spare one now %s" % marker()
    got, _ = patched(desk, a, t["id"], {"cc": ["charge.nurse@north-hospital.example"],
                                        "description": desc})
    assert got["cc"] == ["charge.nurse@north-hospital.example"]
    assert got["description"] == desc
    assert got["status"] == "new"
    evs = events(desk, t["id"])
    cc = [e for e in evs if e["kind"] == "cc"]
    de = [e for e in evs if e["kind"] == "description"]
    assert len(cc) == 1 and cc[0]["actor"] == "alice" and cc[0]["field"] == "cc"
    assert len(de) == 1 and de[0]["actor"] == "alice" and de[0]["field"] == "description"


@pytest.mark.parametrize("field,value", [
    ("status", "open"), ("priority", "critical"), ("category", "bug"),
    ("assignee", "tom"), ("assignee", None), ("tier", 3),
])
def test_reporter_agent_fields_are_403(desk, field, value):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    with unchanged(desk, t["id"]):
        r = patch(desk, a, t["id"], {field: value})
    assert_problem(r, 403, "forbidden")
    # also together with a field the reporter may change
    with unchanged(desk, t["id"]):
        r = patch(desk, a, t["id"], {field: value, "description": "sneaky %s" % marker()})
    assert_problem(r, 403, "forbidden")


@pytest.mark.parametrize("status", ["open", "pending", "resolved", "closed"])
def test_reporter_edit_after_new_is_409(desk, status):
    t = ticket_in(desk, status)
    a = client(desk, "alice")
    for body in ({"description": "more details %s" % marker()},
                 {"cc": ["x@north-hospital.example"]}):
        with unchanged(desk, t["id"]):
            r = patch(desk, a, t["id"], body)
        assert_problem(r, 409, "conflict")


def test_colleague_reporter_patch_is_404(desk):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = patch(desk, client(desk, "bob"), t["id"], {"description": "not mine %s" % marker()})
    prob = assert_problem(r, 404, "not-found")
    assert t["subject"] not in r.text
    r2 = patch(desk, client(desk, "bob"), 2 ** 62, {"description": "x"})
    assert assert_problem(r2, 404, "not-found")["title"] == prob["title"]


# ---- assignee --------------------------------------------------------------------

def test_assign_tier2_agent_and_unassign(desk):
    t = create_ticket(desk, client(desk, "alice"))
    tom = client(desk, "tom")
    got, _ = patched(desk, tom, t["id"], {"assignee": "tom"})
    assert got["assignee"] == "tom"
    assert agent_view(desk, t["id"])["assignee"] == "tom"
    got, _ = patched(desk, tom, t["id"], {"assignee": None})
    assert got["assignee"] is None
    ev = events(desk, t["id"], "assignee")
    assert [(e["field"], e["old"], e["new"]) for e in ev] == \
        [("assignee", None, "tom"), ("assignee", "tom", None)], ev
    # the assignee filter of the list sees it
    patched(desk, tom, t["id"], {"assignee": "tom"})
    assert t["id"] in list_ids(desk, tom, scope="tenant", assignee="tom")


@pytest.mark.parametrize("who", ["nina", "tess", "ada", "alice", "bob", "sam", "carol", "ghost",
                                 "nobody-" + "x" * 8, "", "   "])
def test_bad_assignee_is_422(desk, who):
    # nina is tier 1, tess tier 3 (ticket at tier 2), ada admin of no tier; alice/bob reporters;
    # sam/carol south-clinic; ghost and nobody not in the directory
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = patch(desk, client(desk, "tom"), t["id"], {"assignee": who})
    assert_problem(r, 422, "invalid-fields", "assignee")


@pytest.mark.parametrize("who", ["TOM", "Tom", "tom ", " tom"])
def test_assignee_in_another_spelling_is_canonical_or_422(desk, who):
    # the directory matches uids case-insensitively and ignores surrounding
    # blanks; the ticket must then name the agent by the uid ("tom"), or the
    # value is refused -- never stored as typed, where assignee=tom misses it
    t = create_ticket(desk, client(desk, "alice"))
    tom = client(desk, "tom")
    r = patch(desk, tom, t["id"], {"assignee": who})
    if r.status_code == 422:
        assert_problem(r, 422, "invalid-fields", "assignee")
        return
    got = assert_json(r, 200)
    assert got["assignee"] == "tom", describe(r)
    assert t["id"] in list_ids(desk, tom, scope="tenant", assignee="tom")


def test_bad_assignee_keeps_current_one(desk):
    t = create_ticket(desk, client(desk, "alice"))
    tom = client(desk, "tom")
    patched(desk, tom, t["id"], {"assignee": "tom"})
    with unchanged(desk, t["id"]):
        r = patch(desk, tom, t["id"], {"assignee": "nina", "status": "open"})
    assert_problem(r, 422, "invalid-fields", "assignee")
    assert agent_view(desk, t["id"])["assignee"] == "tom"


# ---- tier ------------------------------------------------------------------------

def _due_offsets(t, start):
    return (rfc3339(t["response_due_at"]) - start, rfc3339(t["resolution_due_at"]) - start)


def test_patch_tier_restarts_clock_and_clears_assignee(desk):
    h = datetime.timedelta(hours=1)
    with desk.httpd_conf(CONF_24X7):
        t = create_ticket(desk, client(desk, "alice"))          # job-stopped/single: high
        assert t["priority"] == "high" and t["tier"] == 2
        created = rfc3339(t["created_at"])
        assert _due_offsets(t, created) == (1 * h, 8 * h)
        tom = client(desk, "tom")
        # another priority: that priority's target, from the same tier start
        got, _ = patched(desk, tom, t["id"], {"priority": "normal"})
        assert _due_offsets(got, created) == (1 * h, 40 * h)
        got, _ = patched(desk, tom, t["id"], {"priority": "high"})
        assert _due_offsets(got, created) == (1 * h, 8 * h)
        patched(desk, tom, t["id"], {"assignee": "tom"})
        got, _ = patched(desk, tom, t["id"], {"tier": 3})
        assert got["tier"] == 3
        assert got["assignee"] is None
        tier_ev = events(desk, t["id"], "tier")
        assert len(tier_ev) == 1, tier_ev
        e = tier_ev[0]
        assert (e["field"], str(e["old"]), str(e["new"]), e["actor"]) == ("tier", "2", "3", "tom")
        start = rfc3339(e["at"])
        assert _due_offsets(got, start) == (2 * h, 24 * h)
        assert start >= created
        # down to tier 1: its own targets
        got, _ = patched(desk, client(desk, "nina"), t["id"], {"tier": 1})
        assert got["tier"] == 1
        e = events(desk, t["id"], "tier")[-1]
        assert (str(e["old"]), str(e["new"])) == ("3", "1")
        assert _due_offsets(got, rfc3339(e["at"])) == (datetime.timedelta(minutes=30), 4 * h)
        # tier 1 is nina's: she may take it now, tom may not
        r = patch(desk, tom, t["id"], {"assignee": "tom"})
        assert_problem(r, 422, "invalid-fields", "assignee")
        got, _ = patched(desk, tom, t["id"], {"assignee": "nina"})
        assert got["assignee"] == "nina"
        patched(desk, tom, t["id"], {"status": "resolved"})


def test_patch_same_tier_keeps_clock(desk):
    t = create_ticket(desk, client(desk, "alice"))
    got, _ = patched(desk, client(desk, "tom"), t["id"], {"tier": 2})
    assert got["tier"] == 2
    assert got["response_due_at"] == t["response_due_at"]
    assert got["resolution_due_at"] == t["resolution_due_at"]
    assert events(desk, t["id"], "tier") == []


# ---- PATCH bad input -------------------------------------------------------------

UNKNOWN = ["foo", "subject", "id", "key", "tenant", "reporter", "urgency", "impact",
           "created_at", "updated_at", "response_due_at", "resolution_due_at", "sla",
           "events", "comments", "first_response_at", "version", "Status", ""]


@pytest.mark.parametrize("name", UNKNOWN)
def test_patch_unknown_field_is_422(desk, name):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = patch(desk, client(desk, "tom"), t["id"], {name: "x", "status": "open"})
    prob = assert_problem(r, 422, "invalid-fields", name)
    assert name in field_errors(prob)


def test_patch_reporter_unknown_field_is_422(desk):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    with unchanged(desk, t["id"]):
        r = patch(desk, a, t["id"], {"subject": "renamed"})
    assert_problem(r, 422, "invalid-fields", "subject")


BAD_VALUES = [
    ("status-bogus", {"status": "bogus"}, "status"),
    ("status-case", {"status": "Open"}, "status"),
    ("status-number", {"status": 1}, "status"),
    ("status-null", {"status": None}, "status"),
    ("status-array", {"status": ["open"]}, "status"),
    ("priority-bogus", {"priority": "p1"}, "priority"),
    ("priority-number", {"priority": 2}, "priority"),
    ("priority-null", {"priority": None}, "priority"),
    ("category-unknown", {"category": "printer"}, "category"),
    ("category-null", {"category": None}, "category"),
    ("category-object", {"category": {"x": "bug"}}, "category"),
    ("tier-0", {"tier": 0}, "tier"),
    ("tier-5", {"tier": 5}, "tier"),
    ("tier-negative", {"tier": -1}, "tier"),
    ("tier-huge", {"tier": 2 ** 40}, "tier"),
    ("tier-string", {"tier": "3"}, "tier"),
    ("tier-float", {"tier": 2.5}, "tier"),
    ("tier-bool", {"tier": True}, "tier"),
    ("tier-null", {"tier": None}, "tier"),
    ("assignee-number", {"assignee": 5}, "assignee"),
    ("assignee-array", {"assignee": ["tom"]}, "assignee"),
    ("assignee-bool", {"assignee": False}, "assignee"),
    ("cc-string", {"cc": "x@north-hospital.example"}, "cc"),
    ("cc-not-address", {"cc": ["not an address"]}, ("cc", "cc[0]")),
    ("cc-number", {"cc": [5]}, ("cc", "cc[0]")),
    ("cc-null", {"cc": None}, "cc"),
    ("cc-header-injection", {"cc": ["a@b.example\r\nBcc: x@evil.example"]}, ("cc", "cc[0]")),
    ("cc-21", {"cc": ["u%d@north-hospital.example" % i for i in range(21)]}, "cc"),
    ("description-blank", {"description": "  \n "}, "description"),
    ("description-empty", {"description": ""}, "description"),
    ("description-number", {"description": 5}, "description"),
    ("description-null", {"description": None}, "description"),
    ("description-20001", {"description": "a" * 20001}, "description"),
    ("description-bel", {"description": "beep \u0007"}, "description"),
]


@pytest.mark.parametrize("body,field", [c[1:] for c in BAD_VALUES], ids=[c[0] for c in BAD_VALUES])
def test_patch_invalid_value_is_422(desk, body, field):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = patch(desk, client(desk, "tom"), t["id"], body)
    assert_problem(r, 422, "invalid-fields", field)


@pytest.mark.parametrize("body,field", [
    ({"cc": "x"}, "cc"), ({"cc": ["nope"]}, ("cc", "cc[0]")), ({"description": ""}, "description"),
    ({"description": 7}, "description"), ({"foo": 1}, "foo"),
], ids=["cc-string", "cc-not-address", "description-empty", "description-number", "unknown"])
def test_reporter_patch_invalid_value_is_422(desk, body, field):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    with unchanged(desk, t["id"]):
        r = patch(desk, a, t["id"], body)
    assert_problem(r, 422, "invalid-fields", field)


def test_patch_all_errors_are_collected(desk):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = patch(desk, client(desk, "tom"), t["id"],
                  {"status": "bogus", "tier": 9, "category": "nope", "foo": 1})
    errs = field_errors(assert_problem(r, 422, "invalid-fields"))
    assert {"status", "tier", "category", "foo"} <= set(errs), errs


MALFORMED = {
    "empty": b"",
    "whitespace": b"  \n",
    "truncated": b'{"status": ',
    "trailing-garbage": b'{"status": "open"} x',
    "two-objects": b'{"status": "open"}{"status": "pending"}',
    "trailing-comma": b'{"status": "open",}',
    "top-array": b'[{"status": "open"}]',
    "top-string": b'"open"',
    "top-null": b"null",
    "single-quotes": b"{'status': 'open'}",
    "duplicate-key": b'{"status": "open", "status": "pending"}',
    "invalid-utf8": b'{"description": "bad \xff\xfe"}',
    "lone-surrogate": b'{"description": "bad \\ud800"}',
    "nul-escape": b'{"description": "a\\u0000b"}',
    "depth-3000": b'{"cc": ' + b"[" * 3000 + b"]" * 3000 + b"}",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_patch_malformed_json_is_400(desk, name):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = patch(desk, client(desk, "tom"), t["id"], data=MALFORMED[name])
    assert_problem(r, 400, "malformed-json")


@pytest.mark.parametrize("ctype", [None, "", "text/plain", "application/x-www-form-urlencoded",
                                   "application/merge-patch+json", "application/json-patch+json",
                                   "multipart/form-data; boundary=x", "application/xml"])
def test_patch_wrong_content_type_is_415(desk, ctype):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = patch(desk, client(desk, "tom"), t["id"], {"status": "open"}, ctype=ctype)
    assert_problem(r, 415, "unsupported-media-type")


def test_patch_too_large_is_413(desk):
    t = create_ticket(desk, client(desk, "alice"))
    tom = client(desk, "tom")
    data = dumps({"description": "a" * 70000})
    with unchanged(desk, t["id"]):
        r = patch(desk, tom, t["id"], data=data)
    assert_problem(r, 413, "too-large")
    data = dumps({"status": "open"})
    data = data + b" " * (65536 + 1 - len(data))
    with unchanged(desk, t["id"]):
        r = patch(desk, tom, t["id"], data=data)
    assert_problem(r, 413, "too-large")


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
], ids=["evil-origin", "null-origin", "sec-fetch-cross-site"])
def test_patch_cross_origin_is_403(desk, headers):
    t = create_ticket(desk, client(desk, "alice"))
    for user, body in (("tom", {"status": "open"}), ("alice", {"description": "x"})):
        with unchanged(desk, t["id"]):
            r = patch(desk, client(desk, user), t["id"], body, headers=headers)
        assert_problem(r, 403, "cross-origin")
    with unchanged(desk, t["id"]):
        r = patch(desk, client(desk, "tom"), t["id"], data=b"{not json", headers=headers)
    assert_problem(r, 403, "cross-origin")


def test_patch_same_origin_is_200(desk):
    t = create_ticket(desk, client(desk, "alice"))
    r = patch(desk, client(desk, "tom"), t["id"], {"status": "open"},
              headers={"Origin": desk.url, "Sec-Fetch-Site": "same-origin"})
    assert assert_json(r, 200)["status"] == "open"


def test_patch_missing_ticket_is_404(desk):
    with unchanged_db(desk):
        r = patch(desk, client(desk, "tom"), 2 ** 62, {"status": "open"})
    assert_problem(r, 404, "not-found")


def test_put_and_delete_are_405(desk):
    t = create_ticket(desk, client(desk, "alice"))
    tom = client(desk, "tom")
    for method in ("PUT", "DELETE", "POST"):
        with unchanged(desk, t["id"]):
            r = tom.request(method, turl(desk, t["id"]), data=dumps({"status": "open"}),
                            headers={"Content-Type": "application/json"})
        assert_problem(r, 405, "method-not-allowed")
        assert "PATCH" in r.headers["Allow"], describe(r)


# ---- other tenant and unknown users ----------------------------------------------

@pytest.mark.parametrize("sub,body", [
    ("", {"description": "x"}), ("/comments", {"body": "x"}), ("/reopen", {"reason": "x"}),
    ("/escalate", {"note": "x"}),
], ids=["patch", "comment", "reopen", "escalate"])
def test_unknown_and_anonymous_users(desk, sub, body):
    t = ticket_in(desk, "resolved" if sub == "/reopen" else "new")
    method = "PATCH" if sub == "" else "POST"
    ghost = client(desk, "ghost", password="ghost-secret", base="/altdesk")
    with unchanged(desk, t["id"]):
        r = ghost.request(method, desk.alt("/tickets/%d%s" % (t["id"], sub)), data=dumps(body),
                          headers={"Content-Type": "application/json"})
    assert_problem(r, 403, "unknown-user")
    with unchanged(desk, t["id"]), desk.client(None) as anon:
        r = anon.request(method, desk.noauth("/tickets/%d%s" % (t["id"], sub)),
                         data=dumps(body), headers={"Content-Type": "application/json"})
    assert_problem(r, 401, "unauthenticated")


@pytest.mark.parametrize("user,body", [
    ("carol", {"description": "hijack"}),
    ("carol", {"cc": ["carol@south-clinic.example"]}),
    ("dan", {"description": "hijack"}),
    ("sam", {"status": "open"}),
    ("sam", {"assignee": "sam"}),
    ("sam", {"tier": 3, "priority": "critical"}),
])
def test_patch_other_tenant_is_404(desk, user, body):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = patch(desk, client(desk, user), t["id"], body)
    prob = assert_problem(r, 404, "not-found")
    assert t["subject"] not in r.text
    # the same answer as for a ticket that does not exist
    r2 = patch(desk, client(desk, user), 2 ** 62, body)
    assert assert_problem(r2, 404, "not-found")["title"] == prob["title"]


# ---- reopen ----------------------------------------------------------------------

def reopen(desk, s, tid, body, **kw):
    return post(desk, s, tid, "/reopen", body, **kw)


@pytest.mark.parametrize("status,user", [("resolved", "alice"), ("closed", "alice"),
                                         ("resolved", "tom"), ("closed", "tom"),
                                         ("closed", "ada")])
def test_reopen(desk, status, user):
    t = ticket_in(desk, status)
    s = client(desk, user)
    reason = "Still prints nothing after the fix %s" % marker()
    r = reopen(desk, s, t["id"], {"reason": reason})
    got = assert_json(r, 200)
    assert got["id"] == t["id"] and got["status"] == "open"
    etag_version(r.headers.get("ETag"), t["id"], "r" if user == "alice" else "a")
    assert ("events" in got) == (user != "alice")
    # the reason is a public comment: the reporter sees it
    mine, _ = get(desk, client(desk, "alice"), t["id"])
    assert mine["status"] == "open"
    cm = [c for c in mine["comments"] if c["body"] == reason]
    assert len(cm) == 1, mine["comments"]
    assert cm[0]["internal"] is False and cm[0]["author"]["user"] == user
    ev = events(desk, t["id"], "reopened")
    assert len(ev) == 1, ev
    assert (ev[0]["old"], ev[0]["new"], ev[0]["note"], ev[0]["actor"]) == \
        (status, "open", reason, user), ev[0]
    # a reopened ticket can be worked and resolved again
    got, _ = patched(desk, client(desk, "tom"), t["id"], {"status": "resolved"})
    assert got["status"] == "resolved"


@pytest.mark.parametrize("status", ["new", "open", "pending"])
def test_reopen_active_ticket_is_409(desk, status):
    t = ticket_in(desk, status)
    for user in ("alice", "tom"):
        with unchanged(desk, t["id"]):
            r = reopen(desk, client(desk, user), t["id"], {"reason": "why not"})
        assert_problem(r, 409, "conflict")


def test_reopen_twice_is_409(desk):
    t = ticket_in(desk, "resolved")
    a = client(desk, "alice")
    assert_json(reopen(desk, a, t["id"], {"reason": "not fixed"}), 200)
    with unchanged(desk, t["id"]):
        r = reopen(desk, a, t["id"], {"reason": "again"})
    assert_problem(r, 409, "conflict")


@pytest.mark.parametrize("body,field", [
    ({}, "reason"), ({"reason": None}, "reason"), ({"reason": ""}, "reason"),
    ({"reason": "  \n\t"}, "reason"), ({"reason": 5}, "reason"), ({"reason": ["x"]}, "reason"),
    ({"reason": {"text": "x"}}, "reason"), ({"reason": "ok", "status": "new"}, "status"),
    ({"reason": "ok", "foo": 1}, "foo"), ({"reason": "ok", "internal": True}, "internal"),
    ({"reason": "a" * 20001}, "reason"), ({"reason": "bell \u0007"}, "reason"),
], ids=["missing", "null", "empty", "blank", "number", "array", "object", "unknown-status",
        "unknown-foo", "unknown-internal", "too-long", "control"])
def test_reopen_invalid_is_422(desk, body, field):
    t = ticket_in(desk, "resolved")
    with unchanged(desk, t["id"]):
        r = reopen(desk, client(desk, "alice"), t["id"], body)
    assert_problem(r, 422, "invalid-fields", field)


@pytest.mark.parametrize("name", ["empty", "truncated", "top-array", "single-quotes",
                                  "duplicate-key", "invalid-utf8", "top-null"])
def test_reopen_malformed_json_is_400(desk, name):
    data = {"empty": b"", "truncated": b'{"reason": ', "top-array": b'["x"]',
            "single-quotes": b"{'reason': 'x'}",
            "duplicate-key": b'{"reason": "a", "reason": "b"}',
            "invalid-utf8": b'{"reason": "\xff"}', "top-null": b"null"}[name]
    t = ticket_in(desk, "resolved")
    with unchanged(desk, t["id"]):
        r = reopen(desk, client(desk, "alice"), t["id"], None, data=data)
    assert_problem(r, 400, "malformed-json")


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_reopen_wrong_content_type_is_415(desk, ctype):
    t = ticket_in(desk, "resolved")
    with unchanged(desk, t["id"]):
        r = reopen(desk, client(desk, "alice"), t["id"], {"reason": "x"}, ctype=ctype)
    assert_problem(r, 415, "unsupported-media-type")


def test_reopen_too_large_is_413(desk):
    t = ticket_in(desk, "resolved")
    with unchanged(desk, t["id"]):
        r = reopen(desk, client(desk, "alice"), t["id"], {"reason": "a" * 70000})
    assert_problem(r, 413, "too-large")


def test_reopen_cross_origin_is_403(desk):
    t = ticket_in(desk, "resolved")
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        with unchanged(desk, t["id"]):
            r = reopen(desk, client(desk, "alice"), t["id"], {"reason": "x"}, headers=headers)
        assert_problem(r, 403, "cross-origin")


@pytest.mark.parametrize("user", ["bob", "carol", "dan", "sam"])
def test_reopen_by_colleague_or_other_tenant_is_404(desk, user):
    t = ticket_in(desk, "resolved")
    with unchanged(desk, t["id"]):
        r = reopen(desk, client(desk, user), t["id"], {"reason": "let me in"})
    assert_problem(r, 404, "not-found")
    assert t["subject"] not in r.text


def test_reopen_missing_ticket_is_404(desk):
    with unchanged_db(desk):
        r = reopen(desk, client(desk, "alice"), 2 ** 62, {"reason": "x"})
    assert_problem(r, 404, "not-found")


# ---- full-text search ------------------------------------------------------------

def test_search_unicode_subject_case_insensitive(desk):
    a = client(desk, "alice")
    word = marker("w")
    t = create_ticket(desk, a, subject="Принтер не печатает этикетки %s" % word)
    for q in ("принтер", "ПРИНТЕР", "Принтер", "этикетки", "ЭТИКЕТКИ", "Этикетки",
              "принтер этикетки", word, word.upper()):
        assert t["id"] in list_ids(desk, a, q=q), q
        assert t["id"] in list_ids(desk, client(desk, "tom"), scope="tenant", q=q), q
    assert t["id"] not in list_ids(desk, a, q="сканер")


def test_search_english_word_in_subject_and_description(desk):
    a = client(desk, "alice")
    w1, w2 = marker("s"), marker("d")
    t = create_ticket(desk, a, subject="Barcode scanner %s drops characters" % w1,
                      description="The handheld scanner on ward 2 loses digits %s." % w2)
    other = create_ticket(desk, a)
    for q in (w1, w2, "%s %s" % (w1, w2), w1.upper()):
        ids = list_ids(desk, a, q=q)
        assert t["id"] in ids, q
        assert other["id"] not in ids, q
    assert list_ids(desk, a, q=marker("none")) == []
    # search combines with the other filters
    assert t["id"] in list_ids(desk, a, q=w1, status="new", category="device")
    assert t["id"] not in list_ids(desk, a, q=w1, status="done")


def test_search_follows_description_edits(desk):
    a = client(desk, "alice")
    old, new = marker("old"), marker("new")
    t = create_ticket(desk, a, description="first words %s" % old)
    assert t["id"] in list_ids(desk, a, q=old)
    patched(desk, a, t["id"], {"description": "second words %s" % new})
    assert t["id"] in list_ids(desk, a, q=new)
    assert t["id"] not in list_ids(desk, a, q=old)


def test_search_tenant_isolation(desk):
    word = marker("iso")
    t = create_ticket(desk, client(desk, "alice"), subject="Принтер этикетки %s" % word)
    for user, params in (("carol", {}), ("dan", {}), ("sam", {"scope": "tenant"}),
                         ("sam", {"scope": "queue"}), ("bob", {})):
        for q in (word, "принтер", "этикетки"):
            ids = list_ids(desk, client(desk, user), q=q, **params)
            assert t["id"] not in ids, (user, q)
    r = client(desk, "carol").get(desk.api("/tickets"), params={"q": word})
    assert word not in r.text


@pytest.mark.parametrize("q", ['"', '""', "a\"b", "AND", "OR", "NOT", "a OR b", "*", "a*",
                               "NEAR(a b)", "-x", "^x", "x:y", "subject:x", "(", ")", "{a}",
                               "'; DROP TABLE tickets; --", "%", "_", "\\", "a & b", "!x",
                               "<->", "a | b", "😀", "x" * 300])
def test_search_hostile_query_is_not_an_error(desk, q):
    a = client(desk, "alice")
    create_ticket(desk, a)
    r = a.get(desk.api("/tickets"), params={"q": q})
    page = assert_json(r, 200)
    assert isinstance(page["items"], list)
    assert all(it["reporter"]["user"] == "alice" for it in page["items"])

