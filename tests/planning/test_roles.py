"""The certificates of each role, written out by hand from shared/REQUIREMENTS.md (§2-§3, §6).

Every expected subject, SAN set, usage, issuer and flag below is spelled as a literal: nothing is
computed by the planner to build an expectation. SAN order is irrelevant (R-GEN-07), so SANs are
compared as sets, except that the subject must be the first SAN.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

import pytest

from lyncpki.planning import CertificatePlan, PlannedCertificate, PlanOptions, plan
from lyncpki.topology import Layout, Topology, TopologyError, load_topology_text

# Two SIP domains, one meet URL per SIP domain (Q12), dial-in and admin under the first.
HEADER = """\
sip_domains: [corpmail.se, partner.no]
simple_urls:
  meet: [meet.corpmail.se, meet.partner.no]
  dialin: dialin.corpmail.se
  admin: admin.corpmail.se
"""

SIP = {"sip.corpmail.se", "sip.partner.no"}
MEET_DIALIN = {"meet.corpmail.se", "meet.partner.no", "dialin.corpmail.se"}
SIMPLE = MEET_DIALIN | {"admin.corpmail.se"}
LYNCDISCOVER = {"lyncdiscover.corpmail.se", "lyncdiscover.partner.no"}
LYNCDISCOVER_INTERNAL = {"lyncdiscoverinternal.corpmail.se", "lyncdiscoverinternal.partner.no"}

# An Enterprise Front End pool of two servers with its own web services names.
FE_POOL = """\
      - role: front_end
        fqdn: pool.ad.corpmail.se
        servers: [fe1.ad.corpmail.se, fe2.ad.corpmail.se]
        web_services: {internal: webint.ad.corpmail.se, external: web.corpmail.se}
"""

EDGE_POOL = """\
      - role: edge
        fqdn: edgepool.ad.corpmail.se
        servers: [edge1.ad.corpmail.se, edge2.ad.corpmail.se]
        external: {access: sip.corpmail.se, webconf: webconf.corpmail.se, av: av.corpmail.se}
"""


def topology(settings: str = "", *pools: str, reverse_proxy: str = "") -> Topology:
    """HEADER + top-level settings + one site named Stockholm with `pools`."""
    text = HEADER + textwrap.dedent(settings)
    text += "sites:\n  - name: Stockholm\n    pools:\n" + "".join(pools)
    if reverse_proxy:
        text += "    reverse_proxy:\n" + textwrap.indent(textwrap.dedent(reverse_proxy), " " * 6)
    return load_topology_text(text, "test.yaml")


def ids(p: CertificatePlan) -> set[str]:
    return {c.id for c in p.certificates}


def check(
    cert: PlannedCertificate,
    *,
    subject: str,
    sans: Iterable[str],
    usages: Iterable[str],
    issuer: str,
    exportable: bool,
    eku: Iterable[str] = ("serverAuth",),
    template: str = "WebServer",
    rules: Iterable[str] = (),
    servers: Iterable[str] | None = None,
) -> None:
    """One certificate against hand-written expectations."""
    assert cert.subject == subject
    assert cert.sans[0] == subject, "R-GEN-07: the subject is repeated as the first SAN"
    assert len(cert.sans) == len(set(cert.sans)), "SANs are deduplicated"
    assert set(cert.sans) == set(sans)
    assert {str(u) for u in cert.usages} == set(usages)
    assert str(cert.issuer) == issuer
    assert cert.exportable is exportable
    assert {str(e) for e in cert.eku} == set(eku)
    assert cert.template == template
    missing = set(rules) - set(cert.rules)
    assert not missing, f"rules {missing} not cited by {cert.id}: {cert.rules}"
    if servers is not None:
        assert set(cert.servers) == set(servers)


# --- Standard Edition (R-SE-01..03) -------------------------------------------------------------

SE_POOL = """\
      - role: standard_edition
        fqdn: se1.ad.corpmail.se
        web_services: {external: webse.corpmail.se}
"""


def test_standard_edition_has_default_and_both_web_certificates() -> None:
    p = plan(topology("", SE_POOL))
    assert ids(p) == {
        "se1.ad.corpmail.se/default",
        "se1.ad.corpmail.se/web-internal",
        "se1.ad.corpmail.se/web-external",
        "global/oauth",
    }
    check(
        p.by_id("se1.ad.corpmail.se/default"),
        subject="se1.ad.corpmail.se",
        sans={"se1.ad.corpmail.se", "sip.corpmail.se", "sip.partner.no"},
        usages={"Default"},
        issuer="internal",
        exportable=False,
        rules={"R-SE-01"},
        servers={"se1.ad.corpmail.se"},
    )
    check(
        p.by_id("se1.ad.corpmail.se/web-internal"),
        subject="se1.ad.corpmail.se",
        sans={
            "se1.ad.corpmail.se",
            "meet.corpmail.se",
            "meet.partner.no",
            "dialin.corpmail.se",
            "admin.corpmail.se",
        },
        usages={"WebServicesInternal"},
        issuer="internal",
        exportable=False,
        rules={"R-SE-02"},
        servers={"se1.ad.corpmail.se"},
    )
    check(
        p.by_id("se1.ad.corpmail.se/web-external"),
        subject="se1.ad.corpmail.se",
        sans={
            "se1.ad.corpmail.se",
            "webse.corpmail.se",
            "meet.corpmail.se",
            "meet.partner.no",
            "dialin.corpmail.se",
        },
        usages={"WebServicesExternal"},
        issuer="internal",
        exportable=False,
        rules={"R-SE-03"},
        servers={"se1.ad.corpmail.se"},
    )


def test_admin_url_is_internal_only() -> None:
    """Q3: admin is an internal simple URL: never on WebServicesExternal nor the RP (R-RP-01)."""
    p = plan(
        topology(
            "",
            SE_POOL,
            reverse_proxy="fqdn: rp.corpmail.se\npublishes: [webse.corpmail.se]\n",
        )
    )
    assert "admin.corpmail.se" in p.by_id("se1.ad.corpmail.se/web-internal").sans
    assert "admin.corpmail.se" not in p.by_id("se1.ad.corpmail.se/web-external").sans
    assert "admin.corpmail.se" not in p.by_id("rp.corpmail.se/reverse-proxy").sans


# --- Front End pool (R-FE-01..03) ---------------------------------------------------------------


def test_front_end_pool_has_one_certificate_set_per_server() -> None:
    p = plan(topology("", FE_POOL))
    assert ids(p) == {
        "fe1.ad.corpmail.se/default",
        "fe1.ad.corpmail.se/web-internal",
        "fe1.ad.corpmail.se/web-external",
        "fe2.ad.corpmail.se/default",
        "fe2.ad.corpmail.se/web-internal",
        "fe2.ad.corpmail.se/web-external",
        "global/oauth",
    }


@pytest.mark.parametrize(
    ("server", "other"),
    [("fe1.ad.corpmail.se", "fe2.ad.corpmail.se"), ("fe2.ad.corpmail.se", "fe1.ad.corpmail.se")],
)
def test_front_end_certificates_of_each_server(server: str, other: str) -> None:
    p = plan(topology("", FE_POOL))
    default = p.by_id(f"{server}/default")
    check(
        default,
        subject="pool.ad.corpmail.se",
        sans={"pool.ad.corpmail.se", server, "sip.corpmail.se", "sip.partner.no"},
        usages={"Default"},
        issuer="internal",
        exportable=False,
        rules={"R-FE-01"},
        servers={server},
    )
    web_internal = p.by_id(f"{server}/web-internal")
    check(
        web_internal,
        subject="pool.ad.corpmail.se",
        sans={
            "pool.ad.corpmail.se",
            "webint.ad.corpmail.se",
            server,
            "meet.corpmail.se",
            "meet.partner.no",
            "dialin.corpmail.se",
            "admin.corpmail.se",
        },
        usages={"WebServicesInternal"},
        issuer="internal",
        exportable=False,
        rules={"R-FE-02"},
        servers={server},
    )
    web_external = p.by_id(f"{server}/web-external")
    check(
        web_external,
        subject="pool.ad.corpmail.se",
        sans={
            "pool.ad.corpmail.se",
            "web.corpmail.se",
            "meet.corpmail.se",
            "meet.partner.no",
            "dialin.corpmail.se",
        },
        usages={"WebServicesExternal"},
        issuer="internal",
        exportable=False,
        rules={"R-FE-03"},
        servers={server},
    )
    for cert in (default, web_internal, web_external):
        assert other not in cert.sans, "a server's certificate names only that server"


def test_internal_web_fqdn_defaults_to_the_pool_fqdn() -> None:
    pool = """\
      - role: front_end
        fqdn: pool.ad.corpmail.se
        servers: [fe1.ad.corpmail.se]
        web_services: {external: web.corpmail.se}
