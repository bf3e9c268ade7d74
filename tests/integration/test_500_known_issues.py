"""Issue 4, known issues: POST/GET/PATCH /known-issues (who may, validation,
scope tenant/global, tenant isolation by list, q and id, status filter,
full-text q including Russian, paging and cursors, ETag/If-Match).
Linking tickets and the resolve cascade are in test_510_link_resolve.py.
Every rejected request must leave the database unchanged."""

import re

import pytest

from sdesk_util import (
    assert_json, assert_problem, client, describe, dumps, marker,
    rfc3339, unchanged_db,
)

KI_KEYS = {"id", "title", "symptoms", "workaround", "resolution", "status", "scope",
           "services", "categories", "linked_tickets", "created_at", "updated_at",
           "resolved_at"}
ETAG_RE = re.compile(r'^"k(\d+)-v(\d+)"$')
NORTH = ("alice", "bob", "nina", "tom", "tess", "ada")
SOUTH = ("carol", "dan", "sam")
JSON = {"Content-Type": "application/json"}


# ---- helpers ---------------------------------------------------------------------

def kurl(desk, kid=None):
    return desk.api("/known-issues" if kid is None else "/known-issues/%s" % (kid,))


def ki_body(**fields):
    """A body POST /known-issues accepts; keyword args override fields.
    Titles stay clear of the words the suggest tests rank (printer, label)."""
    body = {
        "title": "Lab results interface delayed %s" % marker("k"),
        "symptoms": "Results from the lab arrive in the chart an hour late.",
        "workaround": "Phone the lab for urgent results.",
    }
    body.update(fields)
    return body


def post_ki(desk, s, body=None, data=None, ctype="application/json", headers=None):
    h = {}
    if ctype is not None:
        h["Content-Type"] = ctype
    h.update(headers or {})
    return s.post(kurl(desk), data=dumps(body) if data is None else data, headers=h)


def patch_ki(desk, s, kid, body=None, data=None, ctype="application/json", headers=None):
    h = {}
    if ctype is not None:
        h["Content-Type"] = ctype
    h.update(headers or {})
    return s.patch(kurl(desk, kid), data=dumps(body) if data is None else data, headers=h)


def etag_of(resp, kid=None):
    m = ETAG_RE.match(resp.headers.get("ETag") or "")
    assert m, "ETag not \"k<id>-v<n>\": " + describe(resp)
    if kid is not None:
        assert int(m.group(1)) == kid, describe(resp)
    return int(m.group(2))


def assert_ki_shape(ki):
    assert isinstance(ki, dict) and set(ki) == KI_KEYS, \
        "keys: missing %s extra %s" % (KI_KEYS - set(ki), set(ki) - KI_KEYS)
    assert isinstance(ki["id"], int) and ki["id"] > 0
    assert isinstance(ki["title"], str) and ki["title"].strip()
    for k in ("symptoms", "workaround", "resolution"):
        assert ki[k] is None or isinstance(ki[k], str), (k, ki)
    assert ki["status"] in ("active", "monitoring", "resolved"), ki
    assert ki["scope"] in ("tenant", "global"), ki
    for k in ("services", "categories"):
        assert isinstance(ki[k], list) and all(isinstance(x, str) for x in ki[k]), (k, ki)
    assert isinstance(ki["linked_tickets"], int) and ki["linked_tickets"] >= 0
    rfc3339(ki["created_at"])
    rfc3339(ki["updated_at"])
    if ki["resolved_at"] is not None:
        rfc3339(ki["resolved_at"])


def create_ki(desk, s, body=None, **fields):
    """POST a known issue that must be created; returns (issue, response)."""
    if body is None:
        body = ki_body(**fields)
    r = post_ki(desk, s, body)
    ki = assert_json(r, 201)
    assert_ki_shape(ki)
    return ki, r


def get_ki(desk, s, kid):
    r = s.get(kurl(desk, kid))
    ki = assert_json(r, 200)
    assert_ki_shape(ki)
    return ki, r


