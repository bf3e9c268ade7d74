"""POST /tickets: the created representation, priority, and every kind of bad
input (media type, size, JSON syntax, fields, origin). Every rejected request
must leave the database unchanged."""

import json

import pytest

from sdesk_util import (
    DROP, MATRIX, TICKET_KEYS, assert_json, assert_problem, client, create_ticket,
    describe, dumps, field_errors, marker, rfc3339, unchanged_db, valid_ticket,
)

MAX_BODY = 65536


def post_raw(desk, s, data, ctype="application/json", headers=None):
    h = {}
    if ctype is not None:
        h["Content-Type"] = ctype
    h.update(headers or {})
    return s.post(desk.api("/tickets"), data=data, headers=h)


def rejected(desk, s, status, slug, field=None, data=None, body=None, ctype="application/json",
             headers=None):
    """POST data (bytes) or body (a JSON value); assert the problem and that
    nothing was stored."""
    if data is None:
        data = dumps(body)
    with unchanged_db(desk):
        r = post_raw(desk, s, data, ctype=ctype, headers=headers)
    return assert_problem(r, status, slug, field)


def nested(depth):
    """A JSON array text nested `depth` levels deep: [[...[]...]]."""
    return "[" * depth + "]" * depth


# ---- the created ticket -----------------------------------------------------

def test_create_minimal_representation(desk):
    s = client(desk, "alice")
    body = valid_ticket()
    before = desk.db_counts()
    r = s.post(desk.api("/tickets"), json=body)
    t = assert_json(r, 201)
    after = desk.db_counts()
    assert after["tickets"] == before["tickets"] + 1
    assert after["ticket_events"] >= before["ticket_events"] + 1

    assert set(t) >= TICKET_KEYS, "missing: %s" % (TICKET_KEYS - set(t))
    assert type(t["id"]) is int and t["id"] > 0
    assert r.headers.get("Location", "").endswith("/sdesk/api/v1/tickets/%d" % t["id"]), \
        describe(r)
    assert r.headers.get("ETag"), describe(r)
    assert t["key"] == "SD-%d" % t["id"]
    assert t["tenant"] == "north-hospital"
    assert t["subject"] == body["subject"]
    assert t["description"] == body["description"]
    assert t["category"] == "device"
    assert t["urgency"] == "job-stopped"
    assert t["impact"] == "single"
    assert t["priority"] == "high"
    assert t["status"] == "new"
    assert t["tier"] == 2
    assert t["reporter"] == {"user": "alice", "name": "Alice Archer",
                             "email": "alice@north-hospital.example"}
    assert t["assignee"] is None
    assert t["device"] is None
    assert isinstance(t["cc"], list) and t["cc"] == []
    assert isinstance(t["context"], dict) and t["context"] == {}
    assert t["comments"] == []
    assert t["attachments"] == []
    assert t["sla"] == "ok"
    created = rfc3339(t["created_at"])
    assert rfc3339(t["updated_at"]) >= created
    assert rfc3339(t["response_due_at"]) > created
    assert rfc3339(t["resolution_due_at"]) > created
    assert "events" not in t  # alice is a reporter

    # the Location names the same ticket
    loc = r.headers["Location"]
    if loc.startswith("/"):
        loc = desk.url + loc
    g = s.get(loc)
    assert assert_json(g, 200) == t


def test_create_all_optional_fields_round_trip(desk):
    s = client(desk, "alice")
    body = valid_ticket(
        subject="ePCR app crashes on sync %s" % marker(),
        category="bug",
        urgency="function-affected",
        impact="multiple",
        environment="test",
        service="ePCR",
        encounter_id="ENC-2026-000123",
        device={"id": "TAB-17", "model": "Rugged 10", "os": "Android 14",
                "app_version": "3.2.1"},
        page_url="https://intranet.north-hospital.example/epcr/encounters/123?tab=vitals",
        cc=["bob@north-hospital.example", "ward3b@north-hospital.example"],
        context={"ward": "3B", "shift": "night", "empty": ""},
    )
    t = create_ticket(desk, s, body=body)
    for k in ("subject", "description", "category", "urgency", "impact", "environment",
              "service", "encounter_id", "device", "page_url", "cc", "context"):
        assert t[k] == body[k], k
    assert t["priority"] == "high"
    got = assert_json(s.get(desk.api("/tickets/%d" % t["id"])), 200)
    assert got == t


