"""Every directive of the command table is documented, with its default, in
conf/sdesk.conf and in the README (and nothing documented is missing from
the table), as mod_auth_openidc keeps its directive surface honest."""
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*parts):
    with open(os.path.join(REPO, *parts), encoding="utf-8") as f:
        return f.read()


def table_names():
    names = set(re.findall(r'#define SDESK_\w+\s+"(Sdesk\w+)"', read("mod_sdesk", "sdesk_config.h")))
    assert len(names) >= 20, names
    return names


def test_conf_example_lists_every_directive():
    conf = read("conf", "sdesk.conf")
    documented = set(re.findall(r"^#?\s*(Sdesk\w+)\b", conf, re.M))
    table = table_names()
    assert table - documented == set(), "missing from conf/sdesk.conf"
    assert documented - table == set(), "conf/sdesk.conf names unknown directives"


def test_readme_table_lists_every_directive():
    readme = read("README.md")
    documented = set(re.findall(r"^\| `(Sdesk\w+)", readme, re.M))
    table = table_names()
    assert table - documented == set(), "missing from the README's directive tables"
    assert documented - table == set(), "README names unknown directives"


def test_every_directive_is_registered():
    cmds = read("mod_sdesk", "sdesk_config.c")
    for macro in re.findall(r'#define (SDESK_\w+)\s+"Sdesk\w+"', read("mod_sdesk", "sdesk_config.h")):
        assert re.search(r"AP_INIT_\w+\(%s\b" % macro, cmds), macro