"""
    cert = plan(topology("", pool)).by_id("fe1.ad.corpmail.se/web-internal")
    assert set(cert.sans) == {"pool.ad.corpmail.se", "fe1.ad.corpmail.se"} | SIMPLE


def test_names_are_lowercase() -> None:
    pool = """\
      - role: front_end
        fqdn: POOL.AD.CorpMail.SE
        servers: [FE1.ad.corpmail.se]
        web_services: {external: Web.CorpMail.se}
"""
    p = plan(topology("", pool))
    default = p.by_id("fe1.ad.corpmail.se/default")
    assert default.subject == "pool.ad.corpmail.se"
    assert set(default.sans) == {"pool.ad.corpmail.se", "fe1.ad.corpmail.se"} | SIP
    for cert in p.certificates:
        assert all(name == name.lower() for name in cert.sans), cert.id


def test_additional_sans_go_on_the_default_certificate() -> None:
    """R-GEN-07: names of SIP domains planned later may be added to the Default certificate."""
    pool = """\
      - role: front_end
        fqdn: pool.ad.corpmail.se
        servers: [fe1.ad.corpmail.se]
        additional_sans: [sip.newco.se]
"""
    default = plan(topology("", pool)).by_id("fe1.ad.corpmail.se/default")
    assert set(default.sans) == {"pool.ad.corpmail.se", "fe1.ad.corpmail.se", "sip.newco.se"} | SIP


def test_front_end_without_external_web_fqdn_has_no_web_external_certificate() -> None:
    pool = """\
      - role: front_end
        fqdn: pool.ad.corpmail.se
        servers: [fe1.ad.corpmail.se]
"""
    assert ids(plan(topology("", pool))) == {
        "fe1.ad.corpmail.se/default",
        "fe1.ad.corpmail.se/web-internal",
        "global/oauth",
    }


# --- Director (R-DIR-01..03) --------------------------------------------------------------------

DIRECTOR_POOL = """\
      - role: director
        fqdn: dirpool.ad.corpmail.se
        servers: [dir1.ad.corpmail.se]
        web_services: {external: webdir.corpmail.se}
"""


def test_director_certificates() -> None:
    p = plan(topology("", FE_POOL, DIRECTOR_POOL))
    assert {i for i in ids(p) if i.startswith("dir1.")} == {
        "dir1.ad.corpmail.se/default",
        "dir1.ad.corpmail.se/web-internal",
        "dir1.ad.corpmail.se/web-external",
    }
    check(
        p.by_id("dir1.ad.corpmail.se/default"),
        subject="dirpool.ad.corpmail.se",
        sans={"dirpool.ad.corpmail.se", "dir1.ad.corpmail.se", "sip.corpmail.se", "sip.partner.no"},
        usages={"Default"},
        issuer="internal",
        exportable=False,
        rules={"R-DIR-01"},
        servers={"dir1.ad.corpmail.se"},
    )
    # Q2: the subject of a pool member's web certificates is the pool FQDN.
    check(
        p.by_id("dir1.ad.corpmail.se/web-internal"),
        subject="dirpool.ad.corpmail.se",
        sans={
            "dirpool.ad.corpmail.se",
            "dir1.ad.corpmail.se",
            "meet.corpmail.se",
            "meet.partner.no",
            "dialin.corpmail.se",
            "admin.corpmail.se",
        },
        usages={"WebServicesInternal"},
        issuer="internal",
        exportable=False,
        rules={"R-DIR-02"},
    )
    check(
        p.by_id("dir1.ad.corpmail.se/web-external"),
        subject="dirpool.ad.corpmail.se",
        sans={
            "dirpool.ad.corpmail.se",
            "webdir.corpmail.se",
            "meet.corpmail.se",
            "meet.partner.no",
            "dialin.corpmail.se",
        },
        usages={"WebServicesExternal"},
        issuer="internal",
        exportable=False,
        rules={"R-DIR-03"},
    )


# --- Mediation, Persistent Chat, SBA (R-MED-01, R-PC-01, R-SBA-01) ------------------------------


def test_stand_alone_mediation_has_one_default_per_server() -> None:
    pool = """\
      - role: mediation
        fqdn: medpool.ad.corpmail.se
        servers: [med1.ad.corpmail.se, med2.ad.corpmail.se]
"""
    p = plan(topology("automatic_sign_in: true\n", FE_POOL, pool))
    assert {i for i in ids(p) if i.startswith("med")} == {
        "med1.ad.corpmail.se/default",
        "med2.ad.corpmail.se/default",
    }
    for server in ("med1.ad.corpmail.se", "med2.ad.corpmail.se"):
        check(
            p.by_id(f"{server}/default"),
            subject="medpool.ad.corpmail.se",
            sans={"medpool.ad.corpmail.se", server},  # no sip.<d>: not a registrar
            usages={"Default"},
            issuer="internal",
            exportable=False,
            rules={"R-MED-01"},
            servers={server},
        )


def test_persistent_chat_has_one_default_per_server() -> None:
    pool = """\
      - role: persistent_chat
        fqdn: pcpool.ad.corpmail.se
        servers: [pc1.ad.corpmail.se, pc2.ad.corpmail.se]
