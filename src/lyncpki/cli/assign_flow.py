"""Assigning with checks first (Set-CsCertificate, as lyncpki does it): the certificate must
fit every usage it is assigned to — planned SANs, EKU, chain to a trusted root, private key,
validity — or the assignment is refused with the findings, unless forced."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from lyncpki.checks import Finding, errors
from lyncpki.checks.rollover import roll_findings
from lyncpki.checks.store_fit import fitness
from lyncpki.cli.output import stdout
from lyncpki.cli.store_context import load_plan, print_findings
from lyncpki.enrollment.selection import parse_usages
from lyncpki.planning import CertificatePlan
from lyncpki.store import ServerStore, thumbprint_name


def assign_checked(
    store: ServerStore,
    usages: list[str],
    thumbprint: str,
    *,
    plan_path: Path | None,
    quiet: bool = False,
    force: bool = False,
    effective: dt.datetime | None = None,
) -> dict[str, Any]:
    """Check, then assign `thumbprint` to every usage (or to none). The JSON-ready outcome."""
    wanted = thumbprint_name(thumbprint)
    plan: CertificatePlan | None = load_plan(plan_path) if plan_path else None
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
    if not quiet:
        if findings:
            print_findings(findings)
        if plan is None:
            stdout.print(
                "note: no topology given, so the planned SANs were not checked", markup=False
            )
        names = ",".join(parsed)
        if assigned:
            staged = f", effective {effective:%Y-%m-%d %H:%M} UTC" if effective else ""
            forced = " (forced over the errors above)" if blocking else ""
            stdout.print(
                f"assigned {wanted} to {names} on {store.server}{staged}{forced}", markup=False
            )
        else:
            stdout.print(
                f"refused: {len(blocking)} error(s) above; {wanted} was not assigned to {names} "
                "(fix them, or --force)",
                markup=False,
            )
    return {
        "server": store.server,
        "thumbprint": wanted,
        "types": [str(u) for u in parsed],
        "assigned": assigned,
        "forced": bool(blocking) and force,
        "effective": effective.isoformat() if effective else None,
        "planned_sans_checked": plan is not None,
        "findings": [f.as_dict() for f in findings],
    }
