"""`lyncpki certs` at the widths administrators' terminals have: nothing folded a few
characters at a time, every thumbprint whole (it is what `assign --thumbprint` takes)."""

from __future__ import annotations

import datetime as dt
import functools
import io
import re

from rich.cells import cell_len
from rich.console import Console

from lyncpki.reports.breaks import AFTER_COMMA, pieces, wrap
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


# -------------------------------------------------- every width, with a real store's long values
EDGE = "edge01.contoso.net"
FE = "fe01.contoso.net"
EDGE_TYPES = "AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication"
ISSUER = "CN=lyncpki Issuing CA,O=Contoso Ltd,L=Redmond,ST=WA,C=US"
EDGE_SANS = ("sip.contoso.com", "webconf.contoso.com", "sip.fabrikam.com")
FE_SANS = (  # 11 names, as a Front End's Default certificate has
    "pool01.contoso.net",
    "fe01.contoso.net",
    "sip.contoso.com",
    "sip.fabrikam.com",
    "meet.contoso.com",
    "dialin.contoso.com",
    "admin.contoso.com",
    "lyncdiscoverinternal.contoso.com",
    "lyncdiscoverinternal.fabrikam.com",
    "webint.contoso.com",
    "sip.litwareinc.com",
)
LONG_THUMBS = [
    "F9A2EB3C553E256E8F289F0BA4D1CFB4FFDB697A",
    "077054F627932A1B9E0C8D4F3A2B1C0D9E8F7A6B",
    "5ABD1F40A59E5B6EA4232E01EF02E3B67CCCA0AB",
    "E264C0F1DFB2AD3EB04C4A5D661F0645AF4FC00A",
    "2A3D97412C39B42ECC6D46D181A25CF31DE7D16D",
]
NOT_AFTER_EDGE = dt.datetime(2028, 11, 30, 19, 35, tzinfo=dt.UTC)
EFFECTIVE = dt.datetime(2027, 1, 10, 9, 0, tzinfo=dt.UTC)


def store_row(
    server: str, usage: str | None, thumbprint: str | None, **more: object
) -> CertificateRow:
    """A row as `certificate_rows` makes it from a store the lab filled."""
    values: dict[str, object] = {
        "server": server,
        "state": "assigned",
        "usage": usage,
        "thumbprint": thumbprint,
        "friendly_name": "Lync Edge External edgepool.contoso.net",
        "subject": "CN=sip.contoso.com,OU=IT,O=Contoso Ltd,L=Redmond,ST=WA,C=US",
        "sans": EDGE_SANS,
        "issuer": ISSUER,
        "not_after": NOT_AFTER_EDGE,
        "effective": None,
        "has_key": True,
        "exportable": True,
    }
    values.update(more)
    return CertificateRow(**values)  # type: ignore[arg-type]


STORE = [
    store_row(EDGE, EDGE_TYPES, LONG_THUMBS[0]),
    store_row(
        EDGE, "AudioVideoAuthentication", LONG_THUMBS[1], state="staged", effective=EFFECTIVE
    ),
    store_row(EDGE, None, LONG_THUMBS[2], state="unassigned", has_key=False),
    store_row(
        EDGE, EDGE_TYPES, None, state="pending request", request_id=7, issuer=None, not_after=None
    ),
    store_row(
        FE,
        "Default",
        LONG_THUMBS[3],
        subject="CN=pool01.contoso.net,O=Contoso Ltd",
        sans=FE_SANS,
    ),
    store_row(
        FE,
        "WebServicesInternal",
        LONG_THUMBS[4],
        state="previous",
        subject="CN=pool01.contoso.net,O=Contoso Ltd",
        sans=FE_SANS,
    ),
]
WIDTHS = range(60, 251)
SUBJECTS = ("sip.contoso.com", "pool01.contoso.net")
USAGES = ("AccessEdgeExternal", "DataEdgeExternal", "AudioVideoAuthentication", "Default")
RDNS = ("CN=lyncpki Issuing CA", "O=Contoso Ltd", "L=Redmond", "ST=WA", "C=US")
# Every whole word of the values: a token printed that is only part of one is a broken word.
VALUES = (
    *(*LONG_THUMBS, *FE_SANS, *EDGE_SANS, *USAGES, *RDNS),
    *("WebServicesInternal", "request 7", "2028-11-30 19:35", "2027-01-10 09:00"),
)
WORDS = {word for text in VALUES for word in re.split(r"[\s,]+", text)}
TOKEN = re.compile(r"[^\s,\u2500-\u257f]+")  # box-drawing characters and commas separate


