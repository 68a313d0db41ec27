"""`lyncpki certs` at the widths administrators' terminals have: nothing folded a few
characters at a time, every thumbprint whole (it is what `assign --thumbprint` takes)."""

from __future__ import annotations

import datetime as dt
import io

from rich.console import Console

from lyncpki.reports.certs_table import print_certificates
from lyncpki.store.listing import CertificateRow

NOT_AFTER = dt.datetime(2028, 11, 30, 17, 30, tzinfo=dt.UTC)
THUMBS = ["C1667649B9B5936A8D9DDD597707520B7D00C536", "C9DE117968B81223569B1778921FCE74F2F4DAA5"]


def row(server: str, usage: str, thumbprint: str, subject: str, **more: object) -> CertificateRow:
    values: dict[str, object] = {
        "server": server,
        "state": "assigned",
        "usage": usage,
        "thumbprint": thumbprint,
        "friendly_name": "",
        "subject": f"CN={subject},O=Contoso",
        "sans": (subject, "sip.contoso.com"),
        "issuer": "CN=Contoso Issuing CA",
        "not_after": NOT_AFTER,
        "effective": None,
        "has_key": True,
        "exportable": True,
    }
    values.update(more)
    return CertificateRow(**values)  # type: ignore[arg-type]


ROWS = [
    row("edge01.contoso.net", "AudioVideoAuthentication", THUMBS[0], "sip.contoso.com"),
    row("edge01.contoso.net", "Internal", THUMBS[1], "edgepool.contoso.net"),
    row("fe01.contoso.net", "Default", THUMBS[1], "pool01.contoso.net"),
]


def render(rows: list[CertificateRow], width: int) -> str:
    out = io.StringIO()
    print_certificates(rows, Console(file=out, width=width, color_system=None))
    return out.getvalue()


def test_each_server_is_a_table_of_its_own_at_every_width() -> None:
    for width in (80, 120, 200):
        text = render(ROWS, width)
        lines = [line.rstrip() for line in text.splitlines()]
        assert "edge01.contoso.net" in lines and "fe01.contoso.net" in lines, width
        assert max(len(line) for line in lines) <= width


def test_at_80_columns_no_value_is_folded() -> None:
    text = render(ROWS, 80)
    for value in (*THUMBS, "AudioVideoAuthentication", "edgepool.contoso.net", "2028-11-30"):
        assert value in text, value
    assert "17:30" not in text  # the date alone where columns are scarce


def test_at_120_columns_a_certificate_is_one_line() -> None:
    text = render(ROWS, 120)
    line = next(line for line in text.splitlines() if "AudioVideoAuthentication" in line)
    assert THUMBS[0] in line and "sip.contoso.com" in line and "2028-11-30 17:30" in line
    assert "issuer" not in text  # SANs and issuer only on wide terminals


def test_wide_terminals_show_sans_and_issuer() -> None:
    text = render(ROWS, 200)
    assert "SANs" in text and "Contoso Issuing CA" in text


def test_effective_dates_only_where_a_certificate_is_staged() -> None:
    assert "effective" not in render(ROWS, 120)
    staged = row(
        "edge01.contoso.net",
        "AudioVideoAuthentication",
        THUMBS[1],
        "sip.contoso.com",
        state="staged",
        effective=dt.datetime(2026, 12, 24, 18, 0, tzinfo=dt.UTC),
    )
    text = render([*ROWS, staged], 120)
    assert "effective" in text and "2026-12-24 18:00" in text


def test_values_are_printed_as_they_are_never_as_markup() -> None:
    odd = row("fe01.contoso.net", "Default", THUMBS[0], "[bold]x[/bold].contoso.net")
    assert "[bold]x[/bold].contoso.net" in render([odd], 120)
