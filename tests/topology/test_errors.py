"""Bad topology input: one clear message per problem, naming the file, line, column and a fix.

Line and column numbers are counted by hand from the YAML written in each test (1-based; the
column is where the offending value starts).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lyncpki.topology import TopologyError, TopologyIssue, load_topology, load_topology_text

# A valid topology; the line numbers on the right are what the tests below rely on.
VALID = """\
sip_domains: [corpmail.se, partner.no]
simple_urls:
  meet: [meet.corpmail.se, meet.partner.no]
  dialin: dialin.corpmail.se
sites:
  - name: Stockholm
    pools:
      - role: front_end
        fqdn: pool.ad.corpmail.se
        servers: [fe1.ad.corpmail.se, fe2.ad.corpmail.se]
        web_services: {external: web.corpmail.se}
      - role: edge
        fqdn: edgepool.ad.corpmail.se
        external: {access: sip.corpmail.se, webconf: webconf.corpmail.se, av: av.corpmail.se}
"""
#  1 sip_domains
#  2 simple_urls:
#  3   meet
#  4   dialin
#  5 sites:
#  6   - name
#  7     pools:
#  8       - role: front_end
#  9         fqdn: pool.ad.corpmail.se
# 10         servers
# 11         web_services
# 12       - role: edge
# 13         fqdn: edgepool.ad.corpmail.se
# 14         external


def edited(replace: dict[int, str] | None = None, append: str = "") -> str:
    """VALID with some lines (1-based) replaced and `append` (verbatim) after line 14."""
    lines = VALID.splitlines()
    for number, text in (replace or {}).items():
        lines[number - 1] = text
    return "\n".join(lines) + "\n" + append


def problems(text: str, source: str = "topology.yaml") -> TopologyError:
    with pytest.raises(TopologyError) as caught:
        load_topology_text(text, source)
    return caught.value


def only(error: TopologyError) -> TopologyIssue:
    assert len(error.issues) == 1, str(error)
    return error.issues[0]


def test_valid_topology_loads() -> None:
    topology = load_topology_text(VALID, "topology.yaml")
    assert topology.sip_domains == ["corpmail.se", "partner.no"]
    assert [p.fqdn for _, p in topology.pools()] == [
        "pool.ad.corpmail.se",
        "edgepool.ad.corpmail.se",
    ]


def test_one_trailing_dot_is_the_root() -> None:
    text = VALID.replace("fqdn: pool.ad.corpmail.se", "fqdn: pool.ad.corpmail.se.")
    assert "pool.ad.corpmail.se." in text
    topology = load_topology_text(text, "topology.yaml")
    assert next(p.fqdn for _, p in topology.pools()) == "pool.ad.corpmail.se"


# (lines replaced, appended text) -> (field, line, column, message part, fix part)
CASES = {
    "short name": (
        {9: "        fqdn: pool01"},
        "",
        ("sites[0].pools[0].fqdn", 9, 15, "'pool01' is a short name", "fully qualified"),
    ),
    "underscore": (
        {9: "        fqdn: pool_01.ad.corpmail.se"},
        "",
        ("sites[0].pools[0].fqdn", 9, 15, "underscore", "fully qualified"),
    ),
    "ip address": (
        {9: "        fqdn: 10.0.0.1"},
        "",
        ("sites[0].pools[0].fqdn", 9, 15, "numeric label", "fully qualified"),
    ),
    "wildcard pool fqdn": (
        {9: "        fqdn: '*.ad.corpmail.se'"},
        "",
        ("sites[0].pools[0].fqdn", 9, 15, "wildcard", "fully qualified"),
    ),
    "internationalised name": (
        {9: "        fqdn: pööl.ad.corpmail.se"},
        "",
        ("sites[0].pools[0].fqdn", 9, 15, "non-ASCII", "fully qualified"),
    ),
    "double dot": (
        {9: "        fqdn: pool..corpmail.se"},
        "",
        ("sites[0].pools[0].fqdn", 9, 15, "empty label", "fully qualified"),
    ),
    "server not an fqdn": (
        {10: "        servers: [fe1.ad.corpmail.se, fe2]"},
        "",
        ("sites[0].pools[0].servers[1]", 10, 39, "'fe2' is a short name", "fully qualified"),
    ),
    "sip domain short name": (
        {1: "sip_domains: [corpmail.se, partner.no, intranet]"},
        "",
        ("sip_domains[2]", 1, 40, "SIP domain 'intranet' is not a domain", "DNS domain"),
    ),
    "sip address as sip domain": (
        {1: "sip_domains: [corpmail.se, partner.no, 'sip:user@corpmail.se']"},
        "",
        ("sip_domains[2]", 1, 40, "is a SIP address, not a SIP domain", "corpmail.se"),
    ),
    "sip domain twice": (
        {1: "sip_domains: [corpmail.se, partner.no, CorpMail.se]"},
        "",
        ("sip_domains[2]", 1, 40, "'corpmail.se' is listed twice", "remove"),
    ),
    "edge pool without external names": (
        {14: "        servers: [edge1.ad.corpmail.se]"},
        "",
        (
            "sites[0].pools[1]",
            12,
            9,
            "Edge pool 'edgepool.ad.corpmail.se' has no external",
            "access",
        ),
    ),
    "duplicate pool": (
        {13: "        fqdn: pool.ad.corpmail.se"},
        "",
        (
            "sites[0].pools[1].fqdn",
            13,
            15,
            "duplicate pool: 'pool.ad.corpmail.se' is already defined at sites[0].pools[0].fqdn",
            "own FQDN",
        ),
    ),
    "server in two pools": (
        {},
        "      - role: mediation\n"  # line 15
        "        fqdn: med.ad.corpmail.se\n"  # line 16
        "        servers: [fe1.ad.corpmail.se]\n",  # line 17
        (
            "sites[0].pools[2].servers[0]",
            17,
            19,
            "server 'fe1.ad.corpmail.se' is in two pools (first at sites[0].pools[0].servers[0])",
            "remove it from one of the pools",
        ),
    ),
    "server twice in one pool": (
        {10: "        servers: [fe1.ad.corpmail.se, fe1.ad.corpmail.se]"},
        "",
        (
            "sites[0].pools[0].servers[1]",
            10,
            39,
            "server 'fe1.ad.corpmail.se' is listed twice in this pool (first at "
            "sites[0].pools[0].servers[0])",
            "remove the duplicate",
        ),
    ),
    "organization name too long": (
        {1: "organization: {name: " + "N" * 70 + "}\nsip_domains: [corpmail.se, partner.no]"},
        "",
        ("organization.name", 1, 22, "'name' is 70 characters long, at most 64", "shorten"),
    ),
    "simple url outside sip domains": (
        {4: "  dialin: dialin.elsewhere.org"},
        "",
        (
            "simple_urls.dialin",
            4,
            11,
            "simple URL 'dialin.elsewhere.org' is outside every SIP domain",
            "dialin.corpmail.se",
        ),
    ),
    "meet url outside sip domains, as an https url": (
        {3: "  meet: [meet.corpmail.se, 'https://meet.elsewhere.org/x']"},
        "",
        (
            "simple_urls.meet[1]",
            3,
            28,
            "simple URL 'meet.elsewhere.org' is outside every SIP domain",
            "meet.corpmail.se",
        ),
    ),
    "unknown pool field": (
        {11: "        web_service: {external: web.corpmail.se}"},
        "",
        (
            "sites[0].pools[0].web_service",
            11,
            22,
            "unknown field 'web_service' (did you mean 'web_services'?)",
            "spelling",
        ),
    ),
    "unknown simple url field": (
        {4: "  dialn: dialin.corpmail.se"},
        "",
        (
            "simple_urls.dialn",
            4,
            10,
            "unknown field 'dialn' (did you mean 'dialin'?)",
            "spelling",
        ),
    ),
    "missing fqdn": (
        {9: "        # fqdn forgotten"},
        "",
        ("sites[0].pools[0].fqdn", 8, 9, "missing required field 'fqdn'", "fqdn:"),
    ),
    "internal and external web names equal (R-MOB-04)": (
        {11: "        web_services: {internal: web.corpmail.se, external: web.corpmail.se}"},
        "",
        ("sites[0].pools[0].web_services.external", 11, 61, "R-MOB-04", "public name"),
    ),
    "director shares the front end's external web name (R-DIR-03)": (
        {},
        "      - role: director\n"  # line 15
        "        fqdn: dir.ad.corpmail.se\n"  # line 16
        "        servers: [dir1.ad.corpmail.se]\n"  # line 17
        "        web_services: {external: web.corpmail.se}\n",  # line 18
        ("sites[0].pools[2].web_services.external", 18, 34, "R-DIR-03", "own external"),
    ),
    "standard edition internal web override (R-SE-02)": (
        {},
        "      - role: standard_edition\n"  # line 15
        "        fqdn: se1.ad.corpmail.se\n"  # line 16
        "        web_services: {internal: webint.corpmail.se}\n",  # line 17
        ("sites[0].pools[2].web_services.internal", 17, 34, "R-SE-02", "remove"),
    ),
    "a pool named like another pool's server": (
        {},
        "      - role: director\n"  # line 15
        "        fqdn: fe2.ad.corpmail.se\n"  # line 16
        "        servers: [dir1.ad.corpmail.se, dir2.ad.corpmail.se]\n",  # line 17
        ("sites[0].pools[2].fqdn", 16, 15, "already a server of pool", "its own FQDN"),
    ),
    "two front end pools share their external web name": (
        {},
        "      - role: front_end\n"  # line 15
        "        fqdn: pool2.ad.corpmail.se\n"  # line 16
        "        servers: [fe3.ad.corpmail.se]\n"  # line 17
        "        web_services: {external: web.corpmail.se}\n",  # line 18
        ("sites[0].pools[2].web_services.external", 18, 34, "already the external web", "own"),
    ),
    "the edge's access name is the meet URL": (
        {
            14: "        external: {access: meet.corpmail.se, webconf: webconf.corpmail.se, "
            "av: av.corpmail.se}"
        },
        "",
        ("simple_urls.meet[0]", 3, 10, "the external access FQDN of Edge pool", "own FQDN"),
    ),
    "an enterprise pool named like one of its servers": (
        {10: "        servers: [pool.ad.corpmail.se, fe2.ad.corpmail.se]"},
        "",
        ("sites[0].pools[0].servers[0]", 10, 19, "single-computer pool", "its own FQDN"),
    ),
    "a SIP domain listed twice, once with SIP: in capitals": (
        {1: "sip_domains: [corpmail.se, partner.no, 'SIP:Corpmail.se']"},
        "",
        ("sip_domains[2]", 1, 40, "listed twice", "remove the duplicate"),
    ),
    "oauth key under 2048 bits (R-OAUTH-01)": (
        {},
        "oauth:\n"  # line 15
        "  certificates: {key: rsa1024}\n",  # line 16
        ("oauth.certificates.key", 16, 23, "at least 2048 bits", "rsa2048"),
    ),
    "oauth EC key: RSA of 2048 bits or more (R-OAUTH-01)": (
        {},
        "oauth:\n"  # line 15
        "  certificates: {key: ec-p256}\n",  # line 16
        (
            "oauth.certificates.key",
            16,
            23,
            "an RSA key of at least 2048 bits, not ec-p256",
            "rsa2048",
        ),
    ),
    "unsupported key size (R-GEN-05)": (
        {},
        "defaults: {key: rsa3072}\n",  # line 15
        ("defaults.key", 15, 17, "3072", "rsa2048"),
    ),
    "public IM without federation": (
        {},
        "federation: {public_im: true}\n",  # line 15
        ("federation.public_im", 15, 25, "needs federation", "federation.enabled: true"),
    ),
    "front end pool without servers": (
        {10: "        # no servers"},
        "",
        ("sites[0].pools[0].servers", 8, 9, "lists no servers", "servers:"),
    ),
    "a site named global (the plan's name for deployment-wide certificates)": (
        {6: "  - name: Global"},
        "",
        ("sites[0].name", 6, 11, "could not be told apart", "name the site"),
    ),
    "a direction override in the organization (the CA refuses such a subject)": (
        {},
        'organization: {name: "Contoso\\u202eLtd"}\n',
        ("organization.name", 15, 22, "non-printable", "plain text"),
    ),
    "two trailing dots (one is the root; a second an empty label)": (
        {9: "        fqdn: pool.ad.corpmail.se.."},
        "",
        ("sites[0].pools[0].fqdn", 9, 15, "empty label", "fully qualified"),
    ),
    "a simple URL with a path but no scheme": (
        {3: "  meet: [meet.corpmail.se/meet, meet.partner.no]"},
        "",
        ("simple_urls.meet[0]", 3, 10, "has a path but no scheme", "https://meet.corpmail.se/meet"),
    ),
    "a pool FQDN too long for a subject (CN)": (
        {9: "        fqdn: " + "p" * 60 + ".corpmail.se"},
        "",
        ("sites[0].pools[0].fqdn", 9, 15, "72 characters", "at most 64"),
    ),
    "two sites whose names differ only in case": (
        {},
        "  - name: stockholm\n    pools:\n      - {role: mediation, fqdn: med.ad.corpmail.se}\n",
        ("sites[1].name", 15, 11, "defined twice", "merge"),
    ),
    "a federation site without an Edge pool (XMPP and federation names planned nowhere)": (
        {},
        "  - name: Branch\n    pools:\n      - {role: mediation, fqdn: med.ad.corpmail.se}\n"
        "federation: {enabled: true, xmpp: true, site: Branch}\n",
        ("federation.site", 18, 47, "has no Edge pool", "Stockholm"),
    ),
    "external names on a front end pool": (
        {11: "        external: {access: a.partner.no, webconf: b.partner.no, av: c.partner.no}"},
        "",
        ("sites[0].pools[0].external", 11, 19, "only for Edge pools", "remove"),
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_one_problem_one_clear_message(case: str) -> None:
    replace, append, (field, line, column, message, fix) = CASES[case]
    error = problems(edited(replace, append), "site-a.yaml")
    issue = only(error)
    assert issue.field == field
    assert (issue.line, issue.column) == (line, column)
    assert message in issue.message
    assert fix in issue.fix
    assert f"site-a.yaml:{line}:{column}: {field}: {issue.message}" in str(error)
    assert f"fix: {issue.fix}" in str(error)


def test_pools_written_as_a_mapping_are_told_to_be_a_list() -> None:
    """The fix said "write a list, e.g. [a.contoso.com, b.contoso.com]": names, for pools."""
    text = (
        "sip_domains: [corpmail.se]\nsimple_urls: {meet: meet.corpmail.se}\nsites:\n"
        "  - name: A\n    pools: {role: front_end, fqdn: pool.ad.corpmail.se}\n"
    )
    issue = only(problems(text))
    assert issue.message.startswith("'pools' must be a list"), issue.message
    assert "'- {role: ..., fqdn: ...}'" in issue.fix


def test_a_meet_url_of_the_wrong_type_is_told_it_may_be_one_url_or_a_list() -> None:
    """`meet: 5` was told "write a list": one URL is as good (meet: meet.corpmail.se), and the
    fix that follows must load."""
    text = (
        "sip_domains: [corpmail.se]\nsimple_urls: {meet: 5}\nsites:\n"
        "  - name: A\n    pools:\n      - {role: front_end, fqdn: pool.ad.corpmail.se, "
        "servers: [fe1.ad.corpmail.se]}\n"
    )
    issue = only(problems(text))
    assert issue.field == "simple_urls.meet" and "a list of them" in issue.message, issue
    assert "meet: meet.contoso.com" in issue.fix
    for fixed in ("meet.corpmail.se", "[meet.corpmail.se, meet2.corpmail.se]"):
        loaded = load_topology_text(text.replace("meet: 5", f"meet: {fixed}"), "t.yaml")
        assert loaded.simple_urls.meet[0] == "meet.corpmail.se"


def test_a_second_yaml_document_is_named_with_its_line() -> None:
    """'expected a single document in the stream' was answered with "check indentation,
    colons and quotes": the fix is to remove the second document."""
    issue = only(problems(VALID + "---\nsip_domains: [other.se]\n"))
    assert (issue.line, issue.message) == (15, "a second YAML document begins here: "
                                           "a topology file holds one"), issue  # fmt: skip
    assert "remove this '---' line" in issue.fix


