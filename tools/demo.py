#!/usr/bin/python3
"""`make demo`: run mod_sdesk on this machine, on 127.0.0.1, until Ctrl-C.

Starts slapd (the test directory, tests/integration/data/directory.ldif) and
httpd with the freshly built build/mod_sdesk.so on SQLite, all under one
temporary directory, using the integration-test harness. Ports 8088 (HTTP)
and 3890 (LDAP) when free, other free ports otherwise. Ctrl-C or SIGTERM
stops everything by PID; the directory is removed unless SDESK_KEEP=1.
make builds the module first; this script builds nothing.
"""

import os
import shutil
import signal
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import harness  # noqa: E402

HTTP_PORT = int(os.environ.get("SDESK_DEMO_PORT", "8088"))
LDAP_PORT = int(os.environ.get("SDESK_DEMO_LDAP_PORT", "3890"))

ROLES = [   # the README table, in its order
    ("alice", "reporter (Alice Archer)"),
    ("bob", "reporter (Bob Brown)"),
    ("nina", "agent tier 1"),
    ("tom", "agent tier 2"),
    ("tess", "agent tier 3"),
    ("ada", "admin"),
    ("carol", "reporter"),
    ("dan", "reporter"),
    ("sam", "agent tier 2"),
]


class Stop(Exception):
    pass


def _stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


def banner(desk, root):
    url = desk.url
    api = desk.api()
    out = []
    w = out.append
    w("")
    w("mod_sdesk demo is running (SQLite, slapd on %s)" % desk.slapd.url)
    w("")
    w("  Desk:    %s/sdesk/  (the web pages come with issue 6; use the API)" % url)
    w("  API:     %s/" % api)
    w("")
    w("  %-6s %-13s %-15s %s" % ("login", "password", "tenant", "role"))
    w("  %-6s %-13s %-15s %s" % ("-----", "--------", "------", "----"))
    for uid, role in ROLES:
        pw, tenant, _ = harness.USERS[uid]
        w("  %-6s %-13s %-15s %s" % (uid, pw, tenant, role))
    w("")
    w("Try:")
    w("  curl -u alice:alice-secret %s/tickets" % api)
    w("  curl -u alice:alice-secret -H 'Content-Type: application/json' \\")
    w("       -d '{\"subject\": \"Label printer on ward 3 prints blank pages\", "
      "\"description\": \"Since the 8:00 restart every label comes out blank.\", "
      "\"category\": \"device\", \"urgency\": \"function-affected\", "
      "\"impact\": \"multiple\"}' \\")
    w("       %s/tickets" % api)
    w("  curl -u nina:nina-secret '%s/tickets?scope=queue'" % api)
    w("  curl -u alice:alice-secret %s/me" % api)
    w("")
    w("Files:     %s" % root)
    w("Error log: %s" % desk.error_log)
    w("Stop with Ctrl-C.")
    w("")
    print("\n".join(out), flush=True)


def main():
    if os.geteuid() != 0:
        print("demo: run as root (httpd switches to www-data; slapd and the files "
              "under /tmp are set up for that)", file=sys.stderr)
        return 2
    if not os.path.exists(harness.MODULE) and os.environ.get("SDESK_NO_MODULE") != "1":
        print("demo: %s is missing: run `make demo` (or `make module` first)" % harness.MODULE,
              file=sys.stderr)
        return 2
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, _stop)

    root = tempfile.mkdtemp(prefix="sdesk-demo-", dir="/tmp")
    os.chmod(root, 0o755)
    slapd = desk = None
    rc = 0
    try:
        slapd = harness.Slapd(os.path.join(root, "ldap"), port=harness.free_port(LDAP_PORT))
        slapd.start()
        # SQLite scales with processes, not threads (PLATFORM-NOTES.md)
        desk = harness.Desk(os.path.join(root, "sqlite"), "sqlite", slapd,
                            httpd_port=harness.free_port(HTTP_PORT),
                            start_servers=4, threads_per_child=4, max_request_workers=16)
        desk.start()
        banner(desk, root)
        for line in desk.startup_problems:
            print("demo: httpd logged at startup: %s" % line, file=sys.stderr)
        while True:
            time.sleep(1)
            if not desk.httpd.running:
                print("demo: httpd exited (see %s)" % desk.error_log, file=sys.stderr)
                rc = 1
                break
            if not slapd.running:
                print("demo: slapd exited (see %s)" % slapd.log, file=sys.stderr)
                rc = 1
                break
    except Stop as e:
        print("\ndemo: %s, stopping" % e, flush=True)
    except harness.HarnessError as e:
        print("demo: %s" % e, file=sys.stderr)
        rc = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if desk is not None:
            desk.stop()
        if slapd is not None:
            slapd.stop()
        harness.stop_all()
        if os.environ.get("SDESK_KEEP") == "1":
            print("demo: files kept in %s" % root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
