"""Configuration: `apache2 -t` accepts a good config, and names the directive,
the bad value and the line of every bad one. No servers are started except
by the startcheck tests, which start httpd (without slapd) to see whether it
refuses to run."""

import os
import re

import pytest

import harness

DIR_BASE = "dc=sdesk,dc=test?uid?sub?(objectClass=inetOrgPerson)"


def syntax_error(res):
    """(line number, message) of httpd's AH00526 report, or fail."""
    m = re.search(r"AH00526: Syntax error on line (\d+) of ([^:\n]+):\n(.*)", res.output, re.S)
    assert m, "no AH00526 syntax error in the output:\n" + res.output
    assert m.group(2) == res.path, res.output
    return int(m.group(1)), m.group(3).strip()


def assert_rejected(res, directive, value, line):
    rc, out = res
    assert rc != 0, "apache2 -t accepted it:\n" + out
    n, message = syntax_error(res)
    assert n == line, "error reported on line %d, expected %d:\n%s" % (n, line, out)
    assert directive in message, out
    if value is not None:
        assert value in message, "the message does not quote %r:\n%s" % (value, out)


# ---- good configurations ---------------------------------------------------------

def test_template_config_is_ok(configtest):
    rc, out = configtest()
    assert rc == 0, out
    assert "Syntax OK" in out


ALL_DEFAULTS = """\
SdeskTenantAttribute o
SdeskNameAttribute displayName
SdeskMailAttribute mail
SdeskDirectoryCacheTTL 300
SdeskDirectoryNegativeTTL 60
SdeskDirectoryCacheSize 10000
SdeskDirectoryTimeout 2
SdeskEntryTier 2
SdeskPriorityRule patient-safety single critical
SdeskPriorityRule patient-safety multiple critical
SdeskPriorityRule patient-safety all critical
SdeskPriorityRule job-stopped single high
SdeskPriorityRule job-stopped multiple urgent
SdeskPriorityRule job-stopped all urgent
SdeskPriorityRule function-affected single high
SdeskPriorityRule function-affected multiple high
SdeskPriorityRule function-affected all urgent
SdeskPriorityRule not-blocking single normal
SdeskPriorityRule not-blocking multiple normal
SdeskPriorityRule not-blocking all normal
SdeskCategories clinical-workflow device training configuration access bug outage other
SdeskColleaguesVisible Off
SdeskMaxBody 65536
SdeskMaxDepth 32
SdeskMaxSubject 200
SdeskMaxDescription 20000
SdeskMaxField 200
SdeskRetryAfter 5
"""


def test_every_directive_with_its_default_is_ok(configtest):
    rc, out = configtest(ALL_DEFAULTS)
    assert rc == 0, out


@pytest.mark.parametrize("extra", [
    "SdeskEntryTier 1",
    "SdeskEntryTier 4",
    "SdeskColleaguesVisible On",
    "SdeskPriorityRule not-blocking all high",
    "SdeskCategories network printing other",
    "SdeskAgentGroup 4 \"cn=devs,ou=groups,dc=sdesk,dc=test\"",
    "SdeskDirectoryURL \"ldaps://ldap.example:636/" + DIR_BASE + "\"",
    "SdeskDirectoryCacheTTL 1",
])
def test_good_values_are_ok(configtest, extra):
    rc, out = configtest(extra)
    assert rc == 0, out


def test_directives_in_a_virtual_host_are_ok(configtest):
    port = harness.free_port()
    rc, out = configtest("<VirtualHost 127.0.0.1:%d>\n%s</VirtualHost>" % (port, ALL_DEFAULTS))
    assert rc == 0, out


def test_shipped_sdesk_conf_parses(configtest):
    conf = os.path.join(harness.REPO, "conf", "sdesk.conf")
    rc, out = configtest("Include %s" % conf)
    assert rc == 0, out


# ---- bad values: directive, value and line ---------------------------------------------

