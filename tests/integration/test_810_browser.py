"""The web pages in a real browser (issue 6): Debian's chromium driven by
playwright-core, WCAG 2.2 A/AA checked by axe-core on every page and state.
Each scenario is a Node script in tests/browser/ (see its header); this file
runs it against the stack and then checks what it did through the API.
Screenshots go to build/browser/<backend>/ (test artefacts)."""

import os
import re
import shutil
import subprocess

from sdesk_util import assert_json, client

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BROWSER_DIR = os.path.join(ROOT, "tests", "browser")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCENARIO_TIMEOUT = 300


def missing_tools():
    out = []
    if not shutil.which("node"):
        out.append("node (Debian package nodejs)")
    if not os.access(CHROMIUM, os.X_OK):
        out.append("%s (Debian package chromium)" % CHROMIUM)
    for mod in ("playwright-core", "axe-core"):
        if not os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", mod)):
            out.append("%s (run `make browser-deps`)" % mod)
    return out


def run_scenario(desk, name, **env_extra):
    """Run tests/browser/<name>.mjs (env_extra: more environment); fail with
    its output unless it passed. Returns {"TICKET": [ids], "KI": [ids]} from
    its output."""
    missing = missing_tools()
    assert not missing, "browser tests need: " + ", ".join(missing)
    artefacts = os.path.join(ROOT, "build", "browser", desk.backend)
    env = dict(os.environ, SDESK_URL=desk.base, SDESK_ARTIFACTS=artefacts, CHROMIUM=CHROMIUM,
               **env_extra)
    proc = subprocess.run(["node", os.path.join(BROWSER_DIR, name + ".mjs")], cwd=BROWSER_DIR,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=SCENARIO_TIMEOUT)
    out = proc.stdout.decode("utf-8", "replace")
    assert proc.returncode == 0 and "\nPASS " in "\n" + out, "scenario %s failed:\n%s" % (name, out)
    found = {}
    for kind, value in re.findall(r"^(TICKET|KI) (\d+)$", out, re.M):
        found.setdefault(kind, []).append(int(value))
    assert len(re.findall(r"^axe ok: ", out, re.M)) >= expected_axe.get(name, 0), out
    return found


# The least number of page states each scenario must have checked with axe.
expected_axe = {"file_ticket": 5, "agent_workflow": 8, "suggest_link": 2, "hostile_text": 1, "layout": 1,
                "widget": 5}


def ticket(desk, user, tid):
    return assert_json(client(desk, user).get(desk.api("/tickets/%d" % tid)), 200)


def test_reporter_files_with_pasted_screenshot(desk):
    ids = run_scenario(desk, "file_ticket")
    t = ticket(desk, "alice", ids["TICKET"][0])
    assert t["reporter"]["user"] == "alice" and t["priority"] == "high"
    assert t["category"] == "device" and t["encounter_id"] == "ENC-2026-0042"
    assert t["device"]["app_version"] and t["device"]["os"], t["device"]   # prefilled by the browser
    got = {a["filename"]: a["media_type"] for a in t["attachments"]}
    assert len(got) == 3, t["attachments"]
    pasted = [n for n in got if re.match(r"^screenshot-.*\.png$", n)]
    assert len(pasted) == 1 and got[pasted[0]] == "image/png", got
    assert got.get("dropped.gif") == "image/gif", got
    assert got.get("printer.log", "").startswith("text/plain"), got


def test_near_duplicate_shows_known_issue_and_links(desk):
    ids = run_scenario(desk, "suggest_link")
    t = ticket(desk, "alice", ids["TICKET"][0])
    assert t["known_issue"] and t["known_issue"]["id"] == ids["KI"][0], t["known_issue"]
    assert t["category"] == "device"


def test_agent_escalates_and_resolves(desk):
    ids = run_scenario(desk, "agent_workflow")
    t = ticket(desk, "tom", ids["TICKET"][0])
    kinds = [e["kind"] for e in t["events"]]
    for k in ("escalated", "reopened", "linked", "resolved-with-known-issue"):
        assert k in kinds, kinds
    assert t["tier"] == 3 and t["status"] == "resolved", (t["tier"], t["status"])
    internal = [c for c in t["comments"] if c["internal"]]
    assert len(internal) >= 1
    seen = ticket(desk, "alice", t["id"])
    assert all(not c["internal"] for c in seen["comments"])
    ki = assert_json(client(desk, "tom").get(desk.api("/known-issues/%d" % ids["KI"][0])), 200)
    assert ki["status"] == "resolved"


def test_script_laden_text_renders_as_text(desk):
    run_scenario(desk, "hostile_text")


def test_keyboard_only_filing(desk):
    run_scenario(desk, "keyboard")


def test_phone_zoom_and_locale(desk):
    run_scenario(desk, "layout")
