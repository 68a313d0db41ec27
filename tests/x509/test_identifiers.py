"""Serials as administrators type them: hex as openssl prints it (with or without colons, any
case, 0x), and decimal as d:N — which was never decimal (the colon was stripped before the
prefix was looked for, so `d:12` meant 0xd12)."""

from __future__ import annotations

import pytest

from lyncpki.errors import LyncPkiError
from lyncpki.x509.identifiers import parse_serial, serial_hex

SERIAL = 0x0C4D2F9A11E3B7C05D6E8F9012A3B4C5D6E7F801


@pytest.mark.parametrize(
    "text",
    [
        "0c4d2f9a11e3b7c05d6e8f9012a3b4c5d6e7f801",
        "0C4D2F9A11E3B7C05D6E8F9012A3B4C5D6E7F801",  # openssl x509 -serial
        "0c:4d:2f:9a:11:e3:b7:c0:5d:6e:8f:90:12:a3:b4:c5:d6:e7:f8:01",  # openssl x509 -text
        "0C:4D:2F:9A:11:E3:B7:C0:5D:6E:8F:90:12:A3:B4:C5:D6:E7:F8:01",
        "0x0c4d2f9a11e3b7c05d6e8f9012a3b4c5d6e7f801",
        " 0c 4d 2f 9a 11 e3 b7 c0 5d 6e 8f 90 12 a3 b4 c5 d6 e7 f8 01 ",  # certutil
        f"d:{SERIAL}",
        f"D:{SERIAL}",
        f" d:{SERIAL} ",
        str(SERIAL),  # 48 digits: too long for a 159-bit hex serial, so decimal
    ],
)
def test_every_form_is_the_same_serial(text: str) -> None:
    assert parse_serial(text) == SERIAL


@pytest.mark.parametrize(("text", "value"), [("d:12", 12), ("d:0012", 12), ("d:255", 255)])
def test_decimal_is_decimal(text: str, value: int) -> None:
    """`d:12` is twelve (0c), not 0xd12."""
    assert parse_serial(text) == value
    assert serial_hex(parse_serial("d:12")) == "0c"


@pytest.mark.parametrize(
    "text", ["d:", "d:12a", "d:0x12", "d:-5", "d:1 2", "d:١٢", "zz", "", "0c:zz"]
)
def test_what_is_no_serial(text: str) -> None:
    with pytest.raises(LyncPkiError, match="is not a serial number") as caught:
        parse_serial(text)
    assert "d:12345" in str(caught.value.fix)


@pytest.mark.parametrize(
    "text",
    [
        "d:" + "9" * 61,
        "d:" + "9" * 100,
        "d:" + str(2**160),
        "9" * 61,
        "1" + "0" * 49,
        "0x1" + "0" * 40,
    ],
)
def test_what_is_longer_than_any_serial_says_so(text: str) -> None:
    """All digits, 100 of them: "d: must be followed by decimal digits only" (it was)."""
    with pytest.raises(LyncPkiError, match="longer than any serial number"):
        parse_serial(text)


def test_the_largest_serial_and_leading_zeros_are_serials() -> None:
    assert parse_serial("d:" + str(2**160 - 1)) == 2**160 - 1
    assert parse_serial("00" * 4 + "f" * 40) == 2**160 - 1
