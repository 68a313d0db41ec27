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
