"""Listings at any terminal width: a table while its whole columns fit, records otherwise;
never a serial or a thumbprint cut."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from lyncpki.reports.records import Field, fits, print_rows

SERIAL = "3021637e58c34fea10c06941f5bbc32a1f0f0a05"
FIELDS = [Field("Serial", whole=True), Field("Subject"), Field("Status", whole=True)]
ROWS = [
    [SERIAL, "CN=pool01.contoso.net,OU=IT,O=Contoso Ltd,L=Redmond,ST=WA,C=US", "valid"],
    ["01", "CN=[bold]odd[/bold] \x1b[31m", Text("revoked", style="red")],
]


def render(width: int, title: str | None = None) -> str:
    out = io.StringIO()
    print_rows(Console(file=out, width=width, color_system=None), FIELDS, ROWS, title=title)
    return out.getvalue()


def test_the_widths_that_decide() -> None:
    # whole columns at their widest (40 and 7), the other one at most 24, and the rules
    needed = 40 + 24 + 7 + 3 * 3 + 1
    assert fits(needed, FIELDS, ROWS) and not fits(needed - 1, FIELDS, ROWS)
    short = [["a", "b", "c"]]
    # the headers' widths when the values are shorter (6, 7, 6)
    assert fits(6 + 7 + 6 + 3 * 3 + 1, FIELDS, short) and not fits(6 + 7 + 6 + 9, FIELDS, short)


def test_a_table_where_it_fits_with_whole_values_on_one_line() -> None:
    text = render(100)
    assert "┃" in text
    assert any(SERIAL in line and "valid" in line for line in text.splitlines())
    assert all(len(line) <= 100 for line in text.splitlines())


def test_records_where_it_does_not() -> None:
    text = render(60, title="fe01.contoso.net")
    lines = [line.rstrip() for line in text.splitlines()]
    assert "┃" not in text and lines[0] == "fe01.contoso.net"
    assert f"Serial  {SERIAL}" in lines and "Status  revoked" in lines
    assert "" in lines  # records apart
    assert all(len(line) <= 60 for line in lines)


def test_values_are_shown_not_obeyed() -> None:
    for width in (60, 200):
        text = render(width)
        assert "[bold]odd[/bold]" in text and "\\x1b[31m" in text and "\x1b" not in text


def test_widths_are_terminal_cells_and_empty_fields_are_left_out_of_records() -> None:
    wide = [["\u6771\u4eac" * 10, "x", "valid"]]  # 20 characters, 40 cells
    assert fits(40 + 7 + 6 + 10, FIELDS, wide) and not fits(40 + 7 + 6 + 9, FIELDS, wide)
    out = io.StringIO()
    print_rows(Console(file=out, width=30, color_system=None), FIELDS, [[SERIAL, "", "valid"]])
    assert "Subject" not in out.getvalue() and "Status valid" in " ".join(out.getvalue().split())
