"""A PKI of several levels for the tests of a whole path (a CA revoked on its issuer's CRL, an
issuing CA whose EKU excludes Server Authentication, a deep chain), made with
pyca/cryptography directly and valid now, so that `openssl verify` judges the same files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def name(self) -> x509.Name:
        return self.certificate.subject

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _cdp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)]
    )


def issue(
    cn: str,
    issuer: Issued | None,
    *,
    ca: bool,
    cdp: str | None = None,
    eku: Sequence[x509.ObjectIdentifier] | None = None,
    sans: Sequence[str] = (),
) -> Issued:
    """A certificate named `cn`, issued by `issuer` (self-signed when None): a CA (basic
    constraints, keyCertSign) or a TLS server certificate (SANs, digitalSignature)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    signer = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.name if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=300 if ca else 90))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    )  # fmt: skip
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), False
        )
    if not ca and eku is None:
        eku = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), False)
    if cdp is not None:
        builder = builder.add_extension(_cdp(cdp), False)
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def crl(issuer: Issued, revoked: Sequence[Issued] = ()) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.name)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(NOW + dt.timedelta(days=7))
        .add_extension(x509.CRLNumber(1), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False
        )
    )
    for one in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(one.certificate.serial_number)
            .revocation_date(NOW - dt.timedelta(minutes=30))
            .build()
        )
    return builder.sign(issuer.key, hashes.SHA256())


def write_pem(path: Path, *items: Issued | x509.CertificateRevocationList) -> Path:
    path.write_bytes(
        b"".join(
            i.pem() if isinstance(i, Issued) else i.public_bytes(serialization.Encoding.PEM)
            for i in items
        )
    )
    return path


def der(item: x509.CertificateRevocationList) -> bytes:
    return item.public_bytes(serialization.Encoding.DER)
