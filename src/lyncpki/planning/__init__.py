"""The Lync certificate rules as data, and the planner: topology -> CertificatePlan.

Its names are imported when first used (lyncpki.lazy_exports): a module of this package can be
imported without the planner."""

from typing import TYPE_CHECKING

from lyncpki.lazy_exports import lazy_exports

if TYPE_CHECKING:
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
__getattr__ = lazy_exports(
    __name__,
    {
        "model": (
            "SCHEMA",
            "CertificatePlan",
            "Eku",
            "PlannedCertificate",
            "PlanWarning",
            "Severity",
            "Usage",
        ),
        "planner": ("PlanOptions", "plan", "plan_file"),
    },
)