"""
    p = plan(topology("", FE_POOL, pool))
    assert {i for i in ids(p) if i.startswith("pc")} == {
        "pc1.ad.corpmail.se/default",
        "pc2.ad.corpmail.se/default",
    }
    for server in ("pc1.ad.corpmail.se", "pc2.ad.corpmail.se"):
        check(
            p.by_id(f"{server}/default"),
            subject=server,
            sans={server},
            usages={"Default"},
            issuer="internal",  # same CA as the other internal servers (R-GEN-09)
            exportable=False,
            rules={"R-PC-01"},
            servers={server},
        )


@pytest.mark.parametrize("automatic_sign_in", ["true", "false"])
def test_sba_carries_sip_name_of_every_sip_domain(automatic_sign_in: str) -> None:
    pool = """\
      - role: sba
        fqdn: sba1.branch.corpmail.se
"""
    p = plan(topology(f"automatic_sign_in: {automatic_sign_in}\n", FE_POOL, pool))
    assert {i for i in ids(p) if i.startswith("sba")} == {"sba1.branch.corpmail.se/default"}
    check(
        p.by_id("sba1.branch.corpmail.se/default"),
        subject="sba1.branch.corpmail.se",
        sans={"sba1.branch.corpmail.se", "sip.corpmail.se", "sip.partner.no"},
        usages={"Default"},
        issuer="internal",
        exportable=False,
        rules={"R-SBA-01"},
        servers={"sba1.branch.corpmail.se"},
    )


# --- Edge pool (R-EDGE-01..03, R-XMPP-01) -------------------------------------------------------

EDGE_SERVERS = {"edge1.ad.corpmail.se", "edge2.ad.corpmail.se"}


def test_edge_pool_certificates_are_shared_by_the_pool() -> None:
    p = plan(topology("automatic_sign_in: true\n", FE_POOL, EDGE_POOL))
    assert {i for i in ids(p) if i.startswith("edge")} == {
        "edgepool.ad.corpmail.se/edge-external",
        "edgepool.ad.corpmail.se/edge-internal",
    }
    check(
        p.by_id("edgepool.ad.corpmail.se/edge-external"),
        subject="sip.corpmail.se",
        # Access Edge (repeated), Web Conferencing Edge, sip.<d>; not the A/V Edge (Q1).
        sans={"sip.corpmail.se", "webconf.corpmail.se", "sip.partner.no"},
        usages={"AccessEdgeExternal", "DataEdgeExternal", "AudioVideoAuthentication"},
        issuer="public",
        exportable=True,
        rules={"R-EDGE-01"},
        servers=EDGE_SERVERS,
    )
    check(
        p.by_id("edgepool.ad.corpmail.se/edge-internal"),
        subject="edgepool.ad.corpmail.se",
        sans={"edgepool.ad.corpmail.se"},
        usages={"Internal"},
        issuer="internal",
        exportable=True,  # one certificate exported to every pool member (Q16, R-GEN-12)
        rules={"R-EDGE-03"},
        servers=EDGE_SERVERS,
    )


def test_edge_external_without_auto_configuration_nor_federation() -> None:
    p = plan(
        topology("automatic_sign_in: false\nfederation: {enabled: false}\n", FE_POOL, EDGE_POOL)
    )
    cert = p.by_id("edgepool.ad.corpmail.se/edge-external")
    assert set(cert.sans) == {"sip.corpmail.se", "webconf.corpmail.se"}


def test_edge_external_with_federation_only_has_every_sip_name() -> None:
    p = plan(
        topology("automatic_sign_in: false\nfederation: {enabled: true}\n", FE_POOL, EDGE_POOL)
    )
    cert = p.by_id("edgepool.ad.corpmail.se/edge-external")
    assert set(cert.sans) == {"sip.corpmail.se", "webconf.corpmail.se", "sip.partner.no"}
    assert {str(e) for e in cert.eku} == {"serverAuth"}, "SIP federation needs no Client Auth"


def test_public_im_adds_client_auth_to_the_edge_external_certificate_only() -> None:
    settings = "federation: {enabled: true, public_im: true}\n"
    p = plan(topology(settings, FE_POOL, EDGE_POOL))
    check(
        p.by_id("edgepool.ad.corpmail.se/edge-external"),
        subject="sip.corpmail.se",
        sans={"sip.corpmail.se", "webconf.corpmail.se", "sip.partner.no"},
        usages={"AccessEdgeExternal", "DataEdgeExternal", "AudioVideoAuthentication"},
        issuer="public",
        exportable=True,
        eku={"serverAuth", "clientAuth"},
        template="LyncServer",  # WebServer cannot carry Client Auth (R-GEN-02, R-GEN-14)
        rules={"R-EDGE-01", "R-GEN-02"},
    )
    for cert in p.certificates:
        if cert.id != "edgepool.ad.corpmail.se/edge-external":
            assert {str(e) for e in cert.eku} == {"serverAuth"}, cert.id
            assert cert.template != "LyncServer", cert.id


def test_decoupled_av_authentication_certificate() -> None:
    edge = EDGE_POOL + "        decoupled_av: true\n"
    p = plan(topology("", FE_POOL, edge))
    assert {i for i in ids(p) if i.startswith("edge")} == {
        "edgepool.ad.corpmail.se/edge-external",
        "edgepool.ad.corpmail.se/edge-internal",
        "edgepool.ad.corpmail.se/av-authentication",
    }
    external = p.by_id("edgepool.ad.corpmail.se/edge-external")
    assert {str(u) for u in external.usages} == {"AccessEdgeExternal", "DataEdgeExternal"}
    av = p.by_id("edgepool.ad.corpmail.se/av-authentication")
    assert {str(u) for u in av.usages} == {"AudioVideoAuthentication"}
    assert str(av.issuer) == str(external.issuer) == "public", "same CA (R-EDGE-02)"
    assert av.exportable is True, "same private key on every pool member (R-EDGE-02)"
    assert set(av.servers) == EDGE_SERVERS
    assert av.sans[0] == av.subject
    assert not av.subject.startswith("*"), "R-GEN-06"
    assert "R-EDGE-02" in av.rules


def test_single_edge_server() -> None:
    """R-GEN-12: the external certificate is exportable even on a single Edge; the internal
    one is exportable only when one certificate serves a pool."""
    edge = """\
      - role: edge
        fqdn: edge1.ad.corpmail.se
        external: {access: sip.corpmail.se, webconf: webconf.corpmail.se, av: av.corpmail.se}
