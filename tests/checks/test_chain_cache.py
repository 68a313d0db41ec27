"""The validated-upper-path cache of checks.chain: a leaf of an issuing CA already validated up
to a root is verified against that CA as an anchor. It must never pass what full path building
refuses: each case first lets the cache learn the CA from a good leaf, then asks about a leaf
that full path building (and `openssl verify`) refuses."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from lyncpki.checks.chain import validate_chain

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
KEYS = {name: ec.generate_private_key(ec.SECP256R1()) for name in ("root", "ca", "rogue", "leaf")}


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(
    cn: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    signer: ec.EllipticCurvePrivateKey,
    *,
    permitted: list[str] | None = None,
    path_length: int | None = None,
    days: tuple[int, int] = (-100, 1000),
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + dt.timedelta(days=days[0]))
        .not_valid_after(NOW + dt.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if permitted is not None:
        subtrees: list[x509.GeneralName] = [x509.DNSName(d) for d in permitted]
        builder = builder.add_extension(x509.NameConstraints(subtrees, None), critical=True)
    return builder.sign(signer, hashes.SHA256())


ROOT = _ca("Cache Root", KEYS["root"], _name("Cache Root"), KEYS["root"])


def _leaf(host: str, issuer: x509.Name, signer: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(issuer)
        .public_key(KEYS["leaf"].public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=300))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


def _openssl_accepts(
    tmp: Path, leaf: x509.Certificate, intermediates: list[x509.Certificate]
) -> bool:
    def write(name: str, certs: list[x509.Certificate]) -> str:
        path = tmp / name
        path.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in certs))
        return str(path)

    command = ["openssl", "verify", "-attime", str(int(NOW.timestamp())), "-CAfile"]
    command += [write("root.pem", [ROOT])]
    if intermediates:
        command += ["-untrusted", write("untrusted.pem", intermediates)]
    command += [write("leaf.pem", [leaf])]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _learnt(ca: x509.Certificate, signer: ec.EllipticCurvePrivateKey, tmp: Path) -> None:
    """A good leaf of `ca` first: the cache learns `ca`'s upper path."""
    good = _leaf("good.contoso.net", ca.subject, signer)
    result = validate_chain(good, [ca], [ROOT], NOW)
    assert result.problem is None and result.chain == [good, ca, ROOT]
    assert _openssl_accepts(tmp, good, [ca])


def test_a_leaf_of_a_learnt_ca_gets_the_whole_path(tmp_path: Path) -> None:
    ca = _ca("Cache CA 1", KEYS["ca"], ROOT.subject, KEYS["root"])
    _learnt(ca, KEYS["ca"], tmp_path)
    second = _leaf("second.contoso.net", ca.subject, KEYS["ca"])
    assert validate_chain(second, [ca], [ROOT], NOW).chain == [second, ca, ROOT]
    assert _openssl_accepts(tmp_path, second, [ca])


def test_the_learnt_ca_must_still_be_given(tmp_path: Path) -> None:
    """An endpoint that does not send its issuing CA has an incomplete chain, even when another
    leaf of that CA was validated before (check --endpoint's chain as sent)."""
    ca = _ca("Cache CA 2", KEYS["ca"], ROOT.subject, KEYS["root"])
    _learnt(ca, KEYS["ca"], tmp_path)
    second = _leaf("second.contoso.net", ca.subject, KEYS["ca"])
    assert validate_chain(second, [], [ROOT], NOW).problem is not None
    assert not _openssl_accepts(tmp_path, second, [])


def test_a_ca_of_the_same_name_with_another_key_is_not_the_learnt_one(tmp_path: Path) -> None:
    ca = _ca("Cache CA 3", KEYS["ca"], ROOT.subject, KEYS["root"])
    _learnt(ca, KEYS["ca"], tmp_path)
    forged = _leaf("forged.contoso.net", ca.subject, KEYS["rogue"])  # same issuer name
    assert validate_chain(forged, [ca], [ROOT], NOW).problem is not None
    assert not _openssl_accepts(tmp_path, forged, [ca])


