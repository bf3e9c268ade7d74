"""Issue 4, linking tickets to known issues (POST /tickets/{id}/link by agents
and by the ticket's reporter, unlink, conflicts, other tenants, bad input)
and the resolve cascade (PATCH /known-issues/{id} status "resolved" resolves
every active linked ticket, of every tenant for a global issue, with a
public comment and events). Rejected requests leave the database unchanged."""

import pytest

from sdesk_util import (
    assert_json, assert_problem, client, create_ticket, describe, dumps, marker,
    rfc3339, ticket_in, unchanged_db,
)

JSON = {"Content-Type": "application/json"}
ACTIVE = ("new", "open", "pending")


# ---- helpers ---------------------------------------------------------------------

def turl(desk, tid, sub=""):
    return desk.api("/tickets/%s%s" % (tid, sub))


def kurl(desk, kid=None):
    return desk.api("/known-issues" if kid is None else "/known-issues/%s" % (kid,))


def new_ki(desk, user="tom", **fields):
    body = {"title": "Pager gateway drops messages %s" % marker("k"),
            "symptoms": "Pages to on-call staff arrive late or never.",
            "workaround": "Phone the on-call doctor directly."}
    body.update(fields)
    r = client(desk, user).post(kurl(desk), data=dumps(body), headers=JSON)
    return assert_json(r, 201)


def link(desk, s, tid, kid, headers=None, data=None, ctype="application/json"):
    h = {"Content-Type": ctype} if ctype else {}
    h.update(headers or {})
    return s.post(turl(desk, tid, "/link"),
                  data=dumps({"known_issue_id": kid}) if data is None else data, headers=h)


def linked(desk, s, tid, kid):
    """A link that must succeed: returns the ticket."""
    r = link(desk, s, tid, kid)
    t = assert_json(r, 200)
    assert t["id"] == tid, describe(r)
    return t


def get_ticket(desk, user, tid):
    return assert_json(client(desk, user).get(turl(desk, tid)), 200)


def kinds(desk, tid):
    return [e["kind"] for e in get_ticket(desk, "tom", tid)["events"]]


def patch_ticket(desk, user, tid, body):
    r = client(desk, user).patch(turl(desk, tid), data=dumps(body), headers=JSON)
    return assert_json(r, 200)


def patch_ki(desk, user, kid, body, headers=None):
    h = dict(JSON)
    h.update(headers or {})
    return client(desk, user).patch(kurl(desk, kid), data=dumps(body), headers=h)


def assert_ki_member(t, ki):
    got = t.get("known_issue")
    assert isinstance(got, dict), t.get("known_issue")
    assert set(got) >= {"id", "title", "status", "workaround"}, got
    assert got["id"] == ki["id"]
    assert got["title"] == ki["title"]
    assert got["workaround"] == ki["workaround"]
    assert got["status"] == ki["status"]


# ---- link by agents ---------------------------------------------------------------

@pytest.mark.parametrize("user", ["tom", "nina", "tess", "ada"])
def test_agent_links_ticket(desk, user):
    ki = new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    assert t.get("known_issue") is None
    got = linked(desk, client(desk, user), t["id"], ki["id"])
    assert_ki_member(got, ki)
    assert got["status"] == t["status"] and got["subject"] == t["subject"]
    # the reporter sees the link and its workaround
    assert_ki_member(get_ticket(desk, "alice", t["id"]), ki)
    evs = [e for e in get_ticket(desk, "tom", t["id"])["events"] if e["kind"] == "linked"]
    assert len(evs) == 1, evs
    assert evs[0]["actor"] == user


def test_link_counts_in_linked_tickets(desk):
    ki = new_ki(desk)
    tom = client(desk, "tom")
    for _ in range(3):
        linked(desk, tom, create_ticket(desk, client(desk, "alice"))["id"], ki["id"])
    got = assert_json(tom.get(kurl(desk, ki["id"])), 200)
    assert got["linked_tickets"] == 3
    page = assert_json(tom.get(kurl(desk), params={"q": ki["title"].split()[-1]}), 200)
    assert [(it["id"], it["linked_tickets"]) for it in page["items"]] == [(ki["id"], 3)]