"""
    p = plan(topology("", FE_POOL, edge))
    external = p.by_id("edge1.ad.corpmail.se/edge-external")
    internal = p.by_id("edge1.ad.corpmail.se/edge-internal")
    assert external.exportable is True
    assert internal.exportable is False
    assert external.servers == ("edge1.ad.corpmail.se",)
    assert internal.servers == ("edge1.ad.corpmail.se",)
    assert internal.subject == "edge1.ad.corpmail.se"


def test_xmpp_federation_adds_xmpp_names() -> None:
    settings = "federation: {enabled: true, xmpp: true}\n"
    p = plan(topology(settings, FE_POOL, EDGE_POOL))
    check(
        p.by_id("edgepool.ad.corpmail.se/edge-external"),
        subject="sip.corpmail.se",
        sans={
            "sip.corpmail.se",
            "webconf.corpmail.se",
            "sip.partner.no",
            "corpmail.se",  # the XMPP domain itself (D12, D18): *.corpmail.se does not match it
            "xmpp.corpmail.se",
            "*.corpmail.se",
            "partner.no",
            "xmpp.partner.no",
            "*.partner.no",
        },
        usages={"AccessEdgeExternal", "DataEdgeExternal", "AudioVideoAuthentication", "XMPPServer"},
        issuer="public",
        exportable=True,
        rules={"R-EDGE-01", "R-XMPP-01"},
    )
    # The XMPP root-domain wildcard is the one allowed on the Edge external certificate.
    assert not [w for w in p.warnings if w.id == "plan.wildcard-not-accepted"]


def test_xmpp_domains_can_be_chosen() -> None:
    settings = "federation: {enabled: true, xmpp: true, xmpp_domains: [chat.corpmail.se]}\n"
    cert = plan(topology(settings, FE_POOL, EDGE_POOL)).by_id(
        "edgepool.ad.corpmail.se/edge-external"
    )
    assert set(cert.sans) == {
        "sip.corpmail.se",
        "webconf.corpmail.se",
        "sip.partner.no",
        "chat.corpmail.se",
        "xmpp.chat.corpmail.se",
        "*.chat.corpmail.se",
    }


def test_xmpp_runs_on_the_federation_site_only() -> None:
    text = HEADER + textwrap.dedent(
        """\
        federation: {enabled: true, xmpp: true, site: Oslo}
        sites:
          - name: Stockholm
            pools:
              - {role: front_end, fqdn: pool.ad.corpmail.se, servers: [fe1.ad.corpmail.se]}
              - role: edge
                fqdn: edge-sto.ad.corpmail.se
                external: {access: sip.corpmail.se, webconf: wc.corpmail.se, av: av.corpmail.se}
          - name: Oslo
            pools:
              - role: edge
                fqdn: edge-osl.ad.partner.no
                external: {access: sip.partner.no, webconf: wc.partner.no, av: av.partner.no}
        """
    )
    p = plan(load_topology_text(text, "test.yaml"))
    stockholm = p.by_id("edge-sto.ad.corpmail.se/edge-external")
    oslo = p.by_id("edge-osl.ad.partner.no/edge-external")
    assert "XMPPServer" in {str(u) for u in oslo.usages}
    assert {"corpmail.se", "xmpp.corpmail.se", "xmpp.partner.no"} <= set(oslo.sans)
    assert "corpmail.se" not in stockholm.sans
    assert "XMPPServer" not in {str(u) for u in stockholm.usages}
    assert not {n for n in stockholm.sans if n.startswith(("xmpp.", "*."))}


@pytest.mark.parametrize(("site", "federating"), [("Oslo", "oslo"), (None, "sto")])
def test_public_im_runs_on_the_federation_site_only(site: str | None, federating: str) -> None:
    """Client Authentication (public IM, R-GEN-02) was put on every site's Edge external
    certificate; public IM providers federate with the federation route's Edge, as XMPP
    partners do: named by federation.site, else the first site with an Edge pool."""
    where = f", site: {site}" if site else ""
    text = HEADER + textwrap.dedent(
        f"""\
        federation: {{enabled: true, public_im: true{where}}}
        sites:
          - name: Stockholm
            pools:
              - {{role: front_end, fqdn: pool.ad.corpmail.se, servers: [fe1.ad.corpmail.se]}}
              - role: edge
                fqdn: edge-sto.ad.corpmail.se
                external: {{access: sip.corpmail.se, webconf: wc.corpmail.se, av: av.corpmail.se}}
          - name: Oslo
            pools:
              - role: edge
                fqdn: edge-oslo.ad.partner.no
                external: {{access: sip.partner.no, webconf: wc.partner.no, av: av.partner.no}}
        """
    )
    p = plan(load_topology_text(text, "test.yaml"))
    eku = {c.id: {str(e) for e in c.eku} for c in p.certificates if c.id.endswith("/edge-external")}
    templates = {c.id: c.template for c in p.certificates if c.id.endswith("/edge-external")}
    for cert_id, found in eku.items():
        here = cert_id.startswith(f"edge-{federating}.")
        assert found == ({"serverAuth", "clientAuth"} if here else {"serverAuth"}), cert_id
        assert templates[cert_id] == ("LyncServer" if here else "WebServer"), cert_id


# --- Reverse proxy (R-RP-01..02, R-MOB-03) ------------------------------------------------------

RP_FARM = """\
fqdn: rp.corpmail.se
servers: [rp1.dmz.corpmail.se, rp2.dmz.corpmail.se]
publishes: [web.corpmail.se, webdir.corpmail.se]
"""


def test_reverse_proxy_certificate() -> None:
    p = plan(topology("mobility: true\n", FE_POOL, DIRECTOR_POOL, reverse_proxy=RP_FARM))
    check(
        p.by_id("rp.corpmail.se/reverse-proxy"),
        subject="web.corpmail.se",  # the Front End pool's external web FQDN
        sans={
            "web.corpmail.se",
            "webdir.corpmail.se",
            "meet.corpmail.se",
            "meet.partner.no",
            "dialin.corpmail.se",
            "lyncdiscover.corpmail.se",
            "lyncdiscover.partner.no",
        },
        usages={"ReverseProxy"},
        issuer="public",
        exportable=True,  # shared by the farm (R-GEN-12)
        rules={"R-RP-01", "R-MOB-03"},
        servers={"rp1.dmz.corpmail.se", "rp2.dmz.corpmail.se"},
    )


def test_reverse_proxy_lyncdiscover_over_http() -> None:
    rp = RP_FARM + "lyncdiscover_over_http: true\n"
    p = plan(topology("mobility: true\n", FE_POOL, DIRECTOR_POOL, reverse_proxy=rp))
    cert = p.by_id("rp.corpmail.se/reverse-proxy")
    assert set(cert.sans) == {"web.corpmail.se", "webdir.corpmail.se"} | MEET_DIALIN


def test_reverse_proxy_client_auth() -> None:
    rp = RP_FARM + "client_auth: true\n"
    p = plan(topology("mobility: true\n", FE_POOL, DIRECTOR_POOL, reverse_proxy=rp))
    cert = p.by_id("rp.corpmail.se/reverse-proxy")
    assert {str(e) for e in cert.eku} == {"serverAuth", "clientAuth"}
    assert cert.template == "LyncServer"
    assert "R-RP-02" in cert.rules


def test_reverse_proxy_without_fqdn_is_named_after_its_subject() -> None:
    rp = "publishes: [web.corpmail.se]\n"
    p = plan(topology("", FE_POOL, reverse_proxy=rp))
    cert = p.by_id("web.corpmail.se/reverse-proxy")
    assert cert.subject == "web.corpmail.se"
    assert set(cert.sans) == {"web.corpmail.se"} | MEET_DIALIN
    assert {str(e) for e in cert.eku} == {"serverAuth"}
    assert cert.template == "WebServer"


def test_two_sites_reverse_proxies_named_after_one_subject_have_ids_of_their_own() -> None:
    """Two sites' reverse proxies without `fqdn` publishing the same first name were both
    `webdir.../reverse-proxy`, with one friendly name: by_id, deploy and check took one for
    the other. Each now names its site; ids no other certificate shares are kept."""
    text = textwrap.dedent(
        """\
        sip_domains: [northwind.org]
        simple_urls: {meet: meet.northwind.org, dialin: dialin.northwind.org}
        sites:
          - name: Oslo
            pools:
              - {role: front_end, fqdn: p1.oslo.northwind.org, servers: [fe1.oslo.northwind.org]}
              - role: director
                fqdn: dir.oslo.northwind.org
                web_services: {external: webdir.northwind.org}
            reverse_proxy: {publishes: [webdir.northwind.org]}
          - name: Bergen
            pools:
              - {role: front_end, fqdn: p1.bergen.northwind.org, servers: [fe.bergen.northwind.org]}
            reverse_proxy: {publishes: [webdir.northwind.org]}
        """
    )
    p = plan(load_topology_text(text, "t.yaml"))
    ids = [c.id for c in p.certificates]
    assert len(ids) == len(set(ids)), ids
    proxies = [c for c in p.certificates if c.role == "reverse_proxy"]
    assert [(c.id, c.site) for c in proxies] == [
        ("Oslo/webdir.northwind.org/reverse-proxy", "Oslo"),
        ("Bergen/webdir.northwind.org/reverse-proxy", "Bergen"),
    ]
    assert len({c.friendly_name for c in proxies}) == 2
    assert "fe1.oslo.northwind.org/default" in ids  # unique ids are left alone
    # both would still be requested for, and kept in, one store named webdir.northwind.org
    (shared,) = [w for w in p.warnings if w.id == "plan.shared-proxy-store"]
    assert shared.severity == "error" and shared.subject == "webdir.northwind.org"
    assert "Oslo, Bergen" in shared.message and "fqdn" in shared.fix
    named = text.replace(
        "reverse_proxy: {publishes:", "reverse_proxy: {fqdn: rp.oslo.northwind.org, publishes:", 1
    )
    assert named != text
    again = plan(load_topology_text(named, "t.yaml"))
    assert not [w for w in again.warnings if w.id == "plan.shared-proxy-store"]


def test_reverse_proxy_subject_is_a_front_end_pool_of_another_site() -> None:
    """R-RP-01: subject = the Front End pool's external web FQDN. A proxy publishing its own
    site's Director and another site's Front End pool had the Director's name as subject: only
    the proxy's own site's Front End pools were looked at."""
    text = HEADER + textwrap.dedent(
        """\
        sites:
          - name: Stockholm
            pools:
              - role: front_end
                fqdn: pool.ad.corpmail.se
                servers: [fe1.ad.corpmail.se]
                web_services: {external: web.corpmail.se}
          - name: Oslo
            pools:
              - role: director
                fqdn: dir.ad.partner.no
                servers: [dir1.ad.partner.no]
                web_services: {external: webdir.partner.no}
            reverse_proxy:
              fqdn: rp.partner.no
              publishes: [webdir.partner.no, web.corpmail.se]
        """
    )
    cert = plan(load_topology_text(text, "t.yaml")).by_id("rp.partner.no/reverse-proxy")
    check(
        cert,
        subject="web.corpmail.se",
        sans={"web.corpmail.se", "webdir.partner.no"} | MEET_DIALIN,
        usages={"ReverseProxy"},
        issuer="public",
        exportable=False,
        rules={"R-RP-01"},
    )


def test_a_plan_with_a_repeated_id_is_refused_as_a_bug() -> None:
    from lyncpki.planning.planner import _check_unique_ids

    cert = plan(topology("", FE_POOL)).certificates[0]
    with pytest.raises(RuntimeError, match=f"same id \\({cert.id}\\)"):
        _check_unique_ids([cert, cert])


def test_single_reverse_proxy_key_is_not_exported() -> None:
    rp = "fqdn: rp.corpmail.se\npublishes: [web.corpmail.se]\n"
    cert = plan(topology("", FE_POOL, reverse_proxy=rp)).by_id("rp.corpmail.se/reverse-proxy")
    assert cert.exportable is False
    assert cert.servers == ("rp.corpmail.se",)


def test_reverse_proxy_publishes_office_web_apps() -> None:
    owa = """\
      - role: office_web_apps
        fqdn: owas.ad.corpmail.se
        web_services: {external: owas.corpmail.se}