def test_name_constraints_are_judged_for_every_leaf(tmp_path: Path) -> None:
    ca = _ca("Cache CA 4", KEYS["ca"], ROOT.subject, KEYS["root"], permitted=["contoso.net"])
    _learnt(ca, KEYS["ca"], tmp_path)
    outside = _leaf("www.fabrikam.com", ca.subject, KEYS["ca"])
    assert validate_chain(outside, [ca], [ROOT], NOW).problem is not None
    assert not _openssl_accepts(tmp_path, outside, [ca])


def test_name_constraints_above_the_issuing_ca_too(tmp_path: Path) -> None:
    policy_ca = _ca(
        "Cache Policy CA", KEYS["rogue"], ROOT.subject, KEYS["root"], permitted=["contoso.net"]
    )
    ca = _ca("Cache CA 5", KEYS["ca"], policy_ca.subject, KEYS["rogue"])
    good = _leaf("good.contoso.net", ca.subject, KEYS["ca"])
    assert validate_chain(good, [ca, policy_ca], [ROOT], NOW).chain == [good, ca, policy_ca, ROOT]
    outside = _leaf("www.fabrikam.com", ca.subject, KEYS["ca"])
    assert validate_chain(outside, [ca, policy_ca], [ROOT], NOW).problem is not None
    assert not _openssl_accepts(tmp_path, outside, [ca, policy_ca])


def test_another_instant_validates_the_ca_again(tmp_path: Path) -> None:
    """The CA expires before the leaf: a path learnt now says nothing of a later instant."""
    ca = _ca("Cache CA 6", KEYS["ca"], ROOT.subject, KEYS["root"], days=(-100, 30))
    _learnt(ca, KEYS["ca"], tmp_path)
    second = _leaf("second.contoso.net", ca.subject, KEYS["ca"])
    later = NOW + dt.timedelta(days=60)
    assert validate_chain(second, [ca], [ROOT], later).problem is not None


def test_a_copy_of_the_learnt_ca_finds_its_path_and_a_new_tuple_of_roots_too(
    tmp_path: Path,
) -> None:
    """The cache finds a learnt CA by object first (check hands the same objects over for
    every leaf); the same certificate read again, and the roots in a new tuple, are found by
    value: the same path, not a second full build that could disagree."""
    ca = _ca("Cache CA copy", KEYS["ca"], ROOT.subject, KEYS["root"])
    _learnt(ca, KEYS["ca"], tmp_path)
    copy = x509.load_der_x509_certificate(ca.public_bytes(Encoding.DER))
    assert copy is not ca
    second = _leaf("copy.contoso.net", ca.subject, KEYS["ca"])
    roots = (x509.load_der_x509_certificate(ROOT.public_bytes(Encoding.DER)),)
    for intermediates in ([copy], [ca], [copy]):
        assert validate_chain(second, intermediates, roots, NOW).chain == [second, ca, ROOT]
    forged = _leaf("forged-copy.contoso.net", ca.subject, KEYS["rogue"])
    assert validate_chain(forged, [copy], roots, NOW).problem is not None
    assert not _openssl_accepts(tmp_path, forged, [ca])


def test_why_a_path_fails_is_said_in_plain_words(tmp_path: Path) -> None:
    """pyca's reasons reached the report as they are: a certificate as its Python
    representation, "all candidates exhausted with no interior errors", Rust debug text."""
    ca = _ca("Cache CA plain", KEYS["ca"], ROOT.subject, KEYS["root"])
    odd = (
        x509.CertificateBuilder()
        .subject_name(_name("odd.contoso.net"))
        .issuer_name(ca.subject)
        .public_key(KEYS["leaf"].public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5.6.7"), b"\x05\x00"),
            critical=True,
        )
        .sign(KEYS["ca"], hashes.SHA256())
    )
    problem = validate_chain(odd, [ca], [ROOT], NOW).problem
    assert problem and "<Certificate" not in problem and "CN=odd.contoso.net" in problem, problem
    assert not _openssl_accepts(tmp_path, odd, [ca])  # openssl refuses it too
    orphan = _leaf("orphan.contoso.net", ca.subject, KEYS["ca"])
    missing = validate_chain(orphan, [], [ROOT], NOW).problem
    assert missing and "issuing CA or its root is missing" in missing, missing
