"""Attachments, hostile input: files that are not an allowed type whatever
they claim to be (markup, scripts, executables, archives, broken text), and
malformed multipart/form-data bodies. Every rejected upload must leave the
database unchanged (attachments, comments, ticket_events: every table)."""

import base64
import gzip
import os
import socket
import uuid

import pytest

from sdesk_util import (
    assert_json, assert_problem, client, create_ticket, describe, marker, unchanged_db,
)
from test_600_attachments import (
    PNG_SIG, aurl, file_part, form, new_boundary, png, text, text_part, upload,
    upload_form, upload_raw, uploaded,
)

BOM = b"\xef\xbb\xbf"
SVG_SCRIPT = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
              b'<script>alert(document.cookie)</script></svg>')

REFUSED = {
    "svg-with-script": SVG_SCRIPT,
    "svg-xml-prolog": b'<?xml version="1.0"?>\n' + SVG_SCRIPT,
    "svg-leading-space": b"  \r\n\t" + SVG_SCRIPT,
    "svg-bom": BOM + SVG_SCRIPT,
    "svg-bom-space": BOM + b"\n  " + SVG_SCRIPT,
    "html": b"<!DOCTYPE html><html><body>hi</body></html>",
    "html-lowercase-doctype": b"<!doctype html><title>x</title>",
    "html-fragment": b"<p>just a paragraph</p>",
    "html-after-text": b"Dear support,\n<html><body onload=alert(1)>",
    "script-after-text": b"see below\r\n<script>alert(1)</script>\n",
    "script-uppercase": b"note: <SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "iframe-after-text": b"log line\n<iframe src=javascript:alert(1)>",
    "svg-after-text": b"hello <svg onload=alert(1)>",
    "xml-decl-after-text": b"hello\n<?xml version='1.0'?><x/>",
    "script-at-byte-500": b"a" * 500 + b"<script>",
    "xml": b'<?xml version="1.0" encoding="UTF-8"?><order><id>1</id></order>',
    "elf": b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + os.urandom(200),
    "elf-only-magic": b"\x7fELF",
    "windows-exe": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + os.urandom(200),
    "mz-textual": b"MZ this would pass as text otherwise\n",
    "zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + os.urandom(100),
    "docx-like-zip": b"PK\x03\x04" + b"[Content_Types].xml" + os.urandom(50),
    "gzip": gzip.compress(b"hello world " * 10),
    "empty": b"",
    "latin1-text": "Caf\u00e9 cr\u00e8me, Gr\u00fc\u00dfe\n".encode("latin-1"),
    "overlong-slash": b"path \xc0\xaf etc\n",
    "surrogate": b"bad \xed\xa0\x80 text\n",
    "beyond-unicode": b"bad \xf4\x90\x80\x80 text\n",
    "truncated-sequence-at-end": b"ends in the middle \xe2\x82",
    "lone-continuation": b"a \x80 b\n",
    "nul": b"text with a \x00 in it\n",
    "escape-sequences": b"\x1b[31mred\x1b[0m log\n",
    "bell": b"ding \x07\n",
    "shebang-sh": b"#!/bin/sh\nrm -rf /\n",
    "shebang-python": b"#!/usr/bin/env python3\nimport os\n",
    "shebang-after-bom": BOM + b"#!/bin/bash\necho pwned\n",
    "utf16-text": "hello printer\n".encode("utf-16"),
    "utf16le-no-bom": "hello printer\n".encode("utf-16-le"),
    "truncated-png-signature": PNG_SIG[:6],
    "png-signature-wrong-byte": b"\x89PNG\r\n\x1a\x00" + os.urandom(100),
    "riff-wave": b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + os.urandom(40),
    "gif-bad-version": b"GIF88a" + os.urandom(50),
    "random-binary": b"\x00\x01\x02\x03" + os.urandom(1000),
}


def assert_refused(desk, fn, status=415, slug="unsupported-media-type"):
    with unchanged_db(desk):
        r = fn()
    return assert_problem(r, status, slug)


@pytest.fixture
def alice(desk):
    return client(desk, "alice")


@pytest.fixture
def ticket(desk, alice):
    return create_ticket(desk, alice)


