"""Issue 7, notifications: the outbox delivered as mail through a
sendmail-compatible program (SdeskMailer), here data/sendmail-capture.py,
which stores each message in a directory and fails while a flag file is
there.

Who gets what: the reporter and the cc on creation, status changes and
agents' public replies; the tier's agents of the ticket's tenant on new
urgent or critical tickets and on SLA breaches; nobody on internal comments
or the reporter's own comments. Texts carry the ticket key, status words and
a link, never what users typed. At least once: a failing mailer is retried
with backoff; a delivered row is never sent again. Headers: nothing a user
or the directory supplies can add one. And SdeskMailer & co. are checked at
configtest."""

import email
import email.policy
import glob
import os
import re
import shutil
import subprocess
import time

import pytest

import harness
from sdesk_util import (
    assert_json, assert_problem, client, create_ticket, dumps, marker, unchanged_db,
    valid_ticket,
)

JSON = {"Content-Type": "application/json"}
CAPTURE = os.path.join(harness.DATA, "sendmail-capture.py")
PUBLIC = "https://intranet.example/sdesk"
FROM = "sdesk@intranet.example"
MAIL_FAILED = r"SD00131: outbox \d+ \(ticket\.\w+, ticket SD-\d+\): attempt \d+ failed"


@pytest.fixture(scope="module")
def mailbox(desk):
    """httpd with SdeskMailer pointing at the capture program; yields its
    directory (www-data writes there)."""
    root = desk.httpd.root
    d = os.path.join(root, "var", "mail")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    prog = os.path.join(root, "var", "sendmail-capture.py")
    shutil.copyfile(CAPTURE, prog)
    os.chmod(prog, 0o755)
    harness.chown(d, harness.HTTPD_USER, harness.HTTPD_GROUP)
    # The outbox rows earlier tests of this session left (hundreds in a full
    # run) are not these tests' mail: without this the first mails here
    # would wait behind them (delivery is oldest first, 100 per run).
    desk.db_exec("UPDATE outbox SET delivered_at = ?, last_error = 'test set-up'"
                 " WHERE delivered_at IS NULL", int(time.time()))
    conf = """
SdeskMailer "%s %s -t -i"
SdeskMailFrom %s
SdeskPublicURL %s/
SdeskMailInterval 1
SdeskResolutionTarget 2 normal 2s 24x7
SdeskSLAScanInterval 1
""" % (prog, d, FROM, PUBLIC)
    with desk.httpd_conf(conf):
        yield d


# ---- helpers ----------------------------------------------------------------------

def messages(d):
    """(path, parsed message, raw bytes) of every captured mail, oldest first."""
    out = []
    for path in sorted(glob.glob(os.path.join(d, "*.eml"))):
        with open(path, "rb") as f:
            raw = f.read()
        out.append((path, email.message_from_bytes(raw, policy=email.policy.default), raw))
    return out


def of_ticket(d, key, subject_part=None):
    got = []
    for path, m, raw in messages(d):
        subj = str(m["Subject"])
        if subj.startswith("[%s]" % key) and (subject_part is None or subject_part in subj):
            got.append((m, raw))
    return got