@functools.cache
def rendered(width: int, soft_wrap: bool) -> list[str]:
    """The lines of STORE's tables at `width`, with the CLI's console settings or rich's."""
    out = io.StringIO()
    console = Console(
        file=out, width=width, color_system=None, soft_wrap=soft_wrap, highlight=False
    )
    print_certificates(STORE, console)
    return out.getvalue().splitlines()


def every_rendering() -> list[tuple[int, list[str]]]:
    return [(w, rendered(w, soft)) for w in WIDTHS for soft in (True, False)]


def test_at_every_width_no_line_is_wider_than_the_terminal_and_nothing_is_cut() -> None:
    for width, lines in every_rendering():
        assert max(cell_len(line) for line in lines) <= width, width
        assert not any("…" in line for line in lines), width


def test_at_every_width_each_thumbprint_is_whole_on_one_line() -> None:
    for width, lines in every_rendering():
        for thumbprint in LONG_THUMBS:
            assert any(thumbprint in line for line in lines), (width, thumbprint)


def test_at_every_width_no_name_is_broken_mid_word() -> None:
    for width, lines in every_rendering():
        for line in lines:
            for token in TOKEN.findall(line):
                broken = [w for w in WORDS if token in w and token != w]
                assert token in WORDS or not broken, (width, line, token, broken)


def test_at_every_width_usages_and_subjects_are_shown_whole() -> None:
    for width, lines in every_rendering():
        text = "\n".join(lines)
        for value in (*USAGES, *SUBJECTS, "(unassigned)", "request 7"):
            assert value in text, (width, value)
        assert not re.search(r"[│┃][│┃]", text), width  # no column of zero width


def test_at_every_width_dates_are_whole_and_labelled_utc() -> None:
    for width, lines in every_rendering():
        text = "\n".join(lines)
        assert "UTC" in text, width
        assert "2028-11-30" in text and "2027-01-10" in text, width
        for line in lines:
            for time in re.finditer(r"\d\d:\d\d", line):
                assert re.search(r"\d{4}-\d\d-\d\d $", line[: time.start()]), (width, line)


def test_an_issuer_shown_keeps_each_rdn_on_one_line() -> None:
    for width, lines in every_rendering():
        for line in lines:
            if "CN=lyncpki" in line or "Issuing" in line:
                assert "CN=lyncpki Issuing CA" in line, (width, line)


def test_every_name_of_the_sans_is_shown_where_the_terminal_is_wide() -> None:
    text = "\n".join(rendered(250, True))
    for name in (*FE_SANS, *RDNS):
        assert name in text, name


def test_an_unassigned_certificate_says_so_where_its_type_would_be() -> None:
    for width in (60, 80, 120, 200):  # stacked: the type two lines above the thumbprint
        lines = rendered(width, True)
        at = next(i for i, line in enumerate(lines) if LONG_THUMBS[2] in line)
        assert any("(unassigned)" in line for line in lines[max(0, at - 2) : at + 1]), width


def test_a_value_breaks_only_after_a_comma_or_a_space() -> None:
    assert pieces(EDGE_TYPES, AFTER_COMMA) == [
        "AccessEdgeExternal,",
        "DataEdgeExternal,",
        "AudioVideoAuthentication",
    ]
    assert pieces(r"CN=Contoso\, Ltd CA,O=Contoso", AFTER_COMMA) == [
        r"CN=Contoso\, Ltd CA,",
        "O=Contoso",
    ]
    sans = pieces(", ".join(EDGE_SANS), AFTER_COMMA)
    assert wrap(sans, 36) == ["sip.contoso.com,", "webconf.contoso.com,", "sip.fabrikam.com"]
    assert wrap(sans, 37) == ["sip.contoso.com, webconf.contoso.com,", "sip.fabrikam.com"]


def test_only_a_value_wider_than_its_whole_column_is_folded() -> None:
    assert wrap(["CN=lyncpki Issuing CA"], 12) == ["CN=lyncpki", "Issuing CA"]
    assert wrap([LONG_THUMBS[0]], 16) == ["F9A2EB3C553E256E", "8F289F0BA4D1CFB4", "FFDB697A"]