def walk(desk, s, limit=100, max_pages=500, **params):
    """GET /known-issues to the end; returns (items, page sizes)."""
    items, pages = [], []
    q = dict(params)
    q["limit"] = str(limit)
    for _ in range(max_pages):
        r = s.get(kurl(desk), params=q)
        page = assert_json(r, 200)
        assert set(page) >= {"items", "next_cursor"}, describe(r)
        assert isinstance(page["items"], list), describe(r)
        items.extend(page["items"])
        pages.append(len(page["items"]))
        if page["next_cursor"] is None:
            return items, pages
        assert isinstance(page["next_cursor"], str) and page["next_cursor"], describe(r)
        q["cursor"] = page["next_cursor"]
    raise AssertionError("more than %d pages" % max_pages)


def walk_ids(desk, s, **params):
    return [it["id"] for it in walk(desk, s, **params)[0]]


# ---- create ---------------------------------------------------------------------------

def test_agent_creates_known_issue(desk):
    tom = client(desk, "tom")
    body = ki_body(resolution=None, status="monitoring", services=["LIS", "HL7 feed"],
                   categories=["outage", "configuration"])
    ki, r = create_ki(desk, tom, body)
    loc = r.headers.get("Location", "")
    assert loc.endswith("/sdesk/api/v1/known-issues/%d" % ki["id"]), describe(r)
    assert etag_of(r, ki["id"]) >= 1
    for k in ("title", "symptoms", "workaround", "status", "services", "categories"):
        assert ki[k] == body[k], k
    assert ki["resolution"] is None
    assert ki["scope"] == "tenant"
    assert ki["linked_tickets"] == 0
    assert ki["resolved_at"] is None
    assert rfc3339(ki["updated_at"]) >= rfc3339(ki["created_at"])
    # the Location serves the same representation with the same ETag
    got, r2 = get_ki(desk, tom, ki["id"])
    assert got == ki
    assert r2.headers.get("ETag") == r.headers.get("ETag")
    if loc.startswith("http"):
        assert assert_json(tom.get(loc), 200) == ki


def test_defaults_of_a_minimal_issue(desk):
    title = "Lab queue stuck %s" % marker()
    ki, _ = create_ki(desk, client(desk, "nina"), {"title": title})
    assert ki["title"] == title
    assert ki["status"] == "active"
    assert ki["scope"] == "tenant"
    assert ki["services"] == [] and ki["categories"] == []
    assert ki["resolution"] is None and ki["resolved_at"] is None
    assert ki["symptoms"] in ("", None) and ki["workaround"] in ("", None)


@pytest.mark.parametrize("user", ["nina", "tom", "tess", "sam", "ada"])
def test_agents_and_admin_create_tenant_issues(desk, user):
    ki, _ = create_ki(desk, client(desk, user))
    assert ki["scope"] == "tenant"
    assert ki["status"] == "active"


def test_explicit_tenant_scope_and_resolved_status(desk):
    ki, _ = create_ki(desk, client(desk, "tom"), scope="tenant", status="resolved",
                      resolution="Interface engine patched.")
    assert ki["scope"] == "tenant" and ki["status"] == "resolved"
    assert ki["resolution"] == "Interface engine patched."


def test_unicode_title_kept(desk):
    title = "Принтер не печатает этикетки — Café %s" % marker()
    ki, _ = create_ki(desk, client(desk, "tom"), title=title)
    assert ki["title"] == title
    assert get_ki(desk, client(desk, "alice"), ki["id"])[0]["title"] == title


def test_title_of_200_characters(desk):
    title = ("Ж" * 183 + " " + marker())[:200]
    assert len(title) == 200
    ki, _ = create_ki(desk, client(desk, "tom"), title=title)
    assert ki["title"] == title


def test_admin_creates_global_issue(desk):
    ki, _ = create_ki(desk, client(desk, "ada"), scope="global")
    assert ki["scope"] == "global"


@pytest.mark.parametrize("user", ["tom", "nina", "sam"])
def test_agent_cannot_create_global_issue(desk, user):
    s = client(desk, user)
    with unchanged_db(desk):
        assert_problem(post_ki(desk, s, ki_body(scope="global")), 403, "forbidden")


@pytest.mark.parametrize("user", ["alice", "bob", "carol", "dan"])
def test_reporters_cannot_create(desk, user):
    s = client(desk, user)
    with unchanged_db(desk):
        assert_problem(post_ki(desk, s, ki_body()), 403, "forbidden")
        assert_problem(post_ki(desk, s, ki_body(scope="global")), 403, "forbidden")


