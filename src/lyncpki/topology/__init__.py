"""The deployment model and its loader (YAML/JSON, errors with file, line and column)."""

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
