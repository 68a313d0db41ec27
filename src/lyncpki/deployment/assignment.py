"""Assigning with checks first (Set-CsCertificate, as lyncpki does it): the certificate must
fit every usage it is assigned to — planned SANs, EKU, chain to a trusted root, private key,
validity; a roll its lead time — or nothing is assigned, unless forced."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lyncpki.checks import Finding, errors
from lyncpki.checks.rollover import roll_findings
from lyncpki.checks.store_fit import fitness
from lyncpki.enrollment.selection import parse_usages
from lyncpki.planning import CertificatePlan
from lyncpki.store import ServerStore, thumbprint_name


@dataclass(frozen=True)
class AssignResult:
    server: str
    thumbprint: str
    usages: tuple[str, ...]
    assigned: bool
    forced: bool
    effective: dt.datetime | None
    planned_sans_checked: bool
    findings: tuple[Finding, ...]

    @property
    def blocking(self) -> list[Finding]:
        return errors(list(self.findings))

    def as_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "thumbprint": self.thumbprint,
            "types": list(self.usages),
            "assigned": self.assigned,
            "forced": self.forced,
            "effective": self.effective.isoformat() if self.effective else None,
            "planned_sans_checked": self.planned_sans_checked,
            "findings": [f.as_dict() for f in self.findings],
        }


def assign_checked(
    store: ServerStore,
    usages: list[str],
    thumbprint: str,
    *,
    plan: CertificatePlan | None,
    force: bool = False,
    effective: dt.datetime | None = None,
) -> AssignResult:
    """Check, then assign `thumbprint` to every usage (or to none)."""
    wanted = thumbprint_name(thumbprint)
    now = store.clock.now()
    findings: list[Finding] = []
    parsed = parse_usages(usages)
    for usage in parsed:
        planned = plan.for_usage(store.server, usage) if plan else None
        findings += fitness(store, wanted, str(usage), planned, now)
        if effective is not None:
            slots = store.load().slots(str(usage), now)
            current = store.certificate(slots.current.thumbprint) if slots.current else None
            findings += roll_findings(
                store.server, str(usage), effective, store.certificate(wanted), current, now
            )
    blocking = errors(findings)
    assigned = not blocking or force
    if assigned:
        for usage in parsed:
            store.assign(str(usage), wanted, effective=effective)
    return AssignResult(
        store.server,
        wanted,
        tuple(str(u) for u in parsed),
        assigned,
        bool(blocking) and force,
        effective,
        plan is not None,
        tuple(findings),
    )
