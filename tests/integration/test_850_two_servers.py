"""Issue 8, several servers: two httpd instances on one PostgreSQL (and one
slapd), as two nodes behind a load balancer. Writes go through both at once
(tickets, comments, escalations, in threads); afterwards nothing is lost or
duplicated (every 201 is in the database exactly once, ids are unique,
comment counts are right), due times follow the SLA configuration from each
ticket's creation or last escalation, both servers show the same ticket, and
the suggestion index of one server finds what was written through the
other (it refreshes from the change feed at most once a second).

The second server comes from harness.Desk.peer(); both run the same
round-the-clock SLA targets, so due times are computable at any hour."""

import concurrent.futures
import datetime
import threading
import time
import urllib.parse

import pytest

import harness
import sdesk_util
from sdesk_util import assert_json, dumps, marker, rfc3339

pytestmark = pytest.mark.pgsql_only

H = datetime.timedelta(hours=1)
CONF = """
SdeskResponseTarget 2 1h 24x7
SdeskResponseTarget 3 1h 24x7
SdeskResponseTarget 4 8h 24x7
SdeskResolutionTarget 2 high 8h 24x7
SdeskResolutionTarget 3 high 24h 24x7
SdeskResolutionTarget 4 high none
"""
# tier -> (response, resolution) for priority high under CONF
TARGETS = {2: (1 * H, 8 * H), 3: (1 * H, 24 * H), 4: (8 * H, None)}

THREADS_PER_SERVER = 4
TICKETS_PER_THREAD = 12
SHARED_TICKETS = 4            # tickets every comment thread writes to
COMMENTS_PER_THREAD = 6       # per shared ticket and thread


@pytest.fixture(scope="module")
def servers(desk):
    """(a, b): the session's stack and a second server on its database,
    both with CONF."""
    with desk.httpd_conf(CONF):
        b = desk.peer("b", extra_conf=CONF)
        b.start()
        try:
            yield desk, b
            bad = harness.bad_log_lines(b.read_log(0))
            assert not bad, "second server's error log:\n" + "\n".join(bad)
        finally:
            b.stop()


def _session(srv, user):
    return harness.make_session(srv.base, user)


def _post(s, url, body):
    return s.post(url, data=dumps(body), headers={"Content-Type": "application/json"})


def run_threads(jobs):
    """Run the callables at once; returns their results (exceptions raised)."""
    start = threading.Barrier(len(jobs))

    def wrap(fn):
        start.wait(30)
        return fn()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs)) as ex:
        futs = [ex.submit(wrap, fn) for fn in jobs]
        return [f.result(timeout=300) for f in futs]


