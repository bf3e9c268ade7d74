"""GET /me, GET /meta, authentication outcomes, routing (404/405), ticket id
syntax in paths, and the headers every response carries."""

import pytest

from sdesk_util import (
    CATEGORIES, ENVIRONMENTS, IMPACTS, MATRIX, PRIORITIES, STATUSES, URGENCIES,
    allow_methods, assert_common_headers, assert_json, assert_problem, client,
    create_ticket, describe, unchanged_db,
)


# ---- /me ------------------------------------------------------------------

def test_me_alice(desk):
    me = assert_json(client(desk, "alice").get(desk.api("/me")), 200)
    assert me == {
        "user": "alice",
        "name": "Alice Archer",
        "email": "alice@north-hospital.example",
        "tenant": "north-hospital",
        "roles": ["reporter"],
        "tiers": [],
    }


@pytest.mark.parametrize("user,tenant,roles,tiers", [
    ("bob", "north-hospital", {"reporter"}, []),
    ("nina", "north-hospital", {"reporter", "agent"}, [1]),
    ("tom", "north-hospital", {"reporter", "agent"}, [2]),
    ("tess", "north-hospital", {"reporter", "agent"}, [3]),
    ("carol", "south-clinic", {"reporter"}, []),
    ("dan", "south-clinic", {"reporter"}, []),
    ("sam", "south-clinic", {"reporter", "agent"}, [2]),
])
def test_me_roles_and_tiers(desk, user, tenant, roles, tiers):
    me = assert_json(client(desk, user).get(desk.api("/me")), 200)
    assert me["user"] == user
    assert me["tenant"] == tenant
    assert me["email"] == "%s@%s.example" % (user, tenant)
    assert isinstance(me["name"], str) and me["name"]
    assert len(me["roles"]) == len(set(me["roles"]))
    assert set(me["roles"]) == roles
    assert me["tiers"] == tiers


def test_me_tom_exact_roles(desk):
    me = assert_json(client(desk, "tom").get(desk.api("/me")), 200)
    assert me["roles"] == ["reporter", "agent"]
    assert me["tiers"] == [2]


def test_me_admin(desk):
    me = assert_json(client(desk, "ada").get(desk.api("/me")), 200)
    assert me["user"] == "ada"
    assert me["tenant"] == "north-hospital"
    assert "admin" in me["roles"]
    assert "reporter" in me["roles"]


def test_me_etag_if_none_match(desk):
    s = client(desk, "alice")
    r1 = s.get(desk.api("/me"))
    assert_json(r1, 200)
    etag = r1.headers.get("ETag")
    assert etag, "no ETag on /me: " + describe(r1)
    r2 = s.get(desk.api("/me"), headers={"If-None-Match": etag})
    assert r2.status_code == 304, describe(r2)
    assert r2.content == b""
    assert_common_headers(r2, nosniff=False)  # httpd drops most headers on 304
    # another user's /me is another representation
    r3 = client(desk, "bob").get(desk.api("/me"), headers={"If-None-Match": etag})
    assert r3.status_code == 200, describe(r3)
    assert r3.json()["user"] == "bob"
    # a different tag: full response
    r4 = s.get(desk.api("/me"), headers={"If-None-Match": '"not-the-tag"'})
    assert_json(r4, 200)


# ---- authentication outcomes ----------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("GET", "/me"), ("GET", "/meta"), ("GET", "/tickets"), ("GET", "/tickets/1"),
    ("POST", "/tickets"),
])
def test_no_user_is_401(desk, method, path):
    s = desk.client(None)
    with unchanged_db(desk):
        kw = {"json": {"subject": "x"}} if method == "POST" else {}
        r = s.request(method, desk.noauth(path), **kw)
    assert_problem(r, 401, "unauthenticated")


@pytest.mark.parametrize("method,path", [
    ("GET", "/me"), ("GET", "/meta"), ("GET", "/tickets"), ("POST", "/tickets"),
])
def test_user_not_in_directory_is_403(desk, method, path):
    s = client(desk, "ghost", password="ghost-secret")
    with unchanged_db(desk):
        kw = {"json": {"subject": "x"}} if method == "POST" else {}
        r = s.request(method, desk.alt(path), **kw)
    assert_problem(r, 403, "unknown-user")


def test_file_auth_user_in_directory_works(desk):
    s = client(desk, "alice", base="/altdesk")
    me = assert_json(s.get(desk.alt("/me")), 200)
    ref = assert_json(client(desk, "alice").get(desk.api("/me")), 200)
    assert me == ref


# ---- /meta ----------------------------------------------------------------

