"""The DNS namespaces a deployment's certificates use: what its internal CA may sign.

Each planned name counts as its SIP domain when it lies within one, else as its parent domain
(`pool01.contoso.net` -> `contoso.net`); names under another listed namespace are folded in.
"""

from __future__ import annotations

from lyncpki.planning.model import CertificatePlan
from lyncpki.topology.model import Topology
from lyncpki.topology.names import is_within, parent_domain


def namespaces(topology: Topology, plan: CertificatePlan) -> tuple[str, ...]:
    """The smallest set of domains covering every name the plan puts on a certificate."""
    found: set[str] = set()
    for cert in plan.certificates:
        for name in cert.sans:
            bare = name.removeprefix("*.")
            domain = next((d for d in topology.sip_domains if is_within(bare, d)), None)
            found.add(domain or (parent_domain(bare) if bare.count(".") > 1 else bare))
    minimal = {d for d in found if not any(d != o and is_within(d, o) for o in found)}
    return tuple(sorted(minimal))