def test_link_monitoring_issue(desk):
    ki = new_ki(desk, status="monitoring")
    t = create_ticket(desk, client(desk, "alice"))
    assert_ki_member(linked(desk, client(desk, "tom"), t["id"], ki["id"]), ki)


def test_link_same_issue_again_changes_nothing(desk):
    ki = new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    tom = client(desk, "tom")
    first = linked(desk, tom, t["id"], ki["id"])
    with unchanged_db(desk):
        again = linked(desk, tom, t["id"], ki["id"])
        again_reporter = linked(desk, client(desk, "alice"), t["id"], ki["id"])
    assert_ki_member(again, ki)
    assert_ki_member(again_reporter, ki)
    assert again["updated_at"] == first["updated_at"]
    assert kinds(desk, t["id"]).count("linked") == 1


def test_link_to_another_issue_while_linked_is_409(desk):
    k1, k2 = new_ki(desk), new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    linked(desk, client(desk, "tom"), t["id"], k1["id"])
    with unchanged_db(desk):
        assert_problem(link(desk, client(desk, "tom"), t["id"], k2["id"]), 409, "conflict")
        assert_problem(link(desk, client(desk, "alice"), t["id"], k2["id"]), 409, "conflict")
    assert_ki_member(get_ticket(desk, "alice", t["id"]), k1)


def test_link_to_resolved_issue_is_409(desk):
    ki = new_ki(desk, status="resolved", resolution="Done.")
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged_db(desk):
        assert_problem(link(desk, client(desk, "tom"), t["id"], ki["id"]), 409, "conflict")
        assert_problem(link(desk, client(desk, "alice"), t["id"], ki["id"]), 409, "conflict")
    assert get_ticket(desk, "alice", t["id"]).get("known_issue") is None


def test_link_to_issue_resolved_later_is_409(desk):
    ki = new_ki(desk)
    assert_json(patch_ki(desk, "tom", ki["id"], {"status": "resolved"}), 200)
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged_db(desk):
        assert_problem(link(desk, client(desk, "tom"), t["id"], ki["id"]), 409, "conflict")


def test_link_to_other_tenants_issue_is_422(desk):
    south = new_ki(desk, user="sam")
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged_db(desk):
        for user in ("tom", "alice", "ada"):
            r = link(desk, client(desk, user), t["id"], south["id"])
            assert_problem(r, 422, "invalid-fields", field="known_issue_id")
            assert south["title"] not in r.text
    # and the other way round
    north = new_ki(desk)
    tc = create_ticket(desk, client(desk, "carol"))
    with unchanged_db(desk):
        for user in ("sam", "carol"):
            assert_problem(link(desk, client(desk, user), tc["id"], north["id"]), 422,
                           "invalid-fields", field="known_issue_id")


@pytest.mark.parametrize("kid", [2 ** 62, 9223372036854775807])
def test_link_to_missing_issue_is_422(desk, kid):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged_db(desk):
        for user in ("tom", "alice"):
            assert_problem(link(desk, client(desk, user), t["id"], kid), 422,
                           "invalid-fields", field="known_issue_id")


def test_global_issue_links_tickets_of_both_tenants(desk):
    ki = new_ki(desk, user="ada", scope="global")
    tn = create_ticket(desk, client(desk, "alice"))
    ts = create_ticket(desk, client(desk, "carol"))
    assert_ki_member(linked(desk, client(desk, "alice"), tn["id"], ki["id"]), ki)
    assert_ki_member(linked(desk, client(desk, "sam"), ts["id"], ki["id"]), ki)
    # linked_tickets counts the viewer's tenant only
    for user in ("tom", "alice", "sam", "carol"):
        got = assert_json(client(desk, user).get(kurl(desk, ki["id"])), 200)
        assert got["linked_tickets"] == 1, user
    linked(desk, client(desk, "tom"), create_ticket(desk, client(desk, "bob"))["id"], ki["id"])
    assert assert_json(client(desk, "nina").get(kurl(desk, ki["id"])), 200)["linked_tickets"] == 2
    assert assert_json(client(desk, "dan").get(kurl(desk, ki["id"])), 200)["linked_tickets"] == 1