def test_unknown_role() -> None:
    pool = "      - role: mediaton\n        fqdn: med.ad.corpmail.se\n"  # lines 15-16
    error = problems(edited(append=pool), "site-a.yaml")
    issue = only(error)
    assert (issue.field, issue.line, issue.column) == ("sites[0].pools[2].role", 15, 15)
    assert issue.message == "unknown role 'mediaton' (did you mean 'mediation'?)"
    for role in ("front_end", "standard_edition", "director", "mediation", "edge", "sba"):
        assert role in issue.fix
    assert "site-a.yaml:15:15: sites[0].pools[2].role: unknown role 'mediaton'" in str(error)


@pytest.mark.parametrize(
    ("line", "text", "field", "suggestion"),
    [
        (8, "      - role: frontend", "sites[0].pools[0].role", "front_end"),  # has web_services
        (12, "      - role: egde", "sites[0].pools[1].role", "edge"),  # has external
    ],
)
def test_unknown_role_gives_one_message(line: int, text: str, field: str, suggestion: str) -> None:
    issue = only(problems(edited({line: text})))
    assert (issue.field, issue.line, issue.column) == (field, line, 15)
    assert f"did you mean '{suggestion}'?" in issue.message


def test_servers_not_a_list_gives_one_message() -> None:
    issue = only(problems(edited({10: "        servers: 7"})))
    assert (issue.field, issue.line, issue.column) == ("sites[0].pools[0].servers", 10, 18)
    assert "write a list" in issue.fix


