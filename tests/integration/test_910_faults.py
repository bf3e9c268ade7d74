"""Issue 9, faults: what the desk does when the machine misbehaves under it.

- an httpd child killed with SIGKILL while clients write: every ticket whose
  201 was received is there, and no ticket is half-written (each has its
  first event, its tier stint and its outbox row, and search finds it);
- `apachectl graceful` (SIGUSR1 to the parent) under write load: no
  acknowledged request is lost, nothing answers 5xx;
- SQLite: the database file read-only, and the database's file system full
  (a small tmpfs): writes answer 503 with a problem that says so, nothing is
  half-written, reads keep working, and writes work again once the cause is
  gone, without restarting httpd.

Covered elsewhere and not repeated: slapd stopped (test_300_directory.py:
cached users keep working, others 503, recovery without restart), a
PostgreSQL restart under write load (test_310_database.py: 503 then
recovery, every acknowledged ticket there), a SQLite database locked by
another process (test_320_sqlite.py)."""

import contextlib
import os
import signal
import sqlite3
import subprocess
import threading
import time

import pytest
import requests

import harness
import sdesk_util
from sdesk_util import assert_json, assert_problem, describe, marker, valid_ticket

JSON = {"Content-Type": "application/json"}
DB_DOWN = ("database-unavailable", "database-busy")


# ---- helpers ---------------------------------------------------------------------

class Writers:
    """Threads POSTing tickets with a common marker until stopped. Records
    every 201 (id, subject), every other status and every connection error
    (a request the server may or may not have done)."""

    def __init__(self, desk, tag, n=4, user="bob", pause=0.0):
        self.desk, self.tag, self.n, self.user, self.pause = desk, tag, n, user, pause
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = {}          # id -> subject
        self.statuses = []
        self.errors = []
        self.bad = []            # answers that are neither 201 nor a proper 503
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(n)]

    def _run(self, n):
        s = sdesk_util.fresh_client(self.desk, self.user)
        i = 0
        while not self.stop.is_set():
            i += 1
            subject = "%s w%d-%d" % (self.tag, n, i)
            try:
                r = s.post(self.desk.api("/tickets"), data=sdesk_util.dumps(
                    valid_ticket(subject=subject)), headers=JSON, timeout=30)
            except requests.RequestException as e:
                with self.lock:
                    self.errors.append("%s: %s" % (type(e).__name__, e))
                # a dropped connection: start afresh
                s = sdesk_util.fresh_client(self.desk, self.user)
                continue
            with self.lock:
                self.statuses.append(r.status_code)
                if r.status_code == 201:
                    t = r.json()
                    assert t["subject"] == subject
                    self.acked[t["id"]] = subject
                elif r.status_code != 503 or r.headers.get("Content-Type", "").split(";")[0] \
                        != "application/problem+json":
                    self.bad.append(describe(r))
            if self.pause:
                time.sleep(self.pause)

    def __enter__(self):
        for th in self.threads:
            th.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for th in self.threads:
            th.join(60)
        return False

    def wait_for(self, count, timeout=30):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            with self.lock:
                if len(self.acked) >= count:
                    return
            time.sleep(0.05)
        raise AssertionError("only %d tickets acknowledged in %d s (statuses %s, errors %s)"
                             % (len(self.acked), timeout, self.statuses[-10:], self.errors[-3:]))


def tickets_with(desk, tag):
    """{id: subject} of every ticket row whose subject holds tag."""
    return dict(desk.db_query("SELECT id, subject FROM tickets WHERE subject LIKE ?",
                              "%" + tag + "%"))


def assert_whole(desk, ids):
    """Each ticket has its created event, its first tier stint and its
    outbox row: the transaction was all or nothing."""
    for tid in ids:
        ev = desk.db_query("SELECT kind FROM ticket_events WHERE ticket_id = ? ORDER BY id", tid)
        assert ev and ev[0][0] == "created", (tid, ev)
        assert desk.db_query("SELECT count(*) FROM ticket_tiers WHERE ticket_id = ?",
                             tid)[0][0] >= 1, tid
        assert desk.db_query("SELECT count(*) FROM outbox WHERE ticket_id = ?", tid)[0][0] >= 1, \
            tid


def found_by_search(desk, tag):
    """Ids the API's full-text search finds for tag (tom: scope=tenant)."""
    tom = sdesk_util.session(desk, "tom")
    ids, q = set(), {"q": tag, "scope": "tenant", "limit": "100"}
    while True:
        page = assert_json(tom.get(desk.api("/tickets"), params=q), 200)
        ids |= {it["id"] for it in page["items"]}
        if not page["next_cursor"]:
            return ids
        q["cursor"] = page["next_cursor"]


