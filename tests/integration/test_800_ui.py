"""The web pages over HTTP (issue 6): the shell page for every route, its
strict CSP, the embedded files with ETags, the message catalogue, and static
checks of the JavaScript (values only ever inserted as text). What the pages
do in a browser is test_810_browser.py."""

import json
import os
import re

import pytest

from sdesk_util import assert_problem, client, describe, media_type, unchanged_db

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEB = os.path.join(ROOT, "web")
PAGES = ["/", "/new", "/queue", "/known-issues", "/reports", "/tickets/1", "/tickets/987654321"]
pytestmark = pytest.mark.sqlite_only   # no database in these paths; the API runs on both


def web_files():
    out = []
    for d, _, files in os.walk(WEB):
        for f in files:
            if not f.startswith("."):
                out.append(os.path.relpath(os.path.join(d, f), WEB))
    return sorted(out)


def csp_directives(resp):
    csp = resp.headers.get("Content-Security-Policy", "")
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("path", PAGES)
def test_page_shell(desk, path):
    r = client(desk, "alice").get(desk.base + path)
    assert r.status_code == 200, describe(r)
    assert media_type(r) == "text/html"
    html = r.text
    assert '<meta name="sdesk-base" content="/sdesk">' in html
    assert '<script type="module" src="/sdesk/ui/app.js"></script>' in html
    assert 'lang="en"' in html and "<title>Support desk</title>" in html
    assert "{{" not in html, "unfilled placeholder"
    # no inline code or styles anywhere: every <script> has a src
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), html
    assert not re.search(r"\son[a-z]+\s*=", html, re.I) and "style=" not in html and "<style" not in html
    d = csp_directives(r)
    assert d.get("default-src") == ["'none'"] and d.get("script-src") == ["'self'"], d
    assert d.get("style-src") == ["'self'"] and d.get("frame-ancestors") == ["'none'"], d
    assert "'unsafe-inline'" not in r.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in r.headers["Content-Security-Policy"]
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert "private" in r.headers.get("Cache-Control", "")


def test_page_head(desk):
    r = client(desk, "alice").head(desk.base + "/new")
    assert r.status_code == 200 and r.text == "" and int(r.headers["Content-Length"]) > 200


@pytest.mark.parametrize("path", ["/tickets/0", "/tickets/01", "/tickets/abc", "/tickets/1/x",
                                  "/nope", "/new/", "/ui/", "/ui/nope.js", "/ui/i18n/xx.json",
                                  "/index.html", "/ui/../index.html"])
def test_not_a_page(desk, path):
    r = client(desk, "alice").get(desk.base + path)
    assert_problem(r, 404, "not-found")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/new", "/ui/app.js"])
def test_pages_are_read_only(desk, method, path):
    s = client(desk, "alice")
    with unchanged_db(desk):
        r = s.request(method, desk.base + path, data=b"{}", headers={"Content-Type": "application/json"})
    assert_problem(r, 405, "method-not-allowed")
    assert r.headers.get("Allow") == "GET, HEAD, OPTIONS", describe(r)


@pytest.mark.parametrize("rel", web_files())
def test_files_served_as_in_the_repository(desk, rel):
    s = client(desk, "alice")
    if rel == "index.html":          # the shell: only through the page routes
        assert_problem(s.get(desk.base + "/" + rel), 404)
        return
    r = s.get(desk.base + "/" + rel)
    assert r.status_code == 200, describe(r)
    with open(os.path.join(WEB, rel), "rb") as f:
        assert r.content == f.read()
    ext = rel.rsplit(".", 1)[-1]
    assert media_type(r) == {"js": "text/javascript", "css": "text/css", "json": "application/json",
                             "svg": "image/svg+xml"}[ext], describe(r)
    etag = r.headers.get("ETag", "")
    assert re.match(r'^"[0-9a-f]{20}"$', etag), etag
    assert r.headers.get("Cache-Control") == "no-cache"
    again = s.get(desk.base + "/" + rel, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"", describe(again)
    other = s.get(desk.base + "/" + rel, headers={"If-None-Match": '"0000"'})
    assert other.status_code == 200


def test_language_negotiation(desk):
    s = client(desk, "alice")
    for al in ["ru-RU,ru;q=0.9", "de", "en-GB,en;q=0.8", "*", "en;q=0, ru", "garbage;;q=x,,"]:
        r = s.get(desk.base + "/", headers={"Accept-Language": al})
        assert r.status_code == 200 and 'lang="en"' in r.text, al  # only English exists yet
        assert "Accept-Language" in r.headers.get("Vary", "")


# ---- static checks of the pages' code and catalogue --------------------------

def js_sources():
    out = {}
    for rel in web_files():
        if rel.endswith(".js"):
            with open(os.path.join(WEB, rel), encoding="utf-8") as f:
                out[rel] = f.read()
    return out


def catalogue():
    with open(os.path.join(WEB, "ui", "i18n", "en.json"), encoding="utf-8") as f:
        return json.load(f)


def test_no_html_sinks_in_the_pages():
    """Values from the API become text nodes: no HTML parsing sinks at all."""
    bad = re.compile(r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(")
    for rel, src in js_sources().items():
        for n, line in enumerate(src.splitlines(), 1):
            assert not bad.search(line), "%s:%d: %s" % (rel, n, line.strip())


def test_every_message_key_exists():
    cat = catalogue()
    used = set()
    for src in js_sources().values():
        used |= set(re.findall(r"\bt\('([a-z0-9_.-]+)'", src))
    with open(os.path.join(WEB, "index.html"), encoding="utf-8") as f:
        used |= set(re.findall(r"\{\{t:([a-z0-9_.-]+)\}\}", f.read()))
    missing = sorted(k for k in used if k not in cat)
    assert not missing, "keys used but not in en.json: %s" % missing
    assert len(used) > 150


def test_every_vocabulary_value_has_words(desk):
    """Each value the desk serves in /meta has a catalogue entry (and the
    matrix wording for urgencies, impacts and priorities)."""
    cat = catalogue()
    meta = client(desk, "alice").get(desk.api("/meta")).json()
    want = []
    for kind, values in (("category", meta["categories"]), ("urgency", meta["urgencies"]),
                         ("impact", meta["impacts"]), ("priority", meta["priorities"]),
                         ("status", meta["statuses"]), ("environment", meta["environments"]),
                         ("tier", meta["tiers"]), ("urgency_hint", meta["urgencies"]),
                         ("impact_hint", meta["impacts"]), ("priority_hint", meta["priorities"])):
        want += ["%s.%s" % (kind, v) for v in values]
    want += ["sla.ok", "sla.at-risk", "sla.breached"]
    missing = [k for k in want if k not in cat]
    assert not missing, missing


def test_catalogue_placeholders_and_plurals():
    for key, val in catalogue().items():
        forms = val.values() if isinstance(val, dict) else [val]
        if isinstance(val, dict):
            assert "other" in val and set(val) <= {"zero", "one", "two", "few", "many", "other"}, key
        for v in forms:
            assert isinstance(v, str), key
            assert "<" not in v and ">" not in v, "markup in a message: %s" % key
            assert re.fullmatch(r"([^{}]|\{[a-z_]+\})*", v), "bad placeholder in %s: %r" % (key, v)
