"""A small PKI for the rule tests, made with pyca/cryptography directly (never by our CA): an
EC root, an RSA root, a planned Front End certificate, and `make` for leaves that break one
rule at a time."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from lyncpki.keyspec import KeySpec
from lyncpki.planning.model import Eku, PlannedCertificate, Usage
from lyncpki.topology.model import Issuer

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
ROOT_KEY = ec.generate_private_key(ec.SECP256R1())
ROOT_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Rules Root")])
ROOT = (
    x509.CertificateBuilder()
    .subject_name(ROOT_NAME)
    .issuer_name(ROOT_NAME)
    .public_key(ROOT_KEY.public_key())
    .serial_number(1)
    .not_valid_before(NOW - dt.timedelta(days=1000))
    .not_valid_after(NOW + dt.timedelta(days=3000))
    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    .sign(ROOT_KEY, hashes.SHA256())
)
RSA_ROOT_KEY = rsa.generate_private_key(65537, 2048)
RSA_ROOT_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Rules RSA Root")])
RSA_ROOT = (
    x509.CertificateBuilder()
    .subject_name(RSA_ROOT_NAME)
    .issuer_name(RSA_ROOT_NAME)
    .public_key(RSA_ROOT_KEY.public_key())
    .serial_number(2)
    .not_valid_before(NOW - dt.timedelta(days=1000))
    .not_valid_after(NOW + dt.timedelta(days=3000))
    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    .sign(RSA_ROOT_KEY, hashes.SHA256())
)
PLANNED = PlannedCertificate(
    id="fe01/default",
    site="s",
    role="front_end",
    target="fe01.contoso.net",
    servers=("fe01.contoso.net",),
    usages=(Usage.DEFAULT,),
    subject="pool01.contoso.net",
    sans=("pool01.contoso.net", "fe01.contoso.net", "sip.contoso.com"),
    eku=(Eku.SERVER_AUTH,),
    issuer=Issuer.INTERNAL,
    key=KeySpec("rsa", 2048),
    exportable=True,
    exportable_reason="test reason",
    template="WebServer",
    friendly_name="x",
    validity_days=730,
    rules=("R-FE-01",),
)


def make(
    *,
    cn: str = "pool01.contoso.net",
    sans: tuple[str, ...] = PLANNED.sans,
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None,
    eku: tuple[x509.ObjectIdentifier, ...] | None = (ExtendedKeyUsageOID.SERVER_AUTH,),
    cdp: bool | str = True,
    ocsp_url: str | None = None,
    start: dt.datetime = NOW - dt.timedelta(days=1),
    days: int = 365,
    pss: bool = False,
    signer: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = ROOT_KEY,
    issuer: x509.Name = ROOT_NAME,
    key_usage: x509.KeyUsage | None = None,
    subject: x509.Name | None = None,
) -> x509.Certificate:
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), False)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    if cdp:
        url = cdp if isinstance(cdp, str) else "http://pki.contoso.net/x.crl"
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    if ocsp_url:
        access = x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), False)
    if pss:
        assert isinstance(signer, rsa.RSAPrivateKey)
        pad = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
        return builder.sign(signer, hashes.SHA256(), rsa_padding=pad)
    return builder.sign(signer, hashes.SHA256())


def key_usage(*names: str) -> x509.KeyUsage:
    """A KeyUsage with these flags set (digital_signature, key_encipherment, ...)."""
    flags = (
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
        "key_agreement", "key_cert_sign", "crl_sign",
    )  # fmt: skip
    return x509.KeyUsage(
        **{flag: flag in names for flag in flags}, encipher_only=False, decipher_only=False
    )