def test_every_problem_is_reported_at_once() -> None:
    text = """\
sip_domains: [corpmail.se, partner.no]
simple_urls:
  meet: [meet.corpmail.se, meet.elsewhere.org]
  dialin: dialin.corpmail.se
sites:
  - name: Stockholm
    pools:
      - role: frontend
        fqdn: pool.ad.corpmail.se
        servers: [fe1.ad.corpmail.se]
      - role: mediation
        fqdn: med_1.ad.corpmail.se
        colour: blue
      - role: mediation
        fqdn: med2.ad.corpmail.se
        servers: [fe1.ad.corpmail.se]
"""
    error = problems(text, "five.yaml")
    found = [(i.line, i.column, i.field) for i in error.issues]
    assert found == [
        (3, 28, "simple_urls.meet[1]"),  # outside every SIP domain
        (8, 15, "sites[0].pools[0].role"),  # unknown role
        (12, 15, "sites[0].pools[1].fqdn"),  # underscore: not an FQDN
        (13, 17, "sites[0].pools[1].colour"),  # unknown field
        (16, 19, "sites[0].pools[2].servers[0]"),  # server in two pools
    ]
    assert str(error).startswith("five.yaml: 5 problems in the topology")
    for issue in error.issues:
        assert issue.fix
        assert f"five.yaml:{issue.line}:{issue.column}: {issue.field}:" in str(error)


