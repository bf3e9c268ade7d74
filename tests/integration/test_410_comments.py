"""Issue 3, comments: POST /tickets/{id}/comments (public and internal), who
sees what, first response, the reporter's answer reopening a pending ticket,
closed tickets, other reporters and tenants, and bad input. Every rejected
request must leave the database and the ticket unchanged."""

import concurrent.futures
import re

import pytest

import sdesk_util
from sdesk_util import (
    assert_json, assert_problem, create_ticket, describe, dumps, field_errors, list_all,
    marker, rfc3339, unchanged_db,
)

ETAG_RE = re.compile(r'^"t(\d+)-v(\d+)-([ar])"$')
COMMENT_KEYS = {"id", "ticket_id", "author", "body", "internal", "created_at"}


# ---- helpers ---------------------------------------------------------------------

# sessions: one per user per test, closed afterwards (sdesk_util.session)
client = sdesk_util.session
fresh_client = sdesk_util.fresh_client
turl = sdesk_util.turl


post = sdesk_util.ticket_post
patched = sdesk_util.ticket_patched
events = sdesk_util.ticket_events
snapshot = sdesk_util.ticket_snapshot
unchanged = sdesk_util.ticket_unchanged
ticket_in = sdesk_util.ticket_in


def comment(desk, s, tid, body=None, **kw):
    return post(desk, s, tid, "/comments", body, **kw)


def commented(desk, s, tid, text, internal=None):
    body = {"body": text}
    if internal is not None:
        body["internal"] = internal
    r = comment(desk, s, tid, body)
    c = assert_json(r, 201)
    assert set(c) == COMMENT_KEYS, describe(r)
    return c


def get(desk, s, tid):
    return assert_json(s.get(turl(desk, tid)), 200)


# ---- public comments -------------------------------------------------------------

def test_reporter_comment_representation(desk):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    text = "It started after the label roll was changed %s" % marker()
    r = comment(desk, a, t["id"], {"body": text})
    c = assert_json(r, 201)
    assert set(c) == COMMENT_KEYS, describe(r)
    assert isinstance(c["id"], int)
    assert c["ticket_id"] == t["id"]
    assert c["author"] == {"user": "alice", "name": "Alice Archer"}
    assert c["body"] == text
    assert c["internal"] is False
    assert rfc3339(c["created_at"]) >= rfc3339(t["created_at"])
    # both sides see it in the ticket
    for user in ("alice", "tom"):
        got = get(desk, client(desk, user), t["id"])
        assert [x for x in got["comments"] if x["id"] == c["id"]] == [
            {"id": c["id"], "author": c["author"], "body": text, "internal": False,
             "created_at": c["created_at"]}], got["comments"]
    ev = events(desk, t["id"], "comment")
    assert len(ev) == 1, ev
    assert (ev[0]["field"], str(ev[0]["new"]), ev[0]["actor"]) == ("public", str(c["id"]), "alice")


def test_internal_defaults_to_false(desk):
    t = create_ticket(desk, client(desk, "alice"))
    c = commented(desk, client(desk, "tom"), t["id"], "Looking into it %s" % marker())
    assert c["internal"] is False
    assert c["author"]["user"] == "tom"
    assert c["id"] in [x["id"] for x in get(desk, client(desk, "alice"), t["id"])["comments"]]


def test_comments_in_order_and_etag_moves(desk):
    a, tom = client(desk, "alice"), client(desk, "tom")
    t = create_ticket(desk, a)
    etag0 = a.get(turl(desk, t["id"])).headers["ETag"]
    ids = [commented(desk, s, t["id"], "message %d %s" % (i, marker()))["id"]
           for i, s in enumerate((a, tom, a, tom))]
    got = get(desk, a, t["id"])
    assert [c["id"] for c in got["comments"]] == ids
    times = [rfc3339(c["created_at"]) for c in got["comments"]]
    assert times == sorted(times)
    r = a.get(turl(desk, t["id"]), headers={"If-None-Match": etag0})
    assert r.status_code == 200, "a commented ticket kept its ETag: " + describe(r)


