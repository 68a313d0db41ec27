"""Topologies and plans for the report tests (a module of its own: test files import it)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lyncpki.planning import CertificatePlan, plan
from lyncpki.topology import Topology, load_topology, load_topology_text

ROOT = Path(__file__).resolve().parents[2]
CONTOSO = ROOT / "examples" / "contoso.yaml"

# A site name that CSV must quote, HTML must escape and rich must not read as markup.
ODD_SITE = 'Lab [b], "East" <&>'

SMALL_YAML = """
organization: {name: Kvasir Energi}
sip_domains: [kvasir.no]
simple_urls: {meet: meet.kvasir.no, dialin: dialin.kvasir.no}
sites:
  - name: 'Lab [b], "East" <&>'
    pools:
      - {role: standard_edition, fqdn: se1.lab.kvasir.no}
  - name: Oslo
    pools:
      - {role: front_end, fqdn: pool1.oslo.kvasir.no,
         servers: [fe1.oslo.kvasir.no, fe2.oslo.kvasir.no]}
      - {role: edge, fqdn: edge.oslo.kvasir.no, servers: [edge1.oslo.kvasir.no],
         external: {access: sip.kvasir.no, webconf: webconf.kvasir.no, av: av.kvasir.no}}
"""


@cache
def contoso_plan() -> CertificatePlan:
    return plan(load_topology(CONTOSO), source="examples/contoso.yaml")


@cache
def small_plan() -> CertificatePlan:
    return plan(load_topology_text(SMALL_YAML, "small.yaml"))


def big_topology(pools: int, servers: int) -> Topology:
    """`pools` Front End pools of `servers` servers each: 3 certificates per server."""
    return Topology.model_validate(
        {
            "organization": {"name": "Kvasir Energi"},
            "sip_domains": ["kvasir.no"],
            "simple_urls": {"meet": "meet.kvasir.no", "dialin": "dialin.kvasir.no"},
            "sites": [
                {
                    "name": "Bergen",
                    "pools": [
                        {
                            "role": "front_end",
                            "fqdn": f"pool{p:03d}.bergen.kvasir.no",
                            "servers": [
                                f"fe{p:03d}-{s:02d}.bergen.kvasir.no" for s in range(servers)
                            ],
                            "web_services": {"external": f"web{p:03d}.kvasir.no"},
                        }
                        for p in range(pools)
                    ],
                    "reverse_proxy": {"publishes": [f"web{p:03d}.kvasir.no" for p in range(pools)]},
                }
            ],
        }
    )
