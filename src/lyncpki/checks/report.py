"""The result of a `check` run: its findings, the handshakes made, what was checked, as a
value every renderer (table, JSON `lyncpki.findings/1`, HTML) reads."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lyncpki.checks.finding import Finding
from lyncpki.checks.live import Handshake
from lyncpki.planning.model import Severity

SCHEMA = "lyncpki.findings/1"


@dataclass(frozen=True)
class CheckReport:
    findings: tuple[Finding, ...]
    generated: dt.datetime
    checked: tuple[str, ...] = ()  # servers, files and endpoints, in order
    handshakes: tuple[Handshake, ...] = ()
    topology: str | None = None
    offline: bool = False
    days: int = 30
    notes: tuple[str, ...] = field(default=())
    certificates: tuple[dict[str, str], ...] = ()  # what each --cert file held (its identity)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def passed(self) -> bool:
        return self.count(Severity.ERROR) == 0

    def by_server(self) -> list[tuple[str, list[Finding]]]:
        """Findings grouped by server (or file, or endpoint), in the order checked."""
        groups: dict[str, list[Finding]] = {name: [] for name in self.checked}
        for finding in self.findings:
            groups.setdefault(finding.server or "(deployment)", []).append(finding)
        return list(groups.items())

    def as_dict(self) -> dict[str, Any]:
        ids = Counter(f.id for f in self.findings)
        return {
            "schema": SCHEMA,
            "generated": self.generated.isoformat(),
            "topology": self.topology,
            "offline": self.offline,
            "days": self.days,
            "checked": list(self.checked),
            "summary": {
                "errors": self.count(Severity.ERROR),
                "warnings": self.count(Severity.WARNING),
                "info": self.count(Severity.INFO),
                "passed": self.passed,
                "by_id": dict(sorted(ids.items())),
                "handshakes": len(self.handshakes),
                "handshakes_ok": sum(1 for h in self.handshakes if h.ok),
            },
            "findings": [f.as_dict() for f in self.findings],
            "handshakes": [h.as_dict() for h in self.handshakes],
            "certificates": list(self.certificates),
            "notes": list(self.notes),
        }
