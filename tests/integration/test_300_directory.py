"""Directory faults: slapd stopped (cached users keep working, uncached ones
get 503 until it is back, without restarting httpd) and a directory that
accepts connections and never answers (503 in about the timeout).

While slapd is down only /altdesk (mod_authn_file) is used, so httpd's own
LDAP authentication plays no part. A user no httpd child can have cached is
made by adding a fresh name to the htpasswd of /altdesk (mod_authn_file reads
the file on every request); the directory does not know it, so once slapd
answers again the request ends in 403 unknown-user instead of 503."""

import base64
import hashlib
import os
import time
import uuid

import pytest

from sdesk_util import (
    assert_json, assert_problem, client, describe, unchanged_db, valid_ticket,
)

pytestmark = pytest.mark.log_allow(r"SD\d+")

RECOVERY_SECONDS = 10


def htpasswd_path(desk):
    httpd = getattr(desk, "httpd", None)
    if httpd is not None and getattr(httpd, "root", None):
        return os.path.join(httpd.root, "conf", "htpasswd")
    server_root = os.path.dirname(os.path.dirname(desk.error_log))
    return os.path.join(server_root, "conf", "htpasswd")


def add_file_user(desk):
    """A fresh /altdesk user (never seen by any child); returns (user, password)."""
    user = "probe-" + uuid.uuid4().hex[:12]
    pw = "pw-" + uuid.uuid4().hex[:12]
    digest = base64.b64encode(hashlib.sha1(pw.encode()).digest()).decode()
    with open(htpasswd_path(desk), "a") as f:
        f.write("%s:{SHA}%s\n" % (user, digest))
    return user, pw


def fresh(desk, user, pw):
    """A session on a new connection (so any child may answer)."""
    return client(desk, user, password=pw)


@pytest.fixture
def ldap_down(desk):
    desk.ldap_stop()
    try:
        yield
    finally:
        desk.ldap_start()


def heal(desk, user, pw, n=30):
    """After slapd is back, make every child's directory connection reconnect
    inside this test (its warnings belong here), then check /sdesk works."""
    for _ in range(n):
        r = fresh(desk, user, pw).get(desk.alt("/me"))
        assert r.status_code in (403, 503), describe(r)
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        r = client(desk, "bob").get(desk.api("/me"))
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert_json(r, 200)


def test_cached_user_served_while_ldap_down(desk):
    s = client(desk, "alice", base="/altdesk")  # one keep-alive connection: one child
    me = assert_json(s.get(desk.alt("/me")), 200)
    desk.ldap_stop()
    try:
        t0 = time.monotonic()
        r = s.get(desk.alt("/me"))
        assert assert_json(r, 200) == me
        assert time.monotonic() - t0 < 6
        # and it can still file a ticket
        r = s.post(desk.alt("/tickets"), json=valid_ticket())
        t = assert_json(r, 201)
        assert t["reporter"]["user"] == "alice"
        assert t["tenant"] == "north-hospital"
    finally:
        desk.ldap_start()
    probe = add_file_user(desk)
    heal(desk, *probe)


def test_uncached_user_gets_503_then_recovers(desk):
    user, pw = add_file_user(desk)
    desk.ldap_stop()
    try:
        for _ in range(3):
            t0 = time.monotonic()
            with unchanged_db(desk):
                r = fresh(desk, user, pw).get(desk.alt("/me"))
            assert time.monotonic() - t0 < 6, describe(r)
            prob = assert_problem(r, 503, "directory-unavailable")
            assert prob["detail"]
        with unchanged_db(desk):
            r = fresh(desk, user, pw).post(desk.alt("/tickets"), json=valid_ticket())
        assert_problem(r, 503, "directory-unavailable")
    finally:
        desk.ldap_start()
    # back without restarting httpd: the directory answers ("no such user")
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        r = fresh(desk, user, pw).get(desk.alt("/me"))
        if r.status_code != 503 or time.monotonic() > deadline:
            break
        assert_problem(r, 503, "directory-unavailable")
        time.sleep(0.5)
    assert_problem(r, 403, "unknown-user")
    heal(desk, user, pw)
    # a directory user through file auth works as before
    assert_json(client(desk, "alice", base="/altdesk").get(desk.alt("/me")), 200)


def test_unknown_user_while_ldap_down_is_503_not_403(desk):
    # "not in the directory" cannot be told while it is down, unless cached
    user, pw = add_file_user(desk)
    desk.ldap_stop()
    try:
        r = fresh(desk, user, pw).get(desk.alt("/meta"))
        assert_problem(r, 503, "directory-unavailable")
    finally:
        desk.ldap_start()
    heal(desk, user, pw)


@pytest.mark.parametrize("user,pw", [("ghost", "ghost-secret"), ("alice", "alice-secret")])
def test_blackhole_directory_is_503_quickly(desk, user, pw):
    for _ in range(2):  # nothing is cached from a failure
        s = fresh(desk, user, pw)
        t0 = time.monotonic()
        with unchanged_db(desk):
            r = s.get(desk.blackhole("/me"))
        elapsed = time.monotonic() - t0
        assert_problem(r, 503, "directory-unavailable")
        assert elapsed < 6, "took %.1f s" % elapsed


def test_blackhole_post_stores_nothing(desk):
    s = fresh(desk, "alice", "alice-secret")
    t0 = time.monotonic()
    with unchanged_db(desk):
        r = s.post(desk.blackhole("/tickets"), json=valid_ticket())
    assert_problem(r, 503, "directory-unavailable")
    assert time.monotonic() - t0 < 6


def test_blackhole_does_not_stall_main_server(desk):
    # while a request waits on the dead directory, the main server answers
    import threading
    out = {}

    def slow():
        out["r"] = fresh(desk, "ghost", "ghost-secret").get(desk.blackhole("/me"))

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    r = client(desk, "alice").get(desk.api("/me"))
    fast = time.monotonic() - t0
    th.join(30)
    assert_json(r, 200)
    assert fast < 1.0, "main server waited %.1f s behind the blackhole" % fast
    assert_problem(out["r"], 503, "directory-unavailable")
