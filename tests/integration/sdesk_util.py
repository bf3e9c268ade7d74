"""Shared helpers for the API tests (test_2xx, test_3xx).

Only helpers here: no fixtures (conftest.py owns `desk`). Everything takes the
`desk` fixture object as described in tests/integration/README.md.
"""

import base64
import contextlib
import datetime
import json
import re
import uuid

PROBLEM_PREFIX = "urn:mod-sdesk:problem:"
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
TIMEOUT = 30  # seconds; no request of these tests may hang the run

# Users of the test directory (README.md): user -> (tenant, name)
USERS = {
    "alice": ("north-hospital", "Alice Archer"),
    "bob": ("north-hospital", "Bob Brown"),
    "nina": ("north-hospital", None),
    "tom": ("north-hospital", None),
    "tess": ("north-hospital", None),
    "ada": ("north-hospital", None),
    "carol": ("south-clinic", None),
    "dan": ("south-clinic", None),
    "sam": ("south-clinic", None),
}

CATEGORIES = ["clinical-workflow", "device", "training", "configuration",
              "access", "bug", "outage", "other"]
URGENCIES = ["patient-safety", "job-stopped", "function-affected", "not-blocking"]
IMPACTS = ["single", "multiple", "all"]
PRIORITIES = ["critical", "urgent", "high", "normal"]
STATUSES = ["new", "open", "pending", "resolved", "closed"]
ENVIRONMENTS = ["production", "test", "training"]

# DESIGN.md "Priority and SLA": urgency -> impact -> priority
MATRIX = {
    "patient-safety": {"single": "critical", "multiple": "critical", "all": "critical"},
    "job-stopped": {"single": "high", "multiple": "urgent", "all": "urgent"},
    "function-affected": {"single": "high", "multiple": "high", "all": "urgent"},
    "not-blocking": {"single": "normal", "multiple": "normal", "all": "normal"},
}

TICKET_KEYS = {
    "id", "key", "tenant", "subject", "description", "category", "urgency",
    "impact", "priority", "status", "tier", "environment", "service",
    "encounter_id", "device", "page_url", "cc", "context", "reporter",
    "assignee", "created_at", "updated_at", "response_due_at",
    "resolution_due_at", "sla", "comments", "attachments",
}
SUMMARY_KEYS = {
    "id", "key", "subject", "category", "priority", "status", "tier",
    "reporter", "assignee", "created_at", "updated_at", "resolution_due_at", "sla",
}

# Sentinel: valid_ticket(subject=DROP) leaves the field out.
DROP = object()


def marker(prefix="m"):
    """A unique word to put in subjects, so tests never see each other's data."""
    return "%s%s" % (prefix, uuid.uuid4().hex[:16])


def valid_ticket(**fields):
    """A body POST /tickets accepts from a reporter; keyword args override
    fields, DROP removes one."""
    body = {
        "subject": "Ward printer does not print labels %s" % marker(),
        "description": "Since this morning the label printer on ward 3B\n"
                       "prints nothing. Restarted it twice.",
        "category": "device",
        "urgency": "job-stopped",
        "impact": "single",
    }
    for k, v in fields.items():
        if v is DROP:
            body.pop(k, None)
        else:
            body[k] = v
    return body


def client(desk, user, password=None, base="/sdesk"):
    """desk.client(...): a new session, TIMEOUT seconds on every request.
    Freed (its keep-alive connections closed) as soon as nothing refers to
    it: a session that lives on until the garbage collector runs keeps an
    idle connection open, and past mpm_event's connection limit httpd closes
    such connections just as a client reuses one ("Remote end closed
    connection without response")."""
    return desk.client(user, password=password, base=base, timeout=TIMEOUT)