# ---- link by the reporter ----------------------------------------------------------

def test_reporter_links_own_ticket(desk):
    ki = new_ki(desk)
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    got = linked(desk, a, t["id"], ki["id"])
    assert_ki_member(got, ki)
    assert "events" not in got
    evs = [e for e in get_ticket(desk, "tom", t["id"])["events"] if e["kind"] == "linked"]
    assert len(evs) == 1 and evs[0]["actor"] == "alice", evs


def test_reporter_links_global_issue(desk):
    ki = new_ki(desk, user="ada", scope="global")
    c = client(desk, "carol")
    t = create_ticket(desk, c)
    assert_ki_member(linked(desk, c, t["id"], ki["id"]), ki)


def test_reporter_cannot_unlink(desk):
    ki = new_ki(desk)
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    linked(desk, a, t["id"], ki["id"])
    with unchanged_db(desk):
        assert_problem(link(desk, a, t["id"], None), 403, "forbidden")
    assert_ki_member(get_ticket(desk, "alice", t["id"]), ki)


def test_colleague_cannot_link(desk):
    ki = new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged_db(desk):
        r = link(desk, client(desk, "bob"), t["id"], ki["id"])
        assert_problem(r, 404, "not-found")
        assert t["subject"] not in r.text
    assert get_ticket(desk, "alice", t["id"]).get("known_issue") is None


@pytest.mark.parametrize("user", ["carol", "dan", "sam"])
def test_other_tenant_cannot_link(desk, user):
    ki = new_ki(desk, user="ada", scope="global")
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged_db(desk):
        r = link(desk, client(desk, user), t["id"], ki["id"])
        assert_problem(r, 404, "not-found")
        assert t["subject"] not in r.text


@pytest.mark.parametrize("user", ["bob", "carol", "sam"])
def test_unlink_by_colleague_or_other_tenant_is_404(desk, user):
    ki = new_ki(desk, user="ada", scope="global")
    t = create_ticket(desk, client(desk, "alice"))
    linked(desk, client(desk, "alice"), t["id"], ki["id"])
    with unchanged_db(desk):
        assert_problem(link(desk, client(desk, user), t["id"], None), 404, "not-found")
    assert_ki_member(get_ticket(desk, "alice", t["id"]), ki)


# ---- unlink --------------------------------------------------------------------------

def test_agent_unlinks_and_relinks(desk):
    k1, k2 = new_ki(desk), new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    tom = client(desk, "tom")
    linked(desk, tom, t["id"], k1["id"])
    got = linked(desk, tom, t["id"], None)
    assert got.get("known_issue") is None
    assert get_ticket(desk, "alice", t["id"]).get("known_issue") is None
    evs = get_ticket(desk, "tom", t["id"])["events"]
    assert [e["kind"] for e in evs if e["kind"] in ("linked", "unlinked")] == \
        ["linked", "unlinked"], evs
    assert [e["actor"] for e in evs if e["kind"] == "unlinked"] == ["tom"]
    # now it can go to another issue
    assert_ki_member(linked(desk, tom, t["id"], k2["id"]), k2)
    assert assert_json(tom.get(kurl(desk, k1["id"])), 200)["linked_tickets"] == 0
    assert assert_json(tom.get(kurl(desk, k2["id"])), 200)["linked_tickets"] == 1


