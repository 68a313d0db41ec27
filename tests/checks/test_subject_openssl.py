"""subject.several-cn on a certificate openssl made (not pyca's builder): openssl itself shows
the two CNs the rule names, and a certificate with one CN passes the rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from lab import openssl
from lyncpki.checks import CertificateContext, check_certificate
from lyncpki.clock import SYSTEM_CLOCK

pytestmark = pytest.mark.external


def made_by_openssl(folder: Path, subject: str) -> Path:
    cert = folder / "cert.pem"
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", folder / "cert.key", "-out", cert, "-subj", subject, "-days", "5",
        "-addext", "subjectAltName=DNS:pool01.contoso.net",
    )  # fmt: skip
    return cert


def findings(cert: Path) -> dict[str, str]:
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    found = check_certificate(
        CertificateContext(certificate=parsed, now=SYSTEM_CLOCK.now(), roots=(parsed,))
    )
    return {f.id: f.message for f in found}


def test_two_cns_made_by_openssl_are_named(tmp_path: Path) -> None:
    cert = made_by_openssl(tmp_path, "/CN=pool01.contoso.net/CN=www.fabrikam.com")
    shown = openssl("x509", "-in", cert, "-noout", "-subject", "-nameopt", "RFC2253")
    assert "CN=www.fabrikam.com,CN=pool01.contoso.net" in shown  # openssl: the two CNs
    message = findings(cert)["subject.several-cn"]
    assert "2 common names (pool01.contoso.net, www.fabrikam.com)" in message


def test_one_cn_made_by_openssl_passes(tmp_path: Path) -> None:
    cert = made_by_openssl(tmp_path, "/O=Contoso/CN=pool01.contoso.net")
    assert "subject.several-cn" not in findings(cert)


def test_a_subject_without_a_cn_made_by_openssl_is_an_error(tmp_path: Path) -> None:
    """`-subj /` (SANs only) passed every rule: Lync reads the FQDN in the subject."""
    cert = made_by_openssl(tmp_path, "/O=Contoso/C=US")
    shown = openssl("x509", "-in", cert, "-noout", "-subject", "-nameopt", "RFC2253")
    assert "CN=" not in shown  # openssl: no CN
    message = findings(cert)["subject.no-cn"]
    assert "no common name" in message
    assert "subject.no-cn" not in findings(made_by_openssl(tmp_path, "/CN=pool01.contoso.net"))
