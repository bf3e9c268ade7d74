"""GET /tickets/{id} and GET /tickets: visibility by role and tenant, ETags,
scopes, filters, limits, cursors."""

import os

import pytest

from sdesk_util import (
    SUMMARY_KEYS, assert_json, assert_problem, b64url, client, create_ticket,
    describe, event_kind, list_all, list_ids, rfc3339,
)

NORTH = ("alice", "bob", "nina", "tom", "tess", "ada")
SOUTH = ("carol", "dan", "sam")


# ---- one ticket -----------------------------------------------------------------

def test_reporter_reads_own_ticket(desk):
    s = client(desk, "alice")
    t = create_ticket(desk, s)
    r = s.get(desk.api("/tickets/%d" % t["id"]))
    got = assert_json(r, 200)
    assert got == t
    assert "events" not in got
    assert r.headers.get("ETag"), describe(r)


def test_if_none_match(desk):
    s = client(desk, "alice")
    t = create_ticket(desk, s)
    url = desk.api("/tickets/%d" % t["id"])
    r = s.get(url)
    assert_json(r, 200)
    etag = r.headers["ETag"]
    r2 = s.get(url, headers={"If-None-Match": etag})
    assert r2.status_code == 304, describe(r2)
    assert r2.content == b""
    r3 = s.get(url, headers={"If-None-Match": '"something-else"'})
    assert_json(r3, 200)
    r4 = s.get(url, headers={"If-None-Match": '"x", ' + etag})
    assert r4.status_code == 304, describe(r4)
    # another ticket's tag does not match this one
    t2 = create_ticket(desk, s)
    r5 = s.get(desk.api("/tickets/%d" % t2["id"]), headers={"If-None-Match": etag})
    assert_json(r5, 200)


def test_etag_differs_between_reporter_and_agent_views(desk):
    # the agent view carries events: it is another representation
    s = client(desk, "alice")
    t = create_ticket(desk, s)
    url = desk.api("/tickets/%d" % t["id"])
    etag = s.get(url).headers["ETag"]
    r = client(desk, "tom").get(url, headers={"If-None-Match": etag})
    got = assert_json(r, 200)
    assert "events" in got


@pytest.mark.parametrize("user", ["carol", "dan", "sam"])
def test_other_tenant_cannot_read(desk, user):
    t = create_ticket(desk, client(desk, "alice"))
    r = client(desk, user).get(desk.api("/tickets/%d" % t["id"]))
    prob = assert_problem(r, 404, "not-found")
    assert t["subject"] not in r.text
    # the same answer as for an id that does not exist at all
    r2 = client(desk, user).get(desk.api("/tickets/%d" % (2 ** 62)))
    prob2 = assert_problem(r2, 404, "not-found")
    assert prob["title"] == prob2["title"]


def test_south_ticket_invisible_to_north(desk):
    t = create_ticket(desk, client(desk, "carol"))
    for user in NORTH:
        r = client(desk, user).get(desk.api("/tickets/%d" % t["id"]))
        assert_problem(r, 404, "not-found")


def test_colleague_reporter_cannot_read(desk):
    t = create_ticket(desk, client(desk, "alice"))
    r = client(desk, "bob").get(desk.api("/tickets/%d" % t["id"]))
    assert_problem(r, 404, "not-found")
    assert t["subject"] not in r.text


@pytest.mark.parametrize("user", ["nina", "tom", "tess"])
def test_agents_read_tenant_tickets_with_events(desk, user):
    t = create_ticket(desk, client(desk, "alice"))
    got = assert_json(client(desk, user).get(desk.api("/tickets/%d" % t["id"])), 200)
    for k in t:
        assert got[k] == t[k], k
    assert isinstance(got.get("events"), list), got
    assert "created" in [event_kind(e) for e in got["events"]], got["events"]


def test_admin_reads_tenant_ticket(desk):
    t = create_ticket(desk, client(desk, "alice"))
    got = assert_json(client(desk, "ada").get(desk.api("/tickets/%d" % t["id"])), 200)
    assert got["id"] == t["id"] and got["subject"] == t["subject"]