# ---- refused types ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(REFUSED))
@pytest.mark.parametrize("how", ["raw", "multipart"])
def test_refused_type_is_415(desk, alice, ticket, how, name):
    data = REFUSED[name]
    for ctype in ("image/png", "text/plain"):
        assert_refused(desk, lambda: upload(desk, alice, ticket["id"], data, how,
                                            filename="innocent.png", ctype=ctype))
    assert_json(alice.get(desk.api("/tickets/%d" % ticket["id"])), 200)["attachments"] == []


@pytest.mark.parametrize("name", ["svg-with-script", "elf", "empty", "latin1-text"])
def test_refused_by_an_agent_too(desk, ticket, name):
    tom = client(desk, "tom")
    assert_refused(desk, lambda: upload_raw(desk, tom, ticket["id"], REFUSED[name]))


def test_refused_with_a_comment_stores_no_comment(desk, alice, ticket):
    assert_refused(desk, lambda: upload_form(desk, alice, ticket["id"], SVG_SCRIPT,
                                             filename="logo.svg", ctype="image/svg+xml",
                                             comment="my logo %s" % marker()))
    t = assert_json(alice.get(desk.api("/tickets/%d" % ticket["id"])), 200)
    assert t["comments"] == [] and t["attachments"] == []


def test_invalid_utf8_deep_in_a_large_text_is_415(desk, alice, ticket):
    # the head (first 512 bytes, first 64 KiB chunk) is fine; the file is not
    data = (b"2026-11-22 printer log line\n" * 10000) + b"\xff" + b"more\n" * 10
    assert len(data) > 200000
    for how in ("raw", "multipart"):
        assert_refused(desk, lambda: upload(desk, alice, ticket["id"], data, how))


def test_nul_deep_in_a_large_text_is_415(desk, alice, ticket):
    data = (b"x" * 300000) + b"\x00" + (b"y" * 100)
    for how in ("raw", "multipart"):
        assert_refused(desk, lambda: upload(desk, alice, ticket["id"], data, how))


def test_text_cut_inside_a_sequence_at_end_is_415(desk, alice, ticket):
    data = "\u044f".encode("utf-8") * 50000 + b"\xd1"
    for how in ("raw", "multipart"):
        assert_refused(desk, lambda: upload(desk, alice, ticket["id"], data, how))


def test_large_hostile_file_is_refused_quickly(desk, alice, ticket):
    # 8 MB of ELF: refused (415), not stored, well inside the time limit
    data = b"\x7fELF" + os.urandom(8 * 1024 * 1024)
    assert_refused(desk, lambda: upload_raw(desk, alice, ticket["id"], data))
    # the connection may be closed by the server after refusing early; a new
    # request works
    assert_json(alice.get(desk.api("/tickets/%d" % ticket["id"])), 200)


def test_allowed_after_refused_on_same_ticket(desk, alice, ticket):
    tid = ticket["id"]
    assert_refused(desk, lambda: upload_raw(desk, alice, tid, SVG_SCRIPT))
    data = png()
    uploaded(desk, upload_raw(desk, alice, tid, data), tid, data, media_type="image/png")


# ---- malformed multipart ------------------------------------------------------------

def mp_post(desk, s, tid, body, ctype):
    return s.post(aurl(desk, tid), data=body, headers={"Content-Type": ctype})


def disp(name="file", filename="a.png"):
    return b'Content-Disposition: form-data; name="%s"; filename="%s"\r\n' % (
        name.encode(), filename.encode())