def test_create_partial_device(desk):
    s = client(desk, "alice")
    t = create_ticket(desk, s, device={"model": "Zebra ZD421"})
    assert set(t["device"]) == {"id", "model", "os", "app_version"}
    assert t["device"]["model"] == "Zebra ZD421"
    for k in ("id", "os", "app_version"):
        assert t["device"][k] in (None, "")


@pytest.mark.parametrize("ctype", [
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    "application/json; charset=\"utf-8\"",
])
def test_create_accepts_json_media_types(desk, ctype):
    s = client(desk, "alice")
    r = post_raw(desk, s, dumps(valid_ticket()), ctype=ctype)
    assert_json(r, 201)


def test_create_hostile_text_is_stored_verbatim(desk):
    s = client(desk, "alice")
    subj = "<script>alert(1)</script> '; DROP TABLE tickets; -- %s" % marker()
    desc = "\"quoted\" \\ backslash %s %% _ * ? {{x}} ${x} \u202e RTL"
    t = create_ticket(desk, s, subject=subj, description=desc)
    assert t["subject"] == subj and t["description"] == desc
    got = assert_json(s.get(desk.api("/tickets/%d" % t["id"])), 200)
    assert got["subject"] == subj and got["description"] == desc


def test_create_whitespace_in_description_ok(desk):
    s = client(desk, "alice")
    desc = "line 1\nline 2\r\n\tindented"
    t = create_ticket(desk, s, description=desc)
    assert t["description"] == desc


# ---- limits: exactly at the limit is fine -----------------------------------

@pytest.mark.parametrize("subject", [
    "a" * 200,
    "\u044f" * 200,               # Cyrillic, 2 bytes each
    "\U0001F600" * 200,            # emoji, 4 bytes each
    "\u8a3a" * 200,               # CJK, 3 bytes each
])
def test_subject_limit_counts_characters(desk, subject):
    s = client(desk, "alice")
    t = create_ticket(desk, s, subject=subject)
    assert t["subject"] == subject


def test_description_at_limit(desk):
    s = client(desk, "alice")
    desc = ("\u00e9" * 19999) + "x"
    t = create_ticket(desk, s, description=desc)
    assert t["description"] == desc


def test_body_of_exactly_max_body_bytes(desk):
    s = client(desk, "alice")
    data = dumps(valid_ticket())
    data = data + b" " * (MAX_BODY - len(data))
    assert len(data) == MAX_BODY
    assert_json(post_raw(desk, s, data), 201)


def test_twenty_cc_and_twenty_context_members(desk):
    s = client(desk, "alice")
    cc = ["user%d@north-hospital.example" % i for i in range(20)]
    ctx = {"k%d" % i: "v%d" % i for i in range(20)}
    t = create_ticket(desk, s, cc=cc, context=ctx)
    assert t["cc"] == cc and t["context"] == ctx


# ---- priority -----------------------------------------------------------------

@pytest.mark.parametrize("urgency,impact", [(u, i) for u in MATRIX for i in MATRIX[u]])
def test_priority_from_matrix(desk, urgency, impact):
    s = client(desk, "alice")
    t = create_ticket(desk, s, urgency=urgency, impact=impact)
    assert t["priority"] == MATRIX[urgency][impact]
    assert t["urgency"] == urgency and t["impact"] == impact


def test_reporter_stated_priority_loses_to_matrix(desk):
    s = client(desk, "alice")
    t = create_ticket(desk, s, urgency="not-blocking", impact="single", priority="critical")
    assert t["priority"] == "normal"
    t = create_ticket(desk, s, urgency="patient-safety", impact="single", priority="normal")
    assert t["priority"] == "critical"


