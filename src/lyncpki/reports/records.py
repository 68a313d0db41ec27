"""Rows for a terminal of any width: a table where it fits, records where it does not.

A listing (the CA's certificates, its audit log, templates, findings...) is a table when the
columns that must stay whole (serials, thumbprints, ids, dates) fit the terminal with room
left for the others to wrap. Otherwise every row is printed as a record, one `Header  value`
line per field that has a value, the way PowerShell's Format-List prints Get-CsCertificate:
an 80-column terminal used to get tables whose every cell was folded a few characters at a
time.

Values are shown as given: strings are never read as markup (the caller's console decides
about control characters, see reports/visible.py), Text keeps its style.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lyncpki.reports.visible import visible

Cell = str | Text
ROOM = 24  # the least a wrapping column may get in a table: prose reads badly in less


@dataclass(frozen=True, slots=True)
class Field:
    """A column: its header, and whether its values must be shown whole in a table."""

    header: str
    whole: bool = False


def print_rows(
    console: Console,
    fields: Sequence[Field],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str | None = None,
) -> None:
    """`rows` as a table if it fits `console`, else as records."""
    if fits(console.width, fields, rows):
        console.print(_table(fields, rows, title))
    else:
        _records(console, fields, rows, title)


def fits(width: int, fields: Sequence[Field], rows: Sequence[Sequence[Cell]]) -> bool:
    """Whether the whole columns at their widest, and ROOM for each other one (less where
    their widest value is narrower), fit `width` with the table's rules."""
    needed = 3 * len(fields) + 1
    for n, field in enumerate(fields):
        widest = max([_width(field.header), *(_width(row[n]) for row in rows)])
        needed += widest if field.whole else min(widest, ROOM)
    return needed <= width


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _width(cell: Cell) -> int:
    """Terminal cells, not characters (a CJK name takes two a character)."""
    return max((cell_len(line) for line in _plain(cell).splitlines()), default=0)


def _text(cell: Cell) -> Text:
    return cell if isinstance(cell, Text) else Text(visible(cell))


def _table(fields: Sequence[Field], rows: Sequence[Sequence[Cell]], title: str | None) -> Table:
    table = Table(
        title=Text(visible(title)) if title else None, title_justify="left", show_lines=False
    )
    for field in fields:
        if field.whole:
            table.add_column(field.header, no_wrap=True)
        else:
            table.add_column(field.header, overflow="fold")
    for row in rows:
        table.add_row(*(_text(cell) for cell in row))
    return table


def _records(
    console: Console,
    fields: Sequence[Field],
    rows: Sequence[Sequence[Cell]],
    title: str | None,
) -> None:
    if title:
        console.print(Text(visible(title), style="bold"))
    label = max(cell_len(f.header) for f in fields)
    for number, row in enumerate(rows):
        grid = Table(box=None, show_header=False, padding=(0, 1, 0, 0))
        grid.add_column(min_width=label, no_wrap=True, style="bold")
        grid.add_column(overflow="fold")
        for field, cell in zip(fields, row, strict=True):
            if _plain(cell):  # an empty field is left out of its record
                grid.add_row(field.header, _text(cell))
        if number:
            console.print()
        console.print(grid)
