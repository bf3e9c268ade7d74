"""Attachments: POST /tickets/{id}/attachments (multipart/form-data or a raw
body) and GET /tickets/{id}/attachments/{aid}: the stored representation,
types decided by the bytes, the download headers, Range and conditional
GETs, deduplication, filenames, the size and count limits, and who may do
what. Hostile uploads (markup, executables, broken multipart) are in
test_610_attachments_hostile.py. Every rejected upload must leave the
database unchanged."""

import hashlib
import os
import re
import urllib.parse
import uuid

import pytest

from sdesk_util import (
    assert_common_headers, assert_json, assert_problem, client, create_ticket, describe,
    marker, rfc3339, unchanged_db,
)

PNG_SIG = b"\x89PNG\r\n\x1a\n"
META_KEYS = {"id", "filename", "media_type", "size", "sha256", "created_at"}
LIST_KEYS = {"id", "filename", "media_type", "size", "created_at"}
TEXT_TYPE = "text/plain; charset=utf-8"
RASTER = {"image/png", "image/jpeg", "image/gif", "image/webp"}
DEFAULT_MAX = 10485760


# ---- files ----------------------------------------------------------------------

def png(size=300):
    """PNG signature + random bytes: unique, and a PNG by its magic."""
    return PNG_SIG + os.urandom(size - len(PNG_SIG))


def jpeg(size=300):
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 4)


def gif(version=b"89a", size=300):
    return b"GIF" + version + os.urandom(size - 6)


def webp(size=300):
    body = b"WEBPVP8 " + os.urandom(size - 16)
    return b"RIFF" + (len(body)).to_bytes(4, "little") + body


def pdf(size=300):
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    return head + os.urandom(size - len(head))


def text(body=None):
    return ("Log of %s\n2026-11-22 10:15:00 printer offline\n" % marker()
            + (body or "")).encode("utf-8")


# ---- requests -------------------------------------------------------------------

def aurl(desk, tid, aid=None):
    return desk.api("/tickets/%d/attachments%s" % (tid, "" if aid is None else "/%s" % aid))


def new_boundary():
    return "----sdeskTest" + uuid.uuid4().hex


def qstr(s):
    """A quoted-string for a part header (escape only '"' and '\\' before '"')."""
    return '"%s"' % s.replace('"', '\\"')


def file_part(data, filename="file.bin", ctype="application/octet-stream", name="file",
              disposition=None):
    """(header bytes, data) of a form part; disposition overrides the whole
    Content-Disposition value."""
    if disposition is None:
        disposition = "form-data; name=%s" % qstr(name)
        if filename is not None:
            disposition += "; filename=%s" % qstr(filename)
    hdr = "Content-Disposition: %s\r\n" % disposition
    if ctype is not None:
        hdr += "Content-Type: %s\r\n" % ctype
    return hdr.encode("utf-8"), data


def text_part(name, value):
    if isinstance(value, str):
        value = value.encode("utf-8")
    return ("Content-Disposition: form-data; name=%s\r\n" % qstr(name)).encode("utf-8"), value


def form(parts, boundary):
    """A multipart/form-data body of (header bytes, data) parts, CRLF throughout."""
    b = boundary.encode("ascii")
    out = b""
    for hdr, data in parts:
        out += b"--" + b + b"\r\n" + hdr + b"\r\n" + data + b"\r\n"
    return out + b"--" + b + b"--\r\n"


def post_form(desk, s, tid, parts, boundary=None, headers=None, params=None):
    boundary = boundary or new_boundary()
    h = {"Content-Type": "multipart/form-data; boundary=%s" % boundary}
    h.update(headers or {})
    return s.post(aurl(desk, tid), data=form(parts, boundary), headers=h, params=params)


def upload_form(desk, s, tid, data, filename="file.bin", ctype="application/octet-stream",
                comment=None, headers=None):
    parts = [file_part(data, filename, ctype)]
    if comment is not None:
        parts.append(text_part("comment", comment))
    return post_form(desk, s, tid, parts, headers=headers)


def upload_raw(desk, s, tid, data, filename=None, ctype="application/octet-stream",
               headers=None):
    h = {}
    if ctype is not None:
        h["Content-Type"] = ctype
    h.update(headers or {})
    params = None if filename is None else {"filename": filename}
    return s.post(aurl(desk, tid), data=data, headers=h, params=params)


def upload(desk, s, tid, data, how, filename="file.bin", ctype="application/octet-stream"):
    if how == "raw":
        return upload_raw(desk, s, tid, data, filename=filename, ctype=ctype)
    return upload_form(desk, s, tid, data, filename=filename, ctype=ctype)


def uploaded(desk, resp, tid, data, status=201, media_type=None, filename=None):
    """Assert a successful upload of data; returns the metadata."""
    a = assert_json(resp, status)
    assert set(a) == META_KEYS, "keys %s: %s" % (sorted(a), describe(resp))
    assert type(a["id"]) is int and a["id"] > 0, describe(resp)
    assert a["size"] == len(data) and type(a["size"]) is int, describe(resp)
    assert a["sha256"] == hashlib.sha256(data).hexdigest(), describe(resp)
    rfc3339(a["created_at"])
    if media_type is not None:
        assert a["media_type"] == media_type, describe(resp)
    if filename is not None:
        assert a["filename"] == filename, describe(resp)
    loc = resp.headers.get("Location", "")
    assert loc.endswith("/sdesk/api/v1/tickets/%d/attachments/%d" % (tid, a["id"])), \
        describe(resp)
    return a


def rejected(desk, status, slug, fn):
    """Call fn() (one request); nothing may be stored; assert the problem."""
    with unchanged_db(desk):
        r = fn()
    return assert_problem(r, status, slug)


