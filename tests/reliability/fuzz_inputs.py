"""Hostile inputs for the fuzz tests: valid seeds (a topology, a request, a certificate, chains
as PKCS#7 and PKCS#12) and hypothesis strategies that mutate them (bit flips, truncation,
insertions, splices, wrong armor, huge and nested documents) or replace them with noise.

How many inputs each test tries: LYNCPKI_FUZZ_EXAMPLES (CI's short form: a few hundred each;
`make reliability`: enough for 100,000 in all)."""

from __future__ import annotations

import datetime as dt
import os
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    pkcs7,
    pkcs12,
)
from cryptography.x509.oid import NameOID
from hypothesis import strategies as st

from lab import CONTOSO

LONG = os.environ.get("LYNCPKI_RELIABILITY") == "long"
# per fuzz test; the long form's 17,000 x 7 tests: over 100,000 inputs in all
EXAMPLES = int(os.environ.get("LYNCPKI_FUZZ_EXAMPLES", "17000" if LONG else "200"))
PFX_PASSWORD = "fuzz-pfx"


@cache
def seeds() -> dict[str, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fe01.contoso.net")])
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(name)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("fe01.contoso.net")]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return {
        "topology": CONTOSO.read_bytes(),
        "csr_der": csr.public_bytes(Encoding.DER),
        "csr_pem": csr.public_bytes(Encoding.PEM),
        "cert_der": cert.public_bytes(Encoding.DER),
        "cert_pem": cert.public_bytes(Encoding.PEM),
        "p7b": pkcs7.serialize_certificates([cert], Encoding.DER),
        "p7b_pem": pkcs7.serialize_certificates([cert], Encoding.PEM),
        "pfx": pkcs12.serialize_key_and_certificates(
            b"fuzz", key, cert, None, BestAvailableEncryption(PFX_PASSWORD.encode())
        ),
    }


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """The seed with a few random edits: flips, deletions, insertions, truncation, splices."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        where = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(("flip", "delete", "insert", "truncate", "repeat", "byte")))
        if edit == "flip":
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif edit == "delete":
            del data[where : where + draw(st.integers(1, 16))]
        elif edit == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=32))
        elif edit == "truncate":
            del data[where:]
        elif edit == "repeat":
            chunk = data[where : where + draw(st.integers(1, 64))]
            data[where:where] = chunk * draw(st.integers(1, 50))
        else:
            data[where] = draw(st.integers(0, 255))
    return bytes(data)


def hostile(seed_name: str) -> st.SearchStrategy[bytes]:
    """Inputs near a seed, plus noise, plus oversized and wrongly armored ones."""
    seed = seeds()[seed_name]
    armor = st.builds(
        lambda label, body: (
            b"-----BEGIN " + label + b"-----\n" + body + b"\n-----END " + label + b"-----\n"
        ),
        st.sampled_from(
            [
                b"CERTIFICATE",
                b"NEW CERTIFICATE REQUEST",
                b"PKCS7",
                b"X509 CRL",
                b"PRIVATE KEY",
                b"CERTIFICATE REQUEST",
            ]
        ),
        st.binary(max_size=200).map(lambda b: __import__("base64").b64encode(b)),
    )
    return st.one_of(
        mutated(seed),
        st.binary(max_size=2048),
        armor,
        st.just(seed * 300),  # huge: far beyond any request or certificate
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "replace")),
        st.text(max_size=100).map(lambda t: t.encode("utf-16")),
    )
