"""The path of a certificate judged apart from its own dates, and a Default certificate's
subject, judged by openssl where it can judge: `openssl verify -attime` says whether the path
validated at a moment, and the check must say no more about trust than it does."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from rules_pki import NOW, PLANNED, ROOT, ROOT_KEY, ROOT_NAME, make

from lyncpki.checks import CertificateContext, check_certificate
from lyncpki.checks.chain import MAX_CHAIN_DEPTH, validate_apart_from_its_dates
from lyncpki.planning.model import Usage

DAY = dt.timedelta(days=1)


def _ca(
    name: str, issuer: x509.Name, signer: ec.EllipticCurvePrivateKey, start: dt.datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(NOW + 900 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .sign(signer, hashes.SHA256())
    )
    return cert, key


def _pem(path: Path, *certs: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in certs))
    return path


def _openssl_verify(
    tmp: Path, leaf: x509.Certificate, chain: list[x509.Certificate], at: dt.datetime
) -> bool:
    process = subprocess.run(
        ["openssl", "verify", "-attime", str(int(at.timestamp())),
         "-CAfile", _pem(tmp / "root.pem", ROOT),
         "-untrusted", _pem(tmp / "chain.pem", *chain), _pem(tmp / "leaf.pem", leaf)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return process.returncode == 0


def test_an_expired_leaf_of_a_renewed_ca_is_only_expired(tmp_path: Path) -> None:
    """A leaf that expired yesterday, issued before its CA's certificate was renewed (same
    name and key, a later start): validated at the middle of its life, when the renewed CA
    certificate did not exist, it was also "a CA certificate of its path is outside its
    validity". Its path does validate at the end of its life, as openssl says."""
    ca, ca_key = _ca("Renewed Issuing CA", ROOT_NAME, ROOT_KEY, NOW - 200 * DAY)
    leaf = make(start=NOW - 400 * DAY, days=399, signer=ca_key, issuer=ca.subject)
    assert not _openssl_verify(tmp_path, leaf, [ca], NOW - 201 * DAY)  # its middle
    assert _openssl_verify(tmp_path, leaf, [ca], NOW - 2 * DAY)  # its last days
    found = {
        f.id: f.message
        for f in check_certificate(
            CertificateContext(
                certificate=leaf,
                now=NOW,
                usage="Default",
                planned=PLANNED,
                intermediates=(ca,),
                roots=(ROOT,),
                has_key=True,
                exportable=True,
            )
        )
    }
    assert "cert.expired" in found and "chain.untrusted" not in found, found


def test_a_leaf_valid_only_before_its_ca_is_said_so(tmp_path: Path) -> None:
    """No moment of the leaf's life has its CA valid: said of the time the leaf was valid."""
    ca, ca_key = _ca("Late Issuing CA", ROOT_NAME, ROOT_KEY, NOW - 10 * DAY)
    leaf = make(start=NOW - 400 * DAY, days=300, signer=ca_key, issuer=ca.subject)
    result = validate_apart_from_its_dates(leaf, [ca], [ROOT], NOW)
    assert result.problem is not None and result.problem.startswith("while it was valid (")
    assert "outside its validity" in result.problem


def test_a_path_deeper_than_pyca_s_default_is_followed(tmp_path: Path) -> None:
    """Nine CAs below the root: openssl verifies it; pyca's default depth (8) refused it,
    "chain construction exceeds max depth"."""
    chain: list[x509.Certificate] = []
    name, key = ROOT_NAME, ROOT_KEY
    for level in range(9):
        cert, key = _ca(f"Level {level} CA", name, key, NOW - 30 * DAY)
        chain.insert(0, cert)
        name = cert.subject
    leaf = make(signer=key, issuer=name)
    assert _openssl_verify(tmp_path, leaf, chain, NOW)
    assert validate_apart_from_its_dates(leaf, chain, [ROOT], NOW).problem is None
    assert MAX_CHAIN_DEPTH >= 9


def test_a_default_certificate_names_the_pool_in_its_subject() -> None:
    """R-FE-01: a Front End's Default certificate has the pool FQDN as subject. A CN that was
    the server (a SAN) passed silently, another name was only a warning; both are errors now.
    A web certificate may still have the server there (Q2)."""

    def found(cn: str, usages: tuple[Usage, ...]) -> dict[str, str]:
        planned = dataclasses.replace(PLANNED, usages=usages)
        return {
            f.id: str(f.severity)
            for f in check_certificate(
                CertificateContext(
                    certificate=make(cn=cn),
                    now=NOW,
                    usage=usages[0],
                    planned=planned,
                    roots=(ROOT,),
                    has_key=True,
                    exportable=True,
                )
            )
        }

    assert Usage.DEFAULT in PLANNED.usages
    assert found("pool01.contoso.net", PLANNED.usages) == {}
    assert found("fe01.contoso.net", PLANNED.usages) == {"subject.not-planned": "error"}
    assert found("other.contoso.net", PLANNED.usages) == {"subject.not-planned": "error"}
    web = (Usage.WEB_INTERNAL,)
    assert found("fe01.contoso.net", web) == {}
    assert found("other.contoso.net", web) == {"subject.not-planned": "warning"}
