"""Plan warnings (advice.py ids): each triggered by a minimal topology, none on a clean one."""

from __future__ import annotations

import datetime as dt
import textwrap
from importlib.resources import files
from pathlib import Path

import pytest

from lyncpki.planning import CertificatePlan, PlanWarning, plan
from lyncpki.planning.planner import PlanOptions
from lyncpki.topology import TopologyError, load_topology, load_topology_text

ALL_IDS = (
    "plan.default-name",
    "plan.public-name-internal-ca",
    "plan.public-internal-name",
    "plan.wildcard-not-accepted",
    "plan.edge-sip-missing",
    "plan.too-many-sans",
    "plan.weak-key",
    "plan.meet-url-missing",
    "plan.lyncdiscover-over-http",
    "plan.web-not-published",
    "plan.no-front-end",
    "plan.wildcards-in-use",
    "plan.persistent-chat-ca",
    "plan.admin-external",
    "plan.client-auth-template",
    "plan.pool-too-large",
    "plan.public-validity",
    "plan.subject-too-long",
    "plan.rp-publishes-internal",
    "plan.rp-publishes-unknown",
    "plan.no-external-web",
    "plan.template-display-name",
    "plan.shared-proxy-store",
    "plan.rp-publishes-implied",
    "plan.key-requirement",
)

# Every role, every external name published, one meet URL per SIP domain, no example names.
CLEAN = """\
organization: {name: Corpmail AB, unit: IT, city: Stockholm, country: SE}
sip_domains: [corpmail.se, partner.no]
simple_urls:
  meet: [meet.corpmail.se, meet.partner.no]
  dialin: dialin.corpmail.se
  admin: admin.corpmail.se
mobility: true
federation: {enabled: true, xmpp: true}
sites:
  - name: Stockholm
    pools:
      - role: front_end
        fqdn: pool.ad.corpmail.se
        servers: [fe1.ad.corpmail.se, fe2.ad.corpmail.se]
        web_services: {external: web.corpmail.se}
      - role: director
        fqdn: dirpool.ad.corpmail.se
        servers: [dir1.ad.corpmail.se]
        web_services: {external: webdir.corpmail.se}
      - {role: mediation, fqdn: medpool.ad.corpmail.se, servers: [med1.ad.corpmail.se]}
      - {role: persistent_chat, fqdn: pc1.ad.corpmail.se}
      - {role: sba, fqdn: sba1.branch.corpmail.se}
      - role: edge
        fqdn: edgepool.ad.corpmail.se
        servers: [edge1.ad.corpmail.se, edge2.ad.corpmail.se]
        external: {access: sip.corpmail.se, webconf: webconf.corpmail.se, av: av.corpmail.se}
    reverse_proxy:
      fqdn: rp.corpmail.se
      servers: [rp1.dmz.corpmail.se, rp2.dmz.corpmail.se]
      publishes: [web.corpmail.se, webdir.corpmail.se]
"""


def plan_of(text: str) -> CertificatePlan:
    return plan(load_topology_text(textwrap.dedent(text), "test.yaml"))


def with_id(p: CertificatePlan, warning_id: str) -> list[PlanWarning]:
    return [w for w in p.warnings if w.id == warning_id]


def minimal(settings: str = "", pools: str = "", reverse_proxy: str = "") -> str:
    """One SIP domain with its meet URL, one Front End pool, an RP publishing it."""
    text = textwrap.dedent(settings) + textwrap.dedent(
        """\
        sites:
          - name: Stockholm
            pools:
              - role: front_end
                fqdn: pool.ad.corpmail.se
                servers: [fe1.ad.corpmail.se]
                web_services: {external: web.corpmail.se}
        """
    )
    text += textwrap.indent(textwrap.dedent(pools), " " * 6)
    rp = reverse_proxy or "fqdn: rp.corpmail.se\npublishes: [web.corpmail.se]\n"
    text += "    reverse_proxy:\n" + textwrap.indent(textwrap.dedent(rp), " " * 6)
    return text


BASE = """\
sip_domains: [corpmail.se]
simple_urls: {meet: meet.corpmail.se, dialin: dialin.corpmail.se}
"""

EDGE = """\
- role: edge
  fqdn: edgepool.ad.corpmail.se
  servers: [edge1.ad.corpmail.se, edge2.ad.corpmail.se]
  external: {access: sip.corpmail.se, webconf: webconf.corpmail.se, av: av.corpmail.se}
"""


def test_minimal_helper_is_clean() -> None:
    p = plan_of(BASE + minimal())
    assert p.warnings == ()


def test_clean_topology_has_no_warning() -> None:
    p = plan_of(CLEAN)
    assert [(w.id, w.subject) for w in p.warnings] == []
    for cert in p.certificates:
        assert cert.warnings == (), cert.id


# --- plan.default-name (S0) ---------------------------------------------------------------------


def test_default_name_one_warning_per_field() -> None:
    text = """\
    organization: {name: Contoso Ltd}
    sip_domains: [corpmail.se, fabrikam.com]
    simple_urls:
      meet: [meet.corpmail.se, meet.fabrikam.com]
      dialin: dialin.corpmail.se
    sites:
      - name: Stockholm
        pools:
          - role: front_end
            fqdn: pool.ad.corpmail.se
            servers: [fe1.ad.corpmail.se, fe2.contoso.com]
    """
    found = with_id(plan_of(text), "plan.default-name")
    assert sorted(w.subject for w in found) == sorted(
        [
            "organization.name",
            "sip_domains[1]",
            "simple_urls.meet[1]",
            "sites[0].pools[0].servers[1]",
        ]
    )
    assert all(w.rule == "S0" for w in found)
    assert all(w.fix for w in found)