def download(desk, s, tid, aid, headers=None):
    return s.get(aurl(desk, tid, aid), headers=headers)


def assert_download(resp, data, media_type, filename=None):
    """A full 200 download of data with every safety header."""
    assert resp.status_code == 200, describe(resp)
    assert resp.content == data, "body differs (%d vs %d bytes)" % (len(resp.content), len(data))
    assert resp.headers.get("Content-Type", "").lower().replace(" ", "") == \
        media_type.lower().replace(" ", ""), describe(resp)
    assert resp.headers.get("Content-Length") == str(len(data)), describe(resp)
    assert_common_headers(resp)
    csp = resp.headers.get("Content-Security-Policy", "")
    assert "sandbox" in [d.strip().split(" ")[0].lower() for d in csp.split(";")], describe(resp)
    assert resp.headers.get("ETag") == '"%s"' % hashlib.sha256(data).hexdigest(), describe(resp)
    disp = resp.headers.get("Content-Disposition", "")
    kind = disp.split(";")[0].strip().lower()
    base = media_type.split(";")[0].strip()
    assert kind == ("inline" if base in RASTER else "attachment"), describe(resp)
    if filename is not None:
        assert disposition_name(disp) == filename, describe(resp)
    return disp


def disposition_name(disp):
    """The file name a browser takes from a Content-Disposition value:
    filename* (RFC 8187) if present, else filename."""
    m = re.search(r"filename\*\s*=\s*UTF-8''([^;\s]+)", disp, re.I)
    if m:
        return urllib.parse.unquote(m.group(1), encoding="utf-8", errors="strict")
    m = re.search(r'filename\s*=\s*"((?:[^"\\]|\\.)*)"', disp)
    if m:
        return re.sub(r"\\(.)", r"\1", m.group(1))
    m = re.search(r"filename\s*=\s*([^;\s]+)", disp)
    return m.group(1) if m else None


def ticket_view(desk, s, tid):
    return assert_json(s.get(desk.api("/tickets/%d" % tid)), 200)


def move(desk, tid, *statuses):
    tom = client(desk, "tom")
    for st in statuses:
        r = tom.patch(desk.api("/tickets/%d" % tid), json={"status": st})
        assert_json(r, 200)


@pytest.fixture
def alice(desk):
    return client(desk, "alice")


@pytest.fixture
def ticket(desk, alice):
    """A fresh ticket of alice (north-hospital)."""
    return create_ticket(desk, alice)


# ---- the created attachment -------------------------------------------------------

@pytest.mark.parametrize("how", ["multipart", "raw"])
def test_upload_png_representation(desk, alice, ticket, how):
    tid = ticket["id"]
    data = png(1000)
    before = desk.db_counts()
    r = upload(desk, alice, tid, data, how, filename="screen shot.png", ctype="image/png")
    a = uploaded(desk, r, tid, data, media_type="image/png", filename="screen shot.png")
    after = desk.db_counts()
    assert after["attachments"] == before["attachments"] + 1
    assert after["comments"] == before["comments"]
    assert after["ticket_events"] >= before["ticket_events"] + 1

    # the Location names the bytes
    loc = r.headers["Location"]
    if loc.startswith("/"):
        loc = desk.url + loc
    assert_download(alice.get(loc), data, "image/png", "screen shot.png")

    # the ticket lists the metadata
    t = ticket_view(desk, alice, tid)
    assert len(t["attachments"]) == 1
    m = t["attachments"][0]
    assert set(m) == LIST_KEYS, m
    assert m == {k: a[k] for k in LIST_KEYS}


ALLOWED = [
    ("png", png, "image/png"),
    ("jpeg", jpeg, "image/jpeg"),
    ("gif87a", lambda: gif(b"87a"), "image/gif"),
    ("gif89a", lambda: gif(b"89a"), "image/gif"),
    ("webp", webp, "image/webp"),
    ("pdf", pdf, "application/pdf"),
    ("text", lambda: text(), TEXT_TYPE),
    ("text-bom", lambda: b"\xef\xbb\xbf" + text(), TEXT_TYPE),
    ("text-tab-cr-lf-ff", lambda: text("a\tb\r\nc\fd\n"), TEXT_TYPE),
    ("text-cyrillic-emoji", lambda: text("\u041f\u0440\u0438\u043d\u0442\u0435\u0440 "
                                         "\u043d\u0435 \u043f\u0435\u0447\u0430\u0442\u0430"
                                         "\u0435\u0442 \U0001F5A8\n"), TEXT_TYPE),
    ("text-lt-not-first", lambda: text("if a < b and c > d then <b>bold</b>\n"), TEXT_TYPE),
    ("text-del", lambda: text("a\x7fb\n"), TEXT_TYPE),
    ("text-one-byte", lambda: b"x", TEXT_TYPE),
    ("text-script-after-512", lambda: text("." * 600 + "\n<script>alert(1)</script>\n"),
     TEXT_TYPE),
]


@pytest.mark.parametrize("make,media_type", [c[1:] for c in ALLOWED], ids=[c[0] for c in ALLOWED])
@pytest.mark.parametrize("how", ["multipart", "raw"])
def test_allowed_types_round_trip(desk, alice, ticket, how, make, media_type):
    tid = ticket["id"]
    data = make()
    r = upload(desk, alice, tid, data, how, filename="f.dat")
    a = uploaded(desk, r, tid, data, media_type=media_type)
    assert_download(download(desk, alice, tid, a["id"]), data, media_type, "f.dat")


# ---- the declared type is ignored ----------------------------------------------------

