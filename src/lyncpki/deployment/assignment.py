"""Assigning with checks first (Set-CsCertificate, as lyncpki does it): the certificate must
fit every usage it is assigned to — the usage planned on that server, planned SANs, EKU, chain
to a trusted root, private key, validity; a roll its lead time — or nothing is assigned, unless
forced. Some errors no --force overrides: a roll of a usage Lync does not roll, or to a moment
the certificate is not valid, would leave a state no Lync server can be in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lyncpki.checks import Finding, errors
from lyncpki.checks.rollover import roll_findings
from lyncpki.checks.store_fit import fitness, installed
from lyncpki.deployment.needs import Revoked
from lyncpki.enrollment.selection import parse_usages
from lyncpki.errors import LyncPkiError
from lyncpki.planning import CertificatePlan
from lyncpki.planning.model import Severity
from lyncpki.store import ServerStore, thumbprint_name

# Errors that --force does not override (see the module's docstring).
UNFORCEABLE = frozenset({"roll.usage", "roll.not-valid-then"})


def _unplanned(plan: CertificatePlan, server: str, usage: str, subject: str) -> Finding | None:
    """An error when the topology plans no `usage` certificate on `server` (a Front End's
    Default assigned to AccessEdgeExternal, a server the topology does not have)."""
    if plan.for_usage(server, usage) is not None:
        return None
    usages = sorted({u for c in plan.for_store(server) for u in c.usages})
    where = f"{server} holds {', '.join(usages)}" if usages else plan.unknown_store(server)
    return Finding(
        "usage.not-planned",
        Severity.ERROR,
        server,
        usage,
        subject,
        f"the topology plans no {usage} certificate on {server}: {where}",
        "assign one of the usages planned there, or correct --server or the topology "
        "(lyncpki plan TOPOLOGY lists every server and usage)",
        "R-CMD-SET",
    )


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

    @property
    def unforceable(self) -> list[Finding]:
        return [f for f in self.findings if f.id in UNFORCEABLE]

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
    revoked: Revoked | None = None,
) -> AssignResult:
    """Check, then assign `thumbprint` to every usage (or to none). `revoked` says why the
    home's CA revoked a certificate it issued (its database, at hand without the network)."""
    wanted = thumbprint_name(thumbprint)
    now = store.clock.now()
    findings: list[Finding] = []
    parsed = parse_usages(usages)
    if not parsed:  # nothing to assign is never "assigned"
        raise LyncPkiError("no usage to assign the certificate to", "name at least one usage")
    installed(store, store.load(), wanted)  # "not in the store", before anything reads it
    certificate = store.certificate(wanted) if revoked is not None else None
    if revoked is not None and certificate is not None and (why := revoked(certificate)):
        findings.append(
            Finding(
                "cert.revoked",
                Severity.ERROR,
                store.server,
                ",".join(str(u) for u in parsed),
                certificate.subject.rfc4514_string(),
                f"the home's CA {why}: relying servers refuse it once its CRL says so",
                "assign a certificate that is not revoked (lyncpki request makes a new one)",
                "R-GEN-03",
            )
        )
    for usage in parsed:
        planned = plan.for_usage(store.server, usage) if plan else None
        if plan is not None and planned is None:
            subject = store.certificate(wanted).subject.rfc4514_string()
            findings += filter(None, [_unplanned(plan, store.server, str(usage), subject)])
        findings += fitness(store, wanted, str(usage), planned, now)
        if effective is not None:
            slots = store.load().slots(str(usage), now)
            current = store.certificate(slots.current.thumbprint) if slots.current else None
            findings += roll_findings(
                store.server, str(usage), effective, store.certificate(wanted), current, now
            )
    blocking = errors(findings)
    assigned = not blocking or (force and not any(f.id in UNFORCEABLE for f in findings))
    if assigned:
        for usage in parsed:
            store.assign(str(usage), wanted, effective=effective)
    return AssignResult(
        store.server,
        wanted,
        tuple(str(u) for u in parsed),
        assigned,
        bool(blocking) and assigned,
        effective,
        plan is not None and not any(f.id == "usage.not-planned" for f in findings),
        tuple(findings),
    )
