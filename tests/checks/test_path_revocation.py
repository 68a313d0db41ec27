"""Revocation of the whole path, not of the leaf alone: an issuing CA revoked on its root's CRL
passed the check (only the leaf's CRL was fetched), where `openssl verify -crl_check_all` and
Windows CryptoAPI refuse the chain. Each CA of the path is checked against its issuer's CRL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from http_files import Files, serving

from lab import openssl
from lyncpki.checks import CertificateContext, Finding, check_certificate
from lyncpki.checks.revocation import RevocationSource
from path_pki import NOW, Issued, crl, der, issue, write_pem

pytestmark = pytest.mark.external

NAMES = ("pool01.contoso.net",)


@pytest.fixture
def http() -> Iterator[Files]:
    with serving() as files:
        yield files


def _findings(leaf: Issued, intermediate: Issued, root: Issued) -> dict[str, str]:
    return {f.id: f.message for f in _checked(leaf, intermediate, root)}


def _checked(leaf: Issued, intermediate: Issued, root: Issued) -> list[Finding]:
    source = RevocationSource(timeout=3)
    try:
        found = check_certificate(
            CertificateContext(
                certificate=leaf.certificate,
                now=NOW,
                intermediates=(intermediate.certificate,),
                roots=(root.certificate,),
                revocation=source,
            )
        )
    finally:
        source.close()
    return found


def test_an_issuing_ca_revoked_on_its_roots_crl_is_found(http: Files, tmp_path: Path) -> None:
    root = issue("Path Root", None, ca=True)
    issuing = issue("Path Issuing Revoked", root, ca=True, cdp=http.url("/root.crl"))
    leaf = issue(NAMES[0], issuing, ca=False, cdp=http.url("/issuing.crl"), sans=NAMES)
    root_crl, issuing_crl = crl(root, revoked=[issuing]), crl(issuing)
    http.files["/root.crl"] = (der(root_crl), "application/pkix-crl")
    http.files["/issuing.crl"] = (der(issuing_crl), "application/pkix-crl")
    # openssl's verdict on the same files: the CA at depth 1 is revoked
    said = openssl(
        "verify", "-crl_check_all", "-CAfile", write_pem(tmp_path / "root.pem", root),
        "-untrusted", write_pem(tmp_path / "issuing.pem", issuing),
        "-CRLfile", write_pem(tmp_path / "crls.pem", root_crl, issuing_crl),
        write_pem(tmp_path / "leaf.pem", leaf), check=False,
    )  # fmt: skip
    assert "error 23 at 1 depth lookup: certificate revoked" in said, said
    found = _findings(leaf, issuing, root)
    assert set(found) == {"ca.revoked"}, found
    assert "CN=Path Issuing Revoked" in found["ca.revoked"]
    assert http.url("/root.crl") in found["ca.revoked"]


def test_an_issuing_ca_whose_crl_cannot_be_fetched_is_said(http: Files) -> None:
    root = issue("Path Root", None, ca=True)
    issuing = issue("Path Issuing", root, ca=True, cdp=http.url("/missing-root.crl"))
    leaf = issue(NAMES[0], issuing, ca=False, cdp=http.url("/issuing.crl"), sans=NAMES)
    http.files["/issuing.crl"] = (der(crl(issuing)), "application/pkix-crl")
    found = _findings(leaf, issuing, root)
    assert set(found) == {"cdp.unreachable"}, found
    assert "CN=Path Issuing" in found["cdp.unreachable"]
    assert "missing-root.crl" in found["cdp.unreachable"]
    # the firewall rule its fix asks for is the URL's port (it said TCP 80 for any)
    (finding,) = _checked(leaf, issuing, root)
    port = urlsplit(http.url("/missing-root.crl")).port
    assert port != 80 and f"open HTTP (TCP {port})" in finding.fix, finding.fix


def test_an_issuing_ca_not_revoked_gives_no_finding(http: Files) -> None:
    root = issue("Path Root", None, ca=True)
    other = issue("Another Issuing", root, ca=True)
    issuing = issue("Path Issuing", root, ca=True, cdp=http.url("/root.crl"))
    leaf = issue(NAMES[0], issuing, ca=False, cdp=http.url("/issuing.crl"), sans=NAMES)
    http.files["/root.crl"] = (der(crl(root, revoked=[other])), "application/pkix-crl")
    http.files["/issuing.crl"] = (der(crl(issuing)), "application/pkix-crl")
    assert _findings(leaf, issuing, root) == {}