def test_agent_stated_priority_wins(desk):
    s = client(desk, "tom")
    t = create_ticket(desk, s, urgency="not-blocking", impact="single", priority="critical")
    assert t["priority"] == "critical"
    assert t["reporter"]["user"] == "tom"


@pytest.mark.parametrize("prio", ["critical", "urgent", "high", "normal"])
def test_priority_only(desk, prio):
    s = client(desk, "alice")
    t = create_ticket(desk, s, urgency=DROP, impact=DROP, priority=prio)
    assert t["priority"] == prio
    assert t["urgency"] is None and t["impact"] is None


def test_agreeing_priority_is_fine(desk):
    s = client(desk, "alice")
    t = create_ticket(desk, s, urgency="job-stopped", impact="multiple", priority="urgent")
    assert t["priority"] == "urgent"


# ---- 415: media type ------------------------------------------------------------

@pytest.mark.parametrize("ctype", [
    "text/plain", None, "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz", "text/json", "application/jsonx",
    "application/json-patch+json", "application/problem+json", "",
    "application/xml",
])
def test_wrong_content_type_is_415(desk, ctype):
    s = client(desk, "alice")
    rejected(desk, s, 415, "unsupported-media-type", data=dumps(valid_ticket()), ctype=ctype)


def test_content_type_checked_before_size(desk):
    s = client(desk, "alice")
    rejected(desk, s, 415, "unsupported-media-type", data=b"x" * (MAX_BODY + 10),
             ctype="text/plain")


# ---- 413: size ------------------------------------------------------------------

def test_body_one_byte_over_limit_is_413(desk):
    s = client(desk, "alice")
    data = dumps(valid_ticket())
    data = data + b" " * (MAX_BODY + 1 - len(data))
    assert len(data) == MAX_BODY + 1
    rejected(desk, s, 413, "too-large", data=data)


def test_big_description_is_413(desk):
    s = client(desk, "alice")
    rejected(desk, s, 413, "too-large", body=valid_ticket(description="a" * 70000))


def test_huge_body_is_413(desk):
    s = client(desk, "alice")
    rejected(desk, s, 413, "too-large", data=b'{"subject": "' + b"a" * (4 << 20) + b'"}')


def test_chunked_body_over_limit_is_413(desk):
    s = client(desk, "alice")

    def gen():
        yield b'{"subject": "'
        for _ in range(20):
            yield b"a" * 8192
        yield b'"}'

    with unchanged_db(desk):
        r = s.post(desk.api("/tickets"), data=gen(),
                   headers={"Content-Type": "application/json"})
    assert_problem(r, 413, "too-large")


def test_chunked_valid_body_is_accepted(desk):
    s = client(desk, "alice")
    data = dumps(valid_ticket())

    def gen():
        for i in range(0, len(data), 7):
            yield data[i:i + 7]

    r = s.post(desk.api("/tickets"), data=gen(), headers={"Content-Type": "application/json"})
    assert_json(r, 201)


# ---- 400: not JSON, or not acceptable JSON ------------------------------------

def _vt():
    return dumps(valid_ticket())


