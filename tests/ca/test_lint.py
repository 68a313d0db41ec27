"""pkilint's RFC 5280 linters on everything the CA signs: end-entity certificates (RSA and EC,
WebServer and LyncServer), the sub CA certificate of the SubCA template, the issuing and root
CA certificates, and the full, delta and root CRLs (with revoked entries). No finding of
severity ERROR or FATAL is allowed; the findings are printed when there are.

The linters are built as pkilint's own `lint_pkix_cert` and `lint_crl -t CRL -p PKIX` build
them; two canaries show that the harness does report an ERROR when there is one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from ca_tools import PASSPHRASE, openssl_req
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.crl import Reason
from lyncpki.ca.home import CaHome
from lyncpki.keyspec import KeySpec
from lyncpki.x509.keys import generate_key

pkilint = pytest.importorskip("pkilint")
from pkilint import loader, pkix  # noqa: E402
from pkilint.pkix import certificate, crl, extension, name  # noqa: E402
from pkilint.validation import ValidationFindingSeverity  # noqa: E402

pytestmark = pytest.mark.external


def _certificate_validator():  # type: ignore[no-untyped-def]
    """What `lint_pkix_cert lint` runs."""
    return certificate.create_pkix_certificate_validator_container(
        certificate.create_decoding_validators(
            name.ATTRIBUTE_TYPE_MAPPINGS, extension.EXTENSION_MAPPINGS
        ),
        [
            certificate.create_issuer_validator_container([]),
            certificate.create_validity_validator_container(),
            certificate.create_subject_validator_container([]),
            certificate.create_extensions_validator_container([]),
            certificate.create_spki_validator_container([]),
        ],
    )


def _crl_validator():  # type: ignore[no-untyped-def]
    """What `lint_crl lint -t CRL -p PKIX` runs."""
    return crl.create_pkix_crl_validator_container(
        [
            pkix.create_attribute_decoder(name.ATTRIBUTE_TYPE_MAPPINGS),
            pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS),
        ],
        [
            crl.create_issuer_validator_container([]),
            crl.create_validity_validator_container([]),
            crl.create_extensions_validator_container([]),
        ],
    )


def _findings(results: list, worst: ValidationFindingSeverity) -> list[str]:  # type: ignore[type-arg]
    return [
        f"{result.validator.name} @ {result.node.path}: {description}"
        for result in results
        for description in result.finding_descriptions
        if description.finding.severity <= worst
    ]


def lint_certificate(der: bytes, worst: ValidationFindingSeverity) -> list[str]:
    document = loader.RFC5280CertificateDocumentLoader().load_der_document(der, "certificate")
    return _findings(_certificate_validator().validate(document.root), worst)


def lint_crl(der: bytes, worst: ValidationFindingSeverity) -> list[str]:
    document = loader.RFC5280CertificateListDocumentLoader().load_der_document(der, "crl")
    return _findings(_crl_validator().validate(document.root), worst)


ERROR = ValidationFindingSeverity.ERROR
WARNING = ValidationFindingSeverity.WARNING


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Everything a CA of this module signed, as DER, by name."""
    folder = tmp_path_factory.mktemp("lint")
    ca = CertificateAuthority.create(
        CaHome(folder / "home"),
        passphrase=PASSPHRASE,
        name="Lint Issuing CA",
        namespaces=("corp-test.se",),
        root_key=KeySpec("rsa", 2048),
        key=KeySpec("rsa", 2048),
    )
    documents: dict[str, bytes] = {}

    def issue(label: str, request: bytes, **kwargs: object) -> x509.Certificate:
        result = ca.submit(request, requester="lint", **kwargs)  # type: ignore[arg-type]
        assert result.certificate is not None
        documents[label] = result.certificate.public_bytes(Encoding.DER)
        return result.certificate

    sans = ["fe01.corp-test.se", "sip.corp-test.se"]
    rsa_cert = issue("end-entity rsa2048", openssl_req(folder, sans=sans))
    issue("end-entity ec-p256", openssl_req(folder, key="ec:P-256", sans=sans))
    issue(
        "end-entity ec-p384 LyncServer", openssl_req(folder, key="ec:P-384"), template="LyncServer"
    )
    revoked = issue("end-entity to revoke", openssl_req(folder))
    issue("end-entity wildcard SAN", openssl_req(folder, sans=[*sans, "*.corp-test.se"]))

    sub_key = generate_key(KeySpec("ec", 256))
    sub_csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sub.corp-test.se")]))
        .sign(sub_key, hashes.SHA256())
    )
    pending = ca.submit(sub_csr.public_bytes(Encoding.PEM), requester="lint", template="SubCA")
    sub = ca.approve(pending.request_id, actor="manager").certificate
    assert sub is not None
    documents["sub CA (SubCA template)"] = sub.public_bytes(Encoding.DER)

    documents["issuing CA"] = ca.issuer.certificate.public_bytes(Encoding.DER)
    documents["root CA"] = ca.root.certificate.public_bytes(Encoding.DER)

    ca.revoke(format(revoked.serial_number, "x"), reason=Reason.KEY_COMPROMISE, actor="lint")
    ca.publish_crl(actor="lint")
    ca.revoke(format(rsa_cert.serial_number, "x"), actor="lint")
    ca.publish_crl(actor="lint", delta=True)
    ca.publish_crl(actor="lint", root=True)
    for label, slug, delta in (
        ("CRL full", ca.config.slug, False),
        ("CRL delta", ca.config.slug, True),
        ("CRL root", ca.config.root_slug, False),
    ):
        documents[label] = ca.home.crl_file(slug, delta=delta).read_bytes()
    ca.engine.dispose()
    return documents