def media_type(resp):
    return (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def describe(resp):
    """Request and response in a few lines, for assertion messages."""
    req = resp.request
    body = req.body
    if isinstance(body, bytes):
        body = body[:300]
    elif isinstance(body, str):
        body = body[:300]
    else:
        body = repr(body)[:100]
    return "%s %s [%s] -> %s %s %s" % (
        req.method, req.url, body, resp.status_code,
        dict(resp.headers), resp.text[:600])


def assert_common_headers(resp, nosniff=True):
    """Headers every response of the module carries (API.md General)."""
    cc = resp.headers.get("Cache-Control", "")
    assert "private" in [d.strip().lower() for d in cc.split(",")], \
        "Cache-Control without private: " + describe(resp)
    if nosniff:
        assert resp.headers.get("X-Content-Type-Options", "").lower() == "nosniff", \
            "no X-Content-Type-Options: nosniff: " + describe(resp)


def assert_json(resp, status):
    """resp has `status`, a JSON body (application/json) and the common
    headers; returns the decoded body."""
    assert resp.status_code == status, "expected %d: %s" % (status, describe(resp))
    assert media_type(resp) == "application/json", describe(resp)
    assert_common_headers(resp)
    return resp.json()


def assert_problem(resp, status, type_slug=None, field=None):
    """resp is an application/problem+json error of `status`; with type_slug
    the type is urn:mod-sdesk:problem:<slug> (or one of a tuple of slugs);
    with field an errors[] entry names that field (or one of a tuple).
    Returns the decoded problem."""
    assert resp.status_code == status, "expected %d: %s" % (status, describe(resp))
    assert media_type(resp) == "application/problem+json", describe(resp)
    assert_common_headers(resp)
    prob = resp.json()
    assert isinstance(prob, dict), describe(resp)
    assert prob.get("status") == status and type(prob.get("status")) is int, describe(resp)
    assert isinstance(prob.get("type"), str) and prob["type"].startswith(PROBLEM_PREFIX), \
        describe(resp)
    assert isinstance(prob.get("title"), str) and prob["title"], describe(resp)
    assert isinstance(prob.get("detail"), str), describe(resp)
    if type_slug is not None:
        slugs = type_slug if isinstance(type_slug, tuple) else (type_slug,)
        assert prob["type"] in [PROBLEM_PREFIX + s for s in slugs], \
            "expected type %s: %s" % (slugs, describe(resp))
    if status == 422:
        errs = prob.get("errors")
        assert isinstance(errs, list) and errs, "422 without errors[]: " + describe(resp)
        for e in errs:
            assert isinstance(e, dict) and isinstance(e.get("field"), str) \
                and isinstance(e.get("message"), str) and e["message"], describe(resp)
    elif status not in (400, 422):
        assert "errors" not in prob, "errors[] on a non-field problem: " + describe(resp)
    if field is not None:
        fields = field if isinstance(field, tuple) else (field,)
        named = [e.get("field") for e in prob.get("errors") or []]
        assert any(f in named for f in fields), \
            "expected an error for %s, got %s: %s" % (fields, named, describe(resp))
    if status == 503:
        assert_retry_after(resp)
    if status == 405:
        assert resp.headers.get("Allow"), "405 without Allow: " + describe(resp)
    return prob


def assert_retry_after(resp):
    ra = resp.headers.get("Retry-After")
    assert ra is not None and re.fullmatch(r"\d+", ra.strip()), \
        "Retry-After missing or not an integer: " + describe(resp)


def field_errors(prob):
    return {e["field"]: e["message"] for e in prob.get("errors") or []}


def allow_methods(resp):
    return {m.strip().upper() for m in resp.headers.get("Allow", "").split(",") if m.strip()}


@contextlib.contextmanager
def unchanged_db(desk):
    """Assert that the block stores nothing (row counts of every table)."""
    before = desk.db_counts()
    yield
    after = desk.db_counts()
    assert after == before, "database changed: before %s after %s" % (before, after)


def rfc3339(s):
    """Parse "YYYY-MM-DDTHH:MM:SSZ" (asserting that exact form)."""
    assert isinstance(s, str) and RFC3339_RE.match(s), "not RFC 3339 UTC: %r" % (s,)
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)


def create_ticket(desk, session, body=None, **fields):
    """POST a ticket (valid_ticket(**fields) unless body is given); assert
    201 and return the ticket."""
    if body is None:
        body = valid_ticket(**fields)
    # UTF-8 as is (requests' json= would escape every non-ASCII character)
    resp = session.post(desk.api("/tickets"), data=dumps(body),
                        headers={"Content-Type": "application/json"})
    t = assert_json(resp, 201)
    assert isinstance(t.get("id"), int), describe(resp)
    return t