def test_meta(desk):
    r = client(desk, "alice").get(desk.api("/meta"))
    meta = assert_json(r, 200)
    for k in ("categories", "urgencies", "impacts", "priorities", "statuses",
              "environments", "tiers", "entry_tier", "priority_matrix", "limits"):
        assert k in meta, "meta lacks %s: %s" % (k, describe(r))
    assert sorted(meta["categories"]) == sorted(CATEGORIES)
    assert sorted(meta["urgencies"]) == sorted(URGENCIES)
    assert sorted(meta["impacts"]) == sorted(IMPACTS)
    assert sorted(meta["priorities"]) == sorted(PRIORITIES)
    assert sorted(meta["statuses"]) == sorted(STATUSES)
    assert sorted(meta["environments"]) == sorted(ENVIRONMENTS)
    assert isinstance(meta["tiers"], list) and len(meta["tiers"]) == 4
    assert meta["entry_tier"] == 2
    assert meta["priority_matrix"] == MATRIX
    lim = meta["limits"]
    for k, v in {"max_body": 65536, "max_depth": 32, "max_subject": 200,
                 "max_description": 20000, "max_page_limit": 100,
                 "max_attachment": 10 * 1024 * 1024, "max_attachments": 20}.items():
        assert lim.get(k) == v, "limits.%s: %r" % (k, lim.get(k))


def test_meta_same_for_every_role(desk):
    a = assert_json(client(desk, "alice").get(desk.api("/meta")), 200)
    t = assert_json(client(desk, "tom").get(desk.api("/meta")), 200)
    assert a == t


# ---- routing ----------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/nope", "/", "", "/me/extra", "/ME", "/metas", "/ticket", "/tickets/1/nope",
    "/tickets/1/comments/x/y/z", "/tickets/abc/comments",
])
def test_unknown_path_is_404(desk, path):
    r = client(desk, "alice").get(desk.api(path))
    assert_problem(r, 404, "not-found")


@pytest.mark.parametrize("method,path,must_allow", [
    ("DELETE", "/me", {"GET"}),
    ("POST", "/me", {"GET"}),
    ("PUT", "/me", {"GET"}),
    ("POST", "/meta", {"GET"}),
    ("PUT", "/tickets", {"GET", "POST"}),
    ("DELETE", "/tickets", {"GET", "POST"}),
    ("PATCH", "/tickets", {"GET", "POST"}),
    ("PUT", "/tickets/1", {"GET"}),
    ("DELETE", "/tickets/1", {"GET"}),
    ("POST", "/tickets/1", {"GET"}),
])
def test_wrong_method_is_405_with_allow(desk, method, path, must_allow):
    s = client(desk, "alice")
    with unchanged_db(desk):
        r = s.request(method, desk.api(path), json={"subject": "x"})
    assert_problem(r, 405, "method-not-allowed")
    allowed = allow_methods(r)
    assert allowed >= must_allow, "Allow %r lacks %r" % (allowed, must_allow)
    assert method not in allowed


@pytest.mark.parametrize("raw", [
    "abc", "0", "-1", "01", "1.5", "99999999999999999999", "+1", "1e3", "0x10",
    "%201", "1%20", "9223372036854775808", "1a", " ",
])
def test_bad_ticket_id_is_404(desk, raw):
    r = client(desk, "alice").get(desk.api("/tickets/" + raw))
    assert_problem(r, 404, "not-found")


def test_leading_zero_never_aliases_a_ticket(desk):
    s = client(desk, "alice")
    t = create_ticket(desk, s)
    ok = s.get(desk.api("/tickets/%d" % t["id"]))
    assert_json(ok, 200)
    for alias in ("0%d" % t["id"], "00%d" % t["id"], "+%d" % t["id"], "%d.0" % t["id"]):
        assert_problem(s.get(desk.api("/tickets/" + alias)), 404, "not-found")


# ---- headers on every response ---------------------------------------------

def test_common_headers_on_every_kind_of_response(desk):
    s = client(desk, "alice")
    responses = [
        s.get(desk.api("/me")),
        s.get(desk.api("/meta")),
        s.get(desk.api("/tickets")),
        s.get(desk.api("/nope")),
        s.delete(desk.api("/me")),
        s.get(desk.api("/tickets"), params={"limit": "0"}),
        s.post(desk.api("/tickets"), data=b"x", headers={"Content-Type": "text/plain"}),
        desk.client(None).get(desk.noauth("/me")),
        client(desk, "ghost", password="ghost-secret").get(desk.alt("/me")),
    ]
    for r in responses:
        assert r.status_code != 500, describe(r)
        assert_common_headers(r)