def test_several_problems_in_one_pool_are_all_reported() -> None:
    text = edited(
        {
            8: "      - role: front_end",
            9: "        fqdn: pool01",
            10: "        servers: [fe1, fe2.ad.corpmail.se]",
            11: "        web_services: {external: web_corpmail.se}",
        }
    )
    error = problems(text)
    assert [(i.line, i.column, i.field) for i in error.issues] == [
        (9, 15, "sites[0].pools[0].fqdn"),
        (10, 19, "sites[0].pools[0].servers[0]"),
        (11, 34, "sites[0].pools[0].web_services.external"),
    ]


# --- YAML syntax ---------------------------------------------------------------------------------


def test_duplicate_yaml_key() -> None:
    text = edited({4: "  meet: meet.corpmail.se"})  # a second `meet:` in simple_urls
    error = problems(text, "dup.yaml")
    issue = only(error)
    assert (issue.line, issue.column) == (4, 3)  # where the second key is written
    assert "'meet' appears twice" in issue.message
    assert issue.fix
    assert "dup.yaml:4:3:" in str(error)


def test_duplicate_yaml_key_names_its_field() -> None:
    issue = only(problems(edited({4: "  meet: meet.corpmail.se"})))
    assert issue.field == "simple_urls.meet"


def test_duplicate_yaml_key_and_other_problems_are_reported_together() -> None:
    error = problems(edited({4: "  meet: meet.corpmail.se", 9: "        fqdn: pool01"}))
    assert [(i.line, i.field) for i in error.issues] == [
        (4, "simple_urls.meet"),
        (9, "sites[0].pools[0].fqdn"),
    ]


