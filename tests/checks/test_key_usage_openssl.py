"""keyusage.tls against OpenSSL (not ours): a server certificate whose key usage lacks Digital
Signature (made by `openssl req`) cannot complete a TLS 1.2 handshake with `openssl s_server`,
and the rule says so; with Digital Signature the handshake completes and the rule is silent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from test_live import s_server

from lab import openssl
from lyncpki.checks import CertificateContext, check_certificate
from lyncpki.clock import SYSTEM_CLOCK

pytestmark = pytest.mark.external


def self_signed(folder: Path, usage: str) -> tuple[Path, Path]:
    key, cert = folder / f"{usage}.key", folder / f"{usage}.crt"
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", cert, "-subj", "/CN=fe01.contoso.net", "-days", "5",
        "-addext", f"keyUsage=critical,{usage}", "-addext", "extendedKeyUsage=serverAuth",
    )  # fmt: skip
    return cert, key


def tls12_handshake(port: int, ca: Path) -> bool:
    process = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2", "-CAfile", str(ca)],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return "Cipher is (NONE)" not in process.stdout and process.returncode == 0


def rule_ids(cert: Path) -> set[str]:
    parsed = x509.load_pem_x509_certificate(cert.read_bytes())
    found = check_certificate(
        CertificateContext(certificate=parsed, now=SYSTEM_CLOCK.now(), roots=(parsed,))
    )
    return {f.id for f in found}


@pytest.mark.parametrize(("usage", "works"), [("keyAgreement", False), ("digitalSignature", True)])
def test_openssl_and_the_rule_agree(tmp_path: Path, usage: str, works: bool) -> None:
    cert, key = self_signed(tmp_path, usage)
    with s_server("-cert", cert, "-key", key) as port:
        assert tls12_handshake(port, cert) is works
    assert ("keyusage.tls" in rule_ids(cert)) is not works