def wait_mail(d, key, subject_part=None, n=1, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = of_ticket(d, key, subject_part)
        if len(got) >= n:
            return got
        time.sleep(0.2)
    return of_ticket(d, key, subject_part)


def addrs(m, header):
    return sorted(a.addr_spec for a in (m[header].addresses if m[header] else ()))


def outbox(desk, tid, kind=None):
    rows = desk.db_query("SELECT kind, attempts, delivered_at, last_error FROM outbox"
                         " WHERE ticket_id = ? ORDER BY id", tid)
    return [r for r in rows if kind is None or r[0] == kind]


def wait_delivered(desk, tid, kind, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = outbox(desk, tid, kind)
        if rows and all(r[2] is not None for r in rows):
            return rows
        time.sleep(0.2)
    return outbox(desk, tid, kind)


def assert_safe_text(m, raw, *secrets):
    """No user text in the mail; exactly one of each header we write."""
    body = m.get_body(preferencelist=("plain",)).get_content()
    for s in secrets:
        assert s not in raw.decode("utf-8", "replace"), "mail carries %r" % s
    head = raw.split(b"\n\n", 1)[0].decode("ascii")       # headers are 7-bit
    names = [line.split(":", 1)[0].lower() for line in head.split("\n")
             if line and not line[0].isspace()]
    assert sorted(names) == sorted(set(names)), head
    assert set(names) <= {"date", "from", "to", "cc", "subject", "message-id", "mime-version",
                          "content-type", "content-transfer-encoding", "auto-submitted"}, head
    return body


def patch(desk, user, tid, body):
    r = client(desk, user).patch(desk.api("/tickets/%d" % tid), data=dumps(body), headers=JSON)
    return assert_json(r, 200)


def comment(desk, user, tid, text, internal=False):
    r = client(desk, user).post(desk.api("/tickets/%d/comments" % tid),
                                data=dumps({"body": text, "internal": internal}), headers=JSON)
    return assert_json(r, 201)


# ---- who gets what ---------------------------------------------------------------------

def test_created_mail_to_reporter_and_cc(desk, mailbox):
    secret = marker("secret")
    t = create_ticket(desk, client(desk, "alice"),
                      subject="Wrong dose shown for patient %s" % secret,
                      description="Patient %s, bed 4" % secret, encounter_id="ENC-%s" % secret,
                      cc=["bob@north-hospital.example", "pharmacy@north-hospital.example"])
    got = wait_mail(mailbox, t["key"])
    assert len(got) == 1, [str(m["Subject"]) for m, _ in got]
    m, raw = got[0]
    assert addrs(m, "To") == ["alice@north-hospital.example"]
    assert m["To"].addresses[0].display_name == "Alice Archer"
    assert addrs(m, "Cc") == ["bob@north-hospital.example", "pharmacy@north-hospital.example"]
    assert str(m["From"]) == FROM
    assert str(m["Subject"]) == "[%s] Your support ticket was received" % t["key"]
    assert re.fullmatch(r"<sdesk\.\d+\.\d+@[^>]+>", str(m["Message-ID"])), m["Message-ID"]
    assert m["Auto-Submitted"] == "auto-generated"
    assert m.get_content_type() == "text/plain" and m.get_content_charset() == "utf-8"
    body = assert_safe_text(m, raw, secret)
    assert "%s/tickets/%d" % (PUBLIC, t["id"]) in body
    assert t["key"] in body and "priority high" in body
    rows = wait_delivered(desk, t["id"], "ticket.created")
    assert [(r[1], r[3]) for r in rows] == [(1, None)], rows


def test_status_change_and_agent_reply(desk, mailbox):
    secret = marker("secret")
    t = create_ticket(desk, client(desk, "alice"))
    wait_mail(mailbox, t["key"])
    patch(desk, "tom", t["id"], {"status": "open"})
    got = wait_mail(mailbox, t["key"], "Status: open")
    assert len(got) == 1
    m, raw = got[0]
    assert addrs(m, "To") == ["alice@north-hospital.example"] and not m["Cc"]
    assert "is now: open" in assert_safe_text(m, raw)

    comment(desk, "tom", t["id"], "Internal: reporter's patient %s" % secret, internal=True)
    comment(desk, "alice", t["id"], "My own words %s" % secret)
    comment(desk, "tom", t["id"], "Please restart it, %s" % secret)
    got = wait_mail(mailbox, t["key"], "New answer from support")
    assert len(got) == 1, got
    m, raw = got[0]
    assert addrs(m, "To") == ["alice@north-hospital.example"]
    body = assert_safe_text(m, raw, secret)
    assert "%s/tickets/%d" % (PUBLIC, t["id"]) in body
    wait_delivered(desk, t["id"], "ticket.comment")
    time.sleep(1.5)
    # created, status, one reply: the internal and the reporter's comments send nothing
    subjects = sorted(str(m["Subject"]) for m, _ in of_ticket(mailbox, t["key"]))
    assert subjects == sorted(["[%s] Your support ticket was received" % t["key"],
                               "[%s] Status: open" % t["key"],
                               "[%s] New answer from support" % t["key"]]), subjects
    for m, raw in of_ticket(mailbox, t["key"]):
        assert secret not in raw.decode("utf-8", "replace")
    # every row is done, the ones without mail too
    assert all(r[2] is not None for r in outbox(desk, t["id"])), outbox(desk, t["id"])


def test_critical_ticket_to_tier_agents_of_the_tenant(desk, mailbox):
    t = create_ticket(desk, client(desk, "alice"), urgency="patient-safety")
    assert t["priority"] == "critical" and t["tier"] == 2
    got = wait_mail(mailbox, t["key"], "New critical ticket for tier 2")
    assert len(got) == 1, got
    m, raw = got[0]
    # tier 2 is tom (north) and sam (south): only the ticket's tenant
    assert addrs(m, "To") == ["tom@north-hospital.example"]
    assert not m["Cc"]
    body = assert_safe_text(m, raw, t["subject"])
    assert "tier 2 queue" in body and "%s/tickets/%d" % (PUBLIC, t["id"]) in body
    # and the reporter's own confirmation
    assert len(wait_mail(mailbox, t["key"], "received")) == 1


def test_breach_to_tier_agents(desk, mailbox):
    t = create_ticket(desk, client(desk, "carol"), urgency="not-blocking")     # normal, 2 s
    got = wait_mail(mailbox, t["key"], "SLA resolution target missed", timeout=25)
    assert len(got) == 1, got
    m, raw = got[0]
    assert addrs(m, "To") == ["sam@south-clinic.example"]
    assert "missed its resolution target" in assert_safe_text(m, raw, t["subject"])


# ---- at least once, never twice ---------------------------------------------------------

@pytest.mark.log_allow(MAIL_FAILED)
def test_retry_after_failure_then_no_duplicate(desk, mailbox):
    flag = os.path.join(mailbox, "fail")
    with open(flag, "w") as f:
        f.write("capture: mail queue full\n")
    try:
        t = create_ticket(desk, client(desk, "alice"))
        deadline = time.time() + 20
        while time.time() < deadline:
            rows = outbox(desk, t["id"], "ticket.created")
            if rows and rows[0][1] >= 2:
                break
            time.sleep(0.2)
        kind, attempts, delivered, err = rows[0]
        assert attempts >= 2 and delivered is None, rows
        assert "exit status 75" in err and "mail queue full" in err, err
        assert of_ticket(mailbox, t["key"]) == []
    finally:
        os.unlink(flag)
    got = wait_mail(mailbox, t["key"], timeout=30)
    assert len(got) == 1
    rows = wait_delivered(desk, t["id"], "ticket.created")
    assert rows[0][2] is not None and rows[0][3] is None, rows
    time.sleep(3)                     # several more runs: still one message
    assert len(of_ticket(mailbox, t["key"])) == 1
    assert outbox(desk, t["id"], "ticket.created")[0][1] == rows[0][1]


def test_every_row_claimed_once(desk, mailbox):
    """Several tickets at once over two children: one mail per row."""
    ts = [create_ticket(desk, client(desk, u)) for u in ("alice", "bob", "carol", "dan")]
    for t in ts:
        wait_delivered(desk, t["id"], "ticket.created")
    time.sleep(2)
    for t in ts:
        assert len(of_ticket(mailbox, t["key"])) == 1, t["key"]


# ---- headers cannot be injected -----------------------------------------------------------

def test_user_input_with_line_breaks_is_refused(desk, mailbox):
    with unchanged_db(desk):
        for fields in ({"cc": ["a@b.example\r\nBcc: evil@evil.example"]},
                       {"cc": ["a@b.example, evil@evil.example"]},
                       {"subject": "Printer\r\nBcc: evil@evil.example"}):
            r = client(desk, "alice").post(desk.api("/tickets"), data=dumps(valid_ticket(**fields)),
                                           headers=JSON)
            assert_problem(r, 422)


MALLORY_DN = "uid=mallory,ou=people,o=north-hospital," + harness.SUFFIX


def ldap(desk, tool, *args, ldif=""):
    return subprocess.run([tool, "-x", "-H", desk.slapd.url, "-D", harness.ADMIN_DN,
                           "-w", harness.ADMIN_PW] + list(args), input=ldif.encode(),
                          capture_output=True, timeout=20)


@pytest.fixture
def mallory(desk):
    """A directory user whose display name carries a line break and a header,
    and non-ASCII letters."""
    import base64
    name = "M\u00e4llory \u0158\r\nBcc: evil@evil.example"
    ldif = ("dn: %s\nobjectClass: inetOrgPerson\nuid: mallory\ncn: Mallory\nsn: M\n"
            "displayName:: %s\nmail: mallory@north-hospital.example\n"
            "userPassword: mallory-secret\n" % (MALLORY_DN,
                                                base64.b64encode(name.encode()).decode()))
    ldap(desk, "ldapdelete", MALLORY_DN)
    p = ldap(desk, "ldapadd", ldif=ldif)
    assert p.returncode == 0, p.stderr
    yield name
    p = ldap(desk, "ldapdelete", MALLORY_DN)
    assert p.returncode == 0, p.stderr


def test_directory_name_cannot_add_headers(desk, mailbox, mallory):
    s = client(desk, "mallory", password="mallory-secret")
    t = create_ticket(desk, s)
    got = wait_mail(mailbox, t["key"])
    assert len(got) == 1
    m, raw = got[0]
    head = raw.split(b"\n\n", 1)[0]
    assert not re.search(rb"(?im)^bcc:", head), head
    assert_safe_text(m, raw)
    assert addrs(m, "To") == ["mallory@north-hospital.example"]
    shown = m["To"].addresses[0].display_name
    assert "\r" not in shown and "\n" not in shown
    assert shown.startswith("M\u00e4llory \u0158 Bcc:"), shown        # decoded, on one line
    assert max(len(line) for line in head.split(b"\n")) <= 998


# ---- configuration -------------------------------------------------------------------------

@pytest.mark.parametrize("line,needle", [
    ('SdeskMailer "sendmail -t -i"', "absolute path"),
    ('SdeskMailer "/nonexistent/sendmail -t -i"', "is not an executable file"),
    ('SdeskMailer "/etc/passwd"', "is not an executable file"),
    ('SdeskMailer ""', "takes one argument"),
    ("SdeskMailFrom 'Desk <desk@example.org>'", "is not a plain mail address"),
    ("SdeskMailFrom desk@example.org,evil@example.org", "is not a plain mail address"),
    ("SdeskPublicURL intranet.example/sdesk", "is not an absolute http(s) URL"),
    ("SdeskPublicURL https://intranet.example/sdesk?x=1", "is not an absolute http(s) URL"),
    ("SdeskMailInterval 0", "is not a whole number"),
])
def test_configtest_names_directive_and_value(configtest, line, needle):
    res = configtest(line)
    rc, out = res
    assert rc != 0, out
    m = re.search(r"AH00526: Syntax error on line (\d+) of ([^:\n]+):\n(.*)", out, re.S)
    assert m and int(m.group(1)) == res.extra_line and m.group(2) == res.path, out
    assert line.split()[0] in m.group(3) and needle in m.group(3), out


def test_configtest_mail_is_main_server_only(configtest):
    res = configtest('<VirtualHost 127.0.0.1:9>\n    SdeskMailer "%s /tmp -t -i"\n'
                     '</VirtualHost>' % CAPTURE)
    assert res.rc != 0, res.output
    assert "SdeskMailer cannot occur within <VirtualHost> section" in res.output, res.output


def test_configtest_accepts_a_mailer(configtest):
    rc, out = configtest('SdeskMailer "%s /tmp -t -i"\nSdeskMailFrom desk@example.org\n'
                         'SdeskPublicURL https://intranet.example/sdesk\nSdeskMailInterval 5'
                         % CAPTURE)
    assert rc == 0, out