def malformed_cases():
    """name -> (content type, body) for a fixed boundary B."""
    b = "sdeskB" + uuid.uuid4().hex[:12]
    B = b.encode()
    ct = "multipart/form-data; boundary=" + b
    good = png(400)
    part = disp() + b"Content-Type: image/png\r\n\r\n" + good
    whole = b"--" + B + b"\r\n" + part + b"\r\n--" + B + b"--\r\n"
    cases = {
        "no-boundary-param": ("multipart/form-data", whole),
        "empty-boundary-param": ("multipart/form-data; boundary=", whole),
        "boundary-too-long": ("multipart/form-data; boundary=" + "b" * 71,
                              b"--" + b"b" * 71 + b"\r\n" + part + b"\r\n--" + b"b" * 71
                              + b"--\r\n"),
        "duplicate-boundary-param": (ct + "; boundary=other", whole),
        "other-boundary-in-body": ("multipart/form-data; boundary=nottheone", whole),
        "truncated-no-close-delimiter": (ct, b"--" + B + b"\r\n" + part + b"\r\n"),
        "truncated-in-data": (ct, b"--" + B + b"\r\n" + part),
        "truncated-in-headers": (ct, b"--" + B + b"\r\n" + disp()[:30]),
        "truncated-close-delimiter": (ct, b"--" + B + b"\r\n" + part + b"\r\n--" + B + b"-"),
        "empty-body": (ct, b""),
        "no-delimiter-at-all": (ct, good),
        "header-block-over-8k": (ct, b"--" + B + b"\r\n" + disp()
                                 + b"X-Padding: " + b"p" * 9000 + b"\r\n\r\n" + good
                                 + b"\r\n--" + B + b"--\r\n"),
        "many-headers-over-8k": (ct, b"--" + B + b"\r\n" + disp()
                                 + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 90)
                                            for i in range(100))
                                 + b"\r\n" + good + b"\r\n--" + B + b"--\r\n"),
        "bare-lf-everywhere": (ct, whole.replace(b"\r\n", b"\n")),
        "bare-lf-in-part-headers": (ct, b"--" + B + b"\r\n" + disp().replace(b"\r\n", b"\n")
                                    + b"Content-Type: image/png\n\n" + good + b"\r\n--" + B
                                    + b"--\r\n"),
        "bare-cr-in-part-headers": (ct, b"--" + B + b"\r\n" + disp().replace(b"\r\n", b"\r")
                                    + b"\r\n" + good + b"\r\n--" + B + b"--\r\n"),
        "junk-after-delimiter": (ct, b"--" + B + b"junk\r\n" + part + b"\r\n--" + B
                                 + b"--\r\n"),
        "folded-header": (ct, b"--" + B + b"\r\n"
                          + b'Content-Disposition: form-data;\r\n name="file"; '
                            b'filename="a.png"\r\n\r\n' + good + b"\r\n--" + B + b"--\r\n"),
        "nul-in-header": (ct, b"--" + B + b"\r\n"
                          + b'Content-Disposition: form-data; name="file"; '
                            b'filename="a\x00.png"\r\n\r\n' + good + b"\r\n--" + B + b"--\r\n"),
        "no-content-disposition": (ct, b"--" + B + b"\r\nContent-Type: image/png\r\n\r\n"
                                   + good + b"\r\n--" + B + b"--\r\n"),
        "disposition-not-form-data": (ct, b"--" + B + b"\r\n"
                                      + b'Content-Disposition: attachment; name="file"; '
                                        b'filename="a.png"\r\n\r\n' + good + b"\r\n--" + B
                                      + b"--\r\n"),
        "duplicate-disposition": (ct, b"--" + B + b"\r\n" + disp() + disp()
                                  + b"\r\n" + good + b"\r\n--" + B + b"--\r\n"),
        "duplicate-name-param": (ct, b"--" + B + b"\r\n"
                                 + b'Content-Disposition: form-data; name="file"; '
                                   b'name="comment"; filename="a.png"\r\n\r\n' + good
                                 + b"\r\n--" + B + b"--\r\n"),
        "part-without-name": (ct, b"--" + B + b"\r\n"
                              + b'Content-Disposition: form-data; filename="a.png"\r\n\r\n'
                              + good + b"\r\n--" + B + b"--\r\n"),
        "filename-star-latin1": (ct, b"--" + B + b"\r\n"
                                 + b"Content-Disposition: form-data; name=\"file\"; "
                                   b"filename*=ISO-8859-1''caf%E9.png\r\n\r\n" + good
                                 + b"\r\n--" + B + b"--\r\n"),
        "filename-star-nul": (ct, b"--" + B + b"\r\n"
                              + b"Content-Disposition: form-data; name=\"file\"; "
                                b"filename*=UTF-8''a%00.png\r\n\r\n" + good
                              + b"\r\n--" + B + b"--\r\n"),
        "only-close-delimiter": (ct, b"--" + B + b"--\r\n"),
    }
    return cases


MALFORMED = sorted(malformed_cases())


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_multipart_is_400(desk, alice, ticket, name):
    ctype, body = malformed_cases()[name]
    with unchanged_db(desk):
        r = mp_post(desk, alice, ticket["id"], body, ctype)
    assert_problem(r, 400)


