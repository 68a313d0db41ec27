"""The report's columns as data: one header and one value function each, shared by every format.

`CERTIFICATE_COLUMNS` starts with the Lync Server 2013 Planning Tool's Certificates Report
columns (Friendly name, Subject name, Subject alternative names, EKU, Assign to, Issued from)
and goes on with lyncpki's own. `WARNING_COLUMNS` are the columns of the warnings table.

A column whose cell holds several values (SANs, servers, rules, ...) also has `items`: the
values one by one, for the formats that show a list (HTML, the terminal). `text` joins them with
`SEPARATOR`, for the formats that hold one string per cell (CSV, XLSX).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from lyncpki.planning.model import PlannedCertificate, PlanWarning, Severity
from lyncpki.topology.model import Issuer

SEPARATOR = "; "

T = TypeVar("T")

ISSUER_LABELS = {Issuer.INTERNAL: "internal CA", Issuer.PUBLIC: "public CA"}


@dataclass(frozen=True, slots=True)
class Column(Generic[T]):
    """One column: its header, its cell text, and for list cells the items of the list."""

    key: str  # machine name: HTML class, CSS selector (lowercase, hyphenated)
    header: str
    text: Callable[[T], str]
    items: Callable[[T], Sequence[str]] | None = None
    width: int = 16  # XLSX column width, in characters
    wrap: bool = False  # XLSX: wrap the text (SANs, long sentences); costs time per cell
    numeric: bool = False  # XLSX: the text is a whole number, written as a number


def _list_column(
    key: str, header: str, items: Callable[[T], Sequence[str]], width: int, wrap: bool = False
) -> Column[T]:
    def text(row: T) -> str:
        return SEPARATOR.join(items(row))

    return Column(key, header, text, items, width, wrap)


def severity_count(count: int, severity: Severity) -> str:
    """`1 warning`, `3 errors`, `2 info`."""
    plural = count != 1 and severity is not Severity.INFO
    return f"{count} {severity}{'s' if plural else ''}"


def issued_from(cert: PlannedCertificate) -> str:
    return ISSUER_LABELS.get(cert.issuer, f"{cert.issuer} CA")


def exportable(cert: PlannedCertificate) -> str:
    """`yes — <reason>` or `no — <reason>`."""
    return f"{exportable_flag(cert)} — {cert.exportable_reason}"


def exportable_flag(cert: PlannedCertificate) -> str:
    return "yes" if cert.exportable else "no"


def eku_labels(cert: PlannedCertificate) -> list[str]:
    return [e.label for e in cert.eku]


def certificate_warning_texts(cert: PlannedCertificate) -> list[str]:
    return [f"{w.severity} {w.id}: {w.message}" for w in cert.warnings]


CERTIFICATE_COLUMNS: tuple[Column[PlannedCertificate], ...] = (
    # The Planning Tool's columns.
    Column("friendly-name", "Friendly name", lambda c: c.friendly_name, width=36),
    Column("subject-name", "Subject name", lambda c: c.subject, width=28),
    _list_column("sans", "Subject alternative names", lambda c: c.sans, width=40, wrap=True),
    _list_column("eku", "EKU", eku_labels, width=22),
    Column("assign-to", "Assign to", lambda c: c.assign_to, width=36),
    Column("issued-from", "Issued from", issued_from, width=12),
    # lyncpki's.
    _list_column("usages", "Usages", lambda c: [str(u) for u in c.usages], width=22),
    _list_column("servers", "Servers", lambda c: c.servers, width=28),
    Column("site", "Site", lambda c: c.site, width=14),
    Column("role", "Role", lambda c: c.role, width=16),
    Column("key", "Key", lambda c: c.key.name, width=9),
    Column("exportable", "Exportable", exportable, width=60),
    Column("template", "Template", lambda c: c.template, width=18),
    Column(
        "validity-days", "Validity (days)", lambda c: str(c.validity_days), width=10, numeric=True
    ),
    _list_column("rules", "Rules", lambda c: c.rules, width=16),
    _list_column("notes", "Notes", lambda c: c.notes, width=48, wrap=True),
    _list_column("warnings", "Warnings", certificate_warning_texts, width=48, wrap=True),
    Column("id", "Id", lambda c: c.id, width=36),
)

WARNING_COLUMNS: tuple[Column[PlanWarning], ...] = (
    Column("severity", "Severity", lambda w: str(w.severity), width=10),
    Column("id", "Id", lambda w: w.id, width=26),
    Column("rule", "Rule", lambda w: w.rule, width=10),
    Column("subject", "Subject", lambda w: w.subject, width=36),
    Column("certificate", "Certificate", lambda w: w.certificate or "", width=30),
    Column("message", "Message", lambda w: w.message, width=60, wrap=True),
    Column("fix", "Fix", lambda w: w.fix, width=50, wrap=True),
)


def headers(columns: Sequence[Column[T]]) -> list[str]:
    return [column.header for column in columns]


def row_texts(columns: Sequence[Column[T]], row: T) -> list[str]:
    """One row's cells as text (lists joined with `SEPARATOR`)."""
    return [column.text(row) for column in columns]