def test_unauthenticated_is_401(desk):
    # /noauth: the module itself sees no user
    s = client(desk, None)
    with unchanged_db(desk):
        r = s.post(desk.noauth("/known-issues"), data=dumps(ki_body()), headers=JSON)
        assert_problem(r, 401)
        assert_problem(s.get(desk.noauth("/known-issues")), 401)
        assert_problem(s.get(desk.noauth("/known-issues/1")), 401)


INVALID = [
    ("unknown-field", {"colour": "red"}, "colour"),
    ("id-is-not-settable", {"id": 5}, "id"),
    ("linked-not-settable", {"linked_tickets": 3}, "linked_tickets"),
    ("missing-title", {"title": None}, "title"),
    ("empty-title", {"title": ""}, "title"),
    ("blank-title", {"title": "   \t "}, "title"),
    ("long-title", {"title": "x" * 201}, "title"),
    ("title-number", {"title": 5}, "title"),
    ("title-array", {"title": ["a"]}, "title"),
    ("symptoms-array", {"symptoms": ["a"]}, "symptoms"),
    ("workaround-object", {"workaround": {"a": 1}}, "workaround"),
    ("resolution-number", {"resolution": 1}, "resolution"),
    ("status-closed", {"status": "closed"}, "status"),
    ("status-case", {"status": "Active"}, "status"),
    ("status-number", {"status": 1}, "status"),
    ("status-null", {"status": None}, "status"),
    ("scope-bad", {"scope": "everyone"}, "scope"),
    ("scope-bool", {"scope": True}, "scope"),
    ("services-string", {"services": "LIS"}, "services"),
    ("services-number-item", {"services": [1]}, ("services", "services[0]")),
    ("services-blank-item", {"services": ["LIS", " "]}, ("services", "services[1]")),
    ("services-too-many", {"services": ["s%d" % i for i in range(21)]}, "services"),
    ("categories-string", {"categories": "device"}, "categories"),
    ("categories-unknown", {"categories": ["device", "plumbing"]},
     ("categories", "categories[1]")),
    ("categories-number-item", {"categories": [3]}, ("categories", "categories[0]")),
]


@pytest.mark.parametrize("name,fields,field", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_fields_are_422(desk, name, fields, field):
    body = ki_body()
    for k, v in fields.items():
        if v is None and k == "title":
            body.pop("title")
        else:
            body[k] = v
    with unchanged_db(desk):
        assert_problem(post_ki(desk, client(desk, "tom"), body), 422, "invalid-fields",
                       field=field)


def test_twenty_services_are_fine(desk):
    services = ["s%d" % i for i in range(20)]
    ki, _ = create_ki(desk, client(desk, "tom"), services=services)
    assert ki["services"] == services


def test_invalid_global_by_admin_is_still_422(desk):
    with unchanged_db(desk):
        assert_problem(post_ki(desk, client(desk, "ada"), ki_body(scope="global", title="")),
                       422, "invalid-fields", field="title")


MALFORMED = {
    "empty": b"",
    "truncated": b'{"title": "abc", ',
    "trailing-garbage": b'{"title": "abc"} x',
    "top-array": b'[{"title": "abc"}]',
    "top-string": b'"abc"',
    "single-quotes": b"{'title': 'abc'}",
    "invalid-utf8": b'{"title": "bad \xff\xfe"}',
    "duplicate-key": b'{"title": "one", "title": "two"}',
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_json_is_400(desk, name):
    with unchanged_db(desk):
        assert_problem(post_ki(desk, client(desk, "tom"), data=MALFORMED[name]), 400,
                       "malformed-json")


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(desk, ctype):
    data = dumps(ki_body())
    with unchanged_db(desk):
        assert_problem(post_ki(desk, client(desk, "tom"), data=data, ctype=ctype), 415,
                       "unsupported-media-type")


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
], ids=["evil-origin", "null-origin", "sec-fetch-cross-site"])
def test_cross_origin_post_is_403(desk, headers):
    with unchanged_db(desk):
        assert_problem(post_ki(desk, client(desk, "tom"), ki_body(), headers=headers), 403,
                       "cross-origin")
        assert_problem(post_ki(desk, client(desk, "ada"), ki_body(scope="global"),
                               headers=headers), 403, "cross-origin")


