"""The plan in the terminal: a summary, rich tables by site and role, then the warnings.

One table per site and role when the tables fit the console's width; otherwise, and for big
plans (more than `COMPACT_ABOVE` certificates), a compact layout of a few lines per
certificate. Rich lays a table out by measuring every cell: 30,000 certificates in tables took
20 s (to a 200-column file console); the compact layout is written as raw segments and takes
under a second.

The many `plan.default-name` warnings (example names left in the topology) are collapsed into
one line that lists the fields; the other warnings are a table (one line each when many).

Values from the topology are printed as `Text` or plain segments, never parsed as rich markup
(a site named "[red]x" prints as it is written), control characters shown, not obeyed
(reports/visible.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from lyncpki.planning.model import CertificatePlan, PlannedCertificate, PlanWarning, Severity
from lyncpki.reports.columns import (
    ISSUER_LABELS,
    eku_labels,
    exportable_flag,
    issued_from,
    severity_count,
)
from lyncpki.reports.groups import RoleGroup, by_site_and_role
from lyncpki.reports.visible import visible

COMPACT_ABOVE = 500  # certificates; above, one compact block per certificate
MIN_WRAPPED_WIDTH = 20  # Friendly name, EKU, Assign to: narrower, use the compact layout
WARNING_TABLE_ROWS = 200  # warnings; above, or on a narrower console, one line per warning
WARNING_TABLE_MIN_WIDTH = 120
COLLAPSED_WARNINGS = ("plan.default-name",)  # many, all alike: one summary line each

SEVERITY_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
ISSUER_STYLES = {"public CA": "magenta"}
_STYLE_NAMES = ("", "bold", *ISSUER_STYLES.values())


def print_plan(plan: CertificatePlan, console: Console) -> None:
    """Print the summary, the certificates by site and role, and the warnings.

    Tables when they fit the console's width and the plan is not big, else the compact layout.
    """
    console.print(_summary(plan))
    groups = [group for site in by_site_and_role(plan.certificates) for group in site.roles]
    widths = None
    if len(plan.certificates) <= COMPACT_ABOVE:
        widths = _name_widths(plan.certificates, console.width)
    for group in groups:
        console.print()
        if widths is not None:
            console.print(_group_table(group, *widths))
        elif len(plan.certificates) > COMPACT_ABOVE:
            console.print(_CompactSegments(_compact_lines(group)), soft_wrap=True)
        else:
            console.print(_compact_text(_compact_lines(group)))
    _print_warnings(plan.warnings, console)


def _name_widths(
    certificates: Sequence[PlannedCertificate], console_width: int
) -> tuple[int, int] | None:
    """Widths of the Subject and SANs columns (whole DNS names), or None when the table with
    them and its other columns at a readable width would not fit in `console_width`."""
    subject = max((cell_len(c.subject) for c in certificates), default=7)
    sans = max((cell_len(n) for c in certificates for n in c.sans), default=4)
    subject, sans = max(subject, len("Subject")), max(sans, len("SANs"))
    fixed = len("Issued from") + len("rsa4096") + len("Exportable")
    wrapped = 3 * MIN_WRAPPED_WIDTH  # Friendly name, EKU, Assign to
    padding = 8 * 2 + 8 + 1  # 8 columns: padding each side, separators and edges
    if subject + sans + fixed + wrapped + padding > console_width:
        return None
    return subject, sans


def _summary(plan: CertificatePlan) -> Text:
    issuers = Counter(issued_from(cert) for cert in plan.certificates)
    by_issuer = ", ".join(
        f"{issuers[label]} from {'the' if label == 'internal CA' else 'a'} {label}"
        for label in ISSUER_LABELS.values()
        if issuers[label]
    )
    text = Text()
    count = len(plan.certificates)
    text.append(f"{count} certificate{'' if count == 1 else 's'}", style="bold")
    if by_issuer:
        text.append(f" ({by_issuer})")
    text.append(f" · layout {plan.layout} · ")
    text.append(_count_warnings(plan.warnings))
    if plan.source:
        text.append(" · topology ")
        text.append(visible(plan.source))
    return text


def _count_warnings(warnings: Sequence[PlanWarning]) -> Text:
    if not warnings:
        return Text("no warnings", style="green")
    counts = Counter(w.severity for w in warnings)
    text = Text()
    parts = [(s, counts[s]) for s in Severity if counts[s]]
    for index, (severity, count) in enumerate(parts):
        if index:
            text.append(", ")
        text.append(severity_count(count, severity), style=SEVERITY_STYLES[severity])
    return text


def _group_table(group: RoleGroup, subject_width: int, sans_width: int) -> Table:
    table = Table(
        title=Text(visible(group.title), style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAVY,
        show_lines=True,
        header_style="bold",
    )
    # DNS names keep their whole width while the other columns wrap; should they not fit,
    # they are folded, never cut with "…" (a truncated SAN would be a wrong plan).
    table.add_column("Friendly name", overflow="fold")
    table.add_column("Subject", width=subject_width, overflow="fold")
    table.add_column("SANs", width=sans_width, overflow="fold")
    table.add_column("EKU", overflow="fold")
    table.add_column("Assign to", overflow="fold")
    table.add_column("Issued from", no_wrap=True)
    table.add_column("Key", no_wrap=True)
    table.add_column("Exportable", no_wrap=True)
    for cert in group.certificates:
        issuer = issued_from(cert)
        table.add_row(
            Text(visible(cert.friendly_name)),
            Text(visible(cert.subject)),
            Text(visible("\n".join(cert.sans))),
            Text("\n".join(eku_labels(cert))),
            Text(visible(cert.assign_to)),
            Text(issuer, style=ISSUER_STYLES.get(issuer, "")),
            Text(cert.key.name),
            Text(exportable_flag(cert)),
        )
    return table


Piece = tuple[str, str]  # text, rich style ("" for none)


def _compact_lines(group: RoleGroup) -> list[list[Piece]]:
    """A few lines per certificate: friendly name, subject, SANs (one a line), EKU, the rest."""
    count = len(group.certificates)
    title = f"{group.title} ({count} certificate{'' if count == 1 else 's'})"
    lines: list[list[Piece]] = [[(visible(title), "bold")]]
    for cert in group.certificates:
        issuer = issued_from(cert)
        lines.append([("  ", ""), (visible(cert.friendly_name), "bold")])
        lines.append([(f"    Subject    {visible(cert.subject)}", "")])
        for index, name in enumerate(cert.sans):
            lines.append([(f"    {'SANs' if index == 0 else '':<11}{visible(name)}", "")])
        lines.append(
            [
                (f"    EKU        {', '.join(eku_labels(cert))} · ", ""),
                (issuer, ISSUER_STYLES.get(issuer, "")),
                (f" · {cert.key.name} · exportable {exportable_flag(cert)}", ""),
            ]
        )
        lines.append([(f"    Assign to  {visible(cert.assign_to)}", "")])
    return lines


def _compact_text(lines: list[list[Piece]]) -> Text:
    """The compact layout as rich Text: wrapped to the console's width (small plans)."""
    text = Text()
    for index, line in enumerate(lines):
        if index:
            text.append("\n")
        for piece, style in line:
            text.append(piece, style=style)
    return text