@pytest.mark.parametrize("ctype", [
    None, "application/octet-stream", "text/html", "text/html; charset=utf-8",
    "image/svg+xml", "application/json", "application/x-www-form-urlencoded",
    "image/png", "application/pdf", "text/plain",
])
def test_raw_png_whatever_declared(desk, alice, ticket, ctype):
    tid = ticket["id"]
    data = png()
    r = upload_raw(desk, alice, tid, data, filename="x.png", ctype=ctype)
    a = uploaded(desk, r, tid, data, media_type="image/png")
    assert_download(download(desk, alice, tid, a["id"]), data, "image/png")


def test_png_declared_as_html_is_png(desk, alice, ticket):
    tid = ticket["id"]
    for how in ("raw", "multipart"):
        data = png()
        r = upload(desk, alice, tid, data, how, filename="page.html", ctype="text/html")
        a = uploaded(desk, r, tid, data, media_type="image/png", filename="page.html")
        g = download(desk, alice, tid, a["id"])
        assert_download(g, data, "image/png")
        assert "html" not in g.headers["Content-Type"]


@pytest.mark.parametrize("how", ["raw", "multipart"])
def test_html_declared_as_png_is_415(desk, alice, ticket, how):
    data = b"<html><body><script>alert(document.cookie)</script></body></html>"
    rejected(desk, 415, "unsupported-media-type",
             lambda: upload(desk, alice, ticket["id"], data, how, filename="cat.png",
                            ctype="image/png"))


def test_text_declared_as_pdf_is_text(desk, alice, ticket):
    tid = ticket["id"]
    data = text()
    r = upload_raw(desk, alice, tid, data, filename="report.pdf", ctype="application/pdf")
    a = uploaded(desk, r, tid, data, media_type=TEXT_TYPE)
    assert_download(download(desk, alice, tid, a["id"]), data, TEXT_TYPE, "report.pdf")


def test_polyglot_png_with_script_is_png_served_safely(desk, alice, ticket):
    tid = ticket["id"]
    data = (PNG_SIG + b"\x00\x00\x00\x0dIHDR" + os.urandom(17)
            + b"<html><script>alert(document.domain)</script></html>" + os.urandom(64))
    r = upload_raw(desk, alice, tid, data, filename="poly.png", ctype="text/html")
    a = uploaded(desk, r, tid, data, media_type="image/png")
    g = download(desk, alice, tid, a["id"])
    assert_download(g, data, "image/png", "poly.png")
    assert g.headers["X-Content-Type-Options"].lower() == "nosniff"
    assert "sandbox" in g.headers["Content-Security-Policy"].lower()
    assert g.headers["Content-Type"].split(";")[0].strip().lower() == "image/png"


def test_requests_library_multipart(desk, alice, ticket):
    # what a script using requests' files= sends is understood
    tid = ticket["id"]
    data = pdf(5000)
    r = alice.post(aurl(desk, tid), files={"file": ("scan.pdf", data, "application/pdf")},
                   data={"comment": "Scan of the error message %s" % marker()})
    uploaded(desk, r, tid, data, media_type="application/pdf", filename="scan.pdf")


def test_requests_library_multipart_non_ascii_name(desk, alice, ticket):
    tid = ticket["id"]
    data = png()
    name = "\u0441\u043d\u0438\u043c\u043e\u043a.png"
    r = alice.post(aurl(desk, tid), files={"file": (name, data, "image/png")})
    uploaded(desk, r, tid, data, media_type="image/png", filename=name)


def test_chunked_raw_upload(desk, alice, ticket):
    tid = ticket["id"]
    data = png(200000)

    def gen():
        for i in range(0, len(data), 7777):
            yield data[i:i + 7777]

    r = alice.post(aurl(desk, tid), data=gen(), params={"filename": "chunked.png"})
    assert "Content-Length" not in r.request.headers
    a = uploaded(desk, r, tid, data, media_type="image/png")
    assert_download(download(desk, alice, tid, a["id"]), data, "image/png")