def test_concurrent_comments_all_land(desk):
    t = create_ticket(desk, client(desk, "alice"))
    before = desk.db_counts()
    users = ["alice", "tom", "nina", "tess", "ada"] * 3

    sessions = [fresh_client(desk, user) for user in users]

    def one(i_user):
        i, user = i_user
        return comment(desk, sessions[i], t["id"], {"body": "parallel %d" % i,
                                                   "internal": user in ("nina", "tess")})

    with concurrent.futures.ThreadPoolExecutor(len(users)) as ex:
        rs = list(ex.map(one, enumerate(users)))
    for r in rs:
        assert_json(r, 201)
    after = desk.db_counts()
    assert after["comments"] == before["comments"] + len(users)
    got = get(desk, client(desk, "tom"), t["id"])
    assert sorted(c["body"] for c in got["comments"]) == \
        sorted("parallel %d" % i for i in range(len(users)))
    assert len([e for e in got["events"] if e["kind"] == "comment"]) == len(users)
    assert len({c["id"] for c in got["comments"]}) == len(users)


def test_comment_response_etag_is_the_tickets(desk):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    r = comment(desk, a, t["id"], {"body": "x %s" % marker()})
    assert_json(r, 201)
    etag = r.headers.get("ETag")
    if etag is not None:       # optional; when given, it is the ticket's
        assert ETAG_RE.match(etag), etag
        assert a.get(turl(desk, t["id"])).headers["ETag"] == etag


def test_hostile_text_is_stored_verbatim(desk):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    text = ("<script>alert(1)</script> ' OR 1=1 -- \u202e"
            "\u0414\u0438\u0441\u043f\u043b\u0435\u0439 \U0001F600\nline 2\ttab")
    c = commented(desk, a, t["id"], text)
    assert c["body"] == text
    assert [x["body"] for x in get(desk, a, t["id"])["comments"]] == [text]


def test_comment_on_resolved_ticket_is_allowed_and_keeps_status(desk):
    t = ticket_in(desk, "resolved")
    commented(desk, client(desk, "alice"), t["id"], "thanks %s" % marker())
    assert get(desk, client(desk, "tom"), t["id"])["status"] == "resolved"


# ---- first response --------------------------------------------------------------

def test_first_public_agent_comment_sets_first_response_at(desk):
    a, tom = client(desk, "alice"), client(desk, "tom")
    t = create_ticket(desk, a)
    assert get(desk, tom, t["id"])["first_response_at"] is None
    commented(desk, a, t["id"], "anyone? %s" % marker())
    assert get(desk, tom, t["id"])["first_response_at"] is None, "a reporter is no response"
    commented(desk, tom, t["id"], "internal triage %s" % marker(), internal=True)
    assert get(desk, tom, t["id"])["first_response_at"] is None, "internal is no response"
    c = commented(desk, tom, t["id"], "We are on it %s" % marker(), internal=False)
    first = get(desk, tom, t["id"])["first_response_at"]
    assert first == c["created_at"]
    commented(desk, client(desk, "tess"), t["id"], "second answer %s" % marker())
    assert get(desk, tom, t["id"])["first_response_at"] == first
    assert get(desk, a, t["id"]).get("first_response_at", first) == first


def test_admin_public_comment_is_a_response(desk):
    t = create_ticket(desk, client(desk, "alice"))
    c = commented(desk, client(desk, "ada"), t["id"], "Admin here %s" % marker())
    assert get(desk, client(desk, "tom"), t["id"])["first_response_at"] == c["created_at"]


# ---- internal comments -----------------------------------------------------------

