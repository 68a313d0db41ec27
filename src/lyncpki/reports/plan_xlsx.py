"""The plan as an Excel workbook: sheet "Certificates" (one row per certificate) and "Warnings".

Written with openpyxl in write-only mode (streamed rows). Each sheet has a bold header row,
frozen (panes at A2), an auto filter over the whole table, the column widths of
`lyncpki.reports.columns`, and wrapped text where a column asks for it (SANs, notes, ...).

Every cell is written as text, never as a formula (a site named "=1+1" stays a name), without
the control characters XML cannot hold, and with at most 32,767 characters (Excel's limit per
cell: the OAuth certificate of a big deployment lists thousands of servers).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from copy import copy
from typing import Any, TypeVar

# The `unused-ignore` code keeps mypy quiet whether or not types-openpyxl is installed.
from openpyxl import Workbook  # type: ignore[import-untyped,unused-ignore]
from openpyxl.cell.cell import (  # type: ignore[import-untyped,unused-ignore]
    ILLEGAL_CHARACTERS_RE,
    Cell,
    WriteOnlyCell,
)
from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped,unused-ignore]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped,unused-ignore]

from lyncpki.planning.model import CertificatePlan
from lyncpki.reports.columns import CERTIFICATE_COLUMNS, WARNING_COLUMNS, Column

CERTIFICATES_SHEET = "Certificates"
WARNINGS_SHEET = "Warnings"
MAX_CELL_CHARS = 32_767  # Excel's limit on the characters of one cell

T = TypeVar("T")

_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")


# what XML 1.0 cannot hold beyond openpyxl's control characters: surrogates, U+FFFE, U+FFFF
# (a site name with U+FFFF passed validation and crashed the .xlsx writer)
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def clean_cell_text(text: str) -> str:
    """Text Excel takes as it is: no control characters, nothing XML cannot hold, at most
    MAX_CELL_CHARS."""
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if _NOT_XML.search(text):
        text = _NOT_XML.sub("", text)
    if len(text) > MAX_CELL_CHARS:
        more = f" … (truncated: {len(text):,} characters in all; see the CSV or JSON report)"
        text = text[: MAX_CELL_CHARS - len(more)] + more
    return text


class _Cells:
    """The data cells of one write-only sheet.

    A plain `str` wherever openpyxl writes it as text anyway (its fast path); a cell object
    only for wrapped text or for text that openpyxl would take for a formula. Wrapped cells
    share one style array: assigning `cell.alignment` hashes the Alignment for every cell,
    which costs a third of a second per 30,000 cells.
    """

    def __init__(self, sheet: Any) -> None:  # a WriteOnlyWorksheet
        self.sheet = sheet
        wrapped: Any = WriteOnlyCell(sheet)  # Any: `_style` is not in openpyxl's stubs
        wrapped.alignment = _WRAP
        self.wrapped_style = wrapped._style

    def __call__(self, text: str, wrap: bool, numeric: bool) -> Cell | str | int | None:
        if not text:
            return None  # no cell at all
        if numeric and text.isascii() and text.isdigit():
            return int(text)
        text = clean_cell_text(text)
        formula_like = text.startswith("=")
        if not wrap and not formula_like:
            return text
        cell = WriteOnlyCell(self.sheet, value=text)
        if formula_like:
            cell.data_type = "s"
        if wrap:
            _set_style(cell, self.wrapped_style)
        return cell


def _set_style(cell: Any, style: Any) -> None:  # Any: `_style` is not in openpyxl's stubs
    cell._style = copy(style)


def _write_sheet(
    workbook: Workbook, title: str, columns: Sequence[Column[T]], rows: Iterable[T]
) -> None:
    # `sheet` is a WriteOnlyWorksheet: column widths and freeze panes must be set before the
    # first row is appended (they precede the rows in the file), the filter may come last.
    sheet = workbook.create_sheet(title)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = _BOLD
        cell.alignment = _TOP
        header.append(cell)
    sheet.append(header)
    cells = _Cells(sheet)
    count = 0
    for row in rows:
        sheet.append([cells(c.text(row), c.wrap, c.numeric) for c in columns])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"


def render_xlsx(plan: CertificatePlan) -> bytes:
    """The Certificates Report as the bytes of an .xlsx file."""
    workbook = Workbook(write_only=True)
    _write_sheet(workbook, CERTIFICATES_SHEET, CERTIFICATE_COLUMNS, plan.certificates)
    _write_sheet(workbook, WARNINGS_SHEET, WARNING_COLUMNS, plan.warnings)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
