"""`lyncpki certs` in the terminal: one table per server, laid out for the terminal's width.

Wide (160 columns and more): every column, SANs and issuer included. Usual (120 and more):
type, state, thumbprint, subject, not after. Narrow (an 80-column terminal): type, subject and
thumbprint on three lines of one cell, the date without its time, no vertical rules, so that
no cell is folded a few characters at a time. An EffectiveDate column only where a
certificate is staged. Values are Text, never read as markup. --json has every field whatever
the width."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import groupby

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lyncpki.reports.visible import visible
from lyncpki.store.listing import CertificateRow

WIDE = 160
USUAL = 120


def print_certificates(rows: Sequence[CertificateRow], console: Console) -> None:
    width = console.width
    for server, group in groupby(rows, key=lambda r: r.server):
        console.print(_table(server, list(group), width))


def _table(server: str, rows: list[CertificateRow], width: int) -> Table:
    narrow = width < USUAL
    staged = any(r.effective for r in rows)
    table = Table(
        title=Text(visible(server)),
        title_justify="left",
        box=box.SIMPLE_HEAD if narrow else box.HEAVY_HEAD,
        show_lines=narrow,
    )
    if narrow:
        table.add_column("type, subject, thumbprint", overflow="fold")
    else:  # type and state whole: the subject is what folds
        table.add_column("type", no_wrap=True, min_width=max(len(r.usage or "") for r in rows))
    table.add_column("state", no_wrap=True)
    if not narrow:
        table.add_column("thumbprint", no_wrap=True)
        table.add_column("subject", overflow="fold")
    table.add_column("not after", no_wrap=True)
    if staged:
        table.add_column("effective", no_wrap=True)
    if width >= WIDE:
        table.add_column("SANs", overflow="fold")
        table.add_column("issuer", overflow="fold")
    for r in rows:
        usage = visible(r.usage or "")
        subject = visible(_cn(r.subject))
        identity = visible(r.thumbprint or (f"request {r.request_id}" if r.request_id else ""))
        state = Text(r.state + ("" if r.has_key is not False else " (no key)"))
        cells: list[Text] = (
            [Text.assemble(usage, "\n", subject, "\n", (identity, "dim")), state]
            if narrow
            else [Text(usage), state, Text(identity), Text(subject)]
        )
        cells.append(Text(_when(r.not_after, narrow)))
        if staged:
            cells.append(Text(_when(r.effective, narrow)))
        if width >= WIDE:
            cells += [Text(visible(", ".join(r.sans))), Text(visible(r.issuer or ""))]
        table.add_row(*cells)
    return table


def _when(value: dt.datetime | None, narrow: bool) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d" if narrow else "%Y-%m-%d %H:%M")


def _cn(subject: str) -> str:
    """The CN of an RFC 4514 subject for the table (the whole subject is in --json)."""
    for part in subject.split(","):
        if part.startswith("CN="):
            return part[3:]
    return subject