def test_same_origin_post_is_fine(desk):
    r = post_ki(desk, client(desk, "tom"), ki_body(), headers={"Origin": desk.url})
    assert_json(r, 201)


# ---- read one ---------------------------------------------------------------------------

def test_every_tenant_user_reads_tenant_issue(desk):
    ki, r = create_ki(desk, client(desk, "tom"))
    for user in NORTH:
        got, r2 = get_ki(desk, client(desk, user), ki["id"])
        assert got == ki, user
        assert etag_of(r2, ki["id"]) == etag_of(r)


@pytest.mark.parametrize("user", SOUTH)
def test_other_tenant_issue_is_404(desk, user):
    ki, _ = create_ki(desk, client(desk, "tom"))
    r = client(desk, user).get(kurl(desk, ki["id"]))
    prob = assert_problem(r, 404, "not-found")
    assert ki["title"] not in r.text
    r2 = client(desk, user).get(kurl(desk, 2 ** 62))
    assert assert_problem(r2, 404, "not-found")["title"] == prob["title"]


def test_south_issue_is_404_for_north(desk):
    ki, _ = create_ki(desk, client(desk, "sam"))
    for user in NORTH:
        r = client(desk, user).get(kurl(desk, ki["id"]))
        assert_problem(r, 404, "not-found")
        assert ki["title"] not in r.text


def test_global_issue_visible_to_all(desk):
    ki, _ = create_ki(desk, client(desk, "ada"), scope="global")
    for user in NORTH + SOUTH:
        got, _ = get_ki(desk, client(desk, user), ki["id"])
        assert got["id"] == ki["id"] and got["scope"] == "global", user
        assert got["title"] == ki["title"]


@pytest.mark.parametrize("path", ["0", "01", "-1", "1.5", "abc", "9223372036854775808",
                                  str(2 ** 62)])
def test_bad_or_missing_ids_are_404(desk, path):
    assert_problem(client(desk, "tom").get(kurl(desk, path)), 404, "not-found")


def test_if_none_match(desk):
    ki, r = create_ki(desk, client(desk, "tom"))
    s = client(desk, "alice")
    r1 = s.get(kurl(desk, ki["id"]))
    assert_json(r1, 200)
    r2 = s.get(kurl(desk, ki["id"]), headers={"If-None-Match": r1.headers["ETag"]})
    assert r2.status_code == 304, describe(r2)
    assert r2.content == b""


# ---- list ------------------------------------------------------------------------------

def test_list_shape_newest_first(desk):
    tom = client(desk, "tom")
    ki, _ = create_ki(desk, tom)
    r = tom.get(kurl(desk))
    page = assert_json(r, 200)
    assert set(page) >= {"items", "next_cursor"}
    assert page["items"], describe(r)
    for it in page["items"]:
        assert_ki_shape(it)
    assert page["items"][0]["id"] == ki["id"]
    assert page["items"][0] == ki


def test_list_tenant_isolation(desk):
    word = marker("iso")
    tn, _ = create_ki(desk, client(desk, "tom"), title="Lab feed north %s" % word)
    ts, _ = create_ki(desk, client(desk, "sam"), title="Lab feed south %s" % word)
    tg, _ = create_ki(desk, client(desk, "ada"), title="Lab feed global %s" % word,
                      scope="global")
    for user in NORTH:
        s = client(desk, user)
        ids = walk_ids(desk, s)
        assert tn["id"] in ids and tg["id"] in ids and ts["id"] not in ids, user
        ids = walk_ids(desk, s, q=word)
        assert sorted(ids) == sorted([tn["id"], tg["id"]]), user
    for user in SOUTH:
        s = client(desk, user)
        items, _ = walk(desk, s)
        ids = [it["id"] for it in items]
        assert ts["id"] in ids and tg["id"] in ids and tn["id"] not in ids, user
        assert all(it["title"] != tn["title"] for it in items)
        ids = walk_ids(desk, s, q=word)
        assert sorted(ids) == sorted([ts["id"], tg["id"]]), user
        # by the north issue's exact title
        r = s.get(kurl(desk), params={"q": tn["title"]})
        assert tn["title"] not in r.text, describe(r)
        assert_json(r, 200)


