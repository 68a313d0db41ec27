"""What the deployment dashboard shows, read from the home: every server x usage of the plan
with its state, the findings of the last check, certificates expiring per week, the CRLs and
the CA chain. The web console renders it; nothing here knows about HTTP."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.checks.deployment import placements
from lyncpki.checks.home_check import LAST_CHECK, topology_file
from lyncpki.errors import LyncPkiError
from lyncpki.planning import CertificatePlan, plan_file
from lyncpki.store import ServerStore, StoreError
from lyncpki.x509.identifiers import serial_hex, thumbprint

EXPIRING = dt.timedelta(days=30)
WEEKS = 110  # a little over two years: the default validity of a server certificate


@dataclass(frozen=True)
class Cell:
    server: str
    usage: str
    state: str  # assigned | expiring | revoked | missing | error
    thumbprint: str | None = None
    not_after: dt.datetime | None = None
    findings: tuple[dict[str, Any], ...] = ()
    revocation: str | None = None  # the reason, when this CA revoked it (or holds it)


@dataclass(frozen=True)
class CrlStatus:
    name: str
    url: str
    number: int | None
    this_update: dt.datetime | None
    next_update: dt.datetime | None
    entries: int
    size: int
    problem: str | None = None


@dataclass
class Dashboard:
    topology: str | None
    cells: list[Cell] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    checked_at: str | None = None
    weeks: list[tuple[str, int]] = field(default_factory=list)  # (week start, certificates)
    crls: list[CrlStatus] = field(default_factory=list)
    chain: list[x509.Certificate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for c in self.cells if c.state == state)

    def servers(self) -> list[str]:
        return list(dict.fromkeys(c.server for c in self.cells))

    def usages(self) -> list[str]:
        return list(dict.fromkeys(c.usage for c in self.cells))

    def cell(self, server: str, usage: str) -> Cell | None:
        return next((c for c in self.cells if c.server == server and c.usage == usage), None)


def last_check(home: Path) -> tuple[list[dict[str, Any]], str | None, list[str]]:
    """The findings of the newest check: `lyncpki check` (last-check.json) or deploy's, when
    was it made, and what was wrong with a file that had to be ignored (damaged or edited by
    hand: findings null, a string, a finding without its id — the dashboard was a 500)."""
    newest: tuple[float, list[dict[str, Any]], str | None] | None = None
    problems = []
    for name in (LAST_CHECK, "report.json"):
        path = home / name
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as error:
            problems.append(f"{name} was ignored: it cannot be read ({error}); {_AGAIN}")
            continue
        report = data.get("check", data) if isinstance(data, dict) else None
        if not isinstance(report, dict) or report.get("schema") != "lyncpki.findings/1":
            continue  # another report: not a check's
        findings = _findings(report.get("findings"))
        if isinstance(findings, str):
            problems.append(f"{name} was ignored: {findings}; {_AGAIN}")
            continue
        generated = report.get("generated")
        mtime = path.stat().st_mtime
        if newest is None or mtime > newest[0]:
            newest = (mtime, findings, generated if isinstance(generated, str) else None)
    return (newest[1], newest[2], problems) if newest else ([], None, problems)


_AGAIN = "run Check now (or lyncpki check --home) to write it again"
_REQUIRED = ("id", "severity", "message")  # what the dashboard shows of each finding
_OPTIONAL = ("fix", "server", "usage")


def _findings(value: object) -> list[dict[str, Any]] | str:
    """A check's findings as the dashboard shows them, or what is wrong with them."""
    if not isinstance(value, list):
        return "its findings are not a list"
    found = []
    for n, finding in enumerate(value, 1):
        if not isinstance(finding, dict):
            return f"finding {n} is not an object"
        missing = [k for k in _REQUIRED if not isinstance(finding.get(k), str)]
        wrong = [k for k in _OPTIONAL if not isinstance(finding.get(k), str | None)]
        if missing or wrong:
            return f"finding {n} has no text for {', '.join(missing + wrong)}"
        found.append({**finding, **{k: finding.get(k) for k in _OPTIONAL}})
    return found