@pytest.mark.parametrize(
    ("organization", "flagged"),
    [
        ("{name: Contosol GmbH, unit: Fabrikamation}", []),
        ("{name: Northwindow AB, unit: Litwareco}", []),
        ("{name: Contoso Ltd, unit: IT-Fabrikam}", ["organization.name", "organization.unit"]),
        ("{name: Corpmail AB, unit: contoso_it}", ["organization.unit"]),
    ],
)
def test_default_name_matches_example_words_as_whole_words(
    organization: str, flagged: list[str]
) -> None:
    """'Contosol GmbH' and 'Fabrikamation' were told to be the documentation's example text:
    the words were matched anywhere in the value. They are matched as words of their own, as
    DNS names are matched by whole labels."""
    p = plan_of(f"organization: {organization}\n" + minimal(BASE))
    assert sorted(w.subject for w in with_id(p, "plan.default-name")) == flagged


@pytest.mark.parametrize(
    "domain", ["contoso.com", "fabrikam.com", "example.com", "litwareinc.com", "adatum.com"]
)
def test_default_name_for_each_documentation_domain(domain: str) -> None:
    text = f"""\
    sip_domains: [corpmail.se, {domain}]
    simple_urls: {{meet: [meet.corpmail.se, meet.{domain}]}}
    sites:
      - name: Stockholm
        pools:
          - {{role: standard_edition, fqdn: se1.ad.corpmail.se}}
    """
    found = with_id(plan_of(text), "plan.default-name")
    assert sorted(w.subject for w in found) == ["simple_urls.meet[1]", "sip_domains[1]"]


def test_example_topology_file_warns_about_its_example_names() -> None:
    example = files("lyncpki.topology") / "example.yaml"
    p = plan(load_topology(str(example)))
    subjects = [w.subject for w in with_id(p, "plan.default-name")]
    assert subjects.count("sip_domains[0]") == 1
    assert subjects.count("sip_domains[1]") == 1
    assert "organization.name" in subjects
    assert "sites[0].pools[0].fqdn" in subjects
    assert "simple_urls.meet[0]" in subjects
    assert len(subjects) == len(set(subjects)), "one warning per field"


def test_example_topology_file_flags_every_example_name() -> None:
    """Every field of example.yaml that holds a contoso/fabrikam name, listed by hand."""
    example = files("lyncpki.topology") / "example.yaml"
    p = plan(load_topology(str(example)))
    subjects = sorted(w.subject for w in with_id(p, "plan.default-name"))
    assert subjects == sorted(
        [
            "organization.name",  # Contoso Ltd
            "sip_domains[0]",
            "sip_domains[1]",
            "simple_urls.meet[0]",
            "simple_urls.meet[1]",
            "simple_urls.dialin",
            "simple_urls.admin",
            "oauth.subject",
            # Front End pool
            "sites[0].pools[0].fqdn",
            "sites[0].pools[0].servers[0]",
            "sites[0].pools[0].servers[1]",
            "sites[0].pools[0].web_services.internal",
            "sites[0].pools[0].web_services.external",
            # Director pool
            "sites[0].pools[1].fqdn",
            "sites[0].pools[1].servers[0]",
            "sites[0].pools[1].web_services.external",
            # Mediation pool
            "sites[0].pools[2].fqdn",
            "sites[0].pools[2].servers[0]",
            # Edge pool
            "sites[0].pools[3].fqdn",
            "sites[0].pools[3].servers[0]",
            "sites[0].pools[3].servers[1]",
            "sites[0].pools[3].external.access",
            "sites[0].pools[3].external.webconf",
            "sites[0].pools[3].external.av",
            # reverse proxy
            "sites[0].reverse_proxy.fqdn",
            "sites[0].reverse_proxy.publishes[0]",
            "sites[0].reverse_proxy.publishes[1]",
        ]
    )


# --- certificate warnings -----------------------------------------------------------------------


def test_public_name_internal_ca_for_edge_external() -> None:
    settings = BASE + "certificate_authorities: {edge_external: internal}\n"
    p = plan_of(minimal(settings, EDGE))
    found = with_id(p, "plan.public-name-internal-ca")
    assert [w.certificate for w in found] == ["edgepool.ad.corpmail.se/edge-external"]
    assert found[0].rule == "R-GEN-09"


def test_public_name_internal_ca_for_reverse_proxy() -> None:
    settings = BASE + "certificate_authorities: {reverse_proxy: internal}\n"
    found = with_id(plan_of(minimal(settings)), "plan.public-name-internal-ca")
    assert [w.certificate for w in found] == ["rp.corpmail.se/reverse-proxy"]


def test_public_name_internal_ca_from_pool_issuer() -> None:
    edge = EDGE + "  certificates: {issuer: internal}\n"
    found = with_id(plan_of(minimal(BASE, edge)), "plan.public-name-internal-ca")
    assert [w.certificate for w in found] == ["edgepool.ad.corpmail.se/edge-external"]


def test_public_certificates_for_internal_names_are_flagged() -> None:
    """Edge external and reverse proxy certificates planned from a public CA for corp.local
    names: "no warnings", and `plan --strict` passed, though no public CA issues them."""
    text = minimal(BASE, EDGE).replace("corpmail.se", "corp.local")
    found = with_id(plan_of(text), "plan.public-internal-name")
    assert {w.certificate for w in found} == {
        "edgepool.ad.corp.local/edge-external",
        "rp.corp.local/reverse-proxy",
    }
    assert all(w.severity == "warning" and ".corp.local" in w.message for w in found)
    assert all("internal" in w.fix for w in found)
    internal_ca = text.replace(
        "sip_domains:", "certificate_authorities: {edge_external: internal, "
        "reverse_proxy: internal}\nsip_domains:", 1
    )  # fmt: skip
    assert not with_id(plan_of(internal_ca), "plan.public-internal-name")


def test_edge_internal_from_internal_ca_is_fine() -> None:
    p = plan_of(minimal(BASE, EDGE))
    assert not with_id(p, "plan.public-name-internal-ca")