def test_internal_comment_hidden_from_reporter_everywhere(desk):
    a, tom = client(desk, "alice"), client(desk, "tom")
    secret = "zzsecret" + marker("")
    t = create_ticket(desk, a, subject="Label printer offline %s" % marker())
    c = commented(desk, tom, t["id"], "Driver bug, vendor ticket %s" % secret, internal=True)
    assert c["internal"] is True
    # agents see it
    for user in ("tom", "nina", "tess", "ada"):
        got = get(desk, client(desk, user), t["id"])
        assert c["id"] in [x["id"] for x in got["comments"] if x["internal"] is True], user
        ev = [e for e in got["events"] if e["kind"] == "comment"]
        assert ("internal", str(c["id"])) in [(e["field"], str(e["new"])) for e in ev], ev
    # the reporter sees it nowhere, whatever she does
    responses = []
    responses.append(a.get(turl(desk, t["id"])))
    responses.append(a.get(turl(desk, t["id"]), headers={"If-None-Match": '"x"'}))
    for params in ({}, {"q": secret}, {"status": "new"}, {"limit": "1"}):
        responses.append(a.get(desk.api("/tickets"), params=params))
    responses.append(comment(desk, a, t["id"], {"body": "any news? %s" % marker()}))
    responses.append(a.patch(turl(desk, t["id"]), data=dumps({"description": "more %s" % marker()}),
                             headers={"Content-Type": "application/json"}))
    responses.append(a.get(turl(desk, t["id"])))
    # after the desk resolves it, her reopen answers with the ticket too
    patched(desk, tom, t["id"], {"status": "resolved"})
    responses.append(post(desk, a, t["id"], "/reopen", {"reason": "still broken"}))
    responses.append(a.get(turl(desk, t["id"])))
    responses.append(a.get(desk.api("/me")))
    for resp in responses:
        assert resp.status_code < 300, describe(resp)
        assert secret not in resp.text, "internal text leaked: " + describe(resp)
        assert "Driver bug" not in resp.text, describe(resp)
    got = get(desk, a, t["id"])
    assert c["id"] not in [x["id"] for x in got["comments"]]
    assert all(x["internal"] is False for x in got["comments"])
    assert "events" not in got
    # and searching for it finds nothing
    items, _ = list_all(desk, a, q=secret)
    assert t["id"] not in [it["id"] for it in items]


def test_reporter_etag_after_internal_and_public_comments(desk):
    # the reporter's view may keep or change its ETag, but a 304 never
    # hides a public change and a 200 never shows the internal one
    a, tom = client(desk, "alice"), client(desk, "tom")
    t = create_ticket(desk, a)
    etag = a.get(turl(desk, t["id"])).headers["ETag"]
    commented(desk, tom, t["id"], "internal only %s" % marker(), internal=True)
    r = a.get(turl(desk, t["id"]), headers={"If-None-Match": etag})
    assert r.status_code in (200, 304), describe(r)
    if r.status_code == 200:
        assert all(not c["internal"] for c in r.json()["comments"])
    pub = commented(desk, tom, t["id"], "public answer %s" % marker())
    r = a.get(turl(desk, t["id"]), headers={"If-None-Match": etag})
    got = assert_json(r, 200)
    assert pub["id"] in [c["id"] for c in got["comments"]]


@pytest.mark.parametrize("user", ["alice", "bob", "carol"])
def test_reporter_internal_comment_is_403(desk, user):
    t = create_ticket(desk, client(desk, user))
    with unchanged(desk, t["id"], viewer="sam" if user == "carol" else "tom"):
        r = comment(desk, client(desk, user), t["id"], {"body": "secret", "internal": True})
    assert_problem(r, 403, "forbidden")


def test_reporter_internal_false_is_fine(desk):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    c = commented(desk, a, t["id"], "explicitly public %s" % marker(), internal=False)
    assert c["internal"] is False


# ---- status effects --------------------------------------------------------------

def test_reporter_comment_moves_pending_to_open(desk):
    t = ticket_in(desk, "pending")
    n = len(events(desk, t["id"], "status"))
    commented(desk, client(desk, "alice"), t["id"], "Here is the screenshot %s" % marker())
    got = get(desk, client(desk, "tom"), t["id"])
    assert got["status"] == "open"
    st = [e for e in got["events"] if e["kind"] == "status"]
    assert len(st) == n + 1
    assert (st[-1]["old"], st[-1]["new"], st[-1]["actor"]) == ("pending", "open", "alice"), st[-1]
    assert get(desk, client(desk, "alice"), t["id"])["status"] == "open"