MALFORMED = {
    "empty": b"",
    "whitespace": b"   \n",
    "truncated": b'{"subject": "abc", "description": ',
    "trailing-garbage": _vt() + b" x",
    "two-objects": _vt() + _vt(),
    "trailing-comma": _vt()[:-1] + b", }",
    "top-array": b"[" + _vt() + b"]",
    "top-empty-array": b"[]",
    "top-string": b'"a ticket"',
    "top-number": b"42",
    "top-null": b"null",
    "top-true": b"true",
    "single-quotes": b"{'subject': 'x'}",
    "comment": b'{/* c */ "subject": "x"}',
    "nan": b'{"subject": NaN}',
    "bare-word": b"{subject: 1}",
    "duplicate-key": b'{"subject": "one", "subject": "two", "description": "d", '
                     b'"category": "device", "priority": "high"}',
    "duplicate-nested-key": dumps(valid_ticket())[:-1]
                            + b', "device": {"model": "a", "model": "b"}}',
    "invalid-utf8-ff": b'{"subject": "bad \xff\xfe", "description": "d", '
                       b'"category": "device", "priority": "high"}',
    "invalid-utf8-overlong": b'{"subject": "bad \xc0\xaf", "description": "d", '
                             b'"category": "device", "priority": "high"}',
    "invalid-utf8-surrogate": b'{"subject": "bad \xed\xa0\x80", "description": "d", '
                              b'"category": "device", "priority": "high"}',
    "invalid-utf8-truncated": b'{"subject": "bad \xe2\x82", "description": "d", '
                              b'"category": "device", "priority": "high"}',
    "invalid-utf8-latin1": '{"subject": "caf\u00e9", "description": "d", '
                           '"category": "device", "priority": "high"}'.encode("latin-1"),
    "lone-surrogate-escape": b'{"subject": "bad \\ud800", "description": "d", '
                             b'"category": "device", "priority": "high"}',
    "nul-escape-in-string": b'{"subject": "a\\u0000b", "description": "d", '
                            b'"category": "device", "priority": "high"}',
    "nul-escape-in-key": b'{"sub\\u0000ject": "a", "description": "d", '
                         b'"category": "device", "priority": "high"}',
    "raw-nul-byte": b'{"subject": "a\x00b", "description": "d", '
                    b'"category": "device", "priority": "high"}',
    "raw-control-in-string": b'{"subject": "a\x07b", "description": "d", '
                             b'"category": "device", "priority": "high"}',
    "depth-33": b'{"context": ' + nested(32).encode() + b"}",
    "depth-100-unknown-field": b'{"x": ' + nested(99).encode() + b"}",
    "depth-3000": b'{"x": ' + nested(3000).encode() + b"}",
    "deep-objects": b'{"a":' * 40 + b"1" + b"}" * 40,
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_json_is_400(desk, name):
    s = client(desk, "alice")
    rejected(desk, s, 400, "malformed-json", data=MALFORMED[name])


def test_depth_32_is_not_a_syntax_error(desk):
    # {"context": [[...31...]]} is 32 deep: within the limit, so it parses,
    # and is then an invalid field (context must be an object of strings).
    s = client(desk, "alice")
    data = dumps(valid_ticket())[:-1] + b', "context": ' + nested(31).encode() + b"}"
    rejected(desk, s, 422, "invalid-fields", "context", data=data)


# ---- 422: valid JSON, invalid fields -------------------------------------------

@pytest.mark.parametrize("name", [
    "foo", "id", "tenant", "reporter", "status", "created_at", "updated_at", "key",
    "tier", "assignee", "sla", "events", "comments", "Subject", "", "__proto__",
])
def test_unknown_or_server_field_is_422(desk, name):
    s = client(desk, "alice")
    body = valid_ticket()
    body[name] = {"id": 1, "tenant": "south-clinic", "reporter": "carol", "status": "closed",
                  "created_at": "2000-01-01T00:00:00Z"}.get(name, "x")
    prob = rejected(desk, s, 422, "invalid-fields", name, body=body)
    assert name in field_errors(prob)


@pytest.mark.parametrize("name", ["subject", "description", "category"])
def test_missing_required_field_is_422(desk, name):
    s = client(desk, "alice")
    prob = rejected(desk, s, 422, "invalid-fields", name, body=valid_ticket(**{name: DROP}))
    assert "required" in field_errors(prob)[name]


def test_empty_object_names_every_required_field(desk):
    s = client(desk, "alice")
    prob = rejected(desk, s, 422, "invalid-fields", body={})
    errs = field_errors(prob)
    for name in ("subject", "description", "category"):
        assert name in errs, errs
        assert "required" in errs[name]


def test_all_errors_are_collected(desk):
    s = client(desk, "alice")
    prob = rejected(desk, s, 422, "invalid-fields",
                    body=valid_ticket(subject="   ", category="nope", foo=1))
    errs = field_errors(prob)
    assert {"subject", "category", "foo"} <= set(errs), errs


INVALID = [
    # (id, overrides, field)
    ("blank-subject", {"subject": "   "}, "subject"),
    ("empty-subject", {"subject": ""}, "subject"),
    ("blank-subject-tabs-nl", {"subject": "\t\n "}, "subject"),
    ("blank-description", {"description": " \n "}, "description"),
    ("empty-category", {"category": ""}, "category"),
    ("subject-201", {"subject": "a" * 201}, "subject"),
    ("subject-201-cyrillic", {"subject": "\u044f" * 201}, "subject"),
    ("subject-201-emoji", {"subject": "\U0001F600" * 201}, "subject"),
    ("description-20001", {"description": "a" * 20001}, "description"),
    ("description-20001-2byte", {"description": "\u00e9" * 20001}, "description"),
    ("subject-bel", {"subject": "beep \u0007 beep"}, "subject"),
    ("subject-esc", {"subject": "ansi \u001b[31m red"}, "subject"),
    ("subject-newline", {"subject": "two\nlines"}, "subject"),
    ("subject-del", {"subject": "del \u007f"}, "subject"),
    ("subject-c1", {"subject": "c1 \u0085 next line"}, "subject"),
    ("description-bel", {"description": "beep \u0007"}, "description"),
    ("category-unknown", {"category": "printer"}, "category"),
    ("category-case", {"category": "Device"}, "category"),
    ("urgency-unknown", {"urgency": "high"}, "urgency"),
    ("impact-unknown", {"impact": "everyone"}, "impact"),
    ("priority-unknown", {"priority": "p1"}, "priority"),
    ("priority-case", {"priority": "HIGH"}, "priority"),
    ("environment-unknown", {"environment": "prod"}, "environment"),
    ("urgency-without-impact", {"impact": DROP}, "impact"),
    ("impact-without-urgency", {"urgency": DROP}, "urgency"),
    ("subject-number", {"subject": 5}, "subject"),
    ("subject-null", {"subject": None}, "subject"),
    ("subject-array", {"subject": ["x"]}, "subject"),
    ("description-bool", {"description": True}, "description"),
    ("category-array", {"category": ["device"]}, "category"),
    ("urgency-number", {"urgency": 1}, "urgency"),
    ("priority-number", {"urgency": DROP, "impact": DROP, "priority": 1}, "priority"),
    ("cc-string", {"cc": "x"}, "cc"),
    ("cc-object", {"cc": {"a": "b@c.example"}}, "cc"),
    ("device-string", {"device": "x"}, "device"),
    ("device-array", {"device": ["x"]}, "device"),
    ("context-array", {"context": [1]}, "context"),
    ("context-string", {"context": "ward 3B"}, "context"),
    ("device-unknown-key", {"device": {"serial": "123"}}, "device.serial"),
    ("device-id-number", {"device": {"id": 5}}, "device.id"),
    ("device-model-object", {"device": {"model": {"x": 1}}}, "device.model"),
    ("cc-not-address", {"cc": ["not an address"]}, "cc[0]"),
    ("cc-second-bad", {"cc": ["bob@north-hospital.example", "bob@"]}, "cc[1]"),
    ("cc-number", {"cc": [5]}, "cc[0]"),
    ("cc-header-injection", {"cc": ["a@b.example\r\nBcc: x@evil.example"]}, "cc[0]"),
    ("cc-21", {"cc": ["u%d@north-hospital.example" % i for i in range(21)]}, "cc"),
    ("context-21", {"context": {"k%d" % i: "v" for i in range(21)}}, "context"),
    ("context-number-value", {"context": {"a": 1}}, ("context", "context.a")),
    ("context-object-value", {"context": {"a": {"b": "c"}}}, ("context", "context.a")),
    ("context-null-value", {"context": {"a": None}}, ("context", "context.a")),
    ("page-url-javascript", {"page_url": "javascript:alert(1)"}, "page_url"),
    ("page-url-javascript-case", {"page_url": "JaVaScRiPt:alert(1)"}, "page_url"),
    ("page-url-javascript-space", {"page_url": " javascript:alert(1)"}, "page_url"),
    ("page-url-data", {"page_url": "data:text/html,<script>alert(1)</script>"}, "page_url"),
    ("page-url-number", {"page_url": 5}, "page_url"),
    ("service-huge", {"service": "s" * 5000}, "service"),
    ("encounter-huge", {"encounter_id": "e" * 5000}, "encounter_id"),
    ("device-model-huge", {"device": {"model": "m" * 5000}}, "device.model"),
]


@pytest.mark.parametrize("overrides,field", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_field_is_422(desk, overrides, field):
    s = client(desk, "alice")
    rejected(desk, s, 422, "invalid-fields", field, body=valid_ticket(**overrides))


def test_no_priority_at_all_is_422(desk):
    s = client(desk, "alice")
    rejected(desk, s, 422, "invalid-fields", body=valid_ticket(urgency=DROP, impact=DROP))


def test_agent_gets_the_same_validation(desk):
    s = client(desk, "tom")
    rejected(desk, s, 422, "invalid-fields", "status", body=valid_ticket(status="closed"))
    rejected(desk, s, 422, "invalid-fields", "subject", body=valid_ticket(subject="a" * 201))


# ---- cross-origin --------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://127.0.0.1"},
], ids=["evil-origin", "null-origin", "sec-fetch-cross-site", "both", "other-scheme"])
def test_cross_origin_post_is_403(desk, headers):
    s = client(desk, "alice")
    rejected(desk, s, 403, "cross-origin", body=valid_ticket(), headers=headers)