@pytest.mark.parametrize(
    ("pool", "cert_id"),
    [
        (
            "- {role: mediation, fqdn: med1.ad.corpmail.se, additional_sans: ['*.corpmail.se']}\n",
            "med1.ad.corpmail.se/default",
        ),
        (
            "- {role: sba, fqdn: sba1.ad.corpmail.se, additional_sans: ['*.corpmail.se']}\n",
            "sba1.ad.corpmail.se/default",
        ),
        (EDGE + "  additional_sans: ['*.corpmail.se']\n", "edgepool.ad.corpmail.se/edge-external"),
    ],
)
def test_wildcard_not_accepted(pool: str, cert_id: str) -> None:
    found = with_id(plan_of(minimal(BASE, pool)), "plan.wildcard-not-accepted")
    assert [(w.certificate, w.subject) for w in found] == [(cert_id, "*.corpmail.se")]
    assert found[0].rule == "R-GEN-08"


def test_wildcard_on_front_end_default_is_not_accepted() -> None:
    """R-GEN-08: the Default certificate is not a web certificate: no wildcard."""
    text = BASE + textwrap.dedent(
        """\
        sites:
          - name: Stockholm
            pools:
              - role: front_end
                fqdn: pool.ad.corpmail.se
                servers: [fe1.ad.corpmail.se]
                additional_sans: ['*.corpmail.se']
        """
    )
    found = with_id(plan_of(text), "plan.wildcard-not-accepted")
    assert [w.certificate for w in found] == ["fe1.ad.corpmail.se/default"]


def test_edge_sip_missing() -> None:
    settings = """\
    sip_domains: [corpmail.se, partner.no]
    simple_urls: {meet: [meet.corpmail.se, meet.partner.no]}
    automatic_sign_in: false
    federation: {enabled: false}
    """
    found = with_id(plan_of(minimal(settings, EDGE)), "plan.edge-sip-missing")
    # sip.corpmail.se is there as the Access Edge FQDN; sip.partner.no is not.
    assert [w.subject for w in found] == ["partner.no"]
    assert found[0].certificate == "edgepool.ad.corpmail.se/edge-external"


def test_too_many_sans() -> None:
    settings = BASE + "defaults: {public_ca_san_limit: 3}\n"
    p = plan_of(minimal(settings))
    # the RP has exactly 3 names: web.corpmail.se, meet.corpmail.se, dialin.corpmail.se
    assert with_id(p, "plan.too-many-sans") == []
    settings = BASE + "defaults: {public_ca_san_limit: 2}\n"
    found = with_id(plan_of(minimal(settings)), "plan.too-many-sans")
    assert [w.certificate for w in found] == ["rp.corpmail.se/reverse-proxy"]


def test_too_many_sans_ignores_internal_certificates() -> None:
    # the web-internal certificate has 4 names but comes from the internal CA
    settings = BASE + "defaults: {public_ca_san_limit: 3}\n"
    assert not with_id(plan_of(minimal(settings)), "plan.too-many-sans")


def test_weak_key() -> None:
    p = plan_of(minimal(BASE + "defaults: {key: rsa1024}\n"))
    found = with_id(p, "plan.weak-key")
    assert {w.certificate for w in found} == {
        "fe1.ad.corpmail.se/default",
        "fe1.ad.corpmail.se/web-internal",
        "fe1.ad.corpmail.se/web-external",
    }  # not global/oauth nor the reverse proxy: planned rsa2048 (R-OAUTH-01, R-RP-02)
    assert all(w.rule == "R-GEN-05" for w in found)


@pytest.mark.parametrize("key", ["ec-p256", "ec-p384", "rsa4096", "rsa1024"])
def test_the_reverse_proxy_key_is_rsa2048_whatever_the_defaults(key: str) -> None:
    """R-RP-02: RSA 2048, key type Exchange. `defaults.key` (meant for the Lync servers, which
    take EC keys, R-GEN-05) was planned on the reverse proxy without a word; it is planned
    rsa2048 there with a note, as the OAuth key is raised to its minimum."""
    p = plan_of(minimal(BASE + f"defaults: {{key: {key}}}\n"))
    cert = p.by_id("rp.corpmail.se/reverse-proxy")
    assert cert.key.name == "rsa2048"
    assert any(f"not the default {key}" in n and "R-RP-02" in n for n in cert.notes), cert.notes
    assert p.by_id("fe1.ad.corpmail.se/default").key.name == key  # the servers keep it
    assert not with_id(p, "plan.key-requirement")


@pytest.mark.parametrize(
    ("key", "severity"),
    [("ec-p256", "warning"), ("rsa1024", "warning"), ("rsa4096", "info")],
)
def test_a_reverse_proxy_key_asked_for_explicitly_is_kept_and_said(key: str, severity: str) -> None:
    rp = f"fqdn: rp.corpmail.se\npublishes: [web.corpmail.se]\ncertificates: {{key: {key}}}\n"
    p = plan_of(minimal(BASE, reverse_proxy=rp))
    assert p.by_id("rp.corpmail.se/reverse-proxy").key.name == key
    (found,) = with_id(p, "plan.key-requirement")
    assert (found.certificate, found.rule, str(found.severity)) == (
        "rp.corpmail.se/reverse-proxy",
        "R-RP-02",
        severity,
    )
    assert "RSA 2048" in found.message and "reverse_proxy of site Stockholm" in found.fix


def test_an_oauth_ec_key_asked_for_explicitly_is_said() -> None:
    """An explicit EC OAuth key is refused by topology validation (R-OAUTH-01); a topology
    built without it (as a program may) still has it said by the plan, never passed silently."""
    from lyncpki.topology.model import Topology

    data = load_topology_text(textwrap.dedent(minimal(BASE)), "t.yaml").model_dump()
    data["oauth"]["certificates"]["key"] = "ec-p256"
    p = plan(Topology.model_validate(data))
    assert p.by_id("global/oauth").key.name == "ec-p256"
    (found,) = with_id(p, "plan.key-requirement")
    assert (found.certificate, found.rule, str(found.severity)) == (
        "global/oauth",
        "R-OAUTH-01",
        "warning",
    )
    assert "oauth.certificates.key" in found.fix