def test_missing_ticket_is_404(desk):
    r = client(desk, "tom").get(desk.api("/tickets/%d" % (2 ** 62)))
    assert_problem(r, 404, "not-found")
    r = client(desk, "tom").get(desk.api("/tickets/9223372036854775807"))
    assert_problem(r, 404, "not-found")


# ---- lists: shape and scope=mine ---------------------------------------------------

def test_list_shape(desk):
    s = client(desk, "alice")
    t = create_ticket(desk, s)
    page = assert_json(s.get(desk.api("/tickets")), 200)
    assert set(page) >= {"items", "next_cursor"}
    assert page["next_cursor"] is None or isinstance(page["next_cursor"], str)
    assert page["items"], page
    first = page["items"][0]
    assert set(first) >= SUMMARY_KEYS, "missing: %s" % (SUMMARY_KEYS - set(first))
    assert first["id"] == t["id"]  # newest first
    for k in ("key", "subject", "category", "priority", "status", "tier", "assignee",
              "created_at", "updated_at", "resolution_due_at", "sla"):
        assert first[k] == t[k], k
    assert first["reporter"]["user"] == "alice"


def test_mine_is_only_mine_newest_first(desk):
    a, b = client(desk, "alice"), client(desk, "bob")
    ta1 = create_ticket(desk, a)
    tb = create_ticket(desk, b)
    ta2 = create_ticket(desk, a)
    items, _ = list_all(desk, a)
    ids = [it["id"] for it in items]
    assert ta1["id"] in ids and ta2["id"] in ids
    assert tb["id"] not in ids
    assert ids.index(ta2["id"]) < ids.index(ta1["id"])
    assert all(it["reporter"]["user"] == "alice" for it in items)
    assert len(ids) == len(set(ids))
    times = [rfc3339(it["created_at"]) for it in items]
    assert times == sorted(times, reverse=True)
    # explicit scope=mine is the default
    assert list_ids(desk, a, scope="mine") == ids
    bids = list_ids(desk, b)
    assert tb["id"] in bids and ta1["id"] not in bids and ta2["id"] not in bids


def test_agent_mine_is_what_the_agent_reported(desk):
    tom = client(desk, "tom")
    mine = create_ticket(desk, tom)
    other = create_ticket(desk, client(desk, "alice"))
    ids = list_ids(desk, tom)
    assert mine["id"] in ids and other["id"] not in ids


# ---- scope=tenant --------------------------------------------------------------------

@pytest.mark.parametrize("user", ["tom", "nina", "ada"])
def test_tenant_scope_for_agents_and_admins(desk, user):
    ta = create_ticket(desk, client(desk, "alice"))
    tb = create_ticket(desk, client(desk, "bob"))
    tc = create_ticket(desk, client(desk, "carol"))
    items, _ = list_all(desk, client(desk, user), scope="tenant")
    ids = [it["id"] for it in items]
    assert ta["id"] in ids and tb["id"] in ids
    assert tc["id"] not in ids
    assert all(it["reporter"]["user"] in NORTH for it in items)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("user", ["alice", "bob", "carol"])
def test_tenant_scope_forbidden_for_reporters(desk, user):
    r = client(desk, user).get(desk.api("/tickets"), params={"scope": "tenant"})
    assert_problem(r, 403, "forbidden")


# ---- scope=queue ---------------------------------------------------------------------

def test_queue_for_tier2_agent(desk):
    t = create_ticket(desk, client(desk, "alice"))
    tc = create_ticket(desk, client(desk, "carol"))
    items, _ = list_all(desk, client(desk, "tom"), scope="queue")
    ids = [it["id"] for it in items]
    assert t["id"] in ids
    assert tc["id"] not in ids
    assert all(it["tier"] == 2 for it in items)
    assert all(it["status"] in ("new", "open", "pending") for it in items)
    assert all(it["reporter"]["user"] in NORTH for it in items)
    dues = [rfc3339(it["resolution_due_at"]) for it in items]
    assert dues == sorted(dues), "queue not ordered by resolution_due_at ascending"