def test_origin_prefix_trick_is_403(desk):
    s = client(desk, "alice")
    for origin in (desk.url + ".evil.example", desk.url + "0", desk.url + "@evil.example"):
        rejected(desk, s, 403, "cross-origin", body=valid_ticket(), headers={"Origin": origin})


def test_other_port_origin_is_403(desk):
    s = client(desk, "alice")
    host, port = desk.url.rsplit(":", 1)
    other = "%s:%d" % (host, int(port) + 1 if int(port) < 65535 else 1)
    rejected(desk, s, 403, "cross-origin", body=valid_ticket(), headers={"Origin": other})


def test_cross_origin_checked_even_for_bad_bodies(desk):
    # a cross-origin request never reaches validation, whatever it carries
    s = client(desk, "alice")
    rejected(desk, s, 403, "cross-origin", data=b"{not json",
             headers={"Origin": "http://evil.example"})


def test_same_origin_post_is_201(desk):
    s = client(desk, "alice")
    r = post_raw(desk, s, dumps(valid_ticket()), headers={"Origin": desk.url})
    assert_json(r, 201)
    r = post_raw(desk, s, dumps(valid_ticket()),
                 headers={"Origin": desk.url, "Sec-Fetch-Site": "same-origin"})
    assert_json(r, 201)