BAD = [
    # (config line, directive, value the message must quote or None)
    ("SdeskEntryTier 7", "SdeskEntryTier", "7"),
    ("SdeskEntryTier 0", "SdeskEntryTier", "0"),
    ("SdeskEntryTier abc", "SdeskEntryTier", "abc"),
    ("SdeskPriorityRule job-stuck single high", "SdeskPriorityRule", "job-stuck"),
    ("SdeskPriorityRule job-stopped everyone high", "SdeskPriorityRule", "everyone"),
    ("SdeskPriorityRule job-stopped single whenever", "SdeskPriorityRule", "whenever"),
    # wrong number of words: the message names the directive
    ("SdeskPriorityRule job-stopped single", "SdeskPriorityRule", None),
    ("SdeskPriorityRule job-stopped single high now", "SdeskPriorityRule", None),
    ("SdeskPriorityRule", "SdeskPriorityRule", None),
    ('SdeskDirectoryURL "http://x"', "SdeskDirectoryURL", "http://x"),
    ('SdeskDirectoryURL "ldap://127.0.0.1:notaport/dc=sdesk,dc=test"', "SdeskDirectoryURL",
     "ldap://127.0.0.1:notaport/dc=sdesk,dc=test"),
    ('SdeskDirectoryURL "ldap://127.0.0.1/dc=sdesk,dc=test?uid?sideways"', "SdeskDirectoryURL",
     "ldap://127.0.0.1/dc=sdesk,dc=test?uid?sideways"),
    ("SdeskDirectoryTimeout -1", "SdeskDirectoryTimeout", "-1"),
    ("SdeskDirectoryTimeout abc", "SdeskDirectoryTimeout", "abc"),
    ("SdeskDirectoryCacheTTL abc", "SdeskDirectoryCacheTTL", "abc"),
    ("SdeskMaxBody 0", "SdeskMaxBody", "0"),
    ("SdeskMaxBody abc", "SdeskMaxBody", "abc"),
    ("SdeskMaxSubject 0", "SdeskMaxSubject", "0"),
    ('SdeskCategories device "Bad Cat!"', "SdeskCategories", "Bad Cat!"),
    ('SdeskAgentGroup 5 "cn=tier5,ou=groups,dc=sdesk,dc=test"', "SdeskAgentGroup", "5"),
    # On/Off directives get httpd's own "must be On or Off", without the value
    ("SdeskColleaguesVisible maybe", "SdeskColleaguesVisible", None),
]


@pytest.mark.parametrize("line,directive,value", BAD, ids=[b[0] for b in BAD])
def test_bad_value_names_directive_value_and_line(configtest, line, directive, value):
    # a few good lines first, so the bad one is not the first of the block
    res = configtest("SdeskEntryTier 2\nSdeskMaxField 200\n" + line)
    assert_rejected(res, directive, value, res.extra_line + 2)


def test_bad_value_in_a_virtual_host_names_its_line(configtest):
    port = harness.free_port()
    res = configtest("<VirtualHost 127.0.0.1:%d>\n    ServerName v.test\n"
                     "    SdeskEntryTier 9\n</VirtualHost>" % port)
    assert_rejected(res, "SdeskEntryTier", "9", res.extra_line + 2)


def test_bad_value_inside_location_is_refused(configtest):
    # server-wide directives are not allowed per directory
    res = configtest("<Location /x>\n    SdeskEntryTier 2\n</Location>")
    rc, out = res
    assert rc != 0, out
    n, message = syntax_error(res)
    assert n == res.extra_line + 1, out
    assert "SdeskEntryTier" in message, out


# ---- what a running desk needs ----------------------------------------------------------

def refused_output(httpd_conf, omit):
    """Output of apache2 -t, or of a start attempt when -t passes; fails when
    httpd accepts the config and starts."""
    rc, out = httpd_conf.configtest(omit=omit)
    if rc != 0:
        return out
    rc, out2 = httpd_conf.startcheck(omit=omit)
    assert rc != 0, ("httpd started without %s (apache2 -t said:\n%s)\nstart output:\n%s"
                     % (" and ".join(omit), out, out2))
    return out + out2


def test_missing_directory_url_is_named(httpd_conf):
    out = refused_output(httpd_conf, ["SdeskDirectoryURL"])
    assert "SdeskDirectoryURL" in out, out


def test_missing_dbdriver_is_named(httpd_conf):
    out = refused_output(httpd_conf, ["DBDriver", "DBDParams"])
    assert "DBDriver" in out, out
