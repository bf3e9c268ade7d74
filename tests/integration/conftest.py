"""Fixtures for the mod_sdesk integration tests (contract: README.md here).

- `desk`: a running stack per backend (sqlite, pgsql; SDESK_BACKENDS limits it)
- `httpd_conf` / `configtest`: config generation and `apache2 -t` without a
  running stack (test_100_config.py)
- the httpd error log is scanned after every test that uses `desk`
- markers: log_allow(regex, ...), pgsql_only, sqlite_only

SDESK_KEEP=1 keeps the temporary directory (its path is printed).
"""

import os
import re
import shutil
import signal
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ALL_BACKENDS = ("sqlite", "pgsql")
BACKENDS = [b.strip() for b in os.environ.get("SDESK_BACKENDS", ",".join(ALL_BACKENDS)).split(",")
            if b.strip()]

# Seconds one test's call phase may take (0: no limit); a hung request or a
# retry loop against a crashing server fails that test instead of the run.
TEST_TIMEOUT = int(os.environ.get("SDESK_TEST_TIMEOUT", "180"))

# Error-log lines no test has to declare: a client failing Basic auth is a
# client error that mod_auth_basic logs at level error (wrong password, unknown
# user). Everything else that is [warn] or worse needs @pytest.mark.log_allow.
DEFAULT_LOG_ALLOW = (
    re.compile(r"\[auth_basic:error\].* AH01617: user .*: authentication failure for"),
    re.compile(r"\[auth_basic:error\].* AH01618: user .* not found"),
    # mpm_event itself, when the harness stops httpd while the keep-alive
    # connection of its start-up probe is still being closed (a shutdown race
    # in the MPM, seen without any module request in flight)
    re.compile(r"\[mpm_event:error\].* AH0309[23]: (process_lingering_close|start_lingering_close"
               r"|process_socket): apr_pollset_add failure"),
)


def pytest_configure(config):
    if not BACKENDS or any(b not in ALL_BACKENDS for b in BACKENDS):
        raise pytest.UsageError("SDESK_BACKENDS=%r: expected a comma-separated subset of %s"
                                % (os.environ.get("SDESK_BACKENDS"), ",".join(ALL_BACKENDS)))
    config.addinivalue_line(
        "markers", "log_allow(*regexes): httpd error-log lines ([warn] or worse) that "
        "match one of these regexes do not fail the test")
    config.addinivalue_line("markers", "pgsql_only: run only on the pgsql backend")
    config.addinivalue_line("markers", "sqlite_only: run only on the sqlite backend")

    # A SIGTERM (CI timeout, kill) unwinds like Ctrl-C, so the fixtures'
    # finalizers stop every server; atexit in harness.py is the last resort.
    def _term(signum, frame):
        raise KeyboardInterrupt("SIGTERM")
    try:
        signal.signal(signal.SIGTERM, _term)
    except ValueError:      # not the main thread
        pass


def pytest_sessionstart(session):
    if os.environ.get("SDESK_NO_MODULE") == "1":
        return
    if not os.path.exists(harness.MODULE):
        raise pytest.UsageError(
            "%s does not exist: build the module first with `make module` "
            "(or run `make test`, which builds it)" % harness.MODULE)


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("desk")
        if backend and ((item.get_closest_marker("pgsql_only") and backend != "pgsql") or
                        (item.get_closest_marker("sqlite_only") and backend != "sqlite")):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# ---- the run's directory and shared servers -------------------------------------

@pytest.fixture(scope="session")
def sdesk_workdir():
    """One temporary directory under /tmp for the whole run; every server is
    stopped at the end; removed unless SDESK_KEEP=1."""
    d = tempfile.mkdtemp(prefix="sdesk-it-", dir="/tmp")
    os.chmod(d, 0o755)      # www-data and postgres must traverse it
    yield d
    harness.stop_all()
    if os.environ.get("SDESK_KEEP") == "1":
        sys.stderr.write("\nSDESK_KEEP=1: integration test files kept in %s\n" % d)
    else:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def slapd(sdesk_workdir):
    s = harness.Slapd(os.path.join(sdesk_workdir, "ldap"))
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def blackhole_server():
    b = harness.Blackhole()
    b.start()
    yield b
    b.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def desk(request, sdesk_workdir, slapd, blackhole_server):
    """A running stack (see README.md for its attributes)."""
    backend = request.param
    d = harness.Desk(os.path.join(sdesk_workdir, backend), backend, slapd,
                     blackhole=blackhole_server)
    try:
        d.start()
    except Exception:
        d.stop()
        raise
    yield d
    d.stop()