def test_queue_of_other_tiers_lacks_tier2_ticket(desk):
    t = create_ticket(desk, client(desk, "alice"))
    for user, tier in (("nina", 1), ("tess", 3)):
        items, _ = list_all(desk, client(desk, user), scope="queue")
        assert t["id"] not in [it["id"] for it in items]
        assert all(it["tier"] == tier for it in items)


def test_queue_south_agent_sees_only_south(desk):
    tn = create_ticket(desk, client(desk, "alice"))
    ts = create_ticket(desk, client(desk, "dan"))
    ids = list_ids(desk, client(desk, "sam"), scope="queue")
    assert ts["id"] in ids and tn["id"] not in ids


@pytest.mark.parametrize("user", ["alice", "carol"])
def test_queue_forbidden_for_reporters(desk, user):
    r = client(desk, user).get(desk.api("/tickets"), params={"scope": "queue"})
    assert_problem(r, 403, "forbidden")


# ---- filters ----------------------------------------------------------------------------

def test_filters(desk):
    a, tom = client(desk, "alice"), client(desk, "tom")
    crit = create_ticket(desk, a, urgency="patient-safety", impact="single", category="outage")
    norm = create_ticket(desk, a, urgency="not-blocking", impact="single", category="training")

    def ids(**params):
        return list_ids(desk, tom, scope="tenant", **params)

    got = ids(priority="critical")
    assert crit["id"] in got and norm["id"] not in got
    got = ids(priority="normal")
    assert norm["id"] in got and crit["id"] not in got
    got = ids(category="training")
    assert norm["id"] in got and crit["id"] not in got
    for st in ("new", "active"):
        got = ids(status=st)
        assert crit["id"] in got and norm["id"] in got, st
    for st in ("open", "pending", "resolved", "closed", "done"):
        got = ids(status=st)
        assert crit["id"] not in got and norm["id"] not in got, st
    got = ids(tier="2")
    assert crit["id"] in got and norm["id"] in got
    for tier in ("1", "3", "4"):
        got = ids(tier=tier)
        assert crit["id"] not in got, tier
    got = ids(assignee="tom")
    assert crit["id"] not in got
    # filters combine, and the items match them
    items, _ = list_all(desk, tom, scope="tenant", priority="critical", status="active",
                        category="outage", tier="2")
    assert crit["id"] in [it["id"] for it in items]
    for it in items:
        assert it["priority"] == "critical" and it["category"] == "outage"
        assert it["status"] in ("new", "open", "pending") and it["tier"] == 2
    # the same filters apply to scope=mine
    got = list_ids(desk, a, priority="critical")
    assert crit["id"] in got and norm["id"] not in got


@pytest.mark.parametrize("params", [
    {"status": "bogus"}, {"status": "NEW"}, {"status": "new,open"},
    {"tier": "9"}, {"tier": "0"}, {"tier": "5"}, {"tier": "abc"}, {"tier": "-1"},
    {"tier": "2.0"},
    {"priority": "x"}, {"priority": "Critical"},
    {"category": "nope"},
    {"scope": "bogus"}, {"scope": "all"},
    {"foo": "1"}, {"id": "1"}, {"tenant": "south-clinic"},
], ids=lambda p: "&".join("%s=%s" % kv for kv in p.items()))
def test_bad_parameter_is_400(desk, params):
    r = client(desk, "tom").get(desk.api("/tickets"), params=params)
    assert_problem(r, 400, "invalid-parameter")


@pytest.mark.parametrize("query", [
    "status=new&status=open", "limit=1&limit=2", "scope=mine&scope=tenant",
    "tier=2&tier=2", "priority=high&priority=high",
])
def test_repeated_parameter_is_400(desk, query):
    r = client(desk, "tom").get(desk.api("/tickets") + "?" + query)
    assert_problem(r, 400, "invalid-parameter")