"""
    rp = "fqdn: rp.corpmail.se\npublishes: [web.corpmail.se]\n"
    cert = plan(topology("", FE_POOL, owa, reverse_proxy=rp)).by_id("rp.corpmail.se/reverse-proxy")
    assert set(cert.sans) == {"web.corpmail.se", "owas.corpmail.se"} | MEET_DIALIN


# --- OAuth (R-OAUTH-01..02) ---------------------------------------------------------------------


def test_exactly_one_global_oauth_certificate() -> None:
    text = HEADER + textwrap.dedent(
        """\
        sites:
          - name: Stockholm
            pools:
              - role: front_end
                fqdn: pool.ad.corpmail.se
                servers: [fe1.ad.corpmail.se, fe2.ad.corpmail.se]
              - {role: director, fqdn: dir1.ad.corpmail.se}
              - {role: mediation, fqdn: med1.ad.corpmail.se}
              - role: edge
                fqdn: edge1.ad.corpmail.se
                external: {access: sip.corpmail.se, webconf: wc.corpmail.se, av: av.corpmail.se}
          - name: Oslo
            pools:
              - {role: standard_edition, fqdn: se1.ad.partner.no}
        """
    )
    p = plan(load_topology_text(text, "test.yaml"))
    oauth = [c for c in p.certificates if "OAuthTokenIssuer" in {str(u) for u in c.usages}]
    assert [c.id for c in oauth] == ["global/oauth"]
    cert = oauth[0]
    check(
        cert,
        subject="corpmail.se",  # the default SIP domain (Q6)
        sans={"corpmail.se"},
        usages={"OAuthTokenIssuer"},
        issuer="internal",
        exportable=True,  # moved as a PFX (R-OAUTH-02)
        template="WebServer",  # the Certificate Wizard's default, which AD CS has
        rules={"R-OAUTH-01"},
        servers={
            "fe1.ad.corpmail.se",
            "fe2.ad.corpmail.se",
            "dir1.ad.corpmail.se",
            "se1.ad.partner.no",
        },
    )
    assert cert.target == "global"
    assert cert.key.name == "rsa2048"


def test_oauth_subject_can_be_configured() -> None:
    p = plan(topology("oauth: {subject: oauth.corpmail.se}\n", FE_POOL))
    cert = p.by_id("global/oauth")
    assert cert.subject == "oauth.corpmail.se"
    assert set(cert.sans) == {"oauth.corpmail.se"}


def test_oauth_key_is_at_least_2048_bits_even_with_a_weaker_default() -> None:
    p = plan(topology("defaults: {key: rsa1024}\n", FE_POOL))
    assert p.by_id("global/oauth").key.name == "rsa2048"
    assert p.by_id("fe1.ad.corpmail.se/default").key.name == "rsa1024"


@pytest.mark.parametrize("key", ["ec-p256", "ec-p384", "ec-p521"])
def test_oauth_key_is_rsa_even_with_an_ec_default(key: str) -> None:
    """R-OAUTH-01/D9: an RSA key of 2048 bits or more. An EC default passed as 'at least 2048
    bits' (P-256 counts as 3072) and was planned on the OAuth certificate without a word."""
    p = plan(topology(f"defaults: {{key: {key}}}\n", FE_POOL))
    cert = p.by_id("global/oauth")
    assert cert.key.name == "rsa2048"
    assert any(f"not the default {key}" in n and "R-OAUTH-01" in n for n in cert.notes)
    assert p.by_id("fe1.ad.corpmail.se/default").key.name == key


