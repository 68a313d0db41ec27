"""Each certificate rule on certificates made with pyca/cryptography directly: the rule fires
on the certificate that breaks it (with the values in its message) and stays silent on a good
one; a crashing rule is a finding of its own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lyncpki.checks import CertificateContext, Rule, check_certificate
from lyncpki.checks.certificate_rules import Problem
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
    .not_valid_before(NOW - dt.timedelta(days=100))
    .not_valid_after(NOW + dt.timedelta(days=3000))
    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    .sign(ROOT_KEY, hashes.SHA256())
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
    cdp: bool = True,
    start: dt.datetime = NOW - dt.timedelta(days=1),
    days: int = 365,
    pss: bool = False,
    signer: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = ROOT_KEY,
) -> x509.Certificate:
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ROOT_NAME)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), False)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if cdp:
        point = x509.DistributionPoint(
            [x509.UniformResourceIdentifier("http://pki.contoso.net/x.crl")], None, None, None
        )
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    if pss:
        assert isinstance(signer, rsa.RSAPrivateKey)
        pad = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
        return builder.sign(signer, hashes.SHA256(), rsa_padding=pad)
    return builder.sign(signer, hashes.SHA256())


def ids(cert: x509.Certificate, **context: object) -> dict[str, str]:
    values: dict[str, object] = {
        "now": NOW,
        "usage": "Default",
        "planned": PLANNED,
        "roots": (ROOT,),
        "has_key": True,
        "exportable": True,
    }
    values.update(context)
    found = check_certificate(CertificateContext(certificate=cert, **values))  # type: ignore[arg-type]
    return {f.id: f.message for f in found}


def test_a_good_certificate_has_no_finding() -> None:
    assert ids(make()) == {}


RSA_PSS_SIGNER = rsa.generate_private_key(65537, 2048)


@pytest.mark.parametrize(
    ("cert", "context", "expected", "words"),
    [
        (lambda: make(sans=PLANNED.sans[:-1]), {}, "san.missing", "sip.contoso.com"),
        (lambda: make(start=NOW - dt.timedelta(days=400)), {}, "cert.expired", "expired on"),
        (lambda: make(start=NOW + dt.timedelta(days=2)), {}, "cert.not-yet-valid", "before"),
        (lambda: make(days=10), {}, "cert.expiring", "days left"),
        (lambda: make(cn="*.contoso.com"), {}, "subject.wildcard", "*.contoso.com"),
        (lambda: make(cn="other.contoso.net"), {}, "subject.not-planned", "other.contoso.net"),
        (
            lambda: make(sans=(*PLANNED.sans, "*.contoso.com")),
            {},
            "wildcard.not-allowed",
            "*.contoso.com",
        ),
        (lambda: make(eku=(ExtendedKeyUsageOID.CLIENT_AUTH,)), {}, "eku.server-auth", "Server"),
        (lambda: make(cdp=False), {}, "cdp.missing", "CRL distribution point"),
        (lambda: make(key=rsa.generate_private_key(65537, 1024)), {}, "key.unsupported", "1024"),
        (lambda: make(key=rsa.generate_private_key(65537, 3072)), {}, "key.unsupported", "3072"),
        (
            lambda: make(pss=True, signer=RSA_PSS_SIGNER),
            {"roots": ()},
            "signature.unsupported",
            "RSASSA-PSS",
        ),
        (lambda: make(), {"roots": ()}, "chain.untrusted", "no trusted root"),
        (
            lambda: make(signer=ec.generate_private_key(ec.SECP256R1())),
            {},
            "chain.untrusted",
            "trusted root",
        ),
        (lambda: make(), {"has_key": False}, "key.missing", "no private key"),
        (lambda: make(), {"exportable": False}, "key.not-exportable", "test reason"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_rule_fires_on_its_problem(
    cert: Callable[[], x509.Certificate], context: dict[str, object], expected: str, words: str
) -> None:
    found = ids(cert(), **context)
    assert expected in found, found
    assert words in found[expected]


def test_wildcards_are_fine_on_web_certificates() -> None:
    planned = PLANNED
    cert = make(sans=("pool01.contoso.net", "fe01.contoso.net", "*.contoso.com"))
    found = ids(cert, usage="WebServicesInternal", planned=planned)
    assert "wildcard.not-allowed" not in found
    assert "san.missing" not in found  # sip.contoso.com is covered by *.contoso.com there
    assert "san.missing" in ids(cert, usage="Default", planned=planned)


def test_oauth_needs_2048_bits() -> None:
    found = check_certificate(
        CertificateContext(
            certificate=make(key=rsa.generate_private_key(65537, 1024)),
            now=NOW,
            usage="OAuthTokenIssuer",
            roots=(ROOT,),
        )
    )
    (key,) = [f for f in found if f.id == "key.unsupported"]
    assert key.severity == "error" and "2048" in key.message


def test_a_crashing_rule_is_a_finding_not_an_exception() -> None:
    def broken(_: CertificateContext) -> list[Problem]:
        raise RuntimeError("boom")

    rule = Rule("test.broken", "error", "R-X", "broken", broken)  # type: ignore[arg-type]
    (found,) = check_certificate(CertificateContext(certificate=make(), now=NOW), [rule])
    assert (
        found.id == "check.crashed" and "test.broken" in found.message and "boom" in found.message
    )
