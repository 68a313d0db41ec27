"""The forms certificate files arrive in, read in one place for requests and bundles alike.

`text_of` is where such a file is decoded as text: UTF-16 with its byte-order mark (what
PowerShell 5's `>` and `Out-File` write), UTF-8 with a byte-order mark (PowerShell 5's
`Out-File -Encoding utf8`, Notepad) or ASCII without one (openssl, certreq, Unix tools).

`kind_of_der` and `kind_of_pem` say what a file holds when it is not what was asked for (a
chain given as a request, a key given as a certificate), so that a refusal names it; everything
is read by pyca/cryptography.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from collections.abc import Callable

from cryptography import x509
from cryptography.exceptions import InternalError, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from lyncpki.x509.pkcs12_guard import looks_like_pkcs12

# What pyca/cryptography raises while decoding untrusted bytes (some of it lazily, when a
# name or an extension is first read): at every input boundary, a refusal, never a traceback.
UNREADABLE = (
    ValueError,
    TypeError,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    x509.InvalidVersion,
    UnsupportedAlgorithm,
    InternalError,
)

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
# pyca/cryptography's words for a PKCS#7 signed-data that carries no certificates (it raises
# ValueError for it as for bytes that are no PKCS#7 at all); tested with openssl's empty .p7b
_PKCS7_WITHOUT_CERTIFICATES = "has no certificate data"
# what pyca/cryptography's ASN.1 parser reports: for its developers, not for an administrator
_PARSER_DUMP = re.compile(r"ParseError|asn1 value", re.IGNORECASE)


def text_of(data: bytes) -> str | None:
    """The text of a certificate, request or chain file, without its byte-order mark; None
    when the file is binary (DER, PKCS#12) or not text in a form those files are written in."""
    try:
        if data.startswith(_UTF16_BOMS):
            return data.decode("utf-16")
        if data.startswith(_UTF8_BOM):
            return data[len(_UTF8_BOM) :].decode("utf-8")
        return data.decode("ascii")
    except UnicodeDecodeError:  # a byte-order mark, then no such text: not text at all
        return None


_CERT_HEAD = b"-----BEGIN CERTIFICATE-----"
_CERT_TAIL = b"-----END CERTIFICATE-----"


def single_pem_der(data: bytes) -> bytes | None:
    """The DER inside a file that is one PEM certificate and nothing else (as lyncpki writes
    them); None for any other file, which is then read by pyca as a whole. The thumbprint is
    hashed from these bytes with hashlib: pyca's fingerprint() costs as much again as the
    parse (7 us against 1 for SHA-1 over the DER, measured in bench/check.py's deployment)."""
    if not data.startswith(_CERT_HEAD):
        return None
    end = data.find(_CERT_TAIL)
    if end < 0 or data[end + len(_CERT_TAIL) :].strip():
        return None
    try:
        return binascii.a2b_base64(data[len(_CERT_HEAD) : end])
    except binascii.Error:
        return None


def plain_reason(error: Exception) -> str:
    """Why pyca/cryptography refused some bytes, in words a reader can use: its own message,
    except the dump of its ASN.1 parser (`ParseError { kind: ..., location: [...] }`)."""
    text = str(error).strip()
    if not text or _PARSER_DUMP.search(text):
        return "malformed DER"
    return text


def pkcs7_certificates(der: bytes) -> list[x509.Certificate] | None:
    """The certificates of a DER PKCS#7 chain, [] for a PKCS#7 that holds none, None for bytes
    that are no PKCS#7 chain (or one whose certificates are damaged)."""
    try:
        with warnings.catch_warnings():  # BER accepted as cryptography does, without a warning
            warnings.simplefilter("ignore", UserWarning)
            return pkcs7.load_der_pkcs7_certificates(der)
    except ValueError as error:
        return [] if _PKCS7_WITHOUT_CERTIFICATES in str(error) else None
    except UNREADABLE:
        return None


def _loads(load: Callable[[bytes], object]) -> Callable[[bytes], bool]:
    """Whether pyca/cryptography's `load` reads the bytes."""

    def reads(der: bytes) -> bool:
        try:
            load(der)
        except UNREADABLE:
            return False
        return True

    return reads


def _private_key(der: bytes) -> bool:
    try:
        serialization.load_der_private_key(der, None, unsafe_skip_rsa_key_validation=True)
    except TypeError:  # encrypted (PKCS#8): a private key all the same
        return True
    except UNREADABLE:
        return False
    return True


_DER_KINDS: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("a PKCS#12 file (.pfx)", looks_like_pkcs12),
    ("a certificate", _loads(x509.load_der_x509_certificate)),
    ("a PKCS#7 chain", lambda der: pkcs7_certificates(der) is not None),
    ("a certificate request", _loads(x509.load_der_x509_csr)),
    ("a certificate revocation list", _loads(x509.load_der_x509_crl)),
    ("a private key", _private_key),
)


def kind_of_der(der: bytes) -> str | None:
    """What binary data holds, named for a message ("a PKCS#7 chain"), or None."""
    return next((kind for kind, holds in _DER_KINDS if holds(der)), None)


_PEM_KINDS = {
    "CERTIFICATE": "a certificate",
    "X509 CERTIFICATE": "a certificate",
    "TRUSTED CERTIFICATE": "a certificate",
    "PKCS7": "a PKCS#7 chain",
    "CERTIFICATE REQUEST": "a certificate request",
    "NEW CERTIFICATE REQUEST": "a certificate request",
    "X509 CRL": "a certificate revocation list",
    "PUBLIC KEY": "a public key",
    "PKCS12": "a PKCS#12 file (.pfx)",
}


def kind_of_pem(label: str, body: str) -> str:
    """What a PEM block holds: what its base64 decodes to (AD CS writes PKCS#7 chains under
    CERTIFICATE armor), else what its label says."""
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        der = b""
    found = kind_of_der(der) if der else None
    if found:
        return found
    if "PRIVATE KEY" in label:
        return "a private key"
    return _PEM_KINDS.get(label, f"a PEM {label} block")
