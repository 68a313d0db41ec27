"""A finding: one problem (or note) about one certificate, on one server, for one usage.

Checks never raise for what they find: they return findings. Ids are stable and dotted
(`san.missing`), and each names the requirement of REQUIREMENTS.md it enforces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lyncpki.planning.model import Severity

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    severity: Severity
    server: str | None
    usage: str | None
    subject: str  # the certificate's subject, or what the finding is about
    message: str  # what is wrong, with the values
    fix: str  # what to do
    rule: str  # the requirement id (R-GEN-07, ...)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": str(self.severity),
            "server": self.server,
            "usage": self.usage,
            "subject": self.subject,
            "message": self.message,
            "fix": self.fix,
            "rule": self.rule,
        }


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def ordered(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then notes; stable within each."""
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])
