"""Signature hashes are template policy (R-GEN-04): SHA-256 by default, SHA-384/512 on request,
SHA-1 only where a template lists it; openssl reads the algorithm back."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ca_tools import openssl_req, write_pem, x509_text

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.ca.policy import RequestRefused
from lyncpki.errors import LyncPkiError

pytestmark = pytest.mark.external


@pytest.mark.parametrize(
    ("asked", "openssl_name"),
    [(None, "sha256WithRSAEncryption"), ("sha384", "sha384WithRSAEncryption"),
     ("SHA-512", "sha512WithRSAEncryption")],
)  # fmt: skip
def test_issuing_hash(ca: CertificateAuthority, work: Path, asked: str | None,
                      openssl_name: str) -> None:  # fmt: skip
    result = ca.submit(openssl_req(work), requester="t", hash_name=asked)
    assert result.certificate is not None
    text = x509_text(write_pem(work, "c.pem", result.certificate))
    assert f"Signature Algorithm: {openssl_name}" in text


def test_sha1_is_refused(ca: CertificateAuthority, work: Path) -> None:
    with pytest.raises(RequestRefused) as refused:
        ca.submit(openssl_req(work), requester="t", hash_name="sha1")
    assert refused.value.codes == ["policy.hash"]
    assert any(e["outcome"] == "refused" and "policy.hash" in e["detail"]
               for e in ca.audit_log(5))  # fmt: skip


def test_a_template_cannot_list_sha1(fresh_ca: CertificateAuthority) -> None:
    home = fresh_ca.home
    data = yaml.safe_load(home.templates_file.read_text("utf-8"))
    data["templates"][0]["hashes"] = ["sha1", "sha256"]
    home.templates_file.write_text(yaml.safe_dump(data), "utf-8")
    with pytest.raises(LyncPkiError, match="SHA-1 signing is not supported"):
        CertificateAuthority.open(CaHome(home.root), b"test-passphrase")


def test_a_sha1_signed_request_is_refused_for_its_hash(
    ca: CertificateAuthority, work: Path
) -> None:
    """pyca/cryptography verifies no SHA-1 signature: the refusal says why, not "altered"."""
    with pytest.raises(RequestRefused) as refused:
        ca.submit(openssl_req(work, extra_args=["-sha1"]), requester="t")
    assert refused.value.codes == ["policy.hash"]
    assert "SHA-256" in str(refused.value.fix)


@pytest.mark.parametrize(
    ("root", "issuing", "root_alg", "issuing_alg"),
    [
        ("ec-p384", "ec-p384", "ecdsa-with-SHA384", "ecdsa-with-SHA384"),
        ("rsa4096", "ec-p256", "sha256WithRSAEncryption", "ecdsa-with-SHA256"),
    ],
)
def test_crls_are_signed_with_the_hash_of_the_cas_certificates(
    tmp_path: Path, root: str, issuing: str, root_alg: str, issuing_alg: str
) -> None:
    """A P-384 CA's certificates were signed with SHA-384 and its CRLs with SHA-256 (RFC 5480
    pairs P-384 with SHA-384); openssl reads each back."""
    from ca_tools import PASSPHRASE, crl_text

    from lyncpki.keyspec import KeySpec

    ca = CertificateAuthority.create(
        CaHome(tmp_path / "h"), passphrase=PASSPHRASE, name="Hash CA",
        namespaces=("corp-test.se",), root_key=KeySpec.parse(root), key=KeySpec.parse(issuing),
    )  # fmt: skip
    try:
        for is_root, expected in ((True, root_alg), (False, issuing_alg)):
            slug = ca.config.root_slug if is_root else ca.config.slug
            text = crl_text(ca.home.crl_file(slug, delta=False, pem=True))
            assert f"Signature Algorithm: {expected}" in text, text[:400]
    finally:
        ca.engine.dispose()