def test_agent_comment_keeps_pending(desk):
    t = ticket_in(desk, "pending")
    commented(desk, client(desk, "tom"), t["id"], "Any news? %s" % marker())
    commented(desk, client(desk, "tom"), t["id"], "note %s" % marker(), internal=True)
    assert get(desk, client(desk, "tom"), t["id"])["status"] == "pending"


@pytest.mark.parametrize("status", ["new", "open"])
def test_reporter_comment_keeps_other_statuses(desk, status):
    t = ticket_in(desk, status)
    commented(desk, client(desk, "alice"), t["id"], "more info %s" % marker())
    assert get(desk, client(desk, "tom"), t["id"])["status"] == status


@pytest.mark.parametrize("user,internal", [("alice", False), ("tom", False), ("tom", True),
                                           ("ada", False)])
def test_comment_on_closed_ticket_is_409(desk, user, internal):
    t = ticket_in(desk, "closed")
    with unchanged(desk, t["id"]):
        r = comment(desk, client(desk, user), t["id"], {"body": "hello?", "internal": internal})
    assert_problem(r, 409, "conflict")


# ---- other reporters and tenants -------------------------------------------------

@pytest.mark.parametrize("user,internal", [("bob", False), ("carol", False), ("dan", False),
                                           ("sam", False), ("sam", True)])
def test_comment_by_colleague_or_other_tenant_is_404(desk, user, internal):
    t = create_ticket(desk, client(desk, "alice"))
    body = {"body": "let me in %s" % marker()}
    if internal:
        body["internal"] = True
    with unchanged(desk, t["id"]):
        r = comment(desk, client(desk, user), t["id"], body)
    prob = assert_problem(r, 404, "not-found")
    assert t["subject"] not in r.text
    r2 = comment(desk, client(desk, user), 2 ** 62, body)
    assert assert_problem(r2, 404, "not-found")["title"] == prob["title"]


def test_comment_on_missing_ticket_is_404(desk):
    with unchanged_db(desk):
        r = comment(desk, client(desk, "tom"), 2 ** 62, {"body": "x"})
    assert_problem(r, 404, "not-found")


def test_south_comments_stay_south(desk):
    t = create_ticket(desk, client(desk, "carol"))
    c = commented(desk, client(desk, "sam"), t["id"], "south answer %s" % marker())
    for user in ("tom", "ada", "alice"):
        r = client(desk, user).get(turl(desk, t["id"]))
        assert_problem(r, 404, "not-found")
        assert c["body"] not in r.text


# ---- bad input -------------------------------------------------------------------

INVALID = [
    ("missing-body", {}, "body"),
    ("missing-body-internal-only", {"internal": False}, "body"),
    ("null-body", {"body": None}, "body"),
    ("empty-body", {"body": ""}, "body"),
    ("blank-body", {"body": "   "}, "body"),
    ("blank-body-newlines", {"body": "\n\t \r\n"}, "body"),
    ("body-number", {"body": 5}, "body"),
    ("body-array", {"body": ["x"]}, "body"),
    ("body-object", {"body": {"text": "x"}}, "body"),
    ("body-bool", {"body": True}, "body"),
    ("body-too-long", {"body": "a" * 20001}, "body"),
    ("body-control", {"body": "bell \u0007"}, "body"),
    ("internal-string", {"body": "x", "internal": "true"}, "internal"),
    ("internal-number", {"body": "x", "internal": 1}, "internal"),
    ("internal-null", {"body": "x", "internal": None}, "internal"),
    ("unknown-field", {"body": "x", "foo": 1}, "foo"),
    ("unknown-author", {"body": "x", "author": "tom"}, "author"),
    ("unknown-ticket-id", {"body": "x", "ticket_id": 1}, "ticket_id"),
    ("unknown-created-at", {"body": "x", "created_at": "2000-01-01T00:00:00Z"}, "created_at"),
    ("unknown-id", {"body": "x", "id": 7}, "id"),
]


