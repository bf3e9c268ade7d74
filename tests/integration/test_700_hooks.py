"""Issue 7, the in-process API and the hooks (mod_sdesk.h), through the
companion module tests/mod_sdesk_testhooks.c (Desk.testhooks loads it):

- sdesk_ticket_file_json / sdesk_ticket_file: the HTTP API's validation,
  tenant and role rules and transaction; the ticket is then visible through
  the API with its encounter id; bad input changes nothing; no user is 401;
- sdesk_known_issues_find: the user's tenant's and the global known issues;
- every hook fires once per event, after the commit (the test module reads
  the ticket back through a connection of its own), with the event's data;
  a hook that fails breaks nothing (its result is logged and ignored);
  a rejected change fires nothing.
"""

import json
import time

import pytest

from sdesk_util import (
    assert_json, assert_problem, client, create_ticket, describe, dumps, marker,
    unchanged_db, valid_ticket,
)

JSON = {"Content-Type": "application/json"}
PROBLEM = "urn:mod-sdesk:problem:"
HOOK_FAILED = r"SD0070[01]: hook \w+ of mod_sdesk_testhooks.c returned 500; ignored"
# normal tickets breach their resolution target at once here (sla_breached);
# the other tests file "high" tickets, which do not
SLA_CONF = """
SdeskResolutionTarget 2 normal 2s 24x7
SdeskSLAScanInterval 1
"""


@pytest.fixture(scope="module")
def hooks_log(desk):
    with desk.testhooks(extra_conf=SLA_CONF) as log:
        yield log


# ---- helpers ----------------------------------------------------------------------

def th_url(desk, sub, anon=False):
    return desk.url + ("/testhooks-anon/" if anon else "/testhooks/") + sub


def file_json(desk, user, body=None, data=None, anon=False):
    """POST /testhooks/file: the test module's answer {status, id, key, problem}."""
    s = client(desk, None) if anon else client(desk, user)
    r = s.post(th_url(desk, "file", anon), data=dumps(body) if data is None else data,
               headers=JSON)
    assert r.status_code == 200, describe(r)
    return r.json()


def file_struct(desk, user, params):
    r = client(desk, user).post(th_url(desk, "file-struct"), params=params)
    assert r.status_code == 200, describe(r)
    return r.json()


def find_known(desk, user, q, anon=False):
    s = client(desk, None) if anon else client(desk, user)
    r = s.get(th_url(desk, "known", anon), params={"q": q})
    assert r.status_code == 200, describe(r)
    return r.json()