def test_list_scopes(desk):
    word = marker("scp")
    tn, _ = create_ki(desk, client(desk, "tom"), title="Scope test %s" % word)
    tg, _ = create_ki(desk, client(desk, "ada"), title="Scope test %s" % word, scope="global")
    items, _ = walk(desk, client(desk, "bob"), q=word)
    scopes = {it["id"]: it["scope"] for it in items}
    assert scopes == {tn["id"]: "tenant", tg["id"]: "global"}


def test_status_filter(desk):
    word = marker("st")
    tom = client(desk, "tom")
    made = {}
    for st in ("active", "monitoring", "resolved"):
        made[st], _ = create_ki(desk, tom, title="Status filter %s %s" % (st, word), status=st)
    for st in ("active", "monitoring", "resolved"):
        items, _ = walk(desk, tom, q=word, status=st)
        assert [it["id"] for it in items] == [made[st]["id"]], st
        assert all(it["status"] == st for it in items)
        # without q, every item matches the filter
        items, _ = walk(desk, tom, status=st)
        assert made[st]["id"] in [it["id"] for it in items]
        assert all(it["status"] == st for it in items), st
    assert sorted(walk_ids(desk, tom, q=word)) == sorted(k["id"] for k in made.values())


@pytest.mark.parametrize("params", [
    {"status": "closed"}, {"status": "ACTIVE"}, {"status": "done"},
    {"limit": "0"}, {"limit": "101"}, {"limit": "abc"}, {"limit": "-1"},
    {"scope": "tenant"}, {"colour": "red"}, {"tenant": "south-clinic"},
], ids=lambda p: "&".join("%s=%s" % kv for kv in p.items()))
def test_bad_list_parameters_are_400(desk, params):
    assert_problem(client(desk, "tom").get(kurl(desk), params=params), 400,
                   "invalid-parameter")


def test_repeated_parameter_is_400(desk):
    r = client(desk, "tom").get(kurl(desk) + "?status=active&status=resolved")
    assert_problem(r, 400, "invalid-parameter")


def test_empty_values_mean_absent(desk):
    ki, _ = create_ki(desk, client(desk, "tom"))
    r = client(desk, "tom").get(kurl(desk) + "?q=&limit=&cursor=&status=")
    page = assert_json(r, 200)
    assert page["items"][0]["id"] == ki["id"]


def test_q_matches_words(desk):
    w1, w2 = marker("qa"), marker("qb")
    tom = client(desk, "tom")
    both, _ = create_ki(desk, tom, title="Dictation %s app freezes %s" % (w1, w2))
    one, _ = create_ki(desk, tom, title="Dictation %s app crashes" % w1)
    assert sorted(walk_ids(desk, tom, q=w1)) == sorted([both["id"], one["id"]])
    assert walk_ids(desk, tom, q=w2) == [both["id"]]
    # all words must match, in any order, any case
    assert walk_ids(desk, tom, q="%s %s" % (w2.upper(), w1)) == [both["id"]]
    assert walk_ids(desk, tom, q="%s crashes" % w1) == [one["id"]]
    assert walk_ids(desk, tom, q=marker("none")) == []


def test_q_russian(desk):
    w = marker("ru")
    ki, _ = create_ki(desk, client(desk, "tom"), title="Принтер не печатает этикетки %s" % w)
    for user in ("tom", "alice"):
        s = client(desk, user)
        assert ki["id"] in walk_ids(desk, s, q="принтер"), user
        assert ki["id"] in walk_ids(desk, s, q="Принтер"), user
        assert walk_ids(desk, s, q="принтер %s" % w) == [ki["id"]], user
        assert walk_ids(desk, s, q="этикетки %s" % w) == [ki["id"]], user
    assert ki["id"] not in walk_ids(desk, client(desk, "carol"), q="принтер")