def test_yaml_tab_indentation_names_its_line() -> None:
    error = problems(edited({9: "\tfqdn: pool.ad.corpmail.se"}), "tabs.yaml")
    issue = only(error)
    assert issue.line == 9
    assert issue.message.startswith("not valid YAML")
    assert "indentation" in issue.fix
    assert "tabs.yaml:9:" in str(error)


def test_yaml_mapping_value_not_allowed_names_its_line_and_column() -> None:
    error = problems(edited({9: "        fqdn: pool: ad.corpmail.se"}), "colon.yaml")
    issue = only(error)
    assert (issue.line, issue.column) == (9, 19)  # the second colon
    assert "not valid YAML" in issue.message
    assert "colon.yaml:9:19:" in str(error)


def test_top_level_must_be_a_mapping() -> None:
    issue = only(problems("- corpmail.se\n- partner.no\n"))
    assert "top level must be a mapping" in issue.message
    assert "sip_domains" in issue.fix


# --- files ---------------------------------------------------------------------------------------

JSON_TOPOLOGY = """\
{
  "sip_domains": ["corpmail.se", "partner.no"],
  "simple_urls": {
    "meet": ["meet.corpmail.se", "meet.partner.no"],
    "dialin": "dialin.corpmail.se"
  },
  "sites": [
    {
      "name": "Stockholm",
      "pools": [
        {
          "role": "front_end",
          "fqdn": "pool.ad.corpmail.se",
          "servers": ["fe1.ad.corpmail.se", "fe2.ad.corpmail.se"],
          "web_services": {"external": "web.corpmail.se"}
        },
        {
          "role": "edge",
          "fqdn": "edgepool.ad.corpmail.se",
          "external": {
            "access": "sip.corpmail.se",
            "webconf": "webconf.corpmail.se",
            "av": "av.corpmail.se"
          }
        }
      ]
    }
  ]
}
"""


