"""Issue 7, the page widget's server side: the SDESK_WIDGET output filter
(SdeskWidget On in a <Location> of an existing site) puts exactly one
<script type="module" src="{base}/ui/widget.js"></script> before </head>
(else </body>, else at the end) of text/html responses, also when the tag
arrives split across buckets; it leaves alone other types, responses
compressed before it, pages that already carry the script, and headers
such as the page's own Content-Security-Policy. (The dialog itself is the
web UI's, tested in a browser.) And its configuration errors at
configtest."""

import gzip
import os
import re
import shutil

import pytest

import harness

TAG = '<script type="module" src="/sdesk/ui/widget.js"></script>'
CSP = "default-src 'self'; script-src 'self'; object-src 'none'"
# file reads without mmap come in buckets of 8000 bytes (APR_BUCKET_BUFF_SIZE)
BUCKET = 8000

PAGE = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"sdesk-encounter\" content=\"ENC-42\">\n<title>Ward 4</title>\n"
        "</head>\n<body data-sdesk-device=\"MON-4\">\n<header>Ward</header>\n"
        "<p>Beds</p>\n</body>\n</html>\n")


def split_page(at):
    """A page whose "</head>" starts at byte `at`."""
    head = "<!DOCTYPE html><html><head><title>t</title><!-- "
    pad = at - len(head) - len(" -->")
    return head + "x" * pad + " -->" + "</head><body><p>after</p></body></html>\n"


SPLITS = list(range(BUCKET - 7, BUCKET + 1)) + [2 * BUCKET - 3, 3 * BUCKET + 5]


def widget_conf():
    libexec = harness.apxs_libexecdir()
    return """
<IfModule !headers_module>
LoadModule headers_module %(lib)s/mod_headers.so
</IfModule>
<IfModule !deflate_module>
LoadModule deflate_module %(lib)s/mod_deflate.so
</IfModule>
AddEncoding gzip .gz
<Location /site>
    SdeskWidget On
    SdeskWidgetBase /sdesk
</Location>
<Location /site/split>
    EnableMMAP Off
    EnableSendfile Off
</Location>
<Location /site/csp>
    Header always set Content-Security-Policy "%(csp)s"
</Location>
<Location /site/deflate>
    SetOutputFilter DEFLATE
</Location>
<Location /site/double>
    SetOutputFilter SDESK_WIDGET
</Location>
<Location /site/off>
    SdeskWidget Off
</Location>
""" % {"lib": libexec, "csp": CSP}