def test_q_hostile_input(desk):
    s = client(desk, "tom")
    for q in ('"', "'", "*", "AND", "NOT x", "a OR b", "col:val", "(", "NEAR(a b)",
              "x' OR '1'='1", "%", "_", "\\", "^", "-", "!", "&&", "|", ":*"):
        r = s.get(kurl(desk), params={"q": q})
        assert r.status_code in (200, 400), describe(r)
        if r.status_code == 200:
            assert_json(r, 200)
        else:
            assert_problem(r, 400, "invalid-parameter")


@pytest.mark.parametrize("q", ["%ff", "%01", "a%00b"])
def test_q_invalid_bytes_are_400(desk, q):
    r = client(desk, "tom").get(kurl(desk) + "?q=" + q)
    assert_problem(r, 400, "invalid-parameter")


def test_paging_with_limit_and_cursor(desk):
    w = marker("pg")
    tom = client(desk, "tom")
    made = [create_ki(desk, tom, title="Paging %d %s" % (i, w))[0]["id"] for i in range(5)]
    items, pages = walk(desk, client(desk, "alice"), limit=2, q=w)
    assert pages == [2, 2, 1]
    ids = [it["id"] for it in items]
    assert ids == list(reversed(made)), "not newest first"
    times = [rfc3339(it["created_at"]) for it in items]
    assert times == sorted(times, reverse=True)
    # limit=5 exactly: one page, no cursor
    page = assert_json(tom.get(kurl(desk), params={"q": w, "limit": "5"}), 200)
    assert [it["id"] for it in page["items"]] == ids and page["next_cursor"] is None