def two_files(b):
    return form([file_part(png(), "a.png"), file_part(png(), "b.png")], b)


FORM_CASES = {
    "two-file-parts": lambda b: two_files(b),
    "two-file-parts-same-bytes": lambda b: form([file_part(PNG_SIG + b"x" * 50, "a.png"),
                                                 file_part(PNG_SIG + b"x" * 50, "a.png")], b),
    "no-file-part": lambda b: form([text_part("comment", "where is my file?")], b),
    "other-part-name": lambda b: form([file_part(png(), "a.png", name="attachment")], b),
    "extra-text-part": lambda b: form([file_part(png(), "a.png"),
                                       text_part("subject", "hi")], b),
    "extra-file-part-other-name": lambda b: form([file_part(png(), "a.png"),
                                                  file_part(png(), "b.png", name="file2")], b),
    "file-part-name-case": lambda b: form([file_part(png(), "a.png", name="File")], b),
    "comment-as-a-file": lambda b: form([file_part(png(), "a.png"),
                                         file_part(b"a comment", "c.txt", name="comment")], b),
}


@pytest.mark.parametrize("name", sorted(FORM_CASES))
def test_bad_form_parts_are_400(desk, alice, ticket, name):
    b = new_boundary()
    body = FORM_CASES[name](b)
    with unchanged_db(desk):
        r = mp_post(desk, alice, ticket["id"], body, "multipart/form-data; boundary=" + b)
    assert_problem(r, 400)
    t = assert_json(alice.get(desk.api("/tickets/%d" % ticket["id"])), 200)
    assert t["attachments"] == [] and t["comments"] == []


def test_hostile_file_in_second_place_still_415_or_400(desk, alice, ticket):
    # a good file followed by an executable in a second file part: refused
    b = new_boundary()
    body = form([file_part(png(), "a.png"), file_part(REFUSED["elf"], "b.png")], b)
    with unchanged_db(desk):
        r = mp_post(desk, alice, ticket["id"], body, "multipart/form-data; boundary=" + b)
    assert r.status_code in (400, 415), describe(r)
    assert_problem(r, r.status_code)


def test_filename_param_with_multipart_is_400(desk, alice, ticket):
    data = png()
    b = new_boundary()
    with unchanged_db(desk):
        r = alice.post(aurl(desk, ticket["id"]), params={"filename": "x.png"},
                       data=form([file_part(data, "a.png")], b),
                       headers={"Content-Type": "multipart/form-data; boundary=" + b})
    assert_problem(r, 400)


@pytest.mark.parametrize("qs", ["foo=1", "filename=a&filename=b", "name=x.png",
                                "filename=%ff.png"])
def test_bad_query_is_400(desk, alice, ticket, qs):
    with unchanged_db(desk):
        r = alice.post(aurl(desk, ticket["id"]) + "?" + qs, data=png())
    assert_problem(r, 400)


def test_multipart_mixed_is_refused(desk, alice, ticket):
    b = new_boundary()
    with unchanged_db(desk):
        r = mp_post(desk, alice, ticket["id"], form([file_part(png())], b),
                    "multipart/mixed; boundary=" + b)
    assert r.status_code in (400, 415), describe(r)
    assert_problem(r, r.status_code)


def test_preamble_and_epilogue_are_ignored(desk, alice, ticket):
    tid = ticket["id"]
    data = png()
    b = new_boundary()
    body = (b"This is the preamble.\r\n" + form([file_part(data, "p.png")], b)
            + b"This is the epilogue.\r\n")
    r = mp_post(desk, alice, tid, body, "multipart/form-data; boundary=" + b)
    uploaded(desk, r, tid, data, media_type="image/png", filename="p.png")


def test_quoted_boundary_and_case_insensitive_type(desk, alice, ticket):
    tid = ticket["id"]
    data = png()
    b = new_boundary()
    r = mp_post(desk, alice, tid, form([file_part(data, "q.png")], b),
                'Multipart/Form-Data; charset=utf-8; boundary="%s"' % b)
    uploaded(desk, r, tid, data, filename="q.png")