class _CompactSegments:
    """The compact layout as rich segments, one line each, never wrapped (big plans): rich's
    Text splits and measures every line, which takes seconds for 200,000 lines."""

    def __init__(self, lines: list[list[Piece]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        styles = {name: console.get_style(name) if name else None for name in _STYLE_NAMES}
        newline = Segment.line()
        for line in self.lines:
            for piece, style in line:
                yield Segment(piece, styles[style])
            yield newline


def _print_warnings(warnings: Sequence[PlanWarning], console: Console) -> None:
    console.print()
    if not warnings:
        console.print(Text("No warnings.", style="green"))
        return
    heading = Text("Warnings: ", style="bold")
    heading.append(_count_warnings(warnings))
    console.print(heading)
    collapsed: dict[str, list[PlanWarning]] = {}
    others: list[PlanWarning] = []
    for warning in warnings:
        if warning.id in COLLAPSED_WARNINGS:
            collapsed.setdefault(warning.id, []).append(warning)
        else:
            others.append(warning)
    for alike in collapsed.values():
        console.print(_collapsed_line(alike), soft_wrap=True)
    if not others:
        return
    if len(others) > WARNING_TABLE_ROWS:
        console.print(_warning_lines(others), soft_wrap=True)
    elif console.width < WARNING_TABLE_MIN_WIDTH:
        console.print(_warning_lines(others))
    else:
        console.print(_warning_table(others))


def _worst(warnings: Sequence[PlanWarning]) -> Severity:
    order = list(Severity)  # ERROR, WARNING, INFO
    return min((w.severity for w in warnings), key=order.index)


def _collapsed_line(warnings: Sequence[PlanWarning]) -> Text:
    """One line for many warnings of one id: count, rule, every field, and the fix."""
    first = warnings[0]
    severity = _worst(warnings)
    text = Text()
    text.append(f"{severity} ", style=SEVERITY_STYLES[severity])
    text.append(f"{first.id} ({first.rule}), {len(warnings)} fields: ", style="bold")
    if first.id == "plan.default-name":
        text.append("the documentation's example names are left unedited in ")
    else:
        text.append(f"{visible(first.message)}; also in ")
    text.append(visible(", ".join(w.subject for w in warnings)))
    text.append(f" — fix: {visible(first.fix)}")
    return text


def _warning_table(warnings: Sequence[PlanWarning]) -> Table:
    table = Table(box=box.SIMPLE_HEAVY, show_lines=True, header_style="bold")
    table.add_column("Severity", no_wrap=True)
    table.add_column("Id", overflow="fold")
    table.add_column("Rule", no_wrap=True)
    table.add_column("Subject", overflow="fold")
    table.add_column("Message", overflow="fold", ratio=4)
    table.add_column("Fix", overflow="fold", ratio=3)
    for w in warnings:
        table.add_row(
            Text(str(w.severity), style=SEVERITY_STYLES[w.severity]),
            Text(w.id),
            Text(w.rule),
            Text(visible(w.subject)),
            Text(visible(w.message)),
            Text(visible(w.fix)),
        )
    return table


def _warning_lines(warnings: Sequence[PlanWarning]) -> Text:
    text = Text()
    for index, w in enumerate(warnings):
        if index:
            text.append("\n")
        text.append(f"{w.severity} ", style=SEVERITY_STYLES[w.severity])
        text.append(f"{w.id} ({w.rule}) {visible(w.subject)}: ", style="bold")
        text.append(f"{visible(w.message)} — fix: {visible(w.fix)}")
    return text
