"""SQLite specifics: durable settings in effect, a database locked by another
process answers 503 database-busy with Retry-After (bounded, never a hang),
and the desk recovers as soon as the lock is gone."""
import sqlite3
import time
import uuid

import pytest

from sdesk_util import assert_problem, client, valid_ticket

pytestmark = pytest.mark.sqlite_only


def test_wal_and_durable_settings(desk):
    conn = sqlite3.connect(desk.httpd.sqlite_db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        assert version >= 1
    finally:
        conn.close()


@pytest.mark.log_allow(r"SD00009")
def test_locked_database_is_503_then_recovers(desk):
    s = client(desk, "alice")
    marker = uuid.uuid4().hex
    before = desk.db_counts()
    lock = sqlite3.connect(desk.httpd.sqlite_db, isolation_level=None, timeout=1)
    try:
        lock.execute("BEGIN IMMEDIATE")      # another writer holds the lock
        t0 = time.monotonic()
        r = s.post(desk.api("/tickets"), json=valid_ticket(subject="locked " + marker))
        elapsed = time.monotonic() - t0
        assert_problem(r, 503, "database-busy")
        assert int(r.headers["Retry-After"]) > 0
        assert elapsed < 15, elapsed
        # reads are not blocked by a writer in WAL mode
        assert s.get(desk.api("/tickets")).status_code == 200
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert desk.db_counts() == before
    r = s.post(desk.api("/tickets"), json=valid_ticket(subject="after " + marker))
    assert r.status_code == 201, r.text
