"""A check's findings in the terminal: one table per server (or file, or endpoint), errors
first, then a one-line verdict."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lyncpki.checks.report import CheckReport
from lyncpki.planning.model import Severity

COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def print_findings(report: CheckReport, console: Console) -> None:
    for server, findings in report.by_server():
        if not findings:
            console.print(f"[green]✓[/] {escape(server)}: no finding")
            continue
        table = Table(title=escape(server), title_justify="left", show_lines=False)
        for header in ("severity", "id", "usage", "message", "fix"):
            table.add_column(header, overflow="fold")
        for f in findings:
            color = COLORS[f.severity]
            table.add_row(
                f"[{color}]{f.severity}[/]",
                escape(f.id),
                escape(f.usage or ""),
                escape(f.message),
                escape(f.fix),
            )
        console.print(table)
    if report.handshakes:
        good = sum(1 for h in report.handshakes if h.ok)
        console.print(f"handshakes: {good} of {len(report.handshakes)} succeeded")
    for note in report.notes:
        console.print(f"note: {escape(note)}")
    errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
    verdict = "[green]passed[/]" if report.passed else f"[red]failed: {errors} error(s)[/]"
    console.print(f"{verdict}, {warnings} warning(s) across {len(report.checked)} checked")
