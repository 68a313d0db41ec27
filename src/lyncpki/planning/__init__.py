"""The Lync certificate rules as data, and the planner: topology -> CertificatePlan."""

from lyncpki.planning.model import (
    SCHEMA,
    CertificatePlan,
    Eku,
    PlannedCertificate,
    PlanWarning,
    Severity,
    Usage,
)
from lyncpki.planning.planner import PlanOptions, plan, plan_file

__all__ = [
    "SCHEMA",
    "CertificatePlan",
    "Eku",
    "PlanOptions",
    "PlanWarning",
    "PlannedCertificate",
    "Severity",
    "Usage",
    "plan",
    "plan_file",
]