def test_forged_cursors_are_400(desk):
    w = marker("cur")
    tom = client(desk, "tom")
    for i in range(3):
        create_ki(desk, tom, title="Cursor %d %s" % (i, w))
    page = assert_json(tom.get(kurl(desk), params={"q": w, "limit": "1"}), 200)
    cur = page["next_cursor"]
    assert isinstance(cur, str) and cur
    ok = tom.get(kurl(desk), params={"q": w, "limit": "1", "cursor": cur})
    assert_json(ok, 200)
    flipped = cur[:-1] + ("A" if cur[-1] != "A" else "B")
    middle = cur[:len(cur) // 2] + ("x" if cur[len(cur) // 2] != "x" else "y") \
        + cur[len(cur) // 2 + 1:]
    for bad in ("garbage", "AAAA", flipped, middle, cur + "A", cur[:-2]):
        r = tom.get(kurl(desk), params={"q": w, "limit": "1", "cursor": bad})
        assert_problem(r, 400, "invalid-cursor")
    # a cursor of another query, or of another tenant's user
    r = tom.get(kurl(desk), params={"q": marker(), "limit": "1", "cursor": cur})
    assert_problem(r, 400, "invalid-cursor")
    r = tom.get(kurl(desk), params={"q": w, "status": "resolved", "limit": "1", "cursor": cur})
    assert_problem(r, 400, "invalid-cursor")
    r = client(desk, "sam").get(kurl(desk), params={"q": w, "limit": "1", "cursor": cur})
    assert r.status_code in (200, 400), describe(r)
    if r.status_code == 200:
        assert assert_json(r, 200)["items"] == []
    else:
        assert_problem(r, 400, "invalid-cursor")


# ---- patch -----------------------------------------------------------------------------

def test_agent_patches_fields(desk):
    tom = client(desk, "tom")
    ki, r = create_ki(desk, tom)
    v0 = etag_of(r)
    change = {"title": "Lab results interface slow %s" % marker(),
              "symptoms": "Results take 20 minutes.", "workaround": "Refresh the chart.",
              "resolution": "Queue size raised.", "status": "monitoring",
              "services": ["LIS"], "categories": ["configuration"]}
    r2 = patch_ki(desk, client(desk, "nina"), ki["id"], change)
    got = assert_json(r2, 200)
    for k, v in change.items():
        assert got[k] == v, k
    assert got["id"] == ki["id"] and got["scope"] == "tenant"
    assert got["created_at"] == ki["created_at"]
    assert rfc3339(got["updated_at"]) >= rfc3339(ki["updated_at"])
    assert etag_of(r2, ki["id"]) > v0
    now, r3 = get_ki(desk, tom, ki["id"])
    for k in KI_KEYS:
        assert now[k] == got[k], k
    assert r3.headers["ETag"] == r2.headers["ETag"]


def test_patch_one_field_keeps_others(desk):
    tom = client(desk, "tom")
    ki, _ = create_ki(desk, tom, services=["LIS"], categories=["outage"])
    got = assert_json(patch_ki(desk, tom, ki["id"], {"workaround": "Call extension 4711."}), 200)
    assert got["workaround"] == "Call extension 4711."
    for k in ("title", "symptoms", "services", "categories", "status", "resolution"):
        assert got[k] == ki[k], k
    got = assert_json(patch_ki(desk, tom, ki["id"], {"resolution": "Fixed."}), 200)
    assert got["resolution"] == "Fixed."
    got = assert_json(patch_ki(desk, tom, ki["id"], {"resolution": None, "services": []}), 200)
    assert got["resolution"] is None and got["services"] == []


def test_patch_status_resolved_sets_resolved_at(desk):
    tom = client(desk, "tom")
    ki, _ = create_ki(desk, tom)
    r = patch_ki(desk, tom, ki["id"], {"status": "resolved"})
    got = assert_json(r, 200)
    assert got["status"] == "resolved"
    assert rfc3339(got["resolved_at"]) >= rfc3339(ki["created_at"])
    assert got.get("tickets_resolved") == 0, describe(r)


def test_if_match(desk):
    tom = client(desk, "tom")
    ki, r = create_ki(desk, tom)
    etag0 = r.headers["ETag"]
    r1 = patch_ki(desk, tom, ki["id"], {"symptoms": "one"}, headers={"If-Match": etag0})
    assert_json(r1, 200)
    etag1 = r1.headers["ETag"]
    assert etag1 != etag0
    with unchanged_db(desk):
        r2 = patch_ki(desk, tom, ki["id"], {"symptoms": "two"}, headers={"If-Match": etag0})
        assert_problem(r2, 412, "precondition-failed")
    assert get_ki(desk, tom, ki["id"])[0]["symptoms"] == "one"
    assert_json(patch_ki(desk, tom, ki["id"], {"symptoms": "three"},
                         headers={"If-Match": etag1}), 200)
    assert get_ki(desk, tom, ki["id"])[0]["symptoms"] == "three"


def test_if_match_of_another_issue_is_412(desk):
    tom = client(desk, "tom")
    k1, _ = create_ki(desk, tom)
    k2, r2 = create_ki(desk, tom)
    v2 = etag_of(r2, k2["id"])
    with unchanged_db(desk):
        # a stale version of k2, and tags that are not k2's
        r = patch_ki(desk, tom, k2["id"], {"symptoms": "x"},
                     headers={"If-Match": '"k%d-v%d"' % (k2["id"], v2 + 7)})
        assert_problem(r, 412, "precondition-failed")
        r = patch_ki(desk, tom, k2["id"], {"symptoms": "x"}, headers={"If-Match": '"nonsense"'})
        assert_problem(r, 412, "precondition-failed")
    assert get_ki(desk, tom, k2["id"])[0] == k2
    del k1


def test_patch_scope_is_422(desk):
    tom = client(desk, "tom")
    ki, _ = create_ki(desk, tom)
    with unchanged_db(desk):
        for scope in ("global", "tenant"):
            assert_problem(patch_ki(desk, tom, ki["id"], {"scope": scope}), 422,
                           "invalid-fields", field="scope")
        assert_problem(patch_ki(desk, client(desk, "ada"), ki["id"], {"scope": "global"}), 422,
                       "invalid-fields", field="scope")
    assert get_ki(desk, tom, ki["id"])[0] == ki


PATCH_INVALID = [
    ("unknown", {"colour": "red"}, "colour"),
    ("blank-title", {"title": "  "}, "title"),
    ("null-title", {"title": None}, "title"),
    ("long-title", {"title": "y" * 201}, "title"),
    ("bad-status", {"status": "closed"}, "status"),
    ("status-number", {"status": 2}, "status"),
    ("services-string", {"services": "LIS"}, "services"),
    ("bad-category", {"categories": ["plumbing"]}, ("categories", "categories[0]")),
    ("symptoms-number", {"symptoms": 3}, "symptoms"),
    ("id", {"id": 1}, "id"),
    ("linked", {"linked_tickets": 0}, "linked_tickets"),
]


@pytest.mark.parametrize("name,body,field", PATCH_INVALID, ids=[c[0] for c in PATCH_INVALID])
def test_patch_invalid_is_422(desk, name, body, field):
    tom = client(desk, "tom")
    ki, _ = create_ki(desk, tom)
    with unchanged_db(desk):
        assert_problem(patch_ki(desk, tom, ki["id"], body), 422, "invalid-fields", field=field)
    assert get_ki(desk, tom, ki["id"])[0] == ki


def test_patch_bad_requests(desk):
    tom = client(desk, "tom")
    ki, _ = create_ki(desk, tom)
    with unchanged_db(desk):
        assert_problem(patch_ki(desk, tom, ki["id"], data=b'{"title": '), 400, "malformed-json")
        assert_problem(patch_ki(desk, tom, ki["id"], data=b"[]"), 400, "malformed-json")
        assert_problem(patch_ki(desk, tom, ki["id"], {"title": "x"}, ctype="text/plain"), 415,
                       "unsupported-media-type")
        assert_problem(patch_ki(desk, tom, ki["id"], {"title": "x"},
                                headers={"Origin": "http://evil.example"}), 403, "cross-origin")
        assert_problem(patch_ki(desk, tom, 2 ** 62, {"title": "x"}), 404, "not-found")
        assert_problem(patch_ki(desk, tom, "abc", {"title": "x"}), 404, "not-found")
    assert get_ki(desk, tom, ki["id"])[0] == ki


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_reporters_cannot_patch(desk, user):
    ki, _ = create_ki(desk, client(desk, "tom"))
    with unchanged_db(desk):
        assert_problem(patch_ki(desk, client(desk, user), ki["id"], {"title": "mine now"}),
                       403, "forbidden")
        assert_problem(patch_ki(desk, client(desk, user), ki["id"], {"status": "resolved"}),
                       403, "forbidden")
    assert get_ki(desk, client(desk, "tom"), ki["id"])[0] == ki


@pytest.mark.parametrize("user", ["sam", "carol"])
def test_other_tenant_cannot_patch(desk, user):
    ki, _ = create_ki(desk, client(desk, "tom"))
    with unchanged_db(desk):
        r = patch_ki(desk, client(desk, user), ki["id"], {"title": "hijacked"})
        assert r.status_code in (403, 404), describe(r)
        if user == "sam":
            assert_problem(r, 404, "not-found")
        assert ki["title"] not in r.text
    assert get_ki(desk, client(desk, "tom"), ki["id"])[0] == ki


@pytest.mark.parametrize("user", ["tom", "nina", "sam"])
def test_agent_cannot_patch_global(desk, user):
    ada = client(desk, "ada")
    ki, _ = create_ki(desk, ada, scope="global")
    with unchanged_db(desk):
        assert_problem(patch_ki(desk, client(desk, user), ki["id"], {"title": "edited"}), 403,
                       "forbidden")
        assert_problem(patch_ki(desk, client(desk, user), ki["id"], {"status": "resolved"}),
                       403, "forbidden")
    assert get_ki(desk, ada, ki["id"])[0] == ki


def test_admin_patches_global(desk):
    ada = client(desk, "ada")
    ki, _ = create_ki(desk, ada, scope="global")
    got = assert_json(patch_ki(desk, ada, ki["id"], {"workaround": "Use paper forms."}), 200)
    assert got["workaround"] == "Use paper forms." and got["scope"] == "global"
    got, _ = get_ki(desk, client(desk, "carol"), ki["id"])
    assert got["workaround"] == "Use paper forms."


def test_post_to_one_issue_is_405(desk):
    ki, _ = create_ki(desk, client(desk, "tom"))
    r = client(desk, "tom").post(kurl(desk, ki["id"]), data=b"{}", headers=JSON)
    assert_problem(r, 405)
    r = client(desk, "tom").patch(kurl(desk), data=b"{}", headers=JSON)
    assert_problem(r, 405)
    r = client(desk, "tom").delete(kurl(desk, ki["id"]))
    assert_problem(r, 405)
