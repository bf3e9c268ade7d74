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


# A few known issues and tickets, so the pages show something at once.
SEED_KNOWN = [
    ("tom", {"title": "Label printers print blank labels after the morning restart",
             "symptoms": "Zebra label printers on the wards print blank labels after 08:00.",
             "workaround": "Switch the printer off and on twice, then print a test label.",
             "services": ["Labels"], "categories": ["device"]}),
    ("ada", {"title": "ePrescribing is slow between 12:00 and 13:00", "scope": "global",
             "symptoms": "Saving a prescription takes up to a minute at lunchtime.",
             "workaround": "Save once and wait; do not press Save again.",
             "status": "monitoring", "services": ["ePrescribing"], "categories": ["bug"]}),
]
SEED_TICKETS = [
    ("alice", {"subject": "Cannot print wristbands in the emergency department",
               "description": "The wristband printer at ED triage shows 'offline' since 07:30.",
               "category": "device", "urgency": "job-stopped", "impact": "multiple",
               "service": "Patient administration", "encounter_id": "ENC-2026-0042"}),
    ("bob", {"subject": "Request access to the theatre scheduling module",
             "description": "I started on the surgical ward this week and need the scheduler.",
             "category": "access", "urgency": "not-blocking", "impact": "single"}),
    ("alice", {"subject": "Vital signs chart does not refresh on ward 5",
               "description": "New observations appear only after logging out and in again.",
               "category": "clinical-workflow", "urgency": "patient-safety", "impact": "multiple"}),
]


def seed(desk):
    for user, body in SEED_KNOWN:
        desk.client(user).post(desk.api("/known-issues"), json=body, timeout=30)
    for user, body in SEED_TICKETS:
        desk.client(user).post(desk.api("/tickets"), json=body, timeout=30)


def banner(desk, root):
    url = desk.url
    api = desk.api()
    out = []
    w = out.append
    w("")
    w("mod_sdesk demo is running (SQLite, slapd on %s)" % desk.slapd.url)
    w("")
    w("  Desk:    %s/sdesk/  (open it in a browser; sign in as one of these)" % url)
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
        seed(desk)
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
