"""`lyncpki certs` in the terminal: one table per server, laid out for the terminal's width.

Nothing is cut or folded mid-word: a thumbprint (what `assign --thumbprint` takes), a date, a
usage name, a DNS name or an issuer's RDN is always printed whole on one line. Cells are
broken here, not by rich, and only where a value may break (reports/breaks.py): a type list
after a comma, the SANs after a comma, the issuer between RDNs, a state between words.

Each server's table takes the first of these layouts whose columns all fit the terminal with
their longest unbreakable value: every column, SANs and issuer included; without the issuer;
without the SANs (type, state, thumbprint, subject, not after); type and subject stacked in
one cell; the same with dates without their time; type, subject and thumbprint stacked in one
cell; and, narrowest, state and dates stacked in a second one. Each layout is tried with rules
and edges, then without them (four cells narrower). An effective column only where a
certificate is staged. Dates are UTC, and the headers say so. A certificate of no type says
"(unassigned)". Values are Text, never read as markup, with control characters shown
(reports/visible.py). --json has every field whatever the width.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lyncpki.reports.breaks import AFTER_COMMA, AFTER_SPACE, BETWEEN_WORDS, pieces, width_of, wrap
from lyncpki.reports.visible import visible
from lyncpki.store.listing import CertificateRow

UNASSIGNED = "(unassigned)"

_Pieces = Callable[[CertificateRow], list[str]]


@dataclass(frozen=True, slots=True)
class _Field:
    """One value of a row: its header and its pieces (each may end a line)."""

    header: str
    pieces: _Pieces
    style: str = ""  # in a stacked cell
    utc: bool = False


@dataclass(frozen=True, slots=True)
class _Frame:
    """Rules and edges (heavy), or neither (compact: a header line, columns apart)."""

    box: box.Box
    edge: bool

    def overhead(self, columns: int) -> int:
        """The cells a table of `columns` columns takes besides its values."""
        rules = columns - 1 + (2 if self.edge else 0)
        padding = 2 * columns - (0 if self.edge else 2)
        return rules + padding


Column = tuple[_Field, ...]  # the fields of one column, stacked
FRAMES = (_Frame(box.HEAVY_HEAD, edge=True), _Frame(box.SIMPLE_HEAD, edge=False))


def print_certificates(rows: Sequence[CertificateRow], console: Console) -> None:
    for server, group in groupby(rows, key=lambda r: r.server):
        console.print(_table(server, list(group), console.width))


def _table(server: str, rows: list[CertificateRow], width: int) -> Table:
    layouts = _layouts(staged=any(r.effective for r in rows))
    for columns in layouts:
        ranges = [_measure(column, rows) for column in columns]
        for frame in FRAMES:
            widths = _allot(ranges, width - frame.overhead(len(columns)))
            if widths is not None:
                return _render(server, rows, columns, frame, widths)
    # Not even the narrowest fits (a terminal under 60 columns, a name longer than it): the
    # narrowest, compact, its widest columns narrowed; only what cannot fit is folded.
    columns, frame = layouts[-1], FRAMES[-1]
    least = [_measure(column, rows)[0] for column in columns]
    return _render(
        server, rows, columns, frame, _squeeze(least, width - frame.overhead(len(columns)))
    )


def _layouts(staged: bool) -> list[tuple[Column, ...]]:
    """The layouts, the richest first."""
    dates = (NOT_AFTER, EFFECTIVE) if staged else (NOT_AFTER,)
    day_dates = (NOT_AFTER_DAY, EFFECTIVE_DAY) if staged else (NOT_AFTER_DAY,)
    times: list[Column] = [(field,) for field in dates]
    days: list[Column] = [(field,) for field in day_dates]
    usual: list[Column] = [(TYPE,), (STATE,), (THUMBPRINT,), (SUBJECT,), *times]
    return [
        (*usual, (SANS,), (ISSUER,)),
        (*usual, (SANS,)),
        tuple(usual),
        ((TYPE, SUBJECT), (STATE,), (THUMBPRINT,), *times),
        ((TYPE, SUBJECT), (STATE,), (THUMBPRINT,), *days),
        ((TYPE, SUBJECT, THUMBPRINT), (STATE,), *days),
        ((TYPE, SUBJECT, THUMBPRINT), (STATE, *day_dates)),
    ]


def _measure(column: Column, rows: list[CertificateRow]) -> tuple[int, int]:
    """The column's least width (its widest piece) and its most (its widest value whole)."""
    values = [_header_pieces(column)] + [field.pieces(r) for r in rows for field in column]
    least = max(width_of(piece) for parts in values for piece in parts)
    most = max(width_of("".join(parts)) for parts in values)
    return least, most


