"""A one-site lab topology of a single Front End pool, for the check tests that build a home in
process (no CA service): its servers given by the test."""

from __future__ import annotations


def front_end_pool(*servers: str) -> str:
    """The topology text: SIP domain acme-lab.test, pool pool1.acme-lab.test of `servers`
    (separate certificates for the internal and external web services)."""
    return (
        "sip_domains: [acme-lab.test]\n"
        "simple_urls: {meet: meet.acme-lab.test}\n"
        "sites:\n"
        "  - name: Lab\n"
        "    pools:\n"
        "      - {role: front_end, fqdn: pool1.acme-lab.test, "
        f"servers: [{', '.join(servers)}], certificates: {{layout: separate}}}}\n"
    )