@dataclass(frozen=True)
class Revoked:
    """The certificates this CA revoked or holds, by serial, and the names of its CAs."""

    reasons: dict[str, str]  # serial (lowercase hex) -> reason
    issuers: frozenset[x509.Name]

    @classmethod
    def of(cls, ca: CertificateAuthority) -> Revoked:
        reasons = {
            str(row["serial"]): str(row.get("revocation_reason") or "unspecified")
            for row in ca.certificates(status="revoked")
        }
        issuers = frozenset(c.subject for c in (ca.issuer.certificate, ca.root.certificate))
        return cls(reasons, issuers)

    def reason(self, cert: x509.Certificate) -> str | None:
        if cert.issuer not in self.issuers:
            return None  # another CA's: its serial means nothing here
        return self.reasons.get(serial_hex(cert.serial_number))


def _cells(
    result: CertificatePlan,
    home: Path,
    now: dt.datetime,
    findings: list[dict[str, Any]],
    revoked: Revoked | None = None,
) -> list[Cell]:
    """Every server x usage of the plan with its state: a certificate this CA revoked (or
    holds) is "revoked" at once, not "assigned" until the next check."""
    cells = []
    for planned, server in placements(result):
        store = ServerStore(home, server)
        try:
            index = store.load() if store.exists() else None
        except StoreError:
            index = None
        for usage in planned.usages:
            mine = tuple(
                f for f in findings if f.get("server") == server and f.get("usage") == usage
            )
            current = index.slots(str(usage), now).current if index else None
            if current is None:
                cells.append(Cell(server, str(usage), "missing", findings=mine))
                continue
            try:
                cert = store.certificate(current.thumbprint)
            except StoreError:
                cells.append(Cell(server, str(usage), "error", current.thumbprint, None, mine))
                continue
            end = cert.not_valid_after_utc
            errors = any(f.get("severity") == "error" for f in mine)
            reason = revoked.reason(cert) if revoked is not None else None
            state = (
                "revoked"
                if reason is not None
                else "error"
                if errors or end <= now
                else ("expiring" if end - now <= EXPIRING else "assigned")
            )
            cells.append(Cell(server, str(usage), state, current.thumbprint, end, mine, reason))
    return cells


def _weeks(ca: CertificateAuthority, now: dt.datetime) -> list[tuple[str, int]]:
    start = (now - dt.timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    counts = [0] * WEEKS
    for row in ca.certificates(status="valid"):
        end = row["not_after"]
        if end.tzinfo is None:
            end = end.replace(tzinfo=dt.UTC)
        week = (end - start).days // 7
        if 0 <= week < WEEKS:
            counts[week] += 1
    return [((start + dt.timedelta(weeks=i)).strftime("%Y-%m-%d"), n) for i, n in enumerate(counts)]


def crl_status(ca: CertificateAuthority) -> list[CrlStatus]:
    found = []
    config = ca.config
    for name, slug, delta in (
        (config.name, config.slug, False),
        (f"{config.name} (delta)", config.slug, True),
        (config.root_name, config.root_slug, False),
    ):
        path = ca.home.crl_file(slug, delta=delta)
        url = config.crl_url(slug, delta=delta)
        try:
            data = path.read_bytes()
            crl = x509.load_der_x509_crl(data)
        except (OSError, ValueError) as error:
            found.append(CrlStatus(name, url, None, None, None, 0, 0, str(error)))
            continue
        try:
            number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        except x509.ExtensionNotFound:
            number = None
        found.append(
            CrlStatus(
                name, url, number, crl.last_update_utc, crl.next_update_utc, len(crl), len(data)
            )
        )
    return found


def dashboard(ca: CertificateAuthority, home: Path) -> Dashboard:
    now = ca.clock.now()
    path = topology_file(home)
    board = Dashboard(str(path) if path else None)
    board.findings, board.checked_at, problems = last_check(home)
    board.notes.extend(problems)
    if path is None:
        board.notes.append(
            "no topology in this home: deploy one (lyncpki deploy TOPOLOGY --home ...) or copy "
            "it to topology.yaml here"
        )
    else:
        try:
            result = plan_file(path)
            board.cells = _cells(result, home, now, board.findings, Revoked.of(ca))
        except LyncPkiError as error:
            board.notes.append(f"the topology cannot be planned: {error.message}")
    board.weeks = _weeks(ca, now)
    board.crls = crl_status(ca)
    board.chain = ca.chain()
    return board


def chain_rows(chain: list[x509.Certificate]) -> list[dict[str, str]]:
    return [
        {
            "subject": c.subject.rfc4514_string(),
            "thumbprint": thumbprint(c),
            "not_after": c.not_valid_after_utc.strftime("%Y-%m-%d"),
        }
        for c in chain
    ]