def test_weak_key_on_one_pool() -> None:
    text = BASE + textwrap.dedent(
        """\
        sites:
          - name: Stockholm
            pools:
              - {role: front_end, fqdn: pool.ad.corpmail.se, servers: [fe1.ad.corpmail.se]}
              - role: mediation
                fqdn: med1.ad.corpmail.se
                certificates: {key: rsa1024}
        """
    )
    found = with_id(plan_of(text), "plan.weak-key")
    assert [w.certificate for w in found] == ["med1.ad.corpmail.se/default"]


@pytest.mark.parametrize("key", ["rsa2048", "rsa4096", "ec-p256", "ec-p384"])
def test_no_weak_key_warning_for_strong_keys(key: str) -> None:
    p = plan_of(minimal(BASE + f"defaults: {{key: {key}}}\n"))
    assert not with_id(p, "plan.weak-key")


# --- topology warnings --------------------------------------------------------------------------


def test_meet_url_missing() -> None:
    settings = """\
    sip_domains: [corpmail.se, partner.no]
    simple_urls: {meet: meet.corpmail.se, dialin: dialin.corpmail.se}
    """
    found = with_id(plan_of(minimal(settings)), "plan.meet-url-missing")
    assert [w.subject for w in found] == ["partner.no"]
    assert found[0].rule == "Q12"


@pytest.mark.parametrize(
    "meet",
    [
        # Lync's second simple URL option: one host, the SIP domain in the path
        "[https://lync.corpmail.se/meet/corpmail.se, https://lync.corpmail.se/meet/partner.no]",
        # the third: the domain before /meet
        "[https://lync.corpmail.se/corpmail.se/Meet, https://lync.corpmail.se/Partner.no/Meet]",
    ],
)
def test_meet_urls_in_path_form_name_their_domain(meet: str) -> None:
    settings = f"""\
    sip_domains: [corpmail.se, partner.no]
    simple_urls: {{meet: {meet}, dialin: dialin.corpmail.se}}
    """
    assert not with_id(plan_of(minimal(settings)), "plan.meet-url-missing")


def test_a_child_domains_meet_url_is_not_its_parents() -> None:
    """meet.eu.corpmail.se is eu.corpmail.se's meet URL; corpmail.se still has none."""
    settings = """\
    sip_domains: [corpmail.se, eu.corpmail.se]
    simple_urls: {meet: meet.eu.corpmail.se, dialin: dialin.corpmail.se}
    """
    found = with_id(plan_of(minimal(settings)), "plan.meet-url-missing")
    assert [w.subject for w in found] == ["corpmail.se"]
    settings = settings.replace("meet.eu.corpmail.se", "[meet.eu.corpmail.se, meet.corpmail.se]")
    assert not with_id(plan_of(minimal(settings)), "plan.meet-url-missing")


def test_lyncdiscover_over_http() -> None:
    settings = BASE + "mobility: true\n"
    rp = "fqdn: rp.corpmail.se\npublishes: [web.corpmail.se]\nlyncdiscover_over_http: true\n"
    found = with_id(plan_of(minimal(settings, reverse_proxy=rp)), "plan.lyncdiscover-over-http")
    assert len(found) == 1
    assert found[0].rule == "R-MOB-03"
    rp = "fqdn: rp.corpmail.se\npublishes: [web.corpmail.se]\n"
    assert not with_id(plan_of(minimal(settings, reverse_proxy=rp)), "plan.lyncdiscover-over-http")


def test_web_not_published() -> None:
    rp = "fqdn: rp.corpmail.se\npublishes: [webdir.corpmail.se]\n"
    director = """\
    - role: director
      fqdn: dirpool.ad.corpmail.se
      servers: [dir1.ad.corpmail.se]
      web_services: {external: webdir.corpmail.se}
    """
    found = with_id(plan_of(minimal(BASE, director, rp)), "plan.web-not-published")
    assert [w.subject for w in found] == ["web.corpmail.se"]


def test_web_not_published_without_reverse_proxy() -> None:
    text = BASE + textwrap.dedent(
        """\
        sites:
          - name: Stockholm
            pools:
              - role: front_end
                fqdn: pool.ad.corpmail.se
                servers: [fe1.ad.corpmail.se]
                web_services: {external: web.corpmail.se}
        """
    )
    found = with_id(plan_of(text), "plan.web-not-published")
    assert [w.subject for w in found] == ["web.corpmail.se"]


def test_no_front_end() -> None:
    text = BASE + textwrap.dedent(
        """\
        sites:
          - name: Stockholm
            pools:
              - {role: mediation, fqdn: med1.ad.corpmail.se}
        """
    )
    p = plan_of(text)
    assert len(with_id(p, "plan.no-front-end")) == 1


def test_wildcards_in_use() -> None:
    found = with_id(plan_of(minimal(BASE + "wildcards: true\n")), "plan.wildcards-in-use")
    assert len(found) == 1
    assert found[0].rule == "R-GEN-08"
    assert str(found[0].severity) == "info"


def test_persistent_chat_ca() -> None:
    pool = "- {role: persistent_chat, fqdn: pc1.ad.corpmail.se, certificates: {issuer: public}}\n"
    found = with_id(plan_of(minimal(BASE, pool)), "plan.persistent-chat-ca")
    assert [w.subject for w in found] == ["pc1.ad.corpmail.se"]
    assert found[0].rule == "R-GEN-09"


def test_persistent_chat_with_the_internal_servers_ca_is_fine() -> None:
    pool = "- {role: persistent_chat, fqdn: pc1.ad.corpmail.se, certificates: {issuer: internal}}\n"
    assert not with_id(plan_of(minimal(BASE, pool)), "plan.persistent-chat-ca")