def test_oauth_key_keeps_a_larger_rsa_default() -> None:
    cert = plan(topology("defaults: {key: rsa4096}\n", FE_POOL)).by_id("global/oauth")
    assert cert.key.name == "rsa4096"
    assert not any("R-OAUTH-01 requires" in n for n in cert.notes)


def test_oauth_issuer_follows_certificate_authorities() -> None:
    p = plan(topology("certificate_authorities: {oauth: public}\n", FE_POOL))
    assert str(p.by_id("global/oauth").issuer) == "public"


def test_reverse_proxy_options_do_not_leak_into_oauth() -> None:
    rp = """\
fqdn: rp.corpmail.se
publishes: [web.corpmail.se]
certificates: {key: rsa1024, validity_days: 50, issuer: internal}
"""
    p = plan(topology("", FE_POOL, reverse_proxy=rp))
    assert p.by_id("rp.corpmail.se/reverse-proxy").key.name == "rsa1024"
    cert = p.by_id("global/oauth")
    assert cert.key.strength_bits >= 2048
    assert cert.validity_days == 730
    assert str(cert.issuer) == "internal"


def test_oauth_certificate_options_are_used() -> None:
    settings = "oauth: {certificates: {key: rsa4096, validity_days: 365, issuer: public}}\n"
    cert = plan(topology(settings, FE_POOL)).by_id("global/oauth")
    assert cert.key.name == "rsa4096"
    assert cert.validity_days == 365
    assert str(cert.issuer) == "public"


# --- Mobility (R-MOB-01/02) and automatic sign-in (R-SE-01, Q4) ---------------------------------


def test_mobility_adds_lyncdiscover_names_to_web_certificates() -> None:
    p = plan(topology("mobility: true\n", FE_POOL, DIRECTOR_POOL, SE_POOL))
    for server, pool, internal_web, external_web in (
        ("fe1.ad.corpmail.se", "pool.ad.corpmail.se", "webint.ad.corpmail.se", "web.corpmail.se"),
        ("dir1.ad.corpmail.se", "dirpool.ad.corpmail.se", None, "webdir.corpmail.se"),
        ("se1.ad.corpmail.se", "se1.ad.corpmail.se", None, "webse.corpmail.se"),
    ):
        internal = p.by_id(f"{server}/web-internal")
        external = p.by_id(f"{server}/web-external")
        expected_internal = {pool, server} | SIMPLE | LYNCDISCOVER_INTERNAL
        if internal_web:
            expected_internal.add(internal_web)
        assert set(internal.sans) == expected_internal
        assert set(external.sans) == {pool, external_web} | MEET_DIALIN | LYNCDISCOVER
        assert "R-MOB-01" in internal.rules
        assert "R-MOB-02" in external.rules
        # lyncdiscover on the Default certificate only when combined (R-MOB-01/02).
        assert not set(p.by_id(f"{server}/default").sans) & (LYNCDISCOVER | LYNCDISCOVER_INTERNAL)


def test_no_lyncdiscover_names_without_mobility() -> None:
    rp = "fqdn: rp.corpmail.se\npublishes: [web.corpmail.se, webdir.corpmail.se]\n"
    p = plan(topology("mobility: false\n", FE_POOL, DIRECTOR_POOL, SE_POOL, reverse_proxy=rp))
    for cert in p.certificates:
        assert not any(n.startswith("lyncdiscover") for n in cert.sans), cert.id
        assert not {"R-MOB-01", "R-MOB-02", "R-MOB-03"} & set(cert.rules), cert.id


@pytest.mark.parametrize("server", ["fe1.ad.corpmail.se", "dir1.ad.corpmail.se"])
def test_automatic_sign_in_puts_sip_names_on_default(server: str) -> None:
    on = plan(topology("automatic_sign_in: true\n", FE_POOL, DIRECTOR_POOL))
    off = plan(topology("automatic_sign_in: false\n", FE_POOL, DIRECTOR_POOL))
    assert set(on.by_id(f"{server}/default").sans) >= SIP
    assert not SIP & set(off.by_id(f"{server}/default").sans)
    for p in (on, off):
        for label in ("web-internal", "web-external"):
            assert not SIP & set(p.by_id(f"{server}/{label}").sans)


def test_automatic_sign_in_off_on_standard_edition() -> None:
    default = plan(topology("automatic_sign_in: false\n", SE_POOL)).by_id(
        "se1.ad.corpmail.se/default"
    )
    assert set(default.sans) == {"se1.ad.corpmail.se"}