def test_chunked_multipart_upload(desk, alice, ticket):
    tid = ticket["id"]
    data = png(150000)
    boundary = new_boundary()
    body = form([file_part(data, "c.png")], boundary)

    def gen():
        for i in range(0, len(body), 1000):
            yield body[i:i + 1000]

    r = alice.post(aurl(desk, tid), data=gen(),
                   headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    assert "Content-Length" not in r.request.headers
    a = uploaded(desk, r, tid, data, media_type="image/png", filename="c.png")
    assert_download(download(desk, alice, tid, a["id"]), data, "image/png")


@pytest.mark.parametrize("how", ["multipart", "raw"])
def test_five_megabyte_png_round_trip(desk, alice, ticket, how):
    tid = ticket["id"]
    data = png(5 * 1024 * 1024)
    r = upload(desk, alice, tid, data, how, filename="big.png", ctype="image/png")
    a = uploaded(desk, r, tid, data, media_type="image/png", filename="big.png")
    g = download(desk, alice, tid, a["id"])
    assert_download(g, data, "image/png", "big.png")
    assert hashlib.sha256(g.content).hexdigest() == a["sha256"]


# ---- the multipart comment -------------------------------------------------------------

def test_comment_part_creates_public_comment(desk, alice, ticket):
    tid = ticket["id"]
    data = png()
    body = "Here is a screenshot of the error \u2014 %s" % marker()
    before = desk.db_counts()
    r = upload_form(desk, alice, tid, data, filename="err.png", comment=body)
    a = uploaded(desk, r, tid, data, media_type="image/png")
    after = desk.db_counts()
    assert after["comments"] == before["comments"] + 1
    assert after["attachments"] == before["attachments"] + 1

    t = ticket_view(desk, alice, tid)
    cs = [c for c in t["comments"] if c["body"] == body]
    assert len(cs) == 1, t["comments"]
    assert cs[0]["internal"] is False
    assert cs[0]["author"]["user"] == "alice"
    # the file belongs to that comment
    rows = desk.db_query("SELECT comment_id FROM attachments WHERE id = ?", a["id"])
    assert rows and rows[0][0] == cs[0]["id"], rows
    # and a colleague agent sees both
    t2 = ticket_view(desk, client(desk, "nina"), tid)
    assert [c["id"] for c in t2["comments"] if c["body"] == body] == [cs[0]["id"]]
    assert a["id"] in [x["id"] for x in t2["attachments"]]


def test_comment_part_before_file_part(desk, alice, ticket):
    tid = ticket["id"]
    data = text()
    body = "comment first %s" % marker()
    r = post_form(desk, alice, tid, [text_part("comment", body), file_part(data, "log.txt")])
    uploaded(desk, r, tid, data, media_type=TEXT_TYPE, filename="log.txt")
    t = ticket_view(desk, alice, tid)
    assert [c["body"] for c in t["comments"]] == [body]


def test_no_comment_part_creates_no_comment(desk, alice, ticket):
    tid = ticket["id"]
    before = desk.db_counts()
    data = png()
    uploaded(desk, upload_form(desk, alice, tid, data), tid, data)
    assert desk.db_counts()["comments"] == before["comments"]
    assert ticket_view(desk, alice, tid)["comments"] == []


# ---- deduplication ------------------------------------------------------------------------

@pytest.mark.parametrize("first,second", [("raw", "raw"), ("multipart", "raw"),
                                          ("raw", "multipart")])
def test_same_bytes_again_is_200_same_id(desk, alice, ticket, first, second):
    tid = ticket["id"]
    data = png(2000)
    a = uploaded(desk, upload(desk, alice, tid, data, first, filename="one.png"), tid, data)
    with unchanged_db(desk):
        r = upload(desk, alice, tid, data, second, filename="two.png")
    b = uploaded(desk, r, tid, data, status=200)
    assert b["id"] == a["id"] and b["sha256"] == a["sha256"]
    assert len(ticket_view(desk, alice, tid)["attachments"]) == 1
    rows = desk.db_query("SELECT COUNT(*) FROM attachments WHERE ticket_id = ?", tid)
    assert rows[0][0] == 1


def test_same_bytes_by_agent_is_200_same_id(desk, alice, ticket):
    tid = ticket["id"]
    data = text()
    a = uploaded(desk, upload_raw(desk, alice, tid, data, filename="a.txt"), tid, data)
    with unchanged_db(desk):
        r = upload_raw(desk, client(desk, "tom"), tid, data, filename="b.txt")
    assert uploaded(desk, r, tid, data, status=200)["id"] == a["id"]


def test_same_bytes_on_another_ticket_is_stored_again(desk, alice, ticket):
    data = png()
    a = uploaded(desk, upload_raw(desk, alice, ticket["id"], data), ticket["id"], data)
    t2 = create_ticket(desk, alice)
    b = uploaded(desk, upload_raw(desk, alice, t2["id"], data), t2["id"], data, status=201)
    assert b["id"] != a["id"]
    assert_download(download(desk, alice, t2["id"], b["id"]), data, "image/png")
    # and each is reachable only under its own ticket
    assert_problem(download(desk, alice, t2["id"], a["id"]), 404, "not-found")


def test_one_byte_different_is_a_new_attachment(desk, alice, ticket):
    tid = ticket["id"]
    data = png()
    a = uploaded(desk, upload_raw(desk, alice, tid, data), tid, data)
    data2 = data[:-1] + bytes([data[-1] ^ 1])
    b = uploaded(desk, upload_raw(desk, alice, tid, data2), tid, data2, status=201)
    assert a["id"] != b["id"]


# ---- filenames ---------------------------------------------------------------------------

FILENAMES = [
    ("plain", "report.pdf", "report.pdf"),
    ("spaces", "my report (1).pdf", "my report (1).pdf"),
    ("traversal", "../../etc/passwd", "passwd"),
    ("abs-path", "/etc/shadow", "shadow"),
    ("windows-path", "C:\\x\\evil.png", "evil.png"),
    ("unc-path", "\\\\server\\share\\evil.png", "evil.png"),
    ("mixed-path", "..\\../..\\x/evil.png", "evil.png"),
    ("bidi-rlo", "evil\u202egnp.exe", "evilgnp.exe"),
    ("bidi-isolates", "a\u2066b\u2067c\u2068d\u2069.txt", "abcd.txt"),
    ("bidi-lrm-rlm", "a\u200eb\u200f.txt", "ab.txt"),
    ("cyrillic", "\u043e\u0442\u0447\u0451\u0442.pdf", "\u043e\u0442\u0447\u0451\u0442.pdf"),
    ("dot", ".", "attachment"),
    ("dotdot", "..", "attachment"),
    ("slash-only", "/", "attachment"),
    ("path-ending-in-slash", "../../", "attachment"),
    ("bidi-only", "\u202e", "attachment"),
]


@pytest.mark.parametrize("raw,safe", [c[1:] for c in FILENAMES], ids=[c[0] for c in FILENAMES])
@pytest.mark.parametrize("how", ["multipart", "raw"])
def test_filename_is_made_safe(desk, alice, ticket, how, raw, safe):
    tid = ticket["id"]
    data = text()
    a = uploaded(desk, upload(desk, alice, tid, data, how, filename=raw), tid, data,
                 filename=safe)
    assert ticket_view(desk, alice, tid)["attachments"][0]["filename"] == safe
    g = download(desk, alice, tid, a["id"])
    disp = assert_download(g, data, TEXT_TYPE, safe)
    for bad in ("/", "\\", "\u202e", "\r", "\n"):
        assert bad not in disp


@pytest.mark.parametrize("name,safe", [
    ("a%01b%1Fc%7F.txt", "abc.txt"),             # C0 and DEL
    ("x%C2%85y%C2%9F.txt", "xy.txt"),            # C1
    ("line%0D%0AContent-Type%3A%20text%2Fhtml.txt", "html.txt"),
    ("line%0D%0AX-Evil%3A%201.txt", "lineX-Evil_ 1.txt"),
    ("%E2%80%AEfdp.exe", "fdp.exe"),
])
def test_control_characters_removed_from_multipart_filename(desk, alice, ticket, name, safe):
    # controls cannot appear raw in a part header; filename* carries them
    tid = ticket["id"]
    data = text()
    part = file_part(data, disposition="form-data; name=\"file\"; filename*=UTF-8''" + name)
    a = uploaded(desk, post_form(desk, alice, tid, [part]), tid, data)
    assert not re.search(r"[\x00-\x1f\x7f\x80-\x9f\u202e]", a["filename"]), a
    assert "\r" not in a["filename"] and "\n" not in a["filename"]
    assert a["filename"] == safe
    g = download(desk, alice, tid, a["id"])
    assert "X-Evil" not in g.headers
    assert_download(g, data, TEXT_TYPE)


def test_control_characters_in_raw_filename(desk, alice, ticket):
    # in a query string a control character is either refused (400, nothing
    # stored) or removed
    tid = ticket["id"]
    data = text()
    r = upload_raw(desk, alice, tid, data, filename="a\x01b\x7f\r\nc.txt")
    if r.status_code == 400:
        assert_problem(r, 400)
        assert ticket_view(desk, alice, tid)["attachments"] == []
    else:
        a = uploaded(desk, r, tid, data)
        assert a["filename"] == "abc.txt", a


@pytest.mark.parametrize("how,filename", [
    ("raw", None),          # no ?filename=
    ("raw", ""),            # ?filename= (empty)
    ("multipart", ""),      # filename=""
])
def test_empty_or_missing_filename_is_attachment(desk, alice, ticket, how, filename):
    tid = ticket["id"]
    data = png()
    if how == "raw" and filename == "":
        r = alice.post(aurl(desk, tid) + "?filename=", data=data)
    else:
        r = upload(desk, alice, tid, data, how, filename=filename)
    a = uploaded(desk, r, tid, data, filename="attachment")
    disp = assert_download(download(desk, alice, tid, a["id"]), data, "image/png")
    assert disposition_name(disp) == "attachment"


def test_long_filename_is_cut_keeping_extension(desk, alice, ticket):
    tid = ticket["id"]
    data = png()
    raw = "\u044f" * 300 + ".png"
    a = uploaded(desk, upload_form(desk, alice, tid, data, filename=raw), tid, data)
    name = a["filename"]
    assert 0 < len(name.encode("utf-8")) <= 200, name
    assert name.endswith(".png") and set(name[:-4]) == {"\u044f"}, name


def test_quote_in_filename_cannot_break_the_header(desk, alice, ticket):
    tid = ticket["id"]
    data = text()
    raw = 'a"; filename="evil.html'
    a = uploaded(desk, upload_raw(desk, alice, tid, data, filename=raw), tid, data)
    assert '"' not in a["filename"], a
    disp = download(desk, alice, tid, a["id"]).headers["Content-Disposition"]
    assert disp.count('filename="') == 1, disp
    assert disposition_name(disp) == a["filename"]


def test_cyrillic_filename_content_disposition(desk, alice, ticket):
    tid = ticket["id"]
    name = "\u041e\u0442\u0447\u0451\u0442 \u043f\u043e \u043f\u0440\u0438\u043d\u0442"\
           "\u0435\u0440\u0443.pdf"
    data = pdf()
    r = upload_raw(desk, alice, tid, data, filename=name)
    a = uploaded(desk, r, tid, data, media_type="application/pdf", filename=name)
    g = download(desk, alice, tid, a["id"])
    disp = assert_download(g, data, "application/pdf", name)
    assert disp.lower().startswith("attachment")
    enc = urllib.parse.quote(name.encode("utf-8"), safe="")
    m = re.search(r"filename\*=UTF-8''(\S+)", disp, re.I)
    assert m, disp
    assert m.group(1).rstrip(";").upper() == enc.upper(), disp
    # the ASCII fallback is plain ASCII, keeps the extension
    m = re.search(r'filename="([^"]*)"', disp)
    assert m and m.group(1).isascii() and m.group(1).endswith(".pdf"), disp
    # the header itself is ASCII
    disp.encode("ascii")
    # also through the form's own filename*
    data2 = pdf()
    part = file_part(data2, disposition="form-data; name=\"file\"; filename*=UTF-8''" + enc)
    a2 = uploaded(desk, post_form(desk, alice, tid, [part]), tid, data2, filename=name)
    assert_download(download(desk, alice, tid, a2["id"]), data2, "application/pdf", name)


# ---- download headers, conditional and partial GETs ------------------------------

@pytest.mark.parametrize("make,media_type", [
    (png, "image/png"), (jpeg, "image/jpeg"), (gif, "image/gif"), (webp, "image/webp"),
    (pdf, "application/pdf"), (text, TEXT_TYPE),
], ids=["png", "jpeg", "gif", "webp", "pdf", "text"])
def test_disposition_inline_only_for_raster(desk, alice, ticket, make, media_type):
    tid = ticket["id"]
    data = make()
    a = uploaded(desk, upload_raw(desk, alice, tid, data, filename="n.bin"), tid, data)
    disp = assert_download(download(desk, alice, tid, a["id"]), data, media_type, "n.bin")
    expect = "inline" if media_type in RASTER else "attachment"
    assert disp.split(";")[0].strip().lower() == expect


def test_etag_and_if_none_match(desk, alice, ticket):
    tid = ticket["id"]
    data = png(5000)
    a = uploaded(desk, upload_raw(desk, alice, tid, data), tid, data)
    g = download(desk, alice, tid, a["id"])
    etag = g.headers["ETag"]
    assert etag == '"%s"' % a["sha256"]
    assert not etag.startswith("W/")
    r = download(desk, alice, tid, a["id"], headers={"If-None-Match": etag})
    assert r.status_code == 304, describe(r)
    assert r.content == b""
    assert r.headers.get("ETag") == etag
    r = download(desk, alice, tid, a["id"], headers={"If-None-Match": '"x", ' + etag})
    assert r.status_code == 304, describe(r)
    r = download(desk, alice, tid, a["id"], headers={"If-None-Match": '"%s"' % ("0" * 64)})
    assert_download(r, data, "image/png")


def test_range_first_hundred_bytes(desk, alice, ticket):
    tid = ticket["id"]
    data = pdf(10000)
    a = uploaded(desk, upload_raw(desk, alice, tid, data, filename="r.pdf"), tid, data)
    r = download(desk, alice, tid, a["id"], headers={"Range": "bytes=0-99"})
    assert r.status_code == 206, describe(r)
    assert r.headers.get("Content-Range") == "bytes 0-99/%d" % len(data), describe(r)
    assert r.content == data[:100]
    assert r.headers.get("Content-Length") == "100"
    assert r.headers.get("X-Content-Type-Options", "").lower() == "nosniff"
    assert "sandbox" in r.headers.get("Content-Security-Policy", "")
    # a middle range and a suffix range
    r = download(desk, alice, tid, a["id"], headers={"Range": "bytes=5000-5099"})
    assert r.status_code == 206 and r.content == data[5000:5100], describe(r)
    r = download(desk, alice, tid, a["id"], headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == data[-10:], describe(r)
    # If-Range with the strong ETag honours the Range, a stale one does not
    r = download(desk, alice, tid, a["id"],
                 headers={"Range": "bytes=0-9", "If-Range": '"%s"' % a["sha256"]})
    assert r.status_code == 206 and r.content == data[:10], describe(r)
    r = download(desk, alice, tid, a["id"],
                 headers={"Range": "bytes=0-9", "If-Range": '"%s"' % ("f" * 64)})
    assert r.status_code == 200 and r.content == data, describe(r)


def test_range_beyond_end_is_416(desk, alice, ticket):
    tid = ticket["id"]
    data = png(500)
    a = uploaded(desk, upload_raw(desk, alice, tid, data), tid, data)
    r = download(desk, alice, tid, a["id"], headers={"Range": "bytes=1000-2000"})
    assert r.status_code == 416, describe(r)


def test_head_has_headers_and_no_body(desk, alice, ticket):
    tid = ticket["id"]
    data = png(3000)
    a = uploaded(desk, upload_raw(desk, alice, tid, data), tid, data)
    r = alice.head(aurl(desk, tid, a["id"]))
    assert r.status_code == 200, describe(r)
    assert r.content == b""
    assert r.headers.get("Content-Type") == "image/png"
    assert r.headers.get("ETag") == '"%s"' % a["sha256"]


# ---- limits --------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["raw", "multipart"])
def test_size_limit_exactly_at_and_one_over(desk, how):
    with desk.httpd_conf("SdeskMaxAttachment 1000"):
        alice = client(desk, "alice")
        t = create_ticket(desk, alice)
        tid = t["id"]
        at = png(1000)
        uploaded(desk, upload(desk, alice, tid, at, how), tid, at, media_type="image/png")
        over = png(1001)
        rejected(desk, 413, "too-large", lambda: upload(desk, alice, tid, over, how))
        over_text = b"a" * 1001
        rejected(desk, 413, "too-large", lambda: upload(desk, alice, tid, over_text, how))
        much = png(200000)
        rejected(desk, 413, "too-large", lambda: upload(desk, alice, tid, much, how))
        assert len(ticket_view(desk, alice, tid)["attachments"]) == 1


def test_size_limit_chunked(desk):
    with desk.httpd_conf("SdeskMaxAttachment 1000"):
        alice = client(desk, "alice")
        tid = create_ticket(desk, alice)["id"]

        def gen(data):
            def g():
                for i in range(0, len(data), 100):
                    yield data[i:i + 100]
            return g()

        at = png(1000)
        r = alice.post(aurl(desk, tid), data=gen(at))
        uploaded(desk, r, tid, at)
        over = png(1001)
        rejected(desk, 413, "too-large", lambda: alice.post(aurl(desk, tid), data=gen(over)))
        body_b = new_boundary()
        body = form([file_part(png(1001))], body_b)
        rejected(desk, 413, "too-large", lambda: alice.post(
            aurl(desk, tid), data=gen(body),
            headers={"Content-Type": "multipart/form-data; boundary=" + body_b}))


def test_default_size_limit(desk, alice, ticket):
    tid = ticket["id"]
    at = png(DEFAULT_MAX)
    a = uploaded(desk, upload_raw(desk, alice, tid, at), tid, at, media_type="image/png")
    over = png(DEFAULT_MAX + 1)
    rejected(desk, 413, "too-large", lambda: upload_raw(desk, alice, tid, over))
    rejected(desk, 413, "too-large", lambda: upload_form(desk, alice, tid, over))
    assert [x["id"] for x in ticket_view(desk, alice, tid)["attachments"]] == [a["id"]]


def test_attachment_count_limit(desk):
    with desk.httpd_conf("SdeskMaxAttachments 3"):
        alice = client(desk, "alice")
        tid = create_ticket(desk, alice)["id"]
        files = [png(), text(), pdf()]
        ids = []
        for i, data in enumerate(files):
            how = "raw" if i % 2 else "multipart"
            ids.append(uploaded(desk, upload(desk, alice, tid, data, how), tid, data)["id"])
        fourth = png()
        rejected(desk, 413, "too-large", lambda: upload_raw(desk, alice, tid, fourth))
        rejected(desk, 413, "too-large",
                 lambda: upload_form(desk, alice, tid, fourth, comment="one more %s" % marker()))
        rejected(desk, 413, "too-large",
                 lambda: upload_raw(desk, client(desk, "tom"), tid, fourth))
        assert [a["id"] for a in ticket_view(desk, alice, tid)["attachments"]] == ids
        # the same bytes again are no new file: still the stored one
        with unchanged_db(desk):
            r = upload_raw(desk, alice, tid, files[0])
        assert uploaded(desk, r, tid, files[0], status=200)["id"] == ids[0]
        # other tickets have their own count
        t2 = create_ticket(desk, alice)["id"]
        uploaded(desk, upload_raw(desk, alice, t2, fourth), t2, fourth)


def test_default_attachment_count_is_twenty(desk, alice, ticket):
    tid = ticket["id"]
    for i in range(20):
        data = text("file %d\n" % i)
        uploaded(desk, upload_raw(desk, alice, tid, data), tid, data)
    one_more = text("file 21\n")
    rejected(desk, 413, "too-large", lambda: upload_raw(desk, alice, tid, one_more))
    assert len(ticket_view(desk, alice, tid)["attachments"]) == 20


def test_attachment_total_limit(desk):
    mib = 1024 * 1024
    with desk.httpd_conf("SdeskMaxAttachmentsTotal 1"):
        alice = client(desk, "alice")
        tid = create_ticket(desk, alice)["id"]
        first = png(600000)
        uploaded(desk, upload_raw(desk, alice, tid, first), tid, first)
        second = png(mib - 600000 + 1)            # one byte over the total
        rejected(desk, 413, "too-large", lambda: upload_raw(desk, alice, tid, second))
        rejected(desk, 413, "too-large", lambda: upload_form(desk, alice, tid, second))
        second = png(mib - 600000)                # exactly at the total
        uploaded(desk, upload_raw(desk, alice, tid, second), tid, second)
        third = b"x"
        rejected(desk, 413, "too-large", lambda: upload_raw(desk, alice, tid, third))


# ---- who may upload and download -------------------------------------------------

@pytest.mark.parametrize("user", ["nina", "tom", "tess", "ada"])
def test_agents_of_the_tenant_upload_and_download(desk, alice, ticket, user):
    tid = ticket["id"]
    s = client(desk, user)
    data = png()
    a = uploaded(desk, upload_raw(desk, s, tid, data, filename="%s.png" % user), tid, data)
    assert_download(download(desk, alice, tid, a["id"]), data, "image/png")
    assert_download(download(desk, s, tid, a["id"]), data, "image/png")


def test_reporter_downloads_agent_upload(desk, alice, ticket):
    tid = ticket["id"]
    data = pdf()
    a = uploaded(desk, upload_form(desk, client(desk, "tom"), tid, data, filename="fix.pdf"),
                 tid, data)
    assert_download(download(desk, alice, tid, a["id"]), data, "application/pdf", "fix.pdf")


@pytest.mark.parametrize("user", ["bob", "carol", "sam"])
@pytest.mark.parametrize("how", ["raw", "multipart"])
def test_others_cannot_upload_404(desk, alice, ticket, user, how):
    # bob: a colleague reporter; carol, sam: another tenant (reporter, agent)
    tid = ticket["id"]
    s = client(desk, user)
    data = png()
    rejected(desk, 404, "not-found", lambda: upload(desk, s, tid, data, how))
    assert ticket_view(desk, alice, tid)["attachments"] == []


@pytest.mark.parametrize("user", ["bob", "carol", "sam"])
def test_others_cannot_download_404(desk, alice, ticket, user):
    tid = ticket["id"]
    data = png()
    a = uploaded(desk, upload_raw(desk, alice, tid, data), tid, data)
    s = client(desk, user)
    r = download(desk, s, tid, a["id"])
    assert_problem(r, 404, "not-found")
    assert data not in r.content
    r = s.head(aurl(desk, tid, a["id"]))
    assert r.status_code == 404


def test_other_tenant_ticket_is_404(desk):
    carol = client(desk, "carol")
    t = create_ticket(desk, carol)
    data = png()
    a = uploaded(desk, upload_raw(desk, carol, t["id"], data), t["id"], data)
    for user in ("alice", "tom", "ada"):
        s = client(desk, user)
        rejected(desk, 404, "not-found", lambda: upload_raw(desk, s, t["id"], png()))
        rejected(desk, 404, "not-found", lambda: upload_form(desk, s, t["id"], png()))
        assert_problem(download(desk, s, t["id"], a["id"]), 404, "not-found")


def test_attachment_under_the_wrong_ticket_is_404(desk, alice, ticket):
    tid = ticket["id"]
    data = png()
    a = uploaded(desk, upload_raw(desk, alice, tid, data), tid, data)
    other = create_ticket(desk, alice)["id"]
    assert_problem(download(desk, alice, other, a["id"]), 404, "not-found")
    assert_problem(download(desk, client(desk, "tom"), other, a["id"]), 404, "not-found")
    # carol, on her own ticket, with north-hospital's attachment id
    ct = create_ticket(desk, client(desk, "carol"))["id"]
    assert_problem(download(desk, client(desk, "carol"), ct, a["id"]), 404, "not-found")


@pytest.mark.parametrize("aid", ["999999999999", "9223372036854775807"])
def test_unknown_attachment_is_404(desk, alice, ticket, aid):
    assert_problem(download(desk, alice, ticket["id"], aid), 404, "not-found")


@pytest.mark.parametrize("aid", ["0", "-1", "abc", "1.0", "01", "99999999999999999999",
                                 "%31"])
def test_bad_attachment_id_is_404(desk, alice, ticket, aid):
    r = alice.get(aurl(desk, ticket["id"]) + "/" + aid)
    assert r.status_code in (400, 404), describe(r)
    assert_problem(r, r.status_code)


def test_unknown_ticket_is_404(desk, alice):
    for tid in (999999999, 9223372036854775807):
        rejected(desk, 404, "not-found", lambda: upload_raw(desk, alice, tid, png()))
        rejected(desk, 404, "not-found", lambda: upload_form(desk, alice, tid, png()))
        assert_problem(download(desk, alice, tid, 1), 404, "not-found")


def test_closed_ticket_is_409(desk, alice, ticket):
    tid = ticket["id"]
    data = png()
    a = uploaded(desk, upload_raw(desk, alice, tid, data), tid, data)
    move(desk, tid, "resolved", "closed")
    for s in (alice, client(desk, "tom")):
        rejected(desk, 409, "conflict", lambda: upload_raw(desk, s, tid, png()))
        rejected(desk, 409, "conflict",
                 lambda: upload_form(desk, s, tid, text(), comment="late %s" % marker()))
        # even the bytes it already has
        rejected(desk, 409, "conflict", lambda: upload_raw(desk, s, tid, data))
    # what is there stays downloadable
    assert_download(download(desk, alice, tid, a["id"]), data, "image/png")


def test_pending_ticket_takes_files(desk, alice, ticket):
    tid = ticket["id"]
    move(desk, tid, "open", "pending")
    data = text()
    uploaded(desk, upload_form(desk, alice, tid, data, comment="the log you asked for"),
             tid, data)


def test_closed_ticket_of_other_tenant_is_404_not_409(desk):
    carol = client(desk, "carol")
    tid = create_ticket(desk, carol)["id"]
    sam = client(desk, "sam")
    for st in ("resolved", "closed"):
        assert_json(sam.patch(desk.api("/tickets/%d" % tid), json={"status": st}), 200)
    rejected(desk, 404, "not-found", lambda: upload_raw(desk, client(desk, "alice"), tid, png()))


def test_unauthenticated_is_401(desk, ticket):
    s = client(desk, None)
    with unchanged_db(desk):
        r = upload_raw(desk, s, ticket["id"], png())
    assert r.status_code == 401, describe(r)


def test_ghost_is_403(desk, ticket):
    s = client(desk, "ghost", password="ghost-secret")
    with unchanged_db(desk):
        r = s.post(desk.alt("/tickets/%d/attachments" % ticket["id"]), data=png())
    assert_problem(r, 403, "unknown-user")


# ---- same origin -------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
], ids=["evil-origin", "null-origin", "sec-fetch-cross-site"])
@pytest.mark.parametrize("how", ["raw", "multipart"])
def test_cross_origin_upload_is_403(desk, alice, ticket, headers, how):
    tid = ticket["id"]
    data = png()
    if how == "raw":
        fn = lambda: upload_raw(desk, alice, tid, data, headers=headers)  # noqa: E731
    else:
        fn = lambda: upload_form(desk, alice, tid, data, comment="x",  # noqa: E731
                                 headers=headers)
    rejected(desk, 403, "cross-origin", fn)