PUBLIC_FE = """\
sites:
  - name: Stockholm
    pools:
      - role: front_end
        fqdn: pool.ad.corpmail.se
        servers: [fe1.ad.corpmail.se, fe2.ad.corpmail.se]
        web_services: {external: web.corpmail.se}
        certificates: {issuer: public}
      - role: persistent_chat
        fqdn: pc1.ad.corpmail.se
        servers: [pc1a.ad.corpmail.se, pc1b.ad.corpmail.se]
        CHAT_OPTIONS
    reverse_proxy: {fqdn: rp.corpmail.se, publishes: [web.corpmail.se]}
"""


def test_persistent_chat_ca_compares_the_issuers_planned() -> None:
    """R-GEN-09: a Front End pool planned from a public CA (its certificates.issuer) and
    Persistent Chat from the internal one (no override) passed: only the Persistent Chat
    pool's own override was compared with certificate_authorities.internal_servers."""
    p = plan_of(BASE + PUBLIC_FE.replace("CHAT_OPTIONS", ""))
    assert {str(c.issuer) for c in p.certificates if c.role == "persistent_chat"} == {"internal"}
    (found,) = with_id(p, "plan.persistent-chat-ca")
    assert found.subject == "pc1.ad.corpmail.se"
    assert "internal CA" in found.message and "pool.ad.corpmail.se uses the public CA" in (
        found.message
    )
    assert "certificates.issuer: public on Persistent Chat pool pc1.ad.corpmail.se" in found.fix


def test_persistent_chat_on_the_front_end_pools_ca_is_fine() -> None:
    """Both pools planned from the public CA by their own overrides: the same CA (the old check
    warned, comparing the override with certificate_authorities.internal_servers)."""
    p = plan_of(BASE + PUBLIC_FE.replace("CHAT_OPTIONS", "certificates: {issuer: public}"))
    assert not with_id(p, "plan.persistent-chat-ca")
    settings = BASE + "certificate_authorities: {internal_servers: public}\n"
    p = plan_of(settings + PUBLIC_FE.replace("CHAT_OPTIONS", ""))
    assert not with_id(p, "plan.persistent-chat-ca")


def test_the_admin_url_on_an_internet_facing_certificate() -> None:
    """`admin` published by the reverse proxy (or added to the Edge's SANs) was planned onto
    public certificates without a word; R-RP-01: not admin."""
    settings = (
        "sip_domains: [corpmail.se]\n"
        "simple_urls: {meet: meet.corpmail.se, admin: admin.corpmail.se}\n"
    )
    rp = "fqdn: rp.corpmail.se\npublishes: [web.corpmail.se, admin.corpmail.se]\n"
    found = with_id(plan_of(minimal(settings, reverse_proxy=rp)), "plan.admin-external")
    assert [w.certificate for w in found] == ["rp.corpmail.se/reverse-proxy"], found
    assert not with_id(plan_of(minimal(settings)), "plan.admin-external")


def test_an_admin_url_sharing_the_meet_host_is_a_note_about_paths() -> None:
    """Simple URLs on one host (https://lync.corpmail.se/meet, /dialin, /admin, which the
    README allows): the host must stay on the proxy's certificate for meet and dial-in, so
    "remove it from publishes" could not be done; what keeps admin inside is the proxy's
    path rule, said as a note (not a warning that fails --strict)."""
    settings = (
        "sip_domains: [corpmail.se]\n"
        "simple_urls: {meet: 'https://lync.corpmail.se/meet', "
        "dialin: 'https://lync.corpmail.se/dialin', admin: 'https://lync.corpmail.se/admin'}\n"
    )
    found = with_id(plan_of(minimal(settings)), "plan.admin-external")
    assert [(w.certificate, w.severity) for w in found] == [
        ("rp.corpmail.se/reverse-proxy", "info")
    ], found
    assert "/admin" in found[0].fix and "publishes" not in found[0].fix


def test_a_reverse_proxy_publishing_an_internal_or_unknown_name() -> None:
    """D2: the reverse proxy publishes the pools' External web services FQDNs. An internal
    pool FQDN and a misspelt name were planned onto the public certificate without a word."""
    rp = (
        "fqdn: rp.corpmail.se\n"
        "publishes: [web.corpmail.se, pool.ad.corpmail.se, fe1.ad.corpmail.se, wbe.corpmail.se]\n"
    )
    p = plan_of(BASE + minimal(reverse_proxy=rp))
    internal = with_id(p, "plan.rp-publishes-internal")
    assert sorted(w.subject for w in internal) == ["fe1.ad.corpmail.se", "pool.ad.corpmail.se"]
    assert all("web_services.external" in w.fix for w in internal)
    (unknown,) = with_id(p, "plan.rp-publishes-unknown")
    assert unknown.subject == "wbe.corpmail.se" and "web.corpmail.se" in unknown.fix
    # the names a reverse proxy does publish: external web services, simple URLs, lyncdiscover
    fine = "fqdn: rp.corpmail.se\npublishes: [web.corpmail.se, meet.corpmail.se, lyncdiscover.corpmail.se]\n"  # noqa: E501
    p = plan_of(BASE + minimal(reverse_proxy=fine))
    assert not with_id(p, "plan.rp-publishes-internal") + with_id(p, "plan.rp-publishes-unknown")


def test_client_authentication_from_the_webserver_template() -> None:
    """Public IM needs Client Authentication on the Edge external certificate; a WebServer
    template override gave both EKUs from a template that issues only one (R-GEN-02)."""
    settings = BASE + "federation: {enabled: true, public_im: true}\n"
    edge = EDGE + "  certificates: {template: WebServer}\n"
    found = with_id(plan_of(minimal(settings, edge)), "plan.client-auth-template")
    assert [w.certificate for w in found] == ["edgepool.ad.corpmail.se/edge-external"], found
    assert not with_id(plan_of(minimal(settings, EDGE)), "plan.client-auth-template")


