"""The deployment's report as data (`lyncpki.deploy/1`): what was planned, what was done, the
check's findings (`lyncpki.findings/1` inside), every handshake of the live proof after them
(each with its kind of pair: scripts read them all; report.html folds the accepted ones away),
and the time each phase took. report.json and report.html are written from it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from lyncpki.deployment.deploy import DeployResult

SCHEMA = "lyncpki.deploy/1"


def report_document(result: DeployResult) -> dict[str, Any]:
    actions = Counter(d.action for d in result.done)
    proof = [h.as_dict() for h in result.proof]
    return {
        "schema": SCHEMA,
        "topology": result.topology,
        "home": str(result.home),
        "passed": result.passed,
        "changed": result.changed,
        "ca_created": result.ca_created,
        "summary": {
            "planned_certificates": len(result.plan.certificates),
            "kept": len(result.assessment.kept),
            "actions": dict(sorted(actions.items())),
            "errors": sum(
                1 for f in (result.check.findings if result.check else ()) if f.severity == "error"
            ),
            "warnings": sum(
                1
                for f in (result.check.findings if result.check else ())
                if f.severity == "warning"
            ),
            "handshakes": len(proof),
            "handshakes_proved": sum(1 for h in result.proof if h.proved),
        },
        "phases": {name: round(seconds, 3) for name, seconds in result.phases.items()},
        "actions": [
            {
                "server": d.server,
                "certificate": d.certificate,
                "action": d.action,
                "thumbprint": d.thumbprint,
                "detail": d.detail,
            }
            for d in result.done
        ],
        "kept": [{"certificate": p.id, "thumbprint": t} for p, t in result.assessment.kept],
        "check": result.check.as_dict() if result.check else None,
        "proof": proof,
        "notes": result.notes,
    }
