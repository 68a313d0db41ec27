"""Which of its answer's forms an enrollment's client asked for, by its Accept header.

An issued certificate is answered as a PEM chain (`application/pem-certificate-chain`, the
default: what certreq, curl and openssl take), a PKCS#7 bundle (`application/pkcs7-mime`) or
JSON (`application/json`). The header is read as RFC 9110 (12.5.1) says: each listed media range
with its quality `q` (1 when not given); a range of `q=0` is refused by the client; of the forms
it accepts, the highest `q` wins, and among equals the one it listed first. A client that
accepts none of them by name (`*/*`, `text/html`, nothing) gets the default. ("Contains the
text" read `application/pkcs7-mime;q=0` as asking for PKCS#7.)
"""

from __future__ import annotations

from collections.abc import Sequence


def preferred(accept: str, offered: Sequence[str], default: str) -> str:
    """The form of `offered` that `accept` prefers; `default` when it names none of them."""
    if not accept or accept == "*/*":
        return default
    best, best_q = default, 0.0
    for item in accept.split(","):
        media, _, parameters = item.partition(";")
        media = media.strip().lower()
        if media not in offered:
            continue
        quality = _quality(parameters)
        if quality > best_q:  # strictly: among equals the first listed stays
            best, best_q = media, quality
    return best


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0  # unreadable: not taken as a preference
            return quality if 0.0 <= quality <= 1.0 else 0.0
    return 1.0


__all__ = ["preferred"]
