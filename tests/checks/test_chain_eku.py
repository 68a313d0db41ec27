"""An issuing CA whose EKU excludes Server Authentication passed: eku.server-auth looks at the
leaf only. OpenSSL refuses the chain ("unsuitable certificate purpose" at depth 1), and Windows
limits a chain to the intersection of its CAs' EKUs: chain.eku says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from lab import openssl
from lyncpki.checks import CertificateContext, check_certificate
from path_pki import NOW, issue, write_pem

pytestmark = pytest.mark.external

NAME = "pool01.contoso.net"


def _judged(tmp_path: Path, *eku: x509.ObjectIdentifier) -> tuple[dict[str, str], str]:
    root = issue("EKU Root", None, ca=True)
    issuing = issue("EKU Issuing", root, ca=True, eku=eku or None)
    leaf = issue(NAME, issuing, ca=False, sans=(NAME,))
    said = openssl("verify", "-purpose", "sslserver", "-CAfile",
                   write_pem(tmp_path / "root.pem", root), "-untrusted",
                   write_pem(tmp_path / "issuing.pem", issuing),
                   write_pem(tmp_path / "leaf.pem", leaf), check=False)  # fmt: skip
    found = check_certificate(
        CertificateContext(
            certificate=leaf.certificate,
            now=NOW,
            intermediates=(issuing.certificate,),
            roots=(root.certificate,),
        ),
        skip=("cdp.missing",),
    )
    return {f.id: f.message for f in found}, said


def test_an_issuing_ca_limited_to_client_authentication_is_said(tmp_path: Path) -> None:
    found, said = _judged(tmp_path, ExtendedKeyUsageOID.CLIENT_AUTH)
    assert "error 26 at 1 depth lookup" in said, said  # X509_V_ERR_INVALID_PURPOSE
    assert set(found) == {"chain.eku"}, found
    assert "CN=EKU Issuing" in found["chain.eku"]
    assert "Client Authentication" in found["chain.eku"]


@pytest.mark.parametrize(
    "eku",
    [(), (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH)],
    ids=["no EKU", "serverAuth"],
)
def test_an_issuing_ca_that_allows_server_authentication_passes(
    tmp_path: Path, eku: tuple[x509.ObjectIdentifier, ...]
) -> None:
    found, said = _judged(tmp_path, *eku)
    assert said.strip().endswith(": OK"), said
    assert found == {}, found