@pytest.mark.parametrize("limit", ["0", "-1", "101", "1e3", "abc", "1.5", "99999999999999999999",
                                   " 5", "0x10"])
def test_bad_limit_is_400(desk, limit):
    r = client(desk, "alice").get(desk.api("/tickets"), params={"limit": limit})
    assert_problem(r, 400, "invalid-parameter")


def test_limit_bounds_ok(desk):
    s = client(desk, "alice")
    create_ticket(desk, s)
    create_ticket(desk, s)
    page = assert_json(s.get(desk.api("/tickets"), params={"limit": "1"}), 200)
    assert len(page["items"]) == 1 and page["next_cursor"]
    page = assert_json(s.get(desk.api("/tickets"), params={"limit": "100"}), 200)
    assert 2 <= len(page["items"]) <= 100


def test_default_limit_is_25(desk):
    s = client(desk, "dan")
    have = len(list_ids(desk, s))
    for _ in range(max(0, 26 - have)):
        create_ticket(desk, s)
    page = assert_json(s.get(desk.api("/tickets")), 200)
    assert len(page["items"]) == 25
    assert isinstance(page["next_cursor"], str) and page["next_cursor"]


# ---- paging ----------------------------------------------------------------------------

def test_paging_walk(desk):
    s = client(desk, "tess")  # reports only here; any earlier tickets are older
    mine = [create_ticket(desk, s)["id"] for _ in range(7)]
    newest_first = list(reversed(mine))
    items, pages = list_all(desk, s, limit=3)
    ids = [it["id"] for it in items]
    assert len(ids) == len(set(ids)), "duplicates across pages"
    assert ids[:7] == newest_first
    assert all(n == 3 for n in pages[:-1]) and 1 <= pages[-1] <= 3, pages
    assert sorted(ids) == sorted(list_ids(desk, s, limit=100))
    if len(ids) == 7:
        assert pages == [3, 3, 1]


def test_paging_queue_and_tenant_no_duplicates(desk):
    a = client(desk, "alice")
    new = [create_ticket(desk, a)["id"] for _ in range(4)]
    tom = client(desk, "tom")
    for scope in ("queue", "tenant"):
        small, _ = list_all(desk, tom, limit=3, scope=scope)
        big, _ = list_all(desk, tom, limit=100, scope=scope)
        sids = [it["id"] for it in small]
        assert len(sids) == len(set(sids)), scope
        assert sids == [it["id"] for it in big], scope
        assert set(new) <= set(sids), scope


def _cursor(desk, s, **params):
    q = {"limit": "1"}
    q.update(params)
    page = assert_json(s.get(desk.api("/tickets"), params=q), 200)
    assert page["next_cursor"], page
    return page["next_cursor"]


def _flip(cur, i):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    c = cur[i]
    if c in alphabet:
        n = alphabet[alphabet.index(c) ^ 0x20]
    else:
        n = "A" if c != "A" else "B"
    return cur[:i] + n + cur[i + 1:]