@pytest.mark.parametrize("template", ["webserver", "WEBSERVER", "Web Server", "web server"])
def test_client_authentication_from_the_webserver_template_however_written(template: str) -> None:
    """The comparison was `== "WebServer"`: `webserver` or the display name `Web Server`
    (which AD CS matches case-insensitively, R-GEN-14) skipped the warning, and the request
    asked the WebServer template for Client Authentication."""
    from lyncpki.planning.rules import request_template

    settings = BASE + "federation: {enabled: true, public_im: true}\n"
    edge = EDGE + f"  certificates: {{template: {template}}}\n"
    found = with_id(plan_of(minimal(settings, edge)), "plan.client-auth-template")
    assert [w.certificate for w in found] == ["edgepool.ad.corpmail.se/edge-external"], found
    assert request_template(template, client_auth=True) == "LyncServer"
    assert request_template(template, client_auth=False) == template


def test_a_template_display_name_is_told_to_be_the_template_name() -> None:
    settings = BASE + "federation: {enabled: true}\n"
    edge = EDGE + "  certificates: {template: Lync Server Edge}\n"
    rp = (
        "fqdn: rp.corpmail.se\npublishes: [web.corpmail.se]\ncertificates: {template: Web Server}\n"
    )
    found = with_id(
        plan_of(minimal(settings, edge, reverse_proxy=rp)), "plan.template-display-name"
    )
    assert [(w.subject, w.rule) for w in found] == [
        ("sites[0].pools[1].certificates.template", "R-GEN-14"),
        ("sites[0].reverse_proxy.certificates.template", "R-GEN-14"),
    ]
    assert "display name" in found[0].message and "LyncServerEdge" in found[0].fix
    assert "e.g. WebServer" in found[1].fix
    quiet = EDGE + "  certificates: {template: LyncServerEdge}\n"
    assert not with_id(plan_of(minimal(settings, quiet)), "plan.template-display-name")


def test_a_pool_larger_than_lync_supports() -> None:
    """200 Front End servers in one pool planned without a word; Lync Server 2013 pools hold
    at most 12 (Front End, Edge) or 10 (Director) servers."""
    servers = ", ".join(f"big{n}.ad.corpmail.se" for n in range(13))
    pool = f"- {{role: front_end, fqdn: big.ad.corpmail.se, servers: [{servers}]}}\n"
    found = with_id(plan_of(minimal(BASE, pool)), "plan.pool-too-large")
    assert [w.subject for w in found] == ["big.ad.corpmail.se"], found
    assert "13 servers" in found[0].message and "at most 12" in found[0].message


def test_a_reverse_proxy_with_nothing_to_publish_is_an_error_naming_the_field() -> None:
    """The fix said 'define the reverse proxy subject in the topology', a field that does not
    exist; it names reverse_proxy.publishes. A proxy with no publishes in a site with no
    external web services of its own gets no certificate: meet, dialin and lyncdiscover were on
    no public certificate after a warning only; it is an error (plan exits 1)."""
    text = """\
    sip_domains: [corpmail.se]
    simple_urls: {meet: meet.corpmail.se, dialin: dialin.corpmail.se}
    sites:
      - name: Stockholm
        pools:
          - {role: front_end, fqdn: pool.ad.corpmail.se, servers: [fe1.ad.corpmail.se]}
        reverse_proxy: {fqdn: rp.corpmail.se}
    """
    p = plan_of(text)
    found = with_id(p, "plan.no-subject")
    assert [(w.subject, str(w.severity)) for w in found] == [
        ("Stockholm/rp.corpmail.se", "error")
    ], found
    assert "reverse_proxy.publishes" in found[0].fix, found
    assert "meet" in found[0].message and "lyncdiscover" in found[0].message
    assert not [c for c in p.certificates if c.role == "reverse_proxy"]


def test_a_reverse_proxy_without_publishes_publishes_its_sites_pools() -> None:
    """R-RP-01/R-MOB-03: a proxy that lists no publishes was planned no certificate at all
    (plan.no-subject), so meet, dialin, Office Web Apps and lyncdiscover were on no public
    certificate. It publishes its site's Front End, SE and Director external web services, and
    an info note says where the names came from."""
    text = """\
    sip_domains: [corpmail.se]
    simple_urls: {meet: meet.corpmail.se, dialin: dialin.corpmail.se}
    mobility: true
    sites:
      - name: Stockholm
        pools:
          - role: director
            fqdn: dir.ad.corpmail.se
            web_services: {external: webdir.corpmail.se}
          - role: front_end
            fqdn: pool.ad.corpmail.se
            servers: [fe1.ad.corpmail.se]
            web_services: {external: web.corpmail.se}
          - role: office_web_apps
            fqdn: owa.ad.corpmail.se
            web_services: {external: owa.corpmail.se}
        reverse_proxy: {fqdn: rp.corpmail.se}
    """
    p = plan_of(text)
    cert = p.by_id("rp.corpmail.se/reverse-proxy")
    assert cert.subject == "web.corpmail.se"  # the Front End pool's, not the Director's
    assert set(cert.sans) == {
        "web.corpmail.se",
        "webdir.corpmail.se",
        "meet.corpmail.se",
        "dialin.corpmail.se",
        "owa.corpmail.se",
        "lyncdiscover.corpmail.se",
    }
    assert str(cert.issuer) == "public"
    assert not with_id(p, "plan.no-subject")
    assert not with_id(p, "plan.web-not-published")  # the proxy publishes them
    (implied,) = with_id(p, "plan.rp-publishes-implied")
    assert str(implied.severity) == "info" and implied.subject == "site Stockholm"
    assert "webdir.corpmail.se" in implied.message and "reverse_proxy.publishes" in implied.fix


def test_an_admin_url_outside_the_sip_domains_is_accepted() -> None:
    """The admin URL is internal only (https://lyncadmin.corp.local): it was refused for not
    being under a SIP domain, and the fix (add its domain to sip_domains) would be wrong."""
    settings = BASE.replace(
        "dialin.corpmail.se}", "dialin.corpmail.se, admin: lyncadmin.corp.local}"
    )
    assert "lyncadmin.corp.local" in settings
    assert plan_of(minimal(settings)).certificates


