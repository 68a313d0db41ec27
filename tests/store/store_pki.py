"""The store tests' PKI: certificates made with pyca/cryptography directly (not by our CA), so
that the store is judged on its own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@dataclass
class Pki:
    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey

    def leaf(
        self, name: str, key: ec.EllipticCurvePrivateKey | None = None, days: int = 365
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = key or ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.root.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.root_key, hashes.SHA256())
        )
        return cert, key


def self_signed(name: str, key: ec.EllipticCurvePrivateKey, *, ca: bool | None) -> x509.Certificate:
    """A self-signed certificate; `ca` None: without basicConstraints (an X.509 v1 root)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=10))
        .not_valid_after(NOW + dt.timedelta(days=3650))
    )
    if ca is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=None), critical=True
        )
    return builder.sign(key, hashes.SHA256())


def make_pki() -> Pki:
    key = ec.generate_private_key(ec.SECP256R1())
    return Pki(self_signed("Store Test Root", key, ca=True), key)