# --- Layout combined (R-GEN-17) -----------------------------------------------------------------

COMBINED_FE1 = (
    {"pool.ad.corpmail.se", "fe1.ad.corpmail.se", "webint.ad.corpmail.se", "web.corpmail.se"}
    | SIP
    | SIMPLE
    | LYNCDISCOVER
    | LYNCDISCOVER_INTERNAL
)


def _combined_fe1(p: CertificatePlan) -> None:
    on_fe1 = [c for c in p.certificates if c.id.startswith("fe1.ad.corpmail.se/")]
    assert [c.id for c in on_fe1] == ["fe1.ad.corpmail.se/default"]
    check(
        on_fe1[0],
        subject="pool.ad.corpmail.se",
        sans=COMBINED_FE1,
        usages={"Default", "WebServicesInternal", "WebServicesExternal"},
        issuer="internal",
        exportable=False,
        rules={"R-FE-01", "R-FE-02", "R-FE-03", "R-MOB-01", "R-MOB-02", "R-GEN-17"},
        servers={"fe1.ad.corpmail.se"},
    )


def test_layout_combined_from_plan_options() -> None:
    p = plan(topology("mobility: true\n", FE_POOL), PlanOptions(layout=Layout.COMBINED))
    _combined_fe1(p)
    assert ids(p) == {"fe1.ad.corpmail.se/default", "fe2.ad.corpmail.se/default", "global/oauth"}
    # OAuthTokenIssuer stays a certificate of its own (R-GEN-17).
    assert {str(u) for u in p.by_id("global/oauth").usages} == {"OAuthTokenIssuer"}


def test_layout_combined_from_defaults() -> None:
    p = plan(topology("mobility: true\ndefaults: {layout: combined}\n", FE_POOL))
    _combined_fe1(p)


def test_layout_combined_per_pool() -> None:
    fe = FE_POOL + "        certificates: {layout: combined}\n"
    p = plan(topology("mobility: true\n", fe, DIRECTOR_POOL))
    _combined_fe1(p)
    assert {i for i in ids(p) if i.startswith("dir1.")} == {
        "dir1.ad.corpmail.se/default",
        "dir1.ad.corpmail.se/web-internal",
        "dir1.ad.corpmail.se/web-external",
    }


def test_layout_combined_leaves_edge_and_mediation_alone() -> None:
    med = "      - {role: mediation, fqdn: med1.ad.corpmail.se}\n"
    p = plan(topology("defaults: {layout: combined}\n", FE_POOL, EDGE_POOL, med))
    assert {
        "edgepool.ad.corpmail.se/edge-external",
        "edgepool.ad.corpmail.se/edge-internal",
        "med1.ad.corpmail.se/default",
    } <= ids(p)
    assert {str(u) for u in p.by_id("med1.ad.corpmail.se/default").usages} == {"Default"}


# --- Wildcards (R-GEN-08) -----------------------------------------------------------------------


def test_wildcards_replace_simple_urls_and_lyncdiscover_on_web_certificates_only() -> None:
    med = "      - {role: mediation, fqdn: med1.ad.corpmail.se}\n"
    rp = "fqdn: rp.corpmail.se\npublishes: [web.corpmail.se]\n"
    settings = "mobility: true\nwildcards: true\n"
    p = plan(topology(settings, FE_POOL, EDGE_POOL, med, reverse_proxy=rp))
    web_internal = p.by_id("fe1.ad.corpmail.se/web-internal")
    assert set(web_internal.sans) == {
        "pool.ad.corpmail.se",
        "webint.ad.corpmail.se",
        "fe1.ad.corpmail.se",
        "*.corpmail.se",
        "*.partner.no",
    }
    web_external = p.by_id("fe1.ad.corpmail.se/web-external")
    assert set(web_external.sans) == {
        "pool.ad.corpmail.se",
        "web.corpmail.se",
        "*.corpmail.se",
        "*.partner.no",
    }
    assert set(p.by_id("rp.corpmail.se/reverse-proxy").sans) == {
        "web.corpmail.se",
        "*.corpmail.se",
        "*.partner.no",
    }
    for cert in (web_internal, web_external, p.by_id("rp.corpmail.se/reverse-proxy")):
        assert "R-GEN-08" in cert.rules, cert.id
    # Not on Default, Mediation or Edge certificates: every name stays explicit.
    assert (
        set(p.by_id("fe1.ad.corpmail.se/default").sans)
        == {
            "pool.ad.corpmail.se",
            "fe1.ad.corpmail.se",
        }
        | SIP
    )
    assert set(p.by_id("med1.ad.corpmail.se/default").sans) == {"med1.ad.corpmail.se"}
    assert set(p.by_id("edgepool.ad.corpmail.se/edge-external").sans) == {
        "sip.corpmail.se",
        "webconf.corpmail.se",
        "sip.partner.no",
    }
    for cert in p.certificates:
        assert not cert.subject.startswith("*"), f"R-GEN-06: wildcard subject on {cert.id}"


def test_a_simple_url_on_the_sip_domain_itself_stays_explicit_under_wildcards() -> None:
    """`meet: https://acme.fr/meet` with wildcards: true gave *.fr (a wildcard on a top-level
    domain: no CA issues it, and it does not match acme.fr) and dropped acme.fr. A name whose
    parent is no SIP domain's stays as it is; meet.<domain> still becomes *.<domain>."""
    text = (
        "sip_domains: [acme.fr]\n"
        "simple_urls: {meet: 'https://acme.fr/meet', dialin: dialin.acme.fr}\n"
        "wildcards: true\n"
        "sites:\n  - name: HQ\n    pools:\n"
        "      - {role: standard_edition, fqdn: se.corp.acme.fr, "
        "web_services: {external: web.acme.fr}}\n"
        "    reverse_proxy: {publishes: [web.acme.fr]}\n"
    )
    p = plan(load_topology_text(text, "acme.yaml"))
    for cert in p.certificates:
        assert "*.fr" not in cert.sans, cert.id
    for cert_id in ("se.corp.acme.fr/web-external", "web.acme.fr/reverse-proxy"):
        assert {"acme.fr", "*.acme.fr"} <= set(p.by_id(cert_id).sans), cert_id


def test_wildcards_in_combined_layout() -> None:
    settings = "mobility: true\nwildcards: true\ndefaults: {layout: combined}\n"
    cert = plan(topology(settings, FE_POOL)).by_id("fe1.ad.corpmail.se/default")
    assert (
        set(cert.sans)
        == {
            "pool.ad.corpmail.se",
            "fe1.ad.corpmail.se",
            "webint.ad.corpmail.se",
            "web.corpmail.se",
            "*.corpmail.se",
            "*.partner.no",
        }
        | SIP
    )


# --- Per-pool certificate options ---------------------------------------------------------------