def test_a_subject_longer_than_a_cn_is_an_error() -> None:
    """A pool FQDN of 73 characters passed validate and plan --strict, then `request` crashed
    (exit 70) where pyca refused the CN; 64 characters are still a subject. A pool FQDN is
    refused by validation, at its line; a subject the plan picks among other names (the
    reverse proxy's) is an error of the plan."""
    long_pool = "p" * 60 + ".corpmail.se"  # 72 characters
    fits = "p" * 52 + ".corpmail.se"  # 64
    text = BASE + minimal().replace("pool.ad.corpmail.se", long_pool)
    with pytest.raises(TopologyError) as refused:
        plan_of(text)
    (issue,) = refused.value.issues
    where = 1 + next(n for n, line in enumerate(text.splitlines()) if long_pool in line)
    assert issue.field == "sites[0].pools[0].fqdn" and issue.line == where
    assert "72 characters" in issue.message and "64" in issue.message
    assert not with_id(plan_of(BASE + minimal().replace("pool.ad.corpmail.se", fits)),
                       "plan.subject-too-long")  # fmt: skip
    long_web = "w" * 60 + ".corpmail.se"  # the reverse proxy's subject, published
    p = plan_of(BASE + minimal().replace("web.corpmail.se", long_web))
    found = with_id(p, "plan.subject-too-long")
    assert found and {w.certificate for w in found} == {
        c.id for c in p.certificates if c.subject == long_web
    }
    assert all(w.severity == "error" and "72 characters" in w.message for w in found)


LONG_DOMAIN = "s" * 55 + ".corpmail.se"  # 67 characters: a SIP domain, not a CN


@pytest.mark.parametrize("explicit", [False, True])
def test_a_long_oauth_subject_is_fixed_by_oauth_subject(explicit: bool) -> None:
    """The OAuth certificate's subject is oauth.subject, else the default SIP domain: the fix
    said to shorten the SIP domain, which no one can; it names oauth.subject."""
    settings = (
        f"sip_domains: [{LONG_DOMAIN}, corpmail.se]\n"
        f"simple_urls: {{meet: [meet.{LONG_DOMAIN}, meet.corpmail.se]}}\n"
    )
    if explicit:
        settings = (
            "sip_domains: [corpmail.se]\nsimple_urls: {meet: meet.corpmail.se}\n"
            f"oauth: {{subject: {LONG_DOMAIN}}}\n"
        )
    found = with_id(plan_of(minimal(settings)), "plan.subject-too-long")
    assert [w.certificate for w in found] == ["global/oauth"]
    assert "set oauth.subject" in found[0].fix
    assert ("the default SIP domain" in found[0].fix) is not explicit
    assert f"shorten {LONG_DOMAIN}" not in found[0].fix


def test_a_long_reverse_proxy_subject_is_fixed_in_what_it_publishes() -> None:
    long_web = "w" * 60 + ".corpmail.se"
    found = with_id(
        plan_of(BASE + minimal().replace("web.corpmail.se", long_web)), "plan.subject-too-long"
    )
    rp = [w for w in found if w.certificate == "rp.corpmail.se/reverse-proxy"]
    assert rp and "reverse_proxy.publishes of site Stockholm" in rp[0].fix


# --- whole-certificate advice with layout: combined (R-GEN-17) ----------------------------------


def test_combined_layout_judges_the_merged_certificate_once() -> None:
    """The checks ran on the Default, web-internal and web-external parts before they were
    merged: a merged public certificate over the SAN limit passed (each part was under it),
    and every warning was said once per part, naming parts the report does not list."""
    settings = BASE + (
        "mobility: true\n"
        "defaults: {layout: combined, public_ca_san_limit: 6, key: rsa1024}\n"
        "certificate_authorities: {internal_servers: public}\n"
    )
    p = plan(load_topology_text(textwrap.dedent(minimal(settings)), "t.yaml"))
    merged = p.by_id("fe1.ad.corpmail.se/default")
    assert "WebServicesExternal" in merged.usages and len(merged.sans) > 6
    ids = {c.id for c in p.certificates}
    assert {w.certificate for w in p.warnings if w.certificate} <= ids
    mine = [(w.id, w.certificate) for w in p.warnings if w.certificate == merged.id]
    assert sorted(mine) == [
        ("plan.too-many-sans", merged.id),
        ("plan.weak-key", merged.id),
    ]
    assert sorted((w.id, w.certificate) for w in merged.warnings) == sorted(mine)


def test_combined_layout_keeps_the_wildcard_advice_of_each_part() -> None:
    """A simple URL's wildcard (a web services name, R-GEN-08) is accepted on the merged
    certificate; a wildcard only the Default part carries (additional_sans) is still not."""
    settings = BASE + "wildcards: true\ndefaults: {layout: combined}\n"
    text = minimal(settings).replace(
        "servers: [fe1.ad.corpmail.se]\n",
        "servers: [fe1.ad.corpmail.se]\n        additional_sans: ['*.ad.corpmail.se']\n",
    )
    p = plan(load_topology_text(textwrap.dedent(text), "t.yaml"))
    found = with_id(p, "plan.wildcard-not-accepted")
    assert [(w.certificate, w.subject) for w in found] == [
        ("fe1.ad.corpmail.se/default", "*.ad.corpmail.se")
    ]
    assert "*.corpmail.se" in p.by_id("fe1.ad.corpmail.se/default").sans


# --- plan.no-external-web (R-FE-03, R-SE-03, R-DIR-03) ------------------------------------------