def list_all(desk, session, limit=100, max_pages=1000, **params):
    """Walk GET /tickets with params to the end; returns (items, pages) where
    pages is the list of page sizes."""
    items, pages = [], []
    q = dict(params)
    q["limit"] = str(limit)
    for _ in range(max_pages):
        resp = session.get(desk.api("/tickets"), params=q)
        page = assert_json(resp, 200)
        assert set(page) >= {"items", "next_cursor"}, describe(resp)
        assert isinstance(page["items"], list), describe(resp)
        items.extend(page["items"])
        pages.append(len(page["items"]))
        cur = page["next_cursor"]
        if cur is None:
            return items, pages
        assert isinstance(cur, str) and cur, describe(resp)
        q["cursor"] = cur
    raise AssertionError("more than %d pages" % max_pages)


def list_ids(desk, session, **params):
    items, _ = list_all(desk, session, **params)
    return [it["id"] for it in items]


def event_kind(ev):
    """The kind of an audit event, whatever the member is called."""
    if not isinstance(ev, dict):
        return None
    for k in ("type", "kind", "event", "action", "name"):
        if isinstance(ev.get(k), str):
            return ev[k]
    return None


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


# ---- sessions per test ------------------------------------------------------------
# One session per user and test, closed after the test (conftest's autouse
# fixture calls close_sessions): sessions left to the garbage collector keep
# idle keep-alive connections open, and past mpm_event's connection limit
# httpd closes those just as a client reuses one ("Remote end closed
# connection without response"), which is no fault of the module.
_SESSIONS = {}
_EXTRA = []


def session(desk, user, password=None, base="/sdesk"):
    """The test's session of user (created once per test)."""
    key = (id(desk), user, password, base)
    if key not in _SESSIONS:
        _SESSIONS[key] = client(desk, user, password=password, base=base)
    return _SESSIONS[key]


def fresh_client(desk, user):
    """A session of its own (for threads), closed after the test."""
    s = client(desk, user)
    _EXTRA.append(s)
    return s


def close_sessions():
    for s in list(_SESSIONS.values()) + _EXTRA:
        s.close()
    _SESSIONS.clear()
    del _EXTRA[:]


def turl(desk, tid, sub=""):
    return desk.api("/tickets/%d%s" % (tid, sub))


def ticket_post(desk, s, tid, sub, body=None, data=None, ctype="application/json",
                headers=None):
    """POST body (JSON) or raw data to /tickets/<tid><sub> with ctype."""
    h = {}
    if ctype is not None:
        h["Content-Type"] = ctype
    h.update(headers or {})
    return s.post(turl(desk, tid, sub), data=dumps(body) if data is None else data, headers=h)


# ---- one ticket as an agent sees it ---------------------------------------------

def ticket_patched(desk, s, tid, body):
    """PATCH body (JSON) that must succeed; returns the ticket."""
    r = s.patch(turl(desk, tid), data=dumps(body), headers={"Content-Type": "application/json"})
    t = assert_json(r, 200)
    assert t["id"] == tid, describe(r)
    return t


def ticket_snapshot(desk, tid, viewer="tom"):
    """(ETag, ticket) as viewer sees it, sla left out: it moves with the clock."""
    r = client(desk, viewer).get(turl(desk, tid))
    t = assert_json(r, 200)
    t.pop("sla", None)
    return r.headers.get("ETag"), t


@contextlib.contextmanager
def ticket_unchanged(desk, tid, viewer="tom"):
    """Nothing stored anywhere, and the ticket (version, events, comments) as
    an agent of its tenant (viewer) sees it is as it was."""
    before = ticket_snapshot(desk, tid, viewer)
    with unchanged_db(desk):
        yield
    assert ticket_snapshot(desk, tid, viewer) == before, "ticket %d changed" % tid


def ticket_events(desk, tid, kind=None, viewer="tom"):
    """The ticket's audit events (of one kind), as viewer sees them."""
    evs = ticket_snapshot(desk, tid, viewer)[1]["events"]
    assert isinstance(evs, list)
    return [e for e in evs if kind is None or e.get("kind") == kind]


# status -> the PATCHes that take a new ticket there
STATUS_PATHS = {
    "new": [],
    "open": ["open"],
    "pending": ["pending"],
    "resolved": ["resolved"],
    "closed": ["resolved", "closed"],
}


def ticket_in(desk, status, reporter="alice", **fields):
    """A new ticket of reporter (valid_ticket(**fields)), moved to status by an
    agent of its tenant."""
    t = create_ticket(desk, client(desk, reporter), **fields)
    agent = client(desk, "sam" if USERS[reporter][0] == "south-clinic" else "tom")
    for st in STATUS_PATHS[status]:
        t = ticket_patched(desk, agent, t["id"], {"status": st})
    assert t["status"] == status
    return t