def _allot(ranges: list[tuple[int, int]], room: int) -> list[int] | None:
    """Widths within `room`, or None if the least widths do not fit: each column its least,
    then the columns that need the fewest cells more to be whole are made whole first (a
    state, a subject before the SANs), and the last of them takes what is left."""
    widths = [least for least, _ in ranges]
    spare = room - sum(widths)
    if spare < 0:
        return None
    for i in sorted(range(len(ranges)), key=lambda i: ranges[i][1] - widths[i]):
        more = min(spare, ranges[i][1] - widths[i])
        widths[i] += more
        spare -= more
    return widths


def _squeeze(widths: list[int], room: int) -> list[int]:
    """`widths` within `room`, the widest narrowed first (never under one cell)."""
    widths = list(widths)
    while sum(widths) > room and max(widths) > 1:
        widths[widths.index(max(widths))] -= 1
    return widths


def _render(
    server: str,
    rows: list[CertificateRow],
    columns: Sequence[Column],
    frame: _Frame,
    widths: list[int],
) -> Table:
    table = Table(
        title=Text(visible(server)),
        title_justify="left",
        box=frame.box,
        show_edge=frame.edge,
        pad_edge=frame.edge,
        show_lines=any(len(column) > 1 for column in columns),
    )
    for column, width in zip(columns, widths, strict=True):
        header = Text("\n".join(wrap(_header_pieces(column), width)))
        table.add_column(header, no_wrap=True, overflow="fold")
    for r in rows:
        table.add_row(*(_cell(column, r, w) for column, w in zip(columns, widths, strict=True)))
    return table


def _cell(column: Column, row: CertificateRow, width: int) -> Text:
    stacked = len(column) > 1
    lines = [
        Text(line, field.style if stacked else "")
        for field in column
        for line in wrap(field.pieces(row), width)
    ]
    return Text("\n").join(lines)


def _header_pieces(column: Column) -> list[str]:
    """`type, subject, thumbprint`, `not after (UTC)`: broken after a comma, before "(UTC)"."""
    names = pieces(", ".join(field.header for field in column), AFTER_COMMA)
    return [*names[:-1], names[-1] + " ", "(UTC)"] if any(f.utc for f in column) else names


# ---------------------------------------------------------------------------------- fields
def _one_line(text: str) -> str:
    """`text` as the terminal may show it, a line break shown as `\\n` too."""
    return visible(text).replace("\n", "\\n")


def _type(row: CertificateRow) -> list[str]:
    return pieces(_one_line(row.usage or UNASSIGNED), AFTER_COMMA)


def _state(row: CertificateRow) -> list[str]:
    words = pieces(row.state, AFTER_SPACE)
    return words if row.has_key is not False else [*words[:-1], words[-1] + " ", "(no key)"]


def _identity(row: CertificateRow) -> list[str]:
    request = f"request {row.request_id}" if row.request_id else ""
    if request and row.ca_request_id is not None:  # --retrieve takes the CA's, --clear ours
        request += f", CA request {row.ca_request_id}"
    return [_one_line(row.thumbprint or request)]


def _subject(row: CertificateRow) -> list[str]:
    return pieces(_one_line(_cn(row.subject)), BETWEEN_WORDS)  # a subject without CN: RDNs


def _sans(row: CertificateRow) -> list[str]:
    return pieces(_one_line(", ".join(row.sans)), AFTER_COMMA)


def _issuer(row: CertificateRow) -> list[str]:
    return pieces(_one_line(row.issuer or ""), AFTER_COMMA)


def _when(value: Callable[[CertificateRow], dt.datetime | None], day: bool) -> _Pieces:
    def when(row: CertificateRow) -> list[str]:
        moment = value(row)
        return [moment.strftime("%Y-%m-%d" if day else "%Y-%m-%d %H:%M") if moment else ""]

    return when


def _cn(subject: str) -> str:
    """The CN of an RFC 4514 subject for the table (the whole subject is in --json)."""
    for part in re.split(r"(?<!\\),", subject):
        if part.startswith("CN="):
            return part[3:]
    return subject


TYPE = _Field("type", _type)
STATE = _Field("state", _state)
THUMBPRINT = _Field("thumbprint", _identity, style="dim")
SUBJECT = _Field("subject", _subject)
NOT_AFTER = _Field("not after", _when(lambda r: r.not_after, day=False), utc=True)
NOT_AFTER_DAY = _Field("not after", _when(lambda r: r.not_after, day=True), utc=True)
EFFECTIVE = _Field("effective", _when(lambda r: r.effective, day=False), utc=True)
EFFECTIVE_DAY = _Field("effective", _when(lambda r: r.effective, day=True), utc=True)
SANS = _Field("SANs", _sans)
ISSUER = _Field("issuer", _issuer)