# ---- config tests ------------------------------------------------------------------

@pytest.fixture(scope="session")
def httpd_conf(sdesk_workdir):
    """An Httpd that is never started by the fixture: for configtest() and
    startcheck() (sqlite backend, a blackhole vhost, no servers behind it)."""
    return harness.Httpd(os.path.join(sdesk_workdir, "config"), backend="sqlite",
                         ldap_port=harness.free_port(),
                         blackhole_port=harness.free_port(),
                         blackhole_ldap_port=harness.free_port())


@pytest.fixture(scope="session")
def configtest(httpd_conf):
    """configtest(extra_conf="", omit=()) -> (exit code, output) of apache2 -t;
    the result also has .path, .extra_line and .line_of(text)."""
    return httpd_conf.configtest


# ---- error-log scanning --------------------------------------------------------------

# Every line of the error log is scanned once: by the test during which it
# was written, or, for lines written before a test started (httpd startup,
# late lines of the previous test, restarts after it), by the next test,
# where the previous test's log_allow regexes also apply.

def _allow_of(item):
    allow = list(DEFAULT_LOG_ALLOW)
    for m in item.iter_markers("log_allow"):
        allow += [re.compile(a) for a in m.args]
    return allow


@pytest.fixture(autouse=True)
def _sdesk_error_log(request):
    """Remember where the error log ends before a test that uses `desk`; after
    it, start again whatever it left stopped."""
    if "desk" not in request.fixturenames:
        yield
        return
    d = request.getfixturevalue("desk")
    request.node._sdesk_log = (d, d.log_scanned, d.log_size())
    yield
    d.ensure_up()


class SdeskTestTimeout(Exception):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if TEST_TIMEOUT <= 0:
        yield
        return

    def _alarm(signum, frame):
        raise SdeskTestTimeout("test still running after SDESK_TEST_TIMEOUT=%d s"
                               % TEST_TIMEOUT)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call":
        return
    info = getattr(item, "_sdesk_log", None)
    if info is None:
        return
    d, gap_start, start = info
    time.sleep(0.05)        # lines logged just after the response went out
    end = d.log_size()
    allow = _allow_of(item)
    before = _read_range(d, gap_start, start) if start > gap_start else ""
    during = _read_range(d, start, end)
    bad_before = harness.bad_log_lines(before, allow + d.log_prev_allow)
    bad = harness.bad_log_lines(during, allow)
    d.log_scanned = end
    d.log_prev_allow = allow
    if rep.skipped:
        return
    if during:
        rep.sections.append(("httpd error log (%s)" % d.backend,
                             "\n".join(during.splitlines()[-200:])))
    if (bad or bad_before) and rep.passed:
        msg = []
        if bad:
            msg.append("httpd error log (%s) has [warn]/[error] lines that no "
                       "@pytest.mark.log_allow(regex) of this test allows:\n%s"
                       % (d.error_log, "\n".join(bad)))
        if bad_before:
            msg.append("httpd error log (%s) got [warn]/[error] lines before this test "
                       "started (at httpd startup, or after the previous test):\n%s"
                       % (d.error_log, "\n".join(bad_before)))
        rep.outcome = "failed"
        rep.longrepr = "\n".join(msg)


def _read_range(d, start, end):
    with open(d.error_log, "rb") as f:
        f.seek(start)
        return f.read(max(0, end - start)).decode("utf-8", "replace")


@pytest.fixture(autouse=True)
def _sdesk_close_sessions():
    """Close the sessions sdesk_util.session handed out during the test."""
    yield
    import sdesk_util
    sdesk_util.close_sessions()
