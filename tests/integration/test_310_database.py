"""PostgreSQL restart: while the database is away requests fail with 503
(database-unavailable or database-busy, with Retry-After), never 500 and never
hang; within seconds they succeed again without restarting httpd, and every
ticket acknowledged with 201 is there."""

import threading
import time

import pytest

from sdesk_util import (
    assert_json, assert_problem, client, create_ticket, describe, event_kind, marker,
    valid_ticket,
)

pytestmark = [
    pytest.mark.pgsql_only,
    # the module (SD tags) and mod_dbd (AH006xx) log the lost connections
    pytest.mark.log_allow(r"SD\d+", r"AH006\d\d", r"mod_dbd", r"dbd"),
]

RECOVERY_SECONDS = 10
DB_DOWN = ("database-unavailable", "database-busy")


def check_response(r, ok_status):
    """r is either the success or a proper 503; returns True on success."""
    assert r.status_code != 500, "500 during database restart: " + describe(r)
    if r.status_code == ok_status:
        assert_json(r, ok_status)
        return True
    assert_problem(r, 503, DB_DOWN)
    return False


def recover(desk, sessions, tag, acked):
    """Alternate writes and reads until both succeed; return the seconds it took."""
    t0 = time.monotonic()
    ok_in_a_row = 0
    i = 0
    while ok_in_a_row < 6:
        s = sessions[i % len(sessions)]
        i += 1
        t1 = time.monotonic()
        if i % 2:
            r = s.post(desk.api("/tickets"), json=valid_ticket(subject="after %s %d" % (tag, i)))
            ok = check_response(r, 201)
            if ok:
                acked.append(r.json()["id"])
        else:
            r = s.get(desk.api("/tickets"), params={"limit": "5"})
            ok = check_response(r, 200)
        assert time.monotonic() - t1 < 15, "a request hung: " + describe(r)
        ok_in_a_row = ok_in_a_row + 1 if ok else 0
        if not ok:
            assert time.monotonic() - t0 < RECOVERY_SECONDS + 5, \
                "still failing %.1f s after the restart: %s" % (time.monotonic() - t0,
                                                                 describe(r))
            time.sleep(0.2)
    return time.monotonic() - t0


def all_readable(desk, ids):
    tom = client(desk, "tom")
    for tid in ids:
        r = tom.get(desk.api("/tickets/%d" % tid))
        t = assert_json(r, 200)
        assert t["id"] == tid
        assert "created" in [event_kind(e) for e in t.get("events") or []], t


def test_restart_sequential(desk):
    tag = marker("pg")
    # several sessions: several connections, likely several children
    sessions = [client(desk, "alice") for _ in range(4)]
    acked = [create_ticket(desk, s, subject="before %s" % tag)["id"] for s in sessions]
    desk.pg_restart()
    took = recover(desk, sessions, tag, acked)
    assert took < RECOVERY_SECONDS, "recovery took %.1f s" % took
    # fresh connections (other children, other DBD connections) work too
    for _ in range(8):
        create_ticket(desk, client(desk, "alice"))
    all_readable(desk, acked)
    ids = set()
    for s in sessions[:1]:
        page = assert_json(s.get(desk.api("/tickets"), params={"limit": "100"}), 200)
        ids |= {it["id"] for it in page["items"]}
    assert set(acked) <= ids


def test_restart_under_load(desk):
    tag = marker("pgl")
    stop = threading.Event()
    acked, failures, statuses = [], [], []
    lock = threading.Lock()

    def worker(n):
        s = client(desk, "bob")
        i = 0
        while not stop.is_set():
            i += 1
            try:
                r = s.post(desk.api("/tickets"),
                           json=valid_ticket(subject="load %s %d-%d" % (tag, n, i)))
                with lock:
                    statuses.append(r.status_code)
                if check_response(r, 201):
                    with lock:
                        acked.append(r.json()["id"])
                else:
                    time.sleep(0.1)
            except AssertionError as e:
                with lock:
                    failures.append(str(e))
            except Exception as e:  # a connection dropped or a hang
                with lock:
                    failures.append("%s: %s" % (type(e).__name__, e))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    try:
        time.sleep(1.0)
        desk.pg_restart()
        t_restarted = time.monotonic()
        # let the load run until it has succeeded again for a while
        deadline = t_restarted + RECOVERY_SECONDS + 5
        while time.monotonic() < deadline:
            time.sleep(0.5)
            with lock:
                recent = statuses[-8:]
            if len(recent) == 8 and all(st == 201 for st in recent) \
                    and time.monotonic() - t_restarted > 2:
                break
    finally:
        stop.set()
        for th in threads:
            th.join(30)
    assert not failures, failures[:5]
    assert statuses[-8:] == [201] * 8, "not recovered: %s" % statuses[-40:]
    assert set(statuses) <= {201, 503}, sorted(set(statuses))
    assert len(acked) == len(set(acked))
    all_readable(desk, acked)
    # and everything acknowledged is listed for its reporter
    mine = set()
    s = client(desk, "bob")
    q = {"limit": "100"}
    while True:
        page = assert_json(s.get(desk.api("/tickets"), params=q), 200)
        mine |= {it["id"] for it in page["items"]}
        if not page["next_cursor"]:
            break
        q["cursor"] = page["next_cursor"]
    assert set(acked) <= mine


def test_restart_then_reads_of_old_tickets(desk):
    s = client(desk, "alice")
    before = [create_ticket(desk, s)["id"] for _ in range(3)]
    desk.pg_restart()
    t0 = time.monotonic()
    got = {}
    while len(got) < len(before):
        for tid in before:
            if tid in got:
                continue
            r = s.get(desk.api("/tickets/%d" % tid))
            if check_response(r, 200):
                got[tid] = r.json()
        assert time.monotonic() - t0 < RECOVERY_SECONDS, "reads still failing"
        if len(got) < len(before):
            time.sleep(0.2)
    assert sorted(got) == sorted(before)