CERTIFICATES = [
    "end-entity rsa2048",
    "end-entity ec-p256",
    "end-entity ec-p384 LyncServer",
    "sub CA (SubCA template)",
    "issuing CA",
    "root CA",
]
CRLS = ["CRL full", "CRL delta", "CRL root"]


@pytest.mark.parametrize("label", CERTIFICATES)
def test_certificate_has_no_rfc5280_error(signed: dict[str, bytes], label: str) -> None:
    findings = lint_certificate(signed[label], ERROR)
    assert not findings, f"pkilint on {label}:\n" + "\n".join(findings)


def test_wildcard_san_is_the_only_finding_on_a_wildcard_certificate(
    signed: dict[str, bytes],
) -> None:
    """A known, accepted deviation: Lync needs `*.<domain>` SANs for simple URLs and
    lyncdiscover (R-GEN-08), which RFC 5280 does not define, so pkilint's PKIX profile calls
    the name's syntax invalid. That must be the only finding: nothing else may be wrong."""
    findings = lint_certificate(signed["end-entity wildcard SAN"], ERROR)
    assert len(findings) == 1, "\n".join(findings)
    assert "pkix.invalid_domain_name_syntax" in findings[0]
    assert '"*.corp-test.se"' in findings[0]


@pytest.mark.parametrize("label", CRLS)
def test_crl_has_no_rfc5280_error(signed: dict[str, bytes], label: str) -> None:
    findings = lint_crl(signed[label], ERROR)
    assert not findings, f"pkilint on {label}:\n" + "\n".join(findings)


def test_crls_under_lint_list_the_revocations(signed: dict[str, bytes]) -> None:
    """The CRLs linted are not empty ones: the entries' extensions are linted too."""
    assert len(x509.load_der_x509_crl(signed["CRL full"])) == 1
    assert len(x509.load_der_x509_crl(signed["CRL delta"])) == 1


# ---------------------------------------------------------------- canaries
def _canary_certificate(
    change: Callable[[x509.CertificateBuilder], x509.CertificateBuilder],
) -> bytes:
    key = generate_key(KeySpec("ec", 256))
    now = dt.datetime.now(dt.UTC)
    name_ = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "canary.corp-test.se")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name_)
        .issuer_name(name_)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
    )
    return change(builder).sign(key, hashes.SHA256()).public_bytes(Encoding.DER)


def test_canary_certificate_error_is_reported() -> None:
    """keyEncipherment on an EC key: pkilint reports it, so a clean run means something."""
    der = _canary_certificate(
        lambda b: b.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    findings = lint_certificate(der, ERROR)
    assert findings
    assert any("SpkiKeyUsageConsistencyValidator" in f for f in findings), findings


def test_canary_crl_error_is_reported() -> None:
    """A CRL without a CRL number or AKI: pkilint reports an error."""
    key = generate_key(KeySpec("ec", 256))
    now = dt.datetime.now(dt.UTC)
    crl_der = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Canary CA")]))
        .last_update(now)
        .next_update(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
        .public_bytes(Encoding.DER)
    )
    findings = lint_crl(crl_der, ERROR)
    assert any("CrlNumberPresenceValidator" in f for f in findings), findings


def test_lint_cli_agrees(signed: dict[str, bytes], tmp_path: Path) -> None:
    """pkilint's own command line, on the end-entity certificate: exit 0 at -s ERROR."""
    import subprocess
    import sys

    path = tmp_path / "ee.der"
    path.write_bytes(signed["end-entity rsa2048"])
    lint = Path(sys.executable).parent / "lint_pkix_cert"
    if not lint.exists():
        pytest.skip("lint_pkix_cert is not installed beside this Python")
    process = subprocess.run(
        [str(lint), "lint", "-s", "ERROR", "-f", "TEXT", "--document-format", "DER", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert process.returncode == 0, process.stdout + process.stderr