def test_unlink_unlinked_ticket_changes_nothing(desk):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged_db(desk):
        got = linked(desk, client(desk, "tom"), t["id"], None)
    assert got.get("known_issue") is None


# ---- bad input ---------------------------------------------------------------------

BAD_BODIES = [
    ("empty-object", b"{}", "known_issue_id"),
    ("string-id", b'{"known_issue_id": "7"}', "known_issue_id"),
    ("float-id", b'{"known_issue_id": 1.5}', "known_issue_id"),
    ("zero-id", b'{"known_issue_id": 0}', "known_issue_id"),
    ("negative-id", b'{"known_issue_id": -3}', "known_issue_id"),
    ("bool-id", b'{"known_issue_id": true}', "known_issue_id"),
    ("array-id", b'{"known_issue_id": [1]}', "known_issue_id"),
    ("unknown-field", b'{"known_issue_id": null, "ticket_id": 1}', "ticket_id"),
]


@pytest.mark.parametrize("name,data,field", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_link_bodies_are_422(desk, name, data, field):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged_db(desk):
        for user in ("tom", "alice"):
            assert_problem(link(desk, client(desk, user), t["id"], None, data=data), 422,
                           "invalid-fields", field=field)


def test_bad_link_requests(desk):
    ki = new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    tom = client(desk, "tom")
    body = dumps({"known_issue_id": ki["id"]})
    with unchanged_db(desk):
        for data in (b"", b'{"known_issue_id": ', b"[]", b"7", body + b"x"):
            assert_problem(link(desk, tom, t["id"], None, data=data), 400, "malformed-json")
        for ctype in ("text/plain", None):
            assert_problem(link(desk, tom, t["id"], None, data=body, ctype=ctype), 415,
                           "unsupported-media-type")
        for h in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            assert_problem(link(desk, tom, t["id"], ki["id"], headers=h), 403, "cross-origin")
            assert_problem(link(desk, client(desk, "alice"), t["id"], ki["id"], headers=h), 403,
                           "cross-origin")
        for tid in (2 ** 62, "0", "abc"):
            assert_problem(link(desk, tom, tid, ki["id"]), 404, "not-found")
        r = tom.get(turl(desk, t["id"], "/link"))
        assert_problem(r, 405)
        r = desk.client(None).post(desk.noauth("/tickets/%d/link" % t["id"]), data=body,
                                   headers=JSON)
        assert_problem(r, 401)
    assert get_ticket(desk, "alice", t["id"]).get("known_issue") is None


# ---- resolve cascade ----------------------------------------------------------------

def public_comments(desk, user, tid):
    return [c for c in get_ticket(desk, user, tid)["comments"] if not c.get("internal")]


def test_resolve_cascade(desk):
    resolution = "Pager gateway firmware updated on %s." % marker()
    ki = new_ki(desk)
    tom = client(desk, "tom")
    # linked while active: new, open, pending
    active = [create_ticket(desk, client(desk, "alice")),
              create_ticket(desk, client(desk, "bob"))]
    for t in active:
        linked(desk, tom, t["id"], ki["id"])
    t_open = ticket_in(desk, "open")
    linked(desk, client(desk, "alice"), t_open["id"], ki["id"])
    t_pend = ticket_in(desk, "pending")
    linked(desk, tom, t_pend["id"], ki["id"])
    active += [t_open, t_pend]
    # linked, then resolved or closed on their own: untouched
    t_res = create_ticket(desk, client(desk, "alice"))
    linked(desk, tom, t_res["id"], ki["id"])
    patch_ticket(desk, "tom", t_res["id"], {"status": "resolved"})
    t_clo = create_ticket(desk, client(desk, "alice"))
    linked(desk, tom, t_clo["id"], ki["id"])
    patch_ticket(desk, "tom", t_clo["id"], {"status": "resolved"})
    patch_ticket(desk, "tom", t_clo["id"], {"status": "closed"})
    # not linked, or linked elsewhere: untouched
    t_free = create_ticket(desk, client(desk, "alice"))
    other = new_ki(desk)
    t_other = create_ticket(desk, client(desk, "alice"))
    linked(desk, tom, t_other["id"], other["id"])

    before = {t["id"]: get_ticket(desk, "tom", t["id"])
              for t in (t_res, t_clo, t_free, t_other)}
    counts = desk.db_counts()
    r = patch_ki(desk, "nina", ki["id"], {"status": "resolved", "resolution": resolution})
    got = assert_json(r, 200)
    assert got["status"] == "resolved" and got["resolution"] == resolution
    assert got.get("tickets_resolved") == len(active), describe(r)
    rfc3339(got["resolved_at"])
    after = desk.db_counts()
    assert after["comments"] - counts["comments"] == len(active)
    assert after["tickets"] == counts["tickets"]
    assert after["ticket_events"] - counts["ticket_events"] >= 2 * len(active)

    for t in active:
        now = get_ticket(desk, "tom", t["id"])
        assert now["status"] == "resolved", (t["id"], now["status"])
        rfc3339(now["resolved_at"])
        ev = now["events"]
        st = [e for e in ev if e["kind"] == "status" and e["new"] == "resolved"]
        assert len(st) == 1 and st[0]["old"] == t["status"] and st[0]["actor"] == "nina", ev
        rk = [e for e in ev if e["kind"] == "resolved-with-known-issue"]
        assert len(rk) == 1 and rk[0]["actor"] == "nina", ev
        # the reporter sees the resolution as a public comment
        reporter = t["reporter"]["user"]
        mine = get_ticket(desk, reporter, t["id"])
        assert mine["status"] == "resolved"
        bodies = [c["body"] for c in public_comments(desk, reporter, t["id"])]
        assert bodies.count(resolution) == 1, bodies
        assert mine["known_issue"]["status"] == "resolved"
    for tid, old in before.items():
        now = get_ticket(desk, "tom", tid)
        assert now["status"] == old["status"], tid
        assert now["comments"] == old["comments"], tid
        assert now["events"] == old["events"], tid
        assert resolution not in str(now)


def test_unlinked_ticket_is_not_resolved(desk):
    ki = new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    tom = client(desk, "tom")
    linked(desk, tom, t["id"], ki["id"])
    linked(desk, tom, t["id"], None)
    r = patch_ki(desk, "tom", ki["id"], {"status": "resolved"})
    assert assert_json(r, 200).get("tickets_resolved") == 0, describe(r)
    now = get_ticket(desk, "alice", t["id"])
    assert now["status"] == "new" and now["comments"] == []


def test_resolve_without_resolution_text(desk):
    ki = new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    linked(desk, client(desk, "alice"), t["id"], ki["id"])
    r = patch_ki(desk, "tom", ki["id"], {"status": "resolved"})
    assert assert_json(r, 200).get("tickets_resolved") == 1, describe(r)
    bodies = [c["body"] for c in public_comments(desk, "alice", t["id"])]
    want = "Resolved with known issue %d: %s" % (ki["id"], ki["title"])
    assert bodies == [want], bodies
    assert get_ticket(desk, "alice", t["id"])["status"] == "resolved"


def test_resolve_with_nothing_linked(desk):
    ki = new_ki(desk)
    counts = desk.db_counts()
    r = patch_ki(desk, "tom", ki["id"], {"status": "resolved"})
    assert assert_json(r, 200).get("tickets_resolved") == 0, describe(r)
    after = desk.db_counts()
    for k in ("tickets", "ticket_events", "comments"):
        assert after[k] == counts[k], k


def test_resolve_twice_resolves_nothing_more(desk):
    ki = new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    linked(desk, client(desk, "tom"), t["id"], ki["id"])
    assert assert_json(patch_ki(desk, "tom", ki["id"], {"status": "resolved"}), 200) \
        .get("tickets_resolved") == 1
    counts = desk.db_counts()
    r = patch_ki(desk, "tom", ki["id"], {"status": "resolved", "workaround": "n/a"})
    got = assert_json(r, 200)
    assert got.get("tickets_resolved", 0) == 0, describe(r)
    after = desk.db_counts()
    assert after["comments"] == counts["comments"]
    assert len(public_comments(desk, "alice", t["id"])) == 1


def test_monitoring_does_not_resolve(desk):
    ki = new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    linked(desk, client(desk, "tom"), t["id"], ki["id"])
    r = patch_ki(desk, "tom", ki["id"], {"status": "monitoring"})
    got = assert_json(r, 200)
    assert got.get("tickets_resolved", 0) == 0
    assert get_ticket(desk, "alice", t["id"])["status"] == "new"


def test_global_issue_resolves_tickets_of_every_tenant(desk):
    ki = new_ki(desk, user="ada", scope="global")
    tn = create_ticket(desk, client(desk, "alice"))
    ts = ticket_in(desk, "open", reporter="carol")
    linked(desk, client(desk, "alice"), tn["id"], ki["id"])
    linked(desk, client(desk, "sam"), ts["id"], ki["id"])
    # agents may not resolve a global issue
    with unchanged_db(desk):
        assert_problem(patch_ki(desk, "tom", ki["id"], {"status": "resolved"}), 403, "forbidden")
        assert_problem(patch_ki(desk, "sam", ki["id"], {"status": "resolved"}), 403, "forbidden")
    assert get_ticket(desk, "alice", tn["id"])["status"] == "new"
    r = patch_ki(desk, "ada", ki["id"], {"status": "resolved"})
    assert assert_json(r, 200).get("tickets_resolved") == 2, describe(r)
    want = "Resolved with known issue %d: %s" % (ki["id"], ki["title"])
    for user, t in (("alice", tn), ("carol", ts)):
        now = get_ticket(desk, user, t["id"])
        assert now["status"] == "resolved", user
        assert [c["body"] for c in public_comments(desk, user, t["id"])] == [want], user
    agent_view = get_ticket(desk, "sam", ts["id"])
    assert "resolved-with-known-issue" in [e["kind"] for e in agent_view["events"]]
    # south's agent sees south's ticket only; nothing of north leaks into it
    assert tn["subject"] not in str(agent_view)


def test_stale_if_match_resolves_nothing(desk):
    ki = new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    linked(desk, client(desk, "tom"), t["id"], ki["id"])
    stale = '"k%d-v%d"' % (ki["id"], 1000)
    with unchanged_db(desk):
        r = patch_ki(desk, "tom", ki["id"], {"status": "resolved"}, headers={"If-Match": stale})
        assert_problem(r, 412, "precondition-failed")
    assert get_ticket(desk, "alice", t["id"])["status"] == "new"
    assert assert_json(client(desk, "tom").get(kurl(desk, ki["id"])), 200)["status"] == "active"


def test_reporter_cannot_resolve(desk):
    ki = new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    linked(desk, client(desk, "alice"), t["id"], ki["id"])
    with unchanged_db(desk):
        assert_problem(patch_ki(desk, "alice", ki["id"], {"status": "resolved"}), 403,
                       "forbidden")
    assert get_ticket(desk, "alice", t["id"])["status"] == "new"


def test_resolved_ticket_can_be_reopened_and_stays_linked(desk):
    ki = new_ki(desk)
    t = create_ticket(desk, client(desk, "alice"))
    linked(desk, client(desk, "alice"), t["id"], ki["id"])
    assert_json(patch_ki(desk, "tom", ki["id"], {"status": "resolved"}), 200)
    r = client(desk, "alice").post(turl(desk, t["id"], "/reopen"),
                                   data=dumps({"reason": "Still no pages."}), headers=JSON)
    got = assert_json(r, 200)
    assert got["status"] == "open"
    assert got["known_issue"]["id"] == ki["id"]