def check_after(desk, w, tag):
    """Every acknowledged ticket is stored as acknowledged; every stored one
    (acknowledged or not: a lost answer) is whole and searchable."""
    stored = tickets_with(desk, tag)
    missing = {tid: subj for tid, subj in w.acked.items() if stored.get(tid) != subj}
    assert not missing, "acknowledged but not stored: %s" % missing
    assert_whole(desk, stored)
    assert found_by_search(desk, tag) == set(stored)
    return stored


def children(desk):
    return [pid for pid in harness.child_pids(desk.httpd.pid) if harness.pid_alive(pid)]


def wait_children(desk, n, timeout=20):
    harness.wait_until(lambda: len(children(desk)) >= n, timeout, "%d httpd children" % n)


# ---- kill -9 and graceful -----------------------------------------------------------------

# AH00052: the killed child; AH10159/AH03490: httpd short of workers or
# scoreboard slots while children die, start and wind down (expected here)
CAPACITY = (r"AH10159", r"AH03490")


@pytest.mark.log_allow(r"AH00052", r"SD\d+: .*(unavailable|busy|lost|reset)", r"AH0063\d",
                       r"AH00045", *CAPACITY)
def test_kill_child_while_writing(desk):
    tag = marker("kill")
    wait_children(desk, 2)
    killed = []
    with Writers(desk, tag, n=6) as w:
        w.wait_for(10)
        for _ in range(3):
            kids = children(desk)
            assert kids, "no httpd children"
            victim = kids[len(killed) % len(kids)]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            time.sleep(0.7)
            wait_children(desk, 1)
        n = len(w.acked)
        w.wait_for(n + 10)            # the survivors and new children keep writing
    assert not w.bad, w.bad[:3]
    assert set(w.statuses) <= {201, 503}, sorted(set(w.statuses))
    stored = check_after(desk, w, tag)
    # requests cut by the kills are the only unknowns
    assert len(stored) - len(w.acked) <= len(w.errors), (len(stored), len(w.acked), w.errors)
    # the parent is still there and serves
    assert_json(sdesk_util.session(desk, "alice").get(desk.api("/me")), 200)


@pytest.mark.log_allow(r"AH00052", r"AH00045", *CAPACITY)
def test_graceful_restart_under_write_load(desk):
    tag = marker("grace")
    parent = desk.httpd.pid
    with Writers(desk, tag, n=6) as w:
        w.wait_for(10)
        for i in range(3):
            os.kill(parent, signal.SIGUSR1)
            time.sleep(1.5)
            n = len(w.acked)
            w.wait_for(n + 5)
    assert desk.httpd.pid == parent and harness.pid_alive(parent)
    assert not w.bad, w.bad[:3]
    # graceful: requests in flight finish; nothing answers 503 or 500
    assert set(w.statuses) == {201}, sorted(set(w.statuses))
    stored = check_after(desk, w, tag)
    # a keep-alive connection closed by an old child between two requests may
    # fail the next request before it was sent: those are the only unknowns
    assert len(stored) - len(w.acked) <= len(w.errors)


# ---- SQLite: read-only file, full disk ------------------------------------------------------

def _sqlite_files(path):
    return [p for p in (path, path + "-wal", path + "-shm") if os.path.exists(p)]


def _write(desk, s, tag):
    return s.post(desk.api("/tickets"), data=sdesk_util.dumps(valid_ticket(
        subject="%s %s" % (tag, marker()))), headers=JSON)


def _recovers(desk, s, tag, timeout=15):
    """Writes succeed again within timeout (without any restart)."""
    t0 = time.monotonic()
    while True:
        r = _write(desk, s, tag)
        if r.status_code == 201:
            return r.json()
        assert_problem(r, 503, DB_DOWN)
        assert time.monotonic() - t0 < timeout, "writes still refused: " + describe(r)
        time.sleep(0.3)


def _assert_unwritable_problem(r):
    prob = assert_problem(r, 503, "database-unavailable")
    assert "nothing was saved" in prob["detail"].lower() or \
        "cannot store" in prob["detail"].lower(), prob


@pytest.mark.sqlite_only
@pytest.mark.log_allow(r"SD\d+: .*(readonly|read-only|unusable|attempt to write)",
                       r"SD\d+: .*database")