def test_a_pool_without_an_external_web_name_is_told_its_certificate_is_missing() -> None:
    """R-FE-03/R-SE-03/R-DIR-03 list WebServicesExternal for every such pool; without
    web_services.external it was left out of the plan without a word."""
    text = """\
    sip_domains: [corpmail.se]
    simple_urls: {meet: meet.corpmail.se, dialin: dialin.corpmail.se}
    sites:
      - name: Stockholm
        pools:
          - {role: front_end, fqdn: pool.ad.corpmail.se, servers: [fe1.ad.corpmail.se]}
          - role: director
            fqdn: dir.ad.corpmail.se
            web_services: {internal: dirweb.ad.corpmail.se}
          - {role: mediation, fqdn: med.ad.corpmail.se}
      - name: Malmo
        pools:
          - {role: standard_edition, fqdn: se1.ad.corpmail.se}
    """
    p = plan_of(text)
    assert not [c for c in p.certificates if "WebServicesExternal" in c.usages]
    found = with_id(p, "plan.no-external-web")
    assert [(w.subject, w.rule, w.severity) for w in found] == [
        ("pool.ad.corpmail.se", "R-FE-03", "warning"),
        ("dir.ad.corpmail.se", "R-DIR-03", "warning"),
        ("se1.ad.corpmail.se", "R-SE-03", "warning"),
    ]
    assert "WebServicesExternal" in found[0].message and "Stockholm" in found[0].message
    assert "Malmo" in found[2].message
    assert all("web_services.external" in w.fix for w in found)


def test_every_warning_id_is_in_the_readme_table() -> None:
    from lyncpki.planning.advice import ALL_ADVICE

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("### Warnings", 1)[1].split("\n## ", 1)[0]
    assert {a.id for a in ALL_ADVICE} == set(ALL_IDS) | {"plan.no-subject"}
    missing = [a.id for a in ALL_ADVICE if f"| `{a.id}` |" not in table]
    assert missing == []


@pytest.mark.parametrize("warning_id", ALL_IDS)
def test_each_warning_id_absent_from_clean_topology(warning_id: str) -> None:
    assert not with_id(plan_of(CLEAN), warning_id)


def test_every_warning_has_message_and_fix() -> None:
    text = """\
    organization: {name: Contoso Ltd}
    sip_domains: [contoso.com, partner.no]
    simple_urls: {meet: meet.contoso.com}
    mobility: true
    wildcards: true
    automatic_sign_in: false
    defaults: {key: rsa1024}
    certificate_authorities: {edge_external: internal}
    sites:
      - name: Stockholm
        pools:
          - {role: persistent_chat, fqdn: pc1.ad.corpmail.se, certificates: {issuer: public}}
          - role: edge
            fqdn: edge1.ad.corpmail.se
            external: {access: access.corpmail.se, webconf: wc.corpmail.se, av: av.corpmail.se}
            additional_sans: ['*.corpmail.se']
    """
    p = plan_of(text)
    for w in p.warnings:
        assert w.message and w.fix and w.rule, w


# --- plan.public-validity (R-GEN-09; CA/Browser Forum ballot SC-081v3) ----------------------


@pytest.mark.parametrize(
    ("on", "days"),
    [
        # the public CAs' limits of SC-081v3, by issuance day
        (dt.date(2026, 3, 14), 398),
        (dt.date(2026, 3, 15), 200),
        (dt.date(2027, 3, 15), 100),
        (dt.date(2029, 3, 15), 47),
    ],
)
def test_a_public_certificate_is_planned_as_long_as_public_cas_issue(
    on: dt.date, days: int
) -> None:
    topology = load_topology_text(textwrap.dedent(minimal(BASE, EDGE)), "t.yaml")
    p = plan(topology, PlanOptions(on=on))
    public = [c for c in p.certificates if str(c.issuer) == "public"]
    internal = [c for c in p.certificates if str(c.issuer) == "internal"]
    assert public and internal
    assert {c.validity_days for c in public} == {days}
    assert {c.validity_days for c in internal} == {730}  # an internal CA is not bound
    assert not [w for w in p.warnings if w.id == "plan.public-validity"]


def test_a_longer_public_validity_asked_for_is_kept_and_warned_about() -> None:
    settings = BASE + "defaults: {validity_days: 730}\n"
    topology = load_topology_text(textwrap.dedent(minimal(settings, EDGE)), "t.yaml")
    p = plan(topology, PlanOptions(on=dt.date(2026, 12, 1)))
    public = {c.id for c in p.certificates if str(c.issuer) == "public"}
    assert {c.validity_days for c in p.certificates if c.id in public} == {730}
    found = [w for w in p.warnings if w.id == "plan.public-validity"]
    assert sorted(w.subject for w in found) == sorted(public)
    assert all("at most 200 days" in w.message and w.rule == "R-GEN-09" for w in found)


def test_a_public_validity_from_the_defaults_names_defaults_validity_days() -> None:
    settings = BASE + "defaults: {validity_days: 730}\n"
    topology = load_topology_text(textwrap.dedent(minimal(settings, EDGE)), "t.yaml")
    found = with_id(plan(topology, PlanOptions(on=dt.date(2026, 12, 1))), "plan.public-validity")
    assert found and all("defaults.validity_days" in w.fix for w in found)
    rp = "fqdn: rp.corpmail.se\npublishes: [web.corpmail.se]\ncertificates: {validity_days: 500}\n"
    topology = load_topology_text(textwrap.dedent(minimal(BASE, reverse_proxy=rp)), "t.yaml")
    (own,) = with_id(plan(topology, PlanOptions(on=dt.date(2026, 12, 1))), "plan.public-validity")
    assert "defaults.validity_days" not in own.fix and "certificates options" in own.fix


def test_a_new_topology_plans_public_certificates_without_validity_warnings() -> None:
    """`topology init` wrote defaults.validity_days: 730, which turned off the public CAs'
    cap: a fresh topology planned 730-day public certificates, with a warning each."""
    example = files("lyncpki.topology") / "example.yaml"
    p = plan(load_topology(str(example)), PlanOptions(on=dt.date(2026, 12, 1)))
    assert not with_id(p, "plan.public-validity")
    public = [c for c in p.certificates if str(c.issuer) == "public"]
    assert public and {c.validity_days for c in public} == {200}
    assert "validity_days" in example.read_text()  # the comment that says why it is left out
