"""A check's findings in the terminal: one table per server (or file, or endpoint; records on a
terminal too narrow for the table, see reports/records.py), errors first, then a one-line
verdict."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from lyncpki.checks.finding import Finding
from lyncpki.checks.report import CheckReport
from lyncpki.planning.model import Severity
from lyncpki.reports.records import Cell, Field, print_rows
from lyncpki.reports.visible import visible

FIELDS = (
    Field("severity", whole=True),
    Field("id", whole=True),
    Field("usage", whole=True),
    Field("message"),
    Field("fix"),
)
COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def finding_cells(finding: Finding) -> list[Cell]:
    """A finding's row of FIELDS (strings are shown as they are by reports/records.py)."""
    return [
        Text(str(finding.severity), style=COLORS[finding.severity]),
        finding.id,
        finding.usage or "",
        finding.message,
        finding.fix,
    ]


def print_findings(report: CheckReport, console: Console) -> None:
    """Values (servers, messages) are printed as Text, never read as markup: a subject or a file
    name with brackets in it prints as it is, whatever the console's markup setting."""
    groups = report.by_server()
    clean = [server for server, findings in groups if not findings]
    for server, findings in groups:
        if findings:
            print_rows(console, FIELDS, [finding_cells(f) for f in findings], title=server)
    if clean:  # one line for them all: a hundred clean servers made a hundred lines
        names = ", ".join(visible(server) for server in clean)
        console.print(
            Text.assemble(("✓", "green"), f" no finding on {len(clean)} of {len(groups)}: {names}")
        )
    if report.handshakes:
        good = sum(1 for h in report.handshakes if h.ok)
        console.print(Text(f"handshakes: {good} of {len(report.handshakes)} succeeded"))
    for note in report.notes:
        console.print(Text(f"note: {visible(note)}"))
    errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
    verdict = ("passed", "green") if report.passed else (f"failed: {errors} error(s)", "red")
    console.print(
        Text.assemble(verdict, f", {warnings} warning(s) across {len(report.checked)} checked")
    )