def write(root, rel, data):
    path = os.path.join(root, "htdocs", "site", rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


@pytest.fixture(scope="module")
def site(desk):
    root = desk.httpd.root
    shutil.rmtree(os.path.join(root, "htdocs", "site"), ignore_errors=True)
    write(root, "index.html", PAGE)
    write(root, "upper.html", PAGE.replace("</head>", "</HEAD >"))
    write(root, "nohead.html", "<html><body><header>h</header><p>x</p></body></html>\n")
    write(root, "bare.html", "<p>Just a fragment, no head, no body.</p>\n")
    write(root, "has.html", PAGE.replace("</head>", TAG + "\n</head>"))
    write(root, "notes.txt", "</head> is not HTML here\n")
    write(root, "csp/page.html", PAGE)
    write(root, "deflate/page.html", PAGE + "<!-- %s -->\n" % ("padding " * 200))
    write(root, "double/page.html", PAGE)
    write(root, "off/page.html", PAGE)
    write(root, "pre.html.gz", gzip.compress(PAGE.encode()))
    for at in SPLITS:
        write(root, "split/at%d.html" % at, split_page(at))
    with desk.httpd_conf(widget_conf()):
        yield desk.url + "/site/"


def get(desk, url, **kw):
    s = harness.make_session(desk.url)
    try:
        return s.get(url, **kw)
    finally:
        s.close()


def with_tag(page, before):
    i = page.index(before)
    return page[:i] + TAG + page[i:]


# ---- where the tag goes -------------------------------------------------------------

def test_static_page_gets_one_tag_before_head_end(desk, site):
    r = get(desk, site + "index.html")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.text == with_tag(PAGE, "</head>")
    assert r.text.count("widget.js") == 1
    # the length changed: none, or the right one
    cl = r.headers.get("Content-Length")
    assert cl is None or int(cl) == len(r.content), r.headers
    etag = r.headers.get("ETag")
    assert etag is None or etag.startswith("W/"), r.headers


def test_head_end_in_any_case(desk, site):
    page = PAGE.replace("</head>", "</HEAD >")
    assert get(desk, site + "upper.html").text == with_tag(page, "</HEAD >")


def test_before_body_end_without_head_and_header_is_not_head(desk, site):
    r = get(desk, site + "nohead.html")
    assert r.text == "<html><body><header>h</header><p>x</p>" + TAG + "</body></html>\n"


def test_at_the_end_without_head_or_body(desk, site):
    assert get(desk, site + "bare.html").text == \
        "<p>Just a fragment, no head, no body.</p>\n" + TAG


@pytest.mark.parametrize("at", SPLITS)
def test_head_end_split_across_buckets(desk, site, at):
    page = split_page(at)
    assert page.index("</head>") == at
    r = get(desk, site + "split/at%d.html" % at)
    assert r.status_code == 200
    assert r.text == with_tag(page, "</head>"), (len(r.text), r.text[at - 20:at + 80])


def test_head_request(desk, site):
    s = harness.make_session(desk.url)
    r = s.head(site + "index.html")
    s.close()
    assert r.status_code == 200
    cl = r.headers.get("Content-Length")
    assert cl is None or int(cl) == len(with_tag(PAGE, "</head>").encode()), r.headers


# ---- what is left alone ---------------------------------------------------------------

def test_page_with_the_script_already(desk, site):
    page = PAGE.replace("</head>", TAG + "\n</head>")
    r = get(desk, site + "has.html")
    assert r.text == page and r.text.count("widget.js") == 1


def test_other_types_untouched(desk, site):
    r = get(desk, site + "notes.txt")
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.text == "</head> is not HTML here\n"
    assert r.headers.get("Content-Length") == str(len(r.content))


def test_compressed_before_the_filter_untouched(desk, site):
    r = get(desk, site + "pre.html.gz", headers={"Accept-Encoding": "gzip"}, stream=True)
    raw = r.raw.read()
    assert r.headers.get("Content-Encoding") == "gzip", r.headers
    assert gzip.decompress(raw).decode() == PAGE


def test_compressed_after_the_filter_has_the_tag(desk, site):
    r = get(desk, site + "deflate/page.html", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("Content-Encoding") == "gzip", r.headers
    page = PAGE + "<!-- %s -->\n" % ("padding " * 200)
    assert r.text == with_tag(page, "</head>")


def test_page_keeps_its_own_csp(desk, site):
    r = get(desk, site + "csp/page.html")
    assert r.headers.get("Content-Security-Policy") == CSP
    assert r.text == with_tag(PAGE, "</head>")
    # the script is the desk's own, from the same origin: script-src 'self' lets it run
    m = re.search(r'<script type="module" src="([^"]+)"></script>', r.text)
    assert m and m.group(1).startswith("/")
    assert "<script>" not in r.text


def test_filter_added_twice_inserts_once(desk, site):
    r = get(desk, site + "double/page.html")
    assert r.text == with_tag(PAGE, "</head>")


def test_off_in_a_sub_location(desk, site):
    assert get(desk, site + "off/page.html").text == PAGE


def test_desk_responses_untouched(desk, site):
    r = get(desk, desk.api("/meta"))
    assert "widget.js" not in r.text


# ---- configuration --------------------------------------------------------------------

def test_configtest_needs_a_base_with_several_desks(configtest):
    # the test config has /sdesk, /altdesk and /noauth
    res = configtest("<Location /site>\n    SdeskWidget On\n</Location>")
    rc, out = res
    assert rc != 0, out
    assert "SdeskWidget On (line %d of %s) needs SdeskWidgetBase" % (res.extra_line + 1,
                                                                     res.path) in out, out
    res = configtest("<Location /site>\n    SdeskWidget On\n    SdeskWidgetBase /sdesk\n"
                     "</Location>")
    assert res.rc == 0, res.output
    res = configtest("SdeskWidgetBase /sdesk\n<Location /site>\n    SdeskWidget On\n"
                     "</Location>\n<Location /other>\n    SdeskWidget Off\n</Location>")
    assert res.rc == 0, res.output


@pytest.mark.parametrize("value", ["sdesk", "/sd esk", "/sdesk?x", '/a"b', "/a<b"])
def test_configtest_bad_widget_base(configtest, value):
    res = configtest("<Location /site>\n    SdeskWidgetBase %s\n</Location>"
                     % ('"%s"' % value if " " in value else value))
    assert res.rc != 0, res.output
    assert "SdeskWidgetBase" in res.output and "is not a URL path" in res.output, res.output


# ---- the dialog in a browser (the script from the web UI) ------------------------

def test_widget_dialog_in_chromium(desk, site):
    """A plain page gets a working "Report a problem" button whose ticket
    carries the page's URL, encounter id and device; also under the page's
    own CSP; axe-core clean (tests/browser/widget.mjs)."""
    from test_810_browser import run_scenario
    ids = run_scenario(desk, "widget", SITE_URL=site)
    s = harness.make_session(desk.url, "alice", "alice-secret")
    try:
        t = s.get(desk.api("/tickets/%d" % ids["TICKET"][0])).json()
    finally:
        s.close()
    assert t["encounter_id"] == "ENC-42" and t["device"]["id"] == "MON-4", t
    assert t["page_url"] == site + "index.html", t["page_url"]
    assert t["priority"] == "high" and t["category"] == "clinical-workflow"
    assert len(t["attachments"]) == 1 and t["attachments"][0]["media_type"] == "image/png"
