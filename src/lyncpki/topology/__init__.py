"""The deployment model and its loader (YAML/JSON, errors with file, line and column).

Its names are imported when first used (lyncpki.lazy_exports): a module of this package can be
imported without the model."""

from typing import TYPE_CHECKING

from lyncpki.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from lyncpki.topology.issues import TopologyError, TopologyIssue
    from lyncpki.topology.loader import load_topology, load_topology_text
    from lyncpki.topology.model import (
        CertificateOptions,
        Issuer,
        Layout,
        Pool,
        ReverseProxy,
        Role,
        Site,
        Topology,
    )

__all__ = [
    "CertificateOptions",
    "Issuer",
    "Layout",
    "Pool",
    "ReverseProxy",
    "Role",
    "Site",
    "Topology",
    "TopologyError",
    "TopologyIssue",
    "load_topology",
    "load_topology_text",
]
__getattr__ = lazy_exports(
    __name__,
    {
        "issues": ("TopologyError", "TopologyIssue"),
        "loader": ("load_topology", "load_topology_text"),
        "model": (
            "CertificateOptions",
            "Issuer",
            "Layout",
            "Pool",
            "ReverseProxy",
            "Role",
            "Site",
            "Topology",
        ),
    },
)