def test_forged_cursor_is_400(desk):
    s = client(desk, "alice")
    create_ticket(desk, s)
    create_ticket(desk, s)
    cur = _cursor(desk, s)
    forged = {
        "flip-first": _flip(cur, 0),
        "flip-middle": _flip(cur, len(cur) // 2),
        "flip-near-end": _flip(cur, len(cur) - 2),
        "truncated": cur[:-2],
        "extended": cur + "AAAA",
        "random-same-length": b64url(os.urandom(len(cur) * 3 // 4 + 1))[:len(cur)],
        "random-short": b64url(os.urandom(12)),
        "abc": "abc",
        "not-base64": "!!!!$$$$",
        "huge": "A" * 4000,
    }
    for name, bad in forged.items():
        if bad == cur:
            continue
        r = s.get(desk.api("/tickets"), params={"limit": "1", "cursor": bad})
        assert r.status_code == 400, "%s: %s" % (name, describe(r))
        # an over-long value may be refused as a parameter before it is decoded
        assert_problem(r, 400, ("invalid-cursor", "invalid-parameter") if name == "huge"
                       else "invalid-cursor")


def test_cursor_bound_to_its_query(desk):
    s = client(desk, "alice")
    create_ticket(desk, s)
    create_ticket(desk, s)
    cur = _cursor(desk, s, scope="mine")
    r = s.get(desk.api("/tickets"), params={"limit": "1", "cursor": cur, "status": "new"})
    assert_problem(r, 400, "invalid-cursor")
    r = s.get(desk.api("/tickets"), params={"limit": "1", "cursor": cur, "priority": "high"})
    assert_problem(r, 400, "invalid-cursor")
    tom = client(desk, "tom")
    tcur = _cursor(desk, tom, scope="queue")
    r = tom.get(desk.api("/tickets"), params={"limit": "1", "cursor": tcur, "scope": "tenant"})
    assert_problem(r, 400, "invalid-cursor")
    # the cursor with its own query works, and with another limit too
    r = s.get(desk.api("/tickets"), params={"limit": "1", "cursor": cur})
    assert_json(r, 200)
    r = s.get(desk.api("/tickets"), params={"limit": "5", "cursor": cur})
    assert_json(r, 200)


def test_empty_values_mean_not_given(desk):
    """API.md's own example sends `?q=&limit=&cursor=`, as HTML forms do:
    an empty value is the same as leaving the parameter out."""
    s = client(desk, "tom")
    for _ in range(2):
        create_ticket(desk, client(desk, "alice"))
    plain = assert_json(s.get(desk.api("/tickets")), 200)
    empty = assert_json(s.get(desk.api("/tickets") + "?q=&limit=&cursor=&status=&tier=&scope="), 200)
    assert [it["id"] for it in empty["items"]] == [it["id"] for it in plain["items"]]
    assert len(empty["items"]) <= 25


# ---- tenant isolation in lists ------------------------------------------------------

def test_tenant_isolation_in_every_list(desk):
    north = [create_ticket(desk, client(desk, u))["id"] for u in ("alice", "bob", "tom")]
    south = [create_ticket(desk, client(desk, u))["id"] for u in ("carol", "dan")]
    queries = [
        ("carol", {}), ("carol", {"status": "active"}), ("carol", {"tier": "2"}),
        ("carol", {"priority": "high"}), ("carol", {"category": "device"}),
        ("dan", {}), ("sam", {}), ("sam", {"scope": "tenant"}), ("sam", {"scope": "queue"}),
        ("sam", {"scope": "tenant", "status": "new"}), ("sam", {"scope": "tenant", "tier": "2"}),
    ]
    for user, params in queries:
        items, _ = list_all(desk, client(desk, user), **params)
        ids = {it["id"] for it in items}
        assert not ids & set(north), (user, params)
        assert all(it["reporter"]["user"] in SOUTH for it in items), (user, params)
    ids = set(list_ids(desk, client(desk, "sam"), scope="tenant"))
    assert set(south) <= ids
    for user, params in (("tom", {"scope": "tenant"}), ("tom", {"scope": "queue"}),
                         ("ada", {"scope": "tenant"}), ("alice", {})):
        ids = set(list_ids(desk, client(desk, user), **params))
        assert not ids & set(south), (user, params)


def test_cursor_from_other_tenant_leaks_nothing(desk):
    # a cursor made by one tenant, replayed by another, pages through the
    # replayer's own tickets at most
    tom = client(desk, "tom")
    for _ in range(2):
        create_ticket(desk, client(desk, "alice"))
    cur = _cursor(desk, tom, scope="tenant")
    sam = client(desk, "sam")
    r = sam.get(desk.api("/tickets"), params={"limit": "1", "scope": "tenant", "cursor": cur})
    if r.status_code == 400:
        assert_problem(r, 400, "invalid-cursor")
    else:
        page = assert_json(r, 200)
        assert all(it["reporter"]["user"] in SOUTH for it in page["items"])