def test_boundary_lookalikes_in_file_data_are_data(desk, alice, ticket):
    # the boundary text without the leading CRLF, or with a bare LF, is data
    tid = ticket["id"]
    b = new_boundary()
    B = b.encode()
    data = (PNG_SIG + os.urandom(50) + b"--" + B + b"\r\n" + os.urandom(20)
            + b"\n--" + B + b"--\r\n" + os.urandom(20) + b"\r--" + B + os.urandom(20))
    r = mp_post(desk, alice, tid, form([file_part(data, "tricky.png")], b),
                "multipart/form-data; boundary=" + b)
    a = uploaded(desk, r, tid, data, media_type="image/png")
    g = alice.get(aurl(desk, tid, a["id"]))
    assert g.status_code == 200 and g.content == data


def test_file_part_with_crlf_at_end_of_data(desk, alice, ticket):
    tid = ticket["id"]
    data = text() + b"\r\n\r\n"
    r = upload_form(desk, alice, tid, data, filename="crlf.txt")
    a = uploaded(desk, r, tid, data)
    assert alice.get(aurl(desk, tid, a["id"])).content == data


def test_comment_too_long_or_invalid_is_rejected(desk, alice, ticket):
    tid = ticket["id"]
    for comment in (b"bad \xff utf-8", b"bell \x07 bell", b"a" * 20001):
        b = new_boundary()
        body = form([file_part(png(), "a.png"), text_part("comment", comment)], b)
        with unchanged_db(desk):
            r = mp_post(desk, alice, tid, body, "multipart/form-data; boundary=" + b)
        assert r.status_code in (400, 413, 422), describe(r)
        assert_problem(r, r.status_code)


def test_many_parts_are_refused(desk, alice, ticket):
    b = new_boundary()
    parts = [text_part("comment", "c%d" % i) for i in range(40)] + [file_part(png())]
    with unchanged_db(desk):
        r = mp_post(desk, alice, ticket["id"], form(parts, b),
                    "multipart/form-data; boundary=" + b)
    assert r.status_code in (400, 413), describe(r)
    assert_problem(r, r.status_code)


# ---- the wire: lying lengths, slow and cut bodies ------------------------------------

def raw_request(desk, head, body=b"", read_timeout=15):
    """Send bytes on a fresh socket; return the status code of the answer
    (None if the connection closed without one)."""
    host, port = desk.url.split("//", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=read_timeout) as so:
        so.sendall(head + body)
        try:
            so.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        buf = b""
        try:
            while b"\r\n" not in buf:
                chunk = so.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except socket.timeout:
            return None
    if not buf.startswith(b"HTTP/"):
        return None
    return int(buf.split(b" ", 2)[1])


def basic(user, password):
    return base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


@pytest.mark.log_allow(r"(?i)timeout|timed out|could not be read|AH01382|AH00567|AH01587")
def test_body_shorter_than_content_length_stores_nothing(desk, alice, ticket):
    data = png(1000)
    path = "/sdesk/api/v1/tickets/%d/attachments" % ticket["id"]
    head = ("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n" % (path, desk.url.split("//", 1)[1],
                                           basic("alice", "alice-secret"), 5000)).encode()
    with unchanged_db(desk):
        status = raw_request(desk, head, data)
    assert status is None or status >= 400, status


def test_content_length_over_limit_refused_before_body(desk, alice, ticket):
    # 413 on the declared length alone: the server answers without the body
    path = "/sdesk/api/v1/tickets/%d/attachments" % ticket["id"]
    head = ("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n" % (path, desk.url.split("//", 1)[1],
                                           basic("alice", "alice-secret"),
                                           10 * 1024 * 1024 * 1024)).encode()
    with unchanged_db(desk):
        host, port = desk.url.split("//", 1)[1].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=15) as so:
            so.sendall(head + PNG_SIG)
            buf = so.recv(4096)
    assert buf.startswith(b"HTTP/1.1 413"), buf[:200]


@pytest.mark.parametrize("cl", ["-1", "abc", "1e3", "99999999999999999999999"])
def test_bad_content_length_is_refused(desk, alice, ticket, cl):
    path = "/sdesk/api/v1/tickets/%d/attachments" % ticket["id"]
    head = ("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"
            "Content-Length: %s\r\nConnection: close\r\n\r\n"
            % (path, desk.url.split("//", 1)[1], basic("alice", "alice-secret"), cl)).encode()
    with unchanged_db(desk):
        status = raw_request(desk, head, PNG_SIG + b"x" * 10)
    assert status is not None and 400 <= status < 500, status

