"""The Accept header of an enrollment read as RFC 9110 says (qualities, order, wildcards)."""

from __future__ import annotations

import pytest

from lyncpki.service.accept import preferred

PEM, P7, JSON = "application/pem-certificate-chain", "application/pkcs7-mime", "application/json"
OFFERED = (PEM, P7, JSON)


@pytest.mark.parametrize(
    ("accept", "form"),
    [
        ("", PEM),
        ("*/*", PEM),
        ("text/html", PEM),
        (P7, P7),
        (f"{P7};q=0", PEM),
        (f"{P7};q=0, {JSON}", JSON),
        (f"{JSON}, {P7}", JSON),
        (f"{P7}, {JSON}", P7),
        (f"{P7};q=0.2, {JSON};q=0.3", JSON),
        (f"{P7};q=banana, {PEM};q=0.1", PEM),
        (f"{P7};q=2", PEM),  # out of range: no preference
        (f" {JSON.upper()} ; charset=utf-8 ; q=0.9 ", JSON),
        ("application/*;q=0.9, text/plain", PEM),
    ],
)
def test_the_preferred_form(accept: str, form: str) -> None:
    assert preferred(accept, OFFERED, PEM) == form
