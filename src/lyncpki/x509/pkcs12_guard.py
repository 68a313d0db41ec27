"""PKCS#12 files opened with a time limit.

A .pfx chooses its own key-derivation cost: each of its MAC, certificate bag and key bag names
an iteration count, up to 2^31, and pyca/cryptography (OpenSSL) runs whatever it says. A file
made to take hours would hang `lyncpki import`, `check --cert` or the wizard with no way to
tell why, and a file's counts cannot all be read before opening it (the key bag's may sit inside
the encrypted part). So the file is opened in a child process (`pkcs12_child`, about 0.1 s to
start) that is stopped after `LIMIT_SECONDS`; real exports (Windows: 2,000 iterations, OpenSSL:
2,048) open in milliseconds. The private key comes back encrypted with a one-time password.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import load_der_private_key

LIMIT_SECONDS = 20.0


class Pkcs12TooSlow(Exception):
    """The file did not open within the time limit."""


@dataclass(frozen=True)
class Opened:
    """What a PKCS#12 file holds, as pyca/cryptography read it."""

    certificate: x509.Certificate | None
    friendly_name: bytes | None = None
    additional: list[x509.Certificate] = field(default_factory=list)
    key: PrivateKeyTypes | None = None


def looks_like_pkcs12(data: bytes) -> bool:
    """Whether `data` begins as a PFX does: a DER (or BER) SEQUENCE whose first element is
    INTEGER 3, its version. Looked at before a child process is started for what is no PKCS#12
    at all (a truncated PEM, a text file); pyca/cryptography reads everything else."""
    if len(data) < 5 or data[0] != 0x30:
        return False
    length = data[1]
    start = 2 + (length & 0x7F if length & 0x80 else 0)
    return data[start : start + 3] == b"\x02\x01\x03"


def open_pkcs12(data: bytes, password: bytes | None, *, limit: float | None = None) -> Opened:
    """Open `data`; ValueError (pyca's message) when it cannot be, Pkcs12TooSlow past `limit`
    seconds (LIMIT_SECONDS when not given)."""
    limit = LIMIT_SECONDS if limit is None else limit
    transport = secrets.token_bytes(32)
    request = {
        "data": base64.b64encode(data).decode("ascii"),
        "password": None if password is None else base64.b64encode(password).decode("ascii"),
        "transport": base64.b64encode(transport).decode("ascii"),
    }
    try:
        child = subprocess.run(
            [sys.executable, "-m", "lyncpki.x509.pkcs12_child"],
            input=json.dumps(request).encode("ascii"),
            capture_output=True,
            timeout=limit,
            check=False,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise Pkcs12TooSlow(f"it did not open within {limit:g} s") from None
    try:
        answer = json.loads(child.stdout)
    except ValueError:
        raise ValueError(
            f"the reader stopped ({child.returncode}): "
            + child.stderr.decode("utf-8", "replace").strip()[-300:]
        ) from None
    if "error" in answer:
        raise ValueError(answer["error"])
    key = answer["key"]
    return Opened(
        certificate=_certificate(answer["certificate"]),
        friendly_name=None if answer["friendly_name"] is None else _bytes(answer["friendly_name"]),
        additional=[c for c in map(_certificate, answer["additional"]) if c is not None],
        # the child has just read this key from the file and checked it: no second RSA check
        key=None
        if key is None
        else load_der_private_key(_bytes(key), transport, unsafe_skip_rsa_key_validation=True),
    )


def _bytes(text: str) -> bytes:
    return base64.b64decode(text)


def _certificate(text: str | None) -> x509.Certificate | None:
    return None if text is None else x509.load_der_x509_certificate(_bytes(text))