def test_read_only_database_file(desk):
    tag = marker("ro")
    s = sdesk_util.session(desk, "alice")
    keep = sdesk_util.create_ticket(desk, s, subject="%s before" % tag)
    files = _sqlite_files(desk.httpd.sqlite_db)
    # the file is made read-only, then httpd starts afresh on it (connections
    # opened before a chmod keep their write access: a start or a child
    # recycled after it is when this bites)
    for f in files:
        os.chmod(f, 0o440)
    try:
        desk.restart_httpd()
        before = desk.db_counts()
        for _ in range(4):
            _assert_unwritable_problem(_write(desk, s, tag))
            r = s.post(desk.api("/tickets/%d/comments" % keep["id"]),
                       data=sdesk_util.dumps({"body": "x"}), headers=JSON)
            _assert_unwritable_problem(r)
        assert desk.db_counts() == before
        # reads work
        assert assert_json(s.get(desk.api("/tickets/%d" % keep["id"])), 200)["id"] == keep["id"]
        assert_json(s.get(desk.api("/tickets")), 200)
        assert_json(s.get(desk.api("/known-issues")), 200)
    finally:
        for f in files:
            os.chmod(f, 0o660)
    # writable again: recovery without restarting httpd
    t = _recovers(desk, s, tag)
    assert_whole(desk, [t["id"], keep["id"]])


# WAL grows to about 4 MiB before SQLite checkpoints it
TMPFS_SIZE = 16 * 1024 * 1024


@contextlib.contextmanager
def small_filesystem(desk):
    """A 16 MiB tmpfs owned by www-data with the desk's SQLite database on it
    (schema created by the module at start). Yields its directory."""
    mnt = os.path.join(desk.httpd.root, "small")
    os.makedirs(mnt, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0770" % TMPFS_SIZE,
                        "sdesk-full", mnt], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (%s): the full-disk case needs one"
                    % p.stderr.strip())
    try:
        harness.chown(mnt, harness.HTTPD_USER, harness.HTTPD_GROUP)
        db = os.path.join(mnt, "sdesk.db")
        open(db, "a").close()
        harness.chown(db, harness.HTTPD_USER, harness.HTTPD_GROUP)
        with desk.httpd_conf('DBDParams "%s"\n' % db):
            yield mnt
    finally:
        subprocess.run(["umount", "-l", mnt], capture_output=True)


def _fill(path, mnt):
    """Fill the file system but for a few KiB; returns the filler's path."""
    with open(path, "wb", buffering=0) as f:     # unbuffered: close has nothing to flush
        for chunk in (1 << 20, 65536, 4096, 512):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError:
                pass
    return path


@pytest.mark.sqlite_only
@pytest.mark.log_allow(r"SD\d+: .*(full|unusable|disk|database)", r"AH0063\d")
def test_disk_full(desk):
    with small_filesystem(desk) as mnt:
        db = os.path.join(mnt, "sdesk.db")
        tag = marker("full")
        s = sdesk_util.session(desk, "alice")
        first = sdesk_util.create_ticket(desk, s, subject="%s first" % tag)
        filler = _fill(os.path.join(mnt, "filler"), mnt)
        acked, refused = [first["id"]], 0
        big = "x" * 19000
        for i in range(200):
            r = s.post(desk.api("/tickets"), data=sdesk_util.dumps(valid_ticket(
                subject="%s %d" % (tag, i), description=big)), headers=JSON)
            if r.status_code == 201:
                acked.append(r.json()["id"])
                continue
            _assert_unwritable_problem(r)
            refused += 1
            if refused >= 5:
                break
        assert refused >= 5, "the disk never filled up (%d acknowledged)" % len(acked)
        conn = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
        try:
            rows = dict(conn.execute("SELECT id, subject FROM tickets WHERE subject LIKE ?",
                                     ("%" + tag + "%",)).fetchall())
            assert set(acked) <= set(rows), "acknowledged but not stored"
            for tid in rows:
                assert conn.execute("SELECT kind FROM ticket_events WHERE ticket_id = ? "
                                    "ORDER BY id", (tid,)).fetchone()[0] == "created"
                assert conn.execute("SELECT count(*) FROM outbox WHERE ticket_id = ?",
                                    (tid,)).fetchone()[0] >= 1
        finally:
            conn.close()
        # reads keep working while the disk is full
        assert assert_json(s.get(desk.api("/tickets/%d" % first["id"])), 200)["id"] == first["id"]
        assert_json(s.get(desk.api("/tickets"), params={"q": tag}), 200)
        # space freed: writes work again without a restart
        os.unlink(filler)
        t = _recovers(desk, s, tag)
        assert t["subject"].startswith(tag)
        found = assert_json(sdesk_util.session(desk, "alice").get(
            desk.api("/tickets"), params={"q": tag, "limit": "100"}), 200)["items"]
        assert set(acked) | {t["id"]} <= {it["id"] for it in found}