def read_hooks(log):
    with open(log, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def calls(log, hook=None, tid=None):
    out = []
    for c in read_hooks(log):
        if hook and c["hook"] != hook:
            continue
        if tid is not None and (c.get("ticket") or {}).get("id") != tid:
            continue
        out.append(c)
    return out


def wait_calls(log, n, timeout=15, **kw):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = calls(log, **kw)
        if len(got) >= n:
            return got
        time.sleep(0.1)
    return calls(log, **kw)


def assert_problem_result(res, status, slug=None):
    assert res["status"] == status, res
    prob = res["problem"]
    assert isinstance(prob, dict) and prob["status"] == status, res
    if slug:
        assert prob["type"] == PROBLEM + slug, res
    assert res["id"] == 0 and res["key"] is None, res
    return prob


def api_get(desk, user, tid):
    return client(desk, user).get(desk.api("/tickets/%d" % tid))


def high_ticket(**fields):
    return valid_ticket(**fields)           # job-stopped x single: high


# ---- in-process filing --------------------------------------------------------------

def test_file_json_then_visible_through_the_api(desk, hooks_log):
    subject = "Monitor in bay 4 freezes %s" % marker()
    body = high_ticket(subject=subject, encounter_id="ENC-20261122-0042",
                       device={"id": "MON-4", "model": "IntelliVue MX450"},
                       page_url="https://intranet.example/ward/4?bed=2",
                       context={"ward": "4B", "app": "charting"},
                       cc=["bob@north-hospital.example"])
    res = file_json(desk, "alice", body)
    assert res["status"] == 201 and res["problem"] is None, res
    tid = res["id"]
    assert isinstance(tid, int) and tid > 0 and res["key"] == "SD-%d" % tid, res
    t = assert_json(api_get(desk, "alice", tid), 200)
    assert t["subject"] == subject
    assert t["encounter_id"] == "ENC-20261122-0042"
    assert t["tenant"] == "north-hospital"
    assert t["reporter"]["user"] == "alice"
    assert t["device"]["model"] == "IntelliVue MX450"
    assert t["page_url"] == "https://intranet.example/ward/4?bed=2"
    assert t["context"] == {"ward": "4B", "app": "charting"}
    assert t["cc"] == ["bob@north-hospital.example"]
    assert t["priority"] == "high" and t["status"] == "new"
    # the same rules as the API: a reporter's other-tenant colleague sees nothing
    assert_problem(api_get(desk, "carol", tid), 404)


def test_file_struct_then_visible_through_the_api(desk, hooks_log):
    subject = "Barcode scanner beeps twice %s" % marker()
    res = file_struct(desk, "bob", [
        ("subject", subject), ("description", "Twice, then nothing."),
        ("category", "device"), ("urgency", "function-affected"), ("impact", "multiple"),
        ("encounter_id", "ENC-7"), ("device_id", "SCN-12"),
        ("page_url", "https://intranet.example/meds"),
        ("cc", "alice@north-hospital.example"), ("cc", "nina@north-hospital.example"),
        ("ctx.form", "medication"), ("ctx.step", "3"),
    ])
    assert res["status"] == 201, res
    t = assert_json(api_get(desk, "bob", res["id"]), 200)
    assert t["subject"] == subject and t["encounter_id"] == "ENC-7"
    assert t["priority"] == "high"                      # from the matrix
    assert t["device"]["id"] == "SCN-12"
    assert t["cc"] == ["alice@north-hospital.example", "nina@north-hospital.example"]
    assert t["context"] == {"form": "medication", "step": "3"}


def test_tenant_and_role_rules(desk, hooks_log):
    # carol's ticket is south-clinic's, invisible to north
    res = file_json(desk, "carol", high_ticket())
    assert res["status"] == 201, res
    t = assert_json(api_get(desk, "carol", res["id"]), 200)
    assert t["tenant"] == "south-clinic"
    assert_problem(api_get(desk, "alice", res["id"]), 404)
    assert_problem(api_get(desk, "tom", res["id"]), 404)
    # for a reporter the matrix wins over a stated priority; for an agent the priority
    body = high_ticket(priority="critical")
    res = file_json(desk, "alice", body)
    assert res["status"] == 201, res
    assert assert_json(api_get(desk, "alice", res["id"]), 200)["priority"] == "high"
    res = file_json(desk, "tom", body)
    assert res["status"] == 201, res
    assert assert_json(api_get(desk, "tom", res["id"]), 200)["priority"] == "critical"


BAD_BODIES = [
    ("no-subject", dumps(valid_ticket(subject=None)), 422, "invalid-fields"),
    ("missing-subject", dumps({k: v for k, v in valid_ticket().items() if k != "subject"}),
     422, "invalid-fields"),
    ("unknown-field", dumps(valid_ticket(is_admin=True)), 422, "invalid-fields"),
    ("bad-category", dumps(valid_ticket(category="coffee")), 422, "invalid-fields"),
    ("bad-cc", dumps(valid_ticket(cc=["a@b.example\r\nBcc: evil@evil.example"])), 422,
     "invalid-fields"),
    ("subject-with-newline", dumps(valid_ticket(subject="a\r\nBcc: x@y.example")), 422,
     "invalid-fields"),
    ("malformed", b'{"subject": ', 400, "malformed-json"),
    ("not-an-object", b'["subject"]', 400, "malformed-json"),
    ("too-deep", dumps(valid_ticket(context={"a": json.loads("[" * 40 + "]" * 40)})), 400,
     "malformed-json"),
    ("too-big", dumps(valid_ticket(description="x" * 70000)), 413, "too-large"),
]


@pytest.mark.parametrize("name,data,status,slug", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_input_changes_nothing(desk, hooks_log, name, data, status, slug):
    before = len(read_hooks(hooks_log))
    with unchanged_db(desk):
        res = file_json(desk, "alice", data=data)
    prob = assert_problem_result(res, status, slug)
    if status == 422:
        assert prob["errors"], res
    assert len(read_hooks(hooks_log)) == before, "a hook fired for a rejected ticket"


def test_struct_field_errors(desk, hooks_log):
    with unchanged_db(desk):
        res = file_struct(desk, "alice", [("description", "d"), ("category", "device"),
                                          ("priority", "high")])
        prob = assert_problem_result(res, 422, "invalid-fields")
        assert "subject" in [e["field"] for e in prob["errors"]], res
        # bytes that are not UTF-8 never reach the database
        res = file_struct(desk, "alice", [("subject", b"caf\xe9"), ("description", "d"),
                                          ("category", "device"), ("priority", "high")])
        prob = assert_problem_result(res, 422, "invalid-fields")
        assert "subject" in [e["field"] for e in prob["errors"]], res


def test_unauthenticated_is_401(desk, hooks_log):
    with unchanged_db(desk):
        res = file_json(desk, None, high_ticket(), anon=True)
        assert_problem_result(res, 401, "unauthenticated")
        res = find_known(desk, None, "printer", anon=True)
        assert_problem_result(res, 401, "unauthenticated")
        assert res["known_issues"] is None


# ---- known issues --------------------------------------------------------------------

def new_ki(desk, user, title, **fields):
    body = {"title": title, "symptoms": "Labels come out blank.",
            "workaround": "Use the printer on ward 2."}
    body.update(fields)
    r = client(desk, user).post(desk.api("/known-issues"), data=dumps(body), headers=JSON)
    return assert_json(r, 201)


def found_ids(desk, user, q, want=None, timeout=10):
    """Ids find_known returns for q; waits (the index refreshes within a
    second or two) until want is among them, when given."""
    deadline = time.time() + timeout
    while True:
        res = find_known(desk, user, q)
        assert res["status"] == 200 and res["problem"] is None, res
        ids = [k["id"] for k in res["known_issues"]]
        if want is None or want in ids or time.time() > deadline:
            return ids, res
        time.sleep(0.2)


def test_known_issues_scoped_to_tenant(desk, hooks_log):
    word = marker("zq")
    north = new_ki(desk, "tom", "Label printer %s offline" % word)
    south = new_ki(desk, "sam", "Label printer %s jammed" % word)
    glob = new_ki(desk, "ada", "Printer driver %s update" % word, scope="global")
    ids, res = found_ids(desk, "alice", "printer %s" % word, want=north["id"])
    assert north["id"] in ids and glob["id"] in ids, res
    assert south["id"] not in ids, res
    item = [k for k in res["known_issues"] if k["id"] == north["id"]][0]
    assert item["title"] == north["title"] and item["workaround"] == north["workaround"]
    assert item["score"] > 0
    ids, res = found_ids(desk, "carol", "printer %s" % word, want=south["id"])
    assert south["id"] in ids and glob["id"] in ids, res
    assert north["id"] not in ids, res
    # a blank text finds nothing, and is no error
    assert found_ids(desk, "alice", "   ")[0] == []


# ---- hooks ---------------------------------------------------------------------------

def test_created_hook_once_after_commit(desk, hooks_log):
    # through the HTTP API
    t = create_ticket(desk, client(desk, "alice"), encounter_id="ENC-1")
    got = wait_calls(hooks_log, 1, hook="ticket_created", tid=t["id"])
    assert len(got) == 1, got
    c = got[0]
    assert c["ticket"]["key"] == t["key"] and c["ticket"]["tenant"] == "north-hospital"
    assert c["ticket"]["status"] == "new" and c["ticket"]["priority"] == "high"
    assert c["ticket"]["encounter_id"] == "ENC-1" and c["ticket"]["reporter"] == "alice"
    assert c["ticket"]["subject"] == t["subject"]
    assert c["uri"] == "/sdesk/api/v1/tickets" and c["user"] == "alice"
    # read back through another connection: committed before the hook ran
    assert c["committed"] == {"status": "new", "version": c["ticket"]["version"]}, c
    assert calls(hooks_log, hook="ticket_changed", tid=t["id"]) == []
    # through the in-process API
    res = file_json(desk, "bob", high_ticket(encounter_id="ENC-2"))
    got = wait_calls(hooks_log, 1, hook="ticket_created", tid=res["id"])
    assert len(got) == 1 and got[0]["uri"] == "/testhooks/file", got
    assert got[0]["committed"]["status"] == "new"


def patch(desk, user, tid, body):
    r = client(desk, user).patch(desk.api("/tickets/%d" % tid), data=dumps(body), headers=JSON)
    return assert_json(r, 200)


def post(desk, user, tid, sub, body):
    return client(desk, user).post(desk.api("/tickets/%d%s" % (tid, sub)), data=dumps(body),
                                   headers=JSON)


def test_changed_and_escalated_hooks(desk, hooks_log):
    t = create_ticket(desk, client(desk, "alice"))
    tid = t["id"]
    patch(desk, "tom", tid, {"status": "open", "priority": "urgent"})
    got = wait_calls(hooks_log, 2, hook="ticket_changed", tid=tid)
    assert len(got) == 2, got
    by_kind = {c["event"]["kind"]: c for c in got}
    assert by_kind["status"]["event"]["old"] == "new"
    assert by_kind["status"]["event"]["new"] == "open"
    assert by_kind["priority"]["event"]["new"] == "urgent"
    for c in got:
        # the ticket as it is after the whole change, and so in the database
        assert c["ticket"]["status"] == "open" and c["ticket"]["priority"] == "urgent"
        assert c["committed"]["status"] == "open", c
        assert c["event"]["actor"] == "tom" and c["user"] == "tom"

    assert_json(post(desk, "tom", tid, "/comments", {"body": "On it.", "internal": False}), 201)
    got = wait_calls(hooks_log, 3, hook="ticket_changed", tid=tid)
    assert got[-1]["event"]["kind"] == "comment" and got[-1]["event"]["field"] == "public"
    assert "On it." not in json.dumps(got[-1]), "the hook got the comment's text"

    assert_json(post(desk, "tom", tid, "/escalate", {"note": "Needs tier 3."}), 200)
    esc = wait_calls(hooks_log, 1, hook="ticket_escalated", tid=tid)
    assert len(esc) == 1, esc
    assert esc[0]["event"]["kind"] == "escalated"
    assert (esc[0]["event"]["old"], esc[0]["event"]["new"]) == ("2", "3")
    assert esc[0]["ticket"]["tier"] == 3 and esc[0]["committed"]["status"] == "open"
    changed = calls(hooks_log, hook="ticket_changed", tid=tid)
    assert [c["event"]["kind"] for c in changed].count("escalated") == 1, changed
    assert calls(hooks_log, hook="ticket_created", tid=tid)[0]["ticket"]["tier"] == 2


def test_known_issue_resolved_hook(desk, hooks_log):
    t = create_ticket(desk, client(desk, "alice"))
    ki = new_ki(desk, "tom", "Pager gateway %s drops pages" % marker())
    r = post(desk, "tom", t["id"], "/link", {"known_issue_id": ki["id"]})
    assert_json(r, 200)
    r = client(desk, "tom").patch(desk.api("/known-issues/%d" % ki["id"]),
                                  data=dumps({"status": "resolved"}), headers=JSON)
    assert_json(r, 200)
    got = wait_calls(hooks_log, 1, hook="known_issue_resolved")
    mine = [c for c in got if c["known_issue"]["id"] == ki["id"]]
    assert len(mine) == 1, got
    k = mine[0]["known_issue"]
    assert k["title"] == ki["title"] and k["tenant"] == "north-hospital"
    assert k["resolved_tickets"] == 1 and k["actor"] == "tom"
    kinds = [c["event"]["kind"] for c in calls(hooks_log, hook="ticket_changed", tid=t["id"])]
    assert kinds.count("linked") == 1 and kinds.count("resolved-with-known-issue") == 1, kinds
    assert kinds.count("status") == 1, kinds
    last = calls(hooks_log, hook="ticket_changed", tid=t["id"])[-1]
    assert last["ticket"]["status"] == "resolved" and last["committed"]["status"] == "resolved"


def test_sla_breached_hook_from_the_background_job(desk, hooks_log):
    t = create_ticket(desk, client(desk, "alice"), urgency="not-blocking")      # normal
    got = wait_calls(hooks_log, 1, hook="sla_breached", tid=t["id"], timeout=20)
    assert len(got) == 1, got
    c = got[0]
    assert c["uri"] is None and c["user"] is None          # no request: the scan
    assert c["event"]["kind"] == "sla-breached" and c["event"]["field"] == "resolution"
    assert c["event"]["actor"] == "system"
    assert c["committed"]["status"] == "new"
    time.sleep(2.5)                                        # more scans: still once
    assert len(calls(hooks_log, hook="sla_breached", tid=t["id"])) == 1
    changed = calls(hooks_log, hook="ticket_changed", tid=t["id"])
    assert [x["event"]["kind"] for x in changed] == ["sla-breached"], changed


def test_rejected_change_fires_nothing(desk, hooks_log):
    t = create_ticket(desk, client(desk, "alice"))
    before = len(read_hooks(hooks_log))
    with unchanged_db(desk):
        r = client(desk, "tom").patch(desk.api("/tickets/%d" % t["id"]),
                                      data=dumps({"status": "closed"}), headers=JSON)
        assert_problem(r, 409)
        r = post(desk, "alice", t["id"], "/escalate", {"note": "please"})
        assert_problem(r, 403)
    time.sleep(0.3)
    assert len(read_hooks(hooks_log)) == before


# ---- a failing hook --------------------------------------------------------------------

@pytest.mark.log_allow(HOOK_FAILED)
def test_failing_hooks_break_nothing(desk, hooks_log):
    with desk.testhooks(fail="all") as log:
        t = create_ticket(desk, client(desk, "alice"))
        res = file_json(desk, "alice", high_ticket())
        assert res["status"] == 201, res
        patched = patch(desk, "tom", t["id"], {"status": "open"})
        assert patched["status"] == "open"
        # the changes stand, and every hook was still called once
        assert assert_json(api_get(desk, "alice", t["id"]), 200)["status"] == "open"
        assert assert_json(api_get(desk, "alice", res["id"]), 200)["status"] == "new"
        assert len(calls(log, hook="ticket_created", tid=t["id"])) == 1
        assert len(calls(log, hook="ticket_changed", tid=t["id"])) == 1
        with open(desk.error_log, encoding="utf-8", errors="replace") as f:
            assert "hook ticket_created of mod_sdesk_testhooks.c returned 500" in f.read()