def test_cross_origin_checked_before_the_body(desk, alice, ticket):
    # neither a hostile file nor a broken form gets past the origin check
    tid = ticket["id"]
    h = {"Origin": "http://evil.example"}
    rejected(desk, 403, "cross-origin",
             lambda: upload_raw(desk, alice, tid, b"<script>x</script>", headers=h))
    rejected(desk, 403, "cross-origin", lambda: alice.post(
        aurl(desk, tid), data=b"garbage", headers=dict(h, **{"Content-Type":
                                                              "multipart/form-data"})))


def test_same_origin_upload_is_201(desk, alice, ticket):
    tid = ticket["id"]
    data = png()
    r = upload_form(desk, alice, tid, data,
                    headers={"Origin": desk.url, "Sec-Fetch-Site": "same-origin"})
    uploaded(desk, r, tid, data)


def test_cross_origin_download_still_safe(desk, alice, ticket):
    # a GET is not state-changing; whatever it answers, it never serves the
    # file as something a browser would run
    tid = ticket["id"]
    data = png()
    a = uploaded(desk, upload_raw(desk, alice, tid, data), tid, data)
    r = download(desk, alice, tid, a["id"], headers={"Origin": "http://evil.example"})
    if r.status_code == 200:
        assert_download(r, data, "image/png")
        assert "Access-Control-Allow-Origin" not in r.headers
    else:
        assert_problem(r, 403)


def test_blank_comment_part_creates_no_comment(desk, alice, ticket):
    tid = ticket["id"]
    data = png()
    before = desk.db_counts()
    uploaded(desk, upload_form(desk, alice, tid, data, comment=" \r\n\t "), tid, data)
    assert desk.db_counts()["comments"] == before["comments"]
    assert ticket_view(desk, alice, tid)["comments"] == []


# ---- methods -----------------------------------------------------------------------

def test_other_methods_are_405(desk, alice, ticket):
    tid = ticket["id"]
    data = png()
    a = uploaded(desk, upload_raw(desk, alice, tid, data), tid, data)
    with unchanged_db(desk):
        r = alice.get(aurl(desk, tid))
        assert_problem(r, 405)
        assert "POST" in {m.strip() for m in r.headers["Allow"].split(",")}
        for method in ("DELETE", "PUT", "PATCH", "POST"):
            r = alice.request(method, aurl(desk, tid, a["id"]), data=png())
            assert_problem(r, 405)
            assert "GET" in {m.strip() for m in r.headers["Allow"].split(",")}
    assert_download(download(desk, alice, tid, a["id"]), data, "image/png")