def test_per_pool_certificate_options() -> None:
    fe = FE_POOL + "        certificates: {key: rsa4096, validity_days: 365, issuer: public}\n"
    edge = EDGE_POOL + "        certificates: {key: ec-p256, validity_days: 90}\n"
    med = "      - {role: mediation, fqdn: med1.ad.corpmail.se}\n"
    p = plan(topology("", fe, edge, med))
    for label in ("default", "web-internal", "web-external"):
        cert = p.by_id(f"fe1.ad.corpmail.se/{label}")
        assert (cert.key.name, cert.validity_days, str(cert.issuer)) == ("rsa4096", 365, "public")
    for label in ("edge-external", "edge-internal"):
        cert = p.by_id(f"edgepool.ad.corpmail.se/{label}")
        assert (cert.key.name, cert.validity_days) == ("ec-p256", 90)
    assert str(p.by_id("edgepool.ad.corpmail.se/edge-external").issuer) == "public"
    assert str(p.by_id("edgepool.ad.corpmail.se/edge-internal").issuer) == "internal"
    med1 = p.by_id("med1.ad.corpmail.se/default")
    assert (med1.key.name, med1.validity_days, str(med1.issuer)) == ("rsa2048", 730, "internal")


def test_global_defaults_apply_everywhere() -> None:
    p = plan(topology("defaults: {key: rsa4096, validity_days: 400}\n", FE_POOL, EDGE_POOL))
    for cert in p.certificates:
        assert (cert.key.name, cert.validity_days) == ("rsa4096", 400), cert.id


def test_reverse_proxy_certificate_options() -> None:
    rp = "fqdn: rp.corpmail.se\npublishes: [web.corpmail.se]\ncertificates: {key: rsa4096}\n"
    cert = plan(topology("", FE_POOL, reverse_proxy=rp)).by_id("rp.corpmail.se/reverse-proxy")
    assert cert.key.name == "rsa4096"


# --- Whole plans ---------------------------------------------------------------------------------

FULL = HEADER + textwrap.dedent(
    """\
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
            servers: [dir1.ad.corpmail.se, dir2.ad.corpmail.se]
            web_services: {external: webdir.corpmail.se}
          - {role: mediation, fqdn: medpool.ad.corpmail.se, servers: [med1.ad.corpmail.se]}
          - {role: persistent_chat, fqdn: pc1.ad.corpmail.se}
          - role: edge
            fqdn: edgepool.ad.corpmail.se
            servers: [edge1.ad.corpmail.se, edge2.ad.corpmail.se]
            external: {access: sip.corpmail.se, webconf: webconf.corpmail.se, av: av.corpmail.se}
            decoupled_av: true
        reverse_proxy: {fqdn: rp.corpmail.se, publishes: [web.corpmail.se, webdir.corpmail.se]}
      - name: Oslo
        pools:
          - role: standard_edition
            fqdn: se1.ad.partner.no
            web_services: {external: web.partner.no}
          - {role: sba, fqdn: sba1.ad.partner.no}
        reverse_proxy: {fqdn: rp.partner.no, publishes: [web.partner.no]}
    """
)


@pytest.mark.parametrize("layout", [Layout.SEPARATE, Layout.COMBINED])
def test_friendly_names_are_unique_per_server(layout: Layout) -> None:
    """R-GEN-15: friendly names are unique within each computer store."""
    p = plan(load_topology_text(FULL, "full.yaml"), PlanOptions(layout=layout))
    seen: dict[str, set[str]] = {}
    for cert in p.certificates:
        assert cert.friendly_name.strip(), cert.id
        for server in cert.servers:
            assert cert.friendly_name not in seen.setdefault(server, set()), (server, cert.id)
            seen[server].add(cert.friendly_name)
    # the OAuth certificate shares the Front End stores with their own certificates
    assert "global/oauth" in {c.id for c in p.for_server("fe1.ad.corpmail.se")}


@pytest.mark.parametrize("layout", [Layout.SEPARATE, Layout.COMBINED])
def test_every_certificate_follows_the_global_rules(layout: Layout) -> None:
    p = plan(load_topology_text(FULL, "full.yaml"), PlanOptions(layout=layout))
    assert len(ids(p)) == len(p.certificates), "certificate ids are unique"
    for cert in p.certificates:
        assert "serverAuth" in {str(e) for e in cert.eku}, f"R-GEN-01 on {cert.id}"
        assert cert.sans[0] == cert.subject, f"R-GEN-07 on {cert.id}"
        assert not cert.subject.startswith("*"), f"R-GEN-06 on {cert.id}"
        assert len(set(cert.sans)) == len(cert.sans), cert.id
        assert all(n == n.lower() for n in cert.sans), cert.id


def test_full_plan_certificate_ids() -> None:
    p = plan(load_topology_text(FULL, "full.yaml"))
    assert ids(p) == {
        "fe1.ad.corpmail.se/default",
        "fe1.ad.corpmail.se/web-internal",
        "fe1.ad.corpmail.se/web-external",
        "fe2.ad.corpmail.se/default",
        "fe2.ad.corpmail.se/web-internal",
        "fe2.ad.corpmail.se/web-external",
        "dir1.ad.corpmail.se/default",
        "dir1.ad.corpmail.se/web-internal",
        "dir1.ad.corpmail.se/web-external",
        "dir2.ad.corpmail.se/default",
        "dir2.ad.corpmail.se/web-internal",
        "dir2.ad.corpmail.se/web-external",
        "med1.ad.corpmail.se/default",
        "pc1.ad.corpmail.se/default",
        "edgepool.ad.corpmail.se/edge-external",
        "edgepool.ad.corpmail.se/edge-internal",
        "edgepool.ad.corpmail.se/av-authentication",
        "rp.corpmail.se/reverse-proxy",
        "se1.ad.partner.no/default",
        "se1.ad.partner.no/web-internal",
        "se1.ad.partner.no/web-external",
        "sba1.ad.partner.no/default",
        "rp.partner.no/reverse-proxy",
        "global/oauth",
    }
    oslo_rp = p.by_id("rp.partner.no/reverse-proxy")
    assert oslo_rp.subject == "web.partner.no"
    assert set(oslo_rp.sans) == {"web.partner.no"} | MEET_DIALIN | LYNCDISCOVER


def test_sba_certificate_names_the_appliance() -> None:
    pool = """\
      - role: sba
        fqdn: branch1.corpmail.se
        servers: [sba1.branch.corpmail.se]
"""
    try:
        topo = topology("", FE_POOL, pool)
    except TopologyError:
        return  # refusing the topology is an acceptable answer
    cert = plan(topo).by_id("sba1.branch.corpmail.se/default")
    assert cert.subject == "sba1.branch.corpmail.se"
    assert {"sba1.branch.corpmail.se", "sip.corpmail.se", "sip.partner.no"} <= set(cert.sans)
