"""Identifiers administrators type and read: serials (hex, decimal, Windows byte-reversed) and
thumbprints (SHA-1 hex, as Windows shows them)."""

from __future__ import annotations

import hashlib
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from lyncpki.errors import LyncPkiError

_HEX = re.compile(r"^(?:0x)?[0-9a-f]+\Z")
# A serial is at most 20 octets (RFC 5280): 49 decimal digits; longer is no serial (and int()
# refuses to parse thousands of digits).
_MAX_DECIMAL = 60


def serial_hex(serial: int) -> str:
    """Lowercase hex without separators, an even number of digits (as openssl prints it)."""
    text = format(serial, "x")
    return text if len(text) % 2 == 0 else "0" + text


def serial_windows(serial: int) -> str:
    """The byte-reversed form Windows event logs print."""
    return bytes.fromhex(serial_hex(serial))[::-1].hex()


def parse_serial(text: str) -> int:
    """Accept hex (with or without colons/spaces/0x, as openssl prints it: `0c:4d:...`) or
    decimal: prefixed `d:` (`d:12` is twelve, never hex 0xd12), or all digits longer than 40
    characters (which cannot be a 159-bit hex serial)."""
    value = text.strip().lower()
    if value.startswith("d:"):
        digits = value[2:].strip()
        if digits.isascii() and digits.isdigit():
            return _in_range(text, int(digits) if len(digits) <= _MAX_DECIMAL else None)
        raise LyncPkiError(
            f"'{text[:64]}' is not a serial number: d: must be followed by decimal digits only",
            "give the decimal serial as d:12345, or the hex one as openssl prints it (3a:9f:...)",
        )
    value = value.replace(":", "").replace(" ", "")
    if value.isascii() and value.isdigit() and len(value) > 40:
        return _in_range(text, int(value) if len(value) <= _MAX_DECIMAL else None)
    if _HEX.match(value):
        hex_digits = value.removeprefix("0x").lstrip("0")
        return _in_range(text, int(hex_digits or "0", 16) if len(hex_digits) <= 40 else None)
    raise LyncPkiError(
        f"'{text[:64]}' is not a serial number",
        "give it in hex as openssl prints it (e.g. 3a:9f:...), or in decimal as d:12345",
    )


def _in_range(text: str, value: int | None) -> int:
    """`value` when it fits a serial number's 20 octets (RFC 5280); None: too long to parse."""
    if value is not None and value < 2**160:
        return value
    raise LyncPkiError(
        f"'{text[:64]}' is longer than any serial number (20 octets at most, RFC 5280)",
        "copy the serial again: lyncpki ca list shows each certificate's",
    )


def thumbprint(certificate: x509.Certificate) -> str:
    """SHA-1 of the DER certificate in uppercase hex: what certmgr and Set-CsCertificate show."""
    return certificate.fingerprint(hashes.SHA1()).hex().upper()


def der_thumbprint(der: bytes) -> str:
    """The thumbprint of a certificate given as its DER bytes (no re-encoding)."""
    return hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