def test_no_origin_post_is_201(desk):
    s = client(desk, "alice")
    r = post_raw(desk, s, dumps(valid_ticket()))
    assert "Origin" not in r.request.headers
    assert_json(r, 201)


# ---- other users ------------------------------------------------------------------

def test_ticket_belongs_to_the_caller_tenant(desk):
    s = client(desk, "carol")
    t = create_ticket(desk, s)
    assert t["tenant"] == "south-clinic"
    assert t["reporter"]["user"] == "carol"
    assert t["reporter"]["email"] == "carol@south-clinic.example"


def test_ghost_cannot_create(desk):
    s = client(desk, "ghost", password="ghost-secret")
    with unchanged_db(desk):
        r = s.post(desk.alt("/tickets"), json=valid_ticket())
    assert_problem(r, 403, "unknown-user")


def test_body_is_json_text(desk):
    # the 201 body is UTF-8 JSON, not escaped twice
    s = client(desk, "alice")
    subj = "\u0414\u0438\u0441\u043f\u043b\u0435\u0439 \U0001F600 %s" % marker()
    r = s.post(desk.api("/tickets"), json=valid_ticket(subject=subj))
    t = assert_json(r, 201)
    assert t["subject"] == subj
    assert json.loads(r.content.decode("utf-8"))["subject"] == subj