def test_json_and_yaml_of_the_same_topology_give_the_same_model(tmp_path: Path) -> None:
    assert json.loads(JSON_TOPOLOGY)  # the test's own JSON is valid
    (tmp_path / "t.json").write_text(JSON_TOPOLOGY, encoding="utf-8")
    (tmp_path / "t.yaml").write_text(VALID, encoding="utf-8")
    from_json = load_topology(tmp_path / "t.json")
    from_yaml = load_topology(tmp_path / "t.yaml")
    assert from_json == from_yaml
    assert from_json.model_dump() == from_yaml.model_dump()
    assert load_topology_text(JSON_TOPOLOGY, "t.json", json_syntax=True) == from_yaml


def test_invalid_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(
        '{\n  "sip_domains": ["corpmail.se"],\n  "simple_urls": {"meet": "meet.corpmail.se",}\n}\n',
        encoding="utf-8",
    )
    # line 3: `  "simple_urls": {"meet": "meet.corpmail.se",}` - the `}` after the comma is col 46
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    issue = only(caught.value)
    assert (issue.line, issue.column) == (3, 46)
    assert "not valid JSON" in issue.message
    assert issue.fix
    assert f"{path}:3:46:" in str(caught.value)


def test_json_is_parsed_strictly(tmp_path: Path) -> None:
    """YAML flow syntax is not JSON: a .json file is read as JSON."""
    path = tmp_path / "loose.json"
    path.write_text("{sip_domains: [corpmail.se]}\n", encoding="utf-8")
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    issue = only(caught.value)
    assert (issue.line, issue.column) == (1, 2)
    assert "not valid JSON" in issue.message


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_that_are_not_json_are_refused(tmp_path: Path, constant: str) -> None:
    """Python's JSON reader takes NaN and Infinity, which strict JSON has no place for: a
    topology holding one validated (read as the string "NaN")."""
    path = tmp_path / "nan.json"
    path.write_text('{"sip_domains": ["corpmail.se"],\n "organization": {"name": '
                    f"{constant}}}}}\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    issue = only(caught.value)
    assert issue.message == f"not valid JSON: {constant} is not a JSON value"
    assert (issue.line, issue.column) == (2, 27)  # where the constant starts


def test_json_value_errors_have_line_and_column(tmp_path: Path) -> None:
    text = JSON_TOPOLOGY.replace('"fqdn": "pool.ad.corpmail.se"', '"fqdn": "pool01"')
    path = tmp_path / "bad-value.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    issue = only(caught.value)
    # line 13: `          "fqdn": "pool01",` - the value starts at column 19
    assert (issue.field, issue.line, issue.column) == ("sites[0].pools[0].fqdn", 13, 19)
    assert f"{path}:13:19: sites[0].pools[0].fqdn:" in str(caught.value)


def test_yaml_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(edited({9: "        fqdn: pool01"}), encoding="utf-8")
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    assert caught.value.source == str(path)
    assert f"{path}:9:15: sites[0].pools[0].fqdn:" in str(caught.value)


@pytest.mark.parametrize("content", ["", "\n\n", "   \n\t\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    issue = only(caught.value)
    assert "empty" in issue.message
    assert issue.fix
    assert str(path) in str(caught.value)


def test_comments_only_file(tmp_path: Path) -> None:
    path = tmp_path / "comments.yaml"
    path.write_text("# nothing here yet\n", encoding="utf-8")
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    issue = only(caught.value)
    assert issue.fix
    assert str(path) in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    issue = only(caught.value)
    assert "not found" in issue.message
    assert issue.fix
    assert str(path) in str(caught.value)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(TopologyError) as caught:
        load_topology(tmp_path)
    issue = only(caught.value)
    assert "directory" in issue.message
    assert issue.fix


def test_non_utf8_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    text = "sip_domains: [corpmail.se]\nsimple_urls: {meet: meet.corpmail.se}\n# Malmö\n"
    path.write_bytes(text.encode("latin-1"))  # the ö on line 3 is not UTF-8
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    issue = only(caught.value)
    assert issue.line == 3
    assert "UTF-8" in issue.message
    assert "UTF-8" in issue.fix
    assert f"{path}:3" in str(caught.value)


def test_utf8_with_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode("utf-8"))
    assert load_topology(path) == load_topology_text(VALID)


BOMB = "\n".join(
    [
        "x_a: &a [x, x, x, x, x, x, x, x, x, x]",
        *(
            f"x_{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]"
            for i in range(7)
        ),
        "sites: *h",
    ]
)


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    """Eight lines that stand for 10^8 values through anchors and aliases ("billion laughs")
    are refused at once, at the line of the anchor that grows too big, not built."""
    with pytest.raises(TopologyError) as caught:
        load_topology_text(VALID + BOMB, "bomb.yaml")
    (issue,) = caught.value.issues
    assert "expands to more than 2,000,000 values" in issue.message
    assert issue.line is not None and issue.line > 14


def test_small_aliases_still_work() -> None:
    """Anchors and aliases for a few repeated values are ordinary YAML."""
    text = VALID.replace(
        "servers: [fe1.ad.corpmail.se, fe2.ad.corpmail.se]",
        "servers: &fe [fe1.ad.corpmail.se, fe2.ad.corpmail.se]",
    )
    assert load_topology_text(text, "aliases.yaml") == load_topology_text(VALID, "plain.yaml")


def test_a_document_that_contains_itself_is_refused() -> None:
    with pytest.raises(TopologyError) as caught:
        load_topology_text("sites: &s [*s]\n", "loop.yaml")
    assert "contains itself" in caught.value.issues[0].message
    assert caught.value.issues[0].line == 1


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_values_nested_too_deeply_are_a_message_not_a_crash(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text('{"sites": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(TopologyError) as caught:
        load_topology(path)
    assert "nested too deeply" in caught.value.issues[0].message


def test_a_field_in_the_wrong_section_is_told_where_it_goes() -> None:
    """`reverse_proxy` at the top level, `mobility` in a site, `key` in a pool were each "unknown
    field 'x' (did you mean 'x'?)"; a misspelling is matched against the fields that go there
    (a site's 'colour' was "did you mean 'country'", a field of organization)."""
    text = edited(
        {
            6: "  - name: Stockholm\n    mobility: true\n    colour: blue",
            10: "        servers: [fe1.ad.corpmail.se]\n        key: rsa2048",
        },
        "reverse_proxy: {publishes: [web.corpmail.se]}\n",
    )
    issues = {issue.field: issue for issue in problems(text).issues}
    assert set(issues) == {
        "sites[0].mobility", "sites[0].colour", "sites[0].pools[0].key", "reverse_proxy"
    }  # fmt: skip
    assert issues["sites[0].mobility"].message == (
        "field 'mobility' does not go here: it goes at the top level (mobility)"
    )
    assert "sites[].reverse_proxy" in issues["reverse_proxy"].message
    assert "sites[].pools[].certificates.key" in issues["sites[0].pools[0].key"].message
    assert all("move it there" in issues[f].fix for f in ("reverse_proxy", "sites[0].mobility"))
    assert issues["sites[0].colour"].message == "unknown field 'colour'"  # nothing close in a site


@pytest.mark.parametrize(
    ("line", "text", "said", "fix"),
    [
        (6, "  - name: ''", "'name' is empty", "e.g. the site's place"),
        (6, '  - name: "HQ\\0\\e[2J"', "non-printable", "plain text"),
        (6, "  - name: ' Lund '", "starts or ends with a space", "'Lund'"),
        (6, '  - name: "X\\ud800"', "is not text", "UTF-8"),
        (11, "        certificates: {validity_days: 0}", "it must be at least 1", "at least 1"),
        (11, "        certificates: {validity_days: 99999}", "at most 7300", "at most 7300"),
        (11, "        certificates: {template: 'Web Server!'}", "not a certificate", "WebServer"),
    ],
)  # fmt: skip
def test_bounds_patterns_and_text_are_said_in_words(
    line: int, text: str, said: str, fix: str
) -> None:
    """These were pydantic's own words ("Input should be greater than or equal to 1", a raw
    regex) with the fix "correct this value"; a site name took control characters (each report
    format showed them its own way) and spaces around it."""
    error = problems(edited({line: text}))
    (issue,) = error.issues
    assert said in issue.message and fix in issue.fix, (issue.message, issue.fix)
    assert issue.line == line and issue.fix != "correct this value"