def test_concurrent_writes_through_two_servers(servers):
    a, b = servers
    run = marker("two")
    users = ("alice", "bob", "carol", "dan")

    # -- 1. tickets through both servers at once --
    def creator(srv, n):
        def job():
            got = []
            sessions = {u: _session(srv, u) for u in users}
            try:
                for i in range(TICKETS_PER_THREAD):
                    u = users[(n + i) % len(users)]
                    subject = "Printer on ward %d jams %s %s-%d-%d" % (i, run, srv is b, n, i)
                    r = _post(sessions[u], srv.api("/tickets"), sdesk_util.valid_ticket(
                        subject=subject, urgency="job-stopped", impact="single"))
                    assert r.status_code == 201, (r.status_code, r.text[:500])
                    t = r.json()
                    got.append((t["id"], subject, u, t))
            finally:
                for s in sessions.values():
                    s.close()
            return got
        return job

    jobs = [creator(srv, n) for srv in (a, b) for n in range(THREADS_PER_SERVER)]
    created = [x for part in run_threads(jobs) for x in part]
    assert len(created) == 2 * THREADS_PER_SERVER * TICKETS_PER_THREAD
    ids = [c[0] for c in created]
    assert len(set(ids)) == len(ids), "an id was handed out twice"
    rows = a.db_query("SELECT id, subject, reporter FROM tickets WHERE subject LIKE ?",
                      "%" + run + "%")
    assert sorted(rows) == sorted((i, s, u) for i, s, u, _ in created), \
        "tickets in the database differ from the 201s"
    for tid, subject, u, t in created:
        assert t["key"] == "SD-%d" % tid
        c = rfc3339(t["created_at"])
        assert rfc3339(t["response_due_at"]) == c + TARGETS[2][0], t
        assert rfc3339(t["resolution_due_at"]) == c + TARGETS[2][1], t

    # -- 2. comments and escalations on shared tickets, through both, at once --
    north = [c for c in created if c[2] in ("alice", "bob")]
    shared = north[:SHARED_TICKETS]
    escal = north[SHARED_TICKETS:SHARED_TICKETS + 8]
    comment_ok = {c[0]: 0 for c in shared}
    lock = threading.Lock()

    def commenter(srv, user, n):
        def job():
            s = _session(srv, user)
            try:
                for i in range(COMMENTS_PER_THREAD):
                    for tid, _, owner, _ in shared:
                        if user != "tom" and user != owner:
                            continue
                        r = _post(s, srv.api("/tickets/%d/comments" % tid),
                                  {"body": "note %d-%d %s" % (n, i, run)})
                        assert r.status_code == 201, (tid, r.status_code, r.text[:500])
                        with lock:
                            comment_ok[tid] += 1
            finally:
                s.close()
        return job

    escalations = {c[0]: 0 for c in escal}

    def escalator(srv, n):
        def job():
            s = _session(srv, "tom")
            try:
                # every ticket through both servers: two escalations race on
                # each (2 -> 3 -> 4); both must be applied, one after the other
                for tid, _, _, _ in escal:
                    r = _post(s, srv.api("/tickets/%d/escalate" % tid),
                              {"note": "escalated by %s %d %s" % (srv.url, n, run)})
                    assert r.status_code in (200, 409), (tid, r.status_code, r.text[:500])
                    if r.status_code == 200:
                        with lock:
                            escalations[tid] += 1
            finally:
                s.close()
        return job

    jobs = []
    for srv in (a, b):
        for n, user in enumerate(("alice", "bob", "tom")):
            jobs.append(commenter(srv, user, n))
        jobs.append(escalator(srv, 0))
    run_threads(jobs)

    # comments: every 201 is there exactly once
    for tid, _, _, _ in shared:
        n = a.db_query("SELECT COUNT(*) FROM comments WHERE ticket_id = ? AND body LIKE ?",
                       tid, "note %" + run)[0][0]
        assert n == comment_ok[tid] > 0, (tid, n, comment_ok[tid])
    # (escalation notes are kept as internal comments too: they say "escalated by")
    cids = a.db_query("SELECT id FROM comments WHERE body LIKE ?", "note %" + run)
    assert len(cids) == len(set(cids)) == sum(comment_ok.values())

    # escalations: tier 2 + the number of 200s, one event each, due times
    # from the last escalation; both servers show the same ticket
    ta, tb = _session(a, "tom"), _session(b, "tom")
    try:
        for tid, _, _, _ in escal:
            k = escalations[tid]
            assert k == 2, "two escalations through two servers, %d applied" % k
            ra, rb = ta.get(a.api("/tickets/%d" % tid)), tb.get(b.api("/tickets/%d" % tid))
            va, vb = assert_json(ra, 200), assert_json(rb, 200)
            assert ra.headers.get("ETag") == rb.headers.get("ETag")
            va.pop("sla", None)
            vb.pop("sla", None)
            assert va == vb
            assert va["tier"] == 2 + k
            ev = [e for e in va["events"] if sdesk_util.event_kind(e) == "escalated"]
            assert len(ev) == k
            at = max(rfc3339(e["at"]) for e in ev)
            resp, res = TARGETS[va["tier"]]
            assert rfc3339(va["response_due_at"]) == at + resp
            assert va["resolution_due_at"] is None if res is None else \
                rfc3339(va["resolution_due_at"]) == at + res
            n = a.db_query("SELECT COUNT(*) FROM ticket_tiers WHERE ticket_id = ?", tid)[0][0]
            assert n == 1 + k, "one stint per tier"
        # the shared tickets: same view from both servers, comments counted
        for tid, _, _, _ in shared:
            va = assert_json(ta.get(a.api("/tickets/%d" % tid)), 200)
            vb = assert_json(tb.get(b.api("/tickets/%d" % tid)), 200)
            va.pop("sla", None)
            vb.pop("sla", None)
            assert va == vb
            mine = [c for c in va["comments"] if c.get("body", "").startswith("note ")
                    and run in c["body"]]
            assert len(mine) == comment_ok[tid]
    finally:
        ta.close()
        tb.close()
    # nothing else changed: the run's tickets are still exactly the 201s
    n = a.db_query("SELECT COUNT(*) FROM tickets WHERE subject LIKE ?", "%" + run + "%")[0][0]
    assert n == len(created)


def _suggests(srv, user, q, key, want_id, timeout=10.0):
    """Poll srv's /suggest?q= until key lists want_id; returns seconds waited."""
    s = _session(srv, user)
    t0 = time.monotonic()
    try:
        while True:
            r = s.get(srv.api("/suggest?q=" + urllib.parse.quote(q)))
            j = assert_json(r, 200)
            if any(x.get("id") == want_id for x in j.get(key, [])):
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise AssertionError("%s on %s never suggested %d for %r: %s"
                                     % (key, srv.url, want_id, q, j))
            time.sleep(0.2)
    finally:
        s.close()


def test_suggest_on_one_server_sees_writes_of_the_other(servers):
    a, b = servers
    word = "quokka" + marker("")[:8].translate(str.maketrans("0123456789", "ghijklmnop"))
    alice = _session(a, "alice")
    tom = _session(a, "tom")
    try:
        t = assert_json(_post(alice, a.api("/tickets"), sdesk_util.valid_ticket(
            subject="Label printer %s prints blank labels" % word)), 201)
        ki = assert_json(_post(tom, a.api("/known-issues"), {
            "title": "Scanner %s does not read wristbands" % word,
            "symptoms": "Scanning a wristband beeps but nothing arrives.",
            "workaround": "Type the MRN by hand."}), 201)
    finally:
        alice.close()
        tom.close()
    # written through A, found through B (and A), within the refresh interval
    _suggests(b, "alice", "printer %s" % word, "similar_tickets", t["id"])
    _suggests(b, "bob", "scanner %s wristbands" % word, "known_issues", ki["id"])
    _suggests(a, "alice", "printer %s" % word, "similar_tickets", t["id"])
    # tenant scoping holds across servers: south-clinic sees neither
    s = _session(b, "carol")
    try:
        j = assert_json(s.get(b.api("/suggest?q=" + urllib.parse.quote(word))), 200)
        assert t["id"] not in [x.get("id") for x in j.get("similar_tickets", [])]
        assert ki["id"] not in [x.get("id") for x in j.get("known_issues", [])]
    finally:
        s.close()