@pytest.mark.parametrize("body,field", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
@pytest.mark.parametrize("user", ["alice", "tom"])
def test_invalid_comment_is_422(desk, user, body, field):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = comment(desk, client(desk, user), t["id"], body)
    prob = assert_problem(r, 422, "invalid-fields", field)
    if "body" not in body:
        assert "required" in field_errors(prob)["body"]


def test_all_comment_errors_are_collected(desk):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = comment(desk, client(desk, "tom"), t["id"], {"body": " ", "internal": "no", "x": 1})
    errs = field_errors(assert_problem(r, 422, "invalid-fields"))
    assert {"body", "internal", "x"} <= set(errs), errs


MALFORMED = {
    "empty": b"",
    "whitespace": b" \n ",
    "truncated": b'{"body": "abc',
    "trailing-garbage": b'{"body": "abc"} x',
    "two-objects": b'{"body": "a"}{"body": "b"}',
    "trailing-comma": b'{"body": "abc",}',
    "top-array": b'[{"body": "abc"}]',
    "top-string": b'"abc"',
    "top-number": b"1",
    "single-quotes": b"{'body': 'abc'}",
    "duplicate-key": b'{"body": "a", "body": "b"}',
    "invalid-utf8": b'{"body": "bad \xc0\xaf"}',
    "lone-surrogate": b'{"body": "bad \\udc00"}',
    "nul-escape": b'{"body": "a\\u0000b"}',
    "raw-control": b'{"body": "a\x01b"}',
    "depth-3000": b'{"x": ' + b"[" * 3000 + b"]" * 3000 + b"}",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_comment_is_400(desk, name):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = comment(desk, client(desk, "alice"), t["id"], data=MALFORMED[name])
    assert_problem(r, 400, "malformed-json")


@pytest.mark.parametrize("ctype", [None, "", "text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "text/json"])
def test_comment_wrong_content_type_is_415(desk, ctype):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = comment(desk, client(desk, "alice"), t["id"], {"body": "x"}, ctype=ctype)
    assert_problem(r, 415, "unsupported-media-type")


def test_comment_too_large_is_413(desk):
    t = create_ticket(desk, client(desk, "alice"))
    with unchanged(desk, t["id"]):
        r = comment(desk, client(desk, "alice"), t["id"], {"body": "a" * 70000})
    assert_problem(r, 413, "too-large")
    with unchanged(desk, t["id"]):
        r = comment(desk, client(desk, "alice"), t["id"],
                    data=b'{"body": "' + b"a" * (4 << 20) + b'"}')
    assert_problem(r, 413, "too-large")


def test_comment_of_max_length_is_fine(desk):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    text = "\u044f" * 20000
    assert commented(desk, a, t["id"], text)["body"] == text


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
], ids=["evil-origin", "null-origin", "sec-fetch-cross-site", "both"])
def test_comment_cross_origin_is_403(desk, headers):
    t = create_ticket(desk, client(desk, "alice"))
    for user, body in (("alice", {"body": "x"}), ("tom", {"body": "x", "internal": True})):
        with unchanged(desk, t["id"]):
            r = comment(desk, client(desk, user), t["id"], body, headers=headers)
        assert_problem(r, 403, "cross-origin")


def test_comment_same_origin_is_201(desk):
    a = client(desk, "alice")
    t = create_ticket(desk, a)
    r = comment(desk, a, t["id"], {"body": "same origin %s" % marker()},
                headers={"Origin": desk.url, "Sec-Fetch-Site": "same-origin"})
    assert_json(r, 201)


def test_comments_route_methods(desk):
    t = create_ticket(desk, client(desk, "alice"))
    r = client(desk, "alice").get(turl(desk, t["id"], "/comments"))
    assert r.status_code in (200, 405), describe(r)
    if r.status_code == 405:
        assert_problem(r, 405, "method-not-allowed")
        assert "POST" in r.headers["Allow"]
    with unchanged(desk, t["id"]):
        r = client(desk, "alice").delete(turl(desk, t["id"], "/comments"))
    assert_problem(r, 405, "method-not-allowed")
