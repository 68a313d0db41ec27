"""visible(): what a terminal would obey is shown instead."""

from __future__ import annotations

import pytest

from lyncpki.reports.visible import visible


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("pool01.contoso.net", "pool01.contoso.net"),
        ("Contoso Ltd — IT, Åre", "Contoso Ltd — IT, Åre"),
        ("Red\x1b[31mmond", "Red\\x1b[31mmond"),
        ("bell\x07 cr\r", "bell\\x07 cr\\x0d"),
        ("csi\x9b2J", "csi\\x9b2J"),
        ("txet\u202eexe.crt", "txet\\u202eexe.crt"),
        ("two\nlines", "two\nlines"),
        ("tab\there", "tab\\x09here"),
    ],
)
def test_control_characters_are_shown(given: str, shown: str) -> None:
    assert visible(given) == shown
    assert all(ch.isprintable() or ch == "\n" for ch in visible(given))


def test_shown_keeps_a_crlf_line_break_and_escapes_a_lone_cr() -> None:
    """A request pasted in the console (a browser sends CRLF) came back in its textarea with a
    literal \\x0d on every line, and sending it again failed."""
    from markupsafe import Markup

    from lyncpki.reports.visible import shown

    assert shown("-----BEGIN\r\nMIIB\r\n") == "-----BEGIN\nMIIB\n"
    assert shown("over\rwritten") == "over\\x0dwritten"
    assert shown(Markup("<b>x</b>")) == Markup("<b>x</b>")
    assert shown(7) == 7
